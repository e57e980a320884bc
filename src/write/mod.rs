//! Arrow record batch → Snappy Parquet bytes.
//!
//! Settings: Snappy compression, dictionary encoding where it pays (see
//! [`dictionary_pays`]), page-level statistics where they prune (see
//! [`statistics_pay`]), the table's sort order declared as Parquet sorting
//! columns, and key-value metadata naming the table and the schema version.
//! One row group per request file (a file holds one request's rows for one
//! hour); compaction writes several, and drains the bytes as it goes.
//!
//! The string leaves (top-level `Utf8` columns and the keys and values of the
//! top-level attribute maps) are most of the values and are encoded by
//! [`strings`]; every other leaf (numbers, timestamps, nested lists) by the
//! parquet crate's Arrow column writers. Both end up as column chunks of one
//! `SerializedFileWriter`, in schema order.
//!
//! Ingest writes whole batches ([`FileWriter::write`]). Compaction writes
//! [`Rows`], its merge's runs over the inputs' batches
//! ([`FileWriter::write_rows`]): string leaves that the inputs hold as
//! dictionaries go to [`strings`] as keys, run by run, and every other
//! column is first gathered into one array (`gather`).
//!
//! Page sizes and the dictionaries' limits are [`WriteOptions`], the
//! defaults named `DEFAULT_*`; tests set them small to cross page and
//! dictionary boundaries with a few rows. The module takes nothing from the
//! pipeline, which chunks rows into batches on its own.

mod delta;
mod gather;
mod rle;
pub mod strings;

use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
use parquet::basic::Compression;
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesBuilder, WriterPropertiesPtr,
    WriterVersion,
};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type, TypePtr};

use self::gather::map_leaf;
pub use self::gather::{Rows, Run};
use self::strings::{Keyed, PageBuffers, StringColumn};

use crate::batch::internal;
use crate::error::Result;
use crate::schema::{Table, SCHEMA_VERSION};

/// Footer key holding [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "otlp2r2.schema_version";
/// Footer key holding the table name.
pub const TABLE_KEY: &str = "otlp2r2.table";
/// Footer key holding the file's cap on a data page's bytes of values
/// ([`WriteOptions::page_bytes`], in decimal): the compactor's memory
/// estimate of reading the file takes a page per column at most this size.
pub const PAGE_BYTES_KEY: &str = "otlp2r2.page_bytes";

/// Columns whose values repeat across rows (per resource, scope, metric or a
/// small enum), where a dictionary page beats plain encoding. Unique-valued
/// columns (timestamps, ids, bodies, values) are left out: interning them
/// costs a hash and a compare per row for a dictionary that is then dropped.
const LOW_CARDINALITY: &[&str] = &[
    "SeverityText",
    "ServiceName",
    "ResourceSchemaUrl",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "EventName",
    "SpanName",
    "SpanKind",
    "StatusCode",
    "StatusMessage",
    "TraceState",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Name",
];

/// Default rows per data page at most: 8192, the same as the pipeline's
/// chunk of rows (`pipeline::CHUNK_ROWS`, a test checks it), so a page's
/// buffers hold one batch at most (the parquet crate's default is 20,000).
pub const DEFAULT_PAGE_ROWS: usize = 8192;

/// Default bytes of values per data page, about: 64 KiB (the parquet
/// crate's default is 1 MiB). A page is encoded and compressed in one piece,
/// so its buffers stay in cache, and a reader holds one decompressed page
/// per column: compaction reads an 8,192-record logs request file in 2.6 MiB
/// instead of 3.2 with 256 KiB pages (dhat), so more inputs fit a run. The
/// same request costs the same instructions to write (callgrind) and its
/// file is 0.9 % larger (more page headers and statistics); Snappy
/// compresses in 64 KiB blocks anyway.
pub const DEFAULT_PAGE_BYTES: usize = 64 << 10;

/// Default size a dictionary page may reach before its column chunk goes on
/// without it: 1 MiB (the parquet crate's default).
pub const DEFAULT_DICTIONARY_BYTES: usize = 1 << 20;

/// Default values of a chunk after which a string column's dictionary is
/// checked for repeats (and dropped when its values hardly repeat): 4096.
pub const DEFAULT_DICTIONARY_SAMPLE: usize = 4096;

/// Sizes of a file's pages and when a column chunk gives up its dictionary,
/// for [`FileWriter::with_options`]. [`Default`] gives the `DEFAULT_*`
/// constants, which the pipeline uses; tests set them small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Rows per data page at most (0 is taken as 1). Default [`DEFAULT_PAGE_ROWS`].
    pub page_rows: usize,
    /// Bytes of values per data page, about: a page ends before the row that
    /// would pass it, and a larger row gets a page whose other rows, if any,
    /// hold only empty values; 0 is taken as 1.
    /// Default [`DEFAULT_PAGE_BYTES`].
    pub page_bytes: usize,
    /// Size of a dictionary page past which the rest of its column chunk is
    /// written without it. Default [`DEFAULT_DICTIONARY_BYTES`].
    pub dictionary_bytes: usize,
    /// Values of a string column chunk after which its dictionary is kept
    /// only if each distinct value repeats 8 times on average; 0 keeps it
    /// without a check (the byte cap still applies). The parquet crate's
    /// writers (numbers, lists) do not sample. Default
    /// [`DEFAULT_DICTIONARY_SAMPLE`].
    pub dictionary_sample: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            page_rows: DEFAULT_PAGE_ROWS,
            page_bytes: DEFAULT_PAGE_BYTES,
            dictionary_bytes: DEFAULT_DICTIONARY_BYTES,
            dictionary_sample: DEFAULT_DICTIONARY_SAMPLE,
        }
    }
}

/// Whether a leaf column gets a dictionary: low-cardinality strings and
/// every attribute map's keys and values (resource and scope attributes
/// repeat on every row).
pub fn dictionary_pays(path: &[String]) -> bool {
    path.iter().any(|p| p == "entries")
        || path
            .last()
            .is_some_and(|l| LOW_CARDINALITY.contains(&l.as_str()))
}

/// Whether a leaf column gets min/max statistics. Top-level columns do
/// (they are what queries filter on: times, ids, names); free text (`Body`),
/// attribute maps and nested list members do not: their min/max prune
/// nothing, and computing them costs two byte compares per value.
pub fn statistics_pay(path: &[String]) -> bool {
    path.len() == 1 && path[0] != "Body"
}

/// The writer properties of a file of `rows` rows of `schema`, with the
/// default [`WriteOptions`] (see [`WriteOptions::properties`]).
pub fn properties(table: Table, schema: &SchemaRef, rows: usize) -> WriterProperties {
    WriteOptions::default().properties(table, schema, rows)
}

impl WriteOptions {
    /// The writer properties of a file of `rows` rows of `schema`, its page
    /// and dictionary limits these.
    ///
    /// Dictionary encoding is set here for the leaves the parquet crate
    /// writes (those inside lists); the [`strings`] leaves take theirs from
    /// [`dictionary_pays`] directly.
    pub fn properties(&self, table: Table, schema: &SchemaRef, rows: usize) -> WriterProperties {
        self.builder(table, schema)
            .set_max_row_group_row_count(Some(rows.max(1)))
            .build()
    }

    /// [`WriteOptions::properties`] without a row group's rows, which a
    /// [`FileWriter`] does not need (it closes row groups itself).
    fn builder(&self, table: Table, schema: &SchemaRef) -> WriterPropertiesBuilder {
        // A sorting column is named by its leaf's index among the row
        // group's column chunks, not its field's: every map before it
        // (two leaves) moves it on by one.
        let leaf_of = |i: usize| -> usize {
            let before = &schema.fields()[..i];
            before.iter().map(|f| leaf_count(f.data_type())).sum()
        };
        let sorting: Vec<SortingColumn> = table
            .sort_columns()
            .iter()
            .filter_map(|name| schema.index_of(name).ok())
            .map(|i| SortingColumn {
                column_idx: leaf_of(i) as i32,
                descending: false,
                nulls_first: false,
            })
            .collect();
        let mut builder = WriterProperties::builder().set_dictionary_enabled(false);
        if let Ok(descr) = ArrowSchemaConverter::new().convert(schema) {
            let mut leaves = descr.columns().iter();
            for field in schema.fields() {
                let ours = by_strings(field);
                for col in leaves.by_ref().take(leaf_count(field.data_type())) {
                    let path = ColumnPath::new(col.path().parts().to_vec());
                    if !ours && dictionary_pays(path.parts()) {
                        builder = builder.set_column_dictionary_enabled(path.clone(), true);
                    }
                    if !statistics_pay(path.parts()) {
                        builder =
                            builder.set_column_statistics_enabled(path, EnabledStatistics::None);
                    }
                }
            }
        }
        builder
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(Compression::SNAPPY)
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_data_page_row_count_limit(self.page_rows.max(1))
            .set_data_page_size_limit(self.page_bytes.max(1))
            .set_dictionary_page_size_limit(self.dictionary_bytes)
            .set_sorting_columns(Some(sorting))
            .set_created_by(concat!("otlp2r2 ", env!("CARGO_PKG_VERSION")).to_string())
            .set_key_value_metadata(Some(vec![
                KeyValue::new(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string()),
                KeyValue::new(TABLE_KEY.to_string(), table.name().to_string()),
                KeyValue::new(
                    PAGE_BYTES_KEY.to_string(),
                    self.page_bytes.max(1).to_string(),
                ),
            ]))
    }
}

/// What every file of one table, schema and [`WriteOptions`] shares: its
/// writer properties (the footer's keys, the encoded Arrow schema among
/// them), its Parquet schema, and a factory of the parquet crate's column
/// writers for its columns that are not [`by_strings`] alone (a writer for
/// every leaf made a writer and a Snappy codec per string leaf that were
/// never used). A process makes them once per table, schema and options
/// ([`Template::of`]): made for every file, they and the page buffers (see
/// [`PageBuffers::take`]) were 29 % of a one-record logs request's
/// instructions and 16 % of a 512-point metrics request's (callgrind).
struct Template {
    table: Table,
    schema: SchemaRef,
    options: WriteOptions,
    props: WriterPropertiesPtr,
    /// The file's Parquet schema.
    root: TypePtr,
    /// Makes the parquet crate's writers of `schema`'s columns that are not
    /// [`by_strings`] (their leaves as in `root`).
    factory: ArrowRowGroupWriterFactory,
}

/// The templates made so far, the latest last: at most [`TEMPLATES_KEPT`]
/// (the pipeline's files use one per table and timestamp unit, and
/// compaction's outputs two more options: a few of the 16 are used).
static TEMPLATES: Mutex<Vec<Arc<Template>>> = Mutex::new(Vec::new());
/// How many templates [`TEMPLATES`] keeps: the oldest goes first.
const TEMPLATES_KEPT: usize = 16;

impl Template {
    /// The template of `table`'s files of `schema` with `options`: one made
    /// before for an equal schema, or a new one (kept for the next file).
    fn of(table: Table, schema: &SchemaRef, options: WriteOptions) -> Result<Arc<Template>> {
        let mut kept = TEMPLATES.lock().unwrap_or_else(PoisonError::into_inner);
        let same = |t: &&Arc<Template>| {
            t.table == table
                && t.options == options
                && (Arc::ptr_eq(&t.schema, schema) || t.schema == *schema)
        };
        if let Some(t) = kept.iter().find(same) {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new(Template::new(table, schema, options)?);
        if kept.len() >= TEMPLATES_KEPT {
            kept.remove(0);
        }
        kept.push(Arc::clone(&t));
        Ok(t)
    }

    fn new(table: Table, schema: &SchemaRef, options: WriteOptions) -> Result<Template> {
        let mut props = options.builder(table, schema).build();
        // What ArrowWriter adds: the Arrow schema, so readers get back the
        // exact Arrow types (time zones, unsigned integers).
        add_encoded_arrow_schema_to_metadata(schema, &mut props);
        let root = ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(schema)?
            .root_schema_ptr();
        // One Parquet field per Arrow field, in order.
        let (fields, types): (Vec<_>, Vec<_>) = schema
            .fields()
            .iter()
            .zip(root.get_fields())
            .filter(|(f, _)| !by_strings(f))
            .map(|(f, t)| (Arc::clone(f), Arc::clone(t)))
            .unzip();
        let group = Type::group_type_builder(root.name())
            .with_fields(types)
            .build()?;
        let props = Arc::new(props);
        // The factory takes its leaves and properties from a file writer's.
        let leaves = SerializedFileWriter::new(Vec::new(), Arc::new(group), Arc::clone(&props))?;
        let factory = ArrowRowGroupWriterFactory::new(&leaves, Arc::new(Schema::new(fields)));
        Ok(Template {
            table,
            schema: Arc::clone(schema),
            options,
            props,
            root,
            factory,
        })
    }
}

/// How one top-level column is encoded.
enum ColumnWriter {
    /// A `Utf8` column: one [`strings`] leaf.
    Text(Box<StringColumn>),
    /// A `Map<Utf8, Utf8>` column: [`strings`] leaves for keys and values.
    Map(Box<(StringColumn, StringColumn)>),
    /// Anything else: the parquet crate's writers, one per leaf.
    Arrow(Vec<ArrowColumnWriter>),
}

/// One encoded column chunk, waiting to be appended to the row group.
enum Chunk {
    Strings((bytes::Bytes, ColumnCloseResult)),
    Arrow(ArrowColumnChunk),
}

impl Chunk {
    /// Its size in the file.
    fn size(&self) -> i64 {
        match self {
            Chunk::Strings((_, close)) => close.metadata.compressed_size(),
            Chunk::Arrow(c) => c.close().metadata.compressed_size(),
        }
    }
}

/// One Parquet file written batch by batch: each batch is encoded into the
/// file's pages as it arrives and can then be dropped, so a file of many
/// rows never holds all its Arrow columns at once.
///
/// A file is one row group unless [`FileWriter::flush_row_group`] closes
/// one and starts the next (compaction writes row groups of a fixed number
/// of rows). The bytes of closed row groups stay in the writer until
/// [`FileWriter::take_written`] drains them (to upload them as the parts
/// of a multipart upload); [`FileWriter::finish`] returns the rest.
pub struct FileWriter {
    file: SerializedFileWriter<Vec<u8>>,
    /// What it shares with every file of its table, schema and options.
    template: Arc<Template>,
    /// The open row group's column writers.
    columns: Vec<ColumnWriter>,
    bufs: PageBuffers,
    /// Rows written to the open row group.
    group_rows: usize,
    /// Row groups closed so far.
    groups: usize,
}

impl FileWriter {
    /// Starts a file of `schema`'s rows, with the default [`WriteOptions`].
    pub fn new(table: Table, schema: &SchemaRef) -> Result<Self> {
        Self::with_options(table, schema, WriteOptions::default())
    }

    /// Starts a file of `schema`'s rows, its pages and dictionaries within
    /// `options`.
    pub fn with_options(table: Table, schema: &SchemaRef, options: WriteOptions) -> Result<Self> {
        let template = Template::of(table, schema, options)?;
        let file = SerializedFileWriter::new(
            Vec::new(),
            Arc::clone(&template.root),
            Arc::clone(&template.props),
        )?;
        let mut writer = FileWriter {
            file,
            template,
            columns: Vec::new(),
            bufs: PageBuffers::take(),
            group_rows: 0,
            groups: 0,
        };
        writer.columns = writer.new_columns()?;
        Ok(writer)
    }

    /// The column writers of the next row group.
    fn new_columns(&self) -> Result<Vec<ColumnWriter>> {
        let t = &self.template;
        let mut arrow_writers = t.factory.create_column_writers(self.groups)?.into_iter();
        let mut leaves = self.file.schema_descr().columns().iter();
        let mut columns = Vec::with_capacity(t.schema.fields().len());
        for field in t.schema.fields() {
            let n = leaf_count(field.data_type());
            let descrs: Vec<_> = leaves.by_ref().take(n).cloned().collect();
            let strings = |d: &parquet::schema::types::ColumnDescPtr| {
                let statistics = t.props.statistics_enabled(d.path()) != EnabledStatistics::None;
                let dictionary = dictionary_pays(d.path().parts());
                StringColumn::new(d.clone(), dictionary, statistics, &t.options)
            };
            columns.push(match descrs.as_slice() {
                [d] if by_strings(field) => ColumnWriter::Text(Box::new(strings(d))),
                [k, v] if by_strings(field) => {
                    ColumnWriter::Map(Box::new((strings(k), strings(v))))
                }
                // The factory has no writers for it: the next columns' would
                // be taken.
                _ if by_strings(field) => return Err(internal("a string column's leaves")),
                _ => ColumnWriter::Arrow(arrow_writers.by_ref().take(n).collect()),
            });
        }
        Ok(columns)
    }

    /// Encodes one more batch of rows into the open row group. The batch
    /// must have the file's schema (an internal error otherwise: batches
    /// come from `batch`, or from the merge, which builds them with it).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.schema_ref() != &self.template.schema {
            return Err(internal("a batch does not have its file's schema"));
        }
        self.write_rows(&Rows::of(batch.clone()))
    }

    /// Encodes `rows` (one batch, or the merge's runs over its inputs'
    /// batches) into the open row group. Their batches have the file's
    /// columns, but a string leaf may come decoded as a dictionary
    /// (`Dictionary(Int32, Utf8)`, see `compact::read::decoded_schema`):
    /// those are encoded straight from the runs, each input's dictionary
    /// value interned once per row group; every other column is gathered
    /// into one array first (not when one run covers a whole batch).
    /// Other types are an internal error.
    pub fn write_rows(&mut self, rows: &Rows) -> Result<()> {
        let fields = self.template.schema.fields();
        if rows
            .batches
            .iter()
            .any(|(_, b)| b.num_columns() != fields.len())
            || rows.runs.iter().any(|&(b, start, len)| {
                rows.batches
                    .get(b)
                    .is_none_or(|(_, batch)| start + len > batch.num_rows())
            })
        {
            return Err(internal("rows do not fit their batches or the file"));
        }
        let whole = rows.is_whole_batch();
        let bufs = &mut self.bufs;
        for (c, (writer, field)) in self.columns.iter_mut().zip(fields).enumerate() {
            let column = rows.column(c);
            let one = || rows.gather_column(c);
            match writer {
                ColumnWriter::Text(col) if column.iter().all(|a| is_dictionary(a.as_ref())) => {
                    let keyed = column
                        .iter()
                        .zip(&rows.batches)
                        .map(|(a, &(input, _))| keyed(input, a.as_ref(), None))
                        .collect::<Result<Vec<_>>>()?;
                    col.write_keyed(&keyed, &rows.runs, bufs)?;
                }
                // Large strings (rows of wide values) go run by run from
                // their batches, not through a gathered copy of them all.
                ColumnWriter::Text(col) if !whole && wide_strings(&column, &rows.runs)? => {
                    for &(b, start, len) in &rows.runs {
                        col.write_range(text(column[b].as_ref())?, start, len, bufs)?;
                    }
                }
                ColumnWriter::Text(col) => col.write(text(one()?.as_ref())?, bufs)?,
                ColumnWriter::Map(leaves) => {
                    let (keys, values) = &mut **leaves;
                    let maps = column
                        .iter()
                        .map(|a| a.as_map_opt().ok_or_else(|| internal("not a map")))
                        .collect::<Result<Vec<_>>>()?;
                    // Each leaf on its own: keys into each input's
                    // dictionary, or strings.
                    for (leaf, col) in [(0, keys), (1, values)] {
                        let leaves = || maps.iter().map(|m| m.entries().column(leaf).as_ref());
                        if leaves().all(is_dictionary) {
                            let keyed = leaves()
                                .zip(&maps)
                                .zip(&rows.batches)
                                .map(|((a, m), &(input, _))| {
                                    keyed(input, a, Some(m.value_offsets()))
                                })
                                .collect::<Result<Vec<_>>>()?;
                            col.write_keyed(&keyed, &rows.runs, bufs)?;
                        } else if whole {
                            let m = maps[0];
                            col.write_map(
                                m.value_offsets(),
                                text(m.entries().column(leaf))?,
                                bufs,
                            )?;
                        } else {
                            let (offsets, strings) = map_leaf(&maps, &rows.runs, leaf)?;
                            col.write_map(&offsets, text(strings.as_ref())?, bufs)?;
                        }
                    }
                }
                ColumnWriter::Arrow(writers) => {
                    let array = one()?;
                    if array.data_type() != field.data_type() {
                        return Err(internal("a column does not have its file's type"));
                    }
                    for (w, leaf) in writers.iter_mut().zip(compute_leaves(field, &array)?) {
                        w.write(&leaf)?;
                    }
                }
            }
        }
        self.group_rows += rows.num_rows();
        Ok(())
    }

    /// Rows written to the open row group so far (0 right after
    /// [`FileWriter::flush_row_group`]).
    pub fn row_group_rows(&self) -> usize {
        self.group_rows
    }

    /// About the bytes the open row group would add to the file if it were
    /// closed now (its encoded pages so far, and the open pages' values):
    /// what it holds in memory. The compactor closes row groups at a byte
    /// cap as well as at a row count.
    pub fn row_group_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                ColumnWriter::Text(c) => c.estimated_bytes(),
                ColumnWriter::Map(leaves) => {
                    leaves.0.estimated_bytes() + leaves.1.estimated_bytes()
                }
                ColumnWriter::Arrow(writers) => {
                    writers.iter().map(|w| w.get_estimated_total_bytes()).sum()
                }
            })
            .sum()
    }

    /// Row groups closed so far (the open one not counted).
    pub fn row_groups(&self) -> usize {
        self.groups
    }

    /// Closes the open row group: its column chunks are encoded and
    /// appended to the file's bytes (see [`FileWriter::take_written`]), and
    /// the next batches go to a new row group. Does nothing when the open
    /// row group holds no row. Costs one row group's encoded bytes in
    /// memory until they are drained.
    pub fn flush_row_group(&mut self) -> Result<()> {
        if self.group_rows == 0 {
            return Ok(());
        }
        self.groups += 1;
        let next = self.new_columns()?;
        let columns = std::mem::replace(&mut self.columns, next);
        self.group_rows = 0;
        close_row_group(&mut self.file, columns, &mut self.bufs, 0)
    }

    /// Bytes of the file written so far: the closed row groups (drained by
    /// [`FileWriter::take_written`] or not) and the leading magic. The open
    /// row group's pages and the footer are not counted until they are
    /// written.
    pub fn bytes_written(&self) -> u64 {
        self.file.bytes_written() as u64
    }

    /// Drains the bytes written so far (everything [`FileWriter::bytes_written`]
    /// counts and no earlier call took), so that a caller can upload them and
    /// drop them. The concatenation of every `take_written` and the bytes
    /// [`FileWriter::finish`] returns is the file, byte for byte the same as
    /// without draining.
    pub fn take_written(&mut self) -> Result<Vec<u8>> {
        // The parquet crate buffers writes: flush them into the Vec first.
        // Its offsets count bytes written, not the Vec's length, so taking
        // the Vec's bytes does not change what the footer says.
        self.file
            .flush()
            .map_err(parquet::errors::ParquetError::from)?;
        Ok(std::mem::take(self.file.inner_mut()))
    }

    /// Closes the open row group (unless it is empty and an earlier one was
    /// closed), writes the footer and returns the file's bytes not yet
    /// taken by [`FileWriter::take_written`] (the whole file if none were).
    pub fn finish(self) -> Result<Vec<u8>> {
        self.close()?.into_bytes()
    }

    /// [`FileWriter::finish`] in two steps: the open row group's column
    /// chunks are encoded now (its pages compressed, the column writers
    /// gone), and laid out as the file's bytes by [`Closed::into_bytes`].
    /// A caller that holds other memory until the end (the pipeline, its
    /// decoded request) can free it in between: the file's bytes are then
    /// allocated in one piece where it was, and need not extend the heap.
    pub fn close(self) -> Result<Closed> {
        let FileWriter {
            file,
            columns,
            mut bufs,
            group_rows,
            groups,
            ..
        } = self;
        let chunks = if group_rows > 0 || groups == 0 {
            Some(encode_chunks(columns, &mut bufs)?)
        } else {
            None
        };
        bufs.keep();
        Ok(Closed { file, chunks })
    }
}

/// A file whose last row group is encoded but not yet written out: see
/// [`FileWriter::close`].
pub struct Closed {
    file: SerializedFileWriter<Vec<u8>>,
    /// The last row group's column chunks; `None` when the file's rows
    /// were all flushed by [`FileWriter::flush_row_group`] before.
    chunks: Option<Vec<Chunk>>,
}

impl Closed {
    /// Appends the last row group and writes the footer: the file's bytes
    /// not yet taken by [`FileWriter::take_written`].
    pub fn into_bytes(self) -> Result<Vec<u8>> {
        let Closed { mut file, chunks } = self;
        if let Some(chunks) = chunks {
            // The footer: schema, column metadata and page indexes.
            let footer = 8192 + 256 * file.schema_descr().num_columns();
            append_row_group(&mut file, chunks, footer)?;
        }
        Ok(file.into_inner()?)
    }
}

/// Encodes the column chunks of `columns` and appends them to `file` as one
/// row group, reserving room for them and `more` bytes after them.
fn close_row_group(
    file: &mut SerializedFileWriter<Vec<u8>>,
    columns: Vec<ColumnWriter>,
    bufs: &mut PageBuffers,
    more: usize,
) -> Result<()> {
    let chunks = encode_chunks(columns, bufs)?;
    append_row_group(file, chunks, more)
}

/// Every column chunk of `columns`, encoded in memory, in schema order.
fn encode_chunks(columns: Vec<ColumnWriter>, bufs: &mut PageBuffers) -> Result<Vec<Chunk>> {
    let mut chunks = Vec::new();
    for writer in columns {
        match writer {
            ColumnWriter::Text(c) => chunks.push(Chunk::Strings(c.finish(bufs)?)),
            ColumnWriter::Map(leaves) => {
                let (keys, values) = *leaves;
                chunks.push(Chunk::Strings(keys.finish(bufs)?));
                chunks.push(Chunk::Strings(values.finish(bufs)?));
            }
            ColumnWriter::Arrow(writers) => {
                for w in writers {
                    chunks.push(Chunk::Arrow(w.close()?));
                }
            }
        }
    }
    Ok(chunks)
}

/// Appends `chunks` to `file` as one row group. Every chunk is encoded
/// already, so the file's buffer grows once, to hold them and `more` bytes
/// after them. The parquet crate's own buffer is emptied into it first:
/// bytes still there (a new file's leading magic) would come on top of the
/// room reserved, and the buffer would double to take them (a 16 MB first
/// row group held 32 MB).
fn append_row_group(
    file: &mut SerializedFileWriter<Vec<u8>>,
    chunks: Vec<Chunk>,
    more: usize,
) -> Result<()> {
    let data: i64 = chunks.iter().map(Chunk::size).sum();
    file.flush().map_err(parquet::errors::ParquetError::from)?;
    file.inner_mut().reserve_exact(data as usize + more);
    let mut group = file.next_row_group()?;
    for chunk in chunks {
        match chunk {
            Chunk::Strings((data, close)) => group.append_column(&data, close)?,
            Chunk::Arrow(c) => c.append_to_row_group(&mut group)?,
        }
    }
    group.close()?;
    Ok(())
}

/// Bytes of strings past which [`FileWriter::write_rows`] writes a plain
/// string column run by run instead of gathering it into one array first:
/// runs of a row or two cost a call each, a gathered copy of megabyte
/// values costs their bytes once more.
const GATHER_BYTES: usize = 1 << 20;

/// Average bytes of a row's string from which [`wide_strings`] looks at
/// the runs: below it, rows are gathered whatever their number (the runs
/// are many and short, and summing them costs as much as gathering).
const WIDE_ROW_BYTES: usize = 4096;

/// Whether `runs` take over [`GATHER_BYTES`] of the string arrays
/// `column`, whose rows are wide: the batches are looked at first (one
/// step each), the runs only when the batches hold that much and their
/// rows are [`WIDE_ROW_BYTES`] on average.
fn wide_strings(column: &[&ArrayRef], runs: &[Run]) -> Result<bool> {
    let (mut bytes, mut rows) = (0, 0);
    for a in column {
        let offsets = text(a.as_ref())?.value_offsets();
        bytes += (offsets[offsets.len() - 1] - offsets[0]) as usize;
        rows += offsets.len() - 1;
    }
    if bytes <= GATHER_BYTES || bytes < WIDE_ROW_BYTES.saturating_mul(rows) {
        return Ok(false);
    }
    Ok(run_bytes(column, runs)? > GATHER_BYTES)
}

/// The string bytes `runs` take of the string arrays `column`.
fn run_bytes(column: &[&ArrayRef], runs: &[Run]) -> Result<usize> {
    let mut bytes = 0;
    for &(b, start, len) in runs {
        let offsets = text(column[b].as_ref())?.value_offsets();
        bytes += (offsets[start + len] - offsets[start]) as usize;
    }
    Ok(bytes)
}

/// `a` as a `Utf8` array, or an internal error.
fn text(a: &dyn Array) -> Result<&arrow_array::StringArray> {
    a.as_string_opt::<i32>()
        .ok_or_else(|| internal("a string column is not Utf8"))
}

/// Whether `a` is a string leaf decoded as a dictionary.
fn is_dictionary(a: &dyn Array) -> bool {
    matches!(a.data_type(), DataType::Dictionary(k, v)
        if **k == DataType::Int32 && **v == DataType::Utf8)
}

/// `a`, a leaf of merge input `input`'s batch, as `Dictionary(Int32,
/// Utf8)` keys (with a map's row `offsets`), or an internal error.
fn keyed<'a>(input: usize, a: &'a dyn Array, offsets: Option<&'a [i32]>) -> Result<Keyed<'a>> {
    let d = a
        .as_dictionary_opt::<Int32Type>()
        .ok_or_else(|| internal("a string column is not a dictionary"))?;
    if d.keys().null_count() > 0 {
        return Err(internal("a dictionary key is null"));
    }
    Ok(Keyed {
        input,
        keys: d.keys().values(),
        dict: text(d.values().as_ref())?,
        offsets,
    })
}

/// Parquet leaves of a column of type `t`.
fn leaf_count(t: &DataType) -> usize {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            leaf_count(f.data_type())
        }
        DataType::Struct(fields) => fields.iter().map(|f| leaf_count(f.data_type())).sum(),
        DataType::Map(entries, _) => leaf_count(entries.data_type()),
        _ => 1,
    }
}

/// Whether a top-level column is encoded by [`strings`]: a non-null `Utf8`
/// column or a non-null `Map<Utf8, Utf8>` of non-null keys and values (every
/// attributes column). Those are the shapes whose levels it writes.
pub fn by_strings(field: &Field) -> bool {
    if field.is_nullable() {
        return false;
    }
    match field.data_type() {
        DataType::Utf8 => true,
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(f) => {
                !entries.is_nullable()
                    && f.iter()
                        .all(|f| f.data_type() == &DataType::Utf8 && !f.is_nullable())
            }
            _ => false,
        },
        _ => false,
    }
}

/// Writes `batch` as one Parquet file and returns its bytes.
pub fn parquet(table: Table, batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut w = FileWriter::new(table, &batch.schema())?;
    w.write(batch)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{self, Limits, Signal};
    use arrow_schema::TimeUnit;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// The logs fixture's rows, as the pipeline builds them.
    fn logs() -> RecordBatch {
        rows(
            Signal::Logs,
            include_bytes!("../../tests/data/logs.pb"),
            TimeUnit::Nanosecond,
        )
    }

    /// The first file's rows of a protobuf request `body` of `signal`, as
    /// the pipeline builds them at `unit`.
    fn rows(signal: Signal, body: &[u8], unit: TimeUnit) -> RecordBatch {
        let model =
            pipeline::decode(signal, crate::Encoding::Protobuf, body, &Limits::UNLIMITED).unwrap();
        let plan = pipeline::plan(&model, &Limits::UNLIMITED).unwrap();
        let mut all = plan.all_batches(unit).unwrap();
        let (_, batches) = all.remove(0);
        arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
    }

    /// Writes `batch` in row groups of `group` rows (fed in batches of
    /// `chunk` rows), draining after each group when `drain`: the file's
    /// bytes (drained parts then the rest) and the drained parts' sizes.
    fn write_groups(batch: &RecordBatch, group: usize, chunk: usize, drain: bool) -> Vec<u8> {
        let mut w = FileWriter::new(Table::Logs, &batch.schema()).unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while at < batch.num_rows() {
            let n = chunk
                .min(batch.num_rows() - at)
                .min(group - w.row_group_rows());
            w.write(&batch.slice(at, n)).unwrap();
            at += n;
            if w.row_group_rows() == group {
                w.flush_row_group().unwrap();
                if drain {
                    let before = out.len() as u64;
                    out.extend(w.take_written().unwrap());
                    assert_eq!(out.len() as u64, w.bytes_written(), "{before}");
                }
            }
        }
        out.extend(w.finish().unwrap());
        out
    }

    /// Several row groups, drained or not, make the same file; it reads
    /// back as the rows written, in row groups of the size asked for.
    #[test]
    fn row_groups_drained_make_the_same_file() {
        let batch = logs();
        let n = batch.num_rows();
        assert!(n > 10, "{n}");
        for group in [1, 3, 7, n - 1, n, n + 5] {
            for chunk in [1, 2, 100] {
                let whole = write_groups(&batch, group, chunk, false);
                let drained = write_groups(&batch, group, chunk, true);
                assert!(whole == drained, "group {group} chunk {chunk}");
                let reader =
                    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(whole)).unwrap();
                let groups = reader.metadata().num_row_groups();
                assert_eq!(groups, n.div_ceil(group), "group {group}");
                for g in 0..groups {
                    let rows = reader.metadata().row_group(g).num_rows() as usize;
                    assert_eq!(rows, group.min(n - g * group));
                }
                let back: Vec<RecordBatch> = reader
                    .with_batch_size(n)
                    .build()
                    .unwrap()
                    .map(|b| b.unwrap())
                    .collect();
                let back = arrow_select::concat::concat_batches(&back[0].schema(), &back).unwrap();
                assert_eq!(back.num_rows(), n);
                for c in 0..batch.num_columns() {
                    assert_eq!(back.column(c), batch.column(c), "group {group} column {c}");
                }
            }
        }
    }

    /// Rows of wide strings (over [`GATHER_BYTES`] in one call) go to the
    /// writer run by run, not gathered first: the same file as the rows
    /// gathered into one batch and written whole, for small and wide rows.
    #[test]
    fn wide_rows_write_run_by_run_as_gathered_rows_do() {
        let batch = logs();
        let n = batch.num_rows();
        let body = batch.schema().index_of("Body").unwrap();
        let with_bodies = |width: &dyn Fn(usize) -> usize, salt: u8| {
            let bodies: arrow_array::StringArray = (0..n)
                .map(|i| {
                    let c = char::from(b'a' + (i as u8 + salt) % 26);
                    Some(c.to_string().repeat(width(i)))
                })
                .collect();
            let mut columns = batch.columns().to_vec();
            columns[body] = Arc::new(bodies);
            RecordBatch::try_new(batch.schema(), columns).unwrap()
        };
        // Small; wide; and one value of 1.5 MB, a page over the buffers'
        // cap of its own (compressed into a buffer of its own, the page's
        // scratch freed after it).
        let small = |_: usize| 10usize;
        let wide = |_: usize| 300_000usize;
        let one_large = |i: usize| if i == 3 { 1_500_000usize } else { 1_000 };
        for (width, runs) in [
            (&small as &dyn Fn(usize) -> usize, false),
            (&wide, true),
            (&one_large, true),
        ] {
            let (a, b) = (with_bodies(width, 0), with_bodies(width, 7));
            let rows = Rows {
                batches: vec![(0, Arc::new(a)), (1, Arc::new(b))],
                runs: vec![
                    (0, 0, 2),
                    (1, 0, 1),
                    (0, 2, 3),
                    (1, 1, n - 1),
                    (0, 5, n - 5),
                ],
            };
            let column = rows.column(body);
            assert_eq!(wide_strings(&column, &rows.runs).unwrap(), runs);
            let mut by_runs = FileWriter::new(Table::Logs, &batch.schema()).unwrap();
            by_runs.write_rows(&rows).unwrap();
            let mut gathered = FileWriter::new(Table::Logs, &batch.schema()).unwrap();
            gathered
                .write(&rows.to_batch(&batch.schema()).unwrap())
                .unwrap();
            let (by_runs, gathered) = (by_runs.finish().unwrap(), gathered.finish().unwrap());
            assert!(by_runs == gathered, "runs {runs}");
            let back: Vec<RecordBatch> =
                ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(by_runs))
                    .unwrap()
                    .build()
                    .unwrap()
                    .map(|b| b.unwrap())
                    .collect();
            let back = arrow_select::concat::concat_batches(&back[0].schema(), &back).unwrap();
            let want = rows.to_batch(&batch.schema()).unwrap();
            assert_eq!(back.column(body), want.column(body), "runs {runs}");
        }
    }

    /// A value over the dictionary's byte cap never enters the dictionary:
    /// the chunk's dictionary ends before the row holding it (its page
    /// holds the values before, not that one), and a chunk whose first row
    /// holds one has no dictionary page at all. Without this, an attribute
    /// of 8 MB was copied into the dictionary, then read back from it by
    /// the compactor: two more copies of it in memory.
    #[test]
    fn a_value_over_the_dictionary_cap_stays_out_of_it() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::common::v1 as pc;
        use opentelemetry_proto::tonic::logs::v1 as pl;
        use prost::Message;

        let cap = DEFAULT_DICTIONARY_BYTES;
        let text = |n: usize, salt: u8| -> String {
            (0..n)
                .map(|i| char::from(b'a' + ((i * 7 + salt as usize) % 26) as u8))
                .collect()
        };
        let kv = |k: &str, v: String| pc::KeyValue {
            key: k.into(),
            value: Some(pc::AnyValue {
                value: Some(pc::any_value::Value::StringValue(v)),
            }),
        };
        // Record 5 holds an attribute value over the cap; the scope's name
        // is over it too, on every row (the first included).
        let records = (0..10)
            .map(|i| pl::LogRecord {
                time_unix_nano: 1_714_564_800_000_000_000 + i,
                attributes: vec![
                    kv("a", format!("v{}", i % 3)),
                    kv(
                        "b",
                        if i == 5 {
                            text(cap + 10, 1)
                        } else {
                            "w".into()
                        },
                    ),
                ],
                ..Default::default()
            })
            .collect();
        let request = ExportLogsServiceRequest {
            resource_logs: vec![pl::ResourceLogs {
                scope_logs: vec![pl::ScopeLogs {
                    scope: Some(pc::InstrumentationScope {
                        name: text(cap + 1, 2),
                        ..Default::default()
                    }),
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let batch = rows(Signal::Logs, &request.encode_to_vec(), TimeUnit::Nanosecond);
        let small_pages = WriteOptions {
            page_rows: 2,
            ..WriteOptions::default()
        };
        let mut w = FileWriter::with_options(Table::Logs, &batch.schema(), small_pages).unwrap();
        w.write(&batch).unwrap();
        let file = bytes::Bytes::from(w.finish().unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(file.clone()).unwrap();
        let meta = reader.metadata().clone();
        let back: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let back = arrow_select::concat::concat_batches(&back[0].schema(), &back).unwrap();
        assert_eq!(back, batch);
        let chunk = |path: &str| {
            let group = meta.row_group(0);
            (0..group.num_columns())
                .map(|i| group.column(i))
                .find(|c| c.column_path().string() == path)
                .unwrap()
                .clone()
        };
        // The scope's name: no dictionary, not even an empty one.
        let name = chunk("ScopeName");
        assert_eq!(name.dictionary_page_offset(), None);
        // The attribute values: a dictionary of the values before row 5,
        // far below the cap, and the rows from there on plain.
        let values = chunk("LogAttributes.entries.values");
        let dict_at = values.dictionary_page_offset().unwrap();
        let dict_bytes = values.data_page_offset() - dict_at;
        assert!(dict_bytes < 1024, "{dict_bytes}");
        use parquet::basic::Encoding;
        let kinds: Vec<Encoding> = values.encodings().collect();
        for kind in [Encoding::RLE_DICTIONARY, Encoding::DELTA_LENGTH_BYTE_ARRAY] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
    }

    /// A flushed row group's bytes are held in a buffer of their size: the
    /// first one too, which follows the file's leading magic (the room for
    /// it was reserved before the magic reached the buffer, which then
    /// doubled).
    #[test]
    fn a_row_group_is_held_in_a_buffer_of_its_size() {
        let batch = logs();
        let mut w = FileWriter::new(Table::Logs, &batch.schema()).unwrap();
        for _ in 0..2 {
            w.write(&batch).unwrap();
            w.flush_row_group().unwrap();
            let bytes = w.take_written().unwrap();
            assert!(bytes.len() > 1000);
            assert!(bytes.capacity() <= bytes.len() + 8, "{}", bytes.capacity());
        }
    }

    /// One row group written with flush_row_group at the end (twice) is
    /// byte for byte the file the pipeline writes.
    #[test]
    fn one_row_group_is_the_pipeline_file() {
        let batch = logs();
        let want = parquet(Table::Logs, &batch).unwrap();
        let mut w = FileWriter::new(Table::Logs, &batch.schema()).unwrap();
        w.write(&batch).unwrap();
        w.flush_row_group().unwrap();
        w.flush_row_group().unwrap();
        let mut got = w.take_written().unwrap();
        got.extend(w.finish().unwrap());
        assert!(got == want);
    }

    /// A file's bytes do not depend on the files written before it, which
    /// it shares a template and page buffers with: the same rows give the
    /// same bytes first, after a file of other options, and after a file
    /// of another table; and two options give two different files.
    #[test]
    fn files_do_not_depend_on_the_files_before() {
        let batch = logs();
        let small = WriteOptions {
            page_rows: 7,
            page_bytes: 300,
            dictionary_bytes: 200,
            ..WriteOptions::default()
        };
        let write = |table, batch: &RecordBatch, options| {
            let mut w = FileWriter::with_options(table, &batch.schema(), options).unwrap();
            w.write(batch).unwrap();
            w.finish().unwrap()
        };
        let first = write(Table::Logs, &batch, small);
        let default = write(Table::Logs, &batch, WriteOptions::default());
        assert!(first != default);
        assert!(write(Table::Logs, &batch, small) == first);
        let body = include_bytes!("../../tests/data/traces.pb");
        let traces = rows(Signal::Traces, body, TimeUnit::Microsecond);
        let spans = write(Table::Traces, &traces, small);
        assert!(write(Table::Logs, &batch, WriteOptions::default()) == default);
        assert!(write(Table::Traces, &traces, small) == spans);
        assert!(write(Table::Logs, &batch, small) == first);
    }
}
