//! The compaction protocol's records and where they live: leases, intents
//! and tombstones, all under `_compaction/` (outside the table prefixes, so
//! readers that glob `otel_*` never see them). JSON, so an operator can read
//! them. No I/O here: [`super::run`] reads and writes them through the store.
//!
//! | object | key | meaning |
//! |---|---|---|
//! | lease | `_compaction/lease/<table>/<hour>` | one compactor owns the partition until `expires` (create-only; an expired lease is taken over by compare-and-swap) |
//! | intent | `_compaction/intent/<table>/<hour>/<inputs-hash>.json` | a run in progress: its inputs (key, etag, size, rows), its outputs (key, multipart upload id) and its state |
//! | tombstone | `_compaction/done/<table>/<hour>/<done-at>-<inputs-hash>.json` | a finished run's input keys, kept [`super::Settings::tombstone_secs`]: a file that comes back under one of them is a late retry of rows already compacted |
//! | unreadable | `_compaction/unreadable/<table>/<hour>/<key-hash>.json` | a file of the partition whose pages did not decode (key, etag, reason): runs leave it out while it is there with that etag, and drop the record once it is gone or has another etag (a run of its hour sees to it) |

use serde::{Deserialize, Serialize};

use super::plan::Partition;

/// The prefix of every object of the protocol.
pub const ROOT: &str = "_compaction/";

/// The partition's lease key.
pub fn lease_key(p: &Partition) -> String {
    format!("{ROOT}lease/{}", p.id())
}

/// The prefix of the partition's intents.
pub fn intent_prefix(p: &Partition) -> String {
    format!("{ROOT}intent/{}/", p.id())
}

/// The key of the intent of a run over inputs hashing to `hash`.
pub fn intent_key(p: &Partition, hash: u128) -> String {
    format!("{}{hash:032x}.json", intent_prefix(p))
}

/// The prefix of every tombstone.
pub fn tombstone_root() -> String {
    format!("{ROOT}done/")
}

/// The prefix of the partition's tombstones.
pub fn tombstone_prefix(p: &Partition) -> String {
    format!("{ROOT}done/{}/", p.id())
}

/// The key of the tombstone of a run over inputs hashing to `hash`, done at
/// `done_at` (Unix seconds, zero-padded so keys sort by time).
pub fn tombstone_key(p: &Partition, done_at: u64, hash: u128) -> String {
    format!("{}{done_at:012}-{hash:032x}.json", tombstone_prefix(p))
}

/// The partition and finishing time of a tombstone key.
pub fn parse_tombstone(key: &str) -> Option<(Partition, u64)> {
    let rest = key.strip_prefix(ROOT)?.strip_prefix("done/")?;
    let (id, name) = rest.rsplit_once('/')?;
    let done_at = name.split('-').next()?.parse().ok()?;
    Some((Partition::from_id(id)?, done_at))
}

/// The prefix of the partition's unreadable-file records.
pub fn unreadable_prefix(p: &Partition) -> String {
    format!("{ROOT}unreadable/{}/", p.id())
}

/// The key of the record of `key`, a file of `p` that did not decode.
pub fn unreadable_key(p: &Partition, key: &str) -> String {
    format!("{}{:032x}.json", unreadable_prefix(p), hash_fields([key]))
}

/// The partition of an intent key.
pub fn parse_intent(key: &str) -> Option<Partition> {
    let rest = key.strip_prefix(ROOT)?.strip_prefix("intent/")?;
    Partition::from_id(rest.rsplit_once('/')?.0)
}

/// Who holds a partition, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder's name (random per run).
    pub owner: String,
    /// Unix seconds after which another compactor may take the lease.
    pub expires: u64,
}

/// How far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Outputs are being written; the inputs are the truth. Recovery aborts
    /// the uploads and deletes whatever outputs were completed.
    Writing,
    /// Every output is complete and verified; the outputs are the truth.
    /// Recovery writes the tombstone and deletes the inputs.
    Committed,
}

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Its key.
    pub key: String,
    /// Its etag when the run read it.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its rows, from its footer.
    pub rows: u64,
}

/// One output file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Its key (deterministic from the inputs).
    pub key: String,
    /// The multipart upload writing it, if it is written in parts.
    pub upload_id: Option<String>,
}

/// A run's record of what it does, written before its first output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The partition's id.
    pub partition: String,
    /// How far the run got.
    pub state: State,
    /// The inputs, in key order.
    pub inputs: Vec<Input>,
    /// The outputs started so far, in order.
    pub outputs: Vec<Output>,
    /// Set (state `writing`) when the run undid its merge after a failure
    /// before its commit. Written over its `writing` intent only if that
    /// is still the one it wrote, so a commit of the run that failed but
    /// may still land (a store does not say whether a failed write
    /// happened) can no longer match its etag. Kept for the next run, whose
    /// recovery, as for any `writing` intent, deletes the outputs again
    /// (any write of the failed run that landed after its error among
    /// them) before the partition is listed; then the intent goes. A field
    /// rather than a state, so that a build from before it (a rolled-back
    /// deploy) still reads the intent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rolled_back: bool,
}

impl Intent {
    /// Rows in all inputs: what the outputs must hold.
    pub fn rows(&self) -> u64 {
        self.inputs.iter().map(|i| i.rows).sum()
    }
}

/// A finished run's input keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Keys of the files the run merged and deleted.
    pub inputs: Vec<String>,
}

/// A file of the partition whose pages did not decode: runs leave it out
/// (named in their reports) while it is there with this etag, and delete
/// the record once it is gone or has another etag. (R2's etag is the
/// bytes' MD5: a retry that writes the same bytes again stays out.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    /// The file's key.
    pub key: String,
    /// Its etag when it failed.
    pub etag: String,
    /// What failed.
    pub reason: String,
}

/// The hash naming a set of keys (a folded tombstone).
pub fn keys_hash(keys: &[String]) -> u128 {
    hash_fields(keys.iter().map(String::as_str))
}

/// The hash naming a run: its inputs' keys and etags, in key order.
pub fn inputs_hash(inputs: &[Input]) -> u128 {
    hash_fields(
        inputs
            .iter()
            .flat_map(|i| [i.key.as_str(), i.etag.as_str()]),
    )
}

/// XXH3-128 of `fields`, each followed by a zero byte.
fn hash_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for f in fields {
        h.update(f.as_bytes());
        h.update(&[0]);
    }
    h.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Table;

    #[test]
    fn keys_parse_back_and_stay_outside_the_tables() {
        let p = Partition {
            table: Table::Traces,
            hour: 9,
        };
        let t = tombstone_key(&p, 1_700_000_000, 42);
        assert_eq!(parse_tombstone(&t), Some((p, 1_700_000_000)));
        assert_eq!(parse_intent(&intent_key(&p, 7)), Some(p));
        for k in [lease_key(&p), intent_key(&p, 7), t] {
            assert!(k.starts_with(ROOT) && !k.starts_with("otel_"));
            assert_eq!(crate::key::parse_partition(&k), None);
        }
    }

    #[test]
    fn intents_round_trip_as_json_and_hash_their_inputs() {
        let input = |k: &str, e: &str| Input {
            key: k.into(),
            etag: e.into(),
            size: 10,
            rows: 3,
        };
        let intent = Intent {
            partition: "otel_logs/1".into(),
            state: State::Writing,
            inputs: vec![input("a", "1"), input("b", "2")],
            outputs: vec![Output {
                key: "c".into(),
                upload_id: Some("u".into()),
            }],
            rolled_back: false,
        };
        let json = serde_json::to_string(&intent).unwrap();
        assert!(json.contains("\"writing\""));
        assert!(!json.contains("rolled_back"), "{json}");
        assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), intent);
        // Rolled back: still `writing`, so a build that knows nothing of the
        // mark (its fields unknown to it are ignored) recovers it the same.
        let rolled = Intent {
            rolled_back: true,
            ..intent.clone()
        };
        let json = serde_json::to_string(&rolled).unwrap();
        assert!(json.contains("\"writing\"") && json.contains("\"rolled_back\":true"));
        assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), rolled);
        assert_eq!(intent.rows(), 6);
        let other = [input("a", "1"), input("b", "3")];
        assert_ne!(
            inputs_hash(&intent.inputs),
            inputs_hash(&other),
            "etags count"
        );
    }
}
