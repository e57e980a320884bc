//! The streaming k-way merge of sorted inputs into sorted output batches.
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
//! [`Merger::feed`]), or returns the next output batch ([`Step::Batch`]),
//! or says the merge is over ([`Step::Done`]). The caller reads the inputs
//! (see [`super::read`]) and writes the output (`write::FileWriter`).
//!
//! Memory: one batch per input, plus the output batch being built. The
//! output is built column by column with `arrow_select::interleave` from
//! `(input, row)` pairs, with no per-row object or allocation; a run of
//! rows from a single input is a zero-copy slice of its batch. An output
//! batch is emitted early when an input's batch runs out, so that the pairs
//! only ever point into batches still held. Choosing the next row costs a
//! few key compares in a binary heap of the inputs (O(log k) for k inputs).
//!
//! It does not check that inputs are sorted: an unsorted input gives an
//! unsorted output, never a panic.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, RecordBatch, RecordBatchOptions, StringArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::schema::Table;

/// What the merge wants next, from [`Merger::step`].
#[derive(Debug)]
pub enum Step {
    /// Give the next batch of this input (its index) to [`Merger::feed`]:
    /// `Some(batch)`, or `None` once the input has no more.
    Need(usize),
    /// The next output batch: between 1 and `out_rows` rows, in sort
    /// order, with the merge's schema.
    Batch(RecordBatch),
    /// Every input is exhausted and every row was output.
    Done,
}

/// No position: an input that no row of the output being built comes from.
const NONE: u32 = u32::MAX;

/// An input's current batch, its sort-key columns and the next row.
struct Cursor {
    /// `None` before the first batch, while a new one is awaited, and once
    /// the input is exhausted.
    batch: Option<RecordBatch>,
    service: StringArray,
    /// Metrics tables only.
    metric: Option<StringArray>,
    time: ScalarBuffer<i64>,
    /// The next row to output.
    row: usize,
    /// Rows of `batch`.
    len: usize,
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
    key: KeyColumns,
    cursors: Vec<Cursor>,
    /// Inputs with a row to output, as a binary min-heap by
    /// [`Merger::less`].
    heap: Vec<u32>,
    /// Inputs whose next batch is awaited, the next to ask for last.
    need: Vec<u32>,
    /// The output being built: (position in `order`, row).
    out: Vec<(usize, usize)>,
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
            key,
            cursors: (0..inputs).map(|_| Cursor::empty()).collect(),
            heap: Vec::with_capacity(inputs),
            need: (0..inputs as u32).rev().collect(),
            out: Vec::with_capacity(out_rows.max(1)),
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
            batch: Some(batch),
        };
        self.need.pop();
        self.heap.push(input as u32);
        let last = self.heap.len() - 1;
        self.sift_up(last);
        Ok(())
    }

    /// Advances the merge: asks for a batch, returns an output batch, or
    /// says it is done (and keeps saying so).
    pub fn step(&mut self) -> Result<Step> {
        if let Some(&input) = self.need.last() {
            return Ok(Step::Need(input as usize));
        }
        while self.out.len() < self.out_rows {
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
            self.out.push((p as usize, cursor.row));
            cursor.row += 1;
            if cursor.row == cursor.len {
                // Its batch is done: output what points into it, then ask.
                self.pop();
                self.need.push(top);
                break;
            }
            self.sift_down(0);
        }
        if self.out.is_empty() {
            return Ok(Step::Done);
        }
        let batch = self.emit()?;
        // A batch awaited is no longer pointed into: drop it now.
        for &i in &self.need {
            self.cursors[i as usize] = Cursor::empty();
        }
        Ok(Step::Batch(batch))
    }

    /// The output batch of the rows in `out`, which is then cleared.
    fn emit(&mut self) -> Result<RecordBatch> {
        let rows = self.out.len();
        let batch = |i: u32| {
            self.cursors[i as usize]
                .batch
                .as_ref()
                .ok_or(Error::Internal("a merge output row has no batch"))
        };
        let columns = if let [only] = self.order[..] {
            // A run of one input's rows, consecutive: a slice of its batch.
            let start = self.out[0].1;
            debug_assert!(self
                .out
                .iter()
                .enumerate()
                .all(|(k, &(_, r))| r == start + k));
            batch(only)?.slice(start, rows).columns().to_vec()
        } else {
            let inputs = self
                .order
                .iter()
                .map(|&i| batch(i))
                .collect::<Result<Vec<_>>>()?;
            let mut arrays: Vec<&dyn Array> = Vec::with_capacity(inputs.len());
            (0..self.schema.fields().len())
                .map(|c| {
                    arrays.clear();
                    arrays.extend(inputs.iter().map(|b| b.column(c).as_ref()));
                    arrow_select::interleave::interleave(&arrays, &self.out)
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let out = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
        for &i in &self.order {
            self.pos[i as usize] = NONE;
        }
        self.order.clear();
        self.out.clear();
        self.rows_out += rows as u64;
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
pub(crate) mod tests {
    use super::*;
    use crate::batch::testing::cell;
    use crate::compact::read::{Footer, FooterOrNeed};
    use crate::pipeline::{Limits, Options, Request, Signal};
    use arrow_array::cast::AsArray;
    use bytes::Bytes;
    use proptest::prelude::*;

    /// 2024-05-01T12:00:00Z in Unix nanoseconds: every row lies in its hour.
    const HOUR: u64 = 1_714_564_800_000_000_000;
    /// Service names whose byte order differs from a case-blind or
    /// locale order.
    const SERVICES: &[&str] = &["b", "a", "B", "ab", "é", ""];
    const METRICS: &[&str] = &["m", "M", "m.a", "z"];

    /// A small deterministic generator (xorshift64).
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// A row time in the hour: often one of a few values (so keys tie),
    /// sometimes any nanosecond.
    fn time(rng: &mut Rng) -> u64 {
        if rng.below(3) == 0 {
            HOUR + rng.below(3_000_000_000_000) as u64
        } else {
            HOUR + rng.below(4) as u64 * 1_000_000_000 + rng.below(3) as u64
        }
    }

    fn resource(rng: &mut Rng) -> String {
        let service = SERVICES[rng.below(SERVICES.len())];
        format!(
            r#"{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}}"#
        )
    }

    fn id(file: usize, row: usize) -> String {
        format!(r#"[{{"key":"id","value":{{"stringValue":"f{file}r{row}"}}}}]"#)
    }

    /// An OTLP/JSON request of `signal` with `rows` records (spans, or
    /// data points spread over the five metric types), each of a random
    /// service (and metric name) and time, each tagged with a unique id.
    pub(crate) fn request(signal: Signal, file: usize, rows: usize, rng: &mut Rng) -> String {
        let mut parts = Vec::new();
        for row in 0..rows {
            let (res, t, id) = (resource(rng), time(rng), id(file, row));
            parts.push(match signal {
                Signal::Logs => format!(
                    r#"{{"resource":{res},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{t}","body":{{"stringValue":"f{file}r{row}"}},"attributes":{id}}}]}}]}}"#
                ),
                Signal::Traces => format!(
                    r#"{{"resource":{res},"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:016x}","name":"s","startTimeUnixNano":"{t}","endTimeUnixNano":"{t}","attributes":{id}}}]}}]}}"#,
                    file * 1000 + row + 1,
                    row + 1
                ),
                Signal::Metrics => {
                    let name = METRICS[rng.below(METRICS.len())];
                    let point = format!(r#""timeUnixNano":"{t}","attributes":{id}"#);
                    let data = match rng.below(5) {
                        0 => format!(r#""gauge":{{"dataPoints":[{{{point},"asDouble":1.5}}]}}"#),
                        1 => format!(
                            r#""sum":{{"dataPoints":[{{{point},"asInt":"7"}}],"aggregationTemporality":2,"isMonotonic":true}}"#
                        ),
                        2 => format!(
                            r#""histogram":{{"dataPoints":[{{{point},"count":"2","sum":3.0,"bucketCounts":["1","1"],"explicitBounds":[1.0]}}],"aggregationTemporality":2}}"#
                        ),
                        3 => format!(
                            r#""exponentialHistogram":{{"dataPoints":[{{{point},"count":"2","sum":3.0,"scale":1,"zeroCount":"0","positive":{{"offset":1,"bucketCounts":["1","1"]}}}}],"aggregationTemporality":1}}"#
                        ),
                        _ => format!(
                            r#""summary":{{"dataPoints":[{{{point},"count":"2","sum":3.0,"quantileValues":[{{"quantile":0.5,"value":1.0}}]}}]}}"#
                        ),
                    };
                    format!(
                        r#"{{"resource":{res},"scopeMetrics":[{{"metrics":[{{"name":"{name}",{data}}}]}}]}}"#
                    )
                }
            });
        }
        let top = match signal {
            Signal::Logs => "resourceLogs",
            Signal::Traces => "resourceSpans",
            Signal::Metrics => "resourceMetrics",
        };
        format!(r#"{{"{top}":[{}]}}"#, parts.join(","))
    }

    /// The pipeline's files of `sizes.len()` random requests of `signal`
    /// (request `i` of `sizes[i]` rows), by table, in request order.
    pub(crate) fn files(signal: Signal, sizes: &[usize], seed: u64) -> Vec<(Table, Vec<u8>)> {
        let mut rng = Rng(seed | 1);
        let opts = Options {
            limits: Limits::UNLIMITED,
            ..Options::default()
        };
        let mut out = Vec::new();
        for (file, &rows) in sizes.iter().enumerate() {
            let body = request(signal, file, rows, &mut rng);
            let req = Request {
                signal,
                encoding: crate::Encoding::Json,
                gzip: false,
                body: body.as_bytes(),
            };
            let output = crate::process(&req, &opts).unwrap();
            out.extend(output.objects.into_iter().map(|o| (o.table, o.data)));
        }
        out
    }

    /// A file's batches of at most `rows` rows, read through its footer
    /// (from a short suffix first) and its row groups' byte ranges.
    pub(crate) fn read(file: &[u8], rows: usize) -> (Footer, Vec<RecordBatch>) {
        let size = file.len() as u64;
        let mut suffix = 16.min(size);
        let footer = loop {
            match Footer::parse(&file[(size - suffix) as usize..], size).unwrap() {
                FooterOrNeed::Footer(f) => break f,
                FooterOrNeed::Need(n) => {
                    assert!(n > suffix && n <= size, "{n} {suffix}");
                    suffix = n;
                }
            }
        };
        let file = Bytes::copy_from_slice(file);
        let mut batches = Vec::new();
        for g in 0..footer.row_groups() {
            let r = footer.row_group(g).unwrap();
            let range = file.slice(r.start as usize..(r.start + r.len) as usize);
            let decoded = footer.decode_row_group(g, r.start, range, rows).unwrap();
            batches.extend(decoded.map(|b| b.unwrap()));
        }
        assert!(batches.iter().all(|b| b.num_rows() <= rows.max(1)));
        (*footer, batches)
    }

    /// Every cell of row `i`, as text.
    fn row_text(b: &RecordBatch, i: usize) -> String {
        let cells: Vec<String> = b.columns().iter().map(|c| cell(c.as_ref(), i)).collect();
        cells.join("|")
    }

    /// Row `i`'s sort key, read independently of the merge.
    fn key(table: Table, b: &RecordBatch, i: usize) -> (Vec<u8>, Vec<u8>, i64) {
        let text = |name: &str| {
            let a = b.column_by_name(name).unwrap().as_string::<i32>();
            a.value(i).as_bytes().to_vec()
        };
        let metric = match table {
            Table::Logs | Table::Traces => Vec::new(),
            _ => text("MetricName"),
        };
        let name = table.sort_columns().last().unwrap();
        let t = b.column_by_name(name).unwrap();
        (text("ServiceName"), metric, times(t.as_ref()).unwrap()[i])
    }

    /// Merges `inputs` in output batches of at most `out_rows` rows,
    /// checking each batch's size and schema.
    pub(crate) fn merge(
        table: Table,
        schema: &SchemaRef,
        inputs: Vec<Vec<RecordBatch>>,
        out_rows: usize,
    ) -> Vec<RecordBatch> {
        let mut m = Merger::new(table, schema.clone(), inputs.len(), out_rows).unwrap();
        let mut inputs: Vec<_> = inputs.into_iter().map(Vec::into_iter).collect();
        let mut out = Vec::new();
        loop {
            match m.step().unwrap() {
                Step::Need(i) => m.feed(i, inputs[i].next()).unwrap(),
                Step::Batch(b) => {
                    assert!(b.num_rows() >= 1 && b.num_rows() <= out_rows.max(1));
                    assert_eq!(b.schema_ref(), schema);
                    out.push(b);
                }
                Step::Done => break,
            }
        }
        assert!(matches!(m.step().unwrap(), Step::Done));
        assert_eq!(
            m.rows_out(),
            out.iter().map(|b| b.num_rows() as u64).sum::<u64>()
        );
        out
    }

    /// Checks that `out` holds exactly the rows of `inputs` in the order a
    /// stable sort of their concatenation by the table's key gives:
    /// the same multiset, sorted, ties in input then row order.
    fn check(table: Table, inputs: &[Vec<RecordBatch>], out: &[RecordBatch]) {
        let rows = |batches: &[RecordBatch]| -> Vec<_> {
            batches
                .iter()
                .flat_map(|b| (0..b.num_rows()).map(move |i| (key(table, b, i), row_text(b, i))))
                .collect()
        };
        let mut want: Vec<_> = inputs.iter().flat_map(|i| rows(i)).collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        let got = rows(out);
        assert_eq!(got.len(), want.len(), "{table:?}");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.1, w.1, "{table:?} row {k}");
        }
    }

    /// The pipeline's files of random requests, grouped by table, each
    /// read in batches of `batch_rows` with an empty batch between them
    /// when `empties`.
    fn inputs(
        signal: Signal,
        sizes: &[usize],
        seed: u64,
        batch_rows: usize,
        empties: bool,
    ) -> Vec<(Table, SchemaRef, Vec<Vec<RecordBatch>>)> {
        let mut by_table: Vec<(Table, SchemaRef, Vec<Vec<RecordBatch>>)> = Vec::new();
        for (table, data) in files(signal, sizes, seed) {
            let (footer, batches) = read(&data, batch_rows);
            assert_eq!(footer.table(), table);
            let schema = footer.schema().clone();
            let batches = if empties {
                let empty = RecordBatch::new_empty(schema.clone());
                let mut v = vec![empty.clone()];
                for b in batches {
                    v.push(b);
                    v.push(empty.clone());
                }
                v
            } else {
                batches
            };
            match by_table.iter_mut().find(|(t, ..)| *t == table) {
                Some((_, _, inputs)) => inputs.push(batches),
                None => by_table.push((table, schema, vec![batches])),
            }
        }
        by_table
    }

    fn signals() -> [Signal; 3] {
        [Signal::Logs, Signal::Traces, Signal::Metrics]
    }

    /// Every table, a sweep of input batch sizes and output batch sizes:
    /// the merged rows are the inputs' rows, sorted, ties stable.
    #[test]
    fn merges_every_table_at_every_batch_size() {
        let sizes = [40, 1, 25, 60, 7];
        let mut tables = Vec::new();
        for signal in signals() {
            for batch_rows in [1, 3, 100] {
                for (table, schema, inputs) in inputs(signal, &sizes, 7, batch_rows, false) {
                    for out_rows in [1, 3, 100] {
                        let out = merge(table, &schema, inputs.clone(), out_rows);
                        check(table, &inputs, &out);
                    }
                    tables.push(table);
                }
            }
        }
        for t in Table::ALL {
            assert!(tables.contains(&t), "{t:?} not covered");
        }
    }

    /// The merged batches go through the file writer as they come (row
    /// groups of 16 rows) and read back as they were.
    #[test]
    fn merged_batches_write_and_read_back() {
        for signal in signals() {
            for (table, schema, inputs) in inputs(signal, &[30, 20, 25], 21, 8, false) {
                assert_eq!(schema, table.schema(TimeUnit::Nanosecond));
                let out = merge(table, &schema, inputs, 5);
                let mut w = crate::write::FileWriter::new(table, &schema, 0).unwrap();
                let mut file = Vec::new();
                for b in &out {
                    w.write(b).unwrap();
                    if w.row_group_rows() >= 16 {
                        w.flush_row_group().unwrap();
                        file.extend(w.take_written().unwrap());
                    }
                }
                file.extend(w.finish().unwrap());
                let (footer, back) = read(&file, 1000);
                let groups = footer.row_groups();
                for g in 0..groups - 1 {
                    let rows = footer.row_group(g).unwrap().rows;
                    assert!((16..=20).contains(&rows), "{table:?} {rows}");
                }
                let concat =
                    |b: &[RecordBatch]| arrow_select::concat::concat_batches(&schema, b).unwrap();
                assert_eq!(concat(&back), concat(&out), "{table:?}");
            }
        }
    }

    /// Empty batches anywhere in an input (first, between, last) are
    /// skipped.
    #[test]
    fn empty_batches_are_skipped() {
        for signal in signals() {
            for (table, schema, inputs) in inputs(signal, &[9, 12, 5], 3, 4, true) {
                let out = merge(table, &schema, inputs.clone(), 5);
                check(table, &inputs, &out);
            }
        }
    }

    /// One input comes out as it went in, in zero-copy slices when the
    /// output batch is no larger than the input's.
    #[test]
    fn one_input_comes_out_unchanged() {
        for (table, schema, inputs) in inputs(Signal::Logs, &[50], 11, 10, false) {
            let out = merge(table, &schema, inputs.clone(), 100);
            assert_eq!(out, inputs[0], "{table:?}");
        }
    }

    /// Rows of equal keys come out in input order, then row order.
    #[test]
    fn ties_keep_input_then_row_order() {
        let record =
            |id: &str| format!(r#"{{"timeUnixNano":"{HOUR}","body":{{"stringValue":"{id}"}}}}"#);
        let logs = |ids: &[&str]| {
            let records: Vec<String> = ids.iter().map(|id| record(id)).collect();
            let body = format!(
                r#"{{"resourceLogs":[{{"resource":{{}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
                records.join(",")
            );
            let req = Request {
                signal: Signal::Logs,
                encoding: crate::Encoding::Json,
                gzip: false,
                body: body.as_bytes(),
            };
            let out = crate::process(&req, &Options::default()).unwrap();
            read(&out.objects[0].data, 2).1
        };
        let inputs = vec![logs(&["c", "a"]), logs(&["b"]), logs(&["e", "d", "f"])];
        let schema = inputs[0][0].schema();
        for out_rows in [1, 2, 4] {
            let out = merge(Table::Logs, &schema, inputs.clone(), out_rows);
            let all = arrow_select::concat::concat_batches(&schema, &out).unwrap();
            let body = all.column_by_name("Body").unwrap();
            let bodies: Vec<String> = (0..all.num_rows()).map(|i| cell(body, i)).collect();
            assert_eq!(bodies, ["c", "a", "b", "e", "d", "f"], "{out_rows}");
        }
    }

    /// Microsecond files merge the same way (ties between rows whose
    /// nanoseconds differ but microseconds do not keep input order).
    #[test]
    fn microsecond_files_merge() {
        let opts = Options {
            limits: Limits::UNLIMITED,
            timestamp_unit: TimeUnit::Microsecond,
        };
        let mut rng = Rng(99);
        let mut inputs = Vec::new();
        for file in 0..4 {
            let body = request(Signal::Logs, file, 30, &mut rng);
            let req = Request {
                signal: Signal::Logs,
                encoding: crate::Encoding::Json,
                gzip: false,
                body: body.as_bytes(),
            };
            let out = crate::process(&req, &opts).unwrap();
            inputs.push(read(&out.objects[0].data, 7).1);
        }
        let schema = Table::Logs.schema(TimeUnit::Microsecond);
        assert_eq!(inputs[0][0].schema(), schema);
        let out = merge(Table::Logs, &schema, inputs.clone(), 10);
        // Keys and bodies (ids) only: the test rendering is for nanoseconds.
        let rows = |batches: &[RecordBatch]| -> Vec<_> {
            batches
                .iter()
                .flat_map(|b| {
                    let body = b.column_by_name("Body").unwrap().clone();
                    (0..b.num_rows()).map(move |i| (key(Table::Logs, b, i), cell(&body, i)))
                })
                .collect()
        };
        let mut want: Vec<_> = inputs.iter().flat_map(|i| rows(i)).collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(rows(&out), want);
    }

    /// No input, and inputs that are all empty: done at once.
    #[test]
    fn no_rows_is_done() {
        let schema = Table::Gauge.schema(TimeUnit::Nanosecond);
        assert!(merge(Table::Gauge, &schema, vec![], 3).is_empty());
        let empty = RecordBatch::new_empty(schema.clone());
        assert!(merge(Table::Gauge, &schema, vec![vec![], vec![empty]], 3).is_empty());
    }

    /// Feeding an input that was not asked for, or a batch of another
    /// schema, is an error, never a panic.
    #[test]
    fn misuse_is_an_error() {
        let schema = Table::Logs.schema(TimeUnit::Nanosecond);
        let mut m = Merger::new(Table::Logs, schema.clone(), 2, 10).unwrap();
        assert!(matches!(m.step().unwrap(), Step::Need(0)));
        assert!(m.feed(1, None).is_err());
        let other = RecordBatch::new_empty(Table::Logs.schema(TimeUnit::Microsecond));
        assert!(m.feed(0, Some(other)).is_err());
        assert!(
            Merger::new(Table::Gauge, schema, 1, 1).is_err(),
            "no MetricName"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Random inputs of a random signal, random batch sizes: the
        /// merge is a stable sort of the concatenation.
        #[test]
        fn merge_is_a_stable_sort(
            signal in 0..3usize,
            sizes in proptest::collection::vec(1..30usize, 1..7),
            seed in any::<u64>(),
            batch_rows in 1..20usize,
            out_rows in 1..50usize,
        ) {
            for (table, schema, inputs) in inputs(signals()[signal], &sizes, seed, batch_rows, false) {
                let out = merge(table, &schema, inputs.clone(), out_rows);
                check(table, &inputs, &out);
            }
        }
    }
}
