//! RFC 5321 §4.1.1.1 EHLO keyword parsing, on captured-style replies in `testdata/ehlo/`.

use mxscan_smtp::{Ehlo, Parse, is_ehlo_keyword, parse_reply};

fn load(name: &str) -> Ehlo {
    let path = format!("{}/testdata/ehlo/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    match parse_reply(&bytes) {
        Parse::Complete { reply, consumed } => {
            assert_eq!(reply.code, 250, "{name}");
            assert_eq!(consumed, bytes.len(), "{name}: one reply per file");
            Ehlo::from_reply(&reply)
        }
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn captured_replies() {
    // (file, STARTTLS offered, keywords)
    let cases: &[(&str, bool, &[&str])] = &[
        (
            "postfix.txt",
            true,
            &[
                "PIPELINING",
                "SIZE",
                "VRFY",
                "ETRN",
                "STARTTLS",
                "ENHANCEDSTATUSCODES",
                "8BITMIME",
                "DSN",
                "SMTPUTF8",
                "CHUNKING",
            ],
        ),
        (
            "gmail.txt",
            true,
            &[
                "SIZE",
                "8BITMIME",
                "STARTTLS",
                "ENHANCEDSTATUSCODES",
                "PIPELINING",
                "CHUNKING",
                "SMTPUTF8",
            ],
        ),
        (
            "exchange.txt",
            true,
            &[
                "SIZE",
                "PIPELINING",
                "DSN",
                "ENHANCEDSTATUSCODES",
                "STARTTLS",
                "X-ANONYMOUSTLS",
                "AUTH",
                "X-EXPS",
                "8BITMIME",
                "BINARYMIME",
                "CHUNKING",
                "XRDST",
            ],
        ),
        (
            "exim_no_starttls.txt",
            false,
            &[
                "SIZE",
                "8BITMIME",
                "PIPELINING",
                "AUTH",
                "AUTH=PLAIN",
                "PRDR",
                "HELP",
            ],
        ),
        // STARTTLS only in the greeting line, in a parameter, as part of a longer keyword.
        (
            "decoy.txt",
            false,
            &["X-NOSTARTTLS", "STARTTLSX", "XXXXXXXA", "SIZE"],
        ),
        // Bare LF, lowercase, a leading space, an empty line, repeated spaces.
        ("sloppy_lf.txt", true, &["PIPELINING", "STARTTLS", "SIZE"]),
    ];
    for (file, starttls, keywords) in cases {
        let ehlo = load(file);
        assert_eq!(ehlo.starttls(), *starttls, "{file}");
        assert_eq!(ehlo.keywords(), *keywords, "{file}");
    }
}

#[test]
fn params_and_validity() {
    let ehlo = load("exim_no_starttls.txt");
    assert_eq!(
        ehlo.domain_line,
        "mail.example.test Hello scanner.mxscan.example [192.0.2.10]"
    );
    let auth = ehlo.get("auth").unwrap();
    assert_eq!(auth.params, vec!["PLAIN", "LOGIN"]);
    assert!(auth.valid);
    let old = &ehlo.capabilities[4];
    assert_eq!(old.keyword, "AUTH=PLAIN");
    assert!(!old.valid, "AUTH= is not an RFC 5321 ehlo-keyword");
    assert_eq!(old.params, vec!["LOGIN"]);
    assert_eq!(
        load("sloppy_lf.txt").get("SIZE").unwrap().params,
        vec!["2048"]
    );
    assert_eq!(
        load("postfix.txt").get("size").unwrap().params,
        vec!["10240000"]
    );
}

#[test]
fn keyword_grammar() {
    for (kw, ok) in [
        ("STARTTLS", true),
        ("8BITMIME", true),
        ("X-NOSTARTTLS", true),
        ("-X", false),
        ("AUTH=LOGIN", false),
        ("", false),
        ("SIZE!", false),
    ] {
        assert_eq!(is_ehlo_keyword(kw), ok, "{kw}");
    }
}

#[test]
fn from_lines_edge_cases() {
    let empty: [&str; 0] = [];
    let ehlo = Ehlo::from_lines(&empty);
    assert_eq!(ehlo.domain_line, "");
    assert!(ehlo.capabilities.is_empty());
    let ehlo = Ehlo::from_lines(&["mx", "STARTTLS", "STARTTLS", "\t", "8bitmime"]);
    assert_eq!(ehlo.keywords(), vec!["STARTTLS", "STARTTLS", "8BITMIME"]);
    assert!(ehlo.has("8BitMime"));
    assert!(!Ehlo::from_lines(&["mx STARTTLS"]).starttls());
}
