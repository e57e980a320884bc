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

use super::{PageBuffers, StringColumn};
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
}

/// Whether `a` and `b` are the same array: the same buffers, the same
/// length (the reader hands every batch of a column chunk the same
/// dictionary).
fn same_array(a: &StringArray, b: &StringArray) -> bool {
    a.len() == b.len()
        && a.value_offsets().as_ptr() == b.value_offsets().as_ptr()
        && a.values().ptr_eq(b.values())
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
            let mut ids = std::mem::take(&mut self.taken);
            ids.clear();
            for k in batches {
                ids.push(self.known_ids(k));
            }
            let result = self.push_keyed_runs(batches, runs, &mut ids, bufs);
            for (k, ids) in batches.iter().zip(ids.drain(..)) {
                if let Some(Some(known)) = self.known.get_mut(k.input) {
                    known.ids = ids;
                }
            }
            self.taken = ids;
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
    fn push_keyed_runs(
        &mut self,
        batches: &[Keyed],
        runs: &[Run],
        ids: &mut [Vec<u32>],
        bufs: &mut PageBuffers,
    ) -> Result<(usize, usize)> {
        let (max_bytes, sample) = (self.limits.dictionary_bytes, self.limits.dictionary_sample);
        // Values not yet counted by `pays`, which is asked only when the
        // sample ends or the dictionary passes its cap (not every row).
        let (mut pending, mut budget) = (0, self.dict.values_until_decision(sample));
        // The last row pushed to the open page: its batch, keys and bytes.
        let mut prev: Option<(usize, &[i32], i64)> = None;
        for (i, &(b, start, len)) in runs.iter().enumerate() {
            let k = &batches[b];
            for r in start..start + len {
                let keys = k.row_keys(r)?;
                let n = keys.len();
                // Only a value new to the dictionary grows its page.
                let mut grew = false;
                let bytes = match prev {
                    // The same keys of the same batch as the row before
                    // (rows of one resource or scope): the same ids.
                    Some((pb, pk, bytes)) if pb == b && n > 0 && same_keys(pk, keys) => {
                        let ids = &mut self.page.ids;
                        let from = ids.len() - n;
                        if n == 1 {
                            let id = ids[from];
                            ids.push(id);
                        } else {
                            ids.extend_from_within(from..);
                        }
                        bytes
                    }
                    _ => {
                        let (bytes, new) = self.push_keys(keys, k.dict, &mut ids[b])?;
                        grew = new;
                        bytes
                    }
                };
                prev = Some((b, keys, bytes));
                let page = &mut self.page;
                page.rows += 1;
                page.unencoded_bytes += bytes;
                if self.nested {
                    page.counts.push(n as u32);
                    page.levels += n.max(1);
                } else {
                    page.levels += 1;
                }
                if self.page_full() {
                    self.flush_page(bufs)?;
                    prev = None;
                }
                pending += n;
                if pending >= budget || (grew && self.dict.page_bytes() > max_bytes) {
                    if !self.dict.pays(pending, max_bytes, sample) {
                        // Close this page and write the rest of the chunk
                        // without it.
                        self.flush_page(bufs)?;
                        self.dict.give_up();
                        return Ok((i, r + 1 - start));
                    }
                    (pending, budget) = (0, self.dict.values_until_decision(sample));
                }
            }
        }
        // Count the rest of the values (the sample does not end on them).
        if !self.dict.pays(pending, max_bytes, sample) {
            self.flush_page(bufs)?;
            self.dict.give_up();
        }
        Ok((runs.len(), 0))
    }

    /// The ids this chunk learned of `k`'s dictionary, taken out of
    /// `self.known` (the caller puts them back): those learned so far when
    /// it is the dictionary last seen for `k.input`, else none yet.
    fn known_ids(&mut self, k: &Keyed) -> Vec<u32> {
        if self.known.len() <= k.input {
            self.known.resize_with(k.input + 1, || None);
        }
        let slot = &mut self.known[k.input];
        if let Some(known) = slot {
            // Taken already (an input twice in one call) is a fresh start:
            // interning again gives the same ids.
            if same_array(&known.values, k.dict) && known.ids.len() == k.dict.len() {
                return std::mem::take(&mut known.ids);
            }
        }
        *slot = Some(KnownDictionary {
            values: k.dict.clone(),
            ids: Vec::new(),
        });
        vec![NO_ID; k.dict.len()]
    }

    /// Dictionary ids for one row's values, `keys` into `dict` (`ids`: the
    /// chunk's id of each of `dict`'s values, learned here); returns the
    /// values' bytes, and whether one was new to the chunk's dictionary. A
    /// key outside `dict` is an internal error.
    #[inline]
    fn push_keys(
        &mut self,
        keys: &[i32],
        dict: &StringArray,
        ids: &mut [u32],
    ) -> Result<(i64, bool)> {
        let Some(chunk) = self.dict.active_mut() else {
            return Ok((0, false));
        };
        let (offsets, data) = (dict.value_offsets(), dict.value_data());
        let page = &mut self.page;
        let (mut bytes, mut grew) = (0, false);
        for &k in keys {
            // A negative key wraps past any dictionary's length; `ids` has
            // one entry per value of `dict`, and `offsets` one more.
            let k = k as u32 as usize;
            let Some(slot) = ids.get_mut(k) else {
                return Err(internal("a dictionary key past its dictionary"));
            };
            // `k` is below `ids`' length here, so `k + 2` cannot overflow.
            let Some(&[a, b]) = offsets.get(k..k + 2) else {
                return Err(internal("a dictionary key past its offsets"));
            };
            let (a, b) = (a as usize, b as usize);
            bytes += (b - a) as i64;
            let mut id = *slot;
            if id == NO_ID {
                let len = chunk.len();
                id = chunk.intern(&data[a..b]);
                grew |= chunk.len() > len;
                *slot = id;
            }
            if self.stats.is_some() && page.first_in_page(id) {
                page.stats.update(&data[a..b]);
            }
            page.ids.push(id);
        }
        Ok((bytes, grew))
    }
}

/// Whether two rows' keys are the same, compared a key at a time: `==` on
/// slices calls `memcmp`, which on wasm32 is a loop over bytes.
#[inline]
fn same_keys(a: &[i32], b: &[i32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
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
