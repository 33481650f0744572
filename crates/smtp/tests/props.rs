//! Properties (proptest, part of the normal `cargo test`): arbitrary bytes never panic and
//! never make the parser or the session hold more than the caps; valid replies round-trip;
//! a session's outcome does not depend on how the peer's bytes are split into reads.

use mxscan_smtp::{
    Action, Event, MAX_LINE_BYTES, MAX_REPLY_BYTES, Outcome, Parse, Reply, ReplyParser, Session,
};
use proptest::prelude::*;

/// Byte streams that look like SMTP often enough to reach every state.
fn smtp_soup() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"220 mx ESMTP\r\n".to_vec()),
        Just(b"220-mx\r\n".to_vec()),
        Just(b"220 2.0.0 go\r\n".to_vec()),
        Just(b"250-mx\r\n".to_vec()),
        Just(b"250-STARTTLS\r\n".to_vec()),
        Just(b"250 STARTTLS\r\n".to_vec()),
        Just(b"250 X-NOSTARTTLS\n".to_vec()),
        Just(b"250 ok\r\n".to_vec()),
        Just(b"454 4.7.0 no\r\n".to_vec()),
        Just(b"421 bye\r\n".to_vec()),
        Just(b"554 no\r\n".to_vec()),
        Just(b"221 bye\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..24),
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|v| v.concat())
}

/// A plausible plaintext conversation (greeting, EHLO reply, STARTTLS reply, maybe injected
/// bytes), each part usually well-formed, sometimes not, so every state is reached.
fn conversation() -> impl Strategy<Value = Vec<u8>> {
    let greeting = prop_oneof![
        8 => Just(b"220-mx ESMTP\r\n220 hi\r\n".to_vec()),
        8 => Just(b"220 mx ESMTP\n".to_vec()),
        1 => Just(b"421 busy\r\n".to_vec()),
        1 => Just(b"554 no\r\n".to_vec()),
        1 => smtp_soup(),
    ];
    let ehlo = prop_oneof![
        8 => Just(b"250-mx\r\n250-SIZE 1000\r\n250 STARTTLS\r\n".to_vec()),
        2 => Just(b"250-mx\r\n250 X-NOSTARTTLS\r\n".to_vec()),
        1 => Just(b"550 5.7.1 no\r\n".to_vec()),
        1 => smtp_soup(),
    ];
    let starttls = prop_oneof![
        8 => Just(b"220 2.0.0 go\r\n".to_vec()),
        1 => Just(b"454 4.7.0 no\r\n".to_vec()),
        1 => smtp_soup(),
    ];
    let after = prop_oneof![
        4 => Just(Vec::new()),
        1 => Just(b"221 bye\r\n".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..600),
    ];
    (greeting, ehlo, starttls, after).prop_map(|(g, e, s, a)| [g, e, s, a].concat())
}

/// What the server says after TLS (EHLO reply, QUIT reply), or anything.
fn after_tls() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(b"250-mx\r\n250 SIZE\r\n221 bye\r\n".to_vec()),
        1 => Just(b"250 mx\r\n".to_vec()),
        1 => smtp_soup(),
    ]
}

/// How the driver ends a read when the stream is exhausted.
#[derive(Debug, Clone, Copy)]
enum End {
    Close,
    Timeout,
}

/// Drives a session over `plain` (before TLS) and `tls` (after), cutting reads at `cuts`
/// (offsets into each stream; `one_byte` overrides). Checks the command set and the memory
/// bound at every step.
fn drive(
    plain: &[u8],
    tls_ok: bool,
    tls: &[u8],
    cuts: &[usize],
    one_byte: bool,
    end: End,
) -> Outcome {
    let mut session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    let mut streams = [(plain, 0usize), (tls, 0usize)];
    let mut cur = 0;
    let mut biggest_chunk = 0;
    let next_chunk = |stream: &mut (&[u8], usize)| -> Option<(usize, usize)> {
        let (data, pos) = *stream;
        if pos >= data.len() {
            return None;
        }
        let end = if one_byte {
            pos + 1
        } else {
            cuts.iter()
                .copied()
                .filter(|&c| c > pos && c < data.len())
                .min()
                .unwrap_or(data.len())
        };
        stream.1 = end;
        Some((pos, end))
    };
    for _ in 0..100_000 {
        match session.next_action() {
            Action::Send { command, .. } => {
                let line = command.to_bytes();
                assert!(
                    line == b"EHLO scanner.mxscan.example\r\n"
                        || line == b"STARTTLS\r\n"
                        || line == b"QUIT\r\n",
                    "forbidden line {line:?}"
                );
            }
            Action::Read(_) => match next_chunk(&mut streams[cur]) {
                Some((a, b)) => {
                    biggest_chunk = biggest_chunk.max(b - a);
                    session.handle(Event::Data(&streams[cur].0[a..b]));
                }
                None => session.handle(match end {
                    End::Close => Event::ConnectionClosed,
                    End::Timeout => Event::Timeout,
                }),
            },
            Action::StartTls { after_reply } => {
                assert!(after_reply.len() <= MAX_REPLY_BYTES);
                while let Some((a, b)) = next_chunk(&mut streams[0]) {
                    session.handle(Event::Data(&streams[0].0[a..b]));
                }
                cur = 1;
                session.handle(if tls_ok {
                    Event::TlsEstablished
                } else {
                    Event::TlsFailed("handshake failed")
                });
            }
            Action::Done => {
                let o = session.into_outcome();
                if let Some(n) = o.bytes_after_starttls {
                    assert!(o.after_starttls_sample.len() <= 256.min(n as usize));
                }
                return o;
            }
        }
        assert!(session.buffered_len() <= MAX_REPLY_BYTES + MAX_LINE_BYTES + biggest_chunk + 256);
    }
    panic!("session did not finish");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_and_stays_capped(
        data in prop::collection::vec(any::<u8>(), 0..4096),
        chunk in 1usize..64,
    ) {
        let mut p = ReplyParser::with_limits(200, 1000);
        for piece in data.chunks(chunk) {
            let mut rest = piece;
            loop {
                match p.feed(rest) {
                    Parse::NeedMoreData => break,
                    Parse::Complete { reply, consumed } => {
                        prop_assert!(consumed > 0 && consumed <= rest.len());
                        prop_assert!((200..=599).contains(&reply.code));
                        prop_assert!(!reply.lines.is_empty());
                        rest = &rest[consumed..];
                        if rest.is_empty() { break; }
                    }
                    Parse::Error(_) => break,
                }
            }
            prop_assert!(p.buffered_len() <= 1000);
        }
    }

    #[test]
    fn soup_parses_the_same_however_split(data in smtp_soup(), cut in any::<prop::sample::Index>()) {
        // Parse the whole stream into replies, then again with one extra cut.
        fn all(data: &[u8], cut: usize) -> Vec<Parse> {
            let mut p = ReplyParser::new();
            let mut out = Vec::new();
            for piece in [&data[..cut], &data[cut..]] {
                let mut rest = piece;
                while !rest.is_empty() {
                    match p.feed(rest) {
                        Parse::Complete { reply, consumed } => {
                            rest = &rest[consumed..];
                            out.push(Parse::Complete { reply, consumed: 0 });
                        }
                        Parse::NeedMoreData => break,
                        e @ Parse::Error(_) => { out.push(e); return out; }
                    }
                }
            }
            out
        }
        let k = if data.is_empty() { 0 } else { cut.index(data.len() + 1) };
        prop_assert_eq!(all(&data, 0), all(&data, k));
    }

    #[test]
    fn valid_replies_round_trip(
        code in 200u16..600,
        lines in prop::collection::vec("[ -~]{0,80}", 1..8),
        bare_lf in any::<bool>(),
        trailing in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let reply = Reply::new(code, lines.clone());
        let mut wire = reply.to_bytes();
        if bare_lf {
            wire = String::from_utf8(wire).unwrap().replace("\r\n", "\n").into_bytes();
        }
        let len = wire.len();
        wire.extend_from_slice(&trailing);
        match ReplyParser::new().feed(&wire) {
            Parse::Complete { reply: got, consumed } => {
                prop_assert_eq!(got.code, code);
                prop_assert_eq!(&got.lines, &lines);
                prop_assert_eq!(got.bare_lf, bare_lf);
                prop_assert_eq!(got.enhanced, reply.enhanced);
                prop_assert_eq!(consumed, len);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn session_never_panics_on_arbitrary_bytes(
        plain in prop::collection::vec(any::<u8>(), 0..2048),
        tls in prop::collection::vec(any::<u8>(), 0..256),
        tls_ok in any::<bool>(),
        chunk in 1usize..300,
    ) {
        let cuts: Vec<usize> = (1..plain.len().max(tls.len())).step_by(chunk).collect();
        drive(&plain, tls_ok, &tls, &cuts, false, End::Close);
    }

    #[test]
    fn session_outcome_is_independent_of_read_splits(
        plain in prop_oneof![3 => conversation(), 1 => smtp_soup()],
        tls in after_tls(),
        tls_ok in any::<bool>(),
        cuts in prop::collection::vec(0usize..400, 0..6),
        timeout in any::<bool>(),
    ) {
        let end = if timeout { End::Timeout } else { End::Close };
        let whole = drive(&plain, tls_ok, &tls, &[], false, end);
        let one = drive(&plain, tls_ok, &tls, &[], true, end);
        prop_assert_eq!(&one, &whole);
        let split = drive(&plain, tls_ok, &tls, &cuts, false, end);
        prop_assert_eq!(&split, &whole);
    }
}
