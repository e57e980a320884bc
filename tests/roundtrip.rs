//! Cross-module round trips: reference (agrees with prost), differential
//! (protobuf and OTLP/JSON give identical output), and property tests
//! (arbitrary requests survive the trip to Parquet and back).

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampNanosecondType, UInt64Type};
use arrow_array::Array;
use common::fixtures::{self, json::Style};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use otlp2r2::decode::{self, Budget};
use otlp2r2::{process, Encoding, Options, Output, Request, Signal};
use proptest::prelude::*;
use prost::Message;

fn budget() -> Budget<'static> {
    Budget::new(1 << 30)
}

fn run(signal: Signal, encoding: Encoding, body: &[u8]) -> Output {
    process(
        &Request {
            signal,
            encoding,
            gzip: false,
            body,
        },
        &Options::default(),
    )
    .unwrap()
}

/// The output of two runs is the same objects with the same bytes.
fn assert_same_output(a: &Output, b: &Output) {
    assert_eq!(a.records, b.records);
    assert_eq!(a.objects.len(), b.objects.len());
    for (x, y) in a.objects.iter().zip(&b.objects) {
        assert_eq!(x.table, y.table);
        assert_eq!(x.rows, y.rows);
        // Same rows, same values: compare the decoded batches (the keys
        // differ, since they hash the request body).
        assert_eq!(
            common::read_parquet(&x.data),
            common::read_parquet(&y.data),
            "{}",
            x.key
        );
    }
}

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

// Reference: our decoder reads exactly what prost reads.

#[test]
fn reference_decoding_matches_prost_on_fixtures() {
    let logs = fixtures::logs(500, 1);
    let bytes = logs.encode_to_vec();
    let prost_view = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(
        common::dbg(&decode::proto::logs(&bytes, &budget()).unwrap()),
        common::dbg(&common::logs(&prost_view))
    );

    let traces = fixtures::traces(500, 2);
    let bytes = traces.encode_to_vec();
    let prost_view = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(
        common::dbg(&decode::proto::traces(&bytes, &budget()).unwrap()),
        common::dbg(&common::traces(&prost_view))
    );

    let metrics = fixtures::metrics(500, 3);
    let bytes = metrics.encode_to_vec();
    assert_eq!(
        common::dbg(&decode::proto::metrics(&bytes, &budget()).unwrap()),
        common::dbg(&common::metrics(&metrics))
    );
}

// Differential: protobuf and OTLP/JSON bodies of one request give identical
// models and identical Parquet rows, in both JSON styles.

#[test]
fn differential_protobuf_vs_json_on_fixtures() {
    for st in STYLES {
        let req = fixtures::logs(700, 4);
        let (pb, js) = (req.encode_to_vec(), fixtures::json::logs(&req, st));
        assert_eq!(
            common::dbg(&decode::proto::logs(&pb, &budget()).unwrap()),
            common::dbg(&decode::json::logs(js.as_bytes(), &budget()).unwrap())
        );
        assert_same_output(
            &run(Signal::Logs, Encoding::Protobuf, &pb),
            &run(Signal::Logs, Encoding::Json, js.as_bytes()),
        );

        let req = fixtures::traces(700, 5);
        let (pb, js) = (req.encode_to_vec(), fixtures::json::traces(&req, st));
        assert_same_output(
            &run(Signal::Traces, Encoding::Protobuf, &pb),
            &run(Signal::Traces, Encoding::Json, js.as_bytes()),
        );

        let req = fixtures::metrics(700, 6);
        let (pb, js) = (req.encode_to_vec(), fixtures::json::metrics(&req, st));
        assert_eq!(
            common::dbg(&decode::proto::metrics(&pb, &budget()).unwrap()),
            common::dbg(&decode::json::metrics(js.as_bytes(), &budget()).unwrap())
        );
        assert_same_output(
            &run(Signal::Metrics, Encoding::Protobuf, &pb),
            &run(Signal::Metrics, Encoding::Json, js.as_bytes()),
        );
    }
}

#[test]
fn every_metric_table_gets_its_points() {
    let req = fixtures::metrics(1000, 7);
    let out = run(Signal::Metrics, Encoding::Protobuf, &req.encode_to_vec());
    let tables: std::collections::BTreeSet<_> = out.objects.iter().map(|o| o.table).collect();
    assert_eq!(tables.len(), 5, "{tables:?}");
    assert_eq!(
        out.records,
        out.objects.iter().map(|o| o.rows).sum::<usize>()
    );
    assert_eq!(out.records, 1000);
}

#[test]
fn same_body_same_keys_and_bytes() {
    let pb = fixtures::traces(300, 8).encode_to_vec();
    let (a, b) = (
        run(Signal::Traces, Encoding::Protobuf, &pb),
        run(Signal::Traces, Encoding::Protobuf, &pb),
    );
    let keys = |o: &Output| {
        o.objects
            .iter()
            .map(|x| (x.key.clone(), x.data.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&a), keys(&b));
}

#[test]
fn gzip_body_gives_the_same_objects() {
    use std::io::Write;
    let pb = fixtures::logs(300, 9).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&pb).unwrap();
    let gz = gz.finish().unwrap();
    let plain = run(Signal::Logs, Encoding::Protobuf, &pb);
    let zipped = process(
        &Request {
            signal: Signal::Logs,
            encoding: Encoding::Protobuf,
            gzip: true,
            body: &gz,
        },
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        plain.objects[0].key, zipped.objects[0].key,
        "keys hash the inflated body"
    );
    assert_eq!(plain.objects[0].data, zipped.objects[0].data);
}

#[test]
fn rows_are_split_by_hour_and_sorted() {
    // Two services, records spread over three hours, out of order.
    let mut req = fixtures::logs(0, 0);
    let hour = 3_600_000_000_000u64;
    let rec = |t: u64| LogRecord {
        time_unix_nano: t,
        ..Default::default()
    };
    for (svc, times) in [
        ("b", vec![fixtures::T0 + 2 * hour + 5, fixtures::T0 + 1]),
        ("a", vec![fixtures::T0 + hour, fixtures::T0 + 3]),
    ] {
        req.resource_logs.push(ResourceLogs {
            resource: Some(Resource {
                attributes: vec![fixtures::kv("service.name", fixtures::s(svc))],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: times.into_iter().map(rec).collect(),
                ..Default::default()
            }],
            schema_url: String::new(),
        });
    }
    let out = run(Signal::Logs, Encoding::Protobuf, &req.encode_to_vec());
    let keys: Vec<&str> = out.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys[0].starts_with("otel_logs/date=2024-05-01/hour=12/20240501T120000.000000001Z-"),
        "{keys:?}"
    );
    assert!(
        keys[1].contains("/hour=13/") && keys[2].contains("/hour=14/"),
        "{keys:?}"
    );
    let first = common::read_parquet(&out.objects[0].data);
    let svc = first
        .column_by_name("ServiceName")
        .unwrap()
        .as_string::<i32>();
    let ts = first
        .column_by_name("Timestamp")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    let got: Vec<(&str, i64)> = (0..first.num_rows())
        .map(|i| (svc.value(i), ts.value(i)))
        .collect();
    let t0 = fixtures::T0 as i64;
    assert_eq!(got, vec![("a", t0 + 3), ("b", t0 + 1)]);
}

#[test]
fn microsecond_option_changes_the_unit() {
    let pb = fixtures::logs(10, 10).encode_to_vec();
    let opts = Options {
        timestamp_unit: arrow_schema::TimeUnit::Microsecond,
        ..Default::default()
    };
    let out = process(
        &Request {
            signal: Signal::Logs,
            encoding: Encoding::Protobuf,
            gzip: false,
            body: &pb,
        },
        &opts,
    )
    .unwrap();
    let b = common::read_parquet(&out.objects[0].data);
    assert_eq!(
        b.schema().field_with_name("Timestamp").unwrap().data_type(),
        &otlp2r2::schema::timestamp(arrow_schema::TimeUnit::Microsecond)
    );
}

#[test]
fn metrics_without_points_are_rejected_not_written() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::{
        metric::Data, Gauge, Metric, ResourceMetrics, ScopeMetrics,
    };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "empty".into(),
                        data: Some(Data::Gauge(Gauge {
                            data_points: vec![],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "nodata".into(),
                        data: None,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = run(Signal::Metrics, Encoding::Protobuf, &req.encode_to_vec());
    assert_eq!((out.records, out.rejected, out.objects.len()), (0, 2, 0));
    assert!(out.rejected_message.unwrap().contains("\"empty\""));
}

/// A metric's data message seen twice (a sender that appends a second
/// `Metric` encoding to the first, which protobuf defines as a merge): the
/// points of both, as prost reads them; another kind of data replaces it.
#[test]
fn a_repeated_metric_data_field_is_merged_as_protobuf_says() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::{
        metric::Data, number_data_point, Gauge, Metric, NumberDataPoint, Sum,
    };
    let point = |t: u64, v: i64| NumberDataPoint {
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsInt(v)),
        ..Default::default()
    };
    let metric = |name: &str, data: Data| Metric {
        name: name.into(),
        data: Some(data),
        ..Default::default()
    };
    let sum = |points, temporality, is_monotonic| {
        Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic,
        })
    };
    let gauge = |points| {
        Data::Gauge(Gauge {
            data_points: points,
        })
    };
    let t = 1_700_000_000_000_000_000;
    // Field `f`, length-delimited, around `inner`.
    let field = |f: u8, inner: &[u8]| {
        let mut b = vec![f << 3 | 2];
        prost::encoding::encode_varint(inner.len() as u64, &mut b);
        b.extend_from_slice(inner);
        b
    };
    for halves in [
        // Sums: points appended, the set temporality and monotonic taken.
        [
            metric("m", sum(vec![point(t, 1)], 2, true)),
            metric("", sum(vec![point(t + 1, 2)], 0, false)),
        ],
        [
            metric("m", gauge(vec![point(t, 1)])),
            metric("", gauge(vec![point(t + 1, 2), point(t + 2, 3)])),
        ],
        // Another member replaces the first.
        [
            metric("m", gauge(vec![point(t, 1)])),
            metric("", sum(vec![point(t + 1, 2)], 1, false)),
        ],
    ] {
        let mut one = halves[0].encode_to_vec();
        one.extend(halves[1].encode_to_vec());
        let body = field(1, &field(2, &field(2, &one)));
        let prost_view = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        let points = |r: &ExportMetricsServiceRequest| match &r.resource_metrics[0].scope_metrics[0]
            .metrics[0]
            .data
        {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            _ => 0,
        };
        assert!(points(&prost_view) >= 1);
        assert_eq!(
            common::dbg(&decode::proto::metrics(&body, &budget()).unwrap()),
            common::dbg(&common::metrics(&prost_view))
        );
    }
}

// ---- property tests -------------------------------------------------------------

fn any_value(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        ".{0,12}".prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>().prop_map(Value::DoubleValue),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::BytesValue),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        4 => leaf,
        1 => proptest::collection::vec(any_value(depth - 1), 0..3)
            .prop_map(|v| Value::ArrayValue(ArrayValue { values: v.into_iter().map(|v| AnyValue { value: Some(v) }).collect() })),
        1 => proptest::collection::vec(("[a-z.]{1,6}", any_value(depth - 1)), 0..3)
            .prop_map(|v| Value::KvlistValue(KeyValueList { values: v.into_iter().map(|(k, v)| fixtures::kv(&k, v)).collect() })),
    ]
    .boxed()
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(("[a-z._]{1,10}", any_value(2)), 0..4)
        .prop_map(|v| v.into_iter().map(|(k, v)| fixtures::kv(&k, v)).collect())
}

fn id(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(vec![]), proptest::collection::vec(any::<u8>(), n..=n)]
}

/// Times within a few days of T0, so rows land in several hours.
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        (0u64..200_000_000_000_000).prop_map(|d| fixtures::T0 + d)
    ]
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        time(),
        time(),
        0..25i32,
        ".{0,8}",
        proptest::option::of(any_value(2)),
        attributes(),
        any::<u32>(),
        id(16),
        id(8),
        ".{0,6}",
    )
        .prop_map(
            |(t, o, sev, text, body, attributes, flags, trace_id, span_id, event_name)| LogRecord {
                time_unix_nano: t,
                observed_time_unix_nano: o,
                severity_number: sev,
                severity_text: text,
                body: body.map(|v| AnyValue { value: Some(v) }),
                attributes,
                dropped_attributes_count: flags % 3,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    (proptest::option::of("[a-c]{1,2}"), attributes()).prop_map(|(svc, mut attributes)| {
        if let Some(svc) = svc {
            attributes.insert(0, fixtures::kv("service.name", fixtures::s(&svc)));
        }
        Some(Resource {
            attributes,
            ..Default::default()
        })
    })
}

fn logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    proptest::collection::vec(
        (
            resource(),
            proptest::collection::vec(proptest::collection::vec(log_record(), 0..6), 0..3),
        ),
        0..3,
    )
    .prop_map(|groups| ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(resource, scopes)| ResourceLogs {
                resource,
                scope_logs: scopes
                    .into_iter()
                    .map(|log_records| ScopeLogs {
                        log_records,
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect(),
    })
}

fn span_strategy() -> impl Strategy<Value = Span> {
    (
        id(16),
        id(8),
        id(8),
        ".{0,8}",
        0..6i32,
        time(),
        0u64..10_000_000_000,
        attributes(),
        proptest::collection::vec((time(), ".{0,5}", attributes()), 0..3),
        proptest::collection::vec((id(16), id(8), attributes()), 0..2),
        0..3i32,
    )
        .prop_map(
            |(
                trace_id,
                span_id,
                parent,
                name,
                kind,
                start,
                dur,
                attributes,
                events,
                links,
                code,
            )| Span {
                trace_id,
                span_id,
                parent_span_id: parent,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: start + dur,
                attributes,
                events: events
                    .into_iter()
                    .map(|(t, name, attributes)| span::Event {
                        time_unix_nano: t,
                        name,
                        attributes,
                        dropped_attributes_count: 0,
                    })
                    .collect(),
                links: links
                    .into_iter()
                    .map(|(trace_id, span_id, attributes)| span::Link {
                        trace_id,
                        span_id,
                        attributes,
                        ..Default::default()
                    })
                    .collect(),
                status: Some(Status {
                    message: String::new(),
                    code,
                }),
                ..Default::default()
            },
        )
}

fn traces_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    proptest::collection::vec(
        (resource(), proptest::collection::vec(span_strategy(), 0..6)),
        0..3,
    )
    .prop_map(|groups| ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(resource, spans)| ResourceSpans {
                resource,
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                schema_url: String::new(),
            })
            .collect(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary logs: our decoder agrees with prost, JSON agrees with
    /// protobuf, and Parquet holds every record with its values.
    #[test]
    fn logs_round_trip(req in logs_request()) {
        let pb = req.encode_to_vec();
        let ours = decode::proto::logs(&pb, &budget()).unwrap();
        prop_assert_eq!(common::dbg(&ours), common::dbg(&common::logs(&req)));
        let js = fixtures::json::logs(&req, STYLES[1]);
        prop_assert_eq!(common::dbg(&decode::json::logs(js.as_bytes(), &budget()).unwrap()), common::dbg(&ours));

        let out = run(Signal::Logs, Encoding::Protobuf, &pb);
        let n: usize = req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum();
        prop_assert_eq!(out.records, n);
        // Every (time, trace id, body) lands exactly once.
        let mut want: Vec<(i64, String, String)> = req.resource_logs.iter().flat_map(|r| &r.scope_logs).flat_map(|s| &s.log_records).map(|l| {
            let t = if l.time_unix_nano != 0 { l.time_unix_nano } else { l.observed_time_unix_nano };
            let hex: String = if l.trace_id.iter().any(|b| *b != 0) { l.trace_id.iter().map(|b| format!("{b:02x}")).collect() } else { String::new() };
            let mut body = Vec::new();
            otlp2r2::batch::render::text(&common::any(&l.body), &mut body);
            (t as i64, hex, String::from_utf8(body).unwrap())
        }).collect();
        let mut got = Vec::new();
        for o in &out.objects {
            let b = common::read_parquet(&o.data);
            prop_assert_eq!(b.num_rows(), o.rows);
            let ts = b.column_by_name("Timestamp").unwrap().as_primitive::<TimestampNanosecondType>();
            let tid = b.column_by_name("TraceId").unwrap().as_string::<i32>();
            let body = b.column_by_name("Body").unwrap().as_string::<i32>();
            for i in 0..b.num_rows() {
                got.push((ts.value(i), tid.value(i).to_string(), body.value(i).to_string()));
            }
        }
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
    }

    /// Arbitrary traces: same guarantees, checked on ids, durations, events.
    #[test]
    fn traces_round_trip(req in traces_request()) {
        let pb = req.encode_to_vec();
        let ours = decode::proto::traces(&pb, &budget()).unwrap();
        prop_assert_eq!(common::dbg(&ours), common::dbg(&common::traces(&req)));
        let js = fixtures::json::traces(&req, STYLES[0]);
        prop_assert_eq!(common::dbg(&decode::json::traces(js.as_bytes(), &budget()).unwrap()), common::dbg(&ours));

        let out = run(Signal::Traces, Encoding::Protobuf, &pb);
        let spans: Vec<&Span> = req.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).collect();
        prop_assert_eq!(out.records, spans.len());
        let mut want: Vec<(u64, u64, usize)> = spans.iter().map(|s| (s.start_time_unix_nano, s.end_time_unix_nano - s.start_time_unix_nano, s.events.len())).collect();
        let mut got = Vec::new();
        for o in &out.objects {
            let b = common::read_parquet(&o.data);
            let ts = b.column_by_name("Timestamp").unwrap().as_primitive::<TimestampNanosecondType>();
            let dur = b.column_by_name("Duration").unwrap().as_primitive::<UInt64Type>();
            let ev = b.column_by_name("Events").unwrap().as_list::<i32>();
            for i in 0..b.num_rows() {
                got.push((ts.value(i) as u64, dur.value(i), ev.value(i).len()));
            }
        }
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
    }
}

/// Found by `logs_round_trip`: a string field holding "0" is a value, not a
/// default, in both encodings.
#[test]
fn zero_like_strings_survive_both_encodings() {
    let mut req = fixtures::logs(1, 11);
    let rec = &mut req.resource_logs[0].scope_logs[0].log_records[0];
    rec.event_name = "0".into();
    rec.severity_text = "0".into();
    let pb = req.encode_to_vec();
    for st in STYLES {
        let js = fixtures::json::logs(&req, st);
        assert_eq!(
            common::dbg(&decode::proto::logs(&pb, &budget()).unwrap()),
            common::dbg(&decode::json::logs(js.as_bytes(), &budget()).unwrap())
        );
    }
}

/// A file larger than one chunk (`pipeline::CHUNK_ROWS`) is built and encoded
/// chunk by chunk into one row group, sorted, with every record exactly once.
#[test]
fn files_larger_than_a_chunk_keep_every_row_in_order() {
    let n = otlp2r2::pipeline::CHUNK_ROWS * 2 + 123;
    let req = fixtures::logs(n, 12);
    let out = run(Signal::Logs, Encoding::Protobuf, &req.encode_to_vec());
    assert_eq!(out.objects.len(), 1);
    assert_eq!((out.records, out.objects[0].rows), (n, n));
    let b = common::read_parquet(&out.objects[0].data);
    assert_eq!(b.num_rows(), n);
    let svc = b.column_by_name("ServiceName").unwrap().as_string::<i32>();
    let ts = b
        .column_by_name("Timestamp")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    let body = b.column_by_name("Body").unwrap().as_string::<i32>();
    let got: Vec<(&str, i64)> = (0..n).map(|i| (svc.value(i), ts.value(i))).collect();
    assert!(
        got.windows(2).all(|w| w[0] <= w[1]),
        "rows are sorted across chunks"
    );
    let mut bodies: Vec<&str> = (0..n).map(|i| body.value(i)).collect();
    let mut want: Vec<String> = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|l| match &l.body.as_ref().unwrap().value {
            Some(Value::StringValue(s)) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    bodies.sort();
    want.sort();
    assert_eq!(bodies, want);
}
