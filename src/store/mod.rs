//! The object store: the one interface through which the Worker, the CLI and
//! the tests read and write the bucket.
//!
//! [`Store`] is shaped after R2's binding (which is shaped after S3): list by
//! prefix with a cursor, get (whole or a byte range), head, put (plain,
//! create-only, or only if the etag matches), multipart uploads, and deletes
//! of many keys. Implementations:
//!
//! | store | where | for |
//! |---|---|---|
//! | `r2::R2` | wasm32 + `worker` | the Worker's R2 binding |
//! | [`dir::Dir`] | native | the CLI (`convert`, `compact`) and tests: keys are paths under a folder |
//! | [`memory::Memory`] | everywhere | tests and benches: a map in memory |
//! | [`fault::Faulty`] | everywhere | any store, with chosen calls made to fail (tests, fault injection) |
//!
//! The trait uses `async fn` without `Send` bounds: a Worker isolate is
//! single-threaded, and the native users drive it with a one-thread executor.
//! Nothing here knows about Parquet or OTLP; keys are plain strings.

pub mod fault;
pub mod memory;

#[cfg(test)]
mod contract;

#[cfg(not(target_arch = "wasm32"))]
pub mod dir;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod r2;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};

/// The largest number of keys one [`Store::list`] call returns (R2's cap).
pub const LIST_LIMIT: usize = 1000;

/// What the store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The object's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// An opaque version tag that changes whenever the object's bytes change
    /// (R2's `etag`). Used with [`PutMode::IfMatch`].
    pub etag: String,
}

/// One page of a listing, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects whose key starts with the prefix, at most [`LIST_LIMIT`].
    pub objects: Vec<Meta>,
    /// Where the next page starts; `None` when this page is the last.
    pub cursor: Option<String>,
}

/// Where a page of [`Store::list`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<'a> {
    /// At the first key under the prefix.
    First,
    /// At the first key greater than this one (R2's `startAfter`): a
    /// listing that skips what sorts before, such as the older `date=`
    /// folders of a table.
    After(&'a str),
    /// Where the previous page ended: its [`Listing::cursor`].
    Cursor(&'a str),
}

/// A byte range of an object, for [`Store::get`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// `length` bytes from `offset` (fewer at the end of the object).
    Slice {
        /// First byte.
        offset: u64,
        /// Bytes wanted.
        length: u64,
    },
    /// The last `length` bytes (a Parquet footer first).
    Suffix {
        /// Bytes wanted.
        length: u64,
    },
}

impl Range {
    /// The byte offsets this range covers in an object of `size` bytes.
    pub fn bounds(self, size: u64) -> std::ops::Range<u64> {
        match self {
            Range::Slice { offset, length } => {
                let start = offset.min(size);
                start..start.saturating_add(length).min(size)
            }
            Range::Suffix { length } => size.saturating_sub(length)..size,
        }
    }
}

/// How a put treats an object that already exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutMode {
    /// Write, replacing whatever is there.
    Overwrite,
    /// Write only if no object has the key (a lease, an intent).
    Create,
    /// Write only if the current object has this etag (compare-and-swap).
    IfMatch(String),
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based part number.
    pub number: u16,
    /// The part's etag, as the store returned it.
    pub etag: String,
}

/// An object store. Every method is one request to the store (one R2
/// operation, which is billed), and fails with [`Error::Store`].
#[allow(async_fn_in_trait)] // single-threaded users: no Send bound wanted
pub trait Store {
    /// Lists the objects whose key starts with `prefix`, in key order, one
    /// page at a time from `start`: pass the previous page's cursor as
    /// [`Start::Cursor`] to get the next.
    async fn list(&self, prefix: &str, start: Start<'_>) -> Result<Listing>;

    /// Reads an object, or the bytes of `range` of it. `None` when there is
    /// no such object.
    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>>;

    /// The object's metadata, or `None` when there is no such object.
    async fn head(&self, key: &str) -> Result<Option<Meta>>;

    /// Writes an object. `None` when `mode`'s condition did not hold (the
    /// key exists for [`PutMode::Create`], or has another etag for
    /// [`PutMode::IfMatch`]): nothing was written.
    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>>;

    /// Starts a multipart upload of `key`; returns its upload id.
    async fn create_multipart(&self, key: &str) -> Result<String>;

    /// Uploads part `number` (from 1). R2 wants every part but the last of
    /// one size, at least 5 MiB, and the last no larger than the others.
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part>;

    /// Completes an upload: the object appears whole, at once.
    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta>;

    /// Abandons an upload and its parts. An upload that is not open (never
    /// created, completed, or already aborted) is an error, as on R2 and S3
    /// (`NoSuchUpload`); a caller that only tidies up ignores it.
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()>;

    /// Deletes objects; keys that do not exist are not an error.
    async fn delete(&self, keys: &[String]) -> Result<()>;
}

/// The error of a failed store call.
pub fn failed(op: &'static str, key: &str, reason: impl std::fmt::Display) -> Error {
    Error::Store {
        op,
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// R2 takes at most one write a second to the same key and refuses the
/// others with error 10058 (HTTP 429): the R2 limits page's "concurrent
/// writes to the same object name (key): 1 per second". Compaction writes
/// its lease and intent keys several times in a run, often within a second,
/// and an exporter's retry can put the same file again at once.
fn same_key_too_soon(e: &Error) -> bool {
    matches!(e, Error::Store { reason, .. } if reason.contains("(10058)"))
}

/// How long a write refused by [`same_key_too_soon`] waits before it is made
/// again: past the key's second.
const SAME_KEY_PAUSE: std::time::Duration = std::time::Duration::from_millis(1100);

/// How many times such a write is made again before its error is returned.
const SAME_KEY_RETRIES: usize = 3;

/// `write()`'s result, made again after `pause(SAME_KEY_PAUSE)` while R2
/// refuses it as too soon after another write of its key, at most
/// `SAME_KEY_RETRIES` (3) more times. A refused write was not applied, so
/// making it again is safe whatever its condition (create-only, if-match).
/// `pause` is the platform's timer (`worker::Delay` in the Worker).
pub async fn retry_too_soon<T, W, F, P, PF>(mut write: W, pause: P) -> Result<T>
where
    W: FnMut() -> F,
    F: Future<Output = Result<T>>,
    P: Fn(std::time::Duration) -> PF,
    PF: Future<Output = ()>,
{
    for _ in 0..SAME_KEY_RETRIES {
        match write().await {
            Err(e) if same_key_too_soon(&e) => pause(SAME_KEY_PAUSE).await,
            done => return done,
        }
    }
    write().await
}

/// Lists every object under `prefix`, following cursors.
pub async fn list_all<S: Store + ?Sized>(store: &S, prefix: &str) -> Result<Vec<Meta>> {
    list_all_from(store, prefix, Start::First).await
}

/// Lists every object under `prefix` from `start`, following cursors.
pub async fn list_all_from<S: Store + ?Sized>(
    store: &S,
    prefix: &str,
    start: Start<'_>,
) -> Result<Vec<Meta>> {
    let mut page = store.list(prefix, start).await?;
    let mut out = std::mem::take(&mut page.objects);
    while let Some(cursor) = page.cursor {
        page = store.list(prefix, Start::Cursor(&cursor)).await?;
        out.append(&mut page.objects);
    }
    Ok(out)
}

/// Puts every object, all at once, and waits for every put: the first
/// failure (in key order of the inputs) is the result.
pub async fn put_all<S: Store>(
    store: &S,
    objects: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<()> {
    let puts = objects
        .into_iter()
        .map(|(key, data)| async move { store.put(&key, data, PutMode::Overwrite).await });
    for result in futures_util::future::join_all(puts).await {
        result?;
    }
    Ok(())
}

/// A store call under way: started now, awaited later.
///
/// [`Started::new`] polls the call once, which is when an R2 call leaves
/// for the network; the Worker's runtime then carries it on while the
/// caller computes, and [`Started::wait`] takes its result. A compaction
/// run gets an input's next row group, or uploads a finished part, this way
/// and keeps merging meanwhile, where awaiting each call in turn would stop
/// the merge for a round trip. The in-memory and folder stores finish on
/// that first poll. [`Started::poke`] polls again without waiting, so that
/// a call of several steps (a get's object, then its body) moves on.
pub struct Started<'a, T> {
    call: Pin<Box<dyn Future<Output = Result<T>> + 'a>>,
    done: Option<Result<T>>,
}

impl<'a, T> Started<'a, T> {
    /// Starts `call`.
    pub fn new(call: impl Future<Output = Result<T>> + 'a) -> Self {
        let mut started = Started {
            call: Box::pin(call),
            done: None,
        };
        started.poke();
        started
    }

    /// Polls the call once more, unless it is done.
    pub fn poke(&mut self) {
        if self.done.is_none() {
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(result) = self.call.as_mut().poll(&mut cx) {
                self.done = Some(result);
            }
        }
    }

    /// Whether the call has finished (as of its last poll).
    pub fn is_done(&self) -> bool {
        self.done.is_some()
    }

    /// The call's result, waiting for it if it is still under way.
    pub async fn wait(self) -> Result<T> {
        match self.done {
            Some(result) => result,
            None => self.call.await,
        }
    }
}

/// An object's etag as [`memory::Memory`] computes it, and parts' etags in
/// [`dir::Dir`]: 32 hex digits of the XXH3-128 of its bytes, so equal bytes
/// have equal etags (as R2's MD5 etags do).
pub fn content_etag(data: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data))
}

/// One page of `keys` (sorted) from `start`: the shared listing rule of the
/// stores that hold their keys in order. The cursor is the last key
/// returned, so a cursor and a key to start after are the same thing.
fn page<'a>(keys: impl Iterator<Item = (&'a String, u64, &'a str)>, start: Start<'_>) -> Listing {
    let after = match start {
        Start::First => None,
        Start::After(k) | Start::Cursor(k) => Some(k),
    };
    let mut objects = Vec::new();
    let mut more = false;
    for (key, size, etag) in keys.filter(|(k, ..)| after.is_none_or(|a| k.as_str() > a)) {
        if objects.len() == LIST_LIMIT {
            more = true;
            break;
        }
        objects.push(Meta {
            key: key.clone(),
            size,
            etag: etag.to_string(),
        });
    }
    let cursor = more
        .then(|| objects.last().map(|m| m.key.clone()))
        .flatten();
    Listing { objects, cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write R2 refuses as too soon after another of its key (10058) is
    /// made again after a pause, up to three more times; any other error,
    /// and the last refusal, come back as they are.
    #[test]
    fn a_write_refused_as_too_soon_is_made_again() {
        use std::cell::Cell;
        let too_soon = || {
            failed(
                "put",
                "k",
                "put: Reduce your concurrent request rate for the same object. (10058)",
            )
        };
        let run = |refusals: usize, other: bool| {
            let (calls, pauses) = (Cell::new(0), Cell::new(0));
            let result = futures_executor::block_on(retry_too_soon(
                || {
                    calls.set(calls.get() + 1);
                    let r = match calls.get() <= refusals {
                        true if other => Err(failed("put", "k", "put: internal error (10001)")),
                        true => Err(too_soon()),
                        false => Ok(calls.get()),
                    };
                    async move { r }
                },
                |d| {
                    assert_eq!(d, SAME_KEY_PAUSE);
                    pauses.set(pauses.get() + 1);
                    async {}
                },
            ));
            (result, calls.get(), pauses.get())
        };
        assert!(matches!(run(0, false), (Ok(1), 1, 0)));
        assert!(matches!(run(2, false), (Ok(3), 3, 2)));
        assert!(matches!(run(3, false), (Ok(4), 4, 3)));
        let (last, calls, pauses) = run(4, false);
        assert!(last.as_ref().is_err_and(same_key_too_soon), "{last:?}");
        assert_eq!((calls, pauses), (4, 3));
        let (other, calls, pauses) = run(1, true);
        assert!(other.is_err_and(|e| !same_key_too_soon(&e)));
        assert_eq!((calls, pauses), (1, 0));
    }

    #[test]
    fn ranges_are_clamped_to_the_object() {
        assert_eq!(
            Range::Slice {
                offset: 2,
                length: 3
            }
            .bounds(10),
            2..5
        );
        assert_eq!(
            Range::Slice {
                offset: 8,
                length: 5
            }
            .bounds(10),
            8..10
        );
        assert_eq!(
            Range::Slice {
                offset: 12,
                length: 5
            }
            .bounds(10),
            10..10
        );
        assert_eq!(Range::Suffix { length: 4 }.bounds(10), 6..10);
        assert_eq!(Range::Suffix { length: 40 }.bounds(10), 0..10);
    }

    /// A call that waits `turns` polls, counting how often it was polled.
    async fn after(turns: usize, polls: &std::cell::Cell<usize>) -> Result<usize> {
        for _ in 0..turns {
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                polls.set(polls.get() + 1);
                if yielded {
                    return Poll::Ready(());
                }
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            })
            .await;
        }
        Ok(turns)
    }

    #[test]
    fn a_started_call_runs_as_far_as_it_can_then_is_awaited() {
        // Done on its first poll: the result is kept.
        let polls = std::cell::Cell::new(0);
        let started = Started::new(after(0, &polls));
        assert!(started.is_done());
        assert_eq!(futures_executor::block_on(started.wait()).unwrap(), 0);
        // Two turns: started, poked through its first, awaited for the rest.
        let started = {
            let mut s = Started::new(after(2, &polls));
            assert_eq!(polls.get(), 1);
            s.poke();
            assert_eq!(polls.get(), 3, "the first turn done, the second begun");
            assert!(!s.is_done());
            s
        };
        assert_eq!(futures_executor::block_on(started.wait()).unwrap(), 2);
        assert_eq!(polls.get(), 4);
        // Poked to its end, it is not polled again.
        let mut s = Started::new(after(1, &polls));
        s.poke();
        assert!(s.is_done());
        s.poke();
        assert_eq!(polls.get(), 6);
        assert_eq!(futures_executor::block_on(s.wait()).unwrap(), 1);
    }
}
