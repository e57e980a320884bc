//! `opentelemetry.proto.logs.v1.LogRecord` in protobuf (field numbers next to
//! each arm). The envelope around it (`ResourceLogs`, `ScopeLogs`) is
//! [`super`]'s; values and attributes are [`super::common`]'s.

use super::common::{any_value_into, push_attr};
use super::wire::{Reader, Result};
use crate::model::LogRecord;

pub(super) fn log_record<'a>(mut r: Reader<'a, '_>) -> Result<LogRecord<'a>> {
    let mut rec = LogRecord::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => rec.time_unix_nano = r.f_fixed64(wire, "LogRecord.time_unix_nano")?,
            11 => {
                rec.observed_time_unix_nano =
                    r.f_fixed64(wire, "LogRecord.observed_time_unix_nano")?
            }
            2 => rec.severity_number = r.f_i32(wire, "LogRecord.severity_number")?,
            3 => rec.severity_text = r.f_str(wire, "LogRecord.severity_text")?,
            5 => any_value_into(r.f_msg(wire, "LogRecord.body")?, 0, &mut rec.body)?,
            6 => push_attr(&mut r, wire, "LogRecord.attributes")?,
            7 => {
                rec.dropped_attributes_count =
                    r.f_u32(wire, "LogRecord.dropped_attributes_count")?
            }
            8 => rec.flags = r.f_fixed32(wire, "LogRecord.flags")?,
            9 => rec.trace_id = r.f_id(wire, "LogRecord.trace_id")?,
            10 => rec.span_id = r.f_id(wire, "LogRecord.span_id")?,
            12 => rec.event_name = r.f_str(wire, "LogRecord.event_name")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut rec.attributes);
    Ok(rec)
}
