//! Property tests: no panics on arbitrary input, accepted names always obey the host-name
//! rules, and shards partition every list.

use std::collections::HashSet;
use std::io::Cursor;

use mxscan_ingest::{
    Ingest, IngestOptions, Input, Shard, check_host_name, normalize_domain, shard_of,
};
use proptest::prelude::*;

/// The host-name rules, written out independently of the crate's own checker.
fn is_surveyable_host_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && !labels.last().unwrap().bytes().all(|b| b.is_ascii_digit())
}

/// Strings that look like domains, with the usual mistakes mixed in.
fn domainish() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        6 => "[a-zA-Z0-9]{1,10}",
        2 => "[a-zA-Z0-9-]{0,70}",
        2 => "[a-zA-Z0-9üßÄ]{1,8}",
        1 => "[a-zA-Z0-9_üßÄ\u{3002}\u{ff0e} :/@?#\\[\\]%*-]{0,12}",
        1 => "xn--[a-z0-9-]{0,12}",
        1 => "[0-9]{1,3}",
        1 => any::<String>(),
    ];
    (
        prop::collection::vec(label, 1..6),
        prop::option::of(prop_oneof![Just("."), Just(".."), Just(" ")]),
    )
        .prop_map(|(labels, tail)| {
            let mut s = labels.join(".");
            if let Some(t) = tail {
                s.push_str(t);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn normalisation_never_panics_and_accepts_only_host_names(raw in domainish()) {
        if let Ok(name) = normalize_domain(&raw) {
            prop_assert!(is_surveyable_host_name(&name), "{raw:?} -> {name:?}");
            prop_assert_eq!(check_host_name(&name), Ok(()));
            // Idempotent: a normalised name normalises to itself.
            prop_assert_eq!(normalize_domain(&name), Ok(name.clone()));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(raw in any::<String>()) {
        if let Ok(name) = normalize_domain(&raw) {
            prop_assert!(is_surveyable_host_name(&name), "{raw:?} -> {name:?}");
        }
    }

    #[test]
    fn shards_partition(name in "[a-z0-9.-]{1,80}", n in 1u32..64) {
        let s = shard_of(&name, n);
        prop_assert!(s < n);
        let owners = (1..=n).filter(|k| Shard::new(*k, n).unwrap().contains(&name)).count();
        prop_assert_eq!(owners, 1);
    }
}

/// Lines for whole-stream properties: domain-ish text, CSV-ish rows, comments, junk bytes.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        domainish().prop_map(String::into_bytes),
        ("[0-9x -]{0,4}", "[,\t;]", domainish())
            .prop_map(|(r, d, n)| format!("{r}{d}{n}").into_bytes()),
        Just(b"rank,domain".to_vec()),
        Just(b"# comment".to_vec()),
        Just(b"\"a,b\",\"".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(vec![0x1f, 0x8b]),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn streams_never_panic_and_keep_their_invariants(
        inputs in prop::collection::vec(
            (prop::collection::vec(line(), 0..30), any::<bool>()),
            1..4,
        ),
        shard in prop::option::of((1u32..4, 4u32..5)),
    ) {
        let shard = shard.map(|(k, n)| Shard::new(k, n).unwrap());
        let readers = inputs.iter().enumerate().map(|(i, (lines, crlf))| {
            let sep: &[u8] = if *crlf { b"\r\n" } else { b"\n" };
            let bytes = lines.join(sep);
            Input::reader(format!("in{i}"), Cursor::new(bytes))
        });
        let mut ingest = Ingest::new(readers, IngestOptions { shard, ..Default::default() });
        let mut seen = HashSet::new();
        let mut yielded_rejections = 0u64;
        for item in ingest.by_ref() {
            match item {
                Ok(e) => {
                    prop_assert!(is_surveyable_host_name(&e.domain), "{:?}", e.domain);
                    prop_assert!(seen.insert(e.domain.clone()), "duplicate {:?}", e.domain);
                    if let Some(s) = shard {
                        prop_assert!(s.contains(&e.domain));
                    }
                }
                Err(e) if e.as_rejection().is_some() => yielded_rejections += 1,
                Err(e) => prop_assert!(e.stops_input(), "{e}"),
            }
        }
        let t = ingest.stats().total;
        prop_assert_eq!(t.read, t.accepted + t.duplicates + t.rejected + t.other_shard);
        prop_assert_eq!(t.accepted, seen.len() as u64);
        prop_assert_eq!(t.rejected, yielded_rejections);
        let per_input: u64 = ingest.stats().inputs.iter().map(|i| i.counts.read).sum();
        prop_assert_eq!(per_input, t.read);
    }
}
