//! This crate against the fastest public Rust library for the same job,
//! `otlp2records` 0.11, on the same input bytes with the same Parquet
//! settings (Snappy, page statistics, dictionary on, one writer per batch).
//!
//! Ids read `peers/<signal>-<encoding>/<library>`; throughput is in records.
//!
//! With `--features dhat-heap` and `-- --dhat`, each workload instead runs
//! once under dhat in its own process and prints allocated bytes and peak
//! heap per record (`make bench-dhat`).
#![allow(missing_docs)] // criterion_group! makes pub fns; a bench has no API

mod fixtures;

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use otlp2r2::{process, Encoding, Options, Request, Signal};
use prost::Message;

#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const N: usize = 10_000;

/// (id, signal, encoding, body)
fn workloads() -> Vec<(&'static str, Signal, Encoding, Vec<u8>)> {
    workloads_of(N)
}

/// The workloads of [`workloads`] with `n` records each.
fn workloads_of(n: usize) -> Vec<(&'static str, Signal, Encoding, Vec<u8>)> {
    let st = fixtures::json::Style::default();
    let logs = fixtures::logs(n, 1);
    let traces = fixtures::traces(n, 2);
    vec![
        (
            "logs-protobuf",
            Signal::Logs,
            Encoding::Protobuf,
            logs.encode_to_vec(),
        ),
        (
            "traces-protobuf",
            Signal::Traces,
            Encoding::Protobuf,
            traces.encode_to_vec(),
        ),
        (
            "metrics-protobuf",
            Signal::Metrics,
            Encoding::Protobuf,
            fixtures::metrics(n, 3).encode_to_vec(),
        ),
        (
            "logs-json",
            Signal::Logs,
            Encoding::Json,
            fixtures::json::logs(&logs, st).into_bytes(),
        ),
    ]
}

/// The peer's whole job: bytes → record batches → Snappy Parquet.
fn peer(signal: Signal, encoding: Encoding, body: &[u8]) -> usize {
    peer_counted(signal, encoding, body).0
}

/// The peer's run: (bytes out, records).
fn peer_counted(signal: Signal, encoding: Encoding, body: &[u8]) -> (usize, usize) {
    let batches = fixtures::stages::peer_batches(signal, encoding, body).unwrap();
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let bytes = batches
        .iter()
        .map(|b| fixtures::stages::peer_parquet(b).unwrap().len())
        .sum();
    (bytes, rows)
}

/// Our whole job with `opts`: (bytes out, records).
fn ours_with(opts: &Options, signal: Signal, encoding: Encoding, body: &[u8]) -> (usize, usize) {
    let req = Request {
        signal,
        encoding,
        gzip: false,
        body,
    };
    let out = process(&req, opts).unwrap();
    (out.bytes_out(), out.records)
}

fn ours(signal: Signal, encoding: Encoding, body: &[u8]) -> usize {
    ours_with(&Options::default(), signal, encoding, body).0
}

fn bench(c: &mut Criterion) {
    for (id, signal, encoding, body) in workloads() {
        let mut g = c.benchmark_group(format!("peers/{id}"));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_with_input(BenchmarkId::from_parameter("otlp2r2"), &body, |b, body| {
            b.iter(|| black_box(ours(signal, encoding, black_box(body))))
        });
        g.bench_with_input(
            BenchmarkId::from_parameter("otlp2records"),
            &body,
            |b, body| b.iter(|| black_box(peer(signal, encoding, black_box(body)))),
        );
        g.finish();
    }
}

/// Parquet writing alone (`peers-write/<id>/<library>`): each library's own
/// batches of the same protobuf request, written with its own settings. This
/// splits each total into the parquet crate's encoding and everything else.
fn bench_write(c: &mut Criterion) {
    use fixtures::stages;
    use otlp2r2::{pipeline, Limits};
    for (id, signal, encoding, body) in workloads() {
        if signal == Signal::Metrics || encoding != Encoding::Protobuf {
            continue;
        }
        let model = pipeline::decode(signal, encoding, &body, &Limits::UNLIMITED).unwrap();
        let ours = stages::batches(&model);
        let theirs = stages::peer_batches(signal, encoding, &body).unwrap();
        let mut g = c.benchmark_group(format!("peers-write/{id}"));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("otlp2r2", |b| b.iter(|| stages::write_all(&ours)));
        g.bench_function("otlp2records", |b| {
            b.iter(|| {
                theirs
                    .iter()
                    .map(|b| stages::peer_parquet(b).unwrap().len())
                    .sum::<usize>()
            })
        });
        g.finish();
    }
}

/// Requests sized to the Worker's limits, for the peak-memory table: the
/// largest protobuf logs bodies (the densest input) under 8 and 16 MiB.
#[cfg(feature = "dhat-heap")]
fn limit_workloads() -> Vec<(&'static str, Signal, Encoding, Vec<u8>)> {
    let sized = |target: usize| {
        let per = fixtures::logs(1000, 9).encoded_len() / 1000;
        fixtures::logs(target / per - 200, 9).encode_to_vec()
    };
    vec![
        (
            "logs-pb-8MiB",
            Signal::Logs,
            Encoding::Protobuf,
            sized(8 << 20),
        ),
        (
            "logs-pb-16MiB",
            Signal::Logs,
            Encoding::Protobuf,
            sized(16 << 20),
        ),
    ]
}

/// Runs one workload once under dhat (this process) and prints a line.
#[cfg(feature = "dhat-heap")]
fn dhat_one(id: &str, library: &str) {
    let (_, signal, encoding, body) = workloads()
        .into_iter()
        .chain(limit_workloads())
        .find(|w| w.0 == id)
        .expect("workload");
    // OTLP2R2_DHAT_FILE=path also saves the per-site profile (dh_view format).
    let profiler = match std::env::var("OTLP2R2_DHAT_FILE") {
        Ok(path) => dhat::Profiler::builder().file_name(path).build(),
        Err(_) => dhat::Profiler::builder().testing().build(),
    };
    let out = if library == "otlp2r2" {
        // Without size limits: the limit-sized workloads exceed the defaults.
        let opts = Options {
            limits: otlp2r2::Limits::UNLIMITED,
            ..Options::default()
        };
        ours_with(&opts, signal, encoding, &body)
    } else {
        peer_counted(signal, encoding, &body)
    };
    let stats = dhat::HeapStats::get();
    drop(profiler);
    let n = out.1 as u64;
    println!(
        "dhat {id:<18} {library:<13} allocated {:>7} B/record  peak {:>7} B/record  blocks {:>5.1}/record  peak {:>6.1} MiB  (records {n}, input {} B, output {} B)",
        stats.total_bytes / n,
        stats.max_bytes as u64 / n,
        stats.total_blocks as f64 / n as f64,
        stats.max_bytes as f64 / (1 << 20) as f64,
        body.len(),
        out.0
    );
}

/// `--cycles WORKLOAD N [STAGE]`: runs one stage of ours on one protobuf
/// logs or traces workload N times and nothing else, for `perf stat`
/// (`make bench-cycles` subtracts a run with N = 0, which does the same
/// set-up: fixtures, and for `transform` and `write` the model or batches).
/// STAGE is `all` (the default: `process`), `decode`, `transform` or `write`,
/// or `peer`: the peer's whole conversion of the same body (`peer`).
/// WORKLOAD may end in `@RECORDS` (`logs-protobuf@512`) for a request of
/// that many records instead of 10,000.
fn cycles(id: &str, n: usize, stage: &str) {
    use fixtures::stages;
    use otlp2r2::{pipeline, Limits};
    let (id, records) = match id.split_once('@') {
        Some((id, records)) => (id, records.parse().expect("RECORDS")),
        None => (id, N),
    };
    let (_, signal, encoding, body) = workloads_of(records)
        .into_iter()
        .find(|w| w.0 == id)
        .expect("workload");
    let decode = || pipeline::decode(signal, encoding, &body, &Limits::UNLIMITED);
    let model = decode().unwrap();
    let batches = || stages::batches(&model);
    let built = batches();
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match stage {
            "decode" => match decode().unwrap() {
                pipeline::Model::Logs(m) => m.len(),
                pipeline::Model::Traces(m) => m.len(),
                pipeline::Model::Metrics(m) => m.len(),
            },
            "transform" => batches().len(),
            "write" => stages::write_all(&built),
            "peer" => peer(signal, encoding, &body),
            _ => ours(signal, encoding, &body),
        };
    }
    black_box(sink);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--cycles") {
        let stage = args.get(i + 3).map_or("all", String::as_str);
        cycles(&args[i + 1], args[i + 2].parse().expect("N"), stage);
        return;
    }
    if args.iter().any(|a| a == "--dhat") {
        #[cfg(feature = "dhat-heap")]
        {
            if let Some(i) = args.iter().position(|a| a == "--dhat-one") {
                dhat_one(&args[i + 1], &args[i + 2]);
                return;
            }
            let ids: Vec<&str> = workloads()
                .iter()
                .chain(&limit_workloads())
                .map(|w| w.0)
                .collect();
            for id in ids {
                for lib in ["otlp2r2", "otlp2records"] {
                    let status = std::process::Command::new(&args[0])
                        .args(["--dhat", "--dhat-one", id, lib])
                        .status()
                        .expect("re-run self");
                    assert!(status.success());
                }
            }
            return;
        }
        #[cfg(not(feature = "dhat-heap"))]
        {
            eprintln!("--dhat needs `--features dhat-heap` (make bench-dhat)");
            std::process::exit(2);
        }
    }
    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(4))
        .configure_from_args();
    bench(&mut c);
    bench_write(&mut c);
    c.final_summary();
}
