//! Pre-sized Arrow builders: text, attribute maps, list offsets, fixed-width
//! values and timestamps.
//!
//! These are small custom builders (arrow-rs "Custom Builders") over plain
//! `Vec`s, allocated once from a sizing plan ([`super::size`]) and filled
//! without growing, then turned into Arrow arrays without copying. Each
//! checks in debug builds, when it finishes, that it stayed within its plan
//! (every test run exercises that). They do not decide what goes in a
//! column: the column declarations in [`super::columns`] do.

use std::sync::Arc;

use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, ListArray, MapArray, PrimitiveArray, StringArray, StructArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, TimeUnit};

use super::context::RenderedAttrs;
use super::internal;
use super::render;
use super::size::AttrsPlan;
use crate::error::{Error, Result};
use crate::key;
use crate::model::{AnyValue, KeyValue};

/// Checks, in debug builds, that a builder was filled within its plan, so it
/// never reallocated.
#[inline]
fn check_plan(what: &str, used: usize, planned: usize) {
    debug_assert!(
        used <= planned,
        "{what}: used {used} > planned {planned}: the builder grew"
    );
}

/// The most bytes a text column may hold: its offsets are `i32`.
const MAX_TEXT_BYTES: usize = i32::MAX as usize;

/// Checks a planned byte count fits Arrow's i32 offsets, or errors.
fn offset_room(bytes: u64) -> Result<()> {
    if bytes > MAX_TEXT_BYTES as u64 {
        return Err(Error::Arrow(arrow_schema::ArrowError::MemoryError(
            format!("a column would hold {bytes} bytes, over Arrow's 2 GiB string limit"),
        )));
    }
    Ok(())
}

/// A pre-sized builder of a non-null `Utf8` column.
///
/// Offsets are `i32`: each is the data length after an append, cast without
/// a check in the hot loop. [`TextBuilder::finish`] checks, in release builds
/// too, that the final length fits `i32`, which bounds every offset before
/// them (data only grows), so a wrapped offset can never reach an array.
pub struct TextBuilder {
    offsets: Vec<i32>,
    data: Vec<u8>,
    planned_items: usize,
    planned_bytes: usize,
}

impl TextBuilder {
    /// Allocates room for `items` values totalling at most `bytes` bytes;
    /// errors when `bytes` is over Arrow's 2 GiB limit of a `Utf8` column.
    pub fn with_capacity(items: usize, bytes: u64) -> Result<Self> {
        offset_room(bytes)?;
        let bytes = bytes as usize;
        let mut offsets = Vec::with_capacity(items + 1);
        offsets.push(0);
        Ok(TextBuilder {
            offsets,
            data: Vec::with_capacity(bytes),
            planned_items: items,
            planned_bytes: bytes,
        })
    }

    /// Appends one value.
    #[inline]
    pub fn push(&mut self, s: &str) {
        self.data.extend_from_slice(s.as_bytes());
        self.offsets.push(self.data.len() as i32);
    }

    /// Appends `v` rendered as text: a string as it is, anything else with
    /// [`render::text`].
    #[inline]
    pub fn push_any(&mut self, v: &AnyValue<'_>) {
        match v {
            AnyValue::Str(s) => self.push(s),
            v => self.push_with(|out| render::text(v, out)),
        }
    }

    /// Appends a value rendered in place by `f`, which must append valid
    /// UTF-8 (every renderer in [`render`] does: it copies `&str`s and writes ASCII).
    #[inline]
    fn push_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        f(&mut self.data);
        self.offsets.push(self.data.len() as i32);
    }

    /// Appends a trace or span id as lowercase hex, or "" when it is all zeros.
    ///
    /// The digits are computed branch-free into a stack buffer (the compiler
    /// vectorises the fixed-size loop) and copied in one go.
    #[inline]
    pub fn push_id<const N: usize>(&mut self, id: &[u8; N]) {
        if id.iter().any(|&b| b != 0) {
            let mut hex = [[0u8; 2]; N];
            for (out, &b) in hex.iter_mut().zip(id) {
                *out = [hex_digit(b >> 4), hex_digit(b & 15)];
            }
            self.data.extend_from_slice(hex.as_flattened());
        }
        self.offsets.push(self.data.len() as i32);
    }

    /// Appends several values stored back to back in `data`, value `i`
    /// ending at `ends[i]`. `data` must be valid UTF-8 cut at those ends.
    #[inline]
    fn push_block(&mut self, data: &[u8], ends: &[u32]) {
        let base = self.data.len();
        self.data.extend_from_slice(data);
        self.offsets
            .extend(ends.iter().map(|&e| (base + e as usize) as i32));
    }

    /// Values appended so far.
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The column; errors (an internal error) if it outgrew `i32` offsets.
    pub fn finish(self) -> Result<StringArray> {
        check_plan("string items", self.len(), self.planned_items);
        check_plan("string bytes", self.data.len(), self.planned_bytes);
        // The plan is an upper bound checked against i32 when allocated; this
        // checks the data itself, so a plan that undercounted (a bug) errors
        // instead of building an array from wrapped offsets. One compare per
        // column, in release builds too (e.g. under `Limits::UNLIMITED`).
        if self.data.len() > MAX_TEXT_BYTES {
            return Err(internal("a text column outgrew its i32 offsets"));
        }
        // Every value is a whole `&str` or a renderer's output (ASCII plus
        // copied `&str`s), so the data is UTF-8 and every offset is a char
        // boundary. Debug builds (every test run) check that.
        debug_assert!(
            std::str::from_utf8(&self.data).is_ok(),
            "builder holds invalid UTF-8"
        );
        debug_assert!(
            self.offsets.first() == Some(&0)
                && self.offsets.windows(2).all(|w| 0 <= w[0]
                    && w[0] <= w[1]
                    && std::str::from_utf8(&self.data[w[0] as usize..w[1] as usize]).is_ok()),
            "offsets are not monotonic or split a character"
        );
        debug_assert_eq!(
            self.offsets.last().map(|&o| o as usize),
            Some(self.data.len())
        );
        // SAFETY:
        // - Why: `OffsetBuffer::new` and `StringArray::try_new` re-check the
        //   offsets and re-validate all UTF-8, which holds by construction.
        // - Benefit: skipping the UTF-8 check saved ~4% of a logs request
        //   (commit 7b83d7c); unchecked offsets are part of 27bf1b5 (build
        //   traces 13.5M → 12.3M cycles per 10k spans; docs/performance.md,
        //   2026-11-21, "unchecked offsets in `TextBuilder::finish`").
        // - Invariant: the offsets start at 0 and each is the data length
        //   after an append (data only grows), so they are monotonic and end
        //   at `data.len()`; that length fits i32 (checked just above, in
        //   release too), so no cast wrapped. Every append is a whole `&str`,
        //   a renderer's UTF-8 output or a block of whole pre-rendered
        //   values, so each value is UTF-8. Checked by the debug asserts above.
        let array = unsafe {
            let offsets = OffsetBuffer::new_unchecked(ScalarBuffer::from(self.offsets));
            StringArray::new_unchecked(offsets, Buffer::from_vec(self.data), None)
        };
        Ok(array)
    }
}

/// The lowercase hex digit of a nibble (0–15).
#[inline(always)]
fn hex_digit(n: u8) -> u8 {
    // '0'..'9' then 'a'..'f': add 39 more past 9 ('a' - '0' - 10).
    b'0' + n + 39 * u8::from(n > 9)
}

/// A pre-sized builder of a `Map<Utf8, Utf8>` attributes column. Values are
/// rendered with [`render::text`]; entries go in key order
/// ([`render::KeyOrder`]).
pub struct AttrsBuilder {
    offsets: Vec<i32>,
    keys: TextBuilder,
    values: TextBuilder,
    planned_rows: usize,
    /// Rows' entries in key order.
    order: render::KeyOrder,
}

impl AttrsBuilder {
    /// Allocates the column `plan` sized.
    pub fn new(plan: AttrsPlan) -> Result<Self> {
        let mut offsets = Vec::with_capacity(plan.rows + 1);
        offsets.push(0);
        // Entries are bounded by the output check (8 bytes of offsets each).
        let entries =
            usize::try_from(plan.entries).map_err(|_| internal("attribute entries overflow"))?;
        Ok(AttrsBuilder {
            offsets,
            keys: TextBuilder::with_capacity(entries, plan.key_bytes)?,
            values: TextBuilder::with_capacity(entries, plan.value_bytes)?,
            planned_rows: plan.rows,
            order: render::KeyOrder::default(),
        })
    }

    /// Appends one row (one map).
    #[inline]
    pub fn push(&mut self, attrs: &[KeyValue<'_>]) {
        if let Some(order) = self.order.of(attrs) {
            for &i in order {
                let kv = &attrs[i as usize];
                self.keys.push(&kv.key);
                self.values.push_any(&kv.value);
            }
        } else {
            for kv in attrs {
                self.keys.push(&kv.key);
                self.values.push_any(&kv.value);
            }
        }
        self.offsets.push(self.keys.len() as i32);
    }

    /// Appends one row of pre-rendered attributes.
    #[inline]
    pub fn push_rendered(&mut self, attrs: &RenderedAttrs) {
        self.keys.push_block(&attrs.keys, &attrs.key_ends);
        self.values.push_block(&attrs.values, &attrs.value_ends);
        self.offsets.push(self.keys.len() as i32);
    }

    /// The column, validated by Arrow (offsets and entries).
    pub fn finish(self) -> Result<MapArray> {
        check_plan("map rows", self.offsets.len() - 1, self.planned_rows);
        let entries = crate::schema::map_entries();
        let DataType::Struct(fields) = entries.data_type() else {
            return Err(internal("map entries are not a struct"));
        };
        let keys: ArrayRef = Arc::new(self.keys.finish()?);
        let values: ArrayRef = Arc::new(self.values.finish()?);
        let entries_array = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        Ok(MapArray::try_new(
            entries,
            offsets,
            entries_array,
            None,
            false,
        )?)
    }
}

/// Offsets of a pre-sized `List<T>` column; the children are built apart.
pub struct ListOffsets {
    offsets: Vec<i32>,
    planned_rows: usize,
}

impl ListOffsets {
    /// Room for `rows` lists.
    pub fn with_capacity(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        ListOffsets {
            offsets,
            planned_rows: rows,
        }
    }

    /// Ends a row whose list holds `n` more items.
    #[inline]
    pub fn push(&mut self, n: usize) {
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last + n as i32);
    }

    /// Wraps `child` (the concatenated items) as a list column of `item`s,
    /// validated by Arrow.
    pub fn finish(self, item: Arc<Field>, child: ArrayRef) -> Result<ArrayRef> {
        check_plan("list rows", self.offsets.len() - 1, self.planned_rows);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        Ok(Arc::new(ListArray::try_new(item, offsets, child, None)?))
    }
}

/// A pre-sized builder of a non-null fixed-width column.
pub struct FixedBuilder<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    planned: usize,
}

impl<T: ArrowPrimitiveType> FixedBuilder<T> {
    /// Room for `n` values.
    pub fn with_capacity(n: usize) -> Self {
        FixedBuilder {
            values: Vec::with_capacity(n),
            planned: n,
        }
    }

    /// Appends one value.
    #[inline]
    pub fn push(&mut self, v: T::Native) {
        self.values.push(v);
    }

    /// Appends a row's values.
    #[inline]
    pub fn extend(&mut self, v: &[T::Native]) {
        self.values.extend_from_slice(v);
    }

    /// The values, without copying.
    pub fn finish(self) -> PrimitiveArray<T> {
        check_plan("fixed-width values", self.values.len(), self.planned);
        PrimitiveArray::<T>::new(ScalarBuffer::from(self.values), None)
    }
}

/// A pre-sized builder of a `Timestamp(unit, "UTC")` column fed Unix
/// nanoseconds.
///
/// Values are kept in nanoseconds while the rows are appended, so the hot
/// loop does not branch on the unit; a microsecond column is converted in
/// one pass when it finishes.
pub struct TimeBuilder {
    nanos: FixedBuilder<arrow_array::types::Int64Type>,
    unit: TimeUnit,
}

impl TimeBuilder {
    /// Room for `n` values in `unit` (nanoseconds or microseconds).
    pub fn with_capacity(n: usize, unit: TimeUnit) -> Self {
        TimeBuilder {
            nanos: FixedBuilder::with_capacity(n),
            unit,
        }
    }

    /// Appends Unix nanoseconds, clamped by [`key::clamp`] (so they fit i64).
    #[inline]
    pub fn push(&mut self, nanos: u64) {
        self.nanos.push(key::clamp(nanos) as i64);
    }

    /// The column in its unit, with the UTC time zone.
    pub fn finish(self) -> ArrayRef {
        let FixedBuilder {
            mut values,
            planned,
        } = self.nanos;
        check_plan("timestamps", values.len(), planned);
        match self.unit {
            TimeUnit::Microsecond => {
                values.iter_mut().for_each(|v| *v /= 1_000);
                Arc::new(
                    PrimitiveArray::<TimestampMicrosecondType>::new(values.into(), None)
                        .with_timezone("UTC"),
                )
            }
            _ => Arc::new(
                PrimitiveArray::<TimestampNanosecondType>::new(values.into(), None)
                    .with_timezone("UTC"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;

    use super::*;

    #[test]
    fn ids_render_as_lowercase_hex_or_empty() {
        let mut b = TextBuilder::with_capacity(2, 32).unwrap();
        b.push_id(&[0xab, 0x01, 0, 0, 0, 0, 0, 0xff]);
        b.push_id(&[0; 8]);
        let a = b.finish().unwrap();
        assert_eq!(a.value(0), "ab010000000000ff");
        assert_eq!(a.value(1), "");
    }

    #[test]
    fn text_plans_over_2_gib_are_refused_before_allocating() {
        assert!(TextBuilder::with_capacity(1, MAX_TEXT_BYTES as u64 + 1).is_err());
    }

    #[test]
    fn times_clamp_and_convert_to_the_unit() {
        let mut b = TimeBuilder::with_capacity(2, TimeUnit::Microsecond);
        b.push(1_500);
        b.push(u64::MAX);
        let a = b.finish();
        let a = a
            .as_any()
            .downcast_ref::<PrimitiveArray<TimestampMicrosecondType>>()
            .unwrap();
        assert_eq!(a.values().to_vec(), vec![1, i64::MAX / 1_000]);
    }

    fn kvs(pairs: &[(String, String)]) -> Vec<KeyValue<'static>> {
        (pairs.iter())
            .map(|(k, v)| KeyValue {
                key: k.clone().into(),
                value: AnyValue::Str(v.clone().into()),
            })
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// `attrs` in [`render::KeyOrder`], `key=value`.
    fn walked(attrs: &[KeyValue<'_>]) -> Vec<String> {
        let all: Vec<u32> = match render::KeyOrder::default().of(attrs) {
            Some(order) => order.to_vec(),
            None => (0..attrs.len() as u32).collect(),
        };
        (all.iter().map(|&i| &attrs[i as usize]))
            .map(|kv| match &kv.value {
                AnyValue::Str(v) => format!("{}={v}", kv.key),
                _ => unreachable!(),
            })
            .collect()
    }

    /// Entries go by key, bytewise (`B` before `a`, `é` after `z`), those
    /// of one key in request order: sorted lists, lists of none, and long
    /// lists alike; the map column holds them so.
    #[test]
    fn attributes_are_written_in_key_order() {
        let attrs = kvs(&pairs(&[
            ("b", "1"),
            ("a", "2"),
            ("é", "3"),
            ("b", "4"),
            ("B", "5"),
            ("z", "6"),
        ]));
        let want = ["B=5", "a=2", "b=1", "b=4", "z=6", "é=3"];
        assert_eq!(walked(&attrs), want);
        let sorted = kvs(&pairs(&[("a", "1"), ("a", "0"), ("b", "2")]));
        assert_eq!(walked(&sorted), ["a=1", "a=0", "b=2"]);
        assert!(walked(&[]).is_empty());

        // 101 entries, `k000` twice.
        let many: Vec<(String, String)> = (0..101)
            .map(|i| (format!("k{:03}", (i * 37) % 100), i.to_string()))
            .collect();
        let mut want_many: Vec<String> = many.iter().map(|(k, v)| format!("{k}={v}")).collect();
        want_many.sort_by_key(|e| e[..4].to_string());
        assert_eq!(walked(&kvs(&many)), want_many);
        assert!(want_many.contains(&"k000=0".into()) && want_many.contains(&"k000=100".into()));

        let mut b = AttrsBuilder::new(AttrsPlan {
            rows: 1,
            entries: 6,
            key_bytes: 8,
            value_bytes: 6,
        })
        .unwrap();
        b.push(&attrs);
        let map = b.finish().unwrap();
        let (keys, values) = (
            map.keys().as_string::<i32>(),
            map.values().as_string::<i32>(),
        );
        let got: Vec<String> = (keys.iter().zip(values))
            .map(|(k, v)| format!("{}={}", k.unwrap(), v.unwrap()))
            .collect();
        assert_eq!(got, want);
    }
}
