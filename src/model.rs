//! The decoded OTLP export request, as one in-memory model for all encodings.
//!
//! Both decoders (`decode::proto`, `decode::json`) produce these types, so
//! everything downstream is shared and the two encodings are comparable
//! value by value. Strings and bytes borrow from the request body where the
//! encoding allows it (always for protobuf, for JSON strings without escapes).
//!
//! The model keeps only what the output tables use plus fidelity fields
//! (dropped counts, flags); it is not a general OTLP object model. Enums are
//! kept as their `i32` values; their proto names (the `*_NAMES` tables at the
//! bottom) are here for decoders that read enums by name (OTLP/JSON).
//! How the output renders them (`Server`, `Error`) is the batch builders'.

use std::borrow::Cow;

/// A string borrowed from the body when possible.
pub type Str<'a> = Cow<'a, str>;

/// A 16-byte trace id; all zeros means absent.
pub type TraceId = [u8; 16];
/// An 8-byte span id; all zeros means absent.
pub type SpanId = [u8; 8];

/// `opentelemetry.proto.common.v1.AnyValue`. `Empty` is a value with no
/// variant set, which OTLP allows.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyValue<'a> {
    #[default]
    Empty,
    Str(Str<'a>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Cow<'a, [u8]>),
    Array(Vec<AnyValue<'a>>),
    KvList(Vec<KeyValue<'a>>),
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyValue<'a> {
    pub key: Str<'a>,
    pub value: AnyValue<'a>,
}

/// `opentelemetry.proto.resource.v1.Resource`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
}

/// `opentelemetry.proto.common.v1.InstrumentationScope`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope<'a> {
    pub name: Str<'a>,
    pub version: Str<'a>,
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
}

/// `Resource{Logs,Spans,Metrics}`: a resource and its scope groups.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceGroup<'a, T> {
    pub resource: Resource<'a>,
    pub schema_url: Str<'a>,
    pub scopes: Vec<ScopeGroup<'a, T>>,
}

/// `Scope{Logs,Spans,Metrics}`: a scope and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeGroup<'a, T> {
    pub scope: Scope<'a>,
    pub schema_url: Str<'a>,
    pub items: Vec<T>,
}

impl<T> Default for ResourceGroup<'_, T> {
    fn default() -> Self {
        ResourceGroup {
            resource: Resource::default(),
            schema_url: Str::default(),
            scopes: Vec::new(),
        }
    }
}

impl<T> Default for ScopeGroup<'_, T> {
    fn default() -> Self {
        ScopeGroup {
            scope: Scope::default(),
            schema_url: Str::default(),
            items: Vec::new(),
        }
    }
}

/// A decoded export request: `Export{Logs,Trace,Metrics}ServiceRequest`.
pub type Request<'a, T> = Vec<ResourceGroup<'a, T>>;

/// `opentelemetry.proto.logs.v1.LogRecord`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRecord<'a> {
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub severity_text: Str<'a>,
    pub body: AnyValue<'a>,
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
    pub flags: u32,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub event_name: Str<'a>,
}

/// `opentelemetry.proto.trace.v1.Span`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span<'a> {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: Str<'a>,
    pub parent_span_id: SpanId,
    pub flags: u32,
    pub name: Str<'a>,
    pub kind: i32,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
    pub events: Vec<Event<'a>>,
    pub dropped_events_count: u32,
    pub links: Vec<Link<'a>>,
    pub dropped_links_count: u32,
    pub status_message: Str<'a>,
    pub status_code: i32,
}

/// `opentelemetry.proto.trace.v1.Span.Event`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event<'a> {
    pub time_unix_nano: u64,
    pub name: Str<'a>,
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
}

/// `opentelemetry.proto.trace.v1.Span.Link`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link<'a> {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: Str<'a>,
    pub attributes: Vec<KeyValue<'a>>,
    pub dropped_attributes_count: u32,
    pub flags: u32,
}

/// `opentelemetry.proto.metrics.v1.Metric`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metric<'a> {
    pub name: Str<'a>,
    pub description: Str<'a>,
    pub unit: Str<'a>,
    pub data: MetricData<'a>,
    pub metadata: Vec<KeyValue<'a>>,
}

/// The `data` oneof of a metric. `None` is a metric with no data set: it is
/// counted as rejected by the pipeline, as OTLP partial success expects.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum MetricData<'a> {
    #[default]
    None,
    Gauge(Vec<NumberDataPoint<'a>>),
    Sum {
        points: Vec<NumberDataPoint<'a>>,
        temporality: i32,
        monotonic: bool,
    },
    Histogram {
        points: Vec<HistogramDataPoint<'a>>,
        temporality: i32,
    },
    ExponentialHistogram {
        points: Vec<ExpHistogramDataPoint<'a>>,
        temporality: i32,
    },
    Summary(Vec<SummaryDataPoint<'a>>),
}

/// The value oneof of number data points and exemplars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Number {
    #[default]
    None,
    Double(f64),
    Int(i64),
}

impl Number {
    /// The value as ClickHouse's `Float64` column holds it (0 when unset).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::None => 0.0,
            Number::Double(v) => v,
            Number::Int(v) => v as f64,
        }
    }
}

/// `opentelemetry.proto.metrics.v1.Exemplar`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exemplar<'a> {
    pub filtered_attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    pub value: Number,
    pub span_id: SpanId,
    pub trace_id: TraceId,
}

/// `opentelemetry.proto.metrics.v1.NumberDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberDataPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    pub value: Number,
    pub exemplars: Vec<Exemplar<'a>>,
    pub flags: u32,
}

/// `opentelemetry.proto.metrics.v1.HistogramDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramDataPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    pub count: u64,
    pub sum: Option<f64>,
    pub bucket_counts: Vec<u64>,
    pub explicit_bounds: Vec<f64>,
    pub exemplars: Vec<Exemplar<'a>>,
    pub flags: u32,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `ExponentialHistogramDataPoint.Buckets`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    pub offset: i32,
    pub bucket_counts: Vec<u64>,
}

/// `opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpHistogramDataPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    pub count: u64,
    pub sum: Option<f64>,
    pub scale: i32,
    pub zero_count: u64,
    pub positive: Buckets,
    pub negative: Buckets,
    pub flags: u32,
    pub exemplars: Vec<Exemplar<'a>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub zero_threshold: f64,
}

/// `SummaryDataPoint.ValueAtQuantile`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValueAtQuantile {
    pub quantile: f64,
    pub value: f64,
}

/// `opentelemetry.proto.metrics.v1.SummaryDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryDataPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    pub count: u64,
    pub sum: f64,
    pub quantile_values: Vec<ValueAtQuantile>,
    pub flags: u32,
}

/// Decoded logs request.
pub type LogsRequest<'a> = Request<'a, LogRecord<'a>>;
/// Decoded traces request.
pub type TracesRequest<'a> = Request<'a, Span<'a>>;
/// Decoded metrics request.
pub type MetricsRequest<'a> = Request<'a, Metric<'a>>;

// ---- OTLP enum names ----------------------------------------------------------
//
// Each table lists one OTLP enum's proto value names, indexed by value, as
// the `.proto` files spell them. OTLP/JSON may send an enum by these names.

/// `opentelemetry.proto.logs.v1.SeverityNumber` names: index 13 is
/// `SEVERITY_NUMBER_WARN`.
pub const SEVERITY_NUMBER_NAMES: &[&str] = &[
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

/// `opentelemetry.proto.trace.v1.Span.SpanKind` names ([`Span::kind`]).
pub const SPAN_KIND_NAMES: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// `opentelemetry.proto.trace.v1.Status.StatusCode` names
/// ([`Span::status_code`]).
pub const STATUS_CODE_NAMES: &[&str] =
    &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// `opentelemetry.proto.metrics.v1.AggregationTemporality` names (the
/// `temporality` of [`MetricData`]).
pub const AGGREGATION_TEMPORALITY_NAMES: &[&str] = &[
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
    use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
    use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode};

    /// Each table is the generated enum's names, value by value, and covers
    /// every value it has: a renamed or missing entry fails here.
    #[test]
    fn enum_name_tables_match_the_proto_definitions() {
        fn check(table: &[&str], name: impl Fn(i32) -> Option<&'static str>) {
            for (i, want) in table.iter().enumerate() {
                assert_eq!(name(i as i32), Some(*want), "value {i}");
            }
            assert_eq!(name(table.len() as i32), None, "{table:?} misses a value");
        }
        check(SEVERITY_NUMBER_NAMES, |v| {
            SeverityNumber::try_from(v).ok().map(|e| e.as_str_name())
        });
        check(SPAN_KIND_NAMES, |v| {
            SpanKind::try_from(v).ok().map(|e| e.as_str_name())
        });
        check(STATUS_CODE_NAMES, |v| {
            StatusCode::try_from(v).ok().map(|e| e.as_str_name())
        });
        check(AGGREGATION_TEMPORALITY_NAMES, |v| {
            AggregationTemporality::try_from(v)
                .ok()
                .map(|e| e.as_str_name())
        });
    }
}
