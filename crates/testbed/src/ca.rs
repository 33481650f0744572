//! The testbed certificate authority: a trust anchor the scanner is told to trust
//! (`--trust-anchor`), an intermediate under it, and a second "rogue" hierarchy that is never
//! written out, so that every [`CertDefect`] can be presented on the wire.
//!
//! Leaf certificates are issued lazily, per (names, defect, renewal count), and kept in a
//! bounded cache: within one process an unchanged certificate is the same leaf at every
//! epoch of the world, and a renewed one is a new leaf.
//! All leaves share ONE key pair (generated at start): issuing a leaf costs one ECDSA P-256
//! signature and no key generation, so a world of a million names stays cheap. Legacy hosts
//! whose suites authenticate with RSA (static RSA, ECDHE_RSA) get leaves for a second, RSA
//! 2048 key, generated with OpenSSL on first use ([`KeyType::Rsa`]); everything else about
//! those chains is the same.
//!
//! Chains presented per defect (what a TLS client receives, leaf first):
//!
//! | defect            | chain sent                               | validity of the leaf        |
//! |-------------------|------------------------------------------|-----------------------------|
//! | `None`            | leaf ← intermediate                      | now −30 d … now +60 d       |
//! | `Expired`         | leaf ← intermediate                      | now −400 d … now −30 d      |
//! | `NotYetValid`     | leaf ← intermediate                      | now +30 d … now +120 d      |
//! | `SelfSigned`      | self-signed leaf only                    | now −30 d … now +60 d       |
//! | `UnknownIssuer`   | leaf ← rogue intermediate ← rogue root   | now −30 d … now +60 d       |
//! | `IncompleteChain` | leaf only (issued by the intermediate)   | now −30 d … now +60 d       |
//! | `AiaIncompleteChain` | leaf only (intermediate), AIA → `aia.testbed.test` | now −30 d … now +60 d |
//! | `AiaTarpit`       | leaf only (intermediate), AIA → `aia-tarpit.testbed.test` | now −30 d … now +60 d |
//! | `AiaLoop`         | leaf only (loop CA A), AIA → `aia-loop-a.testbed.test` | now −30 d … now +60 d |
//!
//! The `Aia*` leaves carry an Authority Information Access extension (RFC 5280 §4.2.2.1)
//! with one id-ad-caIssuers `http://` URI ([`crate::aia::AiaHost::url`]); the URL is a
//! function of the defect, so the leaf cache key (names, defect, renewal, key type) stays
//! exact. The loop pair is two CA certificates that sign each other: loop CA A (issued by
//! B, AIA → B's URL) and loop CA B (issued by A, AIA → A's URL); no root is behind them.
//!
//! The `UnknownIssuer` chain is complete up to a self-signed root that is not trusted, so a
//! scanner can tell it apart from `IncompleteChain` (whose last certificate's issuer is simply
//! absent) without fetching anything. Leaves carry the names as dNSName SANs (RFC 5280
//! §4.2.1.6), the first name as CN, and the serverAuth EKU (RFC 5280 §4.2.1.12).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::aia::AiaHost;
use crate::behaviour::{CertDefect, CertNames, CertSpec, KeyType};
use crate::error::TestbedError;

/// Default bound of the leaf cache (entries); see [`Ca::with_cache_capacity`].
pub const DEFAULT_CACHE_CAPACITY: usize = 50_000;

/// Subject CN of the trust anchor (the certificate written by [`Ca::write_root_pem`]).
pub const ROOT_CN: &str = "mxscan testbed root CA";
/// Subject CN of the intermediate that signs every good leaf.
pub const INTERMEDIATE_CN: &str = "mxscan testbed intermediate CA 1";
/// Subject CN of the untrusted root behind [`CertDefect::UnknownIssuer`] chains.
pub const ROGUE_ROOT_CN: &str = "mxscan rogue root CA (untrusted)";
/// Subject CN of the untrusted intermediate that signs [`CertDefect::UnknownIssuer`] leaves.
pub const ROGUE_INTERMEDIATE_CN: &str = "mxscan rogue intermediate CA";
/// Subject CN of loop CA A (signs [`CertDefect::AiaLoop`] leaves; issued by B).
pub const LOOP_A_CN: &str = "mxscan AIA loop CA A (untrusted)";
/// Subject CN of loop CA B (issued by A).
pub const LOOP_B_CN: &str = "mxscan AIA loop CA B (untrusted)";
/// Organisation of every testbed CA certificate.
pub const ORGANISATION: &str = "mxscan testbed";

/// The names a leaf certificate is issued for, what is wrong with it, and its renewal
/// count (`Behaviours::cert_renewal`): the cache key.
type LeafKey = (Vec<String>, CertDefect, u32, KeyType);

/// The RSA leaf key, for rcgen (signing self-signed leaves), rustls and OpenSSL (PKCS#8).
struct RsaLeaf {
    key: KeyPair,
    signer: Arc<dyn rustls::sign::SigningKey>,
    pkcs8: Vec<u8>,
}

/// The testbed CA. Cheap to share (`Arc<Ca>`); all methods take `&self`.
pub struct Ca {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
    rogue_root: CertifiedIssuer<'static, KeyPair>,
    rogue_intermediate: CertifiedIssuer<'static, KeyPair>,
    /// Loop CA A (signs [`CertDefect::AiaLoop`] leaves) and the DER of its certificate.
    loop_a: Issuer<'static, KeyPair>,
    loop_a_der: CertificateDer<'static>,
    /// The DER of loop CA B's certificate.
    loop_b_der: CertificateDer<'static>,
    /// The single key pair of every leaf certificate.
    leaf_key: KeyPair,
    /// The same key, loaded for rustls.
    leaf_signer: Arc<dyn rustls::sign::SigningKey>,
    /// The RSA leaf key, made on first use.
    rsa_leaf: std::sync::OnceLock<RsaLeaf>,
    provider: Arc<CryptoProvider>,
    cache: Mutex<LeafCache>,
    serial: AtomicU64,
    issued: AtomicU64,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("root", &ROOT_CN)
            .field("issued", &self.issued.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// A fresh CA with new keys and the default cache bound.
    pub fn new() -> Result<Ca, TestbedError> {
        Ca::with_cache_capacity(DEFAULT_CACHE_CAPACITY)
    }

    /// A fresh CA whose leaf cache holds at most `capacity` chains (at least 2).
    pub fn with_cache_capacity(capacity: usize) -> Result<Ca, TestbedError> {
        let now = now_seconds();
        let ca_before = now - TimeDuration::days(800);
        let ca_after = now + TimeDuration::days(3650);

        let root =
            CertifiedIssuer::self_signed(ca_params(ROOT_CN, None, ca_before, ca_after), new_key()?)
                .map_err(cert_err)?;
        let intermediate = CertifiedIssuer::signed_by(
            ca_params(INTERMEDIATE_CN, Some(0), ca_before, ca_after),
            new_key()?,
            &root,
        )
        .map_err(cert_err)?;
        let rogue_root = CertifiedIssuer::self_signed(
            ca_params(ROGUE_ROOT_CN, None, ca_before, ca_after),
            new_key()?,
        )
        .map_err(cert_err)?;
        let rogue_intermediate = CertifiedIssuer::signed_by(
            ca_params(ROGUE_INTERMEDIATE_CN, Some(0), ca_before, ca_after),
            new_key()?,
            &rogue_root,
        )
        .map_err(cert_err)?;

        // The loop: A issued by B, B issued by A, each AIA pointing at the other's URL.
        let mut loop_a_params = ca_params(LOOP_A_CN, Some(0), ca_before, ca_after);
        loop_a_params
            .custom_extensions
            .push(aia_extension(&AiaHost::LoopB.url()));
        let mut loop_b_params = ca_params(LOOP_B_CN, Some(0), ca_before, ca_after);
        loop_b_params
            .custom_extensions
            .push(aia_extension(&AiaHost::LoopA.url()));
        let (loop_a_key, loop_b_key) = (new_key()?, new_key()?);
        let loop_a_der = loop_a_params
            .signed_by(
                &loop_a_key,
                &Issuer::from_params(&loop_b_params, &loop_b_key),
            )
            .map_err(cert_err)?
            .der()
            .clone();
        let loop_b_der = loop_b_params
            .signed_by(
                &loop_b_key,
                &Issuer::from_params(&loop_a_params, &loop_a_key),
            )
            .map_err(cert_err)?
            .der()
            .clone();
        let loop_a = Issuer::new(loop_a_params, loop_a_key);

        let leaf_key = new_key()?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let leaf_signer = rustls::crypto::ring::sign::any_ecdsa_type(&der)
            .map_err(|e| TestbedError::Tls(e.to_string()))?;

        Ok(Ca {
            root,
            intermediate,
            rogue_root,
            rogue_intermediate,
            loop_a,
            loop_a_der,
            loop_b_der,
            leaf_key,
            leaf_signer,
            rsa_leaf: std::sync::OnceLock::new(),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            cache: Mutex::new(LeafCache::new(capacity.max(2))),
            serial: AtomicU64::new(1),
            issued: AtomicU64::new(0),
        })
    }

    /// The root and the intermediate, PEM-encoded: the file to give the scanner's
    /// `--trust-anchor`. The root becomes the anchor; the intermediate is a known
    /// intermediate that lets the scanner tell `incomplete_chain` from `untrusted_issuer`.
    pub fn trust_bundle_pem(&self) -> String {
        format!("{}{}", self.root.pem(), self.intermediate.pem())
    }

    /// The trust anchor, PEM-encoded (what `--trust-anchor` reads).
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The trust anchor, DER-encoded (for a rustls `RootCertStore`).
    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    /// The intermediate that signs good leaves, DER-encoded.
    pub fn intermediate_der(&self) -> CertificateDer<'static> {
        self.intermediate.der().clone()
    }

    /// The certificate the AIA host `host` serves (DER), or `None` for the tarpit, which
    /// serves nothing.
    pub fn aia_der(&self, host: AiaHost) -> Option<CertificateDer<'static>> {
        match host {
            AiaHost::Intermediate => Some(self.intermediate_der()),
            AiaHost::Tarpit => None,
            AiaHost::LoopA => Some(self.loop_a_der.clone()),
            AiaHost::LoopB => Some(self.loop_b_der.clone()),
        }
    }

    /// Write the trust anchor as PEM to `path`.
    pub fn write_root_pem(&self, path: impl AsRef<Path>) -> Result<(), TestbedError> {
        std::fs::write(path, self.root_pem())?;
        Ok(())
    }

    /// A rustls root store holding only the trust anchor (for test clients).
    pub fn root_store(&self) -> rustls::RootCertStore {
        let mut store = rustls::RootCertStore::empty();
        // The root is our own well-formed certificate: adding it cannot fail.
        let _ = store.add(self.root_der());
        store
    }

    /// The crypto provider the servers use (rustls `ring`).
    pub fn provider(&self) -> Arc<CryptoProvider> {
        Arc::clone(&self.provider)
    }

    /// How many chains the leaf cache holds now (never more than its capacity).
    pub fn cached(&self) -> usize {
        self.lock_cache().len()
    }

    /// How many leaf certificates have been signed so far (cache misses).
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    /// The names a leaf for `spec` carries when the client sent `sni` (lower-cased;
    /// [`CertNames::Sni`] gives the SNI name, or the fallback when there was none).
    pub fn resolve_names(names: &CertNames, sni: Option<&str>) -> Vec<String> {
        match names {
            CertNames::Sni { fallback } => {
                vec![
                    sni.unwrap_or(fallback)
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                ]
            }
            CertNames::Fixed(list) => list.iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// The chain and key a server presents for `spec` when the client sent `sni`: issued on
    /// first use, then served from the bounded cache.
    pub fn chain(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
    ) -> Result<Arc<CertifiedKey>, TestbedError> {
        self.chain_renewed(spec, sni, 0)
    }

    /// [`Ca::chain`] for the `renewal`-th renewal of that certificate: each renewal count
    /// is a leaf of its own (a new serial and signature), cached like the first.
    pub fn chain_renewed(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
        renewal: u32,
    ) -> Result<Arc<CertifiedKey>, TestbedError> {
        self.chain_with_key(spec, sni, renewal, KeyType::Ecdsa)
    }

    /// [`Ca::chain_renewed`] for a leaf of key type `key_type`.
    pub fn chain_with_key(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
        renewal: u32,
        key_type: KeyType,
    ) -> Result<Arc<CertifiedKey>, TestbedError> {
        let key: LeafKey = (
            Ca::resolve_names(&spec.names, sni),
            spec.defect,
            renewal,
            key_type,
        );
        if let Some(hit) = self.lock_cache().get(&key) {
            return Ok(hit);
        }
        // Sign outside the lock: concurrent misses for one key may both sign (harmless).
        let (leaf_key, signer) = match key_type {
            KeyType::Ecdsa => (&self.leaf_key, Arc::clone(&self.leaf_signer)),
            KeyType::Rsa => {
                let rsa = self.rsa_leaf()?;
                (&rsa.key, Arc::clone(&rsa.signer))
            }
        };
        let chain = self.issue(&key.0, key.1, leaf_key)?;
        let certified = Arc::new(CertifiedKey::new(chain, signer));
        self.lock_cache().insert(key, Arc::clone(&certified));
        Ok(certified)
    }

    /// The PKCS#8 DER of the private key of every leaf of `key_type` (for OpenSSL).
    pub fn leaf_key_pkcs8(&self, key_type: KeyType) -> Result<Vec<u8>, TestbedError> {
        Ok(match key_type {
            KeyType::Ecdsa => self.leaf_key.serialize_der(),
            KeyType::Rsa => self.rsa_leaf()?.pkcs8.clone(),
        })
    }

    /// The RSA leaf key, generated with OpenSSL on first use (ring cannot make RSA keys).
    fn rsa_leaf(&self) -> Result<&RsaLeaf, TestbedError> {
        if let Some(k) = self.rsa_leaf.get() {
            return Ok(k);
        }
        let tls = |e: openssl::error::ErrorStack| TestbedError::Tls(e.to_string());
        let rsa = openssl::rsa::Rsa::generate(2048).map_err(tls)?;
        let pkcs8 = openssl::pkey::PKey::from_rsa(rsa)
            .map_err(tls)?
            .private_key_to_pkcs8()
            .map_err(tls)?;
        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.clone()),
            &rcgen::PKCS_RSA_SHA256,
        )
        .map_err(cert_err)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.clone()));
        let signer = rustls::crypto::ring::sign::any_supported_type(&der)
            .map_err(|e| TestbedError::Tls(e.to_string()))?;
        // Two first uses at once may both generate; one wins, the other is dropped.
        let _ = self.rsa_leaf.set(RsaLeaf { key, signer, pkcs8 });
        Ok(self.rsa_leaf.get().expect("just set"))
    }

    /// A rustls server configuration (TLS 1.2 and 1.3, no client auth, no resumption)
    /// presenting the chain for `spec` / `sni`.
    pub fn server_config(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
    ) -> Result<Arc<ServerConfig>, TestbedError> {
        self.server_config_renewed(spec, sni, 0)
    }

    /// [`Ca::server_config`] presenting the `renewal`-th renewal ([`Ca::chain_renewed`]).
    pub fn server_config_renewed(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
        renewal: u32,
    ) -> Result<Arc<ServerConfig>, TestbedError> {
        self.server_config_versions(
            spec,
            sni,
            renewal,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
        )
    }

    /// [`Ca::server_config_renewed`] speaking only `versions` (TLS 1.3-only hosts).
    pub fn server_config_versions(
        &self,
        spec: &CertSpec,
        sni: Option<&str>,
        renewal: u32,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<ServerConfig>, TestbedError> {
        let certified = self.chain_renewed(spec, sni, renewal)?;
        let mut config = ServerConfig::builder_with_provider(self.provider())
            .with_protocol_versions(versions)
            .map_err(|e| TestbedError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedCert(certified)));
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, LeafCache> {
        // A panic while holding the lock leaves a consistent map: recover it.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sign a leaf for `names` with `defect`; returns the chain as sent (leaf first).
    fn issue(
        &self,
        names: &[String],
        defect: CertDefect,
        leaf_key: &KeyPair,
    ) -> Result<Vec<CertificateDer<'static>>, TestbedError> {
        let first = names
            .first()
            .ok_or_else(|| TestbedError::Cert("a leaf needs at least one name".into()))?;
        let now = now_seconds();
        let (not_before, not_after) = match defect {
            CertDefect::Expired => (now - TimeDuration::days(400), now - TimeDuration::days(30)),
            CertDefect::NotYetValid => {
                (now + TimeDuration::days(30), now + TimeDuration::days(120))
            }
            _ => (now - TimeDuration::days(30), now + TimeDuration::days(60)),
        };
        let mut params = CertificateParams::new(names.to_vec()).map_err(cert_err)?;
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
        params.not_before = not_before;
        params.not_after = not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if leaf_key.algorithm() == &rcgen::PKCS_RSA_SHA256 {
            // Static RSA key exchange encrypts the premaster secret to this key (RFC 5280
            // §4.2.1.3).
            params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.serial_number = Some(self.next_serial(names, defect));
        params.use_authority_key_identifier_extension = defect != CertDefect::SelfSigned;

        let chain = match defect {
            CertDefect::None | CertDefect::Expired | CertDefect::NotYetValid => {
                let leaf = self.sign_leaf(&params, leaf_key, &self.intermediate)?;
                vec![leaf, self.intermediate.der().clone()]
            }
            CertDefect::IncompleteChain => {
                vec![self.sign_leaf(&params, leaf_key, &self.intermediate)?]
            }
            CertDefect::AiaIncompleteChain | CertDefect::AiaTarpit => {
                let host = if defect == CertDefect::AiaTarpit {
                    AiaHost::Tarpit
                } else {
                    AiaHost::Intermediate
                };
                params.custom_extensions.push(aia_extension(&host.url()));
                vec![self.sign_leaf(&params, leaf_key, &self.intermediate)?]
            }
            CertDefect::AiaLoop => {
                params
                    .custom_extensions
                    .push(aia_extension(&AiaHost::LoopA.url()));
                vec![self.sign_leaf(&params, leaf_key, &self.loop_a)?]
            }
            CertDefect::SelfSigned => {
                vec![
                    params
                        .self_signed(leaf_key)
                        .map_err(cert_err)?
                        .der()
                        .clone(),
                ]
            }
            CertDefect::UnknownIssuer => {
                let leaf = self.sign_leaf(&params, leaf_key, &self.rogue_intermediate)?;
                vec![
                    leaf,
                    self.rogue_intermediate.der().clone(),
                    self.rogue_root.der().clone(),
                ]
            }
        };
        self.issued.fetch_add(1, Ordering::Relaxed);
        Ok(chain)
    }

    fn sign_leaf(
        &self,
        params: &CertificateParams,
        leaf_key: &KeyPair,
        issuer: &Issuer<'_, KeyPair>,
    ) -> Result<CertificateDer<'static>, TestbedError> {
        Ok(params
            .signed_by(leaf_key, issuer)
            .map_err(cert_err)?
            .der()
            .clone())
    }

    /// A unique positive serial (RFC 5280 §4.1.2.2: at most 20 octets): a hash of the names,
    /// the defect and a counter, so re-issued leaves never repeat a serial.
    fn next_serial(&self, names: &[String], defect: CertDefect) -> SerialNumber {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let mut h = Sha256::new();
        for name in names {
            h.update(name.as_bytes());
            h.update([0]);
        }
        h.update(format!("{defect:?}").as_bytes());
        h.update(n.to_be_bytes());
        let mut bytes = h.finalize()[..16].to_vec();
        bytes[0] &= 0x7f;
        bytes[0] |= 0x01; // never zero, never negative
        SerialNumber::from_slice(&bytes)
    }
}

/// Parameters of a CA certificate. `path_len` None: a root (unconstrained).
fn ca_params(
    cn: &str,
    path_len: Option<u8>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, ORGANISATION);
    params.is_ca = match path_len {
        None => IsCa::Ca(BasicConstraints::Unconstrained),
        Some(n) => IsCa::Ca(BasicConstraints::Constrained(n)),
    };
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = not_before;
    params.not_after = not_after;
    params.use_authority_key_identifier_extension = path_len.is_some();
    params
}

/// An Authority Information Access extension (RFC 5280 §4.2.2.1, OID 1.3.6.1.5.5.7.1.1,
/// not critical) with one AccessDescription: id-ad-caIssuers (1.3.6.1.5.5.7.48.2) and
/// `url` as a uniformResourceIdentifier GeneralName (`[6] IMPLICIT IA5String`).
pub fn aia_extension(url: &str) -> rcgen::CustomExtension {
    const CA_ISSUERS: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 48, 2];
    let mut desc = der_tlv(0x06, CA_ISSUERS);
    desc.extend(der_tlv(0x86, url.as_bytes()));
    let seq = der_tlv(0x30, &der_tlv(0x30, &desc));
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], seq)
}

/// A DER tag-length-value (definite lengths up to 65,535 bytes).
fn der_tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match body.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend([0x81, n as u8]),
        n => v.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend(body);
    v
}

fn new_key() -> Result<KeyPair, TestbedError> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(cert_err)
}

fn cert_err(e: rcgen::Error) -> TestbedError {
    TestbedError::Cert(e.to_string())
}

/// Now, truncated to whole seconds (X.509 times have no fractions).
fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A resolver that always presents one chain (the config is built per connection, after the
/// ClientHello has been read, so the choice has already been made).
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// A bounded two-generation cache: lookups hit `hot`, then `cold` (promoting the entry);
/// when `hot` reaches half the capacity, `cold` is dropped and `hot` becomes `cold`. At most
/// `capacity` entries are held, recently used entries survive, and every operation is O(1).
#[derive(Debug)]
struct LeafCache {
    hot: HashMap<LeafKey, Arc<CertifiedKey>>,
    cold: HashMap<LeafKey, Arc<CertifiedKey>>,
    half: usize,
}

impl LeafCache {
    fn new(capacity: usize) -> LeafCache {
        LeafCache {
            hot: HashMap::new(),
            cold: HashMap::new(),
            half: (capacity / 2).max(1),
        }
    }

    fn get(&mut self, key: &LeafKey) -> Option<Arc<CertifiedKey>> {
        if let Some(v) = self.hot.get(key) {
            return Some(Arc::clone(v));
        }
        let v = self.cold.remove(key)?;
        self.insert(key.clone(), Arc::clone(&v));
        Some(v)
    }

    fn insert(&mut self, key: LeafKey, value: Arc<CertifiedKey>) {
        if self.hot.len() >= self.half && !self.hot.contains_key(&key) {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, value);
    }

    fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }
}

#[cfg(test)]
mod tests;
