//! SMTP: the RFC 5321 §4.2 reply parser and the sans-io client session, fed a server's byte
//! stream cut at fuzzer-chosen points.

use crate::api::{
    AFTER_STARTTLS_SAMPLE_BYTES, Action, Ehlo, Event, MAX_LINE_BYTES, MAX_REPLY_BYTES, Outcome,
    Parse, ProbeStatus, Reply, ReplyError, ReplyParser, Session, parse_reply,
};

/// What a parser made of a stream: every reply (with the wire bytes it took), then the error
/// that stopped it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Replies {
    replies: Vec<(Reply, usize)>,
    error: Option<ReplyError>,
}

/// Feeds `data` to `p` in reads whose sizes come from `sizes` (then the rest at once) and
/// checks the parser's promises at every step: `consumed` within the read, never more held
/// than the caps, no reply larger than the reply cap, errors sticky.
fn replies(
    mut p: ReplyParser,
    max_line: usize,
    max_reply: usize,
    data: &[u8],
    sizes: &[u8],
) -> Replies {
    let mut out = Replies {
        replies: Vec::new(),
        error: None,
    };
    let mut pos = 0;
    let mut reads = sizes.iter();
    let mut wire = 0usize; // bytes of the reply in progress
    while pos < data.len() {
        let n = reads.next().map_or(data.len(), |&s| usize::from(s).max(1));
        let end = (pos + n).min(data.len());
        let mut rest = &data[pos..end];
        pos = end;
        while !rest.is_empty() {
            match p.feed(rest) {
                Parse::NeedMoreData => {
                    wire += rest.len();
                    break;
                }
                Parse::Complete { reply, consumed } => {
                    assert!(
                        consumed > 0 && consumed <= rest.len(),
                        "consumed {consumed} of {}",
                        rest.len()
                    );
                    wire += consumed;
                    assert!(
                        wire <= max_reply,
                        "a {wire}-byte reply passed the {max_reply}-byte cap"
                    );
                    assert!(
                        p.is_idle() && p.buffered_len() == 0,
                        "parser holds bytes after a reply"
                    );
                    check_reply(&reply, max_line);
                    out.replies.push((reply, wire));
                    wire = 0;
                    rest = &rest[consumed..];
                }
                Parse::Error(e) => {
                    check_error(&e, max_line, max_reply);
                    // Sticky: the parser stays failed and holds nothing.
                    assert_eq!(p.feed(b"220 ok\r\n"), Parse::Error(e.clone()));
                    assert_eq!(p.error(), Some(&e));
                    assert_eq!(p.buffered_len(), 0);
                    out.error = Some(e);
                    return out;
                }
            }
            assert!(
                p.buffered_len() <= max_reply,
                "parser holds {} bytes, cap {max_reply}",
                p.buffered_len()
            );
        }
    }
    out
}

/// A reply as RFC 5321 §4.2 and the parser's documentation describe it.
fn check_reply(reply: &Reply, max_line: usize) {
    assert!((200..=599).contains(&reply.code), "code {}", reply.code);
    assert!(!reply.lines.is_empty(), "a reply without lines");
    assert!(reply.lines.iter().all(|l| !l.contains('\n')));
    assert!(
        reply.lines.iter().all(|l| l.len() <= 3 * max_line),
        "line over the cap"
    );
    if let Some(e) = reply.enhanced {
        assert_eq!(u16::from(e.class), reply.code / 100);
        assert!(e.subject <= 999 && e.detail <= 999);
    }
    // Writer round trip: the wire form of the reply parses back to it (bare LF aside), when
    // it fits the default caps (lossy decoding may have grown a line: 1 byte → U+FFFD).
    let wire = reply.to_bytes();
    let fits =
        reply.lines.iter().all(|l| l.len() + 6 <= MAX_LINE_BYTES) && wire.len() <= MAX_REPLY_BYTES;
    if fits {
        match parse_reply(&wire) {
            Parse::Complete {
                reply: again,
                consumed,
            } => {
                assert_eq!(consumed, wire.len());
                assert_eq!(
                    (again.code, &again.lines, again.enhanced),
                    (reply.code, &reply.lines, reply.enhanced)
                );
                assert!(!again.bare_lf);
            }
            other => panic!("{reply:?} written as {wire:?} parses to {other:?}"),
        }
    }
    // EHLO capabilities (RFC 5321 §4.1.1.1): uppercased keywords, STARTTLS a whole keyword.
    let ehlo = Ehlo::from_reply(reply);
    assert!(ehlo.capabilities.len() < reply.lines.len());
    let keywords = ehlo.keywords();
    for k in &keywords {
        assert!(
            !k.is_empty()
                && !k
                    .bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_lowercase()),
            "keyword {k:?}"
        );
    }
    assert_eq!(ehlo.starttls(), keywords.iter().any(|k| k == "STARTTLS"));
}

fn check_error(e: &ReplyError, max_line: usize, max_reply: usize) {
    match e {
        ReplyError::NonDigitCode { line } => assert!(line.chars().count() <= 16, "{line:?}"),
        ReplyError::CodeOutOfRange { code } => assert!(!(200..=599).contains(code)),
        ReplyError::MissingSeparator { byte, .. } => assert!(!matches!(*byte, b'-' | b' ' | b'\n')),
        ReplyError::CodeMismatch { first, found } => assert_ne!(first, found),
        ReplyError::LineTooLong { limit } => assert_eq!(*limit, max_line),
        ReplyError::ReplyTooLarge { limit } => assert_eq!(*limit, max_reply),
    }
    assert!(!e.as_str().is_empty());
}

/// `smtp_reply`: byte 0 = k; the next k % 16 bytes are read sizes; the rest is the stream.
/// The stream goes to the default parser (64 KiB / 4 KiB caps) and to one with small caps
/// chosen by k (so the cap paths are reached with short inputs), each whole and cut into
/// the given reads: the replies and the error must be the same however the stream is cut.
pub fn smtp_reply(input: &[u8]) {
    let Some((&k, rest)) = input.split_first() else {
        return;
    };
    let (sizes, data) = rest.split_at(usize::from(k % 16).min(rest.len()));

    let whole = replies(
        ReplyParser::new(),
        MAX_LINE_BYTES,
        MAX_REPLY_BYTES,
        data,
        &[],
    );
    let cut = replies(
        ReplyParser::new(),
        MAX_LINE_BYTES,
        MAX_REPLY_BYTES,
        data,
        sizes,
    );
    assert_eq!(whole, cut, "the result depends on how the stream is cut");
    // parse_reply = a fresh parser fed the whole buffer: its first reply.
    match (parse_reply(data), whole.replies.first()) {
        (Parse::Complete { reply, consumed }, Some((first, wire))) => {
            assert_eq!((&reply, consumed), (first, *wire));
        }
        (Parse::Error(e), None) => assert_eq!(Some(e), whole.error),
        (Parse::NeedMoreData, None) => assert!(whole.error.is_none()),
        (other, first) => panic!("parse_reply gave {other:?}, the parser {first:?}"),
    }

    let max_line = 5 + usize::from(k >> 4) * 4; // 5..=65
    let max_reply = max_line * (1 + usize::from((k >> 2) & 3)) + usize::from(k & 3);
    let small = |sizes: &[u8]| {
        replies(
            ReplyParser::with_limits(max_line, max_reply),
            max_line,
            max_reply,
            data,
            sizes,
        )
    };
    assert_eq!(
        small(&[]),
        small(sizes),
        "small caps: the result depends on the cuts"
    );
}

/// One conversation: the outcome, the command lines sent, the largest STARTTLS leftover.
struct Run {
    outcome: Outcome,
    sent: Vec<Vec<u8>>,
}

const EHLO_LINE: &[u8] = b"EHLO scanner.mxscan.example\r\n";

/// Plays `plain` (before TLS) and `tls` (after it) to a session in reads of `size` bytes
/// (0: each stream at once), reporting the handshake as `tls_ok`, and ending the reads with
/// ConnectionClosed or Timeout (`timeout`). Checks the caps at every step and that the
/// session finishes within a bound set by the input's length.
fn drive(plain: &[u8], tls: &[u8], size: usize, tls_ok: bool, timeout: bool) -> Run {
    let mut session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    let mut streams = [(plain, 0usize), (tls, 0usize)];
    let mut cur = 0;
    let next = |s: &mut (&[u8], usize)| -> Option<(usize, usize)> {
        if s.1 >= s.0.len() {
            return None;
        }
        let end = if size == 0 {
            s.0.len()
        } else {
            (s.1 + size).min(s.0.len())
        };
        let r = (s.1, end);
        s.1 = end;
        Some(r)
    };
    let read = if size == 0 {
        plain.len().max(tls.len())
    } else {
        size
    };
    let mut sent = Vec::new();
    for _ in 0..(plain.len() + tls.len() + 64) * 4 {
        match session.next_action() {
            Action::Send { command, .. } => {
                let line = command.to_bytes();
                assert!(
                    line == EHLO_LINE || line == b"STARTTLS\r\n" || line == b"QUIT\r\n",
                    "the session sent {line:?}"
                );
                sent.push(line);
            }
            Action::Read(_) => match next(&mut streams[cur]) {
                Some((a, b)) => session.handle(Event::Data(&streams[cur].0[a..b])),
                None if timeout => session.handle(Event::Timeout),
                None => session.handle(Event::ConnectionClosed),
            },
            Action::StartTls { after_reply } => {
                assert!(
                    after_reply.len() <= MAX_REPLY_BYTES,
                    "{} leftover bytes",
                    after_reply.len()
                );
                assert_eq!(cur, 0, "a second STARTTLS handshake");
                // The driver may drain what is buffered before the handshake.
                while let Some((a, b)) = next(&mut streams[0]) {
                    session.handle(Event::Data(&streams[0].0[a..b]));
                }
                cur = 1;
                session.handle(if tls_ok {
                    Event::TlsEstablished
                } else {
                    Event::TlsFailed("fuzz")
                });
            }
            Action::Done => {
                assert!(session.is_done());
                return Run {
                    outcome: session.into_outcome(),
                    sent,
                };
            }
        }
        assert!(
            session.buffered_len()
                <= MAX_REPLY_BYTES + MAX_LINE_BYTES + read + 2 * AFTER_STARTTLS_SAMPLE_BYTES,
            "session holds {} bytes",
            session.buffered_len()
        );
    }
    panic!("the session did not finish");
}

/// The outcome and the commands agree with the state machine of `mxscan_smtp::session`.
fn check_run(run: &Run, tls_ok: bool, input_len: usize) {
    let o = &run.outcome;
    // Closed vocabulary: the session never decides the driver's statuses.
    assert!(ProbeStatus::ALL.contains(&o.status));
    assert!(!matches!(
        o.status,
        ProbeStatus::Blocked | ProbeStatus::ConnectTimeout
    ));
    // Commands: (EHLO (STARTTLS (EHLO)?)?)? QUIT?, nothing else, nothing twice.
    let verbs: Vec<&str> = run
        .sent
        .iter()
        .map(|l| match l.as_slice() {
            EHLO_LINE => "EHLO",
            b"STARTTLS\r\n" => "STARTTLS",
            _ => "QUIT",
        })
        .collect();
    let body: &[&str] = match verbs.last() {
        Some(&"QUIT") => &verbs[..verbs.len() - 1],
        _ => &verbs,
    };
    assert!(
        ["EHLO", "STARTTLS", "EHLO"].starts_with(body),
        "commands out of order: {verbs:?}"
    );
    if body.len() >= 2 {
        assert_eq!(
            o.starttls_offered,
            Some(true),
            "STARTTLS sent but not offered"
        );
    }
    if body.len() == 3 {
        assert_eq!(o.status, ProbeStatus::Ok, "EHLO after TLS without TLS");
    }
    if o.status == ProbeStatus::Ok {
        assert!(tls_ok, "ok without a handshake");
        assert_eq!(o.starttls_code, Some(220));
        assert_eq!(o.starttls_offered, Some(true));
        assert!(o.bytes_after_starttls.is_some());
    }
    let sample = o.after_starttls_sample.len();
    assert!(sample <= AFTER_STARTTLS_SAMPLE_BYTES);
    assert!(sample as u64 <= u64::from(o.bytes_after_starttls.unwrap_or(0)));
    // Each reply takes at least 4 bytes ("250\n").
    assert!(
        o.replies.len() * 4 <= input_len,
        "{} replies from {input_len} bytes",
        o.replies.len()
    );
    if let Some(ehlo) = &o.ehlo {
        assert_eq!(o.ehlo_keywords, ehlo.keywords());
        assert_eq!(o.starttls_offered, Some(ehlo.starttls()));
    }
    if let Some(ehlo) = &o.ehlo_tls {
        assert_eq!(o.ehlo_keywords_tls, ehlo.keywords());
    }
    // A reply syntax error decides `protocol_error`, or is a note after TLS.
    if o.reply_error.is_some() {
        assert!(
            matches!(o.status, ProbeStatus::ProtocolError | ProbeStatus::Ok),
            "{:?}",
            o.status
        );
    }
}

/// `smtp_session`: bytes 0–2 are flags (bit 0: the TLS handshake succeeds, bit 1: the server
/// goes silent (timeout) rather than closing), a read size and how many of the last bytes are
/// what the server says after TLS; the rest is the server's stream. The conversation is run
/// with each stream read at once and cut into reads of the given size: same outcome, same
/// commands. The client only ever says EHLO, STARTTLS, QUIT, in that order.
pub fn smtp_session(input: &[u8]) {
    let [flags, size, split, data @ ..] = input else {
        return;
    };
    let (plain, tls) = data.split_at(data.len() - usize::from(*split).min(data.len()));
    let tls_ok = flags & 1 == 1;
    let timeout = flags & 2 == 2;
    let whole = drive(plain, tls, 0, tls_ok, timeout);
    check_run(&whole, tls_ok, data.len());
    let cut = drive(plain, tls, usize::from(*size).max(1), tls_ok, timeout);
    assert_eq!(
        whole.outcome, cut.outcome,
        "the outcome depends on the reads"
    );
    assert_eq!(whole.sent, cut.sent, "the commands depend on the reads");
}
