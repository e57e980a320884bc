//! Arrow record batches, one per output table and hour: the shared parts.
//!
//! Every table is built the same way:
//! 1. the rows of the request are listed as [`Row`]s (cheap index tuples),
//!    sorted by the table's sort key and split by hour (`rows.rs`);
//! 2. a sizing pass over one hour's chunk of rows computes exact item counts
//!    and upper bounds of string bytes for every column (`size.rs`), checked
//!    against the request's output budget ([`Context`]);
//! 3. every builder is allocated once from that plan and filled without
//!    growing (`builders.rs`), a column at a time (`columns.rs` says why).
//!
//! What each table's columns are, in which order and from which values, is
//! declared once per table with `columns!` (`columns.rs`) in [`logs`],
//! [`traces`] and [`metrics`]; that declaration also gives
//! [`Table::schema`]. Values are rendered as text by [`render`].
//!
//! Nothing here does I/O or knows Parquet; object names and hour partitions
//! are [`crate::key`]'s.

mod builders;
pub(crate) mod columns;
mod context;
pub mod logs;
pub mod metrics;
pub mod render;
mod rows;
mod size;
pub mod traces;

use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef, TimeUnit};

pub use context::{service_name, Context};
pub use rows::{sort_rows, Row};

use rows::{item_rows, ranks};

use crate::error::Error;
use crate::schema::Table;
use columns::Columns;

impl Table {
    /// The Arrow schema of this table, timestamps in `unit`: the fields of
    /// the table's column declaration, in order.
    pub fn schema(self, unit: TimeUnit) -> SchemaRef {
        let fields = match self {
            Table::Logs => logs::table::Set::fields(unit),
            Table::Traces => traces::table::Set::fields(unit),
            Table::Gauge => metrics::gauge::Set::fields(unit),
            Table::Sum => metrics::sum::Set::fields(unit),
            Table::Histogram => metrics::histogram::Set::fields(unit),
            Table::ExponentialHistogram => metrics::exp_histogram::Set::fields(unit),
            Table::Summary => metrics::summary::Set::fields(unit),
        };
        Arc::new(Schema::new(fields))
    }
}

/// An internal (bug, not input) error.
pub fn internal(what: &'static str) -> Error {
    Error::Internal(what)
}

/// Helpers for the tables' tests: every cell of a batch as text, and the
/// check that a batch holds, by column name, what a test expects.
#[cfg(test)]
pub(crate) mod testing {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_array::{Array, RecordBatch};
    use arrow_schema::{DataType, TimeUnit};

    /// Row `i` of `a` as text: numbers and strings as they are, timestamps
    /// as nanoseconds, `{k=v, …}` for maps, `[…]` for lists, `(…)` for structs.
    pub fn cell(a: &dyn Array, i: usize) -> String {
        let join = |a: &dyn Array| {
            let items: Vec<String> = (0..a.len()).map(|j| cell(a, j)).collect();
            items.join(", ")
        };
        match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
            DataType::UInt8 => a.as_primitive::<UInt8Type>().value(i).to_string(),
            DataType::UInt32 => a.as_primitive::<UInt32Type>().value(i).to_string(),
            DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i).to_string(),
            DataType::Int32 => a.as_primitive::<Int32Type>().value(i).to_string(),
            DataType::Float64 => a.as_primitive::<Float64Type>().value(i).to_string(),
            DataType::Boolean => a.as_boolean().value(i).to_string(),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => a
                .as_primitive::<TimestampNanosecondType>()
                .value(i)
                .to_string(),
            DataType::Map(..) => {
                let m = a.as_map().value(i);
                let pairs: Vec<String> = (0..m.len())
                    .map(|j| format!("{}={}", cell(m.column(0), j), cell(m.column(1), j)))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
            DataType::List(_) => format!("[{}]", join(a.as_list::<i32>().value(i).as_ref())),
            DataType::Struct(_) => {
                let s = a.as_struct();
                let fields: Vec<String> = s.columns().iter().map(|c| cell(c, i)).collect();
                format!("({})", fields.join(", "))
            }
            DataType::Dictionary(..) => {
                let d = a.as_any_dictionary();
                cell(d.values().as_ref(), d.normalized_keys()[i])
            }
            other => panic!("no test rendering of {other:?}"),
        }
    }

    /// Checks that `batch` has exactly the columns of `want`, in order, and
    /// that row 0 of each holds the expected text. Also checks that the
    /// expectations of same-typed columns differ, so that a declaration
    /// that swapped two of them (same type, so Arrow accepts it) fails here.
    pub fn check_row(batch: &RecordBatch, want: &[(&str, &str)]) {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let want_names: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, want_names, "columns");
        for (i, (name, value)) in want.iter().enumerate() {
            assert_eq!(&cell(batch.column(i), 0), value, "column {name}");
            for (other, other_value) in &want[..i] {
                let t = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
                if t(name) == t(other) {
                    assert_ne!(value, other_value, "{name} and {other} must differ");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_columns_are_columns_of_their_table() {
        for t in Table::ALL {
            let schema = t.schema(TimeUnit::Nanosecond);
            for c in t.sort_columns() {
                assert!(schema.field_with_name(c).is_ok(), "{t:?} has no {c}");
            }
        }
    }
}
