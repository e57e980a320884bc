//! The decoded OTLP export request, as one in-memory model for all encodings.
//!
//! Both decoders (`decode::proto`, `decode::json`) produce these types, so
//! everything downstream is shared and the two encodings are comparable
//! value by value. Strings and bytes borrow from the request body where the
//! encoding allows it (always for protobuf, for JSON strings without escapes).
//!
//! The model keeps only what the output tables use plus fidelity fields
//! (dropped counts, flags); it is not a general OTLP object model.

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
