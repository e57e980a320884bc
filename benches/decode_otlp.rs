//! `decode/<signal>/<input>`: request bytes → the decoded model alone
//! (`otlp2r2::pipeline::decode`, the pipeline's own stage), for protobuf,
//! OTLP/JSON and gzip protobuf (inflate included). 10k records; throughput
//! in records.
#![allow(missing_docs)] // criterion_group! makes pub fns; a bench has no API

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fixtures::stages::{self, N};
use otlp2r2::pipeline::{self, Model};
use otlp2r2::{body, Encoding, Limits, Signal};

/// Decodes `body` as the pipeline does; returns the resource groups.
fn decode(signal: Signal, encoding: Encoding, body: &[u8]) -> usize {
    match pipeline::decode(signal, encoding, body, &Limits::UNLIMITED).unwrap() {
        Model::Logs(m) => m.len(),
        Model::Traces(m) => m.len(),
        Model::Metrics(m) => m.len(),
    }
}

fn bench(c: &mut Criterion) {
    let [lpb, ljs, tpb, tjs, mpb] = stages::bodies();
    let lgz = stages::gz(&lpb);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(N as u64));
    let cases = [
        ("logs/protobuf", Signal::Logs, Encoding::Protobuf, &lpb),
        ("logs/json", Signal::Logs, Encoding::Json, &ljs),
        ("traces/protobuf", Signal::Traces, Encoding::Protobuf, &tpb),
        ("traces/json", Signal::Traces, Encoding::Json, &tjs),
        (
            "metrics/protobuf",
            Signal::Metrics,
            Encoding::Protobuf,
            &mpb,
        ),
    ];
    for (id, signal, encoding, body) in cases {
        g.bench_function(id, |b| {
            b.iter(|| black_box(decode(signal, encoding, black_box(body))))
        });
    }
    g.bench_function("logs/protobuf-gzip", |b| {
        b.iter(|| {
            let body = body::prepare(black_box(&lgz), true, usize::MAX, usize::MAX).unwrap();
            black_box(decode(Signal::Logs, Encoding::Protobuf, &body))
        })
    });
    g.finish();

    // gzip inflation alone; throughput in inflated bytes.
    let mut g = c.benchmark_group("inflate");
    g.throughput(Throughput::Bytes(lpb.len() as u64));
    g.bench_function("logs", |b| {
        b.iter(|| black_box(body::inflate(black_box(&lgz), usize::MAX).unwrap().len()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
