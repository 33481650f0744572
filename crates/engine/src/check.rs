//! `mxscan check`: the report an operator asks for about a few live domains — the survey's
//! rows of each domain with its probes and leaf certificates, and the problems they show,
//! each in one sentence. Pure: the engine scans, this module judges what came back.

use std::collections::HashMap;

use mxscan_model::{
    CertRow, CertStatus, Coverage, Delivery, Deviation, DnsStatus, DomainRow, FetchError, MxRow,
    PolicyStatus, ProbeRow, ProbeStatus, TxtStatus,
};
use serde::Serialize;

/// One domain's check: its `domains` row, its `mx` rows, the probes and leaf certificates
/// behind them, and the problems found.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    /// The `domains` row.
    #[serde(flatten)]
    pub domain: DomainRow,
    /// The domain's `mx` rows.
    pub mx: Vec<MxRow>,
    /// The probe of each probed address.
    #[serde(skip)]
    pub probes: HashMap<String, ProbeRow>,
    /// Certificates by SHA-256.
    #[serde(skip)]
    pub certs: HashMap<String, CertRow>,
    /// Every problem, one sentence each (empty: all is well).
    pub problems: Vec<String>,
}

/// The first sentence of a vocabulary description.
pub fn sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// The problems of a domain: what keeps mail to it from being delivered, or delivered
/// securely, or what the operator published wrongly. Not publishing MTA-STS or TLS-RPT is
/// not a problem; a broken record or policy is.
pub fn problems(d: &DomainRow, mx: &[MxRow]) -> Vec<String> {
    let mut out = Vec::new();
    if d.dns_status != DnsStatus::Ok {
        out.push(format!(
            "DNS: {} ({})",
            d.dns_status.description(),
            d.dns_status
        ));
        return out;
    }
    for ex in &d.mx_unresolved {
        out.push(format!("MX host {ex} does not resolve to any address"));
    }
    for r in mx {
        let host = format!("{} ({})", r.exchange, r.address);
        match r.smtp_status {
            ProbeStatus::Ok => {}
            ProbeStatus::Blocked => out.push(format!(
                "{host}: the address is reserved or private (never contacted): senders on the internet cannot reach it"
            )),
            ProbeStatus::NoStarttls => {
                out.push(format!("{host} does not offer STARTTLS: mail to it travels in clear text"))
            }
            s => out.push(format!("{host}: {} ({s})", s.description())),
        }
        if let Some(c) = r.cert_status
            && c != CertStatus::Valid
        {
            out.push(format!(
                "{host}: the certificate is not valid for {}: {} ({c})",
                r.exchange,
                c.description()
            ));
        }
    }
    record_problem(
        &mut out,
        "MTA-STS record at _mta-sts",
        &d.domain,
        d.sts_record,
    );
    match d.sts_policy {
        PolicyStatus::FetchError => {
            let e = d.sts_fetch_error.unwrap_or(FetchError::Io);
            out.push(format!(
                "MTA-STS policy could not be fetched from mta-sts.{}: {} ({e})",
                d.domain,
                e.description()
            ));
        }
        PolicyStatus::Invalid => out.push(format!(
            "MTA-STS policy is invalid (RFC 8461 §3.2): {}",
            invalidating(d).join("; ")
        )),
        PolicyStatus::Ok | PolicyStatus::NotFetched => {}
    }
    if d.sts_delivery == Delivery::WouldFail {
        out.push(format!(
            "an MTA-STS-enforcing sender would not deliver: {}",
            delivery_reason(d, mx)
        ));
    }
    record_problem(
        &mut out,
        "TLS-RPT record at _smtp._tls",
        &d.domain,
        d.tlsrpt_record,
    );
    if matches!(d.starttls, Coverage::None | Coverage::Some) && out.is_empty() {
        out.push("not every MX host offers STARTTLS".into());
    }
    out
}

/// A broken TXT record (RFC 8461 §3.1, RFC 8460 §3); publishing none is not a problem.
fn record_problem(out: &mut Vec<String>, what: &str, domain: &str, status: TxtStatus) {
    match status {
        TxtStatus::Invalid | TxtStatus::Multiple | TxtStatus::DnsError => out.push(format!(
            "{what}.{domain}: {} ({status})",
            status.description()
        )),
        TxtStatus::None | TxtStatus::Valid => {}
    }
}

/// The deviations that make the policy unusable, each as a sentence.
fn invalidating(d: &DomainRow) -> Vec<String> {
    d.sts_deviations
        .iter()
        .filter_map(|s| s.parse::<Deviation>().ok())
        .filter(|v| v.invalidates() && !v.is_record_deviation())
        .map(|v| format!("{v}: {}", sentence(strip_effect(v.description()))))
        .collect()
}

/// Deviation texts begin with "Note (RFC …). " or "Invalidating (RFC …). ".
pub fn strip_effect(text: &str) -> &str {
    match text.split_once("). ") {
        Some((lead, rest)) if lead.starts_with("Note") || lead.starts_with("Invalidating") => rest,
        _ => text,
    }
}

/// Why an enforcing sender delivers or not (RFC 8461 §4.1, §5), in one sentence.
pub fn delivery_reason(d: &DomainRow, mx: &[MxRow]) -> String {
    match d.sts_delivery {
        Delivery::NoPolicy => match d.sts_mode {
            Some(mxscan_model::Mode::None) => "the policy's mode is none".into(),
            _ => "no valid MTA-STS policy applies".into(),
        },
        Delivery::Ok => {
            let good = mx.iter().find(|r| {
                r.sts_match == Some(true)
                    && r.smtp_status == ProbeStatus::Ok
                    && r.cert_status == Some(CertStatus::Valid)
            });
            match good {
                Some(r) => format!(
                    "{} matches the policy, offers STARTTLS and presents a valid certificate",
                    r.exchange
                ),
                None => "a matching MX host is secure".into(),
            }
        }
        Delivery::WouldFail => {
            if mx.iter().all(|r| r.sts_match != Some(true)) {
                format!(
                    "no MX host matches the policy's mx patterns ({})",
                    d.sts_mx.join(", ")
                )
            } else {
                let bad: Vec<String> = mx
                    .iter()
                    .filter(|r| r.sts_match == Some(true))
                    .map(|r| match r.cert_status {
                        Some(c) if c != CertStatus::Valid => {
                            format!("{}: certificate {c}", r.exchange)
                        }
                        _ => format!("{}: {}", r.exchange, r.smtp_status),
                    })
                    .collect();
                format!("every matching MX host fails TLS ({})", bad.join(", "))
            }
        }
        Delivery::Untested => {
            "no matching MX host could be tested (unreachable, greylisted or timed out)".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxscan_model::Mode;

    fn domain() -> DomainRow {
        DomainRow {
            survey_id: String::new(),
            rank: None,
            domain: "example.com".into(),
            dns_status: DnsStatus::Ok,
            null_mx: false,
            implicit_mx: false,
            mx_hosts: vec!["mx.example.com".into()],
            mx_unresolved: vec![],
            starttls: Coverage::All,
            cert_valid: Coverage::All,
            sts_record: TxtStatus::Valid,
            sts_id: Some("1".into()),
            sts_policy: PolicyStatus::Ok,
            sts_fetch_error: None,
            sts_http_status: Some(200),
            sts_content_type: Some("text/plain".into()),
            sts_mode: Some(Mode::Enforce),
            sts_max_age: Some(86400),
            sts_mx: vec!["mx.example.com".into()],
            sts_deviations: vec![],
            sts_mx_unmatched: vec![],
            sts_delivery: Delivery::Ok,
            tlsrpt_record: TxtStatus::Valid,
            tlsrpt_rua: vec!["mailto:r@example.com".into()],
            tlsrpt_deviations: vec![],
            elapsed_ms: 1,
        }
    }

    fn mx(status: ProbeStatus, cert: Option<CertStatus>) -> MxRow {
        MxRow {
            survey_id: String::new(),
            domain: "example.com".into(),
            exchange: "mx.example.com".into(),
            preference: 10,
            address: "192.0.2.1".into(),
            blocked: status == ProbeStatus::Blocked,
            smtp_status: status,
            starttls: Some(status == ProbeStatus::Ok),
            cert_status: cert,
            sts_match: Some(true),
            cert_matches_domain: None,
        }
    }

    #[test]
    fn a_healthy_domain_has_no_problem_and_says_why_it_delivers() {
        let d = domain();
        let m = [mx(ProbeStatus::Ok, Some(CertStatus::Valid))];
        assert!(problems(&d, &m).is_empty());
        assert_eq!(
            delivery_reason(&d, &m),
            "mx.example.com matches the policy, offers STARTTLS and presents a valid certificate"
        );
    }

    #[test]
    fn each_problem_is_one_sentence_naming_host_and_status() {
        let mut d = domain();
        d.sts_delivery = Delivery::WouldFail;
        let m = [mx(ProbeStatus::Ok, Some(CertStatus::Expired))];
        let p = problems(&d, &m);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("mx.example.com (192.0.2.1)") && p[0].contains("(expired)"));
        assert!(p[1].starts_with("an MTA-STS-enforcing sender would not deliver"));
        assert!(p[1].contains("certificate expired"), "{}", p[1]);

        let m = [mx(ProbeStatus::NoStarttls, None)];
        let p = problems(&domain(), &m);
        assert_eq!(
            p,
            [
                "mx.example.com (192.0.2.1) does not offer STARTTLS: mail to it travels in clear text"
            ]
        );

        let mut d = domain();
        d.dns_status = DnsStatus::NxDomain;
        assert_eq!(
            problems(&d, &[]).len(),
            1,
            "a DNS failure says nothing else"
        );

        let mut d = domain();
        d.sts_policy = PolicyStatus::Invalid;
        d.sts_delivery = Delivery::NoPolicy;
        d.sts_deviations = vec!["lf_line_endings".into(), "missing_mx".into()];
        let p = problems(&d, &[mx(ProbeStatus::Ok, Some(CertStatus::Valid))]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("missing_mx") && !p[0].contains("lf_line_endings"),
            "{p:?}"
        );

        let mut d = domain();
        d.sts_policy = PolicyStatus::FetchError;
        d.sts_fetch_error = Some(FetchError::TlsExpired);
        d.sts_delivery = Delivery::NoPolicy;
        let p = problems(&d, &[mx(ProbeStatus::Ok, Some(CertStatus::Valid))]);
        assert!(p[0].contains("mta-sts.example.com") && p[0].contains("(tls_expired)"));
    }

    #[test]
    fn would_fail_reason_names_unmatched_patterns() {
        let mut d = domain();
        d.sts_delivery = Delivery::WouldFail;
        d.sts_mx = vec!["*.other.net".into()];
        let mut m = mx(ProbeStatus::Ok, Some(CertStatus::Valid));
        m.sts_match = Some(false);
        assert_eq!(
            delivery_reason(&d, &[m]),
            "no MX host matches the policy's mx patterns (*.other.net)"
        );
    }

    #[test]
    fn deviation_sentences_drop_the_effect_prefix() {
        let text = Deviation::MissingMx.description();
        let s = sentence(strip_effect(text));
        assert!(!s.starts_with("Invalidating"), "{s}");
        assert!(s.ends_with('.'), "{s}");
    }
}
