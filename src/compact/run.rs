//! The compaction driver: the one async place of compaction that talks to a
//! [`Store`]. [`find_eligible`] lists the bucket's recent hours and picks the
//! eligible partitions; [`run`] compacts one partition under its lease,
//! following the protocol of [`super::protocol`]:
//!
//! 1. take the lease (create-only; an expired one by compare-and-swap);
//! 2. list the partition's intents, tombstones and files at once, and
//!    recover what a crashed run left (an intent still `writing`: abort its
//!    uploads, delete its completed outputs; `committed`: finish it);
//! 3. delete late retries (files whose key a tombstone lists) and expire old
//!    tombstones;
//! 4. read the small files' footers (six at a time), smallest first and
//!    within the run's bounds (inputs, bytes, memory: [`Report::more`] says
//!    when files were left for another run; when the few left and this
//!    run's output would make one last run, this run takes only as many
//!    files as leave that run room), group them by schema (only
//!    files of the same schema version and timestamp unit merge), and for
//!    each group of two or more: record the intent (with the first
//!    output's key), get the inputs' first row groups (six at a time),
//!    merge row group by row group into outputs rolled at the target size
//!    (an input's next row group got while its last batch is merged;
//!    multipart parts uploaded as they fill, one in flight while the merge
//!    goes on; row groups of at most 1 MiB when a later run will read the
//!    output back), verify the outputs' rows, commit, write the tombstone,
//!    delete the inputs, drop the intent; a merge that fails before its
//!    commit undoes itself at once where it can;
//! 5. release the lease, unless another compactor took it over meanwhile.
//!
//! A crash anywhere loses no row (the inputs stay until the outputs are
//! committed and verified) and leaves no row twice after the next run.
//!
//! A run writes only while its lease has more than [`lease_margin`] left
//! (every write but an abort of its own upload goes through [`Leased`],
//! which reads the clock first; the lease is released only before that
//! time too), so a run that overran its lease stops before another
//! compactor may take the partition over: as long as the two compactors'
//! clocks agree within the margin, less a write's time in flight, the new
//! holder never sees an intent whose owner still writes, and never undoes
//! outputs that are being committed. In a Worker the lease also outlasts
//! the invocation (15 minutes of wall time at most), whose `Date.now()`
//! moves only with I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};

use super::merge::{Merger, Step};
use super::plan::{self, Partition};
use super::protocol::{self, Input, Intent, Lease, Output, State, Tombstone};
use super::read::{
    self, Footer, FooterOrNeed, ReadMemory, RowGroupBatches, RowGroupRange, DEFAULT_SUFFIX_BYTES,
};
use super::Settings;
use crate::error::{Error, Result};
use crate::key;
use crate::schema::Table;
use crate::store::{self, Meta, Part, PutMode, Range, Started, Store};
use crate::write::{FileWriter, WriteOptions};

/// Gets under way at once, of footers and of the inputs' first row groups:
/// a Worker invocation has six connections open at a time (R2 calls
/// included), and nothing else runs while they are read.
const GETS_AT_ONCE: usize = 6;

/// Gets of later row groups a merge has under way ahead of its need (see
/// [`Source::get_ahead`]): with the get it may be waiting for and a part
/// uploading, within [`GETS_AT_ONCE`] connections.
const AHEAD_GETS: usize = GETS_AT_ONCE - 2;

/// Tombstones a partition keeps before a run folds them into one.
const TOMBSTONES_KEPT: usize = 8;

/// Rows per merged batch fed to the writer.
const MERGE_ROWS: usize = 8192;

/// Rows per merged batch fed to the writer of an intermediate output (see
/// [`INTERMEDIATE_ROW_GROUP_BYTES`]): its row groups close at the first
/// batch past their byte cap, and 8,192 rows of logs are about 0.8 MB of
/// Parquet, so with [`MERGE_ROWS`] a 1 MiB row group came out at up to
/// 1.8 MB.
const INTERMEDIATE_MERGE_ROWS: usize = 2048;

/// Row groups of an intermediate output close at this many bytes at most
/// (1 MiB), whatever `Settings::row_group_bytes` says. An output is
/// intermediate when its run left small files for another run and it is
/// itself below the small-file size: a later run will read it back as an
/// input. An input holds one row group at a time, so its reader memory
/// grows with its row groups (dhat: 4.2 MiB for a 0.8 MiB row group,
/// 7.6 MiB for 3.8 MiB), and smaller ones let a run of the same memory
/// merge more of them at once: fewer runs re-merge the same rows. Outputs
/// that stay (the partition's last run, or files past the small-file
/// size) keep the large row groups readers want.
const INTERMEDIATE_ROW_GROUP_BYTES: usize = 1 << 20;

/// A data page's bytes of values in an output that stays (see
/// [`INTERMEDIATE_ROW_GROUP_BYTES`]): 256 KiB. Smaller pages cost a file
/// more page headers and statistics: compacted logs of 100-record requests
/// came out 3.2 % larger with the writer's default of 64 KiB, which suits
/// request files and intermediate outputs, read back by a later run with a
/// page per column in memory.
const OUTPUT_PAGE_BYTES: usize = 256 << 10;

/// Rows per batch decoded from an input: a run may hold hundreds of inputs
/// open, each with one decoded batch (dhat: 8,192-row batches of logs were
/// 10 MiB per input).
const INPUT_ROWS: usize = 1024;

/// Rows per decoded input batch in a run that memory bounds: when the
/// next input does not fit at [`INPUT_ROWS`], the run's inputs are
/// estimated again at this size, and decoded at it if the input then fits.
/// A quarter of the batch lets six 8,192-row request files into a run of
/// the default budget where four fitted (dhat: one read holds 3.2 MiB at
/// 1,024 rows, 2.6 MiB at 256), so fewer runs re-merge their rows and a
/// large partition takes fewer runs. A run that memory does not bound
/// keeps the larger batches, whose fixed cost per batch is lower (a
/// 100-row input's row group is one batch either way).
const TIGHT_INPUT_ROWS: usize = 256;

/// Most files a run may leave for the [`lookahead`] to look at: it reads
/// their footers, which the last run reads again. It pays where a few
/// large files are left (a partition's last intermediates); where many
/// small ones are, the last run could not take them all anyway, and
/// reading 118 footers of 100-row files twice cost 1.5 % more
/// instructions (callgrind, traces 500 × 100).
const LOOKAHEAD_FILES: usize = 16;

/// Unreadable files a [`Report`] names (it counts them all).
pub const UNREADABLE_NAMED: usize = 10;

/// What one partition's run did (also the fields of its log line).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// False when another compactor holds the partition's lease.
    pub leased: bool,
    /// Input files merged.
    pub inputs: usize,
    /// Output files written.
    pub outputs: usize,
    /// Rows merged.
    pub rows: u64,
    /// Bytes of the inputs.
    pub bytes_in: u64,
    /// Bytes of the outputs.
    pub bytes_out: u64,
    /// Late retries deleted (files of rows already compacted).
    pub late_deleted: usize,
    /// Intents of crashed runs completed or rolled back.
    pub recovered: usize,
    /// Files of the partition left where they are because their footer is
    /// not one this compactor reads (not Parquet, not otlp2r2's, damaged),
    /// or their pages did not decode (recorded under
    /// [`protocol::unreadable_prefix`]): one such file does not stop its
    /// hour's compaction, and every run names it until somebody removes it.
    pub unreadable_files: usize,
    /// The first `UNREADABLE_NAMED` of them, as `key: reason`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// The run's bounds ([`Settings::max_inputs`], [`Settings::run_bytes`],
    /// [`Settings::merge_memory_bytes`]) left small files for another run,
    /// or it recorded an unreadable input and left its merge's other files.
    pub more: bool,
}

impl Report {
    /// Counts a file left where it is, unread, and names it while fewer
    /// than [`UNREADABLE_NAMED`] are.
    fn name_unreadable(&mut self, key: &str, reason: &str) {
        self.unreadable_files += 1;
        if self.unreadable.len() < UNREADABLE_NAMED {
            self.unreadable.push(format!("{key}: {reason}"));
        }
    }
}

impl std::ops::AddAssign<&Report> for Report {
    /// Sums two reports; `leased` holds when both do.
    fn add_assign(&mut self, r: &Report) {
        self.leased &= r.leased;
        self.inputs += r.inputs;
        self.outputs += r.outputs;
        self.rows += r.rows;
        self.bytes_in += r.bytes_in;
        self.bytes_out += r.bytes_out;
        self.late_deleted += r.late_deleted;
        self.recovered += r.recovered;
        self.unreadable_files += r.unreadable_files;
        let room = UNREADABLE_NAMED.saturating_sub(self.unreadable.len());
        self.unreadable
            .extend(r.unreadable.iter().take(room).cloned());
        self.more |= r.more;
    }
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Plain structs of strings and numbers: serialising cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::BadRecord {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// The partitions worth a run at `now` (Unix seconds): see
/// [`plan::eligible`]. Lists the table files of the closed hours within
/// [`Settings::lookback_hours`] (`closed_partitions`), every intent and
/// every tombstone; deletes the tombstones past their time and reads those
/// of partitions that have files. An
/// intent outside the look-back is still recovered: intents are few, and a
/// crashed run's must not wait.
pub async fn find_eligible<S: Store>(
    store: &S,
    now: u64,
    settings: &Settings,
) -> Result<Vec<Partition>> {
    let files = closed_partitions(store, now, settings).await?;
    let intents = store::list_all(store, &format!("{}intent/", protocol::ROOT)).await?;
    let pending: BTreeSet<Partition> = intents
        .iter()
        .filter_map(|m| protocol::parse_intent(&m.key))
        .collect();
    // Tombstones past their time go: a run deletes its own partition's, but
    // a partition compacted down to one file is never run again, and its
    // last tombstones would otherwise be listed at every cron for good.
    // Best effort: one that stays is deleted at the next cron.
    let (expired, kept): (Vec<_>, Vec<_>) = store::list_all(store, &protocol::tombstone_root())
        .await?
        .into_iter()
        .filter_map(|m| {
            let (p, done) = protocol::parse_tombstone(&m.key)?;
            Some((p, done, m.key))
        })
        .partition(|(_, done, _)| expired(*done, now, settings));
    if !expired.is_empty() {
        let keys: Vec<String> = expired.into_iter().map(|(_, _, key)| key).collect();
        let _ = store.delete(&keys).await;
    }
    // Of the others, those that could make a partition eligible: those of
    // closed partitions with files and fewer than two small ones (with two,
    // it is eligible anyway), read GETS_AT_ONCE at a time.
    let wanted: Vec<(Partition, String)> = kept
        .into_iter()
        .filter(|(p, _, _)| files.get(p).is_some_and(|seen| !seen.enough()))
        .map(|(p, _, key)| (p, key))
        .collect();
    // Each tombstone is checked against its own partition's few listed keys
    // as it arrives and then dropped: a bucket's tombstones list every file
    // compacted in the last day, far more than planning may hold at once.
    let mut reads = stream::iter(&wanted)
        .map(|(p, key)| async move { (p, read_tombstone(store, key).await) })
        .buffered(GETS_AT_ONCE);
    let (mut retried, mut unreadable) = (BTreeSet::new(), BTreeSet::new());
    while let Some((p, inputs)) = reads.next().await {
        match inputs {
            Ok(inputs) => {
                let seen = files.get(p).map_or(&[][..], |seen| &seen.keys[..]);
                if seen.iter().any(|k| inputs.contains(k)) {
                    retried.insert(*p);
                }
            }
            // One tombstone that cannot be read (or is not one) must not
            // stop every partition's compaction: its partition is planned
            // anyway, and that run fails with the error, in its own log
            // line.
            Err(_) => {
                unreadable.insert(*p);
            }
        }
    }
    let mut out: Vec<Partition> = files
        .iter()
        .filter(|(p, f)| {
            plan::eligible(
                p,
                f,
                now,
                settings,
                retried.contains(*p),
                pending.contains(p),
            )
        })
        .map(|(p, _)| *p)
        .collect();
    out.extend(pending.iter().filter(|p| !files.contains_key(p)));
    out.extend(unreadable);
    out.sort();
    out.dedup();
    Ok(out)
}

/// The partitions of table files whose hour has closed ([`plan::closed`]),
/// from [`Settings::lookback_hours`] hours before `now`'s hour on (every
/// hour when it is 0), with what planning keeps of their files
/// ([`plan::Seen`]). One listing per table, in key order, which is hour
/// order:
/// - it starts at the first day's `date=` folder, so the older folders are
///   skipped without being listed, and a quiet bucket costs one list call
///   per table;
/// - it stops at the first hour not yet closed: the hour being written, the
///   busiest, is never listed;
/// - a page that ends inside a partition that already has two small files
///   is followed by the next partition's keys, not the rest of its own: an
///   hour of a busy table (3,600 files for a request a second) costs a page,
///   not one per thousand files.
///
/// The tables are listed [`GETS_AT_ONCE`] at a time: a Cron Trigger that
/// runs more often than hourly may run for 30 s, and a bucket with days of
/// uncompacted hours costs a list call per hour and table.
async fn closed_partitions<S: Store>(
    store: &S,
    now: u64,
    settings: &Settings,
) -> Result<BTreeMap<Partition, plan::Seen>> {
    let mut tables = stream::iter(Table::ALL)
        .map(|table| closed_in_table(store, table, now, settings))
        .buffer_unordered(GETS_AT_ONCE);
    let mut out = BTreeMap::new();
    while let Some(table) = tables.next().await {
        out.extend(table?);
    }
    Ok(out)
}

/// [`closed_partitions`] of one table.
async fn closed_in_table<S: Store>(
    store: &S,
    table: Table,
    now: u64,
    settings: &Settings,
) -> Result<BTreeMap<Partition, plan::Seen>> {
    let lookback = settings.lookback_hours;
    let first = (lookback > 0).then(|| (now / 3600).saturating_sub(lookback));
    let mut out: BTreeMap<Partition, plan::Seen> = BTreeMap::new();
    let prefix = format!("{}/", table.name());
    // Where the next page starts: a cursor, or a key to start after.
    // `otel_x/date=YYYY-MM-DD` sorts before every key of that folder and
    // after every key of the days before it.
    let mut from: Option<(bool, String)> = first.map(|h| {
        let day = key::date_prefix(table, h / 24);
        (false, day.trim_end_matches('/').to_string())
    });
    loop {
        let start = match &from {
            None => store::Start::First,
            Some((true, cursor)) => store::Start::Cursor(cursor),
            Some((false, key)) => store::Start::After(key),
        };
        let page = store.list(&prefix, start).await?;
        let mut open = false;
        let mut last = None;
        for m in &page.objects {
            let Some((table, hour)) = key::parse_partition(&m.key) else {
                continue;
            };
            if first.is_some_and(|f| hour < f) {
                continue;
            }
            let p = Partition { table, hour };
            if !plan::closed(&p, now, settings) {
                open = true;
                break;
            }
            out.entry(p).or_default().add(m, settings);
            last = Some(p);
        }
        let Some(cursor) = page.cursor.filter(|_| !open) else {
            break;
        };
        from = match last.filter(|p| out.get(p).is_some_and(plan::Seen::enough)) {
            // Past the partition's last possible key: its folder's prefix
            // with the closing `/` raised to `0`, which sorts after every
            // key in the folder and before the next one.
            Some(p) => Some((false, format!("{}0", p.prefix().trim_end_matches('/')))),
            None => Some((true, cursor)),
        };
    }
    Ok(out)
}

/// Whether a tombstone of a run done at `done` (Unix seconds) is past its
/// time at `now`: kept [`Settings::tombstone_secs`].
fn expired(done: u64, now: u64, settings: &Settings) -> bool {
    done.saturating_add(settings.tombstone_secs) < now
}

async fn read_tombstone<S: Store>(store: &S, key: &str) -> Result<Vec<String>> {
    match store.get(key, None).await? {
        Some(b) => Ok(parse::<Tombstone>(key, &b)?.inputs),
        None => Ok(Vec::new()),
    }
}

/// The input keys each tombstone of `keys` lists, read [`GETS_AT_ONCE`] at
/// a time, each read's result on its own.
async fn read_tombstones<'k, S: Store>(
    store: &S,
    keys: impl Iterator<Item = &'k str>,
) -> Vec<Result<Vec<String>>> {
    stream::iter(keys)
        .map(|key| read_tombstone(store, key))
        .buffered(GETS_AT_ONCE)
        .collect()
        .await
}

/// Compacts `partition` as `owner` (a name unique to this run). `clock`
/// gives the time in Unix seconds: read at the start for the lease, the
/// late retries and the tombstones, and again before every write, which
/// stops when the lease has less than [`lease_margin`] left.
pub async fn run<S: Store>(
    store: &S,
    partition: Partition,
    clock: &dyn Fn() -> u64,
    settings: &Settings,
    owner: &str,
) -> Result<Report> {
    run_metered(store, partition, clock, settings, owner, &|_| true).await
}

/// [`run`], for a caller that charged it [`Settings::run_memory`] against a
/// budget of memory in flight (the Worker's [`crate::http::admission`]).
/// A run merges at least two files whatever they hold, so its inputs may
/// be estimated at more than [`Settings::merge_memory_bytes`] (rows of
/// megabyte values): before it writes an intent or an output, such a run
/// asks `charge` for its whole estimate ([`Settings::run_memory_for`]), and
/// stops with [`Error::Busy`] (transient: a queue redelivers it) when that
/// does not fit now. What it did before (a crashed run recovered, late
/// retries and expired tombstones deleted) is done, as in any run; its
/// report is not returned.
pub async fn run_metered<S: Store>(
    store: &S,
    partition: Partition,
    clock: &dyn Fn() -> u64,
    settings: &Settings,
    owner: &str,
    charge: &dyn Fn(usize) -> bool,
) -> Result<Report> {
    let mut report = Report::default();
    let now = clock();
    let Some(etag) = take_lease(store, &partition, now, settings, owner).await? else {
        return Ok(report);
    };
    report.leased = true;
    let leased = Leased {
        inner: store,
        clock,
        deadline: now
            .saturating_add(settings.lease_secs)
            .saturating_sub(lease_margin(settings)),
    };
    let result = compact(&leased, partition, now, settings, charge, &mut report).await;
    // The lease goes whatever happened, while it is surely still this
    // run's; past the deadline it expires on its own, and another
    // compactor may hold it already.
    let released = if clock() < leased.deadline {
        release_lease(store, &partition, &etag).await
    } else {
        Ok(())
    };
    result.and(released).map(|()| report)
}

/// Deletes the partition's lease if it is still the one this run took
/// (`etag`). A run that outlived its lease may find it taken over by another
/// compactor, whose lease must stay. R2 has no conditional delete, so a
/// takeover between the check and the delete (milliseconds, or the seconds
/// the R2 store waits to make a delete refused as too soon again; and only
/// after an overrun of `lease_secs`) would still remove the newer lease.
async fn release_lease<S: Store>(store: &S, p: &Partition, etag: &str) -> Result<()> {
    let key = protocol::lease_key(p);
    match store.head(&key).await? {
        Some(m) if m.etag == etag => store.delete(&[key]).await,
        _ => Ok(()),
    }
}

/// How long before its lease ends a run stops writing: a minute, or a
/// quarter of a shorter lease. It covers the clocks' skew between two
/// compactors and a write's time in flight.
pub fn lease_margin(settings: &Settings) -> u64 {
    (settings.lease_secs / 4).min(60)
}

/// The store as a leased run sees it: reads go through; every write first
/// checks the clock against the run's deadline (its lease's end less
/// [`lease_margin`]) and fails past it, so that nothing this run writes
/// lands after another compactor may have taken the partition over. An
/// abort goes through too: a run aborts only uploads it created or found
/// in an intent it recovers, never another live run's (whose ids it cannot
/// know), and its own must go even past the deadline (the cleanup of an
/// upload the intent could not record).
struct Leased<'a, S> {
    inner: &'a S,
    clock: &'a dyn Fn() -> u64,
    deadline: u64,
}

impl<S> Leased<'_, S> {
    fn check(&self, op: &'static str, key: &str) -> Result<()> {
        if (self.clock)() < self.deadline {
            return Ok(());
        }
        Err(store::failed(
            op,
            key,
            "the run's lease is about to end: it stopped before this write, and the next run finishes or undoes its work",
        ))
    }
}

impl<S: Store> Store for Leased<'_, S> {
    async fn list(&self, prefix: &str, start: store::Start<'_>) -> Result<store::Listing> {
        self.inner.list(prefix, start).await
    }

    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>> {
        self.inner.get(key, range).await
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>> {
        self.inner.head(key).await
    }

    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>> {
        self.check("put", key)?;
        self.inner.put(key, data, mode).await
    }

    async fn create_multipart(&self, key: &str) -> Result<String> {
        self.check("create_multipart", key)?;
        self.inner.create_multipart(key).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part> {
        self.check("upload_part", key)?;
        self.inner.upload_part(key, upload_id, number, data).await
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta> {
        self.check("complete_multipart", key)?;
        self.inner.complete_multipart(key, upload_id, parts).await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        self.inner.abort_multipart(key, upload_id).await
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        self.check("delete", keys.first().map_or("", String::as_str))?;
        self.inner.delete(keys).await
    }
}

async fn take_lease<S: Store>(
    store: &S,
    p: &Partition,
    now: u64,
    settings: &Settings,
    owner: &str,
) -> Result<Option<String>> {
    let key = protocol::lease_key(p);
    let lease = json(&Lease {
        owner: owner.to_string(),
        expires: now.saturating_add(settings.lease_secs),
    });
    if let Some(m) = store.put(&key, lease.clone(), PutMode::Create).await? {
        return Ok(Some(m.etag));
    }
    // Held: take it only if it expired, and only if nobody else just did.
    let Some(head) = store.head(&key).await? else {
        return Ok(None);
    };
    let Some(current) = store.get(&key, None).await? else {
        return Ok(None);
    };
    let held: Lease = parse(&key, &current)?;
    if held.expires > now {
        return Ok(None);
    }
    Ok(store
        .put(&key, lease, PutMode::IfMatch(head.etag))
        .await?
        .map(|m| m.etag))
}

async fn compact<S: Store>(
    store: &S,
    p: Partition,
    now: u64,
    settings: &Settings,
    charge: &dyn Fn(usize) -> bool,
    report: &mut Report,
) -> Result<()> {
    // The three listings a run starts from, at once (each a round trip on
    // R2); the tombstones and files are taken again after a recovery,
    // which writes and deletes.
    let (tombstone_prefix, file_prefix) = (protocol::tombstone_prefix(&p), p.prefix());
    let tombstones_and_files = || {
        futures_util::future::try_join(
            store::list_all(store, &tombstone_prefix),
            store::list_all(store, &file_prefix),
        )
    };
    let (intents, records, (mut tombstones, mut files)) = futures_util::future::try_join3(
        store::list_all(store, &protocol::intent_prefix(&p)),
        store::list_all(store, &protocol::unreadable_prefix(&p)),
        tombstones_and_files(),
    )
    .await?;
    // 2. Finish or undo what a crashed run left (and clear what a failed
    // run rolled back itself, which is not counted as recovered).
    let mut cleared = false;
    for m in intents {
        if let Some(bytes) = store.get(&m.key, None).await? {
            let intent: Intent = parse(&m.key, &bytes)?;
            let crashed = !intent.rolled_back;
            recover(store, &p, &m.key, intent, now).await?;
            report.recovered += usize::from(crashed);
            cleared = true;
        }
    }
    if cleared {
        // Recovery deleted files, and wrote the tombstone of a committed
        // run: a late retry of one of its inputs that came back meanwhile
        // is recognised only with that tombstone.
        (tombstones, files) = tombstones_and_files().await?;
    }
    // 3. Late retries, and tombstones past their time.
    // Expired ones go in one call; the others are read GETS_AT_ONCE at a
    // time (one per earlier run, up to TOMBSTONES_KEPT and one more).
    let mut tombstoned = BTreeSet::new();
    let mut live: Vec<(String, u64)> = Vec::new();
    // Each tombstone's key with its time of completion, if it names one.
    let (expired, kept): (Vec<_>, Vec<_>) = tombstones
        .into_iter()
        .map(|m| {
            let done = protocol::parse_tombstone(&m.key).map(|(_, done)| done);
            (m.key, done)
        })
        .partition(|(_, done)| done.is_some_and(|d| expired(d, now, settings)));
    if !expired.is_empty() {
        let keys: Vec<String> = expired.into_iter().map(|(key, _)| key).collect();
        store.delete(&keys).await?;
    }
    let read = read_tombstones(store, kept.iter().map(|(key, _)| key.as_str())).await;
    let read = read.into_iter().collect::<Result<Vec<_>>>()?;
    for ((key, done), inputs) in kept.into_iter().zip(read) {
        tombstoned.extend(inputs);
        if let Some(done) = done {
            live.push((key, done));
        }
    }
    if live.len() > TOMBSTONES_KEPT {
        fold_tombstones(store, &p, &tombstoned, &live).await?;
    }
    let (late, files): (Vec<Meta>, Vec<Meta>) =
        files.into_iter().partition(|m| tombstoned.contains(&m.key));
    if !late.is_empty() {
        let keys: Vec<String> = late.iter().map(|m| m.key.clone()).collect();
        store.delete(&keys).await?;
        report.late_deleted += keys.len();
    }
    // Files an earlier run found unreadable are left out while they are
    // there with the same etag, and named again; a record whose file is
    // gone or changed goes (best effort: the next run tries again).
    // Each recorded file's key: its etag when it failed, why, the record.
    let mut recorded: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut reads = stream::iter(records)
        .map(|m| async move { (store.get(&m.key, None).await, m.key) })
        .buffered(GETS_AT_ONCE);
    while let Some((got, record_key)) = reads.next().await {
        if let Some(bytes) = got? {
            let u: protocol::Unreadable = parse(&record_key, &bytes)?;
            recorded.insert(u.key, (u.etag, u.reason, record_key));
        }
    }
    drop(reads);
    let mut stale = Vec::new();
    let files: Vec<Meta> = files
        .into_iter()
        .filter(|m| match recorded.remove(&m.key) {
            Some((etag, reason, _)) if etag == m.etag => {
                report.name_unreadable(&m.key, &reason);
                false
            }
            Some((_, _, record_key)) => {
                stale.push(record_key);
                true
            }
            None => true,
        })
        .collect();
    stale.extend(recorded.into_values().map(|(_, _, record_key)| record_key));
    if !stale.is_empty() {
        let _ = store.delete(&stale).await;
    }
    // 4. The small files of this run, grouped by schema, smallest first and
    // within the run's bounds; the rest wait for the next run.
    let mut small: Vec<Meta> = files
        .into_iter()
        .filter(|m| m.size < settings.small_bytes())
        .collect();
    small.sort_by(|a, b| (a.size, &a.key).cmp(&(b.size, &b.key)));
    let mut groups: Vec<Group> = Vec::new();
    let (mut taken, mut taken_bytes, mut left) = (0usize, 0u64, 0usize);
    let mut full = false;
    // The first files past the run's bounds, for the lookahead below;
    // `None` once one of their footers failed to read, or once there are
    // more than it looks at.
    let mut over: Option<Vec<Source>> = Some(Vec::new());
    let count = small.len();
    // The footers are read GETS_AT_ONCE at a time, in this order: on R2
    // every get is a round trip, and a partition of small files is mostly
    // footers. A run that stops early has asked for a few it does not use.
    let mut footers = stream::iter(small)
        .map(|m| async move {
            let footer = read_footer(store, &m).await;
            (m, footer)
        })
        .buffered(GETS_AT_ONCE)
        .enumerate();
    while let Some((i, (m, footer))) = footers.next().await {
        let size = m.size;
        // The bounds: inputs, bytes, and memory (what the open inputs hold
        // plus the largest decode under way, beside `held` for the run's
        // other groups: their inputs are kept until their turn to merge).
        let within = |memory: ReadMemory, held: u64| {
            taken < settings.max_inputs
                && taken_bytes.saturating_add(size) <= settings.run_bytes
                && memory.total().saturating_add(held) <= settings.merge_memory_bytes
        };
        // Past the bounds (or the memory full: files only grow from here),
        // with a group able to merge: the rest wait, their footers not
        // asked for beyond those already under way (or those the lookahead
        // reads). A group of one file finds no partner past the bounds
        // (only a run's first pair is taken whatever it holds), so it does
        // not keep the run reading every footer of its partition: it is
        // dropped, and pairs in a later run.
        if (full || !within(ReadMemory::default(), 0)) && groups.iter().any(|g| g.files.len() >= 2)
        {
            left += count - i;
            match (footer, over.as_mut()) {
                (Ok(Some((file, whole))), Some(o)) if o.len() < LOOKAHEAD_FILES => {
                    o.push(Source::new(m, file, whole))
                }
                (Ok(None), _) => {}
                _ => over = None,
            }
            break;
        }
        let (file, whole) = match footer {
            Ok(Some(footer)) => footer,
            Ok(None) => continue, // gone meanwhile
            // Not a file this compactor reads: left alone, and named.
            Err(Error::Parquet(e)) => {
                report.name_unreadable(&m.key, &e.to_string());
                continue;
            }
            Err(e) => return Err(e),
        };
        let source = Source::new(m, file, whole);
        let file = &source.file;
        let same = |g: &Group| g.version == file.schema_version() && &g.schema == file.schema();
        let at = groups.iter().position(same);
        // One bound for the whole run: what its other groups that will
        // merge hold counts (a group of one file is dropped before the
        // merge, with what it holds).
        let paired = |g: &Group| g.files.len() >= 2;
        let held: u64 = (groups.iter().enumerate())
            .filter(|&(i, g)| Some(i) != at && paired(g))
            .map(|(_, g)| g.memory.total())
            .sum();
        // Until a group has two files, the group that finds its second
        // takes it whatever it holds (a run merges at least two); after
        // that, only within the bound.
        let none_paired = !groups.iter().any(paired);
        let place = match at {
            Some(i) => groups[i]
                .fit(&source, none_paired, |m| within(m, held))
                .map(|fit| Place::Into(i, fit)),
            None => {
                (none_paired || within(Group::first_memory(&source), held)).then_some(Place::New)
            }
        };
        let Some(place) = place else {
            left += 1;
            full = true;
            // Kept for the lookahead only while it could use them: this
            // run's other groups may read on past its bounds.
            match over.as_mut() {
                Some(o) if o.len() < LOOKAHEAD_FILES => o.push(source),
                _ => over = None,
            }
            continue;
        };
        match place {
            Place::Into(i, fit) => groups[i].push(source, fit),
            Place::New => groups.push(Group::new(source)),
        }
        taken += 1;
        taken_bytes += size;
    }
    // The lookahead: when the few files left, with this run's output, make
    // one last run, this run takes only as many of the smallest as that
    // needs.
    if let ([g], Some(over)) = (&mut groups[..], over) {
        if (1..=LOOKAHEAD_FILES).contains(&left) && !g.splits(left, settings.max_inputs).is_empty()
        {
            if let Some(rest) = read_rest(g, over, &mut footers, settings).await {
                left += lookahead(g, &rest, settings);
            }
        }
    }
    // Footers read ahead and not taken go now, before any merge.
    drop(footers);
    let mut groups: Vec<Group> = groups.into_iter().filter(|g| g.files.len() >= 2).collect();
    // The run was charged its bound; a pair it took over the bound is
    // charged what it is estimated to hold, before any intent is written.
    let held = groups.iter().map(|g| g.memory.total()).sum();
    let need = settings.run_memory_for(held);
    if need > settings.run_memory() && !charge(need) {
        return Err(Error::Busy { bytes: need as u64 });
    }
    // Groups merge one after the other, so only the first keeps its small
    // inputs' bytes: the others' would be held through its merge, on top of
    // its bound. They get their row groups as larger inputs do.
    for s in groups.iter_mut().skip(1).flat_map(|g| &mut g.files) {
        s.whole = None;
    }
    let (mut merged, mut recorded) = (false, false);
    for g in groups {
        let bytes: u64 = g.files.iter().map(|s| s.meta.size).sum();
        let row_group_bytes = if left > 0 && bytes < settings.small_bytes() {
            settings.row_group_bytes.min(INTERMEDIATE_ROW_GROUP_BYTES)
        } else {
            settings.row_group_bytes
        };
        // An input whose data does not decode (recorded, its merge rolled
        // back) is left where it is and named; the next run merges the
        // others without it.
        match merge_group(store, &p, g, now, settings, row_group_bytes, report).await {
            Ok(()) => merged = true,
            Err(Error::UnreadableInput { key, reason }) => {
                report.name_unreadable(&key, &reason);
                recorded = true;
            }
            Err(e) => return Err(e),
        }
    }
    // Another run has work when this one merged and left files out (one
    // left and this run's last, likely small, output make two), or when
    // it recorded an unreadable input (its merge's other files wait). A
    // run that did neither would do the same again: no more.
    report.more = (merged && left > 0) || recorded;
    Ok(())
}

/// Reads a file's footer (its last bytes, then more if the footer is
/// longer); `None` when the file went away meanwhile. When those last bytes
/// are the whole file (one of at most [`DEFAULT_SUFFIX_BYTES`]: a request's
/// file), they come back too, and its row groups take no get of their own.
async fn read_footer<S: Store>(store: &S, m: &Meta) -> Result<Option<(Footer, Option<Bytes>)>> {
    // A file too small to be Parquet is refused from its size, without a
    // get (R2 has no suffix of 0 bytes to serve).
    Footer::parse(&[], m.size)?;
    let mut length = DEFAULT_SUFFIX_BYTES.min(m.size);
    for _ in 0..2 {
        let Some(tail) = store.get(&m.key, Some(Range::Suffix { length })).await? else {
            return Ok(None);
        };
        match Footer::parse(&tail, m.size)? {
            FooterOrNeed::Footer(f) => {
                let whole = (tail.len() as u64 == m.size).then(|| Bytes::from(tail));
                return Ok(Some((*f, whole)));
            }
            FooterOrNeed::Need(n) => length = n.min(m.size),
        }
    }
    Err(Error::Internal("a footer longer than it says"))
}

async fn recover<S: Store>(
    store: &S,
    p: &Partition,
    key: &str,
    intent: Intent,
    now: u64,
) -> Result<()> {
    match intent.state {
        State::Writing => undo_outputs(store, &intent).await?,
        State::Committed => finish(store, p, &intent, now).await?,
    }
    store.delete(&[key.to_string()]).await
}

/// Aborts an intent's uploads and deletes its outputs: the merge undone,
/// its inputs the truth again.
async fn undo_outputs<S: Store>(store: &S, intent: &Intent) -> Result<()> {
    for o in &intent.outputs {
        // Best effort: the upload may be completed (its object is
        // deleted below), aborted already (by the crashed run, whose
        // reply was lost), or open. The first two are errors on R2,
        // and a failing abort must not stop every later run of the
        // partition; an upload left open holds no object, and R2's
        // lifecycle rule aborts it (after 7 days by default).
        if let Some(id) = o.upload_id.as_ref() {
            let _ = store.abort_multipart(&o.key, id).await;
        }
    }
    let outputs: Vec<String> = intent.outputs.iter().map(|o| o.key.clone()).collect();
    store.delete(&outputs).await
}

/// Undoes a merge that failed before its commit, when the stored intent
/// `key` is still the `writing` one this run last wrote (`etag`): not when
/// a put whose reply was lost committed it, nor when another compactor
/// took it over. The check and the fence are one conditional put of the
/// intent marked [`Intent::rolled_back`]: from then on no commit of this
/// run can land (its put matches the etag it replaced only), and the
/// outputs are deleted. The intent stays for the next run, which deletes them again
/// (an output whose failed write landed after its error) before it lists
/// the partition. Best effort: what it leaves, the next run's recovery
/// undoes.
async fn roll_back<S: Store>(store: &S, key: &str, etag: &str, mut intent: Intent) {
    debug_assert!(matches!(intent.state, State::Writing));
    intent.rolled_back = true;
    let fence = PutMode::IfMatch(etag.to_string());
    if put_intent(store, key, &intent, fence).await.is_ok() {
        let _ = undo_outputs(store, &intent).await;
    }
}

/// After the commit: the tombstone first (so a late retry is recognised
/// from now on), then the inputs go.
async fn finish<S: Store>(store: &S, p: &Partition, intent: &Intent, now: u64) -> Result<()> {
    let hash = protocol::inputs_hash(&intent.inputs);
    let tomb = Tombstone {
        inputs: intent.inputs.iter().map(|i| i.key.clone()).collect(),
    };
    store
        .put(
            &protocol::tombstone_key(p, now, hash),
            json(&tomb),
            PutMode::Overwrite,
        )
        .await?;
    store.delete(&tomb.inputs).await
}

/// Folds a partition's tombstones into one: each costs a get per run, and a
/// partition compacted over many runs leaves one per run. The fold lists
/// every key they list and is kept as long as the newest of them; it is
/// written before they are deleted, so a crash between leaves keys listed
/// twice, which is harmless.
async fn fold_tombstones<S: Store>(
    store: &S,
    p: &Partition,
    keys: &BTreeSet<String>,
    live: &[(String, u64)],
) -> Result<()> {
    let newest = live.iter().map(|(_, done)| *done).max().unwrap_or(0);
    let tomb = Tombstone {
        inputs: keys.iter().cloned().collect(),
    };
    let key = protocol::tombstone_key(p, newest, protocol::keys_hash(&tomb.inputs));
    store.put(&key, json(&tomb), PutMode::Overwrite).await?;
    let old: Vec<String> = live
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| *k != key)
        .collect();
    store.delete(&old).await
}

/// Files of one schema version and Arrow schema: the ones that merge.
struct Group {
    version: String,
    schema: SchemaRef,
    files: Vec<Source>,
    /// The string leaves that every file holds as dictionaries throughout,
    /// which the merge decodes as dictionaries ([`read::decoded_schema`]).
    kept: Vec<usize>,
    /// What reading them is estimated to hold ([`Footer::read_memory`]),
    /// with `kept` decoded as dictionaries and `input_rows` a batch.
    memory: ReadMemory,
    /// Rows per batch decoded from each input: [`INPUT_ROWS`], or
    /// [`TIGHT_INPUT_ROWS`] once memory bounds the group.
    input_rows: usize,
}

/// Where a run takes its next small file: into one of its groups, as
/// [`Group::fit`] found, or as the first of a new one.
enum Place {
    Into(usize, Fit),
    New,
}

impl Group {
    /// A group of one file.
    fn new(first: Source) -> Group {
        let kept = first.file.kept_leaves();
        Group {
            version: first.file.schema_version().to_string(),
            schema: Arc::clone(first.file.schema()),
            memory: input_memory(&first, &kept, INPUT_ROWS),
            kept,
            files: vec![first],
            input_rows: INPUT_ROWS,
        }
    }

    /// What a group of `first` alone holds ([`Group::new`]'s memory).
    fn first_memory(first: &Source) -> ReadMemory {
        input_memory(first, &first.file.kept_leaves(), INPUT_ROWS)
    }

    /// The group's memory with input `s` added and its inputs decoded
    /// `rows` at a time, and the leaves it would then keep as
    /// dictionaries: fewer if `s` holds one of them in plain pages. Every
    /// file's estimate is made again when either changes.
    fn with(&self, s: &Source, rows: usize) -> (ReadMemory, Vec<usize>) {
        let kept: Vec<usize> = (self.kept.iter().copied())
            .filter(|&leaf| s.file.leaf_all_dictionary(leaf))
            .collect();
        let memory = match kept.len() == self.kept.len() && rows == self.input_rows {
            true => self.memory,
            false => (self.files.iter()).fold(ReadMemory::default(), |m, f| {
                m.with(input_memory(f, &kept, rows))
            }),
        };
        (memory.with(input_memory(s, &kept, rows)), kept)
    }

    /// How many of its smallest files a run may take instead of all of them,
    /// with `left` files left, for the [`lookahead`]: two or more, leaving
    /// a last run of at most `max_inputs`, giving back no more files than
    /// the last run would have had (`left` and the output) and at least as
    /// many rows as the run keeps. A last run merges its inputs in one wide
    /// merge, costlier per row than a run of a few large ones, and the
    /// files given back and the ones left have their footers read twice:
    /// giving back 85 100-row requests, or 4, to merge their few rows once
    /// instead of twice took as many instructions as it saved, or up to
    /// 3.3 % more (callgrind, logs and traces 500 × 100).
    fn splits(&self, left: usize, max_inputs: usize) -> std::ops::Range<usize> {
        let k = self.files.len();
        let total: u64 = self.files.iter().map(|s| s.file.rows()).sum();
        // Past `end`, taking `j` files keeps more rows than it gives back.
        let (mut end, mut kept) = (0, 0u64);
        for (j, s) in self.files.iter().enumerate() {
            if total - kept < kept {
                break;
            }
            end = j + 1;
            kept += s.file.rows();
        }
        // The last run holds the files given back, those left and the
        // output, within the run's most inputs.
        let room = (k + left + 1).saturating_sub(max_inputs);
        k.saturating_sub(left + 1).max(room).max(2)..end
    }

    /// A group of `files` (two or more) within `budget` of memory, as the
    /// planner takes them; the files back if they do not fit.
    fn of(files: Vec<Source>, budget: u64) -> std::result::Result<Group, Vec<Source>> {
        let mut files = files.into_iter();
        let Some(first) = files.next() else {
            return Err(Vec::new());
        };
        let mut group = Group::new(first);
        while let Some(s) = files.next() {
            match group.fit(&s, true, |m: ReadMemory| m.total() <= budget) {
                Some(fit) => group.push(s, fit),
                None => {
                    let mut back = group.files;
                    back.push(s);
                    back.extend(files);
                    return Err(back);
                }
            }
        }
        // Two files are taken whatever they hold (`fit`): check them too.
        match group.memory.total() <= budget {
            true => Ok(group),
            false => Err(group.files),
        }
    }

    /// How the group reads with input `s` added, if it stays `within` the
    /// run's bounds, its inputs decoded [`INPUT_ROWS`] at a time or else
    /// [`TIGHT_INPUT_ROWS`], or if it holds fewer than two files and the
    /// run has no group of two yet (`first`: two files always merge, so
    /// each run makes progress); `None` otherwise.
    fn fit(&self, s: &Source, first: bool, within: impl Fn(ReadMemory) -> bool) -> Option<Fit> {
        let (mut memory, mut kept) = self.with(s, self.input_rows);
        let mut rows = self.input_rows;
        if !within(memory) && rows > TIGHT_INPUT_ROWS {
            rows = TIGHT_INPUT_ROWS;
            (memory, kept) = self.with(s, rows);
        }
        ((first && self.files.len() < 2) || within(memory)).then_some(Fit { memory, kept, rows })
    }

    /// Adds input `s`, read as [`Group::fit`] found.
    fn push(&mut self, s: Source, fit: Fit) {
        self.memory = fit.memory;
        self.kept = fit.kept;
        self.input_rows = fit.rows;
        self.files.push(s);
    }
}

/// How a group reads with one more input ([`Group::fit`]).
struct Fit {
    memory: ReadMemory,
    kept: Vec<usize>,
    rows: usize,
}

/// The files this run leaves, as long as they could all go into one more
/// run: `over` (those it stopped at), then the footers read on from
/// `footers`. `None` once they could not (too many, too much memory even
/// at [`TIGHT_INPUT_ROWS`], another schema) or a footer failed to read: no
/// lookahead then. The caller asks only when at most [`LOOKAHEAD_FILES`]
/// are left.
async fn read_rest<F>(
    g: &Group,
    over: Vec<Source>,
    footers: &mut F,
    settings: &Settings,
) -> Option<Vec<Source>>
where
    F: Stream<Item = (usize, (Meta, Result<Option<(Footer, Option<Bytes>)>>))> + Unpin,
{
    let mut rest = Vec::new();
    let mut memory = ReadMemory::default();
    let mut add = |s: Source| {
        let file = &s.file;
        let same = file.schema_version() == g.version && file.schema() == &g.schema;
        memory = memory.with(input_memory(&s, &g.kept, TIGHT_INPUT_ROWS));
        rest.push(s);
        same && rest.len() < settings.max_inputs && memory.total() <= settings.merge_memory_bytes
    };
    for s in over {
        if !add(s) {
            return None;
        }
    }
    while let Some((_, (m, footer))) = footers.next().await {
        if let Some((file, whole)) = footer.ok()? {
            if !add(Source::new(m, file, whole)) {
                return None;
            }
        }
    }
    Some(rest)
}

/// The lookahead of a run that leaves files for another, when those files
/// (`rest`, all of them) and this run's output could make one last run:
/// this run then takes only the fewest of its smallest files (two or more)
/// for which that last run still fits, so that the last run is the only
/// one to merge the rest, and fewer rows are merged twice. A partition of
/// 40 request files of 8,192 logs ended with a run of its last 4 request
/// files and 2 intermediates, then a last run of 4 intermediates and that
/// output; now that run merges the 4 request files alone, and the last run
/// takes the 6 intermediates and its output (rows merged 2.30 → 2.00
/// times over, instructions −10 %). Returns how many files it gave back
/// (to the run's `left`).
///
/// The last run is estimated with the leaves that all the files in view
/// keep as dictionaries, and its output weighing as much as the heaviest
/// of them (its row groups are about as large as theirs, or larger); the
/// next run plans itself again from the footers. This run's files are
/// estimated exactly, as [`Group::fit`] does.
fn lookahead(g: &mut Group, rest: &[Source], settings: &Settings) -> usize {
    let k = g.files.len();
    let bytes: u64 = g.files.iter().chain(rest).map(|s| s.meta.size).sum();
    if k < 3 || bytes > settings.run_bytes {
        return 0;
    }
    let budget = settings.merge_memory_bytes;
    let kept: Vec<usize> = (g.kept.iter().copied())
        .filter(|&leaf| rest.iter().all(|s| s.file.leaf_all_dictionary(leaf)))
        .collect();
    // At `rows` a batch, the last run's memory when this run takes the
    // first `j` files, for each `j`: its files from `j` on, the rest and
    // the output.
    let last_run = |rows: usize| {
        let each: Vec<ReadMemory> = (g.files.iter().chain(rest))
            .map(|s| input_memory(s, &kept, rows))
            .collect();
        let output = each
            .iter()
            .copied()
            .max_by_key(|m| m.total())
            .unwrap_or_default();
        let mut from = vec![each[k..].iter().fold(output, |m, &e| m.with(e)); k + 1];
        for j in (0..k).rev() {
            from[j] = from[j + 1].with(each[j]);
        }
        from
    };
    let (wide, tight) = (last_run(INPUT_ROWS), last_run(TIGHT_INPUT_ROWS));
    let fits = |&j: &usize| wide[j].total() <= budget || tight[j].total() <= budget;
    let Some(j) = g.splits(rest.len(), settings.max_inputs).find(fits) else {
        return 0;
    };
    // This run's j files, estimated again as the planner would: a subset
    // of the group may keep more leaves as dictionaries.
    let tail = g.files.split_off(j);
    match Group::of(std::mem::take(&mut g.files), budget) {
        Ok(group) => {
            *g = group;
            tail.len()
        }
        Err(files) => {
            g.files = files;
            g.files.extend(tail);
            0
        }
    }
}

/// What input `s` holds in a merge that decodes the leaves `kept` as
/// dictionaries, `rows` at a time: [`Footer::read_memory`], and its bytes
/// when they were got whole with its footer. Those are held until its last
/// row group is decoded. With one row group, its reader or batch takes
/// their place (the reader holds them), and the merge starts by decoding
/// its inputs one after the other: the larger of the two per input, beside
/// the footer. Otherwise both.
fn input_memory(s: &Source, kept: &[usize], rows: usize) -> ReadMemory {
    let (file, size) = (&s.file, s.meta.size);
    let mut memory = file.read_memory(file.batch_rows(rows), kept);
    if s.whole.is_some() {
        memory.held = match file.row_groups() {
            1 => memory.held.max(file.footer_memory().saturating_add(size)),
            _ => memory.held.saturating_add(size),
        };
    }
    memory
}

/// One output file being written.
struct Out<'s> {
    writer: FileWriter,
    sink: Sink<'s>,
}

/// Where an output's bytes go: its key, its multipart upload once it has
/// one (its id, the parts uploaded, and the last part while it uploads: the
/// merge goes on meanwhile), and the written bytes not yet uploaded.
struct Sink<'s> {
    key: String,
    upload: Option<(String, Vec<Part>)>,
    uploading: Option<Started<'s, Part>>,
    pending: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
async fn merge_group<S: Store>(
    store: &S,
    p: &Partition,
    group: Group,
    now: u64,
    settings: &Settings,
    row_group_bytes: usize,
    report: &mut Report,
) -> Result<()> {
    let Group {
        schema,
        mut files,
        kept,
        input_rows,
        ..
    } = group;
    files.sort_by(|a, b| a.meta.key.cmp(&b.meta.key));
    let inputs: Vec<Input> = files
        .iter()
        .map(|s| Input {
            key: s.meta.key.clone(),
            etag: s.meta.etag.clone(),
            size: s.meta.size,
            rows: s.file.rows(),
        })
        .collect();
    let hash = protocol::inputs_hash(&inputs);
    let intent_key = protocol::intent_key(p, hash);
    let first_name = inputs[0].key.rsplit('/').next().unwrap_or("").to_string();
    let output = |n| Output {
        key: crate::key::compacted_key(p.table, p.hour, &first_name, hash, n),
        upload_id: None,
    };
    // The first output's key goes in with the inputs: one put of the intent
    // fewer for a run that writes one output.
    let mut intent = Intent {
        partition: p.id(),
        state: State::Writing,
        inputs,
        outputs: vec![output(0)],
        rolled_back: false,
    };
    let mut intent_etag = put_intent(store, &intent_key, &intent, PutMode::Overwrite).await?;

    // The merge, up to its outputs' completion and their check. Whatever
    // fails before the commit rolls the merge back at once, as the next
    // run's recovery would (a crash leaves that to it): its outputs are
    // not left beside their inputs, where a reader would see every row
    // twice until that run, and an error that comes back at every try
    // (the queue acks its message) would leave them there for good. An
    // input whose data does not decode is recorded first; the next run
    // merges the others.
    let merged: Result<(Vec<Meta>, u64)> = async {
        // The merge: each input read one row group at a time, the string
        // leaves that are dictionaries in every input kept as dictionaries.
        let footers: Vec<&Footer> = files.iter().map(|s| &s.file).collect();
        let decoded = read::decoded_schema(p.table, &schema, &footers);
        debug_assert_eq!(footers[0].dictionary_leaves(&decoded), kept, "as estimated");
        for s in &mut files {
            s.file.decode_as(Arc::clone(&decoded))?;
        }
        let mut sources = files;
        get_first_row_groups(store, &mut sources).await?;
        // Later row groups' gets, started ahead of the merge (see
        // [`Source::get_ahead`]), by input.
        let mut ahead: Vec<Option<Started<'_, Bytes>>> = sources.iter().map(|_| None).collect();
        // An intermediate output (a later run reads it back) gets small row
        // groups and the writer's default pages; one that stays, large pages.
        // Output batches never straddle a row group.
        let (batch_rows, options) = match row_group_bytes < settings.row_group_bytes {
            true => (INTERMEDIATE_MERGE_ROWS, WriteOptions::default()),
            false => {
                let options = WriteOptions {
                    page_bytes: OUTPUT_PAGE_BYTES,
                    ..WriteOptions::default()
                };
                (MERGE_ROWS, options)
            }
        };
        // Inputs of wide rows are read in smaller batches than the run's
        // (`Footer::batch_rows`), and the merged batches are cut as small.
        // (Both are below `batch_rows`; the loop below keeps a batch within the
        // open row group.)
        let narrowest = (sources.iter())
            .map(|s| s.file.batch_rows(input_rows))
            .min();
        let out_rows = narrowest
            .filter(|&rows| rows < input_rows)
            .unwrap_or(batch_rows);
        let mut merger = Merger::new(p.table, decoded, sources.len(), out_rows)?;
        // A row of over a megabyte ends its write, so that the row group
        // closes after it (below) instead of taking in other inputs' rows
        // of megabytes written with it.
        merger.set_wide_row_bytes(read::BATCH_STRING_BYTES);
        let mut out: Option<Out> = None;
        // The outputs written, as their puts and completions returned them.
        let mut written: Vec<Meta> = Vec::new();
        let mut done_rows = 0u64;
        loop {
            // No merged batch runs past the open row group's rows.
            let open = out.as_ref().map_or(0, |o| o.writer.row_group_rows());
            merger.set_out_rows(out_rows.min(settings.row_group_rows.saturating_sub(open)));
            match merger.step()? {
                Step::Need(i) => {
                    if let Some(got) = ahead[i].take() {
                        sources[i].ahead = Some(got.wait().await?);
                    }
                    let batch = sources[i].next(store, input_rows).await;
                    match batch.map_err(|e| unreadable(&sources[i].meta.key, e))? {
                        Some((batch, true)) => merger.feed_last(i, batch)?,
                        batch => merger.feed(i, batch.map(|(b, _)| b))?,
                    }
                    let under_way = ahead.iter().flatten().filter(|g| !g.is_done()).count();
                    if under_way < AHEAD_GETS {
                        if let Some(range) = sources[i].get_ahead(input_rows) {
                            ahead[i] = Some(Started::new(sources[i].get_range(store, range)));
                        }
                    }
                }
                Step::Rows(rows) => {
                    ahead.iter_mut().flatten().for_each(Started::poke);
                    if out.is_none() {
                        // Output n begins once n are written; the first one's
                        // key is in the intent already.
                        let n = written.len();
                        if n > 0 {
                            intent.outputs.push(output(n));
                            intent_etag = put_intent(
                                store,
                                &intent_key,
                                &intent,
                                PutMode::IfMatch(intent_etag.clone()),
                            )
                            .await?;
                        }
                        let key = output(n).key;
                        out = Some(Out {
                            writer: FileWriter::with_options(p.table, &schema, options)?,
                            sink: Sink {
                                key,
                                upload: None,
                                uploading: None,
                                pending: Vec::new(),
                            },
                        });
                    }
                    if let Some(part) = out.as_mut().and_then(|o| o.sink.uploading.as_mut()) {
                        part.poke();
                    }
                    let o = out.as_mut().ok_or(Error::Internal("no output file"))?;
                    o.writer.write_rows(&rows)?;
                    done_rows += rows.num_rows() as u64;
                    if o.writer.row_group_rows() >= settings.row_group_rows
                        || o.writer.row_group_bytes() >= row_group_bytes
                    {
                        o.writer.flush_row_group()?;
                        let written = o.writer.take_written()?;
                        let mut up =
                            Uploads::new(&mut intent, &intent_key, &mut intent_etag, settings);
                        up.push(store, &mut o.sink, written).await?;
                    }
                    if o.writer.bytes_written() >= settings.target_bytes {
                        let o = out.take().ok_or(Error::Internal("no output file"))?;
                        let mut up =
                            Uploads::new(&mut intent, &intent_key, &mut intent_etag, settings);
                        written.push(up.close(store, o).await?);
                    }
                }
                Step::Done => break,
            }
        }
        if let Some(o) = out.take() {
            let mut up = Uploads::new(&mut intent, &intent_key, &mut intent_etag, settings);
            written.push(up.close(store, o).await?);
        }
        Ok((written, done_rows))
    }
    .await;
    // The outputs, read back from their footers, must hold every input row.
    let rows = intent.rows();
    let checked = match merged {
        Ok((written, done_rows)) => verify(store, &written, done_rows, rows)
            .await
            .map(|()| written),
        Err(e) => Err(e),
    };
    let written = match checked {
        Ok(written) => written,
        Err(Error::UnreadableInput { key, reason }) => {
            // Recorded first: should the rollback not finish, the next
            // run's recovery does, and the record still keeps it out.
            let Some(input) = intent.inputs.iter().find(|i| i.key == key) else {
                return Err(Error::Internal("an unreadable input not of its merge"));
            };
            let record = protocol::Unreadable {
                key: key.clone(),
                etag: input.etag.clone(),
                reason: reason.clone(),
            };
            let record_key = protocol::unreadable_key(p, &key);
            store
                .put(&record_key, json(&record), PutMode::Overwrite)
                .await?;
            roll_back(store, &intent_key, &intent_etag, intent).await;
            return Err(Error::UnreadableInput { key, reason });
        }
        Err(e) => {
            roll_back(store, &intent_key, &intent_etag, intent).await;
            return Err(e);
        }
    };
    // Inputs without rows begin no output: the intent names none then.
    intent.outputs.truncate(written.len());
    report.outputs += written.len();
    report.bytes_out += written.iter().map(|m| m.size).sum::<u64>();
    // The commit. A put that failed may have taken effect (its reply was
    // lost): then the intent is committed, for the next run to finish.
    intent.state = State::Committed;
    let commit = put_intent(
        store,
        &intent_key,
        &intent,
        PutMode::IfMatch(intent_etag.clone()),
    );
    if let Err(e) = commit.await {
        intent.state = State::Writing;
        roll_back(store, &intent_key, &intent_etag, intent).await;
        return Err(e);
    }
    finish(store, p, &intent, now).await?;
    store.delete(&[intent_key]).await?;
    report.inputs += intent.inputs.len();
    report.rows += rows;
    report.bytes_in += intent.inputs.iter().map(|i| i.size).sum::<u64>();
    Ok(())
}

/// `e`, met reading input `key`: an [`Error::UnreadableInput`] (the
/// reader found pages it cannot decode) names the input; any other error
/// stays what it is (a store call's may succeed on the next try, and a
/// failure of this crate's own must not be blamed on a file).
fn unreadable(key: &str, e: Error) -> Error {
    match e {
        Error::UnreadableInput { reason, .. } => Error::UnreadableInput {
            key: key.to_string(),
            reason,
        },
        e => e,
    }
}

async fn put_intent<S: Store>(
    store: &S,
    key: &str,
    intent: &Intent,
    mode: PutMode,
) -> Result<String> {
    match store.put(key, json(intent), mode).await? {
        Some(m) => Ok(m.etag),
        None => Err(store::failed(
            "put",
            key,
            "the intent changed under this run (another compactor?)",
        )),
    }
}

/// Makes room in `pending` for `more` bytes: room for a whole part of
/// `part` bytes at once. Reserving exactly what each row group needs
/// reallocated (and copied) the pending part once per row group, a part's
/// bytes five to ten times over; growing by doubling left the smaller
/// blocks behind as holes in a Worker's linear memory.
fn grow(pending: &mut Vec<u8>, more: usize, part: usize) {
    let need = pending.len() + more;
    if need > pending.capacity() {
        pending.reserve_exact(part.max(need) - pending.len());
    }
}

/// An output's way to R2: its pending bytes, cut into parts of
/// `part_bytes` as they fill, each part's upload started as soon as it is
/// full (the multipart upload created, and recorded in the intent, with the
/// first), and waited for when the next part starts or the output closes:
/// one part in flight while the merge goes on.
struct Uploads<'a> {
    intent: &'a mut Intent,
    intent_key: &'a str,
    intent_etag: &'a mut String,
    part_bytes: usize,
}

impl<'a> Uploads<'a> {
    fn new(
        intent: &'a mut Intent,
        intent_key: &'a str,
        intent_etag: &'a mut String,
        settings: &Settings,
    ) -> Self {
        Uploads {
            intent,
            intent_key,
            intent_etag,
            part_bytes: settings.part_bytes,
        }
    }

    /// Appends `bytes` (a flushed row group) to the output's pending bytes
    /// and uploads each part that fills. A part is copied once out of
    /// `bytes` into a buffer of at most its size, so at most a part and
    /// `bytes` are held at once (appending whole row groups, then splitting
    /// parts off, held twice that while a buffer was reallocated).
    async fn push<'s, S: Store>(
        &mut self,
        store: &'s S,
        o: &mut Sink<'s>,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let part = self.part_bytes.max(1);
        if o.pending.is_empty() && bytes.len() < part {
            o.pending = bytes; // no copy
            return Ok(());
        }
        let mut rest = &bytes[..];
        loop {
            let room = part.saturating_sub(o.pending.len());
            if rest.len() < room {
                grow(&mut o.pending, rest.len(), part);
                o.pending.extend_from_slice(rest);
                return Ok(());
            }
            grow(&mut o.pending, room, part);
            o.pending.extend_from_slice(&rest[..room]);
            rest = &rest[room..];
            let full = std::mem::take(&mut o.pending);
            self.upload(store, o, full).await?;
        }
    }

    /// Starts the upload of one part of `o`, creating its multipart upload
    /// first if it has none, and waiting for the part before it.
    async fn upload<'s, S: Store>(
        &mut self,
        store: &'s S,
        o: &mut Sink<'s>,
        part: Vec<u8>,
    ) -> Result<()> {
        if o.upload.is_none() {
            let id = store.create_multipart(&o.key).await?;
            if let Some(rec) = self.intent.outputs.iter_mut().find(|r| r.key == o.key) {
                rec.upload_id = Some(id.clone());
            }
            let recorded = put_intent(
                store,
                self.intent_key,
                self.intent,
                PutMode::IfMatch(self.intent_etag.clone()),
            )
            .await;
            match recorded {
                Ok(etag) => *self.intent_etag = etag,
                Err(e) => {
                    // Unrecorded, recovery could not abort it: abort it now.
                    // (A crash right here leaves an upload without an object,
                    // which R2's lifecycle rule aborts after 7 days.)
                    let _ = store.abort_multipart(&o.key, &id).await;
                    return Err(e);
                }
            }
            o.upload = Some((id, Vec::new()));
        }
        let (id, parts) = o.upload.as_mut().ok_or(Error::Internal("no upload"))?;
        if let Some(before) = o.uploading.take() {
            parts.push(before.wait().await?);
        }
        let number =
            u16::try_from(parts.len() + 1).map_err(|_| Error::Internal("too many parts"))?;
        let (key, id) = (o.key.clone(), id.clone());
        o.uploading = Some(Started::new(async move {
            store.upload_part(&key, &id, number, part).await
        }));
        Ok(())
    }

    /// Finishes an output: its last bytes as one put when it never filled
    /// a part, else through [`Uploads::push`] and a last part of at most
    /// `part_bytes`, then the upload's completion. The object written.
    async fn close<'s, S: Store>(&mut self, store: &'s S, out: Out<'s>) -> Result<Meta> {
        let Out {
            writer,
            sink: mut o,
        } = out;
        let last = writer.finish()?;
        if o.upload.is_none() && o.pending.len() + last.len() < self.part_bytes.max(1) {
            o.pending.reserve_exact(last.len());
            o.pending.extend_from_slice(&last);
            let put = store.put(&o.key, o.pending, PutMode::Overwrite).await?;
            return put.ok_or_else(|| store::failed("put", &o.key, "an output was not written"));
        }
        self.push(store, &mut o, last).await?;
        if !o.pending.is_empty() {
            let rest = std::mem::take(&mut o.pending);
            self.upload(store, &mut o, rest).await?;
        }
        let (id, mut parts) = o.upload.ok_or(Error::Internal("no upload"))?;
        if let Some(last) = o.uploading.take() {
            parts.push(last.wait().await?);
        }
        store.complete_multipart(&o.key, &id, parts).await
    }
}

/// Checks that the outputs (the objects their puts and completions
/// returned), read back from their footers, and the merge (`merged` rows)
/// hold the inputs' `rows`.
async fn verify<S: Store>(store: &S, outputs: &[Meta], merged: u64, rows: u64) -> Result<()> {
    let mut written = 0;
    for o in outputs {
        let (file, _) = read_footer(store, o)
            .await?
            .ok_or_else(|| store::failed("get", &o.key, "a completed output is missing"))?;
        written += file.rows();
    }
    if written != rows || merged != rows {
        return Err(Error::Internal(
            "compacted outputs do not hold their inputs' rows",
        ));
    }
    Ok(())
}

/// One input, read one row group at a time through ranged gets, or out of
/// its bytes when [`read_footer`] got the whole file.
struct Source {
    meta: Meta,
    file: Footer,
    /// The whole file, until its last row group is decoded.
    whole: Option<Bytes>,
    /// Row group `next_group`'s bytes, got ahead of the merge (see
    /// [`get_first_row_groups`]).
    ahead: Option<Bytes>,
    next_group: usize,
    batches: Option<RowGroupBatches>,
}

impl Source {
    fn new(meta: Meta, file: Footer, whole: Option<Bytes>) -> Self {
        Source {
            meta,
            file,
            whole,
            ahead: None,
            next_group: 0,
            batches: None,
        }
    }

    /// The input's next batch, of at most `batch_rows` rows (its run's
    /// `input_rows`, fewer for a file of wide rows: [`Footer::batch_rows`];
    /// a row group already open keeps the size it was opened with), and
    /// whether it is the input's last, `None` at its end. A row
    /// group's reader (its compressed bytes, pages and decoders) is dropped
    /// as soon as its last batch is out, not when the next one is asked
    /// for: a merge holds many inputs' last batches at once.
    async fn next<S: Store>(
        &mut self,
        store: &S,
        batch_rows: usize,
    ) -> Result<Option<(RecordBatch, bool)>> {
        loop {
            if let Some(b) = self.batches.as_mut().and_then(Iterator::next) {
                let b = b?;
                if self.batches.as_ref().is_some_and(RowGroupBatches::done) {
                    self.batches = None;
                }
                let last = self.batches.is_none() && self.next_group >= self.file.row_groups();
                return Ok(Some((b, last)));
            }
            let Some(range) = self.file.row_group(self.next_group) else {
                return Ok(None);
            };
            let bytes = match self.ahead.take().or_else(|| self.in_whole(range)) {
                Some(bytes) => bytes,
                None => self.get_range(store, range).await?,
            };
            if self.next_group + 1 >= self.file.row_groups() {
                self.whole = None;
            }
            let rows = self.file.batch_rows(batch_rows);
            let batches =
                (self.file).decode_row_group(self.next_group, range.start, bytes, rows)?;
            self.batches = Some(batches);
            self.next_group += 1;
        }
    }

    /// Row group `range`'s bytes cut from the whole file's, if held.
    fn in_whole(&self, range: RowGroupRange) -> Option<Bytes> {
        let end = range.start.saturating_add(range.len);
        let whole = self.whole.as_ref().filter(|w| end <= w.len() as u64)?;
        Some(whole.slice(range.start as usize..end as usize))
    }

    /// Row group `range`'s bytes, with a ranged get (which borrows only
    /// the store: it may run on after this input moves).
    fn get_range<'s, S: Store>(
        &self,
        store: &'s S,
        range: RowGroupRange,
    ) -> impl Future<Output = Result<Bytes>> + 's {
        let key = self.meta.key.clone();
        async move {
            let slice = Range::Slice {
                offset: range.start,
                length: range.len,
            };
            let bytes = store.get(&key, Some(slice)).await?;
            let bytes = bytes
                .ok_or_else(|| store::failed("get", &key, "an input went away during its run"))?;
            Ok(Bytes::from(bytes))
        }
    }

    /// The next row group to get ahead of the merge, if any: once the open
    /// row group's last batch is out, its reader (compressed bytes, pages,
    /// decoders) is gone, so the next row group's compressed bytes may come
    /// in while that batch is merged, within what the run's memory estimate
    /// gave this input ([`Footer::read_memory`] counts a reader for a row
    /// group of more rows than a batch) when they are no more than the
    /// last one's bytes and its reader's own. Nothing for the first row
    /// group ([`get_first_row_groups`]), nor for one the input holds already.
    fn get_ahead(&self, batch_rows: usize) -> Option<RowGroupRange> {
        if self.batches.is_some() || self.ahead.is_some() || self.next_group == 0 {
            return None;
        }
        let done = self.file.row_group(self.next_group - 1)?;
        let next = self.file.row_group(self.next_group)?;
        let freed = done.len.saturating_add(self.file.reader_memory());
        let fits = done.rows > self.file.batch_rows(batch_rows) as u64 && next.len <= freed;
        (fits && self.in_whole(next).is_none()).then_some(next)
    }
}

/// Gets the first row group of every input that needs a get for it,
/// [`GETS_AT_ONCE`] at a time: the merge's first step decodes a batch of
/// every input before it puts out a row, so it would otherwise wait for
/// those gets one after the other. Each input holds those bytes no longer
/// than it would anyway (its reader keeps them until its row group ends),
/// so the run's memory estimate holds.
async fn get_first_row_groups<S: Store>(store: &S, sources: &mut [Source]) -> Result<()> {
    // (input, its first row group) unless its whole file's bytes hold it.
    let wanted: Vec<(usize, RowGroupRange)> = sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let range = s.file.row_group(0)?;
            s.in_whole(range).is_none().then_some((i, range))
        })
        .collect();
    let sources_ref: &[Source] = sources;
    let got: Vec<(usize, Bytes)> = stream::iter(wanted)
        .map(|(i, range)| async move {
            Ok::<_, Error>((i, sources_ref[i].get_range(store, range).await?))
        })
        .buffered(GETS_AT_ONCE)
        .try_collect()
        .await?;
    for (i, bytes) in got {
        sources[i].ahead = Some(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::grow;

    /// A part filled row group by row group is reallocated once, not once
    /// per row group, and never past the part's size.
    #[test]
    fn a_pending_part_grows_once_to_its_size() {
        let (part, group) = (5 << 20, 600_000);
        let mut pending = vec![0u8; group];
        let mut moves = 0;
        while pending.len() + group <= part {
            let before = pending.capacity();
            grow(&mut pending, group, part);
            if pending.capacity() != before {
                moves += 1;
            }
            pending.extend(std::iter::repeat_n(1u8, group));
            assert!(pending.capacity() <= part);
        }
        assert_eq!(pending.len(), 8 * group);
        assert_eq!(moves, 1, "{moves} reallocations for 8 row groups");
        // What a part cannot hold is still made room for.
        let mut small = Vec::new();
        grow(&mut small, 10, 4);
        assert!(small.capacity() >= 10);
    }
}
