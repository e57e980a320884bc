//! The Parquet writer (`otlp2r2::write`) against the parquet crate's reader:
//! every batch written reads back exactly, whichever path encoded each column
//! (the string encoder in `write::strings` or the parquet crate's Arrow
//! writers), and the metadata says what the parquet crate's own writer would
//! say of the same data (statistics, value counts, page indexes).

mod common;

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use common::fixtures;
use otlp2r2::batch::{self, Context};
use otlp2r2::decode::{proto, Budget};
use otlp2r2::write::{self, FileWriter};
use otlp2r2::Table;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BoundaryOrder, Encoding};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::Statistics;
use proptest::prelude::*;
use prost::Message;

const NS: TimeUnit = TimeUnit::Nanosecond;

/// The batches the pipeline would write for 3,000 records of each signal
/// (built by the stage benches' helpers, as the pipeline builds them).
fn fixture_batches() -> Vec<(Table, RecordBatch)> {
    use fixtures::stages;
    let budget = Budget::new(1 << 30);
    let logs = fixtures::logs(3000, 1).encode_to_vec();
    let traces = fixtures::traces(3000, 2).encode_to_vec();
    let metrics = fixtures::metrics(3000, 3).encode_to_vec();
    let mut out = stages::logs_batches(&proto::logs(&logs, &budget).unwrap());
    out.extend(stages::traces_batches(
        &proto::traces(&traces, &budget).unwrap(),
    ));
    out.extend(stages::metrics_batches(
        &proto::metrics(&metrics, &budget).unwrap(),
    ));
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
    let m = proto::logs(&body, &Budget::new(1 << 30)).unwrap();
    let ctx = Context::new(&m);
    let mut rows = batch::logs::rows(&m, &ctx);
    let runs = batch::sort_rows(&mut rows);
    assert_eq!(runs.len(), 1);
    let schema = Table::Logs.schema(NS);
    let mut w = FileWriter::new(Table::Logs, &schema, n).unwrap();
    let mut written = Vec::new();
    for chunk in rows.chunks(otlp2r2::pipeline::CHUNK_ROWS) {
        let b = batch::logs::build(&m, &ctx, chunk, NS).unwrap();
        w.write(&b).unwrap();
        written.push(b);
    }
    let data = w.finish().unwrap();
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

/// A one-column schema of `Map<Utf8, Utf8>` plus a `Utf8` column.
fn map_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("Name", DataType::Utf8, false),
        otlp2r2::schema::attributes("Attributes"),
    ]))
}

/// Builds a batch of `map_schema()` from rows of (name, [(key, value)]).
fn map_batch(rows: &[(String, Vec<(String, String)>)]) -> RecordBatch {
    let schema = map_schema();
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0)));
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
    RecordBatch::try_new(schema, vec![names, Arc::new(map)]).unwrap()
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

fn rows_strategy() -> impl Strategy<Value = Vec<(String, Vec<(String, String)>)>> {
    // Few distinct strings (so rows repeat and the fast paths run), some
    // empty, some multi-byte; maps of 0 to 4 entries.
    let text = prop::sample::select(vec!["", "a", "b", "ab", "é", "long value", "日本"])
        .prop_map(str::to_string);
    let entry = (text.clone(), text.clone());
    let row = (text, prop::collection::vec(entry, 0..4));
    // At least one row: the pipeline never writes an empty file.
    prop::collection::vec(row, 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary rows, written as one to three batches into one file, read
    /// back exactly.
    #[test]
    fn arbitrary_strings_and_maps_round_trip(
        rows in rows_strategy(),
        cuts in prop::collection::vec(0usize..60, 0..2),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
        cuts.sort();
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(rows.len());
        let batches: Vec<RecordBatch> =
            bounds.windows(2).map(|w| map_batch(&rows[w[0]..w[1]])).collect();
        let mut w = FileWriter::new(Table::Logs, &map_schema(), rows.len()).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        let data = w.finish().unwrap();
        let all = arrow_select::concat::concat_batches(&map_schema(), &batches).unwrap();
        prop_assert_eq!(common::read_parquet(&data), all);
    }
}
