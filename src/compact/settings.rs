//! Compaction settings: plain values with documented defaults, read from the
//! Worker's vars or the CLI's flags.

/// Default size at which an output file is closed: 128 MiB.
pub const DEFAULT_TARGET_BYTES: u64 = 128 << 20;
/// Default rows per row group of an output file: 128k.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Default wait after an hour closes before its files are compacted: 15 min,
/// so that the hour's late requests (exporter retries, clock skew) land first.
pub const DEFAULT_GRACE_SECS: u64 = 15 * 60;
/// Default time a finished run's input keys are remembered, to recognise
/// late retries: 24 h.
pub const DEFAULT_TOMBSTONE_SECS: u64 = 24 * 3600;
/// Default time a lease holds a partition: 15 min (longer than one queue
/// invocation may run).
pub const DEFAULT_LEASE_SECS: u64 = 15 * 60;
/// Default size of a multipart part: 8 MiB (R2 wants 5 MiB or more, all
/// parts but the last of one size).
pub const DEFAULT_PART_BYTES: usize = 8 << 20;

/// How compaction runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// An output file is closed once it reaches this size.
    pub target_bytes: u64,
    /// Rows per row group of an output file.
    pub row_group_rows: usize,
    /// Seconds after an hour closes before it is compacted.
    pub grace_secs: u64,
    /// Seconds a finished run's input keys are remembered.
    pub tombstone_secs: u64,
    /// Seconds a lease holds a partition.
    pub lease_secs: u64,
    /// Bytes per multipart part (all but the last).
    pub part_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target_bytes: DEFAULT_TARGET_BYTES,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            grace_secs: DEFAULT_GRACE_SECS,
            tombstone_secs: DEFAULT_TOMBSTONE_SECS,
            lease_secs: DEFAULT_LEASE_SECS,
            part_bytes: DEFAULT_PART_BYTES,
        }
    }
}

impl Settings {
    /// Files below this size (80 % of the target) are worth merging.
    pub fn small_bytes(&self) -> u64 {
        self.target_bytes.saturating_mul(4) / 5
    }

    /// Reads the settings from Worker vars (`COMPACT_TARGET_BYTES`,
    /// `COMPACT_ROW_GROUP_ROWS`, `COMPACT_GRACE_SECS`,
    /// `COMPACT_TOMBSTONE_SECS`); unset vars keep their defaults, a bad
    /// value is an error naming the var.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        use crate::vars::{count, positive};
        let d = Settings::default();
        Ok(Settings {
            target_bytes: count(&var, "COMPACT_TARGET_BYTES", d.target_bytes, 1)?,
            row_group_rows: positive(&var, "COMPACT_ROW_GROUP_ROWS", d.row_group_rows)?,
            // No grace at all is a valid choice (tests, backfills).
            grace_secs: count(&var, "COMPACT_GRACE_SECS", d.grace_secs, 0)?,
            tombstone_secs: count(&var, "COMPACT_TOMBSTONE_SECS", d.tombstone_secs, 1)?,
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_override_defaults_and_bad_values_name_the_var() {
        let s = Settings::from_vars(|k| (k == "COMPACT_GRACE_SECS").then(|| "0".into())).unwrap();
        assert_eq!((s.grace_secs, s.target_bytes), (0, DEFAULT_TARGET_BYTES));
        assert_eq!(s.small_bytes(), DEFAULT_TARGET_BYTES * 4 / 5);
        let bad = Settings::from_vars(|k| (k == "COMPACT_TARGET_BYTES").then(|| "big".into()));
        assert!(bad.unwrap_err().contains("COMPACT_TARGET_BYTES"));
    }
}
