//! The survey writer: one tokio task per survey that turns rows into Parquet part files.
//!
//! # Shape
//! [`SurveyWriter::spawn`] starts the task behind a bounded mpsc channel and returns a
//! cloneable [`SurveyWriter`] (the sender; `send` waits when the channel is full, which is
//! the back-pressure the engine needs) and a [`WriterHandle`] (finish / join / abort).
//! Rows are buffered per table and written as Parquet row groups of
//! [`WriterOptions::row_group_rows`] rows, zstd-compressed, with the file key-value metadata
//! `mxscan.schema_version` ([`crate::SCHEMA_VERSION`]), `mxscan.survey_id` and `mxscan.table`.
//! Encoding and file I/O run on the blocking pool (`spawn_blocking`), never on a runtime
//! worker.
//!
//! # Commits and the exactly-once contract
//! Part files are written in *commits*. Commit `N` produces, for every table that received
//! rows since the previous commit, one file `<table>/part-N.parquet` (the same `N` in every
//! table). Each file is first written as `<table>/.part-N.parquet.tmp`, closed, fsynced, and
//! then renamed, table by table in the fixed order **certs → probes → mx → domains**, each
//! rename followed by an fsync of its directory. The rename of `domains/part-N.parquet` is the
//! commit point. A commit happens when a part reaches [`WriterOptions::part_max_rows`] rows
//! (in any table), when [`WriterOptions::part_max_age`] has passed since its first row, on
//! [`SurveyWriter::flush`], and at the end.
//!
//! The engine hands over a domain's `domains` row and all of its `mx` rows in ONE message
//! ([`SurveyWriter::domain`]), so both always land in the same commit. Probe and certificate
//! rows are sent before the domains that refer to them (a domain is judged after its probes),
//! and one task consumes the channel in order, so they are in the same or an earlier commit.
//!
//! What a kill -9 (or power loss) at any moment leaves behind, and how
//! [`crate::survey::open_for_resume`] turns it into exactly the rows of a clean run:
//! - `.tmp` files of the open commit: never visible to readers (DuckDB's `*.parquet` glob and
//!   pyarrow both skip them); resume deletes them. Their domains are scanned again.
//! - a commit cut between renames: `mx/part-N` may exist without `domains/part-N`. Resume
//!   deletes every `mx/part-N.parquet` whose `domains/part-N.parquet` does not exist, so a
//!   domain's mx rows exist exactly when its domain row does, and the domain is scanned again.
//!   `probes/part-N` / `certs/part-N` of such a commit are kept: they are valid observations.
//! - the resume index lists the committed domains (the engine skips exactly those), the
//!   committed probes (the engine reuses them instead of probing again, so every address keeps
//!   exactly one probe row) and the committed certificate hashes. The writer, seeded with the
//!   index, also drops any probe (same address and port) or certificate (same sha256) that is
//!   already written, so those tables hold one row per key whatever the engine sends
//!   (certificates by a 64-bit keyed hash of the sha256: see `CertFilter` for the odds).
//!
//! Domain rows are not deduplicated by the writer (that would cost memory per domain): the
//! engine must not send a domain that is in the resume index, and ingest deduplicates input.
//!
//! If every sender is dropped without [`WriterHandle::finish`], the task commits what it has
//! (each message is a complete unit) and marks the manifest `partial`. If the task is aborted
//! or the process dies, only `.tmp` files are lost.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::SCHEMA_VERSION;
use crate::arrays::storage_schema;
use crate::error::{Result, StoreError};
use crate::manifest::{Manifest, SurveyStatus, sync_dir};
use crate::reader::{part_name, parts, table_dir, tmp_part_name};
use crate::rows::{CertRow, Counts, DomainRow, MxRow, ProbeRow, Table, TableRow};
use crate::survey::validate_survey_id;
use crate::timestamp::rfc3339_seconds;

/// Tunables of the writer task.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Messages the channel holds before senders wait.
    pub channel_capacity: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// A commit happens when any table's open part reaches this many rows.
    pub part_max_rows: usize,
    /// A commit happens at the latest this long after the first row of the open part (the
    /// most a crash can lose).
    pub part_max_age: Duration,
    /// zstd level (1–22).
    pub zstd_level: i32,
    /// State of a resumed survey; required when the directory already holds parts.
    pub resume: Option<ResumeSeed>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            channel_capacity: 1024,
            row_group_rows: 32_768,
            part_max_rows: 500_000,
            part_max_age: Duration::from_secs(60),
            zstd_level: 3,
            resume: None,
        }
    }
}

/// What the writer needs to know about the parts a resumed survey already has
/// (from [`crate::survey::ResumeIndex::seed`]).
#[derive(Debug, Clone, Default)]
pub struct ResumeSeed {
    /// (address, port) of every committed probe.
    pub probe_keys: HashSet<(String, u16)>,
    /// sha256 of every committed certificate.
    pub cert_hashes: HashSet<String>,
    /// Status counts of the committed rows.
    pub counts: Counts,
    /// Committed rows per table.
    pub rows: BTreeMap<String, u64>,
}

/// What the writer task did in this session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// Rows committed per table in this session.
    pub rows: BTreeMap<Table, u64>,
    /// Commits made in this session.
    pub commits: u32,
    /// Probe / certificate rows dropped because their key was already written.
    pub duplicates_dropped: u64,
    /// Status written to the manifest at the end.
    pub status: Option<SurveyStatus>,
}

#[derive(Debug)]
enum Msg {
    Domain(Box<DomainRow>, Vec<MxRow>),
    Probe(Box<ProbeRow>),
    Cert(Box<CertRow>),
    Flush(oneshot::Sender<()>),
    Barrier(oneshot::Sender<()>),
    Finish(SurveyStatus),
}

/// The sending side: cheap to clone, one per engine worker if convenient.
#[derive(Debug, Clone)]
pub struct SurveyWriter {
    tx: mpsc::Sender<Msg>,
    survey_id: Arc<str>,
    certs: Arc<Mutex<CertFilter>>,
}

/// Owner of the writer task.
#[derive(Debug)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    join: tokio::task::JoinHandle<Result<WriterReport>>,
}

impl SurveyWriter {
    /// Starts the writer task for the survey in `dir` (created if needed). The manifest in
    /// `dir` is loaded (or created) and set to `running`. Must be called inside a tokio
    /// runtime. A directory with committed parts needs `opts.resume`.
    pub fn spawn(
        dir: impl Into<PathBuf>,
        survey_id: &str,
        opts: WriterOptions,
    ) -> Result<(SurveyWriter, WriterHandle)> {
        let dir = dir.into();
        validate_survey_id(survey_id)?;
        for t in Table::ALL {
            let d = table_dir(&dir, t);
            fs::create_dir_all(&d).map_err(|e| StoreError::io("create_dir", &d, e))?;
        }
        let mut next_part = 0u32;
        let mut any = false;
        let mut numbers = HashSet::new();
        for t in Table::ALL {
            for (n, _) in parts(&dir, t)? {
                any = true;
                numbers.insert(n);
                next_part = next_part.max(n + 1);
            }
        }
        if any && opts.resume.is_none() {
            return Err(StoreError::NotEmpty(dir));
        }
        let now = rfc3339_seconds(time::OffsetDateTime::now_utc());
        let mut manifest = match Manifest::load_if_exists(&dir)? {
            Some(m) if m.survey_id != survey_id => {
                return Err(StoreError::SurveyId(format!(
                    "{survey_id} (the manifest in {} says {})",
                    dir.display(),
                    m.survey_id
                )));
            }
            Some(m) => m,
            None => Manifest::new(survey_id, now.clone()),
        };
        manifest.status = SurveyStatus::Running;
        manifest.finished_at = None;
        manifest.updated_at = Some(now.clone());
        let mut seen = ProbeFilter::default();
        let mut cert_filter = CertFilter::default();
        if let Some(seed) = &opts.resume {
            manifest.resumed_at.push(now);
            manifest.counts = seed.counts.clone();
            manifest.rows = seed.rows.clone();
            // The manifest may predate the last commit (a crash between rename and rewrite).
            manifest.parts = numbers.len() as u64;
            for (address, port) in &seed.probe_keys {
                seen.probe(address, *port);
            }
            for sha in &seed.cert_hashes {
                cert_filter.insert(sha);
            }
        }
        let cert_filter = Arc::new(Mutex::new(cert_filter));
        let zstd = ZstdLevel::try_new(opts.zstd_level).map_err(|source| StoreError::Parquet {
            path: dir.clone(),
            source,
        })?;
        let row_group_rows = opts.row_group_rows.max(1);
        let props = |t: Table| {
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(zstd))
                .set_max_row_group_row_count(Some(row_group_rows))
                .set_created_by(format!("mxscan-store {}", env!("CARGO_PKG_VERSION")))
                .set_key_value_metadata(Some(vec![
                    KeyValue::new("mxscan.schema_version".into(), SCHEMA_VERSION.to_owned()),
                    KeyValue::new("mxscan.survey_id".into(), survey_id.to_owned()),
                    KeyValue::new("mxscan.table".into(), t.as_str().to_owned()),
                ]))
                .build()
        };
        let state = Box::new(State {
            certs: Buf::new(&dir, Table::Certs, props(Table::Certs)),
            probes: Buf::new(&dir, Table::Probes, props(Table::Probes)),
            mx: Buf::new(&dir, Table::Mx, props(Table::Mx)),
            domains: Buf::new(&dir, Table::Domains, props(Table::Domains)),
            dir,
            next_part,
            row_group_rows,
            part_max_rows: opts.part_max_rows.max(1),
            pending_counts: Counts::new(),
            seen,
            cert_filter: Arc::clone(&cert_filter),
            manifest,
            report: WriterReport::default(),
        });
        let (tx, rx) = mpsc::channel(opts.channel_capacity.max(1));
        let join = tokio::spawn(run(state, rx, opts.part_max_age));
        Ok((
            SurveyWriter {
                tx: tx.clone(),
                survey_id: survey_id.into(),
                certs: cert_filter,
            },
            WriterHandle { tx, join },
        ))
    }

    fn check_survey(&self, table: &'static str, id: &str) -> Result<()> {
        if id == &*self.survey_id {
            Ok(())
        } else {
            Err(StoreError::InvalidRow {
                table,
                column: "survey_id",
                reason: format!("{id:?} in a writer for {:?}", self.survey_id),
            })
        }
    }

    async fn send(&self, msg: Msg) -> Result<()> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| StoreError::WriterClosed)
    }

    /// Queues one domain: its `domains` row and all of its `mx` rows, committed together.
    /// Rows are validated here; an invalid row is an error and nothing is queued.
    pub async fn domain(&self, domain: DomainRow, mx: Vec<MxRow>) -> Result<()> {
        domain.validate()?;
        self.check_survey("domains", &domain.survey_id)?;
        for m in &mx {
            m.validate()?;
            self.check_survey("mx", &m.survey_id)?;
            if m.domain != domain.domain {
                return Err(StoreError::InvalidRow {
                    table: "mx",
                    column: "domain",
                    reason: format!("{:?} sent with domain {:?}", m.domain, domain.domain),
                });
            }
        }
        self.send(Msg::Domain(Box::new(domain), mx)).await
    }

    /// Queues one probe row. Send it before the domains whose mx rows refer to it.
    pub async fn probe(&self, row: ProbeRow) -> Result<()> {
        row.validate()?;
        self.check_survey("probes", &row.survey_id)?;
        self.send(Msg::Probe(Box::new(row))).await
    }

    /// Queues one certificate row. A certificate (by sha256) already queued or committed is
    /// dropped here, counted in [`WriterReport::duplicates_dropped`].
    pub async fn cert(&self, row: CertRow) -> Result<()> {
        row.validate()?;
        self.check_survey("certs", &row.survey_id)?;
        {
            let mut certs = self.certs.lock().expect("cert filter poisoned");
            if !certs.insert(&row.sha256) {
                certs.dropped += 1;
                return Ok(());
            }
        }
        self.send(Msg::Cert(Box::new(row))).await
    }

    /// Whether the certificate with this SHA-256 is already queued or committed (a row for
    /// it would be dropped): lets a caller skip building the row.
    pub fn knows_cert(&self, sha256: &[u8; 32]) -> bool {
        self.certs
            .lock()
            .expect("cert filter poisoned")
            .contains(sha256)
    }

    /// Commits everything queued before this call; returns when the files are renamed.
    pub async fn flush(&self) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.send(Msg::Flush(ack)).await?;
        done.await.map_err(|_| StoreError::WriterClosed)
    }

    /// Returns once the task has taken in everything sent before this call (buffered it or
    /// written it to the open part) WITHOUT committing. Tests use it to stop the writer at a
    /// known point; the engine has no need for it.
    pub async fn barrier(&self) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.send(Msg::Barrier(ack)).await?;
        done.await.map_err(|_| StoreError::WriterClosed)
    }

    /// The survey id this writer writes.
    pub fn survey_id(&self) -> &str {
        &self.survey_id
    }
}

impl WriterHandle {
    /// Commits everything, writes the manifest with `status` and `finished_at`, and waits for
    /// the task. Messages other senders queue after this are refused.
    pub async fn finish(self, status: SurveyStatus) -> Result<WriterReport> {
        // If the task is gone the send fails; the join below then reports why.
        let _ = self.tx.send(Msg::Finish(status)).await;
        drop(self.tx);
        join(self.join).await
    }

    /// Waits for the task to end on its own (every sender dropped: commit, status `partial`).
    pub async fn join(self) -> Result<WriterReport> {
        drop(self.tx);
        join(self.join).await
    }

    /// Kills the task where it is (tests use this to simulate a crash): the open part stays a
    /// `.tmp` file.
    pub fn abort(self) {
        self.join.abort();
    }
}

async fn join(h: tokio::task::JoinHandle<Result<WriterReport>>) -> Result<WriterReport> {
    match h.await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Join(e.to_string())),
    }
}

async fn blocking(
    st: Box<State>,
    f: impl FnOnce(&mut State) -> Result<()> + Send + 'static,
) -> Result<Box<State>> {
    tokio::task::spawn_blocking(move || {
        let mut st = st;
        f(&mut st).map(|()| st)
    })
    .await
    .map_err(|e| StoreError::Join(e.to_string()))?
}

async fn run(
    mut st: Box<State>,
    mut rx: mpsc::Receiver<Msg>,
    max_age: Duration,
) -> Result<WriterReport> {
    st = blocking(st, |s| s.store_manifest()).await?;
    let mut deadline: Option<Instant> = None;
    loop {
        let msg = match deadline {
            None => rx.recv().await,
            Some(d) => tokio::select! {
                m = rx.recv() => m,
                () = tokio::time::sleep_until(d) => {
                    st = blocking(st, State::commit).await?;
                    deadline = None;
                    continue;
                }
            },
        };
        match msg {
            Some(Msg::Domain(d, mx)) => st.push_domain(*d, mx),
            Some(Msg::Probe(p)) => st.push_probe(*p),
            Some(Msg::Cert(c)) => st.push_cert(*c),
            Some(Msg::Flush(ack)) => {
                st = blocking(st, State::commit).await?;
                deadline = None;
                let _ = ack.send(());
                continue;
            }
            Some(Msg::Barrier(ack)) => {
                let _ = ack.send(());
                continue;
            }
            Some(Msg::Finish(status)) => {
                rx.close();
                st = blocking(st, move |s| s.finish(status)).await?;
                return Ok(st.report);
            }
            None => {
                st = blocking(st, |s| s.finish(SurveyStatus::Partial)).await?;
                return Ok(st.report);
            }
        }
        if st.part_rows() >= st.part_max_rows {
            st = blocking(st, State::commit).await?;
            deadline = None;
        } else {
            if deadline.is_none() && st.part_rows() > 0 {
                deadline = Some(Instant::now() + max_age);
            }
            if st.row_group_ready() {
                st = blocking(st, |s| s.write_row_groups(false)).await?;
            }
        }
    }
}

/// One table's open part: buffered rows and the `.tmp` file once a row group was written.
struct Buf<R> {
    table: Table,
    dir: PathBuf,
    props: WriterProperties,
    rows: Vec<R>,
    file: Option<(ArrowWriter<File>, PathBuf)>,
    part_rows: usize,
}

impl<R: TableRow> Buf<R> {
    fn new(survey_dir: &Path, table: Table, props: WriterProperties) -> Self {
        Buf {
            table,
            dir: table_dir(survey_dir, table),
            props,
            rows: Vec::new(),
            file: None,
            part_rows: 0,
        }
    }

    fn push(&mut self, r: R) {
        self.rows.push(r);
        self.part_rows += 1;
    }

    /// Writes buffered rows as row groups: full groups only, or everything with `all`.
    fn write_row_groups(&mut self, group: usize, all: bool, part: u32) -> Result<()> {
        while self.rows.len() >= group || (all && !self.rows.is_empty()) {
            let take = self.rows.len().min(group);
            let chunk: Vec<R> = self.rows.drain(..take).collect();
            let batch = crate::arrays::to_storage(R::to_batch(&chunk)?)?;
            if self.file.is_none() {
                let path = self.dir.join(tmp_part_name(part));
                let f = File::create(&path).map_err(|e| StoreError::io("create", &path, e))?;
                let schema: SchemaRef = storage_schema(&self.table.schema());
                let w = ArrowWriter::try_new(f, schema, Some(self.props.clone())).map_err(
                    |source| StoreError::Parquet {
                        path: path.clone(),
                        source,
                    },
                )?;
                self.file = Some((w, path));
            }
            let (w, path) = self.file.as_mut().expect("opened above");
            let pq = |source| StoreError::Parquet {
                path: path.clone(),
                source,
            };
            w.write(&batch).map_err(pq)?;
            w.flush().map_err(pq)?;
        }
        Ok(())
    }

    /// Closes and fsyncs the `.tmp` file; returns (tmp, final) paths if the part has rows.
    fn close(&mut self, part: u32) -> Result<Option<(PathBuf, PathBuf)>> {
        let Some((w, tmp)) = self.file.take() else {
            return Ok(None);
        };
        let f = w.into_inner().map_err(|source| StoreError::Parquet {
            path: tmp.clone(),
            source,
        })?;
        f.sync_all().map_err(|e| StoreError::io("fsync", &tmp, e))?;
        Ok(Some((tmp, self.dir.join(part_name(part)))))
    }
}

/// The writer's probe filter. It lives as long as the survey and holds one key per probed
/// address (426k at 1M domains), so keys are binary and inline: an IPv4 probe key is
/// 8 bytes. An address not in the canonical form the engine writes is kept as text, so that
/// no row is ever dropped on a false match of a malformed key. (Certificates: [`CertFilter`].)
#[derive(Debug, Default)]
struct ProbeFilter {
    probes4: HashSet<(u32, u16)>,
    probes6: HashSet<(u128, u16)>,
    probes_text: HashSet<(Box<str>, u16)>,
}

/// The certificates queued or committed: shared by every [`SurveyWriter`] and the task, so
/// that a caller can ask [`SurveyWriter::knows_cert`] before it builds a row (the engine,
/// which would otherwise keep a second set of the same keys).
///
/// A certificate is remembered as a 64-bit keyed hash (SipHash, random key per survey) of
/// its SHA-256: 9 bytes per certificate instead of 33. This is the trade ingest's duplicate
/// filter makes for domains: a false match among n certificates has probability
/// ≈ n² / 2⁶⁵ (≈ 2·10⁻⁹ per survey at 270k certificates, the 1M-domain bench) and would drop
/// one `certs` row, never a probe or domain row. Rows whose hash is not 64 lowercase hex
/// digits are kept as exact text.
#[derive(Debug, Default)]
struct CertFilter {
    keys: HashSet<u64>,
    hasher: std::hash::RandomState,
    text: HashSet<Box<str>>,
    /// Rows dropped as duplicates.
    dropped: u64,
}

impl CertFilter {
    fn key(&self, sha256: &[u8; 32]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(sha256)
    }

    /// True if the certificate with this `certs.sha256` (64 lowercase hex digits) was not
    /// seen before.
    fn insert(&mut self, sha256_hex: &str) -> bool {
        let mut bin = [0u8; 32];
        match hex::decode_to_slice(sha256_hex, &mut bin) {
            Ok(()) if !sha256_hex.bytes().any(|b| b.is_ascii_uppercase()) => {
                let key = self.key(&bin);
                self.keys.insert(key)
            }
            _ => self.text.insert(sha256_hex.into()),
        }
    }

    fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.keys.contains(&self.key(sha256))
    }
}

impl ProbeFilter {
    /// True if (`address`, `port`) was not seen before.
    fn probe(&mut self, address: &str, port: u16) -> bool {
        // Only the canonical spelling maps to a binary key ("::1" and "0::1" stay apart).
        match address.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) if ip.to_string() == address => {
                self.probes4.insert((ip.to_bits(), port))
            }
            Ok(IpAddr::V6(ip)) if ip.to_string() == address => {
                self.probes6.insert((ip.to_bits(), port))
            }
            _ => self.probes_text.insert((address.into(), port)),
        }
    }
}

struct State {
    dir: PathBuf,
    next_part: u32,
    row_group_rows: usize,
    part_max_rows: usize,
    certs: Buf<CertRow>,
    probes: Buf<ProbeRow>,
    mx: Buf<MxRow>,
    domains: Buf<DomainRow>,
    pending_counts: Counts,
    seen: ProbeFilter,
    cert_filter: Arc<Mutex<CertFilter>>,
    manifest: Manifest,
    report: WriterReport,
}

impl State {
    fn push_domain(&mut self, d: DomainRow, mx: Vec<MxRow>) {
        d.count(&mut self.pending_counts);
        for m in mx {
            m.count(&mut self.pending_counts);
            self.mx.push(m);
        }
        self.domains.push(d);
    }

    fn push_probe(&mut self, p: ProbeRow) {
        if self.seen.probe(&p.address, p.port) {
            p.count(&mut self.pending_counts);
            self.probes.push(p);
        } else {
            self.report.duplicates_dropped += 1;
        }
    }

    /// Certificate rows arrive deduplicated by [`SurveyWriter::cert`].
    fn push_cert(&mut self, c: CertRow) {
        self.certs.push(c);
    }

    fn part_rows(&self) -> usize {
        self.certs
            .part_rows
            .max(self.probes.part_rows)
            .max(self.mx.part_rows)
            .max(self.domains.part_rows)
    }

    fn row_group_ready(&self) -> bool {
        let g = self.row_group_rows;
        self.certs.rows.len() >= g
            || self.probes.rows.len() >= g
            || self.mx.rows.len() >= g
            || self.domains.rows.len() >= g
    }

    fn write_row_groups(&mut self, all: bool) -> Result<()> {
        let (g, n) = (self.row_group_rows, self.next_part);
        self.certs.write_row_groups(g, all, n)?;
        self.probes.write_row_groups(g, all, n)?;
        self.mx.write_row_groups(g, all, n)?;
        self.domains.write_row_groups(g, all, n)
    }

    /// One commit (see the module docs): close every open part, then rename in table order.
    fn commit(&mut self) -> Result<()> {
        if self.part_rows() == 0 {
            return Ok(());
        }
        self.write_row_groups(true)?;
        let n = self.next_part;
        let closed = [
            self.certs.close(n)?,
            self.probes.close(n)?,
            self.mx.close(n)?,
            self.domains.close(n)?,
        ];
        for (tmp, fin) in closed.iter().flatten() {
            fs::rename(tmp, fin).map_err(|e| StoreError::io("rename", tmp, e))?;
            sync_dir(fin.parent().unwrap_or(&self.dir))?;
        }
        let counts = [
            (Table::Certs, self.certs.part_rows),
            (Table::Probes, self.probes.part_rows),
            (Table::Mx, self.mx.part_rows),
            (Table::Domains, self.domains.part_rows),
        ];
        for (t, rows) in counts {
            *self.report.rows.entry(t).or_default() += rows as u64;
            *self.manifest.rows.entry(t.as_str().to_owned()).or_default() += rows as u64;
        }
        self.certs.part_rows = 0;
        self.probes.part_rows = 0;
        self.mx.part_rows = 0;
        self.domains.part_rows = 0;
        for (col, values) in std::mem::take(&mut self.pending_counts) {
            let entry = self.manifest.counts.entry(col).or_default();
            for (v, c) in values {
                *entry.entry(v).or_default() += c;
            }
        }
        self.next_part += 1;
        self.report.commits += 1;
        self.manifest.parts += 1;
        self.store_manifest()
    }

    fn finish(&mut self, status: SurveyStatus) -> Result<()> {
        self.commit()?;
        let now = rfc3339_seconds(time::OffsetDateTime::now_utc());
        self.manifest.status = status;
        self.manifest.finished_at = Some(now);
        self.report.status = Some(status);
        self.report.duplicates_dropped += self.cert_filter.lock().map_or(0, |f| f.dropped);
        self.store_manifest()
    }

    fn store_manifest(&mut self) -> Result<()> {
        self.manifest.updated_at = Some(rfc3339_seconds(time::OffsetDateTime::now_utc()));
        self.manifest.store(&self.dir)
    }
}

#[cfg(test)]
mod key_tests {
    use super::{CertFilter, ProbeFilter};

    #[test]
    fn probe_keys_are_exact_per_spelling_and_port() {
        let mut seen = ProbeFilter::default();
        assert!(seen.probe("127.1.2.3", 25));
        assert!(!seen.probe("127.1.2.3", 25));
        assert!(seen.probe("127.1.2.3", 2525));
        assert!(seen.probe("2001:db8::1", 25));
        assert!(!seen.probe("2001:db8::1", 25));
        assert!(seen.probe("::1", 25));
        assert!(
            seen.probe("0::1", 25),
            "a non-canonical spelling is its own key"
        );
        assert!(seen.probe("not-an-ip", 25));
        assert!(!seen.probe("not-an-ip", 25));
        assert_eq!(seen.probes4.len(), 2);
        assert_eq!(seen.probes6.len(), 2);
    }

    #[test]
    fn cert_keys_decode_lowercase_hex_only() {
        let mut certs = CertFilter::default();
        let h = "ab".repeat(32);
        assert!(certs.insert(&h));
        assert!(!certs.insert(&h));
        assert!(
            certs.insert(&h.to_uppercase()),
            "not the contract's spelling: kept apart"
        );
        assert!(certs.insert("abc"));
        assert_eq!((certs.keys.len(), certs.text.len()), (1, 2));
        assert!(certs.contains(&[0xab; 32]));
        assert!(!certs.contains(&[0xac; 32]));
        // Hashes that differ only late (as synthetic ones do) are distinct keys.
        let mut late = [0u8; 32];
        for i in 0..1000u16 {
            late[30..].copy_from_slice(&i.to_be_bytes());
            assert!(certs.insert(&hex::encode(late)));
        }
        assert_eq!(certs.keys.len(), 1001);
    }
}
