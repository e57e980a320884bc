//! Reads the files back with the `parquet` crate and compares them with the
//! oracle: the files (one per table and UTC hour, ordered by table then
//! hour), each object key's partition and first time, the column names in
//! order, and every cell of every row in the sort order computed here.

use super::expect::{Cell, Expected, Row};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use otlp2r2::Output;

/// The seven tables in the order the pipeline emits files (docs/schema.md).
const TABLES: [&str; 7] = [
    "otel_logs",
    "otel_traces",
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
];

const HOUR: u64 = 3_600_000_000_000;

/// One cell of a column read back; every column is non-nullable.
fn cell(a: &dyn Array, i: usize) -> Cell {
    assert!(!a.is_null(i), "null in a non-nullable column");
    match a.data_type() {
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(i).to_string()),
        DataType::UInt8 => Cell::UInt(a.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt32 => Cell::UInt(a.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => Cell::UInt(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(i).into()),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
        DataType::Boolean => Cell::Bool(a.as_boolean().value(i)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            Cell::Time(a.as_primitive::<TimestampNanosecondType>().value(i))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Cell::Time(a.as_primitive::<TimestampMicrosecondType>().value(i))
        }
        DataType::Map(_, _) => {
            let e = a.as_map().value(i);
            let (k, v) = (
                e.column(0).as_string::<i32>(),
                e.column(1).as_string::<i32>(),
            );
            Cell::Map(
                (0..e.len())
                    .map(|j| (k.value(j).to_string(), v.value(j).to_string()))
                    .collect(),
            )
        }
        DataType::List(_) => {
            let l = a.as_list::<i32>().value(i);
            Cell::List((0..l.len()).map(|j| cell(l.as_ref(), j)).collect())
        }
        DataType::Struct(fields) => {
            let st = a.as_struct();
            Cell::Struct(
                fields
                    .iter()
                    .zip(st.columns())
                    .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i)))
                    .collect(),
            )
        }
        other => panic!("unexpected column type {other}"),
    }
}

/// Days since 1970-01-01 as a civil date, counted year by year and month by
/// month (slow and obvious; the crate uses Hinnant's closed form).
fn civil(mut days: u64) -> (u64, u64, u64) {
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut y = 1970;
    while days >= if leap(y) { 366 } else { 365 } {
        days -= if leap(y) { 366 } else { 365 };
        y += 1;
    }
    let lens = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= lens[m] {
        days -= lens[m];
        m += 1;
    }
    (y, m as u64 + 1, days + 1)
}

/// The key prefix `docs/layout.md` gives a file whose earliest row is at
/// `first`: `<table>/date=…/hour=…/<YYYYMMDDTHHMMSS.nnnnnnnnn>Z-`.
fn key_prefix(table: &str, first: u64) -> String {
    let secs = first / 1_000_000_000;
    let (y, mo, d) = civil(secs / 86_400);
    let (hh, mm, ss) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    format!(
        "{table}/date={y:04}-{mo:02}-{d:02}/hour={hh:02}/{y:04}{mo:02}{d:02}T{hh:02}{mm:02}{ss:02}.{:09}Z-",
        first % 1_000_000_000
    )
}

/// Compares `out` with the oracle's rows; panics with the first difference
/// (table, file, row, column). Returns the number of cells compared.
pub fn check(out: &Output, exp: &Expected) -> usize {
    // The sort: table, then UTC hour, then the table's sort key; stable, so
    // equal keys keep request order.
    let mut rows: Vec<&Row> = exp.rows.iter().collect();
    rows.sort_by(|a, b| {
        let t = |r: &Row| TABLES.iter().position(|t| *t == r.table).unwrap();
        (t(a), a.time / HOUR, &a.service, &a.metric, a.time).cmp(&(
            t(b),
            b.time / HOUR,
            &b.service,
            &b.metric,
            b.time,
        ))
    });
    let mut files: Vec<Vec<&Row>> = Vec::new();
    for r in rows {
        match files.last_mut() {
            Some(f) if f[0].table == r.table && f[0].time / HOUR == r.time / HOUR => f.push(r),
            _ => files.push(vec![r]),
        }
    }
    assert_eq!(out.records, exp.rows.len(), "records");
    assert_eq!(out.rejected, exp.rejected, "rejected metrics");
    let keys: Vec<&str> = out.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        out.objects.len(),
        files.len(),
        "one file per table and hour: {keys:?}"
    );
    let hash = out.objects.first().map(|o| &o.key[o.key.len() - 24..]);
    let mut cells = 0;
    for (o, want) in out.objects.iter().zip(&files) {
        let first = want.iter().map(|r| r.time).min().unwrap();
        let prefix = key_prefix(want[0].table, first);
        assert!(
            o.key.starts_with(&prefix),
            "key {} should start {prefix}",
            o.key
        );
        let tail = &o.key[prefix.len()..];
        assert!(
            tail.len() == 24
                && tail.ends_with(".parquet")
                && tail[..16]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "key {} should end in 16 hex digits and .parquet",
            o.key
        );
        assert_eq!(
            Some(&o.key[o.key.len() - 24..]),
            hash,
            "one request hash per request"
        );
        assert_eq!(o.table.name(), want[0].table, "{}", o.key);
        assert_eq!(o.rows, want.len(), "{}", o.key);
        let batch: RecordBatch = crate::common::read_parquet(&o.data);
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let want_names: Vec<&str> = want[0].cells.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, want_names, "columns of {}", o.key);
        assert_eq!(batch.num_rows(), want.len(), "{}", o.key);
        for (i, r) in want.iter().enumerate() {
            for (c, (name, w)) in r.cells.iter().enumerate() {
                let got = cell(batch.column(c).as_ref(), i);
                assert!(
                    got == *w,
                    "{}: row {i} column {name}:\n  got  {got:?}\n  want {w:?}",
                    o.key
                );
                cells += 1;
            }
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow calendar agrees with known dates, leap days and the last
    /// representable instant.
    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(19_844), (2024, 5, 1));
        assert_eq!(
            key_prefix("t", i64::MAX as u64),
            "t/date=2262-04-11/hour=23/22620411T234716.854775807Z-"
        );
    }
}
