//! The one error type of the core pipeline.
//!
//! Every failure a request can cause is a variant a caller can act on. The
//! core never decides HTTP statuses: the request handler maps variants to
//! statuses in one `match` (`http::status_of`), and the CLI prints the message.

use thiserror::Error;

/// Everything that can go wrong between request bytes and Parquet objects.
///
/// Messages say what was wrong and where (a byte offset for protobuf, a line
/// and column for JSON), never the payload itself beyond a short excerpt.
#[derive(Debug, Error)]
pub enum Error {
    /// The request body is larger than [`crate::Limits::max_body_bytes`].
    #[error("request body is {size} bytes, over the {limit}-byte limit")]
    BodyTooLarge {
        /// The body's size, declared or counted.
        size: usize,
        /// The limit it passed.
        limit: usize,
    },

    /// The gzip body inflates past [`crate::Limits::max_inflated_bytes`].
    /// Detected while inflating: nothing past the limit is ever allocated.
    #[error("gzip body inflates past the {limit}-byte limit")]
    InflatedTooLarge {
        /// The limit it passed.
        limit: usize,
    },

    /// The `Content-Type` is not one of the two OTLP/HTTP encodings.
    #[error("unsupported content type {0:?}: expected application/x-protobuf or application/json")]
    UnsupportedContentType(String),

    /// The `Content-Encoding` is neither absent, `identity` nor `gzip`.
    #[error("unsupported content encoding {0:?}: expected gzip or identity")]
    UnsupportedContentEncoding(String),

    /// The body claims gzip but is not a valid gzip stream.
    #[error("invalid gzip body: {0}")]
    Gzip(String),

    /// The protobuf body is truncated, has wrong wire types, bad UTF-8 or
    /// invalid ids. `at` is the byte offset in the (inflated) body.
    #[error("malformed protobuf: {what} at byte {at}")]
    Protobuf {
        /// What was wrong, naming the message and field.
        what: String,
        /// Byte offset in the inflated body.
        at: usize,
    },

    /// The OTLP/JSON body is not valid JSON or not a valid OTLP message.
    #[error("malformed OTLP/JSON: {what} at line {line} column {column}")]
    Json {
        /// What was wrong.
        what: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },

    /// An `AnyValue` (array or key-value list) nests deeper than the limit.
    #[error("attribute or body value nests deeper than {limit} levels ({at})")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
        /// Where: a byte offset or a line and column.
        at: String,
    },

    /// The decoded request (records, attributes, points…) would take more
    /// than [`crate::Limits::max_decoded_bytes`] of memory. Checked while
    /// decoding, so many tiny elements cannot blow up memory.
    #[error("request decodes to more than {limit} bytes of records and attributes")]
    DecodedTooLarge {
        /// The limit it passed.
        limit: usize,
    },

    /// The request's Arrow columns (all files, all chunks) would need more
    /// than [`crate::Limits::max_output_bytes`]: values repeated on every row
    /// (resource attributes, schema URLs) multiply with the row count.
    #[error("the {table} rows of this request would take more than {limit} bytes of columns")]
    OutputTooLarge {
        /// The table whose rows passed it.
        table: &'static str,
        /// The limit it passed.
        limit: usize,
    },

    /// The request (or compaction run) needs more memory than the
    /// isolate's budget has free now (see [`crate::pipeline::Meter`],
    /// [`crate::compact::run_metered`]): 503, and the exporter retries; a
    /// run's queue message is redelivered.
    #[error("this needs {bytes} bytes of memory, more than is free now; retry later")]
    Busy {
        /// What the request needed when it was refused.
        bytes: u64,
    },

    /// The request's rows span more UTC hours (files) than
    /// [`crate::Limits::max_objects`].
    #[error(
        "request would write {count} files (one per table and hour), over the limit of {limit}"
    )]
    TooManyObjects {
        /// Files the request would write.
        count: usize,
        /// The limit.
        limit: usize,
    },

    /// A call to the object store failed (R2 down, a missing binding, an
    /// I/O error of the local folder, or an injected fault). Nothing is
    /// acknowledged: the request answers 503 and the retry writes the same keys.
    #[error("object store {op} of {key:?} failed: {reason}")]
    Store {
        /// The store operation (`put`, `list`, …).
        op: &'static str,
        /// The key (or prefix) it was called with.
        key: String,
        /// The store's own message.
        reason: String,
    },

    /// Building Arrow arrays failed. This is a bug, not bad input.
    #[error("internal error building Arrow arrays: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),

    /// Writing Parquet failed. This is a bug, not bad input.
    #[error("internal error writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    /// A compaction input whose footer reads but whose pages do not
    /// decode (damaged, or not as its footer says). Its merge is rolled
    /// back and the file recorded: it stays where it is, named in the runs'
    /// reports, and later runs merge the others.
    #[error("compaction input {key:?} cannot be read: {reason}")]
    UnreadableInput {
        /// The input's key.
        key: String,
        /// What failed.
        reason: String,
    },

    /// A record of the compaction protocol (lease, intent, tombstone, note
    /// of an unreadable file) that does not parse: damaged, or written by a
    /// build of another format. It reads the same at every try, so the
    /// queue consumer acks its message and logs this rather than retrying.
    #[error("compaction record {key:?} cannot be read: {reason}")]
    BadRecord {
        /// The record's key.
        key: String,
        /// What the JSON parser said.
        reason: String,
    },

    /// An invariant of this crate did not hold. This is a bug, not bad input.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl Error {
    /// True when the request itself is at fault (a 4xx at the HTTP edge);
    /// false for internal and storage failures.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            Error::Arrow(_)
                | Error::Parquet(_)
                | Error::Internal(_)
                | Error::Store { .. }
                | Error::UnreadableInput { .. }
                | Error::BadRecord { .. }
        )
    }

    /// True when the same call may succeed if made again: a store call
    /// failed, or the memory it needs was not free. Any other error of a
    /// compaction run (a file whose pages do not decode, an invariant that
    /// did not hold) comes back the same at every try, so a queue consumer
    /// acks its message instead of having the queue redeliver it to redo
    /// the whole run for nothing.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Store { .. } | Error::Busy { .. })
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a failed store call, or memory not free now, is worth a
    /// queue's redelivery.
    #[test]
    fn only_store_failures_and_busy_are_transient() {
        let store = Error::Store {
            op: "get",
            key: "k".into(),
            reason: "down".into(),
        };
        assert!(store.is_transient());
        let data = Error::Parquet(parquet::errors::ParquetError::General("bad page".into()));
        assert!(!data.is_transient());
        assert!(!Error::Internal("an invariant").is_transient());
        assert!(Error::Busy { bytes: 1 }.is_transient());
        let record = Error::BadRecord {
            key: "_compaction/intent/x".into(),
            reason: "EOF".into(),
        };
        assert!(!record.is_transient());
    }
}
