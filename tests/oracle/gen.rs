//! Property-test requests for the oracle, biased towards the edges: NaN and
//! infinities, -0.0, 64-bit extremes, zero and post-2262 times, empty and
//! unicode (control, quote, U+2028) strings, repeated keys, absent values,
//! ids absent / all zero / random, `sum` absent, nested `AnyValue`s.
//!
//! Row times stay within a few hours of T0 plus the extremes, so a request
//! touches few hours and stays under the pipeline's 64-object limit.

use crate::common::fixtures::T0;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        3 => "[a-c]{1,3}",
        3 => ".{0,8}",
        1 => Just("<&>\"\\\u{2028}\u{7}\u{8}\t\u{c}é漢🙂".to_string()),
    ]
    .boxed()
}

#[allow(clippy::excessive_precision)] // an exact binary value (a tie), written out
pub fn double() -> BoxedStrategy<f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => (-100_000i64..100_000).prop_map(|i| i as f64 / 100.0),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e21, 1e-7, 1e-6,
            f64::MAX, f64::MIN, 5e-324, f64::MIN_POSITIVE, 1658206780088562.25,
        ]),
    ]
    .boxed()
}

pub fn int() -> BoxedStrategy<i64> {
    prop_oneof![
        3 => any::<i64>(),
        2 => -1000i64..1000,
        1 => prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1]),
    ]
    .boxed()
}

/// A time: mostly within four hours of T0, else 0 or past 2262.
pub fn time() -> BoxedStrategy<u64> {
    prop_oneof![
        8 => (0u64..4 * 3_600_000_000_000).prop_map(|d| T0 + d),
        2 => Just(0u64),
        1 => prop::sample::select(vec![u64::MAX, i64::MAX as u64, i64::MAX as u64 + 1]),
    ]
    .boxed()
}

pub fn any_value(depth: u32) -> BoxedStrategy<AnyValue> {
    let leaf = prop_oneof![
        3 => text().prop_map(Value::StringValue),
        1 => any::<bool>().prop_map(Value::BoolValue),
        2 => int().prop_map(Value::IntValue),
        2 => double().prop_map(Value::DoubleValue),
        1 => vec(any::<u8>(), 0..6).prop_map(Value::BytesValue),
    ]
    .prop_map(|v| AnyValue { value: Some(v) });
    let leaf = prop_oneof![10 => leaf, 1 => Just(AnyValue { value: None })].boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        4 => leaf,
        1 => vec(any_value(depth - 1), 0..3).prop_map(|values| AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values })),
        }),
        1 => attrs_at(depth - 1).prop_map(|values| AnyValue {
            value: Some(Value::KvlistValue(KeyValueList { values })),
        }),
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => "[a-z._]{1,6}", 1 => Just("dup".to_string()), 1 => ".{0,4}"].boxed()
}

fn attrs_at(depth: u32) -> BoxedStrategy<Vec<KeyValue>> {
    vec((key(), of(any_value(depth))), 0..4)
        .prop_map(|v| {
            v.into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect()
        })
        .boxed()
}

pub fn attributes() -> BoxedStrategy<Vec<KeyValue>> {
    attrs_at(3)
}

fn id(n: usize) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![2 => Just(vec![]), 1 => Just(vec![0; n]), 3 => vec(any::<u8>(), n..=n)].boxed()
}

fn resource() -> BoxedStrategy<Option<Resource>> {
    let svc = prop_oneof![
        Just(None),
        "[a-c]{0,2}".prop_map(|s| Some(Value::StringValue(s))),
        int().prop_map(|i| Some(Value::IntValue(i))),
    ];
    (svc, attributes(), any::<bool>(), any::<u32>())
        .prop_map(|(svc, mut attributes, twice, dropped)| {
            if let Some(v) = svc {
                let kv = |v| KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue { value: Some(v) }),
                };
                if twice {
                    // A repeated key: ServiceName is the first one.
                    attributes.push(kv(Value::StringValue("zz-second".into())));
                }
                attributes.insert(0, kv(v));
            }
            Some(Resource {
                attributes,
                dropped_attributes_count: dropped,
                entity_refs: vec![],
            })
        })
        .boxed()
}

fn scope() -> BoxedStrategy<Option<InstrumentationScope>> {
    of(
        (text(), text(), attributes(), any::<u32>()).prop_map(|(name, version, attributes, d)| {
            InstrumentationScope {
                name,
                version,
                attributes,
                dropped_attributes_count: d % 4,
            }
        }),
    )
    .boxed()
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (
            time(),
            time(),
            prop_oneof![0..25i32, any::<i32>()],
            text(),
            of(any_value(4)),
        ),
        (
            attributes(),
            any::<u32>(),
            any::<u32>(),
            id(16),
            id(8),
            text(),
        ),
    )
        .prop_map(
            |(
                (t, o, sev, severity_text, body),
                (attributes, dropped, flags, trace_id, span_id, event_name),
            )| {
                LogRecord {
                    time_unix_nano: t,
                    observed_time_unix_nano: o,
                    severity_number: sev,
                    severity_text,
                    body,
                    attributes,
                    dropped_attributes_count: dropped,
                    flags,
                    trace_id,
                    span_id,
                    event_name,
                }
            },
        )
}

pub fn logs() -> impl Strategy<Value = ExportLogsServiceRequest> {
    vec(
        (
            resource(),
            text(),
            vec((scope(), text(), vec(log_record(), 0..5)), 0..3),
        ),
        0..3,
    )
    .prop_map(|groups| ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceLogs {
                resource,
                scope_logs: scopes
                    .into_iter()
                    .map(|(scope, schema_url, log_records)| ScopeLogs {
                        scope,
                        log_records,
                        schema_url,
                    })
                    .collect(),
                schema_url,
            })
            .collect(),
    })
}

fn span() -> impl Strategy<Value = Span> {
    let event =
        (time(), text(), attributes(), any::<u32>()).prop_map(|(t, name, attributes, d)| {
            span::Event {
                time_unix_nano: t,
                name,
                attributes,
                dropped_attributes_count: d,
            }
        });
    let link = (id(16), id(8), text(), attributes(), any::<u32>()).prop_map(
        |(trace_id, span_id, trace_state, attributes, flags)| span::Link {
            trace_id,
            span_id,
            trace_state,
            attributes,
            dropped_attributes_count: 0,
            flags,
        },
    );
    (
        (id(16), id(8), id(8), text(), any::<u32>(), text(), -1..7i32),
        (
            time(),
            prop_oneof![time(), Just(0u64)],
            attributes(),
            vec(event, 0..3),
            vec(link, 0..3),
        ),
        (
            of((text(), -1..4i32)),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, parent, trace_state, flags, name, kind),
                (start, end, attributes, events, links),
                (status, d1, d2, d3),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id: parent,
                flags,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                dropped_attributes_count: d1,
                events,
                dropped_events_count: d2,
                links,
                dropped_links_count: d3,
                status: status.map(|(message, code)| Status { message, code }),
            },
        )
}

pub fn traces() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec(
        (
            resource(),
            text(),
            vec((scope(), text(), vec(span(), 0..4)), 0..3),
        ),
        0..3,
    )
    .prop_map(|groups| ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceSpans {
                resource,
                scope_spans: scopes
                    .into_iter()
                    .map(|(scope, schema_url, spans)| ScopeSpans {
                        scope,
                        spans,
                        schema_url,
                    })
                    .collect(),
                schema_url,
            })
            .collect(),
    })
}

fn exemplars() -> BoxedStrategy<Vec<Exemplar>> {
    let value = prop_oneof![
        Just(None),
        double().prop_map(|d| Some(exemplar::Value::AsDouble(d))),
        int().prop_map(|i| Some(exemplar::Value::AsInt(i))),
    ];
    vec((attributes(), time(), value, id(8), id(16)), 0..3)
        .prop_map(|v| {
            v.into_iter()
                .map(
                    |(filtered_attributes, time_unix_nano, value, span_id, trace_id)| Exemplar {
                        filtered_attributes,
                        time_unix_nano,
                        value,
                        span_id,
                        trace_id,
                    },
                )
                .collect()
        })
        .boxed()
}

fn number_point() -> impl Strategy<Value = NumberDataPoint> {
    let value = prop_oneof![
        1 => Just(None),
        3 => double().prop_map(|d| Some(number_data_point::Value::AsDouble(d))),
        3 => int().prop_map(|i| Some(number_data_point::Value::AsInt(i))),
    ];
    (
        attributes(),
        time(),
        time(),
        value,
        exemplars(),
        any::<u32>(),
    )
        .prop_map(
            |(attributes, start, time, value, exemplars, flags)| NumberDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                value,
                exemplars,
                flags,
            },
        )
}

fn u64s() -> BoxedStrategy<Vec<u64>> {
    vec(prop_oneof![0u64..100, Just(u64::MAX), any::<u64>()], 0..4).boxed()
}

fn histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        (attributes(), time(), time(), any::<u64>(), of(double())),
        (
            u64s(),
            vec(double(), 0..4),
            exemplars(),
            any::<u32>(),
            of(double()),
            of(double()),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count, sum),
                (bucket_counts, explicit_bounds, exemplars, flags, min, max),
            )| {
                HistogramDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count,
                    sum,
                    bucket_counts,
                    explicit_bounds,
                    exemplars,
                    flags,
                    min,
                    max,
                }
            },
        )
}

fn exp_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    let buckets = of(
        (any::<i32>(), u64s()).prop_map(|(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        }),
    );
    (
        (
            attributes(),
            time(),
            time(),
            any::<u64>(),
            of(double()),
            -10..21i32,
            any::<u64>(),
        ),
        (
            buckets.clone(),
            buckets,
            any::<u32>(),
            exemplars(),
            of(double()),
            of(double()),
            double(),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count, sum, scale, zero_count),
                (positive, negative, flags, exemplars, min, max, zero_threshold),
            )| {
                ExponentialHistogramDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count,
                    sum,
                    scale,
                    zero_count,
                    positive,
                    negative,
                    flags,
                    exemplars,
                    min,
                    max,
                    zero_threshold,
                }
            },
        )
}

fn summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    let q = vec(
        (double(), double()).prop_map(|(quantile, value)| ValueAtQuantile { quantile, value }),
        0..3,
    );
    (
        attributes(),
        time(),
        time(),
        any::<u64>(),
        double(),
        q,
        any::<u32>(),
    )
        .prop_map(
            |(attributes, start, time, count, sum, quantile_values, flags)| SummaryDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                quantile_values,
                flags,
            },
        )
}

fn data() -> BoxedStrategy<Option<Data>> {
    let t = || -1..4i32;
    prop_oneof![
        1 => Just(None),
        2 => vec(number_point(), 0..3).prop_map(|data_points| Some(Data::Gauge(Gauge { data_points }))),
        2 => (vec(number_point(), 0..3), t(), any::<bool>()).prop_map(|(data_points, a, m)| {
            Some(Data::Sum(Sum { data_points, aggregation_temporality: a, is_monotonic: m }))
        }),
        2 => (vec(histogram_point(), 0..3), t()).prop_map(|(data_points, a)| {
            Some(Data::Histogram(Histogram { data_points, aggregation_temporality: a }))
        }),
        2 => (vec(exp_point(), 0..3), t()).prop_map(|(data_points, a)| {
            Some(Data::ExponentialHistogram(ExponentialHistogram { data_points, aggregation_temporality: a }))
        }),
        2 => vec(summary_point(), 0..3).prop_map(|data_points| Some(Data::Summary(Summary { data_points }))),
    ]
    .boxed()
}

fn metric() -> impl Strategy<Value = Metric> {
    (
        prop_oneof![text(), Just("m".to_string())],
        text(),
        text(),
        data(),
    )
        .prop_map(|(name, description, unit, data)| Metric {
            name,
            description,
            unit,
            metadata: vec![],
            data,
        })
}

pub fn metrics() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    vec(
        (
            resource(),
            text(),
            vec((scope(), text(), vec(metric(), 0..4)), 0..3),
        ),
        0..3,
    )
    .prop_map(|groups| ExportMetricsServiceRequest {
        resource_metrics: groups
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceMetrics {
                resource,
                scope_metrics: scopes
                    .into_iter()
                    .map(|(scope, schema_url, metrics)| ScopeMetrics {
                        scope,
                        metrics,
                        schema_url,
                    })
                    .collect(),
                schema_url,
            })
            .collect(),
    })
}
