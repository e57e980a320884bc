//! `write/<signal>/arrow`: Arrow batches → Snappy Parquet alone, with the
//! pipeline's writer settings (`otlp2r2::write`). 10k records; throughput in
//! records.

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fixtures::stages::{self, N};
use otlp2r2::write;

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
        ("logs/arrow", stages::logs_batches(&lm)),
        ("traces/arrow", stages::traces_batches(&tm)),
        ("metrics/arrow", stages::metrics_batches(&mm)),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    batches
                        .iter()
                        .map(|(t, batch)| write::parquet(*t, batch).unwrap().len())
                        .sum::<usize>(),
                )
            })
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
