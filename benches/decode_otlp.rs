//! `decode/<signal>/<input>`: request bytes → the decoded model alone, for
//! protobuf, OTLP/JSON and gzip protobuf (inflate included). 10k records;
//! throughput in records.

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fixtures::stages::{self, BUDGET, N};
use otlp2r2::body;
use otlp2r2::decode::{self, Budget};

fn bench(c: &mut Criterion) {
    let [lpb, ljs, tpb, tjs, mpb] = stages::bodies();
    let lgz = stages::gz(&lpb);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("logs/protobuf", |b| {
        b.iter(|| {
            black_box(
                decode::proto::logs(black_box(&lpb), &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("logs/json", |b| {
        b.iter(|| {
            black_box(
                decode::json::logs(black_box(&ljs), &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("logs/protobuf-gzip", |b| {
        b.iter(|| {
            let body = body::prepare(black_box(&lgz), true, usize::MAX, usize::MAX).unwrap();
            black_box(
                decode::proto::logs(&body, &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("traces/protobuf", |b| {
        b.iter(|| {
            black_box(
                decode::proto::traces(black_box(&tpb), &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("traces/json", |b| {
        b.iter(|| {
            black_box(
                decode::json::traces(black_box(&tjs), &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.bench_function("metrics/protobuf", |b| {
        b.iter(|| {
            black_box(
                decode::proto::metrics(black_box(&mpb), &Budget::new(BUDGET))
                    .unwrap()
                    .len(),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
