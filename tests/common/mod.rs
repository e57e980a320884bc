//! Shared test helpers: fixtures, prost → model conversion (the reference),
//! and reading Parquet back.
#![allow(dead_code)]

#[path = "../../benches/fixtures/mod.rs"]
pub mod fixtures;
pub mod hooked;

use std::borrow::Cow;

use arrow_array::RecordBatch;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pc;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use otlp2r2::model as m;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Reads one Parquet file back into a single batch (files are one row group).
pub fn read_parquet(data: &[u8]) -> RecordBatch {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(data)).unwrap();
    assert_eq!(
        builder.metadata().num_row_groups(),
        1,
        "one row group per file"
    );
    let rows = builder.metadata().file_metadata().num_rows() as usize;
    let reader = builder.with_batch_size(rows.max(1)).build().unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 1, "one batch of all the rows");
    batches[0].clone()
}

// ---- prost → model: the reference decoding --------------------------------

fn id<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    if b.len() == N {
        a.copy_from_slice(b);
    }
    a
}

pub fn any(v: &Option<pc::AnyValue>) -> m::AnyValue<'static> {
    use pc::any_value::Value as V;
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        None => m::AnyValue::Empty,
        Some(V::StringValue(s)) => m::AnyValue::Str(Cow::Owned(s.clone())),
        Some(V::BoolValue(b)) => m::AnyValue::Bool(*b),
        Some(V::IntValue(i)) => m::AnyValue::Int(*i),
        Some(V::DoubleValue(d)) => m::AnyValue::Double(*d),
        Some(V::BytesValue(b)) => m::AnyValue::Bytes(Cow::Owned(b.clone())),
        Some(V::ArrayValue(a)) => {
            m::AnyValue::Array(a.values.iter().map(|v| any(&Some(v.clone()))).collect())
        }
        Some(V::KvlistValue(l)) => m::AnyValue::KvList(attrs(&l.values)),
    }
}

pub fn attrs(kvs: &[pc::KeyValue]) -> Vec<m::KeyValue<'static>> {
    kvs.iter()
        .map(|kv| m::KeyValue {
            key: Cow::Owned(kv.key.clone()),
            value: any(&kv.value),
        })
        .collect()
}

fn resource(
    r: &Option<opentelemetry_proto::tonic::resource::v1::Resource>,
) -> m::Resource<'static> {
    r.as_ref()
        .map(|r| m::Resource {
            attributes: attrs(&r.attributes),
            dropped_attributes_count: r.dropped_attributes_count,
        })
        .unwrap_or_default()
}

fn scope(s: &Option<pc::InstrumentationScope>) -> m::Scope<'static> {
    s.as_ref()
        .map(|s| m::Scope {
            name: Cow::Owned(s.name.clone()),
            version: Cow::Owned(s.version.clone()),
            attributes: attrs(&s.attributes),
            dropped_attributes_count: s.dropped_attributes_count,
        })
        .unwrap_or_default()
}

fn o(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

pub fn logs(req: &ExportLogsServiceRequest) -> m::LogsRequest<'static> {
    req.resource_logs
        .iter()
        .map(|r| m::ResourceGroup {
            resource: resource(&r.resource),
            schema_url: o(&r.schema_url),
            scopes: r
                .scope_logs
                .iter()
                .map(|s| m::ScopeGroup {
                    scope: scope(&s.scope),
                    schema_url: o(&s.schema_url),
                    items: s
                        .log_records
                        .iter()
                        .map(|l| m::LogRecord {
                            time_unix_nano: l.time_unix_nano,
                            observed_time_unix_nano: l.observed_time_unix_nano,
                            severity_number: l.severity_number,
                            severity_text: o(&l.severity_text),
                            body: any(&l.body),
                            attributes: attrs(&l.attributes),
                            dropped_attributes_count: l.dropped_attributes_count,
                            flags: l.flags,
                            trace_id: id(&l.trace_id),
                            span_id: id(&l.span_id),
                            event_name: o(&l.event_name),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

pub fn traces(req: &ExportTraceServiceRequest) -> m::TracesRequest<'static> {
    req.resource_spans
        .iter()
        .map(|r| m::ResourceGroup {
            resource: resource(&r.resource),
            schema_url: o(&r.schema_url),
            scopes: r
                .scope_spans
                .iter()
                .map(|s| m::ScopeGroup {
                    scope: scope(&s.scope),
                    schema_url: o(&s.schema_url),
                    items: s
                        .spans
                        .iter()
                        .map(|sp| m::Span {
                            trace_id: id(&sp.trace_id),
                            span_id: id(&sp.span_id),
                            trace_state: o(&sp.trace_state),
                            parent_span_id: id(&sp.parent_span_id),
                            flags: sp.flags,
                            name: o(&sp.name),
                            kind: sp.kind,
                            start_time_unix_nano: sp.start_time_unix_nano,
                            end_time_unix_nano: sp.end_time_unix_nano,
                            attributes: attrs(&sp.attributes),
                            dropped_attributes_count: sp.dropped_attributes_count,
                            events: sp
                                .events
                                .iter()
                                .map(|e| m::Event {
                                    time_unix_nano: e.time_unix_nano,
                                    name: o(&e.name),
                                    attributes: attrs(&e.attributes),
                                    dropped_attributes_count: e.dropped_attributes_count,
                                })
                                .collect(),
                            dropped_events_count: sp.dropped_events_count,
                            links: sp
                                .links
                                .iter()
                                .map(|l| m::Link {
                                    trace_id: id(&l.trace_id),
                                    span_id: id(&l.span_id),
                                    trace_state: o(&l.trace_state),
                                    attributes: attrs(&l.attributes),
                                    dropped_attributes_count: l.dropped_attributes_count,
                                    flags: l.flags,
                                })
                                .collect(),
                            dropped_links_count: sp.dropped_links_count,
                            status_message: o(sp
                                .status
                                .as_ref()
                                .map(|s| s.message.as_str())
                                .unwrap_or("")),
                            status_code: sp.status.as_ref().map(|s| s.code).unwrap_or(0),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

fn exemplars(ex: &[pm::Exemplar]) -> Vec<m::Exemplar<'static>> {
    ex.iter()
        .map(|e| m::Exemplar {
            filtered_attributes: attrs(&e.filtered_attributes),
            time_unix_nano: e.time_unix_nano,
            value: match e.value {
                Some(pm::exemplar::Value::AsDouble(d)) => m::Number::Double(d),
                Some(pm::exemplar::Value::AsInt(i)) => m::Number::Int(i),
                None => m::Number::None,
            },
            span_id: id(&e.span_id),
            trace_id: id(&e.trace_id),
        })
        .collect()
}

fn number(p: &pm::NumberDataPoint) -> m::NumberDataPoint<'static> {
    m::NumberDataPoint {
        attributes: attrs(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        value: match p.value {
            Some(pm::number_data_point::Value::AsDouble(d)) => m::Number::Double(d),
            Some(pm::number_data_point::Value::AsInt(i)) => m::Number::Int(i),
            None => m::Number::None,
        },
        exemplars: exemplars(&p.exemplars),
        flags: p.flags,
    }
}

fn buckets(b: &Option<pm::exponential_histogram_data_point::Buckets>) -> m::Buckets {
    b.as_ref()
        .map(|b| m::Buckets {
            offset: b.offset,
            bucket_counts: b.bucket_counts.clone(),
        })
        .unwrap_or_default()
}

pub fn metrics(req: &ExportMetricsServiceRequest) -> m::MetricsRequest<'static> {
    use pm::metric::Data;
    req.resource_metrics
        .iter()
        .map(|r| m::ResourceGroup {
            resource: resource(&r.resource),
            schema_url: o(&r.schema_url),
            scopes: r
                .scope_metrics
                .iter()
                .map(|s| m::ScopeGroup {
                    scope: scope(&s.scope),
                    schema_url: o(&s.schema_url),
                    items: s
                        .metrics
                        .iter()
                        .map(|mt| m::Metric {
                            name: o(&mt.name),
                            description: o(&mt.description),
                            unit: o(&mt.unit),
                            metadata: attrs(&mt.metadata),
                            data: match &mt.data {
                                None => m::MetricData::None,
                                Some(Data::Gauge(g)) => {
                                    m::MetricData::Gauge(g.data_points.iter().map(number).collect())
                                }
                                Some(Data::Sum(x)) => m::MetricData::Sum {
                                    points: x.data_points.iter().map(number).collect(),
                                    temporality: x.aggregation_temporality,
                                    monotonic: x.is_monotonic,
                                },
                                Some(Data::Histogram(h)) => m::MetricData::Histogram {
                                    points: h
                                        .data_points
                                        .iter()
                                        .map(|p| m::HistogramDataPoint {
                                            attributes: attrs(&p.attributes),
                                            start_time_unix_nano: p.start_time_unix_nano,
                                            time_unix_nano: p.time_unix_nano,
                                            count: p.count,
                                            sum: p.sum,
                                            bucket_counts: p.bucket_counts.clone(),
                                            explicit_bounds: p.explicit_bounds.clone(),
                                            exemplars: exemplars(&p.exemplars),
                                            flags: p.flags,
                                            min: p.min,
                                            max: p.max,
                                        })
                                        .collect(),
                                    temporality: h.aggregation_temporality,
                                },
                                Some(Data::ExponentialHistogram(h)) => {
                                    m::MetricData::ExponentialHistogram {
                                        points: h
                                            .data_points
                                            .iter()
                                            .map(|p| m::ExpHistogramDataPoint {
                                                attributes: attrs(&p.attributes),
                                                start_time_unix_nano: p.start_time_unix_nano,
                                                time_unix_nano: p.time_unix_nano,
                                                count: p.count,
                                                sum: p.sum,
                                                scale: p.scale,
                                                zero_count: p.zero_count,
                                                positive: buckets(&p.positive),
                                                negative: buckets(&p.negative),
                                                flags: p.flags,
                                                exemplars: exemplars(&p.exemplars),
                                                min: p.min,
                                                max: p.max,
                                                zero_threshold: p.zero_threshold,
                                            })
                                            .collect(),
                                        temporality: h.aggregation_temporality,
                                    }
                                }
                                Some(Data::Summary(x)) => m::MetricData::Summary(
                                    x.data_points
                                        .iter()
                                        .map(|p| m::SummaryDataPoint {
                                            attributes: attrs(&p.attributes),
                                            start_time_unix_nano: p.start_time_unix_nano,
                                            time_unix_nano: p.time_unix_nano,
                                            count: p.count,
                                            sum: p.sum,
                                            quantile_values: p
                                                .quantile_values
                                                .iter()
                                                .map(|q| m::ValueAtQuantile {
                                                    quantile: q.quantile,
                                                    value: q.value,
                                                })
                                                .collect(),
                                            flags: p.flags,
                                        })
                                        .collect(),
                                ),
                            },
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// Debug text of a model: compares NaN equal to NaN and borrowed to owned.
pub fn dbg<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}")
}
