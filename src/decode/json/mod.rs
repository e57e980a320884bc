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
//!   an integral value in any number form (`1e3`, `5.0`, in a string too,
//!   where the string must be a JSON number: no `+`, no leading zero), read
//!   exactly, never through a double (past 2^53 a double rounds);
//! - enums as integers (in any integral number form, as integers take
//!   them) or by their names (`"SPAN_KIND_SERVER"`, tables in
//!   [`crate::model`]);
//! - doubles as numbers or `"NaN"`, `"Infinity"`, `"-Infinity"`;
//! - bytes as base64 (standard or URL-safe, padding optional);
//! - `null` for any field means its default, and for a member of a `oneof`
//!   (an `AnyValue`'s value, a metric's data, a point's value) that the
//!   member is not set: it does not replace an earlier member (protobuf's
//!   JSON mapping, as Go's `protojson` reads it; the Collector's pdata
//!   decoder sets the member to its default instead, so a `"gauge": null`
//!   after a `"sum"` loses the sum's points there); unknown fields are
//!   ignored;
//! - the body is UTF-8 throughout (RFC 8259), ignored fields included: it is
//!   checked once, whole, before parsing.
//!
//! The body is read by a cursor that knows JSON's grammar (`lex`) and no
//! OTLP; each message is read by code that knows its shape and asks the
//! cursor for the value it expects, with no value tree and no generic
//! visitor in between (serde_json's visitors took 3.7 times the protobuf
//! decoder's instructions). Strings without escapes borrow from the body;
//! `AnyValue` nesting (`value`) is bounded ([`super::MAX_DEPTH`]) with a
//! typed error; no error message quotes the payload. The scalar rules are
//! in `scalar`; the messages in `logs`, `traces` and `metrics`. This module
//! holds the entry points and the `Resource*` → `Scope*` envelope the three
//! signals share.

use super::Budget;
use crate::error::{Error, Result};
use crate::model::*;

mod fields;
mod lex;
mod logs;
mod metrics;
mod scalar;
mod traces;
mod value;
mod visit;

use fields::pair;
use lex::{Parser, Scalar};
use visit::{list_of, obj, JsonObject};

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
/// groups is `top`.
fn decode<'a, T: JsonObject<'a>>(
    body: &'a [u8],
    top: [&'static str; 2],
    names: Names,
    budget: &Budget,
) -> Result<Request<'a, T>> {
    // The whole body checked as UTF-8 at once (SIMD where the target has
    // it), so that strings can be sliced from it without checking each.
    // JSON text is UTF-8 (RFC 8259), so this refuses invalid bytes in
    // ignored fields too.
    let text = simdutf8::compat::from_utf8(body).map_err(|e| {
        let (line, column) = lex::line_column(body, e.valid_up_to() + 1);
        Error::Json {
            what: "invalid UTF-8".into(),
            line,
            column,
        }
    })?;
    let mut p = Parser::new(text, budget);
    let mut out = Vec::new();
    let expecting = format_args!("an export request object with {:?}", top[0]);
    let found = p.object(&expecting, |p, key| {
        if top.contains(&&*key) {
            out = list_of(p, |p| group::<T>(p, names))?;
        } else {
            p.skip()?;
        }
        Ok(())
    })?;
    if !found {
        return Err(p.wrong_type(&Scalar::Null, &expecting));
    }
    p.finish()?;
    Ok(out)
}

// ---- the envelope -----------------------------------------------------------

/// A `Resource{Logs,Spans,Metrics}` object (`null` is empty).
fn group<'a, T: JsonObject<'a>>(
    p: &mut Parser<'a, '_>,
    names: Names,
) -> Result<ResourceGroup<'a, T>> {
    p.charge::<ResourceGroup<'a, T>>()?;
    let mut out = ResourceGroup::default();
    p.object(&"a resource group object", |p, key| {
        match &*key {
            "resource" => out.resource = obj(p)?,
            fields::field!(schema_url) => out.schema_url = p.str()?,
            k if names.scopes.contains(&k) => out.scopes = list_of(p, |p| scope::<T>(p, names))?,
            _ => p.skip()?,
        }
        Ok(())
    })?;
    Ok(out)
}

/// A `Scope{Logs,Spans,Metrics}` object (`null` is empty).
fn scope<'a, T: JsonObject<'a>>(p: &mut Parser<'a, '_>, names: Names) -> Result<ScopeGroup<'a, T>> {
    p.charge::<ScopeGroup<'a, T>>()?;
    let mut out = ScopeGroup::default();
    p.object(&"a scope group object", |p, key| {
        match &*key {
            "scope" => out.scope = obj(p)?,
            fields::field!(schema_url) => out.schema_url = p.str()?,
            k if names.items.contains(&k) => out.items = visit::list(p)?,
            _ => p.skip()?,
        }
        Ok(())
    })?;
    Ok(out)
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

    /// A `oneof` member that is `null` is not set: the member before it
    /// stays (a metric's points are not dropped by a `"gauge": null` after
    /// its `"sum"`), and a value of only `null` members stays empty.
    #[test]
    fn a_null_oneof_member_does_not_replace_the_one_set() {
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"body":{"stringValue":"x","intValue":null,"kvlistValue":null}},
            {"body":{"arrayValue":{"values":[{"stringValue":null}]}}}]}]}]}"#;
        let req = logs(body, &big()).unwrap();
        let items = &req[0].scopes[0].items;
        assert_eq!(items[0].body, AnyValue::Str(Cow::Borrowed("x")));
        assert_eq!(items[1].body, AnyValue::Array(vec![AnyValue::Empty]));

        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m",
            "sum":{"dataPoints":[{"asDouble":1.5,"asInt":null},{"asInt":"2"}],
                   "aggregationTemporality":2,"isMonotonic":true},
            "gauge":null,"histogram":null,"exponentialHistogram":null,"summary":null}]}]}]}"#;
        let req = metrics(body, &big()).unwrap();
        let m = &req[0].scopes[0].items[0];
        let crate::model::MetricData::Sum {
            points,
            temporality,
            monotonic,
        } = &m.data
        else {
            panic!("{:?}", m.data)
        };
        assert_eq!((*temporality, *monotonic), (2, true));
        assert_eq!(points[0].value, crate::model::Number::Double(1.5));
        assert_eq!(points[1].value, crate::model::Number::Int(2));
    }

    /// A value of the wrong type, or a string that is not what the field
    /// takes, is named by its kind, never quoted: the message goes to the
    /// reply and the log line, and the value could be a secret sent in the
    /// wrong field.
    #[test]
    fn errors_name_the_kind_of_value_not_the_value() {
        let fields = [
            ("timeUnixNano", "integer (u64)"),
            ("severityNumber", "SeverityNumber"),
            ("severityText", "a string"),
            ("traceId", "16-byte id"),
            ("flags", "integer (u32)"),
            ("body", "an AnyValue object"),
            ("attributes", "an array"),
        ];
        let values = [
            (r#""SECRET-42""#, "string"),
            ("4242424242", "integer"),
            ("-4242424242", "integer"),
            ("4242.4242", "floating point"),
            ("true", "boolean"),
            (r#"["SECRET-42"]"#, "sequence"),
            (r#"{"SECRET-42":1}"#, "map"),
        ];
        let mut refused = 0;
        for (field, expecting) in fields {
            for (value, kind) in values {
                let body = format!(
                    r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"{field}":{value}}}]}}]}}]}}"#
                );
                let Err(e) = logs(body.as_bytes(), &big()) else {
                    continue;
                };
                let msg = e.to_string();
                assert!(!msg.contains("SECRET") && !msg.contains("4242"), "{msg}");
                // The field's own value of the wrong kind names the field's
                // type (an element inside a list names the element's).
                if msg.contains(&format!("invalid type: {kind}, expected")) {
                    assert!(msg.contains(expecting), "{msg}");
                }
                refused += 1;
            }
        }
        // Most pairs are refused (a number is a valid u64, a string may be
        // an id or an enum name…), and each refusal was checked above.
        assert!(refused >= 35, "{refused}");
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

    pub(super) fn big() -> Budget<'static> {
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
