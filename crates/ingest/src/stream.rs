//! The ingest stream: many inputs in, one iterator of normalised, de-duplicated entries out.

use std::collections::BTreeMap;
use std::fmt;
use std::iter::FusedIterator;
use std::sync::Arc;

use crate::dedup::SeenSet;
use crate::error::{IngestError, LineError, RejectReason, cap_text};
use crate::format::{Detected, Format, FormatChoice, detect, parse_record};
use crate::normalize::normalize_domain;
use crate::shard::Shard;
use crate::source::{Input, LineRead, OpenError, Source};

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Where an entry (or rejection) came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceRef {
    /// Input name (path as given, `<stdin>`, or a reader's name).
    pub input: Arc<str>,
    /// Position of the input in the list given to [`Ingest::new`] (0-based).
    pub input_index: usize,
    /// 1-based physical line number in the (decompressed) input.
    pub line: u64,
}

impl fmt::Display for SourceRef {
    /// `list.csv:17`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.input, self.line)
    }
}

/// One accepted domain: normalised, first occurrence in the whole stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalised name: lowercase ASCII (IDNA A-labels), no trailing dot
    /// (see [`crate::normalize_domain`]).
    pub domain: String,
    /// Rank from the list (of the first occurrence), if the format has one.
    pub rank: Option<u64>,
    /// Where it was read.
    pub source: SourceRef,
}

/// Options of an [`Ingest`] stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOptions {
    /// How to pick each input's format (default: auto-detect, see [`mod@crate::format`]).
    pub format: FormatChoice,
    /// Keep only names in this shard (`--shard K/N`); others are counted as `other_shard`.
    pub shard: Option<Shard>,
    /// Yield every valid name, duplicates included, and keep no duplicate filter, so memory
    /// does not grow with the input at all. For passes that only count (the scanner's ETA):
    /// a list's duplicates are few, and the filter would cost 8 bytes per name a second time.
    pub keep_duplicates: bool,
}

/// How far an input got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputStatus {
    /// Not reached yet.
    Pending,
    /// Being read.
    Reading,
    /// Read to the end.
    Complete,
    /// Stopped by an open, read or format error (the error was yielded by the iterator).
    Failed,
}

impl InputStatus {
    /// `pending`, `reading`, `complete` or `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reading => "reading",
            Self::Complete => "complete",
            Self::Failed => "failed",
        }
    }
}

/// Line counts. Invariant: `read == accepted + duplicates + rejected + other_shard`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Data lines read: every line except blank lines, `#` comments and a CSV header.
    pub read: u64,
    /// Lines yielded as [`Entry`].
    pub accepted: u64,
    /// Valid names already seen earlier in the stream (in this or an earlier input).
    pub duplicates: u64,
    /// Lines rejected (each one was yielded as [`IngestError::Rejected`]).
    pub rejected: u64,
    /// Valid names outside the selected shard.
    pub other_shard: u64,
}

/// Per-input statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStats {
    /// Input name.
    pub name: Arc<str>,
    /// How far it got.
    pub status: InputStatus,
    /// Detected (or forced) format, once known.
    pub format: Option<Format>,
    /// True if it was gzip-compressed.
    pub gzip: bool,
    /// Line counts of this input.
    pub counts: Counts,
    /// Raw (possibly compressed) bytes read; set when the input is closed (at its end or on
    /// an error), 0 before.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the raw bytes, set once the input was read to the end
    /// (for the survey manifest's `input.sha256`).
    pub sha256: Option<String>,
}

/// Statistics of the whole stream, available at any time through [`Ingest::stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestStats {
    /// Counts over all inputs.
    pub total: Counts,
    /// Rejections per [`RejectReason::as_str`] code.
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    /// One entry per input, in the order given.
    pub inputs: Vec<InputStats>,
}

impl IngestStats {
    /// Number of inputs that stopped early with an error.
    pub fn inputs_failed(&self) -> usize {
        self.inputs
            .iter()
            .filter(|i| i.status == InputStatus::Failed)
            .count()
    }
}

/// The state of the input being read.
#[derive(Debug)]
struct Current {
    index: usize,
    name: Arc<str>,
    source: Source,
    line: u64,
    format: Option<Format>,
}

/// A streaming reader over one or more domain lists: an iterator of
/// `Result<Entry, IngestError>`.
///
/// - `Ok(entry)`: a normalised name, first occurrence in the whole stream;
/// - `Err(IngestError::Rejected(_))`: a bad line, skipped; the stream goes on;
/// - `Err(e)` with [`IngestError::stops_input`]: that input ended early (cannot open, read or
///   gzip error, unknown format); the stream goes on with the next input — stop iterating if
///   a partial list is not acceptable.
///
/// Inputs are opened one at a time, when reached, and read line by line: memory does not
/// depend on the inputs' length except for the duplicate filter ([`crate::dedup`]).
/// Duplicates (across all inputs) keep the first occurrence and its rank and are counted,
/// not yielded. Counts are in [`Ingest::stats`].
///
/// ```
/// use mxscan_ingest::{Ingest, IngestOptions, Input};
/// let list = "rank,domain\n1,Example.COM\n2,http://bad/\n3,example.com.\n";
/// let mut ingest = Ingest::new(
///     [Input::reader("list.csv", std::io::Cursor::new(list))],
///     IngestOptions::default(),
/// );
/// let items: Vec<_> = ingest.by_ref().collect();
/// assert_eq!(items[0].as_ref().unwrap().domain, "example.com");
/// assert_eq!(
///     items[1].as_ref().unwrap_err().to_string(),
///     r#"list.csv:3: "http://bad/" is not a hostname: looks like a URL (scheme://)"#
/// );
/// let t = ingest.stats().total;
/// assert_eq!((t.read, t.accepted, t.rejected, t.duplicates), (3, 1, 1, 1));
/// ```
#[derive(Debug)]
pub struct Ingest {
    inputs: Vec<Option<Input>>,
    next_input: usize,
    current: Option<Current>,
    options: IngestOptions,
    seen: SeenSet,
    stats: IngestStats,
    buf: Vec<u8>,
}

/// What one line amounted to.
enum Outcome {
    Skip,
    Entry(Entry),
    Rejected(LineError),
    Stop(IngestError),
}

impl Ingest {
    /// A stream over `inputs`, in order.
    pub fn new(inputs: impl IntoIterator<Item = Input>, options: IngestOptions) -> Self {
        let inputs: Vec<Option<Input>> = inputs.into_iter().map(Some).collect();
        let stats = IngestStats {
            total: Counts::default(),
            rejected_by_reason: BTreeMap::new(),
            inputs: inputs
                .iter()
                .flatten()
                .map(|i| InputStats {
                    name: Arc::from(i.name()),
                    status: InputStatus::Pending,
                    format: None,
                    gzip: false,
                    counts: Counts::default(),
                    bytes: 0,
                    sha256: None,
                })
                .collect(),
        };
        Self {
            inputs,
            next_input: 0,
            current: None,
            options,
            seen: SeenSet::new(),
            stats,
            buf: Vec::new(),
        }
    }

    /// A stream over command-line arguments: paths, `-` for stdin.
    pub fn from_args<S: AsRef<str>>(
        args: impl IntoIterator<Item = S>,
        options: IngestOptions,
    ) -> Self {
        Self::new(
            args.into_iter().map(|a| Input::from_arg(a.as_ref())),
            options,
        )
    }

    /// Statistics so far (final once the iterator returned `None`).
    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    /// Consume the stream and return its statistics.
    pub fn into_stats(self) -> IngestStats {
        self.stats
    }

    /// Number of distinct names held by the duplicate filter.
    pub fn distinct(&self) -> usize {
        self.seen.len()
    }

    fn open_next(&mut self) -> Option<Result<(), IngestError>> {
        let index = self.next_input;
        let input = self.inputs.get_mut(index)?.take()?;
        self.next_input += 1;
        let st = &mut self.stats.inputs[index];
        let name = Arc::clone(&st.name);
        match Source::open(input) {
            Ok(source) => {
                st.status = InputStatus::Reading;
                st.gzip = source.gzip;
                self.current = Some(Current {
                    index,
                    name,
                    source,
                    line: 0,
                    format: None,
                });
                Some(Ok(()))
            }
            Err(e) => {
                st.status = InputStatus::Failed;
                Some(Err(match e {
                    OpenError::Io(source) => IngestError::Open {
                        input: name,
                        source,
                    },
                    OpenError::Unsupported(kind) => IngestError::Compression { input: name, kind },
                }))
            }
        }
    }

    /// Close the current input with `status`, recording its byte count and checksum.
    fn close_current(&mut self, status: InputStatus) {
        if let Some(cur) = self.current.take() {
            let st = &mut self.stats.inputs[cur.index];
            st.status = status;
            st.bytes = cur.source.raw_bytes();
            if status == InputStatus::Complete {
                st.sha256 = Some(cur.source.sha256_hex());
            }
        }
    }

    /// Classify the line in `self.buf` (line number already advanced).
    fn process_line(&mut self, kind: LineRead) -> Outcome {
        let Some(cur) = self.current.as_mut() else {
            return Outcome::Skip;
        };
        let mut bytes: &[u8] = &self.buf;
        if cur.line == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if kind == LineRead::TooLong {
            let text = String::from_utf8_lossy(bytes);
            return Outcome::Rejected(LineError::new(
                &cur.name,
                cur.line,
                &text,
                RejectReason::LineTooLong,
            ));
        }
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() || bytes[0] == b'#' {
            return Outcome::Skip;
        }
        let Ok(line) = std::str::from_utf8(bytes) else {
            let text = String::from_utf8_lossy(bytes);
            return Outcome::Rejected(LineError::new(
                &cur.name,
                cur.line,
                &text,
                RejectReason::InvalidUtf8,
            ));
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Outcome::Skip;
        }
        let format = match &cur.format {
            Some(f) => f,
            None => match detect(line, self.options.format) {
                Ok(Detected::Header(f)) => {
                    self.stats.inputs[cur.index].format = Some(f.clone());
                    cur.format = Some(f);
                    return Outcome::Skip;
                }
                Ok(Detected::Data(f)) => {
                    self.stats.inputs[cur.index].format = Some(f.clone());
                    cur.format.insert(f)
                }
                Err(why) => {
                    return Outcome::Stop(IngestError::Format {
                        input: Arc::clone(&cur.name),
                        line: cur.line,
                        text: cap_text(line),
                        why,
                    });
                }
            },
        };
        let reject = |text: &str, reason| {
            Outcome::Rejected(LineError::new(&cur.name, cur.line, text, reason))
        };
        let record = match parse_record(line, format) {
            Ok(r) => r,
            Err(reason) => return reject(line, reason),
        };
        let domain = match normalize_domain(&record.domain) {
            Ok(d) => d,
            Err(reason) => return reject(record.domain.trim(), reason),
        };
        let source = SourceRef {
            input: Arc::clone(&cur.name),
            input_index: cur.index,
            line: cur.line,
        };
        Outcome::Entry(Entry {
            domain,
            rank: record.rank,
            source,
        })
    }

    /// Count one data line of input `index`.
    fn count(&mut self, index: usize, f: impl Fn(&mut Counts)) {
        for c in [&mut self.stats.total, &mut self.stats.inputs[index].counts] {
            c.read += 1;
            f(c);
        }
    }
}

impl Iterator for Ingest {
    type Item = Result<Entry, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(cur) = self.current.as_mut() else {
                match self.open_next()? {
                    Ok(()) => continue,
                    Err(e) => return Some(Err(e)),
                }
            };
            let index = cur.index;
            let kind = match cur.source.read_line(&mut self.buf) {
                Ok(Some(kind)) => kind,
                Ok(None) => {
                    self.close_current(InputStatus::Complete);
                    continue;
                }
                Err(source) => {
                    let e = IngestError::Read {
                        input: Arc::clone(&cur.name),
                        line: cur.line,
                        source,
                    };
                    self.close_current(InputStatus::Failed);
                    return Some(Err(e));
                }
            };
            cur.line += 1;
            match self.process_line(kind) {
                Outcome::Skip => {}
                Outcome::Stop(e) => {
                    self.close_current(InputStatus::Failed);
                    return Some(Err(e));
                }
                Outcome::Rejected(e) => {
                    self.count(index, |c| c.rejected += 1);
                    *self
                        .stats
                        .rejected_by_reason
                        .entry(e.reason.as_str())
                        .or_default() += 1;
                    return Some(Err(IngestError::Rejected(e)));
                }
                Outcome::Entry(entry) => {
                    if let Some(shard) = self.options.shard
                        && !shard.contains(&entry.domain)
                    {
                        self.count(index, |c| c.other_shard += 1);
                    } else if self.options.keep_duplicates || self.seen.insert(&entry.domain) {
                        self.count(index, |c| c.accepted += 1);
                        return Some(Ok(entry));
                    } else {
                        self.count(index, |c| c.duplicates += 1);
                    }
                }
            }
        }
    }
}

impl FusedIterator for Ingest {}
