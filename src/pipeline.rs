//! The pipeline: request bytes → Parquet objects. [`process`] is the one
//! entry point the Worker, the CLI and the tests call; its stages are public
//! so that benches time exactly what it runs:
//!
//! body (limits, gzip) → [`decode`] (protobuf | JSON) → [`plan`] (rows
//! sorted and split by table and hour) → [`Plan::batches`] (pre-sized Arrow
//! builders, [`CHUNK_ROWS`] at a time) → [`write`](mod@crate::write) (Parquet) → key (name).
//!
//! Pure: no I/O, no clock, no globals. The whole output is built in memory
//! before it is returned, so a failure anywhere means nothing is written.

use arrow_array::RecordBatch;
use arrow_schema::TimeUnit;

use crate::batch::{self, Context, Row};
use crate::body::{self, Encoding};
use crate::decode::{self, Budget};
use crate::error::{Error, Result};
use crate::key;
use crate::model::{LogsRequest, MetricsRequest, TracesRequest};
use crate::schema::Table;
use crate::write;

// The defaults keep the largest accepted request well under a Worker's
// 128 MB: measured with dhat (docs/performance.md, "Peak memory"), an 8 MiB
// protobuf logs request (24k records) peaks at 25 MiB of heap besides its
// body, a 16 MiB one at 39 MiB (in WASM a 9.9 MiB one peaks at 34 MiB).

/// Default cap on the request body as received (possibly gzip): 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;
/// Default cap on the inflated body: 8 MiB.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 8 << 20;
/// Default cap on the decoded model's memory: 24 MiB (an 8 MiB realistic
/// logs request needs about 13 MiB; this stops requests of many tiny records).
pub const DEFAULT_MAX_DECODED_BYTES: usize = 24 << 20;
/// Default cap on the Arrow columns planned for the whole request, summed
/// over its files and their [`CHUNK_ROWS`]-row chunks: 48 MiB (an 8 MiB
/// realistic logs request plans about 15 MiB; this stops small requests whose
/// shared values — resource attributes, schema URLs — repeat on many rows,
/// before they cost much memory or CPU).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 48 << 20;
/// Default cap on the files one request writes (one per table and UTC hour
/// it touches): 64. Each is a Parquet encode and an R2 put.
pub const DEFAULT_MAX_OBJECTS: usize = 64;

/// The three OTLP signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `/v1/logs`: `ExportLogsServiceRequest`.
    Logs,
    /// `/v1/traces`: `ExportTraceServiceRequest`.
    Traces,
    /// `/v1/metrics`: `ExportMetricsServiceRequest`.
    Metrics,
}

impl Signal {
    /// `logs`, `traces` or `metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }

    /// Parses `logs`, `traces` or `metrics`.
    pub fn from_name(name: &str) -> Option<Signal> {
        match name {
            "logs" => Some(Signal::Logs),
            "traces" => Some(Signal::Traces),
            "metrics" => Some(Signal::Metrics),
            _ => None,
        }
    }
}

/// Size limits, all checked before or during the work they bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The body as received. Default [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// The body after gzip inflation (or as is). Default [`DEFAULT_MAX_INFLATED_BYTES`].
    pub max_inflated_bytes: usize,
    /// Memory of the decoded request model. Default [`DEFAULT_MAX_DECODED_BYTES`].
    pub max_decoded_bytes: usize,
    /// Arrow memory planned for the whole request (the sum over its files'
    /// chunks; one chunk is built at a time). Default [`DEFAULT_MAX_OUTPUT_BYTES`].
    pub max_output_bytes: usize,
    /// Files per request. Default [`DEFAULT_MAX_OBJECTS`].
    pub max_objects: usize,
}

impl Limits {
    /// No limits at all (the native CLI, benches).
    pub const UNLIMITED: Limits = Limits {
        max_body_bytes: usize::MAX,
        max_inflated_bytes: usize::MAX,
        max_decoded_bytes: usize::MAX,
        max_output_bytes: usize::MAX,
        max_objects: usize::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_objects: DEFAULT_MAX_OBJECTS,
        }
    }
}

/// Pipeline options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Size limits; [`Limits::default`] protects a Worker isolate.
    pub limits: Limits,
    /// Unit of every timestamp column: nanoseconds (default) or microseconds
    /// for engines that cannot read nanosecond Parquet timestamps.
    pub timestamp_unit: TimeUnit,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            timestamp_unit: TimeUnit::Nanosecond,
        }
    }
}

/// One export request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Which export request the body holds.
    pub signal: Signal,
    /// Protobuf or OTLP/JSON.
    pub encoding: Encoding,
    /// The body is gzip-compressed (`Content-Encoding: gzip`).
    pub gzip: bool,
    /// The body as received.
    pub body: &'a [u8],
}

/// One Parquet file to store.
#[derive(Debug, Clone)]
pub struct Object {
    /// Where it goes: see [`crate::key::object_key`].
    pub key: String,
    /// The file's table.
    pub table: Table,
    /// Rows in the file.
    pub rows: usize,
    /// The Parquet bytes.
    pub data: Vec<u8>,
}

/// The result of a request: the objects to store and what was counted.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Files to store, ordered by table then hour. Empty when the request
    /// held no records.
    pub objects: Vec<Object>,
    /// Rows written (log records, spans or data points).
    pub records: usize,
    /// Items rejected and not written (metrics without data points).
    pub rejected: usize,
    /// Why items were rejected, for OTLP partial success.
    pub rejected_message: Option<String>,
    /// Body bytes as received.
    pub bytes_in: usize,
}

impl Output {
    /// Total Parquet bytes.
    pub fn bytes_out(&self) -> usize {
        self.objects.iter().map(|o| o.data.len()).sum()
    }
}

/// Runs the whole pipeline on one request: [`decode`] → [`plan`] → for each
/// file, [`Plan::batches`] a chunk at a time → [`write`](mod@crate::write) → [`key`] names.
pub fn process(req: &Request<'_>, opts: &Options) -> Result<Output> {
    let limits = &opts.limits;
    let body = body::prepare(
        req.body,
        req.gzip,
        limits.max_body_bytes,
        limits.max_inflated_bytes,
    )?;
    process_inflated(req.signal, req.encoding, &body, req.body.len(), opts, None)
}

/// What a request holds, told to a memory budget as the pipeline learns it
/// (the Worker's [`crate::http::admission`]): the budget charged the body at
/// a measured multiple of its bytes, which holds for real requests, but a
/// small request of an unusual shape (shared values repeated on many rows,
/// or rendered larger) can take more within the limits. `charge` is called
/// with the request's bytes so far (`held`, the decoded model, the rendered
/// shared values, every batch planned), before the work that needs them;
/// false refuses the request with [`Error::Busy`].
#[derive(Clone, Copy)]
pub struct Meter<'a> {
    /// Bytes the request held before the pipeline started (its body, and
    /// its inflated copy).
    pub held: usize,
    /// Charges the request's bytes so far; false when they do not fit.
    pub charge: &'a dyn Fn(usize) -> bool,
}

/// What a [`Meter`] charges per byte the decoder's budget and the batches'
/// plans count, as a fraction: 3/2. They count the decoded model and the
/// Arrow columns; the rest of the heap's peak (page buffers, dictionaries,
/// the sort's rows, the files' bytes) was up to 39 % of them on requests of
/// 8,192 records (test `the_meter_bounds_the_heap_peak`, which checks that
/// the charge is at least the peak and at most twice it; 2026-12-03).
const METER_SCALE: (u64, u64) = (3, 2);

impl Meter<'_> {
    /// Charges `bytes` (as counted by the budget and the plans) beyond what
    /// the request held.
    pub(crate) fn charge(&self, bytes: u64) -> Result<()> {
        let scaled = bytes.saturating_mul(METER_SCALE.0) / METER_SCALE.1;
        let total = (self.held as u64).saturating_add(scaled);
        if (self.charge)(usize::try_from(total).unwrap_or(usize::MAX)) {
            Ok(())
        } else {
            Err(Error::Busy { bytes: total })
        }
    }
}

/// [`process`] after the body was inflated (or checked, when plain) by
/// [`body::prepare`]: the request handler inflates first to charge the
/// inflated size to its memory budget, then passes a [`Meter`] for the
/// rest. `bytes_in` is the body as received.
pub fn process_inflated(
    signal: Signal,
    encoding: Encoding,
    body: &[u8],
    bytes_in: usize,
    opts: &Options,
    meter: Option<Meter<'_>>,
) -> Result<Output> {
    let limits = &opts.limits;
    let hash = key::request_hash(signal.name(), body);
    // The meter hears of the model as it grows, not only once it is whole:
    // a body of tiny records decodes to many times its size.
    let tell = |used: u64| meter.as_ref().map_or(Ok(()), |m| m.charge(used));
    let budget = match meter {
        Some(_) => Budget::metered(limits.max_decoded_bytes, &tell),
        None => Budget::new(limits.max_decoded_bytes),
    };
    let model = decode_in(signal, encoding, body, &budget)?;
    let decoded = budget.used() as u64;
    let plan = plan_metered(&model, limits, meter.map(|m| (m, decoded)))?;
    let mut out = Output {
        rejected: plan.rejected,
        rejected_message: plan.rejected_message.clone(),
        bytes_in,
        ..Default::default()
    };
    // Each file's pages are encoded while the model is there to build its
    // batches; its bytes are laid out once the model is gone, in the room
    // it leaves (in a Worker, linear memory need not grow for them).
    let mut files = Vec::with_capacity(plan.files().len());
    for file in plan.files() {
        let closed = encode(file.table, plan.batches(file, opts.timestamp_unit))?;
        let key = key::object_key(file.table, file.first_time(), hash);
        files.push((key, file.table, file.rows(), closed));
    }
    drop(plan);
    drop(model);
    for (key, table, rows, closed) in files {
        out.objects.push(Object {
            key,
            table,
            rows,
            data: closed.into_bytes()?,
        });
        out.records += rows;
    }
    Ok(out)
}

/// A decoded request: the output of [`decode`], borrowing the body.
#[derive(Debug)]
pub enum Model<'a> {
    /// A logs request.
    Logs(LogsRequest<'a>),
    /// A traces request.
    Traces(TracesRequest<'a>),
    /// A metrics request.
    Metrics(MetricsRequest<'a>),
}

/// Stage 1: decodes an (inflated) body of `signal` in `encoding`, its memory
/// charged against [`Limits::max_decoded_bytes`].
pub fn decode<'a>(
    signal: Signal,
    encoding: Encoding,
    body: &'a [u8],
    limits: &Limits,
) -> Result<Model<'a>> {
    decode_in(
        signal,
        encoding,
        body,
        &Budget::new(limits.max_decoded_bytes),
    )
}

/// [`decode`] against `budget`, which then says what the model took.
fn decode_in<'a>(
    signal: Signal,
    encoding: Encoding,
    body: &'a [u8],
    budget: &Budget,
) -> Result<Model<'a>> {
    Ok(match (signal, encoding) {
        (Signal::Logs, Encoding::Protobuf) => Model::Logs(decode::proto::logs(body, budget)?),
        (Signal::Logs, Encoding::Json) => Model::Logs(decode::json::logs(body, budget)?),
        (Signal::Traces, Encoding::Protobuf) => Model::Traces(decode::proto::traces(body, budget)?),
        (Signal::Traces, Encoding::Json) => Model::Traces(decode::json::traces(body, budget)?),
        (Signal::Metrics, Encoding::Protobuf) => {
            Model::Metrics(decode::proto::metrics(body, budget)?)
        }
        (Signal::Metrics, Encoding::Json) => Model::Metrics(decode::json::metrics(body, budget)?),
    })
}

/// Rows built into Arrow and encoded at a time within one file: bounds the
/// Arrow memory of a file, whatever its size (the OTel Collector's default
/// batch size, so most requests are one chunk).
pub const CHUNK_ROWS: usize = 8192;

/// One file to write: a table's rows of one UTC hour, sorted.
#[derive(Debug)]
pub struct PlannedFile {
    /// The file's table.
    pub table: Table,
    /// Index of the table's rows in the plan.
    list: usize,
    /// The file's rows within them.
    range: std::ops::Range<usize>,
    first_time: u64,
}

impl PlannedFile {
    /// Rows in the file.
    pub fn rows(&self) -> usize {
        self.range.len()
    }

    /// The earliest row time (Unix nanoseconds), which names the file.
    pub fn first_time(&self) -> u64 {
        self.first_time
    }
}

/// Stage 2: a decoded request's rows, listed, sorted by each table's sort key
/// and split into files by hour, with the per-request context the builders
/// share. Cheap: index tuples, no values copied.
pub struct Plan<'m> {
    model: &'m Model<'m>,
    ctx: Context<'m>,
    /// Each table's sorted rows.
    rows: Vec<Vec<Row>>,
    files: Vec<PlannedFile>,
    /// Items rejected and not written (metrics without data points).
    pub rejected: usize,
    /// Why items were rejected, for OTLP partial success.
    pub rejected_message: Option<String>,
}

/// Stage 2: lists and sorts the rows of `model` into files, and checks the
/// file count against [`Limits::max_objects`] before any is built.
pub fn plan<'m>(model: &'m Model<'m>, limits: &Limits) -> Result<Plan<'m>> {
    plan_metered(model, limits, None)
}

/// [`plan`], its rendered shared values and every batch it plans charged to
/// `meter` on top of `decoded`, the model's bytes.
fn plan_metered<'m>(
    model: &'m Model<'m>,
    limits: &Limits,
    meter: Option<(Meter<'m>, u64)>,
) -> Result<Plan<'m>> {
    let limit = limits.max_output_bytes;
    let (ctx, tables, rejected, rejected_message) = match model {
        Model::Logs(m) => {
            let ctx = Context::limited(m, Table::Logs.name(), limit, meter, true)?;
            let rows = batch::logs::rows(m, &ctx);
            (ctx, vec![(Table::Logs, rows)], 0, None)
        }
        Model::Traces(m) => {
            let ctx = Context::limited(m, Table::Traces.name(), limit, meter, false)?;
            let rows = batch::traces::rows(m, &ctx);
            (ctx, vec![(Table::Traces, rows)], 0, None)
        }
        Model::Metrics(m) => {
            // The metrics tables share the request's context.
            let ctx = Context::limited(m, "otel_metrics_*", limit, meter, true)?;
            let mut rows = batch::metrics::rows(m, &ctx);
            let message = rows.first_rejected.take().map(|name| {
                format!(
                    "{} metric(s) had no data points and were dropped (first: {name:?})",
                    rows.rejected
                )
            });
            let tables = Table::ALL[2..]
                .iter()
                .map(|t| (*t, std::mem::take(rows.of(*t))))
                .collect();
            (ctx, tables, rows.rejected, message)
        }
    };
    let mut plan = Plan {
        model,
        ctx,
        rows: Vec::with_capacity(tables.len()),
        files: Vec::new(),
        rejected,
        rejected_message,
    };
    for (list, (table, mut rows)) in tables.into_iter().enumerate() {
        for range in batch::sort_rows(&mut rows) {
            let first_time = rows[range.clone()]
                .iter()
                .map(|r| r.time)
                .min()
                .unwrap_or(0);
            plan.files.push(PlannedFile {
                table,
                list,
                range,
                first_time,
            });
        }
        plan.rows.push(rows);
    }
    let count = plan.files.len();
    if count > limits.max_objects {
        return Err(crate::Error::TooManyObjects {
            count,
            limit: limits.max_objects,
        });
    }
    Ok(plan)
}

impl<'m> Plan<'m> {
    /// The files to write, ordered by table then hour. Empty when the
    /// request held no rows.
    pub fn files(&self) -> &[PlannedFile] {
        &self.files
    }

    /// Stage 3: `file`'s Arrow batches, built one [`CHUNK_ROWS`] chunk at a
    /// time as the iterator is advanced (so one chunk's columns are in
    /// memory at a time), timestamps in `unit`.
    pub fn batches<'p>(
        &'p self,
        file: &'p PlannedFile,
        unit: TimeUnit,
    ) -> impl Iterator<Item = Result<RecordBatch>> + 'p {
        let rows = &self.rows[file.list][file.range.clone()];
        rows.chunks(CHUNK_ROWS)
            .map(move |chunk| self.build(file.table, chunk, unit))
    }

    /// Every file's batches, built in full: for benches and tests that time
    /// or inspect the transform stage alone.
    pub fn all_batches(&self, unit: TimeUnit) -> Result<Vec<(Table, Vec<RecordBatch>)>> {
        self.files
            .iter()
            .map(|f| Ok((f.table, self.batches(f, unit).collect::<Result<_>>()?)))
            .collect()
    }

    fn build(&self, table: Table, rows: &[Row], unit: TimeUnit) -> Result<RecordBatch> {
        match self.model {
            Model::Logs(m) => batch::logs::build(m, &self.ctx, rows, unit),
            Model::Traces(m) => batch::traces::build(m, &self.ctx, rows, unit),
            Model::Metrics(m) => batch::metrics::build(m, &self.ctx, table, rows, unit),
        }
    }
}

/// Stage 4: encodes one file of `table` from its batches, each written and
/// dropped before the next is built. No batch at all: an empty file is
/// never written, so this is an internal error.
pub fn write(
    table: Table,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<Vec<u8>> {
    encode(table, batches)?.into_bytes()
}

/// [`write`] up to the file's encoded column chunks (see
/// [`write::FileWriter::close`]).
fn encode(
    table: Table,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<write::Closed> {
    let mut file: Option<write::FileWriter> = None;
    for batch in batches {
        let batch = batch?;
        match file.as_mut() {
            Some(f) => f.write(&batch)?,
            None => {
                let mut f = write::FileWriter::new(table, &batch.schema())?;
                f.write(&batch)?;
                file = Some(f);
            }
        }
    }
    file.ok_or(crate::Error::Internal("a planned file has no rows"))?
        .close()
}
