//! Rows taken from several batches ([`Rows`]: compaction's merge output),
//! and their columns copied into one array, a run of consecutive rows at a
//! time ([`gather`]).
//!
//! The file writer encodes the dictionary-decoded string leaves straight
//! from the runs (`strings`); every other column is gathered first.
//! `arrow_select::interleave` would take one `(array, row)` pair per row.
//! For strings and numbers that is a copy per row, but for a `Map` or a
//! `List` of structs it falls back to `MutableArrayData`, which extends the
//! offsets, the entry struct, the keys and the values one row at a time
//! through boxed closures and grows every child buffer by reallocation: a
//! fifth of a merge's time (`perf`, 40 files of 8,192 logs). Here a row's
//! map entries, a list's items or a run's string bytes are contiguous in
//! their input, so each run costs one copy per buffer, the children are
//! gathered by the ranges their offsets give, and every buffer is allocated
//! once at its final size.
//!
//! The tables' columns are strings, fixed-width numbers and timestamps,
//! and lists, maps and structs of them, none nullable. Anything else (a
//! null buffer, a boolean, a dictionary, a type a table does not have) goes
//! through `interleave` row by row, with the same result.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    make_array, Array, ArrayRef, ListArray, MapArray, RecordBatch, RecordBatchOptions, StringArray,
    StructArray,
};
use arrow_buffer::{Buffer, MutableBuffer, OffsetBuffer};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, SchemaRef};

/// `(array, first row, rows)`: consecutive rows of one of the arrays.
pub type Run = (usize, usize, usize);

/// Rows of several batches with the same columns, in order: runs of
/// consecutive rows, each of one batch. Each batch comes with the merge
/// input it was read from, which stays the same for all of that input's
/// batches (the writer keys what it learns of a batch's dictionaries by it).
#[derive(Debug, Clone)]
pub struct Rows {
    /// `(input, batch)`.
    pub batches: Vec<(usize, Arc<RecordBatch>)>,
    /// Runs over `batches`: `(index in batches, first row, rows)`.
    pub runs: Vec<Run>,
}

impl Rows {
    /// All of one batch's rows, as input 0.
    pub fn of(batch: RecordBatch) -> Rows {
        let n = batch.num_rows();
        Rows {
            batches: vec![(0, Arc::new(batch))],
            runs: vec![(0, 0, n)],
        }
    }

    /// Rows in all runs.
    pub fn num_rows(&self) -> usize {
        self.runs.iter().map(|r| r.2).sum()
    }

    /// Column `c` of every batch, in `batches` order.
    pub fn column(&self, c: usize) -> Vec<&ArrayRef> {
        self.batches.iter().map(|(_, b)| b.column(c)).collect()
    }

    /// Whether the rows are all of one batch's, in one run.
    pub fn is_whole_batch(&self) -> bool {
        matches!((&self.batches[..], &self.runs[..]),
            ([(_, b)], [(0, 0, n)]) if *n == b.num_rows())
    }

    /// Column `c` of the rows as one array: a batch's own when one run
    /// covers all of it, a slice of it when one run covers part, else
    /// gathered.
    pub fn gather_column(&self, c: usize) -> Result<ArrayRef, ArrowError> {
        let column = self.column(c);
        if self.is_whole_batch() {
            return Ok(Arc::clone(column[0]));
        }
        if let ([a], [(0, start, len)]) = (&column[..], &self.runs[..]) {
            return Ok(a.slice(*start, *len));
        }
        let arrays: Vec<&dyn Array> = column.iter().map(|a| a.as_ref()).collect();
        gather(&arrays, &self.runs)
    }

    /// The rows as one batch of `schema` (the batches' own), each column
    /// as [`Rows::gather_column`] gives it.
    pub fn to_batch(&self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        let columns = (0..schema.fields().len())
            .map(|c| self.gather_column(c))
            .collect::<Result<Vec<_>, _>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.num_rows()));
        RecordBatch::try_new_with_options(schema.clone(), columns, &options)
    }
}

/// The rows of `runs`, in order, as one array of the arrays' type. Every
/// array must have the same type (else an error, as `interleave` gives)
/// and every run must lie inside its array (else a panic, as
/// `interleave`'s indices do: the merge only makes runs of rows it
/// holds).
pub fn gather(arrays: &[&dyn Array], runs: &[Run]) -> Result<ArrayRef, ArrowError> {
    let Some(first) = arrays.first() else {
        return Err(ArrowError::InvalidArgumentError(
            "gather requires at least one array".into(),
        ));
    };
    let data_type = first.data_type();
    if arrays
        .iter()
        .any(|a| a.data_type() != data_type || a.nulls().is_some())
    {
        return row_by_row(arrays, runs);
    }
    match data_type {
        DataType::Utf8 => strings(arrays, runs),
        DataType::List(field) => {
            let lists = arrays
                .iter()
                .map(|a| a.as_list::<i32>())
                .collect::<Vec<_>>();
            let each = lists.iter().map(|l| l.value_offsets()).collect::<Vec<_>>();
            let (offsets, items) = offsets(&each, runs)?;
            let values = lists
                .iter()
                .map(|l| l.values().as_ref())
                .collect::<Vec<_>>();
            let values = gather(&values, &items)?;
            Ok(Arc::new(ListArray::try_new(
                field.clone(),
                offsets,
                values,
                None,
            )?))
        }
        DataType::Map(field, sorted) => {
            let maps = arrays.iter().map(|a| a.as_map()).collect::<Vec<_>>();
            let each = maps.iter().map(|m| m.value_offsets()).collect::<Vec<_>>();
            let (offsets, items) = offsets(&each, runs)?;
            let entries = maps
                .iter()
                .map(|m| m.entries() as &dyn Array)
                .collect::<Vec<_>>();
            let entries = gather(&entries, &items)?;
            Ok(Arc::new(MapArray::try_new(
                field.clone(),
                offsets,
                entries.as_struct().clone(),
                None,
                *sorted,
            )?))
        }
        DataType::Struct(fields) => {
            let structs = arrays.iter().map(|a| a.as_struct()).collect::<Vec<_>>();
            let mut children = Vec::with_capacity(fields.len());
            let mut column = Vec::with_capacity(structs.len());
            for c in 0..fields.len() {
                column.clear();
                column.extend(structs.iter().map(|s| s.column(c).as_ref()));
                children.push(gather(&column, runs)?);
            }
            let rows = runs.iter().map(|r| r.2).sum();
            Ok(Arc::new(StructArray::try_new_with_length(
                fields.clone(),
                children,
                None,
                rows,
            )?))
        }
        t => match t.primitive_width() {
            Some(width) => fixed(arrays, runs, width),
            None => row_by_row(arrays, runs),
        },
    }
}

/// The rows of `runs` of maps: their offsets, from 0, and one leaf of
/// their entries (0 the keys, 1 the values) gathered by those rows'
/// entries.
pub fn map_leaf(
    maps: &[&MapArray],
    runs: &[Run],
    leaf: usize,
) -> Result<(OffsetBuffer<i32>, ArrayRef), ArrowError> {
    let each = maps.iter().map(|m| m.value_offsets()).collect::<Vec<_>>();
    let (offsets, items) = offsets(&each, runs)?;
    let leaves = maps
        .iter()
        .map(|m| m.entries().column(leaf).as_ref())
        .collect::<Vec<_>>();
    Ok((offsets, gather(&leaves, &items)?))
}

/// The gathered rows' offsets, from 0, and for each run the range of
/// child items (string bytes, list items, map entries) its rows cover, as
/// runs of the children. An error when the items overflow `i32` offsets.
fn offsets(each: &[&[i32]], runs: &[Run]) -> Result<(OffsetBuffer<i32>, Vec<Run>), ArrowError> {
    let rows: usize = runs.iter().map(|r| r.2).sum();
    let mut out = Vec::with_capacity(rows + 1);
    out.push(0i32);
    let mut items = Vec::with_capacity(runs.len());
    // Valid offsets only grow, so wrapping arithmetic is exact until the
    // items pass `i32::MAX`, which is checked once at the end.
    let mut end = 0i64;
    for &(a, start, len) in runs {
        let o = &each[a][start..=start + len];
        let (base, last) = (o[0], o[len]);
        let shift = (end as i32).wrapping_sub(base);
        if let [one] = o[1..] {
            out.push(one.wrapping_add(shift));
        } else {
            out.extend(o[1..].iter().map(|&x| x.wrapping_add(shift)));
        }
        let n = i64::from(last) - i64::from(base);
        items.push((a, base as usize, n as usize));
        end += n;
    }
    if end > i64::from(i32::MAX) {
        return Err(ArrowError::OffsetOverflowError(end as usize));
    }
    Ok((OffsetBuffer::new(out.into()), items))
}

/// `Utf8`: offsets, then each run's bytes in one copy.
fn strings(arrays: &[&dyn Array], runs: &[Run]) -> Result<ArrayRef, ArrowError> {
    let strings = arrays
        .iter()
        .map(|a| a.as_string::<i32>())
        .collect::<Vec<_>>();
    let each = strings
        .iter()
        .map(|s| s.value_offsets())
        .collect::<Vec<_>>();
    let (offsets, bytes) = offsets(&each, runs)?;
    let mut values = Vec::with_capacity(bytes.iter().map(|r| r.2).sum());
    for &(a, start, len) in &bytes {
        values.extend_from_slice(&strings[a].values()[start..start + len]);
    }
    // SAFETY: each run's bytes are whole values of a valid `StringArray`,
    // from the first value's start offset to the last value's end offset,
    // so their concatenation is valid UTF-8 and each new offset (an old
    // one shifted by the bytes before its run) falls between two values.
    Ok(Arc::new(unsafe {
        StringArray::new_unchecked(offsets, Buffer::from_vec(values), None)
    }))
}

/// A fixed-width type (numbers, timestamps): each run's values in one copy.
fn fixed(arrays: &[&dyn Array], runs: &[Run], width: usize) -> Result<ArrayRef, ArrowError> {
    let data = arrays.iter().map(|a| a.to_data()).collect::<Vec<_>>();
    let rows: usize = runs.iter().map(|r| r.2).sum();
    // Aligned for the type, as a `Vec<u8>` would not be.
    let mut values = MutableBuffer::with_capacity(rows * width);
    for &(a, start, len) in runs {
        let d = &data[a];
        let from = (d.offset() + start) * width;
        values.extend_from_slice(&d.buffers()[0].as_slice()[from..from + len * width]);
    }
    let out = ArrayData::builder(arrays[0].data_type().clone())
        .len(rows)
        .add_buffer(values.into())
        .build()?;
    Ok(make_array(out))
}

/// Any other array: `interleave`, one `(array, row)` pair per row.
fn row_by_row(arrays: &[&dyn Array], runs: &[Run]) -> Result<ArrayRef, ArrowError> {
    let indices = runs
        .iter()
        .flat_map(|&(a, start, len)| (start..start + len).map(move |r| (a, r)))
        .collect::<Vec<_>>();
    arrow_select::interleave::interleave(arrays, &indices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::merge::tests::{files, read, Rng};
    use crate::pipeline::Signal;
    use arrow_array::{BooleanArray, Int64Array};

    /// Random runs over `lens` arrays, from 1 to 5 rows, some of one row.
    fn runs(lens: &[usize], rng: &mut Rng, count: usize) -> Vec<Run> {
        (0..count)
            .filter_map(|_| {
                let a = rng.below(lens.len());
                let start = rng.below(lens[a]);
                let len = (1 + rng.below(5)).min(lens[a] - start);
                (len > 0).then_some((a, start, len))
            })
            .collect()
    }

    #[test]
    fn every_column_of_every_table_gathers_as_interleave_does() {
        let mut rng = Rng(7);
        for signal in [Signal::Logs, Signal::Traces, Signal::Metrics] {
            // Several tables per signal (the metric types), several inputs
            // each, some sliced so that offsets do not start at 0.
            let mut by_table = std::collections::BTreeMap::new();
            for (table, file) in files(signal, &[9, 14, 5, 11], 3) {
                by_table
                    .entry(table)
                    .or_insert_with(Vec::new)
                    .push(read(&file, 1 << 20).1.remove(0));
            }
            for batches in by_table.values() {
                let batches = batches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if i % 2 == 1 && b.num_rows() > 2 {
                            b.slice(1, b.num_rows() - 1)
                        } else {
                            b.clone()
                        }
                    })
                    .collect::<Vec<_>>();
                let lens = batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>();
                let runs = runs(&lens, &mut rng, 12);
                for c in 0..batches[0].num_columns() {
                    let arrays = batches
                        .iter()
                        .map(|b| b.column(c).as_ref())
                        .collect::<Vec<_>>();
                    let got = gather(&arrays, &runs).unwrap();
                    let want = row_by_row(&arrays, &runs).unwrap();
                    got.to_data().validate_full().unwrap();
                    assert_eq!(
                        got.to_data(),
                        want.to_data(),
                        "column {}",
                        batches[0].schema().field(c).name()
                    );
                }
            }
        }
    }

    #[test]
    fn nulls_and_other_types_go_row_by_row() {
        let with_null = Int64Array::from(vec![Some(1), None, Some(3)]);
        let plain = Int64Array::from(vec![4, 5]);
        let arrays: [&dyn Array; 2] = [&with_null, &plain];
        let got = gather(&arrays, &[(1, 1, 1), (0, 0, 3)]).unwrap();
        let want = Int64Array::from(vec![Some(5), Some(1), None, Some(3)]);
        assert_eq!(got.as_primitive::<arrow_array::types::Int64Type>(), &want);

        let flags = BooleanArray::from(vec![true, false, true]);
        let arrays: [&dyn Array; 1] = [&flags];
        let got = gather(&arrays, &[(0, 1, 2)]).unwrap();
        assert_eq!(got.as_boolean(), &BooleanArray::from(vec![false, true]));
    }

    #[test]
    fn mixed_types_and_no_arrays_are_errors() {
        let a = Int64Array::from(vec![1]);
        let b = StringArray::from(vec!["x"]);
        assert!(gather(&[&a as &dyn Array, &b], &[(0, 0, 1)]).is_err());
        assert!(gather(&[], &[]).is_err());
    }
}
