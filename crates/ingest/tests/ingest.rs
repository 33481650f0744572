//! End-to-end tests of the ingest stream: formats, gzip, errors, duplicates, counts,
//! streaming behaviour and sharding. No sockets.

use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use mxscan_ingest::{
    Counts, Entry, FormatChoice, Ingest, IngestError, IngestOptions, Input, InputStatus,
    MAX_LINE_BYTES, Shard,
};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Collect a stream into (entries, rejections as "line:code", other errors).
fn run(ingest: &mut Ingest) -> (Vec<Entry>, Vec<String>, Vec<IngestError>) {
    let (mut entries, mut rejected, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for item in ingest.by_ref() {
        match item {
            Ok(e) => entries.push(e),
            Err(IngestError::Rejected(l)) => {
                rejected.push(format!("{}:{}", l.line, l.reason.as_str()))
            }
            Err(e) => errors.push(e),
        }
    }
    (entries, rejected, errors)
}

fn pairs(entries: &[Entry]) -> Vec<(&str, Option<u64>)> {
    entries
        .iter()
        .map(|e| (e.domain.as_str(), e.rank))
        .collect()
}

fn check_invariant(c: &Counts) {
    assert_eq!(
        c.read,
        c.accepted + c.duplicates + c.rejected + c.other_shard,
        "{c:?}"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn each_testdata_format_is_detected() {
    type Want = (
        &'static str,
        &'static str,
        &'static [(&'static str, Option<u64>)],
        &'static [&'static str],
    );
    let cases: &[Want] = &[
        (
            "plain.txt",
            "plain",
            &[
                ("example.com", None),
                ("xn--bcher-kva.example", None),
                ("mail.example.org", None),
                ("last.example", None),
            ],
            &["9:url", "11:invalid_character", "12:single_label"],
        ),
        (
            "tranco.csv",
            "ranked",
            &[
                ("google.com", Some(1)),
                ("facebook.com", Some(2)),
                ("microsoft.com", Some(3)),
                ("amazonaws.com", Some(6)),
            ],
            &["4:ip_literal"],
        ),
        (
            "header.csv",
            "csv",
            &[
                ("example.com", Some(10)),
                ("xn--bcher-kva.example", Some(11)),
                ("no-rank.example", None),
            ],
            &["6:bad_rank", "7:malformed"],
        ),
        (
            "majestic.csv",
            "csv",
            &[
                ("google.com", Some(1)),
                ("facebook.com", Some(2)),
                ("wikipedia.org", Some(3)),
            ],
            &[],
        ),
        (
            "ranked.tsv",
            "ranked",
            &[
                ("example.com", Some(1)),
                ("example.net", Some(2)),
                ("example.org", Some(3)),
            ],
            &[],
        ),
        (
            "one-column.csv",
            "csv",
            &[("example.com", None), ("example.net", None)],
            &[],
        ),
    ];
    for (file, format, want, want_rejected) in cases {
        let mut ingest = Ingest::new([Input::Path(testdata(file))], IngestOptions::default());
        let (entries, rejected, errors) = run(&mut ingest);
        assert!(errors.is_empty(), "{file}: {errors:?}");
        assert_eq!(pairs(&entries), *want, "{file}");
        assert_eq!(rejected, *want_rejected, "{file}");
        let st = &ingest.stats().inputs[0];
        assert_eq!(
            st.format.as_ref().map(|f| f.as_str()),
            Some(*format),
            "{file}"
        );
        assert_eq!(st.status, InputStatus::Complete);
        assert!(!st.gzip);
        assert_eq!(st.bytes, std::fs::metadata(testdata(file)).unwrap().len());
        check_invariant(&ingest.stats().total);
    }
}

#[test]
fn plain_counts_and_positions() {
    let mut ingest = Ingest::from_args(
        [testdata("plain.txt").to_str().unwrap()],
        IngestOptions::default(),
    );
    let (entries, _, _) = run(&mut ingest);
    // Line numbers are physical lines, comments and blanks included.
    let lines: Vec<u64> = entries.iter().map(|e| e.source.line).collect();
    assert_eq!(lines, [4, 5, 6, 14]);
    assert!(entries[0].source.to_string().ends_with("plain.txt:4"));
    let t = ingest.stats().total;
    // 9 data lines: 4 accepted, example.com + xn--bcher-kva.example duplicated, 3 rejected.
    assert_eq!(
        t,
        Counts {
            read: 9,
            accepted: 4,
            duplicates: 2,
            rejected: 3,
            other_shard: 0
        }
    );
    let by_reason = &ingest.stats().rejected_by_reason;
    assert_eq!(by_reason.get("url"), Some(&1));
    assert_eq!(by_reason.get("invalid_character"), Some(&1));
    assert_eq!(by_reason.get("single_label"), Some(&1));
    assert_eq!(by_reason.values().sum::<u64>(), t.rejected);
}

#[test]
fn rejection_messages_name_input_line_text_and_reason() {
    let list = "ok.example\nhttp://x.com/\n";
    let mut ingest = Ingest::new(
        [Input::reader("list.csv", Cursor::new(list))],
        IngestOptions::default(),
    );
    let msgs: Vec<String> = ingest
        .by_ref()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    assert_eq!(
        msgs,
        [r#"list.csv:2: "http://x.com/" is not a hostname: looks like a URL (scheme://)"#]
    );
    // In a CSV, the echoed text of a name problem is the domain field only.
    let list = "rank,domain\n1,exa mple.com\n";
    let mut ingest = Ingest::new(
        [Input::reader("l.csv", Cursor::new(list))],
        IngestOptions::default(),
    );
    let e = ingest.next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"l.csv:2: "exa mple.com" is not a hostname: contains whitespace"#
    );
    assert!(!e.stops_input());
}

#[test]
fn a_bad_line_in_the_middle_does_not_stop_the_rest() {
    let mut list = String::new();
    for i in 0..100 {
        list.push_str(&format!("d{i}.example\n"));
    }
    list.push_str("bad..name\n\u{0}\u{1}\n[::1]\n");
    list.push_str(&"z".repeat(MAX_LINE_BYTES * 3));
    list.push('\n');
    let mut bytes = list.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe.example\n");
    for i in 100..200 {
        bytes.extend_from_slice(format!("d{i}.example\n").as_bytes());
    }
    let mut ingest = Ingest::new(
        [Input::reader("mid", Cursor::new(bytes))],
        IngestOptions::default(),
    );
    let (entries, rejected, errors) = run(&mut ingest);
    assert!(errors.is_empty());
    assert_eq!(entries.len(), 200);
    assert_eq!(
        rejected,
        [
            "101:empty_label",
            "102:invalid_character",
            "103:ip_literal",
            "104:line_too_long",
            "105:invalid_utf8"
        ]
    );
    assert_eq!(entries[100].source.line, 106);
}

#[test]
fn crlf_bom_and_comments_anywhere() {
    let bytes =
        b"\xef\xbb\xbf1,a.example\r\n\r\n# c\r\n   \r\n2,B.example\r\n\t# indented\r\n3,c.example";
    let mut ingest = Ingest::new(
        [Input::reader("x", Cursor::new(bytes.to_vec()))],
        IngestOptions::default(),
    );
    let (entries, rejected, errors) = run(&mut ingest);
    assert!(rejected.is_empty() && errors.is_empty());
    assert_eq!(
        pairs(&entries),
        [
            ("a.example", Some(1)),
            ("b.example", Some(2)),
            ("c.example", Some(3))
        ]
    );
    // A BOM is only tolerated at the start of an input.
    let mut ingest = Ingest::new(
        [Input::reader(
            "y",
            Cursor::new(b"a.example\n\xef\xbb\xbfb.example\n".to_vec()),
        )],
        IngestOptions::default(),
    );
    let (entries, _, _) = run(&mut ingest);
    assert_eq!(entries.len(), 2, "U+FEFF is ignored by UTS 46 mapping");
}

#[test]
fn gzip_is_detected_by_magic_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = "rank,domain\n1,Bücher.example\n2,example.com\n";
    // Compressed, but named .txt.
    let gz_txt = dir.path().join("list.txt");
    std::fs::write(&gz_txt, gzip(text.as_bytes())).unwrap();
    // Named .gz, but not compressed.
    let plain_gz = dir.path().join("list.gz");
    std::fs::write(&plain_gz, "example.net\n").unwrap();
    // Two concatenated gzip members (`cat a.gz b.gz`).
    let multi = dir.path().join("multi.gz");
    let mut both = gzip(b"m1.example\n");
    both.extend(gzip(b"m2.example\n"));
    std::fs::write(&multi, both).unwrap();

    let mut ingest = Ingest::new(
        [
            Input::Path(gz_txt),
            Input::Path(plain_gz),
            Input::Path(multi),
        ],
        IngestOptions::default(),
    );
    let (entries, rejected, errors) = run(&mut ingest);
    assert!(
        rejected.is_empty() && errors.is_empty(),
        "{rejected:?} {errors:?}"
    );
    assert_eq!(
        pairs(&entries),
        [
            ("xn--bcher-kva.example", Some(1)),
            ("example.com", Some(2)),
            ("example.net", None),
            ("m1.example", None),
            ("m2.example", None)
        ]
    );
    let gz: Vec<bool> = ingest.stats().inputs.iter().map(|i| i.gzip).collect();
    assert_eq!(gz, [true, false, true]);
    assert_eq!(entries[2].source.input_index, 1);
}

#[test]
fn corrupt_gzip_stops_only_that_input() {
    let mut text = String::new();
    for i in 0..50_000 {
        text.push_str(&format!("host{i}.example\n"));
    }
    let mut gz = gzip(text.as_bytes());
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let truncated = gzip(text.as_bytes())[..mid].to_vec();
    let mut ingest = Ingest::new(
        [
            Input::reader("corrupt.gz", Cursor::new(gz)),
            Input::reader("truncated.gz", Cursor::new(truncated)),
            Input::reader("next", Cursor::new("after.example\n")),
        ],
        IngestOptions::default(),
    );
    let mut read_errors = Vec::new();
    let mut last = None;
    for item in ingest.by_ref() {
        match item {
            Ok(e) => last = Some(e.domain),
            Err(e) if e.stops_input() => {
                assert!(matches!(e, IngestError::Read { .. }), "{e}");
                read_errors.push(e.to_string());
            }
            Err(IngestError::Rejected(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(read_errors.len(), 2, "{read_errors:?}");
    assert!(
        read_errors[0].starts_with("corrupt.gz:"),
        "{}",
        read_errors[0]
    );
    assert!(
        read_errors[1].starts_with("truncated.gz:"),
        "{}",
        read_errors[1]
    );
    assert_eq!(last.as_deref(), Some("after.example"));
    let st = ingest.stats();
    let status: Vec<_> = st.inputs.iter().map(|i| i.status).collect();
    assert_eq!(
        status,
        [
            InputStatus::Failed,
            InputStatus::Failed,
            InputStatus::Complete
        ]
    );
    assert!(
        st.inputs[0].counts.accepted > 1000,
        "entries before the corruption are kept"
    );
    assert!(st.inputs[0].sha256.is_none() && st.inputs[2].sha256.is_some());
    assert_eq!(st.inputs_failed(), 2);
    check_invariant(&st.total);
}

#[test]
fn open_and_format_errors_skip_to_the_next_input() {
    let missing = testdata("does-not-exist.txt");
    let mut ingest = Ingest::new(
        [
            Input::Path(missing),
            Input::Path(testdata("unknown.csv")),
            Input::reader("zst", Cursor::new(vec![0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0])),
            Input::Path(testdata("ranked.tsv")),
        ],
        IngestOptions::default(),
    );
    let items: Vec<_> = ingest.by_ref().collect();
    assert_eq!(items.len(), 6);
    let e0 = items[0].as_ref().unwrap_err();
    assert!(matches!(e0, IngestError::Open { .. }) && e0.stops_input());
    assert!(
        e0.to_string().contains("does-not-exist.txt: cannot open"),
        "{e0}"
    );
    let e1 = items[1].as_ref().unwrap_err();
    assert!(matches!(e1, IngestError::Format { line: 1, .. }), "{e1}");
    assert!(
        e1.to_string()
            .contains("unknown.csv:1: cannot detect the list format"),
        "{e1}"
    );
    let e2 = items[2].as_ref().unwrap_err();
    assert!(matches!(e2, IngestError::Compression { kind: "zstd", .. }) && e2.stops_input());
    assert_eq!(
        e2.to_string(),
        "zst: zstd-compressed input is not supported (only gzip is decoded): decompress it first"
    );
    assert_eq!(items[3..].iter().filter(|i| i.is_ok()).count(), 3);
    assert_eq!(ingest.stats().inputs_failed(), 3);
    assert_eq!(ingest.stats().inputs[1].counts, Counts::default());
    assert!(ingest.next().is_none(), "fused");
}

#[test]
fn stdin_argument_and_generic_reader() {
    assert!(matches!(Input::from_arg("-"), Input::Stdin));
    assert_eq!(Input::from_arg("-").name(), "<stdin>");
    assert!(matches!(Input::from_arg("list.csv"), Input::Path(_)));
    // What `-` reads is just a `Read`: any reader goes through the same path.
    let stdin_like: Box<dyn Read + Send> = Box::new(io::Cursor::new(gzip(b"1,a.example\n")));
    let mut ingest = Ingest::new(
        [Input::Reader {
            name: "<stdin>".into(),
            reader: stdin_like,
        }],
        IngestOptions::default(),
    );
    let e = ingest.next().unwrap().unwrap();
    assert_eq!(
        (e.domain.as_str(), e.rank, e.source.to_string().as_str()),
        ("a.example", Some(1), "<stdin>:1")
    );
}

#[test]
fn duplicates_keep_the_first_occurrence_and_rank_across_inputs() {
    let a = "5,b.example\n1,a.example\n9,A.EXAMPLE.\n";
    let b = "rank,domain\n2,b.example\n3,c.example\n";
    let c = "xn--bcher-kva.example\nbücher.example\nc.example\n";
    let mut ingest = Ingest::new(
        [
            Input::reader("a", Cursor::new(a)),
            Input::reader("b", Cursor::new(b)),
            Input::reader("c", Cursor::new(c)),
        ],
        IngestOptions::default(),
    );
    let (entries, rejected, errors) = run(&mut ingest);
    assert!(rejected.is_empty() && errors.is_empty());
    assert_eq!(
        pairs(&entries),
        [
            ("b.example", Some(5)),
            ("a.example", Some(1)),
            ("c.example", Some(3)),
            ("xn--bcher-kva.example", None)
        ]
    );
    let st = ingest.stats();
    assert_eq!(
        st.total,
        Counts {
            read: 8,
            accepted: 4,
            duplicates: 4,
            rejected: 0,
            other_shard: 0
        }
    );
    let per: Vec<(u64, u64)> = st
        .inputs
        .iter()
        .map(|i| (i.counts.accepted, i.counts.duplicates))
        .collect();
    assert_eq!(per, [(2, 1), (1, 1), (1, 2)]);
    assert_eq!(ingest.distinct(), 4);
}

#[test]
fn the_stream_can_move_to_a_worker_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<Ingest>();
    assert_send::<IngestError>();
    let list = "a.example\n\u{a0}# comment after a no-break space\nb.example\n";
    let ingest = Ingest::new(
        [Input::reader("t", Cursor::new(list))],
        IngestOptions::default(),
    );
    let got = std::thread::spawn(move || ingest.map(|r| r.unwrap().domain).collect::<Vec<_>>())
        .join()
        .unwrap();
    assert_eq!(got, ["a.example", "b.example"]);
}

#[test]
fn forced_format_overrides_detection() {
    let list = "1,a.example\n";
    let opts = IngestOptions {
        format: FormatChoice::Plain,
        ..Default::default()
    };
    let mut ingest = Ingest::new([Input::reader("f", Cursor::new(list))], opts);
    let (_, rejected, _) = run(&mut ingest);
    assert_eq!(rejected, ["1:invalid_character"]);
}

/// A reader that generates `n` lines on the fly (the input never exists in memory) and
/// counts the bytes handed out.
struct Generated {
    next: u64,
    n: u64,
    pending: Vec<u8>,
    handed_out: Arc<AtomicU64>,
}

impl Generated {
    fn new(n: u64) -> (Self, Arc<AtomicU64>) {
        let counter = Arc::new(AtomicU64::new(0));
        let g = Self {
            next: 0,
            n,
            pending: Vec::new(),
            handed_out: Arc::clone(&counter),
        };
        (g, counter)
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.len() < buf.len() && self.next < self.n {
            let line = format!("{},domain-{}.example\n", self.next + 1, self.next);
            self.pending.extend_from_slice(line.as_bytes());
            self.next += 1;
        }
        let k = buf.len().min(self.pending.len());
        buf[..k].copy_from_slice(&self.pending[..k]);
        self.pending.drain(..k);
        self.handed_out.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// A reader that counts the bytes read from an in-memory buffer.
struct Counting {
    inner: Cursor<Vec<u8>>,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.read.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

#[test]
fn a_200k_line_list_is_streamed_not_slurped() {
    const N: u64 = 200_000;
    // Plain-text generator: bytes consumed at the first entry are one buffer, not the list.
    let (gen_reader, counter) = Generated::new(N);
    let mut ingest = Ingest::new([Input::reader("gen", gen_reader)], IngestOptions::default());
    let first = ingest.next().unwrap().unwrap();
    assert_eq!(
        (first.domain.as_str(), first.rank),
        ("domain-0.example", Some(1))
    );
    let at_first = counter.load(Ordering::Relaxed);
    assert!(
        at_first <= 70 * 1024,
        "read {at_first} bytes before the first entry"
    );
    let mut n = 1;
    let mut at_half = 0;
    for item in ingest.by_ref() {
        let e = item.unwrap();
        n += 1;
        if n == N / 2 {
            at_half = counter.load(Ordering::Relaxed);
            assert_eq!(e.rank, Some(N / 2));
        }
    }
    assert_eq!(n, N);
    let total = counter.load(Ordering::Relaxed);
    assert!(total > 5_000_000, "{total}");
    assert!(
        at_half < total * 6 / 10,
        "read ahead too far: {at_half} of {total}"
    );
    let st = ingest.stats();
    assert_eq!(st.total.accepted, N);
    assert_eq!(st.inputs[0].bytes, total);
    assert!(st.inputs[0].sha256.is_some());

    // The same through gzip.
    let (mut gen_reader, _) = Generated::new(N);
    let mut raw = Vec::new();
    gen_reader.read_to_end(&mut raw).unwrap();
    let gz = gzip(&raw);
    let gz_len = gz.len() as u64;
    let read = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: Cursor::new(gz),
        read: Arc::clone(&read),
    };
    let mut ingest = Ingest::new(
        [Input::reader("gen.gz", counting)],
        IngestOptions::default(),
    );
    assert_eq!(ingest.next().unwrap().unwrap().domain, "domain-0.example");
    let at_first = read.load(Ordering::Relaxed);
    assert!(
        at_first <= 64 * 1024 && at_first < gz_len / 4,
        "read {at_first} of {gz_len} gzip bytes up front"
    );
    assert_eq!(ingest.by_ref().filter(|r| r.is_ok()).count() as u64, N - 1);
}

#[test]
fn shards_partition_the_stream() {
    let mut list = String::new();
    for i in 0..3_000 {
        list.push_str(&format!("{},site{}.example\n", i + 1, i % 2_500));
    }
    let all: Vec<Entry> = Ingest::new(
        [Input::reader("l", Cursor::new(list.clone()))],
        IngestOptions::default(),
    )
    .map(Result::unwrap)
    .collect();
    assert_eq!(all.len(), 2_500);
    let n = 4;
    let mut union = Vec::new();
    for k in 1..=n {
        let opts = IngestOptions {
            shard: Some(Shard::new(k, n).unwrap()),
            ..Default::default()
        };
        let mut ingest = Ingest::new([Input::reader("l", Cursor::new(list.clone()))], opts);
        let part: Vec<Entry> = ingest.by_ref().map(Result::unwrap).collect();
        let t = ingest.stats().total;
        check_invariant(&t);
        assert_eq!(t.read, 3_000);
        assert!(t.other_shard > 0 && !part.is_empty());
        let shard = Shard::new(k, n).unwrap();
        assert!(part.iter().all(|e| shard.contains(&e.domain)));
        union.extend(part);
    }
    union.sort_by_key(|e| e.rank);
    assert_eq!(
        union, all,
        "the shards together are exactly the unsharded stream"
    );
}

#[test]
fn keep_duplicates_counts_every_valid_name_and_holds_no_filter() {
    let list = "a.example\nb.example\nA.example.\nbad name\nb.example\nc.example\n";
    let open = |keep_duplicates| {
        Ingest::new(
            [Input::reader("l", Cursor::new(list.as_bytes().to_vec()))],
            IngestOptions {
                keep_duplicates,
                ..IngestOptions::default()
            },
        )
    };
    let mut counting = open(true);
    let (entries, rejected, _) = run(&mut counting);
    assert_eq!(
        entries
            .iter()
            .map(|e| e.domain.as_str())
            .collect::<Vec<_>>(),
        [
            "a.example",
            "b.example",
            "a.example",
            "b.example",
            "c.example"
        ]
    );
    assert_eq!(rejected, ["4:whitespace"]);
    assert_eq!(counting.distinct(), 0, "no duplicate filter");

    let mut scanning = open(false);
    let (entries, _, _) = run(&mut scanning);
    assert_eq!(entries.len(), 3);
    assert_eq!(scanning.distinct(), 3);
}
