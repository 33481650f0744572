//! The status vocabularies of the survey schema (docs/schema.md) that are not about MTA-STS
//! parsing: how a probe ended, how a certificate was judged, why a policy fetch failed, and
//! the per-domain columns derived from them. Each value's text is its documentation in the
//! schema reference.

use crate::vocabulary;

vocabulary! {
    /// `probes.status` (also `mx.smtp_status`): how far the SMTP conversation got
    /// (RFC 5321, RFC 3207). The sans-io session of `mxscan-smtp` produces most values; the
    /// driver sets `blocked`, `connect_timeout` and `tls_failed`.
    pub enum ProbeStatus {
        Ok = "ok", "greeting, EHLO, STARTTLS and the TLS handshake succeeded";
        Blocked = "blocked", "the address is on the blocklist: never contacted";
        ConnectRefused = "connect_refused", "the TCP connection was refused (RST to the SYN) or the host was unreachable";
        ConnectTimeout = "connect_timeout", "the TCP connection did not complete in time";
        GreetingTimeout = "greeting_timeout", "connected, but no complete greeting arrived in time";
        Greeting421 = "greeting_421", "the greeting was 421: busy / rate limited, try later (RFC 5321 §4.2)";
        GreetingRejected = "greeting_rejected", "the greeting was 554 or another non-220 code";
        EhloRejected = "ehlo_rejected", "EHLO was answered with an error code";
        NoStarttls = "no_starttls", "EHLO succeeded but did not advertise STARTTLS";
        StarttlsRejected = "starttls_rejected", "STARTTLS was answered with something other than 220 (e.g. 454)";
        TlsFailed = "tls_failed", "the TLS handshake failed (see tls_failure and tls_error)";
        IoError = "io_error", "the connection broke (reset, EOF) mid-conversation";
        ProtocolError = "protocol_error", "the server sent something that is not SMTP (bad reply, oversized)";
        Timeout = "timeout", "a later step (EHLO, STARTTLS, handshake) exceeded its deadline";
        ClosedBeforeGreeting = "closed_before_greeting", "the TCP connection was accepted, then closed or reset before the server sent a byte (a connection limit, postscreen, a load balancer without backend) — not a refused SYN";
        TlsLegacy = "tls_legacy", "the modern handshake (TLS 1.2/1.3, modern suites) failed, and the server answered a legacy hello (TLS 1.0–1.2, classic suites) with a ServerHello and its certificates: an OpenSSL-based sender completes TLS with it; version, suite and chain are read from the plaintext first flight";
    }
}

impl ProbeStatus {
    /// The server answered SMTP at all (a greeting byte arrived): the statuses that count
    /// for the `domains.starttls` aggregate ("over MX hosts that answered SMTP").
    pub fn answered_smtp(self) -> bool {
        !matches!(
            self,
            ProbeStatus::Blocked
                | ProbeStatus::ConnectRefused
                | ProbeStatus::ClosedBeforeGreeting
                | ProbeStatus::ConnectTimeout
                | ProbeStatus::GreetingTimeout
        )
    }

    /// A TLS session a sender can use was seen: the modern handshake completed (`ok`) or the
    /// server's legacy first flight was read (`tls_legacy`). The chain is judged for both.
    pub fn tls_seen(self) -> bool {
        matches!(self, ProbeStatus::Ok | ProbeStatus::TlsLegacy)
    }
}

vocabulary! {
    /// `probes.tls_failure`: why the modern TLS handshake failed (when `status` is
    /// `tls_failed`; for `tls_legacy` the column `modern_tls_failure` holds the same value).
    /// Decided from the handshake error and, where the server answered, from its plaintext
    /// reply (RFC 8446 §6.2, RFC 5246 §7.2).
    pub enum TlsFailure {
        ProtocolVersion = "protocol_version", "the server selected a version we do not speak, or sent a protocol_version alert";
        NoSharedCipher = "no_shared_cipher", "the server found no cipher suite (or group) in common: a handshake_failure or insufficient_security alert, or a suite we did not offer";
        Alert = "alert", "the server sent another fatal alert";
        NotTls = "not_tls", "the server's reply was not TLS (garbage, a plaintext SMTP line, a malformed record)";
        Timeout = "timeout", "the handshake did not finish before its deadline";
        Io = "io", "the connection was closed or reset during the handshake, or a local error";
    }
}

impl TlsFailure {
    /// Failures after which a legacy hello may tell more: the server answered TLS, but not
    /// with anything our modern client accepts.
    pub fn legacy_may_help(self) -> bool {
        matches!(
            self,
            TlsFailure::ProtocolVersion | TlsFailure::NoSharedCipher | TlsFailure::Alert
        )
    }
}

vocabulary! {
    /// `probes.tls_max_version`: the protocol version the server selected (from the modern
    /// handshake, or from the ServerHello of the legacy hello).
    pub enum TlsVersion {
        Ssl3 = "SSLv3", "SSL 3.0 (RFC 6101; prohibited by RFC 7568)";
        Tls10 = "TLSv1.0", "TLS 1.0 (RFC 2246; deprecated by RFC 8996)";
        Tls11 = "TLSv1.1", "TLS 1.1 (RFC 4346; deprecated by RFC 8996)";
        Tls12 = "TLSv1.2", "TLS 1.2 (RFC 5246)";
        Tls13 = "TLSv1.3", "TLS 1.3 (RFC 8446)";
    }
}

impl TlsVersion {
    /// From the wire value (0x0300 … 0x0304).
    pub fn from_wire(v: u16) -> Option<TlsVersion> {
        Some(match v {
            0x0300 => TlsVersion::Ssl3,
            0x0301 => TlsVersion::Tls10,
            0x0302 => TlsVersion::Tls11,
            0x0303 => TlsVersion::Tls12,
            0x0304 => TlsVersion::Tls13,
            _ => return None,
        })
    }

    /// Below TLS 1.2: what RFC 8996 deprecates.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            TlsVersion::Ssl3 | TlsVersion::Tls10 | TlsVersion::Tls11
        )
    }
}

vocabulary! {
    /// `mx.cert_status`: the certificate judged for THIS exchange name (RFC 6125,
    /// RFC 8461 §4.1), offline with WebPKI at the survey's timestamp. Null when no TLS
    /// handshake completed. Precedence (first match wins) is documented in `mxscan-pki`.
    pub enum CertStatus {
        Valid = "valid", "chains to a trusted root, within its validity period, matches the exchange name";
        Expired = "expired", "the leaf (or a chain certificate) is past its notAfter";
        NotYetValid = "not_yet_valid", "the leaf (or a chain certificate) is before its notBefore";
        NameMismatch = "name_mismatch", "a trusted, current certificate whose names do not cover the exchange";
        UntrustedIssuer = "untrusted_issuer", "the chain ends at an issuer that is not a trusted root";
        SelfSigned = "self_signed", "the leaf is self-signed and not a trusted root";
        IncompleteChain = "incomplete_chain", "an intermediate is missing: the chain cannot be built";
        Other = "other", "any other validation failure (bad signature, bad extension, …)";
    }
}

vocabulary! {
    /// `domains.sts_fetch_error`: why the policy fetch failed (RFC 8461 §3.3).
    pub enum FetchError {
        Dns = "dns", "mta-sts.<domain> did not resolve";
        Connect = "connect", "the TCP connection was refused or failed";
        Timeout = "timeout", "connect, handshake or body exceeded the deadline";
        TlsUntrusted = "tls_untrusted", "the HTTPS certificate does not chain to a trusted root";
        TlsExpired = "tls_expired", "the HTTPS certificate is expired or not yet valid";
        TlsNameMismatch = "tls_name_mismatch", "the HTTPS certificate is not valid for mta-sts.<domain>";
        TlsOther = "tls_other", "any other TLS failure";
        HttpStatus = "http_status", "an HTTP status other than 200 (and not a redirect)";
        Redirect = "redirect", "a 3xx redirect, which MUST NOT be followed";
        TooLarge = "too_large", "the body exceeded the size cap";
        Io = "io", "the connection broke or the HTTP response was malformed";
    }
}

impl FetchError {
    /// The fetch error a certificate verdict causes (`None` for `valid`): a sender does not
    /// send the request over a connection it cannot authenticate (RFC 8461 §3.3).
    pub fn from_cert_status(s: CertStatus) -> Option<FetchError> {
        match s {
            CertStatus::Valid => None,
            CertStatus::UntrustedIssuer | CertStatus::SelfSigned | CertStatus::IncompleteChain => {
                Some(FetchError::TlsUntrusted)
            }
            CertStatus::Expired | CertStatus::NotYetValid => Some(FetchError::TlsExpired),
            CertStatus::NameMismatch => Some(FetchError::TlsNameMismatch),
            CertStatus::Other => Some(FetchError::TlsOther),
        }
    }
}

vocabulary! {
    /// `domains.dns_status`: the domain's MX lookup and, for a domain without MX, its
    /// address lookup (RFC 5321 §5.1).
    pub enum DnsStatus {
        Ok = "ok", "MX records (or, failing those, an address for an implicit MX) were found";
        NxDomain = "nxdomain", "the domain does not exist (NXDOMAIN)";
        NoMailHost = "no_mail_host", "the domain exists but has neither MX nor A/AAAA records";
        ServFail = "servfail", "the resolver answered SERVFAIL";
        Refused = "refused", "the resolver answered REFUSED";
        Timeout = "timeout", "no answer within the DNS deadline";
        Error = "error", "any other DNS failure (malformed answer, resolver error)";
    }
}

vocabulary! {
    /// `domains.starttls` (over MX hosts that answered SMTP) and `domains.cert_valid` (over
    /// MX hosts that completed TLS): an aggregate over the mx rows whose value is known.
    pub enum Coverage {
        All = "all", "every MX host with a known value has it (starttls: offered STARTTLS; cert_valid: a valid certificate for its name)";
        Some = "some", "some but not all MX hosts with a known value have it";
        None = "none", "no MX host with a known value has it";
        Untested = "untested", "MX hosts exist but none has a known value (starttls: none answered SMTP — blocked, refused, timed out; cert_valid: none completed a TLS handshake)";
        NoMx = "no_mx", "no MX host to test (DNS failure, null MX, no mail host)";
    }
}

impl Coverage {
    /// all / some / none over the known values; `untested` when rows exist but none is
    /// known; `no_mx` when there are no rows.
    pub fn of(rows: usize, known: impl Iterator<Item = bool>) -> Coverage {
        if rows == 0 {
            return Coverage::NoMx;
        }
        let (mut yes, mut no) = (0usize, 0usize);
        for k in known {
            if k {
                yes += 1;
            } else {
                no += 1;
            }
        }
        match (yes, no) {
            (0, 0) => Coverage::Untested,
            (_, 0) => Coverage::All,
            (0, _) => Coverage::None,
            _ => Coverage::Some,
        }
    }
}

vocabulary! {
    /// `domains.sts_record` (`_mta-sts`, RFC 8461 §3.1) and `domains.tlsrpt_record`
    /// (`_smtp._tls`, RFC 8460 §3): the parsed record status, or the lookup's failure.
    pub enum TxtStatus {
        None = "none", "no TXT record beginning with the version tag (v=STSv1 / v=TLSRPTv1)";
        Valid = "valid", "exactly one record with the version tag, syntactically valid";
        Invalid = "invalid", "exactly one record with the version tag, but invalid (e.g. a bad id, no usable rua)";
        Multiple = "multiple", "more than one record with the version tag: the domain has none (RFC 8461 §3.1)";
        DnsError = "dns_error", "the TXT lookup failed (SERVFAIL, timeout, …)";
    }
}

impl From<crate::RecordStatus> for TxtStatus {
    fn from(s: crate::RecordStatus) -> TxtStatus {
        match s {
            crate::RecordStatus::None => TxtStatus::None,
            crate::RecordStatus::Valid => TxtStatus::Valid,
            crate::RecordStatus::Invalid => TxtStatus::Invalid,
            crate::RecordStatus::Multiple => TxtStatus::Multiple,
        }
    }
}

vocabulary! {
    /// `domains.sts_policy`: the policy fetched from `mta-sts.<domain>` (RFC 8461 §3.3, §3.2).
    pub enum PolicyStatus {
        NotFetched = "not_fetched", "no fetch attempted (no valid v=STSv1 record)";
        Ok = "ok", "fetched with HTTP 200 and parsed as a valid policy";
        FetchError = "fetch_error", "the fetch failed; see sts_fetch_error";
        Invalid = "invalid", "fetched, but the body is not a valid policy (RFC 8461 §3.2)";
    }
}

vocabulary! {
    /// STARTTLS per MX host name in `mxscan summary` (`starttls_by_host`): over all the
    /// host's addresses.
    pub enum HostStarttls {
        Offered = "offered", "at least one address of the host offered STARTTLS";
        NotOffered = "not_offered", "the host answered EHLO without STARTTLS at every address that answered";
        Untested = "untested", "no address of the host answered EHLO (blocked, refused, timed out, 421…)";
    }
}

vocabulary! {
    /// One class of change between two surveys (`mxscan diff`; the keys of its JSON
    /// report). Domains are compared over the domains present in both surveys.
    pub enum Change {
        OnlyOld = "only_old", "the domain is only in the old survey";
        OnlyNew = "only_new", "the domain is only in the new survey";
        StsAdopted = "sts_adopted", "sts_policy = ok now, and not before";
        StsDropped = "sts_dropped", "sts_policy = ok before, and not now";
        StsModeChanged = "sts_mode_changed", "a valid policy in both, with a different mode";
        StsPolicyChangedSameId = "sts_policy_changed_same_id", "a valid policy in both with the same id, but a different mode, max_age or set of mx patterns: an operator error (RFC 8461 §3.1 requires a new id for a new policy, else senders keep the cached one)";
        StsIdChanged = "sts_id_changed", "a valid record in both, with a different id";
        StsNowWouldFail = "sts_now_would_fail", "sts_delivery = would_fail now, and not before";
        StsNoLongerWouldFail = "sts_no_longer_would_fail", "sts_delivery = would_fail before, and not now";
        StarttlsGained = "starttls_gained", "more MX hosts offer STARTTLS (none → some/all, some → all)";
        StarttlsLost = "starttls_lost", "fewer MX hosts offer STARTTLS";
        CertValidImproved = "cert_valid_improved", "more MX hosts present a valid certificate (cert_valid rises)";
        CertValidWorsened = "cert_valid_worsened", "fewer MX hosts present a valid certificate";
        LeafChanged = "leaf_changed", "an MX exchange presents a different set of leaf certificates";
    }
}

impl Change {
    /// What the denominator of the class counts.
    pub fn denominator_label(self) -> &'static str {
        match self {
            Change::OnlyOld => "domains in old",
            Change::OnlyNew => "domains in new",
            Change::StsModeChanged | Change::StsPolicyChangedSameId => {
                "domains with a valid policy in both"
            }
            Change::StsIdChanged => "domains with a valid record in both",
            Change::StarttlsGained | Change::StarttlsLost => "domains with STARTTLS tested in both",
            Change::CertValidImproved | Change::CertValidWorsened => {
                "domains with a certificate verdict in both"
            }
            Change::LeafChanged => "exchanges with a leaf certificate in both",
            _ => "common domains",
        }
    }
}
