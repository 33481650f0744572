//! The scenario catalogue: every situation the simulated mail internet can put a scanner in.
//!
//! A domain's scenario is a value of four independent dimensions, each a closed vocabulary
//! with stable snake_case names (used in docs, tests and the `"scenario"` fields of the
//! ground truth):
//!
//! * [`DnsScenario`] — how the domain's MX lookup goes and which MX layout it has;
//! * [`SmtpClass`] — the behaviour of one SMTP host (per MX host, encoded in its address);
//! * [`StsScenario`] — the MTA-STS setup (`_mta-sts` TXT, `mta-sts.<domain>` HTTPS site, policy);
//! * [`TlsRptScenario`] — the `_smtp._tls` TXT record.
//!
//! Two combinations are made coherent on purpose (see [`crate::world::World::scenario`]):
//! a domain whose DNS scenario is `nxdomain` publishes nothing (`sts` and `tlsrpt` become
//! `none`: nothing exists below a name that does not exist, RFC 8020), and the STS scenario
//! `enforce_mx_insecure` forces the DNS scenario `mx_dedicated` with insecure host classes only.
//!
//! # DNS scenarios (`dns`)
//!
//! | name | what the DNS says | expected `dns_status` |
//! |---|---|---|
//! | `nxdomain` | NXDOMAIN for the domain (and everything below it) | `nxdomain` |
//! | `servfail` | SERVFAIL for every query at the domain's apex | `servfail` |
//! | `timeout` | the server never answers queries at the apex | `timeout` |
//! | `no_mail_host` | the name exists: no MX, no A, no AAAA (NODATA) | `no_mail_host` |
//! | `null_mx` | `MX 0 .` (RFC 7505) | `ok`, `null_mx` |
//! | `implicit_mx` | no MX, an A record on a dedicated host (RFC 5321 §5.1) | `ok`, `implicit_mx` |
//! | `mx_dedicated` | 1–3 `mxN.<domain>` hosts of their own (cert for the SNI name) | `ok` |
//! | `mx_multi_pref` | 3 MX with preferences 10/20/30: one broken, one good, one any | `ok` |
//! | `mx_unresolved` | `mx1.<domain>` is NXDOMAIN (sometimes plus a working `mx2`) | `ok` |
//! | `mx_private` | `mx1.<domain>` → 10/8, 172.16/12 or 192.168/16 (sometimes plus `mx2`) | `ok`, row `blocked` |
//! | `mx_cname` | `mx1.<domain>` CNAME `in1.<domain>` A … (sometimes plus `mx2`) | `ok` |
//! | `mx_big_provider` | MX at one of 4 big providers (`bigmailN.test`, cert valid for their names) | `ok` |
//! | `mx_hoster_shared` | `mail.<domain>` / `mx.<domain>` → a hoster's shared address (cert for the hoster's names: `name_mismatch`) | `ok` |
//! | `mx_hoster_named` | `<domain-with-dashes>.mx.hosterN.test` (covered by the hoster's wildcard cert) | `ok` |
//!
//! # SMTP host classes (`smtp`)
//!
//! | name | behaviour | expected `smtp_status` / `starttls` / `cert_status` |
//! |---|---|---|
//! | `starttls_valid` | STARTTLS, good chain | `ok` / true / `valid` |
//! | `cert_expired` | leaf expired | `ok` / true / `expired` |
//! | `cert_not_yet_valid` | leaf not yet valid | `ok` / true / `not_yet_valid` |
//! | `cert_wrong_name` | leaf for `wrong-name.testbed.test` | `ok` / true / `name_mismatch` |
//! | `cert_self_signed` | self-signed leaf | `ok` / true / `self_signed` |
//! | `cert_unknown_issuer` | chains to a root nobody trusts | `ok` / true / `untrusted_issuer` |
//! | `cert_incomplete_chain` | intermediate not sent, no AIA in the leaf | `ok` / true / `incomplete_chain` (root-only trust: `untrusted_issuer`) |
//! | `no_starttls` | EHLO without STARTTLS | `no_starttls` / false / null |
//! | `starttls_454` | advertises STARTTLS, answers 454 | `starttls_rejected` / true / null |
//! | `starttls_502` | advertises STARTTLS, answers 502 | `starttls_rejected` / true / null |
//! | `tls_garbage` | 220, then non-TLS bytes | `tls_failed` / true / null |
//! | `tls_alert` | 220, then a fatal handshake_failure alert | `tls_failed` / true / null |
//! | `greeting_421` | `421` greeting | `greeting_421` / null / null |
//! | `greeting_554` | `554` greeting | `greeting_rejected` / null / null |
//! | `ehlo_rejected` | `550` to EHLO | `ehlo_rejected` / null / null |
//! | `multiline` | multi-line greeting (and EHLO), otherwise good | `ok` / true / `valid` |
//! | `greet_delay` | greeting after [`crate::world::WorldConfig::greet_delay`] (6 s) | `ok` / true / `valid` |
//! | `tarpit` | accepts, never speaks | `greeting_timeout` / null / null |
//! | `reset` | accepts and resets at once | `closed_before_greeting` / null / null |
//! | `starttls_injection` | bytes after the STARTTLS `220`, then a good handshake | `ok` / true / `valid` |
//! | `ehlo_oversized` | EHLO reply of more than 1 MiB | `protocol_error` / null / null |
//! | `ehlo_drop` | closes after reading EHLO | `io_error` / null / null |
//! | `tls10_only` | STARTTLS, then TLS 1.0 only (OpenSSL, ECDHE-ECDSA CBC), good chain | `tls_legacy` / true / `valid` |
//! | `tls11_only` | STARTTLS, then TLS 1.1 only, likewise | `tls_legacy` / true / `valid` |
//! | `static_rsa_only` | STARTTLS, TLS 1.2 with static-RSA suites only (RSA leaf), good chain | `tls_legacy` / true / `valid` |
//! | `cbc_only` | STARTTLS, TLS 1.2 with ECDHE-RSA CBC suites only (RSA leaf), good chain | `tls_legacy` / true / `valid` |
//! | `tls13_only` | STARTTLS, TLS 1.3 only (rustls), good chain | `ok` / true / `valid` |
//! | `accept_close` | accepts and closes at once (FIN, no byte) | `closed_before_greeting` / null / null |
//! | `aia_incomplete_chain` | leaf only (issued by the intermediate), its AIA caIssuers URL serves the intermediate | `ok` / true / `incomplete_chain` (root-only trust with `--no-aia`: `untrusted_issuer`) |
//! | `aia_tarpit` | leaf only (issued by the intermediate), its AIA URL is a tarpit | `ok` / true / `incomplete_chain` (root-only trust: `untrusted_issuer` after one fetch that runs into the deadline) |
//! | `aia_loop` | leaf only, issued by loop CA A, whose AIA leads to B and back to A (no root) | `ok` / true / `untrusted_issuer` (each URL fetched once) |
//!
//! The TLS columns of the probe (`tls_max_version`, `tls_failure`, `modern_tls_failure`,
//! whether the scanner makes its one legacy hello) follow from the TLS behaviour
//! ([`crate::truth::expected_probe`]): a completed rustls handshake is `TLSv1.3`;
//! `tls_alert` is `tls_failed` / `no_shared_cipher` after a legacy hello that draws the
//! alert again; `tls_garbage` is `tls_failed` / `not_tls` without one; the four legacy
//! classes are `tls_legacy` with the version they speak and the modern failure
//! `protocol_version` (TLS 1.0/1.1) or `no_shared_cipher` (static RSA, CBC).
//!
//! The certificate columns depend on the trust the scan is given
//! ([`crate::truth::ScanTrust`]): the tests' default gives the root and the intermediate
//! (`--trust-anchor` bundle), so every chain the intermediate signed completes from that
//! pool without a fetch (`incomplete_chain`, `chain_completed`); with the root only, a
//! missing intermediate is found only through the leaf's AIA URL (`aia_incomplete_chain`),
//! and `chain_completed` is true exactly where the verdict is `incomplete_chain`. The AIA
//! hosts are listed in [`crate::aia`].
//!
//! Shared hosts (big providers, hosters) use the same classes, with a certificate for the
//! provider's own names whatever the SNI (`CertNames::Fixed`).
//!
//! # MTA-STS scenarios (`sts`)
//!
//! | name | setup | expected `sts_record` / `sts_policy` / notes |
//! |---|---|---|
//! | `none` | no `_mta-sts` TXT (NXDOMAIN) | `none` / `not_fetched` |
//! | `enforce` | valid record, CRLF policy `mode: enforce` covering every MX | `valid` / `ok` |
//! | `testing` | same, `mode: testing` | `valid` / `ok` |
//! | `mode_none` | same, `mode: none`, no mx lines | `valid` / `ok`, delivery `no_policy` |
//! | `policy_lf` | enforce policy with bare-LF line endings | `valid` / `ok` + `lf_line_endings` |
//! | `wildcard` | enforce with `*.<parent>` patterns covering the MX | `valid` / `ok` |
//! | `mx_not_covered` | enforce whose only pattern matches no MX | `valid` / `ok`, `would_fail` (if MX rows) |
//! | `enforce_mx_insecure` | enforce; every MX lacks STARTTLS or has a bad cert | `valid` / `ok`, `would_fail` |
//! | `txt_bad_id` | `v=STSv1; id=2025-01-01;` | `invalid` + `txt_invalid_id` |
//! | `txt_missing_id` | `v=STSv1;` | `invalid` + `txt_missing_id` |
//! | `txt_multiple` | two `v=STSv1` records | `multiple` + `txt_multiple_records` |
//! | `txt_huge` | a valid record among 40 stray TXT records (UDP answer truncated, TC) | `valid` + `txt_stray_records` / `ok` |
//! | `txt_servfail` | SERVFAIL for `_mta-sts.<domain>` | `dns_error` |
//! | `host_nxdomain` | `mta-sts.<domain>` does not resolve | `fetch_error` / `dns` |
//! | `refused` | the policy host resets connections | `fetch_error` / `connect` |
//! | `cert_untrusted` | policy host cert from an unknown issuer | `fetch_error` / `tls_untrusted` |
//! | `cert_expired` | policy host cert expired | `fetch_error` / `tls_expired` |
//! | `cert_wrong_name` | policy host cert for another name | `fetch_error` / `tls_name_mismatch` |
//! | `http_404` | 404 | `fetch_error` / `http_status` |
//! | `redirect_301` | 301 to `https://www.<domain>/…` | `fetch_error` / `redirect` |
//! | `content_type_html` | valid policy served as `text/html` | `ok` + `content_type_not_text_plain` |
//! | `too_large` | 200 with a 128 KiB body | `fetch_error` / `too_large` |
//! | `slowloris` | headers one byte per second | `fetch_error` / `timeout` |
//! | `policy_missing_mx` | enforce without mx lines | `invalid` (`missing_mx`) |
//! | `policy_bad_max_age` | `max_age: 1w` | `invalid` (`invalid_max_age`) |
//! | `policy_unknown_mode` | `mode: enforcing` | `invalid` (`unknown_mode`) |
//! | `policy_max_age_out_of_range` | `max_age: 31557601` | `invalid` (`max_age_out_of_range`) |
//! | `html_200` | an HTML page with status 200 | `invalid` (`trailing_garbage`, `html_body`, …) |
//!
//! # TLS-RPT scenarios (`tlsrpt`)
//!
//! | name | `_smtp._tls.<domain>` TXT | expected `tlsrpt_record` |
//! |---|---|---|
//! | `none` | NXDOMAIN | `none` |
//! | `mailto` | `v=TLSRPTv1; rua=mailto:tlsrpt@<domain>` | `valid` |
//! | `https` | `v=TLSRPTv1; rua=https://tlsrpt.<domain>/v1/report` | `valid` |
//! | `no_rua` | `v=TLSRPTv1;` | `invalid` |
//! | `bad_scheme` | `v=TLSRPTv1; rua=ftp://tlsrpt.<domain>/` | `invalid` |
//! | `multiple` | two `v=TLSRPTv1` records | `multiple` |
//! | `servfail` | SERVFAIL | `dns_error` |

/// Defines a closed vocabulary: a fieldless enum with `ALL`, `as_str` and `FromStr`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $str:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in catalogue order (the order of the profile weight tables).
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $str,)+
                }
            }

            /// Position in [`Self::ALL`].
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::error::TestbedError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($str => Ok($name::$variant),)+
                    other => Err(crate::error::TestbedError::Config(format!(
                        concat!("unknown ", stringify!($name), " {:?}"), other
                    ))),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// How a domain's MX lookup goes, and its MX layout (module docs: table "DNS scenarios").
    DnsScenario {
        /// NXDOMAIN for the domain and every name below it.
        Nxdomain => "nxdomain",
        /// SERVFAIL for every query at the apex.
        Servfail => "servfail",
        /// No answer at all for queries at the apex.
        Timeout => "timeout",
        /// The name exists but has no MX and no address.
        NoMailHost => "no_mail_host",
        /// RFC 7505 null MX.
        NullMx => "null_mx",
        /// No MX; the apex A record is the implicit MX (RFC 5321 §5.1).
        ImplicitMx => "implicit_mx",
        /// Dedicated `mxN.<domain>` hosts.
        MxDedicated => "mx_dedicated",
        /// Three MX with different preferences, good and broken.
        MxMultiPref => "mx_multi_pref",
        /// The first MX exchange does not resolve.
        MxUnresolved => "mx_unresolved",
        /// The first MX exchange resolves to a private address.
        MxPrivate => "mx_private",
        /// The first MX exchange is a CNAME.
        MxCname => "mx_cname",
        /// MX hosted by a big provider.
        MxBigProvider => "mx_big_provider",
        /// Customer-named MX on a hoster's shared address (certificate for the hoster only).
        MxHosterShared => "mx_hoster_shared",
        /// Hoster-named MX (`<label>.mx.hosterN.test`, covered by the hoster's certificate).
        MxHosterNamed => "mx_hoster_named",
    }
}

impl DnsScenario {
    /// Whether the domain publishes MX records (or an implicit MX) that lead to hosts.
    pub fn has_mx_layout(self) -> bool {
        matches!(
            self,
            DnsScenario::MxDedicated
                | DnsScenario::MxMultiPref
                | DnsScenario::MxUnresolved
                | DnsScenario::MxPrivate
                | DnsScenario::MxCname
                | DnsScenario::MxBigProvider
                | DnsScenario::MxHosterShared
                | DnsScenario::MxHosterNamed
        )
    }
}

vocabulary! {
    /// The behaviour of one SMTP host (module docs: table "SMTP host classes").
    SmtpClass {
        /// STARTTLS with a good certificate.
        StarttlsValid => "starttls_valid",
        /// Expired leaf.
        CertExpired => "cert_expired",
        /// Leaf not yet valid.
        CertNotYetValid => "cert_not_yet_valid",
        /// Leaf for another name.
        CertWrongName => "cert_wrong_name",
        /// Self-signed leaf.
        CertSelfSigned => "cert_self_signed",
        /// Chain to an untrusted root.
        CertUnknownIssuer => "cert_unknown_issuer",
        /// Intermediate missing.
        CertIncompleteChain => "cert_incomplete_chain",
        /// STARTTLS not advertised.
        NoStarttls => "no_starttls",
        /// STARTTLS advertised, answered 454.
        Starttls454 => "starttls_454",
        /// STARTTLS advertised, answered 502.
        Starttls502 => "starttls_502",
        /// Garbage instead of a TLS handshake.
        TlsGarbage => "tls_garbage",
        /// Fatal alert instead of a TLS handshake.
        TlsAlert => "tls_alert",
        /// 421 greeting.
        Greeting421 => "greeting_421",
        /// 554 greeting.
        Greeting554 => "greeting_554",
        /// 550 to EHLO.
        EhloRejected => "ehlo_rejected",
        /// Multi-line greeting, otherwise good.
        Multiline => "multiline",
        /// Greeting after a postscreen-style delay, otherwise good.
        GreetDelay => "greet_delay",
        /// Never speaks.
        Tarpit => "tarpit",
        /// Resets at once ("connection refused").
        Reset => "reset",
        /// Bytes after the STARTTLS 220, otherwise good.
        StarttlsInjection => "starttls_injection",
        /// EHLO reply over 1 MiB.
        EhloOversized => "ehlo_oversized",
        /// Closes after EHLO.
        EhloDrop => "ehlo_drop",
        /// TLS 1.0 only (OpenSSL).
        Tls10Only => "tls10_only",
        /// TLS 1.1 only (OpenSSL).
        Tls11Only => "tls11_only",
        /// TLS 1.2 with static-RSA suites only (OpenSSL).
        StaticRsaOnly => "static_rsa_only",
        /// TLS 1.2 with ECDHE-RSA CBC suites only (OpenSSL).
        CbcOnly => "cbc_only",
        /// TLS 1.3 only (rustls).
        Tls13Only => "tls13_only",
        /// Accepts, then closes without a byte (FIN).
        AcceptClose => "accept_close",
        /// Leaf only; its AIA URL serves the missing intermediate.
        AiaIncompleteChain => "aia_incomplete_chain",
        /// Leaf only; its AIA URL never answers.
        AiaTarpit => "aia_tarpit",
        /// Leaf of a CA pair whose AIA URLs point at each other (no root).
        AiaLoop => "aia_loop",
    }
}

impl SmtpClass {
    /// Classes an MTA-STS-enforcing sender could deliver to (TLS with a valid certificate,
    /// given a name the certificate covers). The legacy TLS classes count: an OpenSSL-based
    /// sender completes their handshake, and RFC 8461 asks for TLS and a valid certificate,
    /// not for a version (the scanner's `tls_legacy` is secure under MTA-STS too).
    pub fn is_secure(self) -> bool {
        matches!(
            self,
            SmtpClass::StarttlsValid
                | SmtpClass::Multiline
                | SmtpClass::GreetDelay
                | SmtpClass::StarttlsInjection
                | SmtpClass::Tls13Only
        ) || self.is_legacy_tls()
    }

    /// Classes served by an OpenSSL server a modern client refuses (scanner: `tls_legacy`).
    pub fn is_legacy_tls(self) -> bool {
        matches!(
            self,
            SmtpClass::Tls10Only
                | SmtpClass::Tls11Only
                | SmtpClass::StaticRsaOnly
                | SmtpClass::CbcOnly
        )
    }

    /// Classes an enforcing sender reaches and must refuse (RFC 8461 §5: no STARTTLS, or TLS
    /// without a valid certificate) — the `Insecure` outcome of the policy crate.
    pub fn is_insecure(self) -> bool {
        matches!(
            self,
            SmtpClass::CertExpired
                | SmtpClass::CertNotYetValid
                | SmtpClass::CertWrongName
                | SmtpClass::CertSelfSigned
                | SmtpClass::CertUnknownIssuer
                | SmtpClass::CertIncompleteChain
                | SmtpClass::AiaIncompleteChain
                | SmtpClass::AiaTarpit
                | SmtpClass::AiaLoop
                | SmtpClass::NoStarttls
                | SmtpClass::Starttls454
                | SmtpClass::Starttls502
                | SmtpClass::TlsGarbage
                | SmtpClass::TlsAlert
        )
    }
}

vocabulary! {
    /// The MTA-STS setup of a domain (module docs: table "MTA-STS scenarios").
    StsScenario {
        /// No record.
        None => "none",
        /// Valid, enforce.
        Enforce => "enforce",
        /// Valid, testing.
        Testing => "testing",
        /// Valid, mode none.
        ModeNone => "mode_none",
        /// Valid enforce policy with bare LF line endings.
        PolicyLf => "policy_lf",
        /// Valid enforce policy with wildcard patterns.
        Wildcard => "wildcard",
        /// Enforce policy whose pattern covers no MX.
        MxNotCovered => "mx_not_covered",
        /// Enforce policy, every MX insecure.
        EnforceMxInsecure => "enforce_mx_insecure",
        /// Record with an invalid id.
        TxtBadId => "txt_bad_id",
        /// Record without id.
        TxtMissingId => "txt_missing_id",
        /// Two STSv1 records.
        TxtMultiple => "txt_multiple",
        /// Valid record among 40 stray records (truncated UDP answer).
        TxtHuge => "txt_huge",
        /// SERVFAIL on the TXT query.
        TxtServfail => "txt_servfail",
        /// Policy host does not resolve.
        HostNxdomain => "host_nxdomain",
        /// Policy host resets connections.
        Refused => "refused",
        /// Policy host certificate from an unknown issuer.
        CertUntrusted => "cert_untrusted",
        /// Policy host certificate expired.
        CertExpired => "cert_expired",
        /// Policy host certificate for another name.
        CertWrongName => "cert_wrong_name",
        /// 404.
        Http404 => "http_404",
        /// 301 redirect.
        Redirect301 => "redirect_301",
        /// Valid policy served as text/html.
        ContentTypeHtml => "content_type_html",
        /// Body over 64 KiB.
        TooLarge => "too_large",
        /// Headers trickle in.
        Slowloris => "slowloris",
        /// Enforce without mx lines.
        PolicyMissingMx => "policy_missing_mx",
        /// max_age not a number.
        PolicyBadMaxAge => "policy_bad_max_age",
        /// Unknown mode.
        PolicyUnknownMode => "policy_unknown_mode",
        /// max_age above 31557600.
        PolicyMaxAgeOutOfRange => "policy_max_age_out_of_range",
        /// HTML page served with 200.
        Html200 => "html_200",
    }
}

impl StsScenario {
    /// Whether the scenario publishes a `_mta-sts` TXT record at all.
    pub fn publishes_record(self) -> bool {
        !matches!(self, StsScenario::None)
    }
}

vocabulary! {
    /// The TLS-RPT setup of a domain (module docs: table "TLS-RPT scenarios").
    TlsRptScenario {
        /// No record.
        None => "none",
        /// Valid, mailto rua.
        Mailto => "mailto",
        /// Valid, https rua.
        Https => "https",
        /// Record without rua.
        NoRua => "no_rua",
        /// rua with an unsupported scheme.
        BadScheme => "bad_scheme",
        /// Two TLSRPTv1 records.
        Multiple => "multiple",
        /// SERVFAIL on the TXT query.
        Servfail => "servfail",
    }
}

/// The scenario of one domain: one value per domain-level dimension. Host behaviours
/// ([`SmtpClass`]) are per MX host and live in the MX plan (`world::MxPlan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct DomainScenario {
    /// DNS outcome and MX layout.
    pub dns: DnsScenario,
    /// MTA-STS setup.
    pub sts: StsScenario,
    /// TLS-RPT setup.
    pub tlsrpt: TlsRptScenario,
}

/// The dimensions of the catalogue with all their names, for coverage checks and docs.
pub fn catalogue() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("dns", DnsScenario::ALL.iter().map(|s| s.as_str()).collect()),
        ("smtp", SmtpClass::ALL.iter().map(|s| s.as_str()).collect()),
        ("sts", StsScenario::ALL.iter().map(|s| s.as_str()).collect()),
        (
            "tlsrpt",
            TlsRptScenario::ALL.iter().map(|s| s.as_str()).collect(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn names_round_trip_and_are_unique() {
        for (dim, names) in catalogue() {
            let set: std::collections::HashSet<_> = names.iter().collect();
            assert_eq!(set.len(), names.len(), "duplicate name in {dim}");
        }
        for s in DnsScenario::ALL {
            assert_eq!(DnsScenario::from_str(s.as_str()).unwrap(), *s);
        }
        for s in SmtpClass::ALL {
            assert_eq!(SmtpClass::from_str(s.as_str()).unwrap(), *s);
            assert!(!(s.is_secure() && s.is_insecure()));
        }
        for s in StsScenario::ALL {
            assert_eq!(StsScenario::from_str(s.as_str()).unwrap(), *s);
        }
        for s in TlsRptScenario::ALL {
            assert_eq!(TlsRptScenario::from_str(s.as_str()).unwrap(), *s);
        }
        assert!(DnsScenario::from_str("bogus").is_err());
    }

    #[test]
    fn every_name_is_in_the_docs_table() {
        let docs = include_str!("scenario.rs");
        for (dim, names) in catalogue() {
            for name in names {
                assert!(
                    docs.contains(&format!("| `{name}` |")),
                    "{dim}/{name} undocumented"
                );
            }
        }
    }

    #[test]
    fn index_matches_all_order() {
        for (i, s) in SmtpClass::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }
}
