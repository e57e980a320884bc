//! Which partitions to compact: the listing of the bucket grouped by table
//! and hour, and the eligibility rule.
//!
//! A partition (a table's files of one UTC hour) is eligible when its hour
//! closed more than the grace period ago and it holds two or more files
//! below [`Settings::small_bytes`] (80 % of the target size), or when it
//! needs the protocol's attention anyway: an unfinished intent to recover,
//! or a file whose key a tombstone lists (a late retry to delete). No I/O
//! here: the caller lists the store and passes the keys in.

use std::collections::{BTreeMap, BTreeSet};

use super::Settings;
use crate::key;
use crate::schema::Table;
use crate::store::Meta;

/// One table's files of one UTC hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    /// The table.
    pub table: Table,
    /// The hour, counted from the Unix epoch (`key::hour_of`).
    pub hour: u64,
}

impl Partition {
    /// The folder of its files: `otel_<table>/date=…/hour=…/`.
    pub fn prefix(&self) -> String {
        key::partition_prefix(self.table, self.hour)
    }

    /// The compactor's name for it, used in its own keys and in queue
    /// messages: `<table>/<hour>`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.table.name(), self.hour)
    }

    /// Parses [`Partition::id`].
    pub fn from_id(id: &str) -> Option<Partition> {
        let (table, hour) = id.split_once('/')?;
        Some(Partition {
            table: Table::from_name(table)?,
            hour: hour.parse().ok()?,
        })
    }

    /// Unix seconds at which the hour closes.
    pub fn closes_at(&self) -> u64 {
        (self.hour + 1).saturating_mul(3600)
    }
}

/// The table files of every partition found in a listing, in key order.
pub fn group(files: impl IntoIterator<Item = Meta>) -> BTreeMap<Partition, Vec<Meta>> {
    let mut out: BTreeMap<Partition, Vec<Meta>> = BTreeMap::new();
    for m in files {
        if let Some((table, hour)) = key::parse_partition(&m.key) {
            out.entry(Partition { table, hour }).or_default().push(m);
        }
    }
    out
}

/// Whether a partition's `files` are worth a run at `now` (Unix seconds):
/// its hour closed more than the grace period ago, and two or more files
/// are small, or a file is a late retry (`tombstoned`), or a crashed run
/// left an intent (`pending`).
pub fn eligible(
    partition: &Partition,
    files: &[Meta],
    now: u64,
    settings: &Settings,
    tombstoned: &BTreeSet<String>,
    pending: bool,
) -> bool {
    if pending {
        return true;
    }
    if partition.closes_at().saturating_add(settings.grace_secs) > now {
        return false;
    }
    let small = files
        .iter()
        .filter(|m| m.size < settings.small_bytes())
        .count();
    small >= 2 || files.iter().any(|m| tombstoned.contains(&m.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, size: u64) -> Meta {
        Meta {
            key: key.to_string(),
            size,
            etag: String::new(),
        }
    }

    #[test]
    fn partitions_round_trip_their_ids_and_group_listings() {
        let p = Partition {
            table: Table::Sum,
            hour: 470_000,
        };
        assert_eq!(Partition::from_id(&p.id()), Some(p));
        assert_eq!(Partition::from_id("otel_nope/3"), None);
        let a = format!("{}a.parquet", p.prefix());
        let g = group([
            meta(&a, 1),
            meta("_compaction/x", 1),
            meta("otel_logs/bad", 1),
        ]);
        assert_eq!(g.len(), 1);
        assert_eq!(g[&p][0].key, a);
    }

    #[test]
    fn eligible_after_the_grace_with_two_small_files() {
        let s = Settings::default();
        let p = Partition {
            table: Table::Logs,
            hour: 10,
        };
        let closed = p.closes_at() + s.grace_secs;
        let small = |n: &str| meta(&format!("{}{n}", p.prefix()), 1000);
        let big = |n: &str| meta(&format!("{}{n}", p.prefix()), s.small_bytes());
        let none = BTreeSet::new();
        let two = [small("a"), small("b")];
        assert!(eligible(&p, &two, closed, &s, &none, false));
        assert!(
            !eligible(&p, &two, closed - 1, &s, &none, false),
            "inside the grace"
        );
        assert!(!eligible(
            &p,
            &[small("a"), big("b")],
            closed,
            &s,
            &none,
            false
        ));
        let late: BTreeSet<String> = [small("a").key].into();
        assert!(
            eligible(&p, &[small("a")], closed, &s, &late, false),
            "a late retry"
        );
        assert!(eligible(&p, &[], 0, &s, &none, true), "a crashed run");
    }
}
