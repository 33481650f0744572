//! Cross-check of two independent statements: for every MTA-STS and TLS-RPT scenario, what
//! the world *declares* a correct parser must find in what it serves (`sts::Expected*`,
//! written by hand in the testbed) against what the `mxscan-policy` crate's parsers
//! actually find in the same bytes.

use std::collections::BTreeSet;

use mxscan_policy::{
    content_type_deviation, parse_policy, parse_sts_records, parse_tlsrpt_records,
};
use mxscan_testbed::behaviour::{Behaviours, HttpResponse, HttpsSite};
use mxscan_testbed::names::synthetic_domains;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::{StsScenario, TlsRptScenario};
use mxscan_testbed::sts::{
    expected_sts_record, expected_tlsrpt_record, policy_doc, sts_txt_records, tlsrpt_txt_records,
};
use mxscan_testbed::world::{QType, World};

fn world() -> World {
    mxscan_testkit::bed::world(8, Profile::Stress)
}

/// Domains of every DNS layout (patterns depend on the MX set).
fn sample() -> Vec<String> {
    synthetic_domains(8, 300, Profile::Stress)
        .map(|(_, d)| d)
        .chain(["example.com".to_owned(), "xn--bcher-kva.example".to_owned()])
        .collect()
}

#[test]
fn policy_bodies_parse_as_the_world_declares() {
    let w = world();
    for d in sample() {
        for sts in StsScenario::ALL {
            let doc = policy_doc(&w, &d, *sts);
            let report = parse_policy(&doc.body);
            let e = &doc.expected;
            let ctx = format!("{d} / {sts}: {}", String::from_utf8_lossy(&doc.body));
            assert_eq!(report.valid, e.valid, "{ctx}\n{report:?}");
            assert_eq!(report.version, e.version, "{ctx}");
            assert_eq!(report.mode, e.mode, "{ctx}");
            assert_eq!(report.max_age, e.max_age, "{ctx}");
            assert_eq!(report.mx, e.mx, "{ctx}");
            let got: Vec<&str> = report.deviations.iter().map(|d| d.as_str()).collect();
            assert_eq!(got, e.deviations, "{ctx}");
            let ct_plain = content_type_deviation(doc.content_type.as_deref()).is_none();
            assert_eq!(
                ct_plain,
                *sts != StsScenario::ContentTypeHtml && *sts != StsScenario::Html200,
                "{ctx}"
            );
        }
    }
}

#[test]
fn txt_records_parse_as_the_world_declares() {
    let w = world();
    for d in sample() {
        for sts in StsScenario::ALL {
            let records = sts_txt_records(&w, &d, *sts);
            let got = parse_sts_records(&records);
            let want = expected_sts_record(&w, &d, *sts);
            assert_eq!(got.status.as_str(), want.status, "{d} / {sts}");
            if want.status == "valid" {
                assert_eq!(got.id, want.id, "{d} / {sts}");
            }
            let devs: Vec<&str> = got.deviations.iter().map(|x| x.as_str()).collect();
            assert_eq!(devs, want.deviations, "{d} / {sts}");
        }
        for tlsrpt in TlsRptScenario::ALL {
            let records = tlsrpt_txt_records(&d, *tlsrpt);
            let got = parse_tlsrpt_records(&records);
            let want = expected_tlsrpt_record(&d, *tlsrpt);
            assert_eq!(got.status.as_str(), want.status, "{d} / {tlsrpt}");
            assert_eq!(got.rua, want.rua, "{d} / {tlsrpt}");
        }
    }
}

/// The HTTPS site serves exactly the document the truth was computed from, and the
/// truth's `sts_deviations` are in the canonical order of `Deviation::normalize`.
#[test]
fn sites_serve_the_declared_documents() {
    let w = world();
    let mut seen = BTreeSet::new();
    for (_, d) in synthetic_domains(8, 3_000, Profile::Stress) {
        let sc = w.scenario(&d);
        let t = w.expected(&d);
        let mut canonical: Vec<mxscan_policy::Deviation> = t.sts_deviations.clone();
        mxscan_policy::Deviation::normalize(&mut canonical);
        let canonical: Vec<&str> = canonical.iter().map(|x| x.as_str()).collect();
        assert_eq!(canonical, t.sts_deviations, "{d}");
        let host = format!("mta-sts.{d}");
        let Some(addr) = w.query(&host, QType::A).addresses().first().copied() else {
            continue;
        };
        if let HttpsSite::Serve {
            response: HttpResponse::Body { body, content_type },
            ..
        } = w.https_site(addr, Some(&host))
        {
            let doc = policy_doc(&w, &d, sc.sts);
            assert_eq!(body, doc.body, "{d}");
            assert_eq!(content_type, doc.content_type, "{d}");
            seen.insert(sc.sts);
        }
    }
    assert!(seen.len() >= 15, "only {seen:?}");
}
