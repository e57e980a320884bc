//! The protobuf wire reader: varints, fixed-width scalars, length-delimited
//! payloads, UTF-8 strings borrowed from the body, skipping unknown fields
//! (groups included) and counting a field's occurrences before allocating.
//!
//! `Reader` is a cursor over one message (or the whole body) that also
//! carries the request's [`Budget`] and the shared attribute stack
//! ([`Attrs`]), so the message decoders beside it need nothing else. Typed
//! field readers (`f_*`) check the wire type, then read. It knows nothing of
//! OTLP's messages: their field numbers live in the sibling modules.
//!
//! Errors are boxed inside the decoder (see [`Result`]); the entry points in
//! [`super`] unbox them.

use std::borrow::Cow;
use std::cell::RefCell;

use prost::encoding::WireType;

use crate::decode::{Budget, MAX_DEPTH};
use crate::error::Error;
use crate::model::{KeyValue, Str};

/// Results inside the decoder carry the error boxed: `Error` is 40 bytes,
/// which made every `Result<u64>` from `varint` and every `key` return through
/// memory; boxed, they come back in two registers (decode of 10k logs:
/// 8.2 → 7.3 ms). The public entry points unbox.
pub(super) type Result<T> = std::result::Result<T, Box<Error>>;

/// Attribute lists being read, shared by all readers of one request.
///
/// A message's attributes are pushed here as they are read, then moved into
/// an exactly sized `Vec` when the message ends ([`Reader::attrs_into`]): one
/// allocation per list instead of a growing `Vec`'s two or three, and no
/// unused capacity the [`Budget`] would not see. Messages nest (a span's
/// events have attributes), so lists stack: a nested message takes its
/// entries off the top before its parent goes on.
pub(super) type Attrs<'a> = RefCell<Vec<KeyValue<'a>>>;

/// A cursor over one protobuf message (or the whole body).
///
/// The message is `data[pos..]`, where `data` is the body up to the
/// message's end: positions stay absolute (errors report them as offsets in
/// the body), and every read is one bounds check against `data`, not a
/// check against the message's end and another against the body's
/// (decode of 10k logs: 44.0 → 40.7 M instructions, callgrind).
#[derive(Clone, Copy)]
pub(super) struct Reader<'a, 'b> {
    /// The body from its start to the end of this message.
    data: &'a [u8],
    /// The request's memory budget, charged by the decoders.
    pub(super) budget: &'b Budget<'b>,
    /// The request's shared attribute stack.
    pub(super) attrs: &'b Attrs<'a>,
    pos: usize,
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
        debug_assert!(bytes.is_ascii());
        // SAFETY: needed to skip a second validation of bytes just checked:
        // `from_utf8` would scan them again. Benefit: the inline ASCII path
        // (with `from_utf8_unchecked`) replaced a simdutf8 call that cost
        // 10 % of decoding 10k log records (commit 27bf1b5, decode logs
        // 22.6 → 20.0 M cycles with its companions; docs/performance.md,
        // 2026-11-21). Invariant: `ascii` is true only when every byte is
        // below 0x80 (the words above cover all `n` bytes, overlapping), and
        // ASCII is valid UTF-8; checked by the `debug_assert!` above and by
        // `utf8_checks_every_length_and_position`.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

#[cold]
pub(super) fn err(what: impl Into<String>, at: usize) -> Box<Error> {
    Box::new(Error::Protobuf {
        what: what.into(),
        at,
    })
}

// The per-field primitives below (`varint`'s one-byte path, `key`, `take`,
// `len_delimited`, `message`, `str`, `expect`, `f_str`, `f_msg`) are forced
// inline: LLVM kept `varint` out of line and paid a call per tag. Measured on
// 10k logs: decode 7.3 → 4.9 ms (`make bench-stages`). The other typed
// readers carry `#[inline]` since the message decoders moved to sibling
// modules: it keeps them inlinable across codegen units (the bench profile
// has four), as they were when everything was one module (`f_elem` and
// `f_id` are generic, so already instantiated where they are used).
impl<'a, 'b> Reader<'a, 'b> {
    pub(super) fn new(body: &'a [u8], budget: &'b Budget, attrs: &'b Attrs<'a>) -> Self {
        Reader {
            data: body,
            budget,
            attrs,
            pos: 0,
        }
    }

    /// The cursor's absolute offset in the body (for error positions).
    #[inline]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(super) fn has_more(&self) -> bool {
        self.pos < self.data.len()
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64> {
        // Fast path: most varints (tags, small lengths) are one byte.
        if let Some(&b) = self.data.get(self.pos) {
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
        let mut rest = self.data.get(self.pos..).unwrap_or_default();
        let before = rest.len();
        let v = prost::encoding::decode_varint(&mut rest)
            .map_err(|_| err("truncated or invalid varint", self.pos))?;
        self.pos += before - rest.len();
        Ok(v)
    }

    /// Reads a field key: the field number and its wire type.
    #[inline(always)]
    pub(super) fn key(&mut self) -> Result<(u32, WireType)> {
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
        match self.data.get(self.pos..self.pos.wrapping_add(n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(err(format!("{what} is truncated"), self.pos)),
        }
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
    pub(super) fn len_delimited(&mut self, what: &str) -> Result<&'a [u8]> {
        let at = self.pos;
        let len = self.varint()?;
        if len > (self.data.len() - self.pos) as u64 {
            return Err(err(format!("{what} length {len} runs past the end"), at));
        }
        self.take(len as usize, what)
    }

    /// A nested message: a reader bounded to its bytes.
    #[inline(always)]
    fn message(&mut self, what: &str) -> Result<Reader<'a, 'b>> {
        let bytes = self.len_delimited(what)?;
        let end = self.pos;
        Ok(Reader {
            data: self.data.get(..end).unwrap_or_default(),
            budget: self.budget,
            attrs: self.attrs,
            pos: end - bytes.len(),
        })
    }

    /// Where the current message's attribute list starts in the shared stack.
    #[inline]
    pub(super) fn attrs_mark(&self) -> usize {
        self.attrs.borrow().len()
    }

    /// Moves the attributes pushed since `mark` into `out`: as an exactly
    /// sized list when `out` is empty (always, except for a repeated
    /// `Resource` or `scope` field, which protobuf merges by appending).
    /// `split_off` moves them with one `memcpy`; collecting a `drain` moved
    /// them one by one, 450 instructions per list of five (callgrind, decode
    /// of 10k logs).
    #[inline]
    pub(super) fn attrs_into(&self, mark: usize, out: &mut Vec<KeyValue<'a>>) {
        let mut stack = self.attrs.borrow_mut();
        if stack.len() <= mark {
            return;
        }
        if out.is_empty() {
            *out = stack.split_off(mark);
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

    pub(super) fn skip(&mut self, wire: WireType) -> Result<()> {
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
    pub(super) fn count_field(&self, number: u32) -> usize {
        let data = self.data.get(self.pos..).unwrap_or_default();
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
    pub(super) fn expect(&self, wire: WireType, want: WireType, what: &str) -> Result<()> {
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
    pub(super) fn f_str(&mut self, wire: WireType, what: &str) -> Result<Str<'a>> {
        self.expect(wire, WireType::LengthDelimited, what)?;
        self.str(what)
    }
    /// A nested message that becomes one `T` in the model: charged first.
    pub(super) fn f_elem<T>(&mut self, wire: WireType, what: &str) -> Result<Reader<'a, 'b>> {
        self.budget.charge::<T>(1)?;
        self.f_msg(wire, what)
    }
    #[inline(always)]
    pub(super) fn f_msg(&mut self, wire: WireType, what: &str) -> Result<Reader<'a, 'b>> {
        self.expect(wire, WireType::LengthDelimited, what)?;
        self.message(what)
    }
    #[inline]
    pub(super) fn f_fixed64(&mut self, wire: WireType, what: &str) -> Result<u64> {
        self.expect(wire, WireType::SixtyFourBit, what)?;
        self.fixed64(what)
    }
    #[inline]
    pub(super) fn f_fixed32(&mut self, wire: WireType, what: &str) -> Result<u32> {
        self.expect(wire, WireType::ThirtyTwoBit, what)?;
        self.fixed32(what)
    }
    #[inline]
    pub(super) fn f_double(&mut self, wire: WireType, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.f_fixed64(wire, what)?))
    }
    #[inline]
    pub(super) fn f_u32(&mut self, wire: WireType, what: &str) -> Result<u32> {
        self.expect(wire, WireType::Varint, what)?;
        // proto3 uint32: the low 32 bits of the varint, as prost reads it.
        Ok(self.varint()? as u32)
    }
    #[inline]
    pub(super) fn f_i32(&mut self, wire: WireType, what: &str) -> Result<i32> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? as i32)
    }
    #[inline]
    pub(super) fn f_i64(&mut self, wire: WireType, what: &str) -> Result<i64> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? as i64)
    }
    #[inline]
    pub(super) fn f_sint32(&mut self, wire: WireType, what: &str) -> Result<i32> {
        self.expect(wire, WireType::Varint, what)?;
        let v = self.varint()? as u32;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }
    #[inline]
    pub(super) fn f_bool(&mut self, wire: WireType, what: &str) -> Result<bool> {
        self.expect(wire, WireType::Varint, what)?;
        Ok(self.varint()? != 0)
    }

    /// A trace or span id: exactly `N` bytes, or empty (absent).
    pub(super) fn f_id<const N: usize>(&mut self, wire: WireType, what: &str) -> Result<[u8; N]> {
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
    pub(super) fn f_packed_fixed64(
        &mut self,
        wire: WireType,
        what: &str,
        out: &mut Vec<u64>,
    ) -> Result<()> {
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
    pub(super) fn f_packed_double(
        &mut self,
        wire: WireType,
        what: &str,
        out: &mut Vec<f64>,
    ) -> Result<()> {
        let mut bits = Vec::new();
        self.f_packed_fixed64(wire, what, &mut bits)?;
        out.extend(bits.into_iter().map(f64::from_bits));
        Ok(())
    }

    /// A repeated `uint64` (varint), packed or not, appended to `out`.
    pub(super) fn f_packed_varint(
        &mut self,
        wire: WireType,
        what: &str,
        out: &mut Vec<u64>,
    ) -> Result<()> {
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
}
