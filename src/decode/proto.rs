//! Zero-copy OTLP protobuf decoding into [`crate::model`].
//!
//! A small wire-format reader (`Reader`) walks the body once; strings are
//! validated as UTF-8 and borrowed, never copied. Varints are read with
//! prost's own primitive; the message layouts follow the OTLP `.proto` files
//! (field numbers are noted next to each arm). Unknown fields are skipped, as
//! protobuf requires; a known field with the wrong wire type is an error.
//! Packed repeated scalars are accepted both packed and unpacked.
//!
//! It does not build prost structs: `tests/roundtrip.rs` checks that it agrees
//! with prost on the same bytes (fixtures of all three signals, and arbitrary
//! logs and traces).

use std::borrow::Cow;
use std::cell::RefCell;

use prost::encoding::WireType;

use super::{Budget, MAX_DEPTH};
use crate::error::Error;

/// Results inside the decoder carry the error boxed: `Error` is 40 bytes,
/// which made every `Result<u64>` from `varint` and every `key` return through
/// memory; boxed, they come back in two registers (decode of 10k logs:
/// 8.2 → 7.3 ms). The public entry points unbox.
type Result<T> = std::result::Result<T, Box<Error>>;
use crate::model::*;

/// Attribute lists being read, shared by all readers of one request.
///
/// A message's attributes are pushed here as they are read, then moved into
/// an exactly sized `Vec` when the message ends ([`Reader::attrs_into`]): one
/// allocation per list instead of a growing `Vec`'s two or three, and no
/// unused capacity the [`Budget`] would not see. Messages nest (a span's
/// events have attributes), so lists stack: a nested message takes its
/// entries off the top before its parent goes on.
type Attrs<'a> = RefCell<Vec<KeyValue<'a>>>;

/// A cursor over one protobuf message (or the whole body).
#[derive(Clone, Copy)]
struct Reader<'a, 'b> {
    /// The whole body, so errors can report absolute offsets.
    body: &'a [u8],
    budget: &'b Budget,
    attrs: &'b Attrs<'a>,
    pos: usize,
    end: usize,
}

/// The varint at `data[*i..]`, moving `*i` past it; `None` if it is
/// truncated or longer than ten bytes.
#[inline(always)]
fn varint_at(data: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for k in 0..10 {
        let b = *data.get(*i)?;
        *i += 1;
        v |= u64::from(b & 0x7f) << (7 * k);
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// `bytes` as a `&str` when they are UTF-8. Most strings in telemetry are
/// short ASCII (attribute keys, names, enum-like values): up to 32 bytes are
/// checked inline a word at a time; anything else goes to simdutf8. (The
/// library call cost 10 % of decoding 10k log records.)
#[inline(always)]
fn utf8(bytes: &[u8]) -> Option<&str> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = bytes.len();
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0xff; 8]));
    let ascii = match n {
        0..=7 => bytes.iter().all(|&b| b < 0x80),
        8..=16 => (word(0) | word(n - 8)) & HIGH == 0,
        17..=32 => (word(0) | word(8) | word(n - 16) | word(n - 8)) & HIGH == 0,
        _ => false,
    };
    if ascii {
        // SAFETY: every byte is below 0x80, so the bytes are ASCII, which is
        // valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

#[cold]
fn err(what: impl Into<String>, at: usize) -> Box<Error> {
    Box::new(Error::Protobuf {
        what: what.into(),
        at,
    })
}

// The per-field primitives below (`varint`'s one-byte path, `key`, `take`,
// `len_delimited`, `message`, `str`, `expect`, `f_str`, `f_msg`) are forced
// inline: LLVM kept `varint` out of line and paid a call per tag. Measured on
// 10k logs: decode 7.3 → 4.9 ms (`make bench-stages`).
impl<'a, 'b> Reader<'a, 'b> {
    fn new(body: &'a [u8], budget: &'b Budget, attrs: &'b Attrs<'a>) -> Self {
        Reader {
            body,
            budget,
            attrs,
            pos: 0,
            end: body.len(),
        }
    }

    #[inline]
    fn has_more(&self) -> bool {
        self.pos < self.end
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64> {
        // Fast path: most varints (tags, small lengths) are one byte.
        if self.pos < self.end {
            let b = self.body[self.pos];
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }

    /// A varint of two or more bytes (or a truncated one), kept out of line
    /// so the one-byte path inlines everywhere.
    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64> {
        let mut rest = &self.body[self.pos..self.end];
        let before = rest.len();
        let v = prost::encoding::decode_varint(&mut rest)
            .map_err(|_| err("truncated or invalid varint", self.pos))?;
        self.pos += before - rest.len();
        Ok(v)
    }

    /// Reads a field key: the field number and its wire type.
    #[inline(always)]
    fn key(&mut self) -> Result<(u32, WireType)> {
        let at = self.pos;
        let key = self.varint()?;
        let wire = WireType::try_from(key & 7).map_err(|_| err("invalid wire type", at))?;
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(err("invalid field number", at));
        }
        Ok((field as u32, wire))
    }

    #[inline(always)]
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.end - self.pos < n {
            return Err(err(format!("{what} is truncated"), self.pos));
        }
        let s = &self.body[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn fixed64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    #[inline]
    fn fixed32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    /// A length-delimited payload.
    #[inline(always)]
    fn len_delimited(&mut self, what: &str) -> Result<&'a [u8]> {
        let at = self.pos;
        let len = self.varint()?;
        if len > (self.end - self.pos) as u64 {
            return Err(err(format!("{what} length {len} runs past the end"), at));
        }
        self.take(len as usize, what)
    }

    /// A nested message: a reader bounded to its bytes.
    #[inline(always)]
    fn message(&mut self, what: &str) -> Result<Reader<'a, 'b>> {
        let bytes = self.len_delimited(what)?;
        let start = self.pos - bytes.len();
        Ok(Reader {
            body: self.body,
            budget: self.budget,
            attrs: self.attrs,
            pos: start,
            end: self.pos,
        })
    }

    /// Where the current message's attribute list starts in the shared stack.
    #[inline]
    fn attrs_mark(&self) -> usize {
        self.attrs.borrow().len()
    }

    /// Moves the attributes pushed since `mark` into `out`: as an exactly
    /// sized list when `out` is empty (always, except for a repeated
    /// `Resource` or `scope` field, which protobuf merges by appending).
    #[inline]
    fn attrs_into(&self, mark: usize, out: &mut Vec<KeyValue<'a>>) {
        let mut stack = self.attrs.borrow_mut();
        if stack.len() == mark {
            return;
        }
        if out.is_empty() {
            *out = stack.drain(mark..).collect();
        } else {
            out.extend(stack.drain(mark..));
        }
    }

    #[inline(always)]
    fn str(&mut self, what: &str) -> Result<Str<'a>> {
        let at = self.pos;
        let bytes = self.len_delimited(what)?;
        match utf8(bytes) {
            Some(s) => Ok(Cow::Borrowed(s)),
            None => Err(err(format!("invalid UTF-8 in {what}"), at)),
        }
    }

    fn skip(&mut self, wire: WireType) -> Result<()> {
        match wire {
            WireType::Varint => {
                self.varint()?;
            }
            WireType::SixtyFourBit => {
                self.take(8, "unknown field")?;
            }
            WireType::ThirtyTwoBit => {
                self.take(4, "unknown field")?;
            }
            WireType::LengthDelimited => {
                self.len_delimited("unknown field")?;
            }
            // A (deprecated) group in an unknown field: skip to its end, as
            // prost does, with nesting bounded.
            WireType::StartGroup => self.skip_group(0)?,
            WireType::EndGroup => return Err(err("unexpected end of group", self.pos)),
        }
        Ok(())
    }

    /// How many times field `number` occurs in the rest of this message: a
    /// scan of tags and lengths only, with none of the reader's error
    /// plumbing. Stops at the first field it cannot step over (a group, a
    /// bad varint, a truncated field): the real pass reports it.
    fn count_field(&self, number: u32) -> usize {
        let data = &self.body[self.pos..self.end];
        let (mut i, mut n) = (0usize, 0usize);
        while i < data.len() {
            let Some(key) = varint_at(data, &mut i) else {
                break;
            };
            let step = match key & 7 {
                0 => match varint_at(data, &mut i) {
                    Some(_) => 0,
                    None => break,
                },
                1 => 8,
                2 => match varint_at(data, &mut i) {
                    Some(len) => len,
                    None => break,
                },
                5 => 4,
                _ => break,
            };
            if key >> 3 == u64::from(number) {
                n += 1;
            }
            i = match usize::try_from(step).ok().and_then(|s| i.checked_add(s)) {
                Some(next) => next,
                None => break,
            };
        }
        n
    }

    /// Skips the fields of a group up to and including its end marker.
    fn skip_group(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Box::new(Error::TooDeep {
                limit: MAX_DEPTH,
                at: format!("at byte {}", self.pos),
            }));
        }
        loop {
            if !self.has_more() {
                return Err(err("group is not closed", self.pos));
            }
            let (_, wire) = self.key()?;
            match wire {
                WireType::EndGroup => return Ok(()),
                WireType::StartGroup => self.skip_group(depth + 1)?,
                other => self.skip(other)?,
            }
        }
    }

    /// Errors unless `wire` is what field `what` needs.
    #[inline(always)]
    fn expect(&self, wire: WireType, want: WireType, what: &str) -> Result<()> {
        if wire == want {
            Ok(())
        } else {
            Err(err(
                format!("{what} has wire type {wire:?}, expected {want:?}"),
                self.pos,
            ))
        }
    }

    // Typed field readers: check the wire type, then read.

    #[inline(always)]
    fn f_str(&mut self, wire: WireType, what: &str) -> Result<Str<'a>> {
        self.expect(wire, WireType::LengthDelimited, what)?;
        self.str(what)
    }
    /// A nested message that becomes one `T` in the model: charged first.
    fn f_elem<T>(&mut self, wire: WireType, what: &str) -> Result<Reader<'a, 'b>> {
        self.budget.charge::<T>(1)?;
        self.f_msg(wire, what)
    }
    #[inline(always)]
    fn f_msg(&mut self, wire: WireType, what: &str) -> Result<Reader<'a, 'b>> {
        self.expect(wire, WireType::LengthDelimited, what)?;
        self.message(what)
    }
    fn f_fixed64(&mut self, wire: WireType, what: &str) -> Result<u64> {
        self.expect(wire, WireType::SixtyFourBit, what)?;
        self.fixed64(what)
    }
    fn f_fixed32(&mut self, wire: WireType, what: &str) -> Result<u32> {
        self.expect(wire, WireType::ThirtyTwoBit, what)?;
        self.fixed32(what)
    }
    fn f_double(&mut self, wire: WireType, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.f_fixed64(wire, what)?))
    }
    fn f_u32(&mut self, wire: WireType, what: &str) -> Result<u32> {
        self.expect(wire, WireType::Varint, what)?;
        // proto3 uint32: the low 32 bits of the varint, as prost reads it.
        Ok(self.varint()? as u32)
    }
    fn f_i32(&mut self, wire: WireType, what: &str) -> Result<i32> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? as i32)
    }
    fn f_i64(&mut self, wire: WireType, what: &str) -> Result<i64> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? as i64)
    }
    fn f_sint32(&mut self, wire: WireType, what: &str) -> Result<i32> {
        self.expect(wire, WireType::Varint, what)?;
        let v = self.varint()? as u32;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }
    fn f_bool(&mut self, wire: WireType, what: &str) -> Result<bool> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? != 0)
    }

    /// A trace or span id: exactly `N` bytes, or empty (absent).
    fn f_id<const N: usize>(&mut self, wire: WireType, what: &str) -> Result<[u8; N]> {
        self.expect(wire, WireType::LengthDelimited, what)?;
        let at = self.pos;
        let bytes = self.len_delimited(what)?;
        let mut id = [0u8; N];
        match bytes.len() {
            0 => {}
            n if n == N => id.copy_from_slice(bytes),
            n => return Err(err(format!("{what} must be {N} bytes, got {n}"), at)),
        }
        Ok(id)
    }

    /// A repeated `fixed64`, packed or not, appended to `out`.
    fn f_packed_fixed64(&mut self, wire: WireType, what: &str, out: &mut Vec<u64>) -> Result<()> {
        match wire {
            WireType::SixtyFourBit => {
                self.budget.charge::<u64>(1)?;
                out.push(self.fixed64(what)?)
            }
            WireType::LengthDelimited => {
                let at = self.pos;
                let bytes = self.len_delimited(what)?;
                if bytes.len() % 8 != 0 {
                    return Err(err(
                        format!("packed {what} is not a multiple of 8 bytes"),
                        at,
                    ));
                }
                self.budget.charge::<u64>(bytes.len() / 8)?;
                out.reserve(bytes.len() / 8);
                out.extend(bytes.chunks_exact(8).map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    u64::from_le_bytes(a)
                }));
            }
            _ => self.expect(wire, WireType::LengthDelimited, what)?,
        }
        Ok(())
    }

    /// A repeated `double`, packed or not, appended to `out`.
    fn f_packed_double(&mut self, wire: WireType, what: &str, out: &mut Vec<f64>) -> Result<()> {
        let mut bits = Vec::new();
        self.f_packed_fixed64(wire, what, &mut bits)?;
        out.extend(bits.into_iter().map(f64::from_bits));
        Ok(())
    }

    /// A repeated `uint64` (varint), packed or not, appended to `out`.
    fn f_packed_varint(&mut self, wire: WireType, what: &str, out: &mut Vec<u64>) -> Result<()> {
        match wire {
            WireType::Varint => {
                self.budget.charge::<u64>(1)?;
                out.push(self.varint()?)
            }
            WireType::LengthDelimited => {
                let mut inner = self.message(what)?;
                while inner.has_more() {
                    self.budget.charge::<u64>(1)?;
                    out.push(inner.varint()?);
                }
            }
            _ => self.expect(wire, WireType::LengthDelimited, what)?,
        }
        Ok(())
    }
}

// ---- common.v1 ----------------------------------------------------------

// Values are decoded in place, into the `AnyValue` or `KeyValue` where they
// will stay: returned through memory and moved, the 32-byte enum was read
// back before all its bytes were written (a store-forwarding stall per
// attribute; decode of 10k logs 18.4 → 13.5 M cycles). Arrays and key-value
// lists, the only recursion, go through `container`, kept out of line.

/// Decodes an `AnyValue` message into `out`.
#[inline(always)]
fn any_value_into<'a>(mut r: Reader<'a, '_>, depth: usize, out: &mut AnyValue<'a>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Box::new(Error::TooDeep {
            limit: MAX_DEPTH,
            at: format!("at byte {}", r.pos),
        }));
    }
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => *out = AnyValue::Str(r.f_str(wire, "AnyValue.string_value")?),
            2 => *out = AnyValue::Bool(r.f_bool(wire, "AnyValue.bool_value")?),
            3 => *out = AnyValue::Int(r.f_i64(wire, "AnyValue.int_value")?),
            4 => *out = AnyValue::Double(r.f_double(wire, "AnyValue.double_value")?),
            5 | 6 => *out = container(&mut r, field, wire, depth)?,
            7 => {
                r.expect(wire, WireType::LengthDelimited, "AnyValue.bytes_value")?;
                *out = AnyValue::Bytes(Cow::Borrowed(r.len_delimited("AnyValue.bytes_value")?))
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(())
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

/// `AnyValue.array_value` (field 5) or `AnyValue.kvlist_value` (field 6).
#[inline(never)]
fn container<'a>(
    r: &mut Reader<'a, '_>,
    field: u32,
    wire: WireType,
    depth: usize,
) -> Result<AnyValue<'a>> {
    if field == 5 {
        let mut a = r.f_msg(wire, "AnyValue.array_value")?;
        let mut values = Vec::new();
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
        Ok(AnyValue::Array(values))
    } else {
        let mut l = r.f_msg(wire, "AnyValue.kvlist_value")?;
        let mut values = Vec::new();
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
        Ok(AnyValue::KvList(values))
    }
}

/// Reads one `KeyValue` field occurrence onto the attribute stack (see
/// [`Attrs`]); the message collects its list with [`Reader::attrs_into`].
#[inline]
fn push_attr(r: &mut Reader<'_, '_>, wire: WireType, what: &str) -> Result<()> {
    let m = r.f_msg(wire, what)?;
    r.budget.charge::<KeyValue>(1)?;
    let mut stack = r.attrs.borrow_mut();
    stack.push(KeyValue::default());
    match stack.last_mut() {
        Some(kv) => key_value_into(m, 0, kv),
        None => Ok(()),
    }
}

fn resource<'a>(mut r: Reader<'a, '_>, out: &mut Resource<'a>) -> Result<()> {
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

fn scope<'a>(mut r: Reader<'a, '_>, out: &mut Scope<'a>) -> Result<()> {
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

// ---- the shared Resource* / Scope* envelope -----------------------------

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

// ---- logs.v1 --------------------------------------------------------------

/// Decodes an `ExportLogsServiceRequest`.
pub fn logs<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<LogsRequest<'a>> {
    request(
        body,
        ["ResourceLogs", "ScopeLogs", "LogRecord"],
        log_record,
        budget,
    )
    .map_err(|e| *e)
}

fn log_record<'a>(mut r: Reader<'a, '_>) -> Result<LogRecord<'a>> {
    let mut rec = LogRecord::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => rec.time_unix_nano = r.f_fixed64(wire, "LogRecord.time_unix_nano")?,
            11 => {
                rec.observed_time_unix_nano =
                    r.f_fixed64(wire, "LogRecord.observed_time_unix_nano")?
            }
            2 => rec.severity_number = r.f_i32(wire, "LogRecord.severity_number")?,
            3 => rec.severity_text = r.f_str(wire, "LogRecord.severity_text")?,
            5 => any_value_into(r.f_msg(wire, "LogRecord.body")?, 0, &mut rec.body)?,
            6 => push_attr(&mut r, wire, "LogRecord.attributes")?,
            7 => {
                rec.dropped_attributes_count =
                    r.f_u32(wire, "LogRecord.dropped_attributes_count")?
            }
            8 => rec.flags = r.f_fixed32(wire, "LogRecord.flags")?,
            9 => rec.trace_id = r.f_id(wire, "LogRecord.trace_id")?,
            10 => rec.span_id = r.f_id(wire, "LogRecord.span_id")?,
            12 => rec.event_name = r.f_str(wire, "LogRecord.event_name")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut rec.attributes);
    Ok(rec)
}

// ---- trace.v1 -------------------------------------------------------------

/// Decodes an `ExportTraceServiceRequest`.
pub fn traces<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<TracesRequest<'a>> {
    request(body, ["ResourceSpans", "ScopeSpans", "Span"], span, budget).map_err(|e| *e)
}

fn span<'a>(mut r: Reader<'a, '_>) -> Result<Span<'a>> {
    let mut s = Span::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => s.trace_id = r.f_id(wire, "Span.trace_id")?,
            2 => s.span_id = r.f_id(wire, "Span.span_id")?,
            3 => s.trace_state = r.f_str(wire, "Span.trace_state")?,
            4 => s.parent_span_id = r.f_id(wire, "Span.parent_span_id")?,
            16 => s.flags = r.f_fixed32(wire, "Span.flags")?,
            5 => s.name = r.f_str(wire, "Span.name")?,
            6 => s.kind = r.f_i32(wire, "Span.kind")?,
            7 => s.start_time_unix_nano = r.f_fixed64(wire, "Span.start_time_unix_nano")?,
            8 => s.end_time_unix_nano = r.f_fixed64(wire, "Span.end_time_unix_nano")?,
            9 => push_attr(&mut r, wire, "Span.attributes")?,
            10 => s.dropped_attributes_count = r.f_u32(wire, "Span.dropped_attributes_count")?,
            11 => s
                .events
                .push(event(r.f_elem::<Event>(wire, "Span.events")?)?),
            12 => s.dropped_events_count = r.f_u32(wire, "Span.dropped_events_count")?,
            13 => s.links.push(link(r.f_elem::<Link>(wire, "Span.links")?)?),
            14 => s.dropped_links_count = r.f_u32(wire, "Span.dropped_links_count")?,
            15 => {
                let mut st = r.f_msg(wire, "Span.status")?;
                while st.has_more() {
                    let (field, wire) = st.key()?;
                    match field {
                        2 => s.status_message = st.f_str(wire, "Status.message")?,
                        3 => s.status_code = st.f_i32(wire, "Status.code")?,
                        _ => st.skip(wire)?,
                    }
                }
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut s.attributes);
    Ok(s)
}

fn event<'a>(mut r: Reader<'a, '_>) -> Result<Event<'a>> {
    let mut e = Event::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => e.time_unix_nano = r.f_fixed64(wire, "Event.time_unix_nano")?,
            2 => e.name = r.f_str(wire, "Event.name")?,
            3 => push_attr(&mut r, wire, "Event.attributes")?,
            4 => e.dropped_attributes_count = r.f_u32(wire, "Event.dropped_attributes_count")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut e.attributes);
    Ok(e)
}

fn link<'a>(mut r: Reader<'a, '_>) -> Result<Link<'a>> {
    let mut l = Link::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => l.trace_id = r.f_id(wire, "Link.trace_id")?,
            2 => l.span_id = r.f_id(wire, "Link.span_id")?,
            3 => l.trace_state = r.f_str(wire, "Link.trace_state")?,
            4 => push_attr(&mut r, wire, "Link.attributes")?,
            5 => l.dropped_attributes_count = r.f_u32(wire, "Link.dropped_attributes_count")?,
            6 => l.flags = r.f_fixed32(wire, "Link.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut l.attributes);
    Ok(l)
}

// ---- metrics.v1 -----------------------------------------------------------

/// Decodes an `ExportMetricsServiceRequest`.
pub fn metrics<'a>(body: &'a [u8], budget: &Budget) -> crate::Result<MetricsRequest<'a>> {
    request(
        body,
        ["ResourceMetrics", "ScopeMetrics", "Metric"],
        metric,
        budget,
    )
    .map_err(|e| *e)
}

fn metric<'a>(mut r: Reader<'a, '_>) -> Result<Metric<'a>> {
    let mut m = Metric::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => m.name = r.f_str(wire, "Metric.name")?,
            2 => m.description = r.f_str(wire, "Metric.description")?,
            3 => m.unit = r.f_str(wire, "Metric.unit")?,
            12 => push_attr(&mut r, wire, "Metric.metadata")?,
            5 => {
                let mut g = r.f_msg(wire, "Metric.gauge")?;
                let mut points = Vec::new();
                while g.has_more() {
                    let (field, wire) = g.key()?;
                    match field {
                        1 => points.push(number_point(
                            g.f_elem::<NumberDataPoint>(wire, "Gauge.data_points")?,
                        )?),
                        _ => g.skip(wire)?,
                    }
                }
                m.data = MetricData::Gauge(points);
            }
            7 => {
                let mut s = r.f_msg(wire, "Metric.sum")?;
                let (mut points, mut temporality, mut monotonic) = (Vec::new(), 0, false);
                while s.has_more() {
                    let (field, wire) = s.key()?;
                    match field {
                        1 => points.push(number_point(
                            s.f_elem::<NumberDataPoint>(wire, "Sum.data_points")?,
                        )?),
                        2 => temporality = s.f_i32(wire, "Sum.aggregation_temporality")?,
                        3 => monotonic = s.f_bool(wire, "Sum.is_monotonic")?,
                        _ => s.skip(wire)?,
                    }
                }
                m.data = MetricData::Sum {
                    points,
                    temporality,
                    monotonic,
                };
            }
            9 => {
                let mut h = r.f_msg(wire, "Metric.histogram")?;
                let (mut points, mut temporality) = (Vec::new(), 0);
                while h.has_more() {
                    let (field, wire) = h.key()?;
                    match field {
                        1 => points.push(histogram_point(
                            h.f_elem::<HistogramDataPoint>(wire, "Histogram.data_points")?,
                        )?),
                        2 => temporality = h.f_i32(wire, "Histogram.aggregation_temporality")?,
                        _ => h.skip(wire)?,
                    }
                }
                m.data = MetricData::Histogram {
                    points,
                    temporality,
                };
            }
            10 => {
                let mut h = r.f_msg(wire, "Metric.exponential_histogram")?;
                let (mut points, mut temporality) = (Vec::new(), 0);
                while h.has_more() {
                    let (field, wire) = h.key()?;
                    match field {
                        1 => points.push(exp_histogram_point(h.f_elem::<ExpHistogramDataPoint>(
                            wire,
                            "ExponentialHistogram.data_points",
                        )?)?),
                        2 => {
                            temporality =
                                h.f_i32(wire, "ExponentialHistogram.aggregation_temporality")?
                        }
                        _ => h.skip(wire)?,
                    }
                }
                m.data = MetricData::ExponentialHistogram {
                    points,
                    temporality,
                };
            }
            11 => {
                let mut s = r.f_msg(wire, "Metric.summary")?;
                let mut points = Vec::new();
                while s.has_more() {
                    let (field, wire) = s.key()?;
                    match field {
                        1 => points.push(summary_point(
                            s.f_elem::<SummaryDataPoint>(wire, "Summary.data_points")?,
                        )?),
                        _ => s.skip(wire)?,
                    }
                }
                m.data = MetricData::Summary(points);
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut m.metadata);
    Ok(m)
}

fn number_point<'a>(mut r: Reader<'a, '_>) -> Result<NumberDataPoint<'a>> {
    let mut p = NumberDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "NumberDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "NumberDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "NumberDataPoint.time_unix_nano")?,
            4 => p.value = Number::Double(r.f_double(wire, "NumberDataPoint.as_double")?),
            6 => p.value = Number::Int(r.f_fixed64(wire, "NumberDataPoint.as_int")? as i64),
            5 => p.exemplars.push(exemplar(
                r.f_elem::<Exemplar>(wire, "NumberDataPoint.exemplars")?,
            )?),
            8 => p.flags = r.f_u32(wire, "NumberDataPoint.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn histogram_point<'a>(mut r: Reader<'a, '_>) -> Result<HistogramDataPoint<'a>> {
    let mut p = HistogramDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            9 => push_attr(&mut r, wire, "HistogramDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "HistogramDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "HistogramDataPoint.time_unix_nano")?,
            4 => p.count = r.f_fixed64(wire, "HistogramDataPoint.count")?,
            5 => p.sum = Some(r.f_double(wire, "HistogramDataPoint.sum")?),
            6 => r.f_packed_fixed64(
                wire,
                "HistogramDataPoint.bucket_counts",
                &mut p.bucket_counts,
            )?,
            7 => r.f_packed_double(
                wire,
                "HistogramDataPoint.explicit_bounds",
                &mut p.explicit_bounds,
            )?,
            8 => p.exemplars.push(exemplar(
                r.f_elem::<Exemplar>(wire, "HistogramDataPoint.exemplars")?,
            )?),
            10 => p.flags = r.f_u32(wire, "HistogramDataPoint.flags")?,
            11 => p.min = Some(r.f_double(wire, "HistogramDataPoint.min")?),
            12 => p.max = Some(r.f_double(wire, "HistogramDataPoint.max")?),
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn exp_histogram_point<'a>(mut r: Reader<'a, '_>) -> Result<ExpHistogramDataPoint<'a>> {
    const W: &str = "ExponentialHistogramDataPoint";
    let mut p = ExpHistogramDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => push_attr(&mut r, wire, W)?,
            2 => p.start_time_unix_nano = r.f_fixed64(wire, W)?,
            3 => p.time_unix_nano = r.f_fixed64(wire, W)?,
            4 => p.count = r.f_fixed64(wire, W)?,
            5 => p.sum = Some(r.f_double(wire, W)?),
            6 => p.scale = r.f_sint32(wire, W)?,
            7 => p.zero_count = r.f_fixed64(wire, W)?,
            8 => buckets(r.f_msg(wire, W)?, &mut p.positive)?,
            9 => buckets(r.f_msg(wire, W)?, &mut p.negative)?,
            10 => p.flags = r.f_u32(wire, W)?,
            11 => p.exemplars.push(exemplar(r.f_elem::<Exemplar>(wire, W)?)?),
            12 => p.min = Some(r.f_double(wire, W)?),
            13 => p.max = Some(r.f_double(wire, W)?),
            14 => p.zero_threshold = r.f_double(wire, W)?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn buckets(mut r: Reader<'_, '_>, out: &mut Buckets) -> Result<()> {
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => out.offset = r.f_sint32(wire, "Buckets.offset")?,
            2 => r.f_packed_varint(wire, "Buckets.bucket_counts", &mut out.bucket_counts)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

fn summary_point<'a>(mut r: Reader<'a, '_>) -> Result<SummaryDataPoint<'a>> {
    let mut p = SummaryDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "SummaryDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "SummaryDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "SummaryDataPoint.time_unix_nano")?,
            4 => p.count = r.f_fixed64(wire, "SummaryDataPoint.count")?,
            5 => p.sum = r.f_double(wire, "SummaryDataPoint.sum")?,
            6 => {
                let mut q =
                    r.f_elem::<ValueAtQuantile>(wire, "SummaryDataPoint.quantile_values")?;
                let mut v = ValueAtQuantile::default();
                while q.has_more() {
                    let (field, wire) = q.key()?;
                    match field {
                        1 => v.quantile = q.f_double(wire, "ValueAtQuantile.quantile")?,
                        2 => v.value = q.f_double(wire, "ValueAtQuantile.value")?,
                        _ => q.skip(wire)?,
                    }
                }
                p.quantile_values.push(v);
            }
            8 => p.flags = r.f_u32(wire, "SummaryDataPoint.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn exemplar<'a>(mut r: Reader<'a, '_>) -> Result<Exemplar<'a>> {
    let mut e = Exemplar::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "Exemplar.filtered_attributes")?,
            2 => e.time_unix_nano = r.f_fixed64(wire, "Exemplar.time_unix_nano")?,
            3 => e.value = Number::Double(r.f_double(wire, "Exemplar.as_double")?),
            6 => e.value = Number::Int(r.f_fixed64(wire, "Exemplar.as_int")? as i64),
            4 => e.span_id = r.f_id(wire, "Exemplar.span_id")?,
            5 => e.trace_id = r.f_id(wire, "Exemplar.trace_id")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut e.filtered_attributes);
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_checks_every_length_and_position() {
        for n in 0..70 {
            let ascii = vec![b'a'; n];
            assert_eq!(utf8(&ascii), std::str::from_utf8(&ascii).ok());
            for i in 0..n {
                let mut bad = ascii.clone();
                bad[i] = 0xff;
                assert_eq!(utf8(&bad), None, "0xff at {i} of {n}");
                if i + 1 < n {
                    // A valid two-byte character: not ASCII, still UTF-8.
                    bad[i] = 0xc3;
                    bad[i + 1] = 0xa9;
                    assert_eq!(utf8(&bad), std::str::from_utf8(&bad).ok());
                }
            }
        }
    }

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

    fn big() -> Budget {
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

    fn push_len(out: &mut Vec<u8>, mut n: usize) {
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
