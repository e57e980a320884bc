//! End to end: request bytes → Parquet objects, through [`otlp2r2::process`],
//! the same call the Worker and the CLI make.
//!
//! Ids read `e2e/<signal>/<encoding>/<records>`; throughput is in records
//! (log records, spans or data points). Fixtures come from
//! `benches/fixtures` (deterministic, realistic shapes).
//!
//! `matrix/<signal>/<encoding>[-gzip]/<total>x<request>` streams `total`
//! records as requests of `request` records each. The default run covers
//! logs protobuf, plain and gzip, in 4k and 16k requests (a few minutes on 2
//! cores); `OTLP2R2_BENCH_FULL=1` runs the full matrix: all signals, protobuf
//! and JSON, plain and gzip, requests of 4k/16k/64k, totals of 10k/250k/1M.
#![allow(missing_docs)] // criterion_group! makes pub fns; a bench has no API

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use otlp2r2::{process, Encoding, Options, Request, Signal};
use prost::Message;

const N: usize = 10_000;

fn bodies() -> Vec<(Signal, Encoding, Vec<u8>)> {
    fixtures::stages::requests(N)
}

/// The OpenTelemetry Collector's default batch size: the request a Worker
/// most often sees (`bench-wasm` asks whether it fits 10 ms of CPU).
const COLLECTOR_BATCH: usize = 8192;

fn e2e(c: &mut Criterion) {
    let opts = Options::default();
    let batch = fixtures::logs(COLLECTOR_BATCH, 1).encode_to_vec();
    let mut g = c.benchmark_group("e2e/logs");
    g.throughput(Throughput::Elements(COLLECTOR_BATCH as u64));
    g.bench_with_input(
        BenchmarkId::new("protobuf", COLLECTOR_BATCH),
        &batch,
        |b, body| {
            let req = Request {
                signal: Signal::Logs,
                encoding: Encoding::Protobuf,
                gzip: false,
                body,
            };
            b.iter(|| black_box(process(black_box(&req), &opts).unwrap()))
        },
    );
    g.finish();
    for (signal, encoding, body) in bodies() {
        let mut g = c.benchmark_group(format!("e2e/{}", signal.name()));
        g.throughput(Throughput::Elements(N as u64));
        let enc = match encoding {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "json",
        };
        g.bench_with_input(BenchmarkId::new(enc, N), &body, |b, body| {
            let req = Request {
                signal,
                encoding,
                gzip: false,
                body,
            };
            b.iter(|| black_box(process(black_box(&req), &opts).unwrap()))
        });
        g.finish();
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn body(signal: Signal, encoding: Encoding, records: usize) -> Vec<u8> {
    let st = fixtures::json::Style::default();
    match (signal, encoding) {
        (Signal::Logs, Encoding::Protobuf) => fixtures::logs(records, 1).encode_to_vec(),
        (Signal::Logs, Encoding::Json) => {
            fixtures::json::logs(&fixtures::logs(records, 1), st).into_bytes()
        }
        (Signal::Traces, Encoding::Protobuf) => fixtures::traces(records, 2).encode_to_vec(),
        (Signal::Traces, Encoding::Json) => {
            fixtures::json::traces(&fixtures::traces(records, 2), st).into_bytes()
        }
        (Signal::Metrics, Encoding::Protobuf) => fixtures::metrics(records, 3).encode_to_vec(),
        (Signal::Metrics, Encoding::Json) => {
            fixtures::json::metrics(&fixtures::metrics(records, 3), st).into_bytes()
        }
    }
}

fn matrix(c: &mut Criterion) {
    let full = std::env::var_os("OTLP2R2_BENCH_FULL").is_some();
    let signals: &[Signal] = if full {
        &[Signal::Logs, Signal::Traces, Signal::Metrics]
    } else {
        &[Signal::Logs]
    };
    let encodings: &[Encoding] = if full {
        &[Encoding::Protobuf, Encoding::Json]
    } else {
        &[Encoding::Protobuf]
    };
    let requests: &[usize] = if full {
        &[4096, 16384, 65536]
    } else {
        &[4096, 16384]
    };
    let totals: &[usize] = if full {
        &[10_000, 250_000, 1_000_000]
    } else {
        &[16_384]
    };
    let opts = Options::default();
    for &signal in signals {
        for &encoding in encodings {
            for gzip in [false, true] {
                let enc = match encoding {
                    Encoding::Protobuf => "protobuf",
                    Encoding::Json => "json",
                };
                let mut g = c.benchmark_group(format!(
                    "matrix/{}/{enc}{}",
                    signal.name(),
                    if gzip { "-gzip" } else { "" }
                ));
                if full {
                    g.sample_size(10);
                }
                for &per in requests {
                    let plain = body(signal, encoding, per);
                    let bytes = if gzip { gz(&plain) } else { plain };
                    for &total in totals {
                        let n = total.div_ceil(per);
                        g.throughput(Throughput::Elements((n * per) as u64));
                        g.bench_with_input(
                            BenchmarkId::from_parameter(format!("{total}x{per}")),
                            &bytes,
                            |b, body| {
                                let req = Request {
                                    signal,
                                    encoding,
                                    gzip,
                                    body,
                                };
                                b.iter(|| {
                                    for _ in 0..n {
                                        black_box(process(black_box(&req), &opts).unwrap());
                                    }
                                })
                            },
                        );
                    }
                }
                g.finish();
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = e2e, matrix
}
criterion_main!(benches);
