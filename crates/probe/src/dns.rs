//! DNS lookups as data: a wrapper over hickory-resolver 0.26.
//!
//! Every lookup returns an answer with a [`LookupStatus`] (ok, nodata, nxdomain, servfail,
//! refused, timeout, error) — negative answers are values, never `Err` (hickory's own rule).
//! Around hickory's resolver this adds what a survey needs:
//!
//! - explicit nameservers (`IP[:PORT]`, UDP with TCP fallback on truncation, RFC 7766 §5) or
//!   the system's `/etc/resolv.conf`;
//! - retries with exponential backoff on timeout only (a SERVFAIL is an answer);
//! - a bound on concurrent queries (semaphore) and a pluggable rate hook awaited before each
//!   query that may go to the wire ([`RateHook`], e.g. a governor limiter of the engine);
//! - a shared answer cache in front of hickory's: exchange names are shared by millions of
//!   domains, so their A/AAAA answers are looked up once per survey. Positive and negative
//!   (nxdomain, nodata) answers are cached; servfail, refused, timeout and error are not,
//!   so a transient failure is retried by the next domain that needs the name. The cache is
//!   bounded (two generations: when the young one fills, the old one is dropped). hickory's
//!   own cache keeps its TTL-based role (negative answers with the SOA minimum clamped to
//!   `[negative_min_ttl, negative_max_ttl]`, RFC 2308 §5);
//! - a count of the queries actually sent on the wire ([`Dns::queries_sent`]: UDP datagrams
//!   plus TCP connections opened), for the benchmark.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::{
    DnsUdpSocket, RuntimeProvider, TokioHandle, TokioRuntimeProvider, TokioTime,
};
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, lookup::Lookup};
use tokio::sync::Semaphore;

use crate::error::ProbeError;
pub use mxscan_model::dns::{AddrAnswer, LookupStatus, MxAnswer, MxRecord, TxtAnswer};

/// Where queries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nameservers {
    /// `/etc/resolv.conf` (`nameserver` lines, port 53).
    System,
    /// These servers, in order.
    Explicit(Vec<SocketAddr>),
}

impl Nameservers {
    /// Parses `IP`, `IP:PORT` or `[IPv6]:PORT` values (e.g. from `--resolver`).
    pub fn parse_list<S: AsRef<str>>(values: &[S]) -> Result<Self, ProbeError> {
        let mut out = Vec::new();
        for v in values {
            out.push(parse_nameserver(v.as_ref())?);
        }
        Ok(Nameservers::Explicit(out))
    }

    /// The concrete server addresses (reads `/etc/resolv.conf` for [`Nameservers::System`]).
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, ProbeError> {
        match self {
            Nameservers::Explicit(v) if v.is_empty() => {
                Err(ProbeError::NoNameserver("the explicit list".into()))
            }
            Nameservers::Explicit(v) => Ok(v.clone()),
            Nameservers::System => {
                let path = "/etc/resolv.conf";
                let text = std::fs::read_to_string(path).map_err(|source| ProbeError::Io {
                    path: path.into(),
                    source,
                })?;
                let v = parse_resolv_conf(&text);
                if v.is_empty() {
                    return Err(ProbeError::NoNameserver(path.into()));
                }
                Ok(v)
            }
        }
    }
}

/// Parses one `IP[:PORT]` nameserver value; the port defaults to 53.
pub fn parse_nameserver(value: &str) -> Result<SocketAddr, ProbeError> {
    let v = value.trim();
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Some(inner) = v.strip_prefix('[').and_then(|s| s.strip_suffix(']'))
        && let Ok(ip) = inner.parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(ProbeError::BadNameserver(value.to_string()))
}

/// The `nameserver` addresses of a resolv.conf text (zone ids and bad lines skipped).
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some("nameserver"))
                .then(|| it.next())
                .flatten()
        })
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// A future returned by a [`RateHook`].
pub type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Awaited before each query that may reach the wire (not for answers from the front
/// cache). The engine passes e.g. a governor limiter's `until_ready`.
pub type RateHook = Arc<dyn Fn() -> HookFuture + Send + Sync>;

/// Resolver settings. Every field has a sensible default ([`DnsConfig::default`]).
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Where to send queries.
    pub nameservers: Nameservers,
    /// Timeout of one query attempt (default 5 s).
    pub timeout: Duration,
    /// Attempts per lookup; only timeouts are retried (default 3).
    pub attempts: u32,
    /// Wait before the first retry; doubled for each further retry (default 250 ms).
    pub backoff: Duration,
    /// Queries in flight at most (default 256).
    pub max_concurrent: usize,
    /// Entries of the shared answer cache (default 100 000; 0 disables it).
    pub cache_size: usize,
    /// Entries of hickory's response cache (default 8192).
    pub hickory_cache_size: u64,
    /// Floor of the TTL hickory caches negative answers for (default 60 s).
    pub negative_min_ttl: Duration,
    /// Ceiling of the TTL hickory caches negative answers for (default 1 h).
    pub negative_max_ttl: Duration,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            nameservers: Nameservers::System,
            timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_millis(250),
            max_concurrent: 256,
            cache_size: 100_000,
            hickory_cache_size: 8192,
            negative_min_ttl: Duration::from_secs(60),
            negative_max_ttl: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey(String, RecordType);

#[derive(Debug, Clone)]
enum Cached {
    Mx(MxAnswer),
    Addr(AddrAnswer),
    Txt(TxtAnswer),
}

/// A bounded two-generation map: lookups check both; inserts go to the young one; when it
/// reaches half the capacity, the old generation is dropped and the young one ages.
#[derive(Debug, Default)]
struct AnswerCache {
    cap: usize,
    young: HashMap<CacheKey, Cached>,
    old: HashMap<CacheKey, Cached>,
}

impl AnswerCache {
    fn get(&self, k: &CacheKey) -> Option<Cached> {
        self.young.get(k).or_else(|| self.old.get(k)).cloned()
    }
    fn put(&mut self, k: CacheKey, v: Cached) {
        if self.cap == 0 {
            return;
        }
        if self.young.len() >= self.cap.div_ceil(2) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(k, v);
    }
    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

/// The resolver. Build one per scanner and share it (`Arc<Dns>`).
pub struct Dns {
    resolver: Resolver<CountingRuntime>,
    cfg: DnsConfig,
    servers: Vec<SocketAddr>,
    sem: Semaphore,
    hook: Option<RateHook>,
    /// Serialises waits on `hook` (see [`Dns::query`]).
    hook_turn: tokio::sync::Mutex<()>,
    cache: Mutex<AnswerCache>,
    sent: Arc<AtomicU64>,
    lookups: AtomicU64,
    cache_hits: AtomicU64,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("servers", &self.servers)
            .field("cfg", &self.cfg)
            .field("queries_sent", &self.queries_sent())
            .finish_non_exhaustive()
    }
}

impl Dns {
    /// Builds the resolver. `Err` only for bad configuration (no nameserver, …).
    pub fn new(cfg: DnsConfig, hook: Option<RateHook>) -> Result<Self, ProbeError> {
        let servers = cfg.nameservers.resolve()?;
        let mut ns = Vec::new();
        for sa in &servers {
            let mut c = NameServerConfig::udp_and_tcp(sa.ip());
            for conn in &mut c.connections {
                conn.port = sa.port();
            }
            ns.push(c);
        }
        let config = ResolverConfig::from_name_servers(ns);
        let mut opts = ResolverOpts::default();
        opts.timeout = cfg.timeout;
        opts.attempts = 0; // our own retry loop (timeouts only, with backoff)
        opts.cache_size = cfg.hickory_cache_size;
        opts.negative_min_ttl = Some(cfg.negative_min_ttl);
        opts.negative_max_ttl = Some(cfg.negative_max_ttl);
        opts.num_concurrent_reqs = 1;
        opts.preserve_intermediates = true;
        opts.ndots = 0;
        opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
        opts.max_active_requests = cfg.max_concurrent.max(32);
        let sent = Arc::new(AtomicU64::new(0));
        let provider = CountingRuntime {
            inner: TokioRuntimeProvider::default(),
            sent: sent.clone(),
        };
        let resolver = Resolver::builder_with_config(config, provider)
            .with_options(opts)
            .build()
            .map_err(|e| ProbeError::Resolver(e.to_string()))?;
        Ok(Self {
            resolver,
            sem: Semaphore::new(cfg.max_concurrent.max(1)),
            cache: Mutex::new(AnswerCache {
                cap: cfg.cache_size,
                ..Default::default()
            }),
            cfg,
            servers,
            hook,
            hook_turn: tokio::sync::Mutex::new(()),
            sent,
            lookups: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
        })
    }

    /// The nameservers in use.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// Queries sent on the wire so far (UDP datagrams, including retransmissions, plus TCP
    /// connections opened).
    pub fn queries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Lookups requested (front-cache hits included).
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Lookups answered from the shared answer cache.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    /// Entries in the shared answer cache.
    pub fn cache_len(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// MX lookup (RFC 5321 §5.1), with null MX recognition (RFC 7505).
    pub async fn mx(&self, domain: &str) -> MxAnswer {
        let key = CacheKey(norm(domain), RecordType::MX);
        if let Some(Cached::Mx(a)) = self.cached(&key) {
            return a;
        }
        let (status, lookup, error) = self.query(&key.0, RecordType::MX).await;
        let mut records = Vec::new();
        let mut cname = false;
        if let Some(l) = &lookup {
            for r in l.answers() {
                match &r.data {
                    RData::MX(mx) => {
                        let exchange = if mx.exchange.is_root() {
                            ".".to_string()
                        } else {
                            name_str(&mx.exchange)
                        };
                        let ip_literal = is_ip_literal(&exchange);
                        records.push(MxRecord {
                            preference: mx.preference,
                            exchange,
                            ip_literal,
                        });
                    }
                    RData::CNAME(_) => cname = true,
                    _ => {}
                }
            }
        }
        records.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        records.dedup();
        let null_mx =
            records.len() == 1 && records[0].preference == 0 && records[0].exchange == ".";
        let status = fix_empty(status, records.is_empty());
        let a = MxAnswer {
            status,
            records,
            null_mx,
            cname,
            error,
        };
        self.store(key, status, Cached::Mx(a.clone()));
        a
    }

    /// A lookup.
    pub async fn ipv4(&self, name: &str) -> AddrAnswer {
        self.addr(name, RecordType::A).await
    }

    /// AAAA lookup.
    pub async fn ipv6(&self, name: &str) -> AddrAnswer {
        self.addr(name, RecordType::AAAA).await
    }

    async fn addr(&self, name: &str, rtype: RecordType) -> AddrAnswer {
        let key = CacheKey(norm(name), rtype);
        if let Some(Cached::Addr(a)) = self.cached(&key) {
            return a;
        }
        let (status, lookup, error) = self.query(&key.0, rtype).await;
        let mut addrs = Vec::new();
        let mut cname_chain = Vec::new();
        if let Some(l) = &lookup {
            for r in l.answers() {
                match &r.data {
                    RData::A(a) if rtype == RecordType::A => addrs.push(IpAddr::V4(a.0)),
                    RData::AAAA(a) if rtype == RecordType::AAAA => addrs.push(IpAddr::V6(a.0)),
                    RData::CNAME(c) => cname_chain.push(name_str(&c.0)),
                    _ => {}
                }
            }
        }
        let status = fix_empty(status, addrs.is_empty());
        let a = AddrAnswer {
            status,
            addrs,
            cname: !cname_chain.is_empty(),
            cname_chain,
            error,
        };
        self.store(key, status, Cached::Addr(a.clone()));
        a
    }

    /// TXT lookup; each record as its character-strings.
    pub async fn txt(&self, name: &str) -> TxtAnswer {
        let key = CacheKey(norm(name), RecordType::TXT);
        if let Some(Cached::Txt(a)) = self.cached(&key) {
            return a;
        }
        let (status, lookup, error) = self.query(&key.0, RecordType::TXT).await;
        let mut records = Vec::new();
        let mut cname = false;
        if let Some(l) = &lookup {
            for r in l.answers() {
                match &r.data {
                    RData::TXT(t) => records.push(t.txt_data.iter().map(|s| s.to_vec()).collect()),
                    RData::CNAME(_) => cname = true,
                    _ => {}
                }
            }
        }
        let status = fix_empty(status, records.is_empty());
        let a = TxtAnswer {
            status,
            records,
            cname,
            error,
        };
        self.store(key, status, Cached::Txt(a.clone()));
        a
    }

    fn cached(&self, key: &CacheKey) -> Option<Cached> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let hit = self.cache.lock().ok()?.get(key);
        if hit.is_some() {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn store(&self, key: CacheKey, status: LookupStatus, v: Cached) {
        if status.cacheable()
            && let Ok(mut c) = self.cache.lock()
        {
            c.put(key, v);
        }
    }

    /// One lookup with retries on timeout: (status, answer, error text).
    async fn query(
        &self,
        name: &str,
        rtype: RecordType,
    ) -> (LookupStatus, Option<Lookup>, Option<String>) {
        let fqdn = match Name::from_ascii(format!("{name}.")) {
            Ok(n) => n,
            Err(e) => {
                return (
                    LookupStatus::Error,
                    None,
                    Some(format!("invalid name: {e}")),
                );
            }
        };
        let attempts = self.cfg.attempts.max(1);
        let mut last = (LookupStatus::Timeout, None, Some("timeout".to_string()));
        let mut busy = 0u32;
        let mut attempt = 0;
        while attempt < attempts {
            if attempt > 0 {
                let wait = self.cfg.backoff.saturating_mul(1 << (attempt - 1).min(16));
                tokio::time::sleep(wait).await;
            }
            if let Some(hook) = &self.hook {
                // One waiter on the rate hook at a time, the others queued FIFO behind a
                // lock. A governor limiter's `until_ready` puts every waiter to sleep until
                // the next free instant and lets them all race for it, so with thousands of
                // lookups queued each admitted query cost thousands of timer wake-ups (the
                // scanner's DNS throughput stalled far below `--dns-rate`; docs/performance.md).
                let _turn = self.hook_turn.lock().await;
                hook().await;
            }
            attempt += 1;
            let result = {
                let _permit = self.sem.acquire().await;
                // hickory enforces `timeout` itself; this guard only covers a stuck future.
                let guard = self.cfg.timeout.saturating_mul(2) + Duration::from_millis(100);
                tokio::time::timeout(guard, self.resolver.lookup(fqdn.clone(), rtype)).await
            };
            if let Ok(Err(e)) = &result
                && is_local_backpressure(e)
                && busy < MAX_BUSY_RETRIES
            {
                // Nothing was sent: not an attempt, and nothing learnt about the name.
                busy += 1;
                attempt -= 1;
                tokio::time::sleep(BUSY_PAUSE.saturating_mul(busy.min(10))).await;
                continue;
            }
            let (status, lookup, err) = match result {
                Err(_) => (LookupStatus::Timeout, None, Some("timeout".to_string())),
                Ok(Ok(l)) => (LookupStatus::Ok, Some(l), None),
                Ok(Err(e)) => {
                    let s = classify(&e);
                    let detail = (s != LookupStatus::NxDomain && s != LookupStatus::NoData)
                        .then(|| e.to_string());
                    (s, None, detail)
                }
            };
            if status != LookupStatus::Timeout {
                return (status, lookup, err);
            }
            last = (status, lookup, err);
        }
        last
    }
}

/// How often one lookup is retried after local back-pressure ([`is_local_backpressure`])
/// before it gives up with `error`: with [`BUSY_PAUSE`] growing to 10 × 10 ms, about 5 s.
const MAX_BUSY_RETRIES: u32 = 60;
/// The first pause after local back-pressure (grows linearly with the count, to 10×).
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// True when hickory refused a query because its own queue towards the socket task was full
/// (`NetError::Busy`, or the "mpsc::SendError … channel is full" message of its buffered
/// stream handles). That happens on a starved machine when many lookups are in flight; no
/// packet was sent, so it says nothing about the name and must not become the `error`
/// status of a domain: the lookup is retried after a short pause instead.
pub fn is_local_backpressure(e: &NetError) -> bool {
    match e {
        NetError::Busy => true,
        NetError::Msg(m) => m.starts_with("mpsc::SendError"),
        _ => false,
    }
}

/// Maps hickory's error kinds onto the status vocabulary. NXDOMAIN vs NODATA is decided by
/// the response code carried in `NoRecords` (RFC 2308 §2).
pub fn classify(e: &NetError) -> LookupStatus {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            match *response_code {
                ResponseCode::NXDomain => LookupStatus::NxDomain,
                ResponseCode::NoError => LookupStatus::NoData,
                ResponseCode::ServFail => LookupStatus::ServFail,
                ResponseCode::Refused => LookupStatus::Refused,
                _ => LookupStatus::Error,
            }
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => LookupStatus::ServFail,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => LookupStatus::Refused,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::NXDomain)) => LookupStatus::NxDomain,
        NetError::Timeout => LookupStatus::Timeout,
        NetError::Io(io) if io.kind() == io::ErrorKind::TimedOut => LookupStatus::Timeout,
        _ => LookupStatus::Error,
    }
}

/// An "ok" answer with none of the requested records (e.g. only a CNAME) is nodata.
fn fix_empty(status: LookupStatus, empty: bool) -> LookupStatus {
    if status == LookupStatus::Ok && empty {
        LookupStatus::NoData
    } else {
        status
    }
}

fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn name_str(n: &Name) -> String {
    norm(&n.to_ascii())
}

fn is_ip_literal(s: &str) -> bool {
    let s = s.trim_start_matches('[').trim_end_matches(']');
    s.parse::<IpAddr>().is_ok()
}

/// Tokio runtime provider that counts what goes on the wire.
#[derive(Clone)]
struct CountingRuntime {
    inner: TokioRuntimeProvider,
    sent: Arc<AtomicU64>,
}

impl RuntimeProvider for CountingRuntime {
    type Handle = TokioHandle;
    type Timer = TokioTime;
    type Udp = CountingUdp;
    type Tcp = <TokioRuntimeProvider as RuntimeProvider>::Tcp;

    fn create_handle(&self) -> Self::Handle {
        self.inner.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Tcp, io::Error>>>> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.connect_tcp(server_addr, bind_addr, timeout)
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Udp, io::Error>>>> {
        let fut = self.inner.bind_udp(local_addr, server_addr);
        let sent = self.sent.clone();
        Box::pin(async move {
            let socket = fut.await?;
            Ok(CountingUdp { socket, sent })
        })
    }
}

/// A UDP socket that counts datagrams sent.
struct CountingUdp {
    socket: tokio::net::UdpSocket,
    sent: Arc<AtomicU64>,
}

impl DnsUdpSocket for CountingUdp {
    type Time = TokioTime;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        DnsUdpSocket::poll_recv_from(&self.socket, cx, buf)
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let r = DnsUdpSocket::poll_send_to(&self.socket, cx, buf, target);
        if let Poll::Ready(Ok(_)) = r {
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_values() {
        let cases: &[(&str, Option<&str>)] = &[
            ("192.0.2.53", Some("192.0.2.53:53")),
            ("127.0.0.1:5353", Some("127.0.0.1:5353")),
            ("::1", Some("[::1]:53")),
            ("[::1]:5300", Some("[::1]:5300")),
            ("[2001:db8::1]", Some("[2001:db8::1]:53")),
            ("dns.example", None),
            ("1.2.3.4:99999", None),
        ];
        for (v, want) in cases {
            let got = parse_nameserver(v).ok().map(|s| s.to_string());
            assert_eq!(got.as_deref(), *want, "{v}");
        }
    }

    #[test]
    fn resolv_conf() {
        let text = "# c\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver ::1\noptions ndots:2\n";
        let got: Vec<String> = parse_resolv_conf(text)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(got, ["10.0.0.2:53", "[::1]:53"]);
    }

    #[test]
    fn answer_cache_is_bounded() {
        let mut c = AnswerCache {
            cap: 4,
            ..Default::default()
        };
        for i in 0..100 {
            c.put(
                CacheKey(format!("n{i}"), RecordType::A),
                Cached::Txt(TxtAnswer {
                    status: LookupStatus::Ok,
                    records: vec![],
                    cname: false,
                    error: None,
                }),
            );
            assert!(c.len() <= 4);
        }
        assert!(c.get(&CacheKey("n99".into(), RecordType::A)).is_some());
        assert!(c.get(&CacheKey("n0".into(), RecordType::A)).is_none());
    }

    /// Regression: under load (10,000 domains against the testbed on two cores) hickory's
    /// internal queue filled up and its "channel is full" error became `dns_status = error`
    /// for domains whose DNS was fine. Such errors are local back-pressure, retried.
    #[test]
    fn local_backpressure_is_told_from_answers() {
        let cases: Vec<(NetError, bool)> = vec![
            (NetError::Busy, true),
            (
                NetError::from("mpsc::SendError send failed because channel is full".to_string()),
                true,
            ),
            (NetError::Timeout, false),
            (NetError::from("connection refused".to_string()), false),
            (
                NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)),
                false,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(is_local_backpressure(&e), want, "{e}");
        }
    }

    #[test]
    fn status_words() {
        let all = [
            (LookupStatus::Ok, "ok"),
            (LookupStatus::NoData, "nodata"),
            (LookupStatus::NxDomain, "nxdomain"),
            (LookupStatus::ServFail, "servfail"),
            (LookupStatus::Refused, "refused"),
            (LookupStatus::Timeout, "timeout"),
            (LookupStatus::Error, "error"),
        ];
        for (s, w) in all {
            assert_eq!(s.as_str(), w);
        }
    }
}
