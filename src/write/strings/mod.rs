//! One Parquet column chunk of strings: a top-level `Utf8` column, or the
//! keys or the values of a top-level `Map<Utf8, Utf8>` attributes column.
//!
//! These leaves are most of a file's values (every row repeats its resource's
//! and scope's attributes), and the parquet crate's generic writer spends
//! ~25 ns on each: a hash and a probe to intern it in the dictionary, plus
//! level bookkeeping. This encoder knows what the rows look like:
//! - a row whose values are byte for byte those of the row before (the same
//!   resource, scope or service: rows are sorted that way) copies that row's
//!   dictionary ids without hashing anything;
//! - otherwise each value is first compared with the value at the same
//!   position in the row before (attribute keys come in the same order), and
//!   only then interned in a hash table.
//!
//! Columns without a dictionary (ids, bodies) are written as
//! `DELTA_LENGTH_BYTE_ARRAY` rather than `PLAIN` (see `write::delta`).
//!
//! What it writes is ordinary Parquet, as the parquet crate writes it for the
//! same settings: data pages v1 (RLE levels; `RLE_DICTIONARY` or
//! `DELTA_LENGTH_BYTE_ARRAY` values), a `PLAIN` dictionary page, Snappy, a
//! fallback from the dictionary once it passes its size limit, chunk
//! statistics and a column index (min/max truncated to 64 bytes) where
//! statistics are enabled, and an offset index. Pages end on row boundaries.
//! The chunk is appended to the row group with
//! [`SerializedRowGroupWriter::append_column`].
//!
//! This file is the chunk: [`StringColumn`] takes rows, fills the open page,
//! ends pages at the row and byte limits of [`WriteOptions`], moves the
//! dictionary's state on, and at [`StringColumn::finish`] writes the
//! dictionary page, the data pages and the chunk's metadata and indexes. The
//! parts are `dictionary` (interning, and whether the chunk keeps its
//! dictionary), `keyed` (rows that arrive as keys into an input's
//! dictionary, from compaction), `page` (a page's levels, values and
//! compression) and `stats` (min/max, truncation, the column index).
//!
//! It does not handle nulls (every column of ours is non-null) or nesting
//! deeper than one map.
//!
//! [`SerializedRowGroupWriter::append_column`]: parquet::file::writer::SerializedRowGroupWriter::append_column

mod dictionary;
mod keyed;
mod page;
mod stats;

use arrow_array::{Array, StringArray};
use bytes::Bytes;
use parquet::basic::{Compression, Encoding, EncodingMask, PageType};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{ColumnChunkMetaData, OffsetIndexBuilder, PageEncodingStats};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

pub use self::keyed::Keyed;
pub use self::page::PageBuffers;

use self::dictionary::{same, Dictionary, DictionaryState};
use self::keyed::KnownDictionary;
use self::page::{DonePage, OpenPage};
use self::stats::ChunkStats;
use super::WriteOptions;
use crate::error::Result;

/// Encodes one string leaf of one file (one row group).
pub struct StringColumn {
    descr: ColumnDescPtr,
    /// A map's keys or values (rows hold any number of values, with levels),
    /// or a top-level column (one value per row, no levels).
    nested: bool,
    /// Page sizes and the dictionary's limits.
    limits: WriteOptions,
    /// Whether values go through a dictionary, and which.
    dict: DictionaryState,
    page: OpenPage,
    /// The last row written to the open page, as a range of its values in
    /// the array being written (cleared between arrays and pages).
    prev: Option<(usize, usize)>,
    done: Vec<DonePage>,
    /// Chunk statistics and column index, when wanted.
    stats: Option<ChunkStats>,
    /// Per merge input, the ids of its last dictionary's values (rows that
    /// come as dictionary keys: see `keyed`).
    known: Vec<Option<KnownDictionary>>,
    /// Scratch: what one call knows of its batches' dictionaries, taken
    /// out of `known`.
    taken: Vec<keyed::Learned>,
}

impl StringColumn {
    /// A leaf described by `descr`: dictionary-encoded when `dictionary`
    /// (while it pays), with min/max statistics and a column index when
    /// `statistics`, its pages and dictionary within `limits` (a
    /// `page_rows` or `page_bytes` of 0 is taken as 1).
    pub fn new(
        descr: ColumnDescPtr,
        dictionary: bool,
        statistics: bool,
        limits: &WriteOptions,
    ) -> Self {
        let nested = descr.max_rep_level() > 0;
        // The levels written are those of a required column or a required
        // map of required keys and values (`by_strings` routes only those).
        debug_assert_eq!(descr.max_def_level(), i16::from(nested));
        debug_assert!(descr.max_rep_level() <= 1);
        let limits = WriteOptions {
            page_rows: limits.page_rows.max(1),
            page_bytes: limits.page_bytes.max(1),
            ..*limits
        };
        StringColumn {
            descr,
            nested,
            limits,
            dict: DictionaryState::new(dictionary, limits.dictionary_sample),
            page: OpenPage::default(),
            prev: None,
            done: Vec::new(),
            stats: statistics.then(ChunkStats::new),
            known: Vec::new(),
            taken: Vec::new(),
        }
    }

    /// Appends a top-level column: one value per row.
    pub fn write(&mut self, values: &StringArray, bufs: &mut PageBuffers) -> Result<()> {
        debug_assert!(!self.nested && values.null_count() == 0);
        self.write_rows(values, values.len(), |i| (i, i + 1), bufs)
    }

    /// Appends `len` rows of `values` from row `start` (a run of a merge),
    /// without slicing or copying the array.
    pub fn write_range(
        &mut self,
        values: &StringArray,
        start: usize,
        len: usize,
        bufs: &mut PageBuffers,
    ) -> Result<()> {
        debug_assert!(!self.nested && start + len <= values.len());
        self.write_rows(values, len, |i| (start + i, start + i + 1), bufs)
    }

    /// Appends map rows: row `i` holds `values[offsets[i]..offsets[i + 1]]`.
    pub fn write_map(
        &mut self,
        offsets: &[i32],
        values: &StringArray,
        bufs: &mut PageBuffers,
    ) -> Result<()> {
        debug_assert!(self.nested && values.null_count() == 0);
        let rows = offsets.len().saturating_sub(1);
        self.write_rows(
            values,
            rows,
            |i| (offsets[i] as usize, offsets[i + 1] as usize),
            bufs,
        )
    }

    #[inline]
    fn write_rows(
        &mut self,
        values: &StringArray,
        rows: usize,
        row: impl Fn(usize) -> (usize, usize),
        bufs: &mut PageBuffers,
    ) -> Result<()> {
        let offsets = values.value_offsets();
        let data = values.value_data();
        // The previous row is only known within one array.
        self.prev = None;
        if rows == 0 {
            return Ok(());
        }
        // Room for this array's rows, so the page's buffers do not grow
        // while they fill (pages hold at most `page_rows` rows and
        // `page_bytes` bytes of values, or one larger value: a page that
        // holds one is not given more room, which would double it).
        let (first, last) = (row(0).0, row(rows - 1).1);
        let page = &mut self.page;
        if self.dict.is_plain() {
            page.lengths.reserve(last - first);
            let bytes = (offsets[last] - offsets[first]) as usize;
            let room = self.limits.page_bytes.saturating_sub(page.bytes.len());
            page.bytes.reserve(bytes.min(room));
        } else {
            page.ids.reserve(last - first);
        }
        if self.nested {
            page.counts.reserve(rows.min(self.limits.page_rows));
        }
        let mut r = 0;
        while r < rows {
            r = if self.dict.is_plain() {
                self.push_values(offsets, data, r, rows, &row, bufs)?
            } else {
                self.push_dictionary_rows(offsets, data, r, rows, &row, bufs)?
            };
        }
        Ok(())
    }

    /// Appends rows `from..rows` as dictionary ids until the page is full
    /// or the dictionary's state has to be looked at again (its sample
    /// ends, or its page passes the byte cap); returns the first row not
    /// taken. The state is matched once per call, not once per row.
    fn push_dictionary_rows(
        &mut self,
        offsets: &[i32],
        data: &[u8],
        from: usize,
        rows: usize,
        row: &impl Fn(usize) -> (usize, usize),
        bufs: &mut PageBuffers,
    ) -> Result<usize> {
        let (max_bytes, sample) = (self.limits.dictionary_bytes, self.limits.dictionary_sample);
        let budget = self.dict.values_until_decision(sample);
        let (max_rows, page_bytes) = (self.limits.page_rows, self.limits.page_bytes);
        let stats = self.stats.is_some();
        let Some(dict) = self.dict.active_mut() else {
            // No dictionary (the caller checked): the rows go as values.
            return self.push_values(offsets, data, from, rows, row, bufs);
        };
        let page = &mut self.page;
        let mut prev = self.prev.unwrap_or((0, 0));
        let (mut r, mut values) = (from, 0usize);
        // A value over the dictionary's cap never goes in: the dictionary
        // ends before its row (`stop`). The rows' values are one span of
        // the array, so when none of them passes the cap no row is looked
        // at, and the loop below is the same either way.
        let over = |r: usize| {
            let (s, e) = row(r);
            holds_over(&offsets[s..=e], max_bytes)
        };
        let span = &offsets[row(from).0..=row(rows - 1).1];
        let stop = match holds_over(span, max_bytes) {
            true => (from..rows).find(|&r| over(r)).unwrap_or(rows),
            false => rows,
        };
        while r < stop {
            let (s, e) = row(r);
            push_ids(dict, page, stats, prev, s, e, data, offsets);
            prev = (s, e);
            page.rows += 1;
            if self.nested {
                page.counts.push((e - s) as u32);
                page.levels += (e - s).max(1);
            } else {
                page.levels += 1;
            }
            values += e - s;
            r += 1;
            if page.is_full(max_rows, page_bytes) || values >= budget || dict.page.len() > max_bytes
            {
                break;
            }
        }
        if r > from {
            // Consecutive rows' values are consecutive in the array: their
            // bytes are one span.
            page.unencoded_bytes += i64::from(offsets[row(r - 1).1] - offsets[row(from).0]);
        }
        self.prev = Some(prev);
        let over_cap = r == stop && stop < rows;
        if over_cap || !self.dict.pays(values, max_bytes, sample) {
            self.end_dictionary(bufs)?;
        } else if self.page_full() {
            self.flush_page(bufs)?;
        }
        Ok(r)
    }

    /// Appends as many of rows `from..rows` as fit the open page, their
    /// values copied as one block (`DELTA_LENGTH_BYTE_ARRAY` keeps the
    /// bytes back to back, as Arrow does); returns the first row not taken.
    /// A page ends before the row that would take it past its byte limit,
    /// unless it holds no bytes yet: a row larger than the limit gets a page
    /// whose other rows, if any, hold only empty values.
    fn push_values(
        &mut self,
        offsets: &[i32],
        data: &[u8],
        from: usize,
        rows: usize,
        row: &impl Fn(usize) -> (usize, usize),
        bufs: &mut PageBuffers,
    ) -> Result<usize> {
        let start = row(from).0;
        let base = offsets[start] as usize;
        let room_rows = self.limits.page_rows.saturating_sub(self.page.rows);
        let room_bytes = self.limits.page_bytes.saturating_sub(self.page.bytes.len());
        let mut to = from;
        while to < rows && to - from < room_rows {
            let bytes = offsets[row(to).1] as usize - base;
            if bytes > room_bytes && !(self.page.bytes.is_empty() && to == from) {
                break;
            }
            to += 1;
        }
        if to == from {
            self.flush_page(bufs)?;
            return Ok(from);
        }
        let end = row(to - 1).1;
        let big = offsets[end] as usize - base > self.limits.page_bytes;
        if big && to == from + 1 && self.page.rows == 0 && !self.nested {
            // One value larger than a page, alone in its page: closed at
            // once, its bytes compressed from the array rather than copied
            // into the page (a value of megabytes, held once less).
            let value = &data[base..offsets[end] as usize];
            let page = &mut self.page;
            page.lengths.push(value.len() as i32);
            if self.stats.is_some() {
                page.stats.update(value);
            }
            page.rows = 1;
            page.levels = 1;
            page.unencoded_bytes = value.len() as i64;
            let (done, stats) = page.close_with(false, self.dict.active(), bufs, Some(value))?;
            self.done.push(done);
            if let Some(chunk) = &mut self.stats {
                chunk.add_page(stats);
            }
            self.prev = None;
            return Ok(to);
        }
        let page = &mut self.page;
        page.bytes
            .extend_from_slice(&data[base..offsets[end] as usize]);
        page.lengths
            .extend(offsets[start..=end].windows(2).map(|w| w[1] - w[0]));
        if self.stats.is_some() {
            for w in offsets[start..=end].windows(2) {
                page.stats.update(&data[w[0] as usize..w[1] as usize]);
            }
        }
        if self.nested {
            for r in from..to {
                let (s, e) = row(r);
                page.counts.push((e - s) as u32);
                page.levels += (e - s).max(1);
            }
        } else {
            page.levels += to - from;
        }
        page.rows += to - from;
        page.unencoded_bytes += (offsets[end] as usize - base) as i64;
        if self.page_full() {
            self.flush_page(bufs)?;
        }
        Ok(to)
    }

    fn page_full(&self) -> bool {
        self.page
            .is_full(self.limits.page_rows, self.limits.page_bytes)
    }

    /// Closes the open page and writes the rest of the chunk without the
    /// dictionary. One given up before it took a value (the chunk's first
    /// row holds a value over its cap) is no dictionary at all: no empty
    /// dictionary page.
    fn end_dictionary(&mut self, bufs: &mut PageBuffers) -> Result<()> {
        self.flush_page(bufs)?;
        if self.done.is_empty() && self.dict.page_bytes() == 0 {
            self.dict = DictionaryState::Plain;
        } else {
            self.dict.give_up();
        }
        Ok(())
    }

    /// Encodes, compresses and keeps the open page, if it holds a row.
    fn flush_page(&mut self, bufs: &mut PageBuffers) -> Result<()> {
        self.prev = None;
        if self.page.rows == 0 {
            return Ok(());
        }
        let (done, stats) = self.page.close(self.nested, self.dict.active(), bufs)?;
        self.done.push(done);
        if let Some(chunk) = &mut self.stats {
            chunk.add_page(stats);
        }
        Ok(())
    }

    /// About the bytes this chunk would take if it ended now: its finished
    /// pages (compressed), the open page's values (not yet) and the
    /// dictionary page.
    pub fn estimated_bytes(&self) -> usize {
        let done: usize = self.done.iter().map(|d| d.page.compressed_size()).sum();
        let open = self.page.bytes.len() + 4 * (self.page.ids.len() + self.page.lengths.len());
        done + open + self.dict.page_bytes()
    }

    /// Ends the chunk: its bytes (dictionary page first) and what
    /// `append_column` needs to know of them.
    pub fn finish(mut self, bufs: &mut PageBuffers) -> Result<(Bytes, ColumnCloseResult)> {
        self.flush_page(bufs)?;
        let StringColumn {
            descr,
            dict,
            done,
            stats,
            ..
        } = self;
        let dict = dict.into_page();
        // The chunk's totals, from its pages.
        let rows: usize = done.iter().map(|p| p.rows).sum();
        let levels: i64 = done.iter().map(|p| i64::from(p.page.num_values())).sum();
        let unencoded_bytes: i64 = done.iter().map(|p| p.unencoded_bytes).sum();
        let mut sink = TrackedWrite::new(Vec::with_capacity(
            done.iter().map(|p| p.page.data().len() + 64).sum::<usize>()
                + dict.as_ref().map_or(0, |d| d.page.len() / 2 + 64),
        ));
        let mut pages = SerializedPageWriter::new(&mut sink);
        let mut encodings = vec![Encoding::RLE];
        let mut encoding_stats: Vec<PageEncodingStats> = Vec::new();
        let (mut compressed, mut uncompressed) = (0i64, 0i64);
        let mut dictionary_offset = None;
        if let Some(dict) = dict {
            let page = Page::DictionaryPage {
                buf: bufs.compress(&dict.page)?,
                num_values: dict.len() as u32,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            };
            let spec = pages.write_page(CompressedPage::new(page, dict.page.len()))?;
            dictionary_offset = Some(spec.offset as i64);
            compressed += spec.compressed_size as i64;
            uncompressed += spec.uncompressed_size as i64;
            encodings.push(Encoding::PLAIN);
            count_page(
                &mut encoding_stats,
                PageType::DICTIONARY_PAGE,
                Encoding::PLAIN,
            );
        }
        let mut offset_index = OffsetIndexBuilder::new();
        let mut data_offset = None;
        for done in done {
            let encoding = done.page.encoding();
            let spec = pages.write_page(done.page)?;
            data_offset.get_or_insert(spec.offset as i64);
            compressed += spec.compressed_size as i64;
            uncompressed += spec.uncompressed_size as i64;
            offset_index.append_offset_and_size(spec.offset as i64, spec.compressed_size as i32);
            offset_index.append_row_count(done.rows as i64);
            offset_index.append_unencoded_byte_array_data_bytes(Some(done.unencoded_bytes));
            if !encodings.contains(&encoding) {
                encodings.push(encoding);
            }
            count_page(&mut encoding_stats, PageType::DATA_PAGE, encoding);
        }
        pages.close()?;
        let mut metadata = ColumnChunkMetaData::builder(descr)
            .set_compression(Compression::SNAPPY)
            .set_encodings_mask(EncodingMask::new_from_encodings(encodings.iter()))
            .set_page_encoding_stats(encoding_stats)
            .set_total_compressed_size(compressed)
            .set_total_uncompressed_size(uncompressed)
            .set_num_values(levels)
            .set_data_page_offset(data_offset.unwrap_or(0))
            .set_dictionary_page_offset(dictionary_offset)
            // The values' bytes once decoded, for readers sizing their
            // buffers (the compactor's memory bound among them).
            .set_unencoded_byte_array_data_bytes(Some(unencoded_bytes));
        let mut column_index = None;
        if let Some(stats) = stats {
            let (statistics, index) = stats.finish()?;
            metadata = metadata.set_statistics(statistics);
            column_index = Some(index);
        }
        let close = ColumnCloseResult {
            bytes_written: sink.bytes_written() as u64,
            rows_written: rows as u64,
            metadata: metadata.build()?,
            bloom_filter: None,
            column_index,
            offset_index: Some(offset_index.build()),
        };
        Ok((Bytes::from(sink.into_inner()?), close))
    }
}

/// Counts one more page of `page_type` and `encoding` (consecutive pages of
/// the same kind share an entry).
fn count_page(stats: &mut Vec<PageEncodingStats>, page_type: PageType, encoding: Encoding) {
    match stats.last_mut() {
        Some(s) if s.page_type == page_type && s.encoding == encoding => s.count += 1,
        _ => stats.push(PageEncodingStats {
            page_type,
            encoding,
            count: 1,
        }),
    }
}

/// Whether one of the values that `offsets` delimit is longer than `cap`
/// bytes: their total first, so that values that fit it all together are
/// not looked at one by one.
fn holds_over(offsets: &[i32], cap: usize) -> bool {
    match (offsets.first(), offsets.last()) {
        (Some(&a), Some(&z)) if (z - a) as usize > cap => {
            offsets.windows(2).any(|w| (w[1] - w[0]) as usize > cap)
        }
        _ => false,
    }
}

/// Dictionary ids for the values `s..e` of one row, whose bytes are
/// `data[offsets[i]..offsets[i + 1]]`, appended to `page`; `prev` is the
/// row before in the same page and array (`(0, 0)` if none).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn push_ids(
    dict: &mut Dictionary,
    page: &mut OpenPage,
    stats: bool,
    prev: (usize, usize),
    s: usize,
    e: usize,
    data: &[u8],
    offsets: &[i32],
) {
    let at = |i: usize| offsets[i] as usize;
    let k = e - s;
    let (ps, pe) = prev;
    let pk = pe - ps;
    // The whole row equals the previous one: same bytes, same cuts.
    if pk == k
        && k > 0
        && same(&data[at(s)..at(e)], &data[at(ps)..at(pe)])
        && (1..k).all(|j| at(s + j) - at(s) == at(ps + j) - at(ps))
    {
        let from = page.ids.len() - k;
        if k == 1 {
            // A top-level column's run (rows are sorted by service,
            // resource and scope): no call to `memcpy` for one id.
            let id = page.ids[from];
            page.ids.push(id);
        } else {
            page.ids.extend_from_within(from..);
        }
        return;
    }
    let base = page.ids.len();
    for j in 0..k {
        let v = &data[at(s + j)..at(s + j + 1)];
        let id = if j < pk && same(&data[at(ps + j)..at(ps + j + 1)], v) {
            page.ids[base - pk + j]
        } else {
            let id = dict.intern(v);
            // Min/max only change with a value new to this page.
            if stats && page.first_in_page(id) {
                page.stats.update(v);
            }
            id
        };
        page.ids.push(id);
    }
}
