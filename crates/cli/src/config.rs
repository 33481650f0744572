//! `mxscan scan --config FILE`: a TOML file for everything the scan flags set.
//!
//! Precedence, highest first: a flag given on the command line, the config file, the
//! built-in default (the `[default: …]` of `mxscan scan --help`). Whether a flag was given is
//! clap's [`ValueSource::CommandLine`], recorded when the arguments are parsed
//! ([`explicit_ids`]), so a flag given with its default value still overrides the file.
//!
//! Relative paths in the file (`inputs`, `out`, `trust_anchors`, `blocklists`) are relative to
//! the file's directory, so a systemd unit or cron job may run from anywhere. Unknown keys are
//! an error that names the key and the file: a typo must not silently fall back to a default.
//! The annotated reference is `docs/mxscan.example.toml`; the effective (merged) configuration
//! is written to the survey's `survey.json` (`config`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use mxscan_ingest::Shard;
use serde::Deserialize;

use crate::UsageError;
use crate::scan_cmd::ScanArgs;

/// The ids of the arguments given explicitly on the command line (not defaults, not env).
pub fn explicit_ids(m: &ArgMatches) -> BTreeSet<String> {
    m.ids()
        .map(|id| id.as_str())
        .filter(|id| m.value_source(id) == Some(ValueSource::CommandLine))
        .map(str::to_owned)
        .collect()
}

/// The config file, as written. Every key is optional; unknown keys are rejected.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Domain lists (`INPUT` arguments).
    pub inputs: Option<Vec<String>>,
    /// `--out`: the surveys root.
    pub out: Option<PathBuf>,
    /// `--ehlo-name`.
    pub ehlo_name: Option<String>,
    /// `--max-mx`.
    pub max_mx: Option<usize>,
    /// `--ipv6`.
    pub ipv6: Option<bool>,
    /// `--trust-anchor` (repeatable).
    pub trust_anchors: Option<Vec<PathBuf>>,
    /// `--shard K/N`.
    pub shard: Option<String>,
    /// `--progress`.
    pub progress: Option<String>,
    /// `--grace`, seconds.
    pub grace: Option<f64>,
    /// `--commit-rows`.
    pub commit_rows: Option<usize>,
    /// `--commit-interval`, seconds.
    pub commit_interval: Option<f64>,
    /// `--smtp-port` (testing only).
    pub smtp_port: Option<u16>,
    /// `--https-port` (testing only).
    pub https_port: Option<u16>,
    /// `[dns]`.
    #[serde(default)]
    pub dns: DnsSection,
    /// `[politeness]`.
    #[serde(default)]
    pub politeness: PolitenessSection,
    /// `[timeouts]`, seconds.
    #[serde(default)]
    pub timeouts: TimeoutSection,
}

/// `[dns]` of the config file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsSection {
    /// `--resolver` (repeatable).
    pub resolvers: Option<Vec<String>>,
    /// `--dns-rate`.
    pub rate: Option<f64>,
    /// `--dns-concurrency`.
    pub concurrency: Option<usize>,
    /// `--dns-timeout`.
    pub timeout: Option<f64>,
    /// `--dns-attempts`.
    pub attempts: Option<u32>,
}

/// `[politeness]` of the config file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolitenessSection {
    /// `--rate`.
    pub rate: Option<f64>,
    /// `--per-ip-interval`.
    pub per_ip_interval: Option<f64>,
    /// `--per-prefix-interval`.
    pub per_prefix_interval: Option<f64>,
    /// `--concurrency`.
    pub concurrency: Option<usize>,
    /// `--domain-concurrency`.
    pub domain_concurrency: Option<usize>,
    /// `--blocklist` (repeatable).
    pub blocklists: Option<Vec<PathBuf>>,
    /// `--allow` (repeatable).
    pub allow: Option<Vec<String>>,
    /// `--allow-private`.
    pub allow_private: Option<bool>,
}

/// `[timeouts]` of the config file, seconds.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSection {
    /// `--connect-timeout`.
    pub connect: Option<f64>,
    /// `--greeting-timeout`.
    pub greeting: Option<f64>,
    /// `--command-timeout`.
    pub command: Option<f64>,
    /// `--tls-timeout`.
    pub tls: Option<f64>,
    /// `--probe-timeout`.
    pub probe: Option<f64>,
    /// `--fetch-timeout`.
    pub fetch: Option<f64>,
}

impl FileConfig {
    /// Parse the text of a config file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<FileConfig, UsageError> {
        toml::from_str(text).map_err(|e| {
            UsageError(format!(
                "config file {}: {}",
                origin.display(),
                e.to_string().trim_end()
            ))
        })
    }

    /// Read and parse a config file.
    pub fn load(path: &Path) -> Result<FileConfig, UsageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("config file {}: {e}", path.display())))?;
        FileConfig::parse(&text, path)
    }
}

/// Relative paths in the file are relative to the file's directory.
fn rebase(base: &Path, p: PathBuf) -> PathBuf {
    if p.is_absolute() { p } else { base.join(p) }
}

/// Merge `file` into `args`: every value the file sets replaces the built-in default, unless
/// the flag was given on the command line. `base` is the file's directory.
pub fn merge(args: &mut ScanArgs, file: FileConfig, base: &Path) -> Result<(), UsageError> {
    let explicit = args.explicit.clone();
    let given = |id: &str| explicit.contains(id);
    macro_rules! set {
        ($id:ident <- $value:expr) => {
            if let Some(v) = $value {
                if !given(stringify!($id)) {
                    args.$id = v;
                }
            }
        };
        ($id:ident <- Some $value:expr) => {
            if let Some(v) = $value {
                if !given(stringify!($id)) {
                    args.$id = Some(v);
                }
            }
        };
    }
    let shard = match file.shard {
        Some(s) => Some(
            s.parse::<Shard>()
                .map_err(|e| UsageError(format!("config file: shard = {s:?}: {e}")))?,
        ),
        None => None,
    };
    let rebase_all =
        |v: Option<Vec<PathBuf>>| v.map(|v| v.into_iter().map(|p| rebase(base, p)).collect());
    let inputs = file.inputs.map(|v| {
        v.into_iter()
            .map(|i| {
                if i == "-" {
                    i
                } else {
                    rebase(base, PathBuf::from(i)).display().to_string()
                }
            })
            .collect::<Vec<_>>()
    });
    // The positional INPUTs: a `--resume` without INPUTs takes the manifest's lists, so the
    // file's inputs apply only to a new survey.
    if args.resume.is_none() {
        set!(inputs <- inputs);
    }
    set!(out <- file.out.map(|p| rebase(base, p)));
    set!(ehlo_name <- file.ehlo_name);
    set!(max_mx <- file.max_mx);
    set!(ipv6 <- file.ipv6);
    set!(trust_anchors <- rebase_all(file.trust_anchors));
    set!(shard <- Some shard);
    set!(progress <- file.progress);
    set!(grace <- file.grace);
    set!(commit_rows <- file.commit_rows);
    set!(commit_interval <- file.commit_interval);
    set!(smtp_port <- file.smtp_port);
    set!(https_port <- file.https_port);

    let d = file.dns;
    set!(resolvers <- d.resolvers);
    set!(dns_rate <- d.rate);
    set!(dns_concurrency <- d.concurrency);
    set!(dns_timeout <- d.timeout);
    set!(dns_attempts <- d.attempts);

    let p = file.politeness;
    set!(rate <- p.rate);
    set!(per_ip_interval <- p.per_ip_interval);
    set!(per_prefix_interval <- p.per_prefix_interval);
    set!(concurrency <- p.concurrency);
    set!(domain_concurrency <- Some p.domain_concurrency);
    set!(blocklists <- rebase_all(p.blocklists));
    set!(allow <- p.allow);
    set!(allow_private <- p.allow_private);

    let t = file.timeouts;
    set!(connect_timeout <- t.connect);
    set!(greeting_timeout <- t.greeting);
    set!(command_timeout <- t.command);
    set!(tls_timeout <- t.tls);
    set!(probe_timeout <- t.probe);
    set!(fetch_timeout <- t.fetch);
    Ok(())
}

/// Apply `--config FILE` (if given) to `args`. Returns the file's path.
pub fn apply(args: &mut ScanArgs) -> Result<Option<PathBuf>, UsageError> {
    let Some(path) = args.config.clone() else {
        return Ok(None);
    };
    let file = FileConfig::load(&path)?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    merge(args, file, &base)?;
    if args.inputs.is_empty() && args.resume.is_none() {
        return Err(UsageError(format!(
            "no INPUT: give domain lists on the command line or as `inputs = [...]` in {}",
            path.display()
        )));
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        scan: ScanArgs,
    }

    fn parse(argv: &[&str]) -> ScanArgs {
        Wrap::try_parse_from(std::iter::once("scan").chain(argv.iter().copied()))
            .unwrap()
            .scan
    }

    fn example() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mxscan.example.toml")
    }

    #[test]
    fn explicit_ids_are_the_flags_given_even_with_default_values() {
        let a = parse(&["--rate", "100", "--ipv6", "list.csv"]);
        assert!(a.explicit.contains("rate"));
        assert!(a.explicit.contains("ipv6"));
        assert!(a.explicit.contains("inputs"));
        assert!(!a.explicit.contains("dns_rate"));
        assert!(!a.explicit.contains("out"));
    }

    #[test]
    fn precedence_flag_over_file_over_default() {
        // (flags, file, field read back, expected)
        let file = "ehlo_name = \"scanner.example.org\"\n[politeness]\nrate = 7\n\
                    per_ip_interval = 3.5\n[dns]\nrate = 20\n";
        let cases: &[(&[&str], &str, f64)] = &[
            (&["l"], "rate", 7.0),
            (&["--rate", "9", "l"], "rate", 9.0),
            (&["--rate", "100", "l"], "rate", 100.0), // explicit default still wins
            (&["l"], "per_ip_interval", 3.5),
            (&["l"], "dns_rate", 20.0),
            (&["--dns-rate", "1", "l"], "dns_rate", 1.0),
            (&["l"], "per_prefix_interval", 0.1), // default: the file is silent
        ];
        for (argv, field, want) in cases {
            let mut a = parse(argv);
            merge(
                &mut a,
                FileConfig::parse(file, Path::new("t.toml")).unwrap(),
                Path::new("/etc/mxscan"),
            )
            .unwrap();
            let got = match *field {
                "rate" => a.rate,
                "per_ip_interval" => a.per_ip_interval,
                "per_prefix_interval" => a.per_prefix_interval,
                "dns_rate" => a.dns_rate,
                _ => unreachable!(),
            };
            assert_eq!(got, *want, "{argv:?} {field}");
            assert_eq!(a.ehlo_name, "scanner.example.org");
        }
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let file = "inputs = [\"lists/top.csv\", \"-\"]\nout = \"surveys\"\n\
                    trust_anchors = [\"/abs/ca.pem\"]\n[politeness]\nblocklists = [\"block.txt\"]\n";
        let mut a = parse(&["--config", "x.toml"]);
        merge(
            &mut a,
            FileConfig::parse(file, Path::new("x.toml")).unwrap(),
            Path::new("/etc/mxscan"),
        )
        .unwrap();
        assert_eq!(a.inputs, vec!["/etc/mxscan/lists/top.csv", "-"]);
        assert_eq!(a.out, PathBuf::from("/etc/mxscan/surveys"));
        assert_eq!(a.trust_anchors, vec![PathBuf::from("/abs/ca.pem")]);
        assert_eq!(a.blocklists, vec![PathBuf::from("/etc/mxscan/block.txt")]);
    }

    #[test]
    fn unknown_or_mistyped_keys_are_errors_naming_key_and_file() {
        let cases = [
            ("rat = 5\n", "rat"),
            ("[politeness]\nper_ip_intervall = 1\n", "per_ip_intervall"),
            ("[dnss]\nrate = 1\n", "dnss"),
            ("[timeouts]\nconnect = \"ten\"\n", "connect"),
        ];
        for (text, key) in cases {
            let err = FileConfig::parse(text, Path::new("/etc/mxscan/mxscan.toml"))
                .unwrap_err()
                .0;
            assert!(err.contains(key), "{text:?}: {err}");
            assert!(err.contains("/etc/mxscan/mxscan.toml"), "{err}");
        }
    }

    #[test]
    fn bad_shard_in_file_is_a_usage_error() {
        let mut a = parse(&["l"]);
        let f = FileConfig::parse("shard = \"3/2\"\n", Path::new("x.toml")).unwrap();
        assert!(merge(&mut a, f, Path::new(".")).is_err());
    }

    /// The annotated example states the built-in defaults (so it cannot drift from
    /// `--help`), except the keys an operator must set for themselves.
    #[test]
    fn example_file_parses_and_states_the_defaults() {
        let text = std::fs::read_to_string(example()).unwrap();
        let f = FileConfig::parse(&text, &example()).unwrap();
        // Everything is spelled out in the example.
        assert!(f.ehlo_name.is_some() && f.dns.rate.is_some() && f.timeouts.fetch.is_some());
        assert!(f.politeness.per_prefix_interval.is_some() && f.commit_interval.is_some());
        let defaults = parse(&["l"]);
        let mut a = parse(&["l"]);
        merge(&mut a, f, Path::new("/etc/mxscan")).unwrap();
        // Operator-specific keys: the example shows a value of its own.
        assert_eq!(a.ehlo_name, "scanner.example.org");
        assert_eq!(a.out, PathBuf::from("/var/lib/mxscan/surveys"));
        // Everything else equals the defaults.
        let same = |x: &ScanArgs| {
            format!(
                "{:?} {:?} {:?} {:?} {:?}",
                (x.max_mx, x.ipv6, x.allow_private, x.concurrency),
                (x.dns_rate, x.dns_concurrency, x.dns_timeout, x.dns_attempts),
                (x.rate, x.per_ip_interval, x.per_prefix_interval),
                (
                    &x.resolvers,
                    &x.trust_anchors,
                    &x.blocklists,
                    &x.allow,
                    x.domain_concurrency,
                ),
                (
                    (x.connect_timeout, x.greeting_timeout, x.command_timeout),
                    (x.tls_timeout, x.probe_timeout, x.fetch_timeout),
                    (x.grace, x.commit_rows, x.commit_interval, &x.progress),
                    (x.smtp_port, x.https_port),
                )
            )
        };
        assert_eq!(same(&a), same(&defaults));
    }
}
