//! The per-request context every table builder reads: each resource's
//! service name, each resource's and scope's attributes rendered once, and
//! the request-wide output budget.
//!
//! Built once per request, before any batch; it holds no Arrow arrays. The
//! output check here is the only limit the batch stage enforces, and it
//! counts the rendered shared values too: a value inside an array renders
//! as JSON, up to six times its bytes (`\u0001` for a control byte), so a
//! small request could otherwise render far more than it decoded.

use std::borrow::Cow;
use std::cell::Cell;

use super::render;
use super::size::AttrsSize;
use super::Row;
use crate::error::{Error, Result};
use crate::model::{AnyValue, KeyValue, Request, Resource, ResourceGroup};
use crate::pipeline::Meter;
use crate::schema::Table;

/// An attribute list rendered once (keys and text values back to back),
/// appended to many rows with two copies instead of a render per entry.
#[derive(Debug, Default)]
pub struct RenderedAttrs {
    pub(super) keys: Vec<u8>,
    pub(super) key_ends: Vec<u32>,
    pub(super) values: Vec<u8>,
    pub(super) value_ends: Vec<u32>,
}

impl RenderedAttrs {
    /// Renders `attrs` in key order ([`render::KeyOrder`]): keys as
    /// they are, values with [`render::text`], into buffers sized once from
    /// `size` (their [`AttrsSize::of`]).
    fn new(attrs: &[KeyValue<'_>], size: &AttrsSize) -> Self {
        let mut r = RenderedAttrs {
            keys: Vec::with_capacity(size.key_bytes as usize),
            key_ends: Vec::with_capacity(attrs.len()),
            values: Vec::with_capacity(size.value_bytes as usize),
            value_ends: Vec::with_capacity(attrs.len()),
        };
        let mut order = render::KeyOrder::default();
        let order = order.of(attrs);
        let nth = |i: usize| &attrs[order.map_or(i, |o| o[i] as usize)];
        for kv in (0..attrs.len()).map(nth) {
            r.keys.extend_from_slice(kv.key.as_bytes());
            r.key_ends.push(r.keys.len() as u32);
            render::text(&kv.value, &mut r.values);
            r.value_ends.push(r.values.len() as u32);
        }
        // The bound is up to six times the text (an array's escapes): what
        // it over-reserved goes back before the request's batches.
        if r.values.capacity() > r.values.len() + r.values.len() / 2 {
            r.values.shrink_to_fit();
        }
        r
    }

    /// The bytes its buffers hold, capacity included.
    fn held(&self) -> u64 {
        (self.keys.capacity()
            + self.values.capacity()
            + 4 * (self.key_ends.capacity() + self.value_ends.capacity())) as u64
    }

    /// Its exact size.
    pub fn size(&self) -> AttrsSize {
        AttrsSize {
            entries: self.key_ends.len() as u64,
            key_bytes: self.keys.len() as u64,
            value_bytes: self.values.len() as u64,
        }
    }
}

/// Per-request facts every table builder needs, computed once: each
/// resource's service name, and each resource's and scope's attributes
/// rendered once (they repeat on every row of that resource or scope).
pub struct Context<'r> {
    /// `ServiceName` of each resource group (see [`service_name`]).
    pub services: Vec<Cow<'r, str>>,
    /// The rendered attributes of each resource.
    pub resource_attrs: Vec<RenderedAttrs>,
    /// The rendered attributes of each scope, by resource then scope (none
    /// for a table without the column: see [`Context::limited`]).
    pub scope_attrs: Vec<Vec<RenderedAttrs>>,
    /// The Arrow memory all of the request's batches may plan for, together
    /// ([`crate::Limits::max_output_bytes`]); unlimited by default.
    pub max_output_bytes: u64,
    /// What the batches built so far planned.
    planned: Cell<u64>,
    /// The memory budget told of the plans, with the bytes the request
    /// took before them (its decoded model).
    meter: Option<(Meter<'r>, u64)>,
}

impl<'r> Context<'r> {
    /// Renders the shared values of `req`; no output limit.
    pub fn new<T>(req: &'r Request<'_, T>) -> Self {
        Self::render(req, u64::MAX, true)
    }

    /// Renders the shared values of `req` under the output limit `limit`
    /// ([`crate::Limits::max_output_bytes`]), which `table`'s error names.
    /// The scopes' attributes are rendered, bounded and counted only when
    /// the table writes them (`scope_attrs`; the traces table has no such
    /// column, as the exporter's).
    /// Their bound is checked before anything is rendered, and what they
    /// take counts against the limit, as the batches' plans do. With a
    /// `meter` (and the bytes the request took before), the bound and then
    /// every plan are also charged to it.
    pub fn limited<T>(
        req: &'r Request<'_, T>,
        table: &'static str,
        limit: usize,
        meter: Option<(Meter<'r>, u64)>,
        scope_attrs: bool,
    ) -> Result<Self> {
        let limit = limit as u64;
        let bound = req
            .iter()
            .flat_map(|g| {
                let scopes = g.scopes.iter().filter(|_| scope_attrs);
                std::iter::once(&g.resource.attributes).chain(scopes.map(|s| &s.scope.attributes))
            })
            .fold(0u64, |sum, attrs| {
                sum.saturating_add(rendered_bytes(&AttrsSize::of(attrs)))
            });
        if bound > limit {
            return Err(Error::OutputTooLarge {
                table,
                limit: limit as usize,
            });
        }
        if let Some((m, before)) = &meter {
            m.charge(before.saturating_add(bound))?;
        }
        let mut ctx = Self::render(req, limit, scope_attrs);
        ctx.meter = meter;
        let rendered = ctx
            .resource_attrs
            .iter()
            .chain(ctx.scope_attrs.iter().flatten())
            .map(RenderedAttrs::held)
            .sum();
        ctx.planned.set(rendered);
        Ok(ctx)
    }

    fn render<T>(req: &'r Request<'_, T>, max_output_bytes: u64, scope_attrs: bool) -> Self {
        let rendered = |attrs: &[KeyValue<'_>]| RenderedAttrs::new(attrs, &AttrsSize::of(attrs));
        let scopes = |g: &ResourceGroup<'_, T>| match scope_attrs {
            true => g
                .scopes
                .iter()
                .map(|s| rendered(&s.scope.attributes))
                .collect(),
            false => Vec::new(),
        };
        Context {
            services: req.iter().map(|g| service_name(&g.resource)).collect(),
            resource_attrs: req
                .iter()
                .map(|g| rendered(&g.resource.attributes))
                .collect(),
            scope_attrs: req.iter().map(scopes).collect(),
            max_output_bytes,
            planned: Cell::new(0),
            meter: None,
        }
    }

    /// Checks the sizing pass's plan for one batch before anything of it is
    /// allocated: `bytes` of strings and attributes plus a fixed allowance
    /// per row for fixed-width columns and offsets. Values shared by many
    /// rows (resource attributes, schema URLs…) are copied into every row, so
    /// a small request can plan a large output; this is where that stops.
    ///
    /// The limit applies to the sum over all of the request's batches (every
    /// file, every chunk), so it bounds the request's whole encoding work as
    /// well as each batch's memory.
    pub fn check_output(&self, table: Table, rows: usize, bytes: u64) -> Result<()> {
        const PER_ROW: u64 = 160;
        let batch = bytes.saturating_add((rows as u64).saturating_mul(PER_ROW));
        let total = self.planned.get().saturating_add(batch);
        if total > self.max_output_bytes {
            return Err(Error::OutputTooLarge {
                table: table.name(),
                limit: self.max_output_bytes as usize,
            });
        }
        // Every plan is charged, although one chunk's columns are built at
        // a time: the files' encoded pages stay until the request ends.
        if let Some((m, before)) = &self.meter {
            m.charge(before.saturating_add(total))?;
        }
        self.planned.set(total);
        Ok(())
    }

    /// The service name of `row`.
    #[inline]
    pub fn service(&self, row: &Row) -> &str {
        &self.services[row.resource as usize]
    }

    /// The rendered resource attributes of `row`.
    #[inline]
    pub fn resource_attrs(&self, row: &Row) -> &RenderedAttrs {
        &self.resource_attrs[row.resource as usize]
    }

    /// The rendered scope attributes of `row`.
    #[inline]
    pub fn scope_attrs(&self, row: &Row) -> &RenderedAttrs {
        &self.scope_attrs[row.resource as usize][row.scope as usize]
    }

    /// Ranks of each resource's service name, for sorting.
    pub fn service_ranks(&self) -> Vec<u32> {
        let names: Vec<&str> = self.services.iter().map(|s| s.as_ref()).collect();
        super::ranks(&names)
    }
}

/// The bytes a rendered attribute list of `size` holds: keys, values and
/// the two `u32` ends of each entry.
fn rendered_bytes(size: &AttrsSize) -> u64 {
    size.key_bytes + size.value_bytes + size.entries * 8
}

/// `ServiceName`: the `service.name` resource attribute as text (the
/// exporter's `AsString()`), or "" when absent.
pub fn service_name<'r>(resource: &'r Resource<'_>) -> Cow<'r, str> {
    match resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
    {
        None => Cow::Borrowed(""),
        Some(KeyValue {
            value: AnyValue::Str(s),
            ..
        }) => Cow::Borrowed(s.as_ref()),
        Some(kv) => {
            let mut out = Vec::new();
            render::text(&kv.value, &mut out);
            Cow::Owned(String::from_utf8(out).unwrap_or_default())
        }
    }
}
