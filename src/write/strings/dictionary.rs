//! The dictionary of one string column chunk, and whether the chunk keeps it.
//!
//! [`Dictionary`] interns values: ids in order of first appearance (so the
//! output does not depend on the hash), the `PLAIN` dictionary page body
//! growing as values arrive, and a hash table from value to id.
//! [`DictionaryState`] is the chunk's choice, one enum: no dictionary at
//! all, a dictionary whose cardinality is still being sampled, one that
//! passed the sample, or one given up (kept only because earlier pages refer
//! to it). [`DictionaryState::pays`] makes the two decisions that end it.
//!
//! It does not encode pages or know about rows and levels (see
//! [`super::page`] and [`super::StringColumn`]).

/// A dictionary is kept when, over its sample (`WriteOptions::dictionary_sample`
/// values), each distinct value repeats this many times on average. Measured
/// on 10k realistic log records: the attribute values (one distinct in ~5)
/// cost 0.36 ms more as a dictionary for a column 10 % smaller; resource and
/// scope attributes, names and enums repeat thousands of times.
const MIN_REPEATS: usize = 8;

/// The dictionary of one column chunk: its `PLAIN` page and a hash table
/// from value to id. Ids are given in order of first appearance.
#[derive(Default)]
pub(super) struct Dictionary {
    /// The dictionary page body: each value as a 4-byte length and its bytes.
    pub(super) page: Vec<u8>,
    /// Each value's position in `page` (after its length) and length.
    spans: Vec<(u32, u32)>,
    /// Each value's hash, to rehash the table as it grows.
    hashes: Vec<u64>,
    table: hashbrown::HashTable<u32>,
}

impl Dictionary {
    /// Distinct values so far.
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Value `id`'s bytes.
    #[inline]
    pub(super) fn value(&self, id: u32) -> &[u8] {
        let (start, len) = self.spans[id as usize];
        &self.page[start as usize..(start + len) as usize]
    }

    /// Value `id`'s length in bytes.
    #[inline]
    pub(super) fn value_len(&self, id: u32) -> usize {
        self.spans[id as usize].1 as usize
    }

    /// The id of `v`, given it (the next id) if it is new.
    #[inline]
    pub(super) fn intern(&mut self, v: &[u8]) -> u32 {
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

/// Whether, and how, a column chunk's values go through a dictionary.
pub(super) enum DictionaryState {
    /// No dictionary for this column (it was not wanted): every page is
    /// `DELTA_LENGTH_BYTE_ARRAY`.
    Plain,
    /// A dictionary whose cardinality is not decided yet: `seen` values of
    /// the sample went through it so far.
    Sampling { dict: Dictionary, seen: usize },
    /// A dictionary that passed the sample: kept until it outgrows its byte
    /// cap.
    On(Dictionary),
    /// A dictionary given up: the rest of the chunk is
    /// `DELTA_LENGTH_BYTE_ARRAY`. Kept for its page, which the earlier data
    /// pages refer to.
    Dropped(Dictionary),
}

impl DictionaryState {
    /// Bytes of its dictionary page so far (0 without one).
    pub(super) fn page_bytes(&self) -> usize {
        match self {
            DictionaryState::Plain => 0,
            DictionaryState::Sampling { dict, .. }
            | DictionaryState::On(dict)
            | DictionaryState::Dropped(dict) => dict.page.len(),
        }
    }

    /// The state of a new chunk: sampling when a dictionary is `wanted`
    /// (decided at once, as kept, when `sample` is 0), plain otherwise.
    pub(super) fn new(wanted: bool, sample: usize) -> Self {
        match (wanted, sample) {
            (false, _) => Self::Plain,
            (true, 0) => Self::On(Dictionary::default()),
            (true, _) => Self::Sampling {
                dict: Dictionary::default(),
                seen: 0,
            },
        }
    }

    /// Whether values are written without the dictionary now.
    #[inline]
    pub(super) fn is_plain(&self) -> bool {
        matches!(self, Self::Plain | Self::Dropped(_))
    }

    /// The dictionary values go through now (sampling or on), if any.
    #[inline]
    pub(super) fn active_mut(&mut self) -> Option<&mut Dictionary> {
        match self {
            Self::Sampling { dict, .. } | Self::On(dict) => Some(dict),
            Self::Plain | Self::Dropped(_) => None,
        }
    }

    /// The dictionary values go through now (sampling or on), if any.
    pub(super) fn active(&self) -> Option<&Dictionary> {
        match self {
            Self::Sampling { dict, .. } | Self::On(dict) => Some(dict),
            Self::Plain | Self::Dropped(_) => None,
        }
    }

    /// The dictionary whose page the chunk writes: any but [`Self::Plain`].
    pub(super) fn into_page(self) -> Option<Dictionary> {
        match self {
            Self::Sampling { dict, .. } | Self::On(dict) | Self::Dropped(dict) => Some(dict),
            Self::Plain => None,
        }
    }

    /// How many more values may go through before [`Self::pays`] has a
    /// decision to make other than the byte cap: the rest of the sample
    /// while sampling, unbounded otherwise.
    #[inline]
    pub(super) fn values_until_decision(&self, sample: usize) -> usize {
        match self {
            Self::Sampling { seen, .. } => sample.saturating_sub(*seen).max(1),
            _ => usize::MAX,
        }
    }

    /// Whether to go on with the dictionary after `n` more values. It stops
    /// when its page passes `max_bytes` (as the parquet crate's does), and
    /// when the chunk's first `sample` values hold more than one distinct
    /// value in [`MIN_REPEATS`]: a mostly-unique column (durations, digests,
    /// messages among attribute values) costs a hash-table insert per value
    /// and ends up no smaller than its text under Snappy.
    ///
    /// Passing the sample moves [`Self::Sampling`] to [`Self::On`]; a `false`
    /// leaves the state to [`Self::give_up`], once the caller has closed the
    /// page that still uses the dictionary.
    #[inline]
    pub(super) fn pays(&mut self, n: usize, max_bytes: usize, sample: usize) -> bool {
        match self {
            Self::On(dict) => dict.page.len() <= max_bytes,
            Self::Sampling { dict, seen } => {
                if dict.page.len() > max_bytes {
                    return false;
                }
                *seen += n;
                if *seen < sample {
                    return true;
                }
                self.decide()
            }
            Self::Plain | Self::Dropped(_) => false,
        }
    }

    /// The end of the sample: whether its values repeat enough, and if so
    /// [`Self::On`]. Once per chunk, out of the hot loop.
    #[cold]
    fn decide(&mut self) -> bool {
        let Self::Sampling { dict, seen } = self else {
            return matches!(self, Self::On(_));
        };
        let pays = dict.len() * MIN_REPEATS <= *seen;
        if pays {
            *self = Self::On(std::mem::take(dict));
        }
        pays
    }

    /// Ends the dictionary: the rest of the chunk is written without it.
    pub(super) fn give_up(&mut self) {
        *self = match std::mem::replace(self, Self::Plain) {
            Self::Sampling { dict, .. } | Self::On(dict) | Self::Dropped(dict) => {
                Self::Dropped(dict)
            }
            Self::Plain => Self::Plain,
        };
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

/// Byte equality, inlined for the short strings that most values are (a
/// call to `memcmp` costs more than the compare). Longer ones go eight bytes
/// at a time on wasm32, where `==` is compiler-builtins' byte-by-byte
/// `memcmp` (7.5 % of a logs request's time in workerd, profiled
/// 2026-11-30); natively libc's vectorised `memcmp` is faster still.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
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
        _ if cfg!(target_arch = "wasm32") => same_by_words(a, b),
        _ => a == b,
    }
}

/// Equality of two slices of one length of at least 8, eight bytes at a
/// time: whole words, then the last eight bytes (overlapping).
#[inline]
fn same_by_words(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]));
    let n = a.len();
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .all(|(x, y)| word(x) == word(y))
        && word(&a[n - 8..]) == word(&b[n - 8..])
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
        assert_eq!(d.value(1), b"a");
        assert_eq!(d.page, [1, 0, 0, 0, b'b', 1, 0, 0, 0, b'a', 0, 0, 0, 0]);
    }

    /// The short-string compare and hash agree with `==` at every length
    /// class (0, 1-3, 4-7, 8-16, longer), including strings that differ only
    /// in a middle byte the word reads overlap on.
    #[test]
    fn same_and_hash_agree_with_equality() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same(&a, &a.clone()));
            assert!(n < 8 || same_by_words(&a, &a.clone()));
            assert_eq!(hash(&a), hash(&a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert_eq!(same(&a, &b), a == b, "length {n}, byte {i}");
                if n >= 8 {
                    assert!(!same_by_words(&a, &b), "length {n}, byte {i}");
                }
            }
            assert!(!same(&a, &[a.as_slice(), b"x"].concat()));
        }
        // Many distinct short values intern to distinct ids.
        let mut d = Dictionary::default();
        for i in 0..2000u32 {
            assert_eq!(d.intern(format!("{i}").as_bytes()), i);
        }
        assert_eq!(d.intern(b"1999"), 1999);
    }

    /// A sample of values that repeat keeps the dictionary (sampling, then
    /// on); a sample of mostly distinct ones gives it up at the sample's
    /// end; either gives it up once its page passes the byte cap.
    #[test]
    fn the_state_moves_on_the_sample_and_the_byte_cap() {
        let (cap, sample) = (1 << 20, 16);
        assert!(DictionaryState::new(false, sample).is_plain());
        assert!(matches!(
            DictionaryState::new(true, 0),
            DictionaryState::On(_)
        ));

        // Two distinct values in 16: 2 * 8 <= 16, kept.
        let mut s = DictionaryState::new(true, sample);
        for i in 0..16 {
            let dict = s.active_mut().unwrap();
            dict.intern([b"a", b"b"][i % 2]);
            assert!(s.pays(1, cap, sample));
            let sampling = matches!(s, DictionaryState::Sampling { .. });
            assert_eq!(sampling, i < 15, "after value {i}");
        }
        assert!(matches!(s, DictionaryState::On(_)));
        assert!(s.active().is_some() && !s.is_plain());

        // Three distinct in 16: 3 * 8 > 16, given up at the sample's end.
        let mut s = DictionaryState::new(true, sample);
        for i in 0..16 {
            s.active_mut().unwrap().intern([b"a", b"b", b"c"][i % 3]);
            assert_eq!(s.pays(1, cap, sample), i < 15, "after value {i}");
        }
        s.give_up();
        assert!(s.is_plain() && s.active().is_none());
        assert_eq!(s.into_page().map(|d| d.len()), Some(3));

        // Kept after the sample, then past 12 bytes of page: given up.
        let mut s = DictionaryState::new(true, 1);
        s.active_mut().unwrap().intern(b"a");
        assert!(s.pays(8, 12, 1));
        s.active_mut().unwrap().intern(b"bcdefgh");
        assert!(!s.pays(1, 12, 1));
        s.give_up();
        assert!(matches!(s, DictionaryState::Dropped(_)));
        assert!(!s.pays(1, 12, 1));
    }
}
