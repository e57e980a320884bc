//! Min/max statistics of a string column chunk: of each page (the column
//! index, with its boundary order) and of the whole chunk, cut to
//! [`STATS_TRUNCATE`] bytes as the parquet crate cuts them.
//!
//! Values compare as unsigned bytes, as Parquet compares UTF-8 strings. It
//! does not decide which values a page saw (the chunk feeds it the new ones,
//! see [`super::StringColumn`]) nor count nulls: our string columns have none.

use parquet::basic::{BoundaryOrder, Type};
use parquet::file::metadata::ColumnIndexBuilder;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::{Statistics, ValueStatistics};

use crate::error::Result;

/// Bytes kept of a min/max value in statistics and the column index (the
/// parquet crate's default truncation length).
const STATS_TRUNCATE: usize = 64;

/// Min and max of the values seen, as bytes (Parquet compares UTF-8
/// strings as unsigned bytes, as Rust compares `[u8]`).
///
/// Each bound's first eight bytes are kept as a number too ([`prefix`]):
/// most values differ from both bounds within them, and one integer
/// compare then settles what a byte compare would. (A `memcmp` call per
/// bound and value was 4.6 % of a logs compaction natively, on the plain
/// pages of `Body`, `TraceId` and `SpanId`.)
#[derive(Default, Clone)]
pub(super) struct MinMax {
    min: Vec<u8>,
    max: Vec<u8>,
    min_prefix: u64,
    max_prefix: u64,
    set: bool,
}

/// The first eight bytes of `v` as a big-endian number, zero-padded.
///
/// When `prefix(a) < prefix(b)`, `a < b` as bytes: they differ at a byte
/// `i` below eight where `a`'s is smaller, or `a` ends before `i` and `b`
/// holds zeros up to its byte `i`, so `a` is a shorter prefix of `b`.
/// Equal numbers say nothing: the bytes decide.
#[inline]
fn prefix(v: &[u8]) -> u64 {
    match v.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => {
            let mut head = [0u8; 8];
            head[..v.len()].copy_from_slice(v);
            u64::from_be_bytes(head)
        }
    }
}

impl MinMax {
    /// Takes `v` into the bounds.
    #[inline]
    pub(super) fn update(&mut self, v: &[u8]) {
        let p = prefix(v);
        if !self.set {
            self.min.extend_from_slice(v);
            self.max.extend_from_slice(v);
            (self.min_prefix, self.max_prefix) = (p, p);
            self.set = true;
        } else if p < self.min_prefix || (p == self.min_prefix && v < self.min.as_slice()) {
            self.min.clear();
            self.min.extend_from_slice(v);
            self.min_prefix = p;
        } else if p > self.max_prefix || (p == self.max_prefix && v > self.max.as_slice()) {
            self.max.clear();
            self.max.extend_from_slice(v);
            self.max_prefix = p;
        }
    }

    /// Takes `other`'s bounds into these.
    fn merge(&mut self, other: &MinMax) {
        if other.set {
            self.update(&other.min);
            self.update(&other.max);
        }
    }
}

/// A chunk's statistics built page by page: the column index and the
/// chunk's min/max.
pub(super) struct ChunkStats {
    chunk: MinMax,
    column_index: ColumnIndexBuilder,
    /// Page min/max order so far, for the column index's boundary order:
    /// the order of the bounds as written (cut to [`STATS_TRUNCATE`]
    /// bytes), which is what readers search, not of the values.
    ascending: bool,
    descending: bool,
    last_bounds: Option<(Vec<u8>, Vec<u8>)>,
}

impl ChunkStats {
    pub(super) fn new() -> Self {
        ChunkStats {
            chunk: MinMax::default(),
            column_index: ColumnIndexBuilder::new(Type::BYTE_ARRAY),
            ascending: true,
            descending: true,
            last_bounds: None,
        }
    }

    /// Adds the next page's min/max to the column index and the chunk.
    pub(super) fn add_page(&mut self, page: MinMax) {
        let bounds = (truncate_min(&page.min).0, truncate_max(&page.max).0);
        if let Some((min, max)) = &self.last_bounds {
            self.ascending &= *min <= bounds.0 && *max <= bounds.1;
            self.descending &= *min >= bounds.0 && *max >= bounds.1;
        }
        self.column_index
            .append(false, bounds.0.clone(), bounds.1.clone(), 0);
        self.chunk.merge(&page);
        self.last_bounds = Some(bounds);
    }

    /// The chunk's statistics (no nulls; min/max cut to [`STATS_TRUNCATE`]
    /// bytes, saying whether they are exact) and its column index.
    pub(super) fn finish(self) -> Result<(Statistics, ColumnIndexMetaData)> {
        let (min, min_exact) = truncate_min(&self.chunk.min);
        let (max, max_exact) = truncate_max(&self.chunk.max);
        let set = self.chunk.set;
        let statistics = ValueStatistics::<parquet::data_type::ByteArray>::new(
            set.then(|| min.into()),
            set.then(|| max.into()),
            None,
            Some(0),
            false,
        )
        .with_min_is_exact(min_exact)
        .with_max_is_exact(max_exact);
        let mut index = self.column_index;
        index.set_boundary_order(match (self.ascending, self.descending) {
            (true, _) => BoundaryOrder::ASCENDING,
            (false, true) => BoundaryOrder::DESCENDING,
            (false, false) => BoundaryOrder::UNORDERED,
        });
        Ok((Statistics::ByteArray(statistics), index.build()?))
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

/// Whether byte `i` of `v` starts a UTF-8 character (or is past the end).
fn is_char_boundary(v: &[u8], i: usize) -> bool {
    i >= v.len() || (v[i] as i8) >= -0x40
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The boundary order is that of the bounds written: two pages whose
    /// values ascend, but whose cut minimums do not (a 61-byte prefix, then
    /// "aaa" and "a€": the second cut three bytes earlier, before its
    /// 3-byte character), are not declared ascending, so that a reader's
    /// binary search over the column index does not skip the first.
    #[test]
    fn the_boundary_order_is_that_of_the_cut_bounds() {
        let p = "p".repeat(61);
        let page = |v: &str| {
            let mut m = MinMax::default();
            m.update(v.as_bytes());
            m
        };
        let (a, b) = (
            format!("{p}aaa{}", "x".repeat(10)),
            format!("{p}a€{}", "x".repeat(10)),
        );
        assert!(a < b);
        let mut stats = ChunkStats::new();
        stats.add_page(page(&a));
        stats.add_page(page(&b));
        let (_, index) = stats.finish().unwrap();
        assert_ne!(index.get_boundary_order(), Some(BoundaryOrder::ASCENDING));
        // Values whose cut bounds ascend too still say so.
        let mut stats = ChunkStats::new();
        stats.add_page(page(&format!("{p}aaa")));
        stats.add_page(page(&format!("{p}aab")));
        let (_, index) = stats.finish().unwrap();
        assert_eq!(index.get_boundary_order(), Some(BoundaryOrder::ASCENDING));
    }

    proptest::proptest! {
        /// The bounds are the byte-wise min and max of the values, whatever
        /// their prefixes: short values, zero bytes and shared first bytes
        /// (a small alphabet) included.
        #[test]
        fn bounds_are_the_byte_min_and_max(
            values in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![0u8, 1, b'a', 0xff]), 0..12),
                1..40,
            )
        ) {
            let mut m = MinMax::default();
            for v in &values {
                m.update(v);
            }
            proptest::prop_assert_eq!(&m.min, values.iter().min().unwrap());
            proptest::prop_assert_eq!(&m.max, values.iter().max().unwrap());
        }
    }

    fn page(values: &[&str]) -> MinMax {
        let mut m = MinMax::default();
        for v in values {
            m.update(v.as_bytes());
        }
        m
    }

    /// Min/max compare bytes, not characters; the chunk's bounds are those
    /// of all its pages, and the boundary order is ascending, descending or
    /// unordered as the pages' bounds go.
    #[test]
    fn pages_make_the_chunk_bounds_and_the_boundary_order() {
        let m = page(&["b", "é", "a", "z"]);
        assert_eq!(
            (m.min.as_slice(), m.max.as_slice()),
            (&b"a"[..], "é".as_bytes())
        );

        let order = |pages: &[&[&str]]| {
            let mut s = ChunkStats::new();
            for p in pages {
                s.add_page(page(p));
            }
            let (stats, index) = s.finish().unwrap();
            let bounds = (
                stats.min_bytes_opt().unwrap().to_vec(),
                stats.max_bytes_opt().unwrap().to_vec(),
            );
            (bounds, index.get_boundary_order())
        };
        let (bounds, o) = order(&[&["a", "b"], &["b", "c"], &["d"]]);
        assert_eq!(bounds, (b"a".to_vec(), b"d".to_vec()));
        assert_eq!(o, Some(BoundaryOrder::ASCENDING));
        let (bounds, o) = order(&[&["x", "y"], &["c"], &["a", "b"]]);
        assert_eq!(bounds, (b"a".to_vec(), b"y".to_vec()));
        assert_eq!(o, Some(BoundaryOrder::DESCENDING));
        let (_, o) = order(&[&["b"], &["a"], &["c"]]);
        assert_eq!(o, Some(BoundaryOrder::UNORDERED));
    }
}
