//! The TLS client side shared by the SMTP probe and the policy fetch.
//!
//! One [`Arc<ClientConfig>`] per purpose, built once per scanner, with the `ring` provider
//! (no aws-lc), TLS 1.2 and 1.3 only, and a verifier that **accepts every certificate**:
//! "never abort on a bad certificate" — the handshake finishes so that version, cipher and
//! group are recorded, and the presented chain (read from the connection afterwards,
//! [`HandshakeInfo::chain`]) is judged offline, per name, by [`crate::cert::TrustStore`].
//! The verifier still checks the handshake signature against the presented leaf key
//! (proof of possession), so a server that cannot sign fails the handshake.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};

use mxscan_model::TlsFailure;

use crate::error::ProbeError;

/// Accepts any certificate chain; verifies handshake signatures.
#[derive(Debug)]
pub struct AcceptAnyCert {
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Builds the scanner's TLS client configuration (ring, TLS 1.2 + 1.3, accept-any-cert
/// verifier, SNI on, no client auth, no session resumption so every probe sees a full
/// handshake). `alpn`: e.g. `[b"http/1.1"]` for the policy fetch, empty for SMTP.
pub fn client_config(alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algs = provider.signature_verification_algorithms;
    let mut cfg = ClientConfig::builder_with_provider(provider.clone() as Arc<CryptoProvider>)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ProbeError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert { algs }))
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(cfg))
}

/// What a finished handshake negotiated, and the chain the server presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: Option<String>,
    /// IANA cipher suite name, e.g. `TLS_AES_128_GCM_SHA256`,
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub cipher_suite: Option<String>,
    /// Key-exchange group as in the IANA TLS Supported Groups registry, e.g. `x25519`,
    /// `secp256r1`, `X25519MLKEM768`.
    pub kx_group: Option<String>,
    /// Presented certificates, leaf first, as sent.
    pub chain: Vec<CertificateDer<'static>>,
}

impl HandshakeInfo {
    /// Reads the negotiated parameters from a client connection after the handshake.
    pub fn from_conn(conn: &rustls::ClientConnection) -> Self {
        let version = conn.protocol_version().map(|v| match v {
            ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
            ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
            other => format!("{other:?}"),
        });
        let cipher_suite = conn.negotiated_cipher_suite().map(|s| {
            let cs = s.suite();
            let name = cs.as_str().map(str::to_string).unwrap_or(format!("{cs:?}"));
            // rustls spells TLS 1.3 suites `TLS13_…`; IANA spells them `TLS_…`.
            match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name,
            }
        });
        let kx_group = conn.negotiated_key_exchange_group().map(|g| {
            let n = g.name();
            let name = n.as_str().map(str::to_string).unwrap_or(format!("{n:?}"));
            // IANA TLS Supported Groups spell these in lowercase.
            match name.as_str() {
                "X25519" => "x25519".to_string(),
                "X448" => "x448".to_string(),
                _ => name,
            }
        });
        let chain = conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default();
        Self {
            version,
            cipher_suite,
            kx_group,
            chain,
        }
    }
}

/// A rustls server name for `name` (trailing dot removed); `Err` for names rustls rejects.
pub fn server_name(name: &str) -> Result<ServerName<'static>, ProbeError> {
    ServerName::try_from(name.trim_end_matches('.').to_string())
        .map_err(|_| ProbeError::BadName(name.to_string()))
}

/// Why a modern handshake failed, from the error tokio-rustls returned (a `rustls::Error`
/// inside an `io::Error`, or the I/O error itself). The alert a server sends names the
/// reason (RFC 5246 §7.2.2: `handshake_failure` is what servers send when no suite is in
/// common; `protocol_version` when the version is not theirs); a ServerHello rustls refuses
/// names it through rustls's own error.
pub fn tls_failure(e: &std::io::Error) -> TlsFailure {
    use rustls::{AlertDescription as A, PeerIncompatible as I, PeerMisbehaved as M};
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return match e.kind() {
            std::io::ErrorKind::TimedOut => TlsFailure::Timeout,
            _ => TlsFailure::Io,
        };
    };
    match tls {
        rustls::Error::AlertReceived(A::ProtocolVersion) => TlsFailure::ProtocolVersion,
        rustls::Error::AlertReceived(A::HandshakeFailure | A::InsufficientSecurity) => {
            TlsFailure::NoSharedCipher
        }
        rustls::Error::AlertReceived(_) => TlsFailure::Alert,
        rustls::Error::PeerIncompatible(
            I::ServerDoesNotSupportTls12Or13
            | I::ServerTlsVersionIsDisabledByOurConfig
            | I::SupportedVersionsExtensionRequired
            | I::Tls12NotOffered
            | I::Tls12NotOfferedOrEnabled,
        ) => TlsFailure::ProtocolVersion,
        rustls::Error::PeerIncompatible(_) => TlsFailure::NoSharedCipher,
        rustls::Error::PeerMisbehaved(
            M::SelectedUnofferedCipherSuite
            | M::SelectedUnusableCipherSuiteForVersion
            | M::SelectedUnofferedKxGroup,
        ) => TlsFailure::NoSharedCipher,
        rustls::Error::PeerMisbehaved(
            M::SelectedTls12UsingTls13VersionExtension
            | M::IllegalHelloRetryRequestWithUnsupportedVersion,
        ) => TlsFailure::ProtocolVersion,
        rustls::Error::InvalidMessage(rustls::InvalidMessage::UnknownProtocolVersion) => {
            TlsFailure::ProtocolVersion
        }
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerMisbehaved(_) => TlsFailure::NotTls,
        _ => TlsFailure::Alert,
    }
}
