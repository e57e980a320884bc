//! The oracle's model: each table's expected rows, computed from the prost
//! request alone by the rules of docs/schema.md, one function per signal.
//! Rows come out in request order with their sort key; `check` orders and
//! partitions them. Uses nothing from `otlp2r2`: every value is written
//! here from the spec.

use super::render::{attrs, hex_id, text};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point, Exemplar,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// One value of a row, as read back from Parquet.
#[derive(Debug, Clone)]
pub enum Cell {
    Str(String),
    UInt(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Unix time in the file's unit.
    Time(i64),
    Map(Vec<(String, String)>),
    List(Vec<Cell>),
    Struct(Vec<(String, Cell)>),
}

impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        use Cell::*;
        match (self, other) {
            (Str(a), Str(b)) => a == b,
            (UInt(a), UInt(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            // NaN equals NaN (any payload); 0.0 and -0.0 differ.
            (Float(a), Float(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Struct(a), Struct(b)) => a == b,
            _ => false,
        }
    }
}

/// An expected row: its table, sort key and named cells in column order.
#[derive(Debug, Clone)]
pub struct Row {
    pub table: &'static str,
    /// Clamped row time (nanoseconds): picks the hour and sorts.
    pub time: u64,
    pub service: String,
    /// Metric name (`""` for logs and spans).
    pub metric: String,
    pub cells: Vec<(&'static str, Cell)>,
}

/// What the oracle expects of a request: rows in request order, and the
/// metrics rejected for having no data points.
pub struct Expected {
    pub rows: Vec<Row>,
    pub rejected: usize,
}

/// The latest time a timestamp column can hold (2262-04-11).
pub const MAX_NANOS: u64 = i64::MAX as u64;

/// Row and column times: nanoseconds, clamped past 2262, in `unit` ns.
pub fn ts(nanos: u64, unit: i64) -> Cell {
    Cell::Time(nanos.min(MAX_NANOS) as i64 / unit)
}

fn s(v: &str) -> Cell {
    Cell::Str(v.to_string())
}

/// `ServiceName`: the first `service.name` resource attribute, as text.
fn service(r: &Option<Resource>) -> String {
    r.as_ref()
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .map(|kv| text(kv.value.as_ref()))
        .unwrap_or_default()
}

fn res_attrs(r: &Option<Resource>) -> Cell {
    Cell::Map(r.as_ref().map(|r| attrs(&r.attributes)).unwrap_or_default())
}

fn map(kvs: &[KeyValue]) -> Cell {
    Cell::Map(attrs(kvs))
}

fn scope_of(sc: &Option<InstrumentationScope>) -> InstrumentationScope {
    sc.clone().unwrap_or_default()
}

/// `otel_logs`, one row per log record.
pub fn logs(req: &ExportLogsServiceRequest, unit: i64) -> Expected {
    let mut rows = Vec::new();
    for rl in &req.resource_logs {
        let svc = service(&rl.resource);
        for sl in &rl.scope_logs {
            let sc = scope_of(&sl.scope);
            for l in &sl.log_records {
                let time = if l.time_unix_nano != 0 {
                    l.time_unix_nano
                } else {
                    l.observed_time_unix_nano
                };
                let cells = vec![
                    ("Timestamp", ts(time, unit)),
                    ("TraceId", s(&hex_id(&l.trace_id))),
                    ("SpanId", s(&hex_id(&l.span_id))),
                    ("TraceFlags", Cell::UInt(u64::from(l.flags & 0xff))),
                    ("SeverityText", s(&l.severity_text)),
                    (
                        "SeverityNumber",
                        Cell::UInt(l.severity_number.clamp(0, 255) as u64),
                    ),
                    ("ServiceName", s(&svc)),
                    ("Body", s(&text(l.body.as_ref()))),
                    ("ResourceSchemaUrl", s(&rl.schema_url)),
                    ("ResourceAttributes", res_attrs(&rl.resource)),
                    ("ScopeSchemaUrl", s(&sl.schema_url)),
                    ("ScopeName", s(&sc.name)),
                    ("ScopeVersion", s(&sc.version)),
                    ("ScopeAttributes", map(&sc.attributes)),
                    ("LogAttributes", map(&l.attributes)),
                    ("EventName", s(&l.event_name)),
                    ("ObservedTimestamp", ts(l.observed_time_unix_nano, unit)),
                    ("Flags", Cell::UInt(l.flags.into())),
                    (
                        "DroppedAttributesCount",
                        Cell::UInt(l.dropped_attributes_count.into()),
                    ),
                ];
                rows.push(Row {
                    table: "otel_logs",
                    time: time.min(MAX_NANOS),
                    service: svc.clone(),
                    metric: String::new(),
                    cells,
                });
            }
        }
    }
    Expected { rows, rejected: 0 }
}

fn span_kind(k: i32) -> &'static str {
    match k {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

fn status_code(c: i32) -> &'static str {
    match c {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

/// `otel_traces`, one row per span.
pub fn traces(req: &ExportTraceServiceRequest, unit: i64) -> Expected {
    let mut rows = Vec::new();
    for rs in &req.resource_spans {
        let svc = service(&rs.resource);
        for ss in &rs.scope_spans {
            let sc = scope_of(&ss.scope);
            for sp in &ss.spans {
                let status = sp.status.clone().unwrap_or_default();
                let events = sp
                    .events
                    .iter()
                    .map(|e| {
                        Cell::Struct(vec![
                            ("Timestamp".into(), ts(e.time_unix_nano, unit)),
                            ("Name".into(), s(&e.name)),
                            ("Attributes".into(), map(&e.attributes)),
                        ])
                    })
                    .collect();
                let links = sp
                    .links
                    .iter()
                    .map(|l| {
                        Cell::Struct(vec![
                            ("TraceId".into(), s(&hex_id(&l.trace_id))),
                            ("SpanId".into(), s(&hex_id(&l.span_id))),
                            ("TraceState".into(), s(&l.trace_state)),
                            ("Attributes".into(), map(&l.attributes)),
                        ])
                    })
                    .collect();
                let cells = vec![
                    ("Timestamp", ts(sp.start_time_unix_nano, unit)),
                    ("TraceId", s(&hex_id(&sp.trace_id))),
                    ("SpanId", s(&hex_id(&sp.span_id))),
                    ("ParentSpanId", s(&hex_id(&sp.parent_span_id))),
                    ("TraceState", s(&sp.trace_state)),
                    ("SpanName", s(&sp.name)),
                    ("SpanKind", s(span_kind(sp.kind))),
                    ("ServiceName", s(&svc)),
                    ("ResourceAttributes", res_attrs(&rs.resource)),
                    ("ScopeName", s(&sc.name)),
                    ("ScopeVersion", s(&sc.version)),
                    ("SpanAttributes", map(&sp.attributes)),
                    (
                        "Duration",
                        Cell::UInt(
                            sp.end_time_unix_nano
                                .saturating_sub(sp.start_time_unix_nano),
                        ),
                    ),
                    ("StatusCode", s(status_code(status.code))),
                    ("StatusMessage", s(&status.message)),
                    ("Events", Cell::List(events)),
                    ("Links", Cell::List(links)),
                    ("ResourceSchemaUrl", s(&rs.schema_url)),
                    ("ScopeSchemaUrl", s(&ss.schema_url)),
                    ("Flags", Cell::UInt(sp.flags.into())),
                    (
                        "DroppedAttributesCount",
                        Cell::UInt(sp.dropped_attributes_count.into()),
                    ),
                    (
                        "DroppedEventsCount",
                        Cell::UInt(sp.dropped_events_count.into()),
                    ),
                    (
                        "DroppedLinksCount",
                        Cell::UInt(sp.dropped_links_count.into()),
                    ),
                ];
                rows.push(Row {
                    table: "otel_traces",
                    time: sp.start_time_unix_nano.min(MAX_NANOS),
                    service: svc.clone(),
                    metric: String::new(),
                    cells,
                });
            }
        }
    }
    Expected { rows, rejected: 0 }
}

fn exemplars(ex: &[Exemplar], unit: i64) -> Cell {
    Cell::List(
        ex.iter()
            .map(|e| {
                let value = match e.value {
                    Some(exemplar::Value::AsDouble(d)) => d,
                    Some(exemplar::Value::AsInt(i)) => i as f64,
                    None => 0.0,
                };
                Cell::Struct(vec![
                    ("FilteredAttributes".into(), map(&e.filtered_attributes)),
                    ("TimeUnix".into(), ts(e.time_unix_nano, unit)),
                    ("Value".into(), Cell::Float(value)),
                    ("SpanId".into(), s(&hex_id(&e.span_id))),
                    ("TraceId".into(), s(&hex_id(&e.trace_id))),
                ])
            })
            .collect(),
    )
}

fn buckets(b: &Option<Buckets>) -> (Cell, Cell) {
    let b = b.clone().unwrap_or_default();
    (
        Cell::Int(b.offset.into()),
        Cell::List(b.bucket_counts.iter().map(|c| Cell::UInt(*c)).collect()),
    )
}

fn floats(v: &[f64]) -> Cell {
    Cell::List(v.iter().map(|f| Cell::Float(*f)).collect())
}

/// The five metrics tables: one row per data point, in its metric type's
/// table; a metric without data points is rejected.
pub fn metrics(req: &ExportMetricsServiceRequest, unit: i64) -> Expected {
    let (mut rows, mut rejected) = (Vec::new(), 0);
    for rm in &req.resource_metrics {
        let svc = service(&rm.resource);
        for sm in &rm.scope_metrics {
            let sc = scope_of(&sm.scope);
            for m in &sm.metrics {
                // The fourteen common columns of one point.
                let common = |attributes: &[KeyValue], start: u64, time: u64| {
                    vec![
                        ("ResourceAttributes", res_attrs(&rm.resource)),
                        ("ResourceSchemaUrl", s(&rm.schema_url)),
                        ("ScopeName", s(&sc.name)),
                        ("ScopeVersion", s(&sc.version)),
                        ("ScopeAttributes", map(&sc.attributes)),
                        (
                            "ScopeDroppedAttrCount",
                            Cell::UInt(sc.dropped_attributes_count.into()),
                        ),
                        ("ScopeSchemaUrl", s(&sm.schema_url)),
                        ("ServiceName", s(&svc)),
                        ("MetricName", s(&m.name)),
                        ("MetricDescription", s(&m.description)),
                        ("MetricUnit", s(&m.unit)),
                        ("Attributes", map(attributes)),
                        ("StartTimeUnix", ts(start, unit)),
                        ("TimeUnix", ts(time, unit)),
                    ]
                };
                let mut push = |table: &'static str, time: u64, cells| {
                    rows.push(Row {
                        table,
                        time: time.min(MAX_NANOS),
                        service: svc.clone(),
                        metric: m.name.clone(),
                        cells,
                    })
                };
                let mut n = 0usize;
                match &m.data {
                    None => {}
                    Some(Data::Gauge(g)) => {
                        for p in &g.data_points {
                            let mut c =
                                common(&p.attributes, p.start_time_unix_nano, p.time_unix_nano);
                            c.push(("Value", Cell::Float(number(&p.value))));
                            c.push(("Flags", Cell::UInt(p.flags.into())));
                            c.push(("Exemplars", exemplars(&p.exemplars, unit)));
                            push("otel_metrics_gauge", p.time_unix_nano, c);
                            n += 1;
                        }
                    }
                    Some(Data::Sum(x)) => {
                        for p in &x.data_points {
                            let mut c =
                                common(&p.attributes, p.start_time_unix_nano, p.time_unix_nano);
                            c.push(("Value", Cell::Float(number(&p.value))));
                            c.push(("Flags", Cell::UInt(p.flags.into())));
                            c.push(("Exemplars", exemplars(&p.exemplars, unit)));
                            c.push((
                                "AggregationTemporality",
                                Cell::Int(x.aggregation_temporality.into()),
                            ));
                            c.push(("IsMonotonic", Cell::Bool(x.is_monotonic)));
                            push("otel_metrics_sum", p.time_unix_nano, c);
                            n += 1;
                        }
                    }
                    Some(Data::Histogram(h)) => {
                        for p in &h.data_points {
                            let mut c =
                                common(&p.attributes, p.start_time_unix_nano, p.time_unix_nano);
                            c.push(("Count", Cell::UInt(p.count)));
                            c.push(("Sum", Cell::Float(p.sum.unwrap_or(0.0))));
                            c.push((
                                "BucketCounts",
                                Cell::List(
                                    p.bucket_counts.iter().map(|b| Cell::UInt(*b)).collect(),
                                ),
                            ));
                            c.push(("ExplicitBounds", floats(&p.explicit_bounds)));
                            c.push(("Exemplars", exemplars(&p.exemplars, unit)));
                            c.push(("Flags", Cell::UInt(p.flags.into())));
                            c.push(("Min", Cell::Float(p.min.unwrap_or(0.0))));
                            c.push(("Max", Cell::Float(p.max.unwrap_or(0.0))));
                            c.push((
                                "AggregationTemporality",
                                Cell::Int(h.aggregation_temporality.into()),
                            ));
                            push("otel_metrics_histogram", p.time_unix_nano, c);
                            n += 1;
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        for p in &h.data_points {
                            let mut c =
                                common(&p.attributes, p.start_time_unix_nano, p.time_unix_nano);
                            let (po, pc) = buckets(&p.positive);
                            let (no, nc) = buckets(&p.negative);
                            c.push(("Count", Cell::UInt(p.count)));
                            c.push(("Sum", Cell::Float(p.sum.unwrap_or(0.0))));
                            c.push(("Scale", Cell::Int(p.scale.into())));
                            c.push(("ZeroCount", Cell::UInt(p.zero_count)));
                            c.push(("PositiveOffset", po));
                            c.push(("PositiveBucketCounts", pc));
                            c.push(("NegativeOffset", no));
                            c.push(("NegativeBucketCounts", nc));
                            c.push(("Exemplars", exemplars(&p.exemplars, unit)));
                            c.push(("Flags", Cell::UInt(p.flags.into())));
                            c.push(("Min", Cell::Float(p.min.unwrap_or(0.0))));
                            c.push(("Max", Cell::Float(p.max.unwrap_or(0.0))));
                            c.push((
                                "AggregationTemporality",
                                Cell::Int(h.aggregation_temporality.into()),
                            ));
                            c.push(("ZeroThreshold", Cell::Float(p.zero_threshold)));
                            push("otel_metrics_exponential_histogram", p.time_unix_nano, c);
                            n += 1;
                        }
                    }
                    Some(Data::Summary(x)) => {
                        for p in &x.data_points {
                            let mut c =
                                common(&p.attributes, p.start_time_unix_nano, p.time_unix_nano);
                            let q = p
                                .quantile_values
                                .iter()
                                .map(|q| {
                                    Cell::Struct(vec![
                                        ("Quantile".into(), Cell::Float(q.quantile)),
                                        ("Value".into(), Cell::Float(q.value)),
                                    ])
                                })
                                .collect();
                            c.push(("Count", Cell::UInt(p.count)));
                            c.push(("Sum", Cell::Float(p.sum)));
                            c.push(("ValueAtQuantiles", Cell::List(q)));
                            c.push(("Flags", Cell::UInt(p.flags.into())));
                            push("otel_metrics_summary", p.time_unix_nano, c);
                            n += 1;
                        }
                    }
                }
                if n == 0 {
                    rejected += 1;
                }
            }
        }
    }
    Expected { rows, rejected }
}

fn number(v: &Option<number_data_point::Value>) -> f64 {
    match v {
        Some(number_data_point::Value::AsDouble(d)) => *d,
        Some(number_data_point::Value::AsInt(i)) => *i as f64,
        None => 0.0,
    }
}
