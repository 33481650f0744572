//! Time in the world: epochs.
//!
//! A world has an epoch `E` (default 0). Epoch 0 is the world of `hash(seed, name)` exactly
//! as it was before epochs existed; every later epoch is the same world a step further in
//! time. One step is about **one month** (the surveys the longitudinal studies run are
//! monthly: 31 monthly MTA-STS scans in the IMC 2025 study, two years of weekly-to-monthly
//! DANE scans in Lee et al.).
//!
//! Nothing is stored per domain. The state of a domain at epoch `E` is a pure function of
//! `(seed, name, E)`: [`DomainState::initial`] reads it off the epoch-0 scenario, and
//! [`DomainState::step`] moves it one month with a hash of `(seed, name, step)` and the
//! per-step probabilities of [`Rates`]; `World` walks the `E` steps whenever it needs a
//! domain (a few hundred nanoseconds for a few dozen epochs; epoch 0 takes the old path and
//! costs nothing). Hosts evolve the same way, keyed by their name ([`host_step`]), and
//! certificates are renewed on a closed-form schedule ([`renewals`]).
//!
//! # What changes per step
//!
//! | dimension | events (each a per-step probability, [`Rates`]) |
//! |---|---|
//! | existence | a live domain disappears (NXDOMAIN, and everything it published goes); an NXDOMAIN name appears (a new owner: a layout drawn from the profile's weights, nothing published) |
//! | DNS | an outage starts (`servfail` / `timeout` at the apex) or ends; the MX **migrates** to another layout (dedicated ↔ big provider ↔ hoster; realistic targets favour the big providers); a broken layout (`mx_unresolved`, `mx_private`) is repaired; a domain gains or loses mail |
//! | MTA-STS | adoption (the new setup drawn from the profile's MTA-STS weights, so about a third of new adopters are misconfigured, as today; a fresh `id`); `testing → enforce` (and back); a working setup **breaks** (one of the broken scenarios: policy host gone, certificate expired, 404, bad record …) and is **fixed**; the policy is **edited with a new id** (`max_age` changes and the `mx` lines are refreshed to the current MX) or **without a new id** (RFC 8461 §3.1 violated: senders keep the cached policy); the id is bumped without an edit; withdrawal (`mode: none` with a new id, RFC 8461 §8.3, or the record simply removed); after a migration the policy is refreshed (usually with a new id) or left **stale**, still naming the old MX (then `sts_mx_unmatched`, and `would_fail` under enforce) |
//! | TLS-RPT | adoption (also together with MTA-STS), removal, breakage, repair |
//! | hosts | a host without STARTTLS adopts it (some with a self-signed "snakeoil" certificate); a bad certificate is replaced by a valid one; a valid certificate lapses (expired) and is renewed; a legacy TLS host (`tls10_only`, `tls11_only`, `static_rsa_only`, `cbc_only`) is upgraded to a modern one (`starttls_valid`, at the certificate-repair rate); the hosters' shared hosts evolve the same way (one hoster's upgrade moves all its customers at once) |
//! | certificates | every valid certificate is re-issued on a schedule (a new leaf: `leaf_changed`): ACME / Let's Encrypt style 90-day certificates renewed every 60 days (every 2 epochs) for 70% of hosts, commercial certificates (at most 398 days since CA/B Forum ballot SC22, 2020) every 12 epochs for the rest, big providers every 3 epochs |
//!
//! DANE: the world publishes no TLSA records yet; when it does, its adoption step belongs here.
//!
//! # Rates (`realistic`) and where they come from
//!
//! Per step (month), in parts per 100,000 of the domains (hosts) the event can happen to.
//! They are rounded and plausible rather than fitted; where a study gives a figure we quote
//! it, the rest are stated assumptions.
//!
//! * MTA-STS adoption `sts_adopt` 40 of the non-adopters per month: with about 1% adopters
//!   this adds about 4% of the adopters per month, less withdrawals and disappearing domains
//!   about +70% in two years (seed 2024: 0.94% → 1.60% of domains) — steady growth of the
//!   kind the IMC 2025 study (Ashiq, Fiebig, Chung) observed over its 31 months (the rate is
//!   our assumption, not a figure of the paper). A third of new adopters
//!   are misconfigured (IMC 2025: about a third of the deployments it saw). `testing →
//!   enforce` 2.5% of testing policies per month (many stay in testing for years); a working
//!   setup breaks with 0.8% per month, a broken one is fixed with 8% (misconfigurations are
//!   persistent); edits with a new id 1%, **without a new id 0.3%** (an assumption: the study
//!   reports policies changed without an id change among its misconfigurations); withdrawal
//!   0.4%; after a migration, 60% refresh their policy within the month (10% of them keep
//!   the old id), the rest leave it stale.
//! * TLS-RPT: adoption 20 of the non-adopters per month, and half of the MTA-STS adopters add
//!   it at once (TLS-RPT is a bit less common than MTA-STS, as the profile's shares).
//! * STARTTLS: a host without STARTTLS adopts it with 0.8% per month (about 9% a year —
//!   Google's Transparency Report shows encrypted inbound mail rising by several points a
//!   year through the 2010s), 30% of those first with a self-signed certificate (default
//!   snakeoil certificates of MTA packages); a bad certificate becomes valid with 0.6% per
//!   month (ACME / Let's Encrypt).
//! * Certificates: Let's Encrypt issues 90-day certificates and recommends renewing 30 days
//!   before expiry (so a new leaf every 60 days); a renewal fails and the certificate lapses
//!   with 0.5% per month, and an expired certificate is renewed with 3% per month — many
//!   belong to abandoned hosts: Holz et al. (NDSS 2016) found expired certificates on a few %
//!   of mail servers at any time, and these two rates keep today's share roughly stable.
//! * DNS and providers: 0.1% of live domains disappear per month and 2.4% of NXDOMAIN names
//!   come back (drop-catching), which keeps the NXDOMAIN share near today's 4%; outages start
//!   with 0.03% and end with 30% per month; 0.5% of mail domains migrate per month (about 6%
//!   a year), half of them to a big provider — the consolidation Liu et al. ("Who's Got Your
//!   Mail?", IMC 2021) measured.
//!
//! Over 20,000 synthetic names (seed 2024) one step changes, between two surveys (per mille
//! of the class's denominator, measured at steps 0→1 and 24→25; `tests/world_epochs.rs`
//! checks the bounds): `starttls_gained` 1–3‰ (measured 1.6‰), `starttls_lost` 0.4–2‰ (1.0‰:
//! migrations to hosts without STARTTLS), `cert_valid_improved` 2–5‰ (3.2–3.4‰),
//! `cert_valid_worsened` 1–4‰ (1.7–2.7‰), `sts_adopted` 0.1–0.6‰ of all domains (0.45‰),
//! `sts_dropped` at most 0.6‰, `leaf_changed` 20–35% of the exchanges with a leaf
//! (25%: mostly scheduled renewals). Over 24 steps STARTTLS and valid certificates gain a few
//! points (seed 2024: STARTTLS 81.1% → 85.0% of mail domains, valid certificates on every
//! MX 42.6% → 46.8%), MTA-STS records grow by a half to twice, and NXDOMAIN stays near 4%.
//!
//! # `stress`
//!
//! Every event is ten to a hundred times as likely, so that two epochs of a few thousand
//! domains show every change class, including `sts_policy_changed_same_id`.

use crate::hash::{fmix64, pick_weighted};
use crate::profile::Profile;
use crate::scenario::{DnsScenario, DomainScenario, SmtpClass, StsScenario, TlsRptScenario};

/// Per-step probabilities, in parts per 100,000 (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// An NXDOMAIN name appears (new owner).
    pub appear: u32,
    /// A live domain disappears (NXDOMAIN).
    pub disappear: u32,
    /// An apex outage (servfail / timeout) starts.
    pub dns_break: u32,
    /// An apex outage ends.
    pub dns_fix: u32,
    /// `mx_unresolved` / `mx_private` is repaired (moves to a working layout).
    pub layout_fix: u32,
    /// A mail domain migrates to another MX layout.
    pub migrate: u32,
    /// A domain without mail (`no_mail_host`) gets an MX.
    pub gain_mail: u32,
    /// A mail domain stops receiving mail (`no_mail_host`).
    pub lose_mail: u32,
    /// MTA-STS adoption (of domains without a record).
    pub sts_adopt: u32,
    /// An MTA-STS adopter also adopts TLS-RPT in the same step.
    pub tlsrpt_with_sts: u32,
    /// After a migration, the policy is refreshed to the new MX in the same step.
    pub refresh_after_migration: u32,
    /// … and keeps its old id (an RFC 8461 §3.1 violation).
    pub refresh_keeps_id: u32,
    /// MTA-STS withdrawn.
    pub sts_drop: u32,
    /// A broken MTA-STS setup is fixed.
    pub sts_fix: u32,
    /// A working MTA-STS setup breaks.
    pub sts_break: u32,
    /// `testing → enforce`.
    pub enforce: u32,
    /// `enforce → testing`.
    pub relax: u32,
    /// A mode change keeps the old id.
    pub mode_keeps_id: u32,
    /// The policy is edited and the id bumped.
    pub edit_new_id: u32,
    /// The policy is edited and the id kept.
    pub edit_same_id: u32,
    /// The id is bumped without an edit.
    pub id_only: u32,
    /// TLS-RPT adoption.
    pub tlsrpt_adopt: u32,
    /// TLS-RPT removed.
    pub tlsrpt_drop: u32,
    /// A valid TLS-RPT record breaks.
    pub tlsrpt_break: u32,
    /// A broken TLS-RPT record is fixed.
    pub tlsrpt_fix: u32,
    /// A host without STARTTLS adopts it.
    pub starttls_adopt: u32,
    /// … with a self-signed certificate.
    pub snakeoil: u32,
    /// A bad certificate is replaced by a valid one.
    pub cert_fix: u32,
    /// A valid certificate lapses (expired).
    pub cert_lapse: u32,
    /// An expired certificate is renewed.
    pub cert_renew: u32,
}

/// `realistic` (module docs: sources).
pub const REALISTIC_RATES: Rates = Rates {
    appear: 2_400,
    disappear: 100,
    dns_break: 30,
    dns_fix: 30_000,
    layout_fix: 5_000,
    migrate: 500,
    gain_mail: 100,
    lose_mail: 15,
    sts_adopt: 40,
    tlsrpt_with_sts: 50_000,
    refresh_after_migration: 60_000,
    refresh_keeps_id: 10_000,
    sts_drop: 400,
    sts_fix: 8_000,
    sts_break: 800,
    enforce: 2_500,
    relax: 300,
    mode_keeps_id: 15_000,
    edit_new_id: 1_000,
    edit_same_id: 300,
    id_only: 300,
    tlsrpt_adopt: 20,
    tlsrpt_drop: 300,
    tlsrpt_break: 300,
    tlsrpt_fix: 5_000,
    starttls_adopt: 800,
    snakeoil: 30_000,
    cert_fix: 600,
    cert_lapse: 500,
    cert_renew: 3_000,
};

/// `stress`: every event frequent.
pub const STRESS_RATES: Rates = Rates {
    appear: 30_000,
    disappear: 3_000,
    dns_break: 3_000,
    dns_fix: 40_000,
    layout_fix: 30_000,
    migrate: 8_000,
    gain_mail: 10_000,
    lose_mail: 2_000,
    sts_adopt: 30_000,
    tlsrpt_with_sts: 50_000,
    refresh_after_migration: 50_000,
    refresh_keeps_id: 30_000,
    sts_drop: 4_000,
    sts_fix: 30_000,
    sts_break: 8_000,
    enforce: 20_000,
    relax: 10_000,
    mode_keeps_id: 40_000,
    edit_new_id: 10_000,
    edit_same_id: 10_000,
    id_only: 6_000,
    tlsrpt_adopt: 30_000,
    tlsrpt_drop: 4_000,
    tlsrpt_break: 8_000,
    tlsrpt_fix: 30_000,
    starttls_adopt: 15_000,
    snakeoil: 30_000,
    cert_fix: 15_000,
    cert_lapse: 8_000,
    cert_renew: 40_000,
};

/// The rates of a profile.
pub fn rates(profile: Profile) -> &'static Rates {
    match profile {
        Profile::Realistic => &REALISTIC_RATES,
        Profile::Stress => &STRESS_RATES,
    }
}

/// Where a migrating (or repaired, or newly mailing) domain goes, over
/// [`DnsScenario::ALL`], in `realistic`: half to a big provider.
const REALISTIC_MIGRATION: [u32; 14] = [
    0,     // nxdomain
    0,     // servfail
    0,     // timeout
    0,     // no_mail_host
    0,     // null_mx
    0,     // implicit_mx
    2_000, // mx_dedicated
    200,   // mx_multi_pref
    0,     // mx_unresolved
    0,     // mx_private
    300,   // mx_cname
    5_000, // mx_big_provider
    1_500, // mx_hoster_shared
    1_000, // mx_hoster_named
];

/// `stress`: every live layout.
const STRESS_MIGRATION: [u32; 14] = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

/// The scenario's MTA-STS setup works: a policy is served and parses (the mode and the
/// MX coverage decide delivery). The MTA-STS states of a domain are an *intent* (one of
/// these) and, at times, a *fault* (any other published scenario) that hides it.
pub fn is_sts_intent(s: StsScenario) -> bool {
    use StsScenario as S;
    matches!(
        s,
        S::Enforce
            | S::Testing
            | S::ModeNone
            | S::PolicyLf
            | S::Wildcard
            | S::MxNotCovered
            | S::EnforceMxInsecure
            | S::ContentTypeHtml
            | S::TxtHuge
    )
}

/// Intents that enforce (the `relax` event moves them to `testing`).
fn is_enforcing(s: StsScenario) -> bool {
    use StsScenario as S;
    matches!(
        s,
        S::Enforce | S::PolicyLf | S::Wildcard | S::ContentTypeHtml | S::TxtHuge
    )
}

fn is_live(d: DnsScenario) -> bool {
    !matches!(
        d,
        DnsScenario::Nxdomain | DnsScenario::Servfail | DnsScenario::Timeout
    )
}

fn is_mail(d: DnsScenario) -> bool {
    d == DnsScenario::ImplicitMx || d.has_mx_layout()
}

/// A uniform decision with probability `per_100k` / 100,000 (high bits of `x`).
fn chance(x: u64, per_100k: u32) -> bool {
    ((u128::from(x) * 100_000) >> 64) < u128::from(per_100k)
}

/// Independent sub-decisions of one step hash.
fn sub(x: u64, k: u64) -> u64 {
    fmix64(x ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The hash of step `k` (1-based) of a walk whose base hash is `base`.
pub fn step_hash(base: u64, k: u32) -> u64 {
    fmix64(base ^ u64::from(k).wrapping_mul(0xd6e8_feb8_6659_fd93))
}

/// Pick from `all` with `weights`, keeping only the entries `keep` allows (at least one
/// must have weight).
fn pick_masked<T: Copy>(h: u64, all: &[T], weights: &[u32], keep: impl Fn(T) -> bool) -> T {
    let w: Vec<u32> = all
        .iter()
        .zip(weights)
        .map(|(v, &w)| if keep(*v) { w } else { 0 })
        .collect();
    all[pick_weighted(h, &w)]
}

/// The state of one domain at an epoch (see module docs). Its visible scenario is
/// [`DomainState::scenario`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainState {
    /// The name exists (false: NXDOMAIN).
    pub alive: bool,
    /// The domain's DNS layout when it is up: never `nxdomain`, `servfail` or `timeout`.
    pub layout: DnsScenario,
    /// An apex outage (`servfail` / `timeout`) hiding the layout.
    pub dns_fault: Option<DnsScenario>,
    /// An `_mta-sts` record is published.
    pub sts_on: bool,
    /// The setup the operator means to run ([`is_sts_intent`]).
    pub sts_intent: StsScenario,
    /// What is broken about it, if anything (a non-intent scenario).
    pub sts_fault: Option<StsScenario>,
    /// How many times the `id=` changed since epoch 0.
    pub sts_id_rev: u32,
    /// How many times the policy body was rewritten since epoch 0 (`max_age` cycles).
    pub policy_rev: u32,
    /// The DNS layout whose MX the policy's `mx` lines list (stale after a migration
    /// without refresh).
    pub policy_layout: DnsScenario,
    /// A `_smtp._tls` record is published.
    pub tlsrpt_on: bool,
    /// Its intended form (`mailto` / `https`).
    pub tlsrpt_intent: TlsRptScenario,
    /// What is broken about it, if anything.
    pub tlsrpt_fault: Option<TlsRptScenario>,
}

impl DomainState {
    /// The state at epoch 0, read off the epoch-0 scenario (`h`: the domain's walk hash,
    /// for what the scenario does not say, e.g. the layout of an NXDOMAIN name if it
    /// ever appears). Its [`DomainState::scenario`] is `sc0`.
    pub fn initial(sc0: DomainScenario, profile: Profile, h: u64) -> DomainState {
        let (sts_intent, sts_fault) = match sc0.sts {
            s if is_sts_intent(s) => (s, None),
            StsScenario::None => (draw_intent(profile, sub(h, 2)), None),
            s => (draw_intent(profile, sub(h, 2)), Some(s)),
        };
        let (tlsrpt_intent, tlsrpt_fault) = match sc0.tlsrpt {
            t @ (TlsRptScenario::Mailto | TlsRptScenario::Https) => (t, None),
            TlsRptScenario::None => (draw_tlsrpt(profile, sub(h, 3)), None),
            t => (draw_tlsrpt(profile, sub(h, 3)), Some(t)),
        };
        DomainState {
            alive: sc0.dns != DnsScenario::Nxdomain,
            layout: if is_live(sc0.dns) {
                sc0.dns
            } else {
                draw_live(profile, sub(h, 1))
            },
            dns_fault: matches!(sc0.dns, DnsScenario::Servfail | DnsScenario::Timeout)
                .then_some(sc0.dns),
            sts_on: sc0.sts != StsScenario::None,
            sts_intent,
            sts_fault,
            sts_id_rev: 0,
            policy_rev: 0,
            policy_layout: sc0.dns,
            tlsrpt_on: sc0.tlsrpt != TlsRptScenario::None,
            tlsrpt_intent,
            tlsrpt_fault,
        }
    }

    /// The visible scenario.
    pub fn scenario(&self) -> DomainScenario {
        if !self.alive {
            return DomainScenario {
                dns: DnsScenario::Nxdomain,
                sts: StsScenario::None,
                tlsrpt: TlsRptScenario::None,
            };
        }
        DomainScenario {
            dns: self.dns_fault.unwrap_or(self.layout),
            sts: if self.sts_on {
                self.sts_fault.unwrap_or(self.sts_intent)
            } else {
                StsScenario::None
            },
            tlsrpt: if self.tlsrpt_on {
                self.tlsrpt_fault.unwrap_or(self.tlsrpt_intent)
            } else {
                TlsRptScenario::None
            },
        }
    }

    /// `enforce_mx_insecure` keeps its `mx_dedicated` layout with insecure hosts (the
    /// catalogue's coherence rule): no migration, outage or disappearance, and no other
    /// event than relaxing to `testing` (which lifts the lock), edits and id bumps.
    fn locked(&self) -> bool {
        self.sts_on && self.sts_intent == StsScenario::EnforceMxInsecure
    }

    /// Move one step (one month) with the step hash `x`.
    pub fn step(&mut self, x: u64, profile: Profile) {
        let r = rates(profile);
        if !self.alive {
            if chance(sub(x, 1), r.appear) {
                self.alive = true;
                self.layout = draw_live(profile, sub(x, 2));
                self.dns_fault = None;
            }
            return;
        }
        let locked = self.locked();
        if !locked && chance(sub(x, 1), r.disappear) {
            self.alive = false;
            self.sts_on = false;
            self.sts_fault = None;
            self.tlsrpt_on = false;
            self.tlsrpt_fault = None;
            return;
        }

        // DNS.
        let before = self.layout;
        if self.dns_fault.is_some() {
            if chance(sub(x, 3), r.dns_fix) {
                self.dns_fault = None;
            }
        } else if !locked && chance(sub(x, 3), r.dns_break) {
            self.dns_fault = Some(pick_masked(
                sub(x, 4),
                DnsScenario::ALL,
                profile.dns_weights(),
                |d| matches!(d, DnsScenario::Servfail | DnsScenario::Timeout),
            ));
        } else if !locked {
            let p = match self.layout {
                DnsScenario::MxUnresolved | DnsScenario::MxPrivate => r.layout_fix,
                DnsScenario::NoMailHost => r.gain_mail,
                DnsScenario::NullMx => 0,
                _ => r.migrate,
            };
            if chance(sub(x, 5), p) {
                self.layout = draw_migration(profile, sub(x, 6), self.layout);
            } else if is_mail(self.layout) && chance(sub(x, 7), r.lose_mail) {
                self.layout = DnsScenario::NoMailHost;
            }
        }
        let migrated = self.layout != before;

        // MTA-STS.
        if !self.sts_on {
            if chance(sub(x, 8), r.sts_adopt) {
                let s = pick_masked(sub(x, 9), StsScenario::ALL, profile.sts_weights(), |s| {
                    s != StsScenario::None
                });
                if is_sts_intent(s) {
                    self.sts_intent = normalise_intent(s);
                    self.sts_fault = None;
                } else {
                    self.sts_intent = draw_intent(profile, sub(x, 10));
                    self.sts_fault = Some(s);
                }
                self.sts_on = true;
                self.sts_id_rev += 1;
                self.policy_rev += 1;
                self.policy_layout = self.layout;
                if !self.tlsrpt_on && chance(sub(x, 11), r.tlsrpt_with_sts) {
                    self.tlsrpt_on = true;
                    self.tlsrpt_fault = None;
                }
            }
        } else if migrated {
            if chance(sub(x, 12), r.refresh_after_migration) {
                self.policy_rev += 1;
                self.policy_layout = self.layout;
                if !chance(sub(x, 13), r.refresh_keeps_id) {
                    self.sts_id_rev += 1;
                }
            }
        } else if locked {
            if chance(sub(x, 14), r.relax) {
                self.sts_intent = StsScenario::Testing;
                self.mode_changed(x, r);
            } else {
                self.edit(x, r);
            }
        } else if chance(sub(x, 15), r.sts_drop) {
            if self.sts_fault.is_none()
                && self.sts_intent != StsScenario::ModeNone
                && chance(sub(x, 16), 50_000)
            {
                // RFC 8461 §8.3: publish `mode: none` with a new id first.
                self.sts_intent = StsScenario::ModeNone;
                self.sts_id_rev += 1;
            } else {
                self.sts_on = false;
                self.sts_fault = None;
            }
        } else if self.sts_fault.is_some() {
            if chance(sub(x, 17), r.sts_fix) {
                self.sts_fault = None;
            }
        } else if chance(sub(x, 18), r.sts_break) {
            self.sts_fault = Some(pick_masked(
                sub(x, 19),
                StsScenario::ALL,
                profile.sts_weights(),
                |s| s != StsScenario::None && !is_sts_intent(s),
            ));
        } else if self.sts_intent == StsScenario::Testing && chance(sub(x, 20), r.enforce) {
            self.sts_intent = StsScenario::Enforce;
            self.mode_changed(x, r);
        } else if is_enforcing(self.sts_intent) && chance(sub(x, 20), r.relax) {
            self.sts_intent = StsScenario::Testing;
            self.mode_changed(x, r);
        } else {
            self.edit(x, r);
        }

        // TLS-RPT.
        if self.tlsrpt_on {
            if chance(sub(x, 25), r.tlsrpt_drop) {
                self.tlsrpt_on = false;
                self.tlsrpt_fault = None;
            } else if self.tlsrpt_fault.is_some() {
                if chance(sub(x, 26), r.tlsrpt_fix) {
                    self.tlsrpt_fault = None;
                }
            } else if chance(sub(x, 27), r.tlsrpt_break) {
                self.tlsrpt_fault = Some(pick_masked(
                    sub(x, 28),
                    TlsRptScenario::ALL,
                    profile.tlsrpt_weights(),
                    |t| {
                        !matches!(
                            t,
                            TlsRptScenario::None | TlsRptScenario::Mailto | TlsRptScenario::Https
                        )
                    },
                ));
            }
        } else if chance(sub(x, 29), r.tlsrpt_adopt) {
            self.tlsrpt_on = true;
            self.tlsrpt_fault = None;
        }
    }

    /// A mode change: a new id unless the operator forgets (`mode_keeps_id`).
    fn mode_changed(&mut self, x: u64, r: &Rates) {
        if !chance(sub(x, 21), r.mode_keeps_id) {
            self.sts_id_rev += 1;
        }
    }

    /// Edits of a working policy: rewritten with a new id, rewritten with the old id, or
    /// only the id bumped. A rewrite lists the current MX (which repairs `mx_not_covered`).
    fn edit(&mut self, x: u64, r: &Rates) {
        let rewrite = |s: &mut DomainState| {
            s.policy_rev += 1;
            s.policy_layout = s.layout;
            if s.sts_intent == StsScenario::MxNotCovered {
                s.sts_intent = StsScenario::Enforce;
            }
        };
        if chance(sub(x, 22), r.edit_new_id) {
            rewrite(self);
            self.sts_id_rev += 1;
        } else if chance(sub(x, 23), r.edit_same_id) {
            rewrite(self);
        } else if chance(sub(x, 24), r.id_only) {
            self.sts_id_rev += 1;
        }
    }
}

/// `mx_not_covered` and `enforce_mx_insecure` are states of the world, not something an
/// adopter sets up: new intents of that kind start as `enforce`.
fn normalise_intent(s: StsScenario) -> StsScenario {
    match s {
        StsScenario::MxNotCovered | StsScenario::EnforceMxInsecure => StsScenario::Enforce,
        s => s,
    }
}

fn draw_intent(profile: Profile, h: u64) -> StsScenario {
    normalise_intent(pick_masked(
        h,
        StsScenario::ALL,
        profile.sts_weights(),
        is_sts_intent,
    ))
}

fn draw_tlsrpt(profile: Profile, h: u64) -> TlsRptScenario {
    pick_masked(h, TlsRptScenario::ALL, profile.tlsrpt_weights(), |t| {
        matches!(t, TlsRptScenario::Mailto | TlsRptScenario::Https)
    })
}

fn draw_live(profile: Profile, h: u64) -> DnsScenario {
    pick_masked(h, DnsScenario::ALL, profile.dns_weights(), is_live)
}

fn draw_migration(profile: Profile, h: u64, from: DnsScenario) -> DnsScenario {
    let table: &[u32] = match profile {
        Profile::Realistic => &REALISTIC_MIGRATION,
        Profile::Stress => &STRESS_MIGRATION,
    };
    pick_masked(h, DnsScenario::ALL, table, |d| d != from)
}

/// One step of a host's class: STARTTLS adoption, certificate repair, lapse and renewal
/// (module docs). The world keeps a host within the classes its MX plan allows
/// (`world::Role`) by ignoring steps that leave them.
pub fn host_step(class: SmtpClass, x: u64, rates: &Rates) -> SmtpClass {
    use SmtpClass as C;
    match class {
        C::NoStarttls | C::Starttls454 | C::Starttls502
            if chance(sub(x, 1), rates.starttls_adopt) =>
        {
            if chance(sub(x, 2), rates.snakeoil) {
                C::CertSelfSigned
            } else {
                C::StarttlsValid
            }
        }
        C::CertSelfSigned
        | C::CertWrongName
        | C::CertUnknownIssuer
        | C::CertIncompleteChain
        | C::AiaIncompleteChain
        | C::AiaTarpit
        | C::AiaLoop
        | C::CertNotYetValid
            if chance(sub(x, 3), rates.cert_fix) =>
        {
            C::StarttlsValid
        }
        C::CertExpired if chance(sub(x, 4), rates.cert_renew) => C::StarttlsValid,
        c if c.is_legacy_tls() && chance(sub(x, 6), rates.cert_fix) => C::StarttlsValid,
        C::StarttlsValid if chance(sub(x, 5), rates.cert_lapse) => C::CertExpired,
        c => c,
    }
}

/// How many times a certificate renewed every `period` epochs (phase from `h`) has been
/// re-issued between epoch 0 and `epoch` (0 at epoch 0).
pub fn renewals(epoch: u32, period: u32, h: u64) -> u32 {
    let period = period.max(1);
    let phase = (h % u64::from(period)) as u32;
    (epoch + phase) / period - phase / period
}

/// The renewal period (epochs) of a host's or site's certificate (module docs).
pub fn renewal_period(profile: Profile, h: u64) -> u32 {
    match profile {
        Profile::Realistic => {
            if chance(h, 70_000) {
                2
            } else {
                12
            }
        }
        Profile::Stress => 1 + (h >> 40) as u32 % 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::stable_hash_u64;

    fn all_scenarios() -> impl Iterator<Item = DomainScenario> {
        DnsScenario::ALL.iter().flat_map(|&dns| {
            StsScenario::ALL.iter().flat_map(move |&sts| {
                TlsRptScenario::ALL
                    .iter()
                    .map(move |&tlsrpt| DomainScenario { dns, sts, tlsrpt })
            })
        })
    }

    #[test]
    fn initial_state_shows_the_epoch_0_scenario() {
        for (i, sc) in all_scenarios().enumerate() {
            // Only coherent epoch-0 scenarios exist (world::scenario's rules).
            if sc.dns == DnsScenario::Nxdomain
                && (sc.sts != StsScenario::None || sc.tlsrpt != TlsRptScenario::None)
            {
                continue;
            }
            for p in Profile::ALL {
                let st = DomainState::initial(sc, *p, stable_hash_u64(1, "t", i as u64));
                assert_eq!(st.scenario(), sc);
                assert_eq!(st.policy_layout, sc.dns);
            }
        }
    }

    #[test]
    fn walks_stay_coherent() {
        for p in Profile::ALL {
            for i in 0..2_000u64 {
                let sc = DomainScenario {
                    dns: DnsScenario::MxDedicated,
                    sts: StsScenario::ALL[(i % 28) as usize],
                    tlsrpt: TlsRptScenario::ALL[(i % 7) as usize],
                };
                let mut st = DomainState::initial(sc, *p, i);
                for k in 1..=40 {
                    st.step(step_hash(i, k), *p);
                    let v = st.scenario();
                    assert!(is_live(st.layout));
                    if v.dns == DnsScenario::Nxdomain {
                        assert_eq!(v.sts, StsScenario::None);
                        assert_eq!(v.tlsrpt, TlsRptScenario::None);
                    }
                    if v.sts == StsScenario::EnforceMxInsecure {
                        assert_eq!(v.dns, DnsScenario::MxDedicated);
                    }
                    assert!(is_sts_intent(st.sts_intent));
                    if let Some(f) = st.sts_fault {
                        assert!(!is_sts_intent(f) && f != StsScenario::None);
                    }
                }
            }
        }
    }

    #[test]
    fn renewal_schedule() {
        for h in 0..50u64 {
            for period in 1..=12 {
                assert_eq!(renewals(0, period, h), 0);
                let mut last = 0;
                for e in 1..=36 {
                    let n = renewals(e, period, h);
                    assert!(n == last || n == last + 1, "{period} {e}");
                    last = n;
                }
                assert_eq!(last, (36 + (h % period as u64) as u32) / period);
            }
        }
    }

    #[test]
    fn chance_is_calibrated() {
        let hits = (0..100_000u64)
            .filter(|&i| chance(stable_hash_u64(3, "c", i), 2_500))
            .count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
        assert!(!chance(u64::MAX, 0));
        assert!(chance(0, 1));
    }
}
