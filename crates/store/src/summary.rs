//! A survey's headline numbers, each with its denominator, computed from the committed parts
//! (streamed batch by batch; memory grows with the number of distinct MX hosts only).
//!
//! Definitions:
//! - *domains with mail hosts*: `domains.starttls != no_mx`. STARTTLS and certificate
//!   verdicts by domain are distributions over these.
//! - *MX host*: a distinct `mx.exchange` name. A host offers STARTTLS if any of its addresses
//!   did (`mx.starttls = true`), does not if every tested address did not, and is untested
//!   otherwise. Its certificate class is the `cert_status` of its first address (by address
//!   order) that has one.
//! - *Certificate problems by domain*: for each `mx.cert_status` class, the domains with at
//!   least one MX row of that class, over domains with at least one certificate verdict (a
//!   domain counts once per class, so these shares do not add up to 100%).
//! - *Provider*: the registrable domain (public suffix + one label, from the bundled public
//!   suffix list of the `psl` crate) of an MX exchange, e.g. `mx1.bigmail1.test` →
//!   `bigmail1.test`. A provider *serves* a domain if at least one of the domain's MX rows
//!   names an exchange under it; shares are over domains with at least one MX row.
//! - MTA-STS: record classes over all domains; policy classes over domains with a valid
//!   record; fetch errors over failed fetches; modes over valid policies; delivery verdicts
//!   over domains whose `sts_delivery` is not `no_policy`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use mxscan_model::{
    CertStatus, Coverage, Delivery, DnsStatus, HostStarttls, PolicyStatus, ProbeStatus, TlsFailure,
    TlsVersion, TxtStatus, Vocab,
};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::manifest::Manifest;
use crate::reader::for_each_batch;
use crate::rows::{DomainRow, MxRow, Table, TableRow};

/// Value counts over a stated denominator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dist {
    /// What the shares are of.
    pub denominator: u64,
    /// value → count.
    pub counts: BTreeMap<String, u64>,
}

impl Dist {
    fn add<V: Vocab>(&mut self, v: V) {
        self.denominator += 1;
        *self.counts.entry(v.as_str().to_owned()).or_default() += 1;
    }

    /// Count of one value.
    pub fn get(&self, v: &str) -> u64 {
        self.counts.get(v).copied().unwrap_or(0)
    }
}

/// Domain totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainTotals {
    /// Domains in the input (from the manifest), if known.
    pub input: Option<u64>,
    /// Domain rows written.
    pub written: u64,
    /// `dns_status = ok`.
    pub resolved: u64,
    /// `starttls != no_mx`.
    pub with_mail_hosts: u64,
    /// RFC 7505 null MX.
    pub null_mx: u64,
    /// Implicit MX.
    pub implicit_mx: u64,
    /// DNS outcome classes over all written domains.
    pub dns_status: Dist,
}

/// MX host totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTotals {
    /// `mx` rows.
    pub mx_rows: u64,
    /// Distinct exchange names.
    pub hosts: u64,
    /// Distinct addresses in `mx`.
    pub addresses: u64,
    /// Distinct addresses on the blocklist.
    pub blocked_addresses: u64,
    /// Probe rows (one per probed address).
    pub probes: u64,
    /// Probe rows that were not `blocked`: addresses actually contacted.
    pub probed_addresses: u64,
    /// Probe outcome classes.
    pub probe_status: Dist,
}

/// What the STARTTLS conversations showed besides their status (RFC 3207), over probes
/// that completed the TLS handshake (`probes.status = ok`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationTotals {
    /// Probes with a completed handshake: the denominator.
    pub with_tls: u64,
    /// The server sent bytes after its STARTTLS 220 and before the handshake
    /// (`bytes_after_starttls` > 0): the plaintext a command-injection attack leaves (RFC 3207
    /// §5; CVE-2011-0411 class).
    pub bytes_after_starttls: u64,
    /// The EHLO after TLS still advertised STARTTLS (RFC 3207 §4.2: it MUST NOT).
    pub starttls_after_tls: u64,
    /// The EHLO after TLS advertised keywords the first one did not (e.g. AUTH only over TLS,
    /// which is good practice).
    pub ehlo_keywords_added: u64,
    /// The EHLO after TLS dropped keywords of the first one (besides STARTTLS).
    pub ehlo_keywords_dropped: u64,
}

impl ConversationTotals {
    /// Adds one probe with a completed handshake.
    pub fn add(&mut self, bytes_after_starttls: Option<u32>, before: &[String], after: &[String]) {
        const STARTTLS: &str = "STARTTLS";
        self.with_tls += 1;
        self.bytes_after_starttls += u64::from(bytes_after_starttls.is_some_and(|n| n > 0));
        self.starttls_after_tls += u64::from(after.iter().any(|k| k == STARTTLS));
        let has = |list: &[String], k: &String| list.iter().any(|x| x == k);
        self.ehlo_keywords_added +=
            u64::from(after.iter().any(|k| k != STARTTLS && !has(before, k)));
        self.ehlo_keywords_dropped +=
            u64::from(before.iter().any(|k| k != STARTTLS && !has(after, k)));
    }
}

/// TLS as real senders see it (issue 15): over probes that reached the TLS handshake
/// (`ok`, `tls_legacy`, `tls_failed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsTotals {
    /// Probes that tried a handshake: the denominator of the lines below.
    pub attempted: u64,
    /// `tls_legacy`: only a legacy hello was answered.
    pub legacy: u64,
    /// Of those, below TLS 1.2 (SSLv3, TLSv1.0, TLSv1.1: what RFC 8996 deprecates).
    pub legacy_below_tls12: u64,
    /// Legacy hellos made (`legacy_ms` set): the extra connections of the survey.
    pub legacy_hellos: u64,
    /// Chains judged with an intermediate the server did not send (`chain_completed`).
    pub chain_completed: u64,
    /// `tls_max_version` over probes that saw a ServerHello version.
    pub version: Dist,
    /// `tls_failure` over `tls_failed` probes.
    pub failure: Dist,
    /// `modern_tls_failure` over `tls_legacy` probes: old versions vs old suites.
    pub legacy_reason: Dist,
}

/// MTA-STS numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsTotals {
    /// `sts_record` over all domains.
    pub record: Dist,
    /// `sts_policy` over domains with a valid record.
    pub policy: Dist,
    /// `sts_fetch_error` over failed fetches.
    pub fetch_error: Dist,
    /// `sts_mode` over valid policies.
    pub mode: Dist,
    /// `sts_delivery` over domains with a policy verdict.
    pub delivery: Dist,
    /// Domains whose published policy would bounce mail today.
    pub would_fail: u64,
    /// Domains with at least one deviation.
    pub with_deviations: u64,
    /// deviation → domains.
    pub deviations: BTreeMap<String, u64>,
}

/// TLS-RPT numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptTotals {
    /// `tlsrpt_record` over all domains.
    pub record: Dist,
    /// Domains with at least one `rua` URI.
    pub with_rua: u64,
    /// URI scheme (`mailto`, `https`, …) → domains with at least one `rua` URI of it.
    #[serde(default)]
    pub rua_schemes: BTreeMap<String, u64>,
}

/// One MX provider (registrable domain of the exchanges) and what it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// Registrable domain, e.g. `bigmail1.test`.
    pub provider: String,
    /// Domains with at least one MX exchange under it.
    pub domains: u64,
    /// Distinct exchange names under it.
    pub hosts: u64,
}

/// The MX providers, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderTotals {
    /// Domains with at least one MX row (what provider shares are of).
    pub denominator: u64,
    /// Distinct providers.
    pub distinct: u64,
    /// Domains served by the [`TOP_PROVIDERS`] largest providers together (each domain once).
    pub top_domains: u64,
    /// The [`TOP_PROVIDERS`] largest providers by domains served (ties by name).
    pub top: Vec<Provider>,
}

/// Providers listed in [`ProviderTotals::top`].
pub const TOP_PROVIDERS: usize = 25;

/// The registrable domain of a host name by the public suffix list (`mx.a.example.co.uk` →
/// `example.co.uk`); the name itself when it has none (an IP literal, a bare suffix).
pub fn registrable_domain(name: &str) -> String {
    let name = name.trim_end_matches('.');
    if name.parse::<std::net::IpAddr>().is_ok() {
        return name.to_owned();
    }
    psl::domain_str(name).unwrap_or(name).to_ascii_lowercase()
}

/// The headline numbers of one survey.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Survey id.
    pub survey_id: String,
    /// Manifest status.
    pub status: String,
    /// Domain totals.
    pub domains: DomainTotals,
    /// MX host totals.
    pub hosts: HostTotals,
    /// `domains.starttls` over domains with mail hosts.
    pub starttls_by_domain: Dist,
    /// offered / not_offered / untested over MX hosts.
    pub starttls_by_host: Dist,
    /// `domains.cert_valid` over domains with mail hosts.
    pub cert_by_domain: Dist,
    /// `mx.cert_status` over MX hosts with a certificate verdict.
    pub cert_by_host: Dist,
    /// `mx.cert_status` class → domains with at least one MX row of it; the denominator is
    /// the domains with at least one certificate verdict (a domain counts once per class).
    #[serde(default)]
    pub cert_problems_by_domain: Dist,
    /// MX providers by registrable domain.
    #[serde(default)]
    pub providers: ProviderTotals,
    /// MTA-STS.
    pub mta_sts: StsTotals,
    /// TLS-RPT.
    pub tlsrpt: TlsRptTotals,
    /// The STARTTLS conversations of probes that completed TLS.
    #[serde(default)]
    pub conversation: ConversationTotals,
    /// TLS versions, legacy servers and handshake failures.
    #[serde(default)]
    pub tls: TlsTotals,
}

#[derive(Default)]
struct HostAgg {
    offered: bool,
    tested: bool,
    cert: Option<(String, CertStatus)>,
}

impl Summary {
    /// Computes the summary of the survey in `dir`.
    pub fn compute(dir: &Path) -> Result<Summary> {
        let manifest = Manifest::load_if_exists(dir)?;
        let mut s = Summary::default();
        if let Some(m) = &manifest {
            s.survey_id = m.survey_id.clone();
            s.status = m.status.as_str().to_owned();
            s.domains.input = m.input.domains;
        }
        for_each_batch(dir, Table::Domains, None, |b| {
            for d in DomainRow::from_batch(&b)? {
                s.add_domain(&d);
            }
            Ok(())
        })?;
        let mut hosts: HashMap<String, HostAgg> = HashMap::new();
        let mut addresses = HashSet::new();
        let mut blocked = HashSet::new();
        let mut group = DomainGroup::default();
        let mut served: HashMap<String, u64> = HashMap::new();
        for_each_batch(dir, Table::Mx, None, |b| {
            for m in MxRow::from_batch(&b)? {
                s.hosts.mx_rows += 1;
                add_mx(&mut hosts, &m);
                // The writer hands a domain and all its mx rows over in one message, so a
                // domain's rows are consecutive; the group is flushed when the domain changes.
                if group.domain != m.domain {
                    group.flush(&mut s, &mut served);
                    group.domain.clone_from(&m.domain);
                }
                group.providers.insert(registrable_domain(&m.exchange));
                if let Some(c) = m.cert_status {
                    group.certs.insert(c);
                }
                if m.blocked {
                    blocked.insert(m.address.clone());
                }
                addresses.insert(m.address);
            }
            Ok(())
        })?;
        group.flush(&mut s, &mut served);
        s.hosts.hosts = hosts.len() as u64;
        s.hosts.addresses = addresses.len() as u64;
        s.hosts.blocked_addresses = blocked.len() as u64;
        let mut provider_hosts: HashMap<String, u64> = HashMap::new();
        for (name, h) in &hosts {
            *provider_hosts.entry(registrable_domain(name)).or_default() += 1;
            s.starttls_by_host.add(match (h.offered, h.tested) {
                (true, _) => HostStarttls::Offered,
                (false, true) => HostStarttls::NotOffered,
                (false, false) => HostStarttls::Untested,
            });
            if let Some((_, c)) = &h.cert {
                s.cert_by_host.add(*c);
            }
        }
        s.providers.distinct = served.len() as u64;
        let mut top: Vec<Provider> = served
            .into_iter()
            .map(|(provider, domains)| Provider {
                hosts: provider_hosts.get(&provider).copied().unwrap_or(0),
                provider,
                domains,
            })
            .collect();
        top.sort_by(|a, b| b.domains.cmp(&a.domains).then(a.provider.cmp(&b.provider)));
        top.truncate(TOP_PROVIDERS);
        s.providers.top = top;
        s.providers.top_domains = domains_served_by(dir, &s.providers.top)?;
        let probe_cols = [
            "status",
            "bytes_after_starttls",
            "ehlo_keywords",
            "ehlo_keywords_tls",
            "tls_max_version",
            "tls_failure",
            "modern_tls_failure",
            "chain_completed",
            "legacy_ms",
        ];
        for_each_batch(dir, Table::Probes, Some(&probe_cols), |b| {
            let c = crate::arrays::Cols {
                table: "probes",
                batch: &b,
            };
            let after_220 =
                c.opt_prims::<arrow::datatypes::UInt32Type>("bytes_after_starttls", false)?;
            let before = c.lists("ehlo_keywords", false)?;
            let after = c.lists("ehlo_keywords_tls", false)?;
            let version = c.opt_strings("tls_max_version", false)?;
            let failure = c.opt_status::<TlsFailure>(&crate::probes::TLS_FAILURE, false)?;
            let modern = c.opt_status::<TlsFailure>(&crate::probes::MODERN_TLS_FAILURE, false)?;
            let completed = c.opt_bools("chain_completed", false)?;
            let legacy_ms = c.opt_prims::<arrow::datatypes::UInt32Type>("legacy_ms", false)?;
            for (i, st) in c
                .status::<ProbeStatus>(&crate::probes::STATUS)?
                .into_iter()
                .enumerate()
            {
                s.hosts.probes += 1;
                s.hosts.probed_addresses += u64::from(st != ProbeStatus::Blocked);
                s.hosts.probe_status.add(st);
                let t = &mut s.tls;
                let version = version
                    .get(i)
                    .cloned()
                    .flatten()
                    .and_then(|v| v.parse::<TlsVersion>().ok());
                if matches!(
                    st,
                    ProbeStatus::Ok | ProbeStatus::TlsLegacy | ProbeStatus::TlsFailed
                ) {
                    t.attempted += 1;
                }
                if let Some(v) = version {
                    t.version.add(v);
                }
                if st == ProbeStatus::TlsLegacy {
                    t.legacy += 1;
                    t.legacy_below_tls12 += u64::from(version.is_some_and(TlsVersion::is_legacy));
                    if let Some(Some(f)) = modern.get(i) {
                        t.legacy_reason.add(*f);
                    }
                }
                if st == ProbeStatus::TlsFailed
                    && let Some(Some(f)) = failure.get(i)
                {
                    t.failure.add(*f);
                }
                t.legacy_hellos += u64::from(legacy_ms.get(i).is_some_and(Option::is_some));
                t.chain_completed += u64::from(completed.get(i).copied().flatten() == Some(true));
                if st == ProbeStatus::Ok {
                    s.conversation.add(
                        after_220.get(i).copied().flatten(),
                        before.get(i).map_or(&[][..], Vec::as_slice),
                        after.get(i).map_or(&[][..], Vec::as_slice),
                    );
                }
            }
            Ok(())
        })?;
        Ok(s)
    }

    fn add_domain(&mut self, d: &DomainRow) {
        let t = &mut self.domains;
        t.written += 1;
        t.dns_status.add(d.dns_status);
        t.resolved += u64::from(d.dns_status == DnsStatus::Ok);
        t.null_mx += u64::from(d.null_mx);
        t.implicit_mx += u64::from(d.implicit_mx);
        if d.starttls != Coverage::NoMx {
            t.with_mail_hosts += 1;
            self.starttls_by_domain.add(d.starttls);
            self.cert_by_domain.add(d.cert_valid);
        }
        let sts = &mut self.mta_sts;
        sts.record.add(d.sts_record);
        if d.sts_record == TxtStatus::Valid {
            sts.policy.add(d.sts_policy);
        }
        if let Some(e) = d.sts_fetch_error {
            sts.fetch_error.add(e);
        }
        if d.sts_policy == PolicyStatus::Ok
            && let Some(m) = d.sts_mode
        {
            sts.mode.add(m);
        }
        if d.sts_delivery != Delivery::NoPolicy {
            sts.delivery.add(d.sts_delivery);
        }
        sts.would_fail += u64::from(d.sts_delivery == Delivery::WouldFail);
        if !d.sts_deviations.is_empty() {
            sts.with_deviations += 1;
            for dev in d.sts_deviations.iter().collect::<HashSet<_>>() {
                *sts.deviations.entry(dev.clone()).or_default() += 1;
            }
        }
        self.tlsrpt.record.add(d.tlsrpt_record);
        self.tlsrpt.with_rua += u64::from(!d.tlsrpt_rua.is_empty());
        let schemes: BTreeSet<String> = d
            .tlsrpt_rua
            .iter()
            .map(|u| match u.split_once(':') {
                Some((scheme, _)) => scheme.trim().to_ascii_lowercase(),
                None => "other".to_owned(),
            })
            .collect();
        for scheme in schemes {
            *self.tlsrpt.rua_schemes.entry(scheme).or_default() += 1;
        }
    }

    /// A plain-text table for the terminal.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "survey {} ({})", self.survey_id, self.status);
        let d = &self.domains;
        let line = |o: &mut String, label: &str, n: u64, of: u64| {
            let share = if of == 0 {
                "-".to_owned()
            } else {
                format!("{:.1}%", n as f64 * 100.0 / of as f64)
            };
            let _ = writeln!(o, "  {label:<28}{n:>12}{share:>9}");
        };
        let section = |o: &mut String, title: &str, dist: &Dist| {
            let _ = writeln!(o, "{title} (of {})", dist.denominator);
            let mut v: Vec<_> = dist.counts.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, n) in v {
                line(o, k, *n, dist.denominator);
            }
        };
        let _ = writeln!(o, "domains");
        if let Some(i) = d.input {
            line(&mut o, "in input", i, i);
        }
        let of = d.input.unwrap_or(d.written);
        line(&mut o, "written", d.written, of);
        line(&mut o, "resolved (dns ok)", d.resolved, d.written);
        line(&mut o, "with mail hosts", d.with_mail_hosts, d.written);
        line(&mut o, "null MX", d.null_mx, d.written);
        line(&mut o, "implicit MX", d.implicit_mx, d.written);
        section(&mut o, "DNS status", &d.dns_status);
        let h = &self.hosts;
        let _ = writeln!(o, "MX hosts");
        line(&mut o, "distinct hosts", h.hosts, h.hosts);
        line(&mut o, "distinct addresses", h.addresses, h.addresses);
        line(
            &mut o,
            "blocked addresses",
            h.blocked_addresses,
            h.addresses,
        );
        line(&mut o, "probes", h.probes, h.addresses);
        line(
            &mut o,
            "addresses contacted",
            h.probed_addresses,
            h.addresses,
        );
        section(&mut o, "probe status", &h.probe_status);
        section(&mut o, "STARTTLS by domain", &self.starttls_by_domain);
        section(&mut o, "STARTTLS by MX host", &self.starttls_by_host);
        let v = &self.conversation;
        let _ = writeln!(
            o,
            "STARTTLS conversation (of {} probes with TLS)",
            v.with_tls
        );
        line(
            &mut o,
            "bytes after the 220",
            v.bytes_after_starttls,
            v.with_tls,
        );
        line(
            &mut o,
            "STARTTLS after TLS",
            v.starttls_after_tls,
            v.with_tls,
        );
        line(
            &mut o,
            "EHLO keywords added",
            v.ehlo_keywords_added,
            v.with_tls,
        );
        line(
            &mut o,
            "EHLO keywords dropped",
            v.ehlo_keywords_dropped,
            v.with_tls,
        );
        let t = &self.tls;
        let _ = writeln!(o, "TLS (of {} probes that tried a handshake)", t.attempted);
        line(&mut o, "legacy TLS only", t.legacy, t.attempted);
        line(
            &mut o,
            "  of which below TLS 1.2",
            t.legacy_below_tls12,
            t.attempted,
        );
        line(&mut o, "legacy hellos made", t.legacy_hellos, t.attempted);
        line(&mut o, "chains completed", t.chain_completed, t.attempted);
        section(&mut o, "TLS version selected", &t.version);
        section(&mut o, "TLS failure (tls_failed)", &t.failure);
        section(
            &mut o,
            "why modern TLS failed (tls_legacy)",
            &t.legacy_reason,
        );
        section(&mut o, "certificate by domain", &self.cert_by_domain);
        section(&mut o, "certificate by MX host", &self.cert_by_host);
        section(
            &mut o,
            "certificate classes by domain (any MX; domains with a verdict)",
            &self.cert_problems_by_domain,
        );
        let s = &self.mta_sts;
        section(&mut o, "MTA-STS record", &s.record);
        section(&mut o, "MTA-STS policy (valid records)", &s.policy);
        section(&mut o, "MTA-STS fetch errors", &s.fetch_error);
        section(&mut o, "MTA-STS mode (valid policies)", &s.mode);
        section(&mut o, "MTA-STS delivery verdict", &s.delivery);
        let dev = Dist {
            denominator: s.record.denominator,
            counts: s.deviations.clone(),
        };
        section(&mut o, "MTA-STS deviations (domains)", &dev);
        section(&mut o, "TLS-RPT record", &self.tlsrpt.record);
        line(
            &mut o,
            "TLS-RPT with rua",
            self.tlsrpt.with_rua,
            self.tlsrpt.record.denominator,
        );
        for (scheme, n) in &self.tlsrpt.rua_schemes {
            line(
                &mut o,
                &format!("TLS-RPT rua {scheme}:"),
                *n,
                self.tlsrpt.record.denominator,
            );
        }
        let p = &self.providers;
        let _ = writeln!(
            o,
            "MX providers by domains served (of {} domains with MX rows; {} providers)",
            p.denominator, p.distinct
        );
        for prov in p.top.iter().take(RENDER_PROVIDERS) {
            let plural = if prov.hosts == 1 { "" } else { "s" };
            let label = format!("{} ({} host{plural})", prov.provider, prov.hosts);
            line(&mut o, &label, prov.domains, p.denominator);
        }
        line(
            &mut o,
            &format!("top {} together", p.top.len()),
            p.top_domains,
            p.denominator,
        );
        o
    }
}

/// Providers shown in the terminal table.
const RENDER_PROVIDERS: usize = 15;

/// The mx rows of one domain, folded when the next domain starts.
#[derive(Default)]
struct DomainGroup {
    domain: String,
    providers: BTreeSet<String>,
    certs: BTreeSet<CertStatus>,
}

impl DomainGroup {
    fn flush(&mut self, s: &mut Summary, served: &mut HashMap<String, u64>) {
        if self.domain.is_empty() {
            return;
        }
        s.providers.denominator += 1;
        for p in std::mem::take(&mut self.providers) {
            *served.entry(p).or_default() += 1;
        }
        if !self.certs.is_empty() {
            let d = &mut s.cert_problems_by_domain;
            d.denominator += 1;
            for c in std::mem::take(&mut self.certs) {
                *d.counts.entry(c.as_str().to_owned()).or_default() += 1;
            }
        }
        self.domain.clear();
    }
}

/// Domains (each once) with an MX exchange under any of `top` (a second, two-column pass).
fn domains_served_by(dir: &Path, top: &[Provider]) -> Result<u64> {
    let wanted: HashSet<&str> = top.iter().map(|p| p.provider.as_str()).collect();
    let mut n = 0u64;
    let mut last = String::new();
    let mut counted = false;
    for_each_batch(dir, Table::Mx, Some(&["domain", "exchange"]), |b| {
        let c = crate::arrays::Cols {
            table: "mx",
            batch: &b,
        };
        for (d, x) in c.strings("domain")?.into_iter().zip(c.strings("exchange")?) {
            if d != last {
                last = d;
                counted = false;
            }
            if !counted && wanted.contains(registrable_domain(&x).as_str()) {
                counted = true;
                n += 1;
            }
        }
        Ok(())
    })?;
    Ok(n)
}

fn add_mx(hosts: &mut HashMap<String, HostAgg>, m: &MxRow) {
    let h = hosts.entry(m.exchange.clone()).or_default();
    if let Some(st) = m.starttls {
        h.tested = true;
        h.offered |= st;
    }
    if let Some(c) = m.cert_status {
        let replace = match &h.cert {
            None => true,
            Some((addr, _)) => m.address < *addr,
        };
        if replace {
            h.cert = Some((m.address.clone(), c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ConversationTotals, registrable_domain};

    #[test]
    fn registrable_domains_by_the_public_suffix_list() {
        let cases = [
            ("mx1.bigmail1.test", "bigmail1.test"),
            ("aspmx.l.google.com", "google.com"),
            ("mx.example.co.uk", "example.co.uk"),
            ("MX.Example.COM.", "example.com"),
            ("example.com", "example.com"),
            ("mail.protection.outlook.com", "outlook.com"),
            ("192.0.2.1", "192.0.2.1"),
            ("com", "com"),
        ];
        for (name, want) in cases {
            assert_eq!(registrable_domain(name), want, "{name}");
        }
    }

    #[test]
    fn conversation_totals_count_each_oddity_once_per_probe() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut t = ConversationTotals::default();
        // Clean: STARTTLS disappears after TLS, nothing else changes.
        t.add(
            Some(0),
            &k(&["PIPELINING", "STARTTLS"]),
            &k(&["PIPELINING"]),
        );
        // Injection, STARTTLS again after TLS, AUTH added, SIZE dropped.
        t.add(
            Some(17),
            &k(&["SIZE", "STARTTLS"]),
            &k(&["STARTTLS", "AUTH", "AUTH"]),
        );
        // No post-TLS EHLO recorded: every pre-TLS keyword counts as dropped.
        t.add(None, &k(&["8BITMIME"]), &[]);
        assert_eq!(
            t,
            ConversationTotals {
                with_tls: 3,
                bytes_after_starttls: 1,
                starttls_after_tls: 1,
                ehlo_keywords_added: 1,
                ehlo_keywords_dropped: 2,
            }
        );
    }
}
