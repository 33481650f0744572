//! The first-flight reader on server flights built by hand: every case fed whole, cut at
//! every byte into two reads, and one byte at a time, must give the same flight.

use mxscan_tls::{
    Alert, AlertDescription, Caps, Flight, FlightReader, NotTls, ServerHello, Step, Version,
};
use proptest::prelude::*;

fn record(ct: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct];
    r.extend(version.to_be_bytes());
    r.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    r.extend(body);
    r
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    m.extend(body);
    m
}

fn server_hello(version: u16, suite: u16, exts: &[(u16, Vec<u8>)], random: [u8; 32]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend(random);
    b.push(32);
    b.extend([9; 32]);
    b.extend(suite.to_be_bytes());
    b.push(0);
    if !exts.is_empty() {
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend(t.to_be_bytes());
            e.extend(u16::try_from(d.len()).unwrap().to_be_bytes());
            e.extend(d);
        }
        b.extend(u16::try_from(e.len()).unwrap().to_be_bytes());
        b.extend(e);
    }
    handshake(2, &b)
}

fn certificate(certs: &[&[u8]]) -> Vec<u8> {
    let mut list: Vec<u8> = Vec::new();
    for c in certs {
        list.extend(&u32::try_from(c.len()).unwrap().to_be_bytes()[1..]);
        list.extend(*c);
    }
    let mut b = u32::try_from(list.len()).unwrap().to_be_bytes()[1..].to_vec();
    b.extend(list);
    handshake(11, &b)
}

const HRR: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn hello(version: u16, suite: u16) -> ServerHello {
    ServerHello {
        legacy_version: Version(version),
        version: Version(version),
        cipher_suite: suite,
        compression: 0,
        extensions: Vec::new(),
        retry_request: false,
    }
}

/// Feeds `wire` in the given cuts, then ends the stream.
fn read(wire: &[u8], cuts: &[usize], caps: Caps) -> Flight {
    let mut r = FlightReader::new(caps);
    let mut at = 0;
    for &c in cuts.iter().chain(&[wire.len()]) {
        let c = c.clamp(at, wire.len());
        if let Step::Done(f) = r.feed(&wire[at..c]) {
            return f;
        }
        at = c;
    }
    r.finish()
}

fn every_cut(wire: &[u8], caps: Caps) -> Flight {
    let whole = read(wire, &[], caps);
    for cut in 0..=wire.len() {
        assert_eq!(read(wire, &[cut], caps), whole, "cut at {cut}");
    }
    let bytes: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(read(wire, &bytes, caps), whole, "one byte at a time");
    whole
}

#[test]
fn flights_read_the_same_however_cut() {
    let leaf = vec![0x30, 0x03, 1, 2, 3];
    let inter = vec![0x30, 0x02, 4, 5];
    let tls10 = [
        server_hello(0x0301, 0x002f, &[], [1; 32]),
        certificate(&[&leaf, &inter]),
        handshake(14, &[]),
    ]
    .concat();
    let tls13_sh = server_hello(
        0x0303,
        0x1301,
        &[(43, vec![3, 4]), (51, vec![0, 29, 0, 1, 7])],
        [2; 32],
    );
    let mut tls13 = hello(0x0303, 0x1301);
    tls13.version = Version::TLS13;
    tls13.extensions = vec![43, 51];
    let mut hrr = tls13.clone();
    hrr.retry_request = true;
    let cases: Vec<(&str, Vec<u8>, Flight)> = vec![
        (
            "TLS 1.0 flight in one record",
            record(22, 0x0301, &tls10),
            Flight::Hello {
                hello: hello(0x0301, 0x002f),
                certificates: vec![leaf.clone(), inter.clone()],
                complete: true,
            },
        ),
        (
            "TLS 1.0 flight, one message per record, a message split over two records",
            [
                record(22, 0x0301, &tls10[..10]),
                record(22, 0x0301, &tls10[10..80]),
                record(22, 0x0301, &tls10[80..]),
            ]
            .concat(),
            Flight::Hello {
                hello: hello(0x0301, 0x002f),
                certificates: vec![leaf.clone(), inter.clone()],
                complete: true,
            },
        ),
        (
            "TLS 1.2 with ServerKeyExchange and an empty extension block",
            record(
                22,
                0x0303,
                &[
                    server_hello(0x0303, 0xc02f, &[(0xff01, vec![0])], [3; 32]),
                    certificate(&[&leaf]),
                    handshake(12, &[1, 2, 3, 4]),
                    handshake(14, &[]),
                ]
                .concat(),
            ),
            Flight::Hello {
                hello: ServerHello {
                    extensions: vec![0xff01],
                    ..hello(0x0303, 0xc02f)
                },
                certificates: vec![leaf.clone()],
                complete: true,
            },
        ),
        (
            "TLS 1.3: the ServerHello ends what is plaintext",
            [
                record(22, 0x0303, &tls13_sh),
                record(20, 0x0303, &[1]),
                record(23, 0x0303, &[0xee; 40]),
            ]
            .concat(),
            Flight::Hello {
                hello: tls13.clone(),
                certificates: Vec::new(),
                complete: true,
            },
        ),
        (
            "HelloRetryRequest",
            record(
                22,
                0x0303,
                &server_hello(0x0303, 0x1301, &[(43, vec![3, 4]), (51, vec![0, 29])], HRR),
            ),
            Flight::Hello {
                hello: hrr,
                certificates: Vec::new(),
                complete: true,
            },
        ),
        (
            "protocol_version alert",
            record(21, 0x0301, &[2, 70]),
            Flight::Alert(Alert {
                level: 2,
                description: AlertDescription::PROTOCOL_VERSION,
            }),
        ),
        (
            "hello, then an alert: what came so far",
            [
                record(22, 0x0301, &server_hello(0x0301, 0x0035, &[], [4; 32])),
                record(21, 0x0301, &[2, 40]),
            ]
            .concat(),
            Flight::Hello {
                hello: hello(0x0301, 0x0035),
                certificates: Vec::new(),
                complete: false,
            },
        ),
        (
            "an SMTP reply is not TLS",
            b"454 4.7.0 TLS not available due to local problem\r\n".to_vec(),
            Flight::NotTls(NotTls::NotARecord),
        ),
        (
            "SSL 2.0 record header",
            vec![0x80, 0x2e, 0x04, 0x00, 0x01],
            Flight::NotTls(NotTls::NotARecord),
        ),
        (
            "record over 2^14 + 2048",
            vec![22, 3, 1, 0x48, 0x01],
            Flight::NotTls(NotTls::RecordTooLong),
        ),
        (
            "application data first",
            record(23, 0x0303, &[1, 2, 3]),
            Flight::NotTls(NotTls::Unexpected(23)),
        ),
        (
            "a certificate before any hello",
            record(22, 0x0303, &certificate(&[&leaf])),
            Flight::NotTls(NotTls::Unexpected(11)),
        ),
        (
            "a session id longer than 32",
            record(22, 0x0303, &{
                let mut sh = server_hello(0x0303, 0x002f, &[], [5; 32]);
                sh[4 + 2 + 32] = 33;
                sh
            }),
            Flight::NotTls(NotTls::Malformed("server_hello session_id")),
        ),
        (
            "certificate_list length beyond the message",
            record(22, 0x0303, &{
                let mut m = [
                    server_hello(0x0303, 0x002f, &[], [6; 32]),
                    certificate(&[&leaf]),
                ]
                .concat();
                let at = m.len() - leaf.len() - 6;
                m[at + 2] += 1;
                m
            }),
            Flight::NotTls(NotTls::Malformed("certificate_list length")),
        ),
        (
            "the connection ends inside the certificate",
            record(22, 0x0301, &tls10)[..90].to_vec(),
            Flight::Hello {
                hello: hello(0x0301, 0x002f),
                certificates: Vec::new(),
                complete: false,
            },
        ),
        (
            "the connection ends inside the first record",
            record(22, 0x0301, &tls10)[..20].to_vec(),
            Flight::Truncated { received: 20 },
        ),
        (
            "nothing at all",
            Vec::new(),
            Flight::Truncated { received: 0 },
        ),
    ];
    for (name, wire, want) in cases {
        assert_eq!(every_cut(&wire, Caps::default()), want, "{name}");
    }
}

#[test]
fn caps_bound_what_a_server_can_make_us_hold() {
    let leaf = vec![0x30; 40];
    let flight = record(
        22,
        0x0301,
        &[
            server_hello(0x0301, 0x002f, &[], [1; 32]),
            certificate(&[&leaf, &leaf, &leaf]),
            handshake(14, &[]),
        ]
        .concat(),
    );
    let fits = Caps {
        max_bytes: flight.len(),
        max_certs: 3,
    };
    assert!(matches!(
        every_cut(&flight, fits),
        Flight::Hello { complete: true, .. }
    ));
    let few_certs = Caps {
        max_certs: 2,
        ..fits
    };
    assert_eq!(every_cut(&flight, few_certs), Flight::TooLarge);
    // One byte short of the flight: the decision needs the last byte, which is over the cap.
    let short = Caps {
        max_bytes: flight.len() - 1,
        ..fits
    };
    let mut longer = flight.clone();
    longer.push(0);
    assert_eq!(every_cut(&longer, short), Flight::TooLarge);
    // A handshake message announcing more than the cap is refused at its header.
    let huge = record(22, 0x0301, &[2, 0xff, 0xff, 0xff]);
    assert_eq!(every_cut(&huge, Caps::default()), Flight::TooLarge);
    // An endless stream of records that never decide anything stops at the cap.
    let endless: Vec<u8> = (0..5000)
        .flat_map(|_| record(22, 0x0301, &[0, 0, 0, 0]))
        .collect();
    let caps = Caps {
        max_bytes: 4096,
        max_certs: 16,
    };
    assert_eq!(read(&endless, &[], caps), Flight::TooLarge);
}

proptest! {
    /// Any bytes, cut anywhere: the same flight as read whole, never more bytes taken than
    /// the cap.
    #[test]
    fn any_bytes_any_cuts(wire in proptest::collection::vec(any::<u8>(), 0..600),
                          cuts in proptest::collection::vec(0usize..600, 0..8),
                          cap in 8usize..700) {
        let caps = Caps { max_bytes: cap, max_certs: 4 };
        let mut cuts = cuts;
        cuts.sort_unstable();
        let whole = read(&wire, &[], caps);
        prop_assert_eq!(read(&wire, &cuts, caps), whole);
    }

    /// A well-formed TLS 1.0–1.2 flight with random suites and certificates reads back.
    #[test]
    fn built_flights_read_back(version in 0x0300u16..=0x0303, suite in any::<u16>(),
                               certs in proptest::collection::vec(
                                   proptest::collection::vec(any::<u8>(), 1..300), 0..5),
                               split in 1usize..200) {
        let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
        let hs = [server_hello(version, suite, &[], [8; 32]), certificate(&refs), handshake(14, &[])].concat();
        let wire: Vec<u8> = hs.chunks(split).flat_map(|c| record(22, version, c)).collect();
        let got = read(&wire, &[], Caps::default());
        prop_assert_eq!(got, Flight::Hello { hello: hello(version, suite), certificates: certs, complete: true });
    }
}
