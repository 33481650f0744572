//! Micro-benchmarks of the pure MTA-STS / TLS-RPT parsers (issue 7).
//!
//! Run with `cargo bench -p mxscan-policy --bench policy_parse`. A survey parses one
//! `_mta-sts` TXT answer per domain (RFC 8461 §3.1), one `_smtp._tls` answer (RFC 8460 §3)
//! and, for about 1 % of domains, one policy body (RFC 8461 §3.2), so these must cost
//! microseconds, not milliseconds.

#![allow(missing_docs)]

use mxscan_policy::{mx_matches, parse_policy, parse_sts_records, parse_tlsrpt_records};

fn main() {
    divan::main();
}

/// Policy bodies from `testdata/` (a typical one, one with comments and odd line endings).
const BODIES: &[(&str, &[u8])] = &[
    (
        "google_style_enforce",
        include_bytes!("../testdata/google-style-enforce.txt"),
    ),
    (
        "comments_and_blank_lines",
        include_bytes!("../testdata/comments-and-blank-lines.txt"),
    ),
    (
        "duplicate_keys",
        include_bytes!("../testdata/duplicate-keys.txt"),
    ),
];

#[divan::bench(args = [0, 1, 2])]
fn policy_body(i: usize) -> mxscan_policy::PolicyReport {
    parse_policy(divan::black_box(BODIES[i].1))
}

/// A policy at the RFC 8461 §3.2 size cap (64 KiB): many `mx` lines.
#[divan::bench]
fn policy_body_64k(bencher: divan::Bencher<'_, '_>) {
    let mut body = b"version: STSv1\r\nmode: enforce\r\nmax_age: 604800\r\n".to_vec();
    let mut i = 0;
    while body.len() < 64 * 1024 - 40 {
        body.extend_from_slice(format!("mx: mx{i}.example.com\r\n").as_bytes());
        i += 1;
    }
    bencher.bench(|| parse_policy(divan::black_box(&body)));
}

#[divan::bench]
fn sts_txt_record() -> mxscan_policy::StsRecord {
    let records: Vec<Vec<Vec<u8>>> = vec![vec![b"v=STSv1; id=20240115T120000;".to_vec()]];
    parse_sts_records(divan::black_box(&records))
}

#[divan::bench]
fn tlsrpt_txt_record() -> mxscan_policy::TlsRptRecord {
    let records: Vec<Vec<Vec<u8>>> = vec![vec![
        b"v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://report.example.com/tlsrpt".to_vec(),
    ]];
    parse_tlsrpt_records(divan::black_box(&records))
}

#[divan::bench(args = ["mx1.example.com", "*.mail.example.com", "*.example.org"])]
fn mx_pattern(pattern: &str) -> bool {
    mx_matches(
        divan::black_box(pattern),
        divan::black_box("a.mail.example.com"),
    )
}
