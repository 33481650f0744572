//! `mxscan scan --config FILE`: a TOML file for everything the scan flags set.
//!
//! Precedence, highest first: a flag given on the command line, the config file, the
//! built-in default (the `[default: …]` of `mxscan scan --help`). Whether a flag was given is
//! clap's [`ValueSource::CommandLine`](clap::parser::ValueSource), recorded when the arguments
//! are parsed ([`Explicit::explicit`]), so a flag given with its default value still overrides
//! the file.
//!
//! The options themselves, their defaults and the layering are the engine's
//! ([`mxscan_engine::config`]): one struct is the flags, the file and survey.json's `config`.
//! This module adds the keys only the binary reads (`inputs`, `progress`).
//!
//! Relative paths in the file (`inputs`, `out`, `trust_anchors`, `blocklists`) are relative to
//! the file's directory, so a systemd unit or cron job may run from anywhere. Unknown keys are
//! an error that names the key and the file: a typo must not silently fall back to a default.
//! The annotated reference is `docs/mxscan.example.toml`; the effective (merged) configuration
//! is written to the survey's `survey.json` (`config`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mxscan_engine::config::{ConfigFile, ScanConfig};

use crate::UsageError;
use crate::scan_cmd::ScanArgs;

/// Flags `F` (defaults filled in by clap) plus the ids of the arguments given explicitly on
/// the command line: the field names of `F` and the config-file paths of the scan options
/// (`dns.rate`, `max_mx`). Derefs to the flags.
#[derive(Debug)]
pub struct Explicit<F> {
    /// The flag values.
    pub flags: F,
    /// Ids of the arguments given on the command line.
    pub explicit: BTreeSet<String>,
}

impl<F> std::ops::Deref for Explicit<F> {
    type Target = F;
    fn deref(&self) -> &F {
        &self.flags
    }
}

impl<F> std::ops::DerefMut for Explicit<F> {
    fn deref_mut(&mut self) -> &mut F {
        &mut self.flags
    }
}

impl<F: clap::FromArgMatches> clap::FromArgMatches for Explicit<F> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Explicit {
            flags: F::from_arg_matches(m)?,
            explicit: mxscan_engine::config::explicit_ids(m),
        })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.flags.update_from_arg_matches(m)?;
        self.explicit.extend(mxscan_engine::config::explicit_ids(m));
        Ok(())
    }
}

impl<F: clap::Args> clap::Args for Explicit<F> {
    fn group_id() -> Option<clap::Id> {
        F::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        F::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        F::augment_args_for_update(cmd)
    }
}

/// Top-level keys of the config file that the binary reads itself: the `INPUT` lists and
/// `--progress`.
pub const CLI_KEYS: &[&str] = &["inputs", "progress"];

/// Read and check a config file.
pub fn load(path: &Path) -> Result<ConfigFile, UsageError> {
    ConfigFile::load(path, CLI_KEYS).map_err(|e| UsageError(e.0))
}

/// The effective options of a scan: flag > file > default.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The scan options.
    pub config: ScanConfig,
    /// The domain lists (empty with `--resume`: the manifest's are read).
    pub inputs: Vec<String>,
    /// `--progress`.
    pub progress: String,
    /// The config file, as given.
    pub config_file: Option<PathBuf>,
}

/// Apply `--config FILE` (if given) under the flags.
pub fn resolve(args: &ScanArgs) -> Result<Resolved, UsageError> {
    let file = args.config.as_deref().map(load).transpose()?;
    resolve_with(args, file.as_ref())
}

/// Layer `file` under the flags of `args`.
pub fn resolve_with(args: &ScanArgs, file: Option<&ConfigFile>) -> Result<Resolved, UsageError> {
    let given = |id: &str| args.explicit.contains(id);
    let config =
        ScanConfig::layered(&args.scan, &args.explicit, file).map_err(|e| UsageError(e.0))?;
    let mut inputs = args.inputs.clone();
    let mut progress = args.progress.clone();
    if let Some(file) = file {
        let usage = |e: mxscan_engine::config::ConfigError| UsageError(e.0);
        let file_inputs = file.claimed::<Vec<String>>("inputs").map_err(usage)?;
        let file_progress = file.claimed::<String>("progress").map_err(usage)?;
        // The positional INPUTs: a `--resume` without INPUTs takes the manifest's lists, so
        // the file's inputs apply only to a new survey.
        if let Some(lists) = file_inputs
            && args.resume.is_none()
            && !given("inputs")
        {
            inputs = lists
                .iter()
                .map(|i| if i == "-" { i.clone() } else { file.rebase(i) })
                .collect();
        }
        if let Some(mode) = file_progress
            && !given("progress")
        {
            progress = mode;
        }
        if inputs.is_empty() && args.resume.is_none() {
            return Err(UsageError(format!(
                "no INPUT: give domain lists on the command line or as `inputs = [...]` in {}",
                file.path().display()
            )));
        }
    }
    Ok(Resolved {
        config,
        inputs,
        progress,
        config_file: file.map(|f| f.path().to_path_buf()),
    })
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

    fn file(text: &str, origin: &str) -> Result<ConfigFile, UsageError> {
        ConfigFile::parse(text, Path::new(origin), CLI_KEYS).map_err(|e| UsageError(e.0))
    }

    #[test]
    fn explicit_ids_are_the_flags_given_even_with_default_values() {
        // The ids of scan options are their paths in the config file.
        let a = parse(&["--rate", "100", "--ipv6", "list.csv"]);
        assert!(a.explicit.contains("politeness.rate"));
        assert!(a.explicit.contains("ipv6"));
        assert!(a.explicit.contains("inputs"));
        assert!(!a.explicit.contains("dns.rate"));
        assert!(!a.explicit.contains("out"));
    }

    #[test]
    fn precedence_flag_over_file_over_default() {
        // (flags, file, field read back, expected)
        let text = "ehlo_name = \"scanner.example.org\"\n[politeness]\nrate = 7\n\
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
            let a = parse(argv);
            let f = file(text, "/etc/mxscan/t.toml").unwrap();
            let c = resolve_with(&a, Some(&f)).unwrap().config;
            let got = match *field {
                "rate" => c.politeness.rate,
                "per_ip_interval" => c.politeness.per_ip_interval,
                "per_prefix_interval" => c.politeness.per_prefix_interval,
                "dns_rate" => c.dns.rate,
                _ => unreachable!(),
            };
            assert_eq!(got, *want, "{argv:?} {field}");
            assert_eq!(c.ehlo_name, "scanner.example.org");
        }
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let text = "inputs = [\"lists/top.csv\", \"-\"]\nout = \"surveys\"\n\
                    trust_anchors = [\"/abs/ca.pem\"]\n[politeness]\nblocklists = [\"block.txt\"]\n";
        let a = parse(&["--config", "x.toml"]);
        let r = resolve_with(&a, Some(&file(text, "/etc/mxscan/x.toml").unwrap())).unwrap();
        assert_eq!(r.inputs, vec!["/etc/mxscan/lists/top.csv", "-"]);
        assert_eq!(r.config.out, PathBuf::from("/etc/mxscan/surveys"));
        assert_eq!(r.config.trust_anchors, vec![PathBuf::from("/abs/ca.pem")]);
        assert_eq!(
            r.config.politeness.blocklists,
            vec![PathBuf::from("/etc/mxscan/block.txt")]
        );
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
            let err = file(text, "/etc/mxscan/mxscan.toml").unwrap_err().0;
            assert!(err.contains(key), "{text:?}: {err}");
            assert!(err.contains("/etc/mxscan/mxscan.toml"), "{err}");
        }
    }

    #[test]
    fn bad_shard_in_file_is_a_usage_error() {
        let a = parse(&["l"]);
        let r = file("shard = \"3/2\"\n", "x.toml").and_then(|f| resolve_with(&a, Some(&f)));
        assert!(r.is_err());
    }

    /// The annotated example states the built-in defaults (so it cannot drift from
    /// `--help`), except the keys an operator must set for themselves.
    #[test]
    fn example_file_parses_and_states_the_defaults() {
        let f = load(&example()).unwrap();
        // Everything is spelled out in the example.
        assert!(f.sets("ehlo_name") && f.sets("dns.rate") && f.sets("timeouts.fetch"));
        assert!(f.sets("politeness.per_prefix_interval") && f.sets("commit_interval"));
        let defaults = resolve_with(&parse(&["l"]), None).unwrap();
        let a = resolve_with(&parse(&["l"]), Some(&f)).unwrap();
        // Operator-specific keys: the example shows a value of its own.
        assert_eq!(a.config.ehlo_name, "scanner.example.org");
        assert_eq!(a.config.out, PathBuf::from("/var/lib/mxscan/surveys"));
        // Everything else equals the defaults.
        let same = |x: &Resolved| {
            let mut x = x.clone();
            x.config.ehlo_name = defaults.config.ehlo_name.clone();
            x.config.out = defaults.config.out.clone();
            x.config_file = None;
            x
        };
        assert_eq!(same(&a), same(&defaults));
    }

    /// One set of defaults: what clap makes of `mxscan scan l`, what an empty config file
    /// gives, `ScanConfig::default()`, the defaults of the library structs built from the
    /// options, and docs/mxscan.example.toml (which states every option but the commented
    /// ones, operator-specific values aside) all agree.
    #[test]
    fn cli_file_library_and_example_defaults_agree() {
        use mxscan_engine::politeness::PolitenessConfig;
        use std::time::Duration;

        let cli = resolve_with(&parse(&["l"]), None).unwrap();
        let empty = resolve_with(
            &parse(&["l"]),
            Some(&file("", "/etc/mxscan/empty.toml").unwrap()),
        )
        .unwrap();
        let library = ScanConfig::default();
        assert_eq!(cli.config, library, "clap defaults = ScanConfig::default()");
        assert_eq!(empty.config, library, "empty file = ScanConfig::default()");
        assert_eq!(empty.progress, cli.progress);
        assert_eq!(
            toml::from_str::<ScanConfig>("").unwrap(),
            library,
            "serde's defaults = ScanConfig::default()"
        );
        let secs = Duration::from_secs_f64;

        // The library structs the options become.
        let p = &library.politeness;
        assert_eq!(
            PolitenessConfig::default(),
            PolitenessConfig {
                rate: p.rate,
                per_ip_interval: secs(p.per_ip_interval),
                per_prefix_interval: secs(p.per_prefix_interval),
                max_connections: p.concurrency,
            }
        );
        assert_eq!(
            PolitenessConfig::default().rate,
            100.0,
            "the contract: --rate 100"
        );
        let dns = mxscan_probe::dns::DnsConfig::default();
        assert_eq!(dns.timeout, secs(library.dns.timeout));
        assert_eq!(dns.attempts, library.dns.attempts);
        assert_eq!(dns.max_concurrent, library.dns.concurrency);
        let tls = mxscan_probe::tls::client_config(&[]).unwrap();
        let ehlo = mxscan_smtp::EhloName::new(&library.ehlo_name).unwrap();
        let smtp = mxscan_probe::smtp_probe::ProbeOptions::new(ehlo, tls.clone());
        let t = &library.timeouts;
        assert_eq!(smtp.connect_timeout, secs(t.connect));
        assert_eq!(smtp.greeting_timeout, secs(t.greeting));
        assert_eq!(smtp.command_timeout, secs(t.command));
        assert_eq!(smtp.tls_timeout, secs(t.tls));
        assert_eq!(smtp.total_timeout, secs(t.probe));
        let fetch = mxscan_probe::fetch::FetchOptions::new(tls);
        assert_eq!(fetch.timeout, secs(t.fetch));
        assert_eq!(fetch.connect_timeout, secs(t.connect));

        // The example spells out every option but the commented-out ones.
        let f = load(&example()).unwrap();
        let mut leaves = Vec::new();
        fn walk(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
            match v.as_object() {
                Some(o) => o.iter().for_each(|(k, v)| {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(v, &p, out)
                }),
                None => out.push(prefix.to_owned()),
            }
        }
        walk(&serde_json::to_value(&library).unwrap(), "", &mut leaves);
        let commented = ["shard", "politeness.domain_concurrency"];
        for key in &leaves {
            assert_eq!(
                f.sets(key),
                !commented.contains(&key.as_str()),
                "docs/mxscan.example.toml and option {key}"
            );
        }
        let example = resolve_with(&parse(&["l"]), Some(&f)).unwrap();
        assert_eq!(example.progress, cli.progress);
    }
}
