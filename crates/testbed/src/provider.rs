//! Shared mail hosts: a few big providers and many hosting providers.
//!
//! Real mail is concentrated: a handful of providers serve roughly a third of all mail
//! domains, and hosting companies run MX hosts shared by thousands of customers. Shared
//! hosts present one certificate whatever the client asks for (`CertNames::Fixed`): the
//! scanner probes each address once and judges that certificate for every MX name pointing
//! there. So:
//!
//! * big providers `bigmail1.test` … `bigmail4.test`: customers use the provider's own MX
//!   names (or, for `bigmail2.test`, a per-customer name under `mail.bigmail2.test`, like
//!   `example-com.mail.bigmail2.test`), and the certificate covers them → `valid`;
//! * hosters `hoster1.test` … `hoster40.test` (2–8 shared addresses each, sizes Zipf-like):
//!   customers of `mx_hoster_shared` name their MX `mail.<domain>` / `mx.<domain>`, but the
//!   certificate is for `mail.hosterN.test` and `*.mx.hosterN.test` only → `name_mismatch`;
//!   customers of `mx_hoster_named` use `<domain-with-dashes>.mx.hosterN.test` → covered.
//!
//! Addresses: `127.1.P.H` (see `addr`), P = provider index 0–3, or 16 + hoster index − 1.

use std::net::Ipv4Addr;

use crate::hash::{pick_weighted, stable_hash, stable_hash_u64};
use crate::profile::Profile;
use crate::scenario::SmtpClass;

/// Number of hosting providers.
pub const HOSTERS: usize = 40;
/// Provider octet of hoster 1.
const HOSTER_OCTET_BASE: u8 = 16;

/// How a big provider names its customers' MX hosts.
#[derive(Debug, Clone, Copy)]
enum Naming {
    /// Every customer uses these `(label, preference)` MX names under the provider's zone.
    Fixed(&'static [(&'static str, u16)]),
    /// Every customer gets `<customer-label>.<sub>.<zone>` (preference 0), spread over
    /// `hosts` addresses.
    PerCustomer { sub: &'static str, hosts: u8 },
}

/// A big provider.
#[derive(Debug, Clone, Copy)]
struct BigProvider {
    zone: &'static str,
    naming: Naming,
    class: SmtpClass,
    /// Share among `mx_big_provider` domains.
    weight: u32,
}

const BIG_PROVIDERS: [BigProvider; 4] = [
    BigProvider {
        zone: "bigmail1.test",
        naming: Naming::Fixed(&[("mx1", 1), ("mx2", 5), ("mx3", 5), ("mx4", 10)]),
        class: SmtpClass::StarttlsValid,
        weight: 45,
    },
    BigProvider {
        zone: "bigmail2.test",
        naming: Naming::PerCustomer {
            sub: "mail",
            hosts: 4,
        },
        class: SmtpClass::StarttlsValid,
        weight: 35,
    },
    BigProvider {
        zone: "bigmail3.test",
        naming: Naming::Fixed(&[("mx-a", 10), ("mx-b", 10)]),
        class: SmtpClass::Multiline,
        weight: 12,
    },
    BigProvider {
        zone: "bigmail4.test",
        naming: Naming::Fixed(&[("mx", 10)]),
        class: SmtpClass::StarttlsValid,
        weight: 8,
    },
];

/// A hosting provider (derived from the seed; the table is built once per world).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hoster {
    /// 1-based index: zone `hoster<index>.test`.
    pub index: usize,
    /// Number of shared addresses (2–8).
    pub hosts: u8,
    /// Behaviour of all its addresses.
    pub class: SmtpClass,
}

/// The hoster table of a world.
pub fn hosters(seed: u64, profile: Profile) -> Vec<Hoster> {
    (1..=HOSTERS)
        .map(|index| {
            let h = stable_hash_u64(seed, "hoster", index as u64);
            let class = SmtpClass::ALL[pick_weighted(h, profile.hoster_smtp_weights())];
            Hoster {
                index,
                hosts: 2 + (h >> 40) as u8 % 7,
                class,
            }
        })
        .collect()
}

/// Zipf-like weights of hosters (hoster 1 biggest, ≈ 12% of hoster customers).
fn hoster_weights() -> [u32; HOSTERS] {
    let mut w = [0u32; HOSTERS];
    for (i, slot) in w.iter_mut().enumerate() {
        *slot = 10_000 / (i as u32 + 3);
    }
    w
}

/// A label usable as one DNS label derived from a customer domain: `example.com` →
/// `example-com`; names that would not make a valid LDH label get `c<hash>`.
pub fn customer_label(seed: u64, domain: &str) -> String {
    let label = domain.replace('.', "-");
    let ok = !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        label
    } else {
        format!("c{:016x}", stable_hash(seed, "label", domain))
    }
}

/// An MX entry of a shared layout: exchange, preference and address.
pub type SharedMx = (String, u16, Ipv4Addr);

/// The MX set of a `mx_big_provider` domain.
pub fn big_provider_mx(seed: u64, domain: &str) -> Vec<SharedMx> {
    let weights: Vec<u32> = BIG_PROVIDERS.iter().map(|p| p.weight).collect();
    let p = pick_weighted(stable_hash(seed, "provider", domain), &weights);
    let provider = &BIG_PROVIDERS[p];
    match provider.naming {
        Naming::Fixed(names) => names
            .iter()
            .enumerate()
            .map(|(i, (label, pref))| {
                (
                    format!("{label}.{}", provider.zone),
                    *pref,
                    shared_addr(p as u8, i as u8 + 1),
                )
            })
            .collect(),
        Naming::PerCustomer { sub, hosts } => {
            let label = customer_label(seed, domain);
            let h = stable_hash(seed, "provider-host", &label);
            vec![(
                format!("{label}.{sub}.{}", provider.zone),
                0,
                shared_addr(p as u8, 1 + (h % u64::from(hosts)) as u8),
            )]
        }
    }
}

fn shared_addr(provider: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, crate::addr::SHARED_OCTET, provider, host)
}

fn hoster_addr(hoster: &Hoster, label: &str, seed: u64) -> Ipv4Addr {
    let h = stable_hash(seed, "hoster-host", label);
    shared_addr(
        HOSTER_OCTET_BASE + (hoster.index - 1) as u8,
        1 + (h % u64::from(hoster.hosts)) as u8,
    )
}

/// The hoster of a domain (for both hoster layouts).
pub fn hoster_of<'h>(seed: u64, hosters: &'h [Hoster], domain: &str) -> &'h Hoster {
    let i = pick_weighted(stable_hash(seed, "hoster-of", domain), &hoster_weights());
    &hosters[i]
}

/// The MX of a `mx_hoster_shared` domain: `mail.<domain>` or `mx.<domain>` on a shared
/// address of its hoster.
pub fn hoster_shared_mx(seed: u64, hosters: &[Hoster], domain: &str) -> SharedMx {
    let hoster = hoster_of(seed, hosters, domain);
    let label = if stable_hash(seed, "hoster-name", domain) & 1 == 0 {
        "mail"
    } else {
        "mx"
    };
    (
        format!("{label}.{domain}"),
        10,
        hoster_addr(hoster, domain, seed),
    )
}

/// The MX of a `mx_hoster_named` domain: `<customer-label>.mx.hosterN.test`.
pub fn hoster_named_mx(seed: u64, hosters: &[Hoster], domain: &str) -> SharedMx {
    let hoster = hoster_of(seed, hosters, domain);
    let label = customer_label(seed, domain);
    let addr = hoster_addr(hoster, &label, seed);
    (format!("{label}.mx.hoster{}.test", hoster.index), 10, addr)
}

/// What the DNS knows about a name inside a provider zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderName {
    /// The zone apex (exists, no address; SOA/NS answered).
    Apex { zone: String },
    /// A host name with this address.
    Host { zone: String, addr: Ipv4Addr },
    /// A name inside a provider zone that does not exist.
    Missing { zone: String },
}

/// Resolve a (lowercase, no trailing dot) name if it lies in a provider zone.
pub fn lookup(seed: u64, hosters: &[Hoster], name: &str) -> Option<ProviderName> {
    let zone_of = |zone: &str| -> Option<Option<String>> {
        if name == zone {
            Some(None)
        } else {
            name.strip_suffix(zone)
                .and_then(|rest| rest.strip_suffix('.'))
                .map(|rest| Some(rest.to_owned()))
        }
    };
    for (p, provider) in BIG_PROVIDERS.iter().enumerate() {
        let Some(rest) = zone_of(provider.zone) else {
            continue;
        };
        let zone = provider.zone.to_owned();
        let Some(rest) = rest else {
            return Some(ProviderName::Apex { zone });
        };
        let found = match provider.naming {
            Naming::Fixed(names) => names
                .iter()
                .position(|(label, _)| *label == rest)
                .map(|i| shared_addr(p as u8, i as u8 + 1)),
            Naming::PerCustomer { sub, hosts } => rest
                .strip_suffix(sub)
                .and_then(|r| r.strip_suffix('.'))
                .filter(|label| !label.is_empty() && !label.contains('.'))
                .map(|label| {
                    let h = stable_hash(seed, "provider-host", label);
                    shared_addr(p as u8, 1 + (h % u64::from(hosts)) as u8)
                }),
        };
        return Some(match found {
            Some(addr) => ProviderName::Host { zone, addr },
            None => ProviderName::Missing { zone },
        });
    }
    // hosterN.test
    let rest = name.strip_suffix(".test")?;
    let (head, last) = match rest.rsplit_once('.') {
        Some((head, last)) => (Some(head), last),
        None => (None, rest),
    };
    let index: usize = last.strip_prefix("hoster")?.parse().ok()?;
    if !(1..=HOSTERS).contains(&index) || last != format!("hoster{index}") {
        return None;
    }
    let hoster = &hosters[index - 1];
    let zone = format!("hoster{index}.test");
    let Some(head) = head else {
        return Some(ProviderName::Apex { zone });
    };
    if head == "mail" {
        let addr = shared_addr(HOSTER_OCTET_BASE + (index - 1) as u8, 1);
        return Some(ProviderName::Host { zone, addr });
    }
    match head.strip_suffix(".mx") {
        Some(label) if !label.is_empty() && !label.contains('.') => Some(ProviderName::Host {
            addr: hoster_addr(hoster, label, seed),
            zone,
        }),
        _ => Some(ProviderName::Missing { zone }),
    }
}

/// The 1-based hoster index of provider octet `provider` (None: a big provider or unused).
pub fn hoster_index(provider: u8) -> Option<usize> {
    let index = usize::from(provider.checked_sub(HOSTER_OCTET_BASE)?) + 1;
    (index <= HOSTERS).then_some(index)
}

/// The shared host living at `127.1.P.H`: its class, certificate names and host name.
pub fn shared_host(
    hosters: &[Hoster],
    provider: u8,
    host: u8,
) -> Option<(SmtpClass, Vec<String>, String)> {
    if let Some(p) = BIG_PROVIDERS.get(usize::from(provider)) {
        let count = match p.naming {
            Naming::Fixed(names) => names.len() as u8,
            Naming::PerCustomer { hosts, .. } => hosts,
        };
        if host == 0 || host > count {
            return None;
        }
        let names = match p.naming {
            Naming::Fixed(_) => vec![p.zone.to_owned(), format!("*.{}", p.zone)],
            Naming::PerCustomer { sub, .. } => vec![format!("*.{sub}.{}", p.zone)],
        };
        let hostname = format!("smtp{host}.{}", p.zone);
        return Some((p.class, names, hostname));
    }
    let index = usize::from(provider.checked_sub(HOSTER_OCTET_BASE)?) + 1;
    let hoster = hosters.get(index - 1)?;
    if host == 0 || host > hoster.hosts {
        return None;
    }
    let names = vec![
        format!("mail.hoster{index}.test"),
        format!("*.mx.hoster{index}.test"),
    ];
    Some((
        hoster.class,
        names,
        format!("mail{host}.hoster{index}.test"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_resolve_to_their_addresses() {
        let hosters = hosters(42, Profile::Realistic);
        for domain in ["example.com", "shop.example.co.uk", "a.b"] {
            for (exchange, _, addr) in big_provider_mx(42, domain) {
                match lookup(42, &hosters, &exchange) {
                    Some(ProviderName::Host { addr: a, .. }) => assert_eq!(a, addr, "{exchange}"),
                    other => panic!("{exchange}: {other:?}"),
                }
                let [_, _, p, h] = addr.octets();
                assert!(shared_host(&hosters, p, h).is_some());
            }
            let (exchange, _, addr) = hoster_named_mx(42, &hosters, domain);
            assert_eq!(
                lookup(42, &hosters, &exchange),
                Some(ProviderName::Host {
                    zone: exchange.split('.').skip(2).collect::<Vec<_>>().join("."),
                    addr
                })
            );
            let (exchange, _, addr) = hoster_shared_mx(42, &hosters, domain);
            assert!(exchange.ends_with(domain));
            let [_, _, p, h] = addr.octets();
            let (_, names, _) = shared_host(&hosters, p, h).unwrap();
            assert!(names.iter().all(|n| n.contains("hoster")));
        }
    }

    #[test]
    fn lookup_table() {
        let hosters = hosters(1, Profile::Realistic);
        let cases: [(&str, Option<&str>); 9] = [
            ("bigmail1.test", Some("apex")),
            ("mx2.bigmail1.test", Some("host")),
            ("mx9.bigmail1.test", Some("missing")),
            ("foo.mail.bigmail2.test", Some("host")),
            ("hoster3.test", Some("apex")),
            ("mail.hoster3.test", Some("host")),
            ("x-y.mx.hoster40.test", Some("host")),
            ("hoster41.test", None),
            ("example.com", None),
        ];
        for (name, want) in cases {
            let got = lookup(1, &hosters, name).map(|p| match p {
                ProviderName::Apex { .. } => "apex",
                ProviderName::Host { .. } => "host",
                ProviderName::Missing { .. } => "missing",
            });
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn customer_labels_are_ldh() {
        assert_eq!(customer_label(1, "example.com"), "example-com");
        assert!(customer_label(1, "ex_ample.com").starts_with('c'));
        assert!(customer_label(1, &"a".repeat(70)).starts_with('c'));
    }
}
