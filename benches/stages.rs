//! The pipeline's stages one at a time, on the same 10k-record fixtures as
//! `e2e_pipeline`: `decode/…` (bytes → model, protobuf, JSON and gzip),
//! `transform/…` (model → sorted, pre-sized Arrow batches) and `write/…`
//! (Arrow → Snappy Parquet). Ids read `<stage>/<signal>/<input>`;
//! throughput is in records. The three add up to roughly `e2e/…`.

mod fixtures;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use otlp2r2::batch::{self, Context};
use otlp2r2::decode::{self, Budget};
use otlp2r2::model::{LogsRequest, MetricsRequest, TracesRequest};
use otlp2r2::{body, write, Table};
use prost::Message;

const N: usize = 10_000;
const BUDGET: usize = 1 << 30;

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn logs_batches(m: &LogsRequest<'_>) -> Vec<(Table, arrow_array::RecordBatch)> {
    let ctx = Context::new(m);
    let mut rows = batch::logs::rows(m, &ctx);
    let runs = batch::sort_rows(&mut rows);
    runs.into_iter()
        .map(|r| {
            (
                Table::Logs,
                batch::logs::build(m, &ctx, &rows[r], arrow_schema::TimeUnit::Nanosecond).unwrap(),
            )
        })
        .collect()
}

fn traces_batches(m: &TracesRequest<'_>) -> Vec<(Table, arrow_array::RecordBatch)> {
    let ctx = Context::new(m);
    let mut rows = batch::traces::rows(m, &ctx);
    let runs = batch::sort_rows(&mut rows);
    runs.into_iter()
        .map(|r| {
            (
                Table::Traces,
                batch::traces::build(m, &ctx, &rows[r], arrow_schema::TimeUnit::Nanosecond)
                    .unwrap(),
            )
        })
        .collect()
}

fn metrics_batches(m: &MetricsRequest<'_>) -> Vec<(Table, arrow_array::RecordBatch)> {
    let ctx = Context::new(m);
    let mut all = batch::metrics::rows(m, &ctx);
    let mut out = Vec::new();
    for table in &Table::ALL[2..] {
        let mut rows = std::mem::take(all.of(*table));
        for r in batch::sort_rows(&mut rows) {
            out.push((
                *table,
                batch::metrics::build(
                    m,
                    &ctx,
                    *table,
                    &rows[r],
                    arrow_schema::TimeUnit::Nanosecond,
                )
                .unwrap(),
            ));
        }
    }
    out
}

fn stages(c: &mut Criterion) {
    let st = fixtures::json::Style::default();
    let logs = fixtures::logs(N, 1);
    let traces = fixtures::traces(N, 2);
    let metrics = fixtures::metrics(N, 3);
    let (lpb, ljs) = (
        logs.encode_to_vec(),
        fixtures::json::logs(&logs, st).into_bytes(),
    );
    let (tpb, tjs) = (
        traces.encode_to_vec(),
        fixtures::json::traces(&traces, st).into_bytes(),
    );
    let mpb = metrics.encode_to_vec();
    let lgz = gz(&lpb);

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

    let budget = Budget::new(BUDGET);
    let lm = decode::proto::logs(&lpb, &budget).unwrap();
    let tm = decode::proto::traces(&tpb, &budget).unwrap();
    let mm = decode::proto::metrics(&mpb, &budget).unwrap();
    let mut g = c.benchmark_group("transform");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("logs/model", |b| {
        b.iter(|| black_box(logs_batches(black_box(&lm))))
    });
    g.bench_function("traces/model", |b| {
        b.iter(|| black_box(traces_batches(black_box(&tm))))
    });
    g.bench_function("metrics/model", |b| {
        b.iter(|| black_box(metrics_batches(black_box(&mm))))
    });
    g.finish();

    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(N as u64));
    for (name, batches) in [
        ("logs/arrow", logs_batches(&lm)),
        ("traces/arrow", traces_batches(&tm)),
        ("metrics/arrow", metrics_batches(&mm)),
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
    targets = stages
}
criterion_main!(benches);
