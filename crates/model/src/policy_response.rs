//! The HTTP/1.1 response of an MTA-STS policy host (RFC 8461 §3.3), read sans-io: the
//! driver (`mxscan-probe`) moves bytes from the TLS stream into a [`ResponseReader`] and
//! applies the deadlines; everything a hostile server can get wrong is decided here, on
//! bytes, and tested split at every byte.
//!
//! What a compliant sender does, and so what the reader reports ([`FetchError`]):
//! - the head must parse (RFC 9112 §2) within `max_head` bytes, else `io` (malformed, or the
//!   connection closed inside it) or `too_large`;
//! - `3xx` is `redirect` (RFC 8461 §3.3: redirects MUST NOT be followed; `Location` kept),
//!   any other status but `200` is `http_status`;
//! - the body is framed by `Transfer-Encoding: chunked` (RFC 9112 §7.1), `Content-Length`,
//!   or the end of the connection, and may not exceed `max_body` bytes (`too_large`; a
//!   `Content-Length` over the cap fails at once); a body cut short is `io`.

use crate::FetchError;

/// The response head, as far as the survey records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` as sent (trimmed).
    pub content_type: Option<String>,
    /// `Location` as sent (redirects).
    pub location: Option<String>,
}

/// Why a response was not a usable policy body: the fetch error and a detail for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `sts_fetch_error` class.
    pub error: FetchError,
    /// What exactly went wrong.
    pub detail: String,
}

/// What the reader needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More bytes (or the end of the connection).
    NeedMore,
    /// The response is complete: the body of a `200`, or why there is none.
    Done(Result<Vec<u8>, Failure>),
}

#[derive(Debug)]
enum State {
    Head,
    Length(usize),
    Chunked(Chunked),
    Close,
    Done,
}

/// Most bytes a driver should read at once.
const READ_CHUNK: usize = 16 * 1024;
/// Longest chunk-size line (with extensions) accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 4096;

/// Reads one HTTP/1.1 response from bytes fed in any split.
#[derive(Debug)]
pub struct ResponseReader {
    max_head: usize,
    max_body: usize,
    /// Unconsumed input (head bytes, then undecoded body bytes).
    buf: Vec<u8>,
    /// The body so far.
    body: Vec<u8>,
    head: Option<Head>,
    state: State,
}

fn fail(error: FetchError, detail: impl Into<String>) -> Progress {
    Progress::Done(Err(Failure {
        error,
        detail: detail.into(),
    }))
}

impl ResponseReader {
    /// A reader that accepts a head of at most `max_head` bytes and a body of at most
    /// `max_body` bytes (RFC 8461 §3.3 suggests 64 KiB).
    pub fn new(max_head: usize, max_body: usize) -> Self {
        ResponseReader {
            max_head,
            max_body,
            buf: Vec::new(),
            body: Vec::new(),
            head: None,
            state: State::Head,
        }
    }

    /// The head, once it has been read.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Whether the head is still being read (for the driver's error messages).
    pub fn in_head(&self) -> bool {
        matches!(self.state, State::Head)
    }

    /// How many bytes the driver should read next: never more than the caps can still use
    /// (plus one, to see that a cap was passed), at least 1.
    pub fn read_limit(&self) -> usize {
        let room = match &self.state {
            State::Head => (self.max_head + 1).saturating_sub(self.buf.len()),
            State::Length(n) => n.saturating_sub(self.body.len()),
            State::Close => (self.max_body + 1).saturating_sub(self.body.len()),
            State::Chunked(_) | State::Done => READ_CHUNK,
        };
        room.clamp(1, READ_CHUNK)
    }

    /// Take `data`; [`Progress::Done`] once the response is decided (later calls repeat
    /// nothing and return `NeedMore`).
    pub fn feed(&mut self, data: &[u8]) -> Progress {
        match self.state {
            State::Done => return Progress::NeedMore,
            State::Head | State::Chunked(_) => self.buf.extend_from_slice(data),
            State::Length(_) | State::Close => self.body.extend_from_slice(data),
        }
        let p = self.advance();
        if matches!(p, Progress::Done(_)) {
            self.state = State::Done;
        }
        p
    }

    /// The connection ended (EOF, or a TLS close without close_notify).
    pub fn eof(&mut self) -> Progress {
        let p = match &self.state {
            State::Done => return Progress::NeedMore,
            State::Head => fail(
                FetchError::Io,
                "connection closed before the response head ended",
            ),
            State::Length(n) => fail(
                FetchError::Io,
                format!(
                    "connection closed after {} of {n} body bytes",
                    self.body.len()
                ),
            ),
            State::Chunked(_) => fail(FetchError::Io, "connection closed inside a chunked body"),
            State::Close => Progress::Done(Ok(std::mem::take(&mut self.body))),
        };
        self.state = State::Done;
        p
    }

    fn advance(&mut self) -> Progress {
        if matches!(self.state, State::Head) {
            match self.read_head() {
                Progress::NeedMore if matches!(self.state, State::Head) => {
                    return Progress::NeedMore;
                }
                Progress::NeedMore => {}
                done => return done,
            }
        }
        let cap = self.max_body;
        match &mut self.state {
            State::Head | State::Done => Progress::NeedMore,
            State::Length(n) => {
                let n = *n;
                if self.body.len() >= n {
                    self.body.truncate(n);
                    Progress::Done(Ok(std::mem::take(&mut self.body)))
                } else {
                    Progress::NeedMore
                }
            }
            State::Close => {
                if self.body.len() > cap {
                    fail(FetchError::TooLarge, format!("body over {cap} bytes"))
                } else {
                    Progress::NeedMore
                }
            }
            State::Chunked(dec) => {
                match dec.feed(&self.buf, &mut self.body, cap) {
                    Ok(consumed) => {
                        self.buf.drain(..consumed);
                    }
                    Err(e) => return fail(FetchError::Io, format!("bad chunked encoding: {e}")),
                }
                // `feed` stops as soon as the body passes the cap, so what follows in the
                // same read (a framing error, say) cannot change the outcome.
                if self.body.len() > cap {
                    return fail(FetchError::TooLarge, format!("body over {cap} bytes"));
                }
                if dec.done {
                    return Progress::Done(Ok(std::mem::take(&mut self.body)));
                }
                Progress::NeedMore
            }
        }
    }

    /// Parse the head if it is complete; on success the state moves to the body framing.
    fn read_head(&mut self) -> Progress {
        // Only the first `max_head + 1` bytes may hold the head.
        let window = &self.buf[..self.buf.len().min(self.max_head + 1)];
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        let head_len = match resp.parse(window) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if self.buf.len() > self.max_head {
                    return fail(FetchError::TooLarge, "response head over the cap");
                }
                return Progress::NeedMore;
            }
            Err(e) => return fail(FetchError::Io, format!("malformed HTTP response: {e}")),
        };
        let get = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
        };
        let status = resp.code.unwrap_or(0);
        let te = get("transfer-encoding").unwrap_or_default();
        let chunked = te
            .rsplit(',')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"));
        let length = get("content-length").map(|v| v.parse::<u64>());
        self.head = Some(Head {
            status,
            content_type: get("content-type"),
            location: get("location"),
        });
        if (300..400).contains(&status) {
            return fail(FetchError::Redirect, format!("HTTP {status}"));
        }
        if status != 200 {
            return fail(FetchError::HttpStatus, format!("HTTP {status}"));
        }
        let rest = self.buf.split_off(head_len);
        self.buf.clear();
        let cap = self.max_body;
        if chunked {
            self.buf = rest;
            self.state = State::Chunked(Chunked::default());
            return Progress::NeedMore;
        }
        match length {
            Some(Ok(n)) if n > cap as u64 => fail(
                FetchError::TooLarge,
                format!("Content-Length {n} over {cap}"),
            ),
            Some(Ok(n)) => {
                self.body = rest;
                self.state = State::Length(n as usize);
                Progress::NeedMore
            }
            Some(Err(_)) => fail(FetchError::Io, "invalid Content-Length"),
            None => {
                self.body = rest;
                self.state = State::Close;
                Progress::NeedMore
            }
        }
    }
}

/// Incremental chunked transfer-coding decoder (RFC 9112 §7.1).
#[derive(Debug, Default)]
struct Chunked {
    /// Bytes of chunk data still expected in the current chunk.
    remaining: usize,
    /// Expecting the CRLF after chunk data.
    want_crlf: bool,
    /// In the trailer section (after the last chunk).
    trailer: bool,
    done: bool,
}

impl Chunked {
    /// Consumes what it can of `input`, appending data to `out`; returns bytes consumed.
    /// Stops as soon as `out` holds more than `cap` bytes, so the outcome of a read does not
    /// depend on how much of the wire past that point it happened to carry.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, String> {
        let mut i = 0;
        loop {
            if self.done {
                return Ok(i);
            }
            if self.remaining > 0 {
                let n = self.remaining.min(input.len() - i);
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                self.remaining -= n;
                if self.remaining > 0 || out.len() > cap {
                    return Ok(i);
                }
                self.want_crlf = true;
            }
            // A line longer than the cap is refused wherever the reads cut it (a CRLF may
            // be just past the cap in one split and not yet read in another).
            let Some(pos) = input[i..].windows(2).position(|w| w == b"\r\n") else {
                if input.len() - i > MAX_CHUNK_LINE {
                    return Err("chunk size line too long".into());
                }
                return Ok(i);
            };
            if pos > MAX_CHUNK_LINE {
                return Err("chunk size line too long".into());
            }
            let line = &input[i..i + pos];
            i += pos + 2;
            if self.want_crlf {
                if !line.is_empty() {
                    return Err("missing CRLF after chunk data".into());
                }
                self.want_crlf = false;
                continue;
            }
            if self.trailer {
                if line.is_empty() {
                    self.done = true;
                }
                continue;
            }
            let size_txt = std::str::from_utf8(line)
                .map_err(|_| "non-ASCII chunk size".to_string())?
                .split(';')
                .next()
                .unwrap_or("")
                .trim();
            let size = usize::from_str_radix(size_txt, 16)
                .map_err(|_| format!("bad chunk size {size_txt:?}"))?;
            if size == 0 {
                self.trailer = true;
            } else {
                self.remaining = size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoder_any_split() {
        let wire =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
        for split in 1..wire.len() {
            let mut dec = Chunked::default();
            let mut out = Vec::new();
            let mut pending = Vec::new();
            for part in wire.chunks(split) {
                pending.extend_from_slice(part);
                let n = dec.feed(&pending, &mut out, usize::MAX).unwrap();
                pending.drain(..n);
            }
            assert!(dec.done, "split {split}");
            assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.", "split {split}");
        }
        let mut dec = Chunked::default();
        assert!(dec.feed(b"zz\r\n", &mut Vec::new(), usize::MAX).is_err());
        // An over-long size line fails whether or not its CRLF has arrived yet.
        let long = format!("{}3\r\nabc\r\n0\r\n\r\n", "0".repeat(MAX_CHUNK_LINE));
        assert!(
            Chunked::default()
                .feed(long.as_bytes(), &mut Vec::new(), usize::MAX)
                .is_err()
        );
        assert!(
            Chunked::default()
                .feed(
                    &long.as_bytes()[..MAX_CHUNK_LINE + 1],
                    &mut Vec::new(),
                    usize::MAX
                )
                .is_err()
        );
    }

    /// Feed `wire` in pieces of `split` bytes (never more than the reader asks for), then
    /// the end of the connection.
    pub(crate) fn read(
        wire: &[u8],
        max_body: usize,
        split: usize,
    ) -> (Option<Head>, Result<Vec<u8>, Failure>) {
        let mut r = ResponseReader::new(256, max_body);
        let mut rest = wire;
        loop {
            if rest.is_empty() {
                match r.eof() {
                    Progress::Done(d) => return (r.head().cloned(), d),
                    Progress::NeedMore => unreachable!("eof always decides"),
                }
            }
            let n = split.min(r.read_limit()).min(rest.len());
            let (part, tail) = rest.split_at(n);
            rest = tail;
            if let Progress::Done(d) = r.feed(part) {
                return (r.head().cloned(), d);
            }
        }
    }

    #[test]
    fn response_framings_at_every_split() {
        let big_head = format!("HTTP/1.1 200 OK\r\nX-Pad: {}\r\n\r\nbody", "p".repeat(400));
        type Case<'a> = (
            &'a str,
            Vec<u8>,
            usize,
            Option<FetchError>,
            Option<&'a [u8]>,
        );
        let cases: Vec<Case<'_>> = vec![
            ("content-length", b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbodyEXTRA".to_vec(), 64, None, Some(b"body")),
            ("close-delimited", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it".to_vec(), 64, None, Some(b"all of it")),
            ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".to_vec(), 64, None, Some(b"abcde")),
            ("chunked over cap", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n".to_vec(), 8, Some(FetchError::TooLarge), None),
            // Found by the http_response fuzz target: a chunk that passes the cap, then a
            // framing error in the same read, was `io` or `too_large` depending on the split.
            ("chunked over cap, then bad framing", b"HTTP/1.1 200 OK~\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc\r\n0\r\n-E".to_vec(), 3, Some(FetchError::TooLarge), None),
            ("chunked truncated", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".to_vec(), 64, Some(FetchError::Io), None),
            ("length announced over cap", b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n".to_vec(), 64, Some(FetchError::TooLarge), None),
            ("close-delimited over cap", [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &[b'x'; 100]].concat(), 64, Some(FetchError::TooLarge), None),
            ("exactly the cap", [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &[b'x'; 64]].concat(), 64, None, Some(&[b'x'; 64])),
            ("truncated body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec(), 64, Some(FetchError::Io), None),
            ("bad length", b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n".to_vec(), 64, Some(FetchError::Io), None),
            ("not http", b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), 64, Some(FetchError::Io), None),
            ("eof in head", b"HTTP/1.1 200 OK\r\nContent-".to_vec(), 64, Some(FetchError::Io), None),
            ("head over cap", big_head.into_bytes(), 64, Some(FetchError::TooLarge), None),
            ("302", b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n".to_vec(), 64, Some(FetchError::Redirect), None),
            ("500", b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec(), 64, Some(FetchError::HttpStatus), None),
        ];
        for (what, wire, cap, err, body) in cases {
            for split in 1..=wire.len() {
                let (_, got) = read(&wire, cap, split);
                assert_eq!(
                    got.as_ref().err().map(|f| f.error),
                    err,
                    "{what} split {split}: {got:?}"
                );
                assert_eq!(
                    got.as_ref().ok().map(Vec::as_slice),
                    body,
                    "{what} split {split}"
                );
            }
        }
        let (head, _) = read(
            b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Type: text/html\r\n\r\n",
            64,
            7,
        );
        assert_eq!(
            head,
            Some(Head {
                status: 302,
                content_type: Some("text/html".into()),
                location: Some("/x".into())
            })
        );
    }

    #[test]
    fn read_limit_never_asks_past_the_caps() {
        let mut r = ResponseReader::new(100, 10);
        assert_eq!(r.read_limit(), 101);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\n\r\n12345"), Progress::NeedMore);
        assert_eq!(r.read_limit(), 6, "cap + 1 - 5 bytes of body");
        let mut r = ResponseReader::new(100, 10);
        assert_eq!(
            r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nab"),
            Progress::NeedMore
        );
        assert_eq!(r.read_limit(), 5);
        assert_eq!(r.feed(b"cdefg"), Progress::Done(Ok(b"abcdefg".to_vec())));
        assert_eq!(r.feed(b"more"), Progress::NeedMore, "done stays done");
        assert_eq!(r.eof(), Progress::NeedMore);
    }
}
