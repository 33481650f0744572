//! A scripted SMTP server for driving [`Session`] in tests: a conversation is a list of
//! turns; the harness plays the driver, checks that the client sends exactly the commands
//! the script expects, and can split the server's bytes into reads at any point.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::rc::Rc;

use mxscan_smtp::{Action, Event, Outcome, Session};

/// The EHLO name every scripted session uses.
pub const NAME: &str = "scanner.mxscan.example";

/// One turn of a scripted conversation.
#[derive(Debug, Clone)]
pub enum Turn {
    /// The server sends these bytes (the client must be reading).
    Server(Rc<Vec<u8>>),
    /// The client must send this line (given without CRLF).
    Client(&'static str),
    /// The driver's TLS handshake succeeds.
    TlsOk,
    /// The driver's TLS handshake fails with this reason.
    TlsFail(&'static str),
    /// The server closes the connection.
    Close,
    /// The server sends nothing more: the phase's deadline expires.
    Stall,
}

/// Server bytes.
pub fn s(text: &str) -> Turn {
    Turn::Server(Rc::new(text.as_bytes().to_vec()))
}

/// Server bytes (binary).
pub fn sb(bytes: Vec<u8>) -> Turn {
    Turn::Server(Rc::new(bytes))
}

/// Client line.
pub fn c(line: &'static str) -> Turn {
    Turn::Client(line)
}

/// The client's EHLO line.
pub fn ehlo() -> Turn {
    Turn::Client("EHLO scanner.mxscan.example")
}

/// How the server's bytes are cut into reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Each server turn arrives in one read.
    Whole,
    /// The server byte stream (all server turns concatenated) is cut once more at this
    /// offset; turn boundaries are always read boundaries (the server waits for the client).
    At(usize),
    /// One byte per read.
    OneByte,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub outcome: Outcome,
    /// Every line the client wrote, as bytes.
    pub sent: Vec<Vec<u8>>,
}

struct Pending {
    data: Rc<Vec<u8>>,
    pos: usize,
    cut: Option<usize>,
    one_byte: bool,
}

impl Pending {
    fn next_chunk(&mut self) -> Option<&[u8]> {
        if self.pos >= self.data.len() {
            return None;
        }
        let end = if self.one_byte {
            self.pos + 1
        } else {
            match self.cut {
                Some(c) if c > self.pos => c,
                _ => self.data.len(),
            }
        };
        let start = self.pos;
        self.pos = end;
        Some(&self.data[start..end])
    }
}

/// Total server bytes in a script.
pub fn server_len(script: &[Turn]) -> usize {
    script
        .iter()
        .map(|t| match t {
            Turn::Server(d) => d.len(),
            _ => 0,
        })
        .sum()
}

/// Plays `script` against a fresh session, cutting server bytes per `split`.
pub fn run(script: &[Turn], split: Split) -> Run {
    let mut session = Session::with_ehlo_name(NAME).unwrap();
    let mut turns: VecDeque<Turn> = script.iter().cloned().collect();
    let mut offset = 0usize; // global offset of the current server turn's start
    let mut pending: Option<Pending> = None;
    let mut sent = Vec::new();
    let start_server_turn = |data: Rc<Vec<u8>>, offset: &mut usize| {
        let cut = match split {
            Split::At(k) if k > *offset && k < *offset + data.len() => Some(k - *offset),
            _ => None,
        };
        *offset += data.len();
        Pending {
            data,
            pos: 0,
            cut,
            one_byte: split == Split::OneByte,
        }
    };
    for _ in 0..10_000_000 {
        match session.next_action() {
            Action::Send { command, .. } => {
                let bytes = command.to_bytes();
                match turns.pop_front() {
                    Some(Turn::Client(line)) => assert_eq!(
                        String::from_utf8_lossy(&bytes),
                        format!("{line}\r\n"),
                        "client sent the wrong command"
                    ),
                    other => panic!(
                        "client sent {:?} but the script expected {other:?}",
                        String::from_utf8_lossy(&bytes)
                    ),
                }
                sent.push(bytes);
            }
            Action::Read(_) => {
                if let Some(chunk) = pending.as_mut().and_then(|p| p.next_chunk()) {
                    session.handle(Event::Data(chunk));
                    continue;
                }
                match turns.pop_front() {
                    Some(Turn::Server(data)) => {
                        let p = pending.insert(start_server_turn(data, &mut offset));
                        let chunk = p.next_chunk().unwrap();
                        session.handle(Event::Data(chunk));
                    }
                    Some(Turn::Close) | None => session.handle(Event::ConnectionClosed),
                    Some(Turn::Stall) => session.handle(Event::Timeout),
                    Some(other) => panic!("client reads but the script expected {other:?}"),
                }
            }
            Action::StartTls { .. } => {
                // A driver drains what is already buffered before the handshake.
                while let Some(chunk) = pending.as_mut().and_then(|p| p.next_chunk()) {
                    session.handle(Event::Data(chunk));
                }
                match turns.pop_front() {
                    Some(Turn::TlsOk) => session.handle(Event::TlsEstablished),
                    Some(Turn::TlsFail(reason)) => session.handle(Event::TlsFailed(reason)),
                    Some(Turn::Close) => session.handle(Event::ConnectionClosed),
                    Some(Turn::Stall) => session.handle(Event::Timeout),
                    other => panic!("client starts TLS but the script expected {other:?}"),
                }
            }
            Action::Done => {
                assert!(
                    turns.is_empty(),
                    "session ended with script turns left: {turns:?}"
                );
                assert!(session.outcome().is_some());
                return Run {
                    outcome: session.into_outcome(),
                    sent,
                };
            }
        }
    }
    panic!("session did not finish");
}

/// Asserts that every line is EHLO <NAME>, STARTTLS or QUIT, CRLF-terminated, and nothing
/// else (mxscan never sends mail).
pub fn assert_only_allowed_commands(sent: &[Vec<u8>]) {
    let ehlo = format!("EHLO {NAME}\r\n");
    for line in sent {
        assert!(
            line == ehlo.as_bytes() || line == b"STARTTLS\r\n" || line == b"QUIT\r\n",
            "client sent a forbidden line: {:?}",
            String::from_utf8_lossy(line)
        );
        assert!(line.ends_with(b"\r\n"));
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(line.iter().filter(|&&b| b == b'\r').count(), 1);
    }
}

/// Runs `script` whole, one byte per read, and split at each offset in `cuts`; asserts
/// the same outcome and the same client lines every time; returns the whole run.
pub fn check_cuts(script: &[Turn], cuts: impl IntoIterator<Item = usize>) -> Run {
    let whole = run(script, Split::Whole);
    assert_only_allowed_commands(&whole.sent);
    let one = run(script, Split::OneByte);
    assert_eq!(one, whole, "one byte per read changed the result");
    for k in cuts {
        let r = run(script, Split::At(k));
        assert_eq!(r, whole, "split at byte {k} changed the result");
    }
    whole
}

/// [`check_cuts`] at every byte boundary of the server stream.
pub fn check(script: &[Turn]) -> Run {
    check_cuts(script, 0..=server_len(script))
}
