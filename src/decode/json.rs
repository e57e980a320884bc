//! OTLP/JSON decoding into [`crate::model`]: every JSON quirk lives here.
//!
//! The OTLP/JSON encoding is the proto3 JSON mapping with OTLP's own rules:
//! - field names in lowerCamelCase (the original snake_case is accepted too);
//! - trace and span ids as hex strings (any case), empty for absent;
//! - 64-bit integers as strings or numbers, other integers as either too;
//! - enums as integers or by their names (`"SPAN_KIND_SERVER"`);
//! - doubles as numbers or `"NaN"`, `"Infinity"`, `"-Infinity"`;
//! - bytes as base64 (standard or URL-safe, padding optional);
//! - `null` for any field means its default; unknown fields are ignored.
//!
//! Objects are walked by small hand-written visitors (`JsonObject`) so that
//! strings borrow from the body where they have no escapes, and so that
//! `AnyValue` nesting is bounded ([`super::MAX_DEPTH`]) with a typed error.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Budget, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::model::*;

/// Per-decode state shared by the visitors.
struct Ctx<'b> {
    /// Set when an `AnyValue` nests past [`MAX_DEPTH`], so the serde error
    /// can be turned into [`Error::TooDeep`] without reading its text.
    too_deep: Cell<bool>,
    /// Set when the budget ran out, likewise.
    over_budget: Cell<bool>,
    budget: &'b Budget,
}

impl Ctx<'_> {
    /// Charges one `T` against the budget, as a serde error when over.
    fn charge<T, E: de::Error>(&self) -> Result<(), E> {
        self.budget.charge::<T>(1).map_err(|e| {
            self.over_budget.set(true);
            E::custom(e)
        })
    }
}

/// Decodes an OTLP/JSON `ExportLogsServiceRequest`.
pub fn logs<'a>(body: &'a [u8], budget: &Budget) -> Result<LogsRequest<'a>> {
    decode(body, ["resourceLogs", "resource_logs"], Names::LOGS, budget)
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`.
pub fn traces<'a>(body: &'a [u8], budget: &Budget) -> Result<TracesRequest<'a>> {
    decode(
        body,
        ["resourceSpans", "resource_spans"],
        Names::TRACES,
        budget,
    )
}

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest`.
pub fn metrics<'a>(body: &'a [u8], budget: &Budget) -> Result<MetricsRequest<'a>> {
    decode(
        body,
        ["resourceMetrics", "resource_metrics"],
        Names::METRICS,
        budget,
    )
}

/// The per-signal field names of the shared envelope.
#[derive(Clone, Copy)]
struct Names {
    scopes: [&'static str; 2],
    items: [&'static str; 2],
}

impl Names {
    const LOGS: Names = Names {
        scopes: ["scopeLogs", "scope_logs"],
        items: ["logRecords", "log_records"],
    };
    const TRACES: Names = Names {
        scopes: ["scopeSpans", "scope_spans"],
        items: ["spans", "spans"],
    };
    const METRICS: Names = Names {
        scopes: ["scopeMetrics", "scope_metrics"],
        items: ["metrics", "metrics"],
    };
}

fn decode<'a, T: JsonObject<'a>>(
    body: &'a [u8],
    top: [&'static str; 2],
    names: Names,
    budget: &Budget,
) -> Result<Request<'a, T>> {
    let ctx = Ctx {
        too_deep: Cell::new(false),
        over_budget: Cell::new(false),
        budget,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = TopSeed::<T> {
        ctx: &ctx,
        top,
        names,
        _t: PhantomData,
    };
    let out = seed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| {
            if ctx.over_budget.get() {
                Error::DecodedTooLarge {
                    limit: budget.limit(),
                }
            } else if ctx.too_deep.get() {
                Error::TooDeep {
                    limit: MAX_DEPTH,
                    at: format!("at line {} column {}", e.line(), e.column()),
                }
            } else {
                Error::Json {
                    what: e.to_string(),
                    line: e.line(),
                    column: e.column(),
                }
            }
        })?;
    Ok(out)
}

// ---- the generic object visitor -------------------------------------------

/// A model type read from a JSON object, one field at a time.
trait JsonObject<'de>: Default + Sized {
    const WHAT: &'static str;
    /// Reads the value of `key` into `self`; unknown keys must be skipped.
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error>;
}

/// Reads a `T` from a JSON object (or `null`, which is `T::default()`).
struct Obj<'c, T> {
    ctx: &'c Ctx<'c>,
    _t: PhantomData<T>,
}

fn obj<'c, T>(ctx: &'c Ctx<'c>) -> Obj<'c, T> {
    Obj {
        ctx,
        _t: PhantomData,
    }
}

impl<'de, T: JsonObject<'de>> DeserializeSeed<'de> for Obj<'_, T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.ctx.charge::<T, D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de, T: JsonObject<'de>> Visitor<'de> for Obj<'_, T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} object", T::WHAT)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            out.field(&key.0, &mut map, self.ctx)?;
        }
        Ok(out)
    }
}

/// Reads a JSON array of `T` objects (or `null`) into a `Vec`.
struct List<S>(S);

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for List<S> {
    type Value = Vec<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for List<S> {
    type Value = Vec<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(self.0)? {
            out.push(v);
        }
        Ok(out)
    }
}

impl<T> Clone for Obj<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Obj<'_, T> {}

fn list<'de, T: JsonObject<'de>, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<T>, A::Error> {
    map.next_value_seed(List(obj::<T>(ctx)))
}

fn attrs<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<KeyValue<'de>>, A::Error> {
    map.next_value_seed(List(KvSeed { ctx, depth: 0 }))
}

fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

// ---- the envelope -----------------------------------------------------------

struct TopSeed<'c, T> {
    ctx: &'c Ctx<'c>,
    top: [&'static str; 2],
    names: Names,
    _t: PhantomData<T>,
}

impl<'de, T: JsonObject<'de>> DeserializeSeed<'de> for TopSeed<'_, T> {
    type Value = Request<'de, T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: JsonObject<'de>> Visitor<'de> for TopSeed<'_, T> {
    type Value = Request<'de, T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an export request object with {:?}", self.top[0])
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if self.top.contains(&key.0.as_ref()) {
                let seed = GroupSeed::<T> {
                    ctx: self.ctx,
                    names: self.names,
                    _t: PhantomData,
                };
                out = map.next_value_seed(List(seed))?;
            } else {
                skip(&mut map)?;
            }
        }
        Ok(out)
    }
}

struct GroupSeed<'c, T> {
    ctx: &'c Ctx<'c>,
    names: Names,
    _t: PhantomData<T>,
}
impl<T> Clone for GroupSeed<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for GroupSeed<'_, T> {}

impl<'de, T: JsonObject<'de>> DeserializeSeed<'de> for GroupSeed<'_, T> {
    type Value = ResourceGroup<'de, T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.charge::<Self::Value, D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de, T: JsonObject<'de>> Visitor<'de> for GroupSeed<'_, T> {
    type Value = ResourceGroup<'de, T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource group object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ResourceGroup::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = ResourceGroup::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let k = key.0.as_ref();
            if k == "resource" {
                out.resource = map.next_value_seed(obj::<Resource>(self.ctx))?;
            } else if k == "schemaUrl" || k == "schema_url" {
                out.schema_url = map.next_value::<S<'de>>()?.0;
            } else if self.names.scopes.contains(&k) {
                let seed = ScopeSeed::<T> {
                    ctx: self.ctx,
                    names: self.names,
                    _t: PhantomData,
                };
                out.scopes = map.next_value_seed(List(seed))?;
            } else {
                skip(&mut map)?;
            }
        }
        Ok(out)
    }
}

struct ScopeSeed<'c, T> {
    ctx: &'c Ctx<'c>,
    names: Names,
    _t: PhantomData<T>,
}
impl<T> Clone for ScopeSeed<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ScopeSeed<'_, T> {}

impl<'de, T: JsonObject<'de>> DeserializeSeed<'de> for ScopeSeed<'_, T> {
    type Value = ScopeGroup<'de, T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.charge::<Self::Value, D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de, T: JsonObject<'de>> Visitor<'de> for ScopeSeed<'_, T> {
    type Value = ScopeGroup<'de, T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scope group object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ScopeGroup::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = ScopeGroup::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let k = key.0.as_ref();
            if k == "scope" {
                out.scope = map.next_value_seed(obj::<Scope>(self.ctx))?;
            } else if k == "schemaUrl" || k == "schema_url" {
                out.schema_url = map.next_value::<S<'de>>()?.0;
            } else if self.names.items.contains(&k) {
                out.items = list(&mut map, self.ctx)?;
            } else {
                skip(&mut map)?;
            }
        }
        Ok(out)
    }
}

// ---- common.v1 -----------------------------------------------------------------

impl<'de> JsonObject<'de> for Resource<'de> {
    const WHAT: &'static str = "Resource";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Scope<'de> {
    const WHAT: &'static str = "InstrumentationScope";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "name" => self.name = map.next_value::<S>()?.0,
            "version" => self.version = map.next_value::<S>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

/// A `KeyValue` at a given `AnyValue` nesting depth.
#[derive(Clone, Copy)]
struct KvSeed<'c> {
    ctx: &'c Ctx<'c>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for KvSeed<'_> {
    type Value = KeyValue<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.charge::<Self::Value, D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KvSeed<'_> {
    type Value = KeyValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a KeyValue object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(KeyValue::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kv = KeyValue::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "key" => kv.key = map.next_value::<S>()?.0,
                "value" => {
                    kv.value = map.next_value_seed(AnySeed {
                        ctx: self.ctx,
                        depth: self.depth,
                    })?
                }
                _ => skip(&mut map)?,
            }
        }
        Ok(kv)
    }
}

/// An `AnyValue` at a given nesting depth.
#[derive(Clone, Copy)]
struct AnySeed<'c> {
    ctx: &'c Ctx<'c>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for AnySeed<'_> {
    type Value = AnyValue<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.depth > MAX_DEPTH {
            self.ctx.too_deep.set(true);
            return Err(de::Error::custom(format_args!(
                "attribute value nests deeper than {MAX_DEPTH} levels"
            )));
        }
        self.ctx.charge::<Self::Value, D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnySeed<'_> {
    type Value = AnyValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AnyValue object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AnyValue::Empty)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut v = AnyValue::Empty;
        let inner = KvSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            v = match key.0.as_ref() {
                "stringValue" | "string_value" => AnyValue::Str(map.next_value::<S>()?.0),
                "boolValue" | "bool_value" => AnyValue::Bool(map.next_value::<Bool>()?.0),
                "intValue" | "int_value" => AnyValue::Int(map.next_value::<I64>()?.0),
                "doubleValue" | "double_value" => AnyValue::Double(map.next_value::<F64>()?.0),
                "bytesValue" | "bytes_value" => {
                    AnyValue::Bytes(Cow::Owned(map.next_value::<B64>()?.0))
                }
                "arrayValue" | "array_value" => {
                    AnyValue::Array(map.next_value_seed(ValuesSeed {
                        inner: AnySeed {
                            ctx: self.ctx,
                            depth: self.depth + 1,
                        },
                    })?)
                }
                "kvlistValue" | "kvlist_value" => {
                    AnyValue::KvList(map.next_value_seed(ValuesSeed { inner })?)
                }
                _ => {
                    skip(&mut map)?;
                    v
                }
            };
        }
        Ok(v)
    }
}

/// `ArrayValue` / `KeyValueList`: an object whose `values` is a list.
#[derive(Clone, Copy)]
struct ValuesSeed<S> {
    inner: S,
}

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for ValuesSeed<S> {
    type Value = Vec<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for ValuesSeed<S> {
    type Value = Vec<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with \"values\"")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 == "values" {
                out = map.next_value_seed(List(self.inner))?;
            } else {
                skip(&mut map)?;
            }
        }
        Ok(out)
    }
}

// ---- logs.v1 ---------------------------------------------------------------------

impl<'de> JsonObject<'de> for LogRecord<'de> {
    const WHAT: &'static str = "LogRecord";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "observedTimeUnixNano" | "observed_time_unix_nano" => {
                self.observed_time_unix_nano = map.next_value::<U64>()?.0
            }
            "severityNumber" | "severity_number" => {
                self.severity_number = map.next_value::<Enum<SeverityNames>>()?.0
            }
            "severityText" | "severity_text" => self.severity_text = map.next_value::<S>()?.0,
            "body" => self.body = map.next_value_seed(AnySeed { ctx, depth: 0 })?,
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "traceId" | "trace_id" => self.trace_id = map.next_value::<Hex<16>>()?.0,
            "spanId" | "span_id" => self.span_id = map.next_value::<Hex<8>>()?.0,
            "eventName" | "event_name" => self.event_name = map.next_value::<S>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

// ---- trace.v1 --------------------------------------------------------------------

impl<'de> JsonObject<'de> for Span<'de> {
    const WHAT: &'static str = "Span";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "traceId" | "trace_id" => self.trace_id = map.next_value::<Hex<16>>()?.0,
            "spanId" | "span_id" => self.span_id = map.next_value::<Hex<8>>()?.0,
            "traceState" | "trace_state" => self.trace_state = map.next_value::<S>()?.0,
            "parentSpanId" | "parent_span_id" => {
                self.parent_span_id = map.next_value::<Hex<8>>()?.0
            }
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "name" => self.name = map.next_value::<S>()?.0,
            "kind" => self.kind = map.next_value::<Enum<SpanKindNames>>()?.0,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                self.start_time_unix_nano = map.next_value::<U64>()?.0
            }
            "endTimeUnixNano" | "end_time_unix_nano" => {
                self.end_time_unix_nano = map.next_value::<U64>()?.0
            }
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "events" => self.events = list(map, ctx)?,
            "droppedEventsCount" | "dropped_events_count" => {
                self.dropped_events_count = map.next_value::<U32>()?.0
            }
            "links" => self.links = list(map, ctx)?,
            "droppedLinksCount" | "dropped_links_count" => {
                self.dropped_links_count = map.next_value::<U32>()?.0
            }
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
struct Status<'a> {
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
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "name" => self.name = map.next_value::<S>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
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
            "traceId" | "trace_id" => self.trace_id = map.next_value::<Hex<16>>()?.0,
            "spanId" | "span_id" => self.span_id = map.next_value::<Hex<8>>()?.0,
            "traceState" | "trace_state" => self.trace_state = map.next_value::<S>()?.0,
            "attributes" => self.attributes = attrs(map, ctx)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

// ---- metrics.v1 --------------------------------------------------------------------

impl<'de> JsonObject<'de> for Metric<'de> {
    const WHAT: &'static str = "Metric";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "name" => self.name = map.next_value::<S>()?.0,
            "description" => self.description = map.next_value::<S>()?.0,
            "unit" => self.unit = map.next_value::<S>()?.0,
            "metadata" => self.metadata = attrs(map, ctx)?,
            "gauge" => {
                let d: DataOf<NumberDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Gauge(d.points);
            }
            "sum" => {
                let d: DataOf<NumberDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Sum {
                    points: d.points,
                    temporality: d.temporality,
                    monotonic: d.monotonic,
                };
            }
            "histogram" => {
                let d: DataOf<HistogramDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Histogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            "exponentialHistogram" | "exponential_histogram" => {
                let d: DataOf<ExpHistogramDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::ExponentialHistogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            "summary" => {
                let d: DataOf<SummaryDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Summary(d.points);
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram` or `Summary`: the
/// data points plus the fields some of them carry.
struct DataOf<T> {
    points: Vec<T>,
    temporality: i32,
    monotonic: bool,
}

impl<T> Default for DataOf<T> {
    fn default() -> Self {
        DataOf {
            points: Vec::new(),
            temporality: 0,
            monotonic: false,
        }
    }
}

impl<'de, T: JsonObject<'de>> JsonObject<'de> for DataOf<T> {
    const WHAT: &'static str = "metric data";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "dataPoints" | "data_points" => self.points = list(map, ctx)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                self.temporality = map.next_value::<Enum<TemporalityNames>>()?.0
            }
            "isMonotonic" | "is_monotonic" => self.monotonic = map.next_value::<Bool>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for NumberDataPoint<'de> {
    const WHAT: &'static str = "NumberDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                self.start_time_unix_nano = map.next_value::<U64>()?.0
            }
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "asDouble" | "as_double" => self.value = Number::Double(map.next_value::<F64>()?.0),
            "asInt" | "as_int" => self.value = Number::Int(map.next_value::<I64>()?.0),
            "exemplars" => self.exemplars = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for HistogramDataPoint<'de> {
    const WHAT: &'static str = "HistogramDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                self.start_time_unix_nano = map.next_value::<U64>()?.0
            }
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "bucketCounts" | "bucket_counts" => self.bucket_counts = nums::<U64, _>(map, ctx)?,
            "explicitBounds" | "explicit_bounds" => {
                self.explicit_bounds = nums::<F64, _>(map, ctx)?
            }
            "exemplars" => self.exemplars = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "min" => self.min = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "max" => self.max = map.next_value::<Option<F64>>()?.map(|v| v.0),
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for ExpHistogramDataPoint<'de> {
    const WHAT: &'static str = "ExponentialHistogramDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                self.start_time_unix_nano = map.next_value::<U64>()?.0
            }
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "scale" => self.scale = map.next_value::<I32>()?.0,
            "zeroCount" | "zero_count" => self.zero_count = map.next_value::<U64>()?.0,
            "positive" => self.positive = map.next_value_seed(obj(ctx))?,
            "negative" => self.negative = map.next_value_seed(obj(ctx))?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "exemplars" => self.exemplars = list(map, ctx)?,
            "min" => self.min = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "max" => self.max = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "zeroThreshold" | "zero_threshold" => self.zero_threshold = map.next_value::<F64>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Buckets {
    const WHAT: &'static str = "Buckets";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "offset" => self.offset = map.next_value::<I32>()?.0,
            "bucketCounts" | "bucket_counts" => self.bucket_counts = nums::<U64, _>(map, ctx)?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for SummaryDataPoint<'de> {
    const WHAT: &'static str = "SummaryDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                self.start_time_unix_nano = map.next_value::<U64>()?.0
            }
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<F64>()?.0,
            "quantileValues" | "quantile_values" => self.quantile_values = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for ValueAtQuantile {
    const WHAT: &'static str = "ValueAtQuantile";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        _: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "quantile" => self.quantile = map.next_value::<F64>()?.0,
            "value" => self.value = map.next_value::<F64>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Exemplar<'de> {
    const WHAT: &'static str = "Exemplar";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "filteredAttributes" | "filtered_attributes" => {
                self.filtered_attributes = attrs(map, ctx)?
            }
            "timeUnixNano" | "time_unix_nano" => self.time_unix_nano = map.next_value::<U64>()?.0,
            "asDouble" | "as_double" => self.value = Number::Double(map.next_value::<F64>()?.0),
            "asInt" | "as_int" => self.value = Number::Int(map.next_value::<I64>()?.0),
            "spanId" | "span_id" => self.span_id = map.next_value::<Hex<8>>()?.0,
            "traceId" | "trace_id" => self.trace_id = map.next_value::<Hex<16>>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

// ---- scalar quirks ----------------------------------------------------------------
//
// Each wrapper is a JSON scalar as OTLP/JSON allows it. All accept `null`
// as the default value.

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

/// A string value, borrowed when it has no escapes.
struct S<'de>(Cow<'de, str>);

struct CowStrVisitor;
impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(""))
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CowStrVisitor).map(Key)
    }
}

impl<'de> de::Deserialize<'de> for S<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CowStrVisitor).map(S)
    }
}

/// Defines a wrapper for an integer type that OTLP/JSON may send as a number
/// or a decimal string.
macro_rules! json_int {
    ($name:ident, $t:ty) => {
        struct $name($t);
        impl<'de> de::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        write!(f, "an integer ({}) as a number or a string", stringify!($t))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        <$t>::try_from(v).map_err(|_| {
                            E::custom(format_args!("{v} is out of range for {}", stringify!($t)))
                        })
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::try_from(v).map_err(|_| {
                            E::custom(format_args!("{v} is out of range for {}", stringify!($t)))
                        })
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                        // proto3 JSON allows integral values in exponent form.
                        // Through i128, which holds every integral f64 in
                        // range exactly: 2^64 must not pass as u64::MAX.
                        let i = v as i128;
                        if v.fract() == 0.0
                            && i as f64 == v
                            && i >= <$t>::MIN as i128
                            && i <= <$t>::MAX as i128
                        {
                            Ok(i as $t)
                        } else {
                            Err(E::custom(format_args!(
                                "{v} is not a valid {}",
                                stringify!($t)
                            )))
                        }
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        match v.parse::<$t>() {
                            Ok(n) => Ok(n),
                            Err(_) => match v.parse::<f64>() {
                                Ok(f) => self.visit_f64(f),
                                Err(_) => Err(E::custom(format_args!(
                                    "{v:?} is not a valid {}",
                                    stringify!($t)
                                ))),
                            },
                        }
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
                        Ok(0)
                    }
                }
                d.deserialize_any(V).map($name)
            }
        }
    };
}

json_int!(U64, u64);
json_int!(I64, i64);
json_int!(U32, u32);
json_int!(I32, i32);

/// A double: a number, a numeric string, or `"NaN"` / `"Infinity"` / `"-Infinity"`.
struct F64(f64);

impl<'de> de::Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a double, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                match v {
                    "NaN" => Ok(f64::NAN),
                    "Infinity" => Ok(f64::INFINITY),
                    "-Infinity" => Ok(f64::NEG_INFINITY),
                    _ => v
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .ok_or_else(|| E::custom(format_args!("{v:?} is not a valid double"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
                Ok(0.0)
            }
        }
        d.deserialize_any(V).map(F64)
    }
}

/// A bool (`null` is false).
struct Bool(bool);

impl<'de> de::Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
        }
        d.deserialize_any(V).map(Bool)
    }
}

/// A packed repeated number field: a JSON array whose elements are `T`,
/// each charged against the decode budget (8 bytes from as little as 2 of
/// JSON, so unbudgeted arrays would bypass the memory bound).
struct Nums<'c, T> {
    ctx: &'c Ctx<'c>,
    _t: PhantomData<T>,
}

fn nums<'de, T: NumElem, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<T::Out>, A::Error> {
    map.next_value_seed(Nums::<T> {
        ctx,
        _t: PhantomData,
    })
}

/// A scalar wrapper used as a [`Nums`] element, and the value it yields.
trait NumElem: for<'de> de::Deserialize<'de> {
    type Out;
    fn get(self) -> Self::Out;
}
impl NumElem for U64 {
    type Out = u64;
    fn get(self) -> u64 {
        self.0
    }
}
impl NumElem for F64 {
    type Out = f64;
    fn get(self) -> f64 {
        self.0
    }
}

impl<'de, T: NumElem> DeserializeSeed<'de> for Nums<'_, T> {
    type Value = Vec<T::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: NumElem> Visitor<'de> for Nums<'_, T> {
    type Value = Vec<T::Out>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element::<T>()? {
            self.ctx.charge::<T::Out, A::Error>()?;
            out.push(v.get());
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// An enum, as its integer or its proto name (see the `*Names` tables).
struct Enum<N>(i32, PhantomData<N>);

/// The proto names of one enum, indexed by value.
trait EnumNames {
    const NAMES: &'static [&'static str];
}
struct SeverityNames;
impl EnumNames for SeverityNames {
    const NAMES: &'static [&'static str] = &[
        "SEVERITY_NUMBER_UNSPECIFIED",
        "SEVERITY_NUMBER_TRACE",
        "SEVERITY_NUMBER_TRACE2",
        "SEVERITY_NUMBER_TRACE3",
        "SEVERITY_NUMBER_TRACE4",
        "SEVERITY_NUMBER_DEBUG",
        "SEVERITY_NUMBER_DEBUG2",
        "SEVERITY_NUMBER_DEBUG3",
        "SEVERITY_NUMBER_DEBUG4",
        "SEVERITY_NUMBER_INFO",
        "SEVERITY_NUMBER_INFO2",
        "SEVERITY_NUMBER_INFO3",
        "SEVERITY_NUMBER_INFO4",
        "SEVERITY_NUMBER_WARN",
        "SEVERITY_NUMBER_WARN2",
        "SEVERITY_NUMBER_WARN3",
        "SEVERITY_NUMBER_WARN4",
        "SEVERITY_NUMBER_ERROR",
        "SEVERITY_NUMBER_ERROR2",
        "SEVERITY_NUMBER_ERROR3",
        "SEVERITY_NUMBER_ERROR4",
        "SEVERITY_NUMBER_FATAL",
        "SEVERITY_NUMBER_FATAL2",
        "SEVERITY_NUMBER_FATAL3",
        "SEVERITY_NUMBER_FATAL4",
    ];
}
struct SpanKindNames;
impl EnumNames for SpanKindNames {
    const NAMES: &'static [&'static str] = &[
        "SPAN_KIND_UNSPECIFIED",
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ];
}
struct StatusCodeNames;
impl EnumNames for StatusCodeNames {
    const NAMES: &'static [&'static str] =
        &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
}
struct TemporalityNames;
impl EnumNames for TemporalityNames {
    const NAMES: &'static [&'static str] = &[
        "AGGREGATION_TEMPORALITY_UNSPECIFIED",
        "AGGREGATION_TEMPORALITY_DELTA",
        "AGGREGATION_TEMPORALITY_CUMULATIVE",
    ];
}

impl<'de, N: EnumNames> de::Deserialize<'de> for Enum<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<N>(PhantomData<N>);
        impl<'de, N: EnumNames> Visitor<'de> for V<N> {
            type Value = i32;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an enum value as an integer or its name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
                i32::try_from(v)
                    .map_err(|_| E::custom(format_args!("enum value {v} is out of range")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
                i32::try_from(v)
                    .map_err(|_| E::custom(format_args!("enum value {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
                match N::NAMES.iter().position(|n| *n == v) {
                    Some(i) => Ok(i as i32),
                    None => v
                        .parse::<i32>()
                        .map_err(|_| E::custom(format_args!("unknown enum name {v:?}"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
                Ok(0)
            }
        }
        d.deserialize_any(V::<N>(PhantomData))
            .map(|v| Enum(v, PhantomData))
    }
}

/// A trace or span id as hex (any case); empty or `null` is absent (zeros).
struct Hex<const N: usize>([u8; N]);

impl<'de, const N: usize> de::Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an id of {} hex digits", N * 2)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<[u8; N], E> {
                let mut id = [0u8; N];
                if v.is_empty() {
                    return Ok(id);
                }
                let bad = || {
                    E::custom(format_args!(
                        "invalid id {:?}: expected {} hex digits",
                        Excerpt(v),
                        N * 2
                    ))
                };
                if v.len() != N * 2 {
                    return Err(bad());
                }
                for (i, pair) in v.as_bytes().chunks_exact(2).enumerate() {
                    let hi = hex_digit(pair[0]).ok_or_else(bad)?;
                    let lo = hex_digit(pair[1]).ok_or_else(bad)?;
                    id[i] = (hi << 4) | lo;
                }
                Ok(id)
            }
            fn visit_unit<E: de::Error>(self) -> Result<[u8; N], E> {
                Ok([0u8; N])
            }
        }
        d.deserialize_any(V::<N>).map(Hex)
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Bytes as base64: standard or URL-safe alphabet, padding optional.
struct B64(Vec<u8>);

impl<'de> de::Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("base64 bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
                use base64::engine::{general_purpose as gp, DecodePaddingMode, GeneralPurpose};
                const LENIENT: gp::GeneralPurposeConfig =
                    gp::PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent);
                const STD: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
                const URL: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
                STD.decode(v)
                    .or_else(|_| URL.decode(v))
                    .map_err(|e| E::custom(format_args!("invalid base64 {:?}: {e}", Excerpt(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
                Ok(Vec::new())
            }
        }
        d.deserialize_any(V).map(B64)
    }
}

/// At most 40 characters of user input, for error messages.
struct Excerpt<'a>(&'a str);

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0.char_indices().nth(40) {
            Some((i, _)) => write!(f, "{:?}…", &self.0[..i]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks_of_the_spec_are_accepted() {
        let body = br#"{"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"svc"}}]},
          "scopeLogs":[{"scope":{"name":"s"},"logRecords":[{
            "timeUnixNano":"1700000000000000001","observed_time_unix_nano":1700000000000000002,
            "severityNumber":"SEVERITY_NUMBER_WARN","severityText":null,
            "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
            "body":{"kvlistValue":{"values":[{"key":"n","value":{"doubleValue":"NaN"}},
               {"key":"b","value":{"bytesValue":"aGk"}},{"key":"i","value":{"intValue":7}}]}},
            "unknownField":{"deep":[1,2,3]}}]}]}]}"#;
        let req = logs(body, &big()).unwrap();
        let rec = &req[0].scopes[0].items[0];
        assert_eq!(rec.time_unix_nano, 1_700_000_000_000_000_001);
        assert_eq!(rec.observed_time_unix_nano, 1_700_000_000_000_000_002);
        assert_eq!(rec.severity_number, 13);
        assert_eq!(rec.trace_id[0], 0x5b);
        assert_eq!(rec.span_id[7], 0x74);
        let AnyValue::KvList(kv) = &rec.body else {
            panic!("{:?}", rec.body)
        };
        assert!(matches!(kv[0].value, AnyValue::Double(d) if d.is_nan()));
        assert_eq!(kv[1].value, AnyValue::Bytes(Cow::Owned(b"hi".to_vec())));
        assert_eq!(kv[2].value, AnyValue::Int(7));
        // Strings without escapes are borrowed from the body.
        assert!(matches!(req[0].scopes[0].scope.name, Cow::Borrowed(_)));
    }

    #[test]
    fn bad_ids_name_the_value_and_position() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#;
        let e = traces(body, &big()).unwrap_err();
        let Error::Json { what, line, .. } = &e else {
            panic!("{e}")
        };
        assert!(what.contains("invalid id \"xyz\""), "{what}");
        assert_eq!(*line, 1);
    }

    #[test]
    fn nesting_is_bounded_with_a_typed_error() {
        let mut v = String::from(r#"{"stringValue":"x"}"#);
        for _ in 0..(MAX_DEPTH + 2) {
            v = format!(r#"{{"arrayValue":{{"values":[{v}]}}}}"#);
        }
        let body =
            format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{v}}}]}}]}}]}}"#);
        let e = logs(body.as_bytes(), &big()).unwrap_err();
        assert!(matches!(e, Error::TooDeep { .. }), "{e}");
    }

    #[test]
    fn other_signals_fields_are_ignored() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{}]}]}]}"#;
        assert!(logs(body, &big()).unwrap().is_empty());
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(logs(b"{} x", &big()).is_err());
    }

    fn big() -> Budget {
        Budget::new(1 << 30)
    }

    #[test]
    fn many_tiny_records_hit_the_decoded_budget() {
        let records = vec!["{}"; 10_000].join(",");
        let body =
            format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{records}]}}]}}]}}"#);
        assert_eq!(
            logs(body.as_bytes(), &big()).unwrap()[0].scopes[0]
                .items
                .len(),
            10_000
        );
        let e = logs(body.as_bytes(), &Budget::new(100_000)).unwrap_err();
        assert!(
            matches!(e, Error::DecodedTooLarge { limit: 100_000 }),
            "{e}"
        );
    }
}
