//! Mutated requests never panic: valid bodies of every signal, in both
//! encodings, plain and gzip, are bit-flipped, truncated, overwritten and
//! spliced with pieces of other valid bodies, then run through the whole
//! pipeline. A panic would kill the Worker isolate; every outcome must be a
//! result. Mutating valid requests (rather than feeding random bytes, which
//! stop at the first tag) reaches the decoders' deep paths, and
//! `mutations_reach_past_the_first_field` checks that they do.

mod common;

use common::fixtures;
use otlp2r2::{process, Encoding, Error, Options, Request, Signal};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// Small valid bodies: (signal, encoding, bytes).
fn seeds() -> Vec<(Signal, Encoding, Vec<u8>)> {
    fixtures::stages::requests(3)
}

/// One edit of a body; positions are taken modulo the body's length.
#[derive(Debug, Clone)]
enum Edit {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        value: u8,
    },
    Truncate {
        at: usize,
    },
    /// Copies `len` bytes from `from` of another seed over or into `to`.
    Splice {
        seed: usize,
        from: usize,
        len: usize,
        to: usize,
        insert: bool,
    },
    /// Repeats a run of the body in place (duplicate fields).
    Repeat {
        from: usize,
        len: usize,
    },
}

fn apply(body: &mut Vec<u8>, edit: &Edit, seeds: &[(Signal, Encoding, Vec<u8>)]) {
    let n = body.len().max(1);
    match *edit {
        Edit::Flip { at, bit } => {
            if let Some(b) = body.get_mut(at % n) {
                *b ^= 1 << (bit % 8);
            }
        }
        Edit::Set { at, value } => {
            if let Some(b) = body.get_mut(at % n) {
                *b = value;
            }
        }
        Edit::Truncate { at } => body.truncate(at % n),
        Edit::Splice {
            seed,
            from,
            len,
            to,
            insert,
        } => {
            let other = &seeds[seed % seeds.len()].2;
            let from = from % other.len().max(1);
            let piece = &other[from..(from + len).min(other.len())];
            let to = to % (body.len() + 1);
            if insert {
                body.splice(to..to, piece.iter().copied());
            } else {
                let end = (to + piece.len()).min(body.len());
                body.splice(to..end, piece.iter().copied());
            }
        }
        Edit::Repeat { from, len } => {
            let from = from % n;
            let piece: Vec<u8> = body[from.min(body.len())..(from + len).min(body.len())].to_vec();
            body.splice(from.min(body.len())..from.min(body.len()), piece);
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Edit::Set { at, value }),
        1 => any::<usize>().prop_map(|at| Edit::Truncate { at }),
        2 => (any::<usize>(), any::<usize>(), 1..64usize, any::<usize>(), any::<bool>())
            .prop_map(|(seed, from, len, to, insert)| Edit::Splice { seed, from, len, to, insert }),
        1 => (any::<usize>(), 1..64usize).prop_map(|(from, len)| Edit::Repeat { from, len }),
    ]
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Runs a mutated body: plain, gzipped after the edits, and (for the gzip
/// path) with the edits applied to the gzip bytes themselves.
fn run_mutated(
    seed: usize,
    edits: &[Edit],
    seeds: &[(Signal, Encoding, Vec<u8>)],
) -> Vec<Result<usize, Error>> {
    let (signal, encoding, body) = &seeds[seed % seeds.len()];
    let mut plain = body.clone();
    let mut zipped = gzip(body);
    for e in edits {
        apply(&mut plain, e, seeds);
        apply(&mut zipped, e, seeds);
    }
    let opts = Options::default();
    let go = |body: &[u8], gzip: bool| {
        let req = Request {
            signal: *signal,
            encoding: *encoding,
            gzip,
            body,
        };
        process(&req, &opts).map(|o| o.records)
    };
    vec![
        go(&plain, false),
        go(&gzip(&plain), true),
        go(&zipped, true),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any few edits of any valid body: a result, never a panic.
    #[test]
    fn mutated_requests_never_panic(seed in 0..6usize, edits in proptest::collection::vec(edit(), 1..4)) {
        let seeds = seeds();
        let _ = run_mutated(seed, &edits, &seeds);
    }
}

/// The mutations are not all stopped at the first byte: over a fixed sample,
/// some still decode, and many fail deep inside the body (a protobuf error
/// past byte 32, a JSON error past column 32), so the test above exercises
/// the decoders' inner paths.
#[test]
fn mutations_reach_past_the_first_field() {
    let seeds = seeds();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut ok, mut deep, mut total) = (0, 0, 0);
    for i in 0..600 {
        let edits = proptest::collection::vec(edit(), 1..3)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let plain = &run_mutated(i, &edits, &seeds)[0];
        total += 1;
        match plain {
            Ok(_) => ok += 1,
            Err(Error::Protobuf { at, .. }) if *at > 32 => deep += 1,
            Err(Error::Json { column, line, .. }) if *column > 32 || *line > 1 => deep += 1,
            Err(_) => {}
        }
    }
    assert!(
        ok * 10 > total,
        "only {ok} of {total} mutated bodies decoded"
    );
    assert!(
        deep * 5 > total,
        "only {deep} of {total} failed past the first field"
    );
}
