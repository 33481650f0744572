//! Politeness toward the hosts we measure: every new connection (SMTP probe or MTA-STS
//! policy fetch) passes one gate, [`Politeness::acquire`], which enforces:
//!
//! 1. at most one open connection per destination address (a per-address lock held by the
//!    [`Permit`] for the life of the connection);
//! 2. a cap on connections in flight overall (`max_connections`, a semaphore slot held by
//!    the permit);
//! 3. a global rate of new connections (`rate` per second; governor GCRA, burst one);
//! 4. a minimum interval between connection starts to one address (`per_ip_interval`,
//!    default 1 s) and into one network prefix — /24 for IPv4, /48 for IPv6
//!    (`per_prefix_interval`).
//!
//! The intervals of 4 are kept between the moments connections actually start, not between
//! the moments a check passed: the start time is *reserved* for the address and its prefix
//! together, atomically under one lock, after every other wait (lock, slot, global rate) is
//! over; the task then sleeps until that instant and dials at once. (Checking keyed
//! limiters one after the other does not give this: a later wait shifts the start after an
//! earlier key's check, and the next connection to that key can follow within milliseconds.)
//! What remains is timer jitter, about a millisecond.
//!
//! Waiting for an address's turn holds no connection slot (the address lock comes first).
//! Memory does not grow with the addresses seen: a per-address lock lives only while someone
//! holds or awaits it, and reservations are dropped once their instant has passed (an
//! interval that has run out constrains nothing).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How often (in acquisitions) expired reservations are dropped.
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
    /// Connections open at once, over all destinations.
    pub max_connections: usize,
}

impl Default for PolitenessConfig {
    /// The defaults of the scan options (`[politeness]` of
    /// [`ScanConfig`](crate::config::ScanConfig)): there is no second set of defaults here.
    fn default() -> Self {
        crate::config::PolitenessSection::default()
            .to_config()
            .expect("the default politeness options are valid")
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

/// The earliest instant the next connection may start, per address and per prefix.
#[derive(Debug, Default)]
struct Schedule {
    per_ip: HashMap<IpAddr, Instant>,
    per_prefix: HashMap<Prefix, Instant>,
}

impl Schedule {
    /// Reserve the earliest start for `addr` that keeps both intervals, from `now`.
    fn reserve(
        &mut self,
        addr: IpAddr,
        now: Instant,
        ip_gap: Duration,
        prefix_gap: Duration,
    ) -> Instant {
        let prefix = Prefix::of(addr);
        let mut start = now;
        if let Some(t) = self.per_ip.get(&addr) {
            start = start.max(*t);
        }
        if let Some(t) = self.per_prefix.get(&prefix) {
            start = start.max(*t);
        }
        if !ip_gap.is_zero() {
            self.per_ip.insert(addr, start + ip_gap);
        }
        if !prefix_gap.is_zero() {
            self.per_prefix.insert(prefix, start + prefix_gap);
        }
        start
    }

    /// Forget reservations whose instant has passed.
    fn prune(&mut self, now: Instant) {
        self.per_ip.retain(|_, t| *t > now);
        self.per_prefix.retain(|_, t| *t > now);
        self.per_ip.shrink_to_fit();
        self.per_prefix.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.per_ip.len() + self.per_prefix.len()
    }
}

/// The gate every connection passes. Cheap to share (`Arc<Politeness>`).
pub struct Politeness {
    config: PolitenessConfig,
    global: Option<DefaultDirectRateLimiter>,
    global_turn: tokio::sync::Mutex<()>,
    slots: Arc<Semaphore>,
    schedule: Mutex<Schedule>,
    open: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
    acquisitions: AtomicU64,
}

impl std::fmt::Debug for Politeness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Politeness")
            .field("config", &self.config)
            .field("tracked_addresses", &self.tracked_addresses())
            .field("acquisitions", &self.acquisitions.load(Ordering::Relaxed))
            .finish()
    }
}

impl Politeness {
    /// A gate with these limits. A zero interval or a non-positive rate disables that limit
    /// (tests and loopback testbeds; the CLI documents it).
    pub fn new(config: PolitenessConfig) -> Politeness {
        let global = if config.rate > 0.0 && config.rate.is_finite() {
            Quota::with_period(Duration::from_secs_f64(1.0 / config.rate))
                .map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)))
        } else {
            None
        };
        Politeness {
            config,
            global,
            global_turn: tokio::sync::Mutex::new(()),
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            schedule: Mutex::new(Schedule::default()),
            open: Mutex::new(HashMap::new()),
            acquisitions: AtomicU64::new(0),
        }
    }

    /// Wait until a new connection to `addr` may start under every limit; dial as soon as
    /// this returns. The connection may stay open as long as the [`Permit`] lives.
    pub async fn acquire(self: &Arc<Self>, addr: IpAddr) -> Permit {
        let lock = {
            let mut open = self.open.lock().expect("politeness map poisoned");
            Arc::clone(open.entry(addr).or_default())
        };
        let guard = lock.lock_owned().await;
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("never closed");
        if let Some(global) = &self.global {
            // One waiter on the limiter at a time, the rest queued FIFO: governor's
            // `until_ready` wakes every sleeper at each free instant (a thundering herd).
            let _turn = self.global_turn.lock().await;
            global.until_ready().await;
        }
        let now = Instant::now();
        let start = {
            let mut schedule = self.schedule.lock().expect("politeness schedule poisoned");
            if self.acquisitions.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
                schedule.prune(now);
            }
            schedule.reserve(
                addr,
                now,
                self.config.per_ip_interval,
                self.config.per_prefix_interval,
            )
        };
        tokio::time::sleep_until(start).await;
        Permit {
            gate: Arc::clone(self),
            addr,
            guard: Some(guard),
            _slot: slot,
        }
    }

    /// Drop reservations whose instant has passed.
    pub fn prune(&self) {
        if let Ok(mut s) = self.schedule.lock() {
            s.prune(Instant::now());
        }
    }

    /// Addresses with an open connection or a waiter (for tests and memory checks).
    pub fn tracked_addresses(&self) -> usize {
        self.open.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Reservations held (for tests and memory checks).
    pub fn limiter_keys(&self) -> usize {
        self.schedule.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Connections open now (permits alive).
    pub fn open_connections(&self) -> usize {
        self.config.max_connections.max(1) - self.slots.available_permits()
    }
}

/// Permission to hold one connection to one address. Dropping it frees the address and the
/// connection slot.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<Politeness>,
    addr: IpAddr,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    _slot: OwnedSemaphorePermit,
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
            max_connections: 1000,
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

    /// Connection starts (the instant `acquire` returns) of concurrent tasks into one /24
    /// are spaced by the prefix interval even when the global rate delays some of them —
    /// the bug of checking keyed limiters one after the other.
    #[tokio::test]
    async fn intervals_hold_between_actual_starts() {
        let gate = Arc::new(Politeness::new(cfg(40.0, 150, 60)));
        let starts = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..12u8 {
            let (gate, starts) = (gate.clone(), starts.clone());
            // Three addresses in one /24, four connections each.
            let addr = v4(127, 7, 7, 1 + i % 3);
            tasks.push(tokio::spawn(async move {
                let p = gate.acquire(addr).await;
                starts.lock().unwrap().push((addr, Instant::now()));
                tokio::time::sleep(Duration::from_millis(3)).await;
                drop(p);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut all = starts.lock().unwrap().clone();
        all.sort_by_key(|(_, t)| *t);
        // The instants are taken after `acquire` returns, so a task the runtime wakes late
        // records a late start and the gap after it looks shorter than the gate made it. On
        // a loaded 2-core CI machine that lag reaches tens of milliseconds; 25 ms of slack
        // still fails a gate that ignores an interval (gaps of ~0) or halves it (30 ms).
        let slack = Duration::from_millis(25);
        for w in all.windows(2) {
            let gap = w[1].1 - w[0].1;
            assert!(
                gap + slack >= Duration::from_millis(60),
                "prefix gap {gap:?}"
            );
        }
        for a in 1..=3u8 {
            let mine: Vec<Instant> = all
                .iter()
                .filter(|(x, _)| *x == v4(127, 7, 7, a))
                .map(|(_, t)| *t)
                .collect();
            for w in mine.windows(2) {
                assert!(
                    w[1] - w[0] + slack >= Duration::from_millis(150),
                    "address gap {:?}",
                    w[1] - w[0]
                );
            }
        }
    }

    #[tokio::test]
    async fn connections_in_flight_are_capped() {
        let gate = Arc::new(Politeness::new(PolitenessConfig {
            max_connections: 3,
            ..cfg(0.0, 0, 0)
        }));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..20u8 {
            let (gate, peak) = (gate.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _p = gate.acquire(v4(127, 8, i, 1)).await;
                peak.fetch_max(gate.open_connections(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(gate.open_connections(), 0);
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
