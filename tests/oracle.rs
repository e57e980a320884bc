//! The oracle: every column of every row of all seven tables, computed
//! independently from the prost request (`oracle/expect.rs`, `oracle/render.rs`,
//! written from docs/schema.md and pdata's conventions, sharing no code with
//! `src/batch` or `src/decode`) and compared with the Parquet files read back
//! (`oracle/check.rs`), with row order, files per UTC hour and object keys.
//!
//! Runs on the sample files in `tests/data/`, the fixture generator, both
//! OTLP/JSON styles, and property-generated requests of all three signals.

#[path = "oracle/check.rs"]
mod check;
mod common;
#[path = "oracle/expect.rs"]
mod expect;
#[path = "oracle/gen.rs"]
mod gen;
#[path = "oracle/render.rs"]
mod render;

use common::fixtures::{self, json::Style};
use expect::Expected;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otlp2r2::{process, Encoding, Options, Output, Request, Signal};
use proptest::prelude::*;
use prost::Message;

const STYLES: [Style; 2] = [
    Style {
        int64_as_numbers: false,
        enum_names: false,
    },
    Style {
        int64_as_numbers: true,
        enum_names: true,
    },
];

fn run(signal: Signal, encoding: Encoding, body: &[u8], opts: &Options) -> Output {
    process(
        &Request {
            signal,
            encoding,
            gzip: false,
            body,
        },
        opts,
    )
    .unwrap_or_else(|e| panic!("{signal:?} {encoding:?}: {e}"))
}

fn ns() -> Options {
    Options::default()
}

/// The request as protobuf and in both JSON styles, each checked against
/// the oracle. Returns the cells compared.
fn all_encodings(signal: Signal, pb: Vec<u8>, jsons: [String; 2], exp: &Expected) -> usize {
    let mut cells = check::check(&run(signal, Encoding::Protobuf, &pb, &ns()), exp);
    for js in jsons {
        cells += check::check(&run(signal, Encoding::Json, js.as_bytes(), &ns()), exp);
    }
    cells
}

/// The request as the wire carries it: prost's encoder drops proto3
/// defaults, so a `-0.0` in a plain double field arrives as `0.0`. The
/// oracle and the JSON bodies start from this.
fn wire<M: Message + Default>(req: &M) -> (Vec<u8>, M) {
    let pb = req.encode_to_vec();
    let back = M::decode(pb.as_slice()).unwrap();
    (pb, back)
}

fn logs_all(req: &ExportLogsServiceRequest) -> usize {
    let (pb, req) = wire(req);
    let js = STYLES.map(|st| fixtures::json::logs(&req, st));
    all_encodings(Signal::Logs, pb, js, &expect::logs(&req, 1))
}

fn traces_all(req: &ExportTraceServiceRequest) -> usize {
    let (pb, req) = wire(req);
    let js = STYLES.map(|st| fixtures::json::traces(&req, st));
    all_encodings(Signal::Traces, pb, js, &expect::traces(&req, 1))
}

fn metrics_all(req: &ExportMetricsServiceRequest) -> usize {
    let (pb, req) = wire(req);
    let js = STYLES.map(|st| fixtures::json::metrics(&req, st));
    all_encodings(Signal::Metrics, pb, js, &expect::metrics(&req, 1))
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The committed samples (read by prost, the reference decoder), and
/// `logs.json`, which `tests/samples.rs` pins to `fixtures::logs(20, 45)`:
/// every cell matches the oracle.
#[test]
fn samples_match_the_oracle() {
    let pb = sample("logs.pb");
    let req = ExportLogsServiceRequest::decode(pb.as_slice()).unwrap();
    check::check(
        &run(Signal::Logs, Encoding::Protobuf, &pb, &ns()),
        &expect::logs(&req, 1),
    );
    let pb = sample("traces.pb");
    let req = ExportTraceServiceRequest::decode(pb.as_slice()).unwrap();
    check::check(
        &run(Signal::Traces, Encoding::Protobuf, &pb, &ns()),
        &expect::traces(&req, 1),
    );
    let pb = sample("metrics.pb");
    let req = ExportMetricsServiceRequest::decode(pb.as_slice()).unwrap();
    let out = run(Signal::Metrics, Encoding::Protobuf, &pb, &ns());
    assert_eq!(
        out.objects.len(),
        5,
        "the sample fills all five metric tables"
    );
    check::check(&out, &expect::metrics(&req, 1));
    let js = sample("logs.json");
    check::check(
        &run(Signal::Logs, Encoding::Json, &js, &ns()),
        &expect::logs(&fixtures::logs(20, 45), 1),
    );
}

/// The fixture generator's realistic requests (several services and scopes,
/// every attribute type, exemplars, all five point kinds), in protobuf and
/// both JSON styles.
#[test]
fn fixtures_match_the_oracle() {
    let mut cells = 0;
    for (n, seed) in [(1, 1), (37, 2), (1500, 3)] {
        cells += logs_all(&fixtures::logs(n, seed));
        cells += traces_all(&fixtures::traces(n, seed));
        cells += metrics_all(&fixtures::metrics(n, seed));
    }
    eprintln!("fixtures: {cells} cells compared");
}

/// Timestamps in microseconds (`Options::timestamp_unit`): every time
/// column holds the clamped nanoseconds divided by 1000.
#[test]
fn microsecond_files_match_the_oracle() {
    let opts = Options {
        timestamp_unit: arrow_schema::TimeUnit::Microsecond,
        ..Default::default()
    };
    let req = fixtures::traces(200, 9);
    check::check(
        &run(
            Signal::Traces,
            Encoding::Protobuf,
            &req.encode_to_vec(),
            &opts,
        ),
        &expect::traces(&req, 1000),
    );
    let req = fixtures::metrics(200, 9);
    check::check(
        &run(
            Signal::Metrics,
            Encoding::Protobuf,
            &req.encode_to_vec(),
            &opts,
        ),
        &expect::metrics(&req, 1000),
    );
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

proptest! {
    // 96 cases per signal; PROPTEST_CASES=N runs N.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Arbitrary logs, in protobuf and both JSON styles: every cell, the
    /// row order, the files and keys match the oracle.
    #[test]
    fn logs_match_the_oracle(req in gen::logs()) {
        logs_all(&req);
    }

    /// Arbitrary traces (events, links, unknown kinds and codes, ends
    /// before starts): every cell matches the oracle.
    #[test]
    fn traces_match_the_oracle(req in gen::traces()) {
        traces_all(&req);
    }

    /// Arbitrary metrics of all five kinds, with metrics without points:
    /// every cell of every table, and the rejected count, match the oracle.
    #[test]
    fn metrics_match_the_oracle(req in gen::metrics()) {
        metrics_all(&req);
    }
}

/// A value nested in `depth` containers, alternating arrays and key-value
/// lists, with a non-string leaf at the bottom.
fn nested(depth: usize) -> opentelemetry_proto::tonic::common::v1::AnyValue {
    use opentelemetry_proto::tonic::common::v1::{
        any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
    };
    let mut v = AnyValue {
        value: Some(Value::DoubleValue(-1.5e-7)),
    };
    for i in 0..depth {
        v = AnyValue {
            value: Some(if i % 2 == 0 {
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        v,
                        AnyValue {
                            value: Some(Value::BytesValue(vec![])),
                        },
                    ],
                })
            } else {
                Value::KvlistValue(KeyValueList {
                    values: vec![
                        KeyValue {
                            key: "z\u{2028}".into(),
                            value: Some(v),
                        },
                        KeyValue {
                            key: "a<&>".into(),
                            value: None,
                        },
                    ],
                })
            }),
        };
    }
    v
}

/// `AnyValue`s at the nesting limit (16 containers, docs: deeper is
/// `TooDeep`) in a log body and in attributes of every signal: rendered as
/// the oracle's Go JSON, in protobuf and both JSON styles.
#[test]
fn deepest_accepted_values_match_the_oracle() {
    let kv = |v| opentelemetry_proto::tonic::common::v1::KeyValue {
        key: "deep".into(),
        value: Some(v),
    };
    let mut logs = fixtures::logs(3, 20);
    let rec = &mut logs.resource_logs[0].scope_logs[0].log_records[0];
    rec.body = Some(nested(16));
    rec.attributes.push(kv(nested(15)));
    logs_all(&logs);
    // One more level is refused: the test sits exactly at the limit.
    let mut deeper = logs.clone();
    deeper.resource_logs[0].scope_logs[0].log_records[0].body = Some(nested(17));
    let body = deeper.encode_to_vec();
    let req = Request {
        signal: Signal::Logs,
        encoding: Encoding::Protobuf,
        gzip: false,
        body: &body,
    };
    assert!(matches!(
        process(&req, &ns()),
        Err(otlp2r2::Error::TooDeep { .. })
    ));
    let mut traces = fixtures::traces(3, 21);
    traces.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(kv(nested(16)));
    traces_all(&traces);
    let mut metrics = fixtures::metrics(5, 22);
    if let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Gauge(g)) =
        &mut metrics.resource_metrics[0].scope_metrics[0].metrics[0].data
    {
        g.data_points[0].attributes.push(kv(nested(16)));
    } else {
        panic!("the first fixture metric is a gauge");
    }
    metrics_all(&metrics);
}
