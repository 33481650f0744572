//! Crash safety and exactly-once resume (the contract in the `writer` module docs).
//!
//! A crash is simulated by aborting the writer task at a known point (after `barrier`), by
//! dropping every sender, and by undoing the last renames of a commit (a kill -9 between two
//! renames). Each time, `open_for_resume` + writing the rest must give exactly the rows of a
//! clean run. (The real kill -9 of a process comes with the engine's tests.)

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::*;
use mxscan_store::{
    Manifest, ResumeOptions, StoreError, SurveyStatus, SurveyWriter, Table, WriterOptions,
    open_for_resume, reader,
};

const SURVEY: &str = "2026-11-22T1000Z";

fn max_part(dir: &Path) -> u32 {
    Table::ALL
        .into_iter()
        .flat_map(|t| reader::parts(dir, t).unwrap())
        .map(|(n, _)| n)
        .max()
        .unwrap()
}

/// Resumes `dir`, writes domains `0..n` the engine's way, and checks the result is exactly a
/// clean run over `0..n`.
async fn resume_and_check(dir: &Path, n: usize) {
    let before = max_part(dir);
    let (survey, index) = open_for_resume(dir, ResumeOptions::default()).unwrap();
    assert_eq!(survey.id, SURVEY);
    // The index is exactly what the committed files hold.
    let committed = read_all(dir);
    let names: HashSet<String> = committed.domains.iter().map(|d| d.domain.clone()).collect();
    assert_eq!(index.domains, names);
    assert_eq!(
        index.domains.len(),
        committed.domains.len(),
        "no duplicate domain rows"
    );
    let mx_domains: HashSet<String> = committed.mx.iter().map(|m| m.domain.clone()).collect();
    assert!(
        mx_domains.is_subset(&names),
        "no mx row without its domain row"
    );
    assert_eq!(index.probes.len(), committed.probes.len());
    for p in &committed.probes {
        assert_eq!(index.probe(&p.address, p.port), Some(p));
    }
    let hashes: HashSet<String> = committed.certs.iter().map(|c| c.sha256.clone()).collect();
    assert_eq!(index.cert_hashes, hashes);

    let opts = WriterOptions {
        resume: Some(index.seed()),
        ..small_opts()
    };
    let (w, h) = SurveyWriter::spawn(dir, SURVEY, opts).unwrap();
    drive(&w, SURVEY, 0..n, Some(&index), &mut HashSet::new()).await;
    h.finish(SurveyStatus::Complete).await.unwrap();

    assert_eq!(
        read_all(dir),
        expected(SURVEY, 0..n),
        "exactly the rows of a clean run"
    );
    let new_parts: Vec<u32> = reader::parts(dir, Table::Domains)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| *n > before)
        .collect();
    assert!(!new_parts.is_empty(), "numbering continues after {before}");
    let m = Manifest::load(dir).unwrap();
    assert_eq!(m.status, SurveyStatus::Complete);
    assert_eq!(m.resumed_at.len(), 1);
    assert_eq!(m.rows["domains"], n as u64);
    assert_eq!(
        m.counts["domains.dns_status"].values().sum::<u64>(),
        n as u64
    );
    assert_eq!(
        m.counts["probes.status"].values().sum::<u64>(),
        expected(SURVEY, 0..n).probes.len() as u64
    );
}

#[tokio::test]
async fn aborted_writer_leaves_only_complete_files_and_resume_is_exact() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(format!("survey={SURVEY}"));
    let (w, h) = SurveyWriter::spawn(&dir, SURVEY, small_opts()).unwrap();
    drive(&w, SURVEY, 0..70, None, &mut HashSet::new()).await;
    w.barrier().await.unwrap();
    h.abort();
    drop(w);
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Committed parts read fine; the open part is only hidden temporary files.
    let domains = files(&dir, "domains");
    assert!(domains.iter().any(|n| n.ends_with(".tmp")), "{domains:?}");
    assert!(
        domains.iter().any(|n| reader::parse_part_name(n).is_some()),
        "{domains:?}"
    );
    let committed = read_all(&dir);
    assert!(!committed.domains.is_empty() && committed.domains.len() < 70);
    assert_eq!(Manifest::load(&dir).unwrap().status, SurveyStatus::Running);

    resume_and_check(&dir, 100).await;
    for t in ["domains", "mx", "probes", "certs"] {
        assert!(
            files(&dir, t).iter().all(|n| !n.ends_with(".tmp")),
            "{t}: cleaned"
        );
    }
}

#[tokio::test]
async fn a_commit_cut_between_renames_is_repaired() {
    // Commit order is certs, probes, mx, domains. `done` renames of the last commit happened.
    for done in 0..=3usize {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(format!("survey={SURVEY}"));
        let (w, h) = SurveyWriter::spawn(
            &dir,
            SURVEY,
            WriterOptions {
                part_max_rows: 10_000,
                ..small_opts()
            },
        )
        .unwrap();
        let mut probed = HashSet::new();
        drive(&w, SURVEY, 0..20, None, &mut probed).await;
        w.flush().await.unwrap();
        drive(&w, SURVEY, 20..35, None, &mut probed).await;
        h.finish(SurveyStatus::Partial).await.unwrap();
        let last = max_part(&dir);
        assert_eq!(last, 1);
        // Undo the renames that had not happened yet when the process died.
        for t in ["certs", "probes", "mx", "domains"].into_iter().skip(done) {
            let fin = dir.join(t).join(reader::part_name(last));
            if fin.exists() {
                std::fs::rename(&fin, dir.join(t).join(reader::tmp_part_name(last))).unwrap();
            }
        }
        // Before repair a reader could see mx rows of uncommitted domains (done == 3).
        let (_, index) = open_for_resume(&dir, ResumeOptions::default()).unwrap();
        assert_eq!(index.domains.len(), 20, "done={done}");
        assert!(
            !files(&dir, "mx").contains(&reader::part_name(last)),
            "done={done}"
        );
        if done >= 2 {
            assert!(!index.removed.is_empty());
        }
        resume_and_check(&dir, 40).await;
    }
}

#[tokio::test]
async fn dropping_every_sender_commits_and_marks_partial() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("s");
    let (w, h) = SurveyWriter::spawn(&dir, SURVEY, small_opts()).unwrap();
    drive(&w, SURVEY, 0..12, None, &mut HashSet::new()).await;
    drop(w);
    let report = h.join().await.unwrap();
    assert_eq!(report.status, Some(SurveyStatus::Partial));
    assert_eq!(read_all(&dir), expected(SURVEY, 0..12));
    assert_eq!(Manifest::load(&dir).unwrap().status, SurveyStatus::Partial);

    // Dropping the handle too (the task is detached) ends the same way.
    let dir2 = root.path().join("s2");
    let (w, h) = SurveyWriter::spawn(&dir2, SURVEY, small_opts()).unwrap();
    drive(&w, SURVEY, 0..12, None, &mut HashSet::new()).await;
    drop((w, h));
    for _ in 0..200 {
        if Manifest::load(&dir2).unwrap().status == SurveyStatus::Partial {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(Manifest::load(&dir2).unwrap().status, SurveyStatus::Partial);
    assert_eq!(read_all(&dir2), expected(SURVEY, 0..12));
}

#[tokio::test]
async fn a_part_is_committed_after_its_maximum_age() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("s");
    let opts = WriterOptions {
        part_max_age: Duration::from_millis(150),
        part_max_rows: 1_000_000,
        ..small_opts()
    };
    let (w, h) = SurveyWriter::spawn(&dir, SURVEY, opts).unwrap();
    drive(&w, SURVEY, 0..5, None, &mut HashSet::new()).await;
    let mut committed = false;
    // The manifest is rewritten just after the renames of a commit: wait for both (a
    // loaded machine showed the part a few milliseconds before the manifest).
    for _ in 0..200 {
        let manifest_rows = Manifest::load(&dir)
            .ok()
            .and_then(|m| m.rows.get("domains").copied());
        if !reader::parts(&dir, Table::Domains).unwrap().is_empty() && manifest_rows.is_some() {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(committed, "no commit without flush or size limit");
    assert_eq!(reader::read_domains(&dir).unwrap().len(), 5);
    assert_eq!(
        Manifest::load(&dir).unwrap().rows["domains"],
        5,
        "manifest updated at commit"
    );
    h.finish(SurveyStatus::Complete).await.unwrap();
}

#[tokio::test]
async fn a_complete_survey_resumes_only_when_allowed() {
    let (_root, dir) = finished_survey(SURVEY, "s", 0..3, SurveyStatus::Complete).await;
    assert!(matches!(
        open_for_resume(&dir, ResumeOptions::default()),
        Err(StoreError::SurveyComplete(_))
    ));
    let (_, index) = open_for_resume(
        &dir,
        ResumeOptions {
            allow_complete: true,
        },
    )
    .unwrap();
    assert_eq!(index.domains.len(), 3);
}

#[tokio::test]
async fn stale_tmp_files_are_invisible_and_removed() {
    let (_root, dir) = finished_survey(SURVEY, "s", 0..3, SurveyStatus::Partial).await;
    // Truncated garbage where a crash would leave it.
    std::fs::write(
        dir.join("domains").join(reader::tmp_part_name(7)),
        b"PAR1\0\0",
    )
    .unwrap();
    std::fs::write(dir.join(".survey.json.tmp"), b"{").unwrap();
    assert_eq!(reader::read_domains(&dir).unwrap().len(), 3);
    let (_, index) = open_for_resume(&dir, ResumeOptions::default()).unwrap();
    assert_eq!(index.removed.len(), 2);
    assert_eq!(files(&dir, "domains"), vec![reader::part_name(0)]);
}
