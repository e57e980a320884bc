//! Compaction: each closed hour's small files merged into large files
//! sorted by the table's key.
//!
//! `read` reads an input file a row group at a time from byte ranges;
//! `merge` is the streaming k-way merge of sorted inputs. Both are pure (no
//! I/O, no async); the caller reads the store and writes the output through
//! `write::FileWriter`.

pub mod merge;
pub mod read;
