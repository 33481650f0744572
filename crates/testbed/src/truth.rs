//! Ground truth: the scan result a correct scanner must produce for a domain.
//!
//! [`World::expected`] resolves the domain through the same DNS model the DNS server
//! answers from ([`World::query`]), asks the same [`Behaviours`] the servers ask for each
//! address, and derives each column from those *behaviours* (not from scenario names), so
//! truth and servers cannot drift apart. Column names and vocabularies are those of
//! docs/schema.md (domains and mx tables). Conventions shared with the scanner (fixed):
//!
//! * `dns_status` is about the domain's MX lookup and its A/AAAA fallback. A null MX
//!   (RFC 7505) is `ok` + `null_mx` with no `mx_hosts` and no mx rows.
//! * mx rows: one per (exchange, IPv4 address), exchanges in preference order, ties by name.
//!   An exchange that does not resolve has no rows, stays in `mx_hosts` and is listed in
//!   `mx_unresolved`. An implicit MX is the domain itself with preference 0.
//! * `_mta-sts` and `_smtp._tls` TXT records are looked up for every domain, whatever its
//!   `dns_status`.
//! * `smtp_status` uses the `probes.status` vocabulary; `ok` means TLS was established
//!   (including hosts that inject bytes after STARTTLS or delay their greeting). A private
//!   address is `blocked` (never contacted). An EHLO reply of ≥ 64 KiB is `protocol_error`
//!   (the scanner's reply cap).
//! * The TLS columns of the address's probes row, carried on each mx row (the probe is
//!   per address, so every row of one address carries the same values): `tls_max_version`
//!   is `TLSv1.3` after a completed rustls handshake (the scanner's client offers 1.3), the
//!   version a legacy host speaks when it answers the legacy hello, null when no ServerHello
//!   comes; `tls_failure` is set for `tls_failed` (`tls_alert`: `no_shared_cipher`, the
//!   alert being handshake_failure; `tls_garbage`: `not_tls`), `modern_tls_failure` for
//!   `tls_legacy` (`protocol_version` below TLS 1.2, `no_shared_cipher` for TLS 1.2 without
//!   a modern suite); `legacy_hello`: the scanner makes its one extra connection, exactly
//!   when the modern failure is `protocol_version`, `no_shared_cipher` or `alert`.
//! * `mx.starttls`: null unless an EHLO 250 reply was received; then whether STARTTLS was
//!   advertised (hosts answering 454/502 did advertise it). `mx.cert_status`: null unless
//!   the handshake completed; then the verdict for the row's exchange name with precedence
//!   `self_signed > untrusted_issuer > incomplete_chain > expired > not_yet_valid >
//!   name_mismatch` (a defect wins over a name mismatch). Dedicated hosts present a
//!   certificate for the SNI the scanner sends, which is assumed to be the exchange name.
//!   Whether a chain sent without its intermediate is `incomplete_chain` or
//!   `untrusted_issuer` depends on the trust the scan is given ([`ScanTrust`], an explicit
//!   input: [`World::expected_with`]; [`World::expected`] assumes the tests' default, the
//!   root and intermediate bundle with AIA on); `chain_completed` (of the probes row) is
//!   true exactly when that name-independent verdict is `incomplete_chain`.
//! * `starttls` / `cert_valid` aggregate the non-null values of the domain's rows:
//!   `all`/`some`/`none`, `untested` when there are rows but no non-null value, `no_mx`
//!   when there are no rows.
//! * Policy fetch (RFC 8461 §3.3) only when `sts_record = valid`; certificate problems of
//!   the policy host map to `tls_untrusted` (self-signed, unknown issuer, incomplete
//!   chain), `tls_expired`, `tls_name_mismatch`, `tls_other` (not yet valid);
//!   `sts_http_status` is the status line received (200 also for `too_large`).
//! * `sts_deviations` = record deviations + policy deviations + content-type deviation.
//!   `sts_mx_unmatched` (every exchange, resolved or not, that no pattern covers) and
//!   `mx.sts_match` only when `sts_policy = ok` (matching: `mxscan_policy::matches_any`).
//!   `sts_delivery` is `mxscan_policy::delivery` over `mxscan_policy::mx_outcome` of every
//!   mx row (RFC 8461 §5, policy.md §5); `no_policy` unless `sts_policy = ok`.
//! * `sts_id` is set only when `sts_record = valid` (the policy crate also reports the id of
//!   a single invalid record; the column does not).
//! * `ambiguous` (mx rows, only from [`truth_for_list`]): two different exchange names of
//!   the list resolve to one dedicated address. Such a host presents a certificate for
//!   whichever SNI the scanner picked, so `cert_status` cannot be predicted for both names;
//!   consumers should not compare `cert_status` (nor aggregates built on it) on such rows.
//!   Lists from `names::synthetic_domains` never contain such collisions.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use mxscan_model::{
    CertStatus, Coverage, Delivery, Deviation, DnsStatus, FetchError, Mode, MxOutcome,
    PolicyStatus, ProbeStatus, RecordStatus, TlsFailure, TlsVersion, TxtStatus, mx_outcome,
};
use serde::Serialize;

use crate::addr::{self, AddrKind};
use crate::behaviour::{
    Behaviours, CertDefect, CertNames, CertSpec, EhloReply, HttpResponse, HttpsSite, SmtpHost,
    SmtpScript, StarttlsReply, TlsBehaviour,
};
use crate::hash::stable_hash;
use crate::scenario::{DomainScenario, SmtpClass};
use crate::sts::{self, ExpectedRecord};
use crate::world::{Lookup, QType, Rcode, RrData, World};

/// The scanner's cap on one SMTP reply (a larger EHLO reply is a `protocol_error`).
pub const REPLY_CAP_BYTES: usize = 64 * 1024;
/// The scanner's cap on a policy body (RFC 8461 §3.3 practice).
pub const POLICY_CAP_BYTES: u64 = 64 * 1024;

/// Scenario names of a domain, as reported in the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioNames {
    /// DNS scenario.
    pub dns: &'static str,
    /// MTA-STS scenario.
    pub sts: &'static str,
    /// TLS-RPT scenario.
    pub tlsrpt: &'static str,
    /// The domain's name is a host of its parent's MX plan, so the DNS answers it as that
    /// host (see `world` module docs); `dns` is then not what the DNS shows.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadowed: bool,
}

/// The trust a scan is given, which the certificate columns depend on (module docs).
/// The default is what the tests' scans have always been given: the CA bundle (root and
/// intermediate) as `--trust-anchor`, and AIA fetching reaching the testbed's AIA server
/// (`--http-port`; without it the fetches fail, and only `aia` matters for hosts the pool
/// does not complete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanTrust {
    /// The testbed intermediate is in the scanner's pool (`--trust-anchor` with the bundle,
    /// or `--intermediates`): every chain it signed completes without a fetch.
    pub intermediate_known: bool,
    /// The scanner follows AIA caIssuers URLs (no `--no-aia`) to the testbed's AIA server.
    pub aia: bool,
}

impl Default for ScanTrust {
    fn default() -> Self {
        ScanTrust {
            intermediate_known: true,
            aia: true,
        }
    }
}

impl ScanTrust {
    /// The root alone as `--trust-anchor`, AIA on.
    pub const ROOT_ONLY: ScanTrust = ScanTrust {
        intermediate_known: false,
        aia: true,
    };
}

/// Expected mx row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MxTruth {
    /// Exchange (or the domain for an implicit MX).
    pub exchange: String,
    /// Preference.
    pub preference: u16,
    /// IPv4 address.
    pub address: String,
    /// Never contacted (private address).
    pub blocked: bool,
    /// probes.status vocabulary.
    pub smtp_status: ProbeStatus,
    /// STARTTLS advertised (null without an EHLO 250 reply).
    pub starttls: Option<bool>,
    /// Certificate verdict for this exchange name (null without a completed handshake).
    pub cert_status: Option<CertStatus>,
    /// probes.tls_max_version of the address (null when no ServerHello is expected).
    pub tls_max_version: Option<TlsVersion>,
    /// probes.tls_failure (only when `smtp_status` is `tls_failed`).
    pub tls_failure: Option<TlsFailure>,
    /// probes.modern_tls_failure (only when `smtp_status` is `tls_legacy`).
    pub modern_tls_failure: Option<TlsFailure>,
    /// The scanner makes its one legacy hello to this address (a second connection).
    pub legacy_hello: bool,
    /// probes.chain_completed of the address: null without a judged chain, then whether
    /// the name-independent verdict is `incomplete_chain` (a path through an intermediate
    /// the server did not send: from the pool or fetched through AIA).
    pub chain_completed: Option<bool>,
    /// Covered by the domain's policy patterns (null unless sts_policy = ok).
    pub sts_match: Option<bool>,
    /// Dedicated address shared by two names of the list (see module docs).
    pub ambiguous: bool,
    /// The host's SMTP class (null for private addresses).
    pub scenario: Option<&'static str>,
}

/// Expected domains row (plus its mx rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainTruth {
    /// Normalised domain.
    pub domain: String,
    /// Scenario names.
    pub scenario: ScenarioNames,
    /// ok, nxdomain, no_mail_host, servfail, refused, timeout, error.
    pub dns_status: DnsStatus,
    /// RFC 7505 null MX.
    pub null_mx: bool,
    /// Implicit MX.
    pub implicit_mx: bool,
    /// Exchanges in preference order.
    pub mx_hosts: Vec<String>,
    /// Exchanges that did not resolve.
    pub mx_unresolved: Vec<String>,
    /// all, some, none, untested, no_mx.
    pub starttls: Coverage,
    /// all, some, none, untested, no_mx.
    pub cert_valid: Coverage,
    /// none, valid, invalid, multiple, dns_error.
    pub sts_record: TxtStatus,
    /// The record's id (valid records only).
    pub sts_id: Option<String>,
    /// not_fetched, ok, fetch_error, invalid.
    pub sts_policy: PolicyStatus,
    /// Fetch error vocabulary.
    pub sts_fetch_error: Option<FetchError>,
    /// HTTP status received.
    pub sts_http_status: Option<u16>,
    /// enforce, testing, none.
    pub sts_mode: Option<Mode>,
    /// max_age.
    pub sts_max_age: Option<u64>,
    /// Policy patterns.
    pub sts_mx: Vec<String>,
    /// Record + policy + content-type deviations.
    pub sts_deviations: Vec<Deviation>,
    /// Exchanges no pattern covers (sts_policy = ok only).
    pub sts_mx_unmatched: Vec<String>,
    /// no_policy, ok, would_fail, untested.
    pub sts_delivery: Delivery,
    /// none, valid, invalid, multiple, dns_error.
    pub tlsrpt_record: TxtStatus,
    /// rua URIs of a valid record.
    pub tlsrpt_rua: Vec<String>,
    /// mx rows.
    pub mx: Vec<MxTruth>,
}

/// `mx_matches` of RFC 8461 §4.1 and the dNSName rule of RFC 6125 §6.4.3 (which agree for
/// our names): case-insensitive, `*.` matches exactly one left-most label.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

/// What a correct probe of one host yields: the contract columns of its probes row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTruth<'a> {
    /// probes.status.
    pub status: ProbeStatus,
    /// STARTTLS advertised (null without an EHLO 250 reply).
    pub starttls: Option<bool>,
    /// The certificate presented in a handshake the scanner completes or reads
    /// (`ok`, `tls_legacy`).
    pub cert: Option<&'a CertSpec>,
    /// probes.tls_max_version.
    pub tls_max_version: Option<TlsVersion>,
    /// probes.tls_failure.
    pub tls_failure: Option<TlsFailure>,
    /// probes.modern_tls_failure.
    pub modern_tls_failure: Option<TlsFailure>,
    /// One legacy hello (a second connection) follows the modern handshake.
    pub legacy_hello: bool,
}

impl<'a> ProbeTruth<'a> {
    /// A probe that ends before TLS.
    fn plain(status: ProbeStatus, starttls: Option<bool>) -> ProbeTruth<'a> {
        ProbeTruth {
            status,
            starttls,
            cert: None,
            tls_max_version: None,
            tls_failure: None,
            modern_tls_failure: None,
            legacy_hello: false,
        }
    }

    /// The same probe by a scanner run with `--no-legacy-hello`: what the modern handshake
    /// alone shows (a legacy host is `tls_failed` with its modern failure).
    pub fn without_legacy_hello(self) -> ProbeTruth<'a> {
        if !self.legacy_hello {
            return self;
        }
        ProbeTruth {
            status: ProbeStatus::TlsFailed,
            cert: None,
            tls_max_version: None,
            tls_failure: self.modern_tls_failure.or(self.tls_failure),
            modern_tls_failure: None,
            legacy_hello: false,
            ..self
        }
    }
}

/// Whether the scanner follows a modern handshake that failed this way with a legacy hello
/// (the failures that say "the server speaks TLS, but nothing a modern client accepts").
fn legacy_hello_after(failure: TlsFailure) -> bool {
    matches!(
        failure,
        TlsFailure::ProtocolVersion | TlsFailure::NoSharedCipher | TlsFailure::Alert
    )
}

/// What a correct probe of `host` yields (module docs).
pub fn expected_probe(host: &SmtpHost) -> ProbeTruth<'_> {
    let plain = ProbeTruth::plain;
    match &host.script {
        SmtpScript::Reset | SmtpScript::Close => plain(ProbeStatus::ClosedBeforeGreeting, None),
        SmtpScript::Tarpit => plain(ProbeStatus::GreetingTimeout, None),
        SmtpScript::Greeting421 => plain(ProbeStatus::Greeting421, None),
        SmtpScript::Greeting554 => plain(ProbeStatus::GreetingRejected, None),
        SmtpScript::Conversation(c) => match c.ehlo {
            EhloReply::Rejected => plain(ProbeStatus::EhloRejected, None),
            EhloReply::Drop => plain(ProbeStatus::IoError, None),
            EhloReply::Ok { padding_bytes, .. } if padding_bytes >= REPLY_CAP_BYTES => {
                plain(ProbeStatus::ProtocolError, None)
            }
            EhloReply::Ok {
                starttls: false, ..
            } => plain(ProbeStatus::NoStarttls, Some(false)),
            EhloReply::Ok { starttls: true, .. } => match c.starttls {
                StarttlsReply::Unavailable454 | StarttlsReply::NotImplemented502 => {
                    plain(ProbeStatus::StarttlsRejected, Some(true))
                }
                StarttlsReply::Ready => expected_tls(&c.tls),
            },
        },
    }
}

/// The probe of a host that accepted STARTTLS and then behaves as `tls` says.
fn expected_tls(tls: &TlsBehaviour) -> ProbeTruth<'_> {
    let started = ProbeTruth::plain(ProbeStatus::TlsFailed, Some(true));
    match tls {
        TlsBehaviour::Garbage => ProbeTruth {
            tls_failure: Some(TlsFailure::NotTls),
            ..started
        },
        // A fatal handshake_failure alert to every ClientHello, the legacy one included.
        TlsBehaviour::Alert => ProbeTruth {
            tls_failure: Some(TlsFailure::NoSharedCipher),
            legacy_hello: legacy_hello_after(TlsFailure::NoSharedCipher),
            ..started
        },
        // rustls on both sides: TLS 1.3.
        TlsBehaviour::Handshake(spec) | TlsBehaviour::Tls13Only(spec) => ProbeTruth {
            status: ProbeStatus::Ok,
            cert: Some(spec),
            tls_max_version: Some(TlsVersion::Tls13),
            ..started
        },
        TlsBehaviour::Legacy(spec, kind) => {
            // The modern client speaks TLS 1.2 and 1.3 with ECDHE + AEAD suites only: a
            // server below 1.2 refuses the version, a TLS 1.2 server with only static-RSA
            // or CBC suites finds no suite in common.
            let modern = if kind.version() < 0x0303 {
                TlsFailure::ProtocolVersion
            } else {
                TlsFailure::NoSharedCipher
            };
            ProbeTruth {
                status: ProbeStatus::TlsLegacy,
                cert: Some(spec),
                tls_max_version: TlsVersion::from_wire(kind.version()),
                modern_tls_failure: Some(modern),
                legacy_hello: legacy_hello_after(modern),
                ..started
            }
        }
    }
}

/// The verdict for a certificate judged for `name`, the client having sent SNI `name`
/// (precedence in the module docs), by a scan given the default [`ScanTrust`].
pub fn cert_verdict(spec: &CertSpec, name: &str) -> CertStatus {
    cert_verdict_with(spec, name, ScanTrust::default())
}

/// The name-independent verdict of a chain with `defect` under `trust` (None: no defect,
/// the verdict depends on the name). A chain the intermediate signed but the server sent
/// without it is `incomplete_chain` when the pool holds the intermediate, or when AIA is
/// followed and the leaf's URL serves it; otherwise nothing leads to the root:
/// `untrusted_issuer`. The AIA loop never reaches a root.
pub fn chain_verdict(defect: CertDefect, trust: ScanTrust) -> Option<CertStatus> {
    let completes = |fetched: bool| {
        if trust.intermediate_known || fetched {
            CertStatus::IncompleteChain
        } else {
            CertStatus::UntrustedIssuer
        }
    };
    Some(match defect {
        CertDefect::None => return None,
        CertDefect::SelfSigned => CertStatus::SelfSigned,
        CertDefect::UnknownIssuer | CertDefect::AiaLoop => CertStatus::UntrustedIssuer,
        CertDefect::IncompleteChain | CertDefect::AiaTarpit => completes(false),
        CertDefect::AiaIncompleteChain => completes(trust.aia),
        CertDefect::Expired => CertStatus::Expired,
        CertDefect::NotYetValid => CertStatus::NotYetValid,
    })
}

/// [`cert_verdict`] by a scan given `trust`.
pub fn cert_verdict_with(spec: &CertSpec, name: &str, trust: ScanTrust) -> CertStatus {
    match chain_verdict(spec.defect, trust) {
        Some(status) => status,
        None => match &spec.names {
            CertNames::Sni { .. } => CertStatus::Valid,
            CertNames::Fixed(names) => {
                if names.iter().any(|n| name_matches(n, name)) {
                    CertStatus::Valid
                } else {
                    CertStatus::NameMismatch
                }
            }
        },
    }
}

fn aggregate(values: impl Iterator<Item = Option<bool>>, any_rows: bool) -> Coverage {
    if !any_rows {
        return Coverage::NoMx;
    }
    let (mut yes, mut no) = (0, 0);
    for v in values.flatten() {
        if v {
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

/// The fetch of a domain's policy, as a correct fetcher sees it.
struct FetchTruth {
    policy: PolicyStatus,
    error: Option<FetchError>,
    http_status: Option<u16>,
    doc: Option<sts::PolicyDoc>,
}

fn fetch_error(error: FetchError, http_status: Option<u16>) -> FetchTruth {
    FetchTruth {
        policy: PolicyStatus::FetchError,
        error: Some(error),
        http_status,
        doc: None,
    }
}

impl World {
    fn expected_fetch(&self, domain: &str, scenario: &DomainScenario) -> FetchTruth {
        let host = format!("mta-sts.{domain}");
        let addrs = match self.query(&host, QType::A) {
            Lookup::NoReply => return fetch_error(FetchError::Dns, None),
            l @ Lookup::Answer { .. } => l.addresses(),
        };
        let Some(addr) = addrs.first() else {
            return fetch_error(FetchError::Dns, None);
        };
        let (cert, response) = match self.https_site(*addr, Some(&host)) {
            HttpsSite::Reset => return fetch_error(FetchError::Connect, None),
            HttpsSite::Serve { cert, response, .. } => (cert, response),
        };
        match cert_verdict(&cert, &host) {
            CertStatus::Valid => {}
            CertStatus::Expired => return fetch_error(FetchError::TlsExpired, None),
            CertStatus::NameMismatch => return fetch_error(FetchError::TlsNameMismatch, None),
            CertStatus::NotYetValid => return fetch_error(FetchError::TlsOther, None),
            _ => return fetch_error(FetchError::TlsUntrusted, None),
        }
        match response {
            HttpResponse::Status(code) => fetch_error(FetchError::HttpStatus, Some(code)),
            HttpResponse::Redirect(_) => fetch_error(FetchError::Redirect, Some(301)),
            HttpResponse::Slowloris => fetch_error(FetchError::Timeout, None),
            HttpResponse::Oversized(n) if n > POLICY_CAP_BYTES => {
                fetch_error(FetchError::TooLarge, Some(200))
            }
            HttpResponse::Oversized(_) => fetch_error(FetchError::Io, Some(200)),
            HttpResponse::Body { .. } => {
                let doc = sts::policy_doc(self, domain, scenario.sts);
                FetchTruth {
                    policy: if doc.expected.valid {
                        PolicyStatus::Ok
                    } else {
                        PolicyStatus::Invalid
                    },
                    error: None,
                    http_status: Some(200),
                    doc: Some(doc),
                }
            }
        }
    }

    /// The class of the host at an address (None: not a served SMTP host).
    fn class_at(&self, addr: Ipv4Addr) -> Option<SmtpClass> {
        match addr::classify(addr) {
            AddrKind::Dedicated(class) => Some(class),
            AddrKind::Shared { provider, host } => {
                self.shared_host(provider, host).map(|(c, _, _)| c)
            }
            _ => None,
        }
    }

    /// The leaf certificate a correct probe of `addr` receives when it sends SNI `sni`, as an
    /// identity (names, defect, renewal count): within one running testbed, equal values at
    /// two epochs are the same certificate, since the CA issues each of them once. None
    /// when no TLS handshake completes (or the address is not served).
    pub fn expected_leaf(&self, addr: Ipv4Addr, sni: &str) -> Option<String> {
        if !addr::is_served(addr) {
            return None;
        }
        let host = self.smtp_host(addr);
        let spec = expected_probe(&host).cert?;
        let names = crate::ca::Ca::resolve_names(&spec.names, Some(sni));
        // The key type is part of the identity: a static-RSA or CBC host presents an RSA
        // leaf, and the same names on an ECDSA host (after it drifted to another class) are
        // another certificate.
        let key = match &host.script {
            crate::behaviour::SmtpScript::Conversation(c) => match &c.tls {
                crate::behaviour::TlsBehaviour::Legacy(_, kind) => {
                    crate::legacy_tls::key_type(*kind)
                }
                _ => crate::behaviour::KeyType::Ecdsa,
            },
            _ => crate::behaviour::KeyType::Ecdsa,
        };
        Some(format!(
            "{}|{:?}|{}|{key:?}",
            names.join(","),
            spec.defect,
            self.cert_renewal(addr, Some(sni))
        ))
    }

    fn txt_record(
        &self,
        name: &str,
        expected: impl FnOnce() -> ExpectedRecord,
    ) -> Result<ExpectedRecord, ()> {
        match self.query(name, QType::Txt) {
            Lookup::NoReply
            | Lookup::Answer {
                rcode: Rcode::ServFail,
                ..
            } => Err(()),
            Lookup::Answer { answers, .. } if answers.is_empty() => Ok(ExpectedRecord {
                status: RecordStatus::None,
                id: None,
                rua: Vec::new(),
                deviations: Vec::new(),
            }),
            Lookup::Answer { .. } => Ok(expected()),
        }
    }

    /// The ground truth of one domain (see module docs) for a scan given the default
    /// [`ScanTrust`]. `domain` is normalised (lowercased, trailing dot removed) first.
    pub fn expected(&self, domain: &str) -> DomainTruth {
        self.expected_with(domain, ScanTrust::default())
    }

    /// [`World::expected`] for a scan given `trust`.
    pub fn expected_with(&self, domain: &str, trust: ScanTrust) -> DomainTruth {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let domain = domain.as_str();
        let sc = self.scenario(domain);
        let shadowed = self.is_shadowed(domain);

        // MX lookup (RFC 5321 §5.1) and A/AAAA fallback.
        let mut dns_status = DnsStatus::Ok;
        let mut null_mx = false;
        let mut implicit_mx = false;
        let mut exchanges: Vec<(u16, String)> = Vec::new();
        let fail = |l: &Lookup| -> Option<DnsStatus> {
            match l {
                Lookup::NoReply => Some(DnsStatus::Timeout),
                Lookup::Answer {
                    rcode: Rcode::ServFail,
                    ..
                } => Some(DnsStatus::ServFail),
                Lookup::Answer {
                    rcode: Rcode::NxDomain,
                    ..
                } => Some(DnsStatus::NxDomain),
                Lookup::Answer { .. } => None,
            }
        };
        let mx_answer = self.query(domain, QType::Mx);
        if let Some(status) = fail(&mx_answer) {
            dns_status = status;
        } else if let Lookup::Answer { answers, .. } = &mx_answer {
            for rr in answers {
                if let RrData::Mx(pref, ex) = &rr.data {
                    exchanges.push((*pref, ex.clone()));
                }
            }
            exchanges.sort();
            if exchanges.len() == 1 && exchanges[0].1.is_empty() {
                null_mx = true;
                exchanges.clear();
            } else if exchanges.is_empty() {
                let a = self.query(domain, QType::A);
                if let Some(status) = fail(&a) {
                    dns_status = status;
                } else if a.addresses().is_empty() {
                    dns_status = DnsStatus::NoMailHost;
                } else {
                    implicit_mx = true;
                    exchanges.push((0, domain.to_owned()));
                }
            }
        }

        // mx rows.
        let mut mx_rows = Vec::new();
        let mut mx_unresolved = Vec::new();
        for (pref, ex) in &exchanges {
            let addrs = self.query(ex, QType::A).addresses();
            if addrs.is_empty() {
                mx_unresolved.push(ex.clone());
            }
            for a in addrs {
                let blocked = !addr::is_served(a);
                let host = (!blocked).then(|| self.smtp_host(a));
                let probe = match &host {
                    None => ProbeTruth::plain(ProbeStatus::Blocked, None),
                    Some(host) => expected_probe(host),
                };
                mx_rows.push(MxTruth {
                    exchange: ex.clone(),
                    preference: *pref,
                    address: a.to_string(),
                    blocked,
                    smtp_status: probe.status,
                    starttls: probe.starttls,
                    cert_status: probe.cert.map(|c| cert_verdict_with(c, ex, trust)),
                    tls_max_version: probe.tls_max_version,
                    tls_failure: probe.tls_failure,
                    modern_tls_failure: probe.modern_tls_failure,
                    legacy_hello: probe.legacy_hello,
                    chain_completed: probe.cert.map(|c| {
                        chain_verdict(c.defect, trust) == Some(CertStatus::IncompleteChain)
                    }),
                    sts_match: None,
                    ambiguous: false,
                    scenario: if blocked {
                        None
                    } else {
                        self.class_at(a).map(|c| c.as_str())
                    },
                });
            }
        }
        let mx_hosts: Vec<String> = exchanges.iter().map(|(_, e)| e.clone()).collect();
        let any_rows = !mx_rows.is_empty();
        let starttls = aggregate(mx_rows.iter().map(|r| r.starttls), any_rows);
        let cert_valid = aggregate(
            mx_rows
                .iter()
                .map(|r| r.cert_status.map(|c| c == CertStatus::Valid)),
            any_rows,
        );

        // MTA-STS (RFC 8461 §3).
        let mut t = DomainTruth {
            domain: domain.to_owned(),
            scenario: ScenarioNames {
                dns: sc.dns.as_str(),
                sts: sc.sts.as_str(),
                tlsrpt: sc.tlsrpt.as_str(),
                shadowed,
            },
            dns_status,
            null_mx,
            implicit_mx,
            mx_hosts,
            mx_unresolved,
            starttls,
            cert_valid,
            sts_record: TxtStatus::None,
            sts_id: None,
            sts_policy: PolicyStatus::NotFetched,
            sts_fetch_error: None,
            sts_http_status: None,
            sts_mode: None,
            sts_max_age: None,
            sts_mx: Vec::new(),
            sts_deviations: Vec::new(),
            sts_mx_unmatched: Vec::new(),
            sts_delivery: Delivery::NoPolicy,
            tlsrpt_record: TxtStatus::None,
            tlsrpt_rua: Vec::new(),
            mx: mx_rows,
        };
        match self.txt_record(&format!("_mta-sts.{domain}"), || {
            sts::expected_sts_record(self, domain, sc.sts)
        }) {
            Err(()) => t.sts_record = TxtStatus::DnsError,
            Ok(rec) => {
                t.sts_record = rec.status.into();
                t.sts_id = rec.id;
                t.sts_deviations = rec.deviations;
            }
        }
        if t.sts_record == TxtStatus::Valid {
            let fetch = self.expected_fetch(domain, &sc);
            t.sts_policy = fetch.policy;
            t.sts_fetch_error = fetch.error;
            t.sts_http_status = fetch.http_status;
            if let Some(doc) = fetch.doc {
                let e = &doc.expected;
                t.sts_mode = e.mode;
                t.sts_max_age = e.max_age;
                t.sts_mx = e.mx.clone();
                t.sts_deviations.extend(e.deviations.iter().copied());
                let plain = doc.content_type.as_deref().is_some_and(|ct| {
                    ct.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .eq_ignore_ascii_case("text/plain")
                });
                if !plain {
                    t.sts_deviations.push(Deviation::ContentTypeNotTextPlain);
                }
                if e.valid {
                    let covered = |ex: &str| mxscan_policy::matches_any(&e.mx, ex);
                    t.sts_mx_unmatched = t
                        .mx_hosts
                        .iter()
                        .filter(|ex| !covered(ex))
                        .cloned()
                        .collect();
                    for row in &mut t.mx {
                        row.sts_match = Some(covered(&row.exchange));
                    }
                    let outcomes: Vec<(&str, MxOutcome)> =
                        t.mx.iter()
                            .map(|r| {
                                let o = mx_outcome(r.smtp_status, r.cert_status);
                                (r.exchange.as_str(), o)
                            })
                            .collect();
                    let mode = e.mode.unwrap_or(Mode::None);
                    t.sts_delivery = mxscan_policy::delivery(mode, &e.mx, &outcomes);
                }
            }
        }

        // TLS-RPT (RFC 8460 §3).
        match self.txt_record(&format!("_smtp._tls.{domain}"), || {
            sts::expected_tlsrpt_record(domain, sc.tlsrpt)
        }) {
            Err(()) => t.tlsrpt_record = TxtStatus::DnsError,
            Ok(rec) => {
                t.tlsrpt_record = rec.status.into();
                t.tlsrpt_rua = rec.rua;
            }
        }
        t
    }
}

/// The truth for every domain of a list, in order, with `ambiguous` set on mx rows whose
/// dedicated address is shared by two different exchange names of the list (two passes;
/// memory proportional to the dedicated addresses of the list).
pub fn truth_for_list<'a, S: AsRef<str>>(
    world: &'a World,
    domains: &'a [S],
) -> impl Iterator<Item = DomainTruth> + 'a {
    truth_for_list_with(world, domains, ScanTrust::default())
}

/// [`truth_for_list`] for a scan given `trust`.
pub fn truth_for_list_with<'a, S: AsRef<str>>(
    world: &'a World,
    domains: &'a [S],
    trust: ScanTrust,
) -> impl Iterator<Item = DomainTruth> + 'a {
    let mut first: HashMap<Ipv4Addr, u64> = HashMap::new();
    let mut collided: HashSet<Ipv4Addr> = HashSet::new();
    for d in domains {
        for row in world.expected(d.as_ref()).mx {
            let Ok(a) = row.address.parse::<Ipv4Addr>() else {
                continue;
            };
            if !addr::is_dedicated(a) {
                continue;
            }
            let h = stable_hash(0, "exchange", &row.exchange);
            match first.get(&a) {
                None => {
                    first.insert(a, h);
                }
                Some(&prev) if prev != h => {
                    collided.insert(a);
                }
                Some(_) => {}
            }
        }
    }
    drop(first);
    domains.iter().map(move |d| {
        let mut t = world.expected_with(d.as_ref(), trust);
        for row in &mut t.mx {
            if let Ok(a) = row.address.parse::<Ipv4Addr>() {
                row.ambiguous = collided.contains(&a);
            }
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matching_table() {
        let cases = [
            ("mx.example.com", "mx.example.com", true),
            ("MX.Example.com", "mx.example.com.", true),
            ("*.example.com", "mx.example.com", true),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "example.com", false),
            ("*example.com", "mxexample.com", false),
            ("mx.example.com", "mx2.example.com", false),
        ];
        for (p, h, want) in cases {
            assert_eq!(name_matches(p, h), want, "{p} {h}");
        }
    }

    #[test]
    fn cert_precedence() {
        let fixed = |defect| CertSpec {
            names: CertNames::Fixed(vec!["other.test".into()]),
            defect,
        };
        assert_eq!(
            cert_verdict(&fixed(CertDefect::Expired), "mx.d.test"),
            "expired"
        );
        assert_eq!(
            cert_verdict(&fixed(CertDefect::None), "mx.d.test"),
            "name_mismatch"
        );
        assert_eq!(
            cert_verdict(&fixed(CertDefect::SelfSigned), "mx.d.test"),
            "self_signed"
        );
        let sni = CertSpec {
            names: CertNames::Sni {
                fallback: "x".into(),
            },
            defect: CertDefect::None,
        };
        assert_eq!(cert_verdict(&sni, "mx.d.test"), "valid");
    }
}
