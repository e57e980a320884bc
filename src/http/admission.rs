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
//! whatever the outcome.

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// The memory charged for holding `bytes` of body: [`COST_PER_BYTE`] each.
pub fn cost(bytes: usize) -> usize {
    bytes.saturating_mul(COST_PER_BYTE)
}

/// The isolate-wide count of bytes charged to requests in flight.
#[derive(Debug, Default)]
pub struct Admission {
    in_use: AtomicUsize,
}

impl Admission {
    /// An empty budget (usable in a `static`).
    pub const fn new() -> Self {
        Admission {
            in_use: AtomicUsize::new(0),
        }
    }

    /// Bytes charged to requests in flight now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Charges `bytes` if they fit under `capacity`; false if they do not.
    fn charge(&self, bytes: usize, capacity: usize) -> bool {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= capacity)
            })
            .is_ok()
    }

    /// Admits a request charged [`FIXED_COST`] plus `bytes`, if it fits
    /// under `capacity`. A request alone larger than the whole budget is
    /// admitted only when nothing else is in flight, so it never waits for
    /// ever (its own limits still bound it).
    pub fn admit(&self, bytes: usize, capacity: usize) -> Option<Permit<'_>> {
        let want = FIXED_COST.saturating_add(bytes);
        // Under `want` as capacity, a charge fits only when nothing is in flight.
        let fits = self.charge(want, capacity) || self.charge(want, want);
        // Lazily: a permit made and dropped would release what it never held.
        fits.then(|| Permit {
            admission: self,
            charged: want,
            capacity,
        })
    }
}

/// A request's charge against an [`Admission`]; released on drop.
#[derive(Debug)]
pub struct Permit<'a> {
    admission: &'a Admission,
    charged: usize,
    capacity: usize,
}

impl Permit<'_> {
    /// Raises the charge to at least `bytes` (plus [`FIXED_COST`]); false
    /// when that does not fit. A permit that holds the whole budget alone
    /// may grow past it.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        let want = FIXED_COST.saturating_add(bytes);
        let Some(extra) = want.checked_sub(self.charged).filter(|e| *e > 0) else {
            return true;
        };
        let alone = self.admission.in_use() == self.charged;
        let capacity = if alone { usize::MAX } else { self.capacity };
        if self.admission.charge(extra, capacity) {
            self.charged = want;
            true
        } else {
            false
        }
    }

    /// Bytes this permit holds.
    pub fn charged(&self) -> usize {
        self.charged
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.admission
            .in_use
            .fetch_sub(self.charged, Ordering::AcqRel);
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
        drop(p);
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
