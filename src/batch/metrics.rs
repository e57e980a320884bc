//! `otel_metrics_{gauge,sum,histogram,exponential_histogram,summary}`: one
//! row per data point, in the table of its metric's type.
//!
//! The first fourteen columns are common to the five tables ([`Common`]);
//! each table then adds its own value columns, in the exporter's order.
//! A metric with no data points is not written: it is counted as rejected
//! ([`Rows::rejected`]) for OTLP partial success. See `docs/schema.md`.

use arrow_array::types::{Float64Type, Int32Type, UInt32Type, UInt64Type};
use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{DataType, SchemaRef, TimeUnit};

use super::{
    finish_prim, planned, ranks, ts_array, ts_value, AttrsBuilder, AttrsPlan, Context, ListOffsets,
    Row, TextBuilder, SPAN_ID_HEX, TRACE_ID_HEX,
};
use crate::error::Result;
use crate::model::*;
use crate::schema::{col, scalar_item, Table};

/// A data point type: what every metrics table reads from its points.
pub trait Point<'a>: Sized {
    /// This type's points in `data`, or `None` when `data` is another type.
    fn points<'m>(data: &'m MetricData<'a>) -> Option<&'m [Self]>;
    fn attributes(&self) -> &[KeyValue<'a>];
    fn start(&self) -> u64;
    fn time(&self) -> u64;
    fn exemplars(&self) -> &[Exemplar<'a>] {
        &[]
    }
}

macro_rules! point {
    ($t:ident, $pat:pat => $points:expr, $($ex:ident)?) => {
        impl<'a> Point<'a> for $t<'a> {
            fn points<'m>(data: &'m MetricData<'a>) -> Option<&'m [Self]> {
                match data {
                    $pat => Some($points),
                    _ => None,
                }
            }
            fn attributes(&self) -> &[KeyValue<'a>] {
                &self.attributes
            }
            fn start(&self) -> u64 {
                self.start_time_unix_nano
            }
            fn time(&self) -> u64 {
                self.time_unix_nano
            }
            $(
                fn $ex(&self) -> &[Exemplar<'a>] {
                    &self.exemplars
                }
            )?
        }
    };
}

point!(NumberDataPoint, MetricData::Gauge(p) => p, exemplars);
point!(HistogramDataPoint, MetricData::Histogram { points, .. } => points, exemplars);
point!(ExpHistogramDataPoint, MetricData::ExponentialHistogram { points, .. } => points, exemplars);
point!(SummaryDataPoint, MetricData::Summary(p) => p,);

/// Sum points are `NumberDataPoint`s too, read from the `Sum` variant.
fn sum_points<'m, 'a>(data: &'m MetricData<'a>) -> Option<&'m [NumberDataPoint<'a>]> {
    match data {
        MetricData::Sum { points, .. } => Some(points),
        _ => None,
    }
}

/// The rows of each metrics table, plus what was rejected.
#[derive(Debug, Default)]
pub struct Rows {
    pub gauge: Vec<Row>,
    pub sum: Vec<Row>,
    pub histogram: Vec<Row>,
    pub exp_histogram: Vec<Row>,
    pub summary: Vec<Row>,
    /// Metrics that carried no data points.
    pub rejected: usize,
    /// The name of the first rejected metric, for the partial-success message.
    pub first_rejected: Option<String>,
}

impl Rows {
    /// The rows of `table`, or an empty slice for a non-metrics table.
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
                        resource: ri as u32,
                        scope: si as u32,
                        item: mi as u32,
                        point: pi as u32,
                        service: services[ri],
                        metric,
                        time: super::row_time(time),
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

/// Where a row's metric and point live.
struct At<'q, 'a, P> {
    group: &'q ResourceGroup<'a, Metric<'a>>,
    scope: &'q ScopeGroup<'a, Metric<'a>>,
    metric: &'q Metric<'a>,
    point: &'q P,
}

fn locate<'q, 'a, P>(
    req: &'q MetricsRequest<'a>,
    rows: &[Row],
    points: impl Fn(&'q MetricData<'a>) -> Option<&'q [P]>,
) -> Result<Vec<At<'q, 'a, P>>> {
    let one = |r: &Row| {
        let group = req.get(r.resource as usize)?;
        let scope = group.scopes.get(r.scope as usize)?;
        let metric = scope.items.get(r.item as usize)?;
        let point = points(&metric.data)?.get(r.point as usize)?;
        Some(At {
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

/// The fourteen columns every metrics table starts with.
struct Common {
    resource_attrs: AttrsBuilder,
    resource_url: TextBuilder,
    scope_name: TextBuilder,
    scope_version: TextBuilder,
    scope_attrs: AttrsBuilder,
    scope_dropped: Vec<u32>,
    scope_url: TextBuilder,
    service: TextBuilder,
    name: TextBuilder,
    description: TextBuilder,
    unit_col: TextBuilder,
    attrs: AttrsBuilder,
    start: Vec<i64>,
    time: Vec<i64>,
    exemplars: Exemplars,
    rows: usize,
    unit: TimeUnit,
}

impl Common {
    /// Sizing pass over the common columns and exemplars, then allocation.
    fn new<'a, P: Point<'a>>(
        table: Table,
        ctx: &Context<'_>,
        at: &[At<'_, 'a, P>],
        rows: &[Row],
        unit: TimeUnit,
    ) -> Result<Self> {
        let n = at.len();
        let (mut rurl, mut sname, mut sver, mut surl, mut svc, mut name, mut desc, mut u) =
            (0, 0, 0, 0, 0, 0, 0, 0);
        let (mut rattrs, mut sattrs, mut attrs) = (
            AttrsPlan::default(),
            AttrsPlan::default(),
            AttrsPlan::default(),
        );
        let mut ex = ExemplarsPlan::default();
        for (a, r) in at.iter().zip(rows) {
            rurl += a.group.schema_url.len() as u64;
            sname += a.scope.scope.name.len() as u64;
            sver += a.scope.scope.version.len() as u64;
            surl += a.scope.schema_url.len() as u64;
            svc += ctx.services[r.resource as usize].len() as u64;
            name += a.metric.name.len() as u64;
            desc += a.metric.description.len() as u64;
            u += a.metric.unit.len() as u64;
            rattrs.add_rendered(ctx.resource_attrs(r));
            sattrs.add_rendered(ctx.scope_attrs(r));
            attrs.add(a.point.attributes());
            ex.add(a.point.exemplars());
        }
        let strings = rurl + sname + sver + surl + svc + name + desc + u;
        let attrs_bytes = rattrs.bytes()
            + sattrs.bytes()
            + attrs.bytes()
            + ex.attrs.bytes()
            + ex.count as u64 * 64;
        ctx.check_output(table, n, strings + attrs_bytes)?;
        Ok(Common {
            resource_attrs: AttrsBuilder::new(rattrs)?,
            resource_url: TextBuilder::with_capacity(n, rurl)?,
            scope_name: TextBuilder::with_capacity(n, sname)?,
            scope_version: TextBuilder::with_capacity(n, sver)?,
            scope_attrs: AttrsBuilder::new(sattrs)?,
            scope_dropped: planned(n),
            scope_url: TextBuilder::with_capacity(n, surl)?,
            service: TextBuilder::with_capacity(n, svc)?,
            name: TextBuilder::with_capacity(n, name)?,
            description: TextBuilder::with_capacity(n, desc)?,
            unit_col: TextBuilder::with_capacity(n, u)?,
            attrs: AttrsBuilder::new(attrs)?,
            start: planned(n),
            time: planned(n),
            exemplars: Exemplars::new(n, ex)?,
            rows: n,
            unit,
        })
    }

    fn push<'a, P: Point<'a>>(&mut self, ctx: &Context<'_>, a: &At<'_, 'a, P>, r: &Row) {
        self.resource_attrs.push_rendered(ctx.resource_attrs(r));
        self.resource_url.push(&a.group.schema_url);
        self.scope_name.push(&a.scope.scope.name);
        self.scope_version.push(&a.scope.scope.version);
        self.scope_attrs.push_rendered(ctx.scope_attrs(r));
        self.scope_dropped
            .push(a.scope.scope.dropped_attributes_count);
        self.scope_url.push(&a.scope.schema_url);
        self.service.push(&ctx.services[r.resource as usize]);
        self.name.push(&a.metric.name);
        self.description.push(&a.metric.description);
        self.unit_col.push(&a.metric.unit);
        self.attrs.push(a.point.attributes());
        self.start.push(ts_value(a.point.start(), self.unit));
        self.time.push(ts_value(a.point.time(), self.unit));
        self.exemplars.push(a.point.exemplars(), self.unit);
    }

    /// The fourteen common columns, and the exemplars column for later
    /// (`None` for the summary table, which has none).
    fn finish(self, schema: &SchemaRef) -> Result<(Vec<ArrayRef>, Option<ArrayRef>)> {
        let n = self.rows;
        let cols = vec![
            self.resource_attrs.finish_ref()?,
            self.resource_url.finish_ref()?,
            self.scope_name.finish_ref()?,
            self.scope_version.finish_ref()?,
            self.scope_attrs.finish_ref()?,
            finish_prim::<UInt32Type>(self.scope_dropped, n),
            self.scope_url.finish_ref()?,
            self.service.finish_ref()?,
            self.name.finish_ref()?,
            self.description.finish_ref()?,
            self.unit_col.finish_ref()?,
            self.attrs.finish_ref()?,
            ts_array(self.start, self.unit),
            ts_array(self.time, self.unit),
        ];
        let exemplars = match schema.index_of(col::EXEMPLARS) {
            Ok(_) => Some(self.exemplars.finish(schema, self.unit)?),
            Err(_) => None,
        };
        Ok((cols, exemplars))
    }
}

#[derive(Default)]
struct ExemplarsPlan {
    count: usize,
    attrs: AttrsPlan,
}

impl ExemplarsPlan {
    fn add(&mut self, ex: &[Exemplar<'_>]) {
        self.count += ex.len();
        for e in ex {
            self.attrs.add(&e.filtered_attributes);
        }
    }
}

/// The `Exemplars` `List<Struct>` column.
struct Exemplars {
    offsets: ListOffsets,
    attrs: AttrsBuilder,
    time: Vec<i64>,
    value: Vec<f64>,
    span_id: TextBuilder,
    trace_id: TextBuilder,
    count: usize,
}

impl Exemplars {
    fn new(rows: usize, plan: ExemplarsPlan) -> Result<Self> {
        let c = plan.count;
        Ok(Exemplars {
            offsets: ListOffsets::with_capacity(rows),
            attrs: AttrsBuilder::new(plan.attrs)?,
            time: planned(c),
            value: planned(c),
            span_id: TextBuilder::with_capacity(c, (c * SPAN_ID_HEX) as u64)?,
            trace_id: TextBuilder::with_capacity(c, (c * TRACE_ID_HEX) as u64)?,
            count: c,
        })
    }

    fn push(&mut self, ex: &[Exemplar<'_>], unit: TimeUnit) {
        for e in ex {
            self.attrs.push(&e.filtered_attributes);
            self.time.push(ts_value(e.time_unix_nano, unit));
            self.value.push(e.value.as_f64());
            self.span_id.push_id(&e.span_id);
            self.trace_id.push_id(&e.trace_id);
        }
        self.offsets.push(ex.len());
    }

    fn finish(self, schema: &SchemaRef, unit: TimeUnit) -> Result<ArrayRef> {
        let item = list_item_of(schema, col::EXEMPLARS)?;
        let columns = vec![
            self.attrs.finish_ref()?,
            ts_array(self.time, unit),
            finish_prim::<Float64Type>(self.value, self.count),
            self.span_id.finish_ref()?,
            self.trace_id.finish_ref()?,
        ];
        self.offsets.finish_struct(item, columns)
    }
}

fn list_item_of(schema: &SchemaRef, name: &str) -> Result<std::sync::Arc<arrow_schema::Field>> {
    super::list_item(schema, name)
}

/// A `List<UInt64>` or `List<Float64>` column from per-row slices.
fn list_column<T: arrow_array::ArrowPrimitiveType>(
    rows: usize,
    values: impl Iterator<Item = impl AsRef<[T::Native]>> + Clone,
    t: DataType,
) -> Result<ArrayRef> {
    let total: usize = values.clone().map(|v| v.as_ref().len()).sum();
    let mut offsets = ListOffsets::with_capacity(rows);
    let mut flat = planned::<T::Native>(total);
    for v in values {
        flat.extend_from_slice(v.as_ref());
        offsets.push(v.as_ref().len());
    }
    offsets.finish(scalar_item(t), finish_prim::<T>(flat, total))
}

/// Builds the batch of one metrics `table` from its `rows` (one hour, sorted).
pub fn build(
    req: &MetricsRequest<'_>,
    ctx: &Context<'_>,
    table: Table,
    rows: &[Row],
    unit: TimeUnit,
) -> Result<RecordBatch> {
    let schema = table.schema(unit);
    let n = rows.len();
    let columns = match table {
        Table::Gauge | Table::Sum => {
            let at = if table == Table::Gauge {
                locate(req, rows, NumberDataPoint::points)?
            } else {
                locate(req, rows, sum_points)?
            };
            let mut common = Common::new(table, ctx, &at, rows, unit)?;
            let (mut value, mut flags) = (planned::<f64>(n), planned::<u32>(n));
            let (mut temporality, mut monotonic) = (planned::<i32>(n), Vec::with_capacity(n));
            for (a, r) in at.iter().zip(rows) {
                common.push(ctx, a, r);
                value.push(a.point.value.as_f64());
                flags.push(a.point.flags);
                if let MetricData::Sum {
                    temporality: t,
                    monotonic: m,
                    ..
                } = &a.metric.data
                {
                    temporality.push(*t);
                    monotonic.push(*m);
                }
            }
            let (mut cols, exemplars) = common.finish(&schema)?;
            let exemplars = exemplars.ok_or_else(|| super::internal("exemplars column missing"))?;
            cols.extend([
                finish_prim::<Float64Type>(value, n),
                finish_prim::<UInt32Type>(flags, n),
                exemplars,
            ]);
            if table == Table::Sum {
                cols.push(finish_prim::<Int32Type>(temporality, n));
                cols.push(std::sync::Arc::new(BooleanArray::from(monotonic)));
            }
            cols
        }
        Table::Histogram => {
            let at = locate(req, rows, HistogramDataPoint::points)?;
            let mut common = Common::new(table, ctx, &at, rows, unit)?;
            let (mut count, mut sum, mut flags) =
                (planned::<u64>(n), planned::<f64>(n), planned::<u32>(n));
            let (mut min, mut max, mut temporality) =
                (planned::<f64>(n), planned::<f64>(n), planned::<i32>(n));
            for (a, r) in at.iter().zip(rows) {
                common.push(ctx, a, r);
                let p = a.point;
                count.push(p.count);
                sum.push(p.sum.unwrap_or(0.0));
                flags.push(p.flags);
                min.push(p.min.unwrap_or(0.0));
                max.push(p.max.unwrap_or(0.0));
                temporality.push(match &a.metric.data {
                    MetricData::Histogram { temporality, .. } => *temporality,
                    _ => 0,
                });
            }
            let (mut cols, exemplars) = common.finish(&schema)?;
            let exemplars = exemplars.ok_or_else(|| super::internal("exemplars column missing"))?;
            cols.extend([
                finish_prim::<UInt64Type>(count, n),
                finish_prim::<Float64Type>(sum, n),
                list_column::<UInt64Type>(
                    n,
                    at.iter().map(|a| &a.point.bucket_counts),
                    DataType::UInt64,
                )?,
                list_column::<Float64Type>(
                    n,
                    at.iter().map(|a| &a.point.explicit_bounds),
                    DataType::Float64,
                )?,
                exemplars,
                finish_prim::<UInt32Type>(flags, n),
                finish_prim::<Float64Type>(min, n),
                finish_prim::<Float64Type>(max, n),
                finish_prim::<Int32Type>(temporality, n),
            ]);
            cols
        }
        Table::ExponentialHistogram => {
            let at = locate(req, rows, ExpHistogramDataPoint::points)?;
            let mut common = Common::new(table, ctx, &at, rows, unit)?;
            let (mut count, mut sum, mut scale) =
                (planned::<u64>(n), planned::<f64>(n), planned::<i32>(n));
            let (mut zero, mut pos_off, mut neg_off) =
                (planned::<u64>(n), planned::<i32>(n), planned::<i32>(n));
            let (mut flags, mut min, mut max) =
                (planned::<u32>(n), planned::<f64>(n), planned::<f64>(n));
            let (mut temporality, mut zero_threshold) = (planned::<i32>(n), planned::<f64>(n));
            for (a, r) in at.iter().zip(rows) {
                common.push(ctx, a, r);
                let p = a.point;
                count.push(p.count);
                sum.push(p.sum.unwrap_or(0.0));
                scale.push(p.scale);
                zero.push(p.zero_count);
                pos_off.push(p.positive.offset);
                neg_off.push(p.negative.offset);
                flags.push(p.flags);
                min.push(p.min.unwrap_or(0.0));
                max.push(p.max.unwrap_or(0.0));
                temporality.push(match &a.metric.data {
                    MetricData::ExponentialHistogram { temporality, .. } => *temporality,
                    _ => 0,
                });
                zero_threshold.push(p.zero_threshold);
            }
            let (mut cols, exemplars) = common.finish(&schema)?;
            let exemplars = exemplars.ok_or_else(|| super::internal("exemplars column missing"))?;
            cols.extend([
                finish_prim::<UInt64Type>(count, n),
                finish_prim::<Float64Type>(sum, n),
                finish_prim::<Int32Type>(scale, n),
                finish_prim::<UInt64Type>(zero, n),
                finish_prim::<Int32Type>(pos_off, n),
                list_column::<UInt64Type>(
                    n,
                    at.iter().map(|a| &a.point.positive.bucket_counts),
                    DataType::UInt64,
                )?,
                finish_prim::<Int32Type>(neg_off, n),
                list_column::<UInt64Type>(
                    n,
                    at.iter().map(|a| &a.point.negative.bucket_counts),
                    DataType::UInt64,
                )?,
                exemplars,
                finish_prim::<UInt32Type>(flags, n),
                finish_prim::<Float64Type>(min, n),
                finish_prim::<Float64Type>(max, n),
                finish_prim::<Int32Type>(temporality, n),
                finish_prim::<Float64Type>(zero_threshold, n),
            ]);
            cols
        }
        Table::Summary => {
            let at = locate(req, rows, SummaryDataPoint::points)?;
            let mut common = Common::new(table, ctx, &at, rows, unit)?;
            let (mut count, mut sum, mut flags) =
                (planned::<u64>(n), planned::<f64>(n), planned::<u32>(n));
            let quantiles: usize = at.iter().map(|a| a.point.quantile_values.len()).sum();
            let mut q_offsets = ListOffsets::with_capacity(n);
            let (mut q, mut v) = (planned::<f64>(quantiles), planned::<f64>(quantiles));
            for (a, r) in at.iter().zip(rows) {
                common.push(ctx, a, r);
                let p = a.point;
                count.push(p.count);
                sum.push(p.sum);
                flags.push(p.flags);
                for qv in &p.quantile_values {
                    q.push(qv.quantile);
                    v.push(qv.value);
                }
                q_offsets.push(p.quantile_values.len());
            }
            let (mut cols, _no_exemplars) = common.finish(&schema)?;
            let item = list_item_of(&schema, col::VALUE_AT_QUANTILES)?;
            cols.extend([
                finish_prim::<UInt64Type>(count, n),
                finish_prim::<Float64Type>(sum, n),
                q_offsets.finish_struct(
                    item,
                    vec![
                        finish_prim::<Float64Type>(q, quantiles),
                        finish_prim::<Float64Type>(v, quantiles),
                    ],
                )?,
                finish_prim::<UInt32Type>(flags, n),
            ]);
            cols
        }
        Table::Logs | Table::Traces => return Err(super::internal("not a metrics table")),
    };
    Ok(RecordBatch::try_new(schema, columns)?)
}
