//! End to end: request bytes → Parquet objects, through [`otlp2r2::process`],
//! the same call the Worker and the CLI make.
//!
//! Ids read `e2e/<signal>/<encoding>/<records>`; throughput is in records
//! (log records, spans or data points). Fixtures come from
//! `benches/fixtures` (deterministic, realistic shapes).

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use otlp2r2::{process, Encoding, Options, Request, Signal};
use prost::Message;

const N: usize = 10_000;

fn bodies() -> Vec<(Signal, Encoding, Vec<u8>)> {
    let st = fixtures::json::Style::default();
    let logs = fixtures::logs(N, 1);
    let traces = fixtures::traces(N, 2);
    let metrics = fixtures::metrics(N, 3);
    vec![
        (Signal::Logs, Encoding::Protobuf, logs.encode_to_vec()),
        (
            Signal::Logs,
            Encoding::Json,
            fixtures::json::logs(&logs, st).into_bytes(),
        ),
        (Signal::Traces, Encoding::Protobuf, traces.encode_to_vec()),
        (
            Signal::Traces,
            Encoding::Json,
            fixtures::json::traces(&traces, st).into_bytes(),
        ),
        (Signal::Metrics, Encoding::Protobuf, metrics.encode_to_vec()),
        (
            Signal::Metrics,
            Encoding::Json,
            fixtures::json::metrics(&metrics, st).into_bytes(),
        ),
    ]
}

/// The OpenTelemetry Collector's default batch size: the request a Worker
/// most often sees (`bench-wasm` asks whether it fits 10 ms of CPU).
const COLLECTOR_BATCH: usize = 8192;

fn e2e(c: &mut Criterion) {
    let opts = Options::default();
    let batch = fixtures::logs(COLLECTOR_BATCH, 1).encode_to_vec();
    let mut g = c.benchmark_group("e2e/logs");
    g.throughput(Throughput::Elements(COLLECTOR_BATCH as u64));
    g.bench_with_input(BenchmarkId::new("protobuf", COLLECTOR_BATCH), &batch, |b, body| {
        let req = Request { signal: Signal::Logs, encoding: Encoding::Protobuf, gzip: false, body };
        b.iter(|| black_box(process(black_box(&req), &opts).unwrap()))
    });
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = e2e
}
criterion_main!(benches);
