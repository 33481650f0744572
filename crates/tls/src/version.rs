//! Protocol versions and alert descriptions by their registered names.

use std::fmt;

/// A protocol version as two octets (RFC 5246 §6.2.1 `ProtocolVersion`; RFC 8446 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16);

impl Version {
    /// SSL 3.0 (RFC 6101).
    pub const SSL3: Version = Version(0x0300);
    /// TLS 1.0 (RFC 2246).
    pub const TLS10: Version = Version(0x0301);
    /// TLS 1.1 (RFC 4346).
    pub const TLS11: Version = Version(0x0302);
    /// TLS 1.2 (RFC 5246).
    pub const TLS12: Version = Version(0x0303);
    /// TLS 1.3 (RFC 8446).
    pub const TLS13: Version = Version(0x0304);

    /// The name the survey writes (`probes.tls_max_version`): `SSLv3`, `TLSv1.0` … `TLSv1.3`;
    /// `None` for anything else (drafts, garbage).
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0x0300 => Some("SSLv3"),
            0x0301 => Some("TLSv1.0"),
            0x0302 => Some("TLSv1.1"),
            0x0303 => Some("TLSv1.2"),
            0x0304 => Some("TLSv1.3"),
            _ => None,
        }
    }

    /// Below TLS 1.2: what a modern client (rustls) refuses.
    pub const fn is_legacy(self) -> bool {
        self.0 < 0x0303
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

/// An alert description (RFC 5246 §7.2, RFC 8446 §6), named for the few a scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// close_notify(0).
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    /// handshake_failure(40): typically no shared cipher suite.
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    /// protocol_version(70): no shared protocol version.
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    /// insufficient_security(71): the server wants stronger suites than offered.
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);
    /// internal_error(80).
    pub const INTERNAL_ERROR: AlertDescription = AlertDescription(80);
    /// unrecognized_name(112).
    pub const UNRECOGNIZED_NAME: AlertDescription = AlertDescription(112);

    /// The registered name, `None` when unknown.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            47 => "illegal_parameter",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let names: Vec<String> = (0x02ffu16..=0x0305)
            .map(|v| Version(v).to_string())
            .collect();
        assert_eq!(
            names,
            [
                "0x02ff", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", "0x0305"
            ]
        );
        assert!(Version::TLS11.is_legacy() && !Version::TLS12.is_legacy());
        assert_eq!(
            AlertDescription::PROTOCOL_VERSION.name(),
            Some("protocol_version")
        );
        assert_eq!(AlertDescription(255).name(), None);
    }
}
