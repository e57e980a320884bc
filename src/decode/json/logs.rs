//! `opentelemetry.proto.logs.v1.LogRecord` in OTLP/JSON. The envelope
//! around it is [`super`]'s; values and attributes are [`super::value`]'s.

use super::fields::field;
use super::lex::Parser;
use super::scalar::SeverityNames;
use super::value::{any_value, attrs};
use super::visit::JsonObject;
use crate::error::Result;
use crate::model::LogRecord;

impl<'a> JsonObject<'a> for LogRecord<'a> {
    const WHAT: &'static str = "LogRecord";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            field!(observed_time_unix_nano) => self.observed_time_unix_nano = p.int()?,
            field!(severity_number) => self.severity_number = p.enumeration::<SeverityNames>()?,
            field!(severity_text) => self.severity_text = p.str()?,
            "body" => self.body = any_value(p, 0)?,
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            "flags" => self.flags = p.int()?,
            field!(trace_id) => self.trace_id = p.id::<16>()?,
            field!(span_id) => self.span_id = p.id::<8>()?,
            field!(event_name) => self.event_name = p.str()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}
