//! `mxscan summary` and `mxscan export` on a real survey: a 2,000-domain stress world scanned
//! by the real binary. Summary figures are checked against counts DuckDB computes on its own
//! from the same Parquet files; every exported table parses back (Python csv / json) with the
//! right row count. Argument errors exit 2 naming the path at fault.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Harness, Scan, mxscan, only_survey};
use mxscan_testbed::profile::Profile;
use mxscan_testkit::tools::{python_has, run_ok};
use serde_json::Value;

/// One stress survey shared by the tests of this file (scanned once, on first use).
struct Scanned {
    _h: Harness,
    survey: PathBuf,
}

fn scanned() -> &'static Scanned {
    static S: OnceLock<Scanned> = OnceLock::new();
    S.get_or_init(|| {
        let h = Harness::start(7, Profile::Stress);
        let list = h.write_list("list.csv", 2_000);
        let out = h.dir.path().join("surveys");
        h.scan(&list, &out, &Harness::fast_flags());
        let survey = only_survey(&out);
        Scanned { _h: h, survey }
    })
}

fn run_json(args: &[&str]) -> Value {
    let out = run_ok(mxscan().args(args), &format!("mxscan {args:?}"));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// DuckDB's own counts over the survey's Parquet files, as name → number.
const DUCKDB_FIGURES: &str = r#"
import duckdb, json, sys
d = sys.argv[1]
con = duckdb.connect()
con.execute(f"create view domains as select * from read_parquet('{d}/domains/*.parquet')")
con.execute(f"create view mx as select * from read_parquet('{d}/mx/*.parquet')")
con.execute(f"create view probes as select * from read_parquet('{d}/probes/*.parquet')")
q = lambda sql: con.execute(sql).fetchone()[0]
f = {}
f['domains.written'] = q("select count(*) from domains")
f['domains.resolved'] = q("select count(*) from domains where dns_status = 'ok'")
f['domains.with_mail_hosts'] = q("select count(*) from domains where starttls <> 'no_mx'")
f['domains.null_mx'] = q("select count(*) from domains where null_mx")
f['domains.implicit_mx'] = q("select count(*) from domains where implicit_mx")
for v in ['nxdomain', 'servfail', 'timeout', 'no_mail_host']:
    f['dns_status.' + v] = q(f"select count(*) from domains where dns_status = '{v}'")
for v in ['all', 'some', 'none', 'untested']:
    f['starttls_by_domain.' + v] = q(f"select count(*) from domains where starttls = '{v}'")
    f['cert_by_domain.' + v] = q(f"select count(*) from domains where starttls <> 'no_mx' and cert_valid = '{v}'")
f['hosts.mx_rows'] = q("select count(*) from mx")
f['hosts.hosts'] = q("select count(distinct exchange) from mx")
f['hosts.addresses'] = q("select count(distinct address) from mx")
f['hosts.blocked_addresses'] = q("select count(distinct address) from mx where blocked")
f['hosts.probes'] = q("select count(*) from probes")
f['hosts.probed_addresses'] = q("select count(*) from probes where status <> 'blocked'")
for v in ['ok', 'no_starttls', 'tls_failed', 'greeting_421', 'connect_refused', 'blocked']:
    f['probe_status.' + v] = q(f"select count(*) from probes where status = '{v}'")
hosts = "select exchange, bool_or(starttls) as offered, count(starttls) as tested from mx group by exchange"
f['starttls_by_host.offered'] = q(f"select count(*) from ({hosts}) where offered")
f['starttls_by_host.not_offered'] = q(f"select count(*) from ({hosts}) where not offered")
f['starttls_by_host.untested'] = q(f"select count(*) from ({hosts}) where tested = 0")
first_cert = """select exchange, arg_min(cert_status, address) as c from mx
                where cert_status is not null group by exchange"""
f['cert_by_host.denominator'] = q(f"select count(*) from ({first_cert})")
for v in ['valid', 'expired', 'self_signed', 'name_mismatch', 'untrusted_issuer', 'incomplete_chain']:
    f['cert_by_host.' + v] = q(f"select count(*) from ({first_cert}) where c = '{v}'")
    f['cert_problems_by_domain.' + v] = q(f"select count(distinct domain) from mx where cert_status = '{v}'")
f['cert_problems_by_domain.denominator'] = q("select count(distinct domain) from mx where cert_status is not null")
for v in ['none', 'valid', 'invalid', 'multiple']:
    f['mta_sts.record.' + v] = q(f"select count(*) from domains where sts_record = '{v}'")
f['mta_sts.policy.denominator'] = q("select count(*) from domains where sts_record = 'valid'")
for v in ['ok', 'fetch_error', 'invalid']:
    f['mta_sts.policy.' + v] = q(f"select count(*) from domains where sts_record = 'valid' and sts_policy = '{v}'")
f['mta_sts.fetch_error.denominator'] = q("select count(sts_fetch_error) from domains")
for v in ['dns', 'connect', 'timeout', 'tls_untrusted', 'tls_expired', 'tls_name_mismatch', 'http_status', 'redirect', 'too_large']:
    f['mta_sts.fetch_error.' + v] = q(f"select count(*) from domains where sts_fetch_error = '{v}'")
for v in ['enforce', 'testing', 'none']:
    f['mta_sts.mode.' + v] = q(f"select count(*) from domains where sts_policy = 'ok' and sts_mode = '{v}'")
f['mta_sts.delivery.denominator'] = q("select count(*) from domains where sts_delivery <> 'no_policy'")
f['mta_sts.would_fail'] = q("select count(*) from domains where sts_delivery = 'would_fail'")
f['mta_sts.with_deviations'] = q("select count(*) from domains where len(sts_deviations) > 0")
devs = con.execute("""select dev, count(distinct domain) from
    (select domain, unnest(sts_deviations) as dev from domains) group by dev""").fetchall()
for dev, n in devs:
    f['mta_sts.deviations.' + dev] = n
for v in ['none', 'valid', 'invalid', 'multiple']:
    f['tlsrpt.record.' + v] = q(f"select count(*) from domains where tlsrpt_record = '{v}'")
f['tlsrpt.with_rua'] = q("select count(*) from domains where len(tlsrpt_rua) > 0")
ok = "from probes where status = 'ok'"
f['conversation.with_tls'] = q(f"select count(*) {ok}")
f['conversation.bytes_after_starttls'] = q(f"select count(*) {ok} and bytes_after_starttls > 0")
f['conversation.starttls_after_tls'] = q(f"select count(*) {ok} and list_contains(coalesce(ehlo_keywords_tls, []), 'STARTTLS')")
f['conversation.ehlo_keywords_added'] = q(f"""select count(*) {ok} and len(list_filter(coalesce(ehlo_keywords_tls, []),
    k -> k <> 'STARTTLS' and not list_contains(coalesce(ehlo_keywords, []), k))) > 0""")
f['conversation.ehlo_keywords_dropped'] = q(f"""select count(*) {ok} and len(list_filter(coalesce(ehlo_keywords, []),
    k -> k <> 'STARTTLS' and not list_contains(coalesce(ehlo_keywords_tls, []), k))) > 0""")
tried = "from probes where status in ('ok', 'tls_legacy', 'tls_failed')"
f['tls.attempted'] = q(f"select count(*) {tried}")
f['tls.legacy'] = q("select count(*) from probes where status = 'tls_legacy'")
f['tls.legacy_below_tls12'] = q("""select count(*) from probes where status = 'tls_legacy'
    and tls_max_version in ('SSLv3', 'TLSv1.0', 'TLSv1.1')""")
f['tls.legacy_hellos'] = q("select count(legacy_ms) from probes")
f['tls.chain_completed'] = q("select count(*) from probes where chain_completed")
f['tls.version.denominator'] = q("select count(tls_max_version) from probes")
for v in ['TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']:
    f['tls.version.' + v] = q(f"select count(*) from probes where tls_max_version = '{v}'")
f['tls.failure.denominator'] = q("select count(tls_failure) from probes where status = 'tls_failed'")
f['tls.legacy_reason.denominator'] = q("select count(modern_tls_failure) from probes where status = 'tls_legacy'")
for v in ['protocol_version', 'no_shared_cipher', 'alert', 'not_tls', 'timeout', 'io']:
    f['tls.failure.' + v] = q(f"select count(*) from probes where status = 'tls_failed' and tls_failure = '{v}'")
    f['tls.legacy_reason.' + v] = q(f"select count(*) from probes where status = 'tls_legacy' and modern_tls_failure = '{v}'")
f['providers.denominator'] = q("select count(distinct domain) from mx")
# Providers in the testbed's own zones (*.test): the registrable domain is the last two labels.
provs = con.execute("""select regexp_extract(exchange, '([^.]+\\.test)$', 1) as p, count(distinct domain)
    from mx where exchange like '%.test' group by p""").fetchall()
for p, n in provs:
    f['provider.' + p] = n
print(json.dumps(f))
"#;

/// The figure `name` of the summary JSON (`a.b.c` paths; `x.y` of a Dist is `counts[y]`).
fn figure(s: &Value, name: &str) -> Option<u64> {
    if let Some(p) = name.strip_prefix("provider.") {
        return s["providers"]["top"]
            .as_array()?
            .iter()
            .find(|e| e["provider"] == p)
            .map(|e| e["domains"].as_u64().unwrap());
    }
    // Version names contain dots: `tls.version.TLSv1.2`.
    if let Some(v) = name.strip_prefix("tls.version.") {
        let d = &s["tls"]["version"];
        return if v == "denominator" {
            d["denominator"].as_u64()
        } else {
            Some(d["counts"][v].as_u64().unwrap_or(0))
        };
    }
    if let Some(dev) = name.strip_prefix("mta_sts.deviations.") {
        return Some(s["mta_sts"]["deviations"][dev].as_u64().unwrap_or(0));
    }
    let (path, last) = name.rsplit_once('.').unwrap();
    let dist_names = [
        "dns_status",
        "probe_status",
        "starttls_by_domain",
        "cert_by_domain",
        "starttls_by_host",
        "cert_by_host",
        "cert_problems_by_domain",
        "mta_sts.record",
        "mta_sts.policy",
        "mta_sts.fetch_error",
        "mta_sts.mode",
        "mta_sts.delivery",
        "tlsrpt.record",
        "tls.failure",
        "tls.legacy_reason",
    ];
    let mut v = s;
    let path = match path {
        "dns_status" => "domains.dns_status",
        "probe_status" => "hosts.probe_status",
        p => p,
    };
    for seg in path.split('.') {
        v = &v[seg];
    }
    let is_dist = dist_names
        .iter()
        .any(|d| name.starts_with(&format!("{d}.")));
    if is_dist && last != "denominator" {
        return Some(v["counts"][last].as_u64().unwrap_or(0));
    }
    v[last].as_u64()
}

#[test]
fn summary_figures_agree_with_duckdb() {
    mxscan_testkit::require_sandbox!();
    let s = scanned();
    let dir = s.survey.to_str().unwrap();
    let summary = run_json(&["summary", dir, "--json"]);
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["domains"]["input"], 2000);

    // The terminal table: counts, shares and denominators.
    let text = mxscan().args(["summary", dir]).output().unwrap();
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    for want in [
        "STARTTLS by domain (of ",
        "certificate by MX host (of ",
        "MTA-STS policy (valid records) (of ",
        "MX providers by domains served (of ",
        "STARTTLS conversation (of ",
        "bytes after the 220",
        "TLS (of ",
        "TLS version selected (of ",
        "%",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }

    eprintln!("{text}");
    // The stress world has STARTTLS-injection hosts (bytes after the 220, then TLS).
    assert!(
        figure(&summary, "conversation.bytes_after_starttls").is_some_and(|n| n > 0),
        "{}",
        summary["conversation"]
    );
    // …and hosts that answer every hello with an alert: each got its one legacy hello.
    assert!(
        figure(&summary, "tls.legacy_hellos").is_some_and(|n| n > 0)
            && figure(&summary, "tls.failure.no_shared_cipher").is_some_and(|n| n > 0),
        "{}",
        summary["tls"]
    );
    if !python_has("duckdb") {
        return;
    }
    let out = run_ok(
        Command::new("python3").args(["-c", DUCKDB_FIGURES, dir]),
        "duckdb script",
    );
    let want: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut compared = 0;
    let mut wrong = Vec::new();
    for (name, n) in &want {
        let n = n.as_u64().unwrap();
        let got = figure(&summary, name);
        // Providers outside the top list are not in the summary; only compare listed ones
        // (and check below that the big ones are listed).
        if name.starts_with("provider.") && got.is_none() {
            continue;
        }
        compared += 1;
        if got != Some(n) {
            wrong.push(format!("{name}: duckdb {n}, summary {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "summary disagrees with DuckDB:\n{}",
        wrong.join("\n")
    );
    assert!(compared >= 15, "only {compared} figures compared");
    eprintln!("{compared} summary figures agree with DuckDB");
    // The four big providers of the testbed serve many domains each: they must be listed.
    for p in ["bigmail1.test", "bigmail2.test"] {
        assert!(
            figure(&summary, &format!("provider.{p}")).is_some_and(|n| n > 0),
            "{p} not among the top providers: {}",
            summary["providers"]
        );
    }
}

/// Row count of one table with the store's reader.
fn rows_of(survey: &Path, table: &str) -> usize {
    match table {
        "domains" => mxscan_store::reader::read_domains(survey).unwrap().len(),
        "mx" => mxscan_store::reader::read_mx(survey).unwrap().len(),
        "probes" => mxscan_store::reader::read_probes(survey).unwrap().len(),
        "certs" => mxscan_store::reader::read_certs(survey).unwrap().len(),
        _ => unreachable!(),
    }
}

const PARSE_BACK: &str = r#"
import csv, json, sys
fmt, path = sys.argv[1], sys.argv[2]
csv.field_size_limit(1 << 30)
with open(path, newline='') as f:
    if fmt == 'csv':
        r = csv.DictReader(f)
        rows = list(r)
        cols = r.fieldnames
    else:
        rows = [json.loads(l) for l in f if l.strip()]
        cols = list(rows[0].keys()) if rows else []
print(json.dumps({"rows": len(rows), "cols": cols}))
"#;

#[test]
fn every_table_exports_and_parses_back() {
    mxscan_testkit::require_sandbox!();
    let s = scanned();
    let has_python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let tmp = tempfile::tempdir().unwrap();
    for table in ["domains", "mx", "probes", "certs"] {
        let want = rows_of(&s.survey, table);
        assert!(want > 0, "{table} is empty");
        for format in ["csv", "jsonl"] {
            let file = tmp.path().join(format!("{table}.{format}"));
            run_ok(
                mxscan()
                    .arg("export")
                    .arg(&s.survey)
                    .args(["--format", format, table, "--output"])
                    .arg(&file),
                &format!("export {table} {format}"),
            );
            // Standard output gives the same bytes.
            let piped = mxscan()
                .arg("export")
                .arg(&s.survey)
                .args(["--format", format, table])
                .output()
                .unwrap();
            assert!(piped.status.success());
            assert_eq!(
                piped.stdout,
                std::fs::read(&file).unwrap(),
                "{table} {format}"
            );
            if !has_python {
                eprintln!("SKIPPED python parse-back: python3 missing");
                continue;
            }
            let parsed = run_ok(
                Command::new("python3")
                    .args(["-c", PARSE_BACK, format])
                    .arg(&file),
                &format!("python parse {table} {format}"),
            );
            let v: Value = serde_json::from_slice(&parsed.stdout).unwrap();
            assert_eq!(
                v["rows"].as_u64().unwrap() as usize,
                want,
                "{table} {format}"
            );
            let cols: Vec<&str> = v["cols"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            for c in [
                "survey_id",
                if table == "certs" {
                    "sha256"
                } else {
                    "address"
                },
            ] {
                if table == "domains" && c == "address" {
                    continue;
                }
                assert!(cols.contains(&c), "{table} {format}: no {c} in {cols:?}");
            }
        }
    }
}

/// Exit 2 and a message naming the path at fault; no sandbox needed (nothing scans).
#[test]
fn unusable_arguments_exit_2_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-survey");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("survey=2026-01-01T0000Z/domains")).unwrap();
    let m = missing.to_str().unwrap();
    let e = empty.to_str().unwrap();
    let r = root.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["summary", m], m),
        (vec!["summary", e, "--json"], e),
        (vec!["summary", r], "survey=2026-01-01T0000Z"),
        (vec!["diff", m, e], m),
        (vec!["diff", e, m], e),
        (vec!["export", m, "domains"], m),
        (
            vec!["export", e, "--format", "xml", "domains"],
            "--format xml",
        ),
        (vec!["export", e, "tables"], "TABLE tables"),
    ];
    for (args, names) in cases {
        let out = mxscan().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?}: {err:?} should name {names}");
    }
}
