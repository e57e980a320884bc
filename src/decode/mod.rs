//! Decoding: request bytes (already inflated) → [`crate::model`].
//!
//! Two decoders, one per OTLP/HTTP encoding, produce the same model:
//! [`proto`] for `application/x-protobuf` and [`json`] for
//! `application/json`. Neither allocates for strings that can be borrowed.

pub mod json;
pub mod proto;

/// How deep `AnyValue` arrays and key-value lists may nest (a value inside
/// `MAX_DEPTH` containers is accepted, one more level is [`crate::Error::TooDeep`]).
/// This bounds stack use and output size; real telemetry rarely nests past 3.
pub const MAX_DEPTH: usize = 16;

use std::cell::Cell;

use crate::error::{Error, Result};

/// A memory budget for the decoded model, charged as elements are pushed.
///
/// Protobuf and JSON can both encode an element in a couple of bytes that
/// decodes to a struct of a hundred or more, so the body-size limits alone do
/// not bound memory; this does. Each push charges `size_of` the element.
///
/// A metered budget ([`Budget::metered`]) also tells a meter what the model
/// holds each time it grows by [`METER_STEP`], so that a memory budget wider
/// than the request (the Worker's isolate) learns of a model far larger than
/// its body while it is decoded, not once it is whole.
pub struct Budget<'m> {
    limit: usize,
    left: Cell<usize>,
    /// Below this many bytes left, the meter is told again.
    tell_at: Cell<usize>,
    /// Told the bytes used so far; its error stops the decoding.
    meter: Option<&'m dyn Fn(u64) -> Result<()>>,
}

/// How much a metered [`Budget`] grows between two calls of its meter.
pub const METER_STEP: usize = 1 << 20;

impl<'m> Budget<'m> {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Budget {
            limit,
            left: Cell::new(limit),
            tell_at: Cell::new(0),
            meter: None,
        }
    }

    /// A budget of `limit` bytes that tells `meter` the bytes it has
    /// charged each time they pass another [`METER_STEP`].
    pub fn metered(limit: usize, meter: &'m dyn Fn(u64) -> Result<()>) -> Self {
        Budget {
            limit,
            left: Cell::new(limit),
            tell_at: Cell::new(limit.saturating_sub(METER_STEP)),
            meter: Some(meter),
        }
    }

    /// Charges room for `n` values of `T`, or fails with
    /// [`Error::DecodedTooLarge`] (or the meter's error).
    #[inline]
    pub fn charge<T>(&self, n: usize) -> Result<()> {
        let cost = std::mem::size_of::<T>().saturating_mul(n);
        match self.left.get().checked_sub(cost) {
            Some(left) => {
                self.left.set(left);
                if left < self.tell_at.get() {
                    return self.tell(left);
                }
                Ok(())
            }
            None => Err(Error::DecodedTooLarge { limit: self.limit }),
        }
    }

    /// Tells the meter what is used, and when to tell it next.
    #[cold]
    fn tell(&self, left: usize) -> Result<()> {
        self.tell_at.set(left.saturating_sub(METER_STEP));
        match self.meter {
            Some(meter) => meter(self.used() as u64),
            None => Ok(()),
        }
    }

    /// The budget's limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes charged so far.
    pub fn used(&self) -> usize {
        self.limit - self.left.get()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A metered budget tells its meter each [`METER_STEP`] it grows by,
    /// and the meter's refusal stops the charging there.
    #[test]
    fn a_metered_budget_tells_its_meter_as_it_grows() {
        let told = RefCell::new(Vec::new());
        let meter = |used: u64| {
            told.borrow_mut().push(used);
            match used > 3 * METER_STEP as u64 {
                true => Err(Error::Busy { bytes: used }),
                false => Ok(()),
            }
        };
        let budget = Budget::metered(64 << 20, &meter);
        let mut charged = 0;
        let refused = loop {
            if let Err(e) = budget.charge::<[u8; 1000]>(1) {
                break e;
            }
            charged += 1000;
        };
        assert!(matches!(refused, Error::Busy { .. }), "{refused:?}");
        assert_eq!(charged + 1000, budget.used());
        let told = told.into_inner();
        // Told past each step (give or take the last charge), until refused.
        let step = METER_STEP as u64;
        assert_eq!(told.len(), 3, "{told:?}");
        assert!((step..step + 1000).contains(&told[0]), "{told:?}");
        for pair in told.windows(2) {
            assert!(
                (step..step + 1000).contains(&(pair[1] - pair[0])),
                "{told:?}"
            );
        }
        assert!(told[2] > 3 * step, "{told:?}");
        // Unmetered: nothing to tell, the limit alone.
        let plain = Budget::new(10 * METER_STEP);
        assert!(plain.charge::<u8>(9 * METER_STEP).is_ok());
        assert!(matches!(
            plain.charge::<u8>(2 * METER_STEP),
            Err(Error::DecodedTooLarge { .. })
        ));
    }
}
