//! Domain lists: one raw name through the normaliser (UTS #46 IDNA, host-name rules), and
//! whole inputs through the streaming reader (plain / CSV / Tranco, gzip, BOM, CRLF, dedup,
//! shards, several inputs).

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::api::{
    Ingest, IngestError, IngestOptions, Input, InputStatus, MAX_ECHO_CHARS, RejectReason, Shard,
    check_host_name, normalize_domain, shard_of,
};
use mxscan_ingest::{FormatChoice, MAX_LABEL_LEN, MAX_NAME_LEN};

/// What every accepted name is (crate `mxscan-ingest`, module `normalize`): lowercase ASCII
/// LDH labels of 1–63 octets not starting or ending in `-`, at least two labels, at most 253
/// octets, no trailing dot, last label not numeric; and normalising it again changes nothing.
pub fn check_accepted(name: &str) {
    assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN, "{name:?}");
    assert!(!name.ends_with('.'), "{name:?}");
    let labels: Vec<&str> = name.split('.').collect();
    assert!(labels.len() >= 2, "{name:?}");
    for l in &labels {
        assert!(
            (1..=MAX_LABEL_LEN).contains(&l.len()),
            "label {l:?} of {name:?}"
        );
        assert!(
            l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name:?}"
        );
        assert!(!l.starts_with('-') && !l.ends_with('-'), "{name:?}");
    }
    let last = labels[labels.len() - 1];
    assert!(
        !last.bytes().all(|b| b.is_ascii_digit()),
        "numeric TLD {name:?}"
    );
    assert_eq!(check_host_name(name), Ok(()));
    assert_eq!(
        normalize_domain(name).as_deref(),
        Ok(name),
        "normalising is not idempotent"
    );
    for n in [1, 2, 7] {
        assert!(shard_of(name, n) < n);
    }
}

/// Reasons the normaliser may give: about the name, never about the record.
fn check_name_reason(reason: &RejectReason) {
    assert!(RejectReason::ALL_CODES.contains(&reason.as_str()));
    assert!(
        reason.is_about_name(),
        "{reason:?} from the name normaliser"
    );
    match reason {
        RejectReason::LabelTooLong { len } => assert!(*len > MAX_LABEL_LEN),
        RejectReason::NameTooLong { len } => assert!(*len > MAX_NAME_LEN),
        _ => {}
    }
    assert!(!reason.to_string().is_empty());
}

/// `ingest_line`: one raw field (lossy UTF-8) through `normalize_domain` (and the bare
/// host-name check): an accepted name has the normal form, a rejection a name reason.
pub fn ingest_line(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    match normalize_domain(&raw) {
        Ok(name) => check_accepted(&name),
        Err(reason) => check_name_reason(&reason),
    }
    match check_host_name(&raw) {
        Ok(()) => {
            // LDH, lowercase, two labels or more, within the lengths.
            assert!(raw.len() <= MAX_NAME_LEN && raw.contains('.') && !raw.ends_with('.'));
            assert!(
                raw.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.')
            );
        }
        Err(reason) => check_name_reason(&reason),
    }
}

/// `ingest_stream`: byte 0 is options — bits 0–1 the format choice (auto, plain, csv, ranked),
/// bit 2 keep duplicates, bit 3 shard 1/2 (bit 4: 2/2), bit 5 gzip the data first, bit 6 cut
/// it into two inputs at the position byte 1 gives; the rest is the list. The iterator ends,
/// stays ended, yields every name once in its normal form, and its statistics add up (counts,
/// reasons, per input, bytes and SHA-256 of each complete input).
pub fn ingest_stream(input: &[u8]) {
    let [opts, cut, data @ ..] = input else {
        return;
    };
    let format = [
        FormatChoice::Auto,
        FormatChoice::Plain,
        FormatChoice::Csv,
        FormatChoice::Ranked,
    ][usize::from(opts & 3)];
    let keep_duplicates = opts & 4 != 0;
    let shard = (opts & 8 != 0).then(|| Shard::new(1 + u32::from(opts >> 4 & 1), 2).unwrap());
    let gzip = opts & 32 != 0;
    let raws: Vec<Vec<u8>> = {
        let parts: Vec<&[u8]> = if opts & 64 != 0 {
            let at = usize::from(*cut) * data.len() / 255;
            let (a, b) = data.split_at(at);
            vec![a, b]
        } else {
            vec![data]
        };
        parts
            .into_iter()
            .map(|p| {
                if gzip {
                    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
                    e.write_all(p).unwrap();
                    e.finish().unwrap()
                } else {
                    p.to_vec()
                }
            })
            .collect()
    };
    let inputs = raws
        .iter()
        .enumerate()
        .map(|(i, r)| Input::reader(format!("in{i}"), Cursor::new(r.clone())));
    let options = IngestOptions {
        format,
        shard,
        keep_duplicates,
    };
    let mut ingest = Ingest::new(inputs, options);

    // Upper bound on items: one per line (a line is at least its `\n`, or the end) plus one
    // error per input, counted on the text the reader sees (gzip decoded as far as it goes).
    let lines: usize = raws.iter().map(|r| text_lines(r)).sum();
    let bound = lines + raws.len();
    let mut seen = HashSet::new();
    let (mut ok, mut rejected, mut stopped) = (0u64, 0u64, 0usize);
    let mut last_line: HashMap<usize, u64> = HashMap::new();
    let mut items = 0usize;
    for item in ingest.by_ref() {
        items += 1;
        assert!(items <= bound, "more than {bound} items from {lines} lines");
        match item {
            Ok(e) => {
                ok += 1;
                check_accepted(&e.domain);
                assert!(
                    keep_duplicates || seen.insert(e.domain.clone()),
                    "{:?} yielded twice",
                    e.domain
                );
                assert!(shard.is_none_or(|s| s.contains(&e.domain)));
                assert!(e.source.input_index < raws.len() && e.source.line >= 1);
                let prev = last_line.insert(e.source.input_index, e.source.line);
                assert!(prev.is_none_or(|p| p < e.source.line), "lines out of order");
            }
            Err(IngestError::Rejected(le)) => {
                rejected += 1;
                assert!(RejectReason::ALL_CODES.contains(&le.reason.as_str()));
                assert!(
                    le.text.chars().count() <= MAX_ECHO_CHARS + 1,
                    "{} chars echoed",
                    le.text.chars().count()
                );
                assert!(le.line >= 1);
                assert!(!le.to_string().is_empty());
            }
            Err(e) => {
                assert!(e.stops_input(), "{e}");
                assert!(!matches!(e, IngestError::Open { .. }), "{e}");
                stopped += 1;
            }
        }
    }
    assert!(ingest.next().is_none(), "the iterator yields after its end");

    let stats = ingest.stats();
    let t = stats.total;
    assert_eq!(
        t.read,
        t.accepted + t.duplicates + t.rejected + t.other_shard
    );
    assert_eq!(t.accepted, ok);
    assert_eq!(t.rejected, rejected);
    assert_eq!(stats.rejected_by_reason.values().sum::<u64>(), rejected);
    assert_eq!(stats.inputs_failed(), stopped);
    if keep_duplicates {
        assert_eq!(t.duplicates, 0);
    } else {
        assert_eq!(ingest.distinct() as u64, ok);
    }
    if shard.is_none() {
        assert_eq!(t.other_shard, 0);
    }
    let mut sum = (0, 0, 0, 0, 0);
    for (st, raw) in stats.inputs.iter().zip(&raws) {
        let c = st.counts;
        assert_eq!(
            c.read,
            c.accepted + c.duplicates + c.rejected + c.other_shard
        );
        sum = (
            sum.0 + c.read,
            sum.1 + c.accepted,
            sum.2 + c.duplicates,
            sum.3 + c.rejected,
            sum.4 + c.other_shard,
        );
        let magic = raw.starts_with(&[0x1f, 0x8b]);
        assert!(!st.gzip || magic, "gzip without the magic bytes");
        match st.status {
            InputStatus::Complete => {
                assert_eq!(st.gzip, magic, "gzip magic not detected");
                assert_eq!(st.bytes, raw.len() as u64, "raw bytes of {}", st.name);
                assert_eq!(
                    st.sha256.as_deref(),
                    Some(hex::encode(Sha256::digest(raw)).as_str())
                );
            }
            InputStatus::Failed => assert!(st.sha256.is_none()),
            other => panic!("input {} left {other:?}", st.name),
        }
    }
    assert_eq!(
        sum,
        (t.read, t.accepted, t.duplicates, t.rejected, t.other_shard)
    );
}

/// Lines of `raw` as the reader sees them: gzip (by its magic) decoded as far as it is valid.
fn text_lines(raw: &[u8]) -> usize {
    let mut text = Vec::new();
    let text: &[u8] = if raw.starts_with(&[0x1f, 0x8b]) {
        let _ = flate2::read::MultiGzDecoder::new(raw).read_to_end(&mut text);
        &text
    } else {
        raw
    };
    text.iter().filter(|&&b| b == b'\n').count() + 1
}
