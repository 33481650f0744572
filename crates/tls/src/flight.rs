//! The server's first flight, read record by record (RFC 5246 §6.2.1, §7.4; RFC 8446 §4.1.3,
//! §5.1) from bytes cut anywhere.

use crate::version::{AlertDescription, Version};

/// TLS record content types (RFC 5246 §6.2.1, RFC 8446 §5.1).
pub mod content_type {
    /// change_cipher_spec(20).
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// alert(21).
    pub const ALERT: u8 = 21;
    /// handshake(22).
    pub const HANDSHAKE: u8 = 22;
    /// application_data(23).
    pub const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types a server's first flight holds (RFC 5246 §7.4, RFC 6066 §8).
pub mod handshake_type {
    /// hello_request(0): ignored (RFC 5246 §7.4.1.1).
    pub const HELLO_REQUEST: u8 = 0;
    /// server_hello(2).
    pub const SERVER_HELLO: u8 = 2;
    /// certificate(11).
    pub const CERTIFICATE: u8 = 11;
    /// server_key_exchange(12).
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    /// certificate_request(13).
    pub const CERTIFICATE_REQUEST: u8 = 13;
    /// server_hello_done(14).
    pub const SERVER_HELLO_DONE: u8 = 14;
    /// certificate_status(22) (RFC 6066 §8).
    pub const CERTIFICATE_STATUS: u8 = 22;
}

/// The largest record a peer may send: 2^14 octets of plaintext plus the 2048 of expansion
/// RFC 5246 §6.2.3 allows a ciphertext.
const MAX_RECORD: usize = (1 << 14) + 2048;
/// `supported_versions` (RFC 8446 §4.2.1).
const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// The ServerHello random of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Limits on what one server may make the reader hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Bytes read before a decision; beyond it the flight is [`Flight::TooLarge`].
    pub max_bytes: usize,
    /// Certificates in the chain; more is [`Flight::TooLarge`].
    pub max_certs: usize,
}

impl Default for Caps {
    /// 128 KiB (real chains are a few KiB; the largest seen are under 40 KiB) and 16
    /// certificates.
    fn default() -> Self {
        Caps {
            max_bytes: 128 * 1024,
            max_certs: 16,
        }
    }
}

/// What the server selected (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` (the `server_version` of TLS ≤ 1.2).
    pub legacy_version: Version,
    /// The version in force: `supported_versions` when the server sent it, else
    /// `legacy_version`.
    pub version: Version,
    /// The cipher suite (IANA TLS Cipher Suites registry code point).
    pub cipher_suite: u16,
    /// The compression method (0: none).
    pub compression: u8,
    /// Extension types, in the order sent.
    pub extensions: Vec<u16>,
    /// A HelloRetryRequest (TLS 1.3: the server wants another key share).
    pub retry_request: bool,
}

/// An alert (RFC 5246 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// What went wrong.
    pub description: AlertDescription,
}

/// Why the bytes are not a TLS server's first flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTls {
    /// A record does not begin with a known content type and major version 3 (plain text such
    /// as an SMTP reply, SSL 2.0, garbage).
    NotARecord,
    /// A record longer than RFC 5246 §6.2.3 allows.
    RecordTooLong,
    /// A handshake message whose lengths do not add up (what is named).
    Malformed(&'static str),
    /// A record or handshake message that cannot come first from a server (its type).
    Unexpected(u8),
}

/// How the first flight ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flight {
    /// The server answered with a ServerHello.
    Hello {
        /// What it selected.
        hello: ServerHello,
        /// The chain of its Certificate message (TLS ≤ 1.2), leaf first, as DER; empty when it
        /// sent none (TLS 1.3 encrypts it; anonymous suites have none).
        certificates: Vec<Vec<u8>>,
        /// The flight was read to its end: ServerHelloDone (TLS ≤ 1.2), or the ServerHello of
        /// TLS 1.3 (what follows is encrypted). False when the server stopped early (an alert,
        /// a change_cipher_spec, the end of the connection).
        complete: bool,
    },
    /// The server sent an alert instead of a ServerHello.
    Alert(Alert),
    /// Not TLS.
    NotTls(NotTls),
    /// More than [`Caps`] allow before a decision.
    TooLarge,
    /// The connection ended first (after this many bytes).
    Truncated {
        /// Bytes received.
        received: usize,
    },
}

/// One step of [`FlightReader::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No decision yet: read more (or call [`FlightReader::finish`] at the end of the stream).
    NeedMore,
    /// Decided; later bytes are ignored.
    Done(Flight),
}

/// Reads a server's first flight from bytes cut anywhere (sans-io: the driver reads, this
/// decides). The same bytes give the same [`Flight`] however they are cut.
#[derive(Debug, Clone)]
pub struct FlightReader {
    caps: Caps,
    /// Bytes of the record being read (its header first); a handshake record's body moves on
    /// to `handshake` as it arrives.
    record: Vec<u8>,
    /// Body bytes of the current record already moved to `handshake`.
    forwarded: usize,
    /// The handshake byte stream, reassembled across records (RFC 5246 §6.2.1).
    handshake: Vec<u8>,
    hello: Option<ServerHello>,
    certificates: Vec<Vec<u8>>,
    received: usize,
    done: Option<Flight>,
}

impl FlightReader {
    /// A reader with these caps.
    pub fn new(caps: Caps) -> FlightReader {
        FlightReader {
            caps,
            record: Vec::new(),
            forwarded: 0,
            handshake: Vec::new(),
            hello: None,
            certificates: Vec::new(),
            received: 0,
            done: None,
        }
    }

    /// Bytes taken so far (at most `caps.max_bytes`).
    pub fn received(&self) -> usize {
        self.received
    }

    /// The next bytes from the server.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Step {
        while self.done.is_none() && !bytes.is_empty() {
            if self.received == self.caps.max_bytes {
                self.done = Some(Flight::TooLarge);
                break;
            }
            // Take at most the rest of this record (or of its header), and never past the cap,
            // so every decision is made at the same byte however the input is cut.
            let want = self.record_wants();
            let n = want
                .min(bytes.len())
                .min(self.caps.max_bytes - self.received);
            self.record.extend_from_slice(&bytes[..n]);
            self.received += n;
            bytes = &bytes[n..];
            if let Some(flight) = self.after_record_bytes() {
                self.done = Some(flight);
            }
        }
        match &self.done {
            Some(f) => Step::Done(f.clone()),
            None => Step::NeedMore,
        }
    }

    /// The end of the stream: the decision, or what the bytes so far amount to.
    pub fn finish(&mut self) -> Flight {
        if let Some(f) = &self.done {
            return f.clone();
        }
        let f = match self.hello.take() {
            Some(hello) => Flight::Hello {
                hello,
                certificates: std::mem::take(&mut self.certificates),
                complete: false,
            },
            None => Flight::Truncated {
                received: self.received,
            },
        };
        self.done = Some(f.clone());
        f
    }

    /// How many more bytes the current record needs (header, then body).
    fn record_wants(&self) -> usize {
        if self.record.len() < 5 {
            return 5 - self.record.len();
        }
        5 + usize::from(u16::from_be_bytes([self.record[3], self.record[4]]))
            - self.record.len()
            - self.forwarded
    }

    /// Checks the record header as soon as its bytes are there; processes a whole record.
    fn after_record_bytes(&mut self) -> Option<Flight> {
        let r = &self.record;
        if let Some(&ct) = r.first()
            && !(content_type::CHANGE_CIPHER_SPEC..=content_type::APPLICATION_DATA).contains(&ct)
        {
            return Some(Flight::NotTls(NotTls::NotARecord));
        }
        if r.len() >= 2 && r[1] != 3 {
            return Some(Flight::NotTls(NotTls::NotARecord));
        }
        if r.len() < 5 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([r[3], r[4]]));
        if len > MAX_RECORD {
            return Some(Flight::NotTls(NotTls::RecordTooLong));
        }
        if r[0] == content_type::HANDSHAKE {
            if len == 0 {
                // RFC 5246 §6.2.1: zero-length handshake fragments MUST NOT be sent.
                return Some(Flight::NotTls(NotTls::Malformed("empty handshake record")));
            }
            // Handshake bytes are read as they come: a message decides as soon as it is
            // whole, even if the server never finishes the record.
            let body = self.record.split_off(5);
            self.forwarded += body.len();
            self.handshake.extend_from_slice(&body);
            if self.forwarded == len {
                self.record.clear();
                self.forwarded = 0;
            }
            return self.handshake_messages();
        }
        if r.len() < 5 + len {
            return None;
        }
        let record = std::mem::take(&mut self.record);
        let (ct, body) = (record[0], &record[5..]);
        match ct {
            content_type::ALERT => {
                if body.len() != 2 {
                    return Some(Flight::NotTls(NotTls::Malformed("alert record")));
                }
                let alert = Alert {
                    level: body[0],
                    description: AlertDescription(body[1]),
                };
                Some(self.stopped().unwrap_or(Flight::Alert(alert)))
            }
            other => Some(
                self.stopped()
                    .unwrap_or(Flight::NotTls(NotTls::Unexpected(other))),
            ),
        }
    }

    /// The flight so far when the server stops after its hello (`complete: false`).
    fn stopped(&mut self) -> Option<Flight> {
        let hello = self.hello.take()?;
        Some(Flight::Hello {
            hello,
            certificates: std::mem::take(&mut self.certificates),
            complete: false,
        })
    }

    /// Processes every whole handshake message buffered.
    fn handshake_messages(&mut self) -> Option<Flight> {
        loop {
            let h = &self.handshake;
            if h.len() < 4 {
                return None;
            }
            let (t, len) = (h[0], u24(&h[1..4]));
            if len > self.caps.max_bytes {
                return Some(Flight::TooLarge);
            }
            if h.len() < 4 + len {
                return None;
            }
            let msg: Vec<u8> = self.handshake.drain(..4 + len).skip(4).collect();
            if let Some(f) = self.message(t, &msg) {
                return Some(f);
            }
        }
    }

    fn message(&mut self, t: u8, body: &[u8]) -> Option<Flight> {
        if self.hello.is_none() {
            return match t {
                handshake_type::HELLO_REQUEST => None,
                handshake_type::SERVER_HELLO => match parse_server_hello(body) {
                    Ok(hello) => {
                        // TLS 1.3: everything after the ServerHello is encrypted; a
                        // HelloRetryRequest ends this flight too.
                        let ends = hello.retry_request || hello.version >= Version::TLS13;
                        if ends {
                            return Some(Flight::Hello {
                                hello,
                                certificates: Vec::new(),
                                complete: true,
                            });
                        }
                        self.hello = Some(hello);
                        None
                    }
                    Err(what) => Some(Flight::NotTls(NotTls::Malformed(what))),
                },
                other => Some(Flight::NotTls(NotTls::Unexpected(other))),
            };
        }
        match t {
            handshake_type::CERTIFICATE => {
                if !self.certificates.is_empty() {
                    return Some(Flight::NotTls(NotTls::Malformed("second certificate")));
                }
                match parse_certificate_list(body, self.caps.max_certs) {
                    Ok(Some(list)) => {
                        self.certificates = list;
                        None
                    }
                    Ok(None) => Some(Flight::TooLarge),
                    Err(what) => Some(Flight::NotTls(NotTls::Malformed(what))),
                }
            }
            handshake_type::SERVER_HELLO_DONE => {
                if !body.is_empty() {
                    return Some(Flight::NotTls(NotTls::Malformed("server_hello_done")));
                }
                let hello = self.hello.take().expect("checked above");
                Some(Flight::Hello {
                    hello,
                    certificates: std::mem::take(&mut self.certificates),
                    complete: true,
                })
            }
            handshake_type::SERVER_HELLO => {
                Some(Flight::NotTls(NotTls::Malformed("second server_hello")))
            }
            // ServerKeyExchange, CertificateRequest, CertificateStatus, anything else:
            // not needed here.
            _ => None,
        }
    }
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

/// A cursor over a message body; every read checks the bytes are there.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err(what);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, &'static str> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, &'static str> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self, what: &'static str) -> Result<usize, &'static str> {
        Ok(u24(self.take(3, what)?))
    }
}

/// RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3; extensions are optional in TLS ≤ 1.2.
fn parse_server_hello(body: &[u8]) -> Result<ServerHello, &'static str> {
    let mut c = Cursor(body);
    let legacy_version = Version(c.u16("server_hello version")?);
    let random = c.take(32, "server_hello random")?;
    let sid = usize::from(c.u8("server_hello session_id")?);
    if sid > 32 {
        return Err("server_hello session_id");
    }
    c.take(sid, "server_hello session_id")?;
    let cipher_suite = c.u16("server_hello cipher_suite")?;
    let compression = c.u8("server_hello compression")?;
    let mut extensions = Vec::new();
    let mut version = legacy_version;
    if !c.0.is_empty() {
        let total = usize::from(c.u16("server_hello extensions")?);
        let mut e = Cursor(c.take(total, "server_hello extensions")?);
        while !e.0.is_empty() {
            let t = e.u16("extension")?;
            let len = usize::from(e.u16("extension")?);
            let data = e.take(len, "extension")?;
            if extensions.contains(&t) {
                return Err("duplicate extension");
            }
            if t == EXT_SUPPORTED_VERSIONS {
                let [a, b] = data else {
                    return Err("supported_versions");
                };
                version = Version(u16::from_be_bytes([*a, *b]));
            }
            extensions.push(t);
        }
    }
    if !c.0.is_empty() {
        return Err("server_hello trailing bytes");
    }
    Ok(ServerHello {
        legacy_version,
        version,
        cipher_suite,
        compression,
        extensions,
        retry_request: random == HRR_RANDOM,
    })
}

/// RFC 5246 §7.4.2: `opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1>`.
/// `Ok(None)`: more than `max` certificates.
fn parse_certificate_list(body: &[u8], max: usize) -> Result<Option<Vec<Vec<u8>>>, &'static str> {
    let mut c = Cursor(body);
    let total = c.u24("certificate_list")?;
    if c.0.len() != total {
        return Err("certificate_list length");
    }
    let mut out = Vec::new();
    while !c.0.is_empty() {
        let len = c.u24("certificate")?;
        if len == 0 {
            return Err("empty certificate");
        }
        if out.len() == max {
            return Ok(None);
        }
        out.push(c.take(len, "certificate")?.to_vec());
    }
    Ok(Some(out))
}
