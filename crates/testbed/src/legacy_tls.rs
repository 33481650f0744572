//! The legacy TLS servers: hosts that complete only a handshake a modern client refuses
//! (TLS 1.0 or 1.1 only, TLS 1.2 with static-RSA or CBC suites only). rustls cannot speak
//! any of that, so these hosts are served with OpenSSL ([`LegacyTls`] says how), after the
//! same plaintext SMTP conversation as every other host.
//!
//! * The cipher strings end in `@SECLEVEL=0` and the version bounds are set on the context,
//!   so OpenSSL 3 speaks TLS 1.0/1.1 and SHA-1 signatures whatever the system's
//!   `openssl.cnf` defaults (Debian: `SECLEVEL=2`, `MinProtocol = TLSv1.2`).
//! * The certificate is the one the testbed CA issues for the client's SNI, exactly as for
//!   rustls hosts ([`CertSpec`]: the SNI name on dedicated hosts, fixed names on shared
//!   ones; the renewal count from the world), chosen in OpenSSL's servername callback, which
//!   runs for every ClientHello (with `None` when the client sent no SNI). Leaf plus
//!   intermediate are sent, as by every good host. Suites that authenticate with RSA get an
//!   RSA leaf ([`KeyType::Rsa`]); TLS 1.0/1.1 hosts keep the ECDSA leaf (ECDHE-ECDSA suites).
//! * No session tickets, no session cache: every handshake is a full one.

use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::Arc;

use openssl::pkey::PKey;
use openssl::ssl::{
    NameType, SniError, Ssl, SslAlert, SslContext, SslMethod, SslOptions, SslRef,
    SslSessionCacheMode, SslVersion,
};
use openssl::x509::X509;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::behaviour::{Behaviours, CertSpec, KeyType, LegacyTls};
use crate::ca::Ca;
use crate::error::TestbedError;

fn tls_err(e: impl std::fmt::Display) -> TestbedError {
    TestbedError::Tls(e.to_string())
}

/// The OpenSSL version of a wire value.
fn ssl_version(wire: u16) -> SslVersion {
    match wire {
        0x0301 => SslVersion::TLS1,
        0x0302 => SslVersion::TLS1_1,
        _ => SslVersion::TLS1_2,
    }
}

/// The key type the server's suites need.
pub fn key_type(kind: LegacyTls) -> KeyType {
    if kind.needs_rsa() {
        KeyType::Rsa
    } else {
        KeyType::Ecdsa
    }
}

/// Where the certificate comes from: the CA and the world (renewals), for the address the
/// client dialled.
#[derive(Clone)]
pub(crate) struct CertSource {
    pub ca: Arc<Ca>,
    pub behaviours: Arc<dyn Behaviours>,
    pub ip: Ipv4Addr,
}

/// Present the chain for `spec` and `sni` on `ssl` (leaf, key, intermediate).
fn present(
    ssl: &mut SslRef,
    src: &CertSource,
    spec: &CertSpec,
    sni: Option<&str>,
    key_type: KeyType,
) -> Result<(), TestbedError> {
    let renewal = src.behaviours.cert_renewal(src.ip, sni);
    let chain = src.ca.chain_with_key(spec, sni, renewal, key_type)?;
    let mut certs = chain.cert.iter();
    let leaf = certs
        .next()
        .ok_or_else(|| TestbedError::Cert("empty chain".into()))?;
    let leaf = X509::from_der(leaf).map_err(tls_err)?;
    ssl.set_certificate(&leaf).map_err(tls_err)?;
    let key = PKey::private_key_from_pkcs8(&src.ca.leaf_key_pkcs8(key_type)?).map_err(tls_err)?;
    ssl.set_private_key(&key).map_err(tls_err)?;
    for c in certs {
        ssl.add_chain_cert(X509::from_der(c).map_err(tls_err)?)
            .map_err(tls_err)?;
    }
    Ok(())
}

/// An OpenSSL server context configured as `kind` says, choosing its certificate per SNI.
pub(crate) fn context(
    kind: LegacyTls,
    spec: &CertSpec,
    src: &CertSource,
) -> Result<SslContext, TestbedError> {
    let mut b = SslContext::builder(SslMethod::tls_server()).map_err(tls_err)?;
    let v = ssl_version(kind.version());
    b.set_min_proto_version(Some(v)).map_err(tls_err)?;
    b.set_max_proto_version(Some(v)).map_err(tls_err)?;
    b.set_cipher_list(kind.ciphers()).map_err(tls_err)?;
    b.set_security_level(0);
    b.set_options(SslOptions::NO_TICKET | SslOptions::NO_COMPRESSION);
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    let (spec, src, key_type) = (spec.clone(), src.clone(), key_type(kind));
    b.set_servername_callback(move |ssl: &mut SslRef, alert: &mut SslAlert| {
        let sni = ssl.servername(NameType::HOST_NAME).map(str::to_owned);
        match present(ssl, &src, &spec, sni.as_deref(), key_type) {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, ?sni, "no certificate for legacy SMTP host");
                *alert = SslAlert::INTERNAL_ERROR;
                Err(SniError::ALERT_FATAL)
            }
        }
    });
    Ok(b.build())
}

/// Run the server side of the handshake on `tcp`; the TLS stream once it completed.
pub(crate) async fn accept(
    tcp: TcpStream,
    kind: LegacyTls,
    spec: &CertSpec,
    src: &CertSource,
) -> Result<SslStream<TcpStream>, TestbedError> {
    let ctx = context(kind, spec, src)?;
    let ssl = Ssl::new(&ctx).map_err(tls_err)?;
    let mut stream = SslStream::new(ssl, tcp).map_err(tls_err)?;
    Pin::new(&mut stream).accept().await.map_err(tls_err)?;
    Ok(stream)
}
