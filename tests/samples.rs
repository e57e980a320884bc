//! The sample requests under `tests/data/` (used by `make dev`, the README
//! and the end-to-end tests) are exactly what the fixture generator makes.
//! `UPDATE_SAMPLES=1 cargo test --test samples` rewrites them.

mod common;

use common::fixtures::{self, json::Style};
use prost::Message;

fn check(name: &str, bytes: &[u8]) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SAMPLES").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == bytes,
        "{path} is stale: run UPDATE_SAMPLES=1 cargo test --test samples"
    );
}

#[test]
fn samples_match_the_generator() {
    check("logs.pb", &fixtures::logs(100, 42).encode_to_vec());
    check("traces.pb", &fixtures::traces(100, 43).encode_to_vec());
    check("metrics.pb", &fixtures::metrics(100, 44).encode_to_vec());
    check(
        "logs.json",
        fixtures::json::logs(&fixtures::logs(20, 45), Style::default()).as_bytes(),
    );
}
