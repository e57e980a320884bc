//! The pipeline: request bytes → Parquet objects. The one entry point the
//! Worker, the CLI, the tests and the benches all call.
//!
//! body (limits, gzip) → decode (protobuf | JSON) → rows (sort, split by
//! hour) → batch (pre-sized Arrow builders) → write (Parquet) → key (name).
//!
//! Pure: no I/O, no clock, no globals. The whole output is built in memory
//! before it is returned, so a failure anywhere means nothing is written.

use arrow_array::RecordBatch;
use arrow_schema::TimeUnit;

use crate::batch::{self, Context, Row};
use crate::body::{self, Encoding};
use crate::decode::{self, Budget};
use crate::error::Result;
use crate::key;
use crate::schema::Table;
use crate::write;

// The defaults keep the largest accepted request well under a Worker's
// 128 MB: measured with dhat (docs/performance.md, "Peak memory"), an 8 MiB
// protobuf logs request (24k records) peaks at 25 MiB of heap besides its
// body, a 16 MiB one at 39 MiB (in WASM a 9.9 MiB one peaks at 37 MiB).

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
    Logs,
    Traces,
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
    pub signal: Signal,
    pub encoding: Encoding,
    pub gzip: bool,
    pub body: &'a [u8],
}

/// One Parquet file to store.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub table: Table,
    pub rows: usize,
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
    /// Body bytes after inflation.
    pub bytes_inflated: usize,
}

impl Output {
    /// Total Parquet bytes.
    pub fn bytes_out(&self) -> usize {
        self.objects.iter().map(|o| o.data.len()).sum()
    }
}

/// Runs the whole pipeline on one request.
pub fn process(req: &Request<'_>, opts: &Options) -> Result<Output> {
    let limits = &opts.limits;
    let body = body::prepare(
        req.body,
        req.gzip,
        limits.max_body_bytes,
        limits.max_inflated_bytes,
    )?;
    let hash = key::request_hash(req.signal.name(), &body);
    let budget = Budget::new(limits.max_decoded_bytes);
    let unit = opts.timestamp_unit;
    let mut out = Output {
        bytes_in: req.body.len(),
        bytes_inflated: body.len(),
        ..Default::default()
    };
    let max_objects = limits.max_objects;
    match (req.signal, req.encoding) {
        (Signal::Logs, enc) => {
            let model = match enc {
                Encoding::Protobuf => decode::proto::logs(&body, &budget)?,
                Encoding::Json => decode::json::logs(&body, &budget)?,
            };
            let ctx = Context::new(&model).with_max_output_bytes(limits.max_output_bytes);
            let plan = vec![Planned::new(Table::Logs, batch::logs::rows(&model, &ctx))];
            emit(&mut out, plan, max_objects, hash, |_, r| {
                batch::logs::build(&model, &ctx, r, unit)
            })?;
        }
        (Signal::Traces, enc) => {
            let model = match enc {
                Encoding::Protobuf => decode::proto::traces(&body, &budget)?,
                Encoding::Json => decode::json::traces(&body, &budget)?,
            };
            let ctx = Context::new(&model).with_max_output_bytes(limits.max_output_bytes);
            let plan = vec![Planned::new(
                Table::Traces,
                batch::traces::rows(&model, &ctx),
            )];
            emit(&mut out, plan, max_objects, hash, |_, r| {
                batch::traces::build(&model, &ctx, r, unit)
            })?;
        }
        (Signal::Metrics, enc) => {
            let model = match enc {
                Encoding::Protobuf => decode::proto::metrics(&body, &budget)?,
                Encoding::Json => decode::json::metrics(&body, &budget)?,
            };
            let ctx = Context::new(&model).with_max_output_bytes(limits.max_output_bytes);
            let mut rows = batch::metrics::rows(&model, &ctx);
            out.rejected = rows.rejected;
            out.rejected_message = rows.first_rejected.take().map(|name| {
                format!(
                    "{} metric(s) had no data points and were dropped (first: {name:?})",
                    rows.rejected
                )
            });
            let plan = Table::ALL[2..]
                .iter()
                .map(|t| Planned::new(*t, std::mem::take(rows.of(*t))))
                .collect();
            emit(&mut out, plan, max_objects, hash, |t, r| {
                batch::metrics::build(&model, &ctx, t, r, unit)
            })?;
        }
    }
    Ok(out)
}

/// Rows built into Arrow and encoded at a time within one file: bounds the
/// Arrow memory of a file, whatever its size (the OTel Collector's default
/// batch size, so most requests are one chunk).
pub const CHUNK_ROWS: usize = 8192;

/// One table's rows, sorted, with their hour runs.
struct Planned {
    table: Table,
    rows: Vec<Row>,
    runs: Vec<std::ops::Range<usize>>,
}

impl Planned {
    fn new(table: Table, mut rows: Vec<Row>) -> Self {
        let runs = batch::sort_rows(&mut rows);
        Planned { table, rows, runs }
    }
}

/// Checks the file count, then builds, writes and names one file per table
/// and hour.
fn emit(
    out: &mut Output,
    plan: Vec<Planned>,
    max_objects: usize,
    hash: u128,
    build: impl Fn(Table, &[Row]) -> Result<RecordBatch>,
) -> Result<()> {
    let count: usize = plan.iter().map(|p| p.runs.len()).sum();
    if count > max_objects {
        return Err(crate::Error::TooManyObjects {
            count,
            limit: max_objects,
        });
    }
    for p in plan {
        for run in p.runs {
            let hour = &p.rows[run];
            let first = hour.iter().map(|r| r.time).min().unwrap_or(0);
            // Sorted rows, built and encoded a chunk at a time into one file.
            let mut file: Option<write::FileWriter> = None;
            for chunk in hour.chunks(CHUNK_ROWS) {
                let batch = build(p.table, chunk)?;
                match file.as_mut() {
                    Some(f) => f.write(&batch)?,
                    None => {
                        let mut f = write::FileWriter::new(p.table, &batch.schema(), hour.len())?;
                        f.write(&batch)?;
                        file = Some(f);
                    }
                }
            }
            let Some(file) = file else { continue };
            out.objects.push(Object {
                key: key::object_key(p.table, first, hash),
                table: p.table,
                rows: hour.len(),
                data: file.finish()?,
            });
            out.records += hour.len();
        }
    }
    Ok(())
}
