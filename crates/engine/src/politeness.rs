//! Politeness toward the hosts we measure: every new connection (SMTP probe or MTA-STS
//! policy fetch) passes one gate that enforces, in this order:
//!
//! 1. at most one open connection per destination address (a per-address lock held by the
//!    [`Permit`] for the life of the connection);
//! 2. a minimum interval between connection starts to one address (`per_ip_interval`,
//!    default 1 s);
//! 3. a minimum interval between connection starts into one network prefix — /24 for IPv4,
//!    /48 for IPv6 (`per_prefix_interval`), so a provider's neighbouring addresses are not
//!    hit in a burst either;
//! 4. a global rate of new connections (`rate` per second).
//!
//! Intervals and rates are governor GCRA limiters with a burst of one. Memory does not grow
//! with the addresses seen: a per-address lock lives only while someone holds or awaits it,
//! and the keyed limiters are pruned (`retain_recent`) every few thousand acquisitions, which
//! drops every key whose interval has passed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How often (in acquisitions) the keyed limiters are pruned.
const PRUNE_EVERY: u64 = 4096;

/// The limits; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolitenessConfig {
    /// New connections per second, over all destinations.
    pub rate: f64,
    /// Minimum time between connection starts to one address.
    pub per_ip_interval: Duration,
    /// Minimum time between connection starts into one /24 (IPv4) or /48 (IPv6).
    pub per_prefix_interval: Duration,
}

impl Default for PolitenessConfig {
    fn default() -> Self {
        PolitenessConfig {
            rate: 200.0,
            per_ip_interval: Duration::from_secs(1),
            per_prefix_interval: Duration::from_millis(100),
        }
    }
}

/// The network prefix a politeness interval applies to: /24 for IPv4, /48 for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// The first three octets of an IPv4 address.
    V4([u8; 3]),
    /// The first six octets of an IPv6 address.
    V6([u8; 6]),
}

impl Prefix {
    /// The /24 or /48 containing `addr`.
    pub fn of(addr: IpAddr) -> Prefix {
        match addr {
            IpAddr::V4(a) => {
                let o = a.octets();
                Prefix::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(a) => {
                let o = a.octets();
                Prefix::V6([o[0], o[1], o[2], o[3], o[4], o[5]])
            }
        }
    }
}

/// The gate every connection passes. Cheap to share (`Arc<Politeness>`).
pub struct Politeness {
    global: Option<DefaultDirectRateLimiter>,
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_prefix: Option<DefaultKeyedRateLimiter<Prefix>>,
    open: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
    acquisitions: AtomicU64,
}

impl std::fmt::Debug for Politeness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Politeness")
            .field("tracked_addresses", &self.tracked_addresses())
            .field("acquisitions", &self.acquisitions.load(Ordering::Relaxed))
            .finish()
    }
}

/// Quota of one cell per `interval` (burst one); `None` when the interval is zero.
fn interval_quota(interval: Duration) -> Option<Quota> {
    if interval.is_zero() {
        None
    } else {
        Quota::with_period(interval).map(|q| q.allow_burst(NonZeroU32::MIN))
    }
}

impl Politeness {
    /// A gate with these limits. A zero interval or a non-positive rate disables that limit
    /// (tests only; the CLI refuses them without an explicit flag).
    pub fn new(config: PolitenessConfig) -> Politeness {
        let global = if config.rate > 0.0 && config.rate.is_finite() {
            interval_quota(Duration::from_secs_f64(1.0 / config.rate)).map(RateLimiter::direct)
        } else {
            None
        };
        Politeness {
            global,
            per_ip: interval_quota(config.per_ip_interval).map(RateLimiter::dashmap),
            per_prefix: interval_quota(config.per_prefix_interval).map(RateLimiter::dashmap),
            open: Mutex::new(HashMap::new()),
            acquisitions: AtomicU64::new(0),
        }
    }

    /// Wait until a new connection to `addr` is allowed by every limit; the connection may
    /// stay open as long as the returned [`Permit`] lives.
    pub async fn acquire(self: &Arc<Self>, addr: IpAddr) -> Permit {
        let lock = {
            let mut open = self.open.lock().expect("politeness map poisoned");
            Arc::clone(open.entry(addr).or_default())
        };
        let guard = lock.lock_owned().await;
        if let Some(per_ip) = &self.per_ip {
            per_ip.until_key_ready(&addr).await;
        }
        if let Some(per_prefix) = &self.per_prefix {
            per_prefix.until_key_ready(&Prefix::of(addr)).await;
        }
        if let Some(global) = &self.global {
            global.until_ready().await;
        }
        if self.acquisitions.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        Permit {
            gate: Arc::clone(self),
            addr,
            guard: Some(guard),
        }
    }

    /// Drop limiter state for keys whose interval has passed.
    pub fn prune(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_prefix {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Addresses with an open connection or a waiter (for tests and memory checks).
    pub fn tracked_addresses(&self) -> usize {
        self.open.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Keys held by the keyed limiters (for tests and memory checks).
    pub fn limiter_keys(&self) -> usize {
        self.per_ip.as_ref().map_or(0, |l| l.len())
            + self.per_prefix.as_ref().map_or(0, |l| l.len())
    }
}

/// Permission to hold one connection to one address. Dropping it frees the address.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<Politeness>,
    addr: IpAddr,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Permit {
    /// The destination this permit is for.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().expect("politeness map poisoned");
        drop(self.guard.take());
        // The map holds one reference; nobody else holds or awaits the lock: forget it.
        if open
            .get(&self.addr)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            open.remove(&self.addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    fn cfg(rate: f64, ip_ms: u64, prefix_ms: u64) -> PolitenessConfig {
        PolitenessConfig {
            rate,
            per_ip_interval: Duration::from_millis(ip_ms),
            per_prefix_interval: Duration::from_millis(prefix_ms),
        }
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[tokio::test]
    async fn one_connection_at_a_time_per_address() {
        let gate = Arc::new(Politeness::new(cfg(0.0, 0, 0)));
        let open = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (gate, open, max) = (gate.clone(), open.clone(), max.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire(v4(127, 9, 9, 9)).await;
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                open.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(max.load(Ordering::SeqCst), 1);
        assert_eq!(
            gate.tracked_addresses(),
            0,
            "locks of idle addresses are forgotten"
        );
    }

    #[tokio::test]
    async fn distinct_addresses_proceed_in_parallel() {
        let gate = Arc::new(Politeness::new(cfg(0.0, 1000, 0)));
        let start = Instant::now();
        let permits: Vec<Permit> = futures_join(&gate, (1..=50).map(|i| v4(127, 1, 2, i))).await;
        assert_eq!(permits.len(), 50);
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "no address waited on another"
        );
    }

    async fn futures_join(
        gate: &Arc<Politeness>,
        addrs: impl Iterator<Item = IpAddr>,
    ) -> Vec<Permit> {
        let mut out = Vec::new();
        for a in addrs {
            out.push(gate.acquire(a).await);
        }
        out
    }

    #[tokio::test]
    async fn interval_between_connections_to_one_address() {
        let gate = Arc::new(Politeness::new(cfg(0.0, 120, 0)));
        let mut starts = Vec::new();
        for _ in 0..4 {
            let p = gate.acquire(v4(127, 3, 3, 3)).await;
            starts.push(Instant::now());
            drop(p);
        }
        for w in starts.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= Duration::from_millis(110),
                "gap {gap:?} below the interval"
            );
        }
    }

    #[tokio::test]
    async fn interval_between_connections_into_one_prefix() {
        let gate = Arc::new(Politeness::new(cfg(0.0, 0, 100)));
        let t0 = Instant::now();
        drop(gate.acquire(v4(127, 4, 4, 1)).await);
        drop(gate.acquire(v4(127, 4, 4, 2)).await); // same /24: waits
        let same = t0.elapsed();
        let t1 = Instant::now();
        drop(gate.acquire(v4(127, 4, 5, 1)).await); // other /24: no wait
        assert!(
            same >= Duration::from_millis(90),
            "same /24 did not wait: {same:?}"
        );
        assert!(t1.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn global_rate() {
        let gate = Arc::new(Politeness::new(cfg(50.0, 0, 0)));
        let t0 = Instant::now();
        for i in 0..11 {
            drop(gate.acquire(v4(127, 5, i, 1)).await);
        }
        // 11 connections at 50/s: the first is free, ten more take ≥ 200 ms.
        assert!(
            t0.elapsed() >= Duration::from_millis(190),
            "{:?}",
            t0.elapsed()
        );
    }

    #[tokio::test]
    async fn limiter_state_is_pruned() {
        let gate = Arc::new(Politeness::new(cfg(0.0, 5, 5)));
        for i in 0..2000u32 {
            // Every address in a /24 of its own, so no acquisition waits.
            let b = i.to_be_bytes();
            drop(gate.acquire(v4(127, b[2] + 1, b[3], 1)).await);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.prune();
        assert_eq!(gate.limiter_keys(), 0, "expired keys are dropped");
        assert_eq!(gate.tracked_addresses(), 0);
    }

    #[test]
    fn prefixes() {
        assert_eq!(Prefix::of(v4(10, 1, 2, 3)), Prefix::of(v4(10, 1, 2, 200)));
        assert_ne!(Prefix::of(v4(10, 1, 2, 3)), Prefix::of(v4(10, 1, 3, 3)));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:2::1".parse().unwrap();
        assert_eq!(Prefix::of(a), Prefix::of(b));
        assert_ne!(Prefix::of(a), Prefix::of(c));
    }
}
