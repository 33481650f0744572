//! Synthetic rows for the store tests: deterministic, covering every column kind (nulls,
//! empty and non-empty lists, every status value, timestamps, binary), and an engine-like
//! driver that follows the writer's contract (probes and certs before the domains that use
//! them; a domain's rows in one message; resume skips indexed domains and reuses probes).
#![allow(dead_code, clippy::manual_is_multiple_of)]

use std::collections::HashSet;
use std::path::PathBuf;

use mxscan_model::{ProbeStatus, Vocab};

use mxscan_store::{
    CertRow, DomainRow, MxRow, ProbeRow, ResumeIndex, SurveyStatus, SurveyWriter, TimestampMs,
    TimestampS, domains, mx, probes,
};

/// The `i`-th value (cyclically) of a column's vocabulary, as the column's enum.
fn pick<V: Vocab>(voc: &mxscan_store::Vocabulary, i: usize) -> V {
    V::parse(voc.values[i % voc.values.len()].0).expect("the vocabulary is the enum's")
}

fn opt_pick<V: Vocab>(voc: &mxscan_store::Vocabulary, i: usize) -> Option<V> {
    (i % 3 != 0).then(|| pick(voc, i))
}

pub fn sha(i: usize) -> String {
    format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15 + 1)
}

/// The addresses domain `i` resolves to (shared between domains: probe once, judge many).
pub fn addresses(i: usize) -> Vec<String> {
    match i % 5 {
        0 => vec![],
        1 => vec![format!("127.0.{}.{}", i % 7, i % 11 + 1)],
        _ => vec![
            format!("127.0.{}.{}", i % 7, i % 11 + 1),
            format!("127.1.{}.{}", i % 3, i % 13 + 1),
        ],
    }
}

pub fn domain_name(i: usize) -> String {
    format!("d{i:05}.example")
}

pub fn cert(survey: &str, k: usize) -> CertRow {
    CertRow {
        survey_id: survey.into(),
        sha256: sha(k),
        der: (0..(k % 40 + 1)).map(|b| (b * 7 + k) as u8).collect(),
        subject: format!("CN=mx{k}.example"),
        issuer: if k % 4 == 0 {
            format!("CN=mx{k}.example")
        } else {
            "CN=Test CA,O=mxscan".into()
        },
        san_dns: if k % 6 == 0 {
            vec![]
        } else {
            vec![format!("mx{k}.example"), "*.example".into()]
        },
        not_before: TimestampS(1_790_000_000 + k as i64),
        not_after: TimestampS(1_800_000_000 - k as i64),
        self_signed: k % 4 == 0,
        key_type: ["rsa", "ecdsa-p256", "ed25519"][k % 3].into(),
        key_bits: [2048, 256, 256][k % 3],
        signature_algorithm: "ecdsa-with-SHA256".into(),
    }
}

/// Probe row for an address; its chain refers to two certificates.
pub fn probe(survey: &str, address: &str) -> (ProbeRow, Vec<CertRow>) {
    let k = address.bytes().map(usize::from).sum::<usize>();
    let status: ProbeStatus = pick(&probes::STATUS, k);
    let tls = status == "ok";
    let chain: Vec<CertRow> = if tls {
        vec![cert(survey, k % 17), cert(survey, 100)]
    } else {
        vec![]
    };
    let row = ProbeRow {
        survey_id: survey.into(),
        address: address.into(),
        port: 25,
        sni: tls.then(|| format!("mx{k}.example")),
        status,
        banner: (k % 4 != 0).then(|| format!("220 mx{k}.example ESMTP \u{e9}")),
        ehlo_keywords: if k % 2 == 0 {
            vec![]
        } else {
            vec!["PIPELINING".into(), "STARTTLS".into(), "SIZE 1000".into()]
        },
        ehlo_keywords_tls: if tls {
            vec!["PIPELINING".into()]
        } else {
            vec![]
        },
        starttls_offered: (k % 3 != 0).then_some(k % 2 == 1),
        starttls_code: tls.then_some(220),
        bytes_after_starttls: tls.then_some((k % 3) as u32),
        starttls_sample: (tls && k % 3 != 0)
            .then(|| vec![0u8, 0xff, b'2', b'5', b'0'][..k % 3 + 2].to_vec()),
        tls_version: tls.then(|| "TLSv1.3".into()),
        cipher_suite: tls.then(|| "TLS13_AES_128_GCM_SHA256".into()),
        kx_group: tls.then(|| "X25519".into()),
        chain_sha256: chain.iter().map(|c| c.sha256.clone()).collect(),
        tls_error: (status == "tls_failed")
            .then(|| "invalid peer certificate: UnknownIssuer".into()),
        tls_max_version: tls.then(|| "TLSv1.3".into()),
        tls_failure: (status == "tls_failed").then_some(mxscan_model::TlsFailure::NoSharedCipher),
        modern_tls_failure: None,
        chain_completed: tls.then_some(k % 7 == 0),
        legacy_ms: (k % 11 == 0).then_some(k as u32 % 50),
        started_at: TimestampMs(1_795_341_600_000 + k as i64 * 7 + 3),
        connect_ms: (k % 5 != 0).then_some(k as u32 % 90),
        greeting_ms: (k % 5 != 1).then_some(k as u32 % 70),
        ehlo_ms: (k % 5 != 2).then_some(3),
        tls_ms: tls.then_some(12),
        total_ms: Some(k as u32),
    };
    (row, chain)
}

/// Domain `i`: its domains row and mx rows.
pub fn domain(survey: &str, i: usize) -> (DomainRow, Vec<MxRow>) {
    let name = domain_name(i);
    let addrs = addresses(i);
    let hosts: Vec<String> = (0..addrs.len()).map(|j| format!("mx{j}.{name}")).collect();
    let mx_rows: Vec<MxRow> = addrs
        .iter()
        .enumerate()
        .map(|(j, a)| MxRow {
            survey_id: survey.into(),
            domain: name.clone(),
            exchange: hosts[j].clone(),
            preference: (j * 10) as u16,
            address: a.clone(),
            blocked: i % 13 == 0,
            smtp_status: pick(&mx::SMTP_STATUS, i + j),
            starttls: (i % 4 != 0).then_some(j == 0),
            cert_status: opt_pick(&mx::CERT_STATUS, i + j),
            sts_match: (i % 2 == 0).then_some(i % 4 == 0),
            cert_matches_domain: (i % 3 == 1).then_some(false),
        })
        .collect();
    let row = DomainRow {
        survey_id: survey.into(),
        rank: (i % 6 != 0).then_some(i as u64 + 1),
        domain: name.clone(),
        dns_status: pick(&domains::DNS_STATUS, i),
        null_mx: i % 17 == 0,
        implicit_mx: i % 19 == 0,
        mx_hosts: hosts.clone(),
        mx_unresolved: if i % 7 == 0 {
            vec![format!("gone.{name}")]
        } else {
            vec![]
        },
        starttls: pick(&domains::STARTTLS, i),
        cert_valid: pick(&domains::CERT_VALID, i + 1),
        sts_record: pick(&domains::STS_RECORD, i),
        sts_id: (i % 3 == 0).then(|| format!("id{i}")),
        sts_policy: pick(&domains::STS_POLICY, i),
        sts_fetch_error: opt_pick(&domains::STS_FETCH_ERROR, i),
        sts_http_status: (i % 4 == 1).then_some(if i % 8 == 1 { 200 } else { 404 }),
        sts_content_type: (i % 4 == 1).then(|| "text/plain; charset=utf-8".into()),
        sts_mode: opt_pick(&domains::STS_MODE, i),
        sts_max_age: (i % 3 == 2).then_some(86_400 * (i as i64 % 7 + 1)),
        sts_mx: if i % 3 == 2 {
            vec![format!("*.{name}"), "mx.other.example".into()]
        } else {
            vec![]
        },
        sts_deviations: if i % 10 == 2 {
            vec!["mx_trailing_dot".into(), "bare_lf".into()]
        } else {
            vec![]
        },
        sts_mx_unmatched: if i % 9 == 2 { hosts.clone() } else { vec![] },
        sts_delivery: pick(&domains::STS_DELIVERY, i),
        tlsrpt_record: pick(&domains::TLSRPT_RECORD, i + 2),
        tlsrpt_rua: if i % 5 == 3 {
            vec![format!("mailto:tlsrpt@{name}")]
        } else {
            vec![]
        },
        tlsrpt_deviations: if i % 11 == 3 {
            vec!["unknown_field".into()]
        } else {
            vec![]
        },
        elapsed_ms: (i * 37 % 5000) as u32,
    };
    (row, mx_rows)
}

/// Sends domains `range` the way the engine will: skip domains in `index`, probe each new
/// address once (reusing indexed probes), send the probe and its chain before the domain.
pub async fn drive(
    w: &SurveyWriter,
    survey: &str,
    range: std::ops::Range<usize>,
    index: Option<&ResumeIndex>,
    probed: &mut HashSet<String>,
) {
    if let Some(ix) = index {
        probed.extend(ix.probes.keys().map(|(a, _)| a.clone()));
    }
    for i in range {
        if index.is_some_and(|ix| ix.domains.contains(&domain_name(i))) {
            continue;
        }
        for a in addresses(i) {
            if probed.insert(a.clone()) {
                let (p, chain) = probe(survey, &a);
                for c in chain {
                    w.cert(c).await.unwrap();
                }
                w.probe(p).await.unwrap();
            }
        }
        let (d, m) = domain(survey, i);
        w.domain(d, m).await.unwrap();
    }
}

/// A survey `survey` written in directory `name` of a fresh temporary root: domains
/// `range`, sent the way [`drive`] sends them, finished as `status`. The root (keep it) and
/// the directory.
pub async fn finished_survey(
    survey: &str,
    name: &str,
    range: std::ops::Range<usize>,
    status: SurveyStatus,
) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    let (w, h) = SurveyWriter::spawn(&dir, survey, small_opts()).unwrap();
    drive(&w, survey, range, None, &mut HashSet::new()).await;
    h.finish(status).await.unwrap();
    (root, dir)
}

/// The rows a clean run over `range` produces, sorted the way [`sorted`] sorts.
pub fn expected(survey: &str, range: std::ops::Range<usize>) -> Tables {
    let mut t = Tables::default();
    let mut probed = HashSet::new();
    let mut certs_seen = HashSet::new();
    for i in range {
        for a in addresses(i) {
            if probed.insert(a.clone()) {
                let (p, chain) = probe(survey, &a);
                for c in chain {
                    if certs_seen.insert(c.sha256.clone()) {
                        t.certs.push(c);
                    }
                }
                t.probes.push(p);
            }
        }
        let (d, m) = domain(survey, i);
        t.domains.push(d);
        t.mx.extend(m);
    }
    sorted(t)
}

#[derive(Debug, Default, PartialEq)]
pub struct Tables {
    pub domains: Vec<DomainRow>,
    pub mx: Vec<MxRow>,
    pub probes: Vec<ProbeRow>,
    pub certs: Vec<CertRow>,
}

pub fn sorted(mut t: Tables) -> Tables {
    t.domains.sort_by(|a, b| a.domain.cmp(&b.domain));
    t.mx.sort_by(|a, b| {
        (&a.domain, &a.exchange, &a.address).cmp(&(&b.domain, &b.exchange, &b.address))
    });
    t.probes
        .sort_by(|a, b| (&a.address, a.port).cmp(&(&b.address, b.port)));
    t.certs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    t
}

pub fn read_all(dir: &std::path::Path) -> Tables {
    use mxscan_store::reader;
    sorted(Tables {
        domains: reader::read_domains(dir).unwrap(),
        mx: reader::read_mx(dir).unwrap(),
        probes: reader::read_probes(dir).unwrap(),
        certs: reader::read_certs(dir).unwrap(),
    })
}

/// File names in a table directory (sorted), including hidden temporary files.
pub fn files(dir: &std::path::Path, table: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(table))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

pub fn small_opts() -> mxscan_store::WriterOptions {
    mxscan_store::WriterOptions {
        channel_capacity: 16,
        row_group_rows: 7,
        part_max_rows: 40,
        part_max_age: std::time::Duration::from_secs(3600),
        zstd_level: 1,
        resume: None,
    }
}
