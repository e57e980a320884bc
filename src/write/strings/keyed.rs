//! String rows that arrive as dictionary keys: compaction's inputs, whose
//! string leaves the parquet reader leaves as dictionaries
//! (`compact::read::decoded_schema`), taken a run of rows at a time.
//!
//! A chunk interns each value of an input's dictionary once, the first time
//! a row uses it, and remembers the id per input ([`KnownDictionary`]); a
//! row then costs one array lookup per value, where a `Utf8` row costs a
//! compare with the row before or a hash and a probe. The ids follow first
//! appearance in row order, as for `Utf8` rows, so the chunk's bytes are the
//! same either way.
//!
//! A known dictionary stays held until its input brings another or the row
//! group closes: at most one per input and leaf, one that the input's
//! reader held (the compactor's memory bound counts each input's share for
//! the whole run, after the input is exhausted too).
//!
//! A chunk without its dictionary (never wanted, or given up) needs the
//! values' bytes: the rows left are looked up into one `Utf8` array and
//! written as such ([`StringColumn::write_rows`]).

use arrow_array::{Array, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer};

use super::dictionary::Dictionary;
use super::{holds_over, PageBuffers, StringColumn};
use crate::batch::internal;
use crate::error::Result;
use crate::write::Run;

/// A value of an input's dictionary not interned yet.
const NO_ID: u32 = u32::MAX;

/// One batch's leaf, as keys into the batch's dictionary.
pub struct Keyed<'a> {
    /// The merge input the batch comes from: the same for all its batches.
    pub input: usize,
    /// The keys: one per row for a top-level column, one per entry for a
    /// map's leaf.
    pub keys: &'a [i32],
    /// The dictionary, without nulls.
    pub dict: &'a StringArray,
    /// A map's row offsets into `keys` (`None`: a top-level column).
    pub offsets: Option<&'a [i32]>,
}

impl Keyed<'_> {
    /// Row `r`'s range of `keys`.
    #[inline]
    fn row(&self, r: usize) -> (usize, usize) {
        match self.offsets {
            Some(o) => (o[r] as usize, o[r + 1] as usize),
            None => (r, r + 1),
        }
    }

    /// Row `r`'s keys, or an internal error when its range does not lie
    /// inside `keys`. Checked as rows are used: a batch is in many calls,
    /// a few of its rows in each.
    #[inline]
    fn row_keys(&self, r: usize) -> Result<&[i32]> {
        let (s, e) = self.row(r);
        self.keys
            .get(s..e)
            .ok_or_else(|| internal("map offsets outside their entries"))
    }

    /// Rows of the batch: the keys, or the map's rows.
    fn rows(&self) -> usize {
        self.offsets
            .map_or(self.keys.len(), |o| o.len().saturating_sub(1))
    }
}

/// What a chunk learned of one input's dictionary: the dictionary itself,
/// held so that the buffers that identify it are not freed and reused by
/// another while it is known, and the chunk's id of each of its values
/// ([`NO_ID`] until a row uses it).
pub(super) struct KnownDictionary {
    values: StringArray,
    ids: Vec<u32>,
    /// Some value of it is longer than the chunk's dictionary cap
    /// ([`holds_over`]).
    over_cap: bool,
}

/// Whether `a` and `b` are the same array: the same buffers, the same
/// length (the reader hands every batch of a column chunk the same
/// dictionary).
fn same_array(a: &StringArray, b: &StringArray) -> bool {
    a.len() == b.len()
        && a.value_offsets().as_ptr() == b.value_offsets().as_ptr()
        && a.values().ptr_eq(b.values())
}

/// What a call knows of one of its batches' dictionaries: the chunk's id
/// of each value ([`NO_ID`] until a row uses it), and whether some value
/// passes the chunk's dictionary cap ([`holds_over`]), so that rows of a
/// dictionary whose values all fit it skip the check for one that does not.
pub(super) struct Learned {
    ids: Vec<u32>,
    over_cap: bool,
}

/// Values a segment of keyed rows takes at most (see
/// [`StringColumn::push_keyed_runs`]): its ids are scratch space.
const SEGMENT_VALUES: usize = 4096;

/// One segment of keyed rows, mapped to a chunk's dictionary ids: scratch
/// space the string columns of a file share (in [`PageBuffers`]).
#[derive(Default)]
pub(super) struct Mapped {
    /// The rows' values, as the chunk's ids.
    ids: Vec<u32>,
    /// Values per row (a map's leaf only).
    counts: Vec<u32>,
    /// The segment ended before a row holding a value over the
    /// dictionary's cap, which never goes in: the dictionary ends there.
    over_cap: bool,
}

impl Mapped {
    /// Bytes its buffers take.
    pub(super) fn capacity_bytes(&self) -> usize {
        4 * (self.ids.capacity() + self.counts.capacity())
    }

    /// Maps the rows of `runs` from `from` (`(run, rows of it done)`) to
    /// `chunk`'s ids, interning the values not seen before (`learned`:
    /// each batch's ids learned so far), until the runs end, the rows fill the
    /// open page (`room`: its rows and values left), hold `budget` values
    /// or [`SEGMENT_VALUES`], or a value interned takes the dictionary's
    /// page past `max_bytes`; returns where the next segment starts. A
    /// segment ends on a row's end, and holds a row at least, unless it
    /// ends before a row holding a value over `max_bytes` (`over_cap`).
    ///
    /// A page's ids are as wide as the dictionary is long when the page
    /// closes, so a segment never interns a value of a row after the one
    /// that fills its page.
    #[allow(clippy::too_many_arguments)]
    fn map(
        &mut self,
        chunk: &mut Dictionary,
        batches: &[Keyed],
        runs: &[Run],
        learned: &mut [Learned],
        from: (usize, usize),
        room: (usize, usize),
        budget: usize,
        max_bytes: usize,
    ) -> Result<(usize, usize)> {
        self.ids.clear();
        self.counts.clear();
        self.over_cap = false;
        let (room_rows, room_ids) = room;
        let limit = budget.min(SEGMENT_VALUES).min(room_ids);
        let mut past_cap = false;
        let mut rows = 0;
        let (mut i, mut done) = from;
        while i < runs.len() {
            let (b, start, len) = runs[i];
            let k = &batches[b];
            let Learned {
                ids: known,
                over_cap: check,
            } = &mut learned[b];
            let check = *check;
            for r in start + done..start + len {
                let keys = k.row_keys(r)?;
                if check && keys.iter().any(|&key| value_len(k.dict, key) > max_bytes) {
                    self.over_cap = true;
                    return Ok((i, r - start));
                }
                if k.offsets.is_some() {
                    self.counts.push(keys.len() as u32);
                }
                for &key in keys {
                    // A negative key wraps past any dictionary's length.
                    let id = match known.get(key as u32 as usize) {
                        Some(&id) if id != NO_ID => id,
                        _ => {
                            let id = learn(chunk, k.dict, known, key)?;
                            past_cap |= chunk.page.len() > max_bytes;
                            id
                        }
                    };
                    self.ids.push(id);
                }
                rows += 1;
                if past_cap || self.ids.len() >= limit || rows == room_rows {
                    return Ok(if r + 1 == start + len {
                        (i + 1, 0)
                    } else {
                        (i, r + 1 - start)
                    });
                }
            }
            (i, done) = (i + 1, 0);
        }
        Ok((runs.len(), 0))
    }
}

/// The bytes of `dict`'s value `key` (0 for a key outside it: using it is
/// an error further on).
fn value_len(dict: &StringArray, key: i32) -> usize {
    let key = key as u32 as usize;
    match dict.value_offsets().get(key..key.saturating_add(2)) {
        Some(&[a, z]) => (z - a) as usize,
        _ => 0,
    }
}

/// The chunk's id of `dict`'s value `key`, interned the first time a row
/// uses it, and kept in `known`. A key outside `dict` is an internal error.
#[cold]
fn learn(chunk: &mut Dictionary, dict: &StringArray, known: &mut [u32], key: i32) -> Result<u32> {
    let key = key as u32 as usize;
    let Some(slot) = known.get_mut(key) else {
        return Err(internal("a dictionary key past its dictionary"));
    };
    // `key` is below `known`'s length (one entry per value of `dict`), so
    // `key + 2` cannot overflow.
    let Some(&[a, z]) = dict.value_offsets().get(key..key + 2) else {
        return Err(internal("a dictionary key past its offsets"));
    };
    let value = dict
        .value_data()
        .get(a as usize..z as usize)
        .ok_or_else(|| internal("a dictionary value past its data"))?;
    *slot = chunk.intern(value);
    Ok(*slot)
}

impl StringColumn {
    /// Appends `runs` of rows of `batches` (`(batch, first row, rows)`),
    /// in order. An internal error when a batch's keys, offsets or runs do
    /// not fit together.
    pub fn write_keyed(
        &mut self,
        batches: &[Keyed],
        runs: &[Run],
        bufs: &mut PageBuffers,
    ) -> Result<()> {
        for k in batches {
            if k.dict.null_count() > 0 {
                return Err(internal("a dictionary holds a null"));
            }
            debug_assert_eq!(self.nested, k.offsets.is_some());
        }
        if runs
            .iter()
            .any(|&(b, start, len)| batches.get(b).is_none_or(|k| start + len > k.rows()))
        {
            return Err(internal("a run outside its batch"));
        }
        self.prev = None;
        let mut done = (0, 0);
        if !self.dict.is_plain() {
            // Each batch's ids, out of `known` for the call (in a list
            // kept from call to call).
            let mut learned = std::mem::take(&mut self.taken);
            learned.clear();
            for k in batches {
                learned.push(self.known_ids(k));
            }
            let result = self.push_keyed_runs(batches, runs, &mut learned, bufs);
            for (k, Learned { ids, .. }) in batches.iter().zip(learned.drain(..)) {
                if let Some(Some(known)) = self.known.get_mut(k.input) {
                    known.ids = ids;
                }
            }
            self.taken = learned;
            done = result?;
        }
        let (run, row) = done;
        if run == runs.len() {
            return Ok(());
        }
        // No dictionary (any more): the rows left as strings.
        let mut rest = runs[run..].to_vec();
        rest[0].1 += row;
        rest[0].2 -= row;
        let (offsets, values) = strings_of(batches, &rest)?;
        let rows = offsets.len() - 1;
        self.write_rows(
            &values,
            rows,
            |i| (offsets[i] as usize, offsets[i + 1] as usize),
            bufs,
        )
    }

    /// Appends rows through the dictionary while the chunk keeps it;
    /// returns where it stopped, `(run, rows of it done)`: `(runs.len(),
    /// 0)` unless it gave the dictionary up.
    ///
    /// The rows go in segments, each in two loops: one maps the segment's
    /// keys to the chunk's ids, run after run (a merge of many inputs hands
    /// over runs of a row or two, so what a run costs is what counts), the
    /// other appends those ids to the open page. A segment ends where a
    /// writer taking one row at a time would have to look at something:
    /// the page fills, the dictionary's sample ends, or a value just
    /// interned takes the dictionary past its cap (or at
    /// [`SEGMENT_VALUES`]). The state is asked there, so the pages and the
    /// dictionary's decisions, hence the bytes, are those of the same rows
    /// written as strings.
    fn push_keyed_runs(
        &mut self,
        batches: &[Keyed],
        runs: &[Run],
        learned: &mut [Learned],
        bufs: &mut PageBuffers,
    ) -> Result<(usize, usize)> {
        let mut mapped = std::mem::take(&mut bufs.mapped);
        let result = self.push_segments(&mut mapped, batches, runs, learned, bufs);
        bufs.mapped = mapped;
        result
    }

    /// [`StringColumn::push_keyed_runs`] with its scratch space, `mapped`.
    fn push_segments(
        &mut self,
        mapped: &mut Mapped,
        batches: &[Keyed],
        runs: &[Run],
        learned: &mut [Learned],
        bufs: &mut PageBuffers,
    ) -> Result<(usize, usize)> {
        let (max_bytes, sample) = (self.limits.dictionary_bytes, self.limits.dictionary_sample);
        let (max_rows, max_ids) = (self.limits.page_rows, self.limits.page_bytes.div_ceil(4));
        if self.page_full() {
            self.flush_page(bufs)?;
        }
        // From here each segment leaves the page not full (`push_mapped`).
        let mut at = (0, 0);
        while at.0 < runs.len() {
            // Both at least 1: the page is not full.
            let room = (
                max_rows.saturating_sub(self.page.rows).max(1),
                max_ids.saturating_sub(self.page.ids.len()).max(1),
            );
            let budget = self.dict.values_until_decision(sample);
            let Some(chunk) = self.dict.active_mut() else {
                return Err(internal("keyed rows without a dictionary"));
            };
            at = mapped.map(chunk, batches, runs, learned, at, room, budget, max_bytes)?;
            self.push_mapped(mapped, bufs)?;
            if mapped.over_cap || !self.dict.pays(mapped.ids.len(), max_bytes, sample) {
                self.end_dictionary(bufs)?;
                return Ok(at);
            }
        }
        Ok(at)
    }

    /// Appends the rows of `mapped`, which fit the open page (the last of
    /// them may fill it), and closes the page if they filled it.
    fn push_mapped(&mut self, mapped: &Mapped, bufs: &mut PageBuffers) -> Result<()> {
        let Some(chunk) = self.dict.active() else {
            return Err(internal("keyed rows without a dictionary"));
        };
        let page = &mut self.page;
        let mut bytes = 0;
        if self.stats.is_some() {
            for &id in &mapped.ids {
                let v = chunk.value(id);
                bytes += v.len();
                if page.first_in_page(id) {
                    page.stats.update(v);
                }
            }
        } else {
            bytes = mapped.ids.iter().map(|&id| chunk.value_len(id)).sum();
        }
        page.ids.extend_from_slice(&mapped.ids);
        page.unencoded_bytes += bytes as i64;
        if self.nested {
            page.rows += mapped.counts.len();
            page.counts.extend_from_slice(&mapped.counts);
            page.levels += mapped
                .counts
                .iter()
                .map(|&n| (n as usize).max(1))
                .sum::<usize>();
        } else {
            page.rows += mapped.ids.len();
            page.levels += mapped.ids.len();
        }
        if self.page_full() {
            self.flush_page(bufs)?;
        }
        Ok(())
    }

    /// The ids this chunk learned of `k`'s dictionary, taken out of
    /// `self.known` (the caller puts them back): those learned so far when
    /// it is the dictionary last seen for `k.input`, else none yet.
    fn known_ids(&mut self, k: &Keyed) -> Learned {
        let cap = self.limits.dictionary_bytes;
        if self.known.len() <= k.input {
            self.known.resize_with(k.input + 1, || None);
        }
        let slot = &mut self.known[k.input];
        if let Some(known) = slot {
            // Taken already (an input twice in one call) is a fresh start:
            // interning again gives the same ids.
            if same_array(&known.values, k.dict) && known.ids.len() == k.dict.len() {
                return Learned {
                    ids: std::mem::take(&mut known.ids),
                    over_cap: known.over_cap,
                };
            }
        }
        let over_cap = holds_over(k.dict.value_offsets(), cap);
        *slot = Some(KnownDictionary {
            values: k.dict.clone(),
            ids: Vec::new(),
            over_cap,
        });
        Learned {
            ids: vec![NO_ID; k.dict.len()],
            over_cap,
        }
    }
}

/// The rows of `runs` as strings: each row's range of values (row offsets,
/// from 0) and the values, looked up in their dictionaries.
fn strings_of(batches: &[Keyed], runs: &[Run]) -> Result<(Vec<i32>, StringArray)> {
    let mut rows = vec![0i32];
    let mut offsets = vec![0i32];
    let mut data = Vec::new();
    for &(b, start, len) in runs {
        let k = &batches[b];
        let (dict_offsets, dict_data) = (k.dict.value_offsets(), k.dict.value_data());
        for r in start..start + len {
            for &key in k.row_keys(r)? {
                let key = key as u32 as usize;
                if key >= k.dict.len() {
                    return Err(internal("a dictionary key past its dictionary"));
                }
                data.extend_from_slice(
                    &dict_data[dict_offsets[key] as usize..dict_offsets[key + 1] as usize],
                );
                let end = i32::try_from(data.len())
                    .map_err(|_| internal("a run's strings past 2 GiB"))?;
                offsets.push(end);
            }
            rows.push((offsets.len() - 1) as i32);
        }
    }
    let values = StringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from_vec(data),
        None,
    )?;
    Ok((rows, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::WriteOptions;
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowSchemaConverter;

    /// A chunk of `field`'s first leaf, with a dictionary and statistics.
    fn column(field: Field) -> StringColumn {
        let descr = ArrowSchemaConverter::new()
            .convert(&Schema::new(vec![field]))
            .unwrap();
        StringColumn::new(descr.column(0), true, true, &WriteOptions::default())
    }

    fn top() -> StringColumn {
        column(Field::new("ServiceName", DataType::Utf8, false))
    }

    /// Keys, offsets and runs that do not fit are errors, never panics.
    #[test]
    fn keys_and_rows_outside_their_batch_are_errors() {
        let dict = StringArray::from(vec!["a", "b"]);
        let bufs = &mut PageBuffers::default();
        let keyed = |keys, offsets| Keyed {
            input: 0,
            keys,
            dict: &dict,
            offsets,
        };
        for keys in [&[0, 2][..], &[-1][..]] {
            let k = keyed(keys, None);
            assert!(top()
                .write_keyed(&[k], &[(0, 0, keys.len())], bufs)
                .is_err());
        }
        let k = keyed(&[0, 1], None);
        assert!(top()
            .write_keyed(&[keyed(&[0, 1], None)], &[(0, 1, 2)], bufs)
            .is_err());
        assert!(top().write_keyed(&[k], &[(1, 0, 1)], bufs).is_err());

        let map = Field::new_map(
            "LogAttributes",
            "entries",
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, false),
            false,
            false,
        );
        let mut leaf = column(map);
        let k = keyed(&[0, 1], Some(&[0, 3]));
        assert!(leaf.write_keyed(&[k], &[(0, 0, 1)], bufs).is_err());
        let k = keyed(&[0, 1, 1], Some(&[0, 2, 3]));
        assert!(leaf.write_keyed(&[k], &[(0, 0, 2)], bufs).is_ok());
    }

    /// An input's dictionary is learned once and forgotten when the input
    /// brings another: the chunk's ids follow first use either way.
    #[test]
    fn ids_are_learned_per_input_dictionary() {
        let (d1, d2) = (
            StringArray::from(vec!["x", "y"]),
            StringArray::from(vec!["y", "z"]),
        );
        let mut c = top();
        let bufs = &mut PageBuffers::default();
        let keyed = |input, keys, dict| Keyed {
            input,
            keys,
            dict,
            offsets: None,
        };
        c.write_keyed(&[keyed(3, &[1, 0], &d1)], &[(0, 0, 2)], bufs)
            .unwrap();
        c.write_keyed(&[keyed(3, &[0, 1], &d2)], &[(0, 0, 2)], bufs)
            .unwrap();
        // y x | y z: ids 0 1 | 0 2.
        assert_eq!(c.page.ids, [0, 1, 0, 2]);
        let known = c.known[3].as_ref().unwrap();
        assert!(same_array(&known.values, &d2));
        assert_eq!(known.ids, [0, 2]);
    }
}
