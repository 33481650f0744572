#![no_main]
//! Arbitrary peer bytes into the sans-io SMTP session. Properties: no panic; the session
//! always finishes; it only ever sends EHLO / STARTTLS / QUIT lines; it holds no more than
//! the caps plus one read; the outcome does not depend on how the bytes are cut into reads.

use libfuzzer_sys::fuzz_target;
use mxscan_smtp::{Action, Event, MAX_LINE_BYTES, MAX_REPLY_BYTES, Outcome, Session};

/// Plays `plain` (before TLS) and `tls` (after TLS) to a session in reads of `size` bytes
/// (0 = whole stream), reporting the handshake as `tls_ok`, ending reads with
/// ConnectionClosed or Timeout (`timeout`).
fn drive(plain: &[u8], tls: &[u8], size: usize, tls_ok: bool, timeout: bool) -> Outcome {
    let mut session = Session::with_ehlo_name("scanner.mxscan.example").unwrap();
    let mut streams = [(plain, 0usize), (tls, 0usize)];
    let mut cur = 0;
    let next = |s: &mut (&[u8], usize)| -> Option<(usize, usize)> {
        if s.1 >= s.0.len() {
            return None;
        }
        let end = if size == 0 { s.0.len() } else { (s.1 + size).min(s.0.len()) };
        let r = (s.1, end);
        s.1 = end;
        Some(r)
    };
    for _ in 0..(plain.len() + tls.len() + 64) * 4 {
        match session.next_action() {
            Action::Send { command, .. } => {
                let line = command.to_bytes();
                assert!(
                    line == b"EHLO scanner.mxscan.example\r\n"
                        || line == b"STARTTLS\r\n"
                        || line == b"QUIT\r\n"
                );
            }
            Action::Read(_) => match next(&mut streams[cur]) {
                Some((a, b)) => session.handle(Event::Data(&streams[cur].0[a..b])),
                None if timeout => session.handle(Event::Timeout),
                None => session.handle(Event::ConnectionClosed),
            },
            Action::StartTls { .. } => {
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
            Action::Done => return session.into_outcome(),
        }
        let read = if size == 0 { plain.len().max(tls.len()) } else { size };
        assert!(session.buffered_len() <= MAX_REPLY_BYTES + MAX_LINE_BYTES + read + 256);
    }
    panic!("session did not finish");
}

fuzz_target!(|input: &[u8]| {
    // Header: flags, read size, split point between the plaintext and the TLS stream.
    let [flags, size, split, data @ ..] = input else {
        return;
    };
    // The last `split` bytes are what the server says after TLS.
    let (plain, tls) = data.split_at(data.len() - usize::from(*split).min(data.len()));
    let tls_ok = flags & 1 == 1;
    let timeout = flags & 2 == 2;
    let whole = drive(plain, tls, 0, tls_ok, timeout);
    let cut = drive(plain, tls, usize::from(*size).max(1), tls_ok, timeout);
    assert_eq!(whole, cut);
});
