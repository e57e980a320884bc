//! Compaction settings: plain values with documented defaults, read from the
//! Worker's vars or the CLI's flags.

/// Default size at which an output file is closed: 128 MiB.
pub const DEFAULT_TARGET_BYTES: u64 = 128 << 20;
/// Default rows per row group of an output file: 128k.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Default bytes at which an output row group is closed even before it has
/// its rows: 4 MiB. A row group is held whole in memory while it is written
/// and while a later run reads it back, so this bounds both (128k rows of
/// logs take about 12 MiB). Measured in workerd (`make bench-compact-worker`,
/// logs 40 × 8,192, whose last run merges two files of about 15 MiB; 8 MiB
/// parts then): 102 MiB of wasm memory at 8 MiB, 60–66 MiB at 4 MiB, 50 MiB
/// at 2 MiB.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 4 << 20;
/// Default wait after an hour closes before its files are compacted: 15 min,
/// so that the hour's late requests (exporter retries, clock skew) land first.
pub const DEFAULT_GRACE_SECS: u64 = 15 * 60;
/// Default time a finished run's input keys are remembered, to recognise
/// late retries: 24 h.
pub const DEFAULT_TOMBSTONE_SECS: u64 = 24 * 3600;
/// Default time a lease holds a partition: 15 min (longer than one queue
/// invocation may run).
pub const DEFAULT_LEASE_SECS: u64 = 15 * 60;
/// Default size of a multipart part: 5 MiB, R2's smallest (all parts but
/// the last of one size). A part is buffered whole before it is uploaded,
/// so the smallest keeps a run's memory lowest.
pub const DEFAULT_PART_BYTES: usize = 5 << 20;
/// Default most input files one run merges: 1,000. Each costs about two
/// subrequests (its footer, its row groups) and one key of a delete; the
/// Workers Paid plan allows 10,000 subrequests per invocation.
pub const DEFAULT_MAX_INPUTS: usize = 1000;
/// Default most input bytes one run merges: 1 GiB, so that a run stays well
/// inside the CPU time `wrangler.toml` gives an invocation (see
/// `docs/performance.md` for the measured MB/s).
pub const DEFAULT_RUN_BYTES: u64 = 1 << 30;
/// Default hours back from now that the Cron Trigger looks for partitions
/// to compact: 168 (7 days). Planning lists only these hours' folders, so
/// its R2 operations and memory follow the recent data, not everything the
/// bucket has kept (a year of compacted hours is hundreds of thousands of
/// keys, more than an isolate can hold as a listing). Late data older than
/// this stays in its small files until a run with a longer look-back.
pub const DEFAULT_LOOKBACK_HOURS: u64 = 7 * 24;
/// Default memory the inputs of one run may hold at once: 25 MiB, estimated
/// from their footers ([`crate::compact::read::Footer::read_memory`]: their
/// decoded footers, readers, row groups and batches). The output's row
/// group and upload part come on top; `docs/performance.md` has the
/// measured peak. It was 24 MiB before the footers were counted: the extra
/// MiB keeps four 8,192-record request files in one run, as before.
pub const DEFAULT_MERGE_MEMORY_BYTES: u64 = 25 << 20;

/// How compaction runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// An output file is closed once it reaches this size.
    pub target_bytes: u64,
    /// Rows per row group of an output file.
    pub row_group_rows: usize,
    /// Bytes (encoded) at which an output row group closes before it has
    /// `row_group_rows`.
    pub row_group_bytes: usize,
    /// Seconds after an hour closes before it is compacted.
    pub grace_secs: u64,
    /// Seconds a finished run's input keys are remembered.
    pub tombstone_secs: u64,
    /// Seconds a lease holds a partition.
    pub lease_secs: u64,
    /// Bytes per multipart part (all but the last).
    pub part_bytes: usize,
    /// Most input files one run merges; the rest wait for the next run.
    pub max_inputs: usize,
    /// Most input bytes one run merges (at least two files always merge).
    pub run_bytes: u64,
    /// Estimated memory the open inputs of one merge may hold at once (at
    /// least two files always merge).
    pub merge_memory_bytes: u64,
    /// Hours back from now whose partitions planning looks at (the hour
    /// `now` falls in and the `lookback_hours` before it); 0 looks at every
    /// hour the store holds.
    pub lookback_hours: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target_bytes: DEFAULT_TARGET_BYTES,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            row_group_bytes: DEFAULT_ROW_GROUP_BYTES,
            grace_secs: DEFAULT_GRACE_SECS,
            tombstone_secs: DEFAULT_TOMBSTONE_SECS,
            lease_secs: DEFAULT_LEASE_SECS,
            part_bytes: DEFAULT_PART_BYTES,
            max_inputs: DEFAULT_MAX_INPUTS,
            run_bytes: DEFAULT_RUN_BYTES,
            merge_memory_bytes: DEFAULT_MERGE_MEMORY_BYTES,
            lookback_hours: DEFAULT_LOOKBACK_HOURS,
        }
    }
}

/// The smallest target size of an output file: below it every file would
/// count as large, or none as small (4 bytes and less), and compaction
/// would be off without a word.
pub const MIN_TARGET_BYTES: u64 = 1 << 20;

impl Settings {
    /// The memory a run may hold, beside the wasm module's own: its open
    /// inputs ([`Settings::merge_memory_bytes`]), the output's row group
    /// (its columns while encoded, then its bytes) and an upload part. What
    /// the Worker charges a run against the isolate's budget of memory in
    /// flight, which requests share (about 38 MiB by default; the 1 GiB
    /// partition's runs reach 44 MiB of wasm memory, the module included).
    pub fn run_memory(&self) -> usize {
        self.run_memory_for(self.merge_memory_bytes)
    }

    /// [`Settings::run_memory`] for inputs estimated to hold `inputs` bytes.
    pub fn run_memory_for(&self, inputs: u64) -> usize {
        usize::try_from(inputs)
            .unwrap_or(usize::MAX)
            .saturating_add(self.row_group_bytes.saturating_mul(2))
            .saturating_add(self.part_bytes)
    }
    /// Files below this size (80 % of the target) are worth merging.
    pub fn small_bytes(&self) -> u64 {
        self.target_bytes.saturating_mul(4) / 5
    }

    /// Reads the settings from Worker vars (`COMPACT_TARGET_BYTES`,
    /// `COMPACT_ROW_GROUP_ROWS`, `COMPACT_ROW_GROUP_BYTES`, `COMPACT_GRACE_SECS`,
    /// `COMPACT_TOMBSTONE_SECS`, `COMPACT_MAX_INPUTS`, `COMPACT_RUN_BYTES`,
    /// `COMPACT_MEMORY_BYTES`, `COMPACT_LOOKBACK_HOURS`); unset vars keep
    /// their defaults, a bad value is an error naming the var.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        use crate::vars::{count, positive};
        let d = Settings::default();
        Ok(Settings {
            target_bytes: count(
                &var,
                "COMPACT_TARGET_BYTES",
                d.target_bytes,
                MIN_TARGET_BYTES,
            )?,
            row_group_rows: positive(&var, "COMPACT_ROW_GROUP_ROWS", d.row_group_rows)?,
            row_group_bytes: positive(&var, "COMPACT_ROW_GROUP_BYTES", d.row_group_bytes)?,
            // No grace at all is a valid choice (tests, backfills).
            grace_secs: count(&var, "COMPACT_GRACE_SECS", d.grace_secs, 0)?,
            tombstone_secs: count(&var, "COMPACT_TOMBSTONE_SECS", d.tombstone_secs, 1)?,
            // Fewer than two inputs could not merge anything.
            max_inputs: usize::try_from(count(&var, "COMPACT_MAX_INPUTS", d.max_inputs as u64, 2)?)
                .unwrap_or(usize::MAX),
            run_bytes: count(&var, "COMPACT_RUN_BYTES", d.run_bytes, 1)?,
            merge_memory_bytes: count(&var, "COMPACT_MEMORY_BYTES", d.merge_memory_bytes, 1)?,
            lookback_hours: count(&var, "COMPACT_LOOKBACK_HOURS", d.lookback_hours, 0)?,
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run with the default settings fits the isolate's default budget of
    /// memory in flight with room left for requests beside it.
    #[test]
    fn a_run_leaves_room_for_requests() {
        let run = Settings::default().run_memory();
        assert_eq!(run, (25 << 20) + 2 * (4 << 20) + (5 << 20));
        let budget = crate::http::admission::DEFAULT_INFLIGHT_BYTES;
        assert!(
            run + crate::http::admission::FIXED_COST <= budget / 2,
            "{run}"
        );
    }

    #[test]
    fn vars_override_defaults_and_bad_values_name_the_var() {
        let s = Settings::from_vars(|k| (k == "COMPACT_GRACE_SECS").then(|| "0".into())).unwrap();
        assert_eq!((s.grace_secs, s.target_bytes), (0, DEFAULT_TARGET_BYTES));
        assert_eq!(s.small_bytes(), DEFAULT_TARGET_BYTES * 4 / 5);
        let all = Settings::from_vars(|k| (k == "COMPACT_LOOKBACK_HOURS").then(|| "0".into()));
        assert_eq!(all.unwrap().lookback_hours, 0);
        assert_eq!(s.lookback_hours, DEFAULT_LOOKBACK_HOURS);
        let bad = Settings::from_vars(|k| (k == "COMPACT_TARGET_BYTES").then(|| "big".into()));
        assert!(bad.unwrap_err().contains("COMPACT_TARGET_BYTES"));
        let tiny = Settings::from_vars(|k| (k == "COMPACT_TARGET_BYTES").then(|| "4".into()));
        assert!(tiny.unwrap_err().contains("at least 1048576"));
    }
}
