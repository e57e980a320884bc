//! The bodies of the fuzz targets, their input formats and their seeds.
//!
//! Each target is a plain function of the fuzzer's bytes that panics when an
//! invariant breaks: the libFuzzer binaries (`fuzz_targets/*.rs`) are one
//! line each, and `tests/fuzz_regressions.rs` includes this very file (with
//! `#[path]`) to replay saved crashes and to write the seed corpora, so a
//! crash replays through exactly the code that found it.
//!
//! Input formats (the first byte chooses, the rest is the body):
//! - `proto`, `json`: signal = `data[0] % 3` (logs, traces, metrics); the rest
//!   is an inflated body for that signal's decoder.
//! - `gzip`: cap = `u16::from_le_bytes(data[0..2])`; the rest is a gzip body.
//! - `process`: bits 0–1 signal (3 is metrics too), bit 2 OTLP/JSON, bit 3
//!   gzip, bits 4–5 one of [`LIMITS`], bit 6 microsecond timestamps; the rest
//!   is the body as received.
//!
//! It does not compare the decoders with prost (`tests/roundtrip.rs` does,
//! with proptest) and does not exercise the store or the HTTP edge.

use std::io::{Read, Write};
use std::path::Path;

use arrow_schema::TimeUnit;
use otlp2r2::pipeline;
use otlp2r2::{body, process, Encoding, Error, Limits, Options, Request, Signal, Table};

/// Small limits for the `proto`, `json` and `process` targets, so that one
/// input costs little memory and time and every limit is reachable.
pub const LIMITS: [Limits; 4] = [
    // Roomy: most valid inputs pass.
    Limits {
        max_body_bytes: 256 << 10,
        max_inflated_bytes: 512 << 10,
        max_decoded_bytes: 2 << 20,
        max_output_bytes: 8 << 20,
        max_objects: 16,
    },
    // Tight memory.
    Limits {
        max_body_bytes: 64 << 10,
        max_inflated_bytes: 64 << 10,
        max_decoded_bytes: 32 << 10,
        max_output_bytes: 256 << 10,
        max_objects: 4,
    },
    // One file only.
    Limits {
        max_body_bytes: 256 << 10,
        max_inflated_bytes: 256 << 10,
        max_decoded_bytes: 1 << 20,
        max_output_bytes: 4 << 20,
        max_objects: 1,
    },
    // Tiny bodies: the body and inflate caps bite first.
    Limits {
        max_body_bytes: 4 << 10,
        max_inflated_bytes: 2 << 10,
        max_decoded_bytes: 1 << 20,
        max_output_bytes: 4 << 20,
        max_objects: 16,
    },
];

const SIGNALS: [Signal; 3] = [Signal::Logs, Signal::Traces, Signal::Metrics];

/// `proto`: the protobuf decoder of the signal `data[0] % 3` never panics,
/// and a body it accepts under a small budget it also accepts, unchanged,
/// under no budget (the budget only ever rejects).
pub fn proto(data: &[u8]) -> bool {
    decoder(data, Encoding::Protobuf)
}

/// `json`: the same as [`proto`] for the OTLP/JSON decoder.
pub fn json(data: &[u8]) -> bool {
    decoder(data, Encoding::Json)
}

fn decoder(data: &[u8], encoding: Encoding) -> bool {
    let Some((&first, body)) = data.split_first() else {
        return false;
    };
    let signal = SIGNALS[usize::from(first) % 3];
    let small = pipeline::decode(signal, encoding, body, &LIMITS[0]);
    match small {
        Ok(model) => {
            let free = pipeline::decode(signal, encoding, body, &Limits::UNLIMITED)
                .expect("accepted under a budget, rejected without one");
            assert_eq!(
                format!("{model:?}"),
                format!("{free:?}"),
                "the budget changed the decoded model"
            );
            true
        }
        Err(e) => {
            assert!(e.is_client_error(), "bad input is a server error: {e}");
            false
        }
    }
}

/// Whether a member of `gz`, in order, refers back past the start of its
/// own output (zlib's "invalid distance too far back"): flate2's
/// `miniz_oxide` backend inflates through a 32 KiB ring buffer and checks a
/// distance against the ring alone, so it reads such a stream (the bytes
/// before the start as zeros) where zlib and [`body::inflate`] refuse it.
/// `miniz_oxide` on a flat output buffer checks it. Headers as RFC 1952.
fn refers_past_its_start(gz: &[u8], cap: usize) -> bool {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    use miniz_oxide::inflate::TINFLStatus;
    let header_len = |m: &[u8]| -> Option<usize> {
        let (&[0x1f, 0x8b, 8, flags], rest) = m.split_first_chunk::<4>()? else {
            return None;
        };
        let mut i = 10;
        if flags & 4 != 0 {
            let x = m.get(i..i + 2)?;
            i += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
        }
        for bit in [8, 16] {
            if flags & bit != 0 {
                i += 1 + m.get(i..)?.iter().position(|&b| b == 0)?;
            }
        }
        if flags & 2 != 0 {
            i += 2;
        }
        (i <= 4 + rest.len()).then_some(i)
    };
    let mut rest = gz;
    while let Some(h) = header_len(rest) {
        let mut out = vec![0u8; cap + 1];
        let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, used, _) = decompress(
            &mut DecompressorOxide::new(),
            &rest[h..],
            &mut out,
            0,
            flags,
        );
        match status {
            TINFLStatus::Done => rest = rest.get(h + used + 8..).unwrap_or(&[]),
            TINFLStatus::Failed => return true,
            _ => return false,
        }
    }
    false
}

/// `gzip`: [`body::inflate`] and [`body::prepare`] under the cap
/// `u16::from_le_bytes(data[0..2])` never return more than the cap; what they
/// return is what flate2 inflates, and they refuse as too large only a
/// stream that flate2 inflates past the cap, or refuses as corrupt.
pub fn gzip(data: &[u8]) -> bool {
    if data.len() < 2 {
        return false;
    }
    let cap = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let gz = &data[2..];

    // flate2 alone, read to at most cap + 1 bytes: the reference.
    let mut reference = Vec::new();
    let read = flate2::read::MultiGzDecoder::new(gz)
        .take(cap as u64 + 1)
        .read_to_end(&mut reference);

    let accepted = match body::inflate(gz, cap) {
        Ok(out) => {
            assert!(out.len() <= cap, "{} bytes out, cap {cap}", out.len());
            assert!(read.is_ok(), "accepted a stream flate2 refuses");
            assert_eq!(out, reference, "inflated bytes differ from flate2's");
            true
        }
        Err(Error::InflatedTooLarge { limit }) => {
            assert_eq!(limit, cap);
            // A corrupt stream may pass the cap before its corruption shows:
            // too large or corrupt are then both right (flate2 drops the
            // bytes of the read that hit the error, so it cannot tell).
            assert!(
                reference.len() > cap || read.is_err(),
                "refused as too large, but flate2 inflates only {} bytes (cap {cap})",
                reference.len()
            );
            false
        }
        Err(Error::Gzip(_)) => {
            // Refused as corrupt: flate2 refuses it too, or was stopped at
            // the cap before it could see the corruption, or missed it (a
            // back-reference past the member's start).
            assert!(
                read.is_err() || reference.len() > cap || refers_past_its_start(gz, cap),
                "refused a stream flate2 inflates ({} bytes, cap {cap})",
                reference.len()
            );
            false
        }
        Err(e) => panic!("inflate returned an unexpected error: {e:?}"),
    };

    match body::prepare(gz, true, gz.len(), cap) {
        Ok(out) => assert!(
            out.len() <= cap,
            "prepare: {} bytes out, cap {cap}",
            out.len()
        ),
        Err(e) => assert!(matches!(e, Error::Gzip(_) | Error::InflatedTooLarge { .. })),
    }
    match body::prepare(gz, false, usize::MAX, cap) {
        Ok(out) => assert!(out.len() <= cap && *out == *gz),
        Err(e) => assert!(matches!(e, Error::BodyTooLarge { limit, .. } if limit == cap)),
    }
    accepted
}

/// The `process` target's leading byte, built from its parts.
pub fn process_selector(signal: Signal, encoding: Encoding, gzip: bool, limits: usize) -> u8 {
    let s = match signal {
        Signal::Logs => 0,
        Signal::Traces => 1,
        Signal::Metrics => 2,
    };
    s | (u8::from(encoding == Encoding::Json) << 2)
        | (u8::from(gzip) << 3)
        | ((limits as u8 & 3) << 4)
}

/// `process`: the whole pipeline on one request under small [`LIMITS`]
/// never panics and never calls bad input a server error; on success its
/// output is consistent (see the asserts) and the same bytes give the same
/// output.
pub fn process_target(data: &[u8]) -> bool {
    let Some((&sel, body)) = data.split_first() else {
        return false;
    };
    let signal = [
        Signal::Logs,
        Signal::Traces,
        Signal::Metrics,
        Signal::Metrics,
    ][usize::from(sel & 3)];
    let encoding = if sel & 4 != 0 {
        Encoding::Json
    } else {
        Encoding::Protobuf
    };
    let limits = LIMITS[usize::from(sel >> 4) & 3];
    let opts = Options {
        limits,
        timestamp_unit: if sel & 0x40 != 0 {
            TimeUnit::Microsecond
        } else {
            TimeUnit::Nanosecond
        },
    };
    let req = Request {
        signal,
        encoding,
        gzip: sel & 8 != 0,
        body,
    };
    let out = match process(&req, &opts) {
        Ok(out) => out,
        Err(e) => {
            assert!(e.is_client_error(), "bad input is a server error: {e:?}");
            return false;
        }
    };

    assert_eq!(out.bytes_in, body.len(), "bytes_in");
    assert!(
        out.objects.len() <= limits.max_objects,
        "more files than max_objects"
    );
    let rows: usize = out.objects.iter().map(|o| o.rows).sum();
    assert_eq!(out.records, rows, "records != the sum of the objects' rows");
    assert_eq!(
        out.rejected > 0,
        out.rejected_message.is_some(),
        "rejected items without a message, or a message without any"
    );
    if !out.objects.is_empty() {
        assert!(out.bytes_out() > 0, "objects but no bytes");
    }
    let mut keys = std::collections::HashSet::new();
    for o in &out.objects {
        assert!(o.rows > 0, "an empty file: {}", o.key);
        assert!(
            tables_of(signal).contains(&o.table),
            "{:?} from {signal:?}",
            o.table
        );
        let prefix = format!("{}/date=", o.table.name());
        assert!(
            o.key.starts_with(&prefix),
            "key {} not under {prefix}",
            o.key
        );
        assert!(o.key.ends_with(".parquet"), "key {}", o.key);
        assert!(keys.insert(o.key.as_str()), "two files named {}", o.key);
        assert_eq!(parquet_rows(&o.data), o.rows, "Parquet rows of {}", o.key);
    }

    // Same request, same output: retries overwrite rather than duplicate.
    let again = process(&req, &opts).expect("the same request failed the second time");
    assert_eq!(again.objects.len(), out.objects.len());
    for (a, b) in again.objects.iter().zip(&out.objects) {
        assert!(
            a.key == b.key && a.data == b.data,
            "{} is not deterministic",
            a.key
        );
    }
    true
}

/// The four targets by name, as `cargo fuzz run` names them.
pub const TARGETS: [&str; 4] = ["proto", "json", "gzip", "process"];

/// Runs the target named `target` (one of [`TARGETS`]) on `data`: true when
/// the input was accepted, a panic when an invariant broke.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "proto" => proto(data),
        "json" => json(data),
        "gzip" => gzip(data),
        "process" => process_target(data),
        _ => panic!("no fuzz target {target:?}"),
    }
}

fn tables_of(signal: Signal) -> &'static [Table] {
    match signal {
        Signal::Logs => &[Table::Logs],
        Signal::Traces => &[Table::Traces],
        Signal::Metrics => &Table::ALL[2..],
    }
}

/// Rows of a Parquet file, read back in full by the parquet crate's Arrow
/// reader (so every page our encoder wrote must decode).
fn parquet_rows(data: &[u8]) -> usize {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(data))
        .expect("an unreadable Parquet footer")
        .build()
        .expect("an unreadable Parquet file");
    reader
        .map(|b| b.expect("an unreadable Parquet batch").num_rows())
        .sum()
}

/// Requests larger than this are not made seeds: libFuzzer runs best on
/// small inputs, and the targets' limits refuse big ones anyway.
pub const SEED_MAX_BYTES: usize = 64 << 10;

/// One seed file: its target, its file name and its bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// The seeds one request gives the targets, named after `name`: the request
/// itself for `process` (gzip-compressed too when it is not), its inflated
/// body for `proto` or `json`, and its gzip body for `gzip`. None for a
/// request over [`SEED_MAX_BYTES`]. Deterministic: same request, same seeds.
pub fn seeds(
    name: &str,
    signal: Signal,
    encoding: Encoding,
    gzip: bool,
    request: &[u8],
) -> Vec<Seed> {
    if request.len() > SEED_MAX_BYTES {
        return Vec::new();
    }
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut put = |target: &'static str, suffix: &str, selector: &[u8], body: &[u8]| {
        let mut data = selector.to_vec();
        data.extend_from_slice(body);
        out.push((target, format!("{name}{suffix}"), data));
    };
    put(
        "process",
        "",
        &[process_selector(signal, encoding, gzip, 0)],
        request,
    );
    let plain = if gzip {
        body::inflate(request, usize::from(u16::MAX)).ok()
    } else {
        Some(request.to_vec())
    };
    let compressed = if gzip {
        request.to_vec()
    } else {
        let gz = gz(request);
        put(
            "process",
            "-gz",
            &[process_selector(signal, encoding, true, 0)],
            &gz,
        );
        gz
    };
    put("gzip", "", &u16::MAX.to_le_bytes(), &compressed);
    if let Some(plain) = plain {
        let target = match encoding {
            Encoding::Protobuf => "proto",
            Encoding::Json => "json",
        };
        let index = SIGNALS.iter().position(|s| *s == signal).unwrap_or(0) as u8;
        put(target, "", &[index], &plain);
    }
    out
}

/// Writes [`seeds`] into `dir/<target>/<name>`.
pub fn write_seeds(
    dir: &Path,
    name: &str,
    signal: Signal,
    encoding: Encoding,
    gzip: bool,
    request: &[u8],
) -> std::io::Result<()> {
    for (target, file, data) in seeds(name, signal, encoding, gzip, request) {
        let dir = dir.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(file), data)?;
    }
    Ok(())
}

/// `data` gzip-compressed (flate2, default level).
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}
