//! List formats, their auto-detection, and splitting one line into a (rank, domain) pair.
//! Pure: no I/O.
//!
//! # Detection rule (per input, on its first data line)
//!
//! The first *data* line is the first line that is neither blank nor a `#` comment (after
//! removing a UTF-8 BOM, a trailing CR and surrounding whitespace):
//!
//! 1. If it contains a `,` the delimiter is `,`; else if it contains a tab, it is a tab.
//!    Otherwise, if the line is just `domain` (case-insensitive, maybe quoted), it is the
//!    header of a one-column [`Format::Csv`]; else the list is [`Format::Plain`] (one domain
//!    per line) and that line is data.
//! 2. With a delimiter, the line is split into fields (RFC 4180 quoting allowed). If a field
//!    is `domain` (case-insensitive, trimmed, quotes removed), the line is a header:
//!    [`Format::Csv`], the domain column is that field, and the rank column is the field
//!    named `rank` or `globalrank` (Majestic's name), if any. The header is not a data line.
//! 3. Otherwise, if there are at least two fields and the first is an unsigned integer, the
//!    list is [`Format::Ranked`]: header-less `rank,domain` as in Tranco, Cisco Umbrella and
//!    the old Alexa list; further fields are ignored. That line is data.
//! 4. Otherwise the format is unknown and the input is skipped with
//!    [`crate::IngestError::Format`]: guessing would turn every line into a rejection.
//!
//! The format can also be forced with [`FormatChoice`]. Records never span lines: a quoted
//! field must close on its own line (domain names contain no newlines).

use std::borrow::Cow;

use crate::error::RejectReason;

/// The layout of one input, as detected (or forced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// One domain per line.
    Plain,
    /// Delimited with a header row naming a `domain` column and maybe a `rank` column.
    Csv {
        /// Field delimiter (`,` or tab).
        delimiter: u8,
        /// 0-based index of the domain column.
        domain_col: usize,
        /// 0-based index of the rank column, if the header has one.
        rank_col: Option<usize>,
    },
    /// Header-less `rank<delimiter>domain[<delimiter>…]` (Tranco, Umbrella, Alexa).
    Ranked {
        /// Field delimiter (`,` or tab).
        delimiter: u8,
    },
}

impl Format {
    /// Stable snake_case name: `plain`, `csv` or `ranked`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Csv { .. } => "csv",
            Self::Ranked { .. } => "ranked",
        }
    }
}

/// How to pick the format of each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// Detect per input from its first data line (the module docs give the rule).
    #[default]
    Auto,
    /// Every line is one domain (commas are then just invalid characters).
    Plain,
    /// The first data line is a header with a `domain` column (an input without one fails).
    Csv,
    /// Header-less `rank,domain` (or tab-separated).
    Ranked,
}

/// What the first data line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detected {
    /// The line was a header: skip it, read the rest with this format.
    Header(Format),
    /// The line is data of this format.
    Data(Format),
}

/// Decide the format from the first data line (already trimmed, BOM and CR removed).
pub(crate) fn detect(line: &str, choice: FormatChoice) -> Result<Detected, &'static str> {
    let delimiter = if line.contains(',') {
        Some(b',')
    } else if line.contains('\t') {
        Some(b'\t')
    } else {
        None
    };
    match (choice, delimiter) {
        (FormatChoice::Plain, _) => Ok(Detected::Data(Format::Plain)),
        // A one-column CSV: the header is just `domain` (never a valid name itself).
        (FormatChoice::Auto | FormatChoice::Csv, None) if is_domain_header(line) => {
            Ok(Detected::Header(Format::Csv {
                delimiter: b',',
                domain_col: 0,
                rank_col: None,
            }))
        }
        (FormatChoice::Auto, None) => Ok(Detected::Data(Format::Plain)),
        (FormatChoice::Csv, None) => Err("the header has no 'domain' column"),
        (FormatChoice::Ranked, None) => Ok(Detected::Data(Format::Ranked { delimiter: b',' })),
        (_, Some(delimiter)) => {
            let fields = split_fields(line, delimiter)
                .map_err(|_| "the first line is not a valid delimited record")?;
            let name = |f: &str| f.trim().to_ascii_lowercase();
            let domain_col = fields.iter().position(|f| name(f) == "domain");
            if let (Some(domain_col), FormatChoice::Auto | FormatChoice::Csv) = (domain_col, choice)
            {
                let rank_col = fields
                    .iter()
                    .position(|f| matches!(name(f).as_str(), "rank" | "globalrank"));
                return Ok(Detected::Header(Format::Csv {
                    delimiter,
                    domain_col,
                    rank_col,
                }));
            }
            match choice {
                FormatChoice::Csv => Err("the header has no 'domain' column"),
                FormatChoice::Ranked => Ok(Detected::Data(Format::Ranked { delimiter })),
                _ if fields.len() >= 2 && is_uint(fields[0].trim()) => {
                    Ok(Detected::Data(Format::Ranked { delimiter }))
                }
                _ => Err(
                    "delimited, but neither a header with a 'domain' column nor 'rank,domain' rows",
                ),
            }
        }
    }
}

fn is_domain_header(line: &str) -> bool {
    let t = line.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(t);
    t.trim().eq_ignore_ascii_case("domain")
}

fn is_uint(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A data line split into its parts (domain field still raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub rank: Option<u64>,
    pub domain: Cow<'a, str>,
}

/// Extract rank and raw domain from a data line (trimmed, BOM and CR removed).
pub(crate) fn parse_record<'a>(line: &'a str, format: &Format) -> Result<Record<'a>, RejectReason> {
    match *format {
        Format::Plain => Ok(Record {
            rank: None,
            domain: Cow::Borrowed(line),
        }),
        Format::Ranked { delimiter } => {
            let mut fields = split_fields(line, delimiter)?.into_iter();
            let (Some(rank), Some(domain)) = (fields.next(), fields.next()) else {
                return Err(RejectReason::Malformed {
                    what: "expected rank and domain fields",
                });
            };
            Ok(Record {
                rank: Some(parse_rank(&rank)?),
                domain,
            })
        }
        Format::Csv {
            delimiter,
            domain_col,
            rank_col,
        } => {
            let mut fields = split_fields(line, delimiter)?;
            let rank = match rank_col.and_then(|i| fields.get(i)) {
                Some(r) if !r.trim().is_empty() => Some(parse_rank(r)?),
                _ => None,
            };
            if domain_col >= fields.len() {
                return Err(RejectReason::Malformed {
                    what: "fewer fields than the header: no domain field",
                });
            }
            let domain = fields.swap_remove(domain_col);
            Ok(Record { rank, domain })
        }
    }
}

fn parse_rank(s: &str) -> Result<u64, RejectReason> {
    let s = s.trim();
    if !is_uint(s) {
        return Err(RejectReason::BadRank);
    }
    s.parse().map_err(|_| RejectReason::BadRank)
}

/// Split one line into fields, RFC 4180 style: a field that starts with `"` runs to the next
/// lone `"` (a doubled `""` is a literal quote) and must be followed by the delimiter or the
/// end of the line. Unquoted fields are taken as they are.
pub(crate) fn split_fields(line: &str, delimiter: u8) -> Result<Vec<Cow<'_, str>>, RejectReason> {
    let bytes = line.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        // Leading whitespace before an opening quote is tolerated (`1, "example.com"`).
        let start = i;
        let mut j = i;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') && bytes[j] != delimiter {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'"' {
            let mut value = String::new();
            let mut k = j + 1;
            let mut seg = k;
            loop {
                match bytes[k..].iter().position(|&b| b == b'"') {
                    None => {
                        return Err(RejectReason::Malformed {
                            what: "unterminated quoted field",
                        });
                    }
                    Some(p) => {
                        let q = k + p;
                        if bytes.get(q + 1) == Some(&b'"') {
                            value.push_str(&line[seg..=q]);
                            k = q + 2;
                            seg = k;
                        } else {
                            value.push_str(&line[seg..q]);
                            k = q + 1;
                            break;
                        }
                    }
                }
            }
            while k < bytes.len()
                && (bytes[k] == b' ' || bytes[k] == b'\t')
                && bytes[k] != delimiter
            {
                k += 1;
            }
            fields.push(Cow::Owned(value));
            match bytes.get(k) {
                None => return Ok(fields),
                Some(&b) if b == delimiter => i = k + 1,
                Some(_) => {
                    return Err(RejectReason::Malformed {
                        what: "text after a closing quote",
                    });
                }
            }
        } else {
            match bytes[start..].iter().position(|&b| b == delimiter) {
                None => {
                    fields.push(Cow::Borrowed(&line[start..]));
                    return Ok(fields);
                }
                Some(p) => {
                    fields.push(Cow::Borrowed(&line[start..start + p]));
                    i = start + p + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Format {
        Format::Plain
    }

    #[test]
    fn detection_table() {
        use Detected::*;
        let csv = |d, dc, rc| Format::Csv {
            delimiter: d,
            domain_col: dc,
            rank_col: rc,
        };
        let cases: Vec<(&str, Result<Detected, ()>)> = vec![
            ("example.com", Ok(Data(plain()))),
            ("Bücher.example", Ok(Data(plain()))),
            ("1,google.com", Ok(Data(Format::Ranked { delimiter: b',' }))),
            (
                "1\tgoogle.com",
                Ok(Data(Format::Ranked { delimiter: b'\t' })),
            ),
            (
                "1,google.com,extra",
                Ok(Data(Format::Ranked { delimiter: b',' })),
            ),
            ("domain", Ok(Header(csv(b',', 0, None)))),
            ("\"Domain\"", Ok(Header(csv(b',', 0, None)))),
            ("domains.example", Ok(Data(plain()))),
            ("rank,domain", Ok(Header(csv(b',', 1, Some(0))))),
            ("Domain,Rank", Ok(Header(csv(b',', 0, Some(1))))),
            ("\"DOMAIN\", \"rank\"", Ok(Header(csv(b',', 0, Some(1))))),
            ("id,domain,notes", Ok(Header(csv(b',', 1, None)))),
            ("domain,", Ok(Header(csv(b',', 0, None)))),
            (
                "GlobalRank,TldRank,Domain,TLD,RefSubNets",
                Ok(Header(csv(b',', 2, Some(0)))),
            ),
            ("rank\tdomain", Ok(Header(csv(b'\t', 1, Some(0))))),
            ("host,rank", Err(())),
            ("example.com,1", Err(())),
            ("a,b", Err(())),
            ("\"unterminated,x", Err(())),
        ];
        for (line, want) in cases {
            let got = detect(line, FormatChoice::Auto).map_err(|_| ());
            assert_eq!(got, want, "line {line:?}");
        }
    }

    #[test]
    fn forced_formats() {
        assert_eq!(
            detect("1,a.example", FormatChoice::Plain),
            Ok(Detected::Data(Format::Plain))
        );
        assert_eq!(
            detect("a.example", FormatChoice::Ranked),
            Ok(Detected::Data(Format::Ranked { delimiter: b',' }))
        );
        assert!(detect("a.example", FormatChoice::Csv).is_err());
        assert!(detect("host,rank", FormatChoice::Csv).is_err());
        assert_eq!(
            detect("x,domain", FormatChoice::Ranked),
            Ok(Detected::Data(Format::Ranked { delimiter: b',' }))
        );
    }

    #[test]
    fn split_table() {
        let cases: &[(&str, Result<&[&str], &str>)] = &[
            ("a", Ok(&["a"])),
            ("a,b", Ok(&["a", "b"])),
            ("a,,b,", Ok(&["a", "", "b", ""])),
            ("\"a,b\",c", Ok(&["a,b", "c"])),
            ("\"a\"\"b\",c", Ok(&["a\"b", "c"])),
            ("1, \"x.com\" ,y", Ok(&["1", "x.com", "y"])),
            ("\"\"", Ok(&[""])),
            ("\"é\",ü", Ok(&["é", "ü"])),
            ("\"a", Err("malformed")),
            ("\"a\"b,c", Err("malformed")),
            ("x\"y,z", Ok(&["x\"y", "z"])),
        ];
        for (line, want) in cases {
            let got = split_fields(line, b',');
            match want {
                Ok(w) => {
                    let got: Vec<String> = got.unwrap().into_iter().map(Cow::into_owned).collect();
                    assert_eq!(&got, w, "{line:?}");
                }
                Err(code) => assert_eq!(got.unwrap_err().as_str(), *code, "{line:?}"),
            }
        }
    }

    #[test]
    fn records_table() {
        let ranked = Format::Ranked { delimiter: b',' };
        let csv = Format::Csv {
            delimiter: b',',
            domain_col: 2,
            rank_col: Some(0),
        };
        let ok = |rank, d: &str| {
            Ok::<_, &str>(Record {
                rank,
                domain: Cow::Owned(d.to_owned()),
            })
        };
        let cases: Vec<(&Format, &str, Result<Record<'_>, &str>)> = vec![
            (&ranked, "1,google.com", ok(Some(1), "google.com")),
            (&ranked, " 42 ,x.example,zzz", ok(Some(42), "x.example")),
            (&ranked, "x,google.com", Err("bad_rank")),
            (&ranked, "-1,google.com", Err("bad_rank")),
            (&ranked, "99999999999999999999999,a.b", Err("bad_rank")),
            (&ranked, "google.com", Err("malformed")),
            (&csv, "7,x,a.example,y", ok(Some(7), "a.example")),
            (&csv, ",x,a.example", ok(None, "a.example")),
            (&csv, "q,x,a.example", Err("bad_rank")),
            (&csv, "7,x", Err("malformed")),
            (&Format::Plain, "1,a.example", ok(None, "1,a.example")),
        ];
        for (format, line, want) in cases {
            let got = parse_record(line, format).map_err(|r| r.as_str());
            assert_eq!(got, want, "{format:?} {line:?}");
        }
    }
}
