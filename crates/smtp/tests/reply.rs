//! Table-driven tests of the RFC 5321 §4.2 reply parser. Every case is also fed one byte
//! at a time and split at every boundary, and must give the same result.

use mxscan_smtp::{
    EnhancedStatus, MAX_LINE_BYTES, MAX_REPLY_BYTES, Parse, Reply, ReplyError, ReplyParser,
    parse_reply,
};

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    /// Complete reply: code, lines, bare_lf, bytes consumed.
    Reply(u16, Vec<&'static str>, bool, usize),
    More,
    Err(ReplyError),
}

/// Feeds `input` in the chunks given by `cuts` to a fresh parser; returns the result with
/// `consumed` counted from the start of `input`.
fn feed_cut(input: &[u8], cuts: &[usize]) -> Parse {
    let mut p = ReplyParser::new();
    let mut start = 0;
    let mut bounds: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < input.len())
        .collect();
    bounds.push(input.len());
    for end in bounds {
        match p.feed(&input[start..end]) {
            Parse::NeedMoreData => start = end,
            Parse::Complete { reply, consumed } => {
                return Parse::Complete {
                    reply,
                    consumed: start + consumed,
                };
            }
            e @ Parse::Error(_) => return e,
        }
        assert!(p.buffered_len() <= MAX_REPLY_BYTES);
    }
    Parse::NeedMoreData
}

fn to_want(p: Parse) -> Want {
    match p {
        Parse::NeedMoreData => Want::More,
        Parse::Complete { reply, consumed } => Want::Reply(
            reply.code,
            reply.lines.iter().map(|l| &*l.clone().leak()).collect(),
            reply.bare_lf,
            consumed,
        ),
        Parse::Error(e) => Want::Err(e),
    }
}

fn check(input: &[u8], want: &Want) {
    let whole = parse_reply(input);
    assert_eq!(
        &to_want(whole.clone()),
        want,
        "input {:?}",
        String::from_utf8_lossy(input)
    );
    let one: Vec<usize> = (1..input.len()).collect();
    assert_eq!(feed_cut(input, &one), whole, "one byte at a time");
    // Every boundary (kept cheap for big inputs: they are tested in session tests too).
    if input.len() <= 10_000 {
        for k in 0..=input.len() {
            assert_eq!(feed_cut(input, &[k]), whole, "split at {k}");
        }
    }
}

fn reply(code: u16, lines: Vec<&'static str>, bare_lf: bool, consumed: usize) -> Want {
    Want::Reply(code, lines, bare_lf, consumed)
}

#[test]
fn reply_table() {
    let nd = |s: &str| Want::Err(ReplyError::NonDigitCode { line: s.into() });
    let cases: Vec<(&[u8], Want)> = vec![
        // single line
        (
            b"220 mx.example.test ESMTP\r\n",
            reply(220, vec!["mx.example.test ESMTP"], false, 27),
        ),
        // multi-line
        (
            b"250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
            reply(250, vec!["mx", "PIPELINING", "STARTTLS"], false, 38),
        ),
        // bare code as the last line, and `code SP` with empty text
        (b"250\r\n", reply(250, vec![""], false, 5)),
        (b"250 \r\n", reply(250, vec![""], false, 6)),
        (b"250-\r\n250\r\n", reply(250, vec!["", ""], false, 11)),
        (
            b"250-first\r\n250\r\n",
            reply(250, vec!["first", ""], false, 16),
        ),
        // LF-only, and mixed terminators
        (b"220 hi\n", reply(220, vec!["hi"], true, 7)),
        (b"250-a\r\n250 b\n", reply(250, vec!["a", "b"], true, 13)),
        (b"250\n", reply(250, vec![""], true, 4)),
        // bytes following a reply are not consumed
        (b"220 hi\r\nEXTRA", reply(220, vec!["hi"], false, 8)),
        (b"220 hi\r\n250 next\r\n", reply(220, vec!["hi"], false, 8)),
        (b"220 go\r\n\x16\x03\x01", reply(220, vec!["go"], false, 8)),
        // CR inside text is kept
        (b"250 a\rb\r\n", reply(250, vec!["a\rb"], false, 9)),
        // non-UTF-8 text is decoded lossily
        (
            b"250 caf\xe9\r\n",
            reply(250, vec!["caf\u{fffd}"], false, 10),
        ),
        // incomplete
        (b"", Want::More),
        (b"2", Want::More),
        (b"250", Want::More),
        (b"250-a\r\n", Want::More),
        (b"250-a\r\n250 b", Want::More),
        (b"250 b\r", Want::More),
        // code mismatch across lines
        (
            b"250-a\r\n251 b\r\n",
            Want::Err(ReplyError::CodeMismatch {
                first: 250,
                found: 251,
            }),
        ),
        (
            b"250-a\r\n550-b\r\n",
            Want::Err(ReplyError::CodeMismatch {
                first: 250,
                found: 550,
            }),
        ),
        // non-digit codes, short lines, empty lines
        (b"2x0 a\r\n", nd("2x")),
        (b"abc\r\n", nd("a")),
        (b"\r\n", nd("\r")),
        (b"\n", nd("")),
        (b"25\r\n", nd("25\r")),
        (b"25\n", nd("25")),
        (b" 250 a\r\n", nd(" ")),
        (b"250-a\r\nfoo\r\n", nd("f")),
        (b"\x16\x03\x03\x00\x31", nd("\u{16}")),
        // codes out of 200-599
        (
            b"199 a\r\n",
            Want::Err(ReplyError::CodeOutOfRange { code: 199 }),
        ),
        (
            b"600 a\r\n",
            Want::Err(ReplyError::CodeOutOfRange { code: 600 }),
        ),
        (
            b"000\r\n",
            Want::Err(ReplyError::CodeOutOfRange { code: 0 }),
        ),
        (b"999-", Want::Err(ReplyError::CodeOutOfRange { code: 999 })),
        // missing separator
        (
            b"250x\r\n",
            Want::Err(ReplyError::MissingSeparator {
                code: 250,
                byte: b'x',
            }),
        ),
        (
            b"250\tSTARTTLS\r\n",
            Want::Err(ReplyError::MissingSeparator {
                code: 250,
                byte: b'\t',
            }),
        ),
        (
            b"2500 a\r\n",
            Want::Err(ReplyError::MissingSeparator {
                code: 250,
                byte: b'0',
            }),
        ),
        (
            b"250\rX\r\n",
            Want::Err(ReplyError::MissingSeparator {
                code: 250,
                byte: b'\r',
            }),
        ),
    ];
    for (input, want) in &cases {
        check(input, want);
    }
}

#[test]
fn line_cap() {
    // A line of exactly MAX_LINE_BYTES (CRLF included) is fine; one more byte is not.
    let text = "a".repeat(MAX_LINE_BYTES - 6);
    let ok = format!("250 {text}\r\n");
    assert_eq!(ok.len(), MAX_LINE_BYTES);
    let n = ok.len();
    check(
        ok.as_bytes(),
        &reply(250, vec![text.clone().leak()], false, n),
    );
    let over = format!("250 {text}a\r\n");
    let err = Want::Err(ReplyError::LineTooLong {
        limit: MAX_LINE_BYTES,
    });
    check(over.as_bytes(), &err);
    // With a bare LF the same number of wire bytes is allowed.
    let lf = format!("250 {text}a\n");
    assert_eq!(lf.len(), MAX_LINE_BYTES);
    check(
        lf.as_bytes(),
        &reply(250, vec![format!("{text}a").leak()], true, n),
    );
    // No terminator at all: the error comes as soon as the cap is certain to be exceeded,
    // without waiting for the LF.
    let endless = format!("250 {}", "a".repeat(MAX_LINE_BYTES));
    check(endless.as_bytes(), &err);
    let endless = "250 ".to_owned() + &"a".repeat(MAX_LINE_BYTES - 4);
    assert_eq!(endless.len(), MAX_LINE_BYTES);
    check(endless.as_bytes(), &err);
    let almost = "250 ".to_owned() + &"a".repeat(MAX_LINE_BYTES - 5);
    check(almost.as_bytes(), &Want::More);
}

/// `n` bytes of `250-` lines (each at most 100 bytes), without the final line.
fn filler(n: usize) -> String {
    let mut out = String::new();
    while out.len() < n {
        let room = n - out.len();
        let len = room.min(100);
        assert!(len >= 6, "filler cannot make {room} bytes");
        let len = if room - len > 0 && room - len < 6 {
            len - 6
        } else {
            len
        };
        out.push_str("250-");
        out.push_str(&"p".repeat(len - 6));
        out.push_str("\r\n");
    }
    assert_eq!(out.len(), n);
    out
}

#[test]
fn reply_cap() {
    // A reply of exactly MAX_REPLY_BYTES is fine.
    let last = "250 end\r\n";
    let exact = filler(MAX_REPLY_BYTES - last.len()) + last;
    assert_eq!(exact.len(), MAX_REPLY_BYTES);
    let r = parse_reply(exact.as_bytes());
    let Parse::Complete { reply, consumed } = r else {
        panic!("{r:?}")
    };
    assert_eq!(consumed, MAX_REPLY_BYTES);
    assert_eq!(reply.lines.last().map(String::as_str), Some("end"));
    // One byte more is not, wherever the stream is split.
    let over = filler(MAX_REPLY_BYTES - last.len()) + "250 endx\r\n";
    let err = Want::Err(ReplyError::ReplyTooLarge {
        limit: MAX_REPLY_BYTES,
    });
    check(over.as_bytes(), &err);
    for k in (0..over.len())
        .step_by(997)
        .chain(MAX_REPLY_BYTES - 20..over.len())
    {
        assert_eq!(to_want(feed_cut(over.as_bytes(), &[k])), err);
    }
    // An endless stream of continuation lines stops at the cap, holding no more than it.
    let mut p = ReplyParser::new();
    let line = b"250-X-PAD pppppppppppppppppppppppppppppppppppppppp\r\n";
    let mut fed = 0;
    loop {
        match p.feed(line) {
            Parse::NeedMoreData => {
                fed += line.len();
                assert!(p.buffered_len() <= MAX_REPLY_BYTES);
            }
            Parse::Error(e) => {
                assert_eq!(
                    e,
                    ReplyError::ReplyTooLarge {
                        limit: MAX_REPLY_BYTES
                    }
                );
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(fed <= MAX_REPLY_BYTES);
}

#[test]
fn line_cap_versus_reply_cap_is_split_independent() {
    // A long line that crosses the reply cap before the line cap: whichever cap the byte
    // stream crosses first is reported, however it is split.
    let mut p = ReplyParser::with_limits(100, 150);
    let input = format!("250-{}\r\n250-{}\r\n", "a".repeat(80), "b".repeat(200));
    let whole = p.feed(input.as_bytes());
    assert_eq!(
        whole,
        Parse::Error(ReplyError::ReplyTooLarge { limit: 150 })
    );
    for k in 0..input.len() {
        let mut p = ReplyParser::with_limits(100, 150);
        let r = match p.feed(&input.as_bytes()[..k]) {
            Parse::NeedMoreData => p.feed(&input.as_bytes()[k..]),
            other => other,
        };
        assert_eq!(r, whole, "split at {k}");
    }
    let mut p = ReplyParser::with_limits(100, 1000);
    assert_eq!(
        p.feed(input.as_bytes()),
        Parse::Error(ReplyError::LineTooLong { limit: 100 })
    );
}

#[test]
fn enhanced_status_codes() {
    type Case = (&'static str, Option<(u8, u16, u16)>);
    let cases: &[Case] = &[
        ("250 2.0.0 OK\r\n", Some((2, 0, 0))),
        ("550 5.7.1 Client host rejected\r\n", Some((5, 7, 1))),
        ("421 4.7.0 Try again later\r\n", Some((4, 7, 0))),
        ("250 2.1.5\r\n", Some((2, 1, 5))),
        ("250 2.123.999 x\r\n", Some((2, 123, 999))),
        ("250-2.0.0 first\r\n250 2.0.0 second\r\n", Some((2, 0, 0))),
        // class must agree with the code
        ("250 5.0.0 mismatch\r\n", None),
        // malformed
        ("250 2.1234.5 x\r\n", None),
        ("250 2.0 x\r\n", None),
        ("250 3.0.0 x\r\n", None),
        ("250 2.0.0.0 x\r\n", None),
        ("250 2..0 x\r\n", None),
        ("250 2.0.0x\r\n", None),
        ("250 mx.example.test\r\n", None),
        ("250\r\n", None),
    ];
    for (input, want) in cases {
        let Parse::Complete { reply, .. } = parse_reply(input.as_bytes()) else {
            panic!("{input:?}")
        };
        let got = reply.enhanced.map(|e| (e.class, e.subject, e.detail));
        assert_eq!(&got, want, "{input:?}");
    }
    let e = EnhancedStatus::parse_prefix("4.7.0 x").unwrap();
    assert_eq!(e.to_string(), "4.7.0");
}

#[test]
fn parser_is_reusable_and_stays_failed() {
    let mut p = ReplyParser::new();
    let stream = b"220 hi\r\n250-a\r\n250 b\r\n";
    let Parse::Complete { reply, consumed } = p.feed(stream) else {
        panic!()
    };
    assert_eq!((reply.code, consumed), (220, 8));
    assert!(p.is_idle());
    let Parse::Complete { reply, consumed } = p.feed(&stream[8..]) else {
        panic!()
    };
    assert_eq!((reply.code, reply.lines.len(), consumed), (250, 2, 14));
    let err = p.feed(b"xyz\r\n");
    assert!(matches!(err, Parse::Error(ReplyError::NonDigitCode { .. })));
    assert_eq!(p.feed(b"220 ok\r\n"), err);
    assert!(p.error().is_some());
    assert_eq!(p.buffered_len(), 0);
}

#[test]
fn reply_helpers_and_wire_form() {
    let r = Reply::new(250, vec!["mx".into(), "STARTTLS".into()]);
    assert_eq!(r.to_bytes(), b"250-mx\r\n250 STARTTLS\r\n");
    assert_eq!(r.text(), "mx\nSTARTTLS");
    assert!(r.is_positive() && !r.is_negative());
    assert_eq!(r.class(), 2);
    let r = Reply::new(454, vec!["4.7.0 TLS not available".into()]);
    assert!(r.is_negative());
    assert_eq!(r.enhanced.map(|e| e.to_string()).as_deref(), Some("4.7.0"));
    assert_eq!(
        ReplyError::ReplyTooLarge { limit: 1 }.as_str(),
        "reply_too_large"
    );
}
