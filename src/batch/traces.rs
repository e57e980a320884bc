//! `otel_traces`: one row per span.
//!
//! `Timestamp` is the span's start; `Duration` is end − start in
//! nanoseconds (0 when the end precedes the start). `SpanKind` and
//! `StatusCode` are rendered as the exporter renders them (`Server`, `Error`).
//! `Events` and `Links` are `List<Struct>`. See `docs/schema.md`.

use arrow_array::types::{UInt32Type, UInt64Type};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::TimeUnit;

use super::{
    finish_prim, planned, ts_array, ts_value, AttrsBuilder, AttrsPlan, Context, ListOffsets, Row,
    TextBuilder, SPAN_ID_HEX, TRACE_ID_HEX,
};
use crate::error::Result;
use crate::model::TracesRequest;
use crate::schema::{col, Table};

/// `SpanKind` as pdata's `SpanKind.String()` renders it; "" for unknown values.
pub fn span_kind(kind: i32) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

/// `StatusCode` as pdata's `StatusCode.String()` renders it; "" for unknown values.
pub fn status_code(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

/// Lists every span as a row, in request order.
pub fn rows(req: &TracesRequest<'_>, ctx: &Context<'_>) -> Vec<Row> {
    super::item_rows(req, ctx, |span| span.start_time_unix_nano)
}

/// Builds the `otel_traces` batch of `rows` (one hour, sorted).
pub fn build(
    req: &TracesRequest<'_>,
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

    // Sizing pass.
    let (mut tstate, mut name, mut svc, mut sname, mut sver, mut smsg, mut rurl, mut surl) =
        (0, 0, 0, 0, 0, 0, 0, 0);
    let (mut kind, mut status) = (0, 0);
    let (mut rattrs, mut attrs) = (AttrsPlan::default(), AttrsPlan::default());
    let (mut events, mut ev_name, mut ev_attrs) = (0, 0, AttrsPlan::default());
    let (mut links, mut ln_state, mut ln_attrs) = (0, 0, AttrsPlan::default());
    for r in rows {
        let (g, s, span) = at(r);
        tstate += span.trace_state.len() as u64;
        name += span.name.len() as u64;
        kind += span_kind(span.kind).len() as u64;
        svc += ctx.services[r.resource as usize].len() as u64;
        rattrs.add_rendered(ctx.resource_attrs(r));
        sname += s.scope.name.len() as u64;
        sver += s.scope.version.len() as u64;
        attrs.add(&span.attributes);
        status += status_code(span.status_code).len() as u64;
        smsg += span.status_message.len() as u64;
        rurl += g.schema_url.len() as u64;
        surl += s.schema_url.len() as u64;
        events += span.events.len();
        for e in &span.events {
            ev_name += e.name.len() as u64;
            ev_attrs.add(&e.attributes);
        }
        links += span.links.len();
        for l in &span.links {
            ln_state += l.trace_state.len() as u64;
            ln_attrs.add(&l.attributes);
        }
    }

    let planned_bytes = tstate + name + kind + svc + sname + sver + status + smsg + rurl + surl;
    let nested = ev_name + ln_state + (events as u64) * 16 + (links as u64) * 64;
    let attrs_bytes = rattrs.bytes() + attrs.bytes() + ev_attrs.bytes() + ln_attrs.bytes();
    ctx.check_output(Table::Traces, n, planned_bytes + nested + attrs_bytes)?;

    let mut ts = planned::<i64>(n);
    let mut trace_id = TextBuilder::with_capacity(n, (n * TRACE_ID_HEX) as u64)?;
    let mut span_id = TextBuilder::with_capacity(n, (n * SPAN_ID_HEX) as u64)?;
    let mut parent_id = TextBuilder::with_capacity(n, (n * SPAN_ID_HEX) as u64)?;
    let mut trace_state = TextBuilder::with_capacity(n, tstate)?;
    let mut span_name = TextBuilder::with_capacity(n, name)?;
    let mut span_kinds = TextBuilder::with_capacity(n, kind)?;
    let mut service = TextBuilder::with_capacity(n, svc)?;
    let mut resource_attrs = AttrsBuilder::new(rattrs)?;
    let mut scope_name = TextBuilder::with_capacity(n, sname)?;
    let mut scope_version = TextBuilder::with_capacity(n, sver)?;
    let mut span_attrs = AttrsBuilder::new(attrs)?;
    let mut duration = planned::<u64>(n);
    let mut status_codes = TextBuilder::with_capacity(n, status)?;
    let mut status_message = TextBuilder::with_capacity(n, smsg)?;
    let mut ev_offsets = ListOffsets::with_capacity(n);
    let mut ev_ts = planned::<i64>(events);
    let mut ev_names = TextBuilder::with_capacity(events, ev_name)?;
    let mut ev_attrs = AttrsBuilder::new(ev_attrs)?;
    let mut ln_offsets = ListOffsets::with_capacity(n);
    let mut ln_trace = TextBuilder::with_capacity(links, (links * TRACE_ID_HEX) as u64)?;
    let mut ln_span = TextBuilder::with_capacity(links, (links * SPAN_ID_HEX) as u64)?;
    let mut ln_state = TextBuilder::with_capacity(links, ln_state)?;
    let mut ln_attrs = AttrsBuilder::new(ln_attrs)?;
    let mut resource_url = TextBuilder::with_capacity(n, rurl)?;
    let mut scope_url = TextBuilder::with_capacity(n, surl)?;
    let mut flags = planned::<u32>(n);
    let mut dropped_attrs = planned::<u32>(n);
    let mut dropped_events = planned::<u32>(n);
    let mut dropped_links = planned::<u32>(n);

    for r in rows {
        let (g, s, span) = at(r);
        ts.push(ts_value(r.time, unit));
        trace_id.push_id(&span.trace_id);
        span_id.push_id(&span.span_id);
        parent_id.push_id(&span.parent_span_id);
        trace_state.push(&span.trace_state);
        span_name.push(&span.name);
        span_kinds.push(span_kind(span.kind));
        service.push(&ctx.services[r.resource as usize]);
        resource_attrs.push_rendered(ctx.resource_attrs(r));
        scope_name.push(&s.scope.name);
        scope_version.push(&s.scope.version);
        span_attrs.push(&span.attributes);
        duration.push(
            span.end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano),
        );
        status_codes.push(status_code(span.status_code));
        status_message.push(&span.status_message);
        for e in &span.events {
            ev_ts.push(ts_value(e.time_unix_nano, unit));
            ev_names.push(&e.name);
            ev_attrs.push(&e.attributes);
        }
        ev_offsets.push(span.events.len());
        for l in &span.links {
            ln_trace.push_id(&l.trace_id);
            ln_span.push_id(&l.span_id);
            ln_state.push(&l.trace_state);
            ln_attrs.push(&l.attributes);
        }
        ln_offsets.push(span.links.len());
        resource_url.push(&g.schema_url);
        scope_url.push(&s.schema_url);
        flags.push(span.flags);
        dropped_attrs.push(span.dropped_attributes_count);
        dropped_events.push(span.dropped_events_count);
        dropped_links.push(span.dropped_links_count);
    }

    let schema = Table::Traces.schema(unit);
    let events_col = ev_offsets.finish_struct(
        super::list_item(&schema, col::EVENTS)?,
        vec![
            ts_array(ev_ts, unit),
            ev_names.finish_ref()?,
            ev_attrs.finish_ref()?,
        ],
    )?;
    let links_col = ln_offsets.finish_struct(
        super::list_item(&schema, col::LINKS)?,
        vec![
            ln_trace.finish_ref()?,
            ln_span.finish_ref()?,
            ln_state.finish_ref()?,
            ln_attrs.finish_ref()?,
        ],
    )?;
    let columns: Vec<ArrayRef> = vec![
        ts_array(ts, unit),
        trace_id.finish_ref()?,
        span_id.finish_ref()?,
        parent_id.finish_ref()?,
        trace_state.finish_ref()?,
        span_name.finish_ref()?,
        span_kinds.finish_ref()?,
        service.finish_ref()?,
        resource_attrs.finish_ref()?,
        scope_name.finish_ref()?,
        scope_version.finish_ref()?,
        span_attrs.finish_ref()?,
        finish_prim::<UInt64Type>(duration, n),
        status_codes.finish_ref()?,
        status_message.finish_ref()?,
        events_col,
        links_col,
        resource_url.finish_ref()?,
        scope_url.finish_ref()?,
        finish_prim::<UInt32Type>(flags, n),
        finish_prim::<UInt32Type>(dropped_attrs, n),
        finish_prim::<UInt32Type>(dropped_events, n),
        finish_prim::<UInt32Type>(dropped_links, n),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}
