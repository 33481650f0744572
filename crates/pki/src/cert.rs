//! Offline certificate judgement ("probe once, judge many times") and certificate facts.
//!
//! Probes capture the presented chain without judging it; [`TrustStore::judge`] decides,
//! per name and at the survey timestamp, what a WebPKI-validating sender (RFC 8461 §4.1,
//! RFC 7817 / RFC 6125) would conclude. Verdict vocabulary ([`CertStatus`], column
//! `mx.cert_status`): valid, expired, not_yet_valid, name_mismatch, untrusted_issuer,
//! self_signed, incomplete_chain, other — with this precedence, first match wins:
//!
//! 1. `self_signed`: no path to a trust anchor, and the leaf's issuer equals its subject and
//!    its signature verifies with its own key. (A self-signed certificate that *is* a trust
//!    anchor is judged like any trusted certificate.)
//! 2. `untrusted_issuer`: no path to an anchor, even with the known intermediates added.
//! 3. `incomplete_chain`: no path with the presented chain, but a path once the known
//!    intermediates ([`TrustStore`]'s pool) are added — the server forgot to send an
//!    intermediate (RFC 8446 §4.4.2 / RFC 5246 §7.4.2 require the sender to send it).
//! 4. `expired` / 5. `not_yet_valid`: the survey time lies after / before the validity of the
//!    leaf (or of a certificate on the path).
//! 6. `name_mismatch`: no dNSName SAN of the leaf matches the name (RFC 6125 §6.4: wildcard
//!    only as the whole left-most label; the subject CN is not consulted) — webpki's check.
//! 7. `valid`.
//!
//! `other`: an empty or unparsable chain, unsupported algorithms, bad signatures, wrong key
//! usage, a CA certificate presented as the leaf, …
//!
//! Trust is judged independently of time: the path is built at a time inside the leaf's
//! validity window (the survey time clamped to `[notBefore, notAfter]`), so an expired
//! certificate from a trusted CA reads `expired`, not `untrusted_issuer`.
//!
//! The pool of known intermediates: give `--trust-anchor` a PEM file with the testbed root
//! *and* intermediate (the root becomes an anchor, the intermediate joins the pool), or real
//! intermediates (e.g. the CCADB list) for real surveys — without a pool,
//! `incomplete_chain` reads `untrusted_issuer`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::*;

use mxscan_model::{CertStatus, ChainFacts};

use crate::error::PkiError;

/// Facts about one certificate (the `certs` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Lowercase hex SHA-256 of the DER.
    pub sha256: String,
    /// Subject, RFC 4514 string form (most specific RDN first).
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// dNSName SANs, as written.
    pub san_dns: Vec<String>,
    /// iPAddress SANs (4 or 16 octets; other lengths are skipped).
    pub san_ip: Vec<std::net::IpAddr>,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
    /// Issuer equals subject and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    /// rsa, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519, ed448, dsa, or the key OID.
    pub key_type: String,
    /// Key size in bits (RSA modulus, EC field size; 0 if unknown).
    pub key_bits: u32,
    /// Signature algorithm, readable (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`, …).
    pub signature_algorithm: String,
    /// basicConstraints cA.
    pub is_ca: bool,
}

/// Lowercase hex SHA-256 of a DER blob.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Parses the facts of one certificate; `None` if it is not parsable X.509.
pub fn parse_cert(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let general_names: Vec<&GeneralName<'_>> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| san.value.general_names.iter().collect())
        .unwrap_or_default();
    let san_dns = general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::DNSName(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    let san_ip = general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::IPAddress(b) => match b.len() {
                4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(*b).ok()?)),
                16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(*b).ok()?)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let spki = cert.public_key();
    let (key_type, key_bits) = key_facts(spki);
    Some(CertInfo {
        sha256: sha256_hex(der),
        subject: rfc4514(cert.subject()),
        issuer: rfc4514(cert.issuer()),
        san_dns,
        san_ip,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        self_signed: is_self_signed(&cert),
        key_type,
        key_bits,
        signature_algorithm: sig_alg_name(&cert.signature_algorithm.algorithm.to_id_string()),
        is_ca: cert.is_ca(),
    })
}

fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok()
}

fn key_facts(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32) {
    let alg = spki.algorithm.algorithm.to_id_string();
    let bits = spki.parsed().map(|k| k.key_size() as u32).unwrap_or(0);
    let t = match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => "rsa".to_string(),
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => "ecdsa-p256".into(),
                "1.3.132.0.34" => "ecdsa-p384".into(),
                "1.3.132.0.35" => "ecdsa-p521".into(),
                other => format!("ecdsa-{other}"),
            }
        }
        "1.3.101.112" => return ("ed25519".into(), 256),
        "1.3.101.113" => return ("ed448".into(), 456),
        "1.2.840.10040.4.1" => "dsa".into(),
        other => other.to_string(),
    };
    (t, bits)
}

fn sig_alg_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassa-pss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ed25519",
        "1.3.101.113" => "ed448",
        other => return other.to_string(),
    }
    .to_string()
}

/// RFC 4514 §2: RDNs in reverse order of the DER sequence, `,` between RDNs, `+` within.
fn rfc4514(name: &X509Name<'_>) -> String {
    let mut rdns = Vec::new();
    for rdn in name.iter() {
        let parts: Vec<String> = rdn
            .iter()
            .map(|atv| {
                let oid = atv.attr_type().to_id_string();
                let key = match oid.as_str() {
                    "2.5.4.3" => "CN",
                    "2.5.4.6" => "C",
                    "2.5.4.7" => "L",
                    "2.5.4.8" => "ST",
                    "2.5.4.9" => "STREET",
                    "2.5.4.10" => "O",
                    "2.5.4.11" => "OU",
                    "0.9.2342.19200300.100.1.25" => "DC",
                    "0.9.2342.19200300.100.1.1" => "UID",
                    _ => "",
                };
                match (key, atv.as_str()) {
                    ("", _) | (_, Err(_)) => {
                        // §2.4: unknown types or non-string values as dotted OID = #hex(DER).
                        let k = if key.is_empty() { oid.as_str() } else { key };
                        format!("{k}=#{}", hex::encode(atv.attr_value().data))
                    }
                    (k, Ok(v)) => format!("{k}={}", escape_4514(v)),
                }
            })
            .collect();
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

fn escape_4514(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

/// True when the leaf's dNSName SANs cover `name` (RFC 6125 §6.4.3, webpki's check) —
/// e.g. "the MX certificate is also valid for the recipient domain".
pub fn matches_name(leaf: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(ee) = EndEntityCert::try_from(leaf) else {
        return false;
    };
    let Ok(sn) = ServerName::try_from(name.trim_end_matches('.').to_string()) else {
        return false;
    };
    ee.verify_is_valid_for_subject_name(&sn).is_ok()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct VerdictKey([u8; 32], String, u64);

/// Trust anchors (Mozilla's via webpki-roots plus operator-supplied ones), a pool of known
/// intermediates, and a bounded verdict cache keyed by (chain SHA-256, name, time).
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    pool: Vec<CertificateDer<'static>>,
    cache: Mutex<(
        HashMap<VerdictKey, CertStatus>,
        HashMap<VerdictKey, CertStatus>,
    )>,
    cache_cap: usize,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("anchors", &self.anchors.len())
            .field("intermediates", &self.pool.len())
            .finish_non_exhaustive()
    }
}

impl TrustStore {
    /// webpki-roots (Mozilla) plus the certificates of the given PEM files (see
    /// [`TrustStore::add_pem`]).
    pub fn new(extra_pem_files: &[PathBuf]) -> Result<Self, PkiError> {
        let mut s = Self::empty();
        s.anchors
            .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for p in extra_pem_files {
            s.add_pem_file(p)?;
        }
        Ok(s)
    }

    /// No anchors at all (tests; or a survey against a private PKI only).
    pub fn empty() -> Self {
        Self {
            anchors: Vec::new(),
            pool: Vec::new(),
            cache: Mutex::new((HashMap::new(), HashMap::new())),
            cache_cap: 100_000,
        }
    }

    /// Sets the verdict cache capacity (entries; default 100 000; 0 disables it).
    pub fn with_cache_capacity(mut self, cap: usize) -> Self {
        self.cache_cap = cap;
        self
    }

    /// Number of trust anchors.
    pub fn anchor_count(&self) -> usize {
        self.anchors.len()
    }

    /// Number of known intermediates.
    pub fn intermediate_count(&self) -> usize {
        self.pool.len()
    }

    /// Reads a PEM file (see [`TrustStore::add_pem`]).
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), PkiError> {
        let bytes = std::fs::read(path).map_err(|source| PkiError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_pem(&bytes, path)
    }

    /// Adds the CA certificates of a PEM text: self-signed CA certificates become trust
    /// anchors, other CA certificates join the pool of known intermediates. A certificate
    /// that is not a CA, an unparsable one, or a file without certificates is an error.
    pub fn add_pem(&mut self, pem: &[u8], origin: &Path) -> Result<(), PkiError> {
        let err = |reason: String| PkiError::TrustAnchor {
            path: origin.to_path_buf(),
            reason,
        };
        let mut n = 0;
        for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| err(format!("certificate {}: {e}", i + 1)))?;
            self.add_ca_der(der.into_owned())
                .map_err(|reason| err(format!("certificate {}: {reason}", i + 1)))?;
            n += 1;
        }
        if n == 0 {
            return Err(err("no certificates found".into()));
        }
        Ok(())
    }

    /// Reads a file of known intermediates (PEM; e.g. a CCADB export of the intermediates of
    /// the trusted roots): every CA certificate in it joins the pool and none becomes an
    /// anchor (a self-signed one is skipped), so the file can only complete chains, never
    /// add trust. Returns how many joined. Unparsable entries are an error.
    pub fn add_intermediates_file(&mut self, path: &Path) -> Result<usize, PkiError> {
        let err = |reason: String| PkiError::TrustAnchor {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|source| PkiError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut n = 0;
        for (i, item) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
            let der = item.map_err(|e| err(format!("certificate {}: {e}", i + 1)))?;
            let (_, cert) = X509Certificate::from_der(der.as_ref())
                .map_err(|e| err(format!("certificate {}: {e}", i + 1)))?;
            if cert.is_ca() && !is_self_signed(&cert) {
                self.pool.push(der.into_owned());
                n += 1;
            }
        }
        if n == 0 {
            return Err(err("no intermediate CA certificates found".into()));
        }
        Ok(n)
    }

    /// Adds one CA certificate: self-signed → trust anchor, otherwise → known intermediate.
    /// `Err` (a reason) for unparsable or non-CA certificates.
    pub fn add_ca_der(&mut self, der: CertificateDer<'static>) -> Result<(), String> {
        let (_, cert) = X509Certificate::from_der(der.as_ref()).map_err(|e| e.to_string())?;
        if !cert.is_ca() {
            return Err(format!(
                "{} is not a CA certificate",
                rfc4514(cert.subject())
            ));
        }
        if is_self_signed(&cert) {
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| format!("{e:?}"))?
                .to_owned();
            self.anchors.push(anchor);
        } else {
            self.pool.push(der);
        }
        Ok(())
    }

    /// Judges `chain` (leaf first, as presented) for `name` at `at`; see the module docs
    /// for the vocabulary and precedence. Verdicts are cached.
    pub fn judge(&self, chain: &[CertificateDer<'_>], name: &str, at: UnixTime) -> CertStatus {
        self.judge_with(chain, &[], name, at)
    }

    /// [`TrustStore::judge`] with `extra` intermediates beside the pool, for this judgement
    /// only: the issuers fetched through the leaf's AIA (RFC 5280 §4.2.2.1). A path that
    /// needs one of them reads `incomplete_chain`, like one that needs the pool.
    pub fn judge_with(
        &self,
        chain: &[CertificateDer<'_>],
        extra: &[CertificateDer<'_>],
        name: &str,
        at: UnixTime,
    ) -> CertStatus {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let key = {
            let mut h = Sha256::new();
            for c in chain {
                h.update((c.len() as u64).to_be_bytes());
                h.update(c.as_ref());
            }
            // The extra intermediates after a separator no chain can contain.
            h.update(u64::MAX.to_be_bytes());
            for c in extra {
                h.update((c.len() as u64).to_be_bytes());
                h.update(c.as_ref());
            }
            VerdictKey(h.finalize().into(), name.clone(), at.as_secs())
        };
        if self.cache_cap > 0
            && let Ok(c) = self.cache.lock()
            && let Some(v) = c.0.get(&key).or_else(|| c.1.get(&key))
        {
            return *v;
        }
        let v = self.judge_uncached(chain, extra, &name, at);
        if self.cache_cap > 0
            && let Ok(mut c) = self.cache.lock()
        {
            if c.0.len() >= self.cache_cap.div_ceil(2) {
                c.1 = std::mem::take(&mut c.0);
            }
            c.0.insert(key, v);
        }
        v
    }

    /// Judge `chain` (leaf first, as presented) at `at` once, and keep what later names
    /// need ("probe once, judge many times"): the name-independent verdict and the leaf's
    /// dNSName SANs, lowercase. [`ChainFacts::status_for`] then gives exactly what
    /// [`TrustStore::judge`] gives for any name (tested for every defect the testbed mints).
    pub fn facts(&self, chain: &[CertificateDer<'_>], at: UnixTime) -> ChainFacts {
        self.facts_with(chain, &[], at)
    }

    /// [`TrustStore::facts`] with `extra` intermediates ([`TrustStore::judge_with`]).
    pub fn facts_with(
        &self,
        chain: &[CertificateDer<'_>],
        extra: &[CertificateDer<'_>],
        at: UnixTime,
    ) -> ChainFacts {
        let Some(leaf) = chain.first() else {
            return ChainFacts::from_parts(Some(CertStatus::Other), Box::default());
        };
        let info = parse_cert(leaf.as_ref());
        // dNSNames with `\n` or a leading `[` can match no reference name (webpki takes
        // neither as a DNS name); dropping them keeps the `[address]` entries unambiguous.
        let names: Vec<String> = info
            .as_ref()
            .map(|info| {
                info.san_dns
                    .iter()
                    .filter(|s| !s.contains('\n') && !s.starts_with('['))
                    .map(|s| s.to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let ips = info.iter().flat_map(|i| &i.san_ip);
        let sans: Box<str> = names
            .iter()
            .cloned()
            .chain(ips.map(|ip| mxscan_model::chain::ip_san_entry(*ip)))
            .collect::<Vec<_>>()
            .join("\n")
            .into_boxed_str();
        // A reference name the leaf certainly covers (if it covers anything), so that the
        // verdict below can only be a name-independent failure or `valid`.
        let probe_name = names
            .iter()
            .find_map(|s| {
                let name = match s.strip_prefix("*.") {
                    Some(rest) => format!("wildcard-probe.{rest}"),
                    None => s.to_string(),
                };
                mxscan_model::chain::san_matches(&names, &name).then_some(name)
            })
            .unwrap_or_else(|| "no-san.invalid".to_string());
        let base = match self.judge_with(chain, extra, &probe_name, at) {
            CertStatus::Valid | CertStatus::NameMismatch => None,
            other => Some(other),
        };
        ChainFacts::from_parts(base, sans)
    }

    fn verify(
        &self,
        ee: &EndEntityCert<'_>,
        intermediates: &[CertificateDer<'_>],
        at: UnixTime,
    ) -> Result<(), webpki::Error> {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            intermediates,
            at,
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|_| ())
    }

    fn judge_uncached(
        &self,
        chain: &[CertificateDer<'_>],
        extra: &[CertificateDer<'_>],
        name: &str,
        at: UnixTime,
    ) -> CertStatus {
        let Some(leaf) = chain.first() else {
            return CertStatus::Other;
        };
        let Ok((_, x509)) = X509Certificate::from_der(leaf.as_ref()) else {
            return CertStatus::Other;
        };
        let Ok(ee) = EndEntityCert::try_from(leaf) else {
            return CertStatus::Other;
        };
        let nb = x509.validity().not_before.timestamp().max(0) as u64;
        let na = x509.validity().not_after.timestamp().max(0) as u64;
        // Trust is judged at a time inside the leaf's validity window.
        let t_trust = UnixTime::since_unix_epoch(Duration::from_secs(
            at.as_secs().clamp(nb.min(na), na.max(nb)),
        ));
        let presented: Vec<CertificateDer<'_>> = chain[1..].to_vec();
        match self.verify(&ee, &presented, t_trust) {
            Ok(()) => {}
            Err(e) => {
                if is_self_signed(&x509) {
                    return CertStatus::SelfSigned;
                }
                match e {
                    webpki::Error::UnknownIssuer => {
                        let mut with_pool = presented.clone();
                        with_pool.extend(self.pool.iter().cloned());
                        with_pool.extend(extra.iter().cloned());
                        return match self.verify(&ee, &with_pool, t_trust) {
                            Ok(()) => CertStatus::IncompleteChain,
                            Err(webpki::Error::CertExpired { .. }) => CertStatus::Expired,
                            Err(webpki::Error::CertNotValidYet { .. }) => CertStatus::NotYetValid,
                            Err(_) => CertStatus::UntrustedIssuer,
                        };
                    }
                    // An intermediate out of its validity inside the leaf's window.
                    webpki::Error::CertExpired { .. } => return CertStatus::Expired,
                    webpki::Error::CertNotValidYet { .. } => return CertStatus::NotYetValid,
                    _ => return CertStatus::Other,
                }
            }
        }
        // Trusted: now the survey time.
        let now = at.as_secs();
        if now > na {
            return CertStatus::Expired;
        }
        if now < nb {
            return CertStatus::NotYetValid;
        }
        // Here nb ≤ now ≤ na, so `t_trust` (the survey time clamped into the leaf's window)
        // is the survey time itself and the path above was already verified at `at`: a
        // second path validation would repeat every signature check (half the cost of
        // judging a valid chain, `benches/cert_judge.rs`). Kept for the impossible case.
        if t_trust != at {
            match self.verify(&ee, &presented, at) {
                Ok(()) => {}
                Err(webpki::Error::CertExpired { .. }) => return CertStatus::Expired,
                Err(webpki::Error::CertNotValidYet { .. }) => return CertStatus::NotYetValid,
                Err(_) => return CertStatus::Other,
            }
        }
        if !matches_name(leaf, name) {
            return CertStatus::NameMismatch;
        }
        CertStatus::Valid
    }
}

/// The caIssuers URLs of a certificate's Authority Information Access extension
/// (RFC 5280 §4.2.2.1), `http://` only (the RFC's transport for them; `https` would need a
/// chain to fetch a chain), in the order listed, at most `max`. Empty when the certificate
/// does not parse or has none.
pub fn ca_issuers_urls(der: &[u8], max: usize) -> Vec<String> {
    const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
    let Ok((_, x509)) = X509Certificate::from_der(der) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in x509.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for d in &aia.accessdescs {
                if d.access_method.to_id_string() == CA_ISSUERS
                    && let GeneralName::URI(uri) = &d.access_location
                    && uri.len() <= 2048
                    && uri
                        .get(..7)
                        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
                    && out.len() < max
                    && !out.iter().any(|u: &String| u == uri)
                {
                    out.push((*uri).to_owned());
                }
            }
        }
    }
    out
}

/// The certificates of an AIA caIssuers response body: one DER certificate
/// (`application/pkix-cert`, what nearly every CA serves) or PEM. A PKCS#7 bundle
/// (`application/pkcs7-mime`, `.p7c`) is not read: `None` for it and for anything else
/// that is not a certificate. At most `max` certificates.
pub fn certs_from_aia_body(body: &[u8], max: usize) -> Option<Vec<CertificateDer<'static>>> {
    if body.first() == Some(&0x30) {
        return X509Certificate::from_der(body)
            .ok()
            .filter(|(rest, _)| rest.is_empty())
            .map(|_| vec![CertificateDer::from(body.to_vec())]);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(body)
        .take(max)
        .filter_map(Result::ok)
        .filter(|c| X509Certificate::from_der(c.as_ref()).is_ok())
        .collect();
    (!certs.is_empty()).then_some(certs)
}
