//! `write/<signal>/arrow`: Arrow batches → Snappy Parquet alone, through the
//! pipeline's own write stage (`otlp2r2::pipeline::write`). 10k records; throughput in
//! records.
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
    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(N as u64));
    for (name, batches) in [
        ("logs/arrow", stages::batches(&lm)),
        ("traces/arrow", stages::batches(&tm)),
        ("metrics/arrow", stages::batches(&mm)),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(stages::write_all(black_box(&batches))))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
