//! The world: a procedural mail internet computed from `(seed, name)`.
//!
//! Nothing is stored per domain. Every answer — a DNS record, an SMTP host's behaviour, an
//! HTTPS site, the ground truth — is computed from the name asked about (or the address
//! dialled) with [`crate::hash::stable_hash`] and the profile's weights, so a world of a
//! million domains costs the same memory as a world of ten (a 40-entry hoster table).
//!
//! # Names
//!
//! The DNS model ([`World::node`]) answers for every name by its shape:
//!
//! | name | meaning |
//! |---|---|
//! | `bigmailN.test`, `hosterN.test` and below | provider zones (`provider` module) |
//! | `_mta-sts.D` | the MTA-STS TXT record of domain D |
//! | `_smtp._tls.D` | the TLS-RPT TXT record of D |
//! | `mta-sts.D` | the MTA-STS policy host of D (A in 127.3/16, or 127.2/16 when it resets) |
//! | `mx.D`, `mail.D`, `mx1.D`–`mx3.D`, `in1.D` | a host of D *if D's MX plan defines that name*; otherwise the name is a domain of its own |
//! | `aia.testbed.test`, `aia-tarpit.testbed.test`, `aia-loop-a.testbed.test`, `aia-loop-b.testbed.test` | the AIA caIssuers hosts (A in 127.4.0.0/24, `aia` module) |
//! | anything else | a domain, whose scenario is `hash(seed, name)` |
//!
//! A listed domain that looks like a host of its parent (say `mail.example.com` while
//! `example.com`'s plan has an MX `mail.example.com`) is answered as that host, for every
//! query type: the DNS must be one consistent tree. The ground truth resolves through the
//! same model, so it stays right; synthetic lists never contain such names.
//!
//! DNS failures of a domain (`servfail`, `timeout`) affect the queries at its apex (MX, A,
//! AAAA, …); `_mta-sts.D` and friends answer per their own scenarios. An `nxdomain` domain
//! has nothing below it. The world is IPv4-only: AAAA queries get NODATA.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::addr::{self, AddrKind};
use crate::behaviour::{
    Behaviours, CertDefect, CertNames, CertSpec, Conversation, EhloReply, HttpsSite, LegacyTls,
    SmtpHost, SmtpScript, StarttlsReply, TlsBehaviour,
};
use crate::epoch::{self, DomainState};
use crate::hash::{pick_weighted, stable_hash, stable_hash_u64};
use crate::profile::{LatencyConfig, Profile};
use crate::provider::{self, Hoster, ProviderName};
use crate::scenario::{DnsScenario, DomainScenario, SmtpClass, StsScenario, TlsRptScenario};

/// TTL of every positive record.
pub const TTL: u32 = 300;
/// Negative-caching TTL (SOA minimum).
pub const NEGATIVE_TTL: u32 = 300;
/// Name in the certificate of `cert_wrong_name` hosts and sites.
pub const WRONG_CERT_NAME: &str = "wrong-name.testbed.test";
/// Bytes the `starttls_injection` hosts send after their STARTTLS `220`.
pub const INJECTED_BYTES: &[u8] = b"250-INJECTED-AFTER-STARTTLS\r\n";
/// Size of the EHLO padding of `ehlo_oversized` hosts (≥ 1 MiB).
pub const OVERSIZED_EHLO_BYTES: usize = 1_100_000;

/// How a world is made.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldConfig {
    /// The seed: same seed, same world.
    pub seed: u64,
    /// Scenario weights.
    pub profile: Profile,
    /// Latency injection (default: none).
    pub latency: LatencyConfig,
    /// Greeting delay of `greet_delay` hosts (default 6 s, postscreen-like).
    pub greet_delay: Duration,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            profile: Profile::Realistic,
            latency: LatencyConfig::default(),
            greet_delay: Duration::from_secs(6),
        }
    }
}

/// What an MX exchange leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTarget {
    /// A dedicated host (its own address; certificate for the SNI name).
    Dedicated { class: SmtpClass, addr: Ipv4Addr },
    /// The exchange is a CNAME to `target`, a dedicated host.
    Cname {
        target: String,
        class: SmtpClass,
        addr: Ipv4Addr,
    },
    /// A shared provider / hoster address.
    Shared { addr: Ipv4Addr },
    /// A private address (never served; the scanner must block it).
    Private { addr: Ipv4Addr },
    /// The exchange does not exist (NXDOMAIN).
    Unresolved,
}

/// One MX record of a domain's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxPlan {
    /// Exchange name (lowercase, no trailing dot).
    pub exchange: String,
    /// MX preference.
    pub preference: u16,
    /// Where it leads.
    pub target: HostTarget,
}

/// A node of the DNS tree as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// The server does not answer queries for this name.
    NoReply,
    /// SERVFAIL for every query type.
    ServFail,
    /// The name does not exist; `zone` is the apex of the enclosing zone (for the SOA).
    NxDomain { zone: String },
    /// The name exists.
    Data(NodeData),
}

/// The records of an existing name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeData {
    /// Apex of the enclosing zone (SOA owner).
    pub zone: String,
    /// Whether this name is the zone apex (answers SOA and NS).
    pub apex: bool,
    /// A CNAME (then no other data).
    pub cname: Option<String>,
    /// A records.
    pub a: Vec<Ipv4Addr>,
    /// MX records; an empty exchange is the root (null MX).
    pub mx: Vec<(u16, String)>,
    /// TXT records, each a list of character-strings.
    pub txt: Vec<Vec<String>>,
}

/// The query types the model knows; everything else gets NODATA at existing names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    /// A.
    A,
    /// AAAA (always NODATA: the world is IPv4-only).
    Aaaa,
    /// MX.
    Mx,
    /// TXT.
    Txt,
    /// CNAME.
    Cname,
    /// SOA.
    Soa,
    /// NS.
    Ns,
    /// Any other type (by number).
    Other(u16),
}

/// Response code of a model answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    /// NOERROR (with data, or NODATA).
    NoError,
    /// NXDOMAIN.
    NxDomain,
    /// SERVFAIL.
    ServFail,
}

/// Record data in a model answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RrData {
    /// An address.
    A(Ipv4Addr),
    /// Preference and exchange ("" = root).
    Mx(u16, String),
    /// Character-strings of one TXT record.
    Txt(Vec<String>),
    /// Alias target.
    Cname(String),
    /// The zone's SOA (fixed fields, see `dns`).
    Soa,
    /// A name server.
    Ns(String),
}

/// One record of a model answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name (lowercase, no trailing dot).
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Data.
    pub data: RrData,
}

/// The model's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No reply (the `timeout` scenario).
    NoReply,
    /// A reply.
    Answer {
        /// Response code.
        rcode: Rcode,
        /// Answer section (CNAME chain first, then the records of the final name).
        answers: Vec<Rr>,
        /// For negative answers (NXDOMAIN, NODATA): the zone whose SOA goes in the authority
        /// section.
        soa_zone: Option<String>,
    },
}

impl Lookup {
    /// The A records of an answer (after CNAMEs).
    pub fn addresses(&self) -> Vec<Ipv4Addr> {
        match self {
            Lookup::Answer { answers, .. } => answers
                .iter()
                .filter_map(|rr| match rr.data {
                    RrData::A(a) => Some(a),
                    _ => None,
                })
                .collect(),
            Lookup::NoReply => Vec::new(),
        }
    }
}

/// Host labels that may name a host of the parent domain (see module docs).
const HOST_LABELS: &[&str] = &["mx", "mail", "mx1", "mx2", "mx3", "in1"];

/// Whether the first label of a name is one the world uses for hosts of the parent (the
/// synthetic list generator avoids such names).
pub fn has_host_label(name: &str) -> bool {
    name.split_once('.')
        .is_some_and(|(first, _)| HOST_LABELS.contains(&first) || first == "mta-sts")
}

/// Everything after the first label ("" for a single label = the root zone).
fn parent(name: &str) -> &str {
    name.split_once('.').map_or("", |(_, rest)| rest)
}

/// The world. Cheap to share (`Arc<World>`); all methods take `&self`.
///
/// A world has an epoch (module `epoch`): 0 unless set with [`World::with_epoch`] or moved
/// with [`World::set_epoch`]. Every answer is a pure function of `(seed, name, epoch)`.
#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    hosters: Vec<Hoster>,
    /// The current epoch. Atomic so that a running testbed can move its world in time
    /// between two scans ([`World::set_epoch`]); an answer computed while the epoch moves
    /// may mix the two epochs.
    epoch: AtomicU32,
}

impl Clone for World {
    fn clone(&self) -> Self {
        World {
            config: self.config.clone(),
            hosters: self.hosters.clone(),
            epoch: AtomicU32::new(self.epoch()),
        }
    }
}

/// The MTA-STS revision of a domain at an epoch: how often its `id=` and its policy body
/// changed since epoch 0, and the DNS layout whose MX the policy lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StsRevision {
    /// `id=` changes since epoch 0.
    pub id: u32,
    /// Policy rewrites since epoch 0.
    pub policy: u32,
    /// The layout the policy's `mx` lines were written for.
    pub layout: DnsScenario,
}

impl World {
    /// Build a world at epoch 0 (allocates only the 40-entry hoster table).
    pub fn new(config: WorldConfig) -> Self {
        let hosters = provider::hosters(config.seed, config.profile);
        Self {
            config,
            hosters,
            epoch: AtomicU32::new(0),
        }
    }

    /// The same world at `epoch` (0 = the world of `hash(seed, name)`; module `epoch`).
    pub fn with_epoch(self, epoch: u32) -> Self {
        self.set_epoch(epoch);
        self
    }

    /// The current epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Move the world to `epoch` (a running testbed: between two scans).
    pub fn set_epoch(&self, epoch: u32) {
        self.epoch.store(epoch, Ordering::Relaxed);
    }

    /// The configuration.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    pub(crate) fn hash(&self, tag: &str, name: &str) -> u64 {
        stable_hash(self.config.seed, tag, name)
    }

    /// The hoster table.
    pub fn hosters(&self) -> &[Hoster] {
        &self.hosters
    }

    /// The scenario of a domain (lowercase, no trailing dot), with the coherence rules of
    /// the `scenario` module: `nxdomain` publishes nothing, `enforce_mx_insecure` forces
    /// `mx_dedicated`.
    pub fn scenario(&self, domain: &str) -> DomainScenario {
        match self.epoch() {
            0 => self.scenario_at_0(domain),
            e => self.state_at(domain, e).scenario(),
        }
    }

    /// The evolving state of a domain at the current epoch (module `epoch`).
    pub fn state(&self, domain: &str) -> DomainState {
        self.state_at(domain, self.epoch())
    }

    fn state_at(&self, domain: &str, epoch: u32) -> DomainState {
        let p = self.config.profile;
        let h = self.hash("epoch", domain);
        let mut st = DomainState::initial(self.scenario_at_0(domain), p, h);
        for k in 1..=epoch {
            st.step(epoch::step_hash(h, k), p);
        }
        st
    }

    /// The MTA-STS revision of a domain at the current epoch (all zero at epoch 0).
    pub fn sts_revision(&self, domain: &str) -> StsRevision {
        match self.epoch() {
            0 => StsRevision {
                id: 0,
                policy: 0,
                layout: self.scenario_at_0(domain).dns,
            },
            e => {
                let st = self.state_at(domain, e);
                StsRevision {
                    id: st.sts_id_rev,
                    policy: st.policy_rev,
                    layout: st.policy_layout,
                }
            }
        }
    }

    /// The scenario at epoch 0: `hash(seed, name)` and the profile's weights.
    fn scenario_at_0(&self, domain: &str) -> DomainScenario {
        let p = self.config.profile;
        let mut dns = DnsScenario::ALL[pick_weighted(self.hash("dns", domain), p.dns_weights())];
        let mut sts = StsScenario::ALL[pick_weighted(self.hash("sts", domain), p.sts_weights())];
        let mut tlsrpt =
            TlsRptScenario::ALL[pick_weighted(self.hash("tlsrpt", domain), p.tlsrpt_weights())];
        if sts == StsScenario::EnforceMxInsecure {
            dns = DnsScenario::MxDedicated;
        }
        if dns == DnsScenario::Nxdomain {
            sts = StsScenario::None;
            tlsrpt = TlsRptScenario::None;
        }
        DomainScenario { dns, sts, tlsrpt }
    }

    fn dedicated(&self, name: &str, class: SmtpClass) -> HostTarget {
        HostTarget::Dedicated {
            class,
            addr: addr::dedicated_addr(class, self.hash("addr", name)),
        }
    }

    /// The class of a dedicated host, drawn with the profile's weights restricted by `role`.
    fn host_class(&self, name: &str, role: Role) -> SmtpClass {
        let weights: Vec<u32> = SmtpClass::ALL
            .iter()
            .zip(self.config.profile.smtp_weights())
            .map(|(c, &w)| if role.allows(*c) { w } else { 0 })
            .collect();
        let base = SmtpClass::ALL[pick_weighted(self.hash("smtp", name), &weights)];
        self.drift(base, self.hash("host-drift", name), |c| role.allows(c))
    }

    /// A host class at the current epoch: `base` moved by [`epoch::host_step`] once per
    /// epoch (steps hashed from `h`), ignoring steps to classes `allowed` refuses.
    fn drift(&self, base: SmtpClass, h: u64, allowed: impl Fn(SmtpClass) -> bool) -> SmtpClass {
        let rates = epoch::rates(self.config.profile);
        let mut class = base;
        for k in 1..=self.epoch() {
            let next = epoch::host_step(class, epoch::step_hash(h, k), rates);
            if allowed(next) {
                class = next;
            }
        }
        class
    }

    /// The shared host at `127.1.P.H` at the current epoch (a hoster's class evolves like
    /// a dedicated host's; big providers stay as they are).
    pub fn shared_host(&self, provider: u8, host: u8) -> Option<(SmtpClass, Vec<String>, String)> {
        let (class, names, hostname) = provider::shared_host(&self.hosters, provider, host)?;
        let class = match provider::hoster_index(provider) {
            Some(index) if self.epoch() > 0 => self.drift(
                class,
                stable_hash_u64(self.config.seed, "hoster-drift", index as u64),
                |_| true,
            ),
            _ => class,
        };
        Some((class, names, hostname))
    }

    /// How many times the certificate the host at `local` presents for `sni` has been
    /// renewed since epoch 0 (module `epoch`): 0 at epoch 0 and for certificates with a
    /// defect (an expired, self-signed … certificate is not re-issued).
    pub fn cert_renewal(&self, local: Ipv4Addr, sni: Option<&str>) -> u32 {
        let e = self.epoch();
        if e == 0 {
            return 0;
        }
        let p = self.config.profile;
        let sni = sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase());
        let (defect, key, period) = match addr::classify(local) {
            AddrKind::Dedicated(class) => {
                let [_, b, c, d] = local.octets();
                let key = sni.unwrap_or_else(|| format!("host-{b}-{c}-{d}.testbed.test"));
                let h = self.hash("renewal", &key);
                (class_defect(class), h, epoch::renewal_period(p, h))
            }
            AddrKind::Shared { provider, host } => {
                let Some((class, _, _)) = self.shared_host(provider, host) else {
                    return 0;
                };
                let h = self.hash("renewal", &local.to_string());
                let period = if provider::hoster_index(provider).is_some() {
                    epoch::renewal_period(p, h)
                } else {
                    3
                };
                (class_defect(class), h, period)
            }
            AddrKind::Https => {
                let HttpsSite::Serve { cert, .. } = self.https_site(local, sni.as_deref()) else {
                    return 0;
                };
                let key = sni.unwrap_or_default();
                let h = self.hash("renewal", &key);
                (cert.defect, h, epoch::renewal_period(p, h))
            }
            _ => return 0,
        };
        if defect == CertDefect::None {
            epoch::renewals(e, period, key)
        } else {
            0
        }
    }

    fn dedicated_mx(&self, domain: &str, label: &str, preference: u16, role: Role) -> MxPlan {
        let exchange = format!("{label}.{domain}");
        let class = self.host_class(&exchange, role);
        MxPlan {
            target: self.dedicated(&exchange, class),
            exchange,
            preference,
        }
    }

    /// The dedicated host of an `implicit_mx` domain: its class and address.
    pub fn implicit_host(&self, domain: &str) -> (SmtpClass, Ipv4Addr) {
        let class = self.host_class(domain, Role::Any);
        (
            class,
            addr::dedicated_addr(class, self.hash("addr", domain)),
        )
    }

    /// The MX plan of a domain, sorted by preference then exchange (RFC 5321 §5.1). Empty
    /// for scenarios without MX records.
    pub fn mx_plan(&self, domain: &str, scenario: &DomainScenario) -> Vec<MxPlan> {
        let seed = self.config.seed;
        let h = self.hash("layout", domain);
        let mut plan = match scenario.dns {
            DnsScenario::MxDedicated => {
                let role = if scenario.sts == StsScenario::EnforceMxInsecure {
                    Role::Insecure
                } else {
                    Role::Any
                };
                let n = match h % 10 {
                    0..=5 => 1,
                    6..=8 => 2,
                    _ => 3,
                };
                let equal = (h >> 8) & 3 == 0;
                (1..=n)
                    .map(|i| {
                        let pref = if equal { 10 } else { 10 * i };
                        self.dedicated_mx(domain, &format!("mx{i}"), pref, role)
                    })
                    .collect()
            }
            DnsScenario::MxMultiPref => vec![
                self.dedicated_mx(domain, "mx1", 10, Role::Broken),
                self.dedicated_mx(domain, "mx2", 20, Role::Good),
                self.dedicated_mx(domain, "mx3", 30, Role::Any),
            ],
            DnsScenario::MxUnresolved | DnsScenario::MxPrivate | DnsScenario::MxCname => {
                let exchange = format!("mx1.{domain}");
                let target = match scenario.dns {
                    DnsScenario::MxUnresolved => HostTarget::Unresolved,
                    DnsScenario::MxPrivate => HostTarget::Private {
                        addr: addr::private_addr(self.hash("private", domain)),
                    },
                    _ => {
                        let target = format!("in1.{domain}");
                        let class = self.host_class(&target, Role::Any);
                        HostTarget::Cname {
                            addr: addr::dedicated_addr(class, self.hash("addr", &target)),
                            target,
                            class,
                        }
                    }
                };
                let mut plan = vec![MxPlan {
                    exchange,
                    preference: 10,
                    target,
                }];
                if h & 1 == 1 {
                    plan.push(self.dedicated_mx(domain, "mx2", 20, Role::Any));
                }
                plan
            }
            DnsScenario::MxBigProvider => provider::big_provider_mx(seed, domain)
                .into_iter()
                .map(|(exchange, preference, addr)| MxPlan {
                    exchange,
                    preference,
                    target: HostTarget::Shared { addr },
                })
                .collect(),
            DnsScenario::MxHosterShared | DnsScenario::MxHosterNamed => {
                let (exchange, preference, addr) = if scenario.dns == DnsScenario::MxHosterShared {
                    provider::hoster_shared_mx(seed, &self.hosters, domain)
                } else {
                    provider::hoster_named_mx(seed, &self.hosters, domain)
                };
                vec![MxPlan {
                    exchange,
                    preference,
                    target: HostTarget::Shared { addr },
                }]
            }
            _ => Vec::new(),
        };
        plan.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        plan
    }

    /// The MX exchanges a domain publishes (in plan order), or `[domain]` for an implicit
    /// MX; used for policy patterns.
    pub fn exchanges(&self, domain: &str, scenario: &DomainScenario) -> Vec<String> {
        if scenario.dns == DnsScenario::ImplicitMx {
            return vec![domain.to_owned()];
        }
        self.mx_plan(domain, scenario)
            .into_iter()
            .map(|m| m.exchange)
            .collect()
    }

    /// If `name` is a host defined by its parent's MX plan, the node for it.
    fn host_node(&self, name: &str) -> Option<Node> {
        let (label, domain) = name.split_once('.')?;
        if !HOST_LABELS.contains(&label) || domain.is_empty() {
            return None;
        }
        let scenario = self.scenario(domain);
        if !scenario.dns.has_mx_layout() {
            return None;
        }
        let zone = domain.to_owned();
        let data = |a: Ipv4Addr| NodeData {
            zone: zone.clone(),
            a: vec![a],
            ..NodeData::default()
        };
        for mx in self.mx_plan(domain, &scenario) {
            if mx.exchange == name {
                return Some(match mx.target {
                    HostTarget::Dedicated { addr, .. }
                    | HostTarget::Shared { addr }
                    | HostTarget::Private { addr } => Node::Data(data(addr)),
                    HostTarget::Cname { target, .. } => Node::Data(NodeData {
                        zone: zone.clone(),
                        cname: Some(target),
                        ..NodeData::default()
                    }),
                    HostTarget::Unresolved => Node::NxDomain { zone: zone.clone() },
                });
            }
            if let HostTarget::Cname { target, addr, .. } = &mx.target
                && target == name
            {
                return Some(Node::Data(data(*addr)));
            }
        }
        None
    }

    /// The node for a name (lowercase, no trailing dot). See the module docs for shapes.
    pub fn node(&self, name: &str) -> Node {
        let seed = self.config.seed;
        if let Some(host) = crate::aia::AiaHost::by_name(name) {
            return Node::Data(NodeData {
                zone: crate::aia::AIA_ZONE.to_owned(),
                a: vec![host.addr()],
                ..NodeData::default()
            });
        }
        if let Some(p) = provider::lookup(seed, &self.hosters, name) {
            return match p {
                ProviderName::Apex { zone } => Node::Data(NodeData {
                    zone,
                    apex: true,
                    ..NodeData::default()
                }),
                ProviderName::Host { zone, addr } => Node::Data(NodeData {
                    zone,
                    a: vec![addr],
                    ..NodeData::default()
                }),
                ProviderName::Missing { zone } => Node::NxDomain { zone },
            };
        }
        if let Some(domain) = name.strip_prefix("_mta-sts.") {
            let sc = self.scenario(domain);
            return match sc.sts {
                StsScenario::None => Node::NxDomain {
                    zone: self.zone_of_missing(domain, &sc),
                },
                StsScenario::TxtServfail => Node::ServFail,
                _ => Node::Data(NodeData {
                    zone: domain.to_owned(),
                    txt: crate::sts::sts_txt_records(self, domain, sc.sts),
                    ..NodeData::default()
                }),
            };
        }
        if let Some(domain) = name.strip_prefix("_smtp._tls.") {
            let sc = self.scenario(domain);
            return match sc.tlsrpt {
                TlsRptScenario::None => Node::NxDomain {
                    zone: self.zone_of_missing(domain, &sc),
                },
                TlsRptScenario::Servfail => Node::ServFail,
                _ => Node::Data(NodeData {
                    zone: domain.to_owned(),
                    txt: crate::sts::tlsrpt_txt_records(domain, sc.tlsrpt),
                    ..NodeData::default()
                }),
            };
        }
        if let Some(domain) = name.strip_prefix("mta-sts.")
            && !domain.is_empty()
        {
            let sc = self.scenario(domain);
            return match sc.sts {
                StsScenario::None | StsScenario::HostNxdomain => Node::NxDomain {
                    zone: self.zone_of_missing(domain, &sc),
                },
                other => Node::Data(NodeData {
                    zone: domain.to_owned(),
                    a: vec![self.policy_host_addr(domain, other)],
                    ..NodeData::default()
                }),
            };
        }
        if let Some(node) = self.host_node(name) {
            return node;
        }
        self.domain_node(name)
    }

    /// Whether the DNS answers `name` as something other than the domain of that name (a
    /// host of its parent, a policy host, a provider name; see module docs).
    pub fn is_shadowed(&self, name: &str) -> bool {
        self.node(name) != self.domain_node(name)
    }

    /// Zone for the SOA of a missing name below `domain`.
    fn zone_of_missing(&self, domain: &str, sc: &DomainScenario) -> String {
        if sc.dns == DnsScenario::Nxdomain {
            parent(domain).to_owned()
        } else {
            domain.to_owned()
        }
    }

    /// The address of `mta-sts.<domain>`.
    pub fn policy_host_addr(&self, domain: &str, sts: StsScenario) -> Ipv4Addr {
        addr::https_addr(sts == StsScenario::Refused, self.hash("https-addr", domain))
    }

    fn domain_node(&self, domain: &str) -> Node {
        let sc = self.scenario(domain);
        let data = |mx: Vec<(u16, String)>, a: Vec<Ipv4Addr>| {
            Node::Data(NodeData {
                zone: domain.to_owned(),
                apex: true,
                mx,
                a,
                ..NodeData::default()
            })
        };
        match sc.dns {
            DnsScenario::Nxdomain => Node::NxDomain {
                zone: parent(domain).to_owned(),
            },
            DnsScenario::Servfail => Node::ServFail,
            DnsScenario::Timeout => Node::NoReply,
            DnsScenario::NoMailHost => data(Vec::new(), Vec::new()),
            DnsScenario::NullMx => data(vec![(0, String::new())], Vec::new()),
            DnsScenario::ImplicitMx => data(Vec::new(), vec![self.implicit_host(domain).1]),
            _ => data(
                self.mx_plan(domain, &sc)
                    .into_iter()
                    .map(|m| (m.preference, m.exchange))
                    .collect(),
                Vec::new(),
            ),
        }
    }

    /// Answer one question like an authoritative server would: CNAMEs are followed (up to
    /// 8) and included; NXDOMAIN / NODATA carry the zone for the SOA.
    pub fn query(&self, name: &str, qtype: QType) -> Lookup {
        let mut answers = Vec::new();
        let mut current = name.to_owned();
        for _ in 0..8 {
            match self.node(&current) {
                Node::NoReply => return Lookup::NoReply,
                Node::ServFail => {
                    return Lookup::Answer {
                        rcode: Rcode::ServFail,
                        answers,
                        soa_zone: None,
                    };
                }
                Node::NxDomain { zone } => {
                    return Lookup::Answer {
                        rcode: Rcode::NxDomain,
                        answers,
                        soa_zone: Some(zone),
                    };
                }
                Node::Data(data) => {
                    if let Some(target) = data.cname.clone()
                        && qtype != QType::Cname
                    {
                        answers.push(Rr {
                            name: current.clone(),
                            ttl: TTL,
                            data: RrData::Cname(target.clone()),
                        });
                        current = target;
                        continue;
                    }
                    let before = answers.len();
                    let rr = |data: RrData| Rr {
                        name: current.clone(),
                        ttl: TTL,
                        data,
                    };
                    match qtype {
                        QType::A => answers.extend(data.a.iter().map(|a| rr(RrData::A(*a)))),
                        QType::Mx => answers
                            .extend(data.mx.iter().map(|(p, e)| rr(RrData::Mx(*p, e.clone())))),
                        QType::Txt => {
                            answers.extend(data.txt.iter().map(|t| rr(RrData::Txt(t.clone()))))
                        }
                        QType::Cname => {
                            if let Some(t) = &data.cname {
                                answers.push(rr(RrData::Cname(t.clone())));
                            }
                        }
                        QType::Soa if data.apex => answers.push(rr(RrData::Soa)),
                        QType::Ns if data.apex => {
                            answers.push(rr(RrData::Ns("ns1.testbed.test".to_owned())))
                        }
                        _ => {}
                    }
                    let soa_zone = (answers.len() == before).then_some(data.zone);
                    return Lookup::Answer {
                        rcode: Rcode::NoError,
                        answers,
                        soa_zone,
                    };
                }
            }
        }
        Lookup::Answer {
            rcode: Rcode::ServFail,
            answers: Vec::new(),
            soa_zone: None,
        }
    }

    /// Simulated rtt of an address.
    pub fn rtt(&self, addr: Ipv4Addr) -> Duration {
        self.config
            .latency
            .rtt_for_hash(stable_hash(self.config.seed, "rtt", &addr.to_string()))
    }

    /// The SMTP host of a class with these certificate names.
    pub fn host_for_class(
        &self,
        class: SmtpClass,
        names: CertNames,
        hostname: String,
        rtt: Duration,
    ) -> SmtpHost {
        let names = if class == SmtpClass::CertWrongName {
            CertNames::Fixed(vec![WRONG_CERT_NAME.to_owned()])
        } else {
            names
        };
        let defect = class_defect(class);
        let spec = CertSpec { names, defect };
        let mut conv = Conversation::well_behaved(hostname, spec.clone());
        let mut greet_delay = Duration::ZERO;
        let script = match class {
            SmtpClass::Tarpit => SmtpScript::Tarpit,
            SmtpClass::Reset => SmtpScript::Reset,
            SmtpClass::AcceptClose => SmtpScript::Close,
            SmtpClass::Greeting421 => SmtpScript::Greeting421,
            SmtpClass::Greeting554 => SmtpScript::Greeting554,
            _ => {
                match class {
                    SmtpClass::NoStarttls => {
                        conv.ehlo = EhloReply::Ok {
                            starttls: false,
                            padding_bytes: 0,
                        };
                        conv.starttls = StarttlsReply::NotImplemented502;
                    }
                    SmtpClass::Starttls454 => conv.starttls = StarttlsReply::Unavailable454,
                    SmtpClass::Starttls502 => conv.starttls = StarttlsReply::NotImplemented502,
                    SmtpClass::TlsGarbage => conv.tls = TlsBehaviour::Garbage,
                    SmtpClass::TlsAlert => conv.tls = TlsBehaviour::Alert,
                    SmtpClass::Tls13Only => conv.tls = TlsBehaviour::Tls13Only(spec),
                    SmtpClass::Tls10Only => {
                        conv.tls = TlsBehaviour::Legacy(spec, LegacyTls::Tls10Only)
                    }
                    SmtpClass::Tls11Only => {
                        conv.tls = TlsBehaviour::Legacy(spec, LegacyTls::Tls11Only)
                    }
                    SmtpClass::StaticRsaOnly => {
                        conv.tls = TlsBehaviour::Legacy(spec, LegacyTls::StaticRsaOnly)
                    }
                    SmtpClass::CbcOnly => conv.tls = TlsBehaviour::Legacy(spec, LegacyTls::CbcOnly),
                    SmtpClass::EhloRejected => conv.ehlo = EhloReply::Rejected,
                    SmtpClass::EhloDrop => conv.ehlo = EhloReply::Drop,
                    SmtpClass::EhloOversized => {
                        conv.ehlo = EhloReply::Ok {
                            starttls: true,
                            padding_bytes: OVERSIZED_EHLO_BYTES,
                        }
                    }
                    SmtpClass::Multiline => conv.multiline_greeting = true,
                    SmtpClass::GreetDelay => greet_delay = self.config.greet_delay,
                    SmtpClass::StarttlsInjection => {
                        conv.inject_after_starttls = Some(INJECTED_BYTES.to_vec())
                    }
                    _ => {}
                }
                SmtpScript::Conversation(conv)
            }
        };
        SmtpHost {
            rtt,
            greet_delay,
            script,
        }
    }
}

/// Which classes a dedicated host may draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Any,
    /// A host an enforcing sender can use.
    Good,
    /// A host an enforcing sender cannot use.
    Broken,
    /// Reached but refused by an enforcing sender (no STARTTLS / bad cert / TLS failure).
    Insecure,
}

impl Role {
    fn allows(self, class: SmtpClass) -> bool {
        match self {
            Role::Any => true,
            Role::Good => class == SmtpClass::StarttlsValid || class == SmtpClass::Multiline,
            Role::Broken => !class.is_secure(),
            Role::Insecure => class.is_insecure(),
        }
    }
}

impl Behaviours for World {
    fn smtp_host(&self, local: Ipv4Addr) -> SmtpHost {
        let rtt = self.rtt(local);
        let [_, b, c, d] = local.octets();
        match addr::classify(local) {
            AddrKind::Dedicated(class) => {
                let fallback = format!("host-{b}-{c}-{d}.testbed.test");
                self.host_for_class(
                    class,
                    CertNames::Sni {
                        fallback: fallback.clone(),
                    },
                    fallback,
                    rtt,
                )
            }
            AddrKind::Shared { provider, host } => match self.shared_host(provider, host) {
                Some((class, names, hostname)) => {
                    self.host_for_class(class, CertNames::Fixed(names), hostname, rtt)
                }
                None => reset_host(rtt),
            },
            _ => reset_host(rtt),
        }
    }

    fn https_site(&self, local: Ipv4Addr, sni: Option<&str>) -> HttpsSite {
        match addr::classify(local) {
            AddrKind::Https => crate::sts::site(self, local, sni),
            _ => HttpsSite::Reset,
        }
    }

    fn cert_renewal(&self, local: Ipv4Addr, sni: Option<&str>) -> u32 {
        World::cert_renewal(self, local, sni)
    }
}

/// The certificate defect a host class presents.
pub fn class_defect(class: SmtpClass) -> CertDefect {
    match class {
        SmtpClass::CertExpired => CertDefect::Expired,
        SmtpClass::CertNotYetValid => CertDefect::NotYetValid,
        SmtpClass::CertSelfSigned => CertDefect::SelfSigned,
        SmtpClass::CertUnknownIssuer => CertDefect::UnknownIssuer,
        SmtpClass::CertIncompleteChain => CertDefect::IncompleteChain,
        SmtpClass::AiaIncompleteChain => CertDefect::AiaIncompleteChain,
        SmtpClass::AiaTarpit => CertDefect::AiaTarpit,
        SmtpClass::AiaLoop => CertDefect::AiaLoop,
        _ => CertDefect::None,
    }
}

fn reset_host(rtt: Duration) -> SmtpHost {
    SmtpHost {
        rtt,
        greet_delay: Duration::ZERO,
        script: SmtpScript::Reset,
    }
}

/// Convenience: a shared world.
pub fn shared(config: WorldConfig) -> Arc<World> {
    Arc::new(World::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(profile: Profile) -> World {
        World::new(WorldConfig {
            seed: 7,
            profile,
            ..WorldConfig::default()
        })
    }

    /// Find a domain with this DNS scenario.
    fn domain_with(w: &World, dns: DnsScenario) -> String {
        (0..100_000)
            .map(|i| format!("d{i}.example"))
            .find(|d| w.scenario(d).dns == dns)
            .unwrap()
    }

    #[test]
    fn exchanges_resolve_as_planned() {
        let w = world(Profile::Stress);
        for dns in DnsScenario::ALL.iter().filter(|d| d.has_mx_layout()) {
            for k in 0..20 {
                let d = domain_with(&w, *dns);
                let d = format!("x{k}{d}");
                let sc = w.scenario(&d);
                if sc.dns != *dns {
                    continue;
                }
                for mx in w.mx_plan(&d, &sc) {
                    let got = w.query(&mx.exchange, QType::A);
                    match mx.target {
                        HostTarget::Unresolved => assert!(
                            matches!(
                                got,
                                Lookup::Answer {
                                    rcode: Rcode::NxDomain,
                                    ..
                                }
                            ),
                            "{mx:?} {got:?}"
                        ),
                        HostTarget::Dedicated { addr, .. }
                        | HostTarget::Shared { addr }
                        | HostTarget::Private { addr }
                        | HostTarget::Cname { addr, .. } => {
                            assert_eq!(got.addresses(), vec![addr], "{mx:?}")
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn dns_scenarios_answer_the_mx_query() {
        let w = world(Profile::Stress);
        let cases = [
            (DnsScenario::Nxdomain, Some(Rcode::NxDomain)),
            (DnsScenario::Servfail, Some(Rcode::ServFail)),
            (DnsScenario::Timeout, None),
            (DnsScenario::NoMailHost, Some(Rcode::NoError)),
            (DnsScenario::NullMx, Some(Rcode::NoError)),
        ];
        for (dns, rcode) in cases {
            let d = domain_with(&w, dns);
            match (w.query(&d, QType::Mx), rcode) {
                (Lookup::NoReply, None) => {}
                (Lookup::Answer { rcode: got, .. }, Some(want)) => assert_eq!(got, want, "{dns}"),
                (other, _) => panic!("{dns}: {other:?}"),
            }
        }
        let d = domain_with(&w, DnsScenario::NullMx);
        match w.query(&d, QType::Mx) {
            Lookup::Answer { answers, .. } => {
                assert_eq!(answers.len(), 1);
                assert_eq!(answers[0].data, RrData::Mx(0, String::new()));
            }
            other => panic!("{other:?}"),
        }
        let d = domain_with(&w, DnsScenario::ImplicitMx);
        assert_eq!(w.query(&d, QType::A).addresses().len(), 1);
        assert!(matches!(
            w.query(&d, QType::Aaaa),
            Lookup::Answer { rcode: Rcode::NoError, ref answers, soa_zone: Some(_) } if answers.is_empty()
        ));
    }

    #[test]
    fn cname_is_chased() {
        let w = world(Profile::Stress);
        let d = domain_with(&w, DnsScenario::MxCname);
        match w.query(&format!("mx1.{d}"), QType::A) {
            Lookup::Answer { rcode, answers, .. } => {
                assert_eq!(rcode, Rcode::NoError);
                assert_eq!(answers[0].data, RrData::Cname(format!("in1.{d}")));
                assert!(matches!(answers[1].data, RrData::A(_)));
                assert_eq!(answers[1].name, format!("in1.{d}"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn smtp_host_is_a_function_of_the_address() {
        let w = world(Profile::Stress);
        for class in SmtpClass::ALL {
            let a = addr::dedicated_addr(*class, 12345);
            let host = w.smtp_host(a);
            assert_eq!(host, w.smtp_host(a));
            match (class, &host.script) {
                (SmtpClass::Reset, SmtpScript::Reset)
                | (SmtpClass::AcceptClose, SmtpScript::Close)
                | (SmtpClass::Tarpit, SmtpScript::Tarpit)
                | (SmtpClass::Greeting421, SmtpScript::Greeting421)
                | (SmtpClass::Greeting554, SmtpScript::Greeting554)
                | (_, SmtpScript::Conversation(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            w.smtp_host(Ipv4Addr::new(127, 0, 0, 1)).script,
            SmtpScript::Reset
        );
        let greet = w.smtp_host(addr::dedicated_addr(SmtpClass::GreetDelay, 1));
        assert_eq!(greet.greet_delay, Duration::from_secs(6));
    }

    #[test]
    fn scenario_coherence() {
        let w = world(Profile::Stress);
        for i in 0..5_000 {
            let d = format!("c{i}.example");
            let sc = w.scenario(&d);
            if sc.dns == DnsScenario::Nxdomain {
                assert_eq!(sc.sts, StsScenario::None);
                assert_eq!(sc.tlsrpt, TlsRptScenario::None);
            }
            if sc.sts == StsScenario::EnforceMxInsecure {
                assert_eq!(sc.dns, DnsScenario::MxDedicated);
                for mx in w.mx_plan(&d, &sc) {
                    match mx.target {
                        HostTarget::Dedicated { class, .. } => assert!(class.is_insecure()),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn host_label_shadowing_falls_back_to_domain() {
        let w = world(Profile::Stress);
        // A `mail.` name whose parent does not define it is a domain of its own.
        let d = (0..10_000)
            .map(|i| format!("p{i}.example"))
            .find(|d| w.scenario(d).dns == DnsScenario::NoMailHost)
            .unwrap();
        let name = format!("mail.{d}");
        assert_eq!(w.node(&name), w.domain_node(&name));
    }
}
