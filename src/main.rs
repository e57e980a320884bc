//! The native CLI: `otlp2r2 convert` runs the Worker's pipeline on a file.
//!
//! It writes exactly the objects the Worker would put, through the
//! local-folder store under `--out DIR` (keys become relative paths), and
//! prints a one-line summary. It is a thin edge like the Worker: all logic is
//! in [`otlp2r2::process`] and [`otlp2r2::store`].

use std::path::PathBuf;
use std::process::ExitCode;

use otlp2r2::store::{self, dir::Dir};
use otlp2r2::{process, Encoding, Options, Request, Signal};

const USAGE: &str = "\
usage: otlp2r2 convert --signal logs|traces|metrics [--json] [--gzip] [--micros] INPUT --out DIR

  --signal S   the OTLP signal in INPUT
  --json       INPUT is OTLP/JSON (default: protobuf)
  --gzip       INPUT is gzip-compressed
  --micros     write microsecond timestamps instead of nanoseconds
  --out DIR    where to write the objects (created if missing)";

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
