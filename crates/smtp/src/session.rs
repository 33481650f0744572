//! The sans-io SMTP client session: greeting → EHLO → STARTTLS → TLS → EHLO → QUIT
//! (RFC 5321 §3.1, §4.1.1.1, §4.1.1.10; RFC 3207 §4).
//!
//! # Driving it
//!
//! The session never touches a socket. The driver loops over [`Session::next_action`] and
//! reports what happened with [`Session::handle`]:
//!
//! ```
//! use mxscan_smtp::{Action, EhloName, Event, Session};
//! # let mut server: Vec<&[u8]> = vec![b"220 mx ESMTP\r\n", b"250 mx\r\n", b"221 bye\r\n"];
//! let mut session = Session::new(EhloName::new("scanner.example").unwrap());
//! let outcome = loop {
//!     match session.next_action() {
//!         // write the line; on a write error: session.handle(Event::ConnectionClosed)
//!         Action::Send { command, .. } => { let _line = command.to_bytes(); }
//!         // read with the phase's deadline; EOF/reset → ConnectionClosed, deadline → Timeout
//!         Action::Read(_phase) => match server.is_empty() {
//!             false => session.handle(Event::Data(server.remove(0))),
//!             true => session.handle(Event::ConnectionClosed),
//!         },
//!         // never feed `after_reply` to TLS; optionally drain the socket without waiting and
//!         // hand those bytes over as Event::Data too; then run the handshake and report it
//!         Action::StartTls { after_reply: _ } => session.handle(Event::TlsEstablished),
//!         Action::Done => break session.into_outcome(),
//!     }
//! };
//! assert_eq!(outcome.status.as_str(), "no_starttls");
//! ```
//!
//! # Design
//!
//! States are an internal enum inside one `Session` value driven through `&mut self`
//! (rather than types consumed by value): a driver loop is then a single `match` on the
//! [`Action`], and tests and fuzzers can script any byte stream against it. The states are:
//!
//! ```text
//! Await(Greeting) ─220─► Send(Ehlo) ► Await(Ehlo) ─250+STARTTLS─► Send(Starttls) ► Await(Starttls)
//!   │421: Done           │4yz/5yz: Send(Quit)      │250 without: Send(Quit)          │220
//!   │4yz/5yz: Send(Quit) │                                                            ▼
//!   │                    ▼                          StartTls ─(action taken)─► Handshake
//!   ▼                  Await(Quit) ─any reply / close / timeout─► Done        │TlsEstablished
//! Done                    ▲                                                    ▼
//!                         └──────── Send(Quit) ◄─any reply─ Await(EhloTls) ◄ Send(EhloTls)
//! ```
//!
//! Decisions (all tested):
//! - Nothing is sent before the greeting is complete (multi-line greetings included).
//! - The status is decided once, in the phase recorded in [`Outcome::phase`]; later events
//!   only add data. TLS established ⇒ `ok`; the post-TLS EHLO is recorded if it comes, and
//!   its failure (reply ≠ 250, close, timeout, garbage) only sets [`Outcome::detail`].
//! - QUIT is sent after a rejection (5yz greeting, EHLO/STARTTLS rejected), after
//!   `no_starttls` and after the post-TLS EHLO. Its 221 is awaited but not required: any
//!   reply, a close, a timeout or garbage in [`Phase::Quit`] ends the session without
//!   changing the status (the driver should give the QUIT phase a short deadline).
//! - No QUIT after a `421` (RFC 5321 §3.8: the server is closing), a protocol error (the
//!   stream is out of step), a TLS failure (the connection state is unknown), or an I/O
//!   error / timeout.
//! - `Timeout` in [`Phase::Greeting`] gives `greeting_timeout`; elsewhere `timeout` with the
//!   phase in [`Outcome::phase`]. `ConnectionClosed` before the peer sent any byte gives
//!   `closed_before_greeting` (accepted, then closed or reset: a connection limit,
//!   postscreen, a load balancer without backend — not a refused SYN, which never reaches
//!   the session);
//!   during the TLS handshake `tls_failed`; elsewhere `io_error`.
//! - Bytes that arrive together with a reply, before the client sent the command they would
//!   answer, are kept and parsed as the next reply once that command is sent (as a stream
//!   client like Postfix does); the outcome is therefore the same however the peer's bytes
//!   are split into reads. The one exception is the STARTTLS `220`: bytes after it are the
//!   RFC 3207 §4 / CVE-2011-0411 injection finding, recorded in
//!   [`Outcome::bytes_after_starttls`] and handed to the driver in [`Action::StartTls`], never
//!   parsed and never fed to TLS.

use serde::Serialize;

use crate::command::{Command, EhloName};
use crate::ehlo::Ehlo;
use crate::error::{InvalidEhloName, ReplyError};
use crate::reply::{EnhancedStatus, MAX_REPLY_BYTES, Parse, Reply, ReplyParser};
use crate::status::{Phase, ProbeStatus};

/// How many of the bytes received after the STARTTLS `220` are kept as a sample
/// ([`Outcome::after_starttls_sample`]); all of them are counted.
pub const AFTER_STARTTLS_SAMPLE_BYTES: usize = 256;

/// Something that happened, reported by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Bytes read from the peer (any split). Empty slices are ignored; EOF is
    /// [`Event::ConnectionClosed`].
    Data(&'a [u8]),
    /// The peer closed or reset the connection (read returned 0 or an error, or a write
    /// failed).
    ConnectionClosed,
    /// The deadline of the current phase expired.
    Timeout,
    /// The TLS handshake after [`Action::StartTls`] completed.
    TlsEstablished,
    /// The TLS handshake after [`Action::StartTls`] failed, with the reason
    /// (becomes [`Outcome::tls_error`]).
    TlsFailed(&'a str),
}

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write `command.to_bytes()` (over TLS in [`Phase::EhloTls`] and after), then ask again.
    Send {
        /// The command (EHLO, STARTTLS or QUIT — nothing else exists).
        command: Command,
        /// The phase this command opens (timestamp it).
        phase: Phase,
    },
    /// Read from the peer with this phase's deadline and report [`Event::Data`],
    /// [`Event::ConnectionClosed`] or [`Event::Timeout`].
    Read(Phase),
    /// STARTTLS was accepted: run the TLS handshake now and report [`Event::TlsEstablished`]
    /// or [`Event::TlsFailed`]. `after_reply` holds the bytes received after the `220`
    /// (up to [`MAX_REPLY_BYTES`] of them); they are already recorded and must NOT be fed to
    /// TLS. Before the handshake the driver may drain what is already buffered in the socket
    /// without waiting and report it as [`Event::Data`]: it is counted too. Asking again
    /// before reporting the handshake gives `StartTls` with no bytes.
    StartTls {
        /// Bytes received after the STARTTLS `220` reply.
        after_reply: Vec<u8>,
    },
    /// The conversation is over: close the connection and take [`Session::into_outcome`].
    Done,
}

/// A reply the session received, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReplyRecord {
    /// Phase the reply answered.
    pub phase: Phase,
    /// Reply code.
    pub code: u16,
    /// Enhanced status code (RFC 3463), if the reply carried one.
    pub enhanced: Option<EnhancedStatus>,
}

/// Everything one probe conversation produced. Partial results are kept whatever the
/// status (a failed STARTTLS still has the banner and the EHLO keywords).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The `probes.status` value.
    pub status: ProbeStatus,
    /// The phase in which the status was decided (for `ok`: [`Phase::Tls`]).
    pub phase: Phase,
    /// Human-readable reason for a non-`ok` status, or a note on what failed after TLS.
    pub detail: Option<String>,
    /// The reply syntax error behind a `protocol_error` (or a post-TLS one).
    pub reply_error: Option<ReplyError>,
    /// Greeting text, all lines joined by `"\n"`.
    pub banner: Option<String>,
    /// Parsed pre-TLS EHLO capabilities (from a 250 reply).
    pub ehlo: Option<Ehlo>,
    /// Pre-TLS EHLO keywords, uppercased, parameters dropped (`ehlo_keywords` column).
    pub ehlo_keywords: Vec<String>,
    /// Parsed post-TLS EHLO capabilities (from a 250 reply).
    pub ehlo_tls: Option<Ehlo>,
    /// Post-TLS EHLO keywords.
    pub ehlo_keywords_tls: Vec<String>,
    /// Whether the pre-TLS EHLO reply advertised STARTTLS; `None` if no 250 EHLO reply came.
    pub starttls_offered: Option<bool>,
    /// Code of the reply to STARTTLS, if one came.
    pub starttls_code: Option<u16>,
    /// Bytes received after the STARTTLS `220` and before the handshake (saturating);
    /// `None` unless a `220` to STARTTLS came.
    pub bytes_after_starttls: Option<u32>,
    /// The first [`AFTER_STARTTLS_SAMPLE_BYTES`] of those bytes.
    pub after_starttls_sample: Vec<u8>,
    /// The driver's reason for a failed handshake.
    pub tls_error: Option<String>,
    /// Every reply received, in order, with its phase.
    pub replies: Vec<ReplyRecord>,
    /// Some reply line ended in a bare LF (RFC 5321 §2.3.8 requires CRLF).
    pub bare_lf: bool,
}

impl Outcome {
    fn new() -> Outcome {
        Outcome {
            status: ProbeStatus::Timeout,
            phase: Phase::Greeting,
            detail: None,
            reply_error: None,
            banner: None,
            ehlo: None,
            ehlo_keywords: Vec::new(),
            ehlo_tls: None,
            ehlo_keywords_tls: Vec::new(),
            starttls_offered: None,
            starttls_code: None,
            bytes_after_starttls: None,
            after_starttls_sample: Vec::new(),
            tls_error: None,
            replies: Vec::new(),
            bare_lf: false,
        }
    }

    /// Code of the last reply received in `phase`.
    pub fn code(&self, phase: Phase) -> Option<u16> {
        self.replies
            .iter()
            .rev()
            .find(|r| r.phase == phase)
            .map(|r| r.code)
    }

    /// The reply codes in the order received (e.g. `[220, 250, 220, 250, 221]`).
    pub fn codes(&self) -> Vec<u16> {
        self.replies.iter().map(|r| r.code).collect()
    }
}

/// Internal state; see the module documentation for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The command opening this phase is to be sent next.
    Send(Phase),
    /// Waiting for the reply that ends this phase.
    Await(Phase),
    /// STARTTLS accepted; [`Action::StartTls`] not yet handed out.
    StartTls,
    /// [`Action::StartTls`] handed out; waiting for the handshake result.
    Handshake,
    /// Finished.
    Done,
}

/// The sans-io client conversation of one probe. See the module documentation.
#[derive(Debug, Clone)]
pub struct Session {
    name: EhloName,
    step: Step,
    /// Phase of the current step (or of the last one, once done).
    phase: Phase,
    parser: ReplyParser,
    /// Bytes that followed a reply before the command they answer was sent.
    stash: Vec<u8>,
    /// Bytes after the STARTTLS 220, for [`Action::StartTls`].
    after_reply: Vec<u8>,
    received_any: bool,
    decided: bool,
    out: Outcome,
}

impl Session {
    /// A session that will announce itself as `name`.
    pub fn new(name: EhloName) -> Session {
        Session {
            name,
            step: Step::Await(Phase::Greeting),
            phase: Phase::Greeting,
            parser: ReplyParser::new(),
            stash: Vec::new(),
            after_reply: Vec::new(),
            received_any: false,
            decided: false,
            out: Outcome::new(),
        }
    }

    /// Validates `name` ([`EhloName::new`]) and starts a session.
    pub fn with_ehlo_name(name: &str) -> Result<Session, InvalidEhloName> {
        Ok(Session::new(EhloName::new(name)?))
    }

    /// The current phase (the last one once done).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True once the conversation is over.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// The status, once decided (possibly before the session is done, e.g. while QUIT is
    /// pending).
    pub fn status(&self) -> Option<ProbeStatus> {
        self.decided.then_some(self.out.status)
    }

    /// Bytes the session holds (parser buffer, unanswered bytes, STARTTLS leftovers): at
    /// most the reply caps plus the last chunk handed in.
    pub fn buffered_len(&self) -> usize {
        self.parser.buffered_len()
            + self.stash.len()
            + self.after_reply.len()
            + self.out.after_starttls_sample.len()
    }

    /// The outcome, once done.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.is_done().then_some(&self.out)
    }

    /// The outcome. If the session is not done, the driver gave up on it: this is treated
    /// exactly like an [`Event::Timeout`] in the current phase.
    pub fn into_outcome(mut self) -> Outcome {
        if !self.is_done() {
            self.on_timeout();
        }
        debug_assert!(self.decided, "a finished session always has a status");
        self.out
    }

    /// What the driver should do next. Handing out [`Action::Send`] or
    /// [`Action::StartTls`] advances the session: the driver must perform it.
    pub fn next_action(&mut self) -> Action {
        if matches!(self.step, Step::Await(_)) && !self.stash.is_empty() {
            let stash = std::mem::take(&mut self.stash);
            self.consume(&stash);
        }
        match self.step {
            Step::Send(phase) => {
                let command = match phase {
                    Phase::Starttls => Command::Starttls,
                    Phase::Quit => Command::Quit,
                    _ => Command::Ehlo(self.name.clone()),
                };
                self.set(Step::Await(phase));
                Action::Send { command, phase }
            }
            Step::Await(phase) => Action::Read(phase),
            Step::StartTls => {
                self.set(Step::Handshake);
                Action::StartTls {
                    after_reply: std::mem::take(&mut self.after_reply),
                }
            }
            Step::Handshake => Action::StartTls {
                after_reply: Vec::new(),
            },
            Step::Done => Action::Done,
        }
    }

    /// Reports an event. Events that make no sense in the current state (a TLS result
    /// without a STARTTLS, anything after the end) are ignored.
    pub fn handle(&mut self, event: Event<'_>) {
        match event {
            Event::Data(data) => self.on_data(data),
            Event::ConnectionClosed => self.on_closed(),
            Event::Timeout => self.on_timeout(),
            Event::TlsEstablished => {
                if matches!(self.step, Step::StartTls | Step::Handshake) {
                    self.after_reply = Vec::new();
                    self.decide(ProbeStatus::Ok, None);
                    self.set(Step::Send(Phase::EhloTls));
                }
            }
            Event::TlsFailed(reason) => {
                if matches!(self.step, Step::StartTls | Step::Handshake) {
                    self.out.tls_error = Some(reason.to_owned());
                    self.decide(
                        ProbeStatus::TlsFailed,
                        Some(format!("TLS handshake: {reason}")),
                    );
                    self.set(Step::Done);
                }
            }
        }
    }

    fn set(&mut self, step: Step) {
        self.step = step;
        match step {
            Step::Send(p) | Step::Await(p) => self.phase = p,
            Step::StartTls | Step::Handshake => self.phase = Phase::Tls,
            Step::Done => {
                self.stash = Vec::new();
                self.after_reply = Vec::new();
            }
        }
    }

    /// Decides the status in the current phase (first decision wins).
    fn decide(&mut self, status: ProbeStatus, detail: Option<String>) {
        if !self.decided {
            self.decided = true;
            self.out.status = status;
            self.out.phase = self.phase;
            self.out.detail = detail;
        }
    }

    /// Adds a detail after TLS (status already `ok`); the first note wins.
    fn note(&mut self, detail: String) {
        if self.out.detail.is_none() {
            self.out.detail = Some(detail);
        }
    }

    fn on_data(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        match self.step {
            Step::Done => {}
            Step::StartTls | Step::Handshake => self.after_starttls(data),
            Step::Send(_) => {
                self.received_any = true;
                self.stash.extend_from_slice(data);
            }
            Step::Await(_) => {
                self.received_any = true;
                self.consume(data);
            }
        }
    }

    /// Parses replies from `data` while a reply is awaited; routes what follows.
    fn consume(&mut self, data: &[u8]) {
        let mut rest = data;
        while let Step::Await(phase) = self.step {
            if rest.is_empty() {
                return;
            }
            match self.parser.feed(rest) {
                Parse::NeedMoreData => return,
                Parse::Error(e) => return self.on_reply_error(phase, e),
                Parse::Complete { reply, consumed } => {
                    rest = &rest[consumed..];
                    self.on_reply(phase, reply);
                }
            }
        }
        match self.step {
            Step::StartTls => self.after_starttls(rest),
            Step::Send(_) => self.stash.extend_from_slice(rest),
            Step::Done | Step::Handshake | Step::Await(_) => {}
        }
    }

    fn after_starttls(&mut self, data: &[u8]) {
        let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let count = self.out.bytes_after_starttls.get_or_insert(0);
        *count = count.saturating_add(n);
        let sample = &mut self.out.after_starttls_sample;
        let take = AFTER_STARTTLS_SAMPLE_BYTES
            .saturating_sub(sample.len())
            .min(data.len());
        sample.extend_from_slice(&data[..take]);
        if self.step == Step::StartTls {
            let take = MAX_REPLY_BYTES
                .saturating_sub(self.after_reply.len())
                .min(data.len());
            self.after_reply.extend_from_slice(&data[..take]);
        }
    }

    fn on_reply_error(&mut self, phase: Phase, e: ReplyError) {
        match phase {
            Phase::Quit => {}
            Phase::EhloTls => {
                self.note(format!("post-TLS EHLO reply invalid: {e}"));
                self.out.reply_error = Some(e);
            }
            _ => {
                self.decide(
                    ProbeStatus::ProtocolError,
                    Some(format!("{phase} reply: {e}")),
                );
                self.out.reply_error = Some(e);
            }
        }
        self.set(Step::Done);
    }

    fn protocol_error(&mut self, phase: Phase, code: u16) {
        self.decide(
            ProbeStatus::ProtocolError,
            Some(format!("unexpected reply code {code} in phase {phase}")),
        );
        self.set(Step::Done);
    }

    /// Sends QUIT next, unless the reply was a 421 (the server is closing, RFC 5321 §3.8).
    fn quit_unless_421(&mut self, code: u16) {
        if code == 421 {
            self.set(Step::Done);
        } else {
            self.set(Step::Send(Phase::Quit));
        }
    }

    fn on_reply(&mut self, phase: Phase, reply: Reply) {
        let code = reply.code;
        self.out.replies.push(ReplyRecord {
            phase,
            code,
            enhanced: reply.enhanced,
        });
        self.out.bare_lf |= reply.bare_lf;
        match phase {
            // RFC 5321 §3.1, §4.3.2: 220 greeting, 554 refusal, 421 not available.
            Phase::Greeting => {
                self.out.banner = Some(reply.text());
                match code {
                    220 => self.set(Step::Send(Phase::Ehlo)),
                    421 => {
                        self.decide(ProbeStatus::Greeting421, None);
                        self.set(Step::Done);
                    }
                    _ if reply.is_negative() => {
                        self.decide(ProbeStatus::GreetingRejected, None);
                        self.set(Step::Send(Phase::Quit));
                    }
                    _ => self.protocol_error(phase, code),
                }
            }
            // RFC 5321 §4.1.1.1, RFC 3207 §4: 250 with the STARTTLS keyword.
            Phase::Ehlo => match code {
                250 => {
                    let ehlo = Ehlo::from_reply(&reply);
                    let offered = ehlo.starttls();
                    self.out.ehlo_keywords = ehlo.keywords();
                    self.out.ehlo = Some(ehlo);
                    self.out.starttls_offered = Some(offered);
                    if offered {
                        self.set(Step::Send(Phase::Starttls));
                    } else {
                        self.decide(ProbeStatus::NoStarttls, None);
                        self.set(Step::Send(Phase::Quit));
                    }
                }
                _ if reply.is_negative() => {
                    self.decide(
                        ProbeStatus::EhloRejected,
                        Some(format!("EHLO answered {code}")),
                    );
                    self.quit_unless_421(code);
                }
                _ => self.protocol_error(phase, code),
            },
            // RFC 3207 §4: 220 ready, 454 not available now, 501 syntax, 5yz otherwise.
            Phase::Starttls => {
                self.out.starttls_code = Some(code);
                match code {
                    220 => {
                        self.out.bytes_after_starttls = Some(0);
                        self.set(Step::StartTls);
                    }
                    _ if reply.is_negative() => {
                        self.decide(
                            ProbeStatus::StarttlsRejected,
                            Some(format!("STARTTLS answered {code}")),
                        );
                        self.quit_unless_421(code);
                    }
                    _ => self.protocol_error(phase, code),
                }
            }
            // RFC 3207 §4.2: the client SHOULD send EHLO again after TLS.
            Phase::EhloTls => {
                if code == 250 {
                    let ehlo = Ehlo::from_reply(&reply);
                    self.out.ehlo_keywords_tls = ehlo.keywords();
                    self.out.ehlo_tls = Some(ehlo);
                } else {
                    self.note(format!("post-TLS EHLO answered {code}"));
                }
                self.quit_unless_421(code);
            }
            // RFC 5321 §4.1.1.10: 221 expected, not required.
            Phase::Quit | Phase::Tls => self.set(Step::Done),
        }
    }

    fn on_closed(&mut self) {
        match self.step {
            Step::Done => return,
            Step::Await(Phase::Greeting) if !self.received_any => self.decide(
                ProbeStatus::ClosedBeforeGreeting,
                Some("connection closed before the peer sent any byte".to_owned()),
            ),
            Step::Await(Phase::Quit) | Step::Send(Phase::Quit) => {}
            Step::Await(Phase::EhloTls) | Step::Send(Phase::EhloTls) => {
                self.note("connection closed after TLS".to_owned());
            }
            Step::StartTls | Step::Handshake => {
                let reason = "connection closed during TLS handshake";
                self.out.tls_error = Some(reason.to_owned());
                self.decide(ProbeStatus::TlsFailed, Some(reason.to_owned()));
            }
            Step::Await(phase) | Step::Send(phase) => {
                self.decide(
                    ProbeStatus::IoError,
                    Some(format!("connection closed in phase {phase}")),
                );
            }
        }
        self.set(Step::Done);
    }

    fn on_timeout(&mut self) {
        match self.step {
            Step::Done => return,
            Step::Await(Phase::Greeting) => self.decide(ProbeStatus::GreetingTimeout, None),
            Step::Await(Phase::Quit) | Step::Send(Phase::Quit) => {}
            Step::Await(Phase::EhloTls) | Step::Send(Phase::EhloTls) => {
                self.note("post-TLS EHLO timed out".to_owned());
            }
            Step::StartTls | Step::Handshake | Step::Await(_) | Step::Send(_) => {
                let phase = self.phase;
                self.decide(
                    ProbeStatus::Timeout,
                    Some(format!("timeout in phase {phase}")),
                );
            }
        }
        self.set(Step::Done);
    }
}
