//! The TOML config file `mxscan scan --config FILE` reads (`ConfigFile::parse`, then
//! `ScanConfig::layered` puts it between the defaults and the flags; docs/mxscan.example.toml).
//! A user edits it, often by copying from elsewhere: a typo, a stray byte or a huge number
//! must give an error that names the file, never a panic or a silent default.

use std::collections::BTreeSet;
use std::path::Path;

use crate::api::{ConfigFile, ScanConfig};

/// Where the fuzzed file pretends to be: relative paths in it are made relative to `/etc/mxscan`.
const FILE: &str = "/etc/mxscan/scan.toml";
/// The keys the binary claims for itself (`crates/cli/src/config.rs`).
const CLAIMED: &[&str] = &["inputs", "progress"];

/// `toml_config`: arbitrary bytes as a config file. Invariants:
/// - an error names the file (`config file /etc/mxscan/scan.toml: …`) and stays bounded;
/// - a file that parses layers over the defaults without error (it was checked: unknown keys
///   and wrong types are parse errors, not layering errors);
/// - every path the file sets is absolute after layering (relative ones are relative to the
///   file's directory), and the options it does not set keep their defaults;
/// - `validate` and the survey.json `config` object never panic on what layering accepts;
/// - the layered configuration written back as TOML parses to the same configuration
///   (printed the same), i.e. survey.json's effective config can be replayed as a file.
pub fn toml_config(data: &[u8]) {
    // `ConfigFile::load` reads the file with `read_to_string`: not UTF-8 is an I/O error there.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = match ConfigFile::parse(text, Path::new(FILE), CLAIMED) {
        Ok(file) => file,
        Err(e) => {
            let prefix = format!("config file {FILE}: ");
            assert!(
                e.0.starts_with(&prefix),
                "error does not name the file: {e}"
            );
            assert!(
                e.0.len() <= 4 * text.len() + 4096,
                "error of {} bytes for {} bytes of input",
                e.0.len(),
                text.len()
            );
            return;
        }
    };
    // The claimed keys read as the binary reads them, or give an error naming the key.
    for key in CLAIMED {
        if let Err(e) = file.claimed::<serde_json::Value>(key) {
            panic!("claimed key {key} does not read as JSON: {e}");
        }
    }
    let none = BTreeSet::new();
    let defaults = ScanConfig::default();
    let layered = ScanConfig::layered(&defaults, &none, Some(&file))
        .unwrap_or_else(|e| panic!("a checked file does not layer: {e}\n{text}"));

    // Paths the file sets are absolute; options it does not set are the defaults.
    if file.sets("out") {
        assert!(layered.out.is_absolute(), "out {:?}", layered.out);
    } else {
        assert_eq!(layered.out, defaults.out);
    }
    if file.sets("trust_anchors") {
        assert!(layered.trust_anchors.iter().all(|p| p.is_absolute()));
    } else {
        assert_eq!(layered.trust_anchors, defaults.trust_anchors);
    }
    if file.sets("politeness.blocklists") {
        assert!(
            layered
                .politeness
                .blocklists
                .iter()
                .all(|p| p.is_absolute())
        );
    } else {
        assert_eq!(
            layered.politeness.blocklists,
            defaults.politeness.blocklists
        );
    }
    if !file.sets("max_mx") {
        assert_eq!(layered.max_mx, defaults.max_mx);
    }
    if !file.sets("dns.rate") {
        assert_eq!(layered.dns.rate.to_bits(), defaults.dns.rate.to_bits());
    }

    let _ = layered.manifest_json(Some(Path::new(FILE)), 1024);
    let _ = layered.domain_concurrency();
    let _ = layered.clone().validate();

    // Written back as TOML, the effective configuration reads as itself. The first trip
    // rebases the paths the file did not set (defaults such as `out = "surveys"` are relative,
    // and a file's relative paths are relative to its directory); every other option survives
    // it, and from then on the text is a fixed point.
    let Ok(written) = toml::to_string(&layered) else {
        // A config the TOML writer cannot express (none known) is not this parser's fault.
        return;
    };
    let once = reparse(&written, &defaults);
    let mut same_paths = once.clone();
    same_paths.out = layered.out.clone();
    same_paths.trust_anchors = layered.trust_anchors.clone();
    same_paths.politeness.blocklists = layered.politeness.blocklists.clone();
    assert_eq!(
        toml::to_string(&same_paths).expect("it was written once"),
        written,
        "an option other than a path changed on the way through TOML"
    );
    assert!(once.out.is_absolute());
    let written_once = toml::to_string(&once).expect("it was written once");
    let twice = reparse(&written_once, &defaults);
    assert_eq!(
        toml::to_string(&twice).expect("it was written once"),
        written_once,
        "the config does not round-trip through TOML"
    );
}

/// A written configuration read back as a config file and layered over the defaults.
fn reparse(written: &str, defaults: &ScanConfig) -> ScanConfig {
    let file = ConfigFile::parse(written, Path::new(FILE), CLAIMED)
        .unwrap_or_else(|e| panic!("a written config does not parse: {e}\n{written}"));
    ScanConfig::layered(defaults, &BTreeSet::new(), Some(&file))
        .unwrap_or_else(|e| panic!("a written config does not layer: {e}\n{written}"))
}
