//! Golden check: the footers of written Parquet files match `docs/schema.md`
//! column for column (name, order, type), and carry the documented settings.

mod common;

use std::collections::BTreeMap;

use arrow_schema::{DataType, TimeUnit};
use common::fixtures;
use otlp2r2::{process, Encoding, Options, Request, Signal, Table};
use parquet::basic::Compression;
use parquet::file::reader::{FileReader, SerializedFileReader};
use prost::Message;

/// The doc's notation for an Arrow type.
fn notation(t: &DataType) -> String {
    match t {
        DataType::Timestamp(unit, tz) => {
            let u = match unit {
                TimeUnit::Nanosecond => "ns",
                TimeUnit::Microsecond => "us",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Second => "s",
            };
            format!("Timestamp({u}, {})", tz.as_deref().unwrap_or("none"))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(f) => format!(
                "Map<{}, {}>",
                notation(f[0].data_type()),
                notation(f[1].data_type())
            ),
            other => format!("Map<{other:?}>"),
        },
        DataType::List(item) => format!("List<{}>", notation(item.data_type())),
        DataType::Struct(fields) => format!(
            "Struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), notation(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// Table name → [(column, type)] as `docs/schema.md` documents them.
fn documented() -> BTreeMap<String, Vec<(String, String)>> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md")).unwrap();
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = if h.starts_with("Metrics: the common columns") {
                Some("common".into())
            } else {
                h.strip_prefix('`')
                    .and_then(|h| h.strip_suffix('`'))
                    .map(str::to_string)
            };
            continue;
        }
        let Some(table) = &current else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].chars().next().is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        if cells[1] == "1–14" {
            let common = tables["common"].clone();
            tables.entry(table.clone()).or_default().extend(common);
            continue;
        }
        let unquote = |s: &str| s.trim_matches('`').to_string();
        tables
            .entry(table.clone())
            .or_default()
            .push((unquote(cells[2]), unquote(cells[3])));
    }
    tables
}

#[test]
fn written_footers_match_the_documented_schema() {
    let docs = documented();
    let bodies = [
        (Signal::Logs, fixtures::logs(200, 1).encode_to_vec()),
        (Signal::Traces, fixtures::traces(200, 2).encode_to_vec()),
        (Signal::Metrics, fixtures::metrics(200, 3).encode_to_vec()),
    ];
    let mut seen = Vec::new();
    for (signal, body) in &bodies {
        let out = process(
            &Request {
                signal: *signal,
                encoding: Encoding::Protobuf,
                gzip: false,
                body,
            },
            &Options::default(),
        )
        .unwrap();
        for obj in &out.objects {
            let name = obj.table.name();
            seen.push(obj.table);
            // The Arrow schema read back from the file's footer.
            let batch = common::read_parquet(&obj.data);
            let got: Vec<(String, String)> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| (f.name().clone(), notation(f.data_type())))
                .collect();
            let want = docs
                .get(name)
                .unwrap_or_else(|| panic!("{name} is not documented"));
            assert_eq!(&got, want, "{name}: footer and docs/schema.md disagree");
            // The same schema the code declares.
            assert_eq!(
                batch.schema(),
                obj.table.schema(TimeUnit::Nanosecond),
                "{name}"
            );

            let reader =
                SerializedFileReader::new(bytes::Bytes::copy_from_slice(&obj.data)).unwrap();
            let meta = reader.metadata();
            assert_eq!(meta.num_row_groups(), 1);
            for c in meta.row_group(0).columns() {
                let path = c.column_path().parts();
                assert_eq!(c.compression(), Compression::SNAPPY, "{name}.{path:?}");
                // Top-level columns carry statistics; free text, maps and
                // list members deliberately do not (see write::statistics_pay).
                if path.len() == 1 && path[0] != "Body" {
                    assert!(
                        c.statistics().is_some(),
                        "{name}.{path:?} has no statistics"
                    );
                    assert!(
                        c.column_index_offset().is_some(),
                        "{name}.{path:?} has no page index"
                    );
                }
            }
            let kv = meta.file_metadata().key_value_metadata().unwrap();
            let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
            assert_eq!(
                get("otlp2r2.schema_version").as_deref(),
                Some(otlp2r2::schema::SCHEMA_VERSION)
            );
            assert_eq!(get("otlp2r2.table").as_deref(), Some(name));
            assert_eq!(
                get("otlp2r2.page_bytes"),
                Some(otlp2r2::write::DEFAULT_PAGE_BYTES.to_string())
            );
            // Each sorting column names the leaf of its column.
            let sorting = meta.row_group(0).sorting_columns().unwrap();
            let leaves = meta.file_metadata().schema_descr();
            let named: Vec<String> = sorting
                .iter()
                .map(|c| leaves.column(c.column_idx as usize).path().string())
                .collect();
            assert_eq!(named, obj.table.sort_columns(), "{name}");
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        Table::ALL.to_vec(),
        "every table was written and checked"
    );
    // Nothing documented that the code does not write.
    for t in docs.keys().filter(|t| *t != "common") {
        assert!(
            Table::ALL.iter().any(|x| x.name() == t),
            "docs/schema.md documents unknown table {t}"
        );
    }
}
