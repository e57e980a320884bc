//! Differential: an OTLP/JSON request with its trace and span ids in
//! base64 (padded and unpadded, standard alphabet) is stored byte for byte
//! as the same request with hex ids, for all three signals.

mod common;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use common::fixtures::{self, json};
use otlp2r2::{process, Encoding, Options, Request, Signal};
use serde_json::Value;

const ID_KEYS: [&str; 3] = ["traceId", "spanId", "parentSpanId"];

/// Rewrites every non-empty hex id under `v` into base64, alternating the
/// padded and the unpadded form; counts the rewrites per key.
fn to_base64(v: &mut Value, n: &mut [usize; 3]) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m.iter_mut() {
                if let (Some(i), Value::String(s)) = (ID_KEYS.iter().position(|x| x == k), &*inner)
                {
                    if !s.is_empty() {
                        let bytes: Vec<u8> = (0..s.len() / 2)
                            .map(|j| u8::from_str_radix(&s[2 * j..2 * j + 2], 16).unwrap())
                            .collect();
                        let b64 = if (n[0] + n[1] + n[2]).is_multiple_of(2) {
                            STANDARD.encode(&bytes)
                        } else {
                            STANDARD_NO_PAD.encode(&bytes)
                        };
                        *inner = Value::String(b64);
                        n[i] += 1;
                    }
                } else {
                    to_base64(inner, n);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| to_base64(x, n)),
        _ => {}
    }
}

/// The stored objects of a JSON body: (key without its request hash, table,
/// rows, bytes).
fn stored(signal: Signal, body: &[u8]) -> Vec<(String, String, usize, Vec<u8>)> {
    let req = Request {
        signal,
        encoding: Encoding::Json,
        gzip: false,
        body,
    };
    let out = process(&req, &Options::default()).unwrap();
    out.objects
        .into_iter()
        .map(|o| {
            // The key ends in a hash of the body, which differs by design.
            let stem = o.key.rsplit_once('-').unwrap().0.to_string();
            (stem, o.table.name().to_string(), o.rows, o.data)
        })
        .collect()
}

/// For each signal: the fixture request as OTLP/JSON with hex ids, and the
/// same with every id rewritten to base64, give byte-identical Parquet
/// files (same tables, hours, rows and bytes). Fails if a base64 id decodes
/// to other bytes than its hex twin, or is refused.
#[test]
fn base64_ids_store_exactly_as_hex_ids() {
    let st = json::Style::default();
    let bodies = [
        (Signal::Logs, json::logs(&fixtures::logs(300, 7), st)),
        (Signal::Traces, json::traces(&fixtures::traces(300, 7), st)),
        (
            Signal::Metrics,
            json::metrics(&fixtures::metrics(300, 7), st),
        ),
    ];
    for (signal, hex) in bodies {
        let mut v: Value = serde_json::from_str(&hex).unwrap();
        let mut n = [0; 3];
        to_base64(&mut v, &mut n);
        assert!(n[0] > 10 && n[1] > 10, "{signal:?}: ids rewritten {n:?}");
        if signal == Signal::Traces {
            assert!(n[2] > 10, "parent ids rewritten {n:?}");
        }
        let b64 = serde_json::to_string(&v).unwrap();
        assert_ne!(b64, hex);
        let (want, got) = (
            stored(signal, hex.as_bytes()),
            stored(signal, b64.as_bytes()),
        );
        assert!(!want.is_empty());
        assert_eq!(want.len(), got.len(), "{signal:?}");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!((&w.0, &w.1, w.2), (&g.0, &g.1, g.2), "{signal:?}");
            assert!(w.3 == g.3, "{signal:?} {}: the Parquet bytes differ", w.0);
        }
    }
}
