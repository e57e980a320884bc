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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::testing::check_row;

    fn kv(k: &str, v: &str) -> KeyValue<'static> {
        KeyValue {
            key: k.to_string().into(),
            value: AnyValue::Str(v.to_string().into()),
        }
    }

    fn exemplar() -> Exemplar<'static> {
        Exemplar {
            filtered_attributes: vec![kv("x", "9")],
            time_unix_nano: 15,
            value: Number::Double(0.5),
            span_id: [0xbb; 8],
            trace_id: [0xaa; 16],
        }
    }

    fn metric(name: &str, data: MetricData<'static>) -> Metric<'static> {
        Metric {
            name: name.to_string().into(),
            description: "desc".into(),
            unit: "ms".into(),
            data,
            metadata: vec![],
        }
    }

    /// One point per metrics table, each column (and each exemplar and
    /// quantile member) holding a value no other column of its type has: a
    /// declaration that swapped two same-typed columns (`Min`/`Max`,
    /// `PositiveOffset`/`NegativeOffset`, `ScopeName`/`ScopeVersion`…) fails
    /// here, by column name.
    #[test]
    fn every_column_holds_its_own_value() {
        let attrs = || vec![kv("p", "1")];
        let number = NumberDataPoint {
            attributes: attrs(),
            start_time_unix_nano: 10,
            time_unix_nano: 20,
            value: Number::Int(7),
            exemplars: vec![exemplar()],
            flags: 1,
        };
        let histogram = HistogramDataPoint {
            attributes: attrs(),
            start_time_unix_nano: 10,
            time_unix_nano: 20,
            count: 3,
            sum: Some(6.5),
            bucket_counts: vec![1, 2],
            explicit_bounds: vec![2.5],
            exemplars: vec![exemplar()],
            flags: 1,
            min: Some(1.5),
            max: Some(4.5),
        };
        let buckets = |offset, counts| Buckets {
            offset,
            bucket_counts: counts,
        };
        let exp = ExpHistogramDataPoint {
            attributes: attrs(),
            start_time_unix_nano: 10,
            time_unix_nano: 20,
            count: 8,
            sum: Some(6.5),
            scale: 3,
            zero_count: 4,
            positive: buckets(-2, vec![5, 6]),
            negative: buckets(-5, vec![7]),
            flags: 1,
            exemplars: vec![exemplar()],
            min: Some(1.5),
            max: Some(4.5),
            zero_threshold: 0.25,
        };
        let summary = SummaryDataPoint {
            attributes: attrs(),
            start_time_unix_nano: 10,
            time_unix_nano: 20,
            count: 3,
            sum: 6.5,
            quantile_values: vec![ValueAtQuantile {
                quantile: 0.9,
                value: 8.5,
            }],
            flags: 1,
        };
        let req = vec![ResourceGroup {
            resource: Resource {
                attributes: vec![kv("service.name", "svc")],
                dropped_attributes_count: 0,
            },
            schema_url: "rurl".into(),
            scopes: vec![ScopeGroup {
                scope: Scope {
                    name: "sname".into(),
                    version: "sver".into(),
                    attributes: vec![kv("s", "2")],
                    dropped_attributes_count: 2,
                },
                schema_url: "surl".into(),
                items: vec![
                    metric("g", MetricData::Gauge(vec![number.clone()])),
                    metric(
                        "s",
                        MetricData::Sum {
                            points: vec![number],
                            temporality: 2,
                            monotonic: true,
                        },
                    ),
                    metric(
                        "h",
                        MetricData::Histogram {
                            points: vec![histogram],
                            temporality: 1,
                        },
                    ),
                    metric(
                        "e",
                        MetricData::ExponentialHistogram {
                            points: vec![exp],
                            temporality: 1,
                        },
                    ),
                    metric("q", MetricData::Summary(vec![summary])),
                ],
            }],
        }];
        let ctx = Context::new(&req);
        let mut rows = rows(&req, &ctx);
        let ex = format!(
            "[({{x=9}}, 15, 0.5, {}, {})]",
            "bb".repeat(8),
            "aa".repeat(16)
        );
        type Own<'s> = Vec<(&'s str, &'s str)>;
        let own: [(Table, &str, Own); 5] = [
            (
                Table::Gauge,
                "g",
                vec![("Value", "7"), ("Flags", "1"), ("Exemplars", &ex)],
            ),
            (
                Table::Sum,
                "s",
                vec![
                    ("Value", "7"),
                    ("Flags", "1"),
                    ("Exemplars", &ex),
                    ("AggregationTemporality", "2"),
                    ("IsMonotonic", "true"),
                ],
            ),
            (
                Table::Histogram,
                "h",
                vec![
                    ("Count", "3"),
                    ("Sum", "6.5"),
                    ("BucketCounts", "[1, 2]"),
                    ("ExplicitBounds", "[2.5]"),
                    ("Exemplars", &ex),
                    ("Flags", "1"),
                    ("Min", "1.5"),
                    ("Max", "4.5"),
                    ("AggregationTemporality", "1"),
                ],
            ),
            (
                Table::ExponentialHistogram,
                "e",
                vec![
                    ("Count", "8"),
                    ("Sum", "6.5"),
                    ("Scale", "3"),
                    ("ZeroCount", "4"),
                    ("PositiveOffset", "-2"),
                    ("PositiveBucketCounts", "[5, 6]"),
                    ("NegativeOffset", "-5"),
                    ("NegativeBucketCounts", "[7]"),
                    ("Exemplars", &ex),
                    ("Flags", "1"),
                    ("Min", "1.5"),
                    ("Max", "4.5"),
                    ("AggregationTemporality", "1"),
                    ("ZeroThreshold", "0.25"),
                ],
            ),
            (
                Table::Summary,
                "q",
                vec![
                    ("Count", "3"),
                    ("Sum", "6.5"),
                    ("ValueAtQuantiles", "[(0.9, 8.5)]"),
                    ("Flags", "1"),
                ],
            ),
        ];
        for (table, name, own) in own {
            let mut want = vec![
                ("ResourceAttributes", "{service.name=svc}"),
                ("ResourceSchemaUrl", "rurl"),
                ("ScopeName", "sname"),
                ("ScopeVersion", "sver"),
                ("ScopeAttributes", "{s=2}"),
                ("ScopeDroppedAttrCount", "2"),
                ("ScopeSchemaUrl", "surl"),
                ("ServiceName", "svc"),
                ("MetricName", name),
                ("MetricDescription", "desc"),
                ("MetricUnit", "ms"),
                ("Attributes", "{p=1}"),
                ("StartTimeUnix", "10"),
                ("TimeUnix", "20"),
            ];
            want.extend(own);
            let batch = build(&req, &ctx, table, rows.of(table), TimeUnit::Nanosecond).unwrap();
            check_row(&batch, &want);
        }
    }
}
