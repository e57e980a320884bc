//! Which partitions to compact: the listing of the bucket grouped by table
//! and hour, and the eligibility rule.
//!
//! A partition (a table's files of one UTC hour) is eligible when its hour
//! closed more than the grace period ago and it holds two or more files
//! below [`Settings::small_bytes`] (80 % of the target size), or when it
//! needs the protocol's attention anyway: an unfinished intent to recover,
//! or a file whose key a tombstone lists (a late retry to delete). No I/O
//! here: the caller lists the store and passes each listed file to
//! [`Seen::add`] for its partition.

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

/// What planning keeps of a partition's listed files: how many are small,
/// and their keys while fewer than two are (a late retry among them makes
/// the partition eligible too; with two small files it is eligible
/// anyway). So planning holds a few keys per partition, not the listing: an
/// hour of a busy table may hold hundreds of thousands of files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Files below [`Settings::small_bytes`].
    pub small: usize,
    /// The files' keys, until two are small.
    pub keys: Vec<String>,
}

impl Seen {
    /// Counts one listed file of the partition.
    pub fn add(&mut self, file: &Meta, settings: &Settings) {
        if file.size < settings.small_bytes() {
            self.small += 1;
        }
        match self.enough() {
            true => self.keys = Vec::new(),
            false => self.keys.push(file.key.clone()),
        }
    }

    /// Two small files: eligible once its hour has closed, whatever else
    /// it holds (the rest of its listing can be skipped).
    pub fn enough(&self) -> bool {
        self.small >= 2
    }
}

/// Whether `partition`'s hour closed more than the grace period before
/// `now` (Unix seconds).
pub fn closed(partition: &Partition, now: u64, settings: &Settings) -> bool {
    partition.closes_at().saturating_add(settings.grace_secs) <= now
}

/// Whether a partition whose files planning has `seen` is worth a run at
/// `now` (Unix seconds): its hour closed more than the grace period ago,
/// and two or more files are small, or one of its files is a late retry (a
/// tombstone lists one of `seen.keys`: `retried`), or a crashed run left an
/// intent (`pending`).
pub fn eligible(
    partition: &Partition,
    seen: &Seen,
    now: u64,
    settings: &Settings,
    retried: bool,
    pending: bool,
) -> bool {
    if pending {
        return true;
    }
    if !closed(partition, now, settings) {
        return false;
    }
    seen.enough() || retried
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
    fn partitions_round_trip_their_ids() {
        let p = Partition {
            table: Table::Sum,
            hour: 470_000,
        };
        assert_eq!(Partition::from_id(&p.id()), Some(p));
        assert_eq!(Partition::from_id("otel_nope/3"), None);
    }

    fn seen(files: &[Meta], s: &Settings) -> Seen {
        let mut seen = Seen::default();
        files.iter().for_each(|m| seen.add(m, s));
        seen
    }

    /// Keys are kept only while they could decide: once two files are
    /// small, none.
    #[test]
    fn planning_keeps_keys_only_until_two_files_are_small() {
        let s = Settings::default();
        let (small, big) = (meta("a", 1), meta("b", s.small_bytes()));
        let one = seen(&[big.clone(), small.clone()], &s);
        assert_eq!((one.small, one.keys.len()), (1, 2));
        let three = seen(&[small.clone(), big, small.clone(), small], &s);
        assert_eq!((three.small, three.keys.len()), (3, 0));
        assert!(three.enough() && !one.enough());
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
        let two = seen(&[small("a"), small("b")], &s);
        assert!(eligible(&p, &two, closed, &s, false, false));
        assert!(
            !eligible(&p, &two, closed - 1, &s, false, false),
            "inside the grace"
        );
        let one = seen(&[small("a"), big("b")], &s);
        assert!(!eligible(&p, &one, closed, &s, false, false));
        assert!(eligible(&p, &one, closed, &s, true, false), "a late retry");
        assert!(
            !eligible(&p, &one, closed - 1, &s, true, false),
            "a late retry inside the grace"
        );
        let nothing = Seen::default();
        assert!(eligible(&p, &nothing, 0, &s, false, true), "a crashed run");
    }
}
