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
//! `DELTA_LENGTH_BYTE_ARRAY` rather than `PLAIN` (see [`super::delta`]).
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
//! It does not handle nulls (every column of ours is non-null) or nesting
//! deeper than one map.
//!
//! [`SerializedRowGroupWriter::append_column`]: parquet::file::writer::SerializedRowGroupWriter::append_column

use arrow_array::{Array, StringArray};
use bytes::Bytes;
use parquet::basic::{BoundaryOrder, Compression, Encoding, EncodingMask, PageType, Type};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{
    ColumnChunkMetaData, ColumnIndexBuilder, OffsetIndexBuilder, PageEncodingStats,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use super::delta;
use super::rle::{self, bit_width};
use crate::error::Result;

/// Bytes kept of a min/max value in statistics and the column index (the
/// parquet crate's default truncation length).
const STATS_TRUNCATE: usize = 64;

/// Values of a chunk after which its dictionary's cardinality is checked.
const CARDINALITY_SAMPLE: usize = 4096;
/// A dictionary is kept when, over that sample, each distinct value repeats
/// this many times on average. Measured on 10k realistic log records: the
/// attribute values (one distinct in ~5) cost 0.36 ms more as a dictionary
/// for a column 10 % smaller; resource and scope attributes, names and enums
/// repeat thousands of times.
const MIN_REPEATS: usize = 8;

/// Snappy: one encoder and one output buffer, reused page after page.
struct Snappy {
    encoder: snap::raw::Encoder,
    out: Vec<u8>,
}

impl Snappy {
    /// `input` compressed, in a buffer of exactly its size.
    fn compress(&mut self, input: &[u8]) -> Result<Bytes> {
        let max = snap::raw::max_compress_len(input.len());
        if self.out.len() < max {
            self.out.resize(max, 0);
        }
        let n = self
            .encoder
            .compress(input, &mut self.out)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
        Ok(Bytes::copy_from_slice(&self.out[..n]))
    }
}

/// Scratch space a file's string columns share, reused page after page: the
/// page being assembled and Snappy.
pub struct PageBuffers {
    snappy: Snappy,
    page: Vec<u8>,
}

impl Default for PageBuffers {
    fn default() -> Self {
        PageBuffers {
            snappy: Snappy {
                encoder: snap::raw::Encoder::new(),
                out: Vec::new(),
            },
            page: Vec::new(),
        }
    }
}

/// The dictionary of one column chunk: its `PLAIN` page and a hash table
/// from value to id. Ids are given in order of first appearance, so the
/// output does not depend on the hash.
#[derive(Default)]
struct Dictionary {
    /// The dictionary page body: each value as a 4-byte length and its bytes.
    page: Vec<u8>,
    /// Each value's position in `page` (after its length) and length.
    spans: Vec<(u32, u32)>,
    /// Each value's hash, to rehash the table as it grows.
    hashes: Vec<u64>,
    table: hashbrown::HashTable<u32>,
}

impl Dictionary {
    fn len(&self) -> usize {
        self.spans.len()
    }

    #[cfg(test)]
    fn get(&self, id: u32) -> &[u8] {
        let (start, len) = self.spans[id as usize];
        &self.page[start as usize..(start + len) as usize]
    }

    #[inline]
    fn intern(&mut self, v: &[u8]) -> u32 {
        let hash = hash(v);
        let Dictionary {
            page,
            spans,
            hashes,
            table,
        } = self;
        let eq = |id: &u32| {
            let (start, len) = spans[*id as usize];
            same(&page[start as usize..(start + len) as usize], v)
        };
        match table.find(hash, eq) {
            Some(id) => *id,
            None => {
                let id = spans.len() as u32;
                page.extend_from_slice(&(v.len() as u32).to_le_bytes());
                spans.push((page.len() as u32, v.len() as u32));
                page.extend_from_slice(v);
                hashes.push(hash);
                table.insert_unique(hash, id, |id| hashes[*id as usize]);
                id
            }
        }
    }
}

/// The dictionary's hash: most values are short (names, enums, attribute
/// keys), and for up to 16 bytes two words and a multiply beat a call to a
/// general-purpose hash; longer values go to XXH3.
#[inline(always)]
fn hash(v: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let n = v.len();
    let word = |i: usize| u64::from_le_bytes(v[i..i + 8].try_into().unwrap_or([0; 8]));
    let half = |i: usize| u64::from(u32::from_le_bytes(v[i..i + 4].try_into().unwrap_or([0; 4])));
    let (a, b) = match n {
        0 => (0, 0),
        1..=3 => (
            u64::from(v[0]) | u64::from(v[n / 2]) << 8 | u64::from(v[n - 1]) << 16,
            0,
        ),
        4..=7 => (half(0), half(n - 4)),
        8..=16 => (word(0), word(n - 8)),
        _ => return xxhash_rust::xxh3::xxh3_64(v),
    };
    // A folded multiply of the two words, the length mixed in.
    let m = u128::from(a ^ K) * u128::from(b ^ (n as u64) ^ K.rotate_left(31));
    (m as u64) ^ ((m >> 64) as u64)
}

/// Min and max of the values seen, as bytes (Parquet compares UTF-8
/// strings as unsigned bytes, as Rust compares `[u8]`).
#[derive(Default, Clone)]
struct MinMax {
    min: Vec<u8>,
    max: Vec<u8>,
    set: bool,
}

impl MinMax {
    #[inline]
    fn update(&mut self, v: &[u8]) {
        if !self.set {
            self.min.extend_from_slice(v);
            self.max.extend_from_slice(v);
            self.set = true;
        } else if v < self.min.as_slice() {
            self.min.clear();
            self.min.extend_from_slice(v);
        } else if v > self.max.as_slice() {
            self.max.clear();
            self.max.extend_from_slice(v);
        }
    }

    fn merge(&mut self, other: &MinMax) {
        if other.set {
            self.update(&other.min);
            self.update(&other.max);
        }
    }
}

/// An encoded data page waiting for the dictionary page to be written first.
struct DonePage {
    page: CompressedPage,
    rows: usize,
    unencoded_bytes: i64,
}

/// The page being filled.
#[derive(Default)]
struct OpenPage {
    /// Dictionary ids of its values (dictionary encoding).
    ids: Vec<u32>,
    /// Its values' lengths and bytes (`DELTA_LENGTH_BYTE_ARRAY`).
    lengths: Vec<i32>,
    bytes: Vec<u8>,
    /// Entries per row (map leaves only): the levels are derived from these.
    counts: Vec<u32>,
    rows: usize,
    /// Values plus empty maps: the page's level count.
    levels: usize,
    /// Bytes of the values themselves.
    unencoded_bytes: i64,
    stats: MinMax,
    /// Dictionary ids seen in this page, one bit each (statistics only).
    seen: Vec<u64>,
}

impl OpenPage {
    /// Marks `id` seen; true the first time in this page.
    #[inline]
    fn first_in_page(&mut self, id: u32) -> bool {
        let (word, bit) = ((id / 64) as usize, 1u64 << (id % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        let first = self.seen[word] & bit == 0;
        self.seen[word] |= bit;
        first
    }
}

/// Encodes one string leaf of one file (one row group).
pub struct StringColumn {
    descr: ColumnDescPtr,
    /// A map's keys or values (rows hold any number of values, with levels),
    /// or a top-level column (one value per row, no levels).
    nested: bool,
    /// Chunk statistics and column index wanted.
    stats: bool,
    /// `Some` once dictionary encoding was chosen, kept after a fallback
    /// because earlier pages refer to it.
    dict: Option<Dictionary>,
    /// Values are written as `DELTA_LENGTH_BYTE_ARRAY`: no dictionary, or
    /// the dictionary stopped paying (see [`Self::dictionary_pays`]).
    no_dict: bool,
    dict_limit: usize,
    /// Values written with the dictionary so far (counted until the
    /// cardinality check is done).
    interned: usize,
    page_bytes: usize,
    page_rows: usize,
    page: OpenPage,
    /// The last row written to the open page, as a range of its values in
    /// the array being written (cleared between arrays and pages).
    prev: Option<(usize, usize)>,
    done: Vec<DonePage>,
    chunk_stats: MinMax,
    column_index: ColumnIndexBuilder,
    /// Page min/max order so far, for the column index's boundary order.
    ascending: bool,
    descending: bool,
    last_page_stats: Option<MinMax>,
}

impl StringColumn {
    /// A leaf described by `descr`: dictionary-encoded when `dictionary`,
    /// with limits and statistics from `props`.
    pub fn new(descr: ColumnDescPtr, dictionary: bool, props: &WriterProperties) -> Self {
        let path = descr.path();
        let nested = descr.max_rep_level() > 0;
        // The levels written are those of a required column or a required
        // map of required keys and values (`by_strings` routes only those).
        debug_assert_eq!(descr.max_def_level(), i16::from(nested));
        debug_assert!(descr.max_rep_level() <= 1);
        StringColumn {
            stats: props.statistics_enabled(path) != EnabledStatistics::None,
            dict: dictionary.then(Dictionary::default),
            no_dict: !dictionary,
            dict_limit: props.dictionary_page_size_limit(),
            interned: 0,
            page_bytes: props.data_page_size_limit(),
            page_rows: props.data_page_row_count_limit(),
            nested,
            column_index: ColumnIndexBuilder::new(Type::BYTE_ARRAY),
            descr,
            page: OpenPage::default(),
            prev: None,
            done: Vec::new(),
            chunk_stats: MinMax::default(),
            ascending: true,
            descending: true,
            last_page_stats: None,
        }
    }

    /// Appends a top-level column: one value per row.
    pub fn write(&mut self, values: &StringArray, bufs: &mut PageBuffers) -> Result<()> {
        debug_assert!(!self.nested && values.null_count() == 0);
        self.write_rows(values, values.len(), |i| (i, i + 1), bufs)
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
        // `page_bytes` bytes of values).
        let (first, last) = (row(0).0, row(rows - 1).1);
        let page = &mut self.page;
        if self.no_dict {
            page.lengths.reserve(last - first);
            let bytes = (offsets[last] - offsets[first]) as usize;
            page.bytes.reserve(bytes.min(self.page_bytes));
        } else {
            page.ids.reserve(last - first);
        }
        if self.nested {
            page.counts.reserve(rows.min(self.page_rows));
        }
        let mut r = 0;
        while r < rows {
            if self.no_dict {
                r = self.push_values(offsets, data, r, rows, &row, bufs)?;
                continue;
            }
            let (s, e) = row(r);
            self.push_ids(s, e, data, offsets);
            self.prev = Some((s, e));
            let page = &mut self.page;
            page.rows += 1;
            page.unencoded_bytes += i64::from(offsets[e] - offsets[s]);
            if self.nested {
                page.counts.push((e - s) as u32);
                page.levels += (e - s).max(1);
            } else {
                page.levels += 1;
            }
            if self.page_full() {
                self.flush_page(bufs)?;
            }
            if !self.dictionary_pays(e - s) {
                // Close this page and write the rest of the chunk without it.
                self.flush_page(bufs)?;
                self.no_dict = true;
            }
            r += 1;
        }
        Ok(())
    }

    /// Appends as many of rows `from..rows` as fit the open page, their
    /// values copied as one block (`DELTA_LENGTH_BYTE_ARRAY` keeps the
    /// bytes back to back, as Arrow does); returns the first row not taken.
    /// A page ends before the row that would take it past its byte limit; a
    /// row larger than the limit gets a page alone.
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
        let room_rows = self.page_rows.saturating_sub(self.page.rows);
        let room_bytes = self.page_bytes.saturating_sub(self.page.bytes.len());
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
        let page = &mut self.page;
        page.bytes
            .extend_from_slice(&data[base..offsets[end] as usize]);
        page.lengths
            .extend(offsets[start..=end].windows(2).map(|w| w[1] - w[0]));
        if self.stats {
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

    /// Whether to go on with the dictionary after `n` more values. It stops
    /// when it passes its size limit (as the parquet crate does), and when
    /// the chunk's first [`CARDINALITY_SAMPLE`] values hold more than one
    /// distinct value in [`MIN_REPEATS`]: a mostly-unique column (durations,
    /// digests, messages among attribute values) costs a hash-table insert
    /// per value and ends up no smaller than its text under Snappy.
    #[inline]
    fn dictionary_pays(&mut self, n: usize) -> bool {
        let Some(dict) = &self.dict else {
            return false;
        };
        if dict.page.len() > self.dict_limit {
            return false;
        }
        if self.interned < CARDINALITY_SAMPLE {
            self.interned += n;
            if self.interned >= CARDINALITY_SAMPLE {
                return dict.len() * MIN_REPEATS <= self.interned;
            }
        }
        true
    }

    /// Dictionary ids for the values `s..e` of one row, whose bytes are
    /// `data[offsets[i]..offsets[i + 1]]`.
    #[inline]
    fn push_ids(&mut self, s: usize, e: usize, data: &[u8], offsets: &[i32]) {
        let Some(dict) = self.dict.as_mut() else {
            return;
        };
        let at = |i: usize| offsets[i] as usize;
        let page = &mut self.page;
        let k = e - s;
        let (ps, pe) = self.prev.unwrap_or((0, 0));
        let pk = pe - ps;
        // The whole row equals the previous one: same bytes, same cuts.
        if pk == k
            && k > 0
            && same(&data[at(s)..at(e)], &data[at(ps)..at(pe)])
            && (1..k).all(|j| at(s + j) - at(s) == at(ps + j) - at(ps))
        {
            let from = page.ids.len() - k;
            page.ids.extend_from_within(from..);
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
                if self.stats && page.first_in_page(id) {
                    page.stats.update(v);
                }
                id
            };
            page.ids.push(id);
        }
    }

    fn page_full(&self) -> bool {
        let p = &self.page;
        p.rows >= self.page_rows || p.ids.len() * 4 >= self.page_bytes
    }

    /// Encodes, compresses and keeps the open page.
    fn flush_page(&mut self, bufs: &mut PageBuffers) -> Result<()> {
        self.prev = None;
        if self.page.rows == 0 {
            return Ok(());
        }
        let page = &mut self.page;
        let buf = &mut bufs.page;
        buf.clear();
        // At most: two level streams of a bit per level, and the values (ids
        // of up to 4 bytes, or lengths of up to 5 bytes and the bytes).
        buf.reserve(
            page.levels / 4 + 64 + page.ids.len() * 4 + page.lengths.len() * 5 + page.bytes.len(),
        );
        if self.nested {
            // Repetition levels: 0 starts a row, 1 continues it.
            level_stream(buf, |b| {
                let mut bits = rle::Bits::new(b, page.levels);
                for &k in &page.counts {
                    bits.push(false, 1);
                    bits.push(true, (k as usize).saturating_sub(1));
                }
                bits.finish();
            });
            // Definition levels: 1 for an entry, 0 for an empty map.
            level_stream(buf, |b| {
                if page.counts.contains(&0) {
                    let mut bits = rle::Bits::new(b, page.levels);
                    for &k in &page.counts {
                        bits.push(k > 0, (k as usize).max(1));
                    }
                    bits.finish();
                } else {
                    rle::run(b, 1, page.levels, 1);
                }
            });
        }
        let encoding = match self.dict.as_ref().filter(|_| !self.no_dict) {
            Some(dict) => {
                let width = bit_width(dict.len().saturating_sub(1) as u64);
                buf.push(width);
                rle::encode(buf, &page.ids, width);
                Encoding::RLE_DICTIONARY
            }
            None => {
                delta::encode(buf, &page.lengths);
                buf.extend_from_slice(&page.bytes);
                Encoding::DELTA_LENGTH_BYTE_ARRAY
            }
        };
        let data_page = Page::DataPage {
            buf: bufs.snappy.compress(buf)?,
            num_values: page.levels as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        self.done.push(DonePage {
            page: CompressedPage::new(data_page, buf.len()),
            rows: page.rows,
            unencoded_bytes: page.unencoded_bytes,
        });
        let stats = std::mem::take(&mut page.stats);
        // Empty the page, keeping its buffers.
        page.ids.clear();
        page.lengths.clear();
        page.bytes.clear();
        page.counts.clear();
        page.seen.clear();
        page.rows = 0;
        page.levels = 0;
        page.unencoded_bytes = 0;
        if self.stats {
            self.index_page(stats);
        }
        Ok(())
    }

    /// Adds a page's min/max to the column index and the chunk statistics.
    fn index_page(&mut self, stats: MinMax) {
        if let Some(last) = &self.last_page_stats {
            self.ascending &= last.min <= stats.min && last.max <= stats.max;
            self.descending &= last.min >= stats.min && last.max >= stats.max;
        }
        self.column_index.append(
            false,
            truncate_min(&stats.min).0,
            truncate_max(&stats.max).0,
            0,
        );
        self.chunk_stats.merge(&stats);
        self.last_page_stats = Some(stats);
    }

    /// Ends the chunk: its bytes (dictionary page first) and what
    /// `append_column` needs to know of them.
    pub fn finish(mut self, bufs: &mut PageBuffers) -> Result<(Bytes, ColumnCloseResult)> {
        self.flush_page(bufs)?;
        // The chunk's totals, from its pages.
        let rows: usize = self.done.iter().map(|p| p.rows).sum();
        let levels: i64 = self
            .done
            .iter()
            .map(|p| i64::from(p.page.num_values()))
            .sum();
        let unencoded_bytes: i64 = self.done.iter().map(|p| p.unencoded_bytes).sum();
        let mut sink = TrackedWrite::new(Vec::with_capacity(
            self.done
                .iter()
                .map(|p| p.page.data().len() + 64)
                .sum::<usize>()
                + self.dict.as_ref().map_or(0, |d| d.page.len() / 2 + 64),
        ));
        let mut pages = SerializedPageWriter::new(&mut sink);
        let mut encodings = vec![Encoding::RLE];
        let mut encoding_stats: Vec<PageEncodingStats> = Vec::new();
        let (mut compressed, mut uncompressed) = (0i64, 0i64);
        let mut dictionary_offset = None;
        if let Some(dict) = self.dict.take() {
            let page = Page::DictionaryPage {
                buf: bufs.snappy.compress(&dict.page)?,
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
        for done in std::mem::take(&mut self.done) {
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
        let mut metadata = ColumnChunkMetaData::builder(self.descr.clone())
            .set_compression(Compression::SNAPPY)
            .set_encodings_mask(EncodingMask::new_from_encodings(encodings.iter()))
            .set_page_encoding_stats(encoding_stats)
            .set_total_compressed_size(compressed)
            .set_total_uncompressed_size(uncompressed)
            .set_num_values(levels)
            .set_data_page_offset(data_offset.unwrap_or(0))
            .set_dictionary_page_offset(dictionary_offset);
        let mut column_index = None;
        if self.stats {
            let (min, min_exact) = truncate_min(&self.chunk_stats.min);
            let (max, max_exact) = truncate_max(&self.chunk_stats.max);
            let set = self.chunk_stats.set;
            let statistics = ValueStatistics::<parquet::data_type::ByteArray>::new(
                set.then(|| min.into()),
                set.then(|| max.into()),
                None,
                Some(0),
                false,
            )
            .with_min_is_exact(min_exact)
            .with_max_is_exact(max_exact);
            metadata = metadata
                .set_statistics(Statistics::ByteArray(statistics))
                .set_unencoded_byte_array_data_bytes(Some(unencoded_bytes));
            let mut index = std::mem::replace(
                &mut self.column_index,
                ColumnIndexBuilder::new(Type::BYTE_ARRAY),
            );
            index.set_boundary_order(match (self.ascending, self.descending) {
                (true, _) => BoundaryOrder::ASCENDING,
                (false, true) => BoundaryOrder::DESCENDING,
                (false, false) => BoundaryOrder::UNORDERED,
            });
            column_index = Some(index.build()?);
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

/// Appends one level stream of a v1 data page: a 4-byte length, then the
/// RLE / bit-packed levels written by `encode` (max level 1: one bit each).
fn level_stream(buf: &mut Vec<u8>, encode: impl FnOnce(&mut Vec<u8>)) {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    encode(buf);
    let len = (buf.len() - at - 4) as u32;
    buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Byte equality, inlined for the short strings that most values are (a
/// call to `memcmp` costs more than the compare).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

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

/// A lower bound of `v` at most [`STATS_TRUNCATE`] bytes long, cut at a
/// character boundary; and whether it is `v` itself.
fn truncate_min(v: &[u8]) -> (Vec<u8>, bool) {
    if v.len() <= STATS_TRUNCATE {
        return (v.to_vec(), true);
    }
    let cut = (1..=STATS_TRUNCATE)
        .rev()
        .find(|&i| is_char_boundary(v, i))
        .unwrap_or(STATS_TRUNCATE);
    (v[..cut].to_vec(), false)
}

/// An upper bound of `v` at most [`STATS_TRUNCATE`] bytes long: a prefix
/// whose last character is incremented; `v` itself when no such prefix
/// exists. Also whether it is `v` itself.
fn truncate_max(v: &[u8]) -> (Vec<u8>, bool) {
    if v.len() <= STATS_TRUNCATE {
        return (v.to_vec(), true);
    }
    let Ok(s) = std::str::from_utf8(v) else {
        return (v.to_vec(), true);
    };
    let lower = STATS_TRUNCATE.saturating_sub(3);
    let Some(cut) = (lower..=STATS_TRUNCATE)
        .rev()
        .find(|&i| s.is_char_boundary(i))
    else {
        return (v.to_vec(), true);
    };
    // Increment the last character that can be incremented without
    // changing its UTF-8 length; drop the ones after it.
    for (i, c) in s[..cut].char_indices().rev() {
        if let Some(next) = char::from_u32(c as u32 + 1) {
            if next.len_utf8() == c.len_utf8() {
                let mut out = v[..i + c.len_utf8()].to_vec();
                next.encode_utf8(&mut out[i..]);
                return (out, false);
            }
        }
    }
    (v.to_vec(), true)
}

fn is_char_boundary(v: &[u8], i: usize) -> bool {
    i >= v.len() || (v[i] as i8) >= -0x40
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_ids_follow_first_appearance() {
        let mut d = Dictionary::default();
        assert_eq!(d.intern(b"b"), 0);
        assert_eq!(d.intern(b"a"), 1);
        assert_eq!(d.intern(b"b"), 0);
        assert_eq!(d.intern(b""), 2);
        assert_eq!(d.get(1), b"a");
        assert_eq!(d.page, [1, 0, 0, 0, b'b', 1, 0, 0, 0, b'a', 0, 0, 0, 0]);
    }

    #[test]
    fn truncated_statistics_still_bound_the_value() {
        let long = "é".repeat(40); // 80 bytes, 2 per character
        let (min, exact) = truncate_min(long.as_bytes());
        assert!(!exact && min.len() == 64 && min.as_slice() <= long.as_bytes());
        let (max, exact) = truncate_max(long.as_bytes());
        assert!(!exact && max.len() <= 64 && max.as_slice() > long.as_bytes());
        assert!(std::str::from_utf8(&max).is_ok());
        let short = b"service";
        assert_eq!(truncate_min(short), (short.to_vec(), true));
        assert_eq!(truncate_max(short), (short.to_vec(), true));
        // Nothing to increment: the value itself is kept.
        let top = "\u{10FFFF}".repeat(20);
        assert_eq!(
            truncate_max(top.as_bytes()),
            (top.as_bytes().to_vec(), true)
        );
    }
}
