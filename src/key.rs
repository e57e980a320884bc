//! Object names: Hive-style time partitions and deterministic file names.
//!
//! `<table>/date=YYYY-MM-DD/hour=HH/<first-timestamp>-<request-hash>.parquet`
//!
//! - The partition is the UTC hour of the file's rows: [`hour_of`] files a
//!   row under its hour (the pipeline's row sort uses it too), and the same
//!   hour names the `date=`/`hour=` directories here.
//! - `<first-timestamp>` is the earliest row time in the file, as
//!   `YYYYMMDDTHHMMSS.nnnnnnnnnZ`, so names sort by time within a partition.
//! - `<request-hash>` is 16 hex digits of the XXH3-128 hash of the signal and
//!   the inflated request body. The same body always yields the same keys and
//!   the same bytes, so a retried request overwrites its own objects and never
//!   duplicates rows. See `docs/layout.md` for the rationale.
//!
//! Times are clamped once, by [`clamp`], when a row is listed and when a
//! timestamp column is filled, so a row's partition and its columns agree.
//! This module does no I/O and knows nothing of Arrow or Parquet.

use crate::schema::Table;

/// Nanoseconds in one hour: a time `t` is in hour `t / HOUR_NANOS`.
pub const HOUR_NANOS: u64 = 3_600_000_000_000;

/// The latest time a row or a timestamp column can hold: `i64::MAX`
/// nanoseconds (2262-04-11T23:47:16.854775807Z), Arrow's and Parquet's limit.
pub const MAX_NANOS: u64 = i64::MAX as u64;

/// Unix nanoseconds clamped to [`MAX_NANOS`]: the one rule for times past
/// 2262, applied to row times (and so to partitions) and to every timestamp
/// column. The result always fits an `i64`.
#[inline(always)]
pub fn clamp(nanos: u64) -> u64 {
    nanos.min(MAX_NANOS)
}

/// The hour, counted from the Unix epoch, that a (clamped) time is filed
/// under: the partition of its row, and the sort key rows are split by.
#[inline(always)]
pub fn hour_of(nanos: u64) -> u64 {
    nanos / HOUR_NANOS
}

/// An hour from [`hour_of`] as its UTC date and hour of day:
/// `(year, month, day, hour)`, the `date=`/`hour=` partition.
pub fn date_hour(hour: u64) -> (i64, u32, u32, u32) {
    let (y, m, d) = civil_from_days((hour / 24) as i64);
    (y, m, d, (hour % 24) as u32)
}

/// Hash of a request: the signal's name and the inflated body.
pub fn request_hash(signal: &str, body: &[u8]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(signal.as_bytes());
    h.update(&[0]);
    h.update(body);
    h.digest128()
}

/// The object key of `table`'s file whose earliest row is at `first_nanos`.
pub fn object_key(table: Table, first_nanos: u64, hash: u128) -> String {
    let (y, m, d, hh) = date_hour(hour_of(first_nanos));
    let in_hour = first_nanos % HOUR_NANOS;
    let secs = in_hour / 1_000_000_000;
    let nanos = in_hour % 1_000_000_000;
    let (mm, ss) = (secs / 60, secs % 60);
    format!(
        "{table}/date={y:04}-{m:02}-{d:02}/hour={hh:02}/{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}.{nanos:09}Z-{hash:016x}.parquet",
        table = table.name(),
        hash = (hash >> 64) as u64,
    )
}

/// The folder of `table`'s files of `hour` (from [`hour_of`]):
/// `<table>/date=YYYY-MM-DD/hour=HH/`.
pub fn partition_prefix(table: Table, hour: u64) -> String {
    format!("{}hour={:02}/", date_prefix(table, hour / 24), hour % 24)
}

/// The folder of `table`'s files of one UTC day (counted from the Unix
/// epoch): `otel_<table>/date=YYYY-MM-DD/`.
pub fn date_prefix(table: Table, day: u64) -> String {
    let (y, m, d, _) = date_hour(day.saturating_mul(24));
    format!("{}/date={y:04}-{m:02}-{d:02}/", table.name())
}

/// The table and hour of a table file's key, or `None` for any other key
/// (the compactor's own objects, stray files).
pub fn parse_partition(key: &str) -> Option<(Table, u64)> {
    let mut parts = key.split('/');
    let table = Table::from_name(parts.next()?)?;
    let date = parts.next()?.strip_prefix("date=")?;
    let hour: u64 = parts.next()?.strip_prefix("hour=")?.parse().ok()?;
    let name = parts.next()?;
    if parts.next().is_some() || !name.ends_with(".parquet") || hour > 23 {
        return None;
    }
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let days = days_from_civil(y, m, d)?;
    let hour = u64::try_from(days).ok()? * 24 + hour;
    // Only keys this module writes: the round trip must give the same folder.
    key.starts_with(&partition_prefix(table, hour))
        .then_some((table, hour))
}

/// The key of the `n`th file that compaction writes from the inputs whose
/// hash is `inputs`, the earliest of them named `first` (the file name of
/// the first input in key order, whose leading timestamp it keeps):
/// `<partition>/<first-timestamp>-c<inputs-hash>-<n>.parquet`. Deterministic,
/// so a rerun overwrites its own output; it sorts with the hour's files.
pub fn compacted_key(table: Table, hour: u64, first: &str, inputs: u128, n: usize) -> String {
    let stamp = first.split('-').next().unwrap_or("");
    format!(
        "{}{stamp}-c{:016x}-{n:03}.parquet",
        partition_prefix(table, hour),
        (inputs >> 64) as u64
    )
}

/// (year, month, day) → days since 1970-01-01; `None` for a date that does
/// not exist (Howard Hinnant's `days_from_civil`, checked by round trip).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (civil_from_days(days) == (y, m as u32, d as u32)).then_some(days)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hive_partitioned_and_sort_by_time() {
        // 2023-11-14T22:13:20.000000123Z
        let t = 1_700_000_000_000_000_123;
        let k = object_key(Table::Logs, t, 0xabcdef << 64);
        assert_eq!(
            k,
            "otel_logs/date=2023-11-14/hour=22/20231114T221320.000000123Z-0000000000abcdef.parquet"
        );
        assert!(object_key(Table::Logs, t, 1 << 120) > object_key(Table::Logs, t - 1, u128::MAX));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(106_751), (2262, 4, 11));
        assert_eq!(object_key(Table::Sum, 0, 0), "otel_metrics_sum/date=1970-01-01/hour=00/19700101T000000.000000000Z-0000000000000000.parquet");
    }

    #[test]
    fn times_clamp_and_partition_by_hour() {
        assert_eq!(clamp(u64::MAX), i64::MAX as u64);
        assert_eq!(clamp(5), 5);
        assert_eq!(hour_of(HOUR_NANOS - 1), 0);
        assert_eq!(hour_of(HOUR_NANOS), 1);
        // The last representable time: 2262-04-11, hour 23.
        assert_eq!(date_hour(hour_of(clamp(u64::MAX))), (2262, 4, 11, 23));
        assert!(object_key(Table::Logs, clamp(u64::MAX), 0)
            .starts_with("otel_logs/date=2262-04-11/hour=23/22620411T234716.854775807Z-"));
    }

    #[test]
    fn partitions_parse_back_from_keys() {
        let t = 1_700_000_000_000_000_123;
        let k = object_key(Table::Gauge, t, 7);
        assert_eq!(parse_partition(&k), Some((Table::Gauge, hour_of(t))));
        assert!(k.starts_with(&partition_prefix(Table::Gauge, hour_of(t))));
        assert!(k.starts_with(&date_prefix(Table::Gauge, hour_of(t) / 24)));
        assert_eq!(
            date_prefix(Table::Gauge, hour_of(t) / 24),
            "otel_metrics_gauge/date=2023-11-14/"
        );
        let c = compacted_key(
            Table::Gauge,
            hour_of(t),
            "20231114T221320.000000123Z-00ab.parquet",
            5 << 64,
            2,
        );
        assert_eq!(c, "otel_metrics_gauge/date=2023-11-14/hour=22/20231114T221320.000000123Z-c0000000000000005-002.parquet");
        assert_eq!(parse_partition(&c), Some((Table::Gauge, hour_of(t))));
        for bad in [
            "_compaction/lease/otel_logs/x",
            "otel_nope/date=2023-11-14/hour=22/a.parquet",
            "otel_logs/date=2023-02-30/hour=22/a.parquet",
            "otel_logs/date=2023-11-14/hour=24/a.parquet",
            "otel_logs/date=2023-11-14/hour=2/a.parquet",
            "otel_logs/date=2023-11-14/hour=22/a.json",
            "otel_logs/date=2023-11-14/hour=22/x/a.parquet",
        ] {
            assert_eq!(parse_partition(bad), None, "{bad}");
        }
        for days in [0, 11_016, 106_751, 59, 60] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as i64, d as i64), Some(days));
        }
    }

    #[test]
    fn hash_depends_on_signal_and_body() {
        assert_eq!(request_hash("logs", b"x"), request_hash("logs", b"x"));
        assert_ne!(request_hash("logs", b"x"), request_hash("traces", b"x"));
        assert_ne!(request_hash("logs", b"x"), request_hash("logs", b"y"));
    }
}
