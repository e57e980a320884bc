//! `otel_traces`: one row per span.
//!
//! `Timestamp` is the span's start; `Duration` is end − start in
//! nanoseconds (0 when the end precedes the start). `SpanKind` and
//! `StatusCode` are rendered as the exporter renders them (`Server`, `Error`).
//! `Events` and `Links` are `List<Struct>`. The columns are declared once,
//! below; see `docs/schema.md` for what each holds.

use arrow_array::RecordBatch;
use arrow_schema::TimeUnit;

use super::columns::{self, *};
use super::rows::ItemRow;
use super::{Context, Row};
use crate::error::Result;
use crate::model::{Event, Link, Span, TracesRequest};
use crate::schema::Table;

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

/// What a row of `otel_traces` is read from.
pub(crate) type SpanRow<'x> = ItemRow<'x, Span<'x>>;

columns! {
    /// The `otel_traces` columns, in the exporter's order.
    pub(crate) mod table for<'x> SpanRow<'x> as |x| {
        Timestamp: Time => x.row.time,
        TraceId: TraceHex => &x.item.trace_id,
        SpanId: SpanHex => &x.item.span_id,
        ParentSpanId: SpanHex => &x.item.parent_span_id,
        TraceState: Text => &x.item.trace_state,
        SpanName: Text => &x.item.name,
        SpanKind: Text => span_kind(x.item.kind),
        ServiceName: Text => x.ctx.service(x.row),
        ResourceAttributes: SharedAttrs => x.ctx.resource_attrs(x.row),
        ScopeName: Text => &x.scope.scope.name,
        ScopeVersion: Text => &x.scope.scope.version,
        SpanAttributes: Attrs => &x.item.attributes,
        Duration: U64 => x.item.end_time_unix_nano.saturating_sub(x.item.start_time_unix_nano),
        StatusCode: Text => status_code(x.item.status_code),
        StatusMessage: Text => &x.item.status_message,
        Events: Structs<events::Set> => &x.item.events,
        Links: Structs<links::Set> => &x.item.links,
        ResourceSchemaUrl: Text => &x.group.schema_url,
        ScopeSchemaUrl: Text => &x.scope.schema_url,
        Flags: U32 => x.item.flags,
        DroppedAttributesCount: U32 => x.item.dropped_attributes_count,
        DroppedEventsCount: U32 => x.item.dropped_events_count,
        DroppedLinksCount: U32 => x.item.dropped_links_count,
    }
}

columns! {
    /// The item struct of `Events`.
    pub(crate) mod events for<'x> Event<'x> as |e|, 16 bytes per item {
        Timestamp: Time => e.time_unix_nano,
        Name: Text => &e.name,
        Attributes: Attrs => &e.attributes,
    }
}

columns! {
    /// The item struct of `Links`.
    pub(crate) mod links for<'x> Link<'x> as |l|, 64 bytes per item {
        TraceId: TraceHex => &l.trace_id,
        SpanId: SpanHex => &l.span_id,
        TraceState: Text => &l.trace_state,
        Attributes: Attrs => &l.attributes,
    }
}

/// Builds the `otel_traces` batch of `rows` (one hour, sorted).
pub fn build(
    req: &TracesRequest<'_>,
    ctx: &Context<'_>,
    rows: &[Row],
    unit: TimeUnit,
) -> Result<RecordBatch> {
    let rows = super::rows::item_rows_of(req, ctx, rows);
    columns::build::<table::Set>(Table::Traces, ctx, unit, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::testing::check_row;
    use crate::model::{AnyValue, KeyValue, Resource, ResourceGroup, Scope, ScopeGroup};

    fn kv(k: &str, v: &str) -> KeyValue<'static> {
        KeyValue {
            key: k.to_string().into(),
            value: AnyValue::Str(v.to_string().into()),
        }
    }

    /// One span whose every column (and every member of its event and link)
    /// has a value no other column of its type has: a declaration that
    /// swapped two same-typed columns fails here, by column name.
    #[test]
    fn every_column_holds_its_own_value() {
        let span = Span {
            trace_id: [0xaa; 16],
            span_id: [0xbb; 8],
            trace_state: "ts=1".into(),
            parent_span_id: [0xcc; 8],
            flags: 0x301,
            name: "GET /".into(),
            kind: 2,
            start_time_unix_nano: 100,
            end_time_unix_nano: 150,
            attributes: vec![kv("a", "1")],
            dropped_attributes_count: 3,
            events: vec![Event {
                time_unix_nano: 120,
                name: "evname".into(),
                attributes: vec![kv("e", "4")],
                dropped_attributes_count: 0,
            }],
            dropped_events_count: 4,
            links: vec![Link {
                trace_id: [0xdd; 16],
                span_id: [0xee; 8],
                trace_state: "lts".into(),
                attributes: vec![kv("k", "5")],
                dropped_attributes_count: 0,
                flags: 0,
            }],
            dropped_links_count: 6,
            status_message: "bad".into(),
            status_code: 2,
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
                    attributes: vec![],
                    dropped_attributes_count: 0,
                },
                schema_url: "surl".into(),
                items: vec![span],
            }],
        }];
        let ctx = Context::new(&req);
        let batch = build(&req, &ctx, &rows(&req, &ctx), TimeUnit::Nanosecond).unwrap();
        let link = format!("[({}, {}, lts, {{k=5}})]", "dd".repeat(16), "ee".repeat(8));
        check_row(
            &batch,
            &[
                ("Timestamp", "100"),
                ("TraceId", &"aa".repeat(16)),
                ("SpanId", &"bb".repeat(8)),
                ("ParentSpanId", &"cc".repeat(8)),
                ("TraceState", "ts=1"),
                ("SpanName", "GET /"),
                ("SpanKind", "Server"),
                ("ServiceName", "svc"),
                ("ResourceAttributes", "{service.name=svc}"),
                ("ScopeName", "sname"),
                ("ScopeVersion", "sver"),
                ("SpanAttributes", "{a=1}"),
                ("Duration", "50"),
                ("StatusCode", "Error"),
                ("StatusMessage", "bad"),
                ("Events", "[(120, evname, {e=4})]"),
                ("Links", &link),
                ("ResourceSchemaUrl", "rurl"),
                ("ScopeSchemaUrl", "surl"),
                ("Flags", "769"),
                ("DroppedAttributesCount", "3"),
                ("DroppedEventsCount", "4"),
                ("DroppedLinksCount", "6"),
            ],
        );
    }
}
