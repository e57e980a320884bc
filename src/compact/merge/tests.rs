//! Tests of the merge, and the fixtures the compaction tests share: random
//! OTLP/JSON requests of every signal turned into files by the pipeline,
//! read back through `compact::read`, merged, and checked against a stable
//! sort of all their rows.

use super::*;
use crate::batch::testing::cell;
use crate::compact::read::{self, Footer, FooterOrNeed};
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
    format!(r#"{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}}"#)
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

/// A file's footer, read from a short suffix first.
pub(crate) fn footer(file: &[u8]) -> Footer {
    let size = file.len() as u64;
    let mut suffix = 16.min(size);
    loop {
        match Footer::parse(&file[(size - suffix) as usize..], size).unwrap() {
            FooterOrNeed::Footer(f) => return *f,
            FooterOrNeed::Need(n) => {
                assert!(n > suffix && n <= size, "{n} {suffix}");
                suffix = n;
            }
        }
    }
}

/// A file's batches of at most `rows` rows, read through `footer` (and
/// decoded as it is set to) from its row groups' byte ranges.
pub(crate) fn batches(footer: &Footer, file: &[u8], rows: usize) -> Vec<RecordBatch> {
    let file = Bytes::copy_from_slice(file);
    let mut batches = Vec::new();
    for g in 0..footer.row_groups() {
        let r = footer.row_group(g).unwrap();
        let range = file.slice(r.start as usize..(r.start + r.len) as usize);
        let decoded = footer.decode_row_group(g, r.start, range, rows).unwrap();
        batches.extend(decoded.map(|b| b.unwrap()));
    }
    assert!(batches.iter().all(|b| b.num_rows() <= rows.max(1)));
    assert!(batches
        .iter()
        .all(|b| b.schema_ref() == footer.decoded_schema()));
    batches
}

/// A file's footer and its batches of at most `rows` rows, decoded to
/// the file's own schema.
pub(crate) fn read(file: &[u8], rows: usize) -> (Footer, Vec<RecordBatch>) {
    let footer = footer(file);
    let batches = batches(&footer, file, rows);
    (footer, batches)
}

/// Files of one table read as a merge reads them: footers first, then
/// batches of at most `rows` rows, the string leaves that are dictionaries
/// in every file decoded as dictionaries ([`read::decoded_schema`]).
/// Returns that schema and each file's batches.
pub(crate) fn read_inputs(
    table: Table,
    files: &[Vec<u8>],
    rows: usize,
) -> (SchemaRef, Vec<Vec<RecordBatch>>) {
    let mut footers: Vec<Footer> = files.iter().map(|f| footer(f)).collect();
    let schema = footers[0].schema().clone();
    let decoded = read::decoded_schema(table, &schema, &footers.iter().collect::<Vec<_>>());
    let mut inputs = Vec::new();
    for (f, file) in footers.iter_mut().zip(files) {
        assert_eq!(f.table(), table);
        f.decode_as(decoded.clone()).unwrap();
        inputs.push(batches(f, file, rows));
    }
    (decoded, inputs)
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

/// `b` with its columns cast to `schema`'s types (dictionaries to `Utf8`).
pub(crate) fn plain_batch(b: &RecordBatch, schema: &SchemaRef) -> RecordBatch {
    let columns = b
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| arrow_cast::cast(c, f.data_type()).unwrap())
        .collect();
    RecordBatch::try_new(schema.clone(), columns).unwrap()
}

/// Merges `inputs` into output rows of at most `out_rows` rows each,
/// checking each output's size and batches; with `last`, each input's last
/// batch is given with [`Merger::feed_last`], as the compactor does.
pub(crate) fn merge_rows(
    table: Table,
    schema: &SchemaRef,
    inputs: Vec<Vec<RecordBatch>>,
    out_rows: usize,
    last: bool,
) -> Vec<Rows> {
    let mut m = Merger::new(table, schema.clone(), inputs.len(), out_rows).unwrap();
    let mut inputs: Vec<_> = inputs
        .into_iter()
        .map(|i| i.into_iter().peekable())
        .collect();
    let mut out = Vec::new();
    loop {
        match m.step().unwrap() {
            Step::Need(i) => match inputs[i].next() {
                Some(b) if last && inputs[i].peek().is_none() => m.feed_last(i, b).unwrap(),
                b => m.feed(i, b).unwrap(),
            },
            Step::Rows(rows) => {
                assert!(rows.num_rows() >= 1 && rows.num_rows() <= out_rows.max(1));
                assert!(rows.batches.iter().all(|(_, b)| b.schema_ref() == schema));
                out.push(rows);
            }
            Step::Done => break,
        }
    }
    assert!(matches!(m.step().unwrap(), Step::Done));
    assert_eq!(
        m.rows_out(),
        out.iter().map(|r| r.num_rows() as u64).sum::<u64>()
    );
    out
}

/// [`merge_rows`], each output as one batch.
pub(crate) fn merge(
    table: Table,
    schema: &SchemaRef,
    inputs: Vec<Vec<RecordBatch>>,
    out_rows: usize,
    last: bool,
) -> Vec<RecordBatch> {
    merge_rows(table, schema, inputs, out_rows, last)
        .iter()
        .map(|r| r.to_batch(schema).unwrap())
        .collect()
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

/// Files grouped by table, in order of first appearance.
fn by_table(files: Vec<(Table, Vec<u8>)>) -> Vec<(Table, Vec<Vec<u8>>)> {
    let mut out: Vec<(Table, Vec<Vec<u8>>)> = Vec::new();
    for (table, data) in files {
        match out.iter_mut().find(|(t, _)| *t == table) {
            Some((_, files)) => files.push(data),
            None => out.push((table, vec![data])),
        }
    }
    out
}

/// The pipeline's files of random requests, grouped by table and read
/// as a merge reads them ([`read_inputs`]), each in batches of
/// `batch_rows` with an empty batch between them when `empties`.
fn inputs(
    signal: Signal,
    sizes: &[usize],
    seed: u64,
    batch_rows: usize,
    empties: bool,
) -> Vec<(Table, SchemaRef, Vec<Vec<RecordBatch>>)> {
    let mut out = Vec::new();
    for (table, files) in by_table(files(signal, sizes, seed)) {
        let (schema, inputs) = read_inputs(table, &files, batch_rows);
        let inputs = inputs
            .into_iter()
            .map(|batches| {
                if !empties {
                    return batches;
                }
                let empty = RecordBatch::new_empty(schema.clone());
                let mut v = vec![empty.clone()];
                for b in batches {
                    v.push(b);
                    v.push(empty.clone());
                }
                v
            })
            .collect();
        out.push((table, schema, inputs));
    }
    out
}

fn signals() -> [Signal; 3] {
    [Signal::Logs, Signal::Traces, Signal::Metrics]
}

/// Every table, a sweep of input batch sizes and output batch sizes,
/// inputs' last batches given as such or not: the merged rows are the
/// inputs' rows, sorted, ties stable.
#[test]
fn merges_every_table_at_every_batch_size() {
    let sizes = [40, 1, 25, 60, 7];
    let mut tables = Vec::new();
    for signal in signals() {
        for batch_rows in [1, 3, 100] {
            for (table, schema, inputs) in inputs(signal, &sizes, 7, batch_rows, false) {
                for out_rows in [1, 3, 100] {
                    for last in [false, true] {
                        let out = merge(table, &schema, inputs.clone(), out_rows, last);
                        check(table, &inputs, &out);
                    }
                }
                tables.push(table);
            }
        }
    }
    for t in Table::ALL {
        assert!(tables.contains(&t), "{t:?} not covered");
    }
}

/// The merged rows go through the file writer as they come (row groups
/// of 16 rows), the string leaves decoded as dictionaries encoded from
/// their keys, and read back as they were. The file is byte for byte the
/// one written from the same rows as plain batches (`Utf8` strings):
/// keys or strings, the writer makes the same pages and dictionaries.
#[test]
fn merged_rows_write_and_read_back() {
    for signal in signals() {
        for (table, schema, inputs) in inputs(signal, &[30, 20, 25], 21, 8, false) {
            let file_schema = table.schema(TimeUnit::Nanosecond);
            // The attribute maps and names come as dictionaries.
            assert_ne!(schema, file_schema);
            let out = merge_rows(table, &schema, inputs, 5, false);
            let plain = out
                .iter()
                .map(|r| plain_batch(&r.to_batch(&schema).unwrap(), &file_schema))
                .collect::<Vec<_>>();
            let write = |each: &mut dyn FnMut(&mut crate::write::FileWriter, usize)| {
                let mut w = crate::write::FileWriter::new(table, &file_schema).unwrap();
                let mut file = Vec::new();
                for i in 0..out.len() {
                    each(&mut w, i);
                    if w.row_group_rows() >= 16 {
                        w.flush_row_group().unwrap();
                        file.extend(w.take_written().unwrap());
                    }
                }
                file.extend(w.finish().unwrap());
                file
            };
            let file = write(&mut |w, i| w.write_rows(&out[i]).unwrap());
            assert_eq!(file, write(&mut |w, i| w.write(&plain[i]).unwrap()));
            let (footer, back) = read(&file, 1000);
            let groups = footer.row_groups();
            for g in 0..groups - 1 {
                let rows = footer.row_group(g).unwrap().rows;
                assert!((16..=20).contains(&rows), "{table:?} {rows}");
            }
            let concat =
                |b: &[RecordBatch]| arrow_select::concat::concat_batches(&file_schema, b).unwrap();
            let back = back
                .iter()
                .map(|b| plain_batch(b, &file_schema))
                .collect::<Vec<_>>();
            assert_eq!(concat(&back), concat(&plain), "{table:?}");
        }
    }
}

/// Keys or strings, the same file, where it is hardest: inputs of
/// several row groups (each its own dictionary, so an input's dictionary
/// changes between its batches), pages of 3 rows, and output dictionaries
/// kept throughout, or sampled after 6 values and capped at 64 bytes, or
/// sampled after 4 and not capped, so that chunks give their dictionary up
/// in the middle of a run's rows, on the byte cap or on the sample's end;
/// pages that end on their ids' bytes (6 ids) instead of their rows; and a
/// dictionary kept until its cap, passed in the middle of long pages.
#[test]
fn keyed_rows_write_as_strings_do_across_dictionaries_and_give_ups() {
    use crate::write::{FileWriter, WriteOptions};
    // Dictionaries kept throughout, and given up early.
    let kept = WriteOptions {
        page_rows: 3,
        dictionary_sample: 0,
        ..WriteOptions::default()
    };
    let given_up = WriteOptions {
        dictionary_bytes: 64,
        dictionary_sample: 6,
        ..kept
    };
    // Decided by cardinality alone, at the sample's end (the byte cap
    // far), which falls inside the merge's 6-row outputs.
    let sampled = WriteOptions {
        dictionary_sample: 4,
        ..kept
    };
    // Pages cut by their ids (6 a page) rather than their rows, inside a
    // map row's values as often as not.
    let by_ids = WriteOptions {
        page_rows: 1000,
        page_bytes: 24,
        ..kept
    };
    // A kept dictionary that passes its cap in the middle of long pages.
    let capped = WriteOptions {
        page_rows: 1000,
        dictionary_bytes: 64,
        ..kept
    };
    // A cap that some values pass alone (the ids of 5 bytes and more, not
    // the services' names): those never enter the dictionary, which ends
    // before their row; before the chunk's first row, no dictionary at all.
    let over_cap = WriteOptions {
        dictionary_bytes: 4,
        ..kept
    };
    for signal in signals() {
        let mut again = Vec::new();
        for (table, data) in files(signal, &[23, 31, 17, 9], 5) {
            // The request file again, in row groups of 7 rows.
            let (footer, batches) = read(&data, 1000);
            let mut w = FileWriter::new(table, footer.schema()).unwrap();
            for b in &batches {
                for start in (0..b.num_rows()).step_by(7) {
                    w.write(&b.slice(start, 7.min(b.num_rows() - start)))
                        .unwrap();
                    w.flush_row_group().unwrap();
                }
            }
            again.push((table, w.finish().unwrap()));
        }
        for (table, files) in by_table(again) {
            let (schema, inputs) = read_inputs(table, &files, 4);
            let file_schema = table.schema(TimeUnit::Nanosecond);
            assert_ne!(schema, file_schema);
            let out = merge_rows(table, &schema, inputs, 6, false);
            let write = |keyed: bool, options: WriteOptions| {
                let mut w = FileWriter::with_options(table, &file_schema, options).unwrap();
                for r in &out {
                    if keyed {
                        w.write_rows(r).unwrap();
                    } else {
                        w.write(&plain_batch(&r.to_batch(&schema).unwrap(), &file_schema))
                            .unwrap();
                    }
                }
                w.finish().unwrap()
            };
            for options in [kept, given_up, sampled, by_ids, capped, over_cap] {
                assert_eq!(write(true, options), write(false, options), "{table:?}");
            }
        }
    }
}

/// Empty batches anywhere in an input (first, between, last) are
/// skipped.
#[test]
fn empty_batches_are_skipped() {
    for signal in signals() {
        for (table, schema, inputs) in inputs(signal, &[9, 12, 5], 3, 4, true) {
            let out = merge(table, &schema, inputs.clone(), 5, false);
            check(table, &inputs, &out);
        }
    }
}

/// One input comes out as it went in, in zero-copy slices when the
/// output batch is no larger than the input's.
#[test]
fn one_input_comes_out_unchanged() {
    for (table, schema, inputs) in inputs(Signal::Logs, &[50], 11, 10, false) {
        let out = merge(table, &schema, inputs.clone(), 100, false);
        assert_eq!(out, inputs[0], "{table:?}");
    }
}

/// A logs file of records `(seconds into the hour, body, attribute value)`
/// (no attribute for an empty value).
pub(crate) fn logs_file(records: &[(u64, &str, &str)]) -> Vec<u8> {
    let records: Vec<String> = (records.iter())
        .map(|(s, body, value)| {
            let t = HOUR + s * 1_000_000_000;
            let attributes = match value.is_empty() {
                true => String::new(),
                false => format!(r#"{{"key":"a","value":{{"stringValue":"{value}"}}}}"#),
            };
            format!(
                r#"{{"timeUnixNano":"{t}","body":{{"stringValue":"{body}"}},"attributes":[{attributes}]}}"#
            )
        })
        .collect();
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
    crate::process(&req, &Options::default())
        .unwrap()
        .objects
        .remove(0)
        .data
}

/// Rows of equal keys come out in input order, then row order.
#[test]
fn ties_keep_input_then_row_order() {
    let logs = |ids: &[&str]| {
        let records: Vec<(u64, &str, &str)> = ids.iter().map(|id| (0, *id, "")).collect();
        read(&logs_file(&records), 2).1
    };
    let inputs = vec![logs(&["c", "a"]), logs(&["b"]), logs(&["e", "d", "f"])];
    let schema = inputs[0][0].schema();
    for out_rows in [1, 2, 4] {
        let out = merge(Table::Logs, &schema, inputs.clone(), out_rows, false);
        let all = arrow_select::concat::concat_batches(&schema, &out).unwrap();
        let body = all.column_by_name("Body").unwrap();
        let bodies: Vec<String> = (0..all.num_rows()).map(|i| cell(body, i)).collect();
        assert_eq!(bodies, ["c", "a", "b", "e", "d", "f"], "{out_rows}");
    }
}

/// A row of more string bytes than [`Merger::set_wide_row_bytes`] ends the
/// output rows that take it, whether its bytes are in a plain column, an
/// attribute map or a dictionary: two inputs' wide rows never go out
/// together. Without the setting they do (one output of every row).
#[test]
fn a_wide_row_ends_the_rows_that_take_it() {
    let w = "w".repeat(300);
    let files = [
        logs_file(&[(0, "a", "x"), (1, &w, "x"), (2, "b", "x"), (5, "c", &w)]),
        logs_file(&[(1, "d", &w), (1, "e", "y"), (3, "f", "y")]),
        logs_file(&[(1, &w, &w)]),
        logs_file(&[(4, "g", "z"), (4, "h", "z")]),
    ];
    for batch_rows in [1, 2, 16] {
        let (schema, inputs) = read_inputs(Table::Logs, &files, batch_rows);
        let wide_in = |b: &RecordBatch| -> Vec<usize> {
            (0..b.num_rows())
                .filter(|&i| row_text(b, i).contains(&w))
                .collect()
        };
        assert_eq!(
            inputs
                .iter()
                .flatten()
                .map(wide_in)
                .map(|r| r.len())
                .sum::<usize>(),
            4
        );
        let mut m = Merger::new(Table::Logs, schema.clone(), inputs.len(), 100).unwrap();
        m.set_wide_row_bytes(200);
        let mut batches: Vec<_> = inputs.iter().map(|i| i.iter()).collect();
        let mut out = Vec::new();
        loop {
            match m.step().unwrap() {
                Step::Need(i) => m.feed(i, batches[i].next().cloned()).unwrap(),
                Step::Rows(rows) => out.push(rows.to_batch(&schema).unwrap()),
                Step::Done => break,
            }
        }
        check(Table::Logs, &inputs, &out);
        for b in &out {
            let wide = wide_in(b);
            assert!(
                wide.len() <= 1,
                "{batch_rows}: {wide:?} of {}",
                b.num_rows()
            );
            assert!(wide.iter().all(|&i| i + 1 == b.num_rows()), "{batch_rows}");
        }
        assert_eq!(out.iter().map(wide_in).filter(|r| !r.is_empty()).count(), 4);
        if batch_rows == 16 {
            let all = merge(Table::Logs, &schema, inputs.clone(), 100, true);
            assert_eq!(all.len(), 1, "without the setting, one output");
        }
    }
}

/// A row whose map takes one dictionary value twice holds it twice, once
/// the batch is looked at row by row; a batch whose arrays hold no more
/// than the cap (the dictionary's values counted once) is not.
#[test]
fn a_dictionary_value_counts_for_each_key() {
    use arrow_array::builder::{MapBuilder, StringBuilder, StringDictionaryBuilder};
    let value = "v".repeat(150);
    let mut b = MapBuilder::new(
        None,
        StringBuilder::new(),
        StringDictionaryBuilder::<arrow_array::types::Int32Type>::new(),
    );
    for (key, v) in [("a", "x"), ("b", value.as_str())] {
        b.keys().append_value(key);
        b.values().append_value(v);
    }
    b.append(true).unwrap();
    for key in ["a", "b"] {
        b.keys().append_value(key);
        b.values().append_value(&value);
    }
    b.append(true).unwrap();
    let map = Arc::new(b.finish()) as arrow_array::ArrayRef;
    let batch = RecordBatch::try_from_iter([("m", map)]).unwrap();
    // Rows of 1 + 1 + 1 + 150 and 1 + 150 + 1 + 150 bytes; the arrays hold
    // 4 bytes of keys and a dictionary of 151.
    assert_eq!(wide_rows(&batch, 154), [1]);
    assert_eq!(wide_rows(&batch, 153), [1]);
    assert_eq!(wide_rows(&batch, 152), [0, 1]);
    assert!(wide_rows(&batch, 155).is_empty(), "not looked at");
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
    let mut files = Vec::new();
    for file in 0..4 {
        let body = request(Signal::Logs, file, 30, &mut rng);
        let req = Request {
            signal: Signal::Logs,
            encoding: crate::Encoding::Json,
            gzip: false,
            body: body.as_bytes(),
        };
        files.push(crate::process(&req, &opts).unwrap().objects.remove(0).data);
    }
    let (schema, inputs) = read_inputs(Table::Logs, &files, 7);
    let file_schema = Table::Logs.schema(TimeUnit::Microsecond);
    assert_eq!(
        schema,
        read::decoded_schema(Table::Logs, &file_schema, &[&footer(&files[0])])
    );
    let out = merge(Table::Logs, &schema, inputs.clone(), 10, false);
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
/// Inputs of one batch each, given as their last: no output before
/// `out_rows` rows, however often an input ends (given as ordinary
/// batches, every input's end outputs what points into it).
#[test]
fn last_batches_end_their_inputs_without_an_early_output() {
    for (table, schema, inputs) in inputs(Signal::Logs, &[7, 3, 9, 5, 8, 4], 11, 100, false) {
        assert!(inputs.iter().all(|i| i.len() == 1));
        let rows: usize = inputs.iter().flatten().map(RecordBatch::num_rows).sum();
        let sizes = |last| -> Vec<usize> {
            merge_rows(table, &schema, inputs.clone(), 10, last)
                .iter()
                .map(Rows::num_rows)
                .collect()
        };
        let mut want = vec![10; rows / 10];
        if !rows.is_multiple_of(10) {
            want.push(rows % 10);
        }
        assert_eq!(sizes(true), want, "{table:?}");
        assert!(sizes(false).len() > want.len(), "{table:?}");
        check(
            table,
            &inputs,
            &merge(table, &schema, inputs.clone(), 10, true),
        );
    }
}

/// An empty last batch ends its input as `None` does.
#[test]
fn an_empty_last_batch_ends_its_input() {
    let schema = Table::Logs.schema(TimeUnit::Nanosecond);
    let mut m = Merger::new(Table::Logs, schema.clone(), 1, 10).unwrap();
    assert!(matches!(m.step().unwrap(), Step::Need(0)));
    m.feed_last(0, RecordBatch::new_empty(schema)).unwrap();
    assert!(matches!(m.step().unwrap(), Step::Done));
}

#[test]
fn no_rows_is_done() {
    let schema = Table::Gauge.schema(TimeUnit::Nanosecond);
    assert!(merge(Table::Gauge, &schema, vec![], 3, false).is_empty());
    let empty = RecordBatch::new_empty(schema.clone());
    assert!(merge(Table::Gauge, &schema, vec![vec![], vec![empty]], 3, false).is_empty());
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
            for last in [false, true] {
                let out = merge(table, &schema, inputs.clone(), out_rows, last);
                check(table, &inputs, &out);
            }
        }
    }
}
