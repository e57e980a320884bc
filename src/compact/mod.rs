//! Compaction: each closed hour's small files of a table merged into large
//! files sorted by the table's key, exactly once, in bounded memory.
//!
//! | module | does |
//! |---|---|
//! | [`plan`] | partitions (table × UTC hour) and the eligibility rule (pure) |
//! | [`read`] | an input file's footer and one row group at a time, from byte ranges (pure) |
//! | [`merge`] | the streaming k-way merge of sorted inputs into sorted batches (pure) |
//! | [`protocol`] | leases, intents and tombstones: the records of exactly-once (pure) |
//! | `run` | the driver: [`find_eligible`] and [`run`], the only code here that talks to a [`crate::store::Store`] |
//! | `settings` | [`Settings`]: target size, row groups, grace, tombstone time |
//!
//! The Worker runs [`find_eligible`] on its Cron Trigger and sends one
//! queue message per partition; its queue consumer runs [`run`] per
//! message. The CLI's `compact` runs both in one process over the folder
//! store ([`compact_all`]).

pub mod merge;
pub mod plan;
pub mod protocol;
pub mod read;
mod run;
mod settings;

pub use plan::Partition;
pub use run::{find_eligible, lease_margin, run, run_metered, Report};
pub use settings::*;

use crate::error::{Error, Result};
use crate::store::Store;

/// Every partition eligible when it starts, compacted one after the other,
/// each run again while its bounds leave work ([`Report::more`]) (the CLI's
/// job; the Worker spreads the runs over queue messages instead). `clock`
/// gives the time in Unix seconds; each run reads it for its own lease.
/// `progress` hears of each run, or of the error that stopped a partition.
/// A partition that fails stops only itself, as one queue message does in
/// the Worker: the others are still compacted, and the first error is
/// returned at the end.
pub async fn compact_all<S: Store>(
    store: &S,
    clock: &dyn Fn() -> u64,
    settings: &Settings,
    owner: &str,
    mut progress: impl FnMut(&Partition, std::result::Result<&Report, &Error>),
) -> Result<Report> {
    let mut total = Report {
        leased: true,
        ..Report::default()
    };
    let mut failed = None;
    for p in find_eligible(store, clock(), settings).await? {
        loop {
            let r = match run(store, p, clock, settings, owner).await {
                Ok(r) => r,
                Err(e) => {
                    progress(&p, Err(&e));
                    failed.get_or_insert(e);
                    break;
                }
            };
            progress(&p, Ok(&r));
            total += &r;
            // `more` says the next run has progress to make (files merged
            // and others left, or an unreadable file recorded that it
            // leaves out).
            if !r.more {
                break;
            }
        }
    }
    total.more = false;
    match failed {
        Some(e) => Err(e),
        None => Ok(total),
    }
}
