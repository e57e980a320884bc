//! Real readers: the written files are read with DuckDB and pyarrow (PyPI
//! `duckdb` and `pyarrow`, installed by `make test`); their columns are checked
//! against the ClickHouse exporter's DDL (`tests/data/clickhouse_ddl.sql`) and
//! their values against the parquet crate's own writer.
//!
//! These tests need Python with the readers, so they are `#[ignore]`d: a bare
//! `cargo test` reports them as ignored (a skip, never a pass). `make test`
//! installs the readers, points `OTLP2R2_PYTHON` at its virtualenv and runs
//! them with `--include-ignored`; there a missing reader is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixtures;
use otlp2r2::{process, Encoding, Options, Request, Signal};
use prost::Message;

/// The Python that has DuckDB and pyarrow; a test that runs without one fails.
fn python() -> String {
    let py = std::env::var("OTLP2R2_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import duckdb, pyarrow"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{py} cannot import duckdb and pyarrow; run `make test` (it installs the readers)"
    );
    py
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("otlp2r2-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tests/readers/<script>` with `args`; it prints a JSON report on
/// success and the problems on stderr otherwise.
fn run_check(py: &str, script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(py)
        .arg(format!("{root}/tests/readers/{script}"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn write_all(dir: &Path, signal: Signal, body: &[u8]) -> usize {
    let out = process(
        &Request {
            signal,
            encoding: Encoding::Protobuf,
            gzip: false,
            body,
        },
        &Options::default(),
    )
    .unwrap();
    for o in &out.objects {
        let p = dir.join(&o.key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &o.data).unwrap();
    }
    out.records
}

#[test]
#[ignore = "needs DuckDB and pyarrow: run `make test`"]
fn duckdb_reads_every_table_with_the_exporter_columns() {
    let py = python();
    let dir = TempDir::new("duckdb");
    let logs = write_all(
        &dir.0,
        Signal::Logs,
        &fixtures::logs(3000, 1).encode_to_vec(),
    );
    let spans = write_all(
        &dir.0,
        Signal::Traces,
        &fixtures::traces(2000, 2).encode_to_vec(),
    );
    let points = write_all(
        &dir.0,
        Signal::Metrics,
        &fixtures::metrics(1000, 3).encode_to_vec(),
    );

    let root = env!("CARGO_MANIFEST_DIR");
    let ddl = format!("{root}/tests/data/clickhouse_ddl.sql");
    let report = run_check(&py, "duckdb_check.py", &[dir.0.as_os_str(), ddl.as_ref()]);

    assert_eq!(report["otel_logs"]["rows"], logs);
    assert_eq!(report["otel_traces"]["rows"], spans);
    let metric_rows: u64 = [
        "gauge",
        "sum",
        "histogram",
        "exponential_histogram",
        "summary",
    ]
    .iter()
    .map(|t| {
        report[format!("otel_metrics_{t}")]["rows"]
            .as_u64()
            .unwrap()
    })
    .sum();
    assert_eq!(metric_rows as usize, points);

    let s = &report["otel_logs"]["sample"];
    assert_eq!(s["services"], 5);
    assert!(s["with_trace"].as_u64().unwrap() > 1000);
    assert_eq!(
        s["sev_texts"],
        serde_json::json!(["DEBUG", "ERROR", "INFO", "WARN"])
    );
    let t = &report["otel_traces"]["sample"];
    assert_eq!(t["events"], 500, "every fourth span has one event");
    assert_eq!(
        t["kinds"],
        serde_json::json!(["Client", "Consumer", "Internal", "Producer", "Server"])
    );
    assert_eq!(t["pid"], "1000", "int attributes render as decimal text");
    assert_eq!(
        report["otel_metrics_histogram"]["sample"]["bounds"],
        "[5.0, 10.0, 25.0, 50.0]"
    );
}

/// DuckDB and pyarrow read every value of every table (maps, lists,
/// timestamps) exactly as they read the same rows written by the parquet
/// crate's `ArrowWriter`: the string encoder's pages (dictionary,
/// `DELTA_LENGTH_BYTE_ARRAY`, levels) mean to real readers what the reference
/// writer's pages mean.
#[test]
#[ignore = "needs DuckDB and pyarrow: run `make test`"]
fn real_readers_read_every_value_as_the_reference_writer_wrote_it() {
    let py = python();
    let dir = TempDir::new("duckdb-same");
    let mut files = 0;
    // A body of 1.5 MB among small ones: its page is compressed in two
    // pieces stitched into one Snappy stream (`write::strings::page`).
    let mut wide = fixtures::logs(50, 4);
    let mut state = 7u32;
    let letters: String = (0..1_500_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    let record = &mut wide.resource_logs[0].scope_logs[0].log_records[3];
    record.body = Some(opentelemetry_proto::tonic::common::v1::AnyValue {
        value: Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(letters)),
    });
    for (signal, body) in [
        (Signal::Logs, fixtures::logs(3000, 1).encode_to_vec()),
        (Signal::Traces, fixtures::traces(2000, 2).encode_to_vec()),
        (Signal::Metrics, fixtures::metrics(1000, 3).encode_to_vec()),
        (Signal::Logs, wide.encode_to_vec()),
    ] {
        let out = process(
            &Request {
                signal,
                encoding: Encoding::Protobuf,
                gzip: false,
                body: &body,
            },
            &Options::default(),
        )
        .unwrap();
        for (i, o) in out.objects.iter().enumerate() {
            let batch = common::read_parquet(&o.data);
            let props = otlp2r2::write::properties(o.table, &batch.schema(), batch.num_rows());
            let mut reference = Vec::new();
            let mut w =
                parquet::arrow::ArrowWriter::try_new(&mut reference, batch.schema(), Some(props))
                    .unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            let name = format!("{}-{files}-{i}", o.table.name());
            std::fs::write(dir.0.join(format!("{name}.ours.parquet")), &o.data).unwrap();
            std::fs::write(dir.0.join(format!("{name}.reference.parquet")), reference).unwrap();
            files += 1;
        }
    }
    let report = run_check(&py, "same_as_reference.py", &[dir.0.as_os_str()]);
    assert_eq!(report.as_object().unwrap().len(), files);
}
