//! Micro-benchmarks of the SMTP reply parser and EHLO keyword extraction (issue 7).
//!
//! Run with `cargo bench -p mxscan-smtp --bench reply_parser`. Every probe parses a
//! greeting, one or two EHLO replies (RFC 5321 §4.1.1.1, multi-line per §4.2.1) and the
//! STARTTLS reply (RFC 3207 §4); the parser is fed whatever chunks the socket delivers.

#![allow(missing_docs)]

use mxscan_smtp::{Ehlo, Parse, ReplyParser};

fn main() {
    divan::main();
}

const GREETING: &[u8] = b"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n";

/// A typical Postfix EHLO reply.
const EHLO: &[u8] = b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n\
250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n\
250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n";

fn parse_all(parser: &mut ReplyParser, mut data: &[u8], chunk: usize) -> usize {
    let mut replies = 0;
    while !data.is_empty() {
        let n = chunk.min(data.len());
        match parser.feed(&data[..n]) {
            Parse::Complete { consumed, .. } => {
                replies += 1;
                data = &data[consumed..];
            }
            Parse::NeedMoreData => data = &data[n..],
            Parse::Error(_) => break,
        }
    }
    replies
}

#[divan::bench]
fn greeting_one_chunk() -> usize {
    parse_all(
        &mut ReplyParser::new(),
        divan::black_box(GREETING),
        usize::MAX,
    )
}

/// The EHLO reply delivered in 4 KiB reads (one read), in 16-byte reads, and byte by byte.
#[divan::bench(args = [4096, 16, 1])]
fn ehlo_reply(chunk: usize) -> usize {
    parse_all(&mut ReplyParser::new(), divan::black_box(EHLO), chunk)
}

/// Parse the EHLO reply and extract its keywords, as the probe does.
#[divan::bench]
fn ehlo_keywords() -> Vec<String> {
    match ReplyParser::new().feed(divan::black_box(EHLO)) {
        Parse::Complete { reply, .. } => Ehlo::from_reply(&reply).keywords(),
        _ => Vec::new(),
    }
}

/// A 64 KiB-ish oversized reply (the hostile `ehlo_oversized` host): the cap must make this
/// cost linear time and bounded memory.
#[divan::bench]
fn oversized_reply(bencher: divan::Bencher<'_, '_>) {
    let mut big = Vec::new();
    while big.len() < 70 * 1024 {
        big.extend_from_slice(
            b"250-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n",
        );
    }
    big.extend_from_slice(b"250 END\r\n");
    bencher.bench(|| parse_all(&mut ReplyParser::new(), divan::black_box(&big), 4096));
}
