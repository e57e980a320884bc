//! The Parquet writer (`otlp2r2::write`) against the parquet crate's reader:
//! every batch written reads back exactly, whichever path encoded each column
//! (the string encoder in `write::strings` or the parquet crate's Arrow
//! writers), and the metadata says what the parquet crate's own writer would
//! say of the same data (statistics, value counts, page indexes).

mod common;

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use common::fixtures;
use otlp2r2::pipeline;
use otlp2r2::write::{self, FileWriter, WriteOptions};
use otlp2r2::Table;
use otlp2r2::{Limits, Signal};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BoundaryOrder, Encoding};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::page_index::offset_index::OffsetIndexMetaData;
use parquet::file::statistics::Statistics;
use proptest::prelude::*;
use prost::Message;

const NS: TimeUnit = TimeUnit::Nanosecond;

/// The batches the pipeline would write for 3,000 records of each signal
/// (built by the stage benches' helpers, as the pipeline builds them).
fn fixture_batches() -> Vec<(Table, RecordBatch)> {
    use fixtures::stages;
    let bodies = [
        (Signal::Logs, fixtures::logs(3000, 1).encode_to_vec()),
        (Signal::Traces, fixtures::traces(3000, 2).encode_to_vec()),
        (Signal::Metrics, fixtures::metrics(3000, 3).encode_to_vec()),
    ];
    let mut out = Vec::new();
    for (signal, body) in &bodies {
        let model = pipeline::decode(
            *signal,
            otlp2r2::Encoding::Protobuf,
            body,
            &Limits::UNLIMITED,
        );
        for (table, batches) in stages::batches(&model.unwrap()) {
            out.extend(batches.into_iter().map(|b| (table, b)));
        }
    }
    out
}

fn metadata(data: &[u8]) -> Arc<ParquetMetaData> {
    let options = ArrowReaderOptions::new()
        .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
    ParquetRecordBatchReaderBuilder::try_new_with_options(
        bytes::Bytes::copy_from_slice(data),
        options,
    )
    .unwrap()
    .metadata()
    .clone()
}

/// The same batch written by the parquet crate's own `ArrowWriter`, with
/// the same properties.
fn reference(table: Table, batch: &RecordBatch) -> Vec<u8> {
    let props = write::properties(table, &batch.schema(), batch.num_rows());
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

fn min_max(s: &Statistics) -> (Vec<u8>, Vec<u8>) {
    (
        s.min_bytes_opt().unwrap().to_vec(),
        s.max_bytes_opt().unwrap().to_vec(),
    )
}

/// Every table of every signal reads back to exactly the batch written, and
/// each column chunk's value count, null count and min/max statistics are
/// the parquet crate's for the same batch.
#[test]
fn every_table_reads_back_exactly_with_the_reference_metadata() {
    let batches = fixture_batches();
    assert_eq!(batches.len(), 7, "one batch per table");
    for (table, batch) in &batches {
        let ours = write::parquet(*table, batch).unwrap();
        assert_eq!(&common::read_parquet(&ours), batch, "{}", table.name());
        let theirs = reference(*table, batch);
        let (a, b) = (metadata(&ours), metadata(&theirs));
        let (ga, gb) = (a.row_group(0), b.row_group(0));
        assert_eq!(ga.num_rows(), gb.num_rows());
        for (ca, cb) in ga.columns().iter().zip(gb.columns()) {
            let what = format!("{}.{}", table.name(), ca.column_path());
            assert_eq!(ca.column_path(), cb.column_path());
            assert_eq!(ca.num_values(), cb.num_values(), "{what}");
            assert_eq!(ca.compression(), cb.compression(), "{what}");
            match (ca.statistics(), cb.statistics()) {
                (Some(sa), Some(sb)) => {
                    assert_eq!(sa.null_count_opt(), sb.null_count_opt(), "{what}");
                    assert_eq!(min_max(sa), min_max(sb), "{what}");
                }
                (None, None) => {}
                (sa, sb) => panic!("{what}: statistics {sa:?} vs {sb:?}"),
            }
        }
    }
}

/// A file several chunks long, with bodies big enough to fill more than one
/// page of `write::DEFAULT_PAGE_BYTES`: pages split on rows and bytes, the offset index counts every
/// row once, and the column index of `ServiceName` (sorted) is ascending with
/// each page's min/max bounding that page's values.
#[test]
fn pages_split_and_are_indexed() {
    let n = write::DEFAULT_PAGE_ROWS * 2 + 500;
    let mut req = fixtures::logs(n, 7);
    let records = req
        .resource_logs
        .iter_mut()
        .flat_map(|r| &mut r.scope_logs)
        .flat_map(|s| &mut s.log_records);
    for (i, r) in records.enumerate() {
        r.body = Some(opentelemetry_proto::tonic::common::v1::AnyValue {
            value: Some(fixtures::s(&format!("{i:08} {}", "x".repeat(300)))),
        });
    }
    let body = req.encode_to_vec();
    let m = pipeline::decode(
        Signal::Logs,
        otlp2r2::Encoding::Protobuf,
        &body,
        &Limits::UNLIMITED,
    )
    .unwrap();
    let plan = pipeline::plan(&m, &Limits::UNLIMITED).unwrap();
    assert_eq!(plan.files().len(), 1);
    let schema = Table::Logs.schema(NS);
    let written: Vec<RecordBatch> = plan
        .batches(&plan.files()[0], NS)
        .map(Result::unwrap)
        .collect();
    assert_eq!(written.len(), n.div_ceil(pipeline::CHUNK_ROWS));
    let data = pipeline::write(Table::Logs, written.iter().cloned().map(Ok)).unwrap();
    let all = arrow_select::concat::concat_batches(&schema, &written).unwrap();
    assert_eq!(common::read_parquet(&data), all);

    let meta = metadata(&data);
    let group = meta.row_group(0);
    let offsets = &meta.offset_index().unwrap()[0];
    let columns = &meta.column_index().unwrap()[0];
    let svc = schema.index_of("ServiceName").unwrap();
    let body_col = schema.index_of("Body").unwrap();
    for (i, c) in group.columns().iter().enumerate() {
        let pages = &offsets[i].page_locations;
        assert!(
            pages.len() >= 3,
            "{}: {} pages",
            c.column_path(),
            pages.len()
        );
        assert_eq!(pages[0].first_row_index, 0);
        assert!(pages
            .windows(2)
            .all(|w| w[0].first_row_index < w[1].first_row_index));
    }
    // Bodies of ~310 bytes: a page holds PAGE_BYTES / 310 of them.
    let per_page = write::DEFAULT_PAGE_BYTES / 310 + 1;
    assert!(offsets[body_col].page_locations.len() >= n / per_page);
    assert_eq!(
        columns[svc].get_boundary_order(),
        Some(BoundaryOrder::ASCENDING)
    );
    let ColumnIndexMetaData::BYTE_ARRAY(index) = &columns[svc] else {
        panic!("ServiceName has no column index");
    };
    let values = all
        .column(svc)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let pages = &offsets[svc].page_locations;
    for (p, loc) in pages.iter().enumerate() {
        let start = loc.first_row_index as usize;
        let end = pages.get(p + 1).map_or(n, |l| l.first_row_index as usize);
        let (min, max) = (index.min_value(p).unwrap(), index.max_value(p).unwrap());
        for i in start..end {
            let v = values.value(i).as_bytes();
            assert!(min <= v && v <= max, "page {p} row {i}");
        }
    }
}

/// A `Utf8` column with a dictionary and statistics (`Name`), a
/// `Map<Utf8, Utf8>` (dictionaries, no statistics) and a `Utf8` column
/// without a dictionary but with statistics (`TraceId`): the three kinds of
/// string leaves.
fn map_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("Name", DataType::Utf8, false),
        otlp2r2::schema::attributes("Attributes"),
        Field::new("TraceId", DataType::Utf8, false),
    ]))
}

type Rows = [(String, Vec<(String, String)>)];

/// A row's `TraceId`: its name and entries back to back (lengths vary with
/// the row, so pages without a dictionary split on bytes).
fn trace_id(row: &(String, Vec<(String, String)>)) -> String {
    let mut s = row.0.clone();
    for (k, v) in &row.1 {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// Builds a batch of `map_schema()` from rows of (name, [(key, value)]).
fn map_batch(rows: &Rows) -> RecordBatch {
    let schema = map_schema();
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0)));
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(trace_id)));
    let mut maps = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for (_, entries) in rows {
        for (k, v) in entries {
            maps.keys().append_value(k);
            maps.values().append_value(v);
        }
        maps.append(true).unwrap();
    }
    let map = maps.finish();
    // Same data, the table's (non-null) field types.
    let DataType::Map(entries, sorted) = schema.field(1).data_type().clone() else {
        unreachable!()
    };
    let DataType::Struct(fields) = entries.data_type().clone() else {
        unreachable!()
    };
    let inner =
        arrow_array::StructArray::new(fields, vec![map.keys().clone(), map.values().clone()], None);
    let map = arrow_array::MapArray::new(entries, map.offsets().clone(), inner, None, sorted);
    RecordBatch::try_new(schema, vec![names, Arc::new(map), ids]).unwrap()
}

/// The encoding of every data page, column by column.
fn page_encodings(data: &[u8]) -> Vec<Vec<Encoding>> {
    use parquet::column::page::Page;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(data)).unwrap();
    let group = reader.get_row_group(0).unwrap();
    (0..group.num_columns())
        .map(|i| {
            let mut encodings: Vec<Encoding> = Vec::new();
            for page in group.get_column_page_reader(i).unwrap() {
                if let Page::DataPage { encoding, .. } = page.unwrap() {
                    if encodings.last() != Some(&encoding) {
                        encodings.push(encoding);
                    }
                }
            }
            encodings
        })
        .collect()
}

/// The size of each column's dictionary page, if it has one.
fn dictionary_sizes(data: &[u8]) -> Vec<Option<usize>> {
    use parquet::column::page::Page;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(data)).unwrap();
    let group = reader.get_row_group(0).unwrap();
    (0..group.num_columns())
        .map(|i| {
            let mut pages = group.get_column_page_reader(i).unwrap();
            pages.find_map(|page| match page.unwrap() {
                Page::DictionaryPage { buf, .. } => Some(buf.len()),
                _ => None,
            })
        })
        .collect()
}

/// Attribute values that hardly repeat leave the dictionary after the first
/// sample (the rest of the chunk is `DELTA_LENGTH_BYTE_ARRAY`); keys that
/// repeat keep it; values that repeat but outgrow the dictionary's size limit
/// leave it then. Each file reads back exactly.
#[test]
fn dictionaries_are_dropped_when_they_stop_paying() {
    let rows: Vec<_> = (0..10_000)
        .map(|i| {
            (
                format!("svc-{}", i / 2500),
                vec![
                    ("unique".to_string(), format!("value-{i}")),
                    ("method".to_string(), ["GET", "PUT"][i % 2].to_string()),
                ],
            )
        })
        .collect();
    let batch = map_batch(&rows);
    let data = write::parquet(Table::Logs, &batch).unwrap();
    assert_eq!(common::read_parquet(&data), batch);
    let enc = page_encodings(&data);
    // Name, keys, values.
    assert_eq!(enc[0], vec![Encoding::RLE_DICTIONARY]);
    assert_eq!(enc[1], vec![Encoding::RLE_DICTIONARY]);
    assert_eq!(
        enc[2],
        vec![Encoding::RLE_DICTIONARY, Encoding::DELTA_LENGTH_BYTE_ARRAY]
    );

    // Values that repeat 8 times in the sample, then 2 KiB distinct ones:
    // the dictionary passes 1 MiB and is dropped there.
    let rows: Vec<_> = (0..5_000)
        .map(|i| {
            let v = if i < 4096 {
                format!("v{}", i % 500)
            } else {
                format!("{i}{}", "y".repeat(2048))
            };
            ("n".to_string(), vec![("k".to_string(), v)])
        })
        .collect();
    let batch = map_batch(&rows);
    let data = write::parquet(Table::Logs, &batch).unwrap();
    assert_eq!(common::read_parquet(&data), batch);
    assert_eq!(
        page_encodings(&data)[2],
        vec![Encoding::RLE_DICTIONARY, Encoding::DELTA_LENGTH_BYTE_ARRAY]
    );
}

/// Statistics longer than 64 bytes are cut to a lower bound (min) and an
/// upper bound (max, its last character incremented), as the parquet crate
/// cuts them.
#[test]
fn long_statistics_are_truncated_like_the_reference() {
    let long = |c: char| format!("{}{}", "é".repeat(40), c);
    let rows: Vec<_> = ["b", "a", "c"]
        .iter()
        .map(|c| (long(c.chars().next().unwrap()), vec![]))
        .collect();
    let batch = map_batch(&rows);
    let ours = metadata(&write::parquet(Table::Logs, &batch).unwrap());
    let theirs = metadata(&reference(Table::Logs, &batch));
    let (sa, sb) = (
        ours.row_group(0).column(0).statistics().unwrap(),
        theirs.row_group(0).column(0).statistics().unwrap(),
    );
    assert_eq!(min_max(sa), min_max(sb));
    assert_eq!(sa.min_is_exact(), sb.min_is_exact());
    assert_eq!(sa.max_is_exact(), sb.max_is_exact());
    assert!(!sa.max_is_exact());
}

/// The default page rows are the pipeline's chunk rows, so a page holds one
/// of the pipeline's batches at most (`write` does not import the pipeline's
/// constant; this ties them).
#[test]
fn a_default_page_holds_one_pipeline_chunk() {
    assert_eq!(write::DEFAULT_PAGE_ROWS, otlp2r2::pipeline::CHUNK_ROWS);
}

/// Write options from page rows, page bytes, dictionary bytes and sample.
fn limits(rows: usize, bytes: usize, dict_bytes: usize, sample: usize) -> WriteOptions {
    WriteOptions {
        page_rows: rows,
        page_bytes: bytes,
        dictionary_bytes: dict_bytes,
        dictionary_sample: sample,
    }
}

/// The limits every case of the string encoder's property test runs at, as
/// arrow-json's reader tests run each case at several batch sizes: a page per
/// row; pages cut by a few values' bytes; the dictionary decided on its first
/// row, after a few, or not before the end; byte caps of a few values; and
/// the defaults.
fn sweep() -> Vec<WriteOptions> {
    vec![
        limits(1, 1 << 20, 1 << 20, 4096),
        limits(3, 16, 64, 8),
        limits(7, 1, 1 << 20, 1),
        limits(50, 64, 24, 0),
        limits(100, 300, 256, 40),
        WriteOptions::default(),
    ]
}

/// The longest of a row's values of leaf `c` (`Name`, keys, values,
/// `TraceId`), in bytes.
fn longest_value(row: &(String, Vec<(String, String)>), c: usize) -> usize {
    match c {
        0 => row.0.len(),
        1 => row.1.iter().map(|e| e.0.len()).max().unwrap_or(0),
        2 => row.1.iter().map(|e| e.1.len()).max().unwrap_or(0),
        _ => trace_id(row).len(),
    }
}

/// Per leaf (`Name`, keys, values, `TraceId`), each row's bytes of values.
fn leaf_bytes(rows: &Rows) -> [Vec<i64>; 4] {
    let sum = |f: fn(&(String, String)) -> usize| {
        rows.iter()
            .map(|r| r.1.iter().map(f).sum::<usize>() as i64)
            .collect()
    };
    [
        rows.iter().map(|r| r.0.len() as i64).collect(),
        sum(|e| e.0.len()),
        sum(|e| e.1.len()),
        rows.iter().map(|r| trace_id(r).len() as i64).collect(),
    ]
}

/// Writes `rows`, cut into `batches`, as one file with `options`, and checks
/// it against the parquet crate, which reads it:
/// - it reads back exactly;
/// - each chunk's value count and statistics (min/max, their exactness,
///   null count) are those `ArrowWriter` writes with the same properties;
/// - every leaf's pages (offset index) start at row 0, go up, hold at most
///   `page_rows` rows and say the bytes of their rows' values (without a
///   dictionary, at most `page_bytes` unless a single row has bytes);
/// - each page of a column with statistics is bounded by its column index
///   min/max (exact for short values), in the boundary order declared;
/// - a leaf's data pages are dictionary-encoded then plain (a dictionary is
///   dropped once, never taken up again; none at all when the first row
///   holds a value over its byte cap), and a dictionary page is written
///   when some page uses it, not past its byte cap by more than a row's
///   values.
///
/// Returns the file's data-page encodings, leaf by leaf, and offset index.
fn check_file(
    options: WriteOptions,
    rows: &Rows,
    batches: &[RecordBatch],
) -> (Vec<Vec<Encoding>>, Vec<OffsetIndexMetaData>) {
    let schema = map_schema();
    let n = rows.len();
    let mut w = FileWriter::with_options(Table::Logs, &schema, options).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    let data = w.finish().unwrap();
    let all = arrow_select::concat::concat_batches(&schema, batches).unwrap();
    assert_eq!(common::read_parquet(&data), all, "{options:?}");

    let props = options.properties(Table::Logs, &schema, n);
    let mut theirs = Vec::new();
    let mut aw = ArrowWriter::try_new(&mut theirs, schema.clone(), Some(props)).unwrap();
    aw.write(&all).unwrap();
    aw.close().unwrap();
    let (meta, reference) = (metadata(&data), metadata(&theirs));
    let group = meta.row_group(0);
    let chunks = group.columns().iter().zip(reference.row_group(0).columns());
    for (ca, cb) in chunks {
        let what = format!("{options:?} {}", ca.column_path());
        assert_eq!(ca.num_values(), cb.num_values(), "{what}");
        match (ca.statistics(), cb.statistics()) {
            (Some(sa), Some(sb)) => {
                assert_eq!(sa.null_count_opt(), sb.null_count_opt(), "{what}");
                assert_eq!(min_max(sa), min_max(sb), "{what}");
                assert_eq!(sa.min_is_exact(), sb.min_is_exact(), "{what}");
                assert_eq!(sa.max_is_exact(), sb.max_is_exact(), "{what}");
            }
            (None, None) => {}
            (sa, sb) => panic!("{what}: statistics {sa:?} vs {sb:?}"),
        }
    }

    let encodings = page_encodings(&data);
    let dictionaries = dictionary_sizes(&data);
    let bytes = leaf_bytes(rows);
    let offsets = meta.offset_index().unwrap()[0].clone();
    let columns = &meta.column_index().unwrap()[0];
    for (c, index) in offsets.iter().enumerate() {
        let what = format!("{options:?} {}", group.column(c).column_path());
        let pages = index.page_locations();
        let bounds: Vec<usize> = (pages.iter().map(|p| p.first_row_index as usize))
            .chain([n])
            .collect();
        assert_eq!(bounds[0], 0, "{what}");
        let unencoded = index.unencoded_byte_array_data_bytes().unwrap();
        for (p, w) in bounds.windows(2).enumerate() {
            let rows_in_page = w[1].checked_sub(w[0]).filter(|&k| k > 0);
            assert!(
                rows_in_page.is_some_and(|k| k <= options.page_rows.max(1)),
                "{what}: page {p} rows {w:?}"
            );
            let sum: i64 = bytes[c][w[0]..w[1]].iter().sum();
            assert_eq!(unencoded[p], sum, "{what}: page {p} bytes");
            // Without a dictionary, a page ends at its bytes, unless one row
            // alone passes them (its other rows, if any, are empty).
            let with_bytes = bytes[c][w[0]..w[1]].iter().filter(|&&b| b > 0).count();
            if c == 3 && with_bytes > 1 {
                assert!(sum as usize <= options.page_bytes, "{what}: page {p}");
            }
        }

        // Dictionary pages, then plain ones; `TraceId` has no dictionary,
        // nor has a leaf whose first row holds a value over the
        // dictionary's cap (such a value never enters it).
        let dict = [Encoding::RLE_DICTIONARY, Encoding::DELTA_LENGTH_BYTE_ARRAY];
        let e = &encodings[c];
        let first_over_cap = rows
            .first()
            .is_some_and(|r| longest_value(r, c) > options.dictionary_bytes);
        let ok = if c == 3 || first_over_cap {
            e[..] == dict[1..]
        } else {
            dict.starts_with(e)
        };
        assert!(ok, "{what}: page encodings {e:?}");
        let has_dictionary = group.column(c).dictionary_page_offset().is_some();
        assert_eq!(has_dictionary, e.contains(&dict[0]), "{what}");
        assert_eq!(has_dictionary, dictionaries[c].is_some(), "{what}");
        // A value in the dictionary page: a 4-byte length and its bytes.
        let row_most = (0..n).map(|r| bytes[c][r] as usize + 4 * 4).max();
        if let (Some(size), Some(most)) = (dictionaries[c], row_most) {
            assert!(size <= options.dictionary_bytes + most, "{what}: {size}");
        }

        // `Name` and `TraceId` have statistics: the column index bounds each
        // page, exactly when its min/max are short.
        let top = match c {
            0 => 0,
            3 => 2,
            _ => continue,
        };
        let ColumnIndexMetaData::BYTE_ARRAY(ci) = &columns[c] else {
            panic!("{what}: no column index");
        };
        let values = all.column(top).as_string::<i32>();
        let (mut mins, mut maxes) = (Vec::new(), Vec::new());
        for (p, w) in bounds.windows(2).enumerate() {
            let page = (w[0]..w[1]).map(|i| values.value(i).as_bytes());
            let lo = page.clone().min().unwrap();
            let hi = page.max().unwrap();
            let (min, max) = (ci.min_value(p).unwrap(), ci.max_value(p).unwrap());
            assert!(!ci.is_null_page(p), "{what}: page {p}");
            assert!(lo.starts_with(min) && max >= hi, "{what}: page {p}");
            assert!(lo.len() > 64 || min == lo, "{what}: page {p} min");
            assert!(hi.len() > 64 || max == hi, "{what}: page {p} max");
            mins.push(min.to_vec());
            maxes.push(max.to_vec());
        }
        match columns[c].get_boundary_order() {
            Some(BoundaryOrder::ASCENDING) => {
                assert!(mins.is_sorted() && maxes.is_sorted(), "{what}")
            }
            Some(BoundaryOrder::DESCENDING) => {
                let down = |v: &[Vec<u8>]| v.windows(2).all(|w| w[0] >= w[1]);
                assert!(down(&mins) && down(&maxes), "{what}")
            }
            _ => {}
        }
    }
    (encodings, offsets)
}

/// At small limits a few hundred rows end pages on rows and on bytes and
/// drop a dictionary for each reason: its sample's values hardly repeat
/// (cardinality), or its page passes its byte cap. The property test below
/// runs at such limits; this checks they reach both drop-outs.
#[test]
fn small_limits_cross_pages_and_both_dictionary_drop_outs() {
    let (dict, plain) = (Encoding::RLE_DICTIONARY, Encoding::DELTA_LENGTH_BYTE_ARRAY);
    // Values all distinct: dropped at the end of a 16-value sample. The one
    // key and the few names keep theirs.
    let rows: Vec<_> = (0..300)
        .map(|i| (format!("n{}", i / 100), vec![("k".into(), format!("v{i}"))]))
        .collect();
    let options = limits(10, 40, 1 << 20, 16);
    let (enc, offsets) = check_file(options, &rows, &[map_batch(&rows)]);
    assert_eq!(
        enc,
        [vec![dict], vec![dict], vec![dict, plain], vec![plain]]
    );
    for index in &offsets {
        assert!(index.page_locations().len() >= 30);
    }
    // The sample ends on its 16th value (row 15): the last page through
    // the dictionary ends there, and row 16 starts the first plain page.
    let values: Vec<i64> = (offsets[2].page_locations().iter())
        .map(|p| p.first_row_index)
        .collect();
    assert_eq!(values[..3], [0, 10, 16]);
    // `TraceId` pages end on bytes too (at most 40, see `check_file`).
    let firsts: Vec<i64> = (offsets[3].page_locations().iter())
        .map(|p| p.first_row_index)
        .chain([300])
        .collect();
    assert!(firsts.windows(2).any(|w| w[1] - w[0] < 10), "cut by bytes");

    // Values that repeat through the sample (two distinct in 16), then all
    // distinct: kept past the sample, dropped when the page passes 64 bytes.
    let rows: Vec<_> = (0..300)
        .map(|i| {
            let v = if i < 32 {
                format!("v{}", i % 2)
            } else {
                format!("v{i}")
            };
            ("n".to_string(), vec![("k".into(), v)])
        })
        .collect();
    let options = limits(10, 1 << 20, 64, 16);
    let (enc, _) = check_file(options, &rows, &[map_batch(&rows)]);
    assert_eq!(enc[2], [dict, plain]);
    // Without the byte cap, the same values keep their dictionary.
    let options = limits(10, 1 << 20, 1 << 20, 16);
    assert_eq!(check_file(options, &rows, &[map_batch(&rows)]).0[2], [dict]);
}

/// A value of the property test: mostly a few short ones (so rows repeat
/// and the fast paths run; some empty, some multi-byte), some of a thousand
/// (so dictionaries fill and drop out), a few longer than statistics keep.
fn text() -> impl Strategy<Value = String> {
    let few = prop::sample::select(vec!["", "a", "b", "ab", "é", "long value", "日本"]);
    prop_oneof![
        4 => few.prop_map(str::to_string),
        2 => (0u32..1000).prop_map(|n| format!("u{n}")),
        1 => (0u32..20).prop_map(|n| format!("{}{n}", "é".repeat(40))),
    ]
}

fn rows_strategy() -> impl Strategy<Value = Vec<(String, Vec<(String, String)>)>> {
    let entry = (text(), text());
    let row = (text(), prop::collection::vec(entry, 0..4));
    // At least one row (the pipeline never writes an empty file), up to a
    // few hundred; each repeated up to 3 times in a row (the row fast path).
    prop::collection::vec((row, 1usize..4), 1..150).prop_map(|rows| {
        (rows.into_iter())
            .flat_map(|(r, k)| std::iter::repeat_n(r, k))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Arbitrary rows, written as one to three batches into one file, at
    /// each limit of the sweep: each file reads back exactly and its
    /// metadata and page indexes are right (see `check_file`).
    #[test]
    fn arbitrary_strings_and_maps_round_trip_at_small_limits(
        rows in rows_strategy(),
        cuts in prop::collection::vec(0usize..450, 0..3),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
        cuts.sort();
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(rows.len());
        let batches: Vec<RecordBatch> =
            bounds.windows(2).map(|w| map_batch(&rows[w[0]..w[1]])).collect();
        for options in sweep() {
            check_file(options, &rows, &batches);
        }
    }
}
