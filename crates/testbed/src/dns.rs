//! The testbed's authoritative DNS server: every name, answered procedurally from the
//! world model ([`World::query`]), over UDP and TCP on the same port.
//!
//! # Why not hickory-server
//!
//! The server is a small hand-rolled loop around hickory-proto's [`Message`] encode/decode
//! rather than a hickory-server `RequestHandler`, because the testbed needs exact control
//! over three things a general server abstracts away: *not answering at all* (the
//! `timeout` scenario must leave the client waiting, on UDP and on a TCP connection that
//! stays open), the truncation decision (RFC 1035 §4.2.1 / RFC 6891 §6.2.5: a UDP answer
//! larger than 512 bytes, or than the client's EDNS payload size, is replaced by an empty
//! answer with TC set, and the full answer is served over TCP — `txt_huge` exists to test
//! exactly that), and a cheap query counter for the benchmark. hickory-server 0.26 also
//! logs every request at `info` level and needs a lifetime-heavy response builder; a
//! 200-line loop is simpler to audit.
//!
//! # Answers
//!
//! Authoritative (AA) for every name. Negative answers carry the enclosing zone's SOA in
//! the authority section (RFC 2308): NXDOMAIN, and NODATA = NOERROR with an empty answer.
//! CNAMEs are followed within the world and the chain is included (RFC 1034 §4.3.2).
//! TTL 300 everywhere, SOA minimum 300. Requests with EDNS get an OPT record back
//! (payload 1232). Opcodes other than QUERY get NOTIMP; not exactly one question FORMERR.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::TestbedError;
use crate::world::{Lookup, NEGATIVE_TTL, QType, Rcode, RrData, World};

/// Maximum UDP payload without EDNS (RFC 1035 §4.2.1).
const CLASSIC_UDP_LIMIT: usize = 512;
/// EDNS payload size the server advertises.
const SERVER_EDNS_PAYLOAD: u16 = 1232;
/// How long an idle TCP connection is kept.
const TCP_IDLE: Duration = Duration::from_secs(30);

/// Counters of a running DNS server.
#[derive(Debug, Default)]
pub struct DnsStats {
    received: AtomicU64,
    answered: AtomicU64,
    unanswered: AtomicU64,
    truncated: AtomicU64,
}

impl DnsStats {
    /// Queries received (UDP + TCP, including malformed ones).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
    /// Responses sent.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }
    /// Queries deliberately left unanswered (`timeout` scenario) or undecodable.
    pub fn unanswered(&self) -> u64 {
        self.unanswered.load(Ordering::Relaxed)
    }
    /// UDP responses sent truncated (TC).
    pub fn truncated(&self) -> u64 {
        self.truncated.load(Ordering::Relaxed)
    }
}

/// A running DNS server. Dropping it (or [`DnsHandle::shutdown`]) stops it.
#[derive(Debug)]
pub struct DnsHandle {
    addr: SocketAddr,
    stats: Arc<DnsStats>,
    tasks: Vec<JoinHandle<()>>,
}

impl DnsHandle {
    /// The bound address (UDP and TCP share the port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Total queries answered so far.
    pub fn queries(&self) -> u64 {
        self.stats.answered()
    }

    /// All counters.
    pub fn stats(&self) -> &DnsStats {
        &self.stats
    }

    /// Stop serving (also done on drop).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for DnsHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start the DNS server on `bind` (port 0: an ephemeral port, the same for UDP and TCP).
pub async fn start_dns(world: Arc<World>, bind: SocketAddr) -> Result<DnsHandle, TestbedError> {
    let (udp, tcp) = bind_pair(bind).await?;
    let addr = udp.local_addr()?;
    let stats = Arc::new(DnsStats::default());
    let udp = Arc::new(udp);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        tasks.push(tokio::spawn(serve_udp(
            Arc::clone(&world),
            Arc::clone(&udp),
            Arc::clone(&stats),
        )));
    }
    tasks.push(tokio::spawn(serve_tcp(world, tcp, Arc::clone(&stats))));
    Ok(DnsHandle { addr, stats, tasks })
}

async fn bind_pair(bind: SocketAddr) -> Result<(UdpSocket, TcpListener), TestbedError> {
    let mut last_err = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(bind).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind(SocketAddr::new(bind.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if bind.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_err
        .map(TestbedError::from)
        .unwrap_or_else(|| TestbedError::Config("could not bind DNS sockets".into())))
}

async fn serve_udp(world: Arc<World>, socket: Arc<UdpSocket>, stats: Arc<DnsStats>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(%e, "dns udp recv");
                continue;
            }
        };
        stats.received.fetch_add(1, Ordering::Relaxed);
        match respond(&world, &buf[..n], true) {
            Some((bytes, truncated)) => {
                if truncated {
                    stats.truncated.fetch_add(1, Ordering::Relaxed);
                }
                if socket.send_to(&bytes, peer).await.is_ok() {
                    stats.answered.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                stats.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

async fn serve_tcp(world: Arc<World>, listener: TcpListener, stats: Arc<DnsStats>) {
    // Connection tasks live in this set: aborting the accept task drops (aborts) them all.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_tcp_conn(Arc::clone(&world), stream, Arc::clone(&stats)));
                }
                Err(e) => {
                    tracing::debug!(%e, "dns tcp accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_tcp_conn(world: Arc<World>, mut stream: TcpStream, stats: Arc<DnsStats>) {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut msg).await.is_err() {
            return;
        }
        stats.received.fetch_add(1, Ordering::Relaxed);
        let Some((bytes, _)) = respond(&world, &msg, false) else {
            // Timeout scenario: say nothing, keep the connection (RFC 7766 allows
            // out-of-order answers; the client simply never gets this one).
            stats.unanswered.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let Ok(len) = u16::try_from(bytes.len()) else {
            return;
        };
        let mut out = Vec::with_capacity(bytes.len() + 2);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&bytes);
        if stream.write_all(&out).await.is_err() {
            return;
        }
        stats.answered.fetch_add(1, Ordering::Relaxed);
    }
}

/// Map a wire record type to the model's.
fn qtype_of(rt: RecordType) -> QType {
    match rt {
        RecordType::A => QType::A,
        RecordType::AAAA => QType::Aaaa,
        RecordType::MX => QType::Mx,
        RecordType::TXT => QType::Txt,
        RecordType::CNAME => QType::Cname,
        RecordType::SOA => QType::Soa,
        RecordType::NS => QType::Ns,
        other => QType::Other(u16::from(other)),
    }
}

/// Wire name of a model name ("" = root).
fn wire_name(name: &str) -> Option<Name> {
    if name.is_empty() {
        Some(Name::root())
    } else {
        Name::from_ascii(format!("{name}.")).ok()
    }
}

fn soa_record(zone: &str) -> Option<Record> {
    let owner = wire_name(zone)?;
    let soa = SOA::new(
        Name::from_ascii("ns1.testbed.test.").ok()?,
        Name::from_ascii("hostmaster.testbed.test.").ok()?,
        1,
        3600,
        600,
        86_400,
        NEGATIVE_TTL,
    );
    Some(Record::from_rdata(owner, NEGATIVE_TTL, RData::SOA(soa)))
}

fn wire_record(rr: &crate::world::Rr) -> Option<Record> {
    let owner = wire_name(&rr.name)?;
    let data = match &rr.data {
        RrData::A(a) => RData::A(A(*a)),
        RrData::Mx(pref, ex) => RData::MX(MX::new(*pref, wire_name(ex)?)),
        RrData::Txt(strings) => RData::TXT(TXT::new(strings.clone())),
        RrData::Cname(t) => RData::CNAME(CNAME(wire_name(t)?)),
        RrData::Ns(n) => RData::NS(NS(wire_name(n)?)),
        RrData::Soa => return soa_record(&rr.name),
    };
    Some(Record::from_rdata(owner, rr.ttl, data))
}

/// Build the response to one query message; `None` = do not answer. The flag says whether
/// the answer was truncated (UDP only).
pub fn respond(world: &World, query: &[u8], udp: bool) -> Option<(Vec<u8>, bool)> {
    let req = match Message::from_vec(query) {
        Ok(m) => m,
        Err(_) => {
            // Undecodable: FORMERR if at least the header is there.
            if query.len() < 12 {
                return None;
            }
            let id = u16::from_be_bytes([query[0], query[1]]);
            let msg = Message::error_msg(id, OpCode::Query, ResponseCode::FormErr);
            return msg.to_vec().ok().map(|b| (b, false));
        }
    };
    if req.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.authoritative = true;
    let client_payload = req.edns.as_ref().map(|e| e.max_payload());
    if req.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(SERVER_EDNS_PAYLOAD);
        resp.set_edns(edns);
    }
    for q in &req.queries {
        resp.add_query(q.clone());
    }
    if req.metadata.op_code != OpCode::Query {
        resp.metadata.response_code = ResponseCode::NotImp;
    } else if req.queries.len() != 1 {
        resp.metadata.response_code = ResponseCode::FormErr;
    } else {
        let q = &req.queries[0];
        let name = q
            .name()
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        match world.query(&name, qtype_of(q.query_type())) {
            Lookup::NoReply => return None,
            Lookup::Answer {
                rcode,
                answers,
                soa_zone,
            } => {
                resp.metadata.response_code = match rcode {
                    Rcode::NoError => ResponseCode::NoError,
                    Rcode::NxDomain => ResponseCode::NXDomain,
                    Rcode::ServFail => ResponseCode::ServFail,
                };
                let records: Option<Vec<Record>> = answers.iter().map(wire_record).collect();
                match records {
                    Some(records) => {
                        resp.add_answers(records);
                        if let Some(rec) = soa_zone.as_deref().and_then(soa_record) {
                            resp.add_authority(rec);
                        }
                    }
                    None => resp.metadata.response_code = ResponseCode::ServFail,
                }
            }
        }
    }
    let bytes = resp.to_vec().ok()?;
    if udp {
        let limit =
            client_payload.map_or(CLASSIC_UDP_LIMIT, |p| usize::from(p).max(CLASSIC_UDP_LIMIT));
        if bytes.len() > limit {
            let truncated = resp.truncate();
            return truncated.to_vec().ok().map(|b| (b, true));
        }
    }
    Some((bytes, false))
}
