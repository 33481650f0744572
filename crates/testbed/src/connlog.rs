//! The connection log: every connection the testbed's servers accept, with when it was
//! opened and closed — the evidence a scanner's politeness tests are judged on ("at most one
//! connection at a time to one address", "at least N ms between connections to one address").
//!
//! Recording is cheap (one short mutex section per open and per close) and thread-safe.
//! The log is bounded: it keeps at most [`DEFAULT_CAPACITY`] connections in memory (about
//! 56 bytes each, so ≈ 56 MB at the cap; see [`ConnLog::with_capacity`]); connections beyond
//! the cap are not kept, but counted ([`ConnLog::dropped`]) and still written to the JSONL
//! file when there is one ([`ConnLog::to_file`]), so analyses of a capped log say so.
//!
//! Times are measured from the log's creation with the monotonic clock, in microseconds.
//! A server notices a client's close only when its task next runs, so the close it records
//! can lag the client's by a scheduling delay (typically well under a millisecond, more on a
//! loaded machine). The concurrency analyses therefore ignore overlaps shorter than
//! [`DEFAULT_CLOSE_SLACK`] unless asked for an exact count.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::TestbedError;

/// How many connections a log keeps in memory by default.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// Overlaps shorter than this between a close and the next open to the same address are not
/// counted as concurrency by [`ConnSnapshot::max_concurrent_per_address`] (see module docs).
/// The price: two connections that truly overlap by less than this are not caught either;
/// use [`ConnSnapshot::max_concurrent_per_address_with_slack`] with `Duration::ZERO` for the
/// exact count.
pub const DEFAULT_CLOSE_SLACK: Duration = Duration::from_millis(10);

/// Which testbed server accepted a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// The SMTP listener.
    Smtp,
    /// The HTTPS (MTA-STS policy) listener.
    Https,
    /// The plain-HTTP AIA caIssuers listener.
    Aia,
}

impl ServerKind {
    /// The snake_case name (`smtp`, `https`, `aia`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Smtp => "smtp",
            ServerKind::Https => "https",
            ServerKind::Aia => "aia",
        }
    }
}

/// One accepted connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnRecord {
    /// Sequence number in accept order (0-based, per log).
    pub id: u64,
    /// The server that accepted it.
    pub kind: ServerKind,
    /// The address the client dialled (the server's local address).
    pub local: SocketAddr,
    /// When it was accepted, since the log was created.
    pub opened_at: Duration,
    /// When the server closed or saw the client close it; `None` while it is open.
    pub closed_at: Option<Duration>,
}

/// The compact in-memory form of a [`ConnRecord`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    local: SocketAddr,
    opened_us: u64,
    /// `u64::MAX` while open.
    closed_us: u64,
    kind: ServerKind,
}

/// One line of the JSONL file, written when a connection closes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JsonLine {
    id: u64,
    kind: ServerKind,
    local: SocketAddr,
    peer: SocketAddr,
    opened_us: u64,
    closed_us: u64,
    /// The log's creation time, microseconds since the Unix epoch (absolute time = this + *_us).
    log_start_unix_us: u64,
}

#[derive(Debug)]
struct Inner {
    start: Instant,
    start_unix_us: u64,
    capacity: usize,
    entries: Mutex<Vec<Entry>>,
    next_id: AtomicU64,
    dropped: AtomicU64,
    file: Option<Mutex<File>>,
}

/// A shared, bounded log of accepted connections. Clones share one log.
#[derive(Debug, Clone)]
pub struct ConnLog {
    inner: Arc<Inner>,
}

impl Default for ConnLog {
    fn default() -> Self {
        ConnLog::new()
    }
}

impl ConnLog {
    /// An in-memory log holding up to [`DEFAULT_CAPACITY`] connections.
    pub fn new() -> ConnLog {
        ConnLog::with_capacity(DEFAULT_CAPACITY)
    }

    /// An in-memory log holding up to `capacity` connections (0: count only).
    pub fn with_capacity(capacity: usize) -> ConnLog {
        ConnLog::build(capacity, None)
    }

    /// A log that also appends one JSON line per connection, when it closes, to `path`
    /// (created or truncated): `{"id","kind","local","peer","opened_us","closed_us",
    /// "log_start_unix_us"}`. Read it back with [`ConnSnapshot::from_jsonl`].
    pub fn to_file(path: impl AsRef<Path>) -> Result<ConnLog, TestbedError> {
        let file = File::create(path)?;
        Ok(ConnLog::build(DEFAULT_CAPACITY, Some(file)))
    }

    fn build(capacity: usize, file: Option<File>) -> ConnLog {
        let start_unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        ConnLog {
            inner: Arc::new(Inner {
                start: Instant::now(),
                start_unix_us,
                capacity,
                entries: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                file: file.map(Mutex::new),
            }),
        }
    }

    /// Record an accepted connection; the returned guard records its close when dropped.
    pub fn open(&self, kind: ServerKind, local: SocketAddr, peer: SocketAddr) -> ConnGuard {
        let opened_us = self.now_us();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = {
            let mut entries = self.entries();
            if entries.len() < self.inner.capacity {
                entries.push(Entry {
                    local,
                    opened_us,
                    closed_us: u64::MAX,
                    kind,
                });
                Some(entries.len() - 1)
            } else {
                None
            }
        };
        if slot.is_none() {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ConnGuard {
            log: self.clone(),
            slot,
            id,
            kind,
            local,
            peer,
            opened_us,
        }
    }

    /// How many connections were accepted (kept or not).
    pub fn total(&self) -> u64 {
        self.inner.next_id.load(Ordering::Relaxed)
    }

    /// How many connections were not kept in memory because the log was full.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// How many kept connections are open now.
    pub fn open_now(&self) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.closed_us == u64::MAX)
            .count()
    }

    /// A copy of the kept records, for analysis.
    pub fn snapshot(&self) -> ConnSnapshot {
        let records = self
            .entries()
            .iter()
            .enumerate()
            .map(|(i, e)| ConnRecord {
                id: i as u64,
                kind: e.kind,
                local: e.local,
                opened_at: Duration::from_micros(e.opened_us),
                closed_at: (e.closed_us != u64::MAX).then(|| Duration::from_micros(e.closed_us)),
            })
            .collect();
        ConnSnapshot {
            records,
            dropped: self.dropped(),
        }
    }

    /// Shorthand for `snapshot().max_concurrent_per_address()`.
    pub fn max_concurrent_per_address(&self) -> HashMap<IpAddr, usize> {
        self.snapshot().max_concurrent_per_address()
    }

    /// Shorthand for `snapshot().min_interval_per_address()`.
    pub fn min_interval_per_address(&self) -> HashMap<IpAddr, Duration> {
        self.snapshot().min_interval_per_address()
    }

    /// Shorthand for `snapshot().connections_to(addr)`.
    pub fn connections_to(&self, addr: IpAddr) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.local.ip() == addr)
            .count()
    }

    fn now_us(&self) -> u64 {
        self.inner.start.elapsed().as_micros() as u64
    }

    fn entries(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Records the close of one connection when dropped (hold it for the connection's life).
#[derive(Debug)]
pub struct ConnGuard {
    log: ConnLog,
    slot: Option<usize>,
    id: u64,
    kind: ServerKind,
    local: SocketAddr,
    peer: SocketAddr,
    opened_us: u64,
}

impl ConnGuard {
    /// The connection's sequence number.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let closed_us = self.log.now_us();
        if let Some(slot) = self.slot
            && let Some(e) = self.log.entries().get_mut(slot)
        {
            e.closed_us = closed_us;
        }
        if let Some(file) = &self.log.inner.file {
            let line = JsonLine {
                id: self.id,
                kind: self.kind,
                local: self.local,
                peer: self.peer,
                opened_us: self.opened_us,
                closed_us,
                log_start_unix_us: self.log.inner.start_unix_us,
            };
            if let Ok(mut text) = serde_json::to_string(&line) {
                text.push('\n');
                let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
                // One write per line; a failing log file must not take a connection down.
                let _ = f.write_all(text.as_bytes());
            }
        }
    }
}

/// A set of connection records with the politeness analyses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnSnapshot {
    /// The records, in accept order.
    pub records: Vec<ConnRecord>,
    /// Connections the log did not keep (it was full): analyses are incomplete if > 0.
    pub dropped: u64,
}

impl ConnSnapshot {
    /// Read a JSONL file written by [`ConnLog::to_file`] (complete lines only; connections
    /// still open when it was written are absent).
    pub fn from_jsonl(path: impl AsRef<Path>) -> Result<ConnSnapshot, TestbedError> {
        let reader = std::io::BufReader::new(File::open(path)?);
        let mut records = Vec::new();
        for line in reader.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let l: JsonLine = serde_json::from_str(&line)
                .map_err(|e| TestbedError::Config(format!("bad connection log line: {e}")))?;
            records.push(ConnRecord {
                id: l.id,
                kind: l.kind,
                local: l.local,
                opened_at: Duration::from_micros(l.opened_us),
                closed_at: Some(Duration::from_micros(l.closed_us)),
            });
        }
        records.sort_by_key(|r| (r.opened_at, r.id));
        Ok(ConnSnapshot {
            records,
            dropped: 0,
        })
    }

    /// Only the connections accepted by `kind`.
    pub fn only(&self, kind: ServerKind) -> ConnSnapshot {
        ConnSnapshot {
            records: self
                .records
                .iter()
                .filter(|r| r.kind == kind)
                .copied()
                .collect(),
            dropped: self.dropped,
        }
    }

    /// How many connections were made to `addr`.
    pub fn connections_to(&self, addr: IpAddr) -> usize {
        self.records.iter().filter(|r| r.local.ip() == addr).count()
    }

    /// The largest number of connections open at the same time to each address, ignoring
    /// overlaps shorter than [`DEFAULT_CLOSE_SLACK`].
    pub fn max_concurrent_per_address(&self) -> HashMap<IpAddr, usize> {
        self.max_concurrent_by(DEFAULT_CLOSE_SLACK, |ip| ip)
    }

    /// As [`Self::max_concurrent_per_address`], with an explicit slack (`Duration::ZERO`:
    /// exact; a connection closed at the instant another opens does not overlap it).
    pub fn max_concurrent_per_address_with_slack(&self, slack: Duration) -> HashMap<IpAddr, usize> {
        self.max_concurrent_by(slack, |ip| ip)
    }

    /// The largest number of connections open at the same time into each prefix of
    /// `prefix_len` bits (e.g. 24 for IPv4 /24s; IPv6 addresses use the same length).
    pub fn max_concurrent_per_prefix(&self, prefix_len: u8) -> HashMap<IpAddr, usize> {
        self.max_concurrent_by(DEFAULT_CLOSE_SLACK, |ip| mask(ip, prefix_len))
    }

    /// The shortest time between two successive connection opens to each address that was
    /// connected to at least twice.
    pub fn min_interval_per_address(&self) -> HashMap<IpAddr, Duration> {
        self.min_interval_by(|ip| ip)
    }

    /// The shortest time between two successive connection opens into each prefix of
    /// `prefix_len` bits that saw at least two connections.
    pub fn min_interval_per_prefix(&self, prefix_len: u8) -> HashMap<IpAddr, Duration> {
        self.min_interval_by(|ip| mask(ip, prefix_len))
    }

    fn max_concurrent_by(
        &self,
        slack: Duration,
        key: impl Fn(IpAddr) -> IpAddr,
    ) -> HashMap<IpAddr, usize> {
        // Per key: (time, delta) events; closes sort before opens at the same time.
        let mut events: HashMap<IpAddr, Vec<(Duration, i8)>> = HashMap::new();
        for r in &self.records {
            let ev = events.entry(key(r.local.ip())).or_default();
            ev.push((r.opened_at, 1));
            if let Some(closed) = r.closed_at {
                // A connection is open for at least 1 µs, so its own close never sorts
                // before its open.
                let close = closed
                    .saturating_sub(slack)
                    .max(r.opened_at + Duration::from_micros(1));
                ev.push((close, -1));
            }
        }
        events
            .into_iter()
            .map(|(k, mut ev)| {
                ev.sort_unstable();
                let (mut now, mut max) = (0i64, 0i64);
                for (_, d) in ev {
                    now += i64::from(d);
                    max = max.max(now);
                }
                (k, max as usize)
            })
            .collect()
    }

    fn min_interval_by(&self, key: impl Fn(IpAddr) -> IpAddr) -> HashMap<IpAddr, Duration> {
        let mut opens: HashMap<IpAddr, Vec<Duration>> = HashMap::new();
        for r in &self.records {
            opens
                .entry(key(r.local.ip()))
                .or_default()
                .push(r.opened_at);
        }
        opens
            .into_iter()
            .filter_map(|(k, mut t)| {
                t.sort_unstable();
                let min = t.windows(2).map(|w| w[1] - w[0]).min()?;
                Some((k, min))
            })
            .collect()
    }
}

/// `ip` with all but its first `len` bits cleared.
fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let len = u32::from(len.min(32));
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let len = u32::from(len.min(128));
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, ip: [u8; 4], open_ms: u64, close_ms: Option<u64>) -> ConnRecord {
        ConnRecord {
            id,
            kind: ServerKind::Smtp,
            local: SocketAddr::from((ip, 25)),
            opened_at: Duration::from_millis(open_ms),
            closed_at: close_ms.map(Duration::from_millis),
        }
    }

    fn ip(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }

    #[test]
    fn concurrency_and_intervals_table() {
        // (records, address, exact max concurrency, default-slack max concurrency, min interval ms)
        type Case = (Vec<ConnRecord>, [u8; 4], usize, usize, Option<u64>);
        let a = [127, 0, 0, 2];
        let cases: Vec<Case> = vec![
            (vec![rec(0, a, 0, Some(10))], a, 1, 1, None),
            // Sequential, touching: not concurrent.
            (
                vec![rec(0, a, 0, Some(10)), rec(1, a, 10, Some(20))],
                a,
                1,
                1,
                Some(10),
            ),
            // Overlapping by 5 ms: concurrent exactly, forgiven by the slack.
            (
                vec![rec(0, a, 0, Some(15)), rec(1, a, 10, Some(20))],
                a,
                2,
                1,
                Some(10),
            ),
            // Overlapping by 50 ms: concurrent either way.
            (
                vec![rec(0, a, 0, Some(100)), rec(1, a, 50, Some(200))],
                a,
                2,
                2,
                Some(50),
            ),
            // Three at once, one still open.
            (
                vec![
                    rec(0, a, 0, None),
                    rec(1, a, 1, Some(300)),
                    rec(2, a, 2, Some(400)),
                ],
                a,
                3,
                3,
                Some(1),
            ),
            // Other addresses do not count.
            (
                vec![
                    rec(0, a, 0, Some(100)),
                    rec(1, [127, 0, 0, 3], 50, Some(200)),
                ],
                a,
                1,
                1,
                None,
            ),
        ];
        for (i, (records, addr, exact, slack, interval)) in cases.into_iter().enumerate() {
            let s = ConnSnapshot {
                records,
                dropped: 0,
            };
            let got = s.max_concurrent_per_address_with_slack(Duration::ZERO);
            assert_eq!(got.get(&ip(addr)), Some(&exact), "case {i} exact");
            assert_eq!(
                s.max_concurrent_per_address().get(&ip(addr)),
                Some(&slack),
                "case {i}"
            );
            assert_eq!(
                s.min_interval_per_address().get(&ip(addr)).copied(),
                interval.map(Duration::from_millis),
                "case {i} interval"
            );
        }
    }

    #[test]
    fn prefixes_group_addresses() {
        let s = ConnSnapshot {
            records: vec![
                rec(0, [127, 1, 1, 1], 0, Some(100)),
                rec(1, [127, 1, 1, 2], 30, Some(100)),
                rec(2, [127, 1, 2, 1], 35, Some(100)),
            ],
            dropped: 0,
        };
        let p = s.max_concurrent_per_prefix(24);
        assert_eq!(p[&ip([127, 1, 1, 0])], 2);
        assert_eq!(p[&ip([127, 1, 2, 0])], 1);
        let i = s.min_interval_per_prefix(16);
        assert_eq!(i[&ip([127, 1, 0, 0])], Duration::from_millis(5));
        assert_eq!(s.connections_to(ip([127, 1, 1, 2])), 1);
    }

    #[test]
    fn guard_records_close_and_cap_counts() {
        let log = ConnLog::with_capacity(2);
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.9:25".parse().unwrap();
        let g1 = log.open(ServerKind::Smtp, local, peer);
        let g2 = log.open(ServerKind::Https, local, peer);
        let g3 = log.open(ServerKind::Smtp, local, peer);
        assert_eq!((log.total(), log.dropped(), log.open_now()), (3, 1, 2));
        drop(g1);
        assert_eq!(log.open_now(), 1);
        drop((g2, g3));
        let snap = log.snapshot();
        assert_eq!(snap.records.len(), 2);
        assert!(snap.records.iter().all(|r| r.closed_at.is_some()));
        assert_eq!(snap.only(ServerKind::Https).records.len(), 1);
        assert_eq!(snap.dropped, 1);
        assert_eq!(log.connections_to(local.ip()), 2);
    }

    #[test]
    fn jsonl_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.jsonl");
        let log = ConnLog::to_file(&path).unwrap();
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        for i in 0..3u8 {
            let _g = log.open(
                ServerKind::Smtp,
                SocketAddr::from(([127, 0, 0, 10 + i], 25)),
                peer,
            );
        }
        let back = ConnSnapshot::from_jsonl(&path).unwrap();
        assert_eq!(back.records.len(), 3);
        assert_eq!(
            back.records[2].local,
            SocketAddr::from(([127, 0, 0, 12], 25))
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().all(|l| l.contains("\"kind\":\"smtp\"")),
            "{text}"
        );
    }
}
