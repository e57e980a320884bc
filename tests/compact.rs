//! Compaction over the in-memory store, end to end through the pipeline:
//! requests of every table are ingested as the Worker stores them, then
//! compacted. Checked: the multiset of rows is unchanged, each output is
//! sorted by its table's key, outputs respect the target size, inputs are
//! gone; a crash (or a failed store call) at every step of the protocol is
//! finished by the next run with no row lost or left twice; a late retry of
//! a compacted request is not merged twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, TimeUnit};
use common::fixtures;
use common::hooked::{Hooked, Hooks};
use futures_executor::block_on;
use otlp2r2::compact::read::DEFAULT_SUFFIX_BYTES;
use otlp2r2::compact::{self, Partition, Settings};
use otlp2r2::store::fault::{Faulty, Op, Rule, When};
use otlp2r2::store::memory::Memory;
use otlp2r2::store::{self, Store};
use otlp2r2::{process, Encoding, Options, Request, Signal, Table};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;
use prost::Message;

/// A clock well after every fixture hour closed (fixtures are in 2023).
const NOW: u64 = 1_900_000_000;

fn settings() -> Settings {
    Settings {
        // Small, so that outputs roll and go in parts with a few thousand rows.
        target_bytes: 256 << 10,
        row_group_rows: 1000,
        part_bytes: 64 << 10,
        // The fixtures' hours lie years before NOW: look at every hour.
        lookback_hours: 0,
        ..Settings::default()
    }
}

fn memory() -> Memory {
    Memory::new().with_min_part_bytes(64 << 10)
}

/// Ingests one request as the Worker does: process, then put every object.
fn ingest<S: Store>(store: &S, signal: Signal, body: &[u8], micros: bool) {
    let mut opts = Options::default();
    if micros {
        opts.timestamp_unit = TimeUnit::Microsecond;
    }
    let req = Request {
        signal,
        encoding: Encoding::Protobuf,
        gzip: false,
        body,
    };
    let out = process(&req, &opts).unwrap();
    let objects = out.objects.into_iter().map(|o| (o.key, o.data));
    block_on(store::put_all(store, objects)).unwrap();
}

/// A logs request moved by `hours`, so requests land in several partitions.
fn logs_at(n: usize, seed: u64, hours: u64) -> Vec<u8> {
    let mut req = fixtures::logs(n, seed);
    for r in req
        .resource_logs
        .iter_mut()
        .flat_map(|r| &mut r.scope_logs)
        .flat_map(|s| &mut s.log_records)
    {
        r.time_unix_nano += hours * 3_600_000_000_000;
        r.observed_time_unix_nano += hours * 3_600_000_000_000;
    }
    req.encode_to_vec()
}

/// Ingests one logs request of `n` records per seed, all in one hour.
fn ingest_logs<S: Store>(store: &S, seeds: impl IntoIterator<Item = u64>, n: usize) {
    for seed in seeds {
        ingest(store, Signal::Logs, &logs_at(n, seed, 0), false);
    }
}

fn read_all(data: &[u8]) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(data))
        .unwrap()
        .build()
        .unwrap();
    reader.map(Result::unwrap).collect()
}

/// `t` with every timestamp's time zone dropped, nested ones included.
fn no_zone(t: &DataType) -> DataType {
    use std::sync::Arc;
    match t {
        DataType::Timestamp(u, _) => DataType::Timestamp(*u, None),
        DataType::List(f) => DataType::List(Arc::new(
            f.as_ref().clone().with_data_type(no_zone(f.data_type())),
        )),
        DataType::Struct(fs) => DataType::Struct(
            fs.iter()
                .map(|f| f.as_ref().clone().with_data_type(no_zone(f.data_type())))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every row of every table file, as text, sorted: the multiset of rows.
fn rows(store: &Memory) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, data) in store.snapshot() {
        let Some((table, _)) = otlp2r2::key::parse_partition(&key) else {
            continue;
        };
        for batch in read_all(&data) {
            let opts = FormatOptions::default();
            // Timestamps without their zone (the formatter cannot parse "UTC").
            let naive: Vec<_> = batch
                .columns()
                .iter()
                .map(|c| arrow_cast::cast(c, &no_zone(c.data_type())).unwrap())
                .collect();
            let cols: Vec<ArrayFormatter> = naive
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
                .collect();
            for i in 0..batch.num_rows() {
                let row: Vec<String> = cols.iter().map(|c| c.value(i).to_string()).collect();
                out.entry(table.name().to_string())
                    .or_default()
                    .push(row.join("\u{1}"));
            }
        }
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// The sort key of each row of a file: (service, metric name, time).
fn keys(table: Table, batch: &RecordBatch) -> Vec<(String, String, i64)> {
    let text = |name: &str| {
        batch
            .column_by_name(name)
            .map(|c| c.as_string::<i32>().clone())
    };
    let service = text("ServiceName").unwrap();
    let metric = text("MetricName");
    let time_col = if table == Table::Logs || table == Table::Traces {
        "Timestamp"
    } else {
        "TimeUnix"
    };
    let time = arrow_cast::cast(batch.column_by_name(time_col).unwrap(), &DataType::Int64).unwrap();
    let time = time.as_primitive::<arrow_array::types::Int64Type>();
    (0..batch.num_rows())
        .map(|i| {
            let m = metric
                .as_ref()
                .map_or(String::new(), |m| m.value(i).to_string());
            (service.value(i).to_string(), m, time.value(i))
        })
        .collect()
}

/// Every table file is sorted by its key, and no compacted file is larger
/// than the target by more than one row group's worth.
fn check_outputs(store: &Memory, s: &Settings) {
    for (key, data) in store.snapshot() {
        let Some((table, _)) = otlp2r2::key::parse_partition(&key) else {
            continue;
        };
        let all: Vec<_> = read_all(&data)
            .iter()
            .flat_map(|b| keys(table, b))
            .collect();
        assert!(all.windows(2).all(|w| w[0] <= w[1]), "{key} is not sorted");
        if key.contains("-c") {
            assert!(
                (data.len() as u64) < s.target_bytes * 3,
                "{key} is {} bytes",
                data.len()
            );
        }
    }
}

fn table_files(store: &Memory) -> Vec<String> {
    store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("otel_"))
        .collect()
}

/// Many small requests of every table, two hours, two timestamp units.
fn ingest_mix<S: Store>(store: &S, seed: u64, requests: usize) {
    for i in 0..requests as u64 {
        let s = seed * 100 + i;
        ingest(
            store,
            Signal::Logs,
            &logs_at(20 + (s % 50) as usize, s, i % 2),
            false,
        );
        ingest(
            store,
            Signal::Traces,
            &fixtures::traces(10 + (s % 30) as usize, s).encode_to_vec(),
            false,
        );
        ingest(
            store,
            Signal::Metrics,
            &fixtures::metrics(5 + (s % 20) as usize, s).encode_to_vec(),
            i % 5 == 4,
        );
    }
}

fn compact_all<S: Store>(store: &S, s: &Settings) -> compact::Report {
    block_on(compact::compact_all(store, &|| NOW, s, "test", |_, _| {})).unwrap()
}

/// Compacting keeps every row, sorts every output, and leaves one file per
/// partition and schema where there were many.
#[test]
fn compaction_keeps_every_row_and_sorts_each_output() {
    let store = memory();
    ingest_mix(&store, 1, 12);
    let before = rows(&store);
    let files_before = table_files(&store).len();
    let s = settings();
    let report = compact_all(&store, &s);
    assert_eq!(rows(&store), before);
    check_outputs(&store, &s);
    let files_after = table_files(&store);
    assert!(
        files_after.len() < files_before / 3,
        "{files_before} → {}",
        files_after.len()
    );
    assert!(report.inputs > 0 && report.outputs > 0);
    assert!(store
        .keys()
        .iter()
        .all(|k| !k.starts_with("_compaction/intent/")));
    assert!(store
        .keys()
        .iter()
        .all(|k| !k.starts_with("_compaction/lease/")));
    assert!(store.open_uploads().is_empty());
    // A second run finds nothing more to do.
    let again = compact_all(&store, &s);
    assert_eq!(again.inputs, 0);
    assert_eq!(rows(&store), before);
}

/// Hours that have not closed (plus the grace) are left alone.
#[test]
fn open_hours_are_not_compacted() {
    let store = memory();
    ingest_mix(&store, 2, 3);
    let files = table_files(&store);
    let hour = files
        .iter()
        .filter_map(|k| otlp2r2::key::parse_partition(k))
        .map(|(_, h)| h)
        .min()
        .unwrap();
    let early = (hour + 1) * 3600 + settings().grace_secs - 1;
    let r = block_on(compact::compact_all(
        &store,
        &|| early,
        &settings(),
        "t",
        |_, _| {},
    ))
    .unwrap();
    assert_eq!(r.inputs, 0);
    assert!(table_files(&store)
        .iter()
        .filter(|k| k.contains("-c"))
        .all(|k| { otlp2r2::key::parse_partition(k).unwrap().1 != hour }));
}

/// A small input (the whole file within the footer's first get) is read
/// with that one get; a larger one with the footer's get and one per row
/// group. The gets of a run: the inputs', then one footer per output to
/// verify it.
#[test]
fn a_small_input_is_read_with_one_get() {
    let store = Faulty::new(memory());
    for seed in 1..=5 {
        ingest(store.inner(), Signal::Logs, &logs_at(20, seed, 0), false);
    }
    // Over 64 KiB: the suffix first got was that long before.
    ingest(store.inner(), Signal::Logs, &logs_at(900, 6, 0), false);
    ingest(store.inner(), Signal::Logs, &logs_at(3000, 7, 0), false);
    let sizes: Vec<u64> = store
        .inner()
        .snapshot()
        .into_iter()
        .filter(|(k, _)| k.starts_with("otel_logs/"))
        .map(|(_, d)| d.len() as u64)
        .collect();
    let small = sizes.iter().filter(|&&n| n <= DEFAULT_SUFFIX_BYTES).count();
    let over_64k = sizes.iter().filter(|&&n| n > 64 << 10).count();
    assert_eq!((small, over_64k, sizes.len()), (6, 2, 7), "{sizes:?}");
    let s = Settings {
        target_bytes: 64 << 20,
        ..settings()
    };
    let before = store.calls(Op::Get);
    let rows_before = rows(store.inner());
    let report = compact_all(&store, &s);
    assert_eq!((report.inputs, report.outputs), (7, 1));
    assert_eq!(rows(store.inner()), rows_before);
    // Six small inputs, one large one in one row group, one output.
    assert_eq!(store.calls(Op::Get) - before, 6 + 2 + 1);

    // Two groups in one run (microsecond files merge apart): the first to
    // merge keeps its small inputs' bytes; the second's would be held
    // through that merge, so its inputs get their row groups again.
    let store = Faulty::new(memory());
    for seed in 1..=6 {
        ingest(store.inner(), Signal::Logs, &logs_at(20, seed, 0), false);
    }
    for seed in 11..=13 {
        // Smaller, so that their group is the first.
        ingest(store.inner(), Signal::Logs, &logs_at(5, seed, 0), true);
    }
    let before = store.calls(Op::Get);
    let report = compact_all(&store, &s);
    assert_eq!((report.inputs, report.outputs), (9, 2));
    assert_eq!(store.calls(Op::Get) - before, (3 + 1) + (6 * 2 + 1));
}

/// Each get takes one turn of the executor (as an R2 get waits on the
/// network); counts the gets and how many are under way at once.
#[derive(Default)]
struct Overlaps {
    gets: std::cell::Cell<usize>,
    now: std::cell::Cell<usize>,
    most: std::cell::Cell<usize>,
    /// The same for the gets of byte ranges (row groups).
    slices_now: std::cell::Cell<usize>,
    slices_most: std::cell::Cell<usize>,
    /// The same for the list calls, which take a turn too.
    lists_now: std::cell::Cell<usize>,
    lists_most: std::cell::Cell<usize>,
}

impl Hooks for Overlaps {
    async fn before_get(
        &self,
        _: &Memory,
        _: &str,
        range: &Option<store::Range>,
    ) -> otlp2r2::Result<()> {
        self.gets.set(self.gets.get() + 1);
        let _all = Under::way(&self.now, &self.most);
        let _slice = matches!(range, Some(store::Range::Slice { .. }))
            .then(|| Under::way(&self.slices_now, &self.slices_most));
        Turn(false).await;
        Ok(())
    }

    async fn before_list(&self, _: &str) {
        let _list = Under::way(&self.lists_now, &self.lists_most);
        Turn(false).await;
    }
}

/// A [`Hooked`] store over `inner` whose gets and lists overlap.
fn overlapping(inner: &Memory) -> Hooked<'_, Overlaps> {
    Hooked {
        inner,
        hook: Overlaps::default(),
    }
}

/// Pending once, then ready: lets other futures run in between.
struct Turn(bool);

impl std::future::Future for Turn {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// One get under way: counted in `now` (and `most`) until it ends or is
/// dropped unfinished (a run drops the footers it read ahead and did not
/// take).
struct Under<'a>(&'a std::cell::Cell<usize>);

impl<'a> Under<'a> {
    fn way(now: &'a std::cell::Cell<usize>, most: &std::cell::Cell<usize>) -> Self {
        now.set(now.get() + 1);
        most.set(most.get().max(now.get()));
        Under(now)
    }
}

impl Drop for Under<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A partition's footers are read several at a time (at most six, a
/// Worker's open connections), not one after the other, and the run's
/// result is what it is when they are read one by one. A run that stops at
/// its bounds has asked for at most six footers it does not take: the one
/// that stopped it and up to five read ahead of it (how many depends on
/// when the gets answer).
#[test]
fn footers_are_read_several_at_a_time() {
    let inner = memory();
    let store = overlapping(&inner);
    ingest_logs(&inner, 1..=20, 20);
    let rows_before = rows(&inner);
    let report = compact_all(&store, &settings());
    assert_eq!((report.inputs, report.outputs), (20, 1));
    assert_eq!(rows(&inner), rows_before);
    assert_eq!(store.hook.most.get(), 6);
    // Each input read whole with its footer, and the output's footer.
    assert_eq!(store.hook.gets.get(), 20 + 1);

    // Eight inputs a run at most.
    let inner = memory();
    let store = overlapping(&inner);
    ingest_logs(&inner, 1..=20, 20);
    let s = Settings {
        max_inputs: 8,
        ..settings()
    };
    let p = first_partition(&inner);
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "test")).unwrap();
    assert!(r.more && r.inputs == 8, "{r:?}");
    // The taken inputs, the unused footers, the output's footer.
    let unused = store.hook.gets.get() - 8 - 1;
    assert!((1..=6).contains(&unused), "{unused}");
}

/// Planning lists the tables six at a time (a frequent Cron Trigger may
/// run for 30 s, and a backlog costs a list call per hour and table), and
/// finds the same partitions as one table after the other would.
#[test]
fn planning_lists_the_tables_several_at_a_time() {
    let inner = memory();
    let store = overlapping(&inner);
    for seed in 1..=2 {
        ingest(&inner, Signal::Logs, &logs_at(20, seed, 0), false);
        ingest(
            &inner,
            Signal::Traces,
            &fixtures::traces(20, seed).encode_to_vec(),
            false,
        );
    }
    let found = block_on(compact::find_eligible(&store, NOW, &settings())).unwrap();
    let tables: BTreeSet<&str> = found.iter().map(|p| p.table.name()).collect();
    assert_eq!(
        tables,
        BTreeSet::from(["otel_logs", "otel_traces"]),
        "{found:?}"
    );
    assert_eq!(store.hook.lists_most.get(), 6);
}

/// The inputs not read whole with their footers get their first row
/// groups several at a time before the merge starts (at most six), with
/// no more gets than one by one, and the same rows.
#[test]
fn first_row_groups_are_got_several_at_a_time() {
    let inner = memory();
    let store = overlapping(&inner);
    ingest_logs(&inner, 1..=8, 3000);
    let sizes: Vec<u64> = inner
        .snapshot()
        .into_values()
        .map(|d| d.len() as u64)
        .collect();
    assert!(sizes.iter().all(|&n| n > DEFAULT_SUFFIX_BYTES), "{sizes:?}");
    let rows_before = rows(&inner);
    // One run for all eight.
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: 256 << 20,
        ..settings()
    };
    let report = compact_all(&store, &s);
    assert_eq!((report.inputs, report.outputs), (8, 1));
    assert_eq!(rows(&inner), rows_before);
    assert_eq!(store.hook.slices_most.get(), 6);
    // A footer and a row group per input, the output's footer.
    assert_eq!(store.hook.gets.get(), 8 * 2 + 1);
}

/// Each later row group's get and each part upload takes one turn of the
/// executor; counts, for each kind, the calls started ahead (first polled
/// by a run that went on without waiting: the no-op waker of
/// `store::Started`) and those the run waited for from the start.
#[derive(Default)]
struct Waits {
    /// (started ahead, waited for)
    later_gets: std::cell::Cell<(usize, usize)>,
    parts: std::cell::Cell<(usize, usize)>,
    now: std::cell::Cell<usize>,
    most: std::cell::Cell<usize>,
}

/// Pending once, then ready; on the first poll, counts in `log` whether
/// the caller waits for it (a real waker) or goes on meanwhile.
struct Logged<'a> {
    polled: bool,
    log: &'a std::cell::Cell<(usize, usize)>,
}

impl std::future::Future for Logged<'_> {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.polled {
            return std::task::Poll::Ready(());
        }
        self.polled = true;
        let (ahead, waited) = self.log.get();
        match cx.waker().will_wake(std::task::Waker::noop()) {
            true => self.log.set((ahead + 1, waited)),
            false => self.log.set((ahead, waited + 1)),
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl Hooks for Waits {
    async fn before_get(
        &self,
        _: &Memory,
        _: &str,
        range: &Option<store::Range>,
    ) -> otlp2r2::Result<()> {
        // A row group after the first (which starts after the magic bytes).
        if let Some(store::Range::Slice { offset, .. }) = range {
            if *offset > 4 {
                let _call = Under::way(&self.now, &self.most);
                Logged {
                    polled: false,
                    log: &self.later_gets,
                }
                .await;
            }
        }
        Ok(())
    }

    async fn before_upload(&self) {
        let _call = Under::way(&self.now, &self.most);
        Logged {
            polled: false,
            log: &self.parts,
        }
        .await
    }
}

/// A merge gets an input's next row group as soon as the row group before
/// is decoded, and goes on merging while it comes; it uploads an output's
/// part and goes on merging while it goes (the next part, or the
/// completion, waits for it). On R2 each is a round trip the merge no longer
/// stops for. At most a few such calls are under way at once.
#[test]
fn a_merge_does_not_wait_for_later_row_groups_or_parts() {
    let inner = memory();
    let store = Hooked {
        inner: &inner,
        hook: Waits::default(),
    };
    // Row groups of 2,000 rows, more than a decoded batch (1,024).
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: 256 << 20,
        row_group_rows: 2000,
        ..settings()
    };
    // Four files, then four more with the first four's output: an input of
    // six row groups beside four of one.
    ingest_logs(&inner, 1..=4, 3000);
    assert_eq!(compact_all(&store, &s).outputs, 1);
    ingest_logs(&inner, 5..=8, 3000);
    let rows_before = rows(&inner);
    let report = compact_all(&store, &s);
    assert_eq!((report.inputs, report.outputs), (5, 1));
    assert_eq!(rows(&inner), rows_before);
    // The input of six row groups: its five later ones got ahead.
    assert_eq!(
        store.hook.later_gets.get(),
        (5, 0),
        "row groups: ahead, waited for"
    );
    // Every part of both runs' outputs (64 KiB each).
    let (ahead, waited) = store.hook.parts.get();
    assert!(
        ahead >= 10 && waited == 0,
        "parts: {ahead} ahead, {waited} waited for"
    );
    assert!(store.hook.most.get() <= 2, "{}", store.hook.most.get());
}

/// A run reads the partition's tombstones several at a time too (one per
/// earlier run, until they are folded).
#[test]
fn tombstones_are_read_several_at_a_time() {
    let inner = memory();
    let store = overlapping(&inner);
    ingest_logs(&inner, 1..=8, 20);
    // Two inputs a run: a run, and a tombstone, for each merge.
    let s = Settings {
        max_inputs: 2,
        ..settings()
    };
    let rows_before = rows(&inner);
    compact_all(&store, &s);
    assert_eq!(rows(&inner), rows_before);
    let tombstones = inner
        .snapshot()
        .into_keys()
        .filter(|k| k.starts_with("_compaction/done/"))
        .count();
    assert!((6..=8).contains(&tombstones), "{tombstones}");
    // A run with nothing left to merge reads them, and its one file's
    // footer.
    store.hook.most.set(0);
    let gets = store.hook.gets.get();
    let p = first_partition(&inner);
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "test")).unwrap();
    assert_eq!(r.inputs, 0);
    assert_eq!(store.hook.gets.get() - gets, tombstones + 1);
    assert_eq!(store.hook.most.get(), 6);
}

/// Planning with a look-back lists each table from its first day's
/// `date=` folder on, never the whole bucket: a partition older than the
/// look-back is left alone, one inside it is found; with no look-back both
/// are.
#[test]
fn planning_lists_only_the_hours_of_its_look_back() {
    let store = Faulty::new(memory());
    for (seed, hours) in [(1, 0), (2, 0), (3, 30), (4, 30)] {
        ingest(
            store.inner(),
            Signal::Logs,
            &logs_at(20, seed, hours),
            false,
        );
    }
    let hours: BTreeSet<u64> = table_files(store.inner())
        .iter()
        .filter_map(|k| otlp2r2::key::parse_partition(k).map(|(_, h)| h))
        .collect();
    let last = *hours.last().unwrap();
    // Three hours after the last hour began: 24 hours back reach the
    // requests moved by 30 hours, not the others.
    let now = (last + 3) * 3600;
    let recent: Vec<u64> = hours
        .iter()
        .copied()
        .filter(|&h| h + 24 >= now / 3600)
        .collect();
    let all: Vec<u64> = hours.iter().copied().collect();
    assert!(!recent.is_empty() && recent.len() < all.len(), "{hours:?}");
    let found = |lookback_hours| {
        let s = Settings {
            lookback_hours,
            ..settings()
        };
        let ps = block_on(compact::find_eligible(&store, now, &s)).unwrap();
        ps.iter().map(|p| p.hour).collect::<Vec<_>>()
    };
    // The whole-bucket listing fails if it is made.
    store.fail(Rule::new(Op::List, When::Key("otel_".into())));
    let before = store.calls(Op::List);
    assert_eq!(found(24), recent);
    // One listing per table (a page each here), then the intents and the
    // tombstones.
    assert_eq!(store.calls(Op::List) - before, Table::ALL.len() as u64 + 2);
    assert_eq!(found(24 * 7), all);
    // No look-back lists every hour, each table on its own too.
    assert_eq!(found(0), all);
}

/// Planning's cost follows the look-back, not the bucket's history: with
/// a year of compacted hours behind it (two files per table and hour,
/// 122,640 keys), the Cron Trigger's planning makes one list call per table
/// plus two, where listing every hour takes one per 1,000 keys.
#[test]
fn planning_cost_does_not_grow_with_the_history() {
    let store = Faulty::new(Memory::new());
    let now = NOW - NOW % 3600;
    let year = 365 * 24;
    for table in Table::ALL {
        for hour in now / 3600 - year..now / 3600 {
            for n in 0..2 {
                let key = format!("{}{n}.parquet", otlp2r2::key::partition_prefix(table, hour));
                // Small files: every hour is eligible, so the plan's length
                // shows which hours it saw.
                block_on(store.inner().put(&key, vec![0], store::PutMode::Overwrite)).unwrap();
            }
        }
    }
    let keys = 2 * year * Table::ALL.len() as u64;
    let lists = |lookback_hours| {
        let s = Settings {
            lookback_hours,
            ..settings()
        };
        let before = store.calls(Op::List);
        let found = block_on(compact::find_eligible(&store, now + 3600, &s)).unwrap();
        (store.calls(Op::List) - before, found.len() as u64)
    };
    let tables = Table::ALL.len() as u64;
    // An hour past the last file's hour: 168 hours back reach 167 of them.
    assert_eq!(lists(168), (tables + 2, 167 * tables));
    // No look-back: every key, a table at a time.
    let per_table = (keys / tables).div_ceil(1000);
    assert_eq!(lists(0), (tables * per_table + 2, keys / 2));
}

/// Planning deletes the tombstones past their time, whichever partition
/// they belong to: a partition compacted down to one file is never run
/// again, so its own runs would never delete its last tombstones, and
/// every cron would list more of them.
#[test]
fn planning_deletes_tombstones_past_their_time() {
    use otlp2r2::compact::protocol;
    let store = memory();
    ingest_logs(&store, 1..=3, 20);
    let s = settings();
    compact_all(&store, &s);
    let p = first_partition(&store);
    let tombstones = || -> Vec<String> {
        store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with(&protocol::tombstone_root()))
            .collect()
    };
    let made = tombstones();
    assert_eq!(made.len(), 1, "{made:?}");
    // Another partition's, long past its time, and one still kept.
    let old = protocol::tombstone_key(
        &compact::Partition {
            hour: p.hour - 5,
            ..p
        },
        1,
        7,
    );
    let inputs = br#"{"inputs":["otel_logs/x.parquet"]}"#.to_vec();
    block_on(store.put(&old, inputs, store::PutMode::Overwrite)).unwrap();
    let after = |secs: u64| NOW + secs;
    // Within the time kept: the partition's stays, the old one goes.
    let found = block_on(compact::find_eligible(&store, after(60), &s)).unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(tombstones(), made);
    // Past it: none left, and nothing planned.
    let found = block_on(compact::find_eligible(
        &store,
        after(s.tombstone_secs + 60),
        &s,
    ))
    .unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert!(tombstones().is_empty(), "{:?}", tombstones());
}

/// A partition whose one small file a tombstone of its own lists (a late
/// retry) is planned; one whose file only another partition's tombstone
/// lists is not: planning checks each tombstone against its own
/// partition's files as it reads it, and keeps none of their keys.
#[test]
fn a_late_retry_is_found_by_its_own_partitions_tombstone() {
    use otlp2r2::compact::protocol;
    let store = memory();
    ingest(&store, Signal::Logs, &logs_at(40, 7, 0), false);
    ingest(&store, Signal::Logs, &logs_at(40, 7, 1), false);
    let keys = table_files(&store);
    let parts: Vec<compact::Partition> = keys
        .iter()
        .map(|k| {
            let (table, hour) = otlp2r2::key::parse_partition(k).unwrap();
            compact::Partition { table, hour }
        })
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(parts[0], parts[1], "two hours, a file each");
    let s = settings();
    assert!(block_on(compact::find_eligible(&store, NOW, &s))
        .unwrap()
        .is_empty());
    // The first hour's tombstone lists both files.
    let listed = serde_json::json!({ "inputs": keys })
        .to_string()
        .into_bytes();
    let tombstone = protocol::tombstone_key(&parts[0], NOW - 60, 1);
    block_on(store.put(&tombstone, listed, store::PutMode::Overwrite)).unwrap();
    let found = block_on(compact::find_eligible(&store, NOW, &s)).unwrap();
    assert_eq!(found, vec![parts[0]]);
    // Its run deletes the retry, and nothing else.
    let r = block_on(compact::run(&store, parts[0], &|| NOW, &s, "a")).unwrap();
    assert_eq!(r.late_deleted, 1, "{r:?}");
    assert_eq!(table_files(&store), vec![keys[1].clone()]);
}

/// Planning never lists the hour being written, and lists only a page of
/// a closed hour that has two small files already: a busy table's hour
/// (here 3,000 files, a request a second for 50 minutes) costs a list call,
/// not one per 1,000 keys, and so does the open hour after it.
#[test]
fn planning_skips_the_open_hour_and_the_rest_of_a_busy_one() {
    let store = Faulty::new(Memory::new());
    let now = NOW - NOW % 3600 + 1800; // half past: the hour before is closed
    let open = now / 3600;
    for (hour, files) in [(open - 2, 3000), (open - 1, 3000), (open, 3000)] {
        for n in 0..files {
            let key = format!(
                "{}{n:05}.parquet",
                otlp2r2::key::partition_prefix(Table::Logs, hour)
            );
            block_on(store.inner().put(&key, vec![0], store::PutMode::Overwrite)).unwrap();
        }
    }
    let s = Settings {
        grace_secs: 900,
        lookback_hours: 24,
        ..settings()
    };
    let before = store.calls(Op::List);
    let found = block_on(compact::find_eligible(&store, now, &s)).unwrap();
    let hours: Vec<u64> = found.iter().map(|p| p.hour).collect();
    assert_eq!(hours, vec![open - 2, open - 1]);
    // Logs: the first page (in the first busy hour), one in the second, one
    // that reaches the open hour and stops; a page for each other table;
    // the intents and the tombstones.
    let tables = Table::ALL.len() as u64;
    assert_eq!(store.calls(Op::List) - before, 3 + (tables - 1) + 2);
}

/// A file in a partition's folder that this compactor cannot read (not
/// Parquet, or not otlp2r2's) does not stop its hour: the run merges the
/// others, leaves it where it is and names it in its report; a store
/// failure still fails the run.
#[test]
fn an_unreadable_file_is_left_alone_and_named() {
    let store = Faulty::new(memory());
    ingest_logs(store.inner(), 1..=3, 50);
    let p = first_partition(store.inner());
    let put = |key: &str, bytes: Vec<u8>| {
        block_on(store.inner().put(key, bytes, store::PutMode::Overwrite)).unwrap();
    };
    let junk = format!("{}0-junk.parquet", p.prefix());
    put(&junk, b"not parquet, though longer than a footer".to_vec());
    // Parquet, but not otlp2r2's: a file of the bench's peer, say.
    let foreign = format!("{}1-foreign.parquet", p.prefix());
    let column =
        std::sync::Arc::new(arrow_array::Int32Array::from(vec![1, 2])) as arrow_array::ArrayRef;
    let batch = RecordBatch::try_from_iter([("x", column)]).unwrap();
    let mut bytes = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    put(&foreign, bytes);
    // Empty: named without a get (R2 cannot serve its last 0 bytes).
    let empty = format!("{}2-empty.parquet", p.prefix());
    put(&empty, Vec::new());
    store.fail(Rule::new(Op::Get, When::Key(empty.clone())));
    let s = settings();
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "test")).unwrap();
    assert_eq!((r.inputs, r.outputs, r.unreadable_files), (3, 1, 3));
    let named = &r.unreadable;
    let says = |key: &str, what: &str| {
        named
            .iter()
            .any(|n| n.starts_with(&format!("{key}: ")) && n.contains(what))
    };
    assert!(says(&junk, "not Parquet"), "{named:?}");
    assert!(says(&foreign, "not an otlp2r2 file"), "{named:?}");
    assert!(says(&empty, "a file of 0 bytes"), "{named:?}");
    store.heal();
    block_on(store.inner().delete(std::slice::from_ref(&empty))).unwrap();
    let keys = table_files(store.inner());
    assert!(keys.contains(&junk) && keys.contains(&foreign) && keys.len() == 3);
    // A failing get is not taken for an unreadable file.
    ingest_logs(store.inner(), 4..=5, 50);
    store.fail(Rule::new(Op::Get, When::Key(junk.clone())));
    assert!(block_on(compact::run(&store, p, &|| NOW, &s, "test")).is_err());
    // Every row of the five requests, once, with the two files gone.
    store.heal();
    block_on(store.inner().delete(&[junk, foreign])).unwrap();
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "test")).unwrap();
    assert_eq!((r.inputs, r.unreadable_files), (3, 0));
    let expected = memory();
    ingest_logs(&expected, 1..=5, 50);
    assert_eq!(rows(store.inner()), rows(&expected));
}

/// A record of the protocol that does not parse (damaged, or another
/// build's format) fails its run the same way at every try: the error says
/// which record, and is not transient, so the queue consumer acks it
/// instead of having the queue redeliver it ten times every cron. The
/// files stay as they are.
#[test]
fn a_record_that_does_not_parse_is_not_retried() {
    use otlp2r2::compact::protocol;
    let store = memory();
    ingest_logs(&store, 1..=3, 50);
    let p = first_partition(&store);
    let before = table_files(&store);
    for key in [protocol::intent_key(&p, 7), protocol::lease_key(&p)] {
        block_on(store.put(
            &key,
            b"{\"not\": \"ours\"}".to_vec(),
            store::PutMode::Overwrite,
        ))
        .unwrap();
        let lease_expired = || NOW + 24 * 3600;
        let e = block_on(compact::run(&store, p, &lease_expired, &settings(), "test")).unwrap_err();
        assert!(
            matches!(&e, otlp2r2::Error::BadRecord { key: k, .. } if *k == key),
            "{e}"
        );
        assert!(!e.is_transient(), "{e}");
        assert_eq!(table_files(&store), before);
        block_on(store.delete(std::slice::from_ref(&key))).unwrap();
    }
    let r = block_on(compact::run(&store, p, &|| NOW, &settings(), "test")).unwrap();
    assert_eq!(r.inputs, 3);
}

/// A partition that fails (here a damaged intent, which stops it until
/// somebody removes it) stops only itself, as one queue message does in
/// the Worker: `compact_all` (the CLI's loop) compacts the others, tells
/// its progress of the failure, and returns the error at the end.
#[test]
fn a_failing_partition_does_not_stop_the_others() {
    use otlp2r2::compact::protocol;
    let store = memory();
    for seed in 1..=2 {
        ingest(&store, Signal::Logs, &logs_at(50, seed, 0), false);
        ingest(&store, Signal::Logs, &logs_at(50, seed + 10, 1), false);
    }
    let parts = block_on(compact::find_eligible(&store, NOW, &settings())).unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    let damaged = protocol::intent_key(&parts[0], 7);
    block_on(store.put(&damaged, b"{}".to_vec(), store::PutMode::Overwrite)).unwrap();
    let mut heard = Vec::new();
    let r = block_on(compact::compact_all(
        &store,
        &|| NOW,
        &settings(),
        "test",
        |p, r| heard.push((p.id(), r.is_ok())),
    ));
    assert!(matches!(r, Err(otlp2r2::Error::BadRecord { .. })), "{r:?}");
    assert_eq!(heard, [(parts[0].id(), false), (parts[1].id(), true)]);
    let files = |p: &Partition| {
        block_on(store::list_all(&store, &p.prefix()))
            .unwrap()
            .len()
    };
    assert_eq!((files(&parts[0]), files(&parts[1])), (2, 1));
}

/// A file whose footer reads but whose pages do not decode (damaged after
/// it was written) does not stop its hour either: the run that meets it
/// rolls its merge back (outputs and uploads; its intent stays, rolled
/// back, for the next run to clear) and records it; the next runs leave it where it is, name it, and merge
/// the others. Here the damage is in the last page of a large input's
/// column, met after the merge has uploaded parts of its output.
#[test]
fn a_file_whose_pages_do_not_decode_is_left_and_the_others_merge() {
    use otlp2r2::compact::protocol;
    let faulty = Faulty::new(memory());
    let store = faulty.inner();
    for seed in 400..404 {
        ingest(store, Signal::Logs, &logs_at(20, seed, 0), false);
    }
    // One row group, its pages of 8,192 rows at most.
    ingest(store, Signal::Logs, &logs_at(20_000, 404, 0), false);
    let keys = table_files(store);
    assert_eq!(keys.len(), 5);
    let files = store.snapshot();
    let bad = (keys.iter())
        .max_by_key(|k| files[*k].len())
        .unwrap()
        .clone();
    // The others, as they are.
    let expected = memory();
    for key in keys.iter().filter(|k| **k != bad) {
        let bytes = files[key].clone();
        block_on(expected.put(key, bytes, store::PutMode::Overwrite)).unwrap();
    }
    // The first column's last page header overwritten: the footer still
    // reads, and the merge meets it past the input's 16,384th row.
    let mut bytes = files[&bad].clone();
    let options = parquet::file::serialized_reader::ReadOptionsBuilder::new()
        .with_page_index()
        .build();
    let reader = parquet::file::serialized_reader::SerializedFileReader::new_with_options(
        bytes::Bytes::from(bytes.clone()),
        options,
    )
    .unwrap();
    let meta = parquet::file::reader::FileReader::metadata(&reader);
    let pages = meta.offset_index().unwrap()[0][0].page_locations();
    assert_eq!(pages.len(), 3);
    let start = pages[2].offset as usize;
    bytes[start..start + 32].fill(0xff);
    block_on(store.put(&bad, bytes, store::PutMode::Overwrite)).unwrap();
    // Every file small; the merge uploads 64 KiB parts as it goes.
    let s = Settings {
        target_bytes: 4 << 20,
        ..settings()
    };
    assert!((files[&bad].len() as u64) < s.small_bytes());
    let named = |r: &compact::Report| {
        r.unreadable
            .iter()
            .any(|u| u.starts_with(&format!("{bad}: ")))
    };
    // The run that meets it, after parts of its output went up: nothing
    // merged, nothing of its merge left.
    let p = first_partition(store);
    let r = block_on(compact::run(&faulty, p, &|| NOW, &s, "test")).unwrap();
    assert!(faulty.calls(Op::UploadPart) > 0);
    assert_eq!(
        (r.inputs, r.outputs, r.unreadable_files, r.more),
        (0, 0, 1, true),
        "{r:?}"
    );
    assert!(named(&r), "{r:?}");
    assert_eq!(table_files(store), keys);
    assert!(
        store.open_uploads().is_empty(),
        "{:?}",
        store.open_uploads()
    );
    // Its intent stays, rolled back, for the next run to clear (deleting
    // again any output whose failed write landed late).
    let left = intents(store);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].rolled_back && left[0].state == protocol::State::Writing);
    // Recorded with the etag it has.
    let record = protocol::unreadable_key(&first_partition(store), &bad);
    let recorded: protocol::Unreadable =
        serde_json::from_slice(&store.snapshot()[&record]).unwrap();
    let listed = block_on(store::list_all(store, &bad)).unwrap();
    assert_eq!((&recorded.key, &recorded.etag), (&bad, &listed[0].etag));
    // The next runs leave it out, and name it.
    let r = run_first(store, &s);
    assert_eq!(
        (r.inputs, r.outputs, r.unreadable_files),
        (4, 1, 1),
        "{r:?}"
    );
    assert!(named(&r), "{r:?}");
    assert!(intents(store).is_empty());
    ingest(store, Signal::Logs, &logs_at(20, 405, 0), false);
    ingest(&expected, Signal::Logs, &logs_at(20, 405, 0), false);
    let r = run_first(store, &s);
    assert_eq!((r.inputs, r.unreadable_files), (2, 1), "{r:?}");
    let left = table_files(store);
    assert!(left.contains(&bad) && left.len() == 2, "{left:?}");
    // Written again with other bytes (its exporter's retry, before the
    // damage), it is merged, and its record goes.
    let good = files[&bad].clone();
    block_on(store.put(&bad, good.clone(), store::PutMode::Overwrite)).unwrap();
    block_on(expected.put(&bad, good, store::PutMode::Overwrite)).unwrap();
    let r = compact_all(store, &s);
    assert_eq!(r.unreadable_files, 0, "{r:?}");
    assert!(!store.keys().contains(&record));
    assert_eq!(table_files(store).len(), 1);
    assert_eq!(rows(store), rows(&expected));
}

/// `file` with its first row group's row count in the footer moved by
/// `delta`, its pages as they are (a damaged footer, or another writer's).
/// The footer is written again by the parquet crate; its column chunks
/// keep their page indexes' offsets, whose bytes stay where they were.
fn miscounted(file: &[u8], delta: i64) -> Vec<u8> {
    use parquet::file::metadata::{ParquetMetaDataReader, ParquetMetaDataWriter};
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&bytes::Bytes::copy_from_slice(file))
        .unwrap();
    let mut builder = metadata.into_builder();
    let mut groups = builder.take_row_groups();
    let first = groups.remove(0);
    let rows = first.num_rows() + delta;
    groups.insert(0, first.into_builder().set_num_rows(rows).build().unwrap());
    let metadata = builder.set_row_groups(groups).build();
    let n = file.len();
    let footer_len = u32::from_le_bytes(file[n - 8..n - 4].try_into().unwrap()) as usize;
    let mut out = file[..n - 8 - footer_len].to_vec();
    ParquetMetaDataWriter::new(&mut out, &metadata)
        .finish()
        .unwrap();
    out
}

/// A row group whose pages end before its footer's row count, or go on
/// past it (past a batch, or at a batch's end), is an unreadable input,
/// not read as its pages say: the merge checks its outputs against the
/// footers' counts (and dropped the rows past them).
#[test]
fn pages_that_disagree_with_the_footers_row_count_are_unreadable() {
    use compact::read::{Footer, FooterOrNeed};
    let store = memory();
    ingest(&store, Signal::Logs, &logs_at(300, 3, 0), false);
    let file = store.snapshot().into_values().next().unwrap();
    let cases = [
        (0, 1024),
        (0, 100),
        (-10, 1024),
        (-100, 100),
        (10, 1024),
        (10, 100),
    ];
    for (delta, batch_rows) in cases {
        let file = miscounted(&file, delta);
        let Ok(FooterOrNeed::Footer(footer)) = Footer::parse(&file, file.len() as u64) else {
            panic!("no footer");
        };
        assert_eq!(footer.rows() as i64, 300 + delta);
        // Read as a merge reads it: no batch asked for past the count.
        let (mut rows, mut error) = (0, None);
        let mut batches = footer
            .decode_row_group(0, 0, file.into(), batch_rows)
            .unwrap();
        while let Some(b) = batches.next() {
            match b {
                Ok(b) if batches.done() => {
                    rows += b.num_rows();
                    break;
                }
                Ok(b) => rows += b.num_rows(),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let what = format!("{delta} rows, batches of {batch_rows}: {rows} rows, {error:?}");
        match delta {
            0 => assert!(rows == 300 && error.is_none(), "{what}"),
            _ => assert!(
                matches!(error, Some(otlp2r2::Error::UnreadableInput { .. })),
                "{what}"
            ),
        }
    }
}

/// A file whose footer miscounts its rows is unreadable where the merge
/// reads it: the run records it, rolls that merge back (a reader never sees
/// its rows twice) and leaves the file where it is; the next run merges the
/// others. (The merge read the pages' rows, failed the outputs' row check
/// after completing them, without undoing anything, and every later run did
/// the same: outputs and inputs side by side for good.)
#[test]
fn a_file_whose_footer_miscounts_its_rows_is_left_and_the_others_merge() {
    for delta in [-10, 10] {
        let store = memory();
        for seed in 410..413 {
            ingest(&store, Signal::Logs, &logs_at(20, seed, 0), false);
        }
        let good = memory();
        for seed in 410..413 {
            ingest(&good, Signal::Logs, &logs_at(20, seed, 0), false);
        }
        ingest(&store, Signal::Logs, &logs_at(300, 413, 0), false);
        let keys = table_files(&store);
        let bad = (keys.iter())
            .find(|k| !good.keys().contains(k))
            .unwrap()
            .clone();
        let file = miscounted(&store.snapshot()[&bad], delta);
        block_on(store.put(&bad, file, store::PutMode::Overwrite)).unwrap();
        let s = settings();
        let r = run_first(&store, &s);
        let what = format!("{delta}: {r:?}");
        assert_eq!(
            (r.inputs, r.outputs, r.unreadable_files),
            (0, 0, 1),
            "{what}"
        );
        assert_eq!(table_files(&store), keys, "{what}");
        let r = run_first(&store, &s);
        assert_eq!((r.inputs, r.unreadable_files), (3, 1), "{what}");
        let left = table_files(&store);
        assert!(left.contains(&bad) && left.len() == 2, "{what}: {left:?}");
        block_on(store.delete(&[bad])).unwrap();
        assert_eq!(rows(&store), rows(&good), "{what}");
    }
}

/// A late retry: a request is written, compacted, then written again (its
/// exporter retried): after the next run every row is there once.
#[test]
fn a_late_retry_is_not_merged_twice() {
    let store = memory();
    let body = logs_at(40, 7, 0);
    ingest(&store, Signal::Logs, &body, false);
    ingest(&store, Signal::Logs, &logs_at(30, 8, 0), false);
    let s = settings();
    compact_all(&store, &s);
    let once = rows(&store);
    ingest(&store, Signal::Logs, &body, false);
    assert_ne!(rows(&store), once, "the retry brought the rows back");
    let r = compact_all(&store, &s);
    assert_eq!(r.late_deleted, 1);
    assert_eq!(rows(&store), once);
}

/// A late retry that lands while a run recovers a committed run (after the
/// recovery wrote the tombstone and deleted the inputs, before the run
/// lists the partition again) is recognised by that tombstone: the run
/// lists the tombstones again after a recovery.
#[test]
fn a_late_retry_during_a_recovery_is_not_merged_twice() {
    use otlp2r2::compact::protocol;
    use std::cell::{Cell, RefCell};
    /// Fails every tombstone put while `stop` (a run dies right after its
    /// commit); lands `retry` just before an intent is deleted.
    struct Window {
        stop: Cell<bool>,
        retry: RefCell<Option<(String, Vec<u8>)>>,
    }
    impl Hooks for Window {
        async fn before_put(&self, key: &str) -> otlp2r2::Result<()> {
            if self.stop.get() && key.starts_with(&protocol::tombstone_root()) {
                return Err(store::failed("put", key, "the run dies here"));
            }
            Ok(())
        }
        async fn before_delete(&self, inner: &Memory, keys: &[String]) {
            let intent = format!("{}intent/", protocol::ROOT);
            if keys.iter().any(|k| k.starts_with(&intent)) {
                let retry = self.retry.borrow_mut().take();
                if let Some((key, data)) = retry {
                    inner
                        .put(&key, data, store::PutMode::Overwrite)
                        .await
                        .unwrap();
                }
            }
        }
    }
    let inner = memory();
    let body = logs_at(40, 7, 0);
    ingest(&inner, Signal::Logs, &body, false);
    ingest(&inner, Signal::Logs, &logs_at(30, 8, 0), false);
    let p = first_partition(&inner);
    // The first request's file as its exporter's retry writes it again.
    let copy = memory();
    ingest(&copy, Signal::Logs, &body, false);
    let retry = copy.snapshot().into_iter().next().unwrap();
    let store = Hooked {
        inner: &inner,
        hook: Window {
            stop: Cell::new(true),
            retry: RefCell::new(None),
        },
    };
    let s = settings();
    assert!(block_on(compact::run(&store, p, &|| NOW, &s, "a")).is_err());
    store.hook.stop.set(false);
    *store.hook.retry.borrow_mut() = Some(retry);
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "b")).unwrap();
    assert_eq!(r.recovered, 1);
    assert!(
        store.hook.retry.borrow().is_none(),
        "the retry did not land"
    );
    assert_eq!(r.late_deleted, 1, "{r:?}");
    compact_all(&inner, &s);
    let expected = memory();
    ingest(&expected, Signal::Logs, &body, false);
    ingest(&expected, Signal::Logs, &logs_at(30, 8, 0), false);
    assert_eq!(rows(&inner), rows(&expected));
}

/// A partition compacted over many runs (two inputs each) leaves a
/// tombstone per run; they are folded into one, and a retry of the first
/// run's input is still recognised after the fold.
#[test]
fn many_runs_fold_their_tombstones_and_still_catch_late_retries() {
    let store = memory();
    let first = logs_at(20, 100, 0);
    ingest(&store, Signal::Logs, &first, false);
    ingest_logs(&store, 101..114, 20);
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: 1,
        ..settings()
    };
    let r = compact_all(&store, &s);
    assert!(r.outputs >= 12, "{r:?}");
    let tombstones = || {
        store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with(&otlp2r2::compact::protocol::tombstone_root()))
            .count()
    };
    assert!(tombstones() <= 9, "{} tombstones", tombstones());
    let once = rows(&store);
    ingest(&store, Signal::Logs, &first, false);
    let r = compact_all(&store, &s);
    assert_eq!(r.late_deleted, 1);
    assert_eq!(rows(&store), once);
}

/// Late data that is not a retry (new rows for a compacted hour) is merged
/// with the hour's earlier output.
#[test]
fn late_data_joins_the_hours_output() {
    let store = memory();
    ingest(&store, Signal::Logs, &logs_at(40, 7, 0), false);
    ingest(&store, Signal::Logs, &logs_at(30, 8, 0), false);
    let s = settings();
    compact_all(&store, &s);
    ingest(&store, Signal::Logs, &logs_at(25, 9, 0), false);
    let before = rows(&store);
    compact_all(&store, &s);
    assert_eq!(rows(&store), before);
    assert_eq!(table_files(&store).len(), 1);
}

/// An output row group closes at its byte cap before its row count.
#[test]
fn row_groups_close_at_their_byte_cap() {
    let store = memory();
    ingest_logs(&store, 0..6, 3000);
    let s = Settings {
        target_bytes: 64 << 20,
        row_group_rows: 1 << 20,
        row_group_bytes: 1 << 20,
        ..settings()
    };
    let groups = compacted_into_one(&store, &s);
    assert!(groups.len() >= 2, "{} row groups", groups.len());
    for (bytes, rows) in groups {
        // Closed at the first 8,192-row batch past the cap.
        assert!(bytes < 2 << 20, "{bytes}");
        assert!(rows < 18_000);
    }
}

/// The partition of the store's first table file.
fn first_partition(store: &Memory) -> compact::Partition {
    let key = table_files(store).into_iter().next().unwrap();
    let (table, hour) = otlp2r2::key::parse_partition(&key).unwrap();
    compact::Partition { table, hour }
}

/// One run over the store's first partition.
fn run_first(store: &Memory, s: &Settings) -> compact::Report {
    block_on(compact::run(
        store,
        first_partition(store),
        &|| NOW,
        s,
        "test",
    ))
    .unwrap()
}

/// Each stored file's key, footer and size in bytes.
fn stored_footers(store: &Memory) -> Vec<(String, compact::read::Footer, u64)> {
    let parse = |data: &[u8]| compact::read::Footer::parse(data, data.len() as u64);
    (store.snapshot().into_iter())
        .map(|(key, data)| match parse(&data) {
            Ok(compact::read::FooterOrNeed::Footer(footer)) => (key, *footer, data.len() as u64),
            _ => panic!("{key}: no footer"),
        })
        .collect()
}

/// Over every stored file, as `estimate` (of its key, footer and size)
/// says: the least any holds, the most any holds, and the most any peaks at.
fn estimate_range(
    store: &Memory,
    estimate: impl Fn(&str, &compact::read::Footer, u64) -> compact::read::ReadMemory,
) -> (u64, u64, u64) {
    (stored_footers(store).iter()).fold((u64::MAX, 0, 0), |out, (key, footer, size)| {
        let m = estimate(key, footer, *size);
        (out.0.min(m.held), out.1.max(m.held), out.2.max(m.peak))
    })
}

/// Compacts the store's first partition with `budget` of reader memory a
/// run (outputs that do not roll), run after run, and checks that every row
/// is kept; the first run's report.
fn runs_within_memory(store: &Memory, budget: u64) -> compact::Report {
    let before = rows(store);
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: budget,
        ..settings()
    };
    let first = run_first(store, &s);
    compact_all(store, &s);
    assert_eq!(rows(store), before);
    first
}

/// Compacts every partition of `store`, which keeps its rows in one output
/// file: that file's row groups (see [`row_groups`]).
fn compacted_into_one(store: &Memory, s: &Settings) -> Vec<(i64, i64)> {
    let before = rows(store);
    compact_all(store, s);
    assert_eq!(rows(store), before);
    let files = table_files(store);
    assert_eq!(files.len(), 1);
    row_groups(store.snapshot().remove(&files[0]).unwrap())
}

/// Each row group of a Parquet file: its compressed bytes and its rows.
fn row_groups(data: Vec<u8>) -> Vec<(i64, i64)> {
    use parquet::file::reader::FileReader;
    let reader =
        parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(data)).unwrap();
    let meta = reader.metadata();
    meta.row_groups()
        .iter()
        .map(|g| (g.compressed_size(), g.num_rows()))
        .collect()
}

/// An output that a later run will read back (its run left small files
/// and it is small itself) closes its row groups at 1 MiB, so that more of
/// it fits a run's memory; the partition's last output has the configured
/// large row groups.
#[test]
fn intermediate_outputs_have_small_row_groups() {
    let store = memory();
    // Files of one input batch each: the merge's output batches are full.
    ingest_logs(&store, 0..40, 400);
    let before = rows(&store);
    let inputs = table_files(&store);
    let s = Settings {
        target_bytes: 64 << 20,
        row_group_rows: 1 << 20,
        max_inputs: 30,
        ..settings()
    };
    assert_eq!(s.row_group_bytes, 4 << 20);
    let r = run_first(&store, &s);
    assert!(r.more && r.inputs == 30, "{r:?}");
    let out: Vec<String> = table_files(&store)
        .into_iter()
        .filter(|k| !inputs.contains(k))
        .collect();
    assert_eq!(out.len(), 1);
    // Closed at the first 2,048-row batch past 1 MiB (of the writer's
    // estimate, about 5,000 of these rows), where whole 8,192-row batches
    // made row groups of 8,192 rows.
    let groups = row_groups(store.snapshot().remove(&out[0]).unwrap());
    assert!(
        groups.len() >= 2 && groups.iter().all(|&(b, n)| b < 1 << 20 && n < 8192),
        "{groups:?}"
    );
    compact_all(&store, &s);
    assert_eq!(rows(&store), before);
    let files = table_files(&store);
    assert_eq!(files.len(), 1);
    // The last output: one row group of every row.
    let groups = row_groups(store.snapshot().remove(&files[0]).unwrap());
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].1, 16_000);
}

/// A partition larger than one run's bounds (inputs, bytes, memory) is
/// compacted over several runs, each saying whether it left work
/// (`Report::more`, what makes the Worker send the partition again), and
/// each within its bounds; at the end it is one file with every row.
#[test]
fn a_partition_over_a_run_s_bounds_takes_several_runs() {
    let seeded = || {
        let store = memory();
        for seed in 0..7 {
            ingest(
                &store,
                Signal::Logs,
                &logs_at(30 + seed as usize, seed, 0),
                false,
            );
        }
        store
    };
    for bound in ["inputs", "bytes", "no-bytes", "memory"] {
        let store = seeded();
        let before = rows(&store);
        let sizes: Vec<u64> = store.snapshot().values().map(|d| d.len() as u64).collect();
        let biggest = *sizes.iter().max().unwrap();
        let mut s = Settings {
            target_bytes: 64 << 20,
            ..settings()
        };
        match bound {
            "inputs" => s.max_inputs = 3,
            // Room for three of the smallest files.
            "bytes" => s.run_bytes = biggest * 3,
            // Less than any file: two always merge.
            "no-bytes" => s.run_bytes = 1,
            // Room for two files' reading, never less: two always merge.
            _ => s.merge_memory_bytes = 1,
        }
        let mut runs = Vec::new();
        loop {
            let r = run_first(&store, &s);
            assert!(r.inputs >= 2, "{bound}: a run merged {} inputs", r.inputs);
            match bound {
                "inputs" => assert!(r.inputs <= 3),
                "bytes" => assert!(r.bytes_in <= s.run_bytes || r.inputs == 2),
                _ => assert_eq!(r.inputs, 2),
            }
            runs.push(r.inputs);
            if !r.more {
                break;
            }
            assert!(runs.len() < 10, "{bound}: no end to the runs: {runs:?}");
        }
        assert!(runs.len() >= 3, "{bound}: {runs:?}");
        assert_eq!(rows(&store), before, "{bound}");
        assert_eq!(table_files(&store).len(), 1, "{bound}: {runs:?}");
        // compact_all runs a partition again while it says more.
        let store2 = seeded();
        let total = compact_all(&store2, &s);
        assert_eq!(table_files(&store2).len(), 1, "{bound}");
        assert!(!total.more && total.inputs >= 7, "{bound}: {total:?}");
    }
}

/// A run merges two files whatever they hold: a pair estimated over the
/// run's memory bound asks for its whole estimate before it writes
/// anything. Refused, the run stops with a transient `Busy` (a queue
/// redelivers it) and leaves the store as it was, lease included; granted,
/// it merges. A run within its bound asks for nothing.
#[test]
fn a_run_over_its_memory_bound_asks_for_its_estimate_first() {
    let store = memory();
    ingest_logs(&store, 1..=2, 3000);
    let p = first_partition(&store);
    let before = store.snapshot();
    let asked = std::cell::Cell::new(0);
    let within = Settings {
        target_bytes: 64 << 20,
        ..settings()
    };
    let report = block_on(compact::run_metered(
        &store,
        p,
        &|| NOW,
        &within,
        "test",
        &|bytes| {
            asked.set(bytes);
            false
        },
    ))
    .unwrap();
    assert_eq!((report.inputs, asked.get()), (2, 0));

    let store = memory();
    ingest_logs(&store, 1..=2, 3000);
    let over = Settings {
        merge_memory_bytes: 1,
        ..within.clone()
    };
    let ask = |grant: bool| {
        block_on(compact::run_metered(
            &store,
            p,
            &|| NOW,
            &over,
            "test",
            &|bytes| {
                asked.set(bytes);
                grant
            },
        ))
    };
    let refused = ask(false).unwrap_err();
    assert!(
        matches!(refused, otlp2r2::Error::Busy { .. }) && refused.is_transient(),
        "{refused}"
    );
    assert!(asked.get() > over.run_memory(), "{}", asked.get());
    assert_eq!(store.snapshot(), before);
    asked.set(0);
    let report = ask(true).unwrap();
    assert_eq!((report.inputs, report.outputs), (2, 1));
    assert!(asked.get() > over.run_memory());
    assert_eq!(rows(&store).values().map(Vec::len).sum::<usize>(), 6000);
}

/// Files of one row each are bounded by what their decoded footers hold,
/// not by their few bytes: with room for ten footers, a run takes at most
/// ten of them (the bytes alone would have let all forty into one run).
#[test]
fn one_row_files_are_bounded_by_their_footers() {
    let store = memory();
    ingest_logs(&store, 0..40, 1);
    let before = rows(&store);
    assert_eq!(table_files(&store).len(), 40);
    let (mut least_held, mut most_peak) = (u64::MAX, 0);
    for (key, footer, size) in stored_footers(&store) {
        let (held, peak) = held_and_peak(&footer, size);
        assert!(footer.footer_memory() > 4 * size, "{key}: {size} B");
        least_held = least_held.min(held);
        most_peak = most_peak.max(peak);
    }
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: 10 * least_held + most_peak,
        ..settings()
    };
    let runs = runs_to_the_end(&store, &s, 20, |inputs| (2..=10).contains(&inputs));
    assert!(runs.len() >= 4, "{runs:?}");
    assert_eq!(rows(&store), before);
}

/// What a one-row file is taken to hold open (read whole: its footer's
/// share and the larger of its bytes and its batch, its string leaves kept
/// as dictionaries, as a run of such files keeps them), and its decode's
/// peak.
fn held_and_peak(footer: &compact::read::Footer, size: u64) -> (u64, u64) {
    let m = footer.read_memory(1024, &footer.kept_leaves());
    (m.held.max(footer.footer_memory() + size), m.peak)
}

/// Runs the store's first partition until a run leaves nothing (fewer
/// than `most` runs), each run's inputs passing `ok`; those inputs.
fn runs_to_the_end(
    store: &Memory,
    s: &Settings,
    most: usize,
    ok: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut runs = Vec::new();
    loop {
        let r = run_first(store, s);
        assert!(ok(r.inputs), "a run merged {} inputs", r.inputs);
        runs.push(r.inputs);
        if !r.more {
            return runs;
        }
        assert!(runs.len() < most, "no end to the runs: {runs:?}");
    }
}

/// The memory bound is the run's, whatever its groups: one-row files of two
/// timestamp units (two groups, merged one after the other, the second's
/// inputs held meanwhile) with room for ten footers take at most ten inputs
/// a run between them (each group took ten).
#[test]
fn a_runs_groups_share_its_memory_bound() {
    let store = memory();
    ingest_logs(&store, 0..20, 1);
    for seed in 100..120 {
        ingest(&store, Signal::Logs, &logs_at(1, seed, 0), true);
    }
    let before = rows(&store);
    assert_eq!(table_files(&store).len(), 40);
    let (mut most_held, mut most_peak) = (0, 0);
    for (_, footer, size) in stored_footers(&store) {
        let (held, peak) = held_and_peak(&footer, size);
        most_held = most_held.max(held);
        most_peak = most_peak.max(peak);
    }
    let s = Settings {
        target_bytes: 64 << 20,
        merge_memory_bytes: 10 * most_held + most_peak,
        ..settings()
    };
    let runs = runs_to_the_end(&store, &s, 30, |inputs| inputs <= 10);
    assert!(runs.iter().sum::<usize>() >= 36, "{runs:?}");
    assert_eq!(rows(&store), before);
}

/// A lone smallest file of another schema (one request written in
/// microseconds) does not keep the others from merging: with room for no
/// input at all, a run still merges two files of one kind.
#[test]
fn a_lone_file_of_another_schema_does_not_stop_the_others() {
    let store = memory();
    ingest(&store, Signal::Logs, &logs_at(1, 200, 0), true);
    for seed in 201..204 {
        ingest(&store, Signal::Logs, &logs_at(20, seed, 0), false);
    }
    let before = rows(&store);
    let s = Settings {
        merge_memory_bytes: 1,
        ..settings()
    };
    let r = run_first(&store, &s);
    assert_eq!(r.inputs, 2, "{r:?}");
    compact_all(&store, &s);
    assert_eq!(rows(&store), before);
    // The lone file and one output of the others are left.
    assert_eq!(table_files(&store).len(), 2);
}

/// A lone small file of another schema, with no partner within a run's
/// bounds, does not keep the run reading the footer of every small file of
/// its partition (a get each, and over the many runs of a large partition
/// their square, past an invocation's subrequests): once a group can merge
/// and the bounds are reached, the run stops reading.
#[test]
fn a_lone_file_of_another_schema_does_not_make_a_run_read_every_footer() {
    let store = Faulty::new(memory());
    ingest(store.inner(), Signal::Logs, &logs_at(1, 300, 0), true);
    for seed in 301..361 {
        ingest(store.inner(), Signal::Logs, &logs_at(5, seed, 0), false);
    }
    let s = Settings {
        max_inputs: 3,
        ..settings()
    };
    let p = first_partition(store.inner());
    let before = store.calls(Op::Get);
    let r = block_on(compact::run(&store, p, &|| NOW, &s, "a")).unwrap();
    assert_eq!((r.inputs, r.more), (2, true), "{r:?}");
    let gets = store.calls(Op::Get) - before;
    assert!(gets < 40, "{gets} gets for 61 small files");
}

/// A run counts the string leaves it will decode as dictionaries (those
/// every input holds as dictionaries: attribute keys, names, enums) at
/// their dictionaries' size, not at their strings': with room for ten
/// request files estimated as strings, it takes more of them at once,
/// and no more than the dictionaries' estimate lets in.
#[test]
fn a_run_counts_kept_dictionaries_as_dictionaries() {
    let store = memory();
    ingest_logs(&store, 0..40, 100);
    // Each file's held memory (read whole with its footer, one row group:
    // at least its bytes), least and most, and its decode's peak, with its
    // string leaves as strings and as dictionaries.
    let held = |kept: bool| {
        estimate_range(&store, |key, footer, size| {
            let leaves = footer.kept_leaves();
            assert!(!leaves.is_empty(), "{key}");
            let leaves = if kept { &leaves[..] } else { &[] };
            let mut m = footer.read_memory(1024, leaves);
            m.held = m.held.max(footer.footer_memory() + size);
            m
        })
    };
    let (plain, kept) = (held(false), held(true));
    assert!(kept.1 * 5 < plain.0 * 4, "kept {kept:?}, plain {plain:?}");
    // Room for ten files estimated as strings: at most this many.
    let budget = 10 * plain.1 + plain.2;
    let by_strings = (budget / plain.0) as usize;
    let r = runs_within_memory(&store, budget);
    assert!(
        r.inputs > by_strings,
        "{} inputs, {by_strings} by strings",
        r.inputs
    );
    assert!(r.inputs as u64 * kept.0 <= budget, "{} inputs", r.inputs);
}

/// A run that memory bounds decodes its inputs in smaller batches when
/// that lets more of them in: files of 3,000 records, a budget that fits
/// three of them decoded 1,024 rows at a time.
#[test]
fn a_run_bounded_by_memory_takes_smaller_batches() {
    let store = memory();
    ingest_logs(&store, 0..12, 3000);
    // Each file's estimate, least held and most held and most at peak, at
    // 1,024 and at 256 rows a batch (none is read whole: all are larger
    // than the first get).
    let at = |rows: usize| {
        estimate_range(&store, |key, footer, size| {
            assert!(
                size > compact::read::DEFAULT_SUFFIX_BYTES,
                "{key}: {size} B"
            );
            assert!(footer.rows() > 1024, "{key}");
            footer.read_memory(rows, &footer.kept_leaves())
        })
    };
    let (wide, tight) = (at(1024), at(256));
    assert!(tight.1 < wide.0, "tight {tight:?}, wide {wide:?}");
    let budget = 3 * wide.1 + wide.2;
    // At 1,024 rows, no more than this many fit, even the smallest.
    let at_1024 = ((budget - wide.2) / wide.0) as usize;
    let r = runs_within_memory(&store, budget);
    assert!(
        r.inputs > at_1024,
        "{} inputs, {at_1024} at 1,024 rows",
        r.inputs
    );
    assert!(
        r.inputs as u64 * tight.0 + tight.2 <= budget,
        "{} inputs",
        r.inputs
    );
}

/// A run that would leave a few files for one last run takes only as many
/// of its smallest files as that last run needs room for, instead of
/// merging large files that the last run merges again. Four small files
/// and four four times larger, six inputs a run: the greedy plan merges
/// the four small and two large (12 parts of rows), then the rest with
/// that output (20 parts: 32 in all); the lookahead merges three small (3
/// parts), then everything else with that output, six inputs (23 in all).
#[test]
fn a_run_leaves_room_for_one_last_run() {
    let store = memory();
    let n = 200;
    ingest_logs(&store, 0..4, n);
    ingest_logs(&store, 10..14, 4 * n);
    let before = rows(&store);
    let s = Settings {
        target_bytes: 64 << 20,
        max_inputs: 6,
        ..settings()
    };
    let first = run_first(&store, &s);
    assert_eq!((first.inputs, first.rows), (3, 3 * n as u64), "{first:?}");
    assert!(first.more, "{first:?}");
    let last = run_first(&store, &s);
    assert_eq!((last.inputs, last.rows), (6, 20 * n as u64), "{last:?}");
    assert!(!last.more, "{last:?}");
    assert_eq!(rows(&store), before);
    assert_eq!(table_files(&store).len(), 1);
}

/// Row groups hold the configured rows, the last fewer: a merged batch
/// never runs past the open row group (whole batches of 8,192 rows made
/// groups of 16,384 rows where 10,000 were asked for).
#[test]
fn row_groups_hold_the_configured_rows() {
    let store = memory();
    ingest_logs(&store, 0..12, 2000);
    let s = Settings {
        target_bytes: 64 << 20,
        row_group_rows: 10_000,
        row_group_bytes: 64 << 20,
        ..settings()
    };
    let groups = compacted_into_one(&store, &s);
    let rows: Vec<i64> = groups.iter().map(|&(_, n)| n).collect();
    assert_eq!(rows, vec![10_000, 10_000, 4_000]);
}

/// Outputs rolled at 24 KiB in parts of 4 KiB, row groups of 40 rows: a
/// small mix makes several outputs of several parts each.
fn small_parts() -> Settings {
    Settings {
        target_bytes: 24 << 10,
        part_bytes: 4 << 10,
        row_group_rows: 40,
        ..settings()
    }
}

/// A store that takes parts of [`small_parts`], holding a small mix of
/// every table.
fn small_parts_mix() -> Faulty<Memory> {
    let store = Faulty::new(Memory::new().with_min_part_bytes(4 << 10));
    ingest_mix(&store, 3, 4);
    store
}

/// Every store call of a run fails in turn (before or after it takes
/// effect, or, for a write, taking effect only once the run has returned:
/// a store does not say whether a failed write happened), the run going on
/// or dying there: that run fails, the next one finishes the job, and no
/// row is lost or left twice. A run that fails without dying before its
/// commit rolls its merge back itself: right after it, a reader sees every
/// row once (until a late write lands).
#[test]
fn a_failure_at_any_step_is_finished_by_the_next_run() {
    let s = small_parts();
    let base = small_parts_mix();
    let before = rows(base.inner());
    // Count the calls of one clean run on a copy.
    let probe = small_parts_mix();
    let calls_before: Vec<u64> = OPS.iter().map(|op| probe.calls(*op)).collect();
    compact_all(&probe, &s);
    let expected = rows(probe.inner());
    assert_eq!(expected, before);
    let parts = probe.calls(Op::UploadPart) - calls_before[5];
    assert!(
        parts >= 2,
        "the run wrote no multipart output ({parts} parts)"
    );
    let mut tried = 0;
    for (i, op) in OPS.iter().enumerate() {
        let n = probe.calls(*op) - calls_before[i];
        let write = matches!(op, Op::Put | Op::CompleteMultipart | Op::Delete);
        for nth in 1..=n {
            let late = [(false, false, true)].into_iter().filter(|_| write);
            let variants = [
                (false, false, false),
                (true, false, false),
                (false, true, false),
                (true, true, false),
            ];
            for (after, crash, late) in variants.into_iter().chain(late) {
                let store = small_parts_mix();
                let mut rule = Rule::new(*op, When::Nth(nth));
                rule.after = after;
                rule.crash = crash;
                rule.late = late;
                store.fail(rule);
                let failed = block_on(compact::compact_all(&store, &|| NOW, &s, "a", |_, _| {}));
                store.heal();
                let what = format!(
                    "{op:?} #{nth} (after: {after}, crash: {crash}, late: {late}) failed: {failed:?}"
                );
                // Rows seen twice now only in the commit's window: a
                // committed intent, its inputs not all deleted yet.
                if !crash && !committed(store.inner()) {
                    assert_eq!(rows(store.inner()), expected, "right after: {what}");
                }
                // The late write lands now, after the run's rollback.
                block_on(store.land());
                let recorded = recorded_uploads(store.inner());
                // The next run completes or undoes the failed one: at once
                // after a failure, once its lease expired after a crash.
                let next = if crash { after_leases(&s) } else { NOW };
                for _ in 0..2 {
                    block_on(compact::compact_all(&store, &|| next, &s, "b", |_, _| {})).unwrap();
                }
                assert_eq!(rows(store.inner()), expected, "{what}");
                // An upload whose creation reply was lost, or whose run died
                // before recording it, has an id nobody learnt: it holds no
                // object, and R2's lifecycle aborts it (after 7 days by
                // default). Any other is aborted: the failed run's own, and
                // those its intents left for the next run's recovery.
                let unknowable = (*op == Op::CreateMultipart && after) || crash;
                let open = store.inner().open_uploads();
                assert!(
                    open.iter().all(|id| !recorded.contains(id)),
                    "{what}: an upload its intent recorded is open: {open:?}"
                );
                assert!(
                    open.is_empty() || (unknowable && open.len() == 1),
                    "{what}: {open:?} open uploads"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 20, "only {tried} failure points");
}

/// A merge of several outputs that fails at any put (the intent's record
/// of each output as it begins, the commit, the tombstone) undoes what it
/// wrote at once when it fails before its commit: right after it, a reader
/// sees every row once. (The record of a later output once took the run's
/// etag of its intent with it when it failed, and the rollback, which
/// compares that etag, left the first output beside its inputs.)
#[test]
fn a_merge_of_several_outputs_that_fails_leaves_every_row_once() {
    let s = settings();
    let fill = |store: &Faulty<Memory>| {
        for seed in 420..424 {
            ingest(store, Signal::Logs, &logs_at(2_000, seed, 0), false);
        }
    };
    let rule = |nth| Rule::new(Op::Put, When::Nth(nth));
    let probe = each_put_failing(fill, &s, rule, |store, nth, failed, expected| {
        if !committed(store.inner()) {
            assert_eq!(rows(store.inner()), *expected, "put #{nth}: {failed:?}");
        }
        compact_all(store, &s);
        assert_eq!(rows(store.inner()), *expected, "put #{nth}, the next run");
    });
    let outputs = table_files(probe.inner());
    assert!(outputs.len() >= 3, "{outputs:?}");
}

/// A write that fails but takes effect after the run returned (a store
/// does not say whether a failed write happened; R2 may still apply it)
/// leaves no row twice after the next run, whichever put it is. The case
/// that did: the output's put (a small output is one put) failed, the
/// rollback deleted the outputs and the intent, then the output landed,
/// and the next run took it for a small file and merged it with the
/// inputs it came from. Now the rollback keeps its intent, fenced, and the
/// next run deletes its outputs again before it lists the partition.
#[test]
fn a_failed_write_that_lands_late_leaves_no_row_twice() {
    let s = settings();
    let fill = |store: &Faulty<Memory>| {
        for seed in 430..433 {
            ingest(store, Signal::Logs, &logs_at(20, seed, 0), false);
        }
    };
    let rule = |nth| Rule::new(Op::Put, When::Nth(nth)).late();
    let probe = each_put_failing(fill, &s, rule, |store, nth, failed, expected| {
        block_on(store.land());
        compact_all(store, &s);
        let what = format!("put #{nth} landed late ({failed:?})");
        let (got, count) = (rows(store.inner()), |r: &BTreeMap<String, Vec<String>>| {
            r.values().map(Vec::len).sum::<usize>()
        });
        assert!(
            got == *expected,
            "{what}: {} rows, not {}",
            count(&got),
            count(expected)
        );
        assert!(intents(store.inner()).is_empty(), "{what}");
    });
    assert_eq!(table_files(probe.inner()).len(), 1, "one small output");
}

/// Runs `fill`'s partitions through a clean compaction (its rows kept,
/// its puts counted), then, for each of those puts in turn, on a fresh
/// store: fails it by `rule(nth)`, runs a compaction that meets that
/// failure, heals the store and hands it to `check` with the failed run's
/// result and the rows every run must end with. Returns the clean run's
/// store.
fn each_put_failing(
    fill: impl Fn(&Faulty<Memory>),
    s: &Settings,
    rule: impl Fn(u64) -> Rule,
    mut check: impl FnMut(
        &Faulty<Memory>,
        u64,
        &otlp2r2::Result<compact::Report>,
        &BTreeMap<String, Vec<String>>,
    ),
) -> Faulty<Memory> {
    let probe = Faulty::new(memory());
    fill(&probe);
    let expected = rows(probe.inner());
    let puts = probe.calls(Op::Put);
    compact_all(&probe, s);
    assert_eq!(rows(probe.inner()), expected);
    let puts = probe.calls(Op::Put) - puts;
    for nth in 1..=puts {
        let store = Faulty::new(memory());
        fill(&store);
        store.fail(rule(nth));
        let failed = block_on(compact::compact_all(&store, &|| NOW, s, "a", |_, _| {}));
        store.heal();
        check(&store, nth, &failed, &expected);
    }
    probe
}

/// A time at which the leases taken at `NOW` have expired (a run that died
/// holding one did not release it).
fn after_leases(s: &Settings) -> u64 {
    NOW + s.lease_secs + 1
}

/// The intents the store holds.
fn intents(store: &Memory) -> Vec<compact::protocol::Intent> {
    (store.snapshot().into_iter())
        .filter(|(k, _)| compact::protocol::parse_intent(k).is_some())
        .map(|(k, data)| serde_json::from_slice(&data).unwrap_or_else(|e| panic!("{k}: {e}")))
        .collect()
}

/// The multipart uploads the store's intents record.
fn recorded_uploads(store: &Memory) -> BTreeSet<String> {
    (intents(store).into_iter())
        .flat_map(|i| i.outputs.into_iter().filter_map(|o| o.upload_id))
        .collect()
}

/// True when the store holds a committed intent (a run stopped between its
/// commit and the end of its deletes).
fn committed(store: &Memory) -> bool {
    (intents(store).iter()).any(|i| i.state == compact::protocol::State::Committed)
}

/// Recovery aborts a crashed run's uploads as best it can: an abort that
/// fails (R2 refuses those of completed or aborted uploads, or the call
/// just fails) leaves an upload that holds no object, and the run goes on
/// to undo the intent and compact the partition. (A failing abort stopped
/// every later run of the partition.)
#[test]
fn a_failing_abort_does_not_stop_recovery() {
    let s = small_parts();
    let store = small_parts_mix();
    let before = rows(store.inner());
    // The first run dies at its second part: an intent `writing` with an
    // open upload.
    store.fail(Rule::new(Op::UploadPart, When::Nth(2)).crash());
    assert!(block_on(compact::compact_all(&store, &|| NOW, &s, "a", |_, _| {})).is_err());
    store.heal();
    assert_eq!(store.inner().open_uploads().len(), 1);
    // Every abort fails from here on; the dead run's lease expired.
    store.fail(Rule::new(Op::AbortMultipart, When::Always));
    let later = after_leases(&s);
    let r = block_on(compact::compact_all(&store, &|| later, &s, "b", |_, _| {})).unwrap();
    assert!(r.recovered >= 1 && r.inputs > 0, "{r:?}");
    assert!(store.calls(Op::AbortMultipart) >= 1);
    store.heal();
    compact_all(&store, &s);
    assert_eq!(rows(store.inner()), before);
    check_outputs(store.inner(), &s);
    // The upload whose abort failed holds no object (R2's lifecycle rule
    // aborts it after 7 days).
    assert_eq!(store.inner().open_uploads().len(), 1);
}

const OPS: [Op; 9] = [
    Op::List,
    Op::Get,
    Op::Head,
    Op::Put,
    Op::CreateMultipart,
    Op::UploadPart,
    Op::CompleteMultipart,
    Op::AbortMultipart,
    Op::Delete,
];

/// A tombstone that is not one (damaged, or written by something else)
/// stops only its own partition: planning still finds every partition,
/// that partition's run fails naming the object, and the others compact.
#[test]
fn an_unreadable_tombstone_stops_only_its_partition() {
    use otlp2r2::compact::protocol;
    let store = memory();
    for (seed, hours) in [(1, 0), (2, 0), (3, 5), (4, 5)] {
        ingest(&store, Signal::Logs, &logs_at(20, seed, hours), false);
    }
    let all = block_on(compact::find_eligible(&store, NOW, &settings())).unwrap();
    assert_eq!(all.len(), 2);
    let bad = protocol::tombstone_key(&all[0], NOW - 60, 1);
    block_on(store.put(&bad, b"{\"not\": 1".to_vec(), store::PutMode::Overwrite)).unwrap();
    assert_eq!(
        block_on(compact::find_eligible(&store, NOW, &settings())).unwrap(),
        all
    );
    let err = block_on(compact::run(&store, all[0], &|| NOW, &settings(), "me")).unwrap_err();
    assert!(err.to_string().contains(&bad), "{err}");
    let r = block_on(compact::run(&store, all[1], &|| NOW, &settings(), "me")).unwrap();
    assert_eq!(r.inputs, 2);
}

/// A lease held by another compactor keeps this run out until it expires.
#[test]
fn a_held_lease_keeps_a_second_compactor_out() {
    let store = memory();
    ingest(&store, Signal::Logs, &logs_at(40, 7, 0), false);
    ingest(&store, Signal::Logs, &logs_at(30, 8, 0), false);
    let p = block_on(compact::find_eligible(&store, NOW, &settings())).unwrap()[0];
    let lease = otlp2r2::compact::protocol::lease_key(&p);
    let held = serde_json::json!({"owner": "other", "expires": NOW + 60}).to_string();
    block_on(store.put(&lease, held.into_bytes(), store::PutMode::Overwrite)).unwrap();
    let r = block_on(compact::run(&store, p, &|| NOW, &settings(), "me")).unwrap();
    assert!(!r.leased);
    assert_eq!(table_files(&store).len(), 2);
    let r = block_on(compact::run(&store, p, &|| NOW + 61, &settings(), "me")).unwrap();
    assert!(r.leased && r.inputs == 2);
    let _ = Partition::from_id(&p.id());
}

/// A run that outlived its lease leaves alone the lease another compactor
/// took over meanwhile (its own lease is released only while it is still
/// the one it took). The takeover is injected as the run's first input read.
#[test]
fn a_run_that_overran_its_lease_leaves_the_new_holder_s_lease() {
    let inner = memory();
    ingest(&inner, Signal::Logs, &logs_at(40, 7, 0), false);
    ingest(&inner, Signal::Logs, &logs_at(30, 8, 0), false);
    let p = block_on(compact::find_eligible(&inner, NOW, &settings())).unwrap()[0];
    let lease = otlp2r2::compact::protocol::lease_key(&p);
    let takeover = serde_json::json!({"owner": "other", "expires": NOW + 10_000}).to_string();
    let store = Hooked {
        inner: &inner,
        hook: TakeOver {
            lease: lease.clone(),
            with: takeover.clone().into_bytes(),
            done: std::cell::Cell::new(false),
        },
    };
    let r = block_on(compact::run(&store, p, &|| NOW, &settings(), "me")).unwrap();
    assert!(r.leased);
    let left = block_on(inner.get(&lease, None)).unwrap();
    assert_eq!(
        left.as_deref(),
        Some(takeover.as_bytes()),
        "the new holder's lease is gone"
    );
}

/// A run whose clock passes its lease's end less the margin mid-run (a
/// stalled Worker, a suspended CLI) stops before its next write: nothing
/// it writes can land after another compactor may take the partition
/// over, so that one never undoes outputs being committed. The next run,
/// after the lease expired, undoes it and does the job: every row once.
#[test]
fn a_run_past_its_lease_stops_writing() {
    use otlp2r2::compact::protocol;
    let store = memory();
    ingest_mix(&store, 5, 4);
    let before = rows(&store);
    let inputs = table_files(&store);
    let s = settings();
    let p = first_partition(&store);
    // The clock is read at the start and before each write: the intent is
    // written at NOW, and the first output's write finds the margin's edge.
    let late = NOW + s.lease_secs - compact::lease_margin(&s);
    let reads = std::cell::Cell::new(0);
    let clock = || {
        reads.set(reads.get() + 1);
        if reads.get() <= 2 {
            NOW
        } else {
            late
        }
    };
    let err = block_on(compact::run(&store, p, &clock, &s, "stalled")).unwrap_err();
    assert!(err.to_string().contains("lease is about to end"), "{err}");
    // The intent was written, then nothing: no output, no delete.
    assert_eq!(table_files(&store), inputs);
    let intents = block_on(store::list_all(&store, &protocol::intent_prefix(&p))).unwrap();
    assert_eq!(intents.len(), 1);
    // Another compactor once the lease expired: every row once.
    let r = block_on(compact::compact_all(
        &store,
        &|| NOW + s.lease_secs + 1,
        &s,
        "later",
        |_, _| {},
    ))
    .unwrap();
    assert!(r.recovered >= 1, "{r:?}");
    assert_eq!(rows(&store), before);
    check_outputs(&store, &s);
}

/// On the first get of a table file, overwrites the lease as another
/// compactor taking it over would.
struct TakeOver {
    lease: String,
    with: Vec<u8>,
    done: std::cell::Cell<bool>,
}

impl Hooks for TakeOver {
    async fn before_get(
        &self,
        inner: &Memory,
        key: &str,
        _: &Option<store::Range>,
    ) -> otlp2r2::Result<()> {
        if !self.done.get() && key.starts_with("otel_") {
            self.done.set(true);
            inner
                .put(&self.lease, self.with.clone(), store::PutMode::Overwrite)
                .await?;
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Random mixes of small files of every table: compaction keeps the
    /// multiset of rows and sorts every output, at random output sizes.
    #[test]
    fn random_mixes_keep_their_rows(seed in 10..1000u64, requests in 2..6usize, target_kib in 16..512u64) {
        let store = Memory::new().with_min_part_bytes(8 << 10);
        ingest_mix(&store, seed, requests);
        let before = rows(&store);
        let s = Settings { target_bytes: target_kib << 10, part_bytes: 8 << 10, row_group_rows: 500, ..Settings::default() };
        compact_all(&store, &s);
        prop_assert_eq!(rows(&store), before);
        check_outputs(&store, &s);
    }
}

/// `otlp2r2 compact DIR`: `--dry-run` lists the partition and changes
/// nothing; a run with a small `--memory-bytes` takes several runs and
/// leaves one file with every row, and says so on its summary line.
#[test]
fn the_cli_compacts_a_folder_over_several_runs() {
    let dir = std::env::temp_dir().join(format!("otlp2r2-cli-compact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let folder = otlp2r2::store::dir::Dir::new(&dir);
    let mirror = memory();
    for seed in 0..5 {
        let body = logs_at(25, 300 + seed, 0);
        ingest(&folder, Signal::Logs, &body, false);
        ingest(&mirror, Signal::Logs, &body, false);
    }
    let cli = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_otlp2r2"))
            .args(["compact", dir.to_str().unwrap(), "--now", &NOW.to_string()])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let files = || block_on(store::list_all(&folder, "otel_")).unwrap();
    // A target under 1 MiB would make no file small: refused, not a no-op.
    let tiny = std::process::Command::new(env!("CARGO_BIN_EXE_otlp2r2"))
        .args(["compact", dir.to_str().unwrap(), "--target-bytes", "4"])
        .output()
        .unwrap();
    assert!(!tiny.status.success());
    assert!(String::from_utf8_lossy(&tiny.stderr).contains("--target-bytes must be at least"));
    let dry = cli(&["--dry-run"]);
    assert!(
        dry.contains("would compact otel_logs/") && dry.contains("1 partitions"),
        "{dry}"
    );
    assert_eq!(files().len(), 5);
    let summary = cli(&["--memory-bytes", "1"]);
    assert!(
        summary.starts_with("5 table files → 1 in 4 runs"),
        "{summary}"
    );
    let after = files();
    assert_eq!(after.len(), 1);
    // The same rows as the five requests', read back from the one file.
    let compacted = Memory::new();
    let data = block_on(folder.get(&after[0].key, None)).unwrap().unwrap();
    block_on(compacted.put(&after[0].key, data, store::PutMode::Overwrite)).unwrap();
    let all = |m: &Memory| -> Vec<String> {
        let mut v: Vec<String> = rows(m).into_values().flatten().collect();
        v.sort();
        v
    };
    assert_eq!(all(&compacted), all(&mirror));
    let _ = std::fs::remove_dir_all(&dir);
}
