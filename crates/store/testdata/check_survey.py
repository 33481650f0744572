# Reads surveys written by tests/interop.rs with pyarrow and duckdb and checks them against
# the expectations passed as JSON in argv[2]. argv[1] is the surveys root; argv[3] selects
# "pyarrow" or "duckdb". Exit status 0 = all checks passed.
import json, sys, os, datetime

root, exp, which = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

def check(cond, msg):
    if not cond:
        print("FAILED:", msg, file=sys.stderr)
        sys.exit(1)

if which == "pyarrow":
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyarrow.dataset as ds
    for sid, e in exp["surveys"].items():
        d = os.path.join(root, "survey=" + sid)
        # A directory read skips the hidden .tmp part of an unfinished commit.
        t = ds.dataset(os.path.join(d, "domains"), format="parquet").to_table()
        check(t.num_rows == e["domains"], f"{sid} domains rows {t.num_rows}")
        s = t.schema
        check(pa.types.is_dictionary(s.field("dns_status").type), f"dns_status type {s.field('dns_status').type}")
        check(s.field("rank").type == pa.uint64(), "rank uint64")
        check(s.field("mx_hosts").type.value_type == pa.string(), "mx_hosts list<string>")
        check(s.field("sts_http_status").type == pa.int32(), "sts_http_status int32")
        check(s.field("elapsed_ms").type == pa.uint32(), "elapsed_ms uint32")
        rows = {r["domain"]: r for r in t.to_pylist()}
        for name, want in e["domain_values"].items():
            got = rows[name]
            for k, v in want.items():
                check(got[k] == v, f"{sid} {name}.{k}: {got[k]!r} != {v!r}")
        p = ds.dataset(os.path.join(d, "probes"), format="parquet").to_table()
        check(p.num_rows == e["probes"], f"probes rows {p.num_rows}")
        check(p.schema.field("started_at").type == pa.timestamp("ms", tz="UTC"), f"started_at {p.schema.field('started_at').type}")
        check(p.schema.field("starttls_sample").type == pa.binary(), "starttls_sample binary")
        prow = {r["address"]: r for r in p.to_pylist()}[e["probe_address"]]
        ms = int(prow["started_at"].timestamp() * 1000)
        check(ms == e["probe_started_ms"], f"started_at {ms}")
        c = ds.dataset(os.path.join(d, "certs"), format="parquet").to_table()
        check(c.num_rows == e["certs"], f"certs rows {c.num_rows}")
        check(c.schema.field("not_before").type == pa.timestamp("ms", tz="UTC"), f"not_before {c.schema.field('not_before').type}")
        crow = {r["sha256"]: r for r in c.to_pylist()}[e["cert_sha256"]]
        check(crow["der"].hex() == e["cert_der_hex"], "cert der")
        # timestamp(s, UTC) is stored as TIMESTAMP(MILLIS, UTC) with whole seconds.
        check(int(crow["not_before"].timestamp()) == e["cert_not_before_s"], "cert not_before")
        m = ds.dataset(os.path.join(d, "mx"), format="parquet").to_table()
        check(m.num_rows == e["mx"], f"mx rows {m.num_rows}")
        f = sorted(x for x in os.listdir(os.path.join(d, "domains")) if x.endswith(".parquet"))[0]
        md = pq.read_metadata(os.path.join(d, "domains", f)).metadata
        check(md[b"mxscan.schema_version"] == exp["schema_version"].encode(), "schema_version metadata")
        check(md[b"mxscan.survey_id"] == sid.encode(), "survey_id metadata")
    print("pyarrow ok")

elif which == "duckdb":
    import duckdb
    con = duckdb.connect()
    glob = os.path.join(root, "*", "domains", "*.parquet")
    q = f"SELECT survey_id, survey, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY ALL ORDER BY 1"
    got = con.execute(q).fetchall()
    want = sorted((sid, sid, e["domains"]) for sid, e in exp["surveys"].items())
    check([tuple(r) for r in got] == [tuple(r) for r in want], f"hive read {got} != {want}")
    for sid, e in exp["surveys"].items():
        for name, v in e["domain_values"].items():
            r = con.execute(
                f"SELECT rank, dns_status, mx_hosts, sts_mode FROM read_parquet('{glob}', hive_partitioning = true) "
                "WHERE survey_id = ? AND domain = ?", [sid, name]).fetchone()
            check(r[0] == v["rank"] and r[1] == v["dns_status"] and list(r[2]) == v["mx_hosts"] and r[3] == v["sts_mode"],
                  f"duckdb {sid} {name}: {r}")
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = true))").fetchall())
    for col, ty in [("rank", "UBIGINT"), ("dns_status", "VARCHAR"), ("mx_hosts", "VARCHAR[]"), ("elapsed_ms", "UINTEGER"), ("sts_max_age", "BIGINT")]:
        check(types[col] == ty, f"duckdb type {col}: {types[col]}")
    pglob = os.path.join(root, "*", "probes", "*.parquet")
    ty = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{pglob}'))").fetchall())
    check(ty["started_at"] == "TIMESTAMP WITH TIME ZONE", f"started_at {ty['started_at']}")
    print("duckdb ok")
