//! The evaluation rules of `engine::evaluate`, on hand-made observations.

use std::net::IpAddr;
use std::sync::Arc;

use mxscan_engine::plan::{mail_hosts, plan};
use mxscan_model::dns::{AddrAnswer, LookupStatus as DnsStatus, MxAnswer, MxRecord, TxtAnswer};
use mxscan_model::observation::{DomainObs, ExchangeObs, HostResult, HostView, PolicyFetch};
use mxscan_model::{DomainRow, MxRow};

/// The scheduler's two steps: the plan from the DNS answers, then the rows.
fn evaluate(survey_id: &str, o: &DomainObs, max_mx: usize) -> (DomainRow, Vec<MxRow>) {
    let p = plan(&o.domain, &o.mx, o.fallback.as_ref(), &o.sts_txt, max_mx);
    mxscan_engine::evaluate::evaluate(survey_id, &p, o)
}

fn mx(status: DnsStatus, records: &[(u16, &str)]) -> MxAnswer {
    MxAnswer {
        status,
        records: records
            .iter()
            .map(|(p, e)| MxRecord {
                preference: *p,
                exchange: e.to_string(),
                ip_literal: false,
            })
            .collect(),
        null_mx: records.len() == 1 && records[0].1 == "." && records[0].0 == 0,
        cname: false,
        error: None,
    }
}

fn addrs(status: DnsStatus, a: &[&str]) -> AddrAnswer {
    AddrAnswer {
        status,
        addrs: a.iter().map(|s| s.parse().unwrap()).collect(),
        cname: false,
        cname_chain: vec![],
        error: None,
    }
}

fn txt(status: DnsStatus, recs: &[&str]) -> TxtAnswer {
    TxtAnswer {
        status,
        records: recs.iter().map(|r| vec![r.as_bytes().to_vec()]).collect(),
        cname: false,
        error: None,
    }
}

fn host(status: &str, starttls: Option<bool>) -> HostView {
    HostView::Probed(Arc::new(HostResult {
        status: status.parse().unwrap(),
        starttls,
        chain: None,
    }))
}

fn exchange(name: &str, pref: u16, hosts: Vec<(&str, HostView)>) -> ExchangeObs {
    let ips: Vec<&str> = hosts.iter().map(|(a, _)| *a).collect();
    ExchangeObs {
        exchange: name.into(),
        preference: pref,
        addrs: if ips.is_empty() {
            addrs(DnsStatus::NxDomain, &[])
        } else {
            addrs(DnsStatus::Ok, &ips)
        },
        hosts: hosts
            .into_iter()
            .map(|(a, v)| (a.parse::<IpAddr>().unwrap(), v))
            .collect(),
    }
}

fn obs(domain: &str, mx: MxAnswer, exchanges: Vec<ExchangeObs>) -> DomainObs {
    DomainObs {
        rank: Some(1),
        domain: domain.into(),
        mx,
        fallback: None,
        exchanges,
        sts_txt: txt(DnsStatus::NoData, &[]),
        tlsrpt_txt: txt(DnsStatus::NxDomain, &[]),
        fetch: None,
        elapsed_ms: 5,
    }
}

#[test]
fn dns_statuses() {
    let cases: &[(DnsStatus, Option<DnsStatus>, &str, bool)] = &[
        (DnsStatus::NxDomain, None, "nxdomain", false),
        (DnsStatus::ServFail, None, "servfail", false),
        (DnsStatus::Refused, None, "refused", false),
        (DnsStatus::Timeout, None, "timeout", false),
        (DnsStatus::Error, None, "error", false),
        (
            DnsStatus::NoData,
            Some(DnsStatus::NoData),
            "no_mail_host",
            false,
        ),
        (
            DnsStatus::NoData,
            Some(DnsStatus::NxDomain),
            "no_mail_host",
            false,
        ),
        (
            DnsStatus::NoData,
            Some(DnsStatus::ServFail),
            "servfail",
            false,
        ),
        (DnsStatus::NoData, Some(DnsStatus::Ok), "ok", true),
    ];
    for (mx_status, fb, want, implicit) in cases {
        let m = mx(*mx_status, &[]);
        let f = fb.map(|s| {
            addrs(
                s,
                if s == DnsStatus::Ok {
                    &["192.0.2.1"]
                } else {
                    &[]
                },
            )
        });
        let h = mail_hosts("example.com", &m, f.as_ref(), 10);
        assert_eq!(h.dns_status, *want, "{mx_status:?}/{fb:?}");
        assert_eq!(h.implicit_mx, *implicit);
        if *implicit {
            assert_eq!(h.exchanges, vec![("example.com".to_string(), 0)]);
        }
    }
}

#[test]
fn null_mx_is_ok_without_rows() {
    let o = obs("example.com", mx(DnsStatus::Ok, &[(0, ".")]), vec![]);
    let (d, rows) = evaluate("s", &o, 10);
    assert_eq!((d.dns_status.as_str(), d.null_mx), ("ok", true));
    assert!(rows.is_empty() && d.mx_hosts.is_empty());
    assert_eq!(
        (d.starttls.as_str(), d.cert_valid.as_str()),
        ("no_mx", "no_mx")
    );
}

#[test]
fn mx_cap_and_order_and_dot_skipped() {
    let m = mx(
        DnsStatus::Ok,
        &[
            (10, "a.example"),
            (20, "b.example"),
            (30, "."),
            (40, "c.example"),
        ],
    );
    let h = mail_hosts("example.com", &m, None, 2);
    assert_eq!(
        h.exchanges,
        vec![("a.example".into(), 10), ("b.example".into(), 20)]
    );
}

#[test]
fn aggregates_and_blocked_and_unresolved() {
    let o = obs(
        "example.com",
        mx(
            DnsStatus::Ok,
            &[
                (10, "mx1.example.com"),
                (20, "mx2.example.com"),
                (30, "gone.example.com"),
            ],
        ),
        vec![
            exchange(
                "mx1.example.com",
                10,
                vec![("127.1.0.1", host("ok", Some(true)))],
            ),
            exchange(
                "mx2.example.com",
                20,
                vec![
                    ("10.0.0.1", HostView::Blocked),
                    ("127.1.0.2", host("no_starttls", Some(false))),
                ],
            ),
            exchange("gone.example.com", 30, vec![]),
        ],
    );
    let (d, rows) = evaluate("s", &o, 10);
    assert_eq!(rows.len(), 3);
    assert_eq!(d.mx_unresolved, vec!["gone.example.com"]);
    assert_eq!(d.mx_hosts.len(), 3);
    let blocked = rows.iter().find(|r| r.address == "10.0.0.1").unwrap();
    assert!(blocked.blocked && blocked.smtp_status == "blocked" && blocked.starttls.is_none());
    assert_eq!(d.starttls, "some");
    assert_eq!(
        d.cert_valid, "untested",
        "no host completed TLS with a chain"
    );

    let o = obs(
        "x.example",
        mx(DnsStatus::Ok, &[(10, "mx.x.example")]),
        vec![exchange(
            "mx.x.example",
            10,
            vec![("127.1.0.3", host("greeting_timeout", None))],
        )],
    );
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(
        (d.starttls.as_str(), d.cert_valid.as_str()),
        ("untested", "untested")
    );
}

#[test]
fn sts_record_statuses_and_fetch() {
    let mut o = obs(
        "example.com",
        mx(DnsStatus::Ok, &[(10, "mx1.example.com")]),
        vec![exchange(
            "mx1.example.com",
            10,
            vec![("127.1.0.1", host("no_starttls", Some(false)))],
        )],
    );
    // dns_error on the TXT lookup.
    o.sts_txt = txt(DnsStatus::ServFail, &[]);
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(
        (
            d.sts_record.as_str(),
            d.sts_policy.as_str(),
            d.sts_delivery.as_str()
        ),
        ("dns_error", "not_fetched", "no_policy")
    );

    // valid record, fetch error.
    o.sts_txt = txt(DnsStatus::Ok, &["v=STSv1; id=abc;"]);
    o.fetch = Some(PolicyFetch {
        error: Some("tls_expired".parse().unwrap()),
        ..Default::default()
    });
    let (d, rows) = evaluate("s", &o, 10);
    assert_eq!(
        (d.sts_record.as_str(), d.sts_id.as_deref()),
        ("valid", Some("abc"))
    );
    assert_eq!(
        (d.sts_policy.as_str(), d.sts_fetch_error.map(|v| v.as_str())),
        ("fetch_error", Some("tls_expired"))
    );
    assert!(rows.iter().all(|r| r.sts_match.is_none()));

    // valid policy; the only MX lacks STARTTLS → would_fail; unmatched pattern listed.
    o.fetch = Some(PolicyFetch {
        error: None,
        http_status: Some(200),
        content_type: Some("text/html".into()),
        body: b"version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 86400\n".to_vec(),
    });
    let (d, rows) = evaluate("s", &o, 10);
    assert_eq!(d.sts_policy, "ok");
    assert_eq!(
        (d.sts_mode.map(|v| v.as_str()), d.sts_max_age),
        (Some("enforce"), Some(86400))
    );
    assert_eq!(d.sts_delivery, "would_fail");
    assert!(d.sts_mx_unmatched.is_empty());
    assert_eq!(rows[0].sts_match, Some(true));
    assert!(d.sts_deviations.contains(&"lf_line_endings".to_string()));
    assert!(
        d.sts_deviations
            .contains(&"content_type_not_text_plain".to_string())
    );
    assert_eq!(d.sts_http_status, Some(200));

    // Patterns that do not cover the MX.
    o.fetch.as_mut().unwrap().body =
        b"version: STSv1\r\nmode: testing\r\nmx: *.other.net\r\nmax_age: 600\r\n".to_vec();
    let (d, rows) = evaluate("s", &o, 10);
    assert_eq!(d.sts_mx_unmatched, vec!["mx1.example.com"]);
    assert_eq!(rows[0].sts_match, Some(false));
    assert_eq!(d.sts_delivery, "would_fail");

    // Invalid policy.
    o.fetch.as_mut().unwrap().body = b"version: STSv1\nmode: enforce\nmax_age: 600\n".to_vec();
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(
        (d.sts_policy.as_str(), d.sts_delivery.as_str()),
        ("invalid", "no_policy")
    );
    assert!(d.sts_deviations.contains(&"missing_mx".to_string()));

    // Multiple records → no fetch even if one was made.
    o.sts_txt = txt(DnsStatus::Ok, &["v=STSv1; id=a;", "v=STSv1; id=b;"]);
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(
        (d.sts_record.as_str(), d.sts_policy.as_str()),
        ("multiple", "not_fetched")
    );
    assert!(d.sts_id.is_none());
}

#[test]
fn tlsrpt() {
    let mut o = obs("example.com", mx(DnsStatus::NxDomain, &[]), vec![]);
    o.tlsrpt_txt = txt(DnsStatus::Ok, &["v=TLSRPTv1; rua=mailto:r@example.com"]);
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(d.tlsrpt_record, "valid");
    assert_eq!(d.tlsrpt_rua, vec!["mailto:r@example.com"]);
    o.tlsrpt_txt = txt(DnsStatus::Timeout, &[]);
    let (d, _) = evaluate("s", &o, 10);
    assert_eq!(d.tlsrpt_record, "dns_error");
}
