//! `opentelemetry.proto.common.v1` and `resource.v1` in protobuf: `AnyValue`,
//! `KeyValue`, attribute lists, `Resource` and `InstrumentationScope`.
//!
//! Values are decoded in place (see below) and attributes go through the
//! request's shared stack ([`Attrs`](super::wire::Attrs)). `AnyValue`
//! nesting is bounded by [`MAX_DEPTH`]. It does not read the signal-specific
//! messages (`logs`, `traces`, `metrics` beside it).

use std::borrow::Cow;

use prost::encoding::WireType;

use super::wire::{Reader, Result};
use crate::decode::MAX_DEPTH;
use crate::error::Error;
use crate::model::{AnyValue, KeyValue, Resource, Scope};

// Values are decoded in place, into the `AnyValue` or `KeyValue` where they
// will stay: returned through memory and moved, the 32-byte enum was read
// back before all its bytes were written (a store-forwarding stall per
// attribute; decode of 10k logs 18.4 → 13.5 M cycles). Arrays and key-value
// lists, the only recursion, go through `container`, kept out of line.

/// Decodes an `AnyValue` message into `out`.
#[inline(always)]
pub(super) fn any_value_into<'a>(
    mut r: Reader<'a, '_>,
    depth: usize,
    out: &mut AnyValue<'a>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Box::new(Error::TooDeep {
            limit: MAX_DEPTH,
            at: format!("at byte {}", r.pos()),
        }));
    }
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => set(out, AnyValue::Str(r.f_str(wire, "AnyValue.string_value")?)),
            2 => set(out, AnyValue::Bool(r.f_bool(wire, "AnyValue.bool_value")?)),
            3 => set(out, AnyValue::Int(r.f_i64(wire, "AnyValue.int_value")?)),
            4 => set(
                out,
                AnyValue::Double(r.f_double(wire, "AnyValue.double_value")?),
            ),
            5 | 6 => container(&mut r, field, wire, depth, out)?,
            7 => {
                r.expect(wire, WireType::LengthDelimited, "AnyValue.bytes_value")?;
                set(
                    out,
                    AnyValue::Bytes(Cow::Borrowed(r.len_delimited("AnyValue.bytes_value")?)),
                )
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// Stores `v` in `out`. `out` is nearly always still `Empty` (a value's
/// first field): then nothing is dropped, where `*out = v` called the
/// out-of-line (recursive) `drop_in_place::<AnyValue>` for every value, 3.6 %
/// of decoding 10k logs (callgrind). A later field of the same value (OTLP's
/// `oneof`: the last one wins) drops the earlier one as before.
#[inline(always)]
fn set<'a>(out: &mut AnyValue<'a>, v: AnyValue<'a>) {
    if matches!(out, AnyValue::Empty) {
        // `Empty` owns nothing: forgetting it leaks nothing.
        std::mem::forget(std::mem::replace(out, v));
    } else {
        *out = v;
    }
}

/// Decodes a `KeyValue` message into `out`.
#[inline(always)]
fn key_value_into<'a>(mut r: Reader<'a, '_>, depth: usize, out: &mut KeyValue<'a>) -> Result<()> {
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => out.key = r.f_str(wire, "KeyValue.key")?,
            2 => any_value_into(r.f_msg(wire, "KeyValue.value")?, depth, &mut out.value)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// `AnyValue.array_value` (field 5) or `AnyValue.kvlist_value` (field 6),
/// into `out`. A second occurrence of the member `out` already holds is
/// merged into it, as protobuf merges a repeated message field (its
/// `values` appended, as prost and the Go and Python runtimes read it);
/// any other member is replaced (`oneof`: the last one wins).
#[inline(never)]
fn container<'a>(
    r: &mut Reader<'a, '_>,
    field: u32,
    wire: WireType,
    depth: usize,
    out: &mut AnyValue<'a>,
) -> Result<()> {
    if field == 5 {
        let mut a = r.f_msg(wire, "AnyValue.array_value")?;
        if !matches!(out, AnyValue::Array(_)) {
            set(out, AnyValue::Array(Vec::new()));
        }
        let AnyValue::Array(values) = out else {
            return Ok(());
        };
        while a.has_more() {
            let (f, w) = a.key()?;
            if f == 1 {
                let m = a.f_msg(w, "ArrayValue.values")?;
                a.budget.charge::<AnyValue>(1)?;
                values.push(AnyValue::Empty);
                if let Some(v) = values.last_mut() {
                    any_value_into(m, depth + 1, v)?;
                }
            } else {
                a.skip(w)?;
            }
        }
    } else {
        let mut l = r.f_msg(wire, "AnyValue.kvlist_value")?;
        if !matches!(out, AnyValue::KvList(_)) {
            set(out, AnyValue::KvList(Vec::new()));
        }
        let AnyValue::KvList(values) = out else {
            return Ok(());
        };
        while l.has_more() {
            let (f, w) = l.key()?;
            if f == 1 {
                let m = l.f_msg(w, "KeyValueList.values")?;
                l.budget.charge::<KeyValue>(1)?;
                values.push(KeyValue::default());
                if let Some(kv) = values.last_mut() {
                    key_value_into(m, depth + 1, kv)?;
                }
            } else {
                l.skip(w)?;
            }
        }
    }
    Ok(())
}

/// Reads one `KeyValue` field occurrence onto the attribute stack (see
/// [`Attrs`]); the message collects its list with [`Reader::attrs_into`].
#[inline]
pub(super) fn push_attr(r: &mut Reader<'_, '_>, wire: WireType, what: &str) -> Result<()> {
    let m = r.f_msg(wire, what)?;
    r.budget.charge::<KeyValue>(1)?;
    let mut stack = r.attrs.borrow_mut();
    stack.push(KeyValue::default());
    match stack.last_mut() {
        Some(kv) => key_value_into(m, 0, kv),
        None => Ok(()),
    }
}

pub(super) fn resource<'a>(mut r: Reader<'a, '_>, out: &mut Resource<'a>) -> Result<()> {
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => push_attr(&mut r, wire, "Resource.attributes")?,
            2 => {
                out.dropped_attributes_count = r.f_u32(wire, "Resource.dropped_attributes_count")?
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut out.attributes);
    Ok(())
}

pub(super) fn scope<'a>(mut r: Reader<'a, '_>, out: &mut Scope<'a>) -> Result<()> {
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => out.name = r.f_str(wire, "InstrumentationScope.name")?,
            2 => out.version = r.f_str(wire, "InstrumentationScope.version")?,
            3 => push_attr(&mut r, wire, "InstrumentationScope.attributes")?,
            4 => {
                out.dropped_attributes_count =
                    r.f_u32(wire, "InstrumentationScope.dropped_attributes_count")?
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut out.attributes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::decode::proto::tests::{big, push_len};

    /// `AnyValue` is a `oneof`: of several fields, the last one wins, a
    /// container replaced as well as a scalar.
    #[test]
    fn the_last_field_of_a_value_wins() {
        // array_value { values: { int_value: 7 } }, then string_value "x",
        // then int_value 3, then an empty kvlist_value.
        let body = [
            0x2a, 0x04, 0x0a, 0x02, 0x18, 0x07, 0x0a, 0x01, b'x', 0x18, 0x03, 0x32, 0x00,
        ];
        let b = big();
        let attrs = RefCell::default();
        for (end, want) in [
            (6, AnyValue::Array(vec![AnyValue::Int(7)])),
            (9, AnyValue::Str("x".into())),
            (11, AnyValue::Int(3)),
            (13, AnyValue::KvList(vec![])),
        ] {
            let mut out = AnyValue::Empty;
            any_value_into(Reader::new(&body[..end], &b, &attrs), 0, &mut out).unwrap();
            assert_eq!(out, want, "first {end} bytes");
        }
    }

    /// The same container member twice merges, as protobuf merges a
    /// repeated message field: `array_value{1}` then `array_value{2}` is
    /// `[1, 2]` (prost, Go and Python read it so), and two `kvlist_value`s
    /// give one list of both entries. Another member in between replaces.
    #[test]
    fn the_same_container_twice_merges() {
        // array_value { values: { int_value: 1 } }, array_value { values: { int_value: 2 } }
        let arrays = [
            0x2a, 0x04, 0x0a, 0x02, 0x18, 0x01, 0x2a, 0x04, 0x0a, 0x02, 0x18, 0x02,
        ];
        // kvlist_value { values: { key: "a" } } twice, then with key "b"
        let lists = [
            0x32, 0x05, 0x0a, 0x03, 0x0a, 0x01, b'a', 0x32, 0x05, 0x0a, 0x03, 0x0a, 0x01, b'b',
        ];
        // array_value{1}, string_value "x", array_value{2}: the string replaced the first.
        let replaced = [
            0x2a, 0x04, 0x0a, 0x02, 0x18, 0x01, 0x0a, 0x01, b'x', 0x2a, 0x04, 0x0a, 0x02, 0x18,
            0x02,
        ];
        let key = |k: &'static str| KeyValue {
            key: k.into(),
            value: AnyValue::Empty,
        };
        let b = big();
        let attrs = RefCell::default();
        for (body, want) in [
            (
                &arrays[..],
                AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Int(2)]),
            ),
            (&lists[..], AnyValue::KvList(vec![key("a"), key("b")])),
            (&replaced[..], AnyValue::Array(vec![AnyValue::Int(2)])),
        ] {
            let mut out = AnyValue::Empty;
            any_value_into(Reader::new(body, &b, &attrs), 0, &mut out).unwrap();
            assert_eq!(out, want);
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // AnyValue{array_value{values: AnyValue{array_value{...}}}} nested deeply,
        // built inside-out, used as a log body.
        let mut v: Vec<u8> = Vec::new();
        for _ in 0..(MAX_DEPTH + 5) {
            let mut arr = vec![0x0a];
            push_len(&mut arr, v.len());
            arr.extend_from_slice(&v);
            let mut any = vec![0x2a];
            push_len(&mut any, arr.len());
            any.extend_from_slice(&arr);
            v = any;
        }
        let b = big();
        let e = any_value_into(
            Reader::new(&v, &b, &RefCell::default()),
            0,
            &mut AnyValue::Empty,
        )
        .unwrap_err();
        assert!(matches!(*e, Error::TooDeep { .. }), "{e}");
    }
}
