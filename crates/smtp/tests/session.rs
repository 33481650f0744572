//! Scripted conversations against the sans-io session (RFC 5321, RFC 3207). Every script
//! is also run one byte per read and split at every byte boundary (`check`), asserting the
//! same outcome and the same client lines.

mod harness;

use harness::{Turn, c, check, check_cuts, ehlo, s, sb, server_len};
use mxscan_smtp::{
    Action, EhloName, Event, MAX_REPLY_BYTES, Phase, ProbeStatus, ReplyError, Session,
};

const GREETING: &str = "220 mx.example.test ESMTP Postfix\r\n";
const EHLO_STARTTLS: &str = "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
                             250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
const EHLO_PLAIN: &str = "250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const READY: &str = "220 2.0.0 Ready to start TLS\r\n";
const BYE: &str = "221 2.0.0 Bye\r\n";

fn kw(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Greeting, EHLO with STARTTLS, STARTTLS 220, then the given TLS turn and the rest.
fn starttls_prefix() -> Vec<Turn> {
    vec![
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        s(READY),
    ]
}

fn tls_tail() -> Vec<Turn> {
    vec![Turn::TlsOk, ehlo(), s(EHLO_PLAIN), c("QUIT"), s(BYE)]
}

#[test]
fn normal_starttls_path() {
    let mut script = starttls_prefix();
    script.extend(tls_tail());
    let run = check(&script);
    let o = run.outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(o.phase, Phase::Tls);
    assert_eq!(o.banner.as_deref(), Some("mx.example.test ESMTP Postfix"));
    assert_eq!(
        o.ehlo_keywords,
        kw(&[
            "PIPELINING",
            "SIZE",
            "STARTTLS",
            "ENHANCEDSTATUSCODES",
            "8BITMIME"
        ])
    );
    assert_eq!(o.ehlo_keywords_tls, kw(&["PIPELINING", "8BITMIME"]));
    assert_eq!(o.starttls_offered, Some(true));
    assert_eq!(o.starttls_code, Some(220));
    assert_eq!(o.bytes_after_starttls, Some(0));
    assert!(o.after_starttls_sample.is_empty());
    assert_eq!(o.codes(), vec![220, 250, 220, 250, 221]);
    assert_eq!(o.code(Phase::Quit), Some(221));
    assert_eq!(o.detail, None);
    assert!(!o.bare_lf);
    let sent: Vec<String> = run
        .sent
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    assert_eq!(
        sent,
        vec![
            "EHLO scanner.mxscan.example\r\n",
            "STARTTLS\r\n",
            "EHLO scanner.mxscan.example\r\n",
            "QUIT\r\n"
        ]
    );
}

#[test]
fn multi_line_greeting_is_awaited_in_full() {
    let mut script = vec![
        s("220-mx.example.test ESMTP\r\n220-No UCE\r\n220 Welcome\r\n"),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        s(READY),
    ];
    script.extend(tls_tail());
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(
        o.banner.as_deref(),
        Some("mx.example.test ESMTP\nNo UCE\nWelcome")
    );
}

#[test]
fn greeting_split_across_writes() {
    // Three separate server writes; the harness panics if the client sends in between.
    let script = vec![
        s("220-mx.example.test"),
        s(" ESMTP\r\n220"),
        s(" ready\r\n"),
        ehlo(),
        s(EHLO_PLAIN),
        c("QUIT"),
        s(BYE),
    ];
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::NoStarttls);
    assert_eq!(o.banner.as_deref(), Some("mx.example.test ESMTP\nready"));
}

#[test]
fn greeting_stalls_after_first_line() {
    let script = vec![s("220-mx.example.test ESMTP\r\n"), Turn::Stall];
    let run = check(&script);
    assert!(
        run.sent.is_empty(),
        "nothing is sent before the full greeting"
    );
    assert_eq!(run.outcome.status, ProbeStatus::GreetingTimeout);
    assert_eq!(run.outcome.phase, Phase::Greeting);
    assert_eq!(run.outcome.banner, None);
}

#[test]
fn greeting_timeout_without_a_byte() {
    let run = check(&[Turn::Stall]);
    assert!(run.sent.is_empty());
    assert_eq!(run.outcome.status, ProbeStatus::GreetingTimeout);
    assert_eq!(run.outcome.phase, Phase::Greeting);
}

#[test]
fn close_before_any_byte_is_closed_before_greeting_not_connect_refused() {
    // The TCP connection was accepted; a refused SYN never reaches the session.
    let run = check(&[Turn::Close]);
    assert!(run.sent.is_empty());
    assert_eq!(run.outcome.status, ProbeStatus::ClosedBeforeGreeting);
    assert!(!run.outcome.status.answered_smtp());
}

#[test]
fn close_after_partial_greeting_is_io_error() {
    let run = check(&[s("220-mx.exa"), Turn::Close]);
    assert!(run.sent.is_empty());
    assert_eq!(run.outcome.status, ProbeStatus::IoError);
    assert_eq!(run.outcome.phase, Phase::Greeting);
}

#[test]
fn greeting_421_sends_nothing() {
    let run = check(&[s(
        "421 4.7.0 mx.example.test Service not available, closing channel\r\n",
    )]);
    assert!(run.sent.is_empty());
    let o = run.outcome;
    assert_eq!(o.status, ProbeStatus::Greeting421);
    assert_eq!(o.phase, Phase::Greeting);
    assert_eq!(
        o.banner.as_deref(),
        Some("4.7.0 mx.example.test Service not available, closing channel")
    );
    assert_eq!(
        o.replies[0].enhanced.map(|e| e.to_string()).as_deref(),
        Some("4.7.0")
    );
    assert_eq!(o.starttls_offered, None);
}

#[test]
fn greeting_554_is_rejected_and_quits() {
    let script = vec![
        s("554 mx.example.test No SMTP service here\r\n"),
        c("QUIT"),
        s(BYE),
    ];
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::GreetingRejected);
    assert_eq!(o.code(Phase::Greeting), Some(554));
    assert_eq!(
        o.banner.as_deref(),
        Some("mx.example.test No SMTP service here")
    );
}

#[test]
fn greeting_554_then_close_without_221() {
    let o = check(&[s("554 go away\r\n"), c("QUIT"), Turn::Close]).outcome;
    assert_eq!(o.status, ProbeStatus::GreetingRejected);
    assert_eq!(o.code(Phase::Quit), None);
}

#[test]
fn greeting_with_unexpected_codes() {
    // 2yz other than 220 and 3yz greetings are protocol errors: nothing is sent.
    for greeting in ["250 hello\r\n", "354 go ahead\r\n", "221 bye\r\n"] {
        let run = check(&[s(greeting)]);
        assert!(run.sent.is_empty(), "{greeting}");
        assert_eq!(run.outcome.status, ProbeStatus::ProtocolError, "{greeting}");
        assert_eq!(run.outcome.phase, Phase::Greeting);
    }
    // A 4yz other than 421 is a refusal: greeting_rejected, QUIT.
    let o = check(&[s("450 busy\r\n"), c("QUIT"), s(BYE)]).outcome;
    assert_eq!(o.status, ProbeStatus::GreetingRejected);
}

#[test]
fn garbage_greeting_is_protocol_error() {
    // A TLS ServerHello-ish record where the greeting belongs (port 465 style).
    let run = check(&[sb(vec![0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00])]);
    assert!(run.sent.is_empty());
    assert_eq!(run.outcome.status, ProbeStatus::ProtocolError);
    assert!(matches!(
        run.outcome.reply_error,
        Some(ReplyError::NonDigitCode { .. })
    ));
}

#[test]
fn ehlo_rejected_5xx() {
    let script = vec![
        s(GREETING),
        ehlo(),
        s("550 5.7.1 Client host rejected\r\n"),
        c("QUIT"),
        s(BYE),
    ];
    let run = check(&script);
    let o = run.outcome;
    assert_eq!(o.status, ProbeStatus::EhloRejected);
    assert_eq!(o.phase, Phase::Ehlo);
    assert_eq!(o.code(Phase::Ehlo), Some(550));
    assert_eq!(o.starttls_offered, None);
    assert!(o.banner.is_some(), "partial results are kept");
    // No HELO fallback.
    assert_eq!(run.sent.len(), 2);
}

#[test]
fn ehlo_rejected_4xx() {
    let o = check(&[
        s(GREETING),
        ehlo(),
        s("451 4.3.0 try later\r\n"),
        c("QUIT"),
        s(BYE),
    ])
    .outcome;
    assert_eq!(o.status, ProbeStatus::EhloRejected);
    assert_eq!(o.code(Phase::Ehlo), Some(451));
    // 421: the server is closing, no QUIT.
    let run = check(&[s(GREETING), ehlo(), s("421 4.7.0 closing\r\n")]);
    assert_eq!(run.outcome.status, ProbeStatus::EhloRejected);
    assert_eq!(run.sent.len(), 1);
}

#[test]
fn ehlo_unexpected_code_is_protocol_error() {
    let o = check(&[s(GREETING), ehlo(), s("220 again\r\n")]).outcome;
    assert_eq!(o.status, ProbeStatus::ProtocolError);
    assert_eq!(o.phase, Phase::Ehlo);
}

#[test]
fn starttls_not_offered() {
    let o = check(&[s(GREETING), ehlo(), s(EHLO_PLAIN), c("QUIT"), s(BYE)]).outcome;
    assert_eq!(o.status, ProbeStatus::NoStarttls);
    assert_eq!(o.phase, Phase::Ehlo);
    assert_eq!(o.starttls_offered, Some(false));
    assert_eq!(o.starttls_code, None);
    assert_eq!(o.bytes_after_starttls, None);
    assert_eq!(o.ehlo_keywords, kw(&["PIPELINING", "8BITMIME"]));
}

#[test]
fn single_line_ehlo_reply_offers_nothing() {
    let o = check(&[
        s(GREETING),
        ehlo(),
        s("250 mx.example.test\r\n"),
        c("QUIT"),
        s(BYE),
    ])
    .outcome;
    assert_eq!(o.status, ProbeStatus::NoStarttls);
    assert!(o.ehlo_keywords.is_empty());
}

#[test]
fn x_nostarttls_decoy_is_not_starttls() {
    let script = vec![
        s(GREETING),
        ehlo(),
        s("250-mx.example.test STARTTLS\r\n250-X-NOSTARTTLS\r\n250-XSTARTTLS\r\n250 SIZE\r\n"),
        c("QUIT"),
        s(BYE),
    ];
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::NoStarttls);
    assert_eq!(o.starttls_offered, Some(false));
    assert_eq!(o.ehlo_keywords, kw(&["X-NOSTARTTLS", "XSTARTTLS", "SIZE"]));
}

#[test]
fn starttls_keyword_is_case_insensitive() {
    let mut script = vec![
        s(GREETING),
        ehlo(),
        s("250-mx\r\n250 starttls\r\n"),
        c("STARTTLS"),
        s(READY),
    ];
    script.extend(tls_tail());
    assert_eq!(check(&script).outcome.status, ProbeStatus::Ok);
}

fn starttls_answered(reply: &str, code: u16, quit: bool) {
    let mut script = vec![
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        s(reply),
    ];
    if quit {
        script.extend([c("QUIT"), s(BYE)]);
    }
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::StarttlsRejected, "{reply}");
    assert_eq!(o.phase, Phase::Starttls);
    assert_eq!(o.starttls_code, Some(code));
    assert_eq!(o.starttls_offered, Some(true));
    assert_eq!(o.bytes_after_starttls, None);
    assert!(!o.ehlo_keywords.is_empty(), "EHLO keywords are kept");
}

#[test]
fn starttls_454() {
    starttls_answered(
        "454 4.7.0 TLS not available due to temporary reason\r\n",
        454,
        true,
    );
}

#[test]
fn starttls_502() {
    starttls_answered("502 5.5.1 Command not implemented\r\n", 502, true);
}

#[test]
fn starttls_421_does_not_quit() {
    starttls_answered("421 4.3.2 shutting down\r\n", 421, false);
}

#[test]
fn starttls_answered_250_is_protocol_error() {
    let o = check(&[
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        s("250 ok\r\n"),
    ])
    .outcome;
    assert_eq!(o.status, ProbeStatus::ProtocolError);
    assert_eq!(o.phase, Phase::Starttls);
    assert_eq!(o.starttls_code, Some(250));
}

#[test]
fn tls_failure() {
    let mut script = starttls_prefix();
    script.push(Turn::TlsFail("received fatal alert: HandshakeFailure"));
    let run = check(&script);
    let o = run.outcome;
    assert_eq!(o.status, ProbeStatus::TlsFailed);
    assert_eq!(o.phase, Phase::Tls);
    assert_eq!(
        o.tls_error.as_deref(),
        Some("received fatal alert: HandshakeFailure")
    );
    assert_eq!(o.starttls_code, Some(220));
    assert_eq!(o.bytes_after_starttls, Some(0));
    // No QUIT after a failed handshake: the connection state is unknown.
    assert_eq!(run.sent.len(), 2);
}

#[test]
fn close_during_handshake_is_tls_failed() {
    let mut script = starttls_prefix();
    script.push(Turn::Close);
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::TlsFailed);
    assert!(o.tls_error.is_some());
}

#[test]
fn handshake_timeout() {
    let mut script = starttls_prefix();
    script.push(Turn::Stall);
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Timeout);
    assert_eq!(o.phase, Phase::Tls);
}

#[test]
fn bytes_injected_after_starttls_220() {
    let injected = "250-injected\r\n250 PIPELINING\r\n";
    let mut script = vec![
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        s(&format!("{READY}{injected}")),
    ];
    script.extend(tls_tail());
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(o.bytes_after_starttls, Some(injected.len() as u32));
    assert_eq!(o.after_starttls_sample, injected.as_bytes());
    // The injected bytes were not parsed as a reply.
    assert_eq!(o.codes(), vec![220, 250, 220, 250, 221]);
    assert_eq!(o.ehlo_keywords_tls, kw(&["PIPELINING", "8BITMIME"]));
}

#[test]
fn large_injection_is_counted_and_sampled() {
    let injected = vec![b'A'; 1000];
    let mut ready = READY.as_bytes().to_vec();
    ready.extend_from_slice(&injected);
    let mut script = vec![
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        sb(ready),
    ];
    script.push(Turn::TlsFail("corrupt message"));
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::TlsFailed);
    assert_eq!(o.bytes_after_starttls, Some(1000));
    assert_eq!(o.after_starttls_sample.len(), 256);
}

#[test]
fn start_tls_action_carries_the_bytes_after_220() {
    let mut session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    assert_eq!(session.next_action(), Action::Read(Phase::Greeting));
    session.handle(Event::Data(GREETING.as_bytes()));
    assert!(matches!(
        session.next_action(),
        Action::Send {
            phase: Phase::Ehlo,
            ..
        }
    ));
    session.handle(Event::Data(b"250-mx\r\n250 STARTTLS\r\n"));
    assert!(matches!(
        session.next_action(),
        Action::Send {
            phase: Phase::Starttls,
            ..
        }
    ));
    assert_eq!(session.next_action(), Action::Read(Phase::Starttls));
    session.handle(Event::Data(b"220 go\r\nEVIL"));
    assert_eq!(
        session.next_action(),
        Action::StartTls {
            after_reply: b"EVIL".to_vec()
        }
    );
    assert_eq!(session.phase(), Phase::Tls);
    // Asking again before the handshake result: StartTls with nothing new.
    assert_eq!(
        session.next_action(),
        Action::StartTls {
            after_reply: Vec::new()
        }
    );
    // The driver drains two more bytes before handshaking: counted, not parsed.
    session.handle(Event::Data(b"!!"));
    session.handle(Event::TlsEstablished);
    assert_eq!(session.status(), Some(ProbeStatus::Ok));
    assert!(matches!(
        session.next_action(),
        Action::Send {
            phase: Phase::EhloTls,
            ..
        }
    ));
    session.handle(Event::Timeout);
    assert_eq!(session.next_action(), Action::Done);
    let o = session.into_outcome();
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(o.bytes_after_starttls, Some(6));
    assert_eq!(o.after_starttls_sample, b"EVIL!!");
    assert_eq!(o.detail.as_deref(), Some("post-TLS EHLO timed out"));
}

#[test]
fn oversized_ehlo_reply_1_mib() {
    let mut reply = b"250-mx.example.test\r\n".to_vec();
    let mut i = 0;
    while reply.len() < 1024 * 1024 {
        reply.extend_from_slice(format!("250-X-PAD{i:08} {}\r\n", "p".repeat(100)).as_bytes());
        i += 1;
    }
    reply.extend_from_slice(b"250 STARTTLS\r\n");
    let script = vec![s(GREETING), ehlo(), sb(reply)];
    // Splitting at all of the 1 MiB is too slow unoptimised: every boundary in the greeting
    // and the first 2 KiB of the reply, every boundary around the cap, and a stride over
    // the rest (the parser stops at the cap; nothing later is read).
    let g = GREETING.len();
    let cap = g + MAX_REPLY_BYTES;
    let cuts = (0..g + 2048)
        .chain(cap - 1024..cap + 1024)
        .chain((0..server_len(&script)).step_by(4099));
    let o = check_cuts(&script, cuts).outcome;
    assert_eq!(o.status, ProbeStatus::ProtocolError);
    assert_eq!(o.phase, Phase::Ehlo);
    assert_eq!(
        o.reply_error,
        Some(ReplyError::ReplyTooLarge {
            limit: MAX_REPLY_BYTES
        })
    );
    assert!(o.banner.is_some());
    assert_eq!(o.starttls_offered, None);
}

#[test]
fn oversized_reply_memory_stays_under_the_cap() {
    let mut session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    session.next_action();
    session.handle(Event::Data(GREETING.as_bytes()));
    session.next_action();
    session.next_action();
    let line = format!("250-X-PAD {}\r\n", "p".repeat(1000));
    let mut fed = 0;
    while !session.is_done() {
        session.handle(Event::Data(line.as_bytes()));
        fed += line.len();
        assert!(session.buffered_len() <= MAX_REPLY_BYTES);
        assert!(fed < 2 * MAX_REPLY_BYTES);
    }
    assert_eq!(session.into_outcome().status, ProbeStatus::ProtocolError);
}

#[test]
fn long_line_is_protocol_error() {
    let long = format!("250-{}\r\n250 STARTTLS\r\n", "x".repeat(5000));
    let o = check(&[s(GREETING), ehlo(), s(&long)]).outcome;
    assert_eq!(o.status, ProbeStatus::ProtocolError);
    assert!(matches!(
        o.reply_error,
        Some(ReplyError::LineTooLong { .. })
    ));
}

#[test]
fn connection_closed_mid_ehlo() {
    let script = vec![
        s(GREETING),
        ehlo(),
        s("250-mx.example.test\r\n250-PIPEL"),
        Turn::Close,
    ];
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::IoError);
    assert_eq!(o.phase, Phase::Ehlo);
    assert!(o.banner.is_some());
    // Closed right after EHLO without a byte.
    let o = check(&[s(GREETING), ehlo(), Turn::Close]).outcome;
    assert_eq!(o.status, ProbeStatus::IoError);
    assert_eq!(o.phase, Phase::Ehlo);
}

#[test]
fn timeout_waiting_for_ehlo_reply() {
    let o = check(&[s(GREETING), ehlo(), s("250-mx\r\n"), Turn::Stall]).outcome;
    assert_eq!(o.status, ProbeStatus::Timeout);
    assert_eq!(o.phase, Phase::Ehlo);
}

#[test]
fn timeout_waiting_for_starttls_reply() {
    let o = check(&[
        s(GREETING),
        ehlo(),
        s(EHLO_STARTTLS),
        c("STARTTLS"),
        Turn::Stall,
    ])
    .outcome;
    assert_eq!(o.status, ProbeStatus::Timeout);
    assert_eq!(o.phase, Phase::Starttls);
}

#[test]
fn post_tls_ehlo_failures_keep_ok() {
    // Rejected.
    let mut script = starttls_prefix();
    script.extend([Turn::TlsOk, ehlo(), s("554 no\r\n"), c("QUIT"), s(BYE)]);
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert!(o.ehlo_keywords_tls.is_empty());
    assert_eq!(o.code(Phase::EhloTls), Some(554));
    assert_eq!(o.detail.as_deref(), Some("post-TLS EHLO answered 554"));
    // Closed.
    let mut script = starttls_prefix();
    script.extend([Turn::TlsOk, ehlo(), Turn::Close]);
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(o.detail.as_deref(), Some("connection closed after TLS"));
    // Garbage.
    let mut script = starttls_prefix();
    script.extend([Turn::TlsOk, ehlo(), s("hello?\r\n")]);
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert!(o.reply_error.is_some());
}

#[test]
fn quit_without_221_does_not_change_the_status() {
    for end in [
        Turn::Close,
        Turn::Stall,
        s("500 what\r\n"),
        s("garbage\r\n"),
    ] {
        let mut script = starttls_prefix();
        script.extend([Turn::TlsOk, ehlo(), s(EHLO_PLAIN), c("QUIT"), end.clone()]);
        let o = check(&script).outcome;
        assert_eq!(o.status, ProbeStatus::Ok, "{end:?}");
        assert_eq!(o.detail, None, "{end:?}");
        let o = check(&[s(GREETING), ehlo(), s(EHLO_PLAIN), c("QUIT"), end.clone()]).outcome;
        assert_eq!(o.status, ProbeStatus::NoStarttls, "{end:?}");
    }
}

#[test]
fn bare_lf_server_is_tolerated_and_recorded() {
    let mut script = vec![
        s("220 mx ESMTP\n"),
        ehlo(),
        s("250-mx\n250 STARTTLS\n"),
        c("STARTTLS"),
        s("220 go\n"),
    ];
    script.extend(tls_tail());
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert!(o.bare_lf);
}

#[test]
fn replies_sent_before_the_command_are_kept_for_it() {
    // A server that answers EHLO before it was asked (greeting and EHLO reply in one write):
    // the reply is taken as the EHLO reply, as a stream client would.
    let mut script = vec![
        s(&format!("{GREETING}{EHLO_STARTTLS}")),
        ehlo(),
        c("STARTTLS"),
        s(READY),
    ];
    script.extend(tls_tail());
    let o = check(&script).outcome;
    assert_eq!(o.status, ProbeStatus::Ok);
    assert_eq!(o.codes(), vec![220, 250, 220, 250, 221]);
}

#[test]
fn events_out_of_place_are_ignored() {
    let mut session = Session::new(EhloName::new("scanner.mxscan.example").unwrap());
    session.handle(Event::TlsEstablished);
    session.handle(Event::TlsFailed("x"));
    session.handle(Event::Data(b""));
    assert_eq!(session.next_action(), Action::Read(Phase::Greeting));
    assert_eq!(session.status(), None);
    session.handle(Event::Data(b"421 bye\r\n"));
    assert_eq!(session.next_action(), Action::Done);
    session.handle(Event::Data(b"more"));
    session.handle(Event::ConnectionClosed);
    session.handle(Event::Timeout);
    assert_eq!(session.next_action(), Action::Done);
    assert_eq!(session.into_outcome().status, ProbeStatus::Greeting421);
}

#[test]
fn into_outcome_before_done_is_a_timeout() {
    let session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    let o = session.into_outcome();
    assert_eq!(o.status, ProbeStatus::GreetingTimeout);
}

#[test]
fn ehlo_uses_the_configured_name() {
    for name in ["mxscan.research.example.org", "[192.0.2.1]", "a"] {
        let mut session = Session::with_ehlo_name(name).unwrap();
        session.next_action();
        session.handle(Event::Data(GREETING.as_bytes()));
        let Action::Send { command, phase } = session.next_action() else {
            panic!("expected EHLO");
        };
        assert_eq!(phase, Phase::Ehlo);
        assert_eq!(command.to_bytes(), format!("EHLO {name}\r\n").into_bytes());
    }
}

#[test]
fn invalid_ehlo_names_are_refused() {
    for bad in [
        "",
        "scanner.example\r\nMAIL FROM:<a@b>",
        "scanner example",
        "-bad.example",
        "bad-.example",
        "a..b",
        "trailing.dot.",
        "[unterminated",
        "[]",
        "[a b]",
        "ünï.example",
    ] {
        assert!(EhloName::new(bad).is_err(), "{bad:?}");
        assert!(Session::with_ehlo_name(bad).is_err(), "{bad:?}");
    }
    let long_label = "a".repeat(64);
    assert!(EhloName::new(&long_label).is_err());
    let long_name = vec!["a".repeat(60); 5].join(".");
    assert!(EhloName::new(&long_name).is_err());
    for good in [
        "mx1.example.com",
        "localhost",
        "xn--bcher-kva.example",
        "[IPv6:2001:db8::1]",
    ] {
        assert_eq!(EhloName::new(good).unwrap().as_str(), good);
    }
}

/// All scripts above in one list, for the "never sends mail" property.
fn all_scripts() -> Vec<Vec<Turn>> {
    let mut ok = starttls_prefix();
    ok.extend(tls_tail());
    let mut fail = starttls_prefix();
    fail.push(Turn::TlsFail("x"));
    vec![
        ok,
        fail,
        vec![s(GREETING), ehlo(), s(EHLO_PLAIN), c("QUIT"), s(BYE)],
        vec![s("554 no\r\n"), c("QUIT"), s(BYE)],
        vec![s(GREETING), ehlo(), s("550 no\r\n"), c("QUIT"), s(BYE)],
        vec![
            s(GREETING),
            ehlo(),
            s(EHLO_STARTTLS),
            c("STARTTLS"),
            s("454 no\r\n"),
            c("QUIT"),
            s(BYE),
        ],
    ]
}

#[test]
fn mxscan_never_sends_mail() {
    for script in all_scripts() {
        let run = check(&script);
        harness::assert_only_allowed_commands(&run.sent);
        for line in &run.sent {
            for verb in [
                "MAIL", "RCPT", "DATA", "HELO", "VRFY", "EXPN", "RSET", "AUTH",
            ] {
                assert!(!line.starts_with(verb.as_bytes()));
            }
        }
    }
}
