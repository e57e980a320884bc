//! Output tables: names, column names and Arrow schemas, in one place.
//!
//! Columns follow the OpenTelemetry Collector ClickHouse exporter's tables
//! (`otel_logs`, `otel_traces`, `otel_metrics_*`), in its order, with its
//! names. Fidelity columns the exporter lacks come after them. Every column
//! is documented in `docs/schema.md`; `tests/schema_doc.rs` keeps the two in
//! step.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Bumped whenever a column is added, removed, renamed or retyped. Written
/// into every Parquet footer as `otlp2r2.schema_version`.
pub const SCHEMA_VERSION: &str = "1";

/// One output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Logs,
    Traces,
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

impl Table {
    /// Every table, in the order objects are emitted.
    pub const ALL: [Table; 7] = [
        Table::Logs,
        Table::Traces,
        Table::Gauge,
        Table::Sum,
        Table::Histogram,
        Table::ExponentialHistogram,
        Table::Summary,
    ];

    /// The ClickHouse exporter's default table name, also the object prefix.
    pub fn name(self) -> &'static str {
        match self {
            Table::Logs => "otel_logs",
            Table::Traces => "otel_traces",
            Table::Gauge => "otel_metrics_gauge",
            Table::Sum => "otel_metrics_sum",
            Table::Histogram => "otel_metrics_histogram",
            Table::ExponentialHistogram => "otel_metrics_exponential_histogram",
            Table::Summary => "otel_metrics_summary",
        }
    }

    /// The columns rows are sorted by (and declared as Parquet sorting columns).
    pub fn sort_columns(self) -> &'static [&'static str] {
        match self {
            Table::Logs | Table::Traces => &[col::SERVICE_NAME, col::TIMESTAMP],
            _ => &[col::SERVICE_NAME, col::METRIC_NAME, col::TIME_UNIX],
        }
    }

    /// The Arrow schema of this table, timestamps in `unit`.
    pub fn schema(self, unit: TimeUnit) -> SchemaRef {
        let ts = |name: &str| Field::new(name, timestamp(unit), false);
        let s = |name: &str| Field::new(name, DataType::Utf8, false);
        let u8f = |name: &str| Field::new(name, DataType::UInt8, false);
        let u32f = |name: &str| Field::new(name, DataType::UInt32, false);
        let u64f = |name: &str| Field::new(name, DataType::UInt64, false);
        let i32f = |name: &str| Field::new(name, DataType::Int32, false);
        let f64f = |name: &str| Field::new(name, DataType::Float64, false);
        let fields: Vec<Field> = match self {
            Table::Logs => vec![
                ts(col::TIMESTAMP),
                s(col::TRACE_ID),
                s(col::SPAN_ID),
                u8f(col::TRACE_FLAGS),
                s(col::SEVERITY_TEXT),
                u8f(col::SEVERITY_NUMBER),
                s(col::SERVICE_NAME),
                s(col::BODY),
                s(col::RESOURCE_SCHEMA_URL),
                attributes(col::RESOURCE_ATTRIBUTES),
                s(col::SCOPE_SCHEMA_URL),
                s(col::SCOPE_NAME),
                s(col::SCOPE_VERSION),
                attributes(col::SCOPE_ATTRIBUTES),
                attributes(col::LOG_ATTRIBUTES),
                s(col::EVENT_NAME),
                ts(col::OBSERVED_TIMESTAMP),
                u32f(col::FLAGS),
                u32f(col::DROPPED_ATTRIBUTES_COUNT),
            ],
            Table::Traces => vec![
                ts(col::TIMESTAMP),
                s(col::TRACE_ID),
                s(col::SPAN_ID),
                s(col::PARENT_SPAN_ID),
                s(col::TRACE_STATE),
                s(col::SPAN_NAME),
                s(col::SPAN_KIND),
                s(col::SERVICE_NAME),
                attributes(col::RESOURCE_ATTRIBUTES),
                s(col::SCOPE_NAME),
                s(col::SCOPE_VERSION),
                attributes(col::SPAN_ATTRIBUTES),
                u64f(col::DURATION),
                s(col::STATUS_CODE),
                s(col::STATUS_MESSAGE),
                list_of(
                    col::EVENTS,
                    vec![
                        ts(col::TIMESTAMP),
                        s(col::NAME),
                        attributes(col::ATTRIBUTES),
                    ],
                ),
                list_of(
                    col::LINKS,
                    vec![
                        s(col::TRACE_ID),
                        s(col::SPAN_ID),
                        s(col::TRACE_STATE),
                        attributes(col::ATTRIBUTES),
                    ],
                ),
                s(col::RESOURCE_SCHEMA_URL),
                s(col::SCOPE_SCHEMA_URL),
                u32f(col::FLAGS),
                u32f(col::DROPPED_ATTRIBUTES_COUNT),
                u32f(col::DROPPED_EVENTS_COUNT),
                u32f(col::DROPPED_LINKS_COUNT),
            ],
            metric => {
                let mut f = vec![
                    attributes(col::RESOURCE_ATTRIBUTES),
                    s(col::RESOURCE_SCHEMA_URL),
                    s(col::SCOPE_NAME),
                    s(col::SCOPE_VERSION),
                    attributes(col::SCOPE_ATTRIBUTES),
                    u32f(col::SCOPE_DROPPED_ATTR_COUNT),
                    s(col::SCOPE_SCHEMA_URL),
                    s(col::SERVICE_NAME),
                    s(col::METRIC_NAME),
                    s(col::METRIC_DESCRIPTION),
                    s(col::METRIC_UNIT),
                    attributes(col::ATTRIBUTES),
                    ts(col::START_TIME_UNIX),
                    ts(col::TIME_UNIX),
                ];
                let exemplars = || {
                    list_of(
                        col::EXEMPLARS,
                        vec![
                            attributes(col::FILTERED_ATTRIBUTES),
                            ts(col::TIME_UNIX),
                            f64f(col::VALUE),
                            s(col::SPAN_ID),
                            s(col::TRACE_ID),
                        ],
                    )
                };
                let u64s = |name: &str| list_of_scalar(name, DataType::UInt64);
                match metric {
                    Table::Gauge => {
                        f.extend([f64f(col::VALUE), u32f(col::FLAGS), exemplars()]);
                    }
                    Table::Sum => f.extend([
                        f64f(col::VALUE),
                        u32f(col::FLAGS),
                        exemplars(),
                        i32f(col::AGGREGATION_TEMPORALITY),
                        Field::new(col::IS_MONOTONIC, DataType::Boolean, false),
                    ]),
                    Table::Histogram => f.extend([
                        u64f(col::COUNT),
                        f64f(col::SUM),
                        u64s(col::BUCKET_COUNTS),
                        list_of_scalar(col::EXPLICIT_BOUNDS, DataType::Float64),
                        exemplars(),
                        u32f(col::FLAGS),
                        f64f(col::MIN),
                        f64f(col::MAX),
                        i32f(col::AGGREGATION_TEMPORALITY),
                    ]),
                    Table::ExponentialHistogram => f.extend([
                        u64f(col::COUNT),
                        f64f(col::SUM),
                        i32f(col::SCALE),
                        u64f(col::ZERO_COUNT),
                        i32f(col::POSITIVE_OFFSET),
                        u64s(col::POSITIVE_BUCKET_COUNTS),
                        i32f(col::NEGATIVE_OFFSET),
                        u64s(col::NEGATIVE_BUCKET_COUNTS),
                        exemplars(),
                        u32f(col::FLAGS),
                        f64f(col::MIN),
                        f64f(col::MAX),
                        i32f(col::AGGREGATION_TEMPORALITY),
                        f64f(col::ZERO_THRESHOLD),
                    ]),
                    Table::Summary => f.extend([
                        u64f(col::COUNT),
                        f64f(col::SUM),
                        list_of(
                            col::VALUE_AT_QUANTILES,
                            vec![f64f(col::QUANTILE), f64f(col::VALUE)],
                        ),
                        u32f(col::FLAGS),
                    ]),
                    Table::Logs | Table::Traces => unreachable!("handled above"),
                }
                f
            }
        };
        Arc::new(Schema::new(fields))
    }
}

/// `Timestamp(unit, "UTC")`.
pub fn timestamp(unit: TimeUnit) -> DataType {
    DataType::Timestamp(unit, Some("UTC".into()))
}

/// The key-value entry struct of an attributes map: non-null `keys` and `values`.
pub fn map_entries() -> Arc<Field> {
    Arc::new(Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, false),
        ])),
        false,
    ))
}

/// `Map<Utf8, Utf8>`, the type of every attributes column.
pub fn attributes(name: &str) -> Field {
    Field::new(name, DataType::Map(map_entries(), false), false)
}

/// The item field of a `List<Struct>` column.
pub fn list_item(fields: Vec<Field>) -> Arc<Field> {
    Arc::new(Field::new(
        "item",
        DataType::Struct(Fields::from(fields)),
        false,
    ))
}

fn list_of(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::List(list_item(fields)), false)
}

/// The item field of a `List<scalar>` column.
pub fn scalar_item(t: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", t, false))
}

fn list_of_scalar(name: &str, t: DataType) -> Field {
    Field::new(name, DataType::List(scalar_item(t)), false)
}

/// Column names, as the ClickHouse exporter spells them.
pub mod col {
    pub const TIMESTAMP: &str = "Timestamp";
    pub const TRACE_ID: &str = "TraceId";
    pub const SPAN_ID: &str = "SpanId";
    pub const TRACE_FLAGS: &str = "TraceFlags";
    pub const SEVERITY_TEXT: &str = "SeverityText";
    pub const SEVERITY_NUMBER: &str = "SeverityNumber";
    pub const SERVICE_NAME: &str = "ServiceName";
    pub const BODY: &str = "Body";
    pub const RESOURCE_SCHEMA_URL: &str = "ResourceSchemaUrl";
    pub const RESOURCE_ATTRIBUTES: &str = "ResourceAttributes";
    pub const SCOPE_SCHEMA_URL: &str = "ScopeSchemaUrl";
    pub const SCOPE_NAME: &str = "ScopeName";
    pub const SCOPE_VERSION: &str = "ScopeVersion";
    pub const SCOPE_ATTRIBUTES: &str = "ScopeAttributes";
    pub const SCOPE_DROPPED_ATTR_COUNT: &str = "ScopeDroppedAttrCount";
    pub const LOG_ATTRIBUTES: &str = "LogAttributes";
    pub const EVENT_NAME: &str = "EventName";
    pub const OBSERVED_TIMESTAMP: &str = "ObservedTimestamp";
    pub const FLAGS: &str = "Flags";
    pub const DROPPED_ATTRIBUTES_COUNT: &str = "DroppedAttributesCount";
    pub const DROPPED_EVENTS_COUNT: &str = "DroppedEventsCount";
    pub const DROPPED_LINKS_COUNT: &str = "DroppedLinksCount";
    pub const PARENT_SPAN_ID: &str = "ParentSpanId";
    pub const TRACE_STATE: &str = "TraceState";
    pub const SPAN_NAME: &str = "SpanName";
    pub const SPAN_KIND: &str = "SpanKind";
    pub const SPAN_ATTRIBUTES: &str = "SpanAttributes";
    pub const DURATION: &str = "Duration";
    pub const STATUS_CODE: &str = "StatusCode";
    pub const STATUS_MESSAGE: &str = "StatusMessage";
    pub const EVENTS: &str = "Events";
    pub const LINKS: &str = "Links";
    pub const NAME: &str = "Name";
    pub const ATTRIBUTES: &str = "Attributes";
    pub const METRIC_NAME: &str = "MetricName";
    pub const METRIC_DESCRIPTION: &str = "MetricDescription";
    pub const METRIC_UNIT: &str = "MetricUnit";
    pub const START_TIME_UNIX: &str = "StartTimeUnix";
    pub const TIME_UNIX: &str = "TimeUnix";
    pub const VALUE: &str = "Value";
    pub const EXEMPLARS: &str = "Exemplars";
    pub const FILTERED_ATTRIBUTES: &str = "FilteredAttributes";
    pub const AGGREGATION_TEMPORALITY: &str = "AggregationTemporality";
    pub const IS_MONOTONIC: &str = "IsMonotonic";
    pub const COUNT: &str = "Count";
    pub const SUM: &str = "Sum";
    pub const BUCKET_COUNTS: &str = "BucketCounts";
    pub const EXPLICIT_BOUNDS: &str = "ExplicitBounds";
    pub const MIN: &str = "Min";
    pub const MAX: &str = "Max";
    pub const SCALE: &str = "Scale";
    pub const ZERO_COUNT: &str = "ZeroCount";
    pub const POSITIVE_OFFSET: &str = "PositiveOffset";
    pub const POSITIVE_BUCKET_COUNTS: &str = "PositiveBucketCounts";
    pub const NEGATIVE_OFFSET: &str = "NegativeOffset";
    pub const NEGATIVE_BUCKET_COUNTS: &str = "NegativeBucketCounts";
    pub const ZERO_THRESHOLD: &str = "ZeroThreshold";
    pub const VALUE_AT_QUANTILES: &str = "ValueAtQuantiles";
    pub const QUANTILE: &str = "Quantile";
}
