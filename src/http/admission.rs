//! Admission control: an isolate-wide budget of the memory that requests in
//! flight may use, so that concurrent requests cannot together exceed a
//! Worker isolate's 128 MB.
//!
//! A Worker isolate serves several requests at once, and the request limits
//! are sized for one: the largest accepted request peaks at about four times
//! its inflated body (measured: an 8 MiB protobuf logs body peaks at 24.5 MiB
//! of heap besides the body with dhat, and a 9.9 MiB one at 34 MiB of wasm
//! memory in workerd; `docs/performance.md`, "Peak memory"). Each request is
//! charged [`cost`] of what it is known to hold: first its declared
//! `Content-Length` (before the body is read), then each chunk as it arrives,
//! then its inflated size; then, through [`crate::pipeline::Meter`], what the
//! pipeline decodes and plans, when that is more (a single-chunk request of
//! 8,192 records peaks at 5–6.5 times its body, and a request of an unusual
//! shape, a few KB whose shared values fill megabytes of columns, at a
//! thousand). A charge that does not fit is refused, and the
//! handler answers 503 with `Retry-After`: an OTLP exporter retries later.
//!
//! The budget lives in one [`Admission`] per isolate (a static in the Worker
//! edge); the charges of a request are released when its [`Permit`] drops,
//! whatever the outcome. A permit that never drops is not lost for good:
//! when a client goes away, the platform cancels the invocation and the
//! JavaScript promises it awaited (the body, an R2 put) never settle, so the
//! Rust future holding the permit is never polled again, nor dropped. Every
//! charge therefore carries the time it was made, and one older than
//! [`CHARGE_TTL_MS`] is taken back when a request is admitted; the permit, if
//! it was alive after all, is refused at its next charge, which every step
//! of a request's work asks for.

use std::sync::{Mutex, PoisonError};

/// Bytes charged for any request, besides its body: the reply, the log line,
/// the decoder's and writer's fixed buffers.
pub const FIXED_COST: usize = 1 << 20;

/// Memory a request peaks at per byte of inflated body (decoded model,
/// Arrow chunk, Parquet pages and file, the body itself): 4, rounded up from
/// the 3.7–4.1 measured on 2026-11-21 (docs/performance.md, "Peak memory";
/// not re-measured since).
pub const COST_PER_BYTE: usize = 4;

/// Default isolate-wide budget: 96 MiB of the isolate's 128 MB, leaving the
/// rest to the wasm module, the allocator's slack and the JavaScript heap.
pub const DEFAULT_INFLIGHT_BYTES: usize = 96 << 20;

/// How long a charge holds at most: 15 minutes, the longest wall time of a
/// Worker invocation that ends (a queue consumer's; a request is cut by its
/// client or its CPU limit well before). A charge still held after that
/// belongs to an invocation the platform cancelled.
pub const CHARGE_TTL_MS: u64 = 15 * 60 * 1000;

/// The memory charged for holding `bytes` of body: [`COST_PER_BYTE`] each.
pub fn cost(bytes: usize) -> usize {
    bytes.saturating_mul(COST_PER_BYTE)
}

/// The isolate-wide count of bytes charged to requests in flight.
#[derive(Debug)]
pub struct Admission {
    /// Milliseconds since any fixed point (the Worker's `Date.now()`).
    clock: fn() -> u64,
    state: Mutex<Charges>,
}

/// The charges held now, one per live [`Permit`].
#[derive(Debug)]
struct Charges {
    live: Vec<Charge>,
    next_id: u64,
}

impl Charges {
    /// Bytes charged in all (a few requests in flight: summed when asked).
    fn in_use(&self) -> usize {
        self.live.iter().map(|l| l.bytes).sum()
    }

    /// The live charge of permit `id`, unless it was taken back.
    fn of(&mut self, id: u64) -> Option<&mut Charge> {
        self.live.iter_mut().find(|l| l.id == id)
    }
}

#[derive(Debug)]
struct Charge {
    id: u64,
    bytes: usize,
    since_ms: u64,
}

impl Default for Admission {
    fn default() -> Self {
        Admission::new()
    }
}

/// The clock of [`Admission::new`]: stopped, so charges never expire.
fn stopped() -> u64 {
    0
}

impl Admission {
    /// An empty budget (usable in a `static`) whose charges never expire.
    pub const fn new() -> Self {
        Admission::with_clock(stopped)
    }

    /// An empty budget whose charges expire [`CHARGE_TTL_MS`] after they
    /// were made, by `clock` (milliseconds).
    pub const fn with_clock(clock: fn() -> u64) -> Self {
        Admission {
            clock,
            state: Mutex::new(Charges {
                live: Vec::new(),
                next_id: 0,
            }),
        }
    }

    fn charges(&self) -> std::sync::MutexGuard<'_, Charges> {
        // Nothing panics while holding it; a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes charged to requests in flight now.
    pub fn in_use(&self) -> usize {
        self.charges().in_use()
    }

    /// Admits a request charged [`FIXED_COST`] plus `bytes`, if it fits
    /// under `capacity`, after taking back the charges past their time. A
    /// request alone larger than the whole budget is admitted only when
    /// nothing else is in flight, so it never waits for ever (its own limits
    /// still bound it).
    pub fn admit(&self, bytes: usize, capacity: usize) -> Option<Permit<'_>> {
        let want = FIXED_COST.saturating_add(bytes);
        let now = (self.clock)();
        let mut c = self.charges();
        c.live
            .retain(|l| now.saturating_sub(l.since_ms) < CHARGE_TTL_MS);
        let in_use = c.in_use();
        let fits = in_use == 0 || in_use.checked_add(want).is_some_and(|t| t <= capacity);
        if !fits {
            return None;
        }
        let id = c.next_id;
        c.next_id += 1;
        c.live.push(Charge {
            id,
            bytes: want,
            since_ms: now,
        });
        Some(Permit {
            admission: self,
            id,
            charged: want,
            capacity,
        })
    }
}

/// A request's charge against an [`Admission`]; released on drop.
#[derive(Debug)]
pub struct Permit<'a> {
    admission: &'a Admission,
    id: u64,
    charged: usize,
    capacity: usize,
}

impl Permit<'_> {
    /// Raises the charge to at least `bytes` (plus [`FIXED_COST`]); false
    /// when that does not fit, or when the charge was taken back as expired
    /// (whatever `bytes` is: the request's work would be uncharged).
    /// A permit that holds the whole budget alone may grow past it.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        let want = FIXED_COST.saturating_add(bytes);
        let mut c = self.admission.charges();
        let in_use = c.in_use();
        // Taken back as expired: whatever it asks for is uncharged now.
        let Some(charge) = c.of(self.id) else {
            return false;
        };
        let Some(extra) = want.checked_sub(self.charged).filter(|e| *e > 0) else {
            return true;
        };
        let alone = in_use == self.charged;
        let capacity = if alone { usize::MAX } else { self.capacity };
        if in_use.checked_add(extra).is_none_or(|t| t > capacity) {
            return false;
        }
        charge.bytes = want;
        self.charged = want;
        true
    }

    /// Lowers the charge to `bytes` (plus [`FIXED_COST`]) when it holds
    /// more: what a request still holds once its peak is past (its files,
    /// while they upload).
    pub fn shrink_to(&mut self, bytes: usize) {
        let want = FIXED_COST.saturating_add(bytes);
        if want >= self.charged {
            return;
        }
        if let Some(charge) = self.admission.charges().of(self.id) {
            charge.bytes = want;
            self.charged = want;
        }
    }

    /// Bytes this permit holds.
    pub fn charged(&self) -> usize {
        self.charged
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let id = self.id;
        self.admission.charges().live.retain(|l| l.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn requests_are_admitted_while_they_fit_and_released_on_drop() {
        let a = Admission::new();
        let p1 = a.admit(cost(8 * MIB), 96 * MIB).unwrap();
        let p2 = a.admit(cost(8 * MIB), 96 * MIB).unwrap();
        assert_eq!(a.in_use(), 2 * (FIXED_COST + 32 * MIB));
        assert!(
            a.admit(cost(8 * MIB), 96 * MIB).is_none(),
            "a third does not fit"
        );
        drop(p1);
        let p3 = a.admit(cost(8 * MIB), 96 * MIB).unwrap();
        drop((p2, p3));
        assert_eq!(a.in_use(), 0);
    }

    #[test]
    fn permits_grow_while_the_budget_holds() {
        let a = Admission::new();
        let mut p = a.admit(0, 10 * MIB).unwrap();
        let other = a.admit(4 * MIB, 10 * MIB).unwrap();
        assert!(p.grow_to(2 * MIB));
        assert!(p.grow_to(MIB), "shrinking requests are no-ops");
        assert!(!p.grow_to(6 * MIB), "1 + 6 + 1 + 4 MiB is over 10");
        assert_eq!(a.in_use(), 2 * FIXED_COST + 6 * MIB);
        drop(other);
        assert!(p.grow_to(20 * MIB), "alone, a request may pass the budget");
        p.shrink_to(30 * MIB);
        assert_eq!(
            a.in_use(),
            FIXED_COST + 20 * MIB,
            "growing is not shrinking"
        );
        p.shrink_to(3 * MIB);
        assert_eq!(a.in_use(), FIXED_COST + 3 * MIB);
        drop(p);
        assert_eq!(a.in_use(), 0);
    }

    /// Milliseconds for [`expiring`]'s clock.
    static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn expiring() -> u64 {
        NOW.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A permit whose invocation was cancelled is never dropped: its charge
    /// is taken back once it is older than the longest invocation, and the
    /// permit, should it still run, grows no more and releases nothing twice.
    #[test]
    fn charges_never_released_expire() {
        let a = Admission::with_clock(expiring);
        NOW.store(1_000, std::sync::atomic::Ordering::Relaxed);
        let leaked = a.admit(cost(10 * MIB), 96 * MIB).unwrap();
        std::mem::forget(a.admit(cost(10 * MIB), 96 * MIB).unwrap());
        let mut late = a.admit(0, 96 * MIB).unwrap();
        std::mem::forget(leaked);
        assert!(a.admit(cost(10 * MIB), 96 * MIB).is_none(), "full");
        NOW.store(
            1_000 + CHARGE_TTL_MS - 1,
            std::sync::atomic::Ordering::Relaxed,
        );
        assert!(a.admit(cost(10 * MIB), 96 * MIB).is_none(), "not yet");
        NOW.store(1_000 + CHARGE_TTL_MS, std::sync::atomic::Ordering::Relaxed);
        let fresh = a
            .admit(cost(10 * MIB), 96 * MIB)
            .expect("the old charges are back");
        assert_eq!(a.in_use(), fresh.charged(), "all three were taken back");
        assert!(!late.grow_to(MIB), "an expired permit is refused");
        assert!(!late.grow_to(0), "even what it held before");
        drop(late);
        assert_eq!(a.in_use(), fresh.charged(), "and releases nothing");
        drop(fresh);
        assert_eq!(a.in_use(), 0);
    }

    #[test]
    fn a_request_larger_than_the_budget_runs_alone() {
        let a = Admission::new();
        let big = a.admit(cost(64 * MIB), 96 * MIB).unwrap();
        assert!(a.admit(0, 96 * MIB).is_none());
        drop(big);
        let small = a.admit(0, 96 * MIB).unwrap();
        assert!(
            a.admit(cost(64 * MIB), 96 * MIB).is_none(),
            "not while another runs"
        );
        drop(small);
    }
}
