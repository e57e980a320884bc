//! `otel_logs`: one row per log record.
//!
//! `Timestamp` is the record's time, or its observed time when the time is
//! unset (the exporter's rule). `Body` and attribute values are rendered
//! with [`super::render`]. See `docs/schema.md` for every column.

use arrow_array::types::{UInt32Type, UInt8Type};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::TimeUnit;

use super::{
    finish_prim, planned, render, ts_array, ts_value, AttrsBuilder, AttrsPlan, Context, Row,
    TextBuilder, SPAN_ID_HEX, TRACE_ID_HEX,
};
use crate::error::Result;
use crate::model::{AnyValue, LogRecord, LogsRequest};
use crate::schema::Table;

/// The time a log record is filed under: its time, else its observed time.
pub fn log_time(rec: &LogRecord<'_>) -> u64 {
    if rec.time_unix_nano != 0 {
        rec.time_unix_nano
    } else {
        rec.observed_time_unix_nano
    }
}

/// Lists every log record as a row, in request order.
pub fn rows(req: &LogsRequest<'_>, ctx: &Context<'_>) -> Vec<Row> {
    super::item_rows(req, ctx, log_time)
}

/// Builds the `otel_logs` batch of `rows` (one hour, sorted).
pub fn build(
    req: &LogsRequest<'_>,
    ctx: &Context<'_>,
    rows: &[Row],
    unit: TimeUnit,
) -> Result<RecordBatch> {
    let n = rows.len();
    let at = |r: &Row| {
        let g = &req[r.resource as usize];
        let s = &g.scopes[r.scope as usize];
        (g, s, &s.items[r.item as usize])
    };

    // Sizing pass: exact counts, upper bounds of bytes.
    let (mut sev, mut svc, mut body, mut rurl, mut surl, mut sname, mut sver, mut ev) =
        (0, 0, 0, 0, 0, 0, 0, 0);
    let (mut rattrs, mut sattrs, mut lattrs) = (
        AttrsPlan::default(),
        AttrsPlan::default(),
        AttrsPlan::default(),
    );
    for r in rows {
        let (g, s, rec) = at(r);
        sev += rec.severity_text.len() as u64;
        svc += ctx.services[r.resource as usize].len() as u64;
        body += render::text_bound(&rec.body) as u64;
        rurl += g.schema_url.len() as u64;
        surl += s.schema_url.len() as u64;
        sname += s.scope.name.len() as u64;
        sver += s.scope.version.len() as u64;
        ev += rec.event_name.len() as u64;
        rattrs.add_rendered(ctx.resource_attrs(r));
        sattrs.add_rendered(ctx.scope_attrs(r));
        lattrs.add(&rec.attributes);
    }

    ctx.check_output(
        Table::Logs,
        n,
        sev + svc
            + body
            + rurl
            + surl
            + sname
            + sver
            + ev
            + rattrs.bytes()
            + sattrs.bytes()
            + lattrs.bytes(),
    )?;

    let mut ts = planned::<i64>(n);
    let mut trace_id = TextBuilder::with_capacity(n, (n * TRACE_ID_HEX) as u64)?;
    let mut span_id = TextBuilder::with_capacity(n, (n * SPAN_ID_HEX) as u64)?;
    let mut trace_flags = planned::<u8>(n);
    let mut severity_text = TextBuilder::with_capacity(n, sev)?;
    let mut severity_number = planned::<u8>(n);
    let mut service = TextBuilder::with_capacity(n, svc)?;
    let mut bodies = TextBuilder::with_capacity(n, body)?;
    let mut resource_url = TextBuilder::with_capacity(n, rurl)?;
    let mut resource_attrs = AttrsBuilder::new(rattrs)?;
    let mut scope_url = TextBuilder::with_capacity(n, surl)?;
    let mut scope_name = TextBuilder::with_capacity(n, sname)?;
    let mut scope_version = TextBuilder::with_capacity(n, sver)?;
    let mut scope_attrs = AttrsBuilder::new(sattrs)?;
    let mut log_attrs = AttrsBuilder::new(lattrs)?;
    let mut event_name = TextBuilder::with_capacity(n, ev)?;
    let mut observed = planned::<i64>(n);
    let mut flags = planned::<u32>(n);
    let mut dropped = planned::<u32>(n);

    for r in rows {
        let (g, s, rec) = at(r);
        ts.push(ts_value(r.time, unit));
        trace_id.push_id(&rec.trace_id);
        span_id.push_id(&rec.span_id);
        trace_flags.push(rec.flags as u8);
        severity_text.push(&rec.severity_text);
        severity_number.push(rec.severity_number.clamp(0, 255) as u8);
        service.push(&ctx.services[r.resource as usize]);
        match &rec.body {
            AnyValue::Str(b) => bodies.push(b),
            b => bodies.push_with(|out| render::text(b, out)),
        }
        resource_url.push(&g.schema_url);
        resource_attrs.push_rendered(ctx.resource_attrs(r));
        scope_url.push(&s.schema_url);
        scope_name.push(&s.scope.name);
        scope_version.push(&s.scope.version);
        scope_attrs.push_rendered(ctx.scope_attrs(r));
        log_attrs.push(&rec.attributes);
        event_name.push(&rec.event_name);
        observed.push(ts_value(rec.observed_time_unix_nano, unit));
        flags.push(rec.flags);
        dropped.push(rec.dropped_attributes_count);
    }

    let columns: Vec<ArrayRef> = vec![
        ts_array(ts, unit),
        trace_id.finish_ref()?,
        span_id.finish_ref()?,
        finish_prim::<UInt8Type>(trace_flags, n),
        severity_text.finish_ref()?,
        finish_prim::<UInt8Type>(severity_number, n),
        service.finish_ref()?,
        bodies.finish_ref()?,
        resource_url.finish_ref()?,
        resource_attrs.finish_ref()?,
        scope_url.finish_ref()?,
        scope_name.finish_ref()?,
        scope_version.finish_ref()?,
        scope_attrs.finish_ref()?,
        log_attrs.finish_ref()?,
        event_name.finish_ref()?,
        ts_array(observed, unit),
        finish_prim::<UInt32Type>(flags, n),
        finish_prim::<UInt32Type>(dropped, n),
    ];
    Ok(RecordBatch::try_new(Table::Logs.schema(unit), columns)?)
}
