#!/usr/bin/env python3
"""Writes the checked-in seed corpora crates/fuzz/corpus/<target>/ (except cert_facts, which
examples/gen_certs.rs writes) from the repository's own test data and hand-made cases.

Run from anywhere: python3 crates/fuzz/seeds/make_seeds.py. Deterministic; rerun after
changing a target's input layout. Keep the corpus small: libFuzzer grows its own working
corpus in a scratch directory (scripts/fuzz.sh), never here.
"""
import gzip
import hashlib
import os
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent.parent
CRATES = FUZZ.parent
CORPUS = FUZZ / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def clear(target):
    d = CORPUS / target
    if d.exists():
        for f in d.iterdir():
            f.unlink()


for t in ["smtp_reply", "smtp_session", "policy_body", "policy_response", "sts_txt",
          "tlsrpt_txt", "mx_pattern", "cert_names", "ingest_line", "ingest_stream",
          "survey_manifest"]:
    clear(t)

# --- SMTP -------------------------------------------------------------------------------
ehlo_dir = CRATES / "smtp/testdata/ehlo"
for f in sorted(ehlo_dir.iterdir()):
    put("smtp_reply", "ehlo-" + f.stem, b"\x00" + f.read_bytes())
replies = {
    "banner": b"220 mx.example.net ESMTP Postfix\r\n",
    "banner-multiline": b"220-mx.example.net ESMTP\r\n220-second line\r\n220 ready\r\n",
    "enhanced": b"454 4.7.0 TLS not available due to local problem\r\n",
    "bare-code": b"250\r\n",
    "bare-lf": b"250-mx\n250 STARTTLS\n",
    "two-replies": b"220 2.0.0 Ready to start TLS\r\n\x16\x03\x01\x00\x05hello",
    "code-mismatch": b"250-mx\r\n251 oops\r\n",
    "out-of-range": b"199 nope\r\n",
    "missing-sep": b"250xmx\r\n",
    "cr-sep": b"250\rX\r\n",
}
for name, data in replies.items():
    put("smtp_reply", name, b"\x00" + data)
# k = 0x53: 3 read sizes (3, 1, 7), small caps (max_line 25, max_reply 25*1+3)
put("smtp_reply", "cut-small-caps", b"\x53\x03\x01\x07" + replies["banner-multiline"])
put("smtp_reply", "long-line-small-caps", b"\x10" + b"250-" + b"x" * 40 + b"\r\n250 ok\r\n")

GREET = b"220 mx.example.net ESMTP\r\n"
EHLO_TLS = b"250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
GO = b"220 2.0.0 Ready to start TLS\r\n"
EHLO_AFTER = b"250-mx.example.net\r\n250 SIZE 10240000\r\n"
conversations = {
    # flags: bit 0 TLS ok, bit 1 timeout instead of close; size; split = bytes after TLS
    "ok": (1, 5, GREET + EHLO_TLS + GO, EHLO_AFTER + b"221 2.0.0 Bye\r\n"),
    "ok-one-read": (1, 0, GREET + EHLO_TLS + GO, EHLO_AFTER),
    "tls-failed": (0, 3, GREET + EHLO_TLS + GO, b""),
    "no-starttls": (1, 7, GREET + b"250-mx\r\n250-X-NOSTARTTLS\r\n250 SIZE\r\n221 bye\r\n", b""),
    "greeting-421": (1, 2, b"421 4.7.0 Too many connections\r\n", b""),
    "greeting-554": (3, 9, b"554 5.7.1 No SMTP service here\r\n221 bye\r\n", b""),
    "ehlo-rejected": (1, 4, GREET + b"550 5.7.1 go away\r\n", b""),
    "starttls-454": (1, 11, GREET + EHLO_TLS + b"454 4.7.0 TLS not available\r\n221 bye\r\n", b""),
    "injection": (1, 6, GREET + EHLO_TLS + GO + b"250 injected\r\n", EHLO_AFTER),
    "pipelined-greeting": (1, 1, GREET + EHLO_TLS, b""),
    "bare-lf": (1, 8, b"220 mx\n250-mx\n250 STARTTLS\n220 go\n", b"250 mx\n"),
    "garbage": (2, 3, b"SSH-2.0-OpenSSH_9.6\r\n", b""),
    "silent": (2, 1, b"", b""),
    "greeting-timeout": (2, 2, b"220-mx\r\n", b""),
}
for name, (flags, size, plain, tls) in conversations.items():
    assert len(tls) < 256
    put("smtp_session", name, bytes([flags, size, len(tls)]) + plain + tls)

# --- MTA-STS / TLS-RPT ----------------------------------------------------------------------
pol_dir = CRATES / "policy/testdata"
for f in sorted(pol_dir.glob("*.txt")):
    put("policy_body", f.stem, f.read_bytes())
put("policy_response", "text-plain",
    b"text/plain; charset=utf-8\x00version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
    b"\x00mx1.example.com\x00a.example.net\x00other.example.org")
put("policy_response", "no-content-type",
    b"\x01\x00version: STSv1\nmode: testing\nmx: *.mail.example\nmax_age: 86400\n\x00x.mail.example.\x00y.mail.example")
put("policy_response", "html",
    b"text/html\x00<html><body>Not found</body></html>\x00mx.example.com")
put("policy_response", "mode-none", b"TEXT/PLAIN\x00version: STSv1\nmode: none\nmax_age: 1\n")

sts = {
    "valid": b"v=STSv1; id=20240101T000000;",
    "valid-with-spf": b"v=STSv1; id=20240101T000000;\nv=spf1 -all",
    "split-strings": b"v=STSv1;\x00 id=abc\x00123",
    "multiple": b"v=STSv1; id=a\nv=STSv1; id=b",
    "case": b"V=STSv1; id=x",
    "missing-id": b"v=STSv1; ID=x",
    "invalid-id": b"v=STSv1; id=2024-01-01",
    "extension": b"v=STSv1; id=1; ext_field=value; id=2;;",
    "non-ascii": "v=STSv1; id=1; x=é".encode(),
    "not-a-token": b"v=STSv10; id=1",
}
for name, data in sts.items():
    put("sts_txt", name, data)
tlsrpt = {
    "mailto": b"v=TLSRPTv1; rua=mailto:tlsrpt@example.net",
    "two-uris": b"v=TLSRPTv1; rua=mailto:tlsrpt@example.net,https://r.example.net/v1",
    "split": b"v=TLSRPTv1;\x00rua=https://r.example.net\x00/v1; x=1",
    "unsupported": b"v=TLSRPTv1; rua=http://r.example.net, MAILTO:a@b",
    "missing-rua": b"v=TLSRPTv1; ruf=mailto:a@b",
    "multiple": b"v=TLSRPTv1; rua=mailto:a@b\nv=TLSRPTv1; rua=mailto:c@d\nv=spf1 -all",
    "case": b"v=tlsrptv1; rua=mailto:a@b",
    "whitespace": b"v=TLSRPTv1 ;\trua = mailto:a@b ; rua=mailto:c@d",
}
for name, data in tlsrpt.items():
    put("tlsrpt_txt", name, data)

patterns = [
    ("mx.example.com", "MX.Example.COM."), ("*.example.com", "mx.example.com"),
    ("*.example.com.", "a.b.example.com"), ("*example.com", "mxexample.com"),
    ("mx.*.example.com", "mx.a.example.com"), ("*.com", "example.com"), ("*", "example"),
    ("", ""), (".", "."), ("*.éxample.com", "mx.éxample.com"), ("*.example.com", "é.example.com"),
    ("xn--mll-hoa.example", "XN--MLL-HOA.EXAMPLE"), ("-mx.example.com", "-mx.example.com"),
    ("a" * 63 + ".com", "a" * 63 + ".com"), ("*..", "a.."),
]
for i, (p, h) in enumerate(patterns):
    put("mx_pattern", f"pair-{i:02}", f"{p}\n{h}".encode())

# --- certificates (names; cert_facts comes from examples/gen_certs.rs) --------------------
names = {
    "exact-and-wildcard": "mx.example.com\n*.mail.example.net\0mx.example.com\nMX.MAIL.EXAMPLE.NET.\na.b.mail.example.net\nmail.example.net",
    "upper-san": "MX.Example.COM\0mx.example.com",
    "partial-wildcard": "f*.example.com\n*.com\0foo.example.com\nexample.com",
    "trailing-dot-san": "mx.example.com.\0mx.example.com\nmx.example.com.",
    "idn": "xn--bcher-kva.example\n*.xn--bcher-kva.example\0XN--BCHER-KVA.EXAMPLE\nmx.xn--bcher-kva.example",
    "ip-san": "192.0.2.1\nmx.example.com\0192.0.2.1",
    "no-san": "\0mx.example.com",
    "odd-names": "-mx.example.com\nmx_1.example.com\0-mx.example.com\nmx_1.example.com\na..b",
}
for name, data in names.items():
    put("cert_names", name, data.encode())

# --- domain lists -------------------------------------------------------------------------
lines = ["example.com", "EXAMPLE.COM.", " Bücher.example ", "xn--bcher-kva.example", "faß.de",
         "ｅｘａｍｐｌｅ．ｃｏｍ", "例え.テスト", "r3---sn-abc.googlevideo.com", "example.com。",
         "192.0.2.1", "[2001:db8::1]:25", "http://x.com/", "user@example.com", "a..b",
         "-example.com", "_dmarc.example.com", "xn--a.example", "a\u200db.example", "localhost",
         "example.0x7f", "\ufeffexample.com", "a" * 63 + "." + "b" * 63 + ".example",
         "ü" * 60 + ".example"]
for i, line in enumerate(lines):
    put("ingest_line", f"line-{i:02}", line.encode())

ing_dir = CRATES / "ingest/testdata"
# byte 0: options (bits 0-1 format, 2 keep dups, 3 shard, 4 shard 2/2, 5 gzip, 6 two inputs)
for f in sorted(ing_dir.iterdir()):
    put("ingest_stream", f.name, b"\x00\x00" + f.read_bytes())
tranco = (ing_dir / "tranco.csv").read_bytes()
plain = (ing_dir / "plain.txt").read_bytes()
header = (ing_dir / "header.csv").read_bytes()
put("ingest_stream", "tranco-gzip-flag", b"\x20\x00" + tranco)
put("ingest_stream", "plain-raw-gzip", b"\x00\x00" + gzip.compress(plain, mtime=0))
put("ingest_stream", "header-two-inputs", b"\x40\x80" + header + tranco)
put("ingest_stream", "plain-shard-keep-dups", b"\x1c\x00" + plain + plain)
put("ingest_stream", "csv-forced-crlf-bom", b"\x02\x00" + b"\xef\xbb\xbfRank,Domain\r\n1,\"a.example\"\r\n2,b.example,x\r\n")
put("ingest_stream", "ranked-forced", b"\x03\x00" + b"7\tmx.example\n8\t\n9 x.example\nx,y\n")
put("ingest_stream", "zstd-magic", b"\x00\x00" + b"\x28\xb5\x2f\xfd\x00\x00\x00\x00")

# --- survey.json --------------------------------------------------------------------------
put("survey_manifest", "minimal", b'{"schema_version":"1","survey_id":"x","status":"partial",'
    b'"started_at":"2026-11-22T10:00:00Z","future_field":42}')
put("survey_manifest", "complete", b'''{
  "schema_version": "1",
  "survey_id": "2026-11-22T1000Z",
  "status": "complete",
  "started_at": "2026-11-22T10:00:00Z",
  "finished_at": "2026-11-22T11:02:03Z",
  "mxscan_version": "0.1.0",
  "input": {"path": "top.csv", "paths": ["top.csv", "extra.txt"], "sha256": "ab12", "domains": 3},
  "config": {"resolvers": ["127.0.0.1:5300"], "rate": 100.0, "per_ip_interval": 1.5,
             "timeouts": {"connect": 10, "greeting": 30.25}, "ehlo_name": "scanner.example",
             "shard": null, "allow": ["127.0.0.0/8"], "big": 18446744073709551615, "neg": -3e-7},
  "counts": {"domains.dns_status": {"ok": 3, "nxdomain": 1}, "mx.cert_status": {"valid": 2}},
  "rows": {"domains": 4, "mx": 2},
  "parts": 2,
  "updated_at": "2026-11-22T11:02:03Z",
  "resumed_at": ["2026-11-22T10:30:00Z"]
}
''')
put("survey_manifest", "running-nulls", b'{"schema_version":"1","survey_id":"s","status":"running",'
    b'"started_at":"t","finished_at":null,"input":{"path":null,"sha256":null,"domains":null},'
    b'"config":{},"counts":{},"rows":{},"parts":0,"updated_at":null}')

total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
count = sum(1 for f in CORPUS.rglob("*") if f.is_file())
print(f"{count} seed files, {total} bytes")
