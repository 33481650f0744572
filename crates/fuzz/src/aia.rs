//! AIA chain completion's parsers of strangers' bytes: the caIssuers URL taken from a
//! certificate (`mxscan_probe::aia::HttpUrl`), the body a CA's (or anyone's) HTTP server
//! returns for it (`mxscan_pki::certs_from_aia_body`), and the URL list read from a
//! certificate (`mxscan_pki::ca_issuers_urls`).

use crate::api::{HttpUrl, ca_issuers_urls, certs_from_aia_body, parse_cert};

/// `aia`: byte 0 selects the parser (mod 3), byte 1 a cap (1–8); the rest is the input.
/// Invariants: a parsed URL has a lowercase host without a trailing dot, a path that starts
/// with `/` and holds no byte a request line cannot carry, and parses back to itself from
/// its canonical spelling; a body gives no certificate or 1…cap certificates that each
/// parse; a certificate gives at most cap distinct `http://` URLs.
pub fn aia(data: &[u8]) {
    let [sel, cap, input @ ..] = data else {
        return;
    };
    let cap = usize::from(cap % 8) + 1;
    match sel % 3 {
        0 => {
            let Ok(s) = std::str::from_utf8(input) else {
                return;
            };
            let Some(u) = HttpUrl::parse(s) else {
                return;
            };
            assert!(!u.host.is_empty());
            assert_eq!(u.host, u.host.to_ascii_lowercase());
            assert!(!u.host.ends_with('.'));
            assert!(u.path.starts_with('/'), "{u:?}");
            assert!(
                !u.path
                    .bytes()
                    .any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii()),
                "{u:?}"
            );
            let host = if u.host.contains(':') {
                format!("[{}]", u.host)
            } else {
                u.host.clone()
            };
            let port = u.port.map(|p| format!(":{p}")).unwrap_or_default();
            let again = format!("http://{host}{port}{}", u.path);
            assert_eq!(HttpUrl::parse(&again).as_ref(), Some(&u), "{again}");
        }
        1 => {
            if let Some(certs) = certs_from_aia_body(input, cap) {
                assert!(!certs.is_empty() && certs.len() <= cap);
                for c in &certs {
                    assert!(parse_cert(c.as_ref()).is_some());
                }
            }
        }
        _ => {
            let urls = ca_issuers_urls(input, cap);
            assert!(urls.len() <= cap);
            for (i, u) in urls.iter().enumerate() {
                assert!(u[..7].eq_ignore_ascii_case("http://"), "{u}");
                assert!(!urls[..i].contains(u), "{u} twice");
            }
        }
    }
}
