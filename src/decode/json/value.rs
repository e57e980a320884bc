//! `opentelemetry.proto.common.v1` and `resource.v1` in OTLP/JSON:
//! `AnyValue` (bounded nesting), `KeyValue`, attribute lists, `Resource` and
//! `InstrumentationScope`.
//!
//! An `AnyValue` deeper than [`MAX_DEPTH`] is [`Error::TooDeep`]. Scalars
//! are [`super::scalar`]'s.

use std::borrow::Cow;

use super::fields::field;
use super::lex::Parser;
use super::visit::{list_of, JsonObject};
use crate::decode::MAX_DEPTH;
use crate::error::{Error, Result};
use crate::model::{AnyValue, KeyValue, Resource, Scope};

/// An attribute list (top-level values start at depth 0).
pub(super) fn attrs<'a>(p: &mut Parser<'a, '_>) -> Result<Vec<KeyValue<'a>>> {
    list_of(p, |p| key_value(p, 0))
}

// ---- common.v1 -----------------------------------------------------------------

impl<'a> JsonObject<'a> for Resource<'a> {
    const WHAT: &'static str = "Resource";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for Scope<'a> {
    const WHAT: &'static str = "InstrumentationScope";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "name" => self.name = p.str()?,
            "version" => self.version = p.str()?,
            "attributes" => self.attributes = attrs(p)?,
            field!(dropped_attributes_count) => self.dropped_attributes_count = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

/// A `KeyValue` whose value is at `AnyValue` nesting depth `depth`.
fn key_value<'a>(p: &mut Parser<'a, '_>, depth: usize) -> Result<KeyValue<'a>> {
    p.charge::<KeyValue>()?;
    let mut kv = KeyValue::default();
    p.object(&"a KeyValue object", |p, key| {
        match &*key {
            "key" => kv.key = p.str()?,
            "value" => kv.value = any_value(p, depth)?,
            _ => p.skip()?,
        }
        Ok(())
    })?;
    Ok(kv)
}

/// An `AnyValue` at nesting depth `depth` (`null` is empty).
pub(super) fn any_value<'a>(p: &mut Parser<'a, '_>, depth: usize) -> Result<AnyValue<'a>> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            limit: MAX_DEPTH,
            at: p.here(),
        });
    }
    p.charge::<AnyValue>()?;
    let mut v = AnyValue::Empty;
    p.object(&"an AnyValue object", |p, key| {
        v = match &*key {
            field!(string_value) => AnyValue::Str(p.str()?),
            field!(bool_value) => AnyValue::Bool(p.bool()?),
            field!(int_value) => AnyValue::Int(p.int()?),
            field!(double_value) => AnyValue::Double(p.f64()?),
            field!(bytes_value) => AnyValue::Bytes(Cow::Owned(p.base64()?)),
            field!(array_value) => AnyValue::Array(values(p, |p| any_value(p, depth + 1))?),
            field!(kvlist_value) => AnyValue::KvList(values(p, |p| key_value(p, depth + 1))?),
            _ => return p.skip(),
        };
        Ok(())
    })?;
    Ok(v)
}

/// `ArrayValue` / `KeyValueList`: an object whose `values` is a list, each
/// element read by `read` (`null` is empty).
fn values<'a, 'b, T>(
    p: &mut Parser<'a, 'b>,
    mut read: impl FnMut(&mut Parser<'a, 'b>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    p.object(&"an object with \"values\"", |p, key| {
        if key == "values" {
            out = list_of(p, &mut read)?;
        } else {
            p.skip()?;
        }
        Ok(())
    })?;
    Ok(out)
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
