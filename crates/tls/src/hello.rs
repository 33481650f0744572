//! The ClientHello of the legacy hello probe (RFC 5246 §7.4.1.2; RFC 2246 §7.4.1.2): offers
//! TLS 1.0 up to a maximum and the suites old servers pick from, so that a server a modern
//! client cannot talk to still answers with its ServerHello and its chain.

use crate::version::Version;

/// Cipher suites offered, in preference order (IANA code points): forward-secret AEAD first,
/// then ECDHE/DHE with CBC, static RSA (GCM, CBC), 3DES, and RC4 last — the classic suites
/// OpenSSL-based MTAs still accept at `@SECLEVEL=0`.
pub const LEGACY_SUITES: &[u16] = &[
    0xc02b, // ECDHE-ECDSA-AES128-GCM-SHA256
    0xc02f, // ECDHE-RSA-AES128-GCM-SHA256
    0xc02c, // ECDHE-ECDSA-AES256-GCM-SHA384
    0xc030, // ECDHE-RSA-AES256-GCM-SHA384
    0xc009, // ECDHE-ECDSA-AES128-SHA
    0xc013, // ECDHE-RSA-AES128-SHA
    0xc00a, // ECDHE-ECDSA-AES256-SHA
    0xc014, // ECDHE-RSA-AES256-SHA
    0x009e, // DHE-RSA-AES128-GCM-SHA256
    0x0033, // DHE-RSA-AES128-SHA
    0x0039, // DHE-RSA-AES256-SHA
    0x009c, // RSA-AES128-GCM-SHA256
    0x009d, // RSA-AES256-GCM-SHA384
    0x002f, // RSA-AES128-SHA
    0x0035, // RSA-AES256-SHA
    0x000a, // RSA-3DES-EDE-CBC-SHA
    0x0016, // DHE-RSA-3DES-EDE-CBC-SHA
    0x0005, // RSA-RC4-128-SHA
    0x0004, // RSA-RC4-128-MD5
];

/// The IANA name (TLS Cipher Suites registry) of a suite a server may select in answer to
/// [`client_hello`] or to a modern client: every suite of [`LEGACY_SUITES`], the TLS 1.3
/// suites and the other common TLS 1.2 AEAD suites. `None` for anything else (the survey
/// then records the code point as `0xNNNN`, see [`suite_label`]).
pub fn suite_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0016 => "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        _ => return None,
    })
}

/// [`suite_name`], or the code point as `0xNNNN` when the registry name is not tabled.
pub fn suite_label(code: u16) -> String {
    suite_name(code).map_or_else(|| format!("0x{code:04x}"), str::to_owned)
}

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3): signals secure renegotiation.
const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// One TLS record holding a ClientHello: record version TLS 1.0 (what old servers accept in
/// the record layer), `client_version` = `max` (at most TLS 1.2: a TLS 1.3 server then
/// answers as TLS 1.2), [`LEGACY_SUITES`], no compression, and the extensions old and new
/// servers expect: server_name when `server_name` is a DNS name (RFC 6066 §3),
/// supported_groups and ec_point_formats (RFC 8422), signature_algorithms (RFC 5246 §7.4.1.4.1).
/// `random` should be fresh per connection.
pub fn client_hello(server_name: Option<&str>, random: [u8; 32], max: Version) -> Vec<u8> {
    let max = max.min(Version::TLS12).max(Version::TLS10);
    let mut body = Vec::with_capacity(256);
    body.extend(max.0.to_be_bytes());
    body.extend(random);
    body.push(0); // no session id
    let suites = LEGACY_SUITES.len() + 1;
    body.extend(u16::try_from(suites * 2).expect("few suites").to_be_bytes());
    for s in LEGACY_SUITES.iter().chain(&[RENEGOTIATION_SCSV]) {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // compression: null only

    let mut ext = Vec::new();
    if let Some(name) = server_name.map(|n| n.trim_end_matches('.'))
        && is_sni_name(name)
    {
        let n = name.as_bytes();
        let mut sni = Vec::with_capacity(n.len() + 5);
        sni.extend(u16::try_from(n.len() + 3).expect("checked").to_be_bytes());
        sni.push(0); // host_name
        sni.extend(u16::try_from(n.len()).expect("checked").to_be_bytes());
        sni.extend(n);
        push_ext(&mut ext, 0, &sni);
    }
    // supported_groups: x25519, secp256r1, secp384r1.
    push_ext(&mut ext, 10, &[0, 6, 0, 29, 0, 23, 0, 24]);
    // ec_point_formats: uncompressed.
    push_ext(&mut ext, 11, &[1, 0]);
    if max >= Version::TLS12 {
        // signature_algorithms: RSA PKCS#1 and ECDSA with SHA-256/384/512, RSA-PSS, then SHA-1.
        let algs: [u16; 9] = [
            0x0403, 0x0401, 0x0503, 0x0501, 0x0804, 0x0805, 0x0601, 0x0203, 0x0201,
        ];
        let mut v = Vec::with_capacity(2 + algs.len() * 2);
        v.extend(u16::try_from(algs.len() * 2).expect("few").to_be_bytes());
        for a in algs {
            v.extend(a.to_be_bytes());
        }
        push_ext(&mut ext, 13, &v);
    }
    push_ext(&mut ext, 0xff01, &[0]); // renegotiation_info, empty (RFC 5746)
    body.extend(u16::try_from(ext.len()).expect("small").to_be_bytes());
    body.extend(ext);

    let mut hs = Vec::with_capacity(body.len() + 4);
    hs.push(1); // client_hello
    hs.extend(&u32::try_from(body.len()).expect("small").to_be_bytes()[1..]);
    hs.extend(body);
    let mut record = Vec::with_capacity(hs.len() + 5);
    record.extend([22, 3, 1]);
    record.extend(u16::try_from(hs.len()).expect("small").to_be_bytes());
    record.extend(hs);
    record
}

fn push_ext(out: &mut Vec<u8>, t: u16, data: &[u8]) {
    out.extend(t.to_be_bytes());
    out.extend(u16::try_from(data.len()).expect("small").to_be_bytes());
    out.extend(data);
}

/// A name SNI may carry (RFC 6066 §3): an ASCII DNS name, not an address literal.
fn is_sni_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.parse::<std::net::IpAddr>().is_err()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_suite_has_its_iana_name() {
        for &s in LEGACY_SUITES {
            let name = suite_name(s).unwrap_or_else(|| panic!("{s:#06x} unnamed"));
            assert!(
                name.starts_with("TLS_") && name.contains("_WITH_"),
                "{name}"
            );
        }
        assert_eq!(suite_label(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(suite_label(0xfefe), "0xfefe");
    }

    /// Reads the hello back field by field: every length is the length of what follows.
    #[test]
    fn the_hello_is_well_formed() {
        for (name, max, sni) in [
            (Some("mx.example.com."), Version::TLS12, true),
            (Some("192.0.2.1"), Version::TLS13, false),
            (None, Version::TLS10, false),
            (Some("bad name"), Version::SSL3, false),
        ] {
            let r = client_hello(name, [7; 32], max);
            assert_eq!(&r[..3], &[22, 3, 1]);
            assert_eq!(usize::from(u16::from_be_bytes([r[3], r[4]])), r.len() - 5);
            let hs = &r[5..];
            assert_eq!(hs[0], 1);
            let len = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            assert_eq!(len, hs.len() - 4);
            let b = &hs[4..];
            let want = max.min(Version::TLS12).max(Version::TLS10);
            assert_eq!(u16::from_be_bytes([b[0], b[1]]), want.0);
            assert_eq!(&b[2..34], &[7; 32]);
            assert_eq!(b[34], 0);
            let n = usize::from(u16::from_be_bytes([b[35], b[36]]));
            assert_eq!(n, (LEGACY_SUITES.len() + 1) * 2);
            let suites: Vec<u16> = b[37..37 + n]
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            assert_eq!(&suites[..LEGACY_SUITES.len()], LEGACY_SUITES);
            let rest = &b[37 + n..];
            assert_eq!(&rest[..2], &[1, 0]);
            let ext_len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            let mut e = &rest[4..];
            assert_eq!(ext_len, e.len());
            let mut types = Vec::new();
            while !e.is_empty() {
                let t = u16::from_be_bytes([e[0], e[1]]);
                let l = usize::from(u16::from_be_bytes([e[2], e[3]]));
                if t == 0 {
                    assert_eq!(&e[4 + 5..4 + l], b"mx.example.com");
                }
                types.push(t);
                e = &e[4 + l..];
            }
            assert_eq!(types.contains(&0), sni, "{name:?}");
            assert_eq!(types.contains(&13), want == Version::TLS12);
        }
    }
}
