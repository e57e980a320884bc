//! `opentelemetry.proto.common.v1` and `resource.v1` in OTLP/JSON:
//! `AnyValue` (bounded nesting), `KeyValue`, attribute lists, `Resource` and
//! `InstrumentationScope`.
//!
//! An `AnyValue` deeper than [`MAX_DEPTH`] sets [`Ctx::too_deep`], so that
//! the entry point reports [`crate::Error::TooDeep`] without reading the
//! serde error's text. Scalars are [`super::scalar`]'s.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::fields::field;
use super::quiet::any;
use super::scalar::{Bool, Key, B64, F64, I64, S, U32};
use super::visit::{skip, Ctx, JsonObject, List};
use crate::decode::MAX_DEPTH;
use crate::model::{AnyValue, KeyValue, Resource, Scope};

/// The value of the current key, as an attribute list (top-level values
/// start at depth 0).
pub(super) fn attrs<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<KeyValue<'de>>, A::Error> {
    map.next_value_seed(List(KvSeed { ctx, depth: 0 }))
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
            field!(dropped_attributes_count) => {
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
            field!(dropped_attributes_count) => {
                self.dropped_attributes_count = map.next_value::<U32>()?.0
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

/// A `KeyValue` at a given `AnyValue` nesting depth.
#[derive(Clone, Copy)]
pub(super) struct KvSeed<'c> {
    pub(super) ctx: &'c Ctx<'c>,
    pub(super) depth: usize,
}

impl<'de> DeserializeSeed<'de> for KvSeed<'_> {
    type Value = KeyValue<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.charge::<Self::Value, D::Error>()?;
        any(d, self)
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
pub(super) struct AnySeed<'c> {
    pub(super) ctx: &'c Ctx<'c>,
    pub(super) depth: usize,
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
        any(d, self)
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
                field!(string_value) => AnyValue::Str(map.next_value::<S>()?.0),
                field!(bool_value) => AnyValue::Bool(map.next_value::<Bool>()?.0),
                field!(int_value) => AnyValue::Int(map.next_value::<I64>()?.0),
                field!(double_value) => AnyValue::Double(map.next_value::<F64>()?.0),
                field!(bytes_value) => AnyValue::Bytes(Cow::Owned(map.next_value::<B64>()?.0)),
                field!(array_value) => AnyValue::Array(map.next_value_seed(ValuesSeed {
                    inner: AnySeed {
                        ctx: self.ctx,
                        depth: self.depth + 1,
                    },
                })?),
                field!(kvlist_value) => {
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
pub(super) struct ValuesSeed<S> {
    inner: S,
}

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for ValuesSeed<S> {
    type Value = Vec<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        any(d, self)
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

#[cfg(test)]
mod tests {
    use crate::decode::json::logs;
    use crate::decode::json::tests::big;
    use crate::decode::MAX_DEPTH;
    use crate::error::Error;

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
}
