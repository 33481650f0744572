//! Issue 4, part 6: `--shard K/N`. Scanning shards 1/3, 2/3 and 3/3 of one list gives
//! exactly the domains of the whole list, each once — also when the list holds duplicates
//! and spellings that normalise to the same name (a domain's shard is decided on its
//! normalised form, so two spellings of one name never land in two shards).

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Harness, Scan, only_survey, serial};
use mxscan_testbed::profile::Profile;

#[test]
fn three_shards_cover_the_list_exactly_once() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(61, Profile::Realistic);
    let names = h.domains(900);
    // A plain list with duplicates, upper-case and trailing-dot spellings of listed names.
    let mut text = String::new();
    for (i, d) in names.iter().enumerate() {
        text.push_str(d);
        text.push('\n');
        if i % 50 == 0 {
            text.push_str(&format!("{}.\n", d.to_ascii_uppercase()));
        }
        if i % 70 == 0 {
            text.push_str(&format!("{d}\n"));
        }
    }
    let list = h.dir.path().join("list.txt");
    std::fs::write(&list, text).unwrap();
    let want: BTreeSet<String> = names.iter().cloned().collect();

    let mut seen: HashMap<String, Vec<u32>> = HashMap::new();
    let mut accepted_total = 0u64;
    let mut per_shard = Vec::new();
    for k in 1..=3u32 {
        let out = h.dir.path().join(format!("shard{k}"));
        let mut flags = Harness::fast_flags();
        flags.extend(["--shard".to_string(), format!("{k}/3")]);
        flags.extend(["--dns-rate".to_string(), "20000".to_string()]);
        let output = h.scan(&list, &out, &flags);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("in other shards"), "says so:\n{stderr}");
        let survey = only_survey(&out);
        let domains = mxscan_store::reader::read_domains(&survey).unwrap();
        per_shard.push(domains.len());
        for d in domains {
            seen.entry(d.domain).or_default().push(k);
        }
        let manifest = mxscan_store::manifest::Manifest::load(&survey).unwrap();
        accepted_total += manifest.input.domains.expect("input.domains recorded");
        assert_eq!(
            manifest.config["shard"].as_str(),
            Some(format!("{k}/3").as_str()),
            "the manifest records the shard"
        );
    }
    eprintln!("shard sizes {per_shard:?}");
    let twice: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "domains in more than one shard: {twice:?}"
    );
    let got: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(
        got.symmetric_difference(&want).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the shards' union is the list"
    );
    assert_eq!(accepted_total, want.len() as u64, "accepted counts add up");
    for n in per_shard {
        assert!(n > 200, "shards are balanced-ish ({n} of 900)");
    }
}
