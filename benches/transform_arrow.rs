//! `transform/<signal>/model`: decoded model → sorted rows → pre-sized
//! Arrow batches alone (the decode is done once, outside the timing).
//! 10k records; throughput in records.
#![allow(missing_docs)] // criterion_group! makes pub fns; a bench has no API

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fixtures::stages::{self, N};

fn bench(c: &mut Criterion) {
    let bodies = stages::bodies();
    let stages::Models {
        logs: lm,
        traces: tm,
        metrics: mm,
    } = stages::models(&bodies);
    let mut g = c.benchmark_group("transform");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("logs/model", |b| {
        b.iter(|| black_box(stages::batches(black_box(&lm))))
    });
    g.bench_function("traces/model", |b| {
        b.iter(|| black_box(stages::batches(black_box(&tm))))
    });
    g.bench_function("metrics/model", |b| {
        b.iter(|| black_box(stages::batches(black_box(&mm))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
