//! The harness's workloads and stages, the same for both sides of the
//! comparison: `lib.rs` exposes them to workerd through wasm-bindgen and
//! `bin/native.rs` times them natively on the very same bytes.
//!
//! [`generate`] builds a workload's request body with the *same* fixture
//! generator and seeds as the native benches (`benches/fixtures`);
//! [`Prepared::run`] runs one stage once: for otlp2r2 `e2e`, `decode`,
//! `transform` or `write` (each on the output of the previous stage,
//! prepared once, like `benches/decode_otlp.rs`, `transform_arrow.rs` and
//! `parquet_write.rs`); for the peer otlp2records only `e2e`. Nothing here
//! keeps time: each side times with its own clock.

use otlp2r2::pipeline::{self, Model};
use otlp2r2::{Encoding, Limits, Options, Request, Signal};
use prost::Message;

#[path = "../../benches/fixtures/mod.rs"]
#[allow(dead_code, clippy::all)]
mod fixtures;

/// A loaded workload: the body, and the stage inputs built from it.
pub struct Prepared {
    signal: Signal,
    encoding: Encoding,
    gzip: bool,
    body: &'static [u8],
    pub records: usize,
    model: Option<Model<'static>>,
    batches: fixtures::stages::Files,
}

fn unlimited() -> Options {
    Options {
        limits: Limits::UNLIMITED,
        ..Options::default()
    }
}

/// Parses workload `id` = `<signal>-<protobuf|json>[-gzip]-<records>` or
/// `logs-protobuf-mib-<N>`: (signal, encoding, gzip, N, N is MiB).
fn parse_id(id: &str) -> Result<(Signal, Encoding, bool, usize, bool), String> {
    let parts: Vec<&str> = id.split('-').collect();
    let bad = || format!("unknown workload {id:?}");
    let signal = Signal::from_name(parts.first().ok_or_else(bad)?).ok_or_else(bad)?;
    let encoding = match parts.get(1) {
        Some(&"protobuf") => Encoding::Protobuf,
        Some(&"json") => Encoding::Json,
        _ => return Err(bad()),
    };
    let last: usize = parts.last().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    Ok((
        signal,
        encoding,
        parts.contains(&"gzip"),
        last,
        parts.contains(&"mib"),
    ))
}

/// Builds workload `id` (see [`parse_id`]; for `mib` workloads, a protobuf
/// logs body of about N MiB): its body and its number of records.
pub fn generate(id: &str) -> Result<(Vec<u8>, usize), String> {
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
        (Signal::Logs, Encoding::Json) => {
            fixtures::json::logs(&fixtures::logs(records, seed), st).into_bytes()
        }
        (Signal::Traces, Encoding::Protobuf) => fixtures::traces(records, seed).encode_to_vec(),
        (Signal::Traces, Encoding::Json) => {
            fixtures::json::traces(&fixtures::traces(records, seed), st).into_bytes()
        }
        (Signal::Metrics, Encoding::Protobuf) => fixtures::metrics(records, seed).encode_to_vec(),
        (Signal::Metrics, Encoding::Json) => {
            fixtures::json::metrics(&fixtures::metrics(records, seed), st).into_bytes()
        }
    };
    Ok((
        if gzip {
            fixtures::stages::gz(&plain)
        } else {
            plain
        },
        records,
    ))
}

/// Makes `body` (workload `id`'s, `records` records) a workload to run,
/// without generating anything. The body lives as long as the process, as
/// the model borrowed from it must.
pub fn load(id: &str, body: Vec<u8>, records: usize) -> Result<Prepared, String> {
    let (signal, encoding, gzip, _, _) = parse_id(id)?;
    Ok(Prepared {
        signal,
        encoding,
        gzip,
        body: Box::leak(body.into_boxed_slice()),
        records,
        model: None,
        batches: Vec::new(),
    })
}

impl Prepared {
    /// The body, as it was loaded.
    pub fn body(&self) -> &[u8] {
        self.body
    }

    /// Runs `stage` of `library` once; returns a size (bytes out, rows or
    /// batches) so the work cannot be optimised away.
    pub fn run(&mut self, library: &str, stage: &str) -> Result<usize, String> {
        let s = |e: otlp2r2::Error| e.to_string();
        Ok(match (library, stage) {
            ("otlp2records", "e2e") => self.peer()?,
            ("otlp2r2", "e2e") => {
                let req = Request {
                    signal: self.signal,
                    encoding: self.encoding,
                    gzip: self.gzip,
                    body: self.body,
                };
                otlp2r2::process(&req, &unlimited()).map_err(s)?.bytes_out()
            }
            ("otlp2r2", "decode") => match self.decode_model().map_err(s)? {
                Model::Logs(m) => m.len(),
                Model::Traces(m) => m.len(),
                Model::Metrics(m) => m.len(),
            },
            ("otlp2r2", "transform") => {
                if self.model.is_none() {
                    self.model = Some(self.decode_model().map_err(s)?);
                }
                let m = self.model.as_ref().ok_or("no model")?;
                fixtures::stages::batches(m).len()
            }
            ("otlp2r2", "write") => {
                if self.batches.is_empty() {
                    let m = self.decode_model().map_err(s)?;
                    self.batches = fixtures::stages::batches(&m);
                }
                fixtures::stages::write_all(&self.batches)
            }
            _ => return Err(format!("unknown library/stage {library}/{stage}")),
        })
    }

    /// The decode stage, exactly as the pipeline runs it (`pipeline::decode`).
    fn decode_model(&self) -> Result<Model<'static>, otlp2r2::Error> {
        let body: &'static [u8] = if self.gzip {
            Box::leak(otlp2r2::body::inflate(self.body, usize::MAX)?.into_boxed_slice())
        } else {
            self.body
        };
        pipeline::decode(self.signal, self.encoding, body, &Limits::UNLIMITED)
    }

    /// The peer's whole job: bytes → record batches → Snappy Parquet.
    fn peer(&self) -> Result<usize, String> {
        let body: Vec<u8> = if self.gzip {
            otlp2r2::body::inflate(self.body, usize::MAX).map_err(|e| e.to_string())?
        } else {
            self.body.to_vec()
        };
        let batches = fixtures::stages::peer_batches(self.signal, self.encoding, &body)
            .map_err(|e| e.to_string())?;
        let mut total = 0;
        for b in &batches {
            total += fixtures::stages::peer_parquet(b)
                .map_err(|e| e.to_string())?
                .len();
        }
        Ok(total)
    }
}
