//! The contract between the world model (who lives at which address, see `world`) and the
//! servers (how a host behaves on the wire, see `smtp_server` and `https_server`).
//!
//! The servers know nothing about domains: one SMTP listener and one HTTPS listener on
//! `0.0.0.0:PORT` ask a [`Behaviours`] implementation what to do for each accepted connection,
//! keyed by the local (dialled) address — every address in 127.0.0.0/8 is loopback, so one
//! process can be a million hosts — and, for HTTPS, by the SNI name.
//!
//! Everything here is plain data so that tests can build behaviours by hand.

use std::net::Ipv4Addr;
use std::time::Duration;

/// What the world answers for one connection. Implemented by `world::World`; tests may
/// implement it with a fixed table.
pub trait Behaviours: Send + Sync + 'static {
    /// The SMTP host living at `local` (the address the client dialled).
    fn smtp_host(&self, local: Ipv4Addr) -> SmtpHost;
    /// The HTTPS site living at `local`, selected by the SNI name the client sent (if any).
    /// Called once the ClientHello has been read (for [`HttpsSite::Reset`] the server may
    /// call it with `sni = None` before reading anything).
    fn https_site(&self, local: Ipv4Addr, sni: Option<&str>) -> HttpsSite;
    /// How many times the certificate presented at `local` for `sni` has been renewed: a
    /// new value is a new leaf for the same [`CertSpec`] (the world's epochs renew
    /// certificates on a schedule). Default 0: never renewed.
    fn cert_renewal(&self, _local: Ipv4Addr, _sni: Option<&str>) -> u32 {
        0
    }
}

/// An SMTP host as seen by a client that dials it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpHost {
    /// Simulated round-trip time: the server waits this long before each reply it sends
    /// (greeting included).
    pub rtt: Duration,
    /// Additional wait before the greeting (postscreen-style greet delay).
    pub greet_delay: Duration,
    /// What the host does.
    pub script: SmtpScript,
}

/// The SMTP conversation a host holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpScript {
    /// Accept the TCP connection and reset it at once (SO_LINGER 0, close) without sending a
    /// byte. The scanner reports this as `closed_before_greeting` (accepted, then reset: a
    /// connection limit, postscreen, a load balancer without backend). With one listener on
    /// 0.0.0.0 every 127/8 address accepts, so the testbed cannot refuse a SYN per address;
    /// `connect_refused` is covered by the probe's own tests against a closed port.
    Reset,
    /// Accept the TCP connection and close it at once (FIN) without sending a byte. The
    /// scanner reports this as `closed_before_greeting` too (the orderly variant of
    /// [`SmtpScript::Reset`]: an MTA that accepts and closes when it is over its
    /// connection limit).
    Close,
    /// Accept and never send a byte; hold the connection until the client leaves
    /// (or a server-side cap of a few minutes).
    Tarpit,
    /// Greet with `421 <host> Service not available` and close (RFC 5321 §3.8).
    Greeting421,
    /// Greet with `554 <host> No SMTP service here`; answer EHLO with `503 5.5.1` and
    /// QUIT with `221`, then close (RFC 5321 §3.1).
    Greeting554,
    /// A conversation that starts with a 220 greeting.
    Conversation(Conversation),
}

/// A conversation that begins with a `220` greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Host name the server uses in its greeting and EHLO reply.
    pub hostname: String,
    /// Send the greeting as a multi-line `220-` … `220 ` reply.
    pub multiline_greeting: bool,
    /// How the server answers EHLO.
    pub ehlo: EhloReply,
    /// How the server answers STARTTLS (only reached when the EHLO reply advertised it, but
    /// the server answers whatever the client sends).
    pub starttls: StarttlsReply,
    /// Bytes sent in the same `write` as the `220` STARTTLS reply, before the handshake
    /// (the STARTTLS command-injection / buffering finding of RFC 3207 §4 / CVE-2011-0411).
    /// The server then proceeds with the TLS handshake as normal.
    pub inject_after_starttls: Option<Vec<u8>>,
    /// What happens once the client starts TLS.
    pub tls: TlsBehaviour,
}

impl Conversation {
    /// A well-behaved host named `hostname`: a one-line greeting, an EHLO reply that offers
    /// STARTTLS, `220` to STARTTLS with nothing injected, then a TLS handshake presenting
    /// `cert`. Scenarios and tests change the fields they are about.
    pub fn well_behaved(hostname: impl Into<String>, cert: CertSpec) -> Conversation {
        Conversation {
            hostname: hostname.into(),
            multiline_greeting: false,
            ehlo: EhloReply::Ok {
                starttls: true,
                padding_bytes: 0,
            },
            starttls: StarttlsReply::Ready,
            inject_after_starttls: None,
            tls: TlsBehaviour::Handshake(cert),
        }
    }
}

/// How the server answers EHLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EhloReply {
    /// A normal multi-line `250` reply. `starttls` says whether `STARTTLS` is advertised.
    /// `padding_bytes` > 0 adds that many bytes of extra `250-X-PAD…` keyword lines, for the
    /// oversized-reply scenario (the scanner caps a reply at 64 KiB; the world uses ≥ 1 MiB).
    Ok {
        starttls: bool,
        padding_bytes: usize,
    },
    /// `550 5.7.1 <reason>` to EHLO (and to HELO), then wait for QUIT.
    Rejected,
    /// Read the EHLO line, then close the connection without replying.
    Drop,
}

/// How the server answers STARTTLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StarttlsReply {
    /// `220 2.0.0 Ready to start TLS`, then TLS per [`Conversation::tls`].
    Ready,
    /// `454 4.7.0 TLS not available due to temporary reason` (RFC 3207 §4).
    Unavailable454,
    /// `502 5.5.1 Command not implemented` (server that does not do STARTTLS at all).
    NotImplemented502,
}

/// What the server does after its `220` to STARTTLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsBehaviour {
    /// A real TLS 1.2/1.3 handshake presenting `cert`; afterwards answer EHLO (without
    /// STARTTLS) and QUIT.
    Handshake(CertSpec),
    /// The same with TLS 1.3 only (a client limited to TLS 1.2 fails).
    Tls13Only(CertSpec),
    /// An OpenSSL server configured as [`LegacyTls`] says (a version or suites modern
    /// clients refuse), presenting `cert` (an RSA leaf where the suites need one); then EHLO
    /// and QUIT like [`TlsBehaviour::Handshake`].
    Legacy(CertSpec, LegacyTls),
    /// Send ~1 KiB of bytes that are not TLS records, then close.
    Garbage,
    /// Read the ClientHello, send a fatal `handshake_failure` alert, close.
    Alert,
}

/// The configuration of a legacy TLS server (served with OpenSSL, `@SECLEVEL=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyTls {
    /// TLS 1.0 only, OpenSSL's default suites (with the ECDSA leaf: ECDHE-ECDSA CBC).
    Tls10Only,
    /// TLS 1.1 only, likewise.
    Tls11Only,
    /// TLS 1.2, static-RSA key exchange only ([`LegacyTls::STATIC_RSA_CIPHERS`]).
    StaticRsaOnly,
    /// TLS 1.2, ECDHE-RSA with CBC only ([`LegacyTls::CBC_CIPHERS`]).
    CbcOnly,
}

impl LegacyTls {
    /// OpenSSL cipher string of [`LegacyTls::StaticRsaOnly`].
    pub const STATIC_RSA_CIPHERS: &'static str =
        "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA:@SECLEVEL=0";
    /// OpenSSL cipher string of [`LegacyTls::CbcOnly`].
    pub const CBC_CIPHERS: &'static str = "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0";

    /// The one protocol version the server speaks, as its wire value (0x0301 TLS 1.0 …).
    pub fn version(self) -> u16 {
        match self {
            LegacyTls::Tls10Only => 0x0301,
            LegacyTls::Tls11Only => 0x0302,
            LegacyTls::StaticRsaOnly | LegacyTls::CbcOnly => 0x0303,
        }
    }

    /// The OpenSSL cipher string (TLS 1.2 and below).
    pub fn ciphers(self) -> &'static str {
        match self {
            LegacyTls::Tls10Only | LegacyTls::Tls11Only => "DEFAULT:@SECLEVEL=0",
            LegacyTls::StaticRsaOnly => Self::STATIC_RSA_CIPHERS,
            LegacyTls::CbcOnly => Self::CBC_CIPHERS,
        }
    }

    /// The suites need an RSA certificate (static RSA key exchange, ECDHE_RSA).
    pub fn needs_rsa(self) -> bool {
        matches!(self, LegacyTls::StaticRsaOnly | LegacyTls::CbcOnly)
    }
}

/// The key type of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ECDSA P-256 (every host that rustls serves).
    Ecdsa,
    /// RSA 2048 (legacy hosts whose suites authenticate with RSA).
    Rsa,
}

/// Which certificate chain a TLS server presents. All good chains are
/// root CA (written out for `--trust-anchor`) → intermediate → leaf, and the server sends
/// leaf + intermediate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    /// Names in the leaf's dNSName SANs.
    pub names: CertNames,
    /// What is wrong with the chain, if anything.
    pub defect: CertDefect,
}

/// The dNSName SANs of a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertNames {
    /// Exactly the SNI name the client sent; `fallback` when it sent none.
    /// Only used where the world guarantees one name per address (dedicated hosts).
    Sni { fallback: String },
    /// These names, whatever the client sent (shared provider hosts; wrong-name scenarios).
    Fixed(Vec<String>),
}

/// What is wrong with a certificate chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertDefect {
    /// Nothing: chains to the testbed root, currently valid.
    None,
    /// Leaf `notAfter` in the past (issued 400 days ago, expired 30 days ago).
    Expired,
    /// Leaf `notBefore` in the future (30 days from now).
    NotYetValid,
    /// Self-signed leaf (issuer = subject, no chain).
    SelfSigned,
    /// Chains to a second root that is never written out (untrusted issuer).
    UnknownIssuer,
    /// Leaf signed by the intermediate, but only the leaf is sent.
    IncompleteChain,
    /// As [`CertDefect::IncompleteChain`], and the leaf's AIA caIssuers URL serves the
    /// intermediate ([`crate::aia::AiaHost::Intermediate`]).
    AiaIncompleteChain,
    /// As [`CertDefect::IncompleteChain`], and the leaf's AIA URL is a tarpit
    /// ([`crate::aia::AiaHost::Tarpit`]).
    AiaTarpit,
    /// Leaf only, signed by loop CA A, whose AIA URL ([`crate::aia::AiaHost::LoopA`]) serves
    /// A; A's AIA serves B, B's serves A: no path to any root.
    AiaLoop,
}

/// An HTTPS site (the `mta-sts.<domain>` policy host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpsSite {
    /// Accept and reset at once without a byte (scanner: fetch error `connect`).
    Reset,
    /// Serve over TLS with `cert`, after waiting `rtt` before each write.
    Serve {
        rtt: Duration,
        cert: CertSpec,
        response: HttpResponse,
    },
}

/// The reply to `GET /.well-known/mta-sts.txt` (any other path: 404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpResponse {
    /// `200 OK` with this Content-Type (None: header omitted) and body.
    Body {
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// This status (e.g. 404, 500) with a short HTML body.
    Status(u16),
    /// `301 Moved Permanently` with this Location.
    Redirect(String),
    /// `200 OK`, `text/plain`, and a body of this many bytes (streamed, never held in memory;
    /// the world uses sizes above the 64 KiB cap).
    Oversized(u64),
    /// Send the status line and headers one byte per second, forever (slowloris).
    Slowloris,
}
