//! Summary numbers on a hand-made survey whose answers are known.

use mxscan_model::{
    Coverage, Delivery, DnsStatus, FetchError, Mode, PolicyStatus, ProbeStatus, TxtStatus,
};
use mxscan_store::summary::Summary;
use mxscan_store::{DomainRow, MxRow, SurveyStatus, SurveyWriter, WriterOptions};

const S: &str = "2026-11-22T1000Z";

fn dom(name: &str) -> DomainRow {
    DomainRow {
        survey_id: S.into(),
        rank: None,
        domain: name.into(),
        dns_status: DnsStatus::Ok,
        null_mx: false,
        implicit_mx: false,
        mx_hosts: vec![],
        mx_unresolved: vec![],
        starttls: Coverage::All,
        cert_valid: Coverage::All,
        sts_record: TxtStatus::None,
        sts_id: None,
        sts_policy: PolicyStatus::NotFetched,
        sts_fetch_error: None,
        sts_http_status: None,
        sts_content_type: None,
        sts_mode: None,
        sts_max_age: None,
        sts_mx: vec![],
        sts_deviations: vec![],
        sts_mx_unmatched: vec![],
        sts_delivery: Delivery::NoPolicy,
        tlsrpt_record: TxtStatus::None,
        tlsrpt_rua: vec![],
        tlsrpt_deviations: vec![],
        elapsed_ms: 1,
    }
}

fn mx(
    domain: &str,
    exchange: &str,
    address: &str,
    starttls: Option<bool>,
    cert: Option<&'static str>,
) -> MxRow {
    MxRow {
        survey_id: S.into(),
        domain: domain.into(),
        exchange: exchange.into(),
        preference: 10,
        address: address.into(),
        blocked: false,
        smtp_status: if starttls == Some(true) {
            ProbeStatus::Ok
        } else {
            ProbeStatus::NoStarttls
        },
        starttls,
        cert_status: cert.map(|c| c.parse().unwrap()),
        sts_match: None,
        cert_matches_domain: None,
    }
}

/// The mx row of `domain` at the shared host mx1.a.example (127.0.0.1, valid certificate).
fn on_mx1_a(domain: &str) -> MxRow {
    mx(
        domain,
        "mx1.a.example",
        "127.0.0.1",
        Some(true),
        Some("valid"),
    )
}

#[tokio::test]
async fn summary_of_a_known_survey() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(format!("survey={S}"));
    let (w, h) = SurveyWriter::spawn(&dir, S, WriterOptions::default()).unwrap();

    let a = DomainRow {
        sts_record: TxtStatus::Valid,
        sts_policy: PolicyStatus::Ok,
        sts_mode: Some(Mode::Enforce),
        sts_delivery: Delivery::Ok,
        tlsrpt_record: TxtStatus::Valid,
        tlsrpt_rua: vec!["mailto:r@a.example".into()],
        ..dom("a.example")
    };
    w.domain(a, vec![on_mx1_a("a.example")]).await.unwrap();
    let b = DomainRow {
        starttls: Coverage::Some,
        cert_valid: Coverage::None,
        sts_record: TxtStatus::Valid,
        sts_policy: PolicyStatus::FetchError,
        sts_fetch_error: Some(FetchError::TlsExpired),
        ..dom("b.example")
    };
    w.domain(
        b,
        vec![
            mx(
                "b.example",
                "mx1.b.example",
                "127.0.0.2",
                Some(true),
                Some("expired"),
            ),
            mx("b.example", "mx2.b.example", "127.0.0.3", Some(false), None),
        ],
    )
    .await
    .unwrap();
    let c = DomainRow {
        dns_status: DnsStatus::NxDomain,
        starttls: Coverage::NoMx,
        cert_valid: Coverage::NoMx,
        ..dom("c.example")
    };
    w.domain(c, vec![]).await.unwrap();
    let d = DomainRow {
        sts_record: TxtStatus::Valid,
        sts_policy: PolicyStatus::Ok,
        sts_mode: Some(Mode::Enforce),
        sts_delivery: Delivery::WouldFail,
        sts_deviations: vec!["mx_trailing_dot".into()],
        ..dom("d.example")
    };
    w.domain(d, vec![on_mx1_a("d.example")]).await.unwrap();
    h.finish(SurveyStatus::Complete).await.unwrap();

    let s = Summary::compute(&dir).unwrap();
    assert_eq!(s.survey_id, S);
    assert_eq!(s.status, "complete");
    let checks: &[(&str, u64, u64)] = &[
        ("domains written", s.domains.written, 4),
        ("resolved", s.domains.resolved, 3),
        ("with mail hosts", s.domains.with_mail_hosts, 3),
        ("starttls all", s.starttls_by_domain.get("all"), 2),
        ("starttls some", s.starttls_by_domain.get("some"), 1),
        ("starttls denominator", s.starttls_by_domain.denominator, 3),
        ("cert none", s.cert_by_domain.get("none"), 1),
        ("hosts", s.hosts.hosts, 3),
        ("addresses", s.hosts.addresses, 3),
        ("mx rows", s.hosts.mx_rows, 4),
        ("host offered", s.starttls_by_host.get("offered"), 2),
        ("host not offered", s.starttls_by_host.get("not_offered"), 1),
        ("host cert valid", s.cert_by_host.get("valid"), 1),
        ("host cert expired", s.cert_by_host.get("expired"), 1),
        ("host cert denominator", s.cert_by_host.denominator, 2),
        ("sts valid", s.mta_sts.record.get("valid"), 3),
        ("sts policy ok", s.mta_sts.policy.get("ok"), 2),
        ("sts policy denominator", s.mta_sts.policy.denominator, 3),
        (
            "sts fetch tls_expired",
            s.mta_sts.fetch_error.get("tls_expired"),
            1,
        ),
        ("sts enforce", s.mta_sts.mode.get("enforce"), 2),
        (
            "sts delivery denominator",
            s.mta_sts.delivery.denominator,
            2,
        ),
        ("would fail", s.mta_sts.would_fail, 1),
        ("deviating domains", s.mta_sts.with_deviations, 1),
        ("tlsrpt valid", s.tlsrpt.record.get("valid"), 1),
        ("tlsrpt rua", s.tlsrpt.with_rua, 1),
        ("tlsrpt rua mailto", s.tlsrpt.rua_schemes["mailto"], 1),
        ("probed addresses", s.hosts.probed_addresses, 0),
        (
            "cert classes denominator",
            s.cert_problems_by_domain.denominator,
            3,
        ),
        (
            "cert classes valid",
            s.cert_problems_by_domain.get("valid"),
            2,
        ),
        (
            "cert classes expired",
            s.cert_problems_by_domain.get("expired"),
            1,
        ),
        ("provider denominator", s.providers.denominator, 3),
        ("providers", s.providers.distinct, 2),
        ("top providers serve", s.providers.top_domains, 3),
    ];
    for (what, got, want) in checks {
        assert_eq!(got, want, "{what}");
    }
    let top: Vec<(&str, u64, u64)> = s
        .providers
        .top
        .iter()
        .map(|p| (p.provider.as_str(), p.domains, p.hosts))
        .collect();
    assert_eq!(top, [("a.example", 2, 1), ("b.example", 1, 2)]);
    let text = s.render();
    assert!(text.contains("a.example (1 host)"), "{text}");
    assert!(text.contains("STARTTLS by domain (of 3)"), "{text}");
    assert!(text.contains("66.7%"), "{text}");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), s);
}
