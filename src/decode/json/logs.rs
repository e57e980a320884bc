//! `opentelemetry.proto.logs.v1.LogRecord` in OTLP/JSON. The envelope
//! around it is [`super`]'s; values and attributes are [`super::value`]'s.

use serde::de::MapAccess;

use super::fields::field;
use super::scalar::{Enum, Id, SeverityNames, S, U32, U64};
use super::value::{attrs, AnySeed};
use super::visit::{skip, Ctx, JsonObject};
use crate::model::LogRecord;

impl<'de> JsonObject<'de> for LogRecord<'de> {
    const WHAT: &'static str = "LogRecord";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            field!(observed_time_unix_nano) => {
                self.observed_time_unix_nano = map.next_value::<U64>()?.0
            }
            field!(severity_number) => {
                self.severity_number = map.next_value::<Enum<SeverityNames>>()?.0
            }
            field!(severity_text) => self.severity_text = map.next_value::<S>()?.0,
            "body" => self.body = map.next_value_seed(AnySeed { ctx, depth: 0 })?,
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(dropped_attributes_count) => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "flags" => self.flags = map.next_value::<U32>()?.0,
            field!(trace_id) => self.trace_id = map.next_value::<Id<16>>()?.0,
            field!(span_id) => self.span_id = map.next_value::<Id<8>>()?.0,
            field!(event_name) => self.event_name = map.next_value::<S>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}
