//! `opentelemetry.proto.trace.v1` in OTLP/JSON: `Span` with its `Status`
//! (flattened into the span), `Event`s and `Link`s. The envelope around it
//! is [`super`]'s; attributes are [`super::value`]'s.

use super::fields::field;
use super::lex::Parser;
use super::scalar::{SpanKindNames, StatusCodeNames};
use super::value::attrs;
use super::visit::{list, obj, JsonObject};
use crate::error::Result;
use crate::model::{Event, Link, Span, Str};

impl<'a> JsonObject<'a> for Span<'a> {
    const WHAT: &'static str = "Span";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            field!(trace_id) => self.trace_id = p.id::<16>()?,
            field!(span_id) => self.span_id = p.id::<8>()?,
            field!(trace_state) => self.trace_state = p.str()?,
            field!(parent_span_id) => self.parent_span_id = p.id::<8>()?,
            "flags" => self.flags = p.int()?,
            "name" => self.name = p.str()?,
            "kind" => self.kind = p.enumeration::<SpanKindNames>()?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = p.int()?,
            field!(end_time_unix_nano) => self.end_time_unix_nano = p.int()?,
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            "events" => self.events = list(p)?,
            field!(dropped_events_count) => self.dropped_events_count = p.int()?,
            "links" => self.links = list(p)?,
            field!(dropped_links_count) => self.dropped_links_count = p.int()?,
            "status" => {
                let st: Status = obj(p)?;
                self.status_message = st.message;
                self.status_code = st.code;
            }
            _ => p.skip()?,
        }
        Ok(())
    }
}

/// `opentelemetry.proto.trace.v1.Status`, flattened into [`Span`].
#[derive(Default)]
pub(super) struct Status<'a> {
    message: Str<'a>,
    code: i32,
}

impl<'a> JsonObject<'a> for Status<'a> {
    const WHAT: &'static str = "Status";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "message" => self.message = p.str()?,
            "code" => self.code = p.enumeration::<StatusCodeNames>()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for Event<'a> {
    const WHAT: &'static str = "Event";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            "name" => self.name = p.str()?,
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for Link<'a> {
    const WHAT: &'static str = "Link";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            field!(trace_id) => self.trace_id = p.id::<16>()?,
            field!(span_id) => self.span_id = p.id::<8>()?,
            field!(trace_state) => self.trace_state = p.str()?,
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            "flags" => self.flags = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}
