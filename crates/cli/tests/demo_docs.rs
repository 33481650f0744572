//! `docs/schema.md` must not drift from the code: its column tables list exactly the columns of
//! the Arrow schemas (types generated, meanings written by hand), and its status values and
//! deviation vocabularies are generated from `mxscan_store::vocab::markdown()` and
//! `mxscan-policy`. `MXSCAN_BLESS=1 cargo test -p mxscan --test demo_docs` rewrites the
//! generated parts (keeping the hand-written meanings); the test still fails while a column has
//! no meaning.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mxscan_policy::{Deviation, TlsRptDeviation};
use mxscan_store::rows::Table;

const UNDOCUMENTED: &str = "**undocumented: describe this column**";

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema.md")
}

/// Arrow type → the reader-facing name used in the docs.
fn type_name(dt: &str, nullable: bool) -> String {
    let base = match dt {
        "Utf8" => "string".to_string(),
        "Dictionary(Int8, Utf8)" => "string (status)".to_string(),
        "Binary" => "binary".to_string(),
        "Boolean" => "bool".to_string(),
        s if s.starts_with("List(") && s.contains("data_type: Utf8") => "list<string>".to_string(),
        s if s.starts_with("Timestamp(Second") => "timestamp(s, UTC)".to_string(),
        s if s.starts_with("Timestamp(Millisecond") => "timestamp(ms, UTC)".to_string(),
        s if s.starts_with("UInt") || s.starts_with("Int") => s.to_ascii_lowercase(),
        other => panic!("docs/schema.md: no reader-facing name for Arrow type {other}"),
    };
    if nullable {
        format!("{base}, null")
    } else {
        base
    }
}

/// The meanings written in an existing column block: column → meaning.
fn meanings(block: &str) -> BTreeMap<String, String> {
    block
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix('|')?.strip_suffix('|')?;
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            if cells.len() != 3 {
                return None;
            }
            let name = cells[0].strip_prefix('`')?.strip_suffix('`')?;
            let meaning = cells[2];
            Some((name.to_string(), meaning.to_string()))
        })
        .collect()
}

fn columns_block(table: Table, old: &str) -> String {
    let known = meanings(old);
    let mut out = String::from("| column | type | meaning |\n|---|---|---|\n");
    for f in table.schema().fields() {
        let meaning = known
            .get(f.name())
            .filter(|m| !m.is_empty())
            .map(String::as_str)
            .unwrap_or(UNDOCUMENTED);
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name(),
            type_name(&format!("{:?}", f.data_type()), f.is_nullable()),
            meaning
        ));
    }
    out
}

fn deviations_block<T: Copy>(
    all: &[T],
    name: impl Fn(T) -> &'static str,
    doc: impl Fn(T) -> &'static str,
) -> String {
    let mut out = String::from("| value | meaning |\n|---|---|\n");
    for &d in all {
        out.push_str(&format!(
            "| `{}` | {} |\n",
            name(d),
            doc(d).replace('\n', " ")
        ));
    }
    out
}

/// Replace the body of every `<!-- generated:KEY -->` … `<!-- /generated -->` block.
fn regenerate(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!-- generated:") {
        let header_end = start + rest[start..].find("-->").expect("closed marker") + 3;
        let key = rest[start + "<!-- generated:".len()..header_end - 3].trim();
        let end = header_end
            + rest[header_end..]
                .find("<!-- /generated -->")
                .unwrap_or_else(|| panic!("block {key} has no <!-- /generated -->"));
        let old = &rest[header_end..end];
        let body = match key {
            "vocabularies" => {
                mxscan_store::vocab::markdown()
                    .trim_end()
                    .replace("### ", "#### ")
                    + "\n"
            }
            "sts_deviations" => {
                deviations_block(Deviation::ALL, |d| d.as_str(), |d| d.description())
            }
            "tlsrpt_deviations" => {
                deviations_block(TlsRptDeviation::ALL, |d| d.as_str(), |d| d.description())
            }
            k if k.starts_with("columns:") => {
                let table = Table::from_name(&k["columns:".len()..])
                    .unwrap_or_else(|| panic!("unknown table in {k}"));
                columns_block(table, old)
            }
            other => panic!("unknown generated block {other}"),
        };
        out.push_str(&rest[..header_end]);
        out.push('\n');
        out.push_str(&body);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn schema_doc_is_up_to_date_with_the_code() {
    let path = doc_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let fresh = regenerate(&text);
    if std::env::var("MXSCAN_BLESS").is_ok_and(|v| v == "1") && fresh != text {
        std::fs::write(&path, &fresh).unwrap();
        eprintln!("rewrote {}", path.display());
    } else if fresh != text {
        let first = text
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(text.lines().count().min(fresh.lines().count()));
        panic!(
            "docs/schema.md is out of date with the code (first difference at line {}):\n  doc:  {:?}\n  code: {:?}\n\
             run: MXSCAN_BLESS=1 cargo test -p mxscan --test demo_docs",
            first + 1,
            text.lines().nth(first),
            fresh.lines().nth(first)
        );
    }
    assert!(
        !fresh.contains(UNDOCUMENTED),
        "docs/schema.md: a column has no meaning; write it in the column table"
    );
    // Every table has its block, and every status column its vocabulary.
    for t in Table::ALL {
        assert!(
            fresh.contains(&format!("<!-- generated:columns:{t} -->")),
            "{t}"
        );
    }
    for voc in mxscan_store::vocab::all() {
        assert!(fresh.contains(&format!("`{}`", voc.key())), "{}", voc.key());
    }
}

#[test]
fn type_names_cover_the_schemas() {
    for t in Table::ALL {
        for f in t.schema().fields() {
            type_name(&format!("{:?}", f.data_type()), f.is_nullable());
        }
    }
}

/// The systemd units in docs/systemd/ are the ones docs/guide.md shows.
#[test]
fn guide_shows_the_shipped_systemd_units() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let guide = std::fs::read_to_string(docs.join("guide.md")).unwrap();
    for unit in ["mxscan-survey.service", "mxscan-survey.timer"] {
        let file = std::fs::read_to_string(docs.join("systemd").join(unit)).unwrap();
        let body: String = file.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let marker = format!("`/etc/systemd/system/{unit}`\n\n```ini\n");
        let start = guide
            .find(&marker)
            .unwrap_or_else(|| panic!("{unit} not in guide"))
            + marker.len();
        let end = start + guide[start..].find("```").unwrap();
        assert_eq!(
            &guide[start..end],
            body,
            "docs/guide.md and docs/systemd/{unit} differ"
        );
    }
}
