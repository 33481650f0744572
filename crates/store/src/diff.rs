//! What changed between two surveys of overlapping domain lists.
//!
//! The comparison is pure over rows ([`diff`] takes the domain facts and the per-exchange
//! leaf certificates of both surveys); [`SurveyDiff::between`] reads two survey directories
//! and calls it. Domains are matched by `domains.domain`; only domains present in both
//! surveys are compared ("common domains"), the others are listed as `only_old` / `only_new`.
//!
//! Change classes ([`Change`], a closed vocabulary):
//! - MTA-STS, over common domains: `sts_adopted` (`sts_policy = ok` in the new survey and not
//!   in the old), `sts_dropped` (the reverse), `sts_mode_changed` (ok in both, `sts_mode`
//!   differs), `sts_policy_changed_same_id` (ok in both, the same `sts_id`, and a different
//!   mode, `max_age` or set of `mx` patterns — an operator error: RFC 8461 §3.1 requires the
//!   `id` to change whenever the policy changes, else senders keep their cached policy),
//!   `sts_id_changed` (a valid record in both with different ids), `sts_now_would_fail` /
//!   `sts_no_longer_would_fail` (`sts_delivery = would_fail` appears / disappears).
//! - STARTTLS, over common domains with `starttls` in {none, some, all} in both:
//!   `starttls_gained` (none → some/all, some → all) and `starttls_lost` (the reverse).
//! - Certificates: `cert_valid_improved` / `cert_valid_worsened` likewise over `cert_valid`
//!   in {none, some, all}; `leaf_changed` lists MX *exchanges* (not domains) whose set of leaf
//!   certificate SHA-256s (first of `probes.chain_sha256`, joined through `mx.address`)
//!   differs, over exchanges with at least one leaf in both surveys.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::manifest::Manifest;
use crate::reader::for_each_batch;
use crate::rows::{DomainRow, MxRow, ProbeRow, Table, TableRow};

pub use mxscan_model::Change;
use mxscan_model::{Coverage, Delivery, Mode, PolicyStatus, TxtStatus};

/// The domains (or exchanges) of one change class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeList {
    /// How many.
    pub count: u64,
    /// Of how many that could have changed this way (see [`Change::denominator_label`]).
    pub denominator: u64,
    /// What the denominator counts.
    pub of: String,
    /// Every domain (exchange for `leaf_changed`), sorted.
    pub items: Vec<String>,
}

/// The facts of one domain that a diff compares (a slim copy of a [`DomainRow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFacts {
    /// Domain.
    pub domain: String,
    /// `domains.starttls`.
    pub starttls: Coverage,
    /// `domains.cert_valid`.
    pub cert_valid: Coverage,
    /// `domains.sts_record`.
    pub sts_record: TxtStatus,
    /// `domains.sts_id`.
    pub sts_id: Option<String>,
    /// `domains.sts_policy`.
    pub sts_policy: PolicyStatus,
    /// `domains.sts_mode`.
    pub sts_mode: Option<Mode>,
    /// `domains.sts_max_age`.
    pub sts_max_age: Option<i64>,
    /// `domains.sts_mx`, sorted and deduplicated (order in the policy is not meaningful).
    pub sts_mx: Vec<String>,
    /// `domains.sts_delivery`.
    pub sts_delivery: Delivery,
}

impl From<&DomainRow> for DomainFacts {
    fn from(d: &DomainRow) -> Self {
        let mut mx = d.sts_mx.clone();
        mx.sort();
        mx.dedup();
        DomainFacts {
            domain: d.domain.clone(),
            starttls: d.starttls,
            cert_valid: d.cert_valid,
            sts_record: d.sts_record,
            sts_id: d.sts_id.clone(),
            sts_policy: d.sts_policy,
            sts_mode: d.sts_mode,
            sts_max_age: d.sts_max_age,
            sts_mx: mx,
            sts_delivery: d.sts_delivery,
        }
    }
}

/// exchange → hex SHA-256 of the leaf certificates its addresses presented.
pub type LeafMap = BTreeMap<String, BTreeSet<String>>;

/// The leaf certificates per exchange: `mx` rows joined with `probes` on the address.
pub fn leaves<'a>(
    mx: impl IntoIterator<Item = &'a MxRow>,
    probes: impl IntoIterator<Item = &'a ProbeRow>,
) -> LeafMap {
    let leaf: HashMap<&str, &str> = probes
        .into_iter()
        .filter_map(|p| Some((p.address.as_str(), p.chain_sha256.first()?.as_str())))
        .collect();
    let mut out = LeafMap::new();
    for m in mx {
        if let Some(l) = leaf.get(m.address.as_str()) {
            out.entry(m.exchange.clone())
                .or_default()
                .insert((*l).to_owned());
        }
    }
    out
}

/// What changed between two surveys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDiff {
    /// Old survey id (from its manifest, if any).
    pub old_survey: String,
    /// New survey id.
    pub new_survey: String,
    /// Domain rows in the old survey.
    pub old_domains: u64,
    /// Domain rows in the new survey.
    pub new_domains: u64,
    /// Domains in both.
    pub common_domains: u64,
    /// [`Change::as_str`] → the domains (exchanges) of that class; every class is present.
    pub changes: BTreeMap<String, ChangeList>,
}

/// none < some < all; the other values (untested, no_mx) are not ranked.
fn rank(v: Coverage) -> Option<u8> {
    match v {
        Coverage::None => Some(0),
        Coverage::Some => Some(1),
        Coverage::All => Some(2),
        Coverage::Untested | Coverage::NoMx => None,
    }
}

/// Compares two surveys given as domain facts and leaf maps (pure; see the module docs).
pub fn diff(
    old: impl IntoIterator<Item = DomainFacts>,
    new: impl IntoIterator<Item = DomainFacts>,
    old_leaves: &LeafMap,
    new_leaves: &LeafMap,
) -> SurveyDiff {
    let mut out = SurveyDiff::default();
    let mut lists: BTreeMap<Change, ChangeList> = Change::ALL
        .iter()
        .map(|c| {
            (
                *c,
                ChangeList {
                    of: c.denominator_label().to_owned(),
                    ..ChangeList::default()
                },
            )
        })
        .collect();
    let mut old_by: HashMap<String, DomainFacts> = HashMap::new();
    for d in old {
        out.old_domains += 1;
        old_by.insert(d.domain.clone(), d);
    }
    // Each class: (denominator applies, changed).
    let mut note = |c: Change, applies: bool, changed: bool, item: &str| {
        let l = lists.get_mut(&c).expect("every class has a list");
        if applies {
            l.denominator += 1;
            if changed {
                l.count += 1;
                l.items.push(item.to_owned());
            }
        }
    };
    let mut seen_new = BTreeSet::new();
    for n in new {
        out.new_domains += 1;
        note(
            Change::OnlyNew,
            true,
            !old_by.contains_key(&n.domain),
            &n.domain,
        );
        let Some(o) = old_by.get(&n.domain) else {
            continue;
        };
        seen_new.insert(n.domain.clone());
        out.common_domains += 1;
        let d = n.domain.as_str();
        let (ook, nok) = (
            o.sts_policy == PolicyStatus::Ok,
            n.sts_policy == PolicyStatus::Ok,
        );
        note(Change::StsAdopted, true, nok && !ook, d);
        note(Change::StsDropped, true, ook && !nok, d);
        note(
            Change::StsModeChanged,
            ook && nok,
            o.sts_mode != n.sts_mode,
            d,
        );
        let policy_differs =
            o.sts_mode != n.sts_mode || o.sts_max_age != n.sts_max_age || o.sts_mx != n.sts_mx;
        note(
            Change::StsPolicyChangedSameId,
            ook && nok,
            o.sts_id.is_some() && o.sts_id == n.sts_id && policy_differs,
            d,
        );
        note(
            Change::StsIdChanged,
            o.sts_record == TxtStatus::Valid && n.sts_record == TxtStatus::Valid,
            o.sts_id != n.sts_id,
            d,
        );
        let (ofail, nfail) = (
            o.sts_delivery == Delivery::WouldFail,
            n.sts_delivery == Delivery::WouldFail,
        );
        note(Change::StsNowWouldFail, true, nfail && !ofail, d);
        note(Change::StsNoLongerWouldFail, true, ofail && !nfail, d);
        if let (Some(a), Some(b)) = (rank(o.starttls), rank(n.starttls)) {
            note(Change::StarttlsGained, true, b > a, d);
            note(Change::StarttlsLost, true, b < a, d);
        }
        if let (Some(a), Some(b)) = (rank(o.cert_valid), rank(n.cert_valid)) {
            note(Change::CertValidImproved, true, b > a, d);
            note(Change::CertValidWorsened, true, b < a, d);
        }
    }
    let mut old_names: Vec<&String> = old_by.keys().collect();
    old_names.sort();
    for name in old_names {
        note(Change::OnlyOld, true, !seen_new.contains(name), name);
    }
    for (exchange, a) in old_leaves {
        if let Some(b) = new_leaves.get(exchange) {
            note(Change::LeafChanged, true, a != b, exchange);
        }
    }
    out.changes = lists
        .into_iter()
        .map(|(c, mut l)| {
            l.items.sort();
            (c.as_str().to_owned(), l)
        })
        .collect();
    out
}

impl SurveyDiff {
    /// Reads two survey directories and compares them. Memory: the old survey's domain facts
    /// and both surveys' mx/probe rows (the latter only to join leaves per exchange).
    pub fn between(old_dir: &Path, new_dir: &Path) -> Result<SurveyDiff> {
        let old_leaves = leaves_of(old_dir)?;
        let new_leaves = leaves_of(new_dir)?;
        let old = facts_of(old_dir)?;
        let new = facts_of(new_dir)?;
        let mut d = diff(old, new, &old_leaves, &new_leaves);
        d.old_survey = survey_id(old_dir)?;
        d.new_survey = survey_id(new_dir)?;
        Ok(d)
    }

    /// The list of one class.
    pub fn get(&self, c: Change) -> &ChangeList {
        self.changes
            .get(c.as_str())
            .expect("every class is present in a computed diff")
    }

    /// A plain-text report: every class with count and denominator, then at most `cap` of
    /// its domains (the JSON form has them all).
    pub fn render(&self, cap: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "diff {} -> {}: {} old domains, {} new, {} in both",
            self.old_survey,
            self.new_survey,
            self.old_domains,
            self.new_domains,
            self.common_domains
        );
        for c in Change::ALL {
            let Some(l) = self.changes.get(c.as_str()) else {
                continue;
            };
            let share = if l.denominator == 0 {
                "-".to_owned()
            } else {
                format!("{:.1}%", l.count as f64 * 100.0 / l.denominator as f64)
            };
            let _ = writeln!(
                o,
                "  {:<28}{:>9}{:>8}  of {} {}",
                c.as_str(),
                l.count,
                share,
                l.denominator,
                l.of
            );
            if l.items.is_empty() || cap == 0 {
                continue;
            }
            let shown: Vec<&str> = l.items.iter().take(cap).map(String::as_str).collect();
            let more = l.items.len().saturating_sub(cap);
            let _ = writeln!(
                o,
                "      {}{}",
                shown.join(" "),
                if more > 0 {
                    format!(" … and {more} more (--json lists all)")
                } else {
                    String::new()
                }
            );
        }
        o
    }
}

fn survey_id(dir: &Path) -> Result<String> {
    Ok(Manifest::load_if_exists(dir)?
        .map(|m| m.survey_id)
        .unwrap_or_else(|| dir.display().to_string()))
}

fn facts_of(dir: &Path) -> Result<Vec<DomainFacts>> {
    let mut out = Vec::new();
    for_each_batch(dir, Table::Domains, None, |b| {
        out.extend(DomainRow::from_batch(&b)?.iter().map(DomainFacts::from));
        Ok(())
    })?;
    Ok(out)
}

fn leaves_of(dir: &Path) -> Result<LeafMap> {
    let mut leaf: HashMap<String, String> = HashMap::new();
    for_each_batch(dir, Table::Probes, None, |b| {
        for p in ProbeRow::from_batch(&b)? {
            if let Some(l) = p.chain_sha256.into_iter().next() {
                leaf.insert(p.address, l);
            }
        }
        Ok(())
    })?;
    let mut out = LeafMap::new();
    for_each_batch(dir, Table::Mx, Some(&["exchange", "address"]), |b| {
        let c = crate::arrays::Cols {
            table: "mx",
            batch: &b,
        };
        for (x, a) in c
            .strings("exchange")?
            .into_iter()
            .zip(c.strings("address")?)
        {
            if let Some(l) = leaf.get(&a) {
                out.entry(x).or_default().insert(l.clone());
            }
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxscan_model::{CertStatus, ProbeStatus};

    fn facts(domain: &str) -> DomainFacts {
        DomainFacts {
            domain: domain.into(),
            starttls: Coverage::All,
            cert_valid: Coverage::All,
            sts_record: TxtStatus::None,
            sts_id: None,
            sts_policy: PolicyStatus::NotFetched,
            sts_mode: None,
            sts_max_age: None,
            sts_mx: vec![],
            sts_delivery: Delivery::NoPolicy,
        }
    }

    fn policy(domain: &str, id: &str, mode: &'static str, max_age: i64) -> DomainFacts {
        DomainFacts {
            sts_record: TxtStatus::Valid,
            sts_id: Some(id.into()),
            sts_policy: PolicyStatus::Ok,
            sts_mode: Some(mode.parse().unwrap()),
            sts_max_age: Some(max_age),
            sts_mx: vec!["mx.example".into()],
            sts_delivery: Delivery::Ok,
            ..facts(domain)
        }
    }

    #[test]
    fn change_classes() {
        // (name, old, new, the classes it must be in)
        let cases: Vec<(DomainFacts, DomainFacts, &[Change])> = vec![
            (facts("same"), facts("same"), &[]),
            (
                facts("adopt"),
                policy("adopt", "a1", "enforce", 86400),
                &[Change::StsAdopted],
            ),
            (
                policy("drop", "a1", "testing", 86400),
                DomainFacts {
                    sts_record: TxtStatus::Valid,
                    sts_id: Some("a1".into()),
                    sts_policy: PolicyStatus::FetchError,
                    ..facts("drop")
                },
                &[Change::StsDropped],
            ),
            (
                policy("mode", "a1", "testing", 86400),
                policy("mode", "a2", "enforce", 86400),
                &[Change::StsModeChanged, Change::StsIdChanged],
            ),
            (
                policy("sameid", "a1", "testing", 86400),
                policy("sameid", "a1", "enforce", 86400),
                &[Change::StsModeChanged, Change::StsPolicyChangedSameId],
            ),
            (
                policy("maxage", "a1", "enforce", 86400),
                policy("maxage", "a1", "enforce", 604800),
                &[Change::StsPolicyChangedSameId],
            ),
            (
                policy("idonly", "a1", "enforce", 86400),
                policy("idonly", "a2", "enforce", 86400),
                &[Change::StsIdChanged],
            ),
            (
                policy("fail", "a1", "enforce", 86400),
                DomainFacts {
                    sts_delivery: Delivery::WouldFail,
                    cert_valid: Coverage::None,
                    ..policy("fail", "a1", "enforce", 86400)
                },
                &[Change::StsNowWouldFail, Change::CertValidWorsened],
            ),
            (
                DomainFacts {
                    starttls: Coverage::None,
                    cert_valid: Coverage::Untested,
                    ..facts("tls")
                },
                DomainFacts {
                    starttls: Coverage::Some,
                    cert_valid: Coverage::None,
                    ..facts("tls")
                },
                &[Change::StarttlsGained],
            ),
            (
                facts("lost"),
                DomainFacts {
                    starttls: Coverage::Some,
                    cert_valid: Coverage::Some,
                    ..facts("lost")
                },
                &[Change::StarttlsLost, Change::CertValidWorsened],
            ),
            (
                DomainFacts {
                    starttls: Coverage::Untested,
                    ..facts("untested")
                },
                DomainFacts {
                    starttls: Coverage::NoMx,
                    ..facts("untested")
                },
                &[],
            ),
        ];
        let old: Vec<DomainFacts> = cases
            .iter()
            .map(|c| c.0.clone())
            .chain([facts("gone")])
            .collect();
        let new: Vec<DomainFacts> = cases
            .iter()
            .map(|c| c.1.clone())
            .chain([facts("fresh")])
            .collect();
        let ol: LeafMap = [
            ("mx1", vec!["aa"]),
            ("mx2", vec!["bb"]),
            ("mx3", vec!["cc"]),
        ]
        .into_iter()
        .map(|(x, l)| (x.to_owned(), l.into_iter().map(str::to_owned).collect()))
        .collect();
        let nl: LeafMap = [("mx1", vec!["aa"]), ("mx2", vec!["bb", "dd"])]
            .into_iter()
            .map(|(x, l)| (x.to_owned(), l.into_iter().map(str::to_owned).collect()))
            .collect();
        let d = diff(old, new, &ol, &nl);
        assert_eq!(d.common_domains, cases.len() as u64);
        assert_eq!(d.get(Change::OnlyOld).items, ["gone"]);
        assert_eq!(d.get(Change::OnlyNew).items, ["fresh"]);
        assert_eq!(d.get(Change::LeafChanged).items, ["mx2"]);
        assert_eq!(d.get(Change::LeafChanged).denominator, 2);
        for &c in Change::ALL {
            if matches!(c, Change::OnlyOld | Change::OnlyNew | Change::LeafChanged) {
                continue;
            }
            let mut want: Vec<&str> = cases
                .iter()
                .filter(|case| case.2.contains(&c))
                .map(|case| case.0.domain.as_str())
                .collect();
            want.sort();
            assert_eq!(d.get(c).items, want, "{}", c.as_str());
            assert_eq!(d.get(c).count, want.len() as u64, "{}", c.as_str());
        }
        assert_eq!(d.get(Change::StsModeChanged).denominator, 5);
        let text = d.render(1);
        assert!(text.contains("sts_adopted"), "{text}");
        assert!(text.contains("… and 1 more"), "{text}");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<SurveyDiff>(&json).unwrap(), d);
    }

    #[test]
    fn leaves_join_mx_and_probes_on_the_address() {
        let mx = |x: &str, a: &str| MxRow {
            survey_id: "s".into(),
            domain: "d.example".into(),
            exchange: x.into(),
            preference: 10,
            address: a.into(),
            blocked: false,
            smtp_status: ProbeStatus::Ok,
            starttls: Some(true),
            cert_status: Some(CertStatus::Valid),
            sts_match: None,
            cert_matches_domain: None,
        };
        let probe = |a: &str, chain: &[&str]| ProbeRow {
            survey_id: "s".into(),
            address: a.into(),
            port: 25,
            sni: None,
            status: ProbeStatus::Ok,
            banner: None,
            ehlo_keywords: vec![],
            ehlo_keywords_tls: vec![],
            starttls_offered: Some(true),
            starttls_code: Some(220),
            bytes_after_starttls: None,
            starttls_sample: None,
            tls_version: None,
            cipher_suite: None,
            kx_group: None,
            chain_sha256: chain.iter().map(|s| s.to_string()).collect(),
            tls_error: None,
            tls_max_version: None,
            tls_failure: None,
            modern_tls_failure: None,
            chain_completed: None,
            legacy_ms: None,
            started_at: crate::TimestampMs(0),
            connect_ms: None,
            greeting_ms: None,
            ehlo_ms: None,
            tls_ms: None,
            total_ms: None,
        };
        let rows = [mx("a", "1"), mx("a", "2"), mx("b", "3"), mx("c", "1")];
        let probes = [
            probe("1", &["l1", "i1"]),
            probe("2", &["l2"]),
            probe("3", &[]),
        ];
        let got = leaves(&rows, &probes);
        let want: LeafMap = [("a", vec!["l1", "l2"]), ("c", vec!["l1"])]
            .into_iter()
            .map(|(x, l)| (x.to_owned(), l.into_iter().map(str::to_owned).collect()))
            .collect();
        assert_eq!(got, want);
    }
}
