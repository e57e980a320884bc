//! The visitor plumbing of the OTLP/JSON decoder: the per-decode context
//! ([`Ctx`]), the [`JsonObject`] trait a model type implements to be read
//! one field at a time, and the seeds that read an object ([`Obj`]) or a
//! list of them ([`List`]), charging the budget per element.
//!
//! It knows no OTLP message or field: those are in the sibling modules.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::quiet::any;
use super::scalar::Key;
use crate::decode::Budget;

/// Per-decode state shared by the visitors.
pub(super) struct Ctx<'b> {
    /// Set when an `AnyValue` nests past [`MAX_DEPTH`], so the serde error
    /// can be turned into [`Error::TooDeep`] without reading its text.
    pub(super) too_deep: Cell<bool>,
    /// Set when the budget ran out, likewise.
    pub(super) over_budget: Cell<bool>,
    pub(super) budget: &'b Budget,
}

impl Ctx<'_> {
    /// Charges one `T` against the budget, as a serde error when over.
    pub(super) fn charge<T, E: de::Error>(&self) -> Result<(), E> {
        self.budget.charge::<T>(1).map_err(|e| {
            self.over_budget.set(true);
            E::custom(e)
        })
    }
}

/// A model type read from a JSON object, one field at a time.
pub(super) trait JsonObject<'de>: Default + Sized {
    const WHAT: &'static str;
    /// Reads the value of `key` into `self`; unknown keys must be skipped.
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error>;
}

/// Reads a `T` from a JSON object (or `null`, which is `T::default()`).
pub(super) struct Obj<'c, T> {
    ctx: &'c Ctx<'c>,
    _t: PhantomData<T>,
}

/// The seed that reads one `T` object.
pub(super) fn obj<'c, T>(ctx: &'c Ctx<'c>) -> Obj<'c, T> {
    Obj {
        ctx,
        _t: PhantomData,
    }
}

impl<'de, T: JsonObject<'de>> DeserializeSeed<'de> for Obj<'_, T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.ctx.charge::<T, D::Error>()?;
        any(d, self)
    }
}

impl<'de, T: JsonObject<'de>> Visitor<'de> for Obj<'_, T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} object", T::WHAT)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            out.field(&key.0, &mut map, self.ctx)?;
        }
        Ok(out)
    }
}

/// Reads a JSON array of `T` objects (or `null`) into a `Vec`.
pub(super) struct List<S>(pub(super) S);

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for List<S> {
    type Value = Vec<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        any(d, self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for List<S> {
    type Value = Vec<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(self.0)? {
            out.push(v);
        }
        Ok(out)
    }
}

impl<T> Clone for Obj<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Obj<'_, T> {}

/// The value of the current key, as a list of `T` objects.
pub(super) fn list<'de, T: JsonObject<'de>, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<T>, A::Error> {
    map.next_value_seed(List(obj::<T>(ctx)))
}

/// Skips the value of the current key (an unknown field).
pub(super) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}
