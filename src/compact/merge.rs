//! The streaming k-way merge of sorted inputs into sorted output rows.
//!
//! Each input is a sequence of Arrow batches of one table, already sorted
//! by the table's sort key ([`Table::sort_columns`]): `ServiceName` then
//! `Timestamp` for logs and traces, `ServiceName`, `MetricName` then
//! `TimeUnix` for metrics; strings compared byte by byte, timestamps as
//! `i64`. That is the order the ingest pipeline writes a request's file in
//! (`batch::sort_rows`: the ranks of service and metric names follow byte
//! order, and a file is one hour, so the hour adds nothing), so a merged
//! file is sorted as a request's file is. Equal keys keep the order of
//! their inputs, then their order within an input: the merge is stable.
//!
//! [`Merger`] is a state machine with no I/O: [`Merger::step`] either asks
//! for the next batch of an input ([`Step::Need`], answered with
//! [`Merger::feed`]), or returns the next output rows ([`Step::Rows`]),
//! or says the merge is over ([`Step::Done`]). The caller reads the inputs
//! (see [`super::read`]) and writes the output (`write::FileWriter::write_rows`).
//!
//! The merge copies no value: its output is [`Rows`], runs of consecutive
//! rows of one input over the input batches they point into, which the
//! writer encodes straight from those batches (string leaves decoded as
//! dictionaries never become strings; see `read::decoded_schema`). Output
//! rows are emitted early when an input's batch runs out and another is to
//! come, so that the runs only ever point into the batches held, one per
//! input. An input's last batch ([`Merger::feed_last`]) ends the input
//! without an early output: it stays with the rows that point into it until
//! they go out. Choosing the next row costs a few key compares in a binary
//! heap of the inputs (O(log k) for k inputs).
//!
//! It does not check that inputs are sorted: an unsorted input gives an
//! unsorted output, never a panic.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int32Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::schema::Table;
use crate::write::{Rows, Run};

/// What the merge wants next, from [`Merger::step`].
#[derive(Debug)]
pub enum Step {
    /// Give the next batch of this input (its index) to [`Merger::feed`]:
    /// `Some(batch)`, or `None` once the input has no more; or to
    /// [`Merger::feed_last`] when the caller knows it is the input's last.
    Need(usize),
    /// The next output rows: between 1 and `out_rows` rows, in sort
    /// order, as runs over batches of the merge's schema.
    Rows(Rows),
    /// Every input is exhausted and every row was output.
    Done,
}

/// No position: an input that no row of the output being built comes from.
const NONE: u32 = u32::MAX;

/// An input's current batch, its sort-key columns and the next row.
struct Cursor {
    /// `None` before the first batch, while a new one is awaited, and once
    /// the input is exhausted.
    /// Shared with the output rows that point into it.
    batch: Option<Arc<RecordBatch>>,
    service: StringArray,
    /// Metrics tables only.
    metric: Option<StringArray>,
    time: ScalarBuffer<i64>,
    /// The next row to output.
    row: usize,
    /// Rows of `batch`.
    len: usize,
    /// `batch` is the input's last: once its rows are out, the input is.
    last: bool,
    /// Rows of `batch` wider than [`Merger::set_wide_row_bytes`] says, in
    /// order (most batches have none), and how many of them are out.
    wide: Vec<usize>,
    wide_out: usize,
}

impl Cursor {
    /// A cursor with no batch.
    fn empty() -> Self {
        Cursor {
            batch: None,
            service: StringArray::from(Vec::<&str>::new()),
            metric: None,
            time: ScalarBuffer::from(Vec::<i64>::new()),
            row: 0,
            len: 0,
            last: false,
            wide: Vec::new(),
            wide_out: 0,
        }
    }
}

/// Where the sort-key columns are in the merge's schema.
#[derive(Debug, Clone, Copy)]
struct KeyColumns {
    service: usize,
    metric: Option<usize>,
    time: usize,
}

/// A k-way merge of sorted inputs: see the module documentation.
pub struct Merger {
    schema: SchemaRef,
    out_rows: usize,
    /// A row with more bytes of strings than this ends the output rows
    /// that take it ([`Merger::set_wide_row_bytes`]).
    wide_row_bytes: u64,
    key: KeyColumns,
    cursors: Vec<Cursor>,
    /// Inputs with a row to output, as a binary min-heap by
    /// [`Merger::less`].
    heap: Vec<u32>,
    /// Inputs whose next batch is awaited, the next to ask for last.
    need: Vec<u32>,
    /// The output being built, as runs of consecutive rows of one input:
    /// (position in `order`, first row, rows).
    runs: Vec<Run>,
    /// Rows in `runs`.
    rows: usize,
    /// The inputs the output being built takes rows from, by position.
    order: Vec<u32>,
    /// Each input's position in `order`, or [`NONE`].
    pos: Vec<u32>,
    /// Rows output so far.
    rows_out: u64,
}

impl Merger {
    /// A merge of `inputs` inputs of `table`, whose batches have `schema`
    /// (the output's too), into output batches of at most `out_rows` rows
    /// (0 is taken as 1). The first steps ask for each input's first batch,
    /// input 0 first.
    ///
    /// An internal error when `schema` lacks the table's sort columns or
    /// they have other types (`Utf8`, `Timestamp`), or when there are more
    /// than `u32::MAX - 1` inputs.
    pub fn new(table: Table, schema: SchemaRef, inputs: usize, out_rows: usize) -> Result<Self> {
        if inputs >= NONE as usize {
            return Err(Error::Internal("too many merge inputs"));
        }
        let column = |name: &str, text: bool| {
            let i = schema
                .index_of(name)
                .map_err(|_| Error::Internal("a sort column is not in the merge's schema"))?;
            match (schema.field(i).data_type(), text) {
                (DataType::Utf8, true) | (DataType::Timestamp(..), false) => Ok(i),
                _ => Err(Error::Internal("a sort column has an unexpected type")),
            }
        };
        let key = match table.sort_columns() {
            [service, time] => KeyColumns {
                service: column(service, true)?,
                metric: None,
                time: column(time, false)?,
            },
            [service, metric, time] => KeyColumns {
                service: column(service, true)?,
                metric: Some(column(metric, true)?),
                time: column(time, false)?,
            },
            _ => return Err(Error::Internal("a table's sort key is not 2 or 3 columns")),
        };
        Ok(Merger {
            schema,
            out_rows: out_rows.max(1),
            wide_row_bytes: u64::MAX,
            key,
            cursors: (0..inputs).map(|_| Cursor::empty()).collect(),
            heap: Vec::with_capacity(inputs),
            need: (0..inputs as u32).rev().collect(),
            runs: Vec::new(),
            rows: 0,
            order: Vec::new(),
            pos: vec![NONE; inputs],
            rows_out: 0,
        })
    }

    /// The schema of every batch in and out.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows output so far, in all batches returned by [`Merger::step`].
    pub fn rows_out(&self) -> u64 {
        self.rows_out
    }

    /// Gives input `input` its next batch (`None`: it has no more). Only
    /// the input [`Step::Need`] asked for may be fed, once: anything else
    /// is an internal error, and so is a batch whose columns do not have
    /// the merge's schema's types. An empty batch is taken and the same
    /// input is asked for again.
    pub fn feed(&mut self, input: usize, batch: Option<RecordBatch>) -> Result<()> {
        self.take(input, batch, false)
    }

    /// Gives input `input` its last batch, as [`Merger::feed`] does: the
    /// input is over once the batch's rows are out, without being asked
    /// again, and without the early output that a batch running out
    /// otherwise causes (a run of many one-batch inputs, such as request
    /// files, then outputs `out_rows` rows at a time, not a few rows each
    /// time an input ends). The batch is held until its rows are output;
    /// an empty one ends the input at once.
    pub fn feed_last(&mut self, input: usize, batch: RecordBatch) -> Result<()> {
        self.take(input, Some(batch), true)
    }

    fn take(&mut self, input: usize, batch: Option<RecordBatch>, last: bool) -> Result<()> {
        if self.need.last().map(|&i| i as usize) != Some(input) {
            return Err(Error::Internal(
                "a merge input was fed without being asked for",
            ));
        }
        let Some(batch) = batch else {
            self.need.pop();
            self.cursors[input] = Cursor::empty();
            return Ok(());
        };
        let fields = self.schema.fields();
        if batch.num_columns() != fields.len()
            || fields
                .iter()
                .zip(batch.columns())
                .any(|(f, c)| f.data_type() != c.data_type())
        {
            return Err(Error::Internal(
                "a merge input does not have the merge's schema",
            ));
        }
        if batch.num_rows() == 0 {
            if last {
                self.need.pop();
                self.cursors[input] = Cursor::empty();
            }
            return Ok(());
        }
        let text = |i: usize| {
            let a = batch.column(i).as_string_opt::<i32>();
            a.cloned()
                .ok_or(Error::Internal("a merge input's sort column is not Utf8"))
        };
        self.cursors[input] = Cursor {
            service: text(self.key.service)?,
            metric: self.key.metric.map(text).transpose()?,
            time: times(batch.column(self.key.time).as_ref())
                .ok_or(Error::Internal("a merge input's time is not a timestamp"))?,
            row: 0,
            len: batch.num_rows(),
            wide: wide_rows(&batch, self.wide_row_bytes),
            wide_out: 0,
            batch: Some(Arc::new(batch)),
            last,
        };
        self.need.pop();
        self.heap.push(input as u32);
        let last = self.heap.len() - 1;
        self.sift_up(last);
        Ok(())
    }

    /// Output batches from now on hold at most `rows` rows (at least one):
    /// its driver keeps a batch from running past the output's row group.
    pub fn set_out_rows(&mut self, rows: usize) {
        self.out_rows = rows.max(1);
    }

    /// From the next batch fed on, a row holding more than `bytes` bytes of
    /// strings (a dictionary's value counted for each row that takes it)
    /// ends the output rows that take it: its driver closes
    /// the output's row group after a write that passes the group's byte
    /// cap, so a row group then holds at most one such row past its cap,
    /// whatever number of inputs hold such rows next to each other. (Two
    /// one-row request files of 8 MB values, merged in one write, made one
    /// row group of 16 MB, which the next run read back whole.) Rows of
    /// the batches that hold less than `bytes` in all are not looked at.
    pub fn set_wide_row_bytes(&mut self, bytes: u64) {
        self.wide_row_bytes = bytes;
    }

    /// Advances the merge: asks for a batch, returns an output batch, or
    /// says it is done (and keeps saying so).
    pub fn step(&mut self) -> Result<Step> {
        if let Some(&input) = self.need.last() {
            return Ok(Step::Need(input as usize));
        }
        while self.rows < self.out_rows {
            let Some(&top) = self.heap.first() else {
                break;
            };
            let t = top as usize;
            let mut p = self.pos[t];
            if p == NONE {
                p = self.order.len() as u32;
                self.pos[t] = p;
                self.order.push(top);
            }
            let cursor = &mut self.cursors[t];
            let (p, row) = (p as usize, cursor.row);
            match self.runs.last_mut() {
                Some((q, start, len)) if *q == p && *start + *len == row => *len += 1,
                _ => self.runs.push((p, row, 1)),
            }
            let wide = cursor.wide.get(cursor.wide_out) == Some(&row);
            cursor.wide_out += usize::from(wide);
            self.rows += 1;
            cursor.row += 1;
            if cursor.row == cursor.len {
                let last = cursor.last;
                self.pop();
                if !last {
                    // Its batch is done: output what points into it, then ask.
                    self.need.push(top);
                    break;
                }
                // The input is over; its batch stays with its rows.
            } else {
                self.sift_down(0);
            }
            if wide {
                break;
            }
        }
        if self.rows == 0 {
            return Ok(Step::Done);
        }
        let rows = self.emit()?;
        // A batch awaited is no longer pointed into: drop it now.
        for &i in &self.need {
            self.cursors[i as usize] = Cursor::empty();
        }
        Ok(Step::Rows(rows))
    }

    /// The output: the rows in `runs`, over the batches they point into
    /// (shared, not copied); `runs` is then cleared.
    fn emit(&mut self) -> Result<Rows> {
        let batches = self
            .order
            .iter()
            .map(|&i| {
                let batch = self.cursors[i as usize]
                    .batch
                    .clone()
                    .ok_or(Error::Internal("a merge output row has no batch"))?;
                Ok((i as usize, batch))
            })
            .collect::<Result<Vec<_>>>()?;
        let out = Rows {
            batches,
            runs: std::mem::take(&mut self.runs),
        };
        for &i in &self.order {
            self.pos[i as usize] = NONE;
            // An input over: no row points into its last batch any more.
            let c = &self.cursors[i as usize];
            if c.last && c.row == c.len {
                self.cursors[i as usize] = Cursor::empty();
            }
        }
        self.order.clear();
        self.rows_out += self.rows as u64;
        self.rows = 0;
        Ok(out)
    }

    /// Whether input `a`'s next row comes before input `b`'s: by the sort
    /// key, then by input.
    #[inline]
    fn less(&self, a: u32, b: u32) -> bool {
        let (x, y) = (&self.cursors[a as usize], &self.cursors[b as usize]);
        let order = x
            .service
            .value(x.row)
            .as_bytes()
            .cmp(y.service.value(y.row).as_bytes())
            .then_with(|| match (&x.metric, &y.metric) {
                (Some(mx), Some(my)) => mx.value(x.row).as_bytes().cmp(my.value(y.row).as_bytes()),
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| x.time[x.row].cmp(&y.time[y.row]))
            .then(a.cmp(&b));
        order.is_lt()
    }

    /// Removes the heap's top.
    fn pop(&mut self) {
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
        self.heap.pop();
        if !self.heap.is_empty() {
            self.sift_down(0);
        }
    }

    /// Moves the heap entry at `i` down to its place.
    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let left = 2 * i + 1;
            if left >= n {
                return;
            }
            let right = left + 1;
            let child = if right < n && self.less(self.heap[right], self.heap[left]) {
                right
            } else {
                left
            };
            if !self.less(self.heap[child], self.heap[i]) {
                return;
            }
            self.heap.swap(i, child);
            i = child;
        }
    }

    /// Moves the heap entry at `i` up to its place.
    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(self.heap[i], self.heap[parent]) {
                return;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }
}

/// The rows of `batch` that hold more than `bytes` bytes of strings (a
/// dictionary's value counted for each key that takes it), in order. A
/// batch whose arrays hold no more than that in all (most: a merge's input
/// batches are cut to about a megabyte of strings; see [`most_bytes`]) is
/// looked at once per column, with no allocation.
fn wide_rows(batch: &RecordBatch, bytes: u64) -> Vec<usize> {
    let most = batch.columns().iter().map(|c| most_bytes(c.as_ref()));
    if most.fold(0u64, u64::saturating_add) <= bytes {
        return Vec::new();
    }
    let mut rows = vec![0u64; batch.num_rows()];
    for c in batch.columns() {
        add_row_bytes(c.as_ref(), &mut rows);
    }
    (rows.iter().enumerate())
        .filter_map(|(i, &b)| (b > bytes).then_some(i))
        .collect()
}

/// The bytes of strings that `a`'s arrays hold, a dictionary's values
/// counted once: at least what any one element of `a` holds, unless an
/// element takes a dictionary's value more than once (a map with one
/// value under two keys), which adds nothing to a batch's memory (its rows
/// refer to the value by key), and is not looked for: counting every key
/// of every batch cost 3.7 % of a compaction's instructions (callgrind,
/// logs 500 × 100) for rows that no request makes. Only the types of a
/// merge's batches count (`Utf8`, its dictionaries, and the lists, maps
/// and structs that hold them).
fn most_bytes(a: &dyn Array) -> u64 {
    match a.data_type() {
        DataType::Utf8 => a.as_string_opt::<i32>().map_or(0, |s| {
            let o = s.value_offsets();
            (o[o.len() - 1] - o[0]).max(0) as u64
        }),
        DataType::Dictionary(..) => {
            (a.as_any_dictionary_opt()).map_or(0, |d| most_bytes(d.values().as_ref()))
        }
        DataType::List(_) => {
            (a.as_list_opt::<i32>()).map_or(0, |l| most_bytes(l.values().as_ref()))
        }
        DataType::Map(..) => a.as_map_opt().map_or(0, |m| most_bytes(m.entries())),
        DataType::Struct(_) => a.as_struct_opt().map_or(0, |s| {
            (s.columns().iter()).fold(0, |n, c| n.saturating_add(most_bytes(c.as_ref())))
        }),
        _ => 0,
    }
}

/// `a`'s keys and values when it is a `Dictionary(Int32, Utf8)`.
fn text_keys(a: &dyn Array) -> Option<(&[i32], &StringArray)> {
    let d = a.as_dictionary_opt::<Int32Type>()?;
    Some((d.keys().values(), d.values().as_string_opt::<i32>()?))
}

/// The length of `values`' value `key` (0 for a key out of its range, as
/// a null's key may be).
fn value_len(values: &StringArray, key: i32) -> u64 {
    let o = values.value_offsets();
    let k = usize::try_from(key).unwrap_or(usize::MAX);
    match (o.get(k), k.checked_add(1).and_then(|j| o.get(j))) {
        (Some(&from), Some(&to)) => (to - from).max(0) as u64,
        _ => 0,
    }
}

/// Adds the bytes of strings that each element of `a` holds to `rows`
/// (one per element; a dictionary's value for each key that takes it), for
/// the types [`most_bytes`] counts (of dictionaries, `Int32` keys of `Utf8`
/// values only).
fn add_row_bytes(a: &dyn Array, rows: &mut [u64]) {
    fn each(rows: &mut [u64], len: impl Fn(usize) -> u64) {
        for (i, r) in rows.iter_mut().enumerate() {
            *r = r.saturating_add(len(i));
        }
    }
    // Each element's share of the elements `offsets` give it in `values`.
    let nested = |values: &dyn Array, offsets: &[i32], rows: &mut [u64]| {
        let mut inner = vec![0u64; values.len()];
        add_row_bytes(values, &mut inner);
        let range = |i: usize| offsets[i].max(0) as usize..offsets[i + 1].max(0) as usize;
        each(rows, |i| {
            let held = inner.get(range(i)).unwrap_or_default();
            held.iter().fold(0, |n, &b| n.saturating_add(b))
        });
    };
    match a.data_type() {
        DataType::Utf8 => {
            if let Some(s) = a.as_string_opt::<i32>() {
                let o = s.value_offsets();
                each(rows, |i| (o[i + 1] - o[i]).max(0) as u64);
            }
        }
        DataType::Dictionary(..) => {
            if let Some((keys, values)) = text_keys(a) {
                each(rows, |i| value_len(values, keys[i]));
            }
        }
        DataType::List(_) => {
            if let Some(l) = a.as_list_opt::<i32>() {
                nested(l.values().as_ref(), l.value_offsets(), rows);
            }
        }
        DataType::Map(..) => {
            if let Some(m) = a.as_map_opt() {
                nested(m.entries(), m.value_offsets(), rows);
            }
        }
        DataType::Struct(_) => {
            if let Some(s) = a.as_struct_opt() {
                for c in s.columns() {
                    add_row_bytes(c.as_ref(), rows);
                }
            }
        }
        _ => {}
    }
}

/// The values of a timestamp column of any unit, as `i64`.
fn times(a: &dyn Array) -> Option<ScalarBuffer<i64>> {
    Some(match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => a
            .as_primitive_opt::<TimestampSecondType>()?
            .values()
            .clone(),
        DataType::Timestamp(TimeUnit::Millisecond, _) => a
            .as_primitive_opt::<TimestampMillisecondType>()?
            .values()
            .clone(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => a
            .as_primitive_opt::<TimestampMicrosecondType>()?
            .values()
            .clone(),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => a
            .as_primitive_opt::<TimestampNanosecondType>()?
            .values()
            .clone(),
        _ => return None,
    })
}

#[cfg(test)]
pub(crate) mod tests;
