//! wasm32 entry points for the bench-wasm harness.
//!
//! `prepare(workload)` builds a workload's request body with the *same*
//! fixture generator and seeds as the native benches (`benches/fixtures`), so
//! native and WASM time identical bytes. `run(library, stage)` runs one stage
//! once: for otlp2r2 `e2e`, `decode`, `transform` or `write` (each on the
//! output of the previous stage, prepared once, like `benches/decode_otlp.rs, transform_arrow.rs and parquet_write.rs`);
//! for the peer otlp2records only `e2e`. The JS runner (`runner.js`) times
//! them in workerd. Nothing here is timed in Rust: workerd's clock is the
//! one that matters.

#[path = "../../benches/fixtures/mod.rs"]
#[allow(dead_code, clippy::all)]
mod fixtures;

use std::cell::RefCell;
use std::sync::Arc;

use arrow_array::RecordBatch;
use otlp2r2::pipeline::{self, Model};
use otlp2r2::{Encoding, Limits, Options, Request, Signal};
use prost::Message;
use wasm_bindgen::prelude::*;

/// A prepared workload: the body, and the stage inputs built from it.
struct Prepared {
    signal: Signal,
    encoding: Encoding,
    gzip: bool,
    body: &'static [u8],
    records: usize,
    model: Option<Model<'static>>,
    batches: fixtures::stages::Files,
}

thread_local! {
    static CURRENT: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

fn unlimited() -> Options {
    Options {
        limits: Limits::UNLIMITED,
        ..Options::default()
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("in-memory gzip");
    e.finish().expect("in-memory gzip")
}

/// Parses workload `id` = `<signal>-<protobuf|json>[-gzip]-<records>` or
/// `logs-protobuf-mib-<N>`: (signal, encoding, gzip, N, N is MiB).
fn parse_id(id: &str) -> Result<(Signal, Encoding, bool, usize, bool), JsError> {
    let parts: Vec<&str> = id.split('-').collect();
    let bad = || JsError::new(&format!("unknown workload {id:?}"));
    let signal = Signal::from_name(parts.first().ok_or_else(bad)?).ok_or_else(bad)?;
    let encoding = match parts.get(1) {
        Some(&"protobuf") => Encoding::Protobuf,
        Some(&"json") => Encoding::Json,
        _ => return Err(bad()),
    };
    let last: usize = parts.last().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    Ok((signal, encoding, parts.contains(&"gzip"), last, parts.contains(&"mib")))
}

/// Builds workload `id` (see [`parse_id`]); for `mib` workloads, a protobuf
/// logs body of about N MiB. Returns the body size in bytes.
#[wasm_bindgen]
pub fn prepare(id: &str) -> Result<u32, JsError> {
    let (signal, encoding, gzip, last, mib) = parse_id(id)?;
    let records = if mib {
        let per = fixtures::logs(1000, 9).encoded_len() / 1000;
        (last << 20) / per - 200
    } else {
        last
    };
    let st = fixtures::json::Style::default();
    let seed = match signal {
        Signal::Logs => 1,
        Signal::Traces => 2,
        Signal::Metrics => 3,
    };
    let plain = match (signal, encoding) {
        (Signal::Logs, Encoding::Protobuf) => fixtures::logs(records, seed).encode_to_vec(),
        (Signal::Logs, Encoding::Json) => fixtures::json::logs(&fixtures::logs(records, seed), st).into_bytes(),
        (Signal::Traces, Encoding::Protobuf) => fixtures::traces(records, seed).encode_to_vec(),
        (Signal::Traces, Encoding::Json) => fixtures::json::traces(&fixtures::traces(records, seed), st).into_bytes(),
        (Signal::Metrics, Encoding::Protobuf) => fixtures::metrics(records, seed).encode_to_vec(),
        (Signal::Metrics, Encoding::Json) => fixtures::json::metrics(&fixtures::metrics(records, seed), st).into_bytes(),
    };
    let body: &'static [u8] = Box::leak(if gzip { gz(&plain) } else { plain }.into_boxed_slice());
    let len = body.len() as u32;
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Prepared { signal, encoding, gzip, body, records, model: None, batches: Vec::new() })
    });
    Ok(len)
}

/// The prepared workload's body (a copy), so a driver can feed the very
/// same bytes to a fresh instance with [`load`].
#[wasm_bindgen]
pub fn body() -> Vec<u8> {
    CURRENT.with(|c| c.borrow().as_ref().map(|p| p.body.to_vec()).unwrap_or_default())
}

/// Makes `bytes` (the body of workload `id`, `records` records) the current
/// workload, without generating anything: the instance's memory then holds
/// only the body, so its growth during a run is the run's own peak.
#[wasm_bindgen]
pub fn load(id: &str, bytes: Vec<u8>, records: u32) -> Result<(), JsError> {
    let (signal, encoding, gzip, _, _) = parse_id(id)?;
    let body: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Prepared {
            signal,
            encoding,
            gzip,
            body,
            records: records as usize,
            model: None,
            batches: Vec::new(),
        })
    });
    Ok(())
}

/// Records in the prepared workload.
#[wasm_bindgen]
pub fn records() -> u32 {
    CURRENT.with(|c| c.borrow().as_ref().map(|p| p.records as u32).unwrap_or(0))
}

/// Bytes of wasm linear memory now; it only grows, so after a run this is the peak.
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size(0) * 65536) as f64
}

/// The decode stage, exactly as the pipeline runs it (`pipeline::decode`).
fn decode_model(p: &Prepared) -> Result<Model<'static>, otlp2r2::Error> {
    let body: &'static [u8] = if p.gzip {
        Box::leak(otlp2r2::body::inflate(p.body, usize::MAX)?.into_boxed_slice())
    } else {
        p.body
    };
    pipeline::decode(p.signal, p.encoding, body, &Limits::UNLIMITED)
}

fn peer(p: &Prepared) -> Result<usize, JsError> {
    use otlp2records::InputFormat;
    use parquet::basic::Compression;
    use parquet::file::properties::{EnabledStatistics, WriterProperties};
    let body: Vec<u8> = if p.gzip {
        otlp2r2::body::inflate(p.body, usize::MAX).map_err(|e| JsError::new(&e.to_string()))?
    } else {
        p.body.to_vec()
    };
    let format = match p.encoding {
        Encoding::Protobuf => InputFormat::Protobuf,
        Encoding::Json => InputFormat::Json,
    };
    let err = |e: otlp2records::Error| JsError::new(&e.to_string());
    let batches: Vec<RecordBatch> = match p.signal {
        Signal::Logs => vec![otlp2records::transform_logs(&body, format).map_err(err)?],
        Signal::Traces => vec![otlp2records::transform_traces(&body, format).map_err(err)?],
        Signal::Metrics => {
            let m = otlp2records::transform_metrics(&body, format).map_err(err)?;
            [m.gauge, m.sum, m.histogram, m.exp_histogram].into_iter().flatten().collect()
        }
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .build();
    let mut total = 0;
    for b in &batches {
        let mut out = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, Arc::clone(&b.schema()), Some(props.clone()))
            .map_err(|e| JsError::new(&e.to_string()))?;
        w.write(b).map_err(|e| JsError::new(&e.to_string()))?;
        w.close().map_err(|e| JsError::new(&e.to_string()))?;
        total += out.len();
    }
    Ok(total)
}

/// Runs `stage` of `library` once on the prepared workload; returns a size
/// (bytes out, rows or batches) so the work cannot be optimised away.
#[wasm_bindgen]
pub fn run(library: &str, stage: &str) -> Result<f64, JsError> {
    let js = |e: otlp2r2::Error| JsError::new(&e.to_string());
    CURRENT.with(|c| {
        let mut cur = c.borrow_mut();
        let p = cur.as_mut().ok_or_else(|| JsError::new("call prepare first"))?;
        let n = match (library, stage) {
            ("otlp2records", "e2e") => peer(p)?,
            ("otlp2r2", "e2e") => {
                let req = Request { signal: p.signal, encoding: p.encoding, gzip: p.gzip, body: p.body };
                otlp2r2::process(&req, &unlimited()).map_err(js)?.bytes_out()
            }
            ("otlp2r2", "decode") => match decode_model(p).map_err(js)? {
                Model::Logs(m) => m.len(),
                Model::Traces(m) => m.len(),
                Model::Metrics(m) => m.len(),
            },
            ("otlp2r2", "transform") => {
                if p.model.is_none() {
                    p.model = Some(decode_model(p).map_err(js)?);
                }
                let m = p.model.as_ref().ok_or_else(|| JsError::new("no model"))?;
                fixtures::stages::batches(m).len()
            }
            ("otlp2r2", "write") => {
                if p.batches.is_empty() {
                    let m = decode_model(p).map_err(js)?;
                    p.batches = fixtures::stages::batches(&m);
                }
                fixtures::stages::write_all(&p.batches)
            }
            _ => return Err(JsError::new(&format!("unknown library/stage {library}/{stage}"))),
        };
        Ok(n as f64)
    })
}
