//! Output tables: their names, sort columns and schema version, and the
//! Arrow types their columns are made of (timestamps, attribute maps, lists).
//!
//! Columns follow the OpenTelemetry Collector ClickHouse exporter's tables
//! (`otel_logs`, `otel_traces`, `otel_metrics_*`), in its order, with its
//! names. Fidelity columns the exporter lacks come after them. Each table's
//! columns are declared once, with the values they hold, in
//! `batch/{logs,traces,metrics}.rs`; `Table::schema` (in `batch`) is made from
//! those declarations, so this module lists no columns itself. Every column
//! is documented in `docs/schema.md`; `tests/schema_doc.rs` keeps the two in
//! step.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};

/// Bumped whenever a column is added, removed, renamed or retyped. Written
/// into every Parquet footer as `otlp2r2.schema_version`.
pub const SCHEMA_VERSION: &str = "1";

/// One output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `otel_logs`.
    Logs,
    /// `otel_traces`.
    Traces,
    /// `otel_metrics_gauge`.
    Gauge,
    /// `otel_metrics_sum`.
    Sum,
    /// `otel_metrics_histogram`.
    Histogram,
    /// `otel_metrics_exponential_histogram`.
    ExponentialHistogram,
    /// `otel_metrics_summary`.
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

    /// The table whose [`Table::name`] is `name`.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

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
            Table::Logs | Table::Traces => &["ServiceName", "Timestamp"],
            _ => &["ServiceName", "MetricName", "TimeUnix"],
        }
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

/// The item field of a `List<scalar>` column.
pub fn scalar_item(t: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", t, false))
}
