//! Arrow record batches, one per output table and hour: the shared parts.
//!
//! Every table is built the same way:
//! 1. the rows of the request are listed as [`Row`]s (cheap index tuples),
//!    sorted by the table's sort key and split by hour (see [`sort_rows`]);
//! 2. a sizing pass over one hour's rows computes exact item counts and
//!    upper bounds of string bytes for every column (a `Plan`);
//! 3. every builder is allocated once from that plan and filled without
//!    growing. Each builder checks this in debug builds when it finishes,
//!    which every test run exercises.
//!
//! The builders here are small custom builders (arrow-rs "Custom Builders")
//! over plain `Vec`s, turned into Arrow arrays without copying.

pub mod logs;
pub mod metrics;
pub mod render;
pub mod traces;

use std::sync::Arc;

use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, ListArray, MapArray, PrimitiveArray, StringArray, StructArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{Field, Fields, TimeUnit};

use crate::error::{Error, Result};
use crate::model::{AnyValue, KeyValue, SpanId, TraceId};

/// Nanoseconds in one hour: rows are partitioned by `timestamp / HOUR_NANOS`.
pub const HOUR_NANOS: u64 = 3_600_000_000_000;

/// A row of a table: indexes into the request plus its sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Resource group, scope group, item (record, span or metric).
    pub resource: u32,
    pub scope: u32,
    pub item: u32,
    /// Data point within the metric (0 for logs and spans).
    pub point: u32,
    /// Rank of the row's service name among the request's service names.
    pub service: u32,
    /// Rank of the metric name among the request's metric names (0 for logs
    /// and spans).
    pub metric: u32,
    /// The row's timestamp in Unix nanoseconds, which also picks its hour.
    pub time: u64,
}

/// A row's time as Arrow can hold it: Unix nanoseconds clamped to
/// `i64::MAX` (year 2262), so the partition and the column always agree.
#[inline]
pub fn row_time(nanos: u64) -> u64 {
    nanos.min(i64::MAX as u64)
}

impl Row {
    /// The hour the row belongs to, counted from the Unix epoch.
    pub fn hour(&self) -> u64 {
        self.time / HOUR_NANOS
    }

    fn key(&self) -> (u64, u32, u32, u64) {
        (self.hour(), self.service, self.metric, self.time)
    }
}

/// Lists one row per item (log record or span) of `req`, in request order,
/// filed under `time(item)`.
pub fn item_rows<T>(
    req: &crate::model::Request<'_, T>,
    ctx: &Context<'_>,
    time: impl Fn(&T) -> u64,
) -> Vec<Row> {
    let services = ctx.service_ranks();
    let n = req
        .iter()
        .flat_map(|g| &g.scopes)
        .map(|s| s.items.len())
        .sum();
    let mut rows = Vec::with_capacity(n);
    for (ri, g) in req.iter().enumerate() {
        for (si, s) in g.scopes.iter().enumerate() {
            for (ii, item) in s.items.iter().enumerate() {
                rows.push(Row {
                    resource: ri as u32,
                    scope: si as u32,
                    item: ii as u32,
                    point: 0,
                    service: services[ri],
                    metric: 0,
                    time: row_time(time(item)),
                });
            }
        }
    }
    rows
}

/// Sorts rows by (hour, service, metric, time) and returns the hour runs.
///
/// Already sorted input (the common case: one service, increasing time)
/// costs one linear check. The sort is stable, so equal keys keep request order.
pub fn sort_rows(rows: &mut [Row]) -> Vec<std::ops::Range<usize>> {
    if !rows.windows(2).all(|w| w[0].key() <= w[1].key()) {
        rows.sort_by_key(Row::key);
    }
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].hour() != rows[start].hour() {
            runs.push(start..i);
            start = i;
        }
    }
    runs
}

/// Ranks of strings in sorted order: equal strings get equal ranks, and
/// `a < b` iff `rank(a) < rank(b)`. Used to sort rows by service and metric
/// name with integer compares.
pub fn ranks(names: &[&str]) -> Vec<u32> {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    names
        .iter()
        .map(|n| sorted.binary_search(n).unwrap_or(0) as u32)
        .collect()
}

/// Converts Unix nanoseconds to the column's unit as i64. Values past
/// `i64::MAX` nanoseconds (year 2262) are clamped.
#[inline]
pub fn ts_value(nanos: u64, unit: TimeUnit) -> i64 {
    let n = i64::try_from(nanos).unwrap_or(i64::MAX);
    match unit {
        TimeUnit::Microsecond => n / 1_000,
        _ => n,
    }
}

/// Builds a timestamp array in `unit` with the UTC time zone.
pub fn ts_array(values: Vec<i64>, unit: TimeUnit) -> ArrayRef {
    match unit {
        TimeUnit::Microsecond => Arc::new(
            PrimitiveArray::<TimestampMicrosecondType>::new(values.into(), None)
                .with_timezone("UTC"),
        ),
        _ => Arc::new(
            PrimitiveArray::<TimestampNanosecondType>::new(values.into(), None)
                .with_timezone("UTC"),
        ),
    }
}

/// A fixed-width column from a pre-sized `Vec`.
pub fn prim<T: ArrowPrimitiveType>(values: Vec<T::Native>) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), None))
}

/// Checks, in debug builds, that a builder was filled within its plan, so it
/// never reallocated.
#[inline]
fn check_plan(what: &str, used: usize, planned: usize) {
    debug_assert!(
        used <= planned,
        "{what}: used {used} > planned {planned}: the builder grew"
    );
}

/// Checks a planned byte count fits Arrow's i32 offsets, or errors.
fn offset_room(bytes: u64) -> Result<()> {
    if bytes > i32::MAX as u64 {
        return Err(Error::Arrow(arrow_schema::ArrowError::MemoryError(
            format!("a column would hold {bytes} bytes, over Arrow's 2 GiB string limit"),
        )));
    }
    Ok(())
}

/// A pre-sized builder of a non-null `Utf8` column.
pub struct TextBuilder {
    offsets: Vec<i32>,
    data: Vec<u8>,
    planned_items: usize,
    planned_bytes: usize,
}

impl TextBuilder {
    /// Allocates room for `items` values totalling at most `bytes` bytes.
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

    #[inline]
    pub fn push(&mut self, s: &str) {
        self.data.extend_from_slice(s.as_bytes());
        self.offsets.push(self.data.len() as i32);
    }

    /// Appends a value rendered in place by `f`, which must append valid
    /// UTF-8 (every renderer in [`render`] does: it copies `&str`s and writes ASCII).
    #[inline]
    pub(crate) fn push_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
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
    pub(crate) fn push_block(&mut self, data: &[u8], ends: &[u32]) {
        let base = self.data.len();
        self.data.extend_from_slice(data);
        self.offsets
            .extend(ends.iter().map(|&e| (base + e as usize) as i32));
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn finish(self) -> Result<StringArray> {
        check_plan("string items", self.len(), self.planned_items);
        check_plan("string bytes", self.data.len(), self.planned_bytes);
        // Every value is a whole `&str` or a renderer's output (ASCII plus
        // copied `&str`s), so the data is UTF-8 and every offset is a char
        // boundary. Debug builds (every test run) check that; release builds
        // skip Arrow's re-validation, which cost ~4% of a logs request.
        debug_assert!(
            std::str::from_utf8(&self.data).is_ok(),
            "builder holds invalid UTF-8"
        );
        debug_assert!(
            self.offsets.windows(2).all(|w| w[0] <= w[1]
                && std::str::from_utf8(&self.data[w[0] as usize..w[1] as usize]).is_ok()),
            "an offset splits a character"
        );
        // SAFETY: the offsets start at 0 and are monotonic (each is the data
        // length after an append, and data only grows), which is all
        // `OffsetBuffer` asks (checked in debug builds above); they end
        // within `data`; UTF-8 and char boundaries as argued above.
        let offsets = unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::from(self.offsets)) };
        Ok(unsafe { StringArray::new_unchecked(offsets, Buffer::from_vec(self.data), None) })
    }

    pub fn finish_ref(self) -> Result<ArrayRef> {
        Ok(Arc::new(self.finish()?))
    }
}

/// The lowercase hex digit of a nibble (0–15).
#[inline(always)]
fn hex_digit(n: u8) -> u8 {
    // '0'..'9' then 'a'..'f': add 39 more past 9 ('a' - '0' - 10).
    b'0' + n + 39 * u8::from(n > 9)
}

/// Byte bound of a hex id column value.
pub const fn id_bytes<const N: usize>() -> usize {
    N * 2
}

/// The size of one attribute list once rendered: entries and byte bounds.
#[derive(Debug, Default, Clone, Copy)]
pub struct AttrsSize {
    pub entries: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

impl AttrsSize {
    pub fn of(attrs: &[KeyValue<'_>]) -> Self {
        let mut s = AttrsSize {
            entries: attrs.len() as u64,
            ..Default::default()
        };
        for kv in attrs {
            s.key_bytes += kv.key.len() as u64;
            s.value_bytes += render::text_bound(&kv.value) as u64;
        }
        s
    }
}

/// An attribute list rendered once (keys and text values back to back),
/// appended to many rows with two copies instead of a render per entry.
#[derive(Debug, Default)]
pub struct RenderedAttrs {
    keys: Vec<u8>,
    key_ends: Vec<u32>,
    values: Vec<u8>,
    value_ends: Vec<u32>,
}

impl RenderedAttrs {
    pub fn new(attrs: &[KeyValue<'_>]) -> Self {
        let mut r = RenderedAttrs::default();
        for kv in attrs {
            r.keys.extend_from_slice(kv.key.as_bytes());
            r.key_ends.push(r.keys.len() as u32);
            render::text(&kv.value, &mut r.values);
            r.value_ends.push(r.values.len() as u32);
        }
        r
    }

    /// Its exact size.
    pub fn size(&self) -> AttrsSize {
        AttrsSize {
            entries: self.key_ends.len() as u64,
            key_bytes: self.keys.len() as u64,
            value_bytes: self.values.len() as u64,
        }
    }
}

/// Sizes for one `Map<Utf8, Utf8>` attributes column: rows, entries, bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct AttrsPlan {
    pub rows: usize,
    pub entries: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

impl AttrsPlan {
    /// Adds one row holding `attrs`.
    #[inline]
    pub fn add(&mut self, attrs: &[KeyValue<'_>]) {
        self.add_size(&AttrsSize::of(attrs));
    }

    /// Planned bytes: keys, values and their offsets.
    pub fn bytes(&self) -> u64 {
        self.key_bytes + self.value_bytes + self.entries * 8
    }

    /// Adds one row holding `attrs`, rendered beforehand.
    #[inline]
    pub fn add_rendered(&mut self, attrs: &RenderedAttrs) {
        self.add_size(&attrs.size());
    }

    /// Adds one row whose size is already known.
    #[inline]
    pub fn add_size(&mut self, s: &AttrsSize) {
        self.rows += 1;
        self.entries += s.entries;
        self.key_bytes += s.key_bytes;
        self.value_bytes += s.value_bytes;
    }
}

/// Per-request facts every table builder needs, computed once: each
/// resource's service name, and each resource's and scope's attributes
/// rendered once (they repeat on every row of that resource or scope).
pub struct Context<'r> {
    pub services: Vec<std::borrow::Cow<'r, str>>,
    pub resource_attrs: Vec<RenderedAttrs>,
    pub scope_attrs: Vec<Vec<RenderedAttrs>>,
    /// The Arrow memory all of the request's batches may plan for, together
    /// ([`crate::Limits::max_output_bytes`]); unlimited by default.
    pub max_output_bytes: u64,
    /// What the batches built so far planned.
    planned: std::cell::Cell<u64>,
}

impl<'r> Context<'r> {
    pub fn new<T>(req: &'r crate::model::Request<'_, T>) -> Self {
        let scopes = |g: &crate::model::ResourceGroup<'_, T>| {
            g.scopes
                .iter()
                .map(|s| RenderedAttrs::new(&s.scope.attributes))
                .collect()
        };
        Context {
            services: req.iter().map(|g| service_name(&g.resource)).collect(),
            resource_attrs: req
                .iter()
                .map(|g| RenderedAttrs::new(&g.resource.attributes))
                .collect(),
            scope_attrs: req.iter().map(scopes).collect(),
            max_output_bytes: u64::MAX,
            planned: std::cell::Cell::new(0),
        }
    }

    /// Sets the output limit.
    pub fn with_max_output_bytes(mut self, limit: usize) -> Self {
        self.max_output_bytes = limit as u64;
        self
    }

    /// Checks the sizing pass's plan for one batch before anything of it is
    /// allocated: `bytes` of strings and attributes plus a fixed allowance
    /// per row for fixed-width columns and offsets. Values shared by many
    /// rows (resource attributes, schema URLs…) are copied into every row, so
    /// a small request can plan a large output; this is where that stops.
    ///
    /// The limit applies to the sum over all of the request's batches (every
    /// file, every chunk), so it bounds the request's whole encoding work as
    /// well as each batch's memory.
    pub fn check_output(&self, table: crate::schema::Table, rows: usize, bytes: u64) -> Result<()> {
        const PER_ROW: u64 = 160;
        let batch = bytes.saturating_add((rows as u64).saturating_mul(PER_ROW));
        let total = self.planned.get().saturating_add(batch);
        if total > self.max_output_bytes {
            return Err(Error::OutputTooLarge {
                table: table.name(),
                limit: self.max_output_bytes as usize,
            });
        }
        self.planned.set(total);
        Ok(())
    }

    /// The rendered resource attributes of `row`.
    #[inline]
    pub fn resource_attrs(&self, row: &Row) -> &RenderedAttrs {
        &self.resource_attrs[row.resource as usize]
    }

    /// The rendered scope attributes of `row`.
    #[inline]
    pub fn scope_attrs(&self, row: &Row) -> &RenderedAttrs {
        &self.scope_attrs[row.resource as usize][row.scope as usize]
    }

    /// Ranks of each resource's service name, for sorting.
    pub fn service_ranks(&self) -> Vec<u32> {
        let names: Vec<&str> = self.services.iter().map(|s| s.as_ref()).collect();
        ranks(&names)
    }
}

/// `ServiceName`: the `service.name` resource attribute as text (the
/// exporter's `AsString()`), or "" when absent.
pub fn service_name<'r>(resource: &'r crate::model::Resource<'_>) -> std::borrow::Cow<'r, str> {
    match resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
    {
        None => std::borrow::Cow::Borrowed(""),
        Some(KeyValue {
            value: AnyValue::Str(s),
            ..
        }) => std::borrow::Cow::Borrowed(s.as_ref()),
        Some(kv) => {
            let mut out = Vec::new();
            render::text(&kv.value, &mut out);
            std::borrow::Cow::Owned(String::from_utf8(out).unwrap_or_default())
        }
    }
}

/// A pre-sized builder of a `Map<Utf8, Utf8>` attributes column. Values are
/// rendered with [`render::text`]; keys keep their request order.
pub struct AttrsBuilder {
    offsets: Vec<i32>,
    keys: TextBuilder,
    values: TextBuilder,
    planned_rows: usize,
}

impl AttrsBuilder {
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
        })
    }

    /// Appends one row (one map).
    #[inline]
    pub fn push(&mut self, attrs: &[KeyValue<'_>]) {
        for kv in attrs {
            self.keys.push(&kv.key);
            match &kv.value {
                AnyValue::Str(s) => self.values.push(s),
                v => self.values.push_with(|out| render::text(v, out)),
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

    pub fn finish(self) -> Result<MapArray> {
        check_plan("map rows", self.offsets.len() - 1, self.planned_rows);
        let entries = crate::schema::map_entries();
        let arrow_schema::DataType::Struct(fields) = entries.data_type() else {
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

    pub fn finish_ref(self) -> Result<ArrayRef> {
        Ok(Arc::new(self.finish()?))
    }
}

/// Offsets of a pre-sized `List<T>` column; the children are built apart.
pub struct ListOffsets {
    offsets: Vec<i32>,
    planned_rows: usize,
}

impl ListOffsets {
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

    /// Wraps `child` (the concatenated items) as a list column.
    pub fn finish(self, item: Arc<Field>, child: ArrayRef) -> Result<ArrayRef> {
        check_plan("list rows", self.offsets.len() - 1, self.planned_rows);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        Ok(Arc::new(ListArray::try_new(item, offsets, child, None)?))
    }

    /// Wraps struct `columns` (the concatenated items) as a `List<Struct>`.
    pub fn finish_struct(self, item: Arc<Field>, columns: Vec<ArrayRef>) -> Result<ArrayRef> {
        let arrow_schema::DataType::Struct(fields) = item.data_type() else {
            return Err(internal("list item is not a struct"));
        };
        let fields: Fields = fields.clone();
        let child = Arc::new(StructArray::try_new(fields, columns, None)?);
        self.finish(item, child)
    }
}

/// An internal (bug, not input) error.
pub fn internal(what: &str) -> Error {
    Error::Arrow(arrow_schema::ArrowError::InvalidArgumentError(
        what.to_string(),
    ))
}

/// The item field of list column `name` in `schema`.
pub fn list_item(schema: &arrow_schema::SchemaRef, name: &str) -> Result<Arc<Field>> {
    match schema.field_with_name(name).map(|f| f.data_type()) {
        Ok(arrow_schema::DataType::List(item)) => Ok(item.clone()),
        _ => Err(internal("expected a list column")),
    }
}

/// A Vec with a planned capacity, checked in debug builds.
pub fn planned<T>(n: usize) -> Vec<T> {
    Vec::with_capacity(n)
}

/// Finishes a planned fixed-width column.
pub fn finish_prim<T: ArrowPrimitiveType>(values: Vec<T::Native>, planned: usize) -> ArrayRef {
    check_plan("fixed-width values", values.len(), planned);
    prim::<T>(values)
}

/// Trace id as a 32-byte hex string bound.
pub const TRACE_ID_HEX: usize = id_bytes::<16>();
/// Span id as a 16-byte hex string bound.
pub const SPAN_ID_HEX: usize = id_bytes::<8>();

/// Re-exported for the table builders.
pub type Ids = (TraceId, SpanId);

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: u32, time: u64) -> Row {
        Row {
            resource: 0,
            scope: 0,
            item: 0,
            point: 0,
            service,
            metric: 0,
            time,
        }
    }

    #[test]
    fn rows_sort_by_hour_then_service_then_time() {
        let h = HOUR_NANOS;
        let mut rows = vec![
            row(1, h + 5),
            row(0, 2 * h),
            row(1, 3),
            row(0, h + 9),
            row(0, 4),
        ];
        let runs = sort_rows(&mut rows);
        let keys: Vec<(u32, u64)> = rows.iter().map(|r| (r.service, r.time)).collect();
        assert_eq!(
            keys,
            vec![(0, 4), (1, 3), (0, h + 9), (1, h + 5), (0, 2 * h)]
        );
        assert_eq!(runs, vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn ranks_follow_string_order() {
        assert_eq!(ranks(&["b", "a", "c", "a"]), vec![1, 0, 2, 0]);
    }

    #[test]
    fn ids_render_as_lowercase_hex_or_empty() {
        let mut b = TextBuilder::with_capacity(2, 32).unwrap();
        b.push_id(&[0xab, 0x01, 0, 0, 0, 0, 0, 0xff]);
        b.push_id(&[0; 8]);
        let a = b.finish().unwrap();
        assert_eq!(a.value(0), "ab010000000000ff");
        assert_eq!(a.value(1), "");
    }
}
