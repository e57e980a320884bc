//! `compact/<table>/<files>x<rows>`: one partition of many small files
//! merged by `compact::run` over the in-memory store (the Worker's code,
//! without R2's latency). Throughput in input bytes. Each iteration starts
//! from a fresh copy of the inputs (not timed).
//!
//! `OTLP2R2_COMPACT_DUMP=DIR` also writes each workload's input files as
//! `DIR/<workload>/<key>` (the bucket's layout) for
//! `scripts/bench_compact_peer.py` (DuckDB doing the same job, in the same
//! run) and `scripts/bench_worker.py --compact` (the Worker's queue consumer
//! in workerd). With `OTLP2R2_COMPACT_LARGE_MIB=N` as well, it writes
//! `DIR/logs-large/`: one logs partition of about N MiB of 8,192-row files,
//! and three partitions of 1,000 one-record requests (logs, spans,
//! exponential histograms): the memory bound's tests in workerd (dumped
//! only, not timed here).
//!
//! With `--features dhat-heap` and `-- --dhat`, each workload instead runs
//! once under dhat in its own process and prints allocated bytes, blocks and
//! peak heap per row (`make bench-compact-dhat`); `--dhat-dir DIR` profiles
//! the compaction of one partition on disk, and `--dhat-read FILE [ROWS]`
//! the reading of one file as a merge input, beside the memory estimate
//! that bounds a run.

mod fixtures;

use criterion::{BatchSize, Criterion, Throughput};
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
        each_input(signal, seed, rows, |key, data| out.push((key, data)));
    }
    out
}

/// Calls `f` with the file of fixture request `seed` (`rows` records).
fn each_input(signal: Signal, seed: u64, rows: usize, mut f: impl FnMut(String, Vec<u8>)) {
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
    for o in output.objects.into_iter().filter(|o| o.table == first) {
        f(o.key, o.data);
    }
}

fn dump(dir: &std::path::Path, key: &str, data: &[u8]) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// `DIR/logs-large/`: 8,192-row logs files until `mib` MiB are written.
fn dump_large(dir: &std::path::Path, mib: u64) {
    let d = dir.join("logs-large");
    let mut written = 0u64;
    for seed in 0.. {
        if written >= mib << 20 {
            break;
        }
        each_input(Signal::Logs, seed, 8192, |key, data| {
            written += data.len() as u64;
            dump(&d, &key, &data);
        });
    }
}

/// `DIR/<signal>-1000x1/`: 1,000 requests of one record each, the files of
/// one table each (logs, spans, and exponential histograms, the widest
/// table at 36 columns): a run's memory there is mostly what each input's
/// footer holds (`compact::read::Footer::footer_memory`).
fn dump_one_row(dir: &std::path::Path) {
    for (signal, name) in [
        (Signal::Logs, "logs"),
        (Signal::Traces, "traces"),
        (Signal::Metrics, "metrics-exphist"),
    ] {
        let d = dir.join(format!("{name}-1000x1"));
        for seed in 0..1000u64 {
            // One record, except metrics: one point of each kind.
            let body = match signal {
                Signal::Logs => fixtures::logs(1, 100 + seed).encode_to_vec(),
                Signal::Traces => fixtures::traces(1, 100 + seed).encode_to_vec(),
                Signal::Metrics => fixtures::metrics(5, 100 + seed).encode_to_vec(),
            };
            let req = Request {
                signal,
                encoding: Encoding::Protobuf,
                gzip: false,
                body: &body,
            };
            let output = process(&req, &Options::default()).unwrap();
            let keep = |t: otlp2r2::Table| {
                signal != Signal::Metrics || t == otlp2r2::Table::ExponentialHistogram
            };
            for o in output.objects.into_iter().filter(|o| keep(o.table)) {
                dump(&d, &o.key, &o.data);
            }
        }
    }
}

/// The partitions timed: (signal, files, rows per file).
const WORKLOADS: [(Signal, usize, usize); 4] = [
    (Signal::Logs, 500, 100),
    (Signal::Logs, 40, 8192),
    (Signal::Traces, 500, 100),
    (Signal::Metrics, 200, 100),
];

const NOW: u64 = 1_900_000_000;

fn partition_of(files: &[(String, Vec<u8>)]) -> compact::Partition {
    let (table, hour) = otlp2r2::key::parse_partition(&files[0].0).unwrap();
    compact::Partition { table, hour }
}

fn loaded(files: &[(String, Vec<u8>)]) -> Memory {
    let store = Memory::new();
    for (k, d) in files {
        block_on(store.put(k, d.clone(), PutMode::Overwrite)).unwrap();
    }
    store
}

/// Compacts `partition` as the Worker's queue does: run after run while a
/// run's bounds leave files (`Report::more`). Reports the sum of the runs;
/// its `rows` count rows merged again by a later run once more.
fn whole<S: Store>(
    store: &S,
    partition: compact::Partition,
    settings: &Settings,
) -> (compact::Report, usize) {
    let mut total = compact::Report::default();
    for runs in 1.. {
        let r = block_on(compact::run(store, partition, &|| NOW, settings, "bench")).unwrap();
        total += &r;
        if !r.more {
            return (total, runs);
        }
    }
    unreachable!("runs until one leaves no work")
}

fn bench(c: &mut Criterion) {
    let settings = Settings::default();
    let dump_dir = std::env::var_os("OTLP2R2_COMPACT_DUMP").map(std::path::PathBuf::from);
    let large: u64 = std::env::var("OTLP2R2_COMPACT_LARGE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if let (Some(dir), true) = (&dump_dir, large > 0) {
        dump_large(dir, large);
        dump_one_row(dir);
    }
    for (signal, files, rows) in WORKLOADS {
        let files_in = inputs(signal, files, rows);
        let bytes: usize = files_in.iter().map(|(_, d)| d.len()).sum();
        let id = format!("{}/{files}x{rows}", signal.name());
        if let Some(dir) = &dump_dir {
            let d = dir.join(id.replace('/', "-"));
            for (key, data) in &files_in {
                dump(&d, key, data);
            }
        }
        let partition = partition_of(&files_in);
        let mut g = c.benchmark_group("compact");
        g.throughput(Throughput::Bytes(bytes as u64));
        g.sample_size(10);
        g.bench_function(&id, |b| {
            b.iter_batched(
                || loaded(&files_in),
                |store| {
                    let (r, _) = whole(&store, partition, &settings);
                    assert!(r.inputs >= files);
                    r.bytes_out
                },
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The table files under `dir` (laid out as the bucket, as `convert` and
/// the dumps write them), as (key, bytes), read through the folder store.
#[cfg(feature = "dhat-heap")]
fn files_under(dir: &str) -> Vec<(String, Vec<u8>)> {
    let folder = otlp2r2::store::dir::Dir::new(dir);
    let listing = block_on(otlp2r2::store::list_all(&folder, "otel_")).unwrap();
    (listing.into_iter())
        .map(|m| {
            let data = block_on(folder.get(&m.key, None)).unwrap().unwrap();
            (m.key, data)
        })
        .collect()
}

/// Runs every run of the partition of `files` (stored in `store`) under
/// dhat; `OTLP2R2_DHAT_FILE=path` also saves the per-site profile (dh_view
/// format). The sum of the runs, their number, and dhat's totals.
#[cfg(feature = "dhat-heap")]
fn profiled<S: Store>(
    store: &S,
    files: &[(String, Vec<u8>)],
) -> (compact::Report, usize, dhat::HeapStats) {
    let profiler = match std::env::var("OTLP2R2_DHAT_FILE") {
        Ok(path) => dhat::Profiler::builder().file_name(path).build(),
        Err(_) => dhat::Profiler::builder().testing().build(),
    };
    let (r, runs) = whole(store, partition_of(files), &Settings::default());
    let stats = dhat::HeapStats::get();
    drop(profiler);
    (r, runs, stats)
}

/// `--dhat-dir DIR`: compacts the one partition under `DIR` (every run)
/// under dhat, in place through the folder store (give it a copy), and
/// prints the totals; `OTLP2R2_DHAT_FILE` saves the profile. The heap is
/// then the runs' own, as in the Worker, whose bucket holds the objects
/// outside its memory. For a partition that a workerd run found costly
/// (`make bench-compact-worker` prints each run's memory).
#[cfg(feature = "dhat-heap")]
fn dhat_dir(dir: &str) {
    let files_in = files_under(dir);
    let store = otlp2r2::store::dir::Dir::new(dir);
    let (r, runs, stats) = profiled(&store, &files_in);
    println!(
        "dhat {dir}: {runs} run(s), {} inputs, {} rows, {} B in, {} B out; allocated {} B in {} blocks, peak {:.1} MiB (the runs' own: the folder store keeps nothing)",
        r.inputs,
        r.rows,
        r.bytes_in,
        r.bytes_out,
        stats.total_bytes,
        stats.total_blocks,
        stats.max_bytes as f64 / (1 << 20) as f64
    );
}

/// `--dhat-read FILE [BATCH_ROWS] [--keep-dictionaries]`: reads every row
/// group of one Parquet file as a merge input does (its byte range, then
/// batches of BATCH_ROWS, 1,024 by default, one held at a time) under dhat,
/// and prints the peak heap beside the estimate the compactor's memory
/// bound uses (`Footer::read_memory`), to check the estimate on files
/// unlike the bench's. With `--keep-dictionaries`, the string leaves that
/// the file holds as dictionaries throughout are decoded as dictionaries,
/// as a run whose every input does so decodes them.
#[cfg(feature = "dhat-heap")]
fn dhat_read(path: &str, batch_rows: usize, keep_dictionaries: bool) {
    let data = std::fs::read(path).expect("the file");
    let compact::read::FooterOrNeed::Footer(mut footer) =
        compact::read::Footer::parse(&data, data.len() as u64).unwrap()
    else {
        panic!("{path}: no footer")
    };
    let mut kept = Vec::new();
    if keep_dictionaries {
        let decoded = compact::read::decoded_schema(footer.table(), footer.schema(), &[&footer]);
        kept = footer.dictionary_leaves(&decoded);
        footer.decode_as(decoded).unwrap();
    }
    let estimate = footer.read_memory(batch_rows, &kept);
    let ranges: Vec<_> = (0..footer.row_groups())
        .map(|i| footer.row_group(i).unwrap())
        .collect();
    let profiler = dhat::Profiler::builder().testing().build();
    for (i, g) in ranges.iter().enumerate() {
        let bytes =
            bytes::Bytes::copy_from_slice(&data[g.start as usize..(g.start + g.len) as usize]);
        let mut held = None;
        for batch in footer
            .decode_row_group(i, g.start, bytes, batch_rows)
            .unwrap()
        {
            held = Some(batch.unwrap());
        }
        drop(held);
    }
    let stats = dhat::HeapStats::get();
    drop(profiler);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let largest = ranges.iter().map(|g| g.len).max().unwrap_or(0);
    println!(
        "dhat read {path}: {} row groups (largest {:.1} MiB compressed), batches of {batch_rows}{}: \
         peak heap {:.1} MiB; estimate: peak {:.1} MiB, held {:.1} MiB",
        ranges.len(),
        mib(largest),
        if keep_dictionaries {
            ", dictionaries kept"
        } else {
            ""
        },
        mib(stats.max_bytes as u64),
        mib(estimate.peak),
        mib(estimate.held),
    );
}

/// Compacts workload `i` (every run it takes) under dhat (this process) and
/// prints a line. Only the runs are profiled: the inputs are made and stored
/// before. The peak includes the outputs, which the in-memory store keeps.
#[cfg(feature = "dhat-heap")]
fn dhat_one(i: usize) {
    let (signal, files, rows) = WORKLOADS[i];
    let files_in = inputs(signal, files, rows);
    let input: usize = files_in.iter().map(|(_, d)| d.len()).sum();
    let store = loaded(&files_in);
    let (r, runs, stats) = profiled(&store, &files_in);
    // The partition's rows and its compacted files (the sums in `r` count
    // rows and bytes of intermediate runs again).
    let (mut n, mut output, mut outputs) = (0u64, 0u64, 0usize);
    for (key, data) in store.snapshot() {
        if key.starts_with("otel_") {
            let compact::read::FooterOrNeed::Footer(f) =
                compact::read::Footer::parse(&data, data.len() as u64).unwrap()
            else {
                panic!("{key}: no footer")
            };
            n += f.rows();
            output += data.len() as u64;
            outputs += 1;
        }
    }
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "dhat compact/{}/{files}x{rows}: {} run(s), allocated {} B/row ({:.1}x the output's {} B/row), {:.2} blocks/row, \
         peak {:.1} MiB incl. up to the {:.1} MiB of outputs the store keeps (rows {n}, input {input} B, {outputs} output file(s) {output} B, {:.2}x)",
        signal.name(),
        runs,
        stats.total_bytes / n.max(1),
        stats.total_bytes as f64 / output as f64,
        output / n.max(1),
        stats.total_blocks as f64 / n.max(1) as f64,
        mib(stats.max_bytes as u64),
        mib(r.bytes_out),
        output as f64 / input as f64,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--dhat") {
        #[cfg(feature = "dhat-heap")]
        {
            if let Some(i) = args.iter().position(|a| a == "--dhat-dir") {
                dhat_dir(&args[i + 1]);
                return;
            }
            if let Some(i) = args.iter().position(|a| a == "--dhat-read") {
                let rows = args.get(i + 2).and_then(|r| r.parse().ok());
                let keep = args.iter().any(|a| a == "--keep-dictionaries");
                dhat_read(&args[i + 1], rows.unwrap_or(1024), keep);
                return;
            }
            if let Some(i) = args.iter().position(|a| a == "--dhat-one") {
                dhat_one(args[i + 1].parse().expect("workload index"));
                return;
            }
            for i in 0..WORKLOADS.len() {
                let status = std::process::Command::new(&args[0])
                    .args(["--dhat", "--dhat-one", &i.to_string()])
                    .status()
                    .expect("re-run self");
                assert!(status.success());
            }
            return;
        }
        #[cfg(not(feature = "dhat-heap"))]
        {
            eprintln!("--dhat needs `--features dhat-heap` (make bench-compact-dhat)");
            std::process::exit(2);
        }
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
