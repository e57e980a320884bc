//! `otel_metrics_{gauge,sum,histogram,exponential_histogram,summary}`: one
//! row per data point, in the table of its metric's type.
//!
//! The first fourteen columns are common to the five tables (declared once,
//! in `metric_columns!`); each table then adds its own value columns, in the
//! exporter's order. A metric with no data points is not written: it is
//! counted as rejected ([`Rows::rejected`]) for OTLP partial success. See
//! `docs/schema.md` for what each column holds.

use arrow_array::RecordBatch;
use arrow_schema::TimeUnit;

use super::columns::{self, *};
use super::{ranks, Context, Row};
use crate::error::Result;
use crate::model::*;
use crate::schema::Table;

/// The rows of each metrics table, plus what was rejected.
#[derive(Debug, Default)]
pub struct Rows {
    /// Rows of `otel_metrics_gauge`.
    pub gauge: Vec<Row>,
    /// Rows of `otel_metrics_sum`.
    pub sum: Vec<Row>,
    /// Rows of `otel_metrics_histogram`.
    pub histogram: Vec<Row>,
    /// Rows of `otel_metrics_exponential_histogram`.
    pub exp_histogram: Vec<Row>,
    /// Rows of `otel_metrics_summary`.
    pub summary: Vec<Row>,
    /// Metrics that carried no data points.
    pub rejected: usize,
    /// The name of the first rejected metric, for the partial-success message.
    pub first_rejected: Option<String>,
}

impl Rows {
    /// The rows of `table` (the gauge's for a non-metrics table).
    pub fn of(&mut self, table: Table) -> &mut Vec<Row> {
        match table {
            Table::Sum => &mut self.sum,
            Table::Histogram => &mut self.histogram,
            Table::ExponentialHistogram => &mut self.exp_histogram,
            Table::Summary => &mut self.summary,
            _ => &mut self.gauge,
        }
    }
}

/// Lists every data point as a row of its table, in request order.
pub fn rows(req: &MetricsRequest<'_>, ctx: &Context<'_>) -> Rows {
    let services = ctx.service_ranks();
    let names: Vec<&str> = req
        .iter()
        .flat_map(|g| &g.scopes)
        .flat_map(|s| &s.items)
        .map(|m| m.name.as_ref())
        .collect();
    let name_ranks = ranks(&names);
    let mut out = Rows::default();
    let mut k = 0;
    for (ri, g) in req.iter().enumerate() {
        for (si, s) in g.scopes.iter().enumerate() {
            for (mi, m) in s.items.iter().enumerate() {
                let metric = name_ranks[k];
                // Appends this metric's points to `table`'s rows; returns how many.
                let mut push = |table: Table, times: &mut dyn Iterator<Item = u64>| {
                    let dest = out.of(table);
                    let before = dest.len();
                    dest.extend(times.enumerate().map(|(pi, time)| Row {
                        point: pi as u32,
                        metric,
                        ..Row::new(ri, si, mi, services[ri], time)
                    }));
                    dest.len() - before
                };
                let written = match &m.data {
                    MetricData::None => 0,
                    MetricData::Gauge(p) => {
                        push(Table::Gauge, &mut p.iter().map(|p| p.time_unix_nano))
                    }
                    MetricData::Sum { points, .. } => {
                        push(Table::Sum, &mut points.iter().map(|p| p.time_unix_nano))
                    }
                    MetricData::Histogram { points, .. } => push(
                        Table::Histogram,
                        &mut points.iter().map(|p| p.time_unix_nano),
                    ),
                    MetricData::ExponentialHistogram { points, .. } => push(
                        Table::ExponentialHistogram,
                        &mut points.iter().map(|p| p.time_unix_nano),
                    ),
                    MetricData::Summary(p) => {
                        push(Table::Summary, &mut p.iter().map(|p| p.time_unix_nano))
                    }
                };
                if written == 0 {
                    out.rejected += 1;
                    if out.first_rejected.is_none() {
                        out.first_rejected = Some(m.name.to_string());
                    }
                }
                k += 1;
            }
        }
    }
    out
}

/// What a row of a metrics table is read from: the row, its metric and its
/// data point of type `P`.
pub(crate) struct MetricRow<'x, P> {
    ctx: &'x Context<'x>,
    row: &'x Row,
    group: &'x ResourceGroup<'x, Metric<'x>>,
    scope: &'x ScopeGroup<'x, Metric<'x>>,
    metric: &'x Metric<'x>,
    point: &'x P,
}

impl<P> Clone for MetricRow<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for MetricRow<'_, P> {}

/// Finds each row's metric and point (of the type `points` picks), or
/// errors (an internal error) if a row points outside the request.
fn locate<'x, P>(
    req: &'x MetricsRequest<'x>,
    ctx: &'x Context<'x>,
    rows: &'x [Row],
    points: impl Fn(&'x MetricData<'x>) -> Option<&'x [P]>,
) -> Result<Vec<MetricRow<'x, P>>> {
    let one = |row: &'x Row| {
        let group = req.get(row.resource as usize)?;
        let scope = group.scopes.get(row.scope as usize)?;
        let metric = scope.items.get(row.item as usize)?;
        let point = points(&metric.data)?.get(row.point as usize)?;
        Some(MetricRow {
            ctx,
            row,
            group,
            scope,
            metric,
            point,
        })
    };
    rows.iter()
        .map(one)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| super::internal("a metrics row points outside its request"))
}

/// `AggregationTemporality` of a sum or (exponential) histogram metric.
fn temporality(data: &MetricData<'_>) -> i32 {
    match data {
        MetricData::Sum { temporality, .. }
        | MetricData::Histogram { temporality, .. }
        | MetricData::ExponentialHistogram { temporality, .. } => *temporality,
        _ => 0,
    }
}

/// Declares a metrics table: the fourteen columns every metrics table
/// starts with, then the table's own.
macro_rules! metric_columns {
    (
        $(#[$meta:meta])*
        $vis:vis mod $set:ident for $point:ident as |$x:ident| { $($own:tt)* }
    ) => {
        columns! {
            $(#[$meta])*
            $vis mod $set for<'x> MetricRow<'x, $point<'x>> as |$x| {
                ResourceAttributes: SharedAttrs => $x.ctx.resource_attrs($x.row),
                ResourceSchemaUrl: Text => &$x.group.schema_url,
                ScopeName: Text => &$x.scope.scope.name,
                ScopeVersion: Text => &$x.scope.scope.version,
                ScopeAttributes: SharedAttrs => $x.ctx.scope_attrs($x.row),
                ScopeDroppedAttrCount: U32 => $x.scope.scope.dropped_attributes_count,
                ScopeSchemaUrl: Text => &$x.scope.schema_url,
                ServiceName: Text => $x.ctx.service($x.row),
                MetricName: Text => &$x.metric.name,
                MetricDescription: Text => &$x.metric.description,
                MetricUnit: Text => &$x.metric.unit,
                Attributes: Attrs => &$x.point.attributes,
                StartTimeUnix: Time => $x.point.start_time_unix_nano,
                TimeUnix: Time => $x.point.time_unix_nano,
                $($own)*
            }
        }
    };
}

metric_columns! {
    /// The `otel_metrics_gauge` columns.
    pub(crate) mod gauge for NumberDataPoint as |x| {
        Value: F64 => x.point.value.as_f64(),
        Flags: U32 => x.point.flags,
        Exemplars: Structs<exemplars::Set> => &x.point.exemplars,
    }
}

metric_columns! {
    /// The `otel_metrics_sum` columns.
    pub(crate) mod sum for NumberDataPoint as |x| {
        Value: F64 => x.point.value.as_f64(),
        Flags: U32 => x.point.flags,
        Exemplars: Structs<exemplars::Set> => &x.point.exemplars,
        AggregationTemporality: I32 => temporality(&x.metric.data),
        IsMonotonic: Bool => matches!(x.metric.data, MetricData::Sum { monotonic: true, .. }),
    }
}

metric_columns! {
    /// The `otel_metrics_histogram` columns.
    pub(crate) mod histogram for HistogramDataPoint as |x| {
        Count: U64 => x.point.count,
        Sum: F64 => x.point.sum.unwrap_or(0.0),
        BucketCounts: U64List => &x.point.bucket_counts,
        ExplicitBounds: F64List => &x.point.explicit_bounds,
        Exemplars: Structs<exemplars::Set> => &x.point.exemplars,
        Flags: U32 => x.point.flags,
        Min: F64 => x.point.min.unwrap_or(0.0),
        Max: F64 => x.point.max.unwrap_or(0.0),
        AggregationTemporality: I32 => temporality(&x.metric.data),
    }
}

metric_columns! {
    /// The `otel_metrics_exponential_histogram` columns.
    pub(crate) mod exp_histogram for ExpHistogramDataPoint as |x| {
        Count: U64 => x.point.count,
        Sum: F64 => x.point.sum.unwrap_or(0.0),
        Scale: I32 => x.point.scale,
        ZeroCount: U64 => x.point.zero_count,
        PositiveOffset: I32 => x.point.positive.offset,
        PositiveBucketCounts: U64List => &x.point.positive.bucket_counts,
        NegativeOffset: I32 => x.point.negative.offset,
        NegativeBucketCounts: U64List => &x.point.negative.bucket_counts,
        Exemplars: Structs<exemplars::Set> => &x.point.exemplars,
        Flags: U32 => x.point.flags,
        Min: F64 => x.point.min.unwrap_or(0.0),
        Max: F64 => x.point.max.unwrap_or(0.0),
        AggregationTemporality: I32 => temporality(&x.metric.data),
        ZeroThreshold: F64 => x.point.zero_threshold,
    }
}

metric_columns! {
    /// The `otel_metrics_summary` columns.
    pub(crate) mod summary for SummaryDataPoint as |x| {
        Count: U64 => x.point.count,
        Sum: F64 => x.point.sum,
        ValueAtQuantiles: Structs<quantiles::Set> => &x.point.quantile_values,
        Flags: U32 => x.point.flags,
    }
}

columns! {
    /// The item struct of `Exemplars`.
    pub(crate) mod exemplars for<'x> Exemplar<'x> as |e|, 64 bytes per item {
        FilteredAttributes: Attrs => &e.filtered_attributes,
        TimeUnix: Time => e.time_unix_nano,
        Value: F64 => e.value.as_f64(),
        SpanId: SpanHex => &e.span_id,
        TraceId: TraceHex => &e.trace_id,
    }
}

columns! {
    /// The item struct of `ValueAtQuantiles`.
    pub(crate) mod quantiles for<'x> ValueAtQuantile as |q| {
        Quantile: F64 => q.quantile,
        Value: F64 => q.value,
    }
}

/// Builds the batch of one metrics `table` from its `rows` (one hour, sorted).
pub fn build(
    req: &MetricsRequest<'_>,
    ctx: &Context<'_>,
    table: Table,
    rows: &[Row],
    unit: TimeUnit,
) -> Result<RecordBatch> {
    macro_rules! build {
        ($set:ident, $pat:pat => $points:expr) => {{
            let at = locate(req, ctx, rows, |data| match data {
                $pat => Some($points),
                _ => None,
            })?;
            columns::build::<$set::Set>(table, ctx, unit, at.iter().copied())
        }};
    }
    match table {
        Table::Gauge => build!(gauge, MetricData::Gauge(p) => p),
        Table::Sum => build!(sum, MetricData::Sum { points, .. } => points),
        Table::Histogram => build!(histogram, MetricData::Histogram { points, .. } => points),
        Table::ExponentialHistogram => {
            build!(exp_histogram, MetricData::ExponentialHistogram { points, .. } => points)
        }
        Table::Summary => build!(summary, MetricData::Summary(p) => p),
        Table::Logs | Table::Traces => Err(super::internal("not a metrics table")),
    }
}
