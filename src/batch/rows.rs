//! Rows of a table and their order: which request item each row reads, and
//! the sort that groups rows by hour, service and metric.
//!
//! A [`Row`] is a cheap tuple of indexes into the decoded request plus its
//! sort key; the table builders read the request through it. The hour a row
//! belongs to, and the clamping of its time, are [`crate::key`]'s rules,
//! used here so that the sort and the object names agree.
//!
//! Nothing here touches Arrow or allocates per row beyond the row list.

use super::Context;
use crate::key;
use crate::model::{Request, ResourceGroup, ScopeGroup};

/// A row of a table: indexes into the request plus its sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Resource group of the row.
    pub resource: u32,
    /// Scope group within the resource group.
    pub scope: u32,
    /// Item (log record, span or metric) within the scope group.
    pub item: u32,
    /// Data point within the metric (0 for logs and spans).
    pub point: u32,
    /// Rank of the row's service name among the request's service names.
    pub service: u32,
    /// Rank of the metric name among the request's metric names (0 for logs
    /// and spans).
    pub metric: u32,
    /// The row's timestamp in Unix nanoseconds, clamped by [`key::clamp`],
    /// which also picks its hour.
    pub time: u64,
}

impl Row {
    /// A row of `item` in `scope` of `resource`, at `time` (clamped here).
    #[inline]
    pub fn new(resource: usize, scope: usize, item: usize, service: u32, time: u64) -> Self {
        Row {
            resource: resource as u32,
            scope: scope as u32,
            item: item as u32,
            point: 0,
            service,
            metric: 0,
            time: key::clamp(time),
        }
    }

    /// The hour the row belongs to, counted from the Unix epoch.
    #[inline]
    pub fn hour(&self) -> u64 {
        key::hour_of(self.time)
    }

    fn sort_key(&self) -> (u64, u32, u32, u64) {
        (self.hour(), self.service, self.metric, self.time)
    }
}

/// Lists one row per item (log record or span) of `req`, in request order,
/// filed under `time(item)`.
pub fn item_rows<T>(req: &Request<'_, T>, ctx: &Context<'_>, time: impl Fn(&T) -> u64) -> Vec<Row> {
    let services = ctx.service_ranks();
    let n = req
        .iter()
        .flat_map(|g| &g.scopes)
        .map(|s| s.items.len())
        .sum();
    let mut rows = Vec::with_capacity(n);
    for (ri, g) in req.iter().enumerate() {
        for (si, s) in g.scopes.iter().enumerate() {
            for (ii, item) in s.items.iter().enumerate() {
                rows.push(Row::new(ri, si, ii, services[ri], time(item)));
            }
        }
    }
    rows
}

/// Sorts rows by (hour, service, metric, time) and returns the hour runs.
///
/// Already sorted input (the common case: one service, increasing time)
/// costs one linear check. The sort is stable, so equal keys keep request order.
pub fn sort_rows(rows: &mut [Row]) -> Vec<std::ops::Range<usize>> {
    if !rows.windows(2).all(|w| w[0].sort_key() <= w[1].sort_key()) {
        rows.sort_by_key(Row::sort_key);
    }
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].hour() != rows[start].hour() {
            runs.push(start..i);
            start = i;
        }
    }
    runs
}

/// Ranks of strings in sorted order: equal strings get equal ranks, and
/// `a < b` iff `rank(a) < rank(b)`. Used to sort rows by service and metric
/// name with integer compares.
pub fn ranks(names: &[&str]) -> Vec<u32> {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    names
        .iter()
        .map(|n| sorted.binary_search(n).unwrap_or(0) as u32)
        .collect()
}

/// What a row of a table of items (log records, spans) is read from: the
/// item with its scope and resource group, and the request's shared values.
pub(crate) struct ItemRow<'x, T> {
    pub(crate) ctx: &'x Context<'x>,
    pub(crate) row: &'x Row,
    pub(crate) group: &'x ResourceGroup<'x, T>,
    pub(crate) scope: &'x ScopeGroup<'x, T>,
    pub(crate) item: &'x T,
}

/// The [`ItemRow`]s of `rows` (indexes into `req`), in their order.
pub(crate) fn item_rows_of<'x, T>(
    req: &'x Request<'x, T>,
    ctx: &'x Context<'x>,
    rows: &'x [Row],
) -> impl ExactSizeIterator<Item = ItemRow<'x, T>> + Clone {
    rows.iter().map(move |row| {
        let group = &req[row.resource as usize];
        let scope = &group.scopes[row.scope as usize];
        ItemRow {
            ctx,
            row,
            group,
            scope,
            item: &scope.items[row.item as usize],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::HOUR_NANOS;

    fn row(service: u32, time: u64) -> Row {
        Row::new(0, 0, 0, service, time)
    }

    #[test]
    fn rows_sort_by_hour_then_service_then_time() {
        let h = HOUR_NANOS;
        let mut rows = vec![
            row(1, h + 5),
            row(0, 2 * h),
            row(1, 3),
            row(0, h + 9),
            row(0, 4),
        ];
        let runs = sort_rows(&mut rows);
        let keys: Vec<(u32, u64)> = rows.iter().map(|r| (r.service, r.time)).collect();
        assert_eq!(
            keys,
            vec![(0, 4), (1, 3), (0, h + 9), (1, h + 5), (0, 2 * h)]
        );
        assert_eq!(runs, vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn row_times_past_2262_are_clamped_into_the_last_hour() {
        let r = row(0, u64::MAX);
        assert_eq!(r.time, key::MAX_NANOS);
        assert_eq!(r.hour(), key::hour_of(key::MAX_NANOS));
    }

    #[test]
    fn ranks_follow_string_order() {
        assert_eq!(ranks(&["b", "a", "c", "a"]), vec![1, 0, 2, 0]);
    }
}
