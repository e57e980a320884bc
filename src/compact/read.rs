//! Reading a compaction input a row group at a time, from byte ranges.
//!
//! A stored file is never fetched whole once it is large: the caller gets
//! its last bytes with a ranged get and hands them to [`Footer::parse`],
//! which either decodes the footer or says how many bytes from the end it
//! needs ([`FooterOrNeed::Need`]). The [`Footer`] then tells, for each row
//! group, the byte range that holds all its column chunks
//! ([`Footer::row_group`]); the caller gets that range and
//! [`Footer::decode_row_group`] decodes it into Arrow batches of at most a
//! given number of rows, one at a time, with the exact Arrow types the file
//! was written with (from its embedded `ARROW:schema`, which is not decoded
//! when it is byte for byte one this build writes). Likewise a footer's
//! Parquet schema is not built again when its bytes are those of a footer
//! decoded before: a partition's files share a few schemas.
//!
//! The footer must carry this crate's keys (`otlp2r2.schema_version`,
//! `otlp2r2.table`, see [`crate::write::SCHEMA_VERSION_KEY`]): a file
//! without them, or that is not Parquet, or whose column chunks lie outside
//! the file, is refused with [`Error::Parquet`] and a message, before any
//! page is read.
//!
//! Pure: no I/O, no async, no threads (it builds for wasm32). It does not
//! decide which files to merge (same table, schema version and timestamp
//! unit: the caller compares [`Footer::table`], [`Footer::schema_version`]
//! and [`Footer::schema`]) and does not read page indexes or statistics.

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
use arrow_buffer::Buffer;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{encode_arrow_schema, ARROW_SCHEMA_META_KEY};
use parquet::basic::{Encoding, PageType, Type as PhysicalType};
use parquet::errors::ParquetError;
use parquet::file::metadata::{
    ColumnChunkMetaData, PageIndexPolicy, ParquetMetaData, ParquetMetaDataOptions,
    ParquetMetaDataPushDecoder, ParquetMetaDataReader,
};
use parquet::file::reader::{ChunkReader, Length};
use parquet::schema::types::SchemaDescPtr;
use parquet::DecodeResult;
use thrift::protocol::{TCompactInputProtocol, TInputProtocol, TType};

use crate::error::{Error, Result};
use crate::schema::Table;
use crate::write::{by_strings, DEFAULT_PAGE_ROWS, PAGE_BYTES_KEY, SCHEMA_VERSION_KEY, TABLE_KEY};

/// The bytes at the end of every Parquet file after its footer metadata:
/// the metadata's length (4 bytes) and the magic `PAR1`.
pub const FOOTER_TAIL_BYTES: u64 = 8;

/// A good first guess of the suffix to get for [`Footer::parse`]: 128 KiB,
/// which holds the footer of every file this crate writes of up to a few
/// hundred row groups (a row group's metadata is about 4 KiB for the widest
/// table), and the whole of a request's file of up to about a thousand
/// records (the OpenTelemetry SDKs export 512 at a time by default), which
/// then needs no other get. A larger footer costs a second ranged get.
pub const DEFAULT_SUFFIX_BYTES: u64 = 128 << 10;

/// The largest footer [`Footer::parse`] accepts: 16 MiB (a file this
/// crate writes has a few KiB per row group). A longer one is refused
/// rather than fetched and decoded.
pub const MAX_FOOTER_BYTES: u64 = 16 << 20;

/// [`Footer::read_memory`]: what an open reader holds per leaf column
/// (measured: 13 KiB for logs and traces files of 100 rows).
pub const READER_BYTES_PER_COLUMN: u64 = 16 << 10;
/// [`Footer::read_memory`]: what an input holds per leaf column from its
/// footer's read to the end of its run, whatever its rows: its decoded
/// footer (each column chunk's metadata and statistics; the schema tree is
/// shared, `SCHEMAS`) and the smallest buffers of its decoded batch.
/// Measured in workerd as wasm memory per input over runs of 250, 500 and
/// 1,000 one-row files (2026-12-02): 1.15–1.2 KiB for logs (22 columns,
/// 25–27 KiB an input) and spans (32 columns, 36–39 KiB), 1.4 KiB for
/// exponential histograms (36 columns, 49–52 KiB), the widest table. With
/// the file's bytes, which a small input holds too, the estimate is 1.2 to
/// 1.5 times those.
pub const FOOTER_BYTES_PER_COLUMN: u64 = 3 << 9;
/// [`Footer::read_memory`]: decompressed page bytes held per byte of one
/// data page per column.
pub const PAGES_FACTOR: u64 = 3;
/// [`Footer::read_memory`]: the page cap of a file whose footer does not
/// say it ([`PAGE_BYTES_KEY`]): the 256 KiB that this crate wrote before
/// it said so.
pub const UNSAID_PAGE_BYTES: u64 = 256 << 10;
/// [`Footer::read_memory`]: bytes a decoded batch holds per 100 bytes of
/// its values (measured: 1.4 to 2.1 times, the most for metrics at 1,024
/// rows, whose nested maps and lists grow buffers by doubling).
pub const BATCH_PERCENT: u64 = 225;
/// [`Footer::read_memory`]: decoded bytes of a string column per byte of
/// its Parquet uncompressed size, for files without size statistics
/// (measured: about 4.5 for 8,192-row logs files, whose attribute maps are
/// dictionary-encoded).
pub const DECODED_PER_PLAIN_BYTE: u64 = 5;

/// The Parquet magic, at both ends of a file.
const MAGIC: &[u8; 4] = b"PAR1";

/// The timestamp units this crate writes (`TIMESTAMP_UNIT`).
const WRITTEN_UNITS: [TimeUnit; 2] = [TimeUnit::Nanosecond, TimeUnit::Microsecond];

/// `table`'s schema at the unit whose `ARROW:schema` value, as this build
/// writes it, is `encoded` byte for byte; `None` for any other value (an
/// older schema version, or a file another writer made). Each table and
/// unit is encoded once per process, when first asked for.
fn written_schema(table: Table, encoded: &str) -> Option<SchemaRef> {
    type Written = OnceLock<(String, SchemaRef)>;
    static WRITTEN: [[Written; WRITTEN_UNITS.len()]; Table::ALL.len()] =
        [const { [const { OnceLock::new() }; WRITTEN_UNITS.len()] }; Table::ALL.len()];
    let cells = WRITTEN.get(Table::ALL.iter().position(|&t| t == table)?)?;
    WRITTEN_UNITS.iter().zip(cells).find_map(|(&unit, cell)| {
        let (text, schema) = cell.get_or_init(|| {
            let schema = table.schema(unit);
            (encode_arrow_schema(&schema), schema)
        });
        (text == encoded).then(|| Arc::clone(schema))
    })
}

/// The Parquet schemas of this crate's footers decoded so far, each with
/// its footer's first bytes up to the end of the schema (`FileMetaData`'s
/// fields 1, the version, and 2, the schema), the most recently used last:
/// at most [`SCHEMAS_KEPT`]. A footer that begins with the same bytes
/// encodes the same schema (the Thrift encoding delimits itself: the parquet
/// crate, skipping those bytes, ends where it ended parsing them the first
/// time, which is where [`schema_end`] found field 3), and is decoded with
/// that one instead of building the schema tree again: building and
/// dropping it was 7.5 % of compacting a partition of 100-point metrics
/// files (callgrind).
static SCHEMAS: Mutex<Vec<(Box<[u8]>, SchemaDescPtr)>> = Mutex::new(Vec::new());
/// How many schemas [`SCHEMAS`] keeps: the least recently used goes first.
const SCHEMAS_KEPT: usize = 16;
/// The longest schema [`SCHEMAS`] keeps (this crate's are about 2 KiB).
const KEPT_SCHEMA_BYTES: usize = 64 << 10;

/// Where the schema ends in `footer`, the Thrift bytes of a Parquet
/// `FileMetaData` (compact protocol): after field 1 (the version), then
/// field 2 (the schema, a list), and before field 3 (the rows), as every
/// writer puts them. `None` for any other layout.
fn schema_end(footer: &[u8]) -> Option<usize> {
    /// `footer` read from `at` on, `at` counting the bytes read.
    struct Counted<'a> {
        rest: &'a [u8],
        at: &'a Cell<usize>,
    }
    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.rest.read(buf)?;
            self.at.set(self.at.get() + n);
            Ok(n)
        }
    }
    /// The next field is `id`, of `kind`.
    fn field(p: &mut impl TInputProtocol, id: i16, kind: TType) -> Option<()> {
        let f = p.read_field_begin().ok()?;
        (f.id == Some(id) && f.field_type == kind).then_some(())
    }
    let at = Cell::new(0);
    let mut p = TCompactInputProtocol::new(Counted {
        rest: footer,
        at: &at,
    });
    p.read_struct_begin().ok()?;
    field(&mut p, 1, TType::I32)?;
    p.read_i32().ok()?;
    field(&mut p, 2, TType::List)?;
    p.skip(TType::List).ok()?;
    let end = at.get();
    field(&mut p, 3, TType::I64)?;
    Some(end)
}

/// Whether every data page of column chunk `c` holds dictionary ids (as its
/// footer's page encoding statistics say; false when they say nothing).
fn only_dictionary_pages(c: &ColumnChunkMetaData) -> bool {
    let data_pages =
        |e: Encoding| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY);
    c.dictionary_page_offset().is_some()
        && match (c.page_encoding_stats_mask(), c.page_encoding_stats()) {
            (Some(mask), _) => {
                mask.is_only(Encoding::RLE_DICTIONARY) || mask.is_only(Encoding::PLAIN_DICTIONARY)
            }
            (None, Some(stats)) => stats
                .iter()
                .filter(|s| s.page_type != PageType::DICTIONARY_PAGE)
                .all(|s| data_pages(s.encoding)),
            (None, None) => false,
        }
}

/// Reads the file's offset index out of `suffix` (its last bytes, `footer`
/// among them) into [`StringPages`] for each row group's string leaves, and
/// gives `metadata` back without the index (an input holds its metadata
/// for the whole run). No pages when the suffix does not hold the whole
/// index (a file with a footer and index too large for one get; the
/// estimate then takes averages), or when the file has none.
fn with_string_pages(
    metadata: ParquetMetaData,
    footer: &[u8],
    suffix: &[u8],
    file_size: u64,
    page_bytes: u64,
) -> Result<(ParquetMetaData, Vec<Vec<Option<StringPages>>>)> {
    let from = file_size - suffix.len() as u64;
    let range = (metadata.row_groups().iter())
        .flat_map(|g| g.columns())
        .filter_map(|c| {
            let start = u64::try_from(c.offset_index_offset()?).ok()?;
            Some(start..start.checked_add(u64::try_from(c.offset_index_length()?).ok()?)?)
        })
        .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end));
    let Some(range) = range.filter(|r| r.start >= from && r.end <= file_size) else {
        return Ok((metadata, Vec::new()));
    };
    let (lo, hi) = ((range.start - from) as usize, (range.end - from) as usize);
    let bytes = Bytes::copy_from_slice(&suffix[lo..hi]);
    let mut decoder = ParquetMetaDataPushDecoder::try_new_with_metadata(file_size, metadata)?
        .with_offset_index_policy(PageIndexPolicy::Optional)
        .with_column_index_policy(PageIndexPolicy::Skip);
    let decoded = decoder
        .push_range(range, bytes)
        .and_then(|()| decoder.try_decode());
    let Ok(DecodeResult::Data(metadata)) = decoded else {
        // An index that does not decode: the file is read without it.
        return Ok((decode_metadata(footer)?.0, Vec::new()));
    };
    let index = metadata.offset_index().map_or(&[][..], |i| &i[..]);
    let mut pages = Vec::with_capacity(metadata.num_row_groups());
    for (g, columns) in metadata.row_groups().iter().zip(index) {
        let rows = u64::try_from(g.num_rows()).unwrap_or(0);
        let leaves = (g.columns().iter().zip(columns)).map(|(c, oi)| {
            if c.column_type() != PhysicalType::BYTE_ARRAY {
                return None;
            }
            let sizes = oi.unencoded_byte_array_data_bytes()?;
            let locations = oi.page_locations();
            if sizes.len() != locations.len() {
                return None;
            }
            let at: Vec<(u64, u64)> = (locations.iter().zip(sizes))
                .map(|(l, &b)| {
                    let first = u64::try_from(l.first_row_index).unwrap_or(0);
                    (first, u64::try_from(b).unwrap_or(0))
                })
                .collect();
            // A chunk with a dictionary may hold ids in its pages, and a page
            // of ids is cut by the ids' bytes, not its strings': its strings
            // are shared by rows, not one value past the cap. Its plain
            // pages, once the dictionary was given up, come last: from the
            // first page too large to be ids (compressed, over twice the
            // page cap: a value of a few megabytes, which Snappy shrinks
            // 21-fold at most), the pages are taken as plain. Only in the
            // leaves of this crate's string writer (top-level strings and
            // maps: repetition level 1 at most), whose plain page closes
            // after the value that passes the cap; the parquet crate's writer
            // (leaves inside lists) closes one after up to 1,024 values.
            let all_ids = only_dictionary_pages(c);
            let ours = c.column_descr().max_rep_level() <= 1;
            let plain_from = match c.dictionary_page_offset() {
                None => 0,
                Some(_) if all_ids || !ours => at.len(),
                Some(_) => (locations.iter())
                    .position(|l| l.compressed_page_size as u64 > page_bytes.saturating_mul(2))
                    .unwrap_or(at.len()),
            };
            let largest = at[plain_from..].iter().map(|&(_, b)| b).max().unwrap_or(0);
            Some(StringPages {
                largest_plain_page: largest,
                widest_batch: BATCH_ROWS
                    .map(|batch| widest_batch(&at, rows, batch, page_bytes, plain_from)),
                all_ids,
            })
        });
        pages.push(leaves.collect());
    }
    Ok((
        metadata.into_builder().set_offset_index(None).build(),
        pages,
    ))
}

/// `footer`'s Parquet metadata, with a schema decoded before when the
/// footer begins as one did ([`SCHEMAS`]), and whether it did.
fn decode_metadata(footer: &[u8]) -> Result<(ParquetMetaData, bool)> {
    let known = {
        let mut kept = SCHEMAS.lock().unwrap_or_else(PoisonError::into_inner);
        let at = kept.iter().position(|(head, _)| footer.starts_with(head));
        at.map(|i| {
            let entry = kept.remove(i);
            let descr = Arc::clone(&entry.1);
            kept.push(entry);
            descr
        })
    };
    match known {
        Some(descr) => {
            let options = ParquetMetaDataOptions::new().with_schema(descr);
            let metadata =
                ParquetMetaDataReader::decode_metadata_with_options(footer, Some(&options))?;
            Ok((metadata, true))
        }
        None => Ok((ParquetMetaDataReader::decode_metadata(footer)?, false)),
    }
}

/// Keeps the schema of `metadata`, decoded from `footer`, one of this
/// crate's, for the footers that begin as it does ([`SCHEMAS`]).
fn keep_schema(footer: &[u8], metadata: &ParquetMetaData) {
    let Some(head) = schema_end(footer)
        .filter(|&end| end <= KEPT_SCHEMA_BYTES)
        .map(|end| &footer[..end])
    else {
        return;
    };
    let mut kept = SCHEMAS.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.iter().any(|(h, _)| **h == *head) {
        return;
    }
    if kept.len() >= SCHEMAS_KEPT {
        kept.remove(0);
    }
    kept.push((head.into(), metadata.file_metadata().schema_descr_ptr()));
}

/// What [`Footer::parse`] made of a file's suffix.
#[derive(Debug)]
pub enum FooterOrNeed {
    /// The suffix held the whole footer.
    Footer(Box<Footer>),
    /// The footer is longer than the suffix: get this many bytes from the
    /// end of the file (at most the file's size) and parse again.
    Need(u64),
}

/// What reading one input holds ([`Footer::read_memory`]), in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadMemory {
    /// Held while the input is open in a merge.
    pub held: u64,
    /// At most, while one of its row groups is being decoded (one input at
    /// a time decodes).
    pub peak: u64,
}

impl ReadMemory {
    /// Two inputs' memory together: what each holds, and the larger decode
    /// (one decodes at a time).
    pub fn with(self, other: ReadMemory) -> ReadMemory {
        ReadMemory {
            held: self.held.saturating_add(other.held),
            peak: self.peak.max(other.peak),
        }
    }

    /// The most it comes to at once: all it holds plus the decode under way.
    pub fn total(self) -> u64 {
        self.held.saturating_add(self.peak)
    }
}

/// Where one row group lies in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowGroupRange {
    /// Offset in the file of its first column chunk.
    pub start: u64,
    /// Bytes from `start` to the end of its last column chunk.
    pub len: u64,
    /// Rows in the row group.
    pub rows: u64,
}

/// A decoded footer of a file this crate wrote: its table, schema version,
/// Arrow schema and where each row group lies.
#[derive(Debug, Clone)]
pub struct Footer {
    /// The file's Parquet metadata.
    metadata: Arc<ParquetMetaData>,
    /// `metadata` set up to decode to `decoded`. For a file whose schema
    /// was recognised ([`Footer::parse`]) it is made when first needed: a
    /// merge sets its inputs to decode another schema anyway, and a footer
    /// read only for its rows never decodes.
    arrow: OnceLock<ArrowReaderMetadata>,
    /// The file's Arrow schema without its key-value metadata.
    schema: SchemaRef,
    /// What its row groups decode to: `schema`, unless
    /// [`Footer::decode_as`] said otherwise.
    decoded: SchemaRef,
    table: Table,
    schema_version: String,
    /// Its cap on a data page's bytes ([`PAGE_BYTES_KEY`], or
    /// [`UNSAID_PAGE_BYTES`]).
    page_bytes: u64,
    groups: Vec<RowGroupRange>,
    /// What its offset index says of each row group's string leaves'
    /// pages ([`StringPages`], by leaf; `None` where it says nothing), when
    /// the bytes its footer was read from hold that index.
    pages: Vec<Vec<Option<StringPages>>>,
    /// The most string bytes a batch of each of [`BATCH_ROWS`] rows holds
    /// in any of its row groups, from `pages`, leaves held in dictionary
    /// ids throughout left out: what [`Footer::batch_rows`] goes by.
    widest_strings: [u64; BATCH_SIZES],
}

/// The widest pages and batches of one string leaf in one row group, from
/// the unencoded bytes of each page in the file's offset index: what lets
/// [`Footer::read_memory`] see rows whose values are much larger than the
/// rest's (a service's large bodies, sorted together; one value of
/// megabytes, which gets a page of its own), where the row group's average
/// would not, and [`Footer::batch_rows`] read such a file in smaller
/// batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StringPages {
    /// The unencoded bytes of its largest page of strings (plain or
    /// `DELTA_LENGTH_BYTE_ARRAY`: every page of a chunk without a
    /// dictionary, the pages after a dictionary given up; 0 where every
    /// page may hold ids: small whatever their strings).
    pub largest_plain_page: u64,
    /// The most string bytes a batch of each of [`BATCH_ROWS`] rows, taken
    /// from the row group's start, can hold ([`widest_batch`]; a page's
    /// bytes past the page cap count whole only in a page of strings).
    pub widest_batch: [u64; BATCH_SIZES],
    /// Every data page of the chunk holds dictionary ids: a merge of such
    /// inputs keeps the leaf as a dictionary, whose batches hold keys, not
    /// these strings ([`Footer::batch_rows`] leaves it out).
    pub all_ids: bool,
}

/// The batch sizes [`StringPages`] knows, smallest first: the merge's two
/// (`TIGHT_INPUT_ROWS` and `INPUT_ROWS` of `run`), and the smaller ones a
/// file of wide rows is read in ([`Footer::batch_rows`]), down to one row.
pub const BATCH_ROWS: [u64; BATCH_SIZES] = [1, 16, 64, 256, 1024];

/// How many batch sizes [`BATCH_ROWS`] lists.
pub const BATCH_SIZES: usize = 5;

/// The most string bytes [`Footer::batch_rows`] lets a file's batch hold
/// (its widest, by the offset index), down to batches of 16 rows: a
/// batch of 1,024 rows of 10 KiB bodies held 10 MiB, times the reader's
/// and the merge's copies, for each input at once.
pub const BATCH_STRING_BYTES: u64 = 1 << 20;

impl StringPages {
    /// The most string bytes a batch of `batch` rows can hold (`widest_of`).
    pub fn widest(&self, batch: u64) -> u64 {
        widest_of(&self.widest_batch, batch)
    }
}

/// The most bytes a batch of `batch` rows can hold, from `widest`, the
/// most that one of each of [`BATCH_ROWS`] can: exact for the sizes it
/// knows; for another, the batches of the largest known size below it that
/// it overlaps (one more when it is not a multiple: it need not start
/// where one does).
fn widest_of(widest: &[u64; BATCH_SIZES], batch: u64) -> u64 {
    if let Some(i) = BATCH_ROWS.iter().position(|&b| b == batch) {
        return widest[i];
    }
    let i = BATCH_ROWS.iter().rposition(|&b| b <= batch).unwrap_or(0);
    let known = BATCH_ROWS[i];
    let spans = batch.div_ceil(known) + u64::from(!batch.is_multiple_of(known));
    widest[i].saturating_mul(spans.max(1))
}

/// The most string bytes a batch of `batch` rows can hold, batches taken
/// from row 0 of a row group of `rows` rows whose pages begin at the rows
/// and hold the string bytes of `pages` (`(first row, bytes)`, in order),
/// each page cut once it reached `page_bytes` (those from `plain_from`
/// on: the others hold dictionary ids). A page the batch holds in part
/// counts its share of the bytes by rows, or all of them when they pass
/// `page_bytes` in a plain page: such a page holds one value past the cap
/// (a value larger than a page gets one of its own, its other rows
/// empty), which may be in the batch. The batches within one page hold
/// the same share: only the first and last of them are looked at, so a
/// row group's rows (its footer's word) do not set how long this takes.
pub fn widest_batch(
    pages: &[(u64, u64)],
    rows: u64,
    batch: u64,
    page_bytes: u64,
    plain_from: usize,
) -> u64 {
    let batch = batch.max(1);
    let mut widest = 0u64;
    let mut start = 0u64;
    let mut first = 0usize; // the first page that may reach this batch
    while start < rows {
        let end = start.saturating_add(batch).min(rows);
        let mut bytes = 0u64;
        let mut i = first;
        // The end of the one page that holds the whole batch, if one does.
        let mut within = None;
        while let Some(&(from, size)) = pages.get(i) {
            if from >= end {
                break;
            }
            let to = pages.get(i + 1).map_or(rows, |&(next, _)| next).max(from);
            if to <= start {
                first = i + 1;
                i += 1;
                continue;
            }
            let (lo, hi) = (from.max(start), to.min(end));
            if (lo == from && hi == to) || (size > page_bytes && i >= plain_from) {
                bytes = bytes.saturating_add(size);
            } else {
                let share = size.saturating_mul(hi - lo) / (to - from).max(1);
                bytes = bytes.saturating_add(share);
            }
            if from <= start && end <= to {
                within = Some(to);
            }
            i += 1;
        }
        widest = widest.max(bytes);
        // Past the batches that hold the same share of this page, to the
        // last one inside it.
        start = match within {
            Some(to) if to - end >= 2 * batch => end + ((to - end) / batch - 1) * batch,
            _ => end,
        };
    }
    widest
}

/// A parquet error for a bad input file.
fn bad(what: String) -> Error {
    Error::Parquet(ParquetError::General(what))
}

impl Footer {
    /// Decodes the footer from `suffix`, the last `suffix.len()` bytes of a
    /// file of `file_size` bytes; or says how many bytes from the end it
    /// needs when `suffix` is shorter than the footer (fewer than
    /// [`FOOTER_TAIL_BYTES`] included).
    ///
    /// Errors ([`Error::Parquet`]) when the file is not Parquet, when its
    /// footer is over [`MAX_FOOTER_BYTES`], when its footer lacks this
    /// crate's keys or names an unknown table, or when a column chunk lies
    /// outside the file's data.
    pub fn parse(suffix: &[u8], file_size: u64) -> Result<FooterOrNeed> {
        let min = MAGIC.len() as u64 + FOOTER_TAIL_BYTES;
        if file_size < min {
            return Err(bad(format!("not Parquet: a file of {file_size} bytes")));
        }
        if suffix.len() as u64 > file_size {
            return Err(bad(format!(
                "a suffix of {} bytes of a {file_size}-byte file",
                suffix.len()
            )));
        }
        let Some(tail) = suffix.len().checked_sub(FOOTER_TAIL_BYTES as usize) else {
            return Ok(FooterOrNeed::Need(FOOTER_TAIL_BYTES));
        };
        let (len, magic) = suffix[tail..].split_at(4);
        if magic != MAGIC {
            return Err(bad("not Parquet: no PAR1 at the end".to_string()));
        }
        let len = u64::from(u32::from_le_bytes([len[0], len[1], len[2], len[3]]));
        let need = len + FOOTER_TAIL_BYTES;
        if need > MAX_FOOTER_BYTES {
            return Err(bad(format!(
                "a Parquet footer of {len} bytes, over the {MAX_FOOTER_BYTES}-byte limit"
            )));
        }
        if need + MAGIC.len() as u64 > file_size {
            return Err(bad(format!(
                "corrupt Parquet: a footer of {len} bytes in a {file_size}-byte file"
            )));
        }
        if (suffix.len() as u64) < need {
            return Ok(FooterOrNeed::Need(need));
        }
        let footer = &suffix[tail - len as usize..tail];
        let (metadata, known) = decode_metadata(footer)?;
        // Column chunks must lie between the leading magic and the footer:
        // the parquet crate's reader asserts their offsets are not negative.
        let data_end = file_size - need;
        let mut groups = Vec::with_capacity(metadata.num_row_groups());
        for (i, group) in metadata.row_groups().iter().enumerate() {
            let mut range: Option<(u64, u64)> = None;
            for column in group.columns() {
                let start = column
                    .dictionary_page_offset()
                    .unwrap_or(column.data_page_offset());
                let size = column.compressed_size();
                let (Ok(start), Ok(size)) = (u64::try_from(start), u64::try_from(size)) else {
                    return Err(bad(format!(
                        "corrupt Parquet: row group {i} has a negative offset"
                    )));
                };
                let end = start.checked_add(size).filter(|&e| e <= data_end);
                let Some(end) = end.filter(|_| start >= MAGIC.len() as u64) else {
                    return Err(bad(format!(
                        "corrupt Parquet: row group {i} lies outside the file's data"
                    )));
                };
                range = Some(range.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
            }
            let (start, end) = range.unwrap_or((MAGIC.len() as u64, MAGIC.len() as u64));
            let rows = u64::try_from(group.num_rows())
                .map_err(|_| bad(format!("corrupt Parquet: row group {i} has negative rows")))?;
            groups.push(RowGroupRange {
                start,
                len: end - start,
                rows,
            });
        }
        let keys = metadata.file_metadata().key_value_metadata();
        let value = |key: &str| {
            keys.into_iter()
                .flatten()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.as_deref())
        };
        let (Some(schema_version), Some(name)) = (value(SCHEMA_VERSION_KEY), value(TABLE_KEY))
        else {
            return Err(bad(format!(
                "not an otlp2r2 file: no {SCHEMA_VERSION_KEY} and {TABLE_KEY} in its footer"
            )));
        };
        let Some(table) = Table::ALL.into_iter().find(|t| t.name() == name) else {
            return Err(bad(format!("not an otlp2r2 file: unknown table {name:?}")));
        };
        if !known {
            keep_schema(footer, &metadata);
        }
        let schema_version = schema_version.to_string();
        let page_bytes = value(PAGE_BYTES_KEY)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&b| b > 0)
            .unwrap_or(UNSAID_PAGE_BYTES);
        let known = value(ARROW_SCHEMA_META_KEY).and_then(|e| written_schema(table, e));
        let (metadata, pages) = with_string_pages(metadata, footer, suffix, file_size, page_bytes)?;
        // The widest batch of the file's strings, leaves held in dictionary
        // ids throughout left out (a merge keeps them as dictionaries).
        let widest_strings = BATCH_ROWS.map(|batch| {
            (pages.iter())
                .map(|g| g.iter().flatten().filter(|p| !p.all_ids))
                .map(|leaves| leaves.map(|p| p.widest(batch)).sum::<u64>())
                .max()
                .unwrap_or(0)
        });
        let metadata = Arc::new(metadata);
        // A file whose `ARROW:schema` is what this build writes has that
        // schema, without decoding it again (base64, then an IPC message
        // verified field by field, then the Arrow fields mapped onto the
        // Parquet leaves: a third of a small input's set-up); whether its
        // columns fit it is checked when it is first decoded. Any other
        // file is read with the schema it carries.
        let (arrow, schema) = match known {
            Some(schema) => (OnceLock::new(), schema),
            None => {
                let options = ArrowReaderOptions::new();
                let arrow = ArrowReaderMetadata::try_new(Arc::clone(&metadata), options)?;
                let schema = Arc::new(Schema::new(arrow.schema().fields().clone()));
                (OnceLock::from(arrow), schema)
            }
        };
        Ok(FooterOrNeed::Footer(Box::new(Footer {
            metadata,
            arrow,
            decoded: Arc::clone(&schema),
            schema,
            table,
            schema_version,
            page_bytes,
            groups,
            pages,
            widest_strings,
        })))
    }

    /// The file's table (`otlp2r2.table`).
    pub fn table(&self) -> Table {
        self.table
    }

    /// The file's schema version (`otlp2r2.schema_version`).
    pub fn schema_version(&self) -> &str {
        &self.schema_version
    }

    /// The file's Arrow schema, without key-value metadata: equal to
    /// `table.schema(unit)` for a file this crate wrote with that unit and
    /// the current schema version.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The schema of the batches of [`Footer::decode_row_group`]:
    /// [`Footer::schema`], or what [`Footer::decode_as`] set.
    pub fn decoded_schema(&self) -> &SchemaRef {
        &self.decoded
    }

    /// Decodes the row groups to `schema` from now on: the file's schema
    /// with some string leaves as dictionaries ([`decoded_schema`]). An
    /// error when `schema` does not fit the file.
    pub fn decode_as(&mut self, schema: SchemaRef) -> Result<()> {
        self.arrow = OnceLock::from(self.reader_metadata(&schema)?);
        self.decoded = schema;
        Ok(())
    }

    /// The metadata set to decode to `decoded`, made the first time.
    fn arrow(&self) -> Result<&ArrowReaderMetadata> {
        if let Some(arrow) = self.arrow.get() {
            return Ok(arrow);
        }
        let arrow = self.reader_metadata(&self.decoded)?;
        Ok(self.arrow.get_or_init(|| arrow))
    }

    /// The file's metadata set up to decode to `schema`; an error when
    /// `schema` does not fit the file.
    fn reader_metadata(&self, schema: &SchemaRef) -> Result<ArrowReaderMetadata> {
        let options = ArrowReaderOptions::new().with_schema(Arc::clone(schema));
        Ok(ArrowReaderMetadata::try_new(
            Arc::clone(&self.metadata),
            options,
        )?)
    }

    /// Whether every row group's chunk of the leaf at `path` is
    /// dictionary-encoded in all its data pages (from the chunks' page
    /// encoding statistics; `false` without them or for an unknown path).
    pub fn all_dictionary(&self, path: &[String]) -> bool {
        let columns = self.metadata.file_metadata().schema_descr().columns();
        columns
            .iter()
            .position(|c| c.path().parts() == path)
            .is_some_and(|leaf| self.leaf_all_dictionary(leaf))
    }

    /// [`Footer::all_dictionary`] for the leaf column at `leaf` (its index
    /// in the file's Parquet schema; `false` past the last).
    pub fn leaf_all_dictionary(&self, leaf: usize) -> bool {
        let metadata = &self.metadata;
        if leaf >= metadata.file_metadata().schema_descr().num_columns() {
            return false;
        }
        (metadata.row_groups().iter()).all(|g| only_dictionary_pages(g.column(leaf)))
    }

    /// The leaf columns (indices in the file's Parquet schema, as
    /// [`Footer::read_memory`] takes them) that are dictionaries in
    /// `decoded`, a [`decoded_schema`] of the file's schema. With no
    /// footers given, that names every leaf a merge may keep as a
    /// dictionary; a run keeps those that each of its inputs holds as
    /// dictionaries throughout ([`Footer::leaf_all_dictionary`]).
    pub fn dictionary_leaves(&self, decoded: &Schema) -> Vec<usize> {
        let columns = self.metadata.file_metadata().schema_descr().columns();
        let is_dictionary = |parts: &[String]| {
            let Some((first, rest)) = parts.split_first() else {
                return false;
            };
            let Ok(mut field) = decoded.field_with_name(first) else {
                return false;
            };
            for part in rest {
                let child = match field.data_type() {
                    DataType::Map(entries, _) => (entries.name() == part).then_some(entries),
                    DataType::Struct(children) => children.find(part).map(|(_, c)| c),
                    _ => None,
                };
                let Some(child) = child else {
                    return false;
                };
                field = child;
            }
            matches!(field.data_type(), DataType::Dictionary(..))
        };
        (0..columns.len())
            .filter(|&i| is_dictionary(columns[i].path().parts()))
            .collect()
    }

    /// The leaves a merge of this file alone decodes as dictionaries:
    /// [`Footer::dictionary_leaves`] of its [`decoded_schema`]. A merge of
    /// several keeps those that all its inputs have here.
    pub fn kept_leaves(&self) -> Vec<usize> {
        self.dictionary_leaves(&decoded_schema(self.table, &self.schema, &[self]))
    }

    /// The unit of the file's timestamp columns (that of its first one;
    /// every table has one).
    pub fn time_unit(&self) -> Option<TimeUnit> {
        self.schema
            .fields()
            .iter()
            .find_map(|f| match f.data_type() {
                DataType::Timestamp(unit, _) => Some(*unit),
                _ => None,
            })
    }

    /// Rows in the file (the sum over its row groups).
    pub fn rows(&self) -> u64 {
        self.groups.iter().map(|g| g.rows).sum()
    }

    /// Row groups in the file.
    pub fn row_groups(&self) -> usize {
        self.groups.len()
    }

    /// Where row group `index` lies (`None` past the last one).
    pub fn row_group(&self, index: usize) -> Option<RowGroupRange> {
        self.groups.get(index).copied()
    }

    /// An estimate of the memory that reading the file one batch of
    /// `batch_rows` rows at a time holds, for the compactor's bound on how
    /// many inputs it opens at once. Per row group, from its column chunks'
    /// metadata, fitted to dhat (`make bench-compact-dhat`'s `--dhat-read`
    /// on request files and compacted files of every table):
    /// - a reader costs [`READER_BYTES_PER_COLUMN`] per leaf column (its
    ///   decoders and codecs);
    /// - it holds the row group's compressed bytes (fetched whole);
    /// - and each column's current data page, decompressed: about the
    ///   chunk's uncompressed bytes over its pages (this crate ends a page at
    ///   [`DEFAULT_PAGE_ROWS`] rows or at the bytes its footer says,
    ///   [`PAGE_BYTES_KEY`]: 64 KiB in request files and intermediate
    ///   outputs, 256 KiB in compacted files that stay and in files
    ///   written before the key), times
    ///   [`PAGES_FACTOR`] (the dictionary page and the page being decoded
    ///   next to it), never more than the whole row group; where the
    ///   file's offset index ([`StringPages`]) has a string page larger
    ///   than that (one value past the page's cap gets a page of its own),
    ///   that page once more;
    /// - a decoded batch costs its share of the row group's decoded bytes:
    ///   strings at their size statistics (`unencoded_byte_array_data_bytes`,
    ///   [`DECODED_PER_PLAIN_BYTE`] times the chunk's bytes when a file lacks
    ///   them; where the offset index has them, the widest batch's, which
    ///   rows of larger values sorted together make more than a share)
    ///   plus an offset per value, fixed-width values at their width,
    ///   plus the reader's levels, times [`BATCH_PERCENT`] % (the reader's
    ///   buffers and the arrays built from them);
    /// - a string leaf decoded as a dictionary (its index in `dictionaries`,
    ///   see [`Footer::dictionary_leaves`]) costs a key per value, and its
    ///   dictionary once, whatever the batch's share: at most the chunk's
    ///   uncompressed bytes, which hold it, and at most all its strings
    ///   with an offset each. Its values are not copied out row by row: for
    ///   a request's file, whose attributes repeat row after row, this is a
    ///   fraction of its strings' size.
    ///
    /// A row group that fits in one batch has its reader dropped once
    /// decoded, so only its batch is held. Every input also holds
    /// [`Footer::footer_memory`] throughout.
    pub fn read_memory(&self, batch_rows: usize, dictionaries: &[usize]) -> ReadMemory {
        let meta = &self.metadata;
        let fixed = self.reader_memory();
        let footer = self.footer_memory();
        let mut out = ReadMemory::default();
        for (i, g) in self.groups.iter().enumerate() {
            let Some(group) = meta.row_groups().get(i) else {
                continue;
            };
            let rows = g.rows.max(1);
            let batch_rows = batch_rows as u64;
            let share = |bytes: u64| bytes.saturating_mul(batch_rows.min(rows)) / rows;
            let (mut plain, mut pages, mut decoded, mut kept) = (0u64, 0u64, 0u64, 0u64);
            // Pages past their share, and string batches past the average,
            // where the offset index says so.
            let (mut large_pages, mut wide) = (0u64, 0u64);
            for (leaf, c) in group.columns().iter().enumerate() {
                let bytes = u64::try_from(c.uncompressed_size()).unwrap_or(0);
                let values = u64::try_from(c.num_values()).unwrap_or(0);
                let known = self
                    .pages
                    .get(i)
                    .and_then(|g| g.get(leaf))
                    .copied()
                    .flatten();
                plain = plain.saturating_add(bytes);
                let by_rows = bytes.saturating_mul(DEFAULT_PAGE_ROWS as u64) / rows;
                let page = bytes.min(by_rows).min(self.page_bytes);
                pages = pages.saturating_add(page);
                if let Some(p) = known {
                    let largest = p.largest_plain_page.min(bytes);
                    large_pages = large_pages.saturating_add(largest.saturating_sub(page));
                }
                let width = match c.column_type() {
                    PhysicalType::BYTE_ARRAY => {
                        let strings = c.unencoded_byte_array_data_bytes().map_or_else(
                            || bytes.saturating_mul(DECODED_PER_PLAIN_BYTE),
                            |b| u64::try_from(b).unwrap_or(0),
                        );
                        if dictionaries.contains(&leaf) {
                            // Its distinct values: within the chunk, and no
                            // more than all its values with their offsets.
                            let offsets = values.saturating_add(1).saturating_mul(4);
                            kept = kept.saturating_add(bytes.min(strings.saturating_add(offsets)));
                        } else {
                            decoded = decoded.saturating_add(strings);
                            if let Some(p) = known {
                                let widest = p.widest(batch_rows).min(strings);
                                wide = wide.saturating_add(widest.saturating_sub(share(strings)));
                            }
                        }
                        4
                    }
                    PhysicalType::BOOLEAN => 1,
                    PhysicalType::INT32 | PhysicalType::FLOAT => 4,
                    PhysicalType::INT96 => 12,
                    PhysicalType::FIXED_LEN_BYTE_ARRAY => {
                        u64::try_from(c.column_descr().type_length()).unwrap_or(0)
                    }
                    PhysicalType::INT64 | PhysicalType::DOUBLE => 8,
                };
                // The reader's levels: two bytes per value for each kind.
                let descr = c.column_descr();
                let levels = 2
                    * (u64::from(descr.max_def_level() > 0) + u64::from(descr.max_rep_level() > 0));
                decoded = decoded.saturating_add(values.saturating_mul(width + levels));
            }
            let pages = (pages.saturating_mul(PAGES_FACTOR))
                .saturating_add(large_pages)
                .min(plain);
            let batch = (share(decoded).saturating_add(wide))
                .saturating_add(kept)
                .saturating_mul(BATCH_PERCENT)
                / 100;
            let reader = fixed.saturating_add(g.len).saturating_add(pages);
            let held = if rows <= batch_rows {
                batch
            } else {
                reader.saturating_add(batch)
            };
            out.held = out.held.max(held);
            out.peak = out.peak.max(reader.saturating_add(batch));
        }
        out.held = out.held.saturating_add(footer);
        out
    }

    /// How many rows a batch of this file should hold, `rows` at most:
    /// fewer (down to 16) while its widest batch's strings, by the offset
    /// index, pass [`BATCH_STRING_BYTES`] (those of leaves held in
    /// dictionary ids throughout left out: a merge keeps them as
    /// dictionaries). `rows` for a file without an index, or of narrow
    /// rows. When even 16 rows pass the cap, the most rows that hold no
    /// more than 16 rows and the cap again: a batch of one large value
    /// among narrow rows (a request's 8 MB attribute) takes more of them,
    /// all of its row group when that has no more rows than the batch;
    /// the row group's reader (its compressed bytes and the value's page,
    /// two more copies of the value) then goes as soon as the batch is
    /// decoded, not when 16-row batches reach the row group's end.
    ///
    /// One row when a row alone may hold over [`BATCH_STRING_BYTES`] and a
    /// batch of 16 more than its widest row plus that cap: rows of over a
    /// megabyte next to each other (one service's requests of an 8 MB
    /// value, merged). The merge then takes every input a row at a time
    /// for the run (its output batches are its inputs' narrowest), so its
    /// output's row groups close by their byte cap after such a row, not
    /// after 16 of them: runs over row groups of eight 8 MB rows took 408
    /// MiB of wasm memory. A file with one large value among narrow rows,
    /// or of rows of up to a megabyte, keeps batches of 16 or more.
    pub fn batch_rows(&self, rows: usize) -> usize {
        let widest = |batch: u64| widest_of(&self.widest_strings, batch);
        let rows = rows as u64;
        let smaller = (BATCH_ROWS.iter().rev().copied()).filter(|&b| b < rows && b > 1);
        let sizes = || std::iter::once(rows).chain(smaller.clone());
        let smallest = sizes().last().unwrap_or(rows);
        let limit = match widest(smallest) {
            w if w <= BATCH_STRING_BYTES => BATCH_STRING_BYTES,
            w => w.saturating_add(BATCH_STRING_BYTES),
        };
        let mut chosen = sizes().find(|&b| widest(b) <= limit).unwrap_or(smallest);
        // (A batch within the cap is never over a row plus the cap.)
        let row = widest(1);
        if row > BATCH_STRING_BYTES && widest(chosen) > row.saturating_add(BATCH_STRING_BYTES) {
            chosen = 1;
        }
        usize::try_from(chosen).unwrap_or(usize::MAX).max(1)
    }

    /// What an open row group's reader holds besides its bytes, pages and
    /// batch, whatever its rows: [`READER_BYTES_PER_COLUMN`] per leaf
    /// column. [`Footer::read_memory`] counts it for every row group of
    /// more rows than a batch.
    pub fn reader_memory(&self) -> u64 {
        let columns = self.metadata.file_metadata().schema_descr().num_columns() as u64;
        columns.saturating_mul(READER_BYTES_PER_COLUMN)
    }

    /// What the input holds from its footer's read to the end of its run,
    /// whatever its rows: [`FOOTER_BYTES_PER_COLUMN`] per leaf column. For
    /// a file of a few rows this is most of it: 1,000 one-row inputs held
    /// 32 MiB of wasm memory for logs and 60 MiB for exponential
    /// histograms, where the estimate without it (their bytes, more than
    /// their batches) said 7 and 10.
    pub fn footer_memory(&self) -> u64 {
        let columns = self.metadata.file_metadata().schema_descr().num_columns() as u64;
        columns.saturating_mul(FOOTER_BYTES_PER_COLUMN)
    }

    /// The parquet crate's decoded metadata (no page indexes).
    pub fn metadata(&self) -> &ParquetMetaData {
        &self.metadata
    }

    /// Decodes row group `index` from `bytes`, the bytes of its range
    /// ([`Footer::row_group`]; a larger range that holds it also works when
    /// `start` says where `bytes` begins in the file). Returns the row
    /// group's batches, of at most `batch_rows` rows each (0 is taken as
    /// 1), decoded one at a time as the iterator is advanced: the row
    /// group's compressed bytes plus one page and one batch of each column
    /// are in memory. Pages that hold more or fewer rows than the footer
    /// says the row group has are [`Error::UnreadableInput`]: the footer's
    /// count is what the merge checks its outputs against.
    pub fn decode_row_group(
        &self,
        index: usize,
        start: u64,
        bytes: Bytes,
        batch_rows: usize,
    ) -> Result<RowGroupBatches> {
        let Some(range) = self.row_group(index) else {
            return Err(bad(format!(
                "row group {index} of a file of {}",
                self.groups.len()
            )));
        };
        let end = start + bytes.len() as u64;
        if range.start < start || range.start + range.len > end {
            return Err(bad(format!(
                "row group {index} lies at {}..{}, not in the {start}..{end} given",
                range.start,
                range.start + range.len
            )));
        }
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            RangeReader { start, bytes },
            self.arrow()?.clone(),
        )
        .with_row_groups(vec![index])
        .with_batch_size(batch_rows.max(1))
        .build()?;
        Ok(RowGroupBatches {
            reader,
            schema: Arc::clone(&self.decoded),
            index,
            rows_left: range.rows,
        })
    }
}

/// What the inputs of one merge, `footers` of `table` files with
/// `schema`, are decoded to: the same columns, but each string leaf that
/// is dictionary-encoded in every page of every input (the attribute maps'
/// keys and values, names, enums: see `write::dictionary_pays`) stays a
/// dictionary, `Dictionary(Int32, Utf8)`, as it is in the files. The merge
/// then copies no string and the writer interns each input dictionary's
/// values once ([`crate::write::FileWriter::write_rows`]), where decoding
/// to `Utf8` copies every value out of its dictionary and interns it again
/// row by row.
///
/// A leaf whose chunk fell back to plain pages anywhere (high-cardinality
/// attribute values) stays `Utf8`: asked for a dictionary, the parquet
/// reader would build one by hashing every value of those pages. So do the
/// sort key's strings (the merge compares them row by row), the leaves
/// inside lists (written by the parquet crate) and nullable ones.
pub fn decoded_schema(table: Table, schema: &SchemaRef, footers: &[&Footer]) -> SchemaRef {
    let keyed = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let all_dictionary = |path: &[String]| footers.iter().all(|f| f.all_dictionary(path));
    let fields = schema.fields().iter().map(|f| {
        let sort = table.sort_columns().contains(&f.name().as_str());
        let data_type = match f.data_type() {
            DataType::Utf8 if !sort && by_strings(f) && all_dictionary(&[f.name().clone()]) => {
                keyed.clone()
            }
            DataType::Map(entries, sorted) if by_strings(f) => {
                let DataType::Struct(children) = entries.data_type() else {
                    return Arc::clone(f);
                };
                let path = |c: &Field| [f.name().clone(), entries.name().clone(), c.name().clone()];
                let children = children
                    .iter()
                    .map(|c| match all_dictionary(&path(c)) {
                        true => Arc::new(c.as_ref().clone().with_data_type(keyed.clone())),
                        false => Arc::clone(c),
                    })
                    .collect();
                let entries = entries
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Struct(children));
                DataType::Map(Arc::new(entries), *sorted)
            }
            _ => return Arc::clone(f),
        };
        Arc::new(f.as_ref().clone().with_data_type(data_type))
    });
    Arc::new(Schema::new_with_metadata(
        fields.collect::<Vec<_>>(),
        schema.metadata().clone(),
    ))
}

/// The batches of one row group, decoded as they are asked for: see
/// [`Footer::decode_row_group`]. Each has [`Footer::decoded_schema`].
pub struct RowGroupBatches {
    reader: ParquetRecordBatchReader,
    schema: SchemaRef,
    index: usize,
    /// Rows the footer says are still to come.
    rows_left: u64,
}

impl RowGroupBatches {
    /// True once the footer's rows are all out (the reader may be dropped).
    pub fn done(&self) -> bool {
        self.rows_left == 0
    }

    /// [`Error::UnreadableInput`] for this row group (its `key` left for
    /// the caller, which knows the file, to fill in); the merge stops at it.
    fn unreadable(&mut self, what: impl fmt::Display) -> Option<Result<RecordBatch>> {
        self.rows_left = 0;
        Some(Err(Error::UnreadableInput {
            key: String::new(),
            reason: format!("row group {}: {what}", self.index),
        }))
    }
}

impl Iterator for RowGroupBatches {
    type Item = Result<RecordBatch>;

    /// A batch the parquet crate cannot decode from the file's pages is
    /// [`Error::UnreadableInput`], and so are pages that end before the
    /// footer's row count or go on past it (the parquet crate reads a row
    /// group's pages to their end, whatever its footer says: a merge that
    /// took fewer rows than counted, or dropped those past the count, would
    /// lose them); any other failure is this crate's.
    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.reader.next() {
            Some(Ok(batch)) => batch,
            Some(Err(e)) => return self.unreadable(e),
            None if self.rows_left == 0 => return None,
            None => {
                let short = format!(
                    "its pages end {} rows short of its footer's",
                    self.rows_left
                );
                return self.unreadable(short);
            }
        };
        let rows = batch.num_rows() as u64;
        // The last of the footer's rows: nothing may follow them.
        let past = match self.rows_left.checked_sub(rows) {
            Some(0) => self.reader.next().is_some(),
            Some(_) => false,
            None => true,
        };
        if past {
            return self.unreadable("its pages hold more rows than its footer says");
        }
        self.rows_left -= rows;
        Some(
            trimmed(batch)
                .and_then(|b| b.with_schema(Arc::clone(&self.schema)))
                .map_err(|e| bad(format!("row group {}: {e}", self.index))),
        )
    }
}

/// Slack past which [`trimmed`] copies a string column's values into a
/// buffer of their size.
const SLACK_BYTES: usize = 1 << 20;

/// `batch`, each top-level string column whose values' buffer holds more
/// than [`SLACK_BYTES`] beyond its values copied into one of their size.
/// The parquet crate grows a batch's values as it reads page after page,
/// doubling: a value of megabytes followed by a few more leaves the buffer
/// twice its size for as long as the merge holds the batch.
fn trimmed(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let slack = |c: &ArrayRef| {
        c.as_string_opt::<i32>()
            .filter(|s| s.values().capacity() > s.values().len() + SLACK_BYTES)
            .cloned()
    };
    if !batch.columns().iter().any(|c| slack(c).is_some()) {
        return Ok(batch);
    }
    let (schema, mut columns, rows) = batch.into_parts();
    for c in &mut columns {
        if let Some(s) = slack(c) {
            let values = Buffer::from(s.values().as_slice().to_vec());
            let exact = StringArray::try_new(s.offsets().clone(), values, s.nulls().cloned())?;
            *c = Arc::new(exact);
        }
    }
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, columns, &options)
}

/// Bytes of a file from `start` on, read by the parquet crate at file
/// offsets.
struct RangeReader {
    start: u64,
    bytes: Bytes,
}

impl RangeReader {
    /// `length` bytes (`None`: all) from file offset `at`.
    fn slice(&self, at: u64, length: Option<usize>) -> parquet::errors::Result<Bytes> {
        let from = at
            .checked_sub(self.start)
            .and_then(|f| usize::try_from(f).ok())
            .filter(|&f| f <= self.bytes.len());
        let to = from.and_then(|f| match length {
            None => Some(self.bytes.len()),
            Some(n) => f.checked_add(n).filter(|&t| t <= self.bytes.len()),
        });
        match (from, to) {
            (Some(f), Some(t)) => Ok(self.bytes.slice(f..t)),
            _ => Err(ParquetError::General(format!(
                "read at {at} of {length:?} bytes outside the range {}..{} fetched",
                self.start,
                self.start + self.bytes.len() as u64
            ))),
        }
    }
}

impl Length for RangeReader {
    fn len(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

impl ChunkReader for RangeReader {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(self.slice(start, None)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, Some(length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::merge::tests::{batches, files, logs_file, read, Rng};
    use crate::pipeline::Signal;
    use crate::write::FileWriter;

    /// A string column whose values' buffer has megabytes of slack (a large
    /// value read, then more) is copied into a buffer of its size; the rows
    /// stay as they were, and a batch without slack is left as it is.
    #[test]
    fn batches_give_back_the_slack_of_their_strings() {
        let mut b = arrow_array::builder::StringBuilder::with_capacity(3, 3 << 20);
        for v in ["a", "bb", "ccc"] {
            b.append_value(v);
        }
        let wide: ArrayRef = Arc::new(b.finish());
        let small: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z"]));
        let batch = RecordBatch::try_from_iter([("w", wide), ("s", small)]).unwrap();
        let capacity =
            |b: &RecordBatch, c: usize| b.column(c).as_string::<i32>().values().capacity();
        assert!(capacity(&batch, 0) >= 3 << 20);
        let out = trimmed(batch.clone()).unwrap();
        assert!(capacity(&out, 0) < 1024, "{}", capacity(&out, 0));
        assert_eq!(out, batch);
        assert!(Arc::ptr_eq(out.column(1), batch.column(1)));
        let again = trimmed(out.clone()).unwrap();
        assert!(
            Arc::ptr_eq(again.column(0), out.column(0)),
            "nothing to give back"
        );
    }

    /// A request file's footer: its table, version, schema and rows, read
    /// from a suffix that first falls short.
    #[test]
    fn footer_of_a_request_file() {
        for signal in [Signal::Logs, Signal::Traces, Signal::Metrics] {
            for (table, data) in files(signal, &[20], 5) {
                let size = data.len() as u64;
                let tail = &data[data.len() - 4..];
                assert!(matches!(
                    Footer::parse(tail, size).unwrap(),
                    FooterOrNeed::Need(FOOTER_TAIL_BYTES)
                ));
                let FooterOrNeed::Need(n) = Footer::parse(&data[data.len() - 8..], size).unwrap()
                else {
                    panic!("a footer in 8 bytes")
                };
                let FooterOrNeed::Footer(f) =
                    Footer::parse(&data[(size - n) as usize..], size).unwrap()
                else {
                    panic!("{n} bytes were not enough")
                };
                assert_eq!(f.table(), table);
                assert_eq!(f.schema_version(), crate::schema::SCHEMA_VERSION);
                assert_eq!(f.schema(), &table.schema(TimeUnit::Nanosecond));
                assert_eq!(f.time_unit(), Some(TimeUnit::Nanosecond));
                assert_eq!(f.row_groups(), 1);
                let g = f.row_group(0).unwrap();
                assert_eq!(g.start, 4);
                assert_eq!(g.rows, f.rows());
                assert!(g.start + g.len < size - n);
                assert_eq!(f.row_group(1), None);
                // The whole file as the suffix works too.
                assert!(matches!(
                    Footer::parse(&data, size).unwrap(),
                    FooterOrNeed::Footer(_)
                ));
            }
        }
    }

    /// A footer whose `ARROW:schema` is one this build writes (every table,
    /// both units) is read with that schema, which is the one decoding its
    /// own gives; a file whose embedded schema differs keeps its own.
    #[test]
    fn written_schemas_are_recognised_and_others_keep_their_own() {
        let footer = |data: &[u8]| match Footer::parse(data, data.len() as u64).unwrap() {
            FooterOrNeed::Footer(f) => f,
            FooterOrNeed::Need(_) => panic!("the whole file holds its footer"),
        };
        let embedded = |f: &Footer| {
            let options = ArrowReaderOptions::new();
            let own = ArrowReaderMetadata::try_new(Arc::clone(&f.metadata), options).unwrap();
            Arc::new(Schema::new(own.schema().fields().clone()))
        };
        let encoded = |f: &Footer| {
            let kv = f.metadata().file_metadata().key_value_metadata().unwrap();
            let kv = kv
                .iter()
                .find(|kv| kv.key == ARROW_SCHEMA_META_KEY)
                .unwrap();
            kv.value.clone().unwrap()
        };
        for table in Table::ALL {
            for unit in WRITTEN_UNITS {
                let schema = table.schema(unit);
                let data = FileWriter::new(table, &schema).unwrap().finish().unwrap();
                let f = footer(&data);
                assert_eq!(
                    written_schema(table, &encoded(&f)),
                    Some(Arc::clone(&schema))
                );
                assert_eq!(f.schema(), &schema, "{table:?} {unit:?}");
                assert_eq!(f.schema(), &embedded(&f), "{table:?} {unit:?}");
                assert_eq!(f.time_unit(), Some(unit));
            }
        }
        // Field metadata changes the embedded schema: not recognised, so the
        // footer reads the file's own (and a merge keeps it apart).
        let table = Table::Logs;
        let plain = table.schema(TimeUnit::Nanosecond);
        let mut fields: Vec<Field> = plain.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[0].set_metadata([("origin".to_string(), "elsewhere".to_string())].into());
        let other = Arc::new(Schema::new(fields));
        let data = FileWriter::new(table, &other).unwrap().finish().unwrap();
        let f = footer(&data);
        assert_eq!(written_schema(table, &encoded(&f)), None);
        assert_eq!(f.schema(), &other);
        assert_ne!(f.schema(), &plain);
        // A table's encoding is not another's.
        let traces = footer(
            &FileWriter::new(Table::Traces, &Table::Traces.schema(TimeUnit::Nanosecond))
                .unwrap()
                .finish()
                .unwrap(),
        );
        assert_eq!(written_schema(Table::Logs, &encoded(&traces)), None);
    }

    /// A footer that begins as one decoded before, up to the end of its
    /// schema, shares that footer's schema, and its rows decode as
    /// written; other schemas are decoded. A footer whose fields are not
    /// laid out as `schema_end` expects is never kept.
    #[test]
    fn footers_share_a_schema_decoded_before() {
        let footer_bytes = |data: &[u8]| {
            let len = u32::from_le_bytes(data[data.len() - 8..data.len() - 4].try_into().unwrap());
            data[data.len() - 8 - len as usize..data.len() - 8].to_vec()
        };
        let descr = |f: &Footer| f.metadata().file_metadata().schema_descr_ptr();
        // Two logs files of other rows: their footers differ after the
        // schema (rows, row groups, statistics).
        let two = files(Signal::Logs, &[30, 70], 5);
        assert_ne!(footer_bytes(&two[0].1), footer_bytes(&two[1].1));
        let (first, _) = read(&two[0].1, 1024);
        let (second, decoded) = read(&two[1].1, 1024);
        assert!(Arc::ptr_eq(&descr(&first), &descr(&second)));
        // Its rows are the parquet crate's own reading of the file.
        let own = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(two[1].1.clone()))
            .unwrap()
            .build()
            .unwrap()
            .collect::<std::result::Result<Vec<_>, _>>()
            .unwrap();
        let concat =
            |b: &[RecordBatch]| arrow_select::concat::concat_batches(second.schema(), b).unwrap();
        assert_eq!(concat(&decoded), concat(&own));
        assert_eq!(concat(&decoded).num_rows(), 70);
        // Another table or unit begins otherwise and has its own schema.
        let bytes = footer_bytes(&two[0].1);
        let end = schema_end(&bytes).unwrap();
        for (table, unit) in [
            (Table::Traces, TimeUnit::Nanosecond),
            (Table::Logs, TimeUnit::Microsecond),
        ] {
            let data = FileWriter::new(table, &table.schema(unit))
                .unwrap()
                .finish()
                .unwrap();
            assert!(!footer_bytes(&data).starts_with(&bytes[..end]));
            let (other, _) = read(&data, 1024);
            assert!(!Arc::ptr_eq(&descr(&first), &descr(&other)));
            assert_ne!(*descr(&first), *descr(&other));
        }
        // The schema ends where field 3 (the rows, an i64) begins; field 2
        // (a list) began after field 1 (the version, an i32, 1).
        assert_eq!(bytes[..3], [0x15, 0x02, 0x19]);
        assert_eq!(bytes[end], 0x16);
        // Another layout (the schema first), or cut short: no end.
        let mut swapped = vec![0x29];
        swapped.extend_from_slice(&bytes[3..end]);
        assert_eq!(schema_end(&swapped), None);
        assert_eq!(schema_end(&bytes[..end]), None);
        assert_eq!(schema_end(&[]), None);
    }

    /// A file says its page cap in its footer, and the estimate takes a
    /// page per column at most that size: the same rows in 256 KiB pages
    /// are estimated higher than in 4 KiB ones. A file whose footer does
    /// not say it is taken to have 256 KiB pages.
    #[test]
    fn the_page_cap_comes_from_the_footer() {
        use crate::write::{WriteOptions, DEFAULT_PAGE_BYTES};
        let (table, data) = files(Signal::Logs, &[8192], 3).remove(0);
        let (f, decoded) = read(&data, 8192);
        assert_eq!(f.page_bytes, DEFAULT_PAGE_BYTES as u64);
        let schema = Arc::clone(f.schema());
        let write = |options: WriteOptions| {
            let mut w = FileWriter::with_options(table, &schema, options).unwrap();
            for b in &decoded {
                w.write(b).unwrap();
            }
            w.finish().unwrap()
        };
        let wide = WriteOptions {
            page_bytes: 256 << 10,
            ..WriteOptions::default()
        };
        let narrow = WriteOptions {
            page_bytes: 4 << 10,
            ..WriteOptions::default()
        };
        let (narrow_bytes, wide) = (write(narrow), write(wide));
        let (narrow, wide) = (read(&narrow_bytes, 8192).0, read(&wide, 8192).0);
        assert_eq!(narrow.page_bytes, 4 << 10);
        assert_eq!(wide.page_bytes, 256 << 10);
        let (n, w) = (narrow.read_memory(256, &[]), wide.read_memory(256, &[]));
        assert!(n.peak < w.peak, "{n:?} {w:?}");
        // Without the key (renamed in place, same length, so the footer
        // stays valid): what this crate wrote before it said so.
        let mut old = narrow_bytes;
        let at = (old.windows(PAGE_BYTES_KEY.len()))
            .position(|w| w == PAGE_BYTES_KEY.as_bytes())
            .unwrap();
        old[at + PAGE_BYTES_KEY.len() - 1] ^= 1;
        let old = read(&old, 8192).0;
        assert_eq!(old.page_bytes, UNSAID_PAGE_BYTES);
        assert!(old.read_memory(256, &[]).peak > n.peak);
    }

    /// The reader-memory estimate has its fixed parts per column (the
    /// footer's, held throughout; the reader's, while it is open), grows
    /// with the batch up to the row group's rows, and holds the compressed
    /// bytes.
    #[test]
    fn read_memory_grows_with_the_batch_and_the_file() {
        let (_, small) = files(Signal::Logs, &[10], 3).remove(0);
        let (_, large) = files(Signal::Logs, &[2000], 3).remove(0);
        let footer = |data: &[u8]| match Footer::parse(data, data.len() as u64).unwrap() {
            FooterOrNeed::Footer(f) => f,
            FooterOrNeed::Need(_) => panic!("the whole file holds its footer"),
        };
        let (small, large) = (footer(&small), footer(&large));
        let columns = small
            .metadata()
            .file_metadata()
            .schema_descr()
            .num_columns() as u64;
        let (s, l) = (small.read_memory(1024, &[]), large.read_memory(1024, &[]));
        // Every input holds its footer's share, whatever its rows.
        assert_eq!(small.footer_memory(), columns * FOOTER_BYTES_PER_COLUMN);
        let batch = s.held - small.footer_memory();
        // The small file fits in one batch: its reader is gone once decoded.
        assert!(batch < columns * READER_BYTES_PER_COLUMN && batch > 0);
        assert!(s.peak > columns * READER_BYTES_PER_COLUMN + batch);
        // The large one keeps its reader and compressed bytes open.
        assert!(l.held > columns * READER_BYTES_PER_COLUMN + large.row_group(0).unwrap().len);
        assert!(l.held < large.read_memory(2000, &[]).peak);
        assert_eq!(
            large.read_memory(2000, &[]),
            large.read_memory(100_000, &[])
        );
        assert!(s.peak < l.peak);
    }

    /// What the estimate says a file's decoded batch holds is at least the
    /// Arrow memory of the batches it decodes, for every signal (metrics'
    /// attributes decode to many times their dictionary-encoded bytes),
    /// with its string leaves decoded as strings and, as a merge of such
    /// inputs does, as dictionaries; the latter estimated lower.
    #[test]
    fn read_memory_covers_the_decoded_batches() {
        for signal in [Signal::Logs, Signal::Traces, Signal::Metrics] {
            for rows in [100, 3000] {
                for (table, data) in files(signal, &[rows], 11) {
                    let (mut footer, as_strings) = read(&data, 1024);
                    let decoded = decoded_schema(table, footer.schema(), &[&footer]);
                    let leaves = footer.dictionary_leaves(&decoded);
                    assert!(!leaves.is_empty(), "{table:?}: no leaf kept");
                    // The candidates, less those in plain pages somewhere.
                    let candidates =
                        footer.dictionary_leaves(&decoded_schema(table, footer.schema(), &[]));
                    let all_dictionary: Vec<usize> = (candidates.into_iter())
                        .filter(|&leaf| footer.leaf_all_dictionary(leaf))
                        .collect();
                    assert_eq!(all_dictionary, leaves, "{table:?}");
                    footer.decode_as(Arc::clone(&decoded)).unwrap();
                    let as_dictionaries = batches(&footer, &data, 1024);
                    let columns = footer
                        .metadata()
                        .file_metadata()
                        .schema_descr()
                        .num_columns();
                    // A file of one batch is held as its batch alone.
                    let reader = match footer.row_group(0) {
                        Some(g) if g.rows > 1024 => {
                            columns as u64 * READER_BYTES_PER_COLUMN + g.len
                        }
                        _ => 0,
                    };
                    let (plain, kept) = (
                        footer.read_memory(1024, &[]).held,
                        footer.read_memory(1024, &leaves).held,
                    );
                    // A request's logs or spans, one batch: their
                    // attributes repeat, so their dictionaries are less
                    // than their strings (few of a gauge's strings do).
                    if rows <= 1024 && matches!(table, Table::Logs | Table::Traces) {
                        assert!(kept < plain, "{table:?} {rows}: {kept} >= {plain}");
                    }
                    for (held, decoded) in [(plain, &as_strings), (kept, &as_dictionaries)] {
                        for b in decoded {
                            let arrow = b.get_array_memory_size() as u64;
                            assert!(
                                held >= reader + arrow,
                                "{table:?} {rows}: estimate {held} < reader {reader} + batch {arrow}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A logs file of `rows` rows whose bodies `wide` gives where it says
    /// (`None`: the fixture's), and its footer, read from the last
    /// [`DEFAULT_SUFFIX_BYTES`] (the offset index comes with that get).
    fn with_bodies(rows: usize, wide: impl Fn(usize) -> Option<String>) -> (Footer, Vec<u8>) {
        use arrow_array::{ArrayRef, StringArray};
        let (table, data) = files(Signal::Logs, &[rows], 5).remove(0);
        let (_, decoded) = read(&data, rows);
        let batch = &decoded[0];
        let at = batch.schema().index_of("Body").unwrap();
        let body = batch.column(at).as_string::<i32>();
        let bodies: StringArray = (0..body.len())
            .map(|i| Some(wide(i).unwrap_or_else(|| body.value(i).to_string())))
            .collect();
        let mut columns = batch.columns().to_vec();
        columns[at] = Arc::new(bodies) as ArrayRef;
        let skewed = RecordBatch::try_new(batch.schema(), columns).unwrap();
        let mut w = FileWriter::with_options(table, &batch.schema(), Default::default()).unwrap();
        w.write(&skewed).unwrap();
        let data = w.finish().unwrap();
        let f = footer_with_index(&data);
        (f, data)
    }

    /// `data`'s footer read from its last [`DEFAULT_SUFFIX_BYTES`], as a
    /// run's first get reads it: with the offset index before it.
    fn footer_with_index(data: &[u8]) -> Footer {
        let tail = &data[data.len() - DEFAULT_SUFFIX_BYTES as usize..];
        let FooterOrNeed::Footer(f) = Footer::parse(tail, data.len() as u64).unwrap() else {
            panic!("no footer in the last {DEFAULT_SUFFIX_BYTES} bytes")
        };
        *f
    }

    /// `n` random letters (Snappy shrinks them little).
    fn letters(rng: &mut Rng, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect()
    }

    /// The index of the leaf column at `path` in `f`'s schema.
    fn leaf_at(f: &Footer, path: &str) -> usize {
        let schema = f.metadata().file_metadata().schema_descr();
        (0..schema.num_columns())
            .position(|i| schema.column(i).path().string() == path)
            .unwrap()
    }

    /// Rows of much larger values sorted together (a service's large
    /// bodies), and one value of a megabyte (a page of its own): the
    /// estimate covers each decoded batch from the offset index, where the
    /// row group's average did not (it said a quarter of the batch that
    /// holds the large value).
    #[test]
    fn read_memory_covers_batches_of_larger_values() {
        let (f, data) = with_bodies(3000, |i| match i {
            1000..1040 => Some("w".repeat(20 << 10)),
            2000 => Some("h".repeat(1 << 20)),
            _ => None,
        });
        assert!(f.pages[0]
            .iter()
            .any(|p| p.is_some_and(|p| p.largest_plain_page >= 1 << 20)));
        // The batch that holds the megabyte is over the cap at any size,
        // and 1,024 rows hold no more than 16 rows and the cap again (1.38
        // against 1.05 MB): read as asked, as a file of narrow rows is.
        assert_eq!((f.batch_rows(1024), f.batch_rows(256)), (1024, 256));
        let narrow = read(&files(Signal::Logs, &[3000], 5).remove(0).1, 3000).0;
        assert_eq!(
            (narrow.batch_rows(1024), narrow.batch_rows(256)),
            (1024, 256)
        );
        for rows in [256, 1024] {
            let (footer, decoded) = (&f, batches(&f, &data, rows));
            let g = footer.row_group(0).unwrap();
            let columns = footer
                .metadata()
                .file_metadata()
                .schema_descr()
                .num_columns();
            let reader = columns as u64 * READER_BYTES_PER_COLUMN + g.len;
            let estimate = footer.read_memory(rows, &[]);
            // The page of the megabyte, decompressed, beside the batch.
            assert!(estimate.peak >= reader + 2 * (1 << 20), "{estimate:?}");
            for b in &decoded {
                let arrow = b.get_array_memory_size() as u64;
                assert!(
                    estimate.held >= reader + arrow,
                    "{rows}: estimate {} < reader {reader} + batch {arrow}",
                    estimate.held
                );
            }
        }
    }

    /// Rows of over a megabyte next to each other are read one at a time
    /// (a batch of 16 would hold several), so that the merge's output
    /// closes a row group after each; rows of less keep batches of 16 or
    /// more.
    #[test]
    fn rows_of_megabytes_side_by_side_are_read_one_at_a_time() {
        let (f, data) = with_bodies(300, |i| {
            (100..104).contains(&i).then(|| "w".repeat(1_200_000))
        });
        assert_eq!((f.batch_rows(1024), f.batch_rows(256)), (1, 1));
        let back = batches(&f, &data, 1);
        assert!(back.iter().all(|b| b.num_rows() == 1));
        assert_eq!(back.len(), 300);
        // Rows of 80 KB side by side: a batch of 16 passes the cap, but no
        // row comes near it: not a run merged row by row, but batches of 64
        // (they hold 28 of them, 2.24 MB: no more than 16 rows' 1.28 MB and
        // the cap).
        let (f, _) = with_bodies(300, |i| (100..140).contains(&i).then(|| "w".repeat(80_000)));
        assert_eq!(f.batch_rows(1024), 64);
    }

    /// A value of megabytes in a chunk that began with a dictionary (given
    /// up before the value's row: plain pages from there on) is seen as
    /// one row's, not shared with the empty rows of its page: the file is
    /// read in batches of the value's whole row group (its reader goes
    /// with its one batch), where 16-row batches kept it to the end.
    #[test]
    fn a_large_value_after_a_dictionary_is_one_rows() {
        let value = letters(&mut Rng(7), 3_000_000);
        // Past the dictionary's sample of 4,096 values, in an attribute
        // (bodies get no dictionary), the rows after it without one: its
        // page holds their empty maps too, 500 rows.
        let values = ["v0", "v1", "v2"];
        let records: Vec<(u64, &str, &str)> = (0..5000u64)
            .map(|i| match i {
                ..4500 => (i * 3599 / 5000, "b", values[i as usize % 3]),
                4500 => (i * 3599 / 5000, "b", value.as_str()),
                _ => (i * 3599 / 5000, "b", ""),
            })
            .collect();
        let data = logs_file(&records);
        let f = footer_with_index(&data);
        let leaf = leaf_at(&f, "LogAttributes.entries.values");
        let chunk = f.metadata().row_group(0).column(leaf);
        assert!(
            chunk.dictionary_page_offset().is_some(),
            "a dictionary first"
        );
        assert!(!only_dictionary_pages(chunk), "then plain pages");
        let pages = f.pages[0][leaf].unwrap();
        assert!(pages.widest(1) >= 3_000_000, "{pages:?}");
        assert!(pages.largest_plain_page >= 3_000_000, "{pages:?}");
        assert_eq!(f.batch_rows(1024), 1024);
    }

    /// A leaf inside a list (span events' attributes: the parquet crate's
    /// writer, whose plain pages close after up to 1,024 values, not after
    /// the value past the cap) keeps its pages counted by their share of
    /// rows once its dictionary is given up: a large page there is many
    /// rows' values, not one row's.
    #[test]
    fn list_leaves_past_their_dictionary_count_by_share() {
        let mut rng = Rng(3);
        let t = 1_714_564_800_000_000_000u64;
        let spans: Vec<String> = (1..=2000)
            .map(|i| {
                format!(
                    r#"{{"traceId":"{i:032x}","spanId":"{i:016x}","name":"s","startTimeUnixNano":"{t}","endTimeUnixNano":"{t}","events":[{{"timeUnixNano":"{t}","name":"e","attributes":[{{"key":"stack","value":{{"stringValue":"{}"}}}}]}}]}}"#,
                    letters(&mut rng, 2000)
                )
            })
            .collect();
        let body = format!(
            r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        );
        let req = crate::pipeline::Request {
            signal: Signal::Traces,
            encoding: crate::Encoding::Json,
            gzip: false,
            body: body.as_bytes(),
        };
        let data = crate::process(&req, &Default::default())
            .unwrap()
            .objects
            .remove(0)
            .data;
        let f = footer_with_index(&data);
        let leaf = leaf_at(&f, "Events.list.item.Attributes.entries.values");
        let chunk = f.metadata().row_group(0).column(leaf);
        assert!(chunk.column_descr().max_rep_level() > 1);
        assert!(
            chunk.dictionary_page_offset().is_some(),
            "a dictionary first"
        );
        assert!(!only_dictionary_pages(chunk), "then plain pages");
        let pages = f.pages[0][leaf].unwrap();
        assert!(pages.widest(1) < 100_000, "{pages:?}");
        // Rows of 2 KB: 256 of them hold half the cap.
        assert_eq!(f.batch_rows(1024), 256);
    }

    /// The widest batch over pages: whole pages inside it count whole, a
    /// page it holds in part its share by rows, and all of a page's bytes
    /// past its cap (one value: the last).
    #[test]
    fn the_widest_batch_over_pages() {
        // Four pages of 100 rows and 1,000 bytes, then one of 10 rows that
        // holds a value of 50,000 bytes, then one of 90 rows of 900 bytes.
        let pages = [
            (0, 1000),
            (100, 1000),
            (200, 1000),
            (300, 1000),
            (400, 50_000),
            (410, 900),
        ];
        let cap = 1024;
        // Batches of 100 rows: the fifth holds the large page whole.
        assert_eq!(
            widest_batch(&pages, 500, 100, cap, 0),
            50_000 + 900 * 90 / 90
        );
        // Of 50 rows: the batch [400, 450) holds that page whole and 40 of
        // the last page's 90 rows.
        assert_eq!(
            widest_batch(&pages, 500, 50, cap, 0),
            50_000 + 900 * 40 / 90
        );
        // Of 5 rows: the large page whole (its other rows are empty).
        assert_eq!(widest_batch(&pages, 500, 5, cap, 0), 50_000);
        // The same pages, the large one of dictionary ids (plain pages from
        // the last on): its share by rows, as any page's.
        assert_eq!(widest_batch(&pages, 500, 5, cap, 5), 50_000 * 5 / 10);
        assert_eq!(widest_batch(&pages, 500, 5, cap, 4), 50_000);
        // One batch of every row: all the bytes.
        assert_eq!(widest_batch(&pages, 500, 1000, cap, 0), 54_900);
        assert_eq!(widest_batch(&[], 0, 256, cap, 0), 0);
        // Even pages: the widest batch is the share of a batch.
        let even: Vec<(u64, u64)> = (0..10).map(|i| (i * 100, 1000)).collect();
        assert_eq!(widest_batch(&even, 1000, 200, cap, 0), 2000);
        assert_eq!(widest_batch(&even, 1000, 150, cap, 0), 1500);
        // A footer's word of rows past any page does not make it slow: the
        // batches inside one page are looked at a few times, not 2^58.
        assert_eq!(widest_batch(&[(0, 1000)], 1 << 62, 16, cap, 0), 0);
        let far = [(0, 900), (1 << 61, 900)];
        assert_eq!(widest_batch(&far, 1 << 62, 16, cap, 0), 0);
        // Batches within a page of many rows: its share, wherever they lie.
        assert_eq!(
            widest_batch(&[(0, 500), (1000, 1000)], 2000, 100, cap, 0),
            100
        );
    }

    /// A file of several row groups: each is read from its own byte range
    /// (and from the whole file), and together they are the rows written.
    #[test]
    fn row_groups_from_their_ranges() {
        let (_, data) = files(Signal::Logs, &[50], 8).remove(0);
        let (_, batches) = read(&data, 1000);
        let all = &batches[0];
        let mut w = FileWriter::new(Table::Logs, all.schema_ref()).unwrap();
        for at in (0..50).step_by(7) {
            w.write(&all.slice(at, 7.min(50 - at))).unwrap();
            if at % 14 == 7 {
                w.flush_row_group().unwrap();
            }
        }
        let file = w.finish().unwrap();
        let (footer, back) = read(&file, 3);
        assert_eq!(footer.row_groups(), 4);
        assert_eq!(footer.rows(), 50);
        let back = arrow_select::concat::concat_batches(all.schema_ref(), &back).unwrap();
        assert_eq!(&back, all);
        let mut end = 4;
        for g in 0..footer.row_groups() {
            let r = footer.row_group(g).unwrap();
            assert_eq!(r.start, end, "row groups are back to back");
            end = r.start + r.len;
            let whole = Bytes::from(file.clone());
            let rows: usize = footer
                .decode_row_group(g, 0, whole, 1000)
                .unwrap()
                .map(|b| b.unwrap().num_rows())
                .sum();
            assert_eq!(rows as u64, r.rows);
            // A range short of the row group's is refused.
            let short = Bytes::copy_from_slice(&file[r.start as usize..(end - 1) as usize]);
            assert!(footer.decode_row_group(g, r.start, short, 10).is_err());
        }
        assert!(footer.decode_row_group(4, 0, Bytes::new(), 10).is_err());
    }

    /// Files that are not ours, or not Parquet, are errors, not panics.
    #[test]
    fn bad_files_are_errors() {
        let is_parquet_error = |r: Result<FooterOrNeed>| matches!(r, Err(Error::Parquet(_)));
        assert!(is_parquet_error(Footer::parse(b"PAR1", 4)));
        assert!(is_parquet_error(Footer::parse(&[0; 64], 64)));
        assert!(is_parquet_error(Footer::parse(&[0; 64], 32)));
        let (_, data) = files(Signal::Logs, &[5], 1).remove(0);
        let size = data.len() as u64;
        // A footer longer than the file.
        let mut bad = data.clone();
        let n = bad.len();
        bad[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(is_parquet_error(Footer::parse(&bad, size)));
        // A corrupt footer.
        let mut bad = data.clone();
        let len = u32::from_le_bytes(bad[n - 8..n - 4].try_into().unwrap()) as usize;
        for b in &mut bad[n - 8 - len..n - 8] {
            *b = 0xff;
        }
        assert!(is_parquet_error(Footer::parse(&bad, size)));
        // Parquet without our keys.
        let (_, batches) = read(&data, 100);
        let mut plain = Vec::new();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(&mut plain, batches[0].schema(), None).unwrap();
        w.write(&batches[0]).unwrap();
        w.close().unwrap();
        let size = plain.len() as u64;
        assert!(is_parquet_error(Footer::parse(&plain, size)));
    }
}
