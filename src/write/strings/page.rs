//! The data pages of a string column chunk: the page being filled
//! ([`OpenPage`]), its encoding into a compressed v1 data page
//! ([`OpenPage::close`] → [`DonePage`]) and the scratch buffers a file's
//! string columns share ([`PageBuffers`]).
//!
//! A page is v1: RLE / bit-packed repetition and definition levels (map
//! leaves only, derived from each row's entry count), then the values as
//! `RLE_DICTIONARY` ids or as `DELTA_LENGTH_BYTE_ARRAY`, the whole compressed
//! with Snappy. It does not decide where pages end or which encoding a page
//! gets (see [`super::StringColumn`]), nor write the dictionary page.

use std::cell::Cell;

use bytes::Bytes;
use parquet::basic::Encoding;
use parquet::column::page::{CompressedPage, Page};

use super::dictionary::Dictionary;
use super::keyed::Mapped;
use super::stats::MinMax;
use crate::error::Result;
use crate::write::delta;
use crate::write::rle::{self, bit_width, uleb128};

/// Snappy: one encoder and one output buffer, reused page after page.
struct Snappy {
    encoder: snap::raw::Encoder,
    out: Vec<u8>,
}

impl Snappy {
    /// `input` compressed, in a buffer of exactly its size; or, for a page
    /// over [`KEPT_BUFFER_BYTES`] (one large value), in a buffer of its own
    /// with Snappy's slack, rather than a scratch buffer as large kept and
    /// a copy beside it.
    fn compress(&mut self, input: &[u8]) -> Result<Bytes> {
        let max = snap::raw::max_compress_len(input.len());
        if max > KEPT_BUFFER_BYTES {
            return self.compress_two(&[], input);
        }
        if self.out.len() < max {
            self.out.resize(max, 0);
        }
        let n = (self.encoder)
            .compress(input, &mut self.out)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
        Ok(Bytes::copy_from_slice(&self.out[..n]))
    }

    /// `head` then `tail` compressed as one Snappy stream, without first
    /// copying them together (`tail` is a page's values: one value of
    /// megabytes; with `head` empty, the stream of `tail` alone). A Snappy stream is its uncompressed length (a varint)
    /// then elements, literals and copies whose offsets point back into
    /// what the elements before them produced; so the elements of `head`
    /// compressed on its own, then those of `tail` on its own, under the
    /// length of both, decompress to `head` then `tail`. Each piece's own
    /// length prefix is dropped.
    fn compress_two(&mut self, head: &[u8], tail: &[u8]) -> Result<Bytes> {
        let fail = |e| parquet::errors::ParquetError::External(Box::new(e));
        // Room before the elements for the stream's length: 10 bytes, more
        // than a u64's varint.
        const PRE: usize = 10;
        let (max_head, max_tail) = (
            snap::raw::max_compress_len(head.len()),
            snap::raw::max_compress_len(tail.len()),
        );
        let mut own = vec![0; PRE + max_head + max_tail];
        let n_head = (self.encoder)
            .compress(head, &mut own[PRE..PRE + max_head])
            .map_err(fail)?;
        let n_tail = (self.encoder)
            .compress(tail, &mut own[PRE + n_head..])
            .map_err(fail)?;
        let (p_head, p_tail) = (varint_len(head.len()), varint_len(tail.len()));
        // Close the gap of the tail's length prefix: the head's elements
        // move right by it, to end where the tail's begin.
        own.copy_within(PRE + p_head..PRE + n_head, PRE + p_head + p_tail);
        let mut length = Vec::with_capacity(PRE);
        uleb128(&mut length, (head.len() + tail.len()) as u64);
        let start = PRE + p_head + p_tail - length.len();
        own[start..start + length.len()].copy_from_slice(&length);
        Ok(fitted(own, start..PRE + n_head + n_tail))
    }
}

/// `range` of `buffer` as the page's bytes: the buffer itself when they
/// fill most of it (incompressible values), else a copy of their size, so
/// that a page of values that compress well does not hold Snappy's worst
/// case (its input and a sixth) until its chunk is written.
fn fitted(buffer: Vec<u8>, range: std::ops::Range<usize>) -> Bytes {
    if range.len() < buffer.len() / 4 * 3 {
        return Bytes::copy_from_slice(&buffer[range]);
    }
    Bytes::from(buffer).slice(range)
}

/// Bytes of `n`'s varint (Snappy's length prefix: ULEB128).
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Scratch space a file's string columns share, reused page after page: the
/// page being assembled and Snappy. A file takes the buffers the last file
/// of its thread left ([`PageBuffers::take`], [`PageBuffers::keep`]), so
/// that it does not begin by growing and zeroing them and Snappy's hash
/// table again, which a request of a few records paid in full.
pub struct PageBuffers {
    snappy: Snappy,
    page: Vec<u8>,
    /// Keyed rows mapped to a chunk's ids (at most a segment's worth).
    pub(super) mapped: Mapped,
}

/// Buffers larger than this (after a page of one large value) are not kept
/// for the next file: they are freed with their file.
const KEPT_BUFFER_BYTES: usize = 1 << 20;

thread_local! {
    /// The buffers the last file of this thread (a Worker isolate has one)
    /// left for the next.
    static SPARE: Cell<Option<PageBuffers>> = const { Cell::new(None) };
}

impl Default for PageBuffers {
    fn default() -> Self {
        PageBuffers {
            snappy: Snappy {
                encoder: snap::raw::Encoder::new(),
                out: Vec::new(),
            },
            page: Vec::new(),
            mapped: Mapped::default(),
        }
    }
}

impl PageBuffers {
    /// The buffers the last file of this thread left, or new ones.
    pub fn take() -> PageBuffers {
        SPARE.with(Cell::take).unwrap_or_default()
    }

    /// Leaves the buffers for the next file of this thread, unless they
    /// grew past [`KEPT_BUFFER_BYTES`].
    pub fn keep(self) {
        let bytes =
            self.page.capacity() + self.snappy.out.capacity() + self.mapped.capacity_bytes();
        if bytes <= KEPT_BUFFER_BYTES {
            SPARE.with(|spare| spare.set(Some(self)));
        }
    }

    /// `input` compressed with Snappy, in a buffer of exactly its size.
    pub(super) fn compress(&mut self, input: &[u8]) -> Result<Bytes> {
        self.snappy.compress(input)
    }
}

/// An encoded data page waiting for the dictionary page to be written first.
pub(super) struct DonePage {
    pub(super) page: CompressedPage,
    pub(super) rows: usize,
    pub(super) unencoded_bytes: i64,
}

/// The page being filled.
#[derive(Default)]
pub(super) struct OpenPage {
    /// Dictionary ids of its values (dictionary encoding).
    pub(super) ids: Vec<u32>,
    /// Its values' lengths and bytes (`DELTA_LENGTH_BYTE_ARRAY`).
    pub(super) lengths: Vec<i32>,
    pub(super) bytes: Vec<u8>,
    /// Entries per row (map leaves only): the levels are derived from these.
    pub(super) counts: Vec<u32>,
    pub(super) rows: usize,
    /// Values plus empty maps: the page's level count.
    pub(super) levels: usize,
    /// Bytes of the values themselves.
    pub(super) unencoded_bytes: i64,
    pub(super) stats: MinMax,
    /// Dictionary ids seen in this page, one bit each (statistics only).
    seen: Vec<u64>,
}

impl OpenPage {
    /// Marks `id` seen; true the first time in this page.
    #[inline]
    pub(super) fn first_in_page(&mut self, id: u32) -> bool {
        let (word, bit) = ((id / 64) as usize, 1u64 << (id % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        let first = self.seen[word] & bit == 0;
        self.seen[word] |= bit;
        first
    }

    /// Whether the page holds `max_rows` rows, or dictionary ids of about
    /// `max_bytes` (values without a dictionary are cut to their byte limit
    /// as they are added).
    #[inline]
    pub(super) fn is_full(&self, max_rows: usize, max_bytes: usize) -> bool {
        self.rows >= max_rows || self.ids.len() * 4 >= max_bytes
    }

    /// Encodes and compresses the page (which must hold a row), and empties
    /// it keeping its buffers; returns it with its values' min/max.
    ///
    /// `nested`: a map's keys or values, whose levels are written; `dict`:
    /// the values are ids into that dictionary, else `DELTA_LENGTH_BYTE_ARRAY`.
    pub(super) fn close(
        &mut self,
        nested: bool,
        dict: Option<&Dictionary>,
        bufs: &mut PageBuffers,
    ) -> Result<(DonePage, MinMax)> {
        self.close_with(nested, dict, bufs, None)
    }

    /// [`OpenPage::close`], the values' bytes `outside` the page when given
    /// (one value larger than a page, taken straight from its array: the
    /// page holds its length, rows and statistics, not a copy of it).
    pub(super) fn close_with(
        &mut self,
        nested: bool,
        dict: Option<&Dictionary>,
        bufs: &mut PageBuffers,
        outside: Option<&[u8]>,
    ) -> Result<(DonePage, MinMax)> {
        debug_assert!(self.rows > 0);
        let buf = &mut bufs.page;
        buf.clear();
        // At most: two level streams of a bit per level, and the values (ids
        // of up to 4 bytes, or lengths of up to 5 bytes and the bytes).
        // (Values over KEPT_BUFFER_BYTES are compressed where they are.)
        let values_here = match self.bytes.len() {
            n if n > KEPT_BUFFER_BYTES => 0,
            n => n,
        };
        buf.reserve(
            self.levels / 4 + 64 + self.ids.len() * 4 + self.lengths.len() * 5 + values_here,
        );
        if nested {
            // Repetition levels: 0 starts a row, 1 continues it.
            level_stream(buf, |b| {
                let mut bits = rle::Bits::new(b, self.levels);
                for &k in &self.counts {
                    bits.push(false, 1);
                    bits.push(true, (k as usize).saturating_sub(1));
                }
                bits.finish();
            });
            // Definition levels: 1 for an entry, 0 for an empty map.
            level_stream(buf, |b| {
                if self.counts.contains(&0) {
                    let mut bits = rle::Bits::new(b, self.levels);
                    for &k in &self.counts {
                        bits.push(k > 0, (k as usize).max(1));
                    }
                    bits.finish();
                } else {
                    rle::run(b, 1, self.levels, 1);
                }
            });
        }
        let values = outside.unwrap_or(&self.bytes);
        let (encoding, compressed, uncompressed) = match dict {
            Some(dict) => {
                let width = bit_width(dict.len().saturating_sub(1) as u64);
                buf.push(width);
                rle::encode(buf, &self.ids, width);
                let compressed = bufs.snappy.compress(buf)?;
                (Encoding::RLE_DICTIONARY, compressed, buf.len())
            }
            None => {
                delta::encode(buf, &self.lengths);
                let uncompressed = buf.len() + values.len();
                // Megabytes of values are compressed where they are, after
                // the levels and lengths, not copied behind them first.
                let compressed = if values.len() > KEPT_BUFFER_BYTES {
                    bufs.snappy.compress_two(buf, values)?
                } else {
                    buf.extend_from_slice(values);
                    bufs.snappy.compress(buf)?
                };
                (Encoding::DELTA_LENGTH_BYTE_ARRAY, compressed, uncompressed)
            }
        };
        // A page of one large value leaves its buffers that large: free
        // them rather than hold the value three more times until the file
        // is done (a compaction output holds its writer for 128 MiB).
        release_large(buf);
        release_large(&mut self.bytes);
        let data_page = Page::DataPage {
            buf: compressed,
            num_values: self.levels as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        let done = DonePage {
            page: CompressedPage::new(data_page, uncompressed),
            rows: self.rows,
            unencoded_bytes: self.unencoded_bytes,
        };
        let stats = std::mem::take(&mut self.stats);
        // Empty the page, keeping its buffers.
        self.ids.clear();
        self.lengths.clear();
        self.bytes.clear();
        self.counts.clear();
        self.seen.clear();
        self.rows = 0;
        self.levels = 0;
        self.unencoded_bytes = 0;
        Ok((done, stats))
    }
}

/// Frees `buffer` when it grew past [`KEPT_BUFFER_BYTES`].
fn release_large(buffer: &mut Vec<u8>) {
    if buffer.capacity() > KEPT_BUFFER_BYTES {
        *buffer = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two pieces compressed apart under one length decompress to the two
    /// together, whatever their sizes (empty, short, across Snappy's 64 KiB
    /// blocks) and contents (repetitive, random), by Snappy's own decoder.
    #[test]
    fn two_pieces_make_one_snappy_stream() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = |n: usize| {
            (0..n)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect::<Vec<u8>>()
        };
        let repeated = |n: usize| (0..n).map(|i| b"abcabd"[i % 6]).collect::<Vec<u8>>();
        let mut bufs = PageBuffers::default();
        for head_len in [0, 1, 5, 200, 70_000] {
            for tail_len in [0, 3, 65_536, 200_001, 1_300_000] {
                for (head, tail) in [
                    (repeated(head_len), random(tail_len)),
                    (random(head_len), repeated(tail_len)),
                ] {
                    let stream = bufs.snappy.compress_two(&head, &tail).unwrap();
                    let back = snap::raw::Decoder::new().decompress_vec(&stream).unwrap();
                    assert!(
                        back == [&head[..], &tail[..]].concat(),
                        "{head_len} {tail_len}"
                    );
                }
            }
        }
        for n in [0, 1, 127, 128, 16_383, 16_384, usize::MAX] {
            let mut v = Vec::new();
            uleb128(&mut v, n as u64);
            assert_eq!(varint_len(n), v.len(), "{n}");
        }
    }

    #[test]
    fn ids_are_first_in_page_once_until_the_page_closes() {
        let mut p = OpenPage::default();
        assert!(p.first_in_page(3));
        assert!(p.first_in_page(200));
        assert!(!p.first_in_page(3) && !p.first_in_page(200));
        assert!(p.first_in_page(64));
        p.rows = 1;
        p.levels = 1;
        p.lengths.push(0);
        p.close(false, None, &mut PageBuffers::default()).unwrap();
        assert!(p.first_in_page(3), "a new page sees every id anew");
    }

    #[test]
    fn a_page_is_full_at_its_rows_or_its_ids_bytes() {
        let mut p = OpenPage {
            rows: 2,
            ..OpenPage::default()
        };
        assert!(!p.is_full(3, 16) && p.is_full(2, 16));
        p.ids.extend([0; 4]);
        assert!(p.is_full(3, 16) && !p.is_full(3, 17));
    }

    /// A closed page: its level count, rows and bytes, its levels and values
    /// laid out as v1 says (length-prefixed level streams, then the values),
    /// and an empty page left behind.
    #[test]
    fn a_closed_page_holds_its_levels_then_its_values() {
        // Two map rows: ["a", "bc"] and an empty map.
        let mut p = OpenPage {
            counts: vec![2, 0],
            rows: 2,
            levels: 3,
            unencoded_bytes: 3,
            lengths: vec![1, 2],
            bytes: b"abc".to_vec(),
            ..OpenPage::default()
        };
        p.stats.update(b"a");
        let mut bufs = PageBuffers::default();
        let (done, _) = p.close(true, None, &mut bufs).unwrap();
        assert_eq!((done.rows, done.unencoded_bytes), (2, 3));
        assert_eq!(done.page.num_values(), 3);
        assert_eq!(done.page.encoding(), Encoding::DELTA_LENGTH_BYTE_ARRAY);
        assert_eq!(done.page.uncompressed_size(), bufs.page.len());
        // Repetition levels 0 1 0, then definition levels 1 1 0: each stream
        // a 4-byte length and its runs.
        let rep = u32::from_le_bytes(bufs.page[..4].try_into().unwrap()) as usize;
        let def_at = 4 + rep;
        let def = u32::from_le_bytes(bufs.page[def_at..def_at + 4].try_into().unwrap()) as usize;
        assert!(rep > 0 && def > 0);
        assert!(bufs.page.ends_with(b"abc"));
        assert!(p.rows == 0 && p.levels == 0 && p.lengths.is_empty() && p.counts.is_empty());
        assert!(p.bytes.is_empty() && p.unencoded_bytes == 0);

        // Ids of a 3-value dictionary: a bit width of 2 after no levels.
        let mut dict = Dictionary::default();
        for v in [&b"x"[..], b"y", b"z"] {
            dict.intern(v);
        }
        p.ids.extend([2, 0, 1]);
        p.rows = 3;
        p.levels = 3;
        let (done, _) = p.close(false, Some(&dict), &mut bufs).unwrap();
        assert_eq!(done.page.encoding(), Encoding::RLE_DICTIONARY);
        assert_eq!(bufs.page[0], 2);
        assert!(p.ids.is_empty());
    }
}
