//! The scan configuration, written once: [`ScanConfig`] is at the same time the clap flags of
//! `mxscan scan` (it derives [`clap::Args`]), the TOML config file (it derives serde's
//! `Deserialize`, with the sections `[dns]`, `[politeness]` and `[timeouts]`) and the
//! `config` of survey.json ([`ScanConfig::manifest_json`]).
//!
//! Every option's default is its clap default (`default_value_t`), and
//! [`ScanConfig::default`] is what clap makes of an empty command line, so there is one
//! default per option; the library structs the engine builds from it
//! ([`PolitenessConfig::default`] among them) take theirs from here too.
//!
//! Precedence, highest first: a flag given on the command line, the config file, the default
//! ([`ScanConfig::layered`]). Each option's clap id is its path in the TOML file (`max_mx`,
//! `dns.rate`, `politeness.rate`, `timeouts.connect`, …), so the layering is generic: the
//! defaults, then the file's keys, then for every id clap saw on the command line
//! ([`explicit_ids`]) the flag's value at that path.
//!
//! Checking happens once, in [`ScanConfig::validate`] (raw options → [`ValidConfig`], the
//! two-step configuration of ripgrep's `LowArgs` → `HiArgs`); its error messages name the
//! flag, as a user of the command line expects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches};
use mxscan_ingest::Shard;
use mxscan_probe::blocklist::Blocklist;
use mxscan_probe::cert::TrustStore;
use mxscan_probe::dns::Nameservers;
use mxscan_smtp::EhloName;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::politeness::PolitenessConfig;

/// Everything a scan can be told. See the module docs; `mxscan scan --help` and
/// `docs/mxscan.example.toml` describe each option.
#[derive(Debug, Clone, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Directory that holds surveys; this run creates ROOT/survey=<id>/.
    #[arg(long, value_name = "ROOT", default_value = "surveys")]
    pub out: PathBuf,

    /// `[dns]`: the resolver and its limits.
    #[command(flatten)]
    pub dns: DnsSection,

    /// `[politeness]`: limits towards the hosts measured, and what may be dialled at all.
    #[command(flatten)]
    pub politeness: PolitenessSection,

    /// MX exchanges considered per domain.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_mx: usize,
    /// Also resolve AAAA records and probe IPv6 addresses.
    #[arg(long)]
    pub ipv6: bool,
    /// The name mxscan gives in EHLO: a name of the scanning host with a web page that
    /// explains the survey and how to opt out.
    #[arg(long, value_name = "NAME", default_value = "mxscan.invalid")]
    pub ehlo_name: String,

    /// Extra trust anchors (PEM). Self-signed CA certificates become anchors; other CA
    /// certificates are known intermediates (they tell an incomplete chain from an unknown
    /// issuer). Repeatable.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    pub trust_anchors: Vec<PathBuf>,

    /// Known intermediates (PEM, e.g. a CCADB export): they complete chains a server sent
    /// incomplete (incomplete_chain, chain_completed) and never add trust. Repeatable.
    #[arg(long = "intermediates", value_name = "PEM")]
    pub intermediates: Vec<PathBuf>,

    /// Scan only shard K of N (1-based): N machines with K = 1..N cover the list exactly once.
    #[arg(long, value_name = "K/N")]
    #[serde(with = "shard_text")]
    pub shard: Option<Shard>,

    /// `[timeouts]`, seconds.
    #[command(flatten)]
    pub timeouts: TimeoutSection,

    /// Seconds that in-flight domains get to finish after Ctrl-C / SIGTERM.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub grace: f64,

    /// Close a part file (a crash-safe commit) after this many rows in any table.
    #[arg(long, default_value_t = 500_000, value_name = "ROWS")]
    pub commit_rows: usize,
    /// Close a part file at the latest this many seconds after its first row (the most a
    /// crash can lose).
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub commit_interval: f64,

    /// SMTP port to probe (testing only; real mail servers listen on 25).
    #[arg(long, default_value_t = 25, hide_short_help = true)]
    pub smtp_port: u16,
    /// HTTPS port for policy fetches (testing only; RFC 8461 uses 443).
    #[arg(long, default_value_t = 443, hide_short_help = true)]
    pub https_port: u16,
    /// HTTP port of AIA caIssuers URLs that name none (testing only; URLs without a port
    /// mean 80).
    #[arg(long, default_value_t = 80, hide_short_help = true)]
    pub http_port: u16,
}

/// `[dns]` of the config file.
#[derive(Debug, Clone, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSection {
    /// DNS resolver to use, IP[:PORT] (repeatable; default: /etc/resolv.conf).
    #[arg(id = "dns.resolvers", long = "resolver", value_name = "IP[:PORT]")]
    pub resolvers: Vec<String>,
    /// DNS queries per second at most.
    #[arg(
        id = "dns.rate",
        long = "dns-rate",
        default_value_t = 500.0,
        value_name = "QPS"
    )]
    pub rate: f64,
    /// DNS queries in flight at most.
    #[arg(
        id = "dns.concurrency",
        long = "dns-concurrency",
        default_value_t = 256,
        value_name = "N"
    )]
    pub concurrency: usize,
    /// Timeout of one DNS query attempt, seconds.
    #[arg(
        id = "dns.timeout",
        long = "dns-timeout",
        default_value_t = 5.0,
        value_name = "SECS"
    )]
    pub timeout: f64,
    /// Attempts per DNS lookup (timeouts are retried with backoff).
    #[arg(
        id = "dns.attempts",
        long = "dns-attempts",
        default_value_t = 3,
        value_name = "N"
    )]
    pub attempts: u32,
}

/// `[politeness]` of the config file.
#[derive(Debug, Clone, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolitenessSection {
    /// New connections per second, over all destinations.
    #[arg(
        id = "politeness.rate",
        long = "rate",
        default_value_t = 100.0,
        value_name = "PER_SEC"
    )]
    pub rate: f64,
    /// Minimum seconds between connections to one address.
    #[arg(
        id = "politeness.per_ip_interval",
        long = "per-ip-interval",
        default_value_t = 1.0,
        value_name = "SECS"
    )]
    pub per_ip_interval: f64,
    /// Minimum seconds between connections into one /24 (IPv4) or /48 (IPv6).
    #[arg(
        id = "politeness.per_prefix_interval",
        long = "per-prefix-interval",
        default_value_t = 0.1,
        value_name = "SECS"
    )]
    pub per_prefix_interval: f64,
    /// Connections (SMTP probes and policy fetches) in flight at most.
    #[arg(
        id = "politeness.concurrency",
        long = "concurrency",
        default_value_t = 1000,
        value_name = "N"
    )]
    pub concurrency: usize,
    /// Domains in flight at most (default: 1.5 × --concurrency; more only adds queueing).
    #[arg(
        id = "politeness.domain_concurrency",
        long = "domain-concurrency",
        value_name = "N"
    )]
    pub domain_concurrency: Option<usize>,
    /// Never contact these addresses: a file with one CIDR or address per line, `#`
    /// comments. Repeatable.
    #[arg(id = "politeness.blocklists", long = "blocklist", value_name = "FILE")]
    pub blocklists: Vec<PathBuf>,
    /// Lift the default block of reserved ranges for this CIDR only (e.g. 127.0.0.0/8 for
    /// the testbed). Never lifts a --blocklist entry. Repeatable.
    #[arg(id = "politeness.allow", long = "allow", value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Lift the default block of every reserved/private range (testing only).
    #[arg(id = "politeness.allow_private", long = "allow-private")]
    pub allow_private: bool,
    /// Never make the legacy hello: the one extra connection (TLS 1.0–1.2, classic suites,
    /// first flight only) to an address whose modern handshake failed with a
    /// protocol_version, no-shared-cipher or other alert. Such hosts then stay tls_failed.
    #[arg(id = "politeness.no_legacy_hello", long = "no-legacy-hello")]
    pub no_legacy_hello: bool,
    /// Never fetch a certificate's issuer through its AIA caIssuers URL (each URL is
    /// otherwise fetched at most once per survey, to tell incomplete_chain from
    /// untrusted_issuer). With it, only --trust-anchor / --intermediates complete chains.
    #[arg(id = "politeness.no_aia", long = "no-aia")]
    pub no_aia: bool,
}

/// `[timeouts]` of the config file, seconds.
#[derive(Debug, Clone, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSection {
    /// Seconds to wait for the TCP connect.
    #[arg(
        id = "timeouts.connect",
        long = "connect-timeout",
        default_value_t = 10.0,
        value_name = "SECS"
    )]
    pub connect: f64,
    /// Seconds to wait for the full SMTP greeting (postscreen delays greetings by 6 s+).
    #[arg(
        id = "timeouts.greeting",
        long = "greeting-timeout",
        default_value_t = 30.0,
        value_name = "SECS"
    )]
    pub greeting: f64,
    /// Seconds to wait for each reply after the greeting.
    #[arg(
        id = "timeouts.command",
        long = "command-timeout",
        default_value_t = 30.0,
        value_name = "SECS"
    )]
    pub command: f64,
    /// Seconds for the TLS handshake.
    #[arg(
        id = "timeouts.tls",
        long = "tls-timeout",
        default_value_t = 20.0,
        value_name = "SECS"
    )]
    pub tls: f64,
    /// Seconds for one whole SMTP probe.
    #[arg(
        id = "timeouts.probe",
        long = "probe-timeout",
        default_value_t = 90.0,
        value_name = "SECS"
    )]
    pub probe: f64,
    /// Seconds for one whole MTA-STS policy fetch (RFC 8461 §3.3 suggests 60 s at most).
    #[arg(
        id = "timeouts.fetch",
        long = "fetch-timeout",
        default_value_t = 60.0,
        value_name = "SECS"
    )]
    pub fetch: f64,
}

/// What clap makes of an empty command line: the defaults, from the `default_value_t`s.
fn clap_defaults<T: Args + FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("mxscan").no_binary_name(true));
    let matches = cmd
        .try_get_matches_from(std::iter::empty::<String>())
        .expect("every scan option has a default");
    T::from_arg_matches(&matches).expect("the defaults are values of their types")
}

impl Default for ScanConfig {
    /// The defaults of `mxscan scan --help`.
    fn default() -> Self {
        clap_defaults()
    }
}

impl Default for DnsSection {
    fn default() -> Self {
        clap_defaults()
    }
}

impl Default for PolitenessSection {
    fn default() -> Self {
        clap_defaults()
    }
}

impl Default for TimeoutSection {
    fn default() -> Self {
        clap_defaults()
    }
}

/// `shard = "K/N"` in the file and in survey.json (`null` when unset).
mod shard_text {
    use mxscan_ingest::Shard;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(shard: &Option<Shard>, s: S) -> Result<S::Ok, S::Error> {
        match shard {
            Some(shard) => s.serialize_some(&shard.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Shard>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        text.parse::<Shard>()
            .map(Some)
            .map_err(|e| D::Error::custom(format!("shard = {text:?}: {e}")))
    }
}

/// A configuration that cannot be used (a bad value, an unreadable file, an unknown key in
/// the config file). The message names the flag or the key and file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The ids of the arguments given explicitly on the command line (not defaults, not env).
/// For the options of [`ScanConfig`] these are their paths in the config file.
pub fn explicit_ids(m: &ArgMatches) -> BTreeSet<String> {
    m.ids()
        .map(|id| id.as_str())
        .filter(|id| m.value_source(id) == Some(ValueSource::CommandLine))
        .map(str::to_owned)
        .collect()
}

/// Keys of the config file that hold paths: relative ones are relative to the file's
/// directory (JSON pointers into the file's table).
const PATH_KEYS: &[&str] = &[
    "/out",
    "/trust_anchors",
    "/intermediates",
    "/politeness/blocklists",
];

/// A config file, read and checked: its [`ScanConfig`] keys (relative paths made relative to
/// the file's directory) and the top-level keys the caller claimed for itself (the binary's
/// `inputs` and `progress`), which are not options of a scan.
///
/// Unknown keys and values of the wrong type are errors that name the key and the file: a
/// typo must not silently fall back to a default.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    path: PathBuf,
    /// The keys the file sets, as a JSON object in the shape of [`ScanConfig`].
    values: Value,
    /// The claimed keys, as written.
    claimed: serde_json::Map<String, Value>,
}

impl ConfigFile {
    /// Read and check the file at `path`; `claimed` are top-level keys the caller reads
    /// itself ([`ConfigFile::claimed`]).
    pub fn load(path: &Path, claimed: &[&str]) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
        ConfigFile::parse(&text, path, claimed)
    }

    /// Check the text of a config file; `path` names it in errors and is what relative paths
    /// in it are relative to.
    pub fn parse(text: &str, path: &Path, claimed: &[&str]) -> Result<ConfigFile, ConfigError> {
        let error = |e: &dyn std::fmt::Display| {
            ConfigError(format!(
                "config file {}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', " ")
            ))
        };
        let syntax = |e: toml::de::Error| {
            ConfigError(format!(
                "config file {}: {}",
                path.display(),
                e.to_string().trim_end()
            ))
        };
        let mut table: toml::Table = toml::from_str(text).map_err(syntax)?;
        let mut taken = serde_json::Map::new();
        for key in claimed {
            if let Some(v) = table.remove(*key) {
                taken.insert(
                    (*key).to_owned(),
                    serde_json::to_value(v).map_err(|e| error(&e))?,
                );
            }
        }
        // TOML has inf and nan; no option takes them, and the JSON the layers are merged in
        // cannot hold them (they would turn into null). Named with their path.
        if let Some(key) = table.iter().find_map(|(k, v)| non_finite(v, k)) {
            return Err(ConfigError(format!(
                "config file {}: {key}: not a finite number (inf and nan are not accepted)",
                path.display()
            )));
        }
        // Unknown keys and wrong types, named with their path.
        ScanConfig::deserialize(toml::Value::Table(table.clone())).map_err(|e| error(&e))?;
        let mut values = serde_json::to_value(table).map_err(|e| error(&e))?;
        let base = base_dir(path);
        for pointer in PATH_KEYS {
            match values.pointer_mut(pointer) {
                Some(Value::String(p)) => *p = rebase(&base, p),
                Some(Value::Array(ps)) => {
                    for p in ps {
                        if let Value::String(p) = p {
                            *p = rebase(&base, p);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            values,
            claimed: taken,
        })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `p` relative to the file's directory (unchanged when absolute).
    pub fn rebase(&self, p: &str) -> String {
        rebase(&base_dir(&self.path), p)
    }

    /// The value of a claimed key, if the file sets it; a wrong type is an error naming the
    /// key and the file.
    pub fn claimed<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ConfigError> {
        self.claimed
            .get(key)
            .map(|v| {
                T::deserialize(v).map_err(|e| {
                    ConfigError(format!("config file {}: {key}: {e}", self.path.display()))
                })
            })
            .transpose()
    }

    /// Whether the file sets the option at this path (`max_mx`, `dns.rate`, …).
    pub fn sets(&self, path: &str) -> bool {
        lookup(&self.values, path).is_some()
    }
}

/// The dotted path of the first float in `v` (at path `at`) that is inf or nan.
fn non_finite(v: &toml::Value, at: &str) -> Option<String> {
    match v {
        toml::Value::Float(f) if !f.is_finite() => Some(at.to_owned()),
        toml::Value::Table(t) => t
            .iter()
            .find_map(|(k, v)| non_finite(v, &format!("{at}.{k}"))),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| non_finite(v, &format!("{at}[{i}]"))),
        _ => None,
    }
}

/// The directory relative paths of a file are relative to.
fn base_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn rebase(base: &Path, p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        p.to_owned()
    } else {
        base.join(path).display().to_string()
    }
}

/// The value at a dotted path (`dns.rate`) of a JSON object.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| v.as_object()?.get(k))
}

/// Put `value` at a dotted path, creating objects on the way.
fn put(v: &mut Value, path: &str, value: Value) {
    let mut keys = path.split('.').peekable();
    let mut cur = v;
    while let Some(k) = keys.next() {
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if keys.peek().is_none() {
            obj.insert(k.to_owned(), value);
            return;
        }
        cur = obj
            .entry(k.to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// Lay `top` over `base`: objects merge key by key, anything else replaces.
fn overlay(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(slot) => overlay(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

impl ScanConfig {
    /// The effective configuration: `flag > file > default`. `cli` is what clap parsed
    /// (defaults filled in), `given` the ids clap saw on the command line ([`explicit_ids`];
    /// ids that are not options of a scan are ignored), `file` the config file if any.
    pub fn layered(
        cli: &ScanConfig,
        given: &BTreeSet<String>,
        file: Option<&ConfigFile>,
    ) -> Result<ScanConfig, ConfigError> {
        let json = |c: &ScanConfig| serde_json::to_value(c).expect("a config serialises");
        let mut merged = json(&ScanConfig::default());
        if let Some(file) = file {
            overlay(&mut merged, &file.values);
        }
        let flags = json(cli);
        for id in given {
            if let Some(v) = lookup(&flags, id) {
                put(&mut merged, id, v.clone());
            }
        }
        ScanConfig::deserialize(merged).map_err(|e| {
            let origin = file.map_or(String::new(), |f| format!(" ({})", f.path.display()));
            ConfigError(format!("configuration{origin}: {e}"))
        })
    }

    /// Domain tasks in flight: `politeness.domain_concurrency`, else 1.5 × the connection
    /// cap (more only adds queueing); at least 1.
    pub fn domain_concurrency(&self) -> usize {
        self.politeness
            .domain_concurrency
            .unwrap_or(self.politeness.concurrency.saturating_mul(3) / 2)
            .max(1)
    }

    /// The `config` object of survey.json: every option in the config file's layout
    /// (sections `dns`, `politeness`, `timeouts`), plus the flat keys that surveys have
    /// always had and that notebooks read (`rate`, `per_ip_interval_s`, `dns_rate`,
    /// `timeouts_s`, `allow`, …), plus facts of the run: the open-file limit, the config
    /// file, the resolved domain concurrency.
    pub fn manifest_json(&self, config_file: Option<&Path>, nofile_limit: u64) -> Value {
        let mut v = serde_json::to_value(self).expect("a config serialises");
        let (d, p, t) = (&self.dns, &self.politeness, &self.timeouts);
        let flat = serde_json::json!({
            "resolvers": d.resolvers,
            "dns_rate": d.rate,
            "dns_concurrency": d.concurrency,
            "rate": p.rate,
            "per_ip_interval_s": p.per_ip_interval,
            "per_prefix_interval_s": p.per_prefix_interval,
            "concurrency": p.concurrency,
            "max_mx": self.max_mx,
            "ipv6": self.ipv6,
            "ehlo_name": self.ehlo_name,
            "trust_anchors": self.trust_anchors,
            "intermediates": self.intermediates,
            "blocklists": p.blocklists,
            "allow": p.allow,
            "allow_private": p.allow_private,
            "shard": self.shard.map(|s| s.to_string()),
            "timeouts_s": {
                "connect": t.connect, "greeting": t.greeting,
                "command": t.command, "tls": t.tls,
                "probe": t.probe, "fetch": t.fetch,
            },
            "smtp_port": self.smtp_port,
            "https_port": self.https_port,
            "http_port": self.http_port,
            "nofile_limit": nofile_limit,
            "config_file": config_file,
            "dns_timeout_s": d.timeout,
            "dns_attempts": d.attempts,
            "domain_concurrency": self.domain_concurrency(),
            "grace_s": self.grace,
            "commit_rows": self.commit_rows,
            "commit_interval_s": self.commit_interval,
        });
        overlay(&mut v, &flat);
        v
    }

    /// Check every value and read every file the configuration names (blocklists, trust
    /// anchors): the raw options become the settings a survey is built from. Messages name
    /// the flag (`--rate …`).
    pub fn validate(self) -> Result<ValidConfig, ConfigError> {
        let usage = |m: String| ConfigError(m);
        let ehlo_name = EhloName::new(&self.ehlo_name)
            .map_err(|e| usage(format!("--ehlo-name {:?}: {e}", self.ehlo_name)))?;
        let nameservers = if self.dns.resolvers.is_empty() {
            Nameservers::System
        } else {
            Nameservers::parse_list(&self.dns.resolvers)
                .map_err(|e| usage(format!("--resolver: {e}")))?
        };
        let p = &self.politeness;
        let mut blocklist = Blocklist::new().allow_private(p.allow_private);
        for cidr in &p.allow {
            blocklist = blocklist
                .allow_str(cidr)
                .map_err(|e| usage(format!("--allow {cidr}: {e}")))?;
        }
        for file in &p.blocklists {
            blocklist = blocklist
                .block_file(file)
                .map_err(|e| usage(format!("--blocklist: {e}")))?;
        }
        // The engine judges each chain once per address (ChainFacts), so (chain, name)
        // verdicts hardly ever repeat: a small verdict cache, not the default 100k entries
        // that would only grow with the survey.
        let mut trust = TrustStore::new(&self.trust_anchors)
            .map_err(|e| usage(format!("--trust-anchor: {e}")))?
            .with_cache_capacity(1024);
        for file in &self.intermediates {
            trust
                .add_intermediates_file(file)
                .map_err(|e| usage(format!("--intermediates: {e}")))?;
        }
        if p.concurrency == 0 || self.max_mx == 0 {
            return Err(usage(
                "--concurrency and --max-mx must be at least 1".into(),
            ));
        }
        let positive = |v: f64| v > 0.0 && v.is_finite();
        if !positive(p.rate) || !positive(self.dns.rate) {
            return Err(usage("--rate and --dns-rate must be positive".into()));
        }
        let politeness = p.to_config()?;
        let t = &self.timeouts;
        let timeouts = Timeouts {
            dns: secs("dns-timeout", self.dns.timeout)?,
            connect: secs("connect-timeout", t.connect)?,
            greeting: secs("greeting-timeout", t.greeting)?,
            command: secs("command-timeout", t.command)?,
            tls: secs("tls-timeout", t.tls)?,
            probe: secs("probe-timeout", t.probe)?,
            fetch: secs("fetch-timeout", t.fetch)?,
        };
        let commit_interval = secs("commit-interval", self.commit_interval)?;
        let grace = secs("grace", self.grace)?;
        Ok(ValidConfig {
            config: self,
            ehlo_name,
            nameservers,
            blocklist,
            trust,
            politeness,
            timeouts,
            commit_interval,
            grace,
        })
    }
}

impl PolitenessSection {
    /// The gate's limits (intervals checked; the rate and the cap are checked by
    /// [`ScanConfig::validate`] together with their DNS counterparts).
    pub(crate) fn to_config(&self) -> Result<PolitenessConfig, ConfigError> {
        Ok(PolitenessConfig {
            rate: self.rate,
            per_ip_interval: interval("per-ip-interval", self.per_ip_interval)?,
            per_prefix_interval: interval("per-prefix-interval", self.per_prefix_interval)?,
            max_connections: self.concurrency,
        })
    }
}

/// A positive number of seconds (less than a day).
fn secs(flag: &str, v: f64) -> Result<Duration, ConfigError> {
    if !(v.is_finite() && v > 0.0 && v < 86_400.0) {
        return Err(ConfigError(format!(
            "--{flag} must be a positive number of seconds, got {v}"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

/// The interval options may be 0 (no interval), unlike the timeouts.
fn interval(flag: &str, v: f64) -> Result<Duration, ConfigError> {
    if v == 0.0 {
        return Ok(Duration::ZERO);
    }
    secs(flag, v)
}

/// The deadlines of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One DNS query attempt.
    pub dns: Duration,
    /// The TCP connect (SMTP and HTTPS).
    pub connect: Duration,
    /// The full SMTP greeting.
    pub greeting: Duration,
    /// Each SMTP reply after the greeting.
    pub command: Duration,
    /// The TLS handshake of a probe.
    pub tls: Duration,
    /// One whole SMTP probe.
    pub probe: Duration,
    /// One whole policy fetch.
    pub fetch: Duration,
}

/// A checked configuration ([`ScanConfig::validate`]): what a
/// [`Survey`](crate::survey::Survey) is built from.
#[derive(Debug)]
pub struct ValidConfig {
    config: ScanConfig,
    pub(crate) ehlo_name: EhloName,
    pub(crate) nameservers: Nameservers,
    pub(crate) blocklist: Blocklist,
    pub(crate) trust: TrustStore,
    pub(crate) politeness: PolitenessConfig,
    pub(crate) timeouts: Timeouts,
    pub(crate) commit_interval: Duration,
    pub(crate) grace: Duration,
}

impl ValidConfig {
    /// The options as given.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The politeness gate's limits (before the descriptor budget caps the connections).
    pub fn politeness(&self) -> PolitenessConfig {
        self.politeness
    }

    /// The deadlines.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// How long domains in flight may finish after a stop.
    pub fn grace(&self) -> Duration {
        self.grace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the toml_config fuzz target: `rate = inf` passed the check and then failed to
    /// layer (the JSON the layers merge in turns inf into null). Now an error naming the key.
    #[test]
    fn inf_and_nan_are_refused_with_their_key() {
        for (text, key) in [
            ("[dns]\nrate = inf\n", "dns.rate"),
            ("rate = nan\n", "rate"),
            ("[dns]\nrate = -inf\n", "dns.rate"),
        ] {
            let e = ConfigFile::parse(text, Path::new("/etc/mxscan/scan.toml"), &[]).unwrap_err();
            assert!(
                e.0.contains(key) && e.0.contains("not a finite number"),
                "{text}: {}",
                e.0
            );
        }
        let ok = ConfigFile::parse("[dns]\nrate = 250.5\n", Path::new("/x.toml"), &[]).unwrap();
        assert!(ok.sets("dns.rate"));
    }

    #[test]
    fn every_option_id_is_its_path_in_the_file() {
        let defaults = serde_json::to_value(ScanConfig::default()).unwrap();
        let cmd = ScanConfig::augment_args(clap::Command::new("t"));
        let mut n = 0;
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            assert!(
                lookup(&defaults, id).is_some(),
                "clap id {id} is no config path"
            );
            n += 1;
        }
        // Every leaf of the file layout is an option.
        fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
            match v.as_object() {
                Some(o) => {
                    for (k, v) in o {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        leaves(v, &p, out);
                    }
                }
                None => out.push(prefix.to_owned()),
            }
        }
        let mut all = Vec::new();
        leaves(&defaults, "", &mut all);
        assert_eq!(all.len(), n, "{all:?}");
    }

    #[test]
    fn a_flag_equal_to_its_default_still_overrides_the_file() {
        let file = ConfigFile::parse(
            "[politeness]\nrate = 7\n",
            Path::new("/etc/mxscan/m.toml"),
            &[],
        )
        .unwrap();
        let cli = ScanConfig::default();
        let given: BTreeSet<String> = ["politeness.rate".to_owned()].into();
        let c = ScanConfig::layered(&cli, &given, Some(&file)).unwrap();
        assert_eq!(c.politeness.rate, 100.0);
        let c = ScanConfig::layered(&cli, &BTreeSet::new(), Some(&file)).unwrap();
        assert_eq!(c.politeness.rate, 7.0);
        assert!(file.sets("politeness.rate") && !file.sets("dns.rate"));
    }

    #[test]
    fn manifest_json_keeps_the_flat_keys_and_adds_the_sections() {
        let c = ScanConfig::default();
        let v = c.manifest_json(Some(Path::new("/etc/m.toml")), 1024);
        assert_eq!(v["rate"], 100.0);
        assert_eq!(v["politeness"]["rate"], 100.0);
        assert_eq!(v["per_ip_interval_s"], 1.0);
        assert_eq!(v["timeouts_s"]["greeting"], 30.0);
        assert_eq!(v["timeouts"]["greeting"], 30.0);
        assert_eq!(v["domain_concurrency"], 1500);
        assert_eq!(v["shard"], Value::Null);
        assert_eq!(v["config_file"], "/etc/m.toml");
        assert_eq!(v["nofile_limit"], 1024);
    }

    #[test]
    fn validation_names_the_flag() {
        type Change = fn(&mut ScanConfig);
        let cases: &[(Change, &str)] = &[
            (|c| c.ehlo_name = "a b".into(), "--ehlo-name"),
            (|c| c.dns.resolvers = vec!["x".into()], "--resolver"),
            (
                |c| c.politeness.allow = vec!["300.0.0.0/8".into()],
                "--allow",
            ),
            (|c| c.politeness.concurrency = 0, "--concurrency"),
            (|c| c.max_mx = 0, "--max-mx"),
            (|c| c.politeness.rate = 0.0, "--rate"),
            (|c| c.dns.rate = f64::NAN, "--dns-rate"),
            (|c| c.politeness.per_ip_interval = -1.0, "--per-ip-interval"),
            (|c| c.timeouts.greeting = 0.0, "--greeting-timeout"),
            (|c| c.dns.timeout = 0.0, "--dns-timeout"),
            (|c| c.grace = 1e9, "--grace"),
            (|c| c.commit_interval = 0.0, "--commit-interval"),
        ];
        for (change, flag) in cases {
            let mut c = ScanConfig::default();
            change(&mut c);
            let err = c.validate().unwrap_err().0;
            assert!(err.contains(flag), "{flag}: {err}");
        }
        assert!(ScanConfig::default().validate().is_ok());
    }
}
