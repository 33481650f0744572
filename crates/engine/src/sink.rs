//! Where the engine's rows go: a [`RowSink`]. A survey directory's
//! [`SurveyWriter`] (Parquet part files, the resume contract) is one; [`MemorySink`], which
//! keeps the rows of a small scan in memory, is the other.
//!
//! The order the engine keeps is the store's: a probe's certificate rows and its probe row
//! are handed over before any domain whose mx rows refer to that probe, and a domain's row
//! comes with all of its mx rows in one call.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use mxscan_store::rows::{CertRow, DomainRow, MxRow, ProbeRow, TableRow};
use mxscan_store::writer::SurveyWriter;

/// What a [`RowSink`] call returns.
pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = mxscan_store::Result<()>> + Send + 'a>>;

/// The engine's output. Calls may wait (back-pressure); an error is logged by the engine and
/// the scan goes on.
pub trait RowSink: Send + Sync + std::fmt::Debug + 'static {
    /// One domain: its `domains` row and all of its `mx` rows, kept together.
    fn domain(&self, row: DomainRow, mx: Vec<MxRow>) -> SinkFuture<'_>;
    /// One probe row (before the domains that refer to it).
    fn probe(&self, row: ProbeRow) -> SinkFuture<'_>;
    /// One certificate row; a certificate already taken may be dropped.
    fn cert(&self, row: CertRow) -> SinkFuture<'_>;
    /// Whether the certificate with this SHA-256 is already taken (its row would be
    /// dropped), so the engine need not build it.
    fn knows_cert(&self, sha256: &[u8; 32]) -> bool;
}

impl RowSink for SurveyWriter {
    fn domain(&self, row: DomainRow, mx: Vec<MxRow>) -> SinkFuture<'_> {
        Box::pin(SurveyWriter::domain(self, row, mx))
    }
    fn probe(&self, row: ProbeRow) -> SinkFuture<'_> {
        Box::pin(SurveyWriter::probe(self, row))
    }
    fn cert(&self, row: CertRow) -> SinkFuture<'_> {
        Box::pin(SurveyWriter::cert(self, row))
    }
    fn knows_cert(&self, sha256: &[u8; 32]) -> bool {
        SurveyWriter::knows_cert(self, sha256)
    }
}

impl<T: RowSink + ?Sized> RowSink for Arc<T> {
    fn domain(&self, row: DomainRow, mx: Vec<MxRow>) -> SinkFuture<'_> {
        (**self).domain(row, mx)
    }
    fn probe(&self, row: ProbeRow) -> SinkFuture<'_> {
        (**self).probe(row)
    }
    fn cert(&self, row: CertRow) -> SinkFuture<'_> {
        (**self).cert(row)
    }
    fn knows_cert(&self, sha256: &[u8; 32]) -> bool {
        (**self).knows_cert(sha256)
    }
}

/// The rows of a scan, in the order they were handed over.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// One `domains` row per domain.
    pub domains: Vec<DomainRow>,
    /// The `mx` rows of every domain.
    pub mx: Vec<MxRow>,
    /// One row per probed address.
    pub probes: Vec<ProbeRow>,
    /// One row per distinct certificate.
    pub certs: Vec<CertRow>,
}

/// Keeps every row in memory (a scan of a few domains without a survey directory). Rows are
/// validated as the writer would, and certificates are kept once.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<(Rows, HashSet<String>)>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// The rows so far, leaving the sink empty (certificates already taken stay known).
    pub fn take(&self) -> Rows {
        std::mem::take(&mut self.inner.lock().expect("sink poisoned").0)
    }
}

fn hex(sha256: &[u8; 32]) -> String {
    use std::fmt::Write;
    sha256.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl RowSink for MemorySink {
    fn domain(&self, row: DomainRow, mx: Vec<MxRow>) -> SinkFuture<'_> {
        Box::pin(async move {
            row.validate()?;
            for m in &mx {
                m.validate()?;
            }
            let mut inner = self.inner.lock().expect("sink poisoned");
            inner.0.domains.push(row);
            inner.0.mx.extend(mx);
            Ok(())
        })
    }

    fn probe(&self, row: ProbeRow) -> SinkFuture<'_> {
        Box::pin(async move {
            row.validate()?;
            self.inner.lock().expect("sink poisoned").0.probes.push(row);
            Ok(())
        })
    }

    fn cert(&self, row: CertRow) -> SinkFuture<'_> {
        Box::pin(async move {
            row.validate()?;
            let mut inner = self.inner.lock().expect("sink poisoned");
            if inner.1.insert(row.sha256.clone()) {
                inner.0.certs.push(row);
            }
            Ok(())
        })
    }

    fn knows_cert(&self, sha256: &[u8; 32]) -> bool {
        self.inner
            .lock()
            .expect("sink poisoned")
            .1
            .contains(&hex(sha256))
    }
}
