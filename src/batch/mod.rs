//! Arrow record batches, one per output table and hour: the shared parts.
//!
//! Every table is built the same way:
//! 1. the rows of the request are listed as [`Row`]s (cheap index tuples),
//!    sorted by the table's sort key and split by hour ([`rows`]);
//! 2. a sizing pass over one hour's chunk of rows computes exact item counts
//!    and upper bounds of string bytes for every column ([`size`]), checked
//!    against the request's output budget ([`Context`]);
//! 3. every builder is allocated once from that plan and filled without
//!    growing ([`builders`]), row by row.
//!
//! What each table's columns are, in which order and from which values, is
//! declared once per table with [`columns::columns!`] in [`logs`],
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
pub fn internal(what: &str) -> Error {
    Error::Arrow(arrow_schema::ArrowError::InvalidArgumentError(
        what.to_string(),
    ))
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
