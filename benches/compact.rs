//! `compact/<table>/<files>x<rows>`: one partition of many small files
//! merged by `compact::run` over the in-memory store (the Worker's code,
//! without R2's latency). Throughput in input bytes. Each iteration starts
//! from a fresh copy of the inputs (not timed).
//!
//! `OTLP2R2_COMPACT_DUMP=DIR` also writes each workload's input files under
//! `DIR/<workload>/` for `scripts/bench_compact_peer.py` (DuckDB doing the
//! same job, in the same run).
#![allow(missing_docs)] // criterion_group! makes pub fns; a bench has no API

mod fixtures;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures_executor::block_on;
use otlp2r2::compact::{self, Settings};
use otlp2r2::store::memory::Memory;
use otlp2r2::store::{PutMode, Store};
use otlp2r2::{process, Encoding, Options, Request, Signal};
use prost::Message;

/// The files of one partition: `files` requests of `rows` records each.
fn inputs(signal: Signal, files: usize, rows: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for seed in 0..files as u64 {
        let body = match signal {
            Signal::Logs => fixtures::logs(rows, 100 + seed).encode_to_vec(),
            Signal::Traces => fixtures::traces(rows, 100 + seed).encode_to_vec(),
            Signal::Metrics => fixtures::metrics(rows, 100 + seed).encode_to_vec(),
        };
        let req = Request {
            signal,
            encoding: Encoding::Protobuf,
            gzip: false,
            body: &body,
        };
        let opts = Options {
            limits: otlp2r2::Limits::UNLIMITED,
            ..Options::default()
        };
        let output = process(&req, &opts).unwrap();
        // One table per workload: the first (logs, traces, gauge).
        let first = output.objects[0].table;
        out.extend(
            output
                .objects
                .into_iter()
                .filter(|o| o.table == first)
                .map(|o| (o.key, o.data)),
        );
    }
    out
}

fn bench(c: &mut Criterion) {
    let settings = Settings::default();
    let now = 1_900_000_000;
    let dump = std::env::var_os("OTLP2R2_COMPACT_DUMP").map(std::path::PathBuf::from);
    for (signal, files, rows) in [
        (Signal::Logs, 500, 100),
        (Signal::Logs, 40, 8192),
        (Signal::Traces, 500, 100),
        (Signal::Metrics, 200, 100),
    ] {
        let files_in = inputs(signal, files, rows);
        let bytes: usize = files_in.iter().map(|(_, d)| d.len()).sum();
        let id = format!("{}/{files}x{rows}", signal.name());
        if let Some(dir) = &dump {
            let d = dir.join(id.replace('/', "-"));
            std::fs::create_dir_all(&d).unwrap();
            for (i, (_, data)) in files_in.iter().enumerate() {
                std::fs::write(d.join(format!("{i:04}.parquet")), data).unwrap();
            }
        }
        let partition = {
            let (table, hour) = otlp2r2::key::parse_partition(&files_in[0].0).unwrap();
            compact::Partition { table, hour }
        };
        let mut g = c.benchmark_group("compact");
        g.throughput(Throughput::Bytes(bytes as u64));
        g.sample_size(10);
        g.bench_function(&id, |b| {
            b.iter_batched(
                || {
                    let store = Memory::new();
                    for (k, d) in &files_in {
                        block_on(store.put(k, d.clone(), PutMode::Overwrite)).unwrap();
                    }
                    store
                },
                |store| {
                    let r =
                        block_on(compact::run(&store, partition, now, &settings, "bench")).unwrap();
                    assert_eq!(r.inputs, files);
                    r.bytes_out
                },
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
