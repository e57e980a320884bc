//! The native CLI, a thin edge like the Worker over the local-folder store:
//!
//! - `otlp2r2 convert` runs the Worker's pipeline on a file and writes
//!   exactly the objects the Worker would put under `--out DIR` (keys become
//!   relative paths), then prints a one-line summary;
//! - `otlp2r2 compact DIR` compacts a folder laid out like the bucket with
//!   the Worker's code ([`otlp2r2::compact`]): the same eligibility, protocol
//!   and outputs.

use std::path::PathBuf;
use std::process::ExitCode;

use otlp2r2::store::{self, dir::Dir};
use otlp2r2::{process, Encoding, Options, Request, Signal};

const USAGE: &str = "\
usage: otlp2r2 convert --signal logs|traces|metrics [--json] [--gzip] [--micros] INPUT --out DIR
       otlp2r2 compact DIR [--now SECS] [--grace SECS] [--target-bytes N] [--row-group-rows N]
                       [--row-group-bytes N] [--memory-bytes N] [--lookback-hours N] [--dry-run]

convert:
  --signal S   the OTLP signal in INPUT
  --json       INPUT is OTLP/JSON (default: protobuf)
  --gzip       INPUT is gzip-compressed
  --micros     write microsecond timestamps instead of nanoseconds
  --out DIR    where to write the objects (created if missing)

compact: merge each closed hour's small files of DIR (laid out as `convert` writes)
  --now SECS           the clock, in Unix seconds (default: now)
  --grace SECS         wait after an hour closes (default 900)
  --target-bytes N     close an output file at this size (default 134217728, at least 1048576)
  --row-group-rows N   rows per row group (default 131072)
  --row-group-bytes N  or fewer, once a row group holds this many bytes (default 4194304)
  --memory-bytes N     reader memory one run may hold (default 26214400, the Worker's bound);
                       more lets a run merge more files at once, so fewer runs re-merge outputs
  --lookback-hours N   only the hours up to N before now (default 0: every hour of DIR;
                       the Worker's default is 168)
  --dry-run            list the partitions it would compact, change nothing";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("otlp2r2: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        println!("{USAGE}");
        return Ok(());
    }
    match args.subcommand().map_err(|e| e.to_string())?.as_deref() {
        Some("convert") => {}
        Some("compact") => return compact(args),
        _ => return Err(format!("expected a command\n{USAGE}")),
    }
    let signal: String = args
        .value_from_str("--signal")
        .map_err(|e| format!("{e}\n{USAGE}"))?;
    let signal =
        Signal::from_name(&signal).ok_or_else(|| format!("unknown signal {signal:?}\n{USAGE}"))?;
    let encoding = if args.contains("--json") {
        Encoding::Json
    } else {
        Encoding::Protobuf
    };
    let gzip = args.contains("--gzip");
    let micros = args.contains("--micros");
    let out: PathBuf = args
        .value_from_str("--out")
        .map_err(|e| format!("{e}\n{USAGE}"))?;
    let input: PathBuf = args
        .free_from_str()
        .map_err(|e| format!("INPUT: {e}\n{USAGE}"))?;
    let rest = args.finish();
    if !rest.is_empty() {
        return Err(format!("unexpected arguments {rest:?}\n{USAGE}"));
    }

    let body = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut opts = Options::default();
    if micros {
        opts.timestamp_unit = arrow_schema::TimeUnit::Microsecond;
    }
    // A file is not a Worker request: the CLI has a machine's memory, so the
    // size limits (which protect a 128 MB isolate) are lifted.
    opts.limits = otlp2r2::Limits::UNLIMITED;
    let req = Request {
        signal,
        encoding,
        gzip,
        body: &body,
    };
    let output = process(&req, &opts).map_err(|e| format!("{}: {e}", input.display()))?;
    let (records, rejected, files, bytes_in, bytes_out) = (
        output.records,
        output.rejected,
        output.objects.len(),
        output.bytes_in,
        output.bytes_out(),
    );
    let objects = output.objects.into_iter().map(|o| (o.key, o.data));
    futures_executor::block_on(store::put_all(&Dir::new(&out), objects))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{records} records, {rejected} rejected, {files} files, {bytes_in} bytes in, {bytes_out} bytes out"
    );
    Ok(())
}

/// The value of option `name`, or `default` when it is absent; a value
/// that does not parse is an error with the usage.
fn flag<T>(args: &mut pico_args::Arguments, name: &'static str, default: T) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    Ok(args
        .opt_value_from_str(name)
        .map_err(|e| format!("{e}\n{USAGE}"))?
        .unwrap_or(default))
}

fn compact(mut args: pico_args::Arguments) -> Result<(), String> {
    use otlp2r2::compact::{self, Settings};
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let now: u64 = flag(&mut args, "--now", clock)?;
    let d = Settings::default();
    let settings = Settings {
        grace_secs: flag(&mut args, "--grace", d.grace_secs)?,
        target_bytes: flag(&mut args, "--target-bytes", d.target_bytes)?,
        row_group_rows: flag(&mut args, "--row-group-rows", d.row_group_rows)?,
        row_group_bytes: flag(&mut args, "--row-group-bytes", d.row_group_bytes)?,
        merge_memory_bytes: flag(&mut args, "--memory-bytes", d.merge_memory_bytes)?,
        // A folder is listed for free: every hour, unless asked otherwise.
        lookback_hours: flag(&mut args, "--lookback-hours", 0)?,
        ..d
    };
    if settings.target_bytes < otlp2r2::compact::MIN_TARGET_BYTES {
        return Err(format!(
            "--target-bytes must be at least {}\n{USAGE}",
            otlp2r2::compact::MIN_TARGET_BYTES
        ));
    }
    if settings.row_group_rows == 0
        || settings.row_group_bytes == 0
        || settings.merge_memory_bytes == 0
    {
        return Err(format!(
            "--row-group-rows, --row-group-bytes and --memory-bytes must be positive\n{USAGE}"
        ));
    }
    let dry_run = args.contains("--dry-run");
    let dir: PathBuf = args
        .free_from_str()
        .map_err(|e| format!("DIR: {e}\n{USAGE}"))?;
    let rest = args.finish();
    if !rest.is_empty() {
        return Err(format!("unexpected arguments {rest:?}\n{USAGE}"));
    }
    if !dir.is_dir() {
        return Err(format!("{}: not a folder", dir.display()));
    }
    let store = Dir::new(&dir);
    let fail = |e: otlp2r2::Error| format!("{}: {e}", dir.display());
    if dry_run {
        let partitions = futures_executor::block_on(compact::find_eligible(&store, now, &settings))
            .map_err(fail)?;
        for p in &partitions {
            println!("would compact {}", p.prefix());
        }
        println!("{} partitions eligible", partitions.len());
        return Ok(());
    }
    let started = std::time::Instant::now();
    let owner = format!("cli-{}-{clock}", std::process::id());
    let table_files = || {
        futures_executor::block_on(otlp2r2::store::list_all(&store, "otel_"))
            .map(|l| l.len())
            .map_err(fail)
    };
    let before = table_files()?;
    let mut runs = 0usize;
    // Summed here rather than taken from `compact_all`, which returns only
    // the error when a partition failed: the others' summary still prints.
    let mut total = compact::Report::default();
    let mut progress = |p: &compact::Partition, r: Result<&compact::Report, &otlp2r2::Error>| {
        let r = match r {
            Ok(r) => r,
            // The other partitions go on; the command fails at the end.
            Err(e) => return eprintln!("{}: not compacted: {e}", p.prefix()),
        };
        total += r;
        runs += 1;
        // Progress only for runs long enough to want it.
        if started.elapsed().as_secs() >= 2 {
            eprintln!(
                "{}: {} files, {} rows → {} files",
                p.prefix(),
                r.inputs,
                r.rows,
                r.outputs
            );
        }
    };
    // The clock runs on from `--now` with the system's clock (which, unlike
    // `Instant`, also runs while the machine sleeps): each run's lease is
    // taken, and kept, by the time it really starts.
    let since = std::time::SystemTime::now();
    let clock = || now.saturating_add(since.elapsed().map_or(0, |d| d.as_secs()));
    let result = futures_executor::block_on(compact::compact_all(
        &store,
        &clock,
        &settings,
        &owner,
        &mut progress,
    ));
    // A partition over one run's bounds takes several runs, and a later
    // run merges earlier runs' outputs again: the files are counted before
    // and after, the bytes and rows as merged (again each time).
    println!(
        "{before} table files → {} in {runs} runs; merged {} rows, {} bytes into {} bytes; {} late retries deleted, {} crashed runs recovered, {:.1} s",
        table_files()?,
        total.rows,
        total.bytes_in,
        total.bytes_out,
        total.late_deleted,
        total.recovered,
        started.elapsed().as_secs_f64()
    );
    if total.unreadable_files > 0 {
        eprintln!(
            "{} files left alone, not Parquet files this compactor reads (each run counts them again):",
            total.unreadable_files
        );
        total.unreadable.iter().for_each(|u| eprintln!("  {u}"));
    }
    result.map(drop).map_err(fail)
}
