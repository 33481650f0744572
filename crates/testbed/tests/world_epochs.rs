//! Epochs of the world (module `epoch`): epoch 0 is today's world unchanged, every epoch is
//! a pure function of (seed, name, epoch), the servers' model follows the epoch, and the
//! change rates per step stay within the bounds the module documents. Pure: no sockets.

use std::collections::BTreeMap;

use mxscan_model::{Coverage, Delivery, PolicyStatus, TxtStatus};
use mxscan_testbed::behaviour::{Behaviours, HttpResponse, HttpsSite};
use mxscan_testbed::names::{synthetic_domains, synthetic_domains_through};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::truth::{DomainTruth, truth_for_list};
use mxscan_testbed::world::{Lookup, QType, RrData, World, WorldConfig};

fn world(seed: u64, profile: Profile) -> World {
    World::new(WorldConfig {
        seed,
        profile,
        ..WorldConfig::default()
    })
}

fn names(seed: u64, n: u64, profile: Profile) -> Vec<String> {
    synthetic_domains(seed, n, profile)
        .map(|(_, d)| d)
        .collect()
}

fn rank(c: Coverage) -> Option<u8> {
    match c {
        Coverage::None => Some(0),
        Coverage::Some => Some(1),
        Coverage::All => Some(2),
        _ => None,
    }
}

/// The `mxscan diff` classes of one domain between two truths, written out from the class
/// definitions of crates/store/src/diff.rs (independently of that code).
fn classes(o: &DomainTruth, n: &DomainTruth) -> Vec<&'static str> {
    let mut out = Vec::new();
    let (ook, nok) = (
        o.sts_policy == PolicyStatus::Ok,
        n.sts_policy == PolicyStatus::Ok,
    );
    let mut put = |c: &'static str, yes: bool| {
        if yes {
            out.push(c);
        }
    };
    put("sts_adopted", nok && !ook);
    put("sts_dropped", ook && !nok);
    put("sts_mode_changed", ook && nok && o.sts_mode != n.sts_mode);
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    let differs = o.sts_mode != n.sts_mode
        || o.sts_max_age != n.sts_max_age
        || sorted(&o.sts_mx) != sorted(&n.sts_mx);
    put(
        "sts_policy_changed_same_id",
        ook && nok && o.sts_id.is_some() && o.sts_id == n.sts_id && differs,
    );
    put(
        "sts_id_changed",
        o.sts_record == TxtStatus::Valid
            && n.sts_record == TxtStatus::Valid
            && o.sts_id != n.sts_id,
    );
    let (of, nf) = (
        o.sts_delivery == Delivery::WouldFail,
        n.sts_delivery == Delivery::WouldFail,
    );
    put("sts_now_would_fail", nf && !of);
    put("sts_no_longer_would_fail", of && !nf);
    if let (Some(a), Some(b)) = (rank(o.starttls), rank(n.starttls)) {
        put("starttls_gained", b > a);
        put("starttls_lost", b < a);
    }
    if let (Some(a), Some(b)) = (rank(o.cert_valid), rank(n.cert_valid)) {
        put("cert_valid_improved", b > a);
        put("cert_valid_worsened", b < a);
    }
    out
}

/// Class → (count, denominator) between two epochs of a list; leaf_changed per exchange.
fn rates(
    seed: u64,
    profile: Profile,
    list: &[String],
    from: u32,
    to: u32,
) -> BTreeMap<&'static str, (u32, u32)> {
    let (a, b) = (
        world(seed, profile).with_epoch(from),
        world(seed, profile).with_epoch(to),
    );
    let old: Vec<DomainTruth> = truth_for_list(&a, list).collect();
    let new: Vec<DomainTruth> = truth_for_list(&b, list).collect();
    let mut out: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    for (o, n) in old.iter().zip(&new) {
        for c in classes(o, n) {
            out.entry(c).or_default().0 += 1;
        }
        let den = |out: &mut BTreeMap<&'static str, (u32, u32)>, cs: &[&'static str]| {
            for c in cs {
                out.entry(c).or_default().1 += 1;
            }
        };
        den(&mut out, &["sts_adopted", "sts_dropped"]);
        if rank(o.starttls).is_some() && rank(n.starttls).is_some() {
            den(&mut out, &["starttls_gained", "starttls_lost"]);
        }
        if rank(o.cert_valid).is_some() && rank(n.cert_valid).is_some() {
            den(&mut out, &["cert_valid_improved", "cert_valid_worsened"]);
        }
    }
    // leaf_changed: exchanges with a leaf in both.
    let leaves = |w: &World, truths: &[DomainTruth]| {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in truths {
            for r in &t.mx {
                if let Some(l) = r
                    .address
                    .parse()
                    .ok()
                    .and_then(|a| w.expected_leaf(a, &r.exchange))
                {
                    let v = m.entry(r.exchange.clone()).or_default();
                    if !v.contains(&l) {
                        v.push(l);
                    }
                }
            }
        }
        m
    };
    let (la, lb) = (leaves(&a, &old), leaves(&b, &new));
    for (x, l) in &la {
        if let Some(m) = lb.get(x) {
            let e = out.entry("leaf_changed").or_default();
            e.1 += 1;
            let (mut l, mut m) = (l.clone(), m.clone());
            l.sort();
            m.sort();
            if l != m {
                e.0 += 1;
            }
        }
    }
    out
}

#[test]
fn epoch_0_is_todays_world() {
    for profile in Profile::ALL {
        let list = names(42, 2_000, *profile);
        let today = world(42, *profile);
        let moved = world(42, *profile).with_epoch(7);
        moved.set_epoch(0);
        assert_eq!(moved.epoch(), 0);
        for d in &list {
            assert_eq!(today.expected(d), moved.expected(d), "{d}");
            for name in [
                d.clone(),
                format!("_mta-sts.{d}"),
                format!("mta-sts.{d}"),
                format!("mx1.{d}"),
            ] {
                assert_eq!(today.node(&name), moved.node(&name), "{name}");
            }
            for mx in today.expected(d).mx {
                let a = mx.address.parse().unwrap();
                assert_eq!(today.cert_renewal(a, Some(&mx.exchange)), 0);
            }
        }
        // The list generator at last epoch 0 is the old one.
        let through: Vec<_> = synthetic_domains_through(42, 500, *profile, 0).collect();
        let old: Vec<_> = synthetic_domains(42, 500, *profile).collect();
        assert_eq!(through, old);
    }
}

#[test]
fn an_epoch_is_a_pure_function_of_seed_name_and_epoch() {
    let list = names(5, 1_000, Profile::Stress);
    let a = world(5, Profile::Stress).with_epoch(6);
    let b = world(5, Profile::Stress);
    b.set_epoch(3);
    b.set_epoch(6);
    let c = a.clone();
    for d in &list {
        let t = a.expected(d);
        assert_eq!(t, b.expected(d), "{d}");
        assert_eq!(t, c.expected(d), "{d}");
    }
    // Different epochs of one seed differ, but only in part.
    let e0 = world(5, Profile::Stress);
    let same = list
        .iter()
        .filter(|d| e0.expected(d) == a.expected(d))
        .count();
    assert!(same > 0 && same < list.len(), "{same} of {}", list.len());
}

/// The `_mta-sts` id the DNS serves, the policy the HTTPS site serves and the truth move
/// together.
#[test]
fn dns_https_and_truth_follow_the_epoch() {
    let list = names(9, 3_000, Profile::Stress);
    let w = world(9, Profile::Stress);
    let (mut ids, mut bodies) = (0, 0);
    for epoch in [0, 1, 4] {
        w.set_epoch(epoch);
        for d in &list {
            let t = w.expected(d);
            if t.sts_record != TxtStatus::Valid {
                continue;
            }
            let id = t.sts_id.clone().unwrap();
            let Lookup::Answer { answers, .. } = w.query(&format!("_mta-sts.{d}"), QType::Txt)
            else {
                panic!("{d}: no TXT answer");
            };
            let served = answers.iter().any(|rr| match &rr.data {
                RrData::Txt(t) => t.concat() == format!("v=STSv1; id={id};"),
                _ => false,
            });
            assert!(served, "{d} epoch {epoch}: id {id} not in {answers:?}");
            ids += 1;
            if t.sts_policy != PolicyStatus::Ok {
                continue;
            }
            let host = format!("mta-sts.{d}");
            let addr = w.query(&host, QType::A).addresses()[0];
            let HttpsSite::Serve {
                response: HttpResponse::Body { body, .. },
                ..
            } = w.https_site(addr, Some(&host))
            else {
                panic!("{d}: no policy body");
            };
            let body = String::from_utf8(body).unwrap();
            let max_age = t.sts_max_age.unwrap();
            assert!(body.contains(&format!("max_age: {max_age}")), "{d}: {body}");
            for p in &t.sts_mx {
                assert!(body.contains(&format!("mx: {p}")), "{d}: {body}");
            }
            bodies += 1;
        }
    }
    assert!(ids > 1_000 && bodies > 500, "{ids} ids, {bodies} bodies");
}

/// Stress: two epochs of a few thousand domains show every domain change class.
#[test]
fn stress_epochs_show_every_change_class() {
    let list: Vec<String> = synthetic_domains_through(21, 2_000, Profile::Stress, 3)
        .map(|(_, d)| d)
        .collect();
    let r = rates(21, Profile::Stress, &list, 1, 3);
    eprintln!("{r:?}");
    for class in [
        "sts_adopted",
        "sts_dropped",
        "sts_mode_changed",
        "sts_policy_changed_same_id",
        "sts_id_changed",
        "sts_now_would_fail",
        "sts_no_longer_would_fail",
        "starttls_gained",
        "starttls_lost",
        "cert_valid_improved",
        "cert_valid_worsened",
        "leaf_changed",
    ] {
        let (n, _) = r.get(class).copied().unwrap_or_default();
        assert!(n >= 3, "{class}: {n}");
    }
    // An unambiguous list through epoch 3: no two names on one dedicated address.
    let w = world(21, Profile::Stress);
    for e in 0..=3 {
        w.set_epoch(e);
        let ambiguous = truth_for_list(&w, &list)
            .filter(|t| t.mx.iter().any(|m| m.ambiguous))
            .count();
        assert_eq!(ambiguous, 0, "epoch {e}");
    }
}

/// Realistic: one step changes the documented shares (module `epoch` docs), at the start and
/// two years on; and the headline shares move the way the rates say over two years.
#[test]
fn realistic_change_rates_are_within_documented_bounds() {
    let n = 20_000;
    let list = names(2024, n, Profile::Realistic);
    // class → (min ‰, max ‰) of its denominator per step.
    let bounds: [(&str, f64, f64); 7] = [
        ("starttls_gained", 1.0, 3.0),
        ("starttls_lost", 0.4, 2.0),
        ("cert_valid_improved", 2.0, 5.0),
        ("cert_valid_worsened", 1.0, 4.0),
        ("sts_adopted", 0.1, 0.6),
        ("sts_dropped", 0.0, 0.6),
        ("leaf_changed", 200.0, 350.0),
    ];
    let mut outside = Vec::new();
    for (from, to) in [(0, 1), (24, 25)] {
        let r = rates(2024, Profile::Realistic, &list, from, to);
        eprintln!("{from}->{to}: {r:?}");
        for (class, lo, hi) in bounds {
            let (count, den) = r.get(class).copied().unwrap_or_default();
            let per_mille = 1_000.0 * f64::from(count) / f64::from(den.max(1));
            eprintln!("{from}->{to} {class}: {count} of {den} ({per_mille:.2}‰)");
            if !(lo..=hi).contains(&per_mille) {
                outside.push(format!(
                    "{from}->{to} {class}: {per_mille:.2}‰ not in {lo}–{hi}‰"
                ));
            }
        }
    }
    assert!(outside.is_empty(), "{}", outside.join("\n"));

    // Over 24 epochs: STARTTLS and valid certificates grow by a few points, MTA-STS grows
    // by a half to twice, NXDOMAIN stays near 4%.
    let share = |epoch: u32| {
        let w = world(2024, Profile::Realistic).with_epoch(epoch);
        let (mut mail, mut tls, mut valid, mut sts, mut nx) = (0u32, 0u32, 0u32, 0u32, 0u32);
        for d in &list {
            let t = w.expected(d);
            if t.dns_status == mxscan_model::DnsStatus::NxDomain {
                nx += 1;
            }
            if t.sts_record != TxtStatus::None {
                sts += 1;
            }
            if !t.mx.is_empty() {
                mail += 1;
                tls += u32::from(matches!(t.starttls, Coverage::All | Coverage::Some));
                valid += u32::from(t.cert_valid == Coverage::All);
            }
        }
        let pct = |x: u32, of: u32| 100.0 * f64::from(x) / f64::from(of.max(1));
        (
            pct(tls, mail),
            pct(valid, mail),
            pct(sts, n as u32),
            pct(nx, n as u32),
        )
    };
    let (tls0, valid0, sts0, nx0) = share(0);
    let (tls24, valid24, sts24, nx24) = share(24);
    eprintln!(
        "epoch 0: starttls {tls0:.1}% valid {valid0:.1}% sts {sts0:.2}% nxdomain {nx0:.1}%; \
         epoch 24: starttls {tls24:.1}% valid {valid24:.1}% sts {sts24:.2}% nxdomain {nx24:.1}%"
    );
    assert!(tls24 > tls0 + 1.0 && tls24 < tls0 + 15.0);
    assert!(valid24 > valid0 + 1.0 && valid24 < valid0 + 20.0);
    assert!(sts24 > sts0 * 1.3 && sts24 < sts0 * 2.5);
    assert!((3.0..=6.0).contains(&nx24), "{nx24}");
}
