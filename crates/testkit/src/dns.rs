//! A tiny authoritative DNS server on 127.0.0.1 (UDP + TCP on the same port) answering
//! from a fixed table, counting the queries it sees: every status, never answering,
//! truncation with the answer over TCP. (The testbed's own DNS server answers from a world;
//! this one answers exactly what a test scripts.)

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, MX, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// The scripted answers, by (lower-case absolute name, type); anything else is NXDOMAIN.
pub type Zone = HashMap<(String, RecordType), Ans>;

/// What the server answers for one (name, type).
#[derive(Debug, Clone)]
pub enum Ans {
    Records(Vec<Record>),
    NxDomain,
    NoData,
    ServFail,
    Refused,
    /// Never answer.
    Silent,
    /// UDP: empty answer with TC=1; TCP: these records.
    Truncated(Vec<Record>),
}

/// A DNS name.
pub fn n(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

/// The SOA of negative answers.
pub fn soa() -> Record {
    Record::from_rdata(
        n("test."),
        300,
        RData::SOA(SOA::new(
            n("ns.test."),
            n("hostmaster.test."),
            1,
            3600,
            600,
            86400,
            300,
        )),
    )
}

/// A running server: its address and the queries it has seen.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub hits: Arc<std::sync::Mutex<HashMap<String, u64>>>,
    pub tcp_hits: Arc<AtomicU64>,
}

impl Server {
    /// UDP queries seen for `name` (lower-case, absolute).
    pub fn hits(&self, name: &str) -> u64 {
        *self.hits.lock().unwrap().get(name).unwrap_or(&0)
    }
}

/// The answer to `req` (`None`: stay silent); `tcp` says which transport asked.
pub fn answer(zone: &Zone, req: &Message, tcp: bool) -> Option<Message> {
    let q = req.queries.first()?.clone();
    let key = (q.name().to_ascii().to_ascii_lowercase(), q.query_type());
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.authoritative = true;
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.add_query(q.clone());
    match zone.get(&key).cloned().unwrap_or(Ans::NxDomain) {
        Ans::Records(rs) => {
            resp.add_answers(rs);
        }
        Ans::NxDomain => {
            resp.metadata.response_code = ResponseCode::NXDomain;
            resp.add_authority(soa());
        }
        Ans::NoData => {
            resp.add_authority(soa());
        }
        Ans::ServFail => resp.metadata.response_code = ResponseCode::ServFail,
        Ans::Refused => resp.metadata.response_code = ResponseCode::Refused,
        Ans::Silent => return None,
        Ans::Truncated(rs) => {
            if tcp {
                resp.add_answers(rs);
            } else {
                resp.metadata.truncation = true;
            }
        }
    }
    Some(resp)
}

/// A UDP socket and a TCP listener on the same ephemeral port. The port the
/// kernel picks for UDP may already be taken for TCP (another test's client
/// connection), so try a few ports rather than fail the test on a collision.
async fn bind_pair() -> (UdpSocket, TcpListener, SocketAddr) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp, addr);
        }
    }
    panic!("no port free for both UDP and TCP after 50 tries");
}

/// Start answering `zone` on 127.0.0.1 (UDP and TCP, one port).
pub async fn start(zone: Zone) -> Server {
    let (udp, tcp, addr) = bind_pair().await;
    let zone = Arc::new(zone);
    let hits: Arc<std::sync::Mutex<HashMap<String, u64>>> = Arc::default();
    let tcp_hits = Arc::new(AtomicU64::new(0));
    {
        let zone = zone.clone();
        let hits = hits.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((len, peer)) = udp.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(req) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                if let Some(q) = req.queries.first() {
                    *hits
                        .lock()
                        .unwrap()
                        .entry(q.name().to_ascii().to_ascii_lowercase())
                        .or_default() += 1;
                }
                if let Some(resp) = answer(&zone, &req, false) {
                    let _ = udp.send_to(&resp.to_vec().unwrap(), peer).await;
                }
            }
        });
    }
    {
        let zone = zone.clone();
        let tcp_hits = tcp_hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = tcp.accept().await else {
                    return;
                };
                let zone = zone.clone();
                let tcp_hits = tcp_hits.clone();
                tokio::spawn(async move {
                    loop {
                        let Ok(len) = s.read_u16().await else { return };
                        let mut buf = vec![0u8; len as usize];
                        if s.read_exact(&mut buf).await.is_err() {
                            return;
                        }
                        tcp_hits.fetch_add(1, Ordering::Relaxed);
                        let Ok(req) = Message::from_vec(&buf) else {
                            return;
                        };
                        if let Some(resp) = answer(&zone, &req, true) {
                            let out = resp.to_vec().unwrap();
                            let _ = s.write_u16(out.len() as u16).await;
                            let _ = s.write_all(&out).await;
                        }
                    }
                });
            }
        });
    }
    Server {
        addr,
        hits,
        tcp_hits,
    }
}

/// Record builders.
pub fn a(name: &str, ip: [u8; 4]) -> Record {
    Record::from_rdata(n(name), 300, RData::A(A(Ipv4Addr::from(ip))))
}
pub fn mx(name: &str, pref: u16, ex: &str) -> Record {
    Record::from_rdata(n(name), 300, RData::MX(MX::new(pref, n(ex))))
}
pub fn txt(name: &str, strings: &[&str]) -> Record {
    Record::from_rdata(
        n(name),
        300,
        RData::TXT(TXT::new(strings.iter().map(|s| s.to_string()).collect())),
    )
}
pub fn cname(name: &str, target: &str) -> Record {
    Record::from_rdata(n(name), 300, RData::CNAME(CNAME(n(target))))
}
