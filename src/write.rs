//! Arrow record batch → Snappy Parquet bytes.
//!
//! Settings: Snappy compression, dictionary encoding (the writer falls back
//! to plain pages when a dictionary stops paying), page-level statistics, the
//! table's sort order declared as Parquet sorting columns, and key-value
//! metadata naming the table and the schema version. One row group per file:
//! a file holds one request's rows for one hour.

use std::sync::Arc;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};

use crate::error::Result;
use crate::schema::{Table, SCHEMA_VERSION};

/// Footer key holding [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "otlp2r2.schema_version";
/// Footer key holding the table name.
pub const TABLE_KEY: &str = "otlp2r2.table";

/// The writer properties every file uses.
pub fn properties(table: Table, batch: &RecordBatch) -> WriterProperties {
    let schema = batch.schema();
    let sorting: Vec<SortingColumn> = table
        .sort_columns()
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .map(|i| SortingColumn {
            column_idx: i as i32,
            descending: false,
            nulls_first: false,
        })
        .collect();
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(batch.num_rows().max(1)))
        .set_sorting_columns(Some(sorting))
        .set_created_by(concat!("otlp2r2 ", env!("CARGO_PKG_VERSION")).to_string())
        .set_key_value_metadata(Some(vec![
            KeyValue::new(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string()),
            KeyValue::new(TABLE_KEY.to_string(), table.name().to_string()),
        ]))
        .build()
}

/// Writes `batch` as one Parquet file and returns its bytes.
pub fn parquet(table: Table, batch: &RecordBatch) -> Result<Vec<u8>> {
    let props = properties(table, batch);
    // Compressed output is typically well under a quarter of the Arrow size.
    let mut out = Vec::with_capacity(batch.get_array_memory_size() / 4 + 4096);
    let mut writer = ArrowWriter::try_new(&mut out, Arc::clone(&batch.schema()), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}
