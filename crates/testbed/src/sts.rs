//! What a domain publishes for MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the TXT records,
//! the policy site, the policy body — and, next to each, the world's own statement of what
//! a correct parser must make of it (the ground truth does not parse what it serves; the
//! cross-check test compares this statement with the `mxscan-policy` crate).

use std::net::Ipv4Addr;

use mxscan_model::{Deviation, Mode, RecordStatus};

use crate::behaviour::{CertDefect, CertNames, CertSpec, HttpResponse, HttpsSite};
use crate::scenario::{DomainScenario, StsScenario, TlsRptScenario};
use crate::world::{WRONG_CERT_NAME, World};

/// Body size of the `too_large` scenario (above the 64 KiB cap of RFC 8461 §3.3 practice).
pub const TOO_LARGE_BYTES: u64 = 128 * 1024;
/// Number of stray TXT records of the `txt_huge` scenario.
pub const STRAY_RECORDS: usize = 40;
/// max_age of enforce policies.
pub const ENFORCE_MAX_AGE: u64 = 604_800;
/// max_age of testing / none policies.
pub const TESTING_MAX_AGE: u64 = 86_400;
/// The one pattern of `mx_not_covered` policies.
pub const UNCOVERING_PATTERN: &str = "mx.retired-provider.test";

/// `max_age` values of enforce policies, cycled through by policy rewrites at later epochs
/// (the first is [`ENFORCE_MAX_AGE`], the epoch-0 value).
pub const ENFORCE_MAX_AGES: [u64; 4] = [ENFORCE_MAX_AGE, 1_209_600, 2_419_200, 31_536_000];
/// `max_age` values of testing / none policies (the first is [`TESTING_MAX_AGE`]).
pub const TESTING_MAX_AGES: [u64; 4] = [TESTING_MAX_AGE, 172_800, 604_800, 1_209_600];

/// The `id=` of a domain's `_mta-sts` record (RFC 8461 §3.1: 1–32 alphanumerics): a new
/// value whenever the epoch's revision bumps it (`World::sts_revision`).
pub fn sts_id(world: &World, domain: &str) -> String {
    let base = world.hash("sts-id", domain);
    match world.sts_revision(domain).id {
        0 => format!("{base:016x}"),
        rev => format!(
            "{:016x}",
            crate::hash::stable_hash_u64(base, "sts-id-rev", u64::from(rev))
        ),
    }
}

/// The TXT records at `_mta-sts.<domain>` (each a list of character-strings).
pub fn sts_txt_records(world: &World, domain: &str, sts: StsScenario) -> Vec<Vec<String>> {
    let id = sts_id(world, domain);
    let valid = vec![format!("v=STSv1; id={id};")];
    match sts {
        StsScenario::None | StsScenario::TxtServfail => Vec::new(),
        StsScenario::TxtBadId => vec![vec!["v=STSv1; id=2025-01-01;".to_owned()]],
        StsScenario::TxtMissingId => vec![vec!["v=STSv1;".to_owned()]],
        StsScenario::TxtMultiple => vec![valid, vec![format!("v=STSv1; id={id}b;")]],
        StsScenario::TxtHuge => {
            let mut records: Vec<Vec<String>> = (0..STRAY_RECORDS)
                .map(|i| {
                    let h = world.hash("stray", &format!("{i}.{domain}"));
                    vec![format!(
                        "stray-site-verification-{i:02}={}",
                        format!("{h:016x}").repeat(6)
                    )]
                })
                .collect();
            records.insert(STRAY_RECORDS / 2, valid);
            records
        }
        _ => vec![valid],
    }
}

/// The TXT records at `_smtp._tls.<domain>`.
pub fn tlsrpt_txt_records(domain: &str, tlsrpt: TlsRptScenario) -> Vec<Vec<String>> {
    let one = |s: String| vec![vec![s]];
    match tlsrpt {
        TlsRptScenario::None | TlsRptScenario::Servfail => Vec::new(),
        TlsRptScenario::Mailto => one(format!("v=TLSRPTv1; rua=mailto:tlsrpt@{domain}")),
        TlsRptScenario::Https => one(format!("v=TLSRPTv1; rua=https://tlsrpt.{domain}/v1/report")),
        TlsRptScenario::NoRua => one("v=TLSRPTv1;".to_owned()),
        TlsRptScenario::BadScheme => one(format!("v=TLSRPTv1; rua=ftp://tlsrpt.{domain}/")),
        TlsRptScenario::Multiple => vec![
            vec![format!("v=TLSRPTv1; rua=mailto:tlsrpt@{domain}")],
            vec![format!("v=TLSRPTv1; rua=mailto:reports@{domain}")],
        ],
    }
}

/// What a correct reader makes of a TXT record set (the `StsRecord` / `TlsRptRecord` of
/// the policy crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRecord {
    /// none, valid, invalid, multiple (dns_error is decided by the DNS, not here).
    pub status: RecordStatus,
    /// The `id=` (STS, valid only).
    pub id: Option<String>,
    /// The `rua=` URIs (TLS-RPT, valid only).
    pub rua: Vec<String>,
    /// Deviations, in the policy crate's vocabulary.
    pub deviations: Vec<Deviation>,
}

/// The expected reading of the `_mta-sts` records of a scenario (record published).
pub fn expected_sts_record(world: &World, domain: &str, sts: StsScenario) -> ExpectedRecord {
    let rec = |status, id: Option<String>, deviations: Vec<Deviation>| ExpectedRecord {
        status,
        id,
        rua: Vec::new(),
        deviations,
    };
    match sts {
        StsScenario::None | StsScenario::TxtServfail => rec(RecordStatus::None, None, vec![]),
        StsScenario::TxtBadId => rec(RecordStatus::Invalid, None, vec![Deviation::TxtInvalidId]),
        StsScenario::TxtMissingId => {
            rec(RecordStatus::Invalid, None, vec![Deviation::TxtMissingId])
        }
        StsScenario::TxtMultiple => rec(
            RecordStatus::Multiple,
            None,
            vec![Deviation::TxtMultipleRecords],
        ),
        StsScenario::TxtHuge => rec(
            RecordStatus::Valid,
            Some(sts_id(world, domain)),
            vec![Deviation::TxtStrayRecords],
        ),
        _ => rec(RecordStatus::Valid, Some(sts_id(world, domain)), vec![]),
    }
}

/// The expected reading of the `_smtp._tls` records of a scenario.
pub fn expected_tlsrpt_record(domain: &str, tlsrpt: TlsRptScenario) -> ExpectedRecord {
    let rec = |status, rua: Vec<String>| ExpectedRecord {
        status,
        id: None,
        rua,
        deviations: Vec::new(),
    };
    match tlsrpt {
        TlsRptScenario::None | TlsRptScenario::Servfail => rec(RecordStatus::None, vec![]),
        TlsRptScenario::Mailto => rec(RecordStatus::Valid, vec![format!("mailto:tlsrpt@{domain}")]),
        TlsRptScenario::Https => rec(
            RecordStatus::Valid,
            vec![format!("https://tlsrpt.{domain}/v1/report")],
        ),
        TlsRptScenario::NoRua | TlsRptScenario::BadScheme => rec(RecordStatus::Invalid, vec![]),
        TlsRptScenario::Multiple => rec(RecordStatus::Multiple, vec![]),
    }
}

/// What a correct `parse_policy` reports for a body the world serves (RFC 8461 §3.2; the
/// `PolicyReport` of the policy crate without `errors`). Deviations are listed in the
/// canonical order of the policy crate (`Deviation::ALL`); a body without a valid `mode`
/// also lacks `mx` lines and so reports `missing_mx` (policy.md: "mode ≠ none").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPolicy {
    /// Whether the policy is valid.
    pub valid: bool,
    /// `version` value.
    pub version: Option<String>,
    /// `mode` value (enforce, testing, none).
    pub mode: Option<Mode>,
    /// `max_age` value.
    pub max_age: Option<u64>,
    /// Valid `mx` patterns, lowercased.
    pub mx: Vec<String>,
    /// Policy deviations, in the order the policy crate reports them.
    pub deviations: Vec<Deviation>,
}

/// A policy document: body, content type and the expected reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDoc {
    /// The body served.
    pub body: Vec<u8>,
    /// The Content-Type header (None: omitted).
    pub content_type: Option<String>,
    /// What a correct parser reports.
    pub expected: ExpectedPolicy,
}

/// Whether `p` is an `mx` pattern the policy crate accepts as is: a hostname of LDH labels
/// (1–63 octets, no leading/trailing hyphen, ≤ 253 octets), optionally `*.` + hostname.
pub fn is_valid_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The patterns covering a domain's exchanges: exact names, or `*.parent` for `wildcard`.
/// Invalid candidates are dropped; if none remain, `mx1.<domain>` (or the uncovering
/// pattern) stands in so that enforce policies keep an `mx` line.
///
/// The exchanges are those of the layout the policy was written for
/// (`World::sts_revision`): after a migration without a rewrite, the old MX.
fn patterns(world: &World, domain: &str, wildcard: bool) -> Vec<String> {
    let sc = DomainScenario {
        dns: world.sts_revision(domain).layout,
        ..world.scenario(domain)
    };
    let mut out: Vec<String> = Vec::new();
    for ex in world.exchanges(domain, &sc) {
        let p = if wildcard {
            match ex.split_once('.') {
                Some((_, parent)) if parent.contains('.') => format!("*.{parent}"),
                _ => ex.clone(),
            }
        } else {
            ex.clone()
        };
        let p = p.to_ascii_lowercase();
        if is_valid_pattern(&p) && !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        let fallback = format!("mx1.{domain}");
        out.push(if is_valid_pattern(&fallback) {
            fallback
        } else {
            UNCOVERING_PATTERN.to_owned()
        });
    }
    out
}

/// The policy document of a domain (served whenever its site answers 200).
pub fn policy_doc(world: &World, domain: &str, sts: StsScenario) -> PolicyDoc {
    const PLAIN: &str = "text/plain";
    let rev = world.sts_revision(domain).policy as usize;
    let enforce_max_age = ENFORCE_MAX_AGES[rev % ENFORCE_MAX_AGES.len()];
    let testing_max_age = TESTING_MAX_AGES[rev % TESTING_MAX_AGES.len()];
    let version = Some("STSv1".to_owned());
    let mut mode = Some(Mode::Enforce);
    let mut mode_line = "enforce".to_owned();
    let mut max_age = Some(enforce_max_age);
    let mut max_age_line = enforce_max_age.to_string();
    let mut mx = patterns(world, domain, sts == StsScenario::Wildcard);
    let mut eol = "\r\n";
    let mut content_type = PLAIN;
    let mut deviations: Vec<Deviation> = Vec::new();
    let mut valid = true;
    match sts {
        StsScenario::Testing => {
            mode = Some(Mode::Testing);
            mode_line = "testing".into();
            max_age = Some(testing_max_age);
            max_age_line = testing_max_age.to_string();
        }
        StsScenario::ModeNone => {
            mode = Some(Mode::None);
            mode_line = "none".into();
            max_age = Some(testing_max_age);
            max_age_line = testing_max_age.to_string();
            mx.clear();
        }
        StsScenario::PolicyLf => {
            eol = "\n";
            deviations.push(Deviation::LfLineEndings);
        }
        StsScenario::MxNotCovered => mx = vec![UNCOVERING_PATTERN.to_owned()],
        StsScenario::ContentTypeHtml => content_type = "text/html; charset=utf-8",
        StsScenario::PolicyMissingMx => {
            mx.clear();
            valid = false;
            deviations.push(Deviation::MissingMx);
        }
        StsScenario::PolicyBadMaxAge => {
            max_age = None;
            max_age_line = "1w".into();
            valid = false;
            deviations.push(Deviation::InvalidMaxAge);
        }
        StsScenario::PolicyUnknownMode => {
            mode = None;
            mode_line = "enforcing".into();
            valid = false;
            deviations.push(Deviation::UnknownMode);
        }
        StsScenario::PolicyMaxAgeOutOfRange => {
            max_age = Some(31_557_601);
            max_age_line = "31557601".into();
            valid = false;
            deviations.push(Deviation::MaxAgeOutOfRange);
        }
        StsScenario::Html200 => {
            let body = format!(
                "<!DOCTYPE html>\r\n<html><head><title>Welcome</title></head>\r\n<body><h1>It works!</h1><p>{domain}</p></body></html>\r\n"
            );
            return PolicyDoc {
                body: body.into_bytes(),
                content_type: Some("text/html".to_owned()),
                expected: ExpectedPolicy {
                    valid: false,
                    version: None,
                    mode: None,
                    max_age: None,
                    mx: Vec::new(),
                    deviations: vec![
                        Deviation::TrailingGarbage,
                        Deviation::HtmlBody,
                        Deviation::MissingVersion,
                        Deviation::MissingMode,
                        Deviation::MissingMaxAge,
                        Deviation::MissingMx,
                    ],
                },
            };
        }
        _ => {}
    }
    let mut body = String::new();
    body.push_str(&format!("version: STSv1{eol}"));
    body.push_str(&format!("mode: {mode_line}{eol}"));
    for p in &mx {
        body.push_str(&format!("mx: {p}{eol}"));
    }
    body.push_str(&format!("max_age: {max_age_line}{eol}"));
    PolicyDoc {
        body: body.into_bytes(),
        content_type: Some(content_type.to_owned()),
        expected: ExpectedPolicy {
            valid,
            version,
            mode,
            max_age,
            mx,
            deviations,
        },
    }
}

/// The HTTPS site at a policy-host address, chosen by SNI `mta-sts.<domain>` (any other or
/// missing SNI: a 404 site with a certificate for the default name).
pub fn site(world: &World, local: Ipv4Addr, sni: Option<&str>) -> HttpsSite {
    let rtt = world.rtt(local);
    let default_site = || HttpsSite::Serve {
        rtt,
        cert: CertSpec {
            names: CertNames::Sni {
                fallback: "default.testbed.test".to_owned(),
            },
            defect: CertDefect::None,
        },
        response: HttpResponse::Status(404),
    };
    let Some(sni) = sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase()) else {
        return default_site();
    };
    let Some(domain) = sni.strip_prefix("mta-sts.") else {
        return default_site();
    };
    let sts = world.scenario(domain).sts;
    if matches!(sts, StsScenario::None | StsScenario::HostNxdomain) {
        return default_site();
    }
    let sni_cert = |defect| CertSpec {
        names: CertNames::Sni {
            fallback: sni.clone(),
        },
        defect,
    };
    let doc = policy_doc(world, domain, sts);
    let body = HttpResponse::Body {
        content_type: doc.content_type,
        body: doc.body,
    };
    let (cert, response) = match sts {
        StsScenario::Refused => return HttpsSite::Reset,
        StsScenario::CertUntrusted => (sni_cert(CertDefect::UnknownIssuer), body),
        StsScenario::CertExpired => (sni_cert(CertDefect::Expired), body),
        StsScenario::CertWrongName => (
            CertSpec {
                names: CertNames::Fixed(vec![WRONG_CERT_NAME.to_owned()]),
                defect: CertDefect::None,
            },
            body,
        ),
        StsScenario::Http404 => (sni_cert(CertDefect::None), HttpResponse::Status(404)),
        StsScenario::Redirect301 => (
            sni_cert(CertDefect::None),
            HttpResponse::Redirect(format!("https://www.{domain}/.well-known/mta-sts.txt")),
        ),
        StsScenario::TooLarge => (
            sni_cert(CertDefect::None),
            HttpResponse::Oversized(TOO_LARGE_BYTES),
        ),
        StsScenario::Slowloris => (sni_cert(CertDefect::None), HttpResponse::Slowloris),
        _ => (sni_cert(CertDefect::None), body),
    };
    HttpsSite::Serve {
        rtt,
        cert,
        response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_validity_table() {
        let cases = [
            ("mx1.example.com", true),
            ("*.example.com", true),
            ("example", true),
            ("*example.com", false),
            ("mx_1.example.com", false),
            ("-a.example.com", false),
            ("a..b", false),
            ("", false),
            ("*.", false),
        ];
        for (p, want) in cases {
            assert_eq!(is_valid_pattern(p), want, "{p}");
        }
    }

    #[test]
    fn huge_txt_is_big() {
        let w = World::new(crate::world::WorldConfig::default());
        let recs = sts_txt_records(&w, "example.com", StsScenario::TxtHuge);
        assert_eq!(recs.len(), STRAY_RECORDS + 1);
        let bytes: usize = recs.iter().flatten().map(|s| s.len() + 12).sum();
        assert!(bytes > 4096, "{bytes}");
        assert!(recs.iter().flatten().all(|s| s.len() <= 255));
        assert_eq!(
            recs.iter().filter(|r| r[0].starts_with("v=STSv1")).count(),
            1
        );
    }
}
