#![no_main]
//! Arbitrary bytes into the RFC 5321 §4.2 reply parser: whole, and cut into reads whose
//! sizes come from the input. Properties: no panic; the parser never holds more than its
//! caps; the same replies (or the same error) come out however the stream is cut.

use libfuzzer_sys::fuzz_target;
use mxscan_smtp::{MAX_LINE_BYTES, MAX_REPLY_BYTES, Parse, ReplyParser, parse_reply};

/// Every reply (and the final error, if any) in `data`, reading it in `cuts`-sized pieces.
fn replies(data: &[u8], sizes: &[u8]) -> Vec<Parse> {
    let mut p = ReplyParser::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let n = sizes.get(i).map_or(data.len(), |&s| usize::from(s).max(1));
        i += 1;
        let end = (pos + n).min(data.len());
        let mut rest = &data[pos..end];
        pos = end;
        while !rest.is_empty() {
            match p.feed(rest) {
                Parse::NeedMoreData => break,
                Parse::Complete { reply, consumed } => {
                    assert!(consumed > 0 && consumed <= rest.len());
                    rest = &rest[consumed..];
                    out.push(Parse::Complete { reply, consumed: 0 });
                }
                e @ Parse::Error(_) => {
                    out.push(e);
                    return out;
                }
            }
        }
        assert!(p.buffered_len() <= MAX_REPLY_BYTES + MAX_LINE_BYTES);
    }
    out
}

fuzz_target!(|input: &[u8]| {
    // First byte: how many of the next bytes are read sizes.
    let (head, data) = match input.split_first() {
        Some((&k, rest)) => rest.split_at(usize::from(k % 16).min(rest.len())),
        None => return,
    };
    let _ = parse_reply(data);
    assert_eq!(replies(data, head), replies(data, &[]));
});
