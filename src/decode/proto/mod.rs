//! Zero-copy OTLP protobuf decoding into [`crate::model`].
//!
//! A small wire-format reader (`wire`) walks the body once; strings are
//! validated as UTF-8 and borrowed, never copied. The message layouts follow
//! the OTLP `.proto` files (field numbers are noted next to each arm), one
//! module per package: `common` (values, attributes, resource, scope),
//! `logs`, `traces`, `metrics`. This module holds the entry points and
//! the `Resource*` → `Scope*` envelope the three signals share. Unknown
//! fields are skipped, as protobuf requires; a known field with the wrong
//! wire type is an error. Packed repeated scalars are accepted both packed
//! and unpacked.
//!
//! It does not build prost structs: `tests/roundtrip.rs` checks that it agrees
//! with prost on the same bytes (fixtures of all three signals, and arbitrary
//! logs and traces).

use std::cell::RefCell;

use super::Budget;
use crate::model::{
    LogsRequest, MetricsRequest, Request, ResourceGroup, ScopeGroup, TracesRequest,
};

mod common;
mod logs;
mod metrics;
mod traces;
mod wire;

use common::{resource, scope};
use wire::{Reader, Result};

/// Decodes an `ExportLogsServiceRequest`.
pub fn logs<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<LogsRequest<'a>> {
    request(
        body,
        ["ResourceLogs", "ScopeLogs", "LogRecord"],
        logs::log_record,
        budget,
    )
    .map_err(|e| *e)
}

/// Decodes an `ExportTraceServiceRequest`.
pub fn traces<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<TracesRequest<'a>> {
    request(
        body,
        ["ResourceSpans", "ScopeSpans", "Span"],
        traces::span,
        budget,
    )
    .map_err(|e| *e)
}

/// Decodes an `ExportMetricsServiceRequest`.
pub fn metrics<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<MetricsRequest<'a>> {
    request(
        body,
        ["ResourceMetrics", "ScopeMetrics", "Metric"],
        metrics::metric,
        budget,
    )
    .map_err(|e| *e)
}

/// Decodes `Export*ServiceRequest` → `Resource*` → `Scope*` → items, the
/// envelope all three signals share (fields 1, 2, 3 at both levels).
fn request<'a, T>(
    body: &'a [u8],
    names: [&str; 3],
    item: impl Fn(Reader<'a, '_>) -> Result<T>,
    budget: &Budget,
) -> Result<Request<'a, T>> {
    let [resource_what, scope_what, item_what] = names;
    let attrs = RefCell::new(Vec::new());
    let mut top = Reader::new(body, budget, &attrs);
    let mut out = Vec::new();
    while top.has_more() {
        let (field, wire) = top.key()?;
        if field != 1 {
            top.skip(wire)?;
            continue;
        }
        let mut r = top.f_msg(wire, resource_what)?;
        budget.charge::<ResourceGroup<T>>(1)?;
        let mut group = ResourceGroup::default();
        while r.has_more() {
            let (field, wire) = r.key()?;
            match field {
                1 => resource(r.f_msg(wire, "Resource")?, &mut group.resource)?,
                2 => {
                    let mut s = r.f_msg(wire, scope_what)?;
                    budget.charge::<ScopeGroup<T>>(1)?;
                    let mut sg = ScopeGroup::default();
                    // The items are counted first and charged together, so
                    // their list is allocated once, at its size.
                    let items = s.count_field(2);
                    budget.charge::<T>(items)?;
                    sg.items.reserve_exact(items);
                    while s.has_more() {
                        let (field, wire) = s.key()?;
                        match field {
                            1 => scope(s.f_msg(wire, "InstrumentationScope")?, &mut sg.scope)?,
                            2 => {
                                if sg.items.len() == items {
                                    // Not seen by the count (it stopped at
                                    // bad input further on): charge it now.
                                    budget.charge::<T>(1)?;
                                }
                                sg.items.push(item(s.f_msg(wire, item_what)?)?)
                            }
                            3 => sg.schema_url = s.f_str(wire, "schema_url")?,
                            _ => s.skip(wire)?,
                        }
                    }
                    group.scopes.push(sg);
                }
                3 => group.schema_url = r.f_str(wire, "schema_url")?,
                _ => r.skip(wire)?,
            }
        }
        out.push(group);
    }
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::error::Error;
    use crate::model::{AnyValue, KeyValue};

    #[test]
    fn empty_body_is_an_empty_request() {
        assert!(logs(&[], &big()).unwrap().is_empty());
    }

    #[test]
    fn truncated_length_reports_offset() {
        // field 1, length-delimited, length 10, but only 2 bytes follow.
        let e = logs(&[0x0a, 10, 1, 2], &big()).unwrap_err();
        assert!(matches!(e, Error::Protobuf { at: 1, .. }), "{e}");
    }

    #[test]
    fn unknown_groups_are_skipped_like_prost() {
        // field 2 StartGroup { field 1 varint 1, field 3 StartGroup {} }, EndGroup.
        let body = [0x13, 0x08, 0x01, 0x1b, 0x1c, 0x14];
        assert!(logs(&body, &big()).unwrap().is_empty());
        assert!(
            logs(&body[..5], &big()).is_err(),
            "an unclosed group is an error"
        );
    }

    #[test]
    fn wrong_wire_type_is_an_error() {
        // ResourceLogs as a varint.
        let e = logs(&[0x08, 1], &big()).unwrap_err();
        assert!(e.to_string().contains("wire type"), "{e}");
    }

    pub(super) fn big() -> Budget<'static> {
        Budget::new(1 << 30)
    }

    #[test]
    fn many_tiny_records_hit_the_decoded_budget() {
        // One ResourceLogs holding one ScopeLogs holding 10k empty LogRecords.
        let records: Vec<u8> = std::iter::repeat_n([0x12u8, 0], 10_000).flatten().collect();
        let mut scope = Vec::new();
        push_len(&mut scope, records.len());
        let mut scope_logs = vec![0x12];
        scope_logs.extend(scope);
        scope_logs.extend(&records);
        let mut body = vec![0x0a];
        push_len(&mut body, scope_logs.len());
        body.extend(&scope_logs);
        assert_eq!(
            logs(&body, &big()).unwrap()[0].scopes[0].items.len(),
            10_000
        );
        let e = logs(&body, &Budget::new(100_000)).unwrap_err();
        assert!(
            matches!(e, Error::DecodedTooLarge { limit: 100_000 }),
            "{e}"
        );
    }

    /// Protobuf merges a message's occurrences: concatenated encodings are
    /// one message. Attribute lists must come out whole and in order when
    /// they interleave with nested lists (span events) or a `Resource` field
    /// repeats, exactly as prost reads them.
    #[test]
    fn interleaved_and_repeated_attribute_lists_merge_like_prost() {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::common::v1 as pc;
        use opentelemetry_proto::tonic::resource::v1::Resource as PResource;
        use opentelemetry_proto::tonic::trace::v1 as pt;
        use prost::Message;

        let kv = |k: &str| pc::KeyValue {
            key: k.into(),
            value: Some(pc::AnyValue {
                value: Some(pc::any_value::Value::StringValue(k.to_uppercase())),
            }),
        };
        let span = |attrs: Vec<pc::KeyValue>, events: Vec<pt::span::Event>| pt::Span {
            attributes: attrs,
            events,
            ..Default::default()
        };
        let event = |k: &str| pt::span::Event {
            name: k.into(),
            attributes: vec![kv(k)],
            ..Default::default()
        };
        let mut span_bytes = span(vec![kv("a")], vec![]).encode_to_vec();
        span_bytes.extend(span(vec![], vec![event("e1")]).encode_to_vec());
        span_bytes.extend(span(vec![kv("b"), kv("c")], vec![event("e2")]).encode_to_vec());
        let mut scope_spans = vec![0x12]; // ScopeSpans.spans
        push_len(&mut scope_spans, span_bytes.len());
        scope_spans.extend(&span_bytes);
        let resource = |k: &str| pt::ResourceSpans {
            resource: Some(PResource {
                attributes: vec![kv(k)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut rs = resource("r1").encode_to_vec();
        rs.extend([0x12]); // ResourceSpans.scope_spans
        push_len(&mut rs, scope_spans.len());
        rs.extend(&scope_spans);
        rs.extend(resource("r2").encode_to_vec());
        let mut body = vec![0x0a];
        push_len(&mut body, rs.len());
        body.extend(&rs);

        let want = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        let keys = |a: &[pc::KeyValue]| a.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>();
        let ours_keys = |a: &[KeyValue]| a.iter().map(|kv| kv.key.to_string()).collect::<Vec<_>>();
        let got = traces(&body, &big()).unwrap();
        let (wr, gr) = (&want.resource_spans[0], &got[0]);
        assert_eq!(ours_keys(&gr.resource.attributes), ["r1", "r2"]);
        assert_eq!(
            ours_keys(&gr.resource.attributes),
            keys(&wr.resource.as_ref().unwrap().attributes)
        );
        let (ws, gs) = (&wr.scope_spans[0].spans[0], &gr.scopes[0].items[0]);
        assert_eq!(ours_keys(&gs.attributes), ["a", "b", "c"]);
        assert_eq!(ours_keys(&gs.attributes), keys(&ws.attributes));
        assert_eq!(gs.events.len(), 2);
        for (we, ge) in ws.events.iter().zip(&gs.events) {
            assert_eq!(ours_keys(&ge.attributes), keys(&we.attributes));
        }
        assert_eq!(gs.attributes[1].value, AnyValue::Str("B".into()));
    }

    pub(super) fn push_len(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
    }
}
