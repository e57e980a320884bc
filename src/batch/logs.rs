//! `otel_logs`: one row per log record.
//!
//! `Timestamp` is the record's time, or its observed time when the time is
//! unset (the exporter's rule). `Body` and attribute values are rendered
//! with [`super::render`]. The columns are declared once, below; see
//! `docs/schema.md` for what each holds.

use arrow_array::RecordBatch;
use arrow_schema::TimeUnit;

use super::columns::{self, *};
use super::rows::ItemRow;
use super::{Context, Row};
use crate::error::Result;
use crate::model::{LogRecord, LogsRequest};
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

/// What a row of `otel_logs` is read from.
pub(crate) type LogRow<'x> = ItemRow<'x, LogRecord<'x>>;

columns! {
    /// The `otel_logs` columns, in the exporter's order.
    pub(crate) mod table for<'x> LogRow<'x> as |x| {
        Timestamp: Time => x.row.time,
        TraceId: TraceHex => &x.item.trace_id,
        SpanId: SpanHex => &x.item.span_id,
        TraceFlags: U8 => x.item.flags as u8,
        SeverityText: Text => &x.item.severity_text,
        SeverityNumber: U8 => x.item.severity_number.clamp(0, 255) as u8,
        ServiceName: Text => x.ctx.service(x.row),
        Body: AnyText => &x.item.body,
        ResourceSchemaUrl: Text => &x.group.schema_url,
        ResourceAttributes: SharedAttrs => x.ctx.resource_attrs(x.row),
        ScopeSchemaUrl: Text => &x.scope.schema_url,
        ScopeName: Text => &x.scope.scope.name,
        ScopeVersion: Text => &x.scope.scope.version,
        ScopeAttributes: SharedAttrs => x.ctx.scope_attrs(x.row),
        LogAttributes: Attrs => &x.item.attributes,
        EventName: Text => &x.item.event_name,
        ObservedTimestamp: Time => x.item.observed_time_unix_nano,
        Flags: U32 => x.item.flags,
        DroppedAttributesCount: U32 => x.item.dropped_attributes_count,
    }
}

/// Builds the `otel_logs` batch of `rows` (one hour, sorted).
pub fn build(
    req: &LogsRequest<'_>,
    ctx: &Context<'_>,
    rows: &[Row],
    unit: TimeUnit,
) -> Result<RecordBatch> {
    let rows = super::rows::item_rows_of(req, ctx, rows);
    columns::build::<table::Set>(Table::Logs, ctx, unit, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::testing::check_row;
    use crate::model::{AnyValue, KeyValue, LogRecord, Resource, ResourceGroup, Scope, ScopeGroup};

    fn kv(k: &str, v: &str) -> KeyValue<'static> {
        KeyValue {
            key: k.to_string().into(),
            value: AnyValue::Str(v.to_string().into()),
        }
    }

    /// One record whose every column has a value no other column of its
    /// type has: a declaration that swapped two same-typed columns (which
    /// Arrow would accept) fails here, by column name.
    #[test]
    fn every_column_holds_its_own_value() {
        let rec = LogRecord {
            time_unix_nano: 11,
            observed_time_unix_nano: 12,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: AnyValue::Int(42),
            attributes: vec![kv("l", "3")],
            dropped_attributes_count: 5,
            flags: 0x101,
            trace_id: [0xaa; 16],
            span_id: [0xbb; 8],
            event_name: "ev".into(),
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
                    dropped_attributes_count: 0,
                },
                schema_url: "surl".into(),
                items: vec![rec],
            }],
        }];
        let ctx = Context::new(&req);
        let batch = build(&req, &ctx, &rows(&req, &ctx), TimeUnit::Nanosecond).unwrap();
        check_row(
            &batch,
            &[
                ("Timestamp", "11"),
                ("TraceId", &"aa".repeat(16)),
                ("SpanId", &"bb".repeat(8)),
                ("TraceFlags", "1"),
                ("SeverityText", "INFO"),
                ("SeverityNumber", "9"),
                ("ServiceName", "svc"),
                ("Body", "42"),
                ("ResourceSchemaUrl", "rurl"),
                ("ResourceAttributes", "{service.name=svc}"),
                ("ScopeSchemaUrl", "surl"),
                ("ScopeName", "sname"),
                ("ScopeVersion", "sver"),
                ("ScopeAttributes", "{s=2}"),
                ("LogAttributes", "{l=3}"),
                ("EventName", "ev"),
                ("ObservedTimestamp", "12"),
                ("Flags", "257"),
                ("DroppedAttributesCount", "5"),
            ],
        );
    }
}
