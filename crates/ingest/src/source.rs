//! Opening one input: files, stdin or any reader; gzip detection by magic bytes; a capped
//! line reader; a SHA-256 of the raw bytes for the survey manifest.
//!
//! Memory per open input is a fixed set of buffers (64 KiB read buffer, flate2's window and
//! buffer for gzip, one line of at most [`MAX_LINE_BYTES`]), whatever the input's length.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

/// Lines longer than this many bytes (without the line end) are rejected
/// ([`crate::RejectReason::LineTooLong`]) and skipped without being buffered.
pub const MAX_LINE_BYTES: usize = 4096;

/// Size of the read buffer of each input.
pub(crate) const READ_BUFFER_BYTES: usize = 64 * 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// Compressions we recognise but do not decode: (magic, name).
const OTHER_MAGIC: &[(&[u8], &str)] = &[
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
    (b"PK\x03\x04", "zip"),
];
const PEEK: usize = 6;

/// One input of the stream.
pub enum Input {
    /// A file path. Opened lazily when the stream reaches it.
    Path(PathBuf),
    /// Standard input (the command-line argument `-`); named `<stdin>` in messages.
    Stdin,
    /// Any reader, with the name to use in messages (tests, embedding, network streams).
    Reader {
        /// Name used in messages and statistics.
        name: String,
        /// The raw bytes (gzip or not).
        reader: Box<dyn Read + Send>,
    },
}

impl Input {
    /// The input named by a command-line argument: `-` is stdin, anything else a path.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdin
        } else {
            Self::Path(PathBuf::from(arg))
        }
    }

    /// An input read from `reader`, called `name` in messages.
    pub fn reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Self {
        Self::Reader {
            name: name.into(),
            reader: Box::new(reader),
        }
    }

    /// The name used in messages: the path as given, `<stdin>`, or the reader's name.
    pub fn name(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Stdin => "<stdin>".to_owned(),
            Self::Reader { name, .. } => name.clone(),
        }
    }

    fn into_reader(self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Self::Path(p) => Box::new(File::open(p)?),
            Self::Stdin => Box::new(io::stdin()),
            Self::Reader { reader, .. } => reader,
        })
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Stdin => f.write_str("Stdin"),
            Self::Reader { name, .. } => f.debug_struct("Reader").field("name", name).finish(),
        }
    }
}

/// Raw-byte accounting shared between the reader stack and the owner: bytes read and their
/// SHA-256 (of the file as stored, i.e. of the compressed bytes for gzip).
#[derive(Debug, Default)]
struct RawTally {
    bytes: u64,
    sha: Sha256,
}

struct Tallying<R> {
    inner: R,
    tally: Arc<Mutex<RawTally>>,
}

impl<R: Read> Read for Tallying<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut t = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        t.bytes += n as u64;
        t.sha.update(&buf[..n]);
        Ok(n)
    }
}

/// `BZh` + block size `1`–`9` + the first block's magic `1A` (of `1AY&SY`): text starting
/// with `BZh` alone could be a domain name.
fn is_bzip2(head: &[u8]) -> bool {
    head.len() >= 6
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && &head[4..6] == b"1A"
}

/// An opened input: a buffered, decompressed byte stream split into capped lines.
pub(crate) struct Source {
    reader: Box<dyn BufRead + Send>,
    tally: Arc<Mutex<RawTally>>,
    /// True if the input was gzip (detected by magic bytes).
    pub gzip: bool,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("gzip", &self.gzip).finish()
    }
}

/// Why an input could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    Io(io::Error),
    /// Compressed with something other than gzip.
    Unsupported(&'static str),
}

/// One line as read: its bytes (without `\n`) are in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    Line,
    /// Longer than [`MAX_LINE_BYTES`]: the buffer holds the first `MAX_LINE_BYTES` bytes, the
    /// rest of the line was discarded.
    TooLong,
}

impl Source {
    /// Open `input`: peek at the first bytes and put a gzip decoder in front if they are the
    /// gzip magic (RFC 1952 §2.3.1: `1f 8b`), whatever the name says. Concatenated gzip
    /// members (`cat a.gz b.gz`) are read as one stream.
    pub(crate) fn open(input: Input) -> Result<Self, OpenError> {
        let tally = Arc::new(Mutex::new(RawTally::default()));
        let mut raw = Tallying {
            inner: input.into_reader().map_err(OpenError::Io)?,
            tally: Arc::clone(&tally),
        };
        let mut head = [0u8; PEEK];
        let mut n = 0;
        while n < PEEK {
            match raw.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(OpenError::Io(e)),
            }
        }
        let head = &head[..n];
        if let Some((_, name)) = OTHER_MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
            return Err(OpenError::Unsupported(name));
        }
        if is_bzip2(head) {
            return Err(OpenError::Unsupported("bzip2"));
        }
        let gzip = head.starts_with(GZIP_MAGIC);
        let stream = Cursor::new(head.to_vec()).chain(raw);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                READ_BUFFER_BYTES,
                MultiGzDecoder::new(stream),
            ))
        } else {
            Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, stream))
        };
        Ok(Self {
            reader,
            tally,
            gzip,
        })
    }

    /// Read the next line into `buf` (cleared first; the `\n` is not included, a `\r` is).
    /// `Ok(None)` at the end of the input. At most [`MAX_LINE_BYTES`] bytes are buffered.
    pub(crate) fn read_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineRead>> {
        buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(any.then_some(if too_long {
                    LineRead::TooLong
                } else {
                    LineRead::Line
                }));
            }
            any = true;
            let (chunk, used, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(p) => (&avail[..p], p + 1, true),
                None => (avail, avail.len(), false),
            };
            if !too_long {
                let room = MAX_LINE_BYTES - buf.len();
                if chunk.len() > room {
                    buf.extend_from_slice(&chunk[..room]);
                    too_long = true;
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            self.reader.consume(used);
            if done {
                return Ok(Some(if too_long {
                    LineRead::TooLong
                } else {
                    LineRead::Line
                }));
            }
        }
    }

    /// Raw bytes read so far (before decompression).
    pub(crate) fn raw_bytes(&self) -> u64 {
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }

    /// Lowercase hex SHA-256 of all raw bytes read so far (the whole input once at its end).
    pub(crate) fn sha256_hex(&self) -> String {
        let t = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        let digest = t.sha.clone().finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(bytes: &[u8]) -> Vec<(Vec<u8>, LineRead)> {
        let mut src = Source::open(Input::reader("t", Cursor::new(bytes.to_vec()))).unwrap();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(kind) = src.read_line(&mut buf).unwrap() {
            out.push((buf.clone(), kind));
        }
        out
    }

    #[test]
    fn splits_lines_and_keeps_cr() {
        use LineRead::Line;
        let got = lines_of(b"a\r\nb\n\nc");
        assert_eq!(
            got,
            vec![
                (b"a\r".to_vec(), Line),
                (b"b".to_vec(), Line),
                (Vec::new(), Line),
                (b"c".to_vec(), Line)
            ]
        );
        assert!(lines_of(b"").is_empty());
        assert_eq!(lines_of(b"\n").len(), 1);
    }

    #[test]
    fn long_lines_are_capped_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE_BYTES * 40];
        input.extend_from_slice(b"\nok\n");
        let got = lines_of(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), MAX_LINE_BYTES);
        assert_eq!(got[0].1, LineRead::TooLong);
        assert_eq!(got[1], (b"ok".to_vec(), LineRead::Line));
        let exact = vec![b'y'; MAX_LINE_BYTES];
        assert_eq!(lines_of(&exact)[0].1, LineRead::Line);
    }

    #[test]
    fn sha256_covers_raw_bytes() {
        let mut src = Source::open(Input::reader("t", Cursor::new(b"abc".to_vec()))).unwrap();
        let mut buf = Vec::new();
        while src.read_line(&mut buf).unwrap().is_some() {}
        assert_eq!(
            src.sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(src.raw_bytes(), 3);
    }

    #[test]
    fn other_compressions_are_named() {
        for (magic, name) in OTHER_MAGIC {
            let mut bytes = magic.to_vec();
            bytes.extend_from_slice(b"\0\0\0\0\0\0");
            match Source::open(Input::reader("t", Cursor::new(bytes))) {
                Err(OpenError::Unsupported(n)) => assert_eq!(n, *name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            Source::open(Input::reader("t", Cursor::new(b"BZh91AY&SY".to_vec()))),
            Err(OpenError::Unsupported("bzip2"))
        ));
        assert!(
            Source::open(Input::reader(
                "t",
                Cursor::new(b"bzhotel.example\n".to_vec())
            ))
            .is_ok()
        );
    }
}
