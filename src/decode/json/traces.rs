//! `opentelemetry.proto.trace.v1` in OTLP/JSON: `Span` with its `Status`
//! (flattened into the span), `Event`s and `Link`s. The envelope around it
//! is [`super`]'s; attributes are [`super::value`]'s.

use serde::de::MapAccess;

use super::fields::field;
use super::scalar::{Enum, Id, SpanKindNames, StatusCodeNames, S, U32, U64};
use super::value::attrs;
use super::visit::{list, obj, skip, Ctx, JsonObject};
use crate::model::{Event, Link, Span, Str};

impl<'de> JsonObject<'de> for Span<'de> {
    const WHAT: &'static str = "Span";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(trace_id) => self.trace_id = map.next_value::<Id<16>>()?.0,
            field!(span_id) => self.span_id = map.next_value::<Id<8>>()?.0,
            field!(trace_state) => self.trace_state = map.next_value::<S>()?.0,
            field!(parent_span_id) => self.parent_span_id = map.next_value::<Id<8>>()?.0,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "name" => self.name = map.next_value::<S>()?.0,
            "kind" => self.kind = map.next_value::<Enum<SpanKindNames>>()?.0,
            field!(start_time_unix_nano) => self.start_time_unix_nano = map.next_value::<U64>()?.0,
            field!(end_time_unix_nano) => self.end_time_unix_nano = map.next_value::<U64>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(dropped_attributes_count) => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "events" => self.events = list(map, ctx)?,
            field!(dropped_events_count) => self.dropped_events_count = map.next_value::<U32>()?.0,
            "links" => self.links = list(map, ctx)?,
            field!(dropped_links_count) => self.dropped_links_count = map.next_value::<U32>()?.0,
            "status" => {
                let st: Status = map.next_value_seed(obj(ctx))?;
                self.status_message = st.message;
                self.status_code = st.code;
            }
            _ => skip(map)?,
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

impl<'de> JsonObject<'de> for Status<'de> {
    const WHAT: &'static str = "Status";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        _: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "message" => self.message = map.next_value::<S>()?.0,
            "code" => self.code = map.next_value::<Enum<StatusCodeNames>>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Event<'de> {
    const WHAT: &'static str = "Event";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            "name" => self.name = map.next_value::<S>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(dropped_attributes_count) => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Link<'de> {
    const WHAT: &'static str = "Link";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(trace_id) => self.trace_id = map.next_value::<Id<16>>()?.0,
            field!(span_id) => self.span_id = map.next_value::<Id<8>>()?.0,
            field!(trace_state) => self.trace_state = map.next_value::<S>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(dropped_attributes_count) => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}
