//! Sizing: what the sizing pass over one batch's rows adds up before any
//! builder is allocated.
//!
//! Counts are exact; string bytes are upper bounds (a rendered value is
//! bounded by [`super::render::text_bound`]). Fixed-width and id columns need
//! no plan beyond their row count. This module only counts: it allocates
//! nothing and does not check limits (see [`super::Context::check_output`]).

use super::context::RenderedAttrs;
use super::render;
use crate::model::KeyValue;

/// The size of one attribute list once rendered: entries and byte bounds.
#[derive(Debug, Default, Clone, Copy)]
pub struct AttrsSize {
    /// Key-value pairs.
    pub entries: u64,
    /// Bytes of the keys.
    pub key_bytes: u64,
    /// Upper bound of the bytes of the rendered values.
    pub value_bytes: u64,
}

impl AttrsSize {
    /// The size of `attrs`, values bounded by [`render::text_bound`].
    pub fn of(attrs: &[KeyValue<'_>]) -> Self {
        let mut s = AttrsSize {
            entries: attrs.len() as u64,
            ..Default::default()
        };
        for kv in attrs {
            s.key_bytes += kv.key.len() as u64;
            s.value_bytes += render::text_bound(&kv.value) as u64;
        }
        s
    }
}

/// Sizes for one `Map<Utf8, Utf8>` attributes column: rows, entries, bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct AttrsPlan {
    /// Rows (maps).
    pub rows: usize,
    /// Key-value pairs over all rows.
    pub entries: u64,
    /// Bytes of all keys.
    pub key_bytes: u64,
    /// Upper bound of the bytes of all values.
    pub value_bytes: u64,
}

impl AttrsPlan {
    /// Adds one row holding `attrs`.
    #[inline]
    pub fn add(&mut self, attrs: &[KeyValue<'_>]) {
        self.add_size(&AttrsSize::of(attrs));
    }

    /// Adds one row holding `attrs`, rendered beforehand.
    #[inline]
    pub fn add_rendered(&mut self, attrs: &RenderedAttrs) {
        self.add_size(&attrs.size());
    }

    /// Adds one row whose size is already known.
    #[inline]
    pub fn add_size(&mut self, s: &AttrsSize) {
        self.rows += 1;
        self.entries += s.entries;
        self.key_bytes += s.key_bytes;
        self.value_bytes += s.value_bytes;
    }

    /// Planned bytes: keys, values and their offsets.
    pub fn bytes(&self) -> u64 {
        self.key_bytes + self.value_bytes + self.entries * 8
    }
}

/// Sizes for a list column: rows are counted by the table, items here, with
/// the plan of whatever the items need (`()` for fixed-width items).
#[derive(Debug, Default, Clone, Copy)]
pub struct ListPlan<P> {
    /// Items over all rows.
    pub items: usize,
    /// The items' own plan.
    pub of: P,
}
