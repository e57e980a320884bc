//! The object plumbing of the OTLP/JSON decoder: the [`JsonObject`] trait a
//! model type implements to be read one field at a time, and the readers of
//! one such object ([`obj`]) or a list of values ([`list`], [`list_of`]),
//! charging the budget per element.
//!
//! It knows no OTLP message or field: those are in the sibling modules.

use super::lex::Parser;
use crate::error::Result;

/// A model type read from a JSON object, one field at a time.
pub(super) trait JsonObject<'a>: Default + Sized {
    const WHAT: &'static str;
    /// Reads the value of `key` into `self`; unknown keys must be skipped.
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()>;
}

/// Reads a `T` from a JSON object (`null` is `T::default()`), charging one
/// `T` against the budget first.
pub(super) fn obj<'a, T: JsonObject<'a>>(p: &mut Parser<'a, '_>) -> Result<T> {
    p.charge::<T>()?;
    let mut out = T::default();
    p.object(&format_args!("a {} object", T::WHAT), |p, key| {
        out.field(&key, p)
    })?;
    Ok(out)
}

/// Reads a JSON array of `T` objects (`null` is empty).
pub(super) fn list<'a, T: JsonObject<'a>>(p: &mut Parser<'a, '_>) -> Result<Vec<T>> {
    list_of(p, obj::<T>)
}

/// Reads a JSON array (`null` is empty), each element by `read`.
#[inline]
pub(super) fn list_of<'a, 'b, T>(
    p: &mut Parser<'a, 'b>,
    mut read: impl FnMut(&mut Parser<'a, 'b>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    p.array(&"an array", |p| {
        out.push(read(p)?);
        Ok(())
    })?;
    Ok(out)
}
