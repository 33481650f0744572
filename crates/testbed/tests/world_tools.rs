//! The world as third-party clients see it (issue 3): every SMTP host class observed by
//! `openssl s_client -starttls smtp` and every fetchable MTA-STS policy host observed by
//! `curl`, each observation mapped to the ground truth's vocabulary and compared with
//! `World::expected`. (The DNS side, observed by `dig`, is in `world_dns.rs`.)
//!
//! One `stress` world (seed 5) runs in-process; from its first 2,000 synthetic domains the
//! test takes one mx row per (SMTP class, smtp_status, cert_status, shared/dedicated host,
//! certificate name fails or not)
//! and one domain per MTA-STS scenario whose policy host is fetched. Each test prints
//! `SKIPPED: … not installed` and returns when its tool is missing (CI installs both).
//! Loopback only: run inside `scripts/sandbox.sh`.
//!
//! # openssl → `smtp_status` / `starttls` / `cert_status`
//!
//! openssl runs with `-debug`, which hex-dumps every read and write on the socket; the test
//! rebuilds the bytes openssl *received* from those dumps and reads the SMTP replies in them
//! (openssl itself does not look at reply codes: it always sends EHLO and STARTTLS and tries
//! the handshake). The first stage that fails decides:
//!
//! | openssl observed | truth |
//! |---|---|
//! | still waiting after 5 s (killed; only the `tarpit` host never speaks) | `greeting_timeout` |
//! | nothing received (connection reset, broken pipe, or end of stream: `reset` and `accept_close`) | `closed_before_greeting` |
//! | greeting `421` | `greeting_421` |
//! | greeting `5xx` | `greeting_rejected` |
//! | no reply to EHLO (end of stream) | `io_error` |
//! | EHLO reply of ≥ 64 KiB | `protocol_error` (openssl has no reply cap and completes the handshake; the cap is the scanner's, truth.rs) |
//! | EHLO reply not `250` | `ehlo_rejected` |
//! | EHLO `250` without STARTTLS (openssl: "Didn't find STARTTLS") | `no_starttls`, starttls false |
//! | STARTTLS reply not `220` | `starttls_rejected`, starttls true |
//! | `220`, then the handshake fails without a verify error | `tls_failed` |
//! | handshake below TLS 1.2, or TLS 1.2 without an ECDHE AEAD suite (`New, TLSv1, Cipher is …`) | `tls_legacy` (a modern client refuses it; openssl runs with `-cipher DEFAULT:@SECLEVEL=0 -min_protocol TLSv1`, so it speaks what an OpenSSL-based sender speaks) |
//! | handshake, `Verify return code: 0 (ok)` | `ok` / `valid` |
//! | handshake, `verify error:num=N` | `ok` / 10 `expired`, 9 `not_yet_valid`, 18 `self_signed`, 19 `untrusted_issuer` (the rogue chain ends in a self-signed root: "self-signed certificate in certificate chain"), 20 `incomplete_chain`, 62 `name_mismatch` |
//!
//! A second test, `legacy_versions_are_spoken_by_exactly_the_legacy_hosts`, runs
//! `openssl s_client -starttls smtp -tls1 -cipher 'DEFAULT:@SECLEVEL=0'` (and `-tls1_1`)
//! against up to three addresses of every class and requires a completed handshake with
//! exactly the `tls10_only` (`tls11_only`) hosts.
//!
//! Trust: `-CAfile` is the testbed *root only*. openssl has no pool of known intermediates
//! and treats every certificate of `-CAfile` as a trust anchor, so with the root +
//! intermediate bundle (`Testbed::write_ca`, what the scanner's `--trust-anchor` reads) an
//! `incomplete_chain` host would verify. With the root only it is error 20, and a second
//! run with the intermediate added (`openssl verify -untrusted`, over the chain s_client was
//! sent) shows that the chain then completes (verify OK),
//! while an `untrusted_issuer` chain stays error 19 — the distinction the scanner draws
//! with its known intermediate. openssl fetches no AIA URL: the `aia_loop` leaf, sent
//! alone under a CA nobody has, is error 20 to it (issuer not found), where the scanner
//! follows the loop and ends at `untrusted_issuer`.
//!
//! Precedence: `-verify_return_error` stops at the first error, and openssl checks the
//! chain (18/19/20), then the name (62), then the validity dates (9/10), while the truth
//! ranks a date defect above a name mismatch (truth.rs: "a defect wins over a name
//! mismatch"). The two disagree exactly on a host whose certificate is expired or not yet
//! valid *and* not for the exchange name (a provider's `cert_expired` host reached under a
//! customer's name): there openssl's 62 is expected where the truth says `expired`. The
//! sample holds such a row, so the divergence is exercised, not assumed.
//!
//! # curl → `sts_policy` / `sts_fetch_error` / `sts_http_status`
//!
//! `curl -sS --max-time 10 --cacert ca.pem --resolve mta-sts.D:PORT:ADDR` (no `-L`), with
//! `ca.pem` the root + intermediate bundle:
//!
//! | curl observed | truth |
//! |---|---|
//! | exit 60, "self-signed certificate in certificate chain" | `tls_untrusted` |
//! | exit 60, "certificate has expired" | `tls_expired` |
//! | exit 60, "no alternative certificate subject name matches" | `tls_name_mismatch` |
//! | exit 28 (operation timed out) | `timeout` (the slowloris site) |
//! | exit 7, 35 or 56 (connect / TLS connect / receive failure) | `connect` (the reset site) |
//! | 200 with a body over 64 KiB | `too_large`, http 200 |
//! | 301 | `redirect`, http 301 |
//! | any other non-200 code | `http_status`, that code |
//! | 200 | `ok` / `invalid` by `mxscan_policy::parse_policy` of the body (plus the content-type deviation), and mode, max_age, mx equal to the truth's |

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use mxscan_policy::{content_type_deviation, parse_policy};
use mxscan_testbed::Testbed;
use mxscan_testbed::addr::{AddrKind, classify};
use mxscan_testbed::behaviour::{Behaviours, CertDefect, CertSpec};
use mxscan_testbed::names::synthetic_domains;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::{SmtpClass, StsScenario};
use mxscan_testbed::truth::{
    DomainTruth, MxTruth, POLICY_CAP_BYTES, REPLY_CAP_BYTES, cert_verdict, expected_probe,
};
use mxscan_testbed::world::{QType, World, WorldConfig};
use mxscan_testkit::bed::{start_world, world_config};
use mxscan_testkit::tools::{output_text, run_tool, tool_available};
use tokio::process::Command;

const SEED: u64 = 5;
const DOMAINS: u64 = 2_000;
/// How long openssl may wait for a greeting before the test calls it a `greeting_timeout`.
const OPENSSL_WAIT: Duration = Duration::from_secs(5);
/// Upper bound for one curl run (its own `--max-time` is 10 s).
const CURL_WAIT: Duration = Duration::from_secs(20);

async fn start() -> Testbed {
    start_world(WorldConfig {
        // `greet_delay` hosts answer after 0.3 s instead of 6 s (keeps the test short).
        greet_delay: Duration::from_millis(300),
        ..world_config(SEED, Profile::Stress)
    })
    .await
}

fn truths(bed: &Testbed) -> Vec<DomainTruth> {
    synthetic_domains(SEED, DOMAINS, Profile::Stress)
        .map(|(_, d)| bed.expected(&d))
        .collect()
}

// ---------------------------------------------------------------------------------------
// openssl s_client -starttls smtp
// ---------------------------------------------------------------------------------------

/// The bytes openssl read from the socket, rebuilt from its `-debug` hex dumps
/// (`read from 0x… [0x…] (N bytes => M (0x…))` followed by `0000 - 32 32 30 20 …  220 …`).
fn received_bytes(stdout: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut reading = false;
    for line in stdout.lines() {
        if line.starts_with("read from ") {
            reading = true;
            continue;
        }
        if line.starts_with("write to ") {
            reading = false;
            continue;
        }
        let is_dump = line.len() > 7
            && line.as_bytes()[..4].iter().all(u8::is_ascii_hexdigit)
            && &line[4..7] == " - ";
        if !reading || !is_dump {
            if !is_dump {
                reading = false;
            }
            continue;
        }
        let hex = &line.as_bytes()[7..];
        for j in 0..16 {
            let Some(pair) = hex.get(3 * j..3 * j + 2) else {
                break;
            };
            let Ok(s) = std::str::from_utf8(pair) else {
                break;
            };
            match u8::from_str_radix(s, 16) {
                Ok(b) => bytes.push(b),
                Err(_) => break, // "   " padding of the last line, or "<SPACES/NULS>"
            }
        }
    }
    bytes
}

/// Splits the start of a byte stream into complete SMTP replies (RFC 5321 §4.2: the last
/// line has a space, or nothing, after the code); the rest (TLS records) is ignored.
fn smtp_replies(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut replies = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    while let Some(pos) = bytes[line_start..].windows(2).position(|w| w == b"\r\n") {
        let line = &bytes[line_start..line_start + pos];
        line_start += pos + 2;
        if !line.first().is_some_and(u8::is_ascii_digit) {
            break; // not SMTP any more
        }
        if line.len() == 3 || line.get(3) == Some(&b' ') {
            replies.push(bytes[start..line_start].to_vec());
            start = line_start;
        }
    }
    replies
}

/// What openssl saw, in the truth's words: (smtp_status, starttls, cert_status).
type Verdict = (String, Option<bool>, Option<String>);

/// Maps one openssl run to the truth's vocabulary (table in the module docs).
fn openssl_verdict(out: Option<&Output>) -> Verdict {
    let v = |s: &str, tls: Option<bool>, cert: Option<&str>| {
        (s.to_owned(), tls, cert.map(str::to_owned))
    };
    let Some(out) = out else {
        return v("greeting_timeout", None, None);
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = output_text(out);
    let received = received_bytes(&stdout);
    if received.is_empty() {
        // A reset shows as `errno=…`; an orderly close (FIN) as reads of 0 bytes.
        assert!(
            all.contains("errno=") || stdout.contains("bytes => 0)"),
            "nothing received, yet no socket error and no end of stream: {all}"
        );
        return v("closed_before_greeting", None, None);
    }
    let replies = smtp_replies(&received);
    let code = |r: &[u8]| String::from_utf8_lossy(&r[..3]).into_owned();
    let Some(greeting) = replies.first() else {
        return v("io_error", None, None);
    };
    match code(greeting).as_str() {
        "421" => return v("greeting_421", None, None),
        c if c.starts_with('5') => return v("greeting_rejected", None, None),
        _ => {}
    }
    let Some(ehlo) = replies.get(1) else {
        return v("io_error", None, None);
    };
    if ehlo.len() >= REPLY_CAP_BYTES {
        return v("protocol_error", None, None);
    }
    if code(ehlo) != "250" {
        return v("ehlo_rejected", None, None);
    }
    let advertised = String::from_utf8_lossy(ehlo).lines().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("STARTTLS"))
    });
    if !advertised {
        assert!(all.contains("Didn't find STARTTLS"), "{all}");
        return v("no_starttls", Some(false), None);
    }
    match replies.get(2) {
        Some(r) if code(r) == "220" => {}
        Some(_) => return v("starttls_rejected", Some(true), None),
        None => return v("io_error", Some(true), None),
    }
    if let Some(num) = verify_errors(&all).first() {
        let cert = match *num {
            10 => "expired",
            9 => "not_yet_valid",
            18 => "self_signed",
            19 => "untrusted_issuer",
            20 => "incomplete_chain",
            62 => "name_mismatch",
            other => panic!("unexpected verify error {other}: {all}"),
        };
        return v("ok", Some(true), Some(cert));
    }
    if out.status.success() && all.contains("Verify return code: 0 (ok)") {
        match negotiated(&all) {
            Some((version, cipher)) if is_legacy(&version, &cipher) => {
                v("tls_legacy", Some(true), Some("valid"))
            }
            _ => v("ok", Some(true), Some("valid")),
        }
    } else {
        v("tls_failed", Some(true), None)
    }
}

/// The version and cipher of a completed handshake (`New, TLSv1.2, Cipher is ECDHE-…`);
/// None when none completed (`New, (NONE), Cipher is (NONE)`).
fn negotiated(all: &str) -> Option<(String, String)> {
    let line = all.lines().find(|l| l.starts_with("New, "))?;
    let rest = line.strip_prefix("New, ")?;
    let (version, cipher) = rest.split_once(", Cipher is ")?;
    (version != "(NONE)").then(|| (version.to_owned(), cipher.trim().to_owned()))
}

/// What a modern client (TLS 1.2 and 1.3, ECDHE with AEAD suites only, as the scanner's
/// rustls) refuses: a version below 1.2, or TLS 1.2 with another suite (OpenSSL names).
fn is_legacy(version: &str, cipher: &str) -> bool {
    match version {
        "TLSv1.3" => false,
        "TLSv1.2" => {
            !(cipher.starts_with("ECDHE-")
                && (cipher.contains("GCM") || cipher.contains("CHACHA20")))
        }
        _ => true,
    }
}

/// The `verify error:num=N` numbers openssl printed, in order.
fn verify_errors(all: &str) -> Vec<u32> {
    all.match_indices("verify error:num=")
        .filter_map(|(i, m)| {
            let rest = &all[i + m.len()..];
            let end = rest.find(':').unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

/// s_client options that let openssl speak what an OpenSSL-based sender speaks (Debian's
/// defaults are TLS 1.2 and `SECLEVEL=2`).
const LEGACY_CAPABLE: &[&str] = &["-cipher", "DEFAULT:@SECLEVEL=0", "-min_protocol", "TLSv1"];

async fn s_client(port: u16, row: &MxTruth, ca_file: &Path, extra: &[&str]) -> Option<Output> {
    run_tool(
        Command::new("openssl")
            .args(["s_client", "-starttls", "smtp", "-debug", "-connect"])
            .arg(format!("{}:{port}", row.address))
            .args(["-servername", &row.exchange])
            .args(["-verify_hostname", &row.exchange, "-verify_return_error"])
            .arg("-CAfile")
            .arg(ca_file)
            .args(extra),
        OPENSSL_WAIT,
    )
    .await
}

/// (SMTP class, smtp_status, cert_status, shared host, certificate names miss the
/// exchange): one mx row is checked per key.
type RowKey = (&'static str, &'static str, Option<&'static str>, bool, bool);

/// Whether the certificate the host presents for the exchange's SNI also fails the name
/// check (whatever its other defect).
fn name_fails(world: &World, row: &MxTruth) -> bool {
    let host = world.smtp_host(row.address.parse().unwrap());
    match expected_probe(&host).cert {
        Some(spec) => {
            let names_only = CertSpec {
                names: spec.names.clone(),
                defect: CertDefect::None,
            };
            cert_verdict(&names_only, &row.exchange) == "name_mismatch"
        }
        None => false,
    }
}

fn is_shared(row: &MxTruth) -> bool {
    let ip: Ipv4Addr = row.address.parse().unwrap();
    matches!(classify(ip), AddrKind::Shared { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_sees_every_smtp_class_as_the_truth_says() {
    if !tool_available("openssl") {
        return;
    }
    let bed = start().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    bed.ca().write_root_pem(&root).unwrap();
    let intermediate = dir.path().join("intermediate.pem");
    let bundle = bed.ca().trust_bundle_pem();
    let root_pem = bed.ca().root_pem();
    std::fs::write(&intermediate, bundle.strip_prefix(&root_pem).unwrap()).unwrap();
    let bundle_file = dir.path().join("ca.pem");
    bed.write_ca(&bundle_file).unwrap();

    // One row per (class, status, cert verdict, shared host): shared hosts present the
    // provider's certificate whatever the SNI.
    let mut picks: BTreeMap<RowKey, (String, MxTruth)> = BTreeMap::new();
    for t in truths(&bed) {
        for row in &t.mx {
            let Some(class) = row.scenario else { continue };
            picks
                .entry((
                    class,
                    row.smtp_status.as_str(),
                    row.cert_status.map(|c| c.as_str()),
                    is_shared(row),
                    name_fails(bed.world(), row),
                ))
                .or_insert_with(|| (t.domain.clone(), row.clone()));
        }
    }
    let classes: BTreeSet<&str> = picks.keys().map(|k| k.0).collect();
    let all: BTreeSet<&str> = SmtpClass::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(classes, all, "every SMTP class is in the sample");
    assert!(
        picks
            .keys()
            .any(|k| k.4 && matches!(k.2, Some("expired" | "not_yet_valid"))),
        "a date defect with a wrong name is in the sample (module docs, \"Precedence\")"
    );

    let port = bed.smtp_port();
    let mut runs = Vec::new();
    for (key, (domain, row)) in &picks {
        let (root, row) = (root.clone(), row.clone());
        runs.push((
            *key,
            domain.clone(),
            tokio::spawn(async move {
                let out = s_client(port, &row, &root, LEGACY_CAPABLE).await;
                (row, out)
            }),
        ));
    }
    let mut failures = Vec::new();
    let mut seen = BTreeMap::new();
    for (key, domain, task) in runs {
        let (row, out) = task.await.unwrap();
        let got = openssl_verdict(out.as_ref());
        // openssl stops at its first error and checks the name before the dates; the
        // truth ranks a date defect above a name mismatch (module docs, "Precedence").
        let cert = match row.cert_status.map(|c| c.as_str()) {
            Some("expired" | "not_yet_valid") if key.4 => Some("name_mismatch"),
            // The AIA loop's leaf comes alone and openssl fetches nothing: its issuer is
            // simply not found (error 20, as for a missing intermediate). The scanner's
            // untrusted_issuer comes from following the loop (module docs, "Trust").
            Some("untrusted_issuer") if key.0 == "aia_loop" => Some("incomplete_chain"),
            c => c,
        };
        let want = (
            row.smtp_status.as_str().to_owned(),
            row.starttls,
            cert.map(str::to_owned),
        );
        *seen.entry(got.0.clone()).or_insert(0) += 1;
        if got != want {
            failures.push(format!(
                "{domain} {} {} {key:?}: openssl {got:?}, truth {want:?}\n{}",
                row.exchange,
                row.address,
                out.as_ref().map(output_text).unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("openssl verdicts over {} rows: {seen:?}", picks.len());
    for key in picks.keys() {
        eprintln!("  checked {key:?}");
    }

    // Trust: the incomplete chain completes with the known intermediate; the rogue chain
    // does not. s_client has no `-untrusted`: the chain it was sent (`-showcerts`, handshake
    // not aborted) is checked by `openssl verify` with the intermediate added as untrusted.
    // With the bundle as CAfile the intermediate is an anchor and s_client accepts the
    // incomplete chain (module docs).
    let mut checked = 0;
    for ((class, _, cert, _, _), (domain, row)) in &picks {
        let expect_ok = match *cert {
            Some("incomplete_chain") => true,
            Some("untrusted_issuer") if *class != "aia_loop" => false,
            _ => continue,
        };
        checked += 1;
        let out = run_tool(
            Command::new("openssl")
                .args(["s_client", "-starttls", "smtp", "-showcerts", "-connect"])
                .arg(format!("{}:{port}", row.address))
                .args(["-servername", &row.exchange, "-CAfile"])
                .arg(&root),
            OPENSSL_WAIT,
        )
        .await
        .expect("no timeout");
        let chain = pem_blocks(&String::from_utf8_lossy(&out.stdout));
        assert!(!chain.is_empty(), "{domain}: {}", output_text(&out));
        let leaf = dir.path().join(format!("{domain}.leaf.pem"));
        let untrusted = dir.path().join(format!("{domain}.untrusted.pem"));
        std::fs::write(&leaf, &chain[0]).unwrap();
        let mut pool = chain[1..].concat();
        pool.push_str(bundle.strip_prefix(&root_pem).unwrap());
        std::fs::write(&untrusted, pool).unwrap();
        let out = run_tool(
            Command::new("openssl")
                .args(["verify", "-CAfile"])
                .arg(&root)
                .arg("-untrusted")
                .arg(&untrusted)
                .args(["-verify_hostname", &row.exchange])
                .arg(&leaf),
            OPENSSL_WAIT,
        )
        .await
        .expect("no timeout");
        let all = output_text(&out);
        if expect_ok {
            assert!(
                out.status.success(),
                "{domain}: with the intermediate: {all}"
            );
            let out = s_client(port, row, &bundle_file, &[]).await;
            let all = output_text(out.as_ref().expect("no timeout"));
            assert!(
                all.contains("Verify return code: 0 (ok)"),
                "{domain}: {all}"
            );
        } else {
            assert!(!out.status.success(), "{domain}: {all}");
            assert!(
                all.contains("error 19 at 2 depth lookup"),
                "{domain}: {all}"
            );
        }
    }
    assert_eq!(
        checked, 4,
        "three incomplete chains (cert_incomplete_chain, aia_incomplete_chain, aia_tarpit) \
         and one rogue chain"
    );
}

/// The PEM certificates in `s`, in order.
fn pem_blocks(s: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = s;
    while let Some(b) = rest.find(BEGIN) {
        let Some(e) = rest[b..].find(END) else { break };
        blocks.push(format!("{}\n", &rest[b..b + e + END.len()]));
        rest = &rest[b + e + END.len()..];
    }
    blocks
}

/// `openssl s_client -starttls smtp -tls1 -cipher 'DEFAULT:@SECLEVEL=0'` completes a
/// handshake with exactly the `tls10_only` hosts, `-tls1_1` with exactly the `tls11_only`
/// hosts (up to three addresses of every class of the list; SNI sent, no verification).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_versions_are_spoken_by_exactly_the_legacy_hosts() {
    if !tool_available("openssl") {
        return;
    }
    let bed = start().await;
    let mut by_class: BTreeMap<&str, Vec<MxTruth>> = BTreeMap::new();
    let mut seen_addr = BTreeSet::new();
    for t in truths(&bed) {
        for row in t.mx {
            let Some(class) = row.scenario else { continue };
            let rows = by_class.entry(class).or_default();
            if rows.len() < 3 && seen_addr.insert(row.address.clone()) {
                rows.push(row);
            }
        }
    }
    assert_eq!(
        by_class.len(),
        SmtpClass::ALL.len(),
        "every class is in the list"
    );
    let port = bed.smtp_port();
    // At most 8 openssl processes at once (2 cores).
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut runs = Vec::new();
    for (flag, class) in [("-tls1", "tls10_only"), ("-tls1_1", "tls11_only")] {
        for (c, rows) in &by_class {
            for row in rows {
                let (row, slots, c) = (row.clone(), std::sync::Arc::clone(&slots), *c);
                runs.push(tokio::spawn(async move {
                    let _slot = slots.acquire().await.unwrap();
                    let out = run_tool(
                        Command::new("openssl")
                            .args(["s_client", "-starttls", "smtp", "-connect"])
                            .arg(format!("{}:{port}", row.address))
                            .args(["-servername", &row.exchange, flag])
                            .args(["-cipher", "DEFAULT:@SECLEVEL=0"]),
                        OPENSSL_WAIT,
                    )
                    .await;
                    let done = out.as_ref().and_then(|o| negotiated(&output_text(o)));
                    (flag, class, c, row.address, done)
                }));
            }
        }
    }
    let mut failures = Vec::new();
    let mut completed: BTreeMap<&str, usize> = BTreeMap::new();
    for r in runs {
        let (flag, class, c, address, done) = r.await.unwrap();
        if done.is_some() {
            *completed.entry(flag).or_default() += 1;
        }
        if done.is_some() != (c == class) {
            failures.push(format!("{flag} {address} [{c}]: handshake {done:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        completed.get("-tls1").is_some_and(|&n| n > 0),
        "{completed:?}"
    );
    assert!(
        completed.get("-tls1_1").is_some_and(|&n| n > 0),
        "{completed:?}"
    );
    eprintln!("handshakes completed: {completed:?}");
}

// ---------------------------------------------------------------------------------------
// curl https://mta-sts.D/.well-known/mta-sts.txt
// ---------------------------------------------------------------------------------------

/// What curl saw, in the truth's words.
#[derive(Debug, PartialEq)]
struct Fetch {
    policy: String,
    error: Option<String>,
    http_status: Option<u16>,
    mode: Option<String>,
    max_age: Option<u64>,
    mx: Vec<String>,
    deviations: Vec<String>,
}

fn fetch_error(error: &str, http_status: Option<u16>) -> Fetch {
    Fetch {
        policy: "fetch_error".into(),
        error: Some(error.into()),
        http_status,
        mode: None,
        max_age: None,
        mx: Vec::new(),
        deviations: Vec::new(),
    }
}

/// Maps one curl run (`-w '%{http_code} %{content_type}'`, body in `body`) to the truth's
/// vocabulary (table in the module docs).
fn curl_verdict(out: &Output, body: &[u8]) -> Fetch {
    let all = output_text(out);
    match out.status.code() {
        Some(0) => {}
        Some(60) if all.contains("certificate has expired") => {
            return fetch_error("tls_expired", None);
        }
        Some(60) if all.contains("no alternative certificate subject name matches") => {
            return fetch_error("tls_name_mismatch", None);
        }
        Some(60) if all.contains("self-signed certificate in certificate chain") => {
            return fetch_error("tls_untrusted", None);
        }
        Some(28) => return fetch_error("timeout", None),
        Some(7 | 35 | 56) => return fetch_error("connect", None),
        other => panic!("unexpected curl exit {other:?}: {all}"),
    }
    let w = String::from_utf8_lossy(&out.stdout);
    let (code, content_type) = w.split_once(' ').unwrap_or((&w, ""));
    let code: u16 = code.parse().unwrap_or_else(|_| panic!("-w output {w:?}"));
    match code {
        200 if body.len() as u64 > POLICY_CAP_BYTES => fetch_error("too_large", Some(200)),
        200 => {
            let mut report = parse_policy(body);
            let ct = (!content_type.is_empty()).then_some(content_type);
            if let Some(dev) = content_type_deviation(ct) {
                report.add_deviation(dev);
            }
            Fetch {
                policy: if report.valid { "ok" } else { "invalid" }.into(),
                error: None,
                http_status: Some(200),
                mode: report.mode.map(|m| m.as_str().to_owned()),
                max_age: report.max_age,
                mx: report.mx.clone(),
                deviations: report
                    .deviations
                    .iter()
                    .map(|d| d.as_str().to_owned())
                    .collect(),
            }
        }
        301 => fetch_error("redirect", Some(301)),
        other => fetch_error("http_status", Some(other)),
    }
}

fn truth_fetch(t: &DomainTruth) -> Fetch {
    Fetch {
        policy: t.sts_policy.as_str().into(),
        error: t.sts_fetch_error.map(|e| e.as_str().to_owned()),
        http_status: t.sts_http_status,
        mode: t.sts_mode.map(|m| m.as_str().to_owned()),
        max_age: t.sts_max_age,
        mx: t.sts_mx.clone(),
        deviations: Vec::new(), // compared as a subset below
    }
}

async fn curl(host: &str, port: u16, addr: Ipv4Addr, ca: &Path, body: &Path) -> Output {
    run_tool(
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "--noproxy", "*", "--cacert"])
            .arg(ca)
            .args(["--resolve", &format!("{host}:{port}:{addr}")])
            .args(["-w", "%{http_code} %{content_type}", "-o"])
            .arg(body)
            .arg(format!("https://{host}:{port}/.well-known/mta-sts.txt")),
        CURL_WAIT,
    )
    .await
    .expect("curl ends within its --max-time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_fetches_every_policy_host_as_the_truth_says() {
    if !tool_available("curl") {
        return;
    }
    let bed = start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    bed.write_ca(&ca).unwrap();

    // One domain per MTA-STS scenario whose policy host a fetcher reaches (a valid record
    // and a policy host that resolves).
    let mut picks: BTreeMap<&str, DomainTruth> = BTreeMap::new();
    for t in truths(&bed) {
        if t.sts_record == "valid" && t.sts_fetch_error.is_none_or(|e| e != "dns") {
            picks.entry(t.scenario.sts).or_insert(t);
        }
    }
    // Every scenario that publishes a valid record and serves a policy host is here.
    let not_fetched = [
        StsScenario::None,
        StsScenario::TxtBadId,
        StsScenario::TxtMissingId,
        StsScenario::TxtMultiple,
        StsScenario::TxtServfail,
        StsScenario::HostNxdomain,
    ];
    for s in StsScenario::ALL {
        if !not_fetched.contains(s) {
            assert!(
                picks.contains_key(s.as_str()),
                "no fetchable domain for {s}"
            );
        }
    }

    let port = bed.https_port();
    let mut runs = Vec::new();
    for (sts, t) in &picks {
        let host = format!("mta-sts.{}", t.domain);
        let addr = bed.world().query(&host, QType::A).addresses()[0];
        let (ca, body) = (ca.clone(), dir.path().join(format!("{sts}.body")));
        runs.push((
            *sts,
            t,
            tokio::spawn(async move {
                let out = curl(&host, port, addr, &ca, &body).await;
                let bytes = std::fs::read(&body).unwrap_or_default();
                (out, bytes)
            }),
        ));
    }
    let mut failures = Vec::new();
    for (sts, t, task) in runs {
        let (out, body) = task.await.unwrap();
        let mut got = curl_verdict(&out, &body);
        let deviations = std::mem::take(&mut got.deviations);
        let want = truth_fetch(t);
        let extra: Vec<&String> = deviations
            .iter()
            .filter(|d| !t.sts_deviations.iter().any(|t| t.as_str() == d.as_str()))
            .collect();
        if got != want || !extra.is_empty() {
            failures.push(format!(
                "{sts} ({}): curl {got:?} deviations {deviations:?}, truth {want:?} {:?}\n{}",
                t.domain,
                t.sts_deviations,
                output_text(&out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("curl fetched {} policy hosts", picks.len());
}
