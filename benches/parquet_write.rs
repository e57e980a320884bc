//! `write/<signal>/arrow`: Arrow batches → Snappy Parquet alone, with the
//! pipeline's writer settings (`otlp2r2::write`). 10k records; throughput in
//! records.

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fixtures::stages::{self, BUDGET, N};
use otlp2r2::decode::{self, Budget};
use otlp2r2::write;

fn bench(c: &mut Criterion) {
    let [lpb, _, tpb, _, mpb] = stages::bodies();
    let budget = Budget::new(BUDGET);
    let lm = decode::proto::logs(&lpb, &budget).unwrap();
    let tm = decode::proto::traces(&tpb, &budget).unwrap();
    let mm = decode::proto::metrics(&mpb, &budget).unwrap();
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
