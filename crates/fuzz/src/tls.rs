//! The legacy hello probe's reader of a server's first flight (`mxscan_tls::FlightReader`):
//! records and handshake messages from a stranger, cut anywhere.

use crate::api::{Caps, Flight, FlightReader, Step};

/// `tls_flight`: byte 0 = read size (1–256), byte 1 = certificate cap (1–16) and, ×512, the
/// byte cap; the rest is what the server sends. Invariants: the same flight whether fed in
/// those reads or whole; never more bytes taken than the cap; a chain within the certificate
/// cap with no empty certificate; the flight after `finish` is the one decided, and asking
/// again changes nothing.
pub fn tls_flight(data: &[u8]) {
    let [size, caps_byte, wire @ ..] = data else {
        return;
    };
    let read = usize::from(*size) + 1;
    let caps = Caps {
        max_bytes: (usize::from(*caps_byte) + 1) * 512,
        max_certs: usize::from(caps_byte % 16) + 1,
    };
    let whole = run(wire, wire.len().max(1), caps);
    let cut = run(wire, read, caps);
    assert_eq!(cut, whole, "the flight depends on how the bytes were cut");
    if let Flight::Hello { certificates, .. } = &whole {
        assert!(certificates.len() <= caps.max_certs);
        assert!(certificates.iter().all(|c| !c.is_empty()));
    }
}

fn run(wire: &[u8], read: usize, caps: Caps) -> Flight {
    let mut r = FlightReader::new(caps);
    for chunk in wire.chunks(read) {
        let step = r.feed(chunk);
        assert!(
            r.received() <= caps.max_bytes,
            "took {} bytes",
            r.received()
        );
        if let Step::Done(f) = step {
            assert_eq!(r.finish(), f);
            assert_eq!(r.feed(b"\x16\x03\x01"), Step::Done(f.clone()));
            return f;
        }
    }
    let f = r.finish();
    assert_eq!(r.finish(), f);
    f
}
