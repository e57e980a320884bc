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
pub struct Budget {
    limit: usize,
    left: Cell<usize>,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Budget {
            limit,
            left: Cell::new(limit),
        }
    }

    /// Charges room for `n` values of `T`, or fails with
    /// [`Error::DecodedTooLarge`].
    #[inline]
    pub fn charge<T>(&self, n: usize) -> Result<()> {
        let cost = std::mem::size_of::<T>().saturating_mul(n);
        match self.left.get().checked_sub(cost) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(Error::DecodedTooLarge { limit: self.limit }),
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
