//! The fuzz targets (tests/fuzz, `make fuzz`) inside plain `cargo test`:
//! every input the fuzzers ever crashed on (tests/data/fuzz/<target>/) replays
//! clean, and every fixture seed passes its target's success-path invariants.
//! The targets' code is tests/fuzz/src/lib.rs itself, included here, so a
//! replay runs exactly what the fuzzer ran. `write_fuzz_seeds` (ignored)
//! writes the seed corpora for `make fuzz-seeds`.
//!
//! It does not fuzz: libFuzzer needs its own build (see docs/reliability.md, "Coverage-guided fuzzing").

mod common;

#[path = "fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::path::{Path, PathBuf};

use common::fixtures::{self, json::Style};
use otlp2r2::{Encoding, Signal};
use prost::Message;

/// Requests made from the fixtures and the sample files: (name, signal,
/// encoding, gzip, body). All valid.
fn fixture_requests() -> Vec<(String, Signal, Encoding, bool, Vec<u8>)> {
    let mut out = Vec::new();
    let styles = [
        ("", Style::default()),
        (
            "-numbers-names",
            Style {
                int64_as_numbers: true,
                enum_names: true,
            },
        ),
    ];
    for n in [1, 4, 20] {
        let seed = n as u64;
        let (logs, traces, metrics) = (
            fixtures::logs(n, seed),
            fixtures::traces(n, seed),
            fixtures::metrics(n, seed),
        );
        out.push((
            format!("logs-{n}"),
            Signal::Logs,
            Encoding::Protobuf,
            false,
            logs.encode_to_vec(),
        ));
        out.push((
            format!("traces-{n}"),
            Signal::Traces,
            Encoding::Protobuf,
            false,
            traces.encode_to_vec(),
        ));
        out.push((
            format!("metrics-{n}"),
            Signal::Metrics,
            Encoding::Protobuf,
            false,
            metrics.encode_to_vec(),
        ));
        for (suffix, st) in styles {
            let j = |s: String| s.into_bytes();
            out.push((
                format!("logs-{n}-json{suffix}"),
                Signal::Logs,
                Encoding::Json,
                false,
                j(fixtures::json::logs(&logs, st)),
            ));
            out.push((
                format!("traces-{n}-json{suffix}"),
                Signal::Traces,
                Encoding::Json,
                false,
                j(fixtures::json::traces(&traces, st)),
            ));
            out.push((
                format!("metrics-{n}-json{suffix}"),
                Signal::Metrics,
                Encoding::Json,
                false,
                j(fixtures::json::metrics(&metrics, st)),
            ));
        }
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (file, signal, encoding) in [
        ("logs.pb", Signal::Logs, Encoding::Protobuf),
        ("traces.pb", Signal::Traces, Encoding::Protobuf),
        ("metrics.pb", Signal::Metrics, Encoding::Protobuf),
        ("logs.json", Signal::Logs, Encoding::Json),
    ] {
        let body = std::fs::read(data.join(file)).unwrap();
        out.push((format!("data-{file}"), signal, encoding, false, body));
    }
    out
}

/// Scenario: every fixture request, as each target's seed. Guarantees the
/// targets' success paths run (a valid request is accepted by its decoder
/// target, the gzip target and `process`, with all their asserts), so a
/// target that rejected everything could not pass for a clean fuzz run.
#[test]
fn fixture_seeds_pass_every_target() {
    let mut seen = std::collections::BTreeSet::new();
    for (name, signal, encoding, gzip, body) in fixture_requests() {
        for (target, file, data) in fuzz::seeds(&name, signal, encoding, gzip, &body) {
            assert!(
                fuzz::run(target, &data),
                "{target} refused the valid seed {file}"
            );
            seen.insert(target);
        }
    }
    assert_eq!(
        seen.len(),
        fuzz::TARGETS.len(),
        "some target got no seed: {seen:?}"
    );
}

/// The saved fuzzer finds: tests/data/fuzz/<target>/<file>.
fn saved_finds() -> Vec<(&'static str, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut out = Vec::new();
    for target in fuzz::TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (target, f)));
    }
    out
}

/// Scenario: every input a fuzzer crashed on, replayed through its target.
/// Guarantees each fixed bug stays fixed (its target's invariants hold).
#[test]
fn saved_fuzz_finds_replay_clean() {
    for (target, file) in saved_finds() {
        let data = std::fs::read(&file).unwrap();
        let result = std::panic::catch_unwind(|| fuzz::run(target, &data));
        assert!(result.is_ok(), "{target} fails on {}", file.display());
    }
}

/// Writes the fixture requests as seed corpora into `$OTLP2R2_FUZZ_SEEDS`
/// (`make fuzz-seeds`), or into a scratch directory when it is unset (as
/// under `cargo test -- --include-ignored`). Guarantees every target gets
/// seeds. Ignored so that a plain `cargo test` writes no files.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let (dir, scratch) = match std::env::var_os("OTLP2R2_FUZZ_SEEDS") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (
            std::env::temp_dir().join(format!("otlp2r2-fuzz-seeds-{}", std::process::id())),
            true,
        ),
    };
    for (name, signal, encoding, gzip, body) in fixture_requests() {
        fuzz::write_seeds(&dir, &name, signal, encoding, gzip, &body).unwrap();
    }
    for target in fuzz::TARGETS {
        let files = std::fs::read_dir(dir.join(target))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(files > 0, "no seeds for {target} in {}", dir.display());
    }
    if scratch {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
