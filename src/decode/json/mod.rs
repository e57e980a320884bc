//! OTLP/JSON decoding into [`crate::model`]: every JSON quirk lives here.
//!
//! The OTLP/JSON encoding is the proto3 JSON mapping with OTLP's own rules:
//! - field names in lowerCamelCase (the original snake_case is accepted too;
//!   the pairs are in `fields`);
//! - trace and span ids as hex strings (any case), empty for absent; ids
//!   in standard base64 (the generic proto3 mapping of `bytes`, which some
//!   producers use) are accepted too, told apart from hex by length alone
//!   (`scalar::Id`);
//! - 64-bit integers as strings or numbers, other integers as either too;
//! - enums as integers or by their names (`"SPAN_KIND_SERVER"`, tables in
//!   [`crate::model`]);
//! - doubles as numbers or `"NaN"`, `"Infinity"`, `"-Infinity"`;
//! - bytes as base64 (standard or URL-safe, padding optional);
//! - `null` for any field means its default; unknown fields are ignored;
//! - the body is UTF-8 throughout (RFC 8259), ignored fields included: it is
//!   checked once, whole, before parsing.
//!
//! Objects are walked by small hand-written visitors (`visit`) so that
//! strings borrow from the body where they have no escapes, and so that
//! `AnyValue` nesting (`value`) is bounded ([`super::MAX_DEPTH`]) with a
//! typed error, and so that no error message quotes the payload (`quiet`). The scalar rules are in `scalar`; the messages in
//! `logs`, `traces` and `metrics`. This module holds the entry points
//! and the `Resource*` → `Scope*` envelope the three signals share.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::{Budget, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::model::*;

mod fields;
mod logs;
mod metrics;
mod quiet;
mod scalar;
mod traces;
mod value;
mod visit;

use fields::{field, pair};
use quiet::any;
use scalar::{Key, S};
use visit::{list, obj, skip, Ctx, JsonObject, List};

/// Decodes an OTLP/JSON `ExportLogsServiceRequest`.
pub fn logs<'a>(body: &'a [u8], budget: &Budget) -> Result<LogsRequest<'a>> {
    decode(body, pair!(resource_logs), Names::LOGS, budget)
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`.
pub fn traces<'a>(body: &'a [u8], budget: &Budget) -> Result<TracesRequest<'a>> {
    decode(body, pair!(resource_spans), Names::TRACES, budget)
}

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest`.
pub fn metrics<'a>(body: &'a [u8], budget: &Budget) -> Result<MetricsRequest<'a>> {
    decode(body, pair!(resource_metrics), Names::METRICS, budget)
}

/// The per-signal field names of the shared envelope, as `[camelCase,
/// snake_case]` (a one-word name is given twice).
#[derive(Clone, Copy)]
struct Names {
    scopes: [&'static str; 2],
    items: [&'static str; 2],
}

impl Names {
    const LOGS: Names = Names {
        scopes: pair!(scope_logs),
        items: pair!(log_records),
    };
    const TRACES: Names = Names {
        scopes: pair!(scope_spans),
        items: ["spans", "spans"],
    };
    const METRICS: Names = Names {
        scopes: pair!(scope_metrics),
        items: ["metrics", "metrics"],
    };
}

/// Decodes a whole body as one export request whose list of resource
/// groups is `top`, mapping serde's error to ours by the flags in [`Ctx`].
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
    // The whole body checked as UTF-8 at once (SIMD where the target has
    // it), so serde_json reads it as `&str` and does not validate each
    // string again (`core::str::from_utf8` per string was 7.4 % of a JSON
    // request in workerd). JSON text is UTF-8 (RFC 8259), so this refuses
    // invalid bytes in ignored fields too.
    let text = simdutf8::compat::from_utf8(body).map_err(|e| {
        let (line, column) = position(body, e.valid_up_to());
        Error::Json {
            what: "invalid UTF-8".into(),
            line,
            column,
        }
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
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
                    what: without_position(&e),
                    line: e.line(),
                    column: e.column(),
                }
            }
        })?;
    Ok(out)
}

/// The 1-based line and column of byte `at`, counted as serde_json counts
/// them (bytes since the line's start).
fn position(body: &[u8], at: usize) -> (usize, usize) {
    let before = &body[..at.min(body.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    (line, at - line_start + 1)
}

/// serde_json's message without the " at line L column C" its `Display`
/// appends: [`Error::Json`] says the position itself, once.
fn without_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(what) => what.to_owned(),
        None => full,
    }
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
        any(d, self)
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
        any(d, self)
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
            } else if matches!(k, field!(schema_url)) {
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
        any(d, self)
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
            } else if matches!(k, field!(schema_url)) {
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

#[cfg(test)]
pub(super) mod tests {
    use std::borrow::Cow;

    use super::*;

    /// Invalid UTF-8 anywhere in the body, an ignored field included, is
    /// refused with its line and column, as serde_json positions errors.
    #[test]
    fn invalid_utf8_is_refused_with_its_position() {
        let body = b"{\"resourceLogs\":[],\n  \"x\": \"ab\xff\"}";
        match logs(body, &Budget::new(1 << 30)) {
            Err(Error::Json { what, line, column }) => {
                assert_eq!((what.as_str(), line, column), ("invalid UTF-8", 2, 11));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(position(b"ab\ncd\nef", 7), (3, 2));
        assert_eq!(position(b"abc", 0), (1, 1));
    }

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
    fn other_signals_fields_are_ignored() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{}]}]}]}"#;
        assert!(logs(body, &big()).unwrap().is_empty());
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(logs(b"{} x", &big()).is_err());
    }

    pub(super) fn big() -> Budget {
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
