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
    let mut list = p.scratch_attrs();
    let read = p.array(&"an array", |p| {
        list.push(key_value(p, 0)?);
        Ok(())
    });
    // Moved into a list of exactly their number; `list` keeps its room.
    let mut out = Vec::with_capacity(list.len());
    out.append(&mut list);
    p.return_attrs(list);
    read.map(|_| out)
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
    // `{"key":…,"value":…}`, as exporters write it, without scanning and
    // matching the two keys; anything else the general way.
    if p.eat_key(b'{', "key") {
        kv.key = p.str()?;
        if p.eat_key(b',', "value") {
            kv.value = any_value(p, depth)?;
        }
        p.rest_of_object(|p, key| kv_field(&mut kv, p, &key, depth))?;
    } else {
        p.object(&"a KeyValue object", |p, key| {
            kv_field(&mut kv, p, &key, depth)
        })?;
    }
    Ok(kv)
}

fn kv_field<'a>(
    kv: &mut KeyValue<'a>,
    p: &mut Parser<'a, '_>,
    key: &str,
    depth: usize,
) -> Result<()> {
    match key {
        "key" => kv.key = p.str()?,
        "value" => kv.value = any_value(p, depth)?,
        _ => p.skip()?,
    }
    Ok(())
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
    // The variants as exporters write them (`{"stringValue":…`), read
    // without scanning and matching the key; anything else the general way.
    let first = if p.eat_key(b'{', "stringValue") {
        Some(member(p, |p| Ok(AnyValue::Str(p.str()?)))?)
    } else if p.eat_key(b'{', "intValue") {
        Some(member(p, |p| Ok(AnyValue::Int(p.int()?)))?)
    } else if p.eat_key(b'{', "doubleValue") {
        Some(member(p, |p| Ok(AnyValue::Double(p.f64()?)))?)
    } else if p.eat_key(b'{', "boolValue") {
        Some(member(p, |p| Ok(AnyValue::Bool(p.bool()?)))?)
    } else {
        None
    };
    let mut v = AnyValue::Empty;
    match first {
        Some(first) => {
            v = first;
            p.rest_of_object(|p, key| any_field(&mut v, p, &key, depth))?;
        }
        None => {
            p.object(&"an AnyValue object", |p, key| {
                any_field(&mut v, p, &key, depth)
            })?;
        }
    }
    Ok(v)
}

/// A member of the value's `oneof`, read by `read`; `null` sets none.
#[inline(always)]
fn member<'a, 'b>(
    p: &mut Parser<'a, 'b>,
    read: impl FnOnce(&mut Parser<'a, 'b>) -> Result<AnyValue<'a>>,
) -> Result<AnyValue<'a>> {
    if p.null_next() {
        p.skip()?;
        return Ok(AnyValue::Empty);
    }
    read(p)
}

fn any_field<'a>(
    v: &mut AnyValue<'a>,
    p: &mut Parser<'a, '_>,
    key: &str,
    depth: usize,
) -> Result<()> {
    // Every field is a member of the value's `oneof`: `null` sets none.
    if p.null_next() {
        return p.skip();
    }
    *v = match key {
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

    /// The fast paths of `KeyValue` and `AnyValue` (keys in the order
    /// exporters write, no whitespace; the string, int, double and bool
    /// variants) read what the general walk reads,
    /// whatever follows them: each attribute below is decoded as written
    /// and with a space after every `{` and `,`, which sends every object
    /// the general way.
    #[test]
    fn fast_paths_read_what_the_general_walk_reads() {
        let attrs = [
            r#"{"key":"k","value":{"stringValue":"v"}}"#,
            r#"{"key":"k","value":{"stringValue":"v","intValue":3}}"#,
            r#"{"key":"k","value":{"stringValue":"v"},"key":"k2"}"#,
            r#"{"key":"k","value":{"stringValue":"v"},"value":{"boolValue":true}}"#,
            r#"{"key":"k","other":1,"value":{"intValue":"7"}}"#,
            r#"{"key":"k"}"#,
            r#"{"key":null,"value":null}"#,
            r#"{"value":{"stringValue":"v"},"key":"k"}"#,
            r#"{"key":"k","value":{"stringValue":null}}"#,
            r#"{"key":"k","value":{"stringValue":"a"b"}}"#,
            r#"{"key":"k","value":{"intValue":1,"stringValue":"s"}}"#,
            r#"{"key":"k","value":{"kvlistValue":{"values":[{"key":"n","value":{"stringValue":"x"}}]}}}"#,
            r#"{"key":"k","value":{"stringValue":"v"},}"#,
            r#"{"key":"k","value":{"stringValue":7}}"#,
            r#"{"key":"k","value":{"stringValue":"v"}"#,
            r#"{"key":5,"value":{}}"#,
            r#"{"key":"k","value":{"intValue":"7"}}"#,
            r#"{"key":"k","value":{"intValue":7,"boolValue":true}}"#,
            r#"{"key":"k","value":{"intValue":"x"}}"#,
            r#"{"key":"k","value":{"doubleValue":1.5}}"#,
            r#"{"key":"k","value":{"doubleValue":"NaN","stringValue":"s"}}"#,
            r#"{"key":"k","value":{"doubleValue":true}}"#,
            r#"{"key":"k","value":{"boolValue":false}}"#,
            r#"{"key":"k","value":{"boolValue":"true"}}"#,
            r#"{"key":"k","value":{"boolValue":true,}}"#,
        ];
        for attr in attrs {
            let doc = |a: &str| {
                format!(
                    r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"attributes":[{a}]}}]}}]}}]}}"#
                )
            };
            let spaced = attr.replace('{', "{ ").replace(',', ", ");
            let read = |d: String| match logs(d.as_bytes(), &big()) {
                Ok(v) => format!("{v:?}"),
                Err(e) => format!(
                    "error {}",
                    e.to_string().split(" at line").next().unwrap_or("")
                ),
            };
            assert_eq!(read(doc(attr)), read(doc(&spaced)), "{attr}");
        }
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
}
