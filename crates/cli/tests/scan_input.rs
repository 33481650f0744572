//! Issue 4, part 7: exit status and messages about the input. A malformed line is reported
//! on stderr with its file and line number and skipped, and the rest of the list is
//! scanned (exit status 0); an input file that cannot be read is a clear error with a
//! non-zero exit status, not an empty "complete" survey.

mod common;

use common::{Harness, Scan, only_survey, serial};
use mxscan_store::manifest::{Manifest, SurveyStatus};
use mxscan_testbed::profile::Profile;

#[test]
fn malformed_lines_are_reported_with_line_numbers_and_skipped() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(71, Profile::Realistic);
    let good = h.domains(20);
    // (line number, text) of the bad lines; good names around them.
    let bad = [
        (3, "bad domain.com"),
        (6, "foo..bar.com"),
        (9, "192.0.2.1"),
        (12, "https://example.com/path"),
        (15, "under_score.com"),
    ];
    let mut lines: Vec<String> = Vec::new();
    let mut g = good.iter();
    for n in 1..=(good.len() + bad.len()) {
        match bad.iter().find(|(l, _)| *l == n) {
            Some((_, text)) => lines.push(text.to_string()),
            None => lines.push(g.next().unwrap().clone()),
        }
    }
    let list = h.dir.path().join("list.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    let out = h.dir.path().join("surveys");
    let output = h.scan(&list, &out, &Harness::fast_flags());
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (n, text) in bad {
        let at = format!("list.txt:{n}:");
        let line = stderr
            .lines()
            .find(|l| l.contains(&at))
            .unwrap_or_else(|| panic!("line {n} ({text:?}) reported as {at}\nstderr:\n{stderr}"));
        assert!(line.contains(text), "the report quotes the line: {line}");
    }
    assert!(
        stderr.contains(&format!("{} accepted", good.len())) && stderr.contains("5 rejected"),
        "totals on stderr:\n{stderr}"
    );
    let survey = only_survey(&out);
    let mut got: Vec<String> = mxscan_store::reader::read_domains(&survey)
        .unwrap()
        .into_iter()
        .map(|d| d.domain)
        .collect();
    got.sort();
    let mut want = good.clone();
    want.sort();
    assert_eq!(got, want, "every good line scanned");
    let m = Manifest::load(&survey).unwrap();
    assert_eq!(m.status, SurveyStatus::Complete);
    assert_eq!(m.input.domains, Some(good.len() as u64));
}

/// An input that cannot be read (missing file, a directory): non-zero exit status, a
/// message naming the path and the reason, and no survey that claims to be complete.
#[test]
fn unreadable_input_is_a_clear_error() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(72, Profile::Realistic);
    let missing = h.dir.path().join("no-such-list.csv");
    let directory = h.dir.path().join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    for (input, reason) in [
        (&missing, "No such file or directory"),
        (&directory, "Is a directory"),
    ] {
        let out = h.dir.path().join(format!(
            "surveys-{}",
            input.file_name().unwrap().to_string_lossy()
        ));
        let output = h.scan_output(input, &out, &Harness::fast_flags());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{}: exit status {:?} (want non-zero)\nstderr:\n{stderr}",
            input.display(),
            output.status
        );
        assert!(
            stderr.contains(&input.display().to_string()) && stderr.contains(reason),
            "names the path and the reason:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "no panic:\n{stderr}");
        if let Ok(entries) = std::fs::read_dir(&out) {
            for e in entries.flatten() {
                if let Ok(m) = Manifest::load(&e.path()) {
                    assert_ne!(
                        m.status,
                        SurveyStatus::Complete,
                        "an empty survey must not claim to be complete"
                    );
                }
            }
        }
    }
}
