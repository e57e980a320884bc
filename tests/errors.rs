//! The malformed-input corpus: every kind of bad request yields its typed
//! error with a message saying what and where (the position once), never
//! the payload. Never a panic, never output. Then the limits: each is shown
//! to stop the work it bounds, by what the refused call allocated (a
//! per-thread counting allocator) and by a broken tail it never reached.

mod common;

// The fuzz targets' seed writer (tests/fuzz/src/lib.rs), for `write_fuzz_seeds`.
#[path = "fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use common::fixtures;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;

use futures_executor::block_on;
use otlp2r2::http::admission::Admission;
use otlp2r2::http::{self, Config, Head};
use otlp2r2::pipeline::{decode, plan};
use otlp2r2::store::memory::Memory;
use otlp2r2::{process, Encoding, Error, Limits, Options, Request, Signal};
use prost::Message;

/// The system allocator, counting each thread's live bytes and their peak,
/// so that a test can tell how much one call allocated (the test harness
/// runs tests on several threads; each counts its own).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: nothing to count once the thread's locals are gone.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only adds bookkeeping in thread-locals that do not allocate
// (const-initialised `Cell`s without destructors).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller's contract for `realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most bytes it had allocated at
/// once, on this thread, beyond what was live before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - base).max(0) as usize)
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Wraps `record` (LogRecord bytes) in ScopeLogs and ResourceLogs.
fn log_body(record: &[u8]) -> Vec<u8> {
    let wrap = |tag: u8, inner: &[u8]| {
        let mut v = vec![tag];
        varint(inner.len(), &mut v);
        v.extend_from_slice(inner);
        v
    };
    wrap(0x0a, &wrap(0x12, &wrap(0x12, record)))
}

struct Case {
    name: &'static str,
    signal: Signal,
    encoding: Encoding,
    gzip: bool,
    body: Vec<u8>,
    limits: Limits,
    /// Checks the error variant.
    want: fn(&Error) -> bool,
    /// A substring the message must contain.
    says: &'static str,
}

fn case(
    name: &'static str,
    encoding: Encoding,
    body: Vec<u8>,
    want: fn(&Error) -> bool,
    says: &'static str,
) -> Case {
    Case {
        name,
        signal: Signal::Logs,
        encoding,
        gzip: false,
        body,
        limits: Limits::default(),
        want,
        says,
    }
}

fn corpus() -> Vec<Case> {
    use Encoding::{Json, Protobuf};
    let good = fixtures::logs(50, 1).encode_to_vec();
    let mut deep_json = String::from(r#"{"intValue":"1"}"#);
    for _ in 0..40 {
        deep_json =
            format!(r#"{{"kvlistValue":{{"values":[{{"key":"k","value":{deep_json}}}]}}}}"#);
    }
    let mut deep_pb: Vec<u8> = vec![0x18, 1]; // AnyValue{int_value: 1}
    for _ in 0..40 {
        let mut arr = vec![0x0a];
        varint(deep_pb.len(), &mut arr);
        arr.extend(&deep_pb);
        let mut any = vec![0x2a];
        varint(arr.len(), &mut any);
        any.extend(&arr);
        deep_pb = any;
    }
    let mut deep_record = vec![0x2a];
    varint(deep_pb.len(), &mut deep_record);
    deep_record.extend(&deep_pb);

    // A 4 KiB resource attribute shared by 2,000 tiny records: small on the
    // wire, 8 MB of columns once copied into every row.
    let mut wide = fixtures::logs(0, 0);
    wide.resource_logs
        .push(opentelemetry_proto::tonic::logs::v1::ResourceLogs {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: vec![fixtures::kv("blob", fixtures::s(&"x".repeat(4096)))],
                ..Default::default()
            }),
            scope_logs: vec![opentelemetry_proto::tonic::logs::v1::ScopeLogs {
                log_records: vec![Default::default(); 2000],
                ..Default::default()
            }],
            schema_url: String::new(),
        });
    let wide = wide.encode_to_vec();
    // A resource attribute holding an array of 200 KB of control bytes and
    // no record: 200 KB on the wire (a few hundred gzipped), 1.2 MB once
    // rendered as JSON (`\u0001` each), past a 1 MiB output limit before
    // any row exists.
    let mut escaped = fixtures::logs(0, 0);
    escaped
        .resource_logs
        .push(opentelemetry_proto::tonic::logs::v1::ResourceLogs {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: vec![fixtures::kv(
                    "blob",
                    opentelemetry_proto::tonic::common::v1::any_value::Value::ArrayValue(
                        opentelemetry_proto::tonic::common::v1::ArrayValue {
                            values: vec![opentelemetry_proto::tonic::common::v1::AnyValue {
                                value: Some(fixtures::s(&"\u{1}".repeat(200_000))),
                            }],
                        },
                    ),
                )],
                ..Default::default()
            }),
            scope_logs: vec![],
            schema_url: String::new(),
        });
    let escaped = escaped.encode_to_vec();
    // A 1 KiB resource attribute on 20,000 records: each 8,192-row chunk
    // plans ~9.7 MB, under a 16 MiB limit, but the request ~24 MB over it.
    let mut long = fixtures::logs(0, 0);
    long.resource_logs
        .push(opentelemetry_proto::tonic::logs::v1::ResourceLogs {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: vec![fixtures::kv("blob", fixtures::s(&"x".repeat(1024)))],
                ..Default::default()
            }),
            scope_logs: vec![opentelemetry_proto::tonic::logs::v1::ScopeLogs {
                log_records: vec![Default::default(); 20_000],
                ..Default::default()
            }],
            schema_url: String::new(),
        });
    let long = long.encode_to_vec();
    // Three records in three different hours.
    let mut hours = fixtures::logs(0, 0);
    hours
        .resource_logs
        .push(opentelemetry_proto::tonic::logs::v1::ResourceLogs {
            scope_logs: vec![opentelemetry_proto::tonic::logs::v1::ScopeLogs {
                log_records: (0..3u64)
                    .map(|h| opentelemetry_proto::tonic::logs::v1::LogRecord {
                        time_unix_nano: fixtures::T0 + h * 3_600_000_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        });
    let hours = hours.encode_to_vec();
    let many_buckets = format!(
        r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"histogram":{{"dataPoints":[{{"bucketCounts":[{}]}}]}}}}]}}]}}]}}"#,
        vec!["0"; 100_000].join(",")
    );

    vec![
        Case { limits: Limits { max_output_bytes: 1 << 20, ..Limits::default() }, ..case("shared values blow up the output", Protobuf, wide, |e| matches!(e, Error::OutputTooLarge { table: "otel_logs", .. }), "otel_logs rows") },
        Case { limits: Limits { max_output_bytes: 1 << 20, ..Limits::default() }, ..case("shared values are bounded before they are rendered", Protobuf, escaped, |e| matches!(e, Error::OutputTooLarge { table: "otel_logs", limit } if *limit == 1 << 20), "otel_logs rows") },
        Case { limits: Limits { max_output_bytes: 16 << 20, ..Limits::default() }, ..case("the output limit is per request, not per chunk", Protobuf, long, |e| matches!(e, Error::OutputTooLarge { table: "otel_logs", limit } if *limit == 16 << 20), "otel_logs rows") },
        Case { limits: Limits { max_objects: 2, ..Limits::default() }, ..case("too many hours", Protobuf, hours, |e| matches!(e, Error::TooManyObjects { count: 3, limit: 2 }), "3 files") },
        Case { signal: Signal::Metrics, limits: Limits { max_decoded_bytes: 400_000, ..Limits::default() }, ..case("JSON bucket counts are budgeted", Json, many_buckets.into_bytes(), |e| matches!(e, Error::DecodedTooLarge { .. }), "bytes of records") },
        case("truncated protobuf", Protobuf, good[..good.len() / 2].to_vec(), |e| matches!(e, Error::Protobuf { .. }), "runs past the end"),
        case("garbage protobuf", Protobuf, vec![0xff; 16], |e| matches!(e, Error::Protobuf { .. }), "at byte 0"),
        case("wrong wire type", Protobuf, vec![0x08, 0x01], |e| matches!(e, Error::Protobuf { .. }), "wire type"),
        case("invalid UTF-8", Protobuf, log_body(&[0x1a, 2, 0xc3, 0x28]), |e| matches!(e, Error::Protobuf { .. }), "invalid UTF-8 in LogRecord.severity_text"),
        case("short trace id", Protobuf, log_body(&[0x4a, 3, 1, 2, 3]), |e| matches!(e, Error::Protobuf { .. }), "LogRecord.trace_id must be 16 bytes, got 3"),
        case("bad fixed64", Protobuf, log_body(&[0x09, 1, 2]), |e| matches!(e, Error::Protobuf { .. }), "LogRecord.time_unix_nano is truncated"),
        case("unclosed group", Protobuf, vec![0x13], |e| matches!(e, Error::Protobuf { .. }), "group is not closed"),
        case("deep protobuf value", Protobuf, log_body(&deep_record), |e| matches!(e, Error::TooDeep { limit: 16, .. }), "deeper than 16"),
        case("invalid JSON", Json, b"{\"resourceLogs\": [".to_vec(), |e| matches!(e, Error::Json { .. }), "line 1"),
        case("not an object", Json, b"[1,2]".to_vec(), |e| matches!(e, Error::Json { .. }), "export request object"),
        case("wrong JSON type", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":true}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "integer (u64)"),
        case("bad hex id", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"zz00000000000000"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid 8-byte id: expected 16 hex digits or 12 base64"),
        case("odd hex id", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abc"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid 16-byte id: expected 32 hex digits"),
        case("bad base64 id", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"!!!!!!!!!!!!!!!!!!!!!!!!"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid 16-byte id"),
        case("bad base64", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"!!"}}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid base64"),
        case("unknown enum name", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "unknown enum name for SeverityNumber"),
        case("int out of range", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"flags":"99999999999"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "out of range for u32"),
        case("invalid UTF-8 in JSON", Json, b"{\"resourceLogs\":[{\"schemaUrl\":\"\xff\"}]}".to_vec(), |e| matches!(e, Error::Json { .. }), "line 1"),
        case("deep JSON value", Json, format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{deep_json}}}]}}]}}]}}"#).into_bytes(), |e| matches!(e, Error::TooDeep { .. }), "deeper than 16"),
        Case { gzip: true, ..case("not gzip", Protobuf, good.clone(), |e| matches!(e, Error::Gzip(_)), "not a gzip stream") },
        Case { gzip: true, ..case("truncated gzip", Protobuf, { let g = gz(&good); g[..g.len() - 10].to_vec() }, |e| matches!(e, Error::Gzip(_)), "invalid gzip") },
        Case { limits: Limits { max_body_bytes: 100, ..Limits::default() }, ..case("body too large", Protobuf, good.clone(), |e| matches!(e, Error::BodyTooLarge { limit: 100, .. }), "over the 100-byte limit") },
        Case { gzip: true, limits: Limits { max_inflated_bytes: 1 << 20, ..Limits::default() }, ..case("gzip bomb", Protobuf, gz(&vec![0u8; 32 << 20]), |e| matches!(e, Error::InflatedTooLarge { limit: 1048576 }), "inflates past") },
        Case { limits: Limits { max_inflated_bytes: 100, ..Limits::default() }, ..case("plain body past the inflated limit", Protobuf, good.clone(), |e| matches!(e, Error::BodyTooLarge { limit: 100, .. }), "over the 100-byte limit") },
        Case { limits: Limits { max_decoded_bytes: 10_000, ..Limits::default() }, ..case("decoded too large", Protobuf, good.clone(), |e| matches!(e, Error::DecodedTooLarge { limit: 10_000 }), "10000 bytes") },
        Case { signal: Signal::Traces, ..case("bad span parent id", Protobuf, { let mut b = vec![0x0a, 9, 0x12, 7, 0x12, 5, 0x22, 3, 1, 2, 3]; b.truncate(11); b }, |e| matches!(e, Error::Protobuf { .. }), "Span.parent_span_id must be 8 bytes") },
        Case { signal: Signal::Metrics, ..case("bad packed bounds", Protobuf, { let dp = [0x3a, 3, 1, 2, 3]; let mut h = vec![0x0a, dp.len() as u8]; h.extend(dp); let mut m = vec![0x4a, h.len() as u8]; m.extend(h); let mut sm = vec![0x12, m.len() as u8]; sm.extend(m); let mut rm = vec![0x12, sm.len() as u8]; rm.extend(sm); let mut b = vec![0x0a, rm.len() as u8]; b.extend(rm); b }, |e| matches!(e, Error::Protobuf { .. }), "not a multiple of 8") },
    ]
}

#[test]
fn every_malformed_request_gets_its_typed_error() {
    let mut failures = Vec::new();
    for c in corpus() {
        let opts = Options {
            limits: c.limits,
            ..Options::default()
        };
        let req = Request {
            signal: c.signal,
            encoding: c.encoding,
            gzip: c.gzip,
            body: &c.body,
        };
        match process(&req, &opts) {
            Ok(out) => failures.push(format!(
                "{}: accepted, {} objects",
                c.name,
                out.objects.len()
            )),
            Err(e) if !(c.want)(&e) => failures.push(format!("{}: wrong variant: {e:?}", c.name)),
            Err(e) if !e.to_string().contains(c.says) => failures.push(format!(
                "{}: message {:?} lacks {:?}",
                c.name,
                e.to_string(),
                c.says
            )),
            Err(e) if !e.is_client_error() => {
                failures.push(format!("{}: not a client error: {e}", c.name))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn content_negotiation_errors() {
    assert!(
        matches!(Encoding::from_content_type("text/csv"), Err(Error::UnsupportedContentType(ref t)) if t == "text/csv")
    );
    assert!(matches!(
        otlp2r2::body::is_gzip(Some("zstd")),
        Err(Error::UnsupportedContentEncoding(_))
    ));
}

/// Every JSON error message says its position once ("… at line L column C"),
/// not twice as when serde_json's own suffix was kept; the line and column
/// are those of the typed error.
#[test]
fn json_errors_say_their_position_once() {
    let mut seen = 0;
    for c in corpus()
        .into_iter()
        .filter(|c| c.encoding == Encoding::Json)
    {
        let req = Request {
            signal: c.signal,
            encoding: c.encoding,
            gzip: c.gzip,
            body: &c.body,
        };
        let opts = Options {
            limits: c.limits,
            ..Options::default()
        };
        let e = process(&req, &opts).unwrap_err();
        let msg = e.to_string();
        if let Error::Json { line, column, .. } = &e {
            assert!(
                msg.ends_with(&format!(" at line {line} column {column}")),
                "{}: {msg}",
                c.name
            );
            seen += 1;
        }
        assert!(msg.matches("line").count() <= 1, "{}: {msg}", c.name);
        assert!(msg.matches("column").count() <= 1, "{}: {msg}", c.name);
    }
    assert!(seen >= 8, "only {seen} JSON cases");
}

const MARKER: &str = "SECRET_MARKER_7f3a";
/// Short enough for an id field (hex and base64 ids are 11 to 32 long).
const SHORT: &str = "Zq9Xk";
/// For numeric places.
const NUMBER: &str = "31415926535";

/// Requests carrying the markers in wrong places: (name, signal, encoding,
/// gzip, body).
fn marked() -> Vec<(String, Signal, Encoding, bool, Vec<u8>)> {
    use Encoding::{Json, Protobuf};
    let m = MARKER;
    let n = NUMBER;
    let pad = |s: &str, len: usize, with: char| {
        let mut v = s.to_string();
        while v.len() < len {
            v.push(with);
        }
        v
    };
    let log = |record: &str| {
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{{record}}}]}}]}}]}}"#)
    };
    let span = |fields: &str| {
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{fields}}}]}}]}}]}}"#)
    };
    let metric = |fields: &str| {
        format!(r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{{fields}}}]}}]}}]}}"#)
    };
    let logs_json = vec![
        format!(r#""{m}""#),
        format!(r#"{{"resourceLogs":"{m}"}}"#),
        format!(r#"{{"resourceLogs":[{{"resource":"{m}"}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"resource":{{"attributes":"{m}"}}}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"schemaUrl":["{m}"]}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"schemaUrl":{n}}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"scope":{{"name":{{"{m}":"{m}"}}}}}}]}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"scopeLogs":"{m}"}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":"{m}"}}]}}]}}"#),
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":["{m}"]}}]}}]}}"#),
        log(&format!(r#""timeUnixNano":"{m}""#)),
        log(&format!(r#""timeUnixNano":{n}.5"#)),
        log(&format!(r#""timeUnixNano":-{n}"#)),
        log(&format!(
            r#""observedTimeUnixNano":true,"severityText":{n}"#
        )),
        log(&format!(r#""severityNumber":"{m}""#)),
        log(&format!(r#""severityNumber":{n}"#)),
        log(&format!(r#""severityText":{n}"#)),
        log(&format!(r#""flags":"{m}""#)),
        log(&format!(r#""flags":{n}"#)),
        log(&format!(r#""droppedAttributesCount":"{m}""#)),
        log(&format!(r#""eventName":["{m}"]"#)),
        log(&format!(r#""traceId":"{m}""#)),
        log(&format!(r#""traceId":"{}""#, pad(m, 32, '0'))),
        log(&format!(r#""traceId":"{}""#, pad(m, 24, 'A'))),
        log(&format!(r#""traceId":"{}""#, pad(m, 22, 'A'))),
        log(&format!(r#""spanId":"{}""#, pad(SHORT, 16, '0'))),
        log(&format!(r#""spanId":"{}!""#, pad(SHORT, 11, 'A'))),
        log(&format!(r#""spanId":"{}""#, pad(SHORT, 11, '_'))),
        log(&format!(r#""spanId":{n}"#)),
        log(&format!(r#""attributes":"{m}""#)),
        log(&format!(r#""attributes":[{{"key":"k","value":"{m}"}}]"#)),
        log(&format!(r#""attributes":[{{"key":["{m}"]}}]"#)),
        log(&format!(r#""body":"{m}""#)),
        log(&format!(r#""body":{{"stringValue":{n}}}"#)),
        log(&format!(r#""body":{{"boolValue":"{m}"}}"#)),
        log(&format!(r#""body":{{"intValue":"{m}"}}"#)),
        log(&format!(r#""body":{{"intValue":{n}.25}}"#)),
        log(&format!(r#""body":{{"intValue":"{n}{n}{n}"}}"#)),
        log(&format!(r#""body":{{"doubleValue":"{m}"}}"#)),
        log(r#""body":{"doubleValue":true}"#),
        log(&format!(r#""body":{{"bytesValue":"{m}!"}}"#)),
        log(&format!(r#""body":{{"bytesValue":{n}}}"#)),
        log(&format!(r#""body":{{"arrayValue":"{m}"}}"#)),
        log(&format!(r#""body":{{"arrayValue":{{"values":["{m}"]}}}}"#)),
        log(&format!(r#""body":{{"kvlistValue":{{"values":"{m}"}}}}"#)),
        log(&format!(r#""body":{{"kvlistValue":{{"values":[{n}]}}}}"#)),
        // Broken JSON right after a marker.
        log(&format!(r#""severityText":"{m}\q""#)),
        log(&format!(r#""severityText":"{m}"#)),
        log(&format!(r#""severityText":{m}"#)),
        log(&format!("\"severityText\":\"{m}\u{1}\"")),
        format!(r#"{{"{m}":1}} {m}"#),
        format!(r#"{{"{m}":{m}}}"#),
    ];
    let traces_json = vec![
        span(&format!(r#""kind":"{m}""#)),
        span(&format!(r#""kind":{n}"#)),
        span(&format!(r#""status":{{"code":"{m}"}}"#)),
        span(&format!(r#""status":{{"message":{n}}}"#)),
        span(&format!(r#""status":"{m}""#)),
        span(&format!(r#""parentSpanId":"{}""#, pad(SHORT, 12, '!'))),
        span(&format!(r#""startTimeUnixNano":"{m}""#)),
        span(&format!(r#""events":[{{"name":{{"a":"{m}"}}}}]"#)),
        span(&format!(r#""events":[{{"timeUnixNano":"{m}"}}]"#)),
        span(&format!(r#""links":[{{"traceId":"{m}"}}]"#)),
        span(&format!(
            r#""links":[{{"spanId":"{}"}}]"#,
            pad(SHORT, 16, 'x')
        )),
        span(&format!(r#""links":"{m}""#)),
        span(&format!(r#""traceState":["{m}"]"#)),
    ];
    let metrics_json = vec![
        metric(&format!(r#""name":{n}"#)),
        metric(&format!(r#""gauge":"{m}""#)),
        metric(&format!(
            r#""gauge":{{"dataPoints":[{{"asDouble":"{m}"}}]}}"#
        )),
        metric(&format!(r#""gauge":{{"dataPoints":[{{"asInt":"{m}"}}]}}"#)),
        metric(&format!(
            r#""gauge":{{"dataPoints":[{{"exemplars":[{{"spanId":"{}"}}]}}]}}"#,
            pad(SHORT, 16, 'q')
        )),
        metric(&format!(
            r#""gauge":{{"dataPoints":[{{"exemplars":[{{"traceId":"{}="}}]}}]}}"#,
            pad(SHORT, 23, '-')
        )),
        metric(&format!(r#""sum":{{"aggregationTemporality":"{m}"}}"#)),
        metric(&format!(r#""sum":{{"isMonotonic":"{m}"}}"#)),
        metric(&format!(
            r#""histogram":{{"dataPoints":[{{"bucketCounts":["{m}"]}}]}}"#
        )),
        metric(&format!(
            r#""histogram":{{"dataPoints":[{{"explicitBounds":"{m}"}}]}}"#
        )),
        metric(&format!(
            r#""histogram":{{"dataPoints":[{{"count":"{m}"}}]}}"#
        )),
        metric(&format!(
            r#""exponentialHistogram":{{"dataPoints":[{{"scale":"{m}"}}]}}"#
        )),
        metric(&format!(
            r#""exponentialHistogram":{{"dataPoints":[{{"positive":{{"offset":"{m}"}}}}]}}"#
        )),
        metric(&format!(
            r#""summary":{{"dataPoints":[{{"quantileValues":[{{"quantile":"{m}"}}]}}]}}"#
        )),
        metric(&format!(r#""summary":{{"dataPoints":[{{"sum":"{m}"}}]}}"#)),
    ];
    let mut out = Vec::new();
    for (signal, bodies) in [
        (Signal::Logs, logs_json),
        (Signal::Traces, traces_json),
        (Signal::Metrics, metrics_json),
    ] {
        for (i, b) in bodies.into_iter().enumerate() {
            out.push((
                format!("{} JSON {i}", signal.name()),
                signal,
                Json,
                false,
                b.into_bytes(),
            ));
        }
    }
    // Protobuf: the marker inside fields that fail (LogRecord fields).
    let mb = MARKER.as_bytes();
    let field = |tag: u8, payload: &[u8]| {
        let mut v = vec![tag];
        varint(payload.len(), &mut v);
        v.extend_from_slice(payload);
        v
    };
    let mut bad_utf8 = mb.to_vec();
    bad_utf8.push(0xff);
    let records: Vec<Vec<u8>> = vec![
        field(0x1a, &bad_utf8),                       // severity_text: invalid UTF-8
        field(0x4a, mb),                              // trace_id of 18 bytes
        field(0x52, &mb[..12]),                       // span_id of 12 bytes
        field(0x0a, mb),                              // time_unix_nano (fixed64) as bytes
        [field(0x1a, mb), vec![0x1a, 0x7f]].concat(), // a string running past the end
        [field(0x7a, mb), vec![0xff]].concat(),       // an unknown field, then garbage
        field(0x2a, &field(0x0a, &bad_utf8)),         // body string_value: invalid UTF-8
    ];
    for (i, r) in records.iter().enumerate() {
        out.push((
            format!("logs protobuf {i}"),
            Signal::Logs,
            Protobuf,
            false,
            log_body(r),
        ));
    }
    // Gzip: the marker as a body that is not gzip, and inside a corrupt stream.
    out.push((
        "gzip: not gzip".into(),
        Signal::Logs,
        Protobuf,
        true,
        mb.repeat(4),
    ));
    let mut corrupt = gz(&mb.repeat(100));
    let mid = corrupt.len() / 2;
    corrupt[10..mid].copy_from_slice(&mb.repeat(mid)[..mid - 10]);
    out.push((
        "gzip: corrupt".into(),
        Signal::Logs,
        Protobuf,
        true,
        corrupt,
    ));
    out
}

/// Payloads with a marker string (or a marker number) in many wrong places
/// — wrong JSON types, unknown enum names, bad hex and base64 ids, invalid
/// base64, broken JSON, bad protobuf fields, corrupt gzip — are all refused,
/// and neither the error message nor the handler's log line (nor the reply)
/// contains the marker; nothing is stored. With the marker as the bearer
/// token, a bad request's log line does not carry it either.
#[test]
fn no_error_or_log_line_carries_payload_text() {
    let markers = [MARKER, SHORT, NUMBER];
    let mut failures = Vec::new();
    let cases = marked();
    assert!(cases.len() > 80, "{}", cases.len());
    for (name, signal, encoding, gzip, body) in &cases {
        let req = Request {
            signal: *signal,
            encoding: *encoding,
            gzip: *gzip,
            body,
        };
        let msg = match process(&req, &Options::default()) {
            Ok(_) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Err(e) => e.to_string(),
        };
        let head = Head {
            method: "POST",
            path: match signal {
                Signal::Logs => "/v1/logs",
                Signal::Traces => "/v1/traces",
                Signal::Metrics => "/v1/metrics",
            },
            content_type: Some(encoding.content_type()),
            content_encoding: gzip.then_some("gzip"),
            authorization: Some("Bearer SECRET_MARKER_7f3a"),
            ..Head::default()
        };
        let config = Config {
            token: Some(MARKER.into()),
            ..Config::default()
        };
        let store = Memory::new();
        let (reply, log) = block_on(http::handle(
            &head,
            |_| futures_util::stream::iter([Ok::<_, Infallible>(body.clone())]),
            &store,
            &config,
            &Admission::new(),
        ));
        let line = log.to_json();
        let said = String::from_utf8_lossy(&reply.body).into_owned();
        for text in [&msg, &line, &said] {
            if let Some(found) = markers.iter().find(|m| text.contains(**m)) {
                failures.push(format!("{name}: {found:?} in {text}"));
            }
        }
        if !(400..500).contains(&reply.status) || log.error.is_none() {
            failures.push(format!(
                "{name}: status {} error {:?}",
                reply.status, log.error
            ));
        }
        if !store.keys().is_empty() {
            failures.push(format!("{name}: stored {:?}", store.keys()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A wrong token is not logged either.
    let head = Head {
        method: "POST",
        path: "/v1/logs",
        content_type: Some("application/json"),
        authorization: Some("Bearer SECRET_MARKER_7f3b"),
        ..Head::default()
    };
    let config = Config {
        token: Some(MARKER.into()),
        ..Config::default()
    };
    let (reply, log) = block_on(http::handle(
        &head,
        |_| futures_util::stream::iter([Ok::<_, Infallible>(b"{}".to_vec())]),
        &Memory::new(),
        &config,
        &Admission::new(),
    ));
    assert_eq!(reply.status, 401);
    assert!(
        !log.to_json().contains("SECRET_MARKER"),
        "{}",
        log.to_json()
    );
}

// ---- every limit stops the work it bounds ------------------------------------

/// The memory budget is charged what inflating a gzip body reserves before
/// it is reserved: first its size trailer (clamped), then each growth of the
/// buffer. A request the budget cannot hold is refused (503) before it has
/// allocated its inflated bytes, also when its trailer says less than it
/// holds (a last, empty member: the trailer of an honest multi-member body,
/// or a lie); with room, the same body is stored.
#[test]
fn the_memory_budget_comes_before_inflating() {
    use otlp2r2::http::admission::{cost, FIXED_COST};
    let logs = fixtures::logs(2000, 3).encode_to_vec();
    let honest = gz(&logs);
    let short = [gz(&logs), gz(b"")].concat();
    let head = Head {
        method: "POST",
        path: "/v1/logs",
        content_type: Some("application/x-protobuf"),
        content_encoding: Some("gzip"),
        ..Head::default()
    };
    let admission = Admission::new();
    let send = |body: &[u8], budget: usize| {
        let config = Config {
            inflight_bytes: budget,
            ..Config::default()
        };
        peak_of(|| {
            block_on(http::handle(
                &head,
                |_| futures_util::stream::iter([Ok::<_, Infallible>(body.to_vec())]),
                &Memory::new(),
                &config,
                &admission,
            ))
            .0
            .status
        })
    };
    for (body, room) in [(&honest, logs.len() / 4), (&short, logs.len() * 7 / 8)] {
        // Room for the compressed body, not for its inflation, beside
        // another request (alone, a request may pass the budget).
        let budget = 2 * FIXED_COST + cost(body.len() + logs.len() / 2);
        let other = admission.admit(0, budget).unwrap();
        let (status, peak) = send(body, budget);
        drop(other);
        assert_eq!(status, 503);
        // The body's own copy, and not the inflation: the honest body's
        // first reservation is refused; the short one grows its buffer,
        // doubling, until a growth is refused at half the inflation.
        assert!(
            peak < body.len() + room,
            "{peak} bytes allocated for a {}-byte body, a {}-byte inflation",
            body.len(),
            logs.len()
        );
        println!(
            "memory budget: a {}-byte gzip body refused after allocating {peak} bytes",
            body.len()
        );
        assert_eq!(send(body, Config::default().inflight_bytes).0, 200);
    }
}

/// The body limit is checked before inflating: an over-limit "gzip" body
/// that is not gzip at all is refused for its size, not as bad gzip (which
/// the inflater would have said), and the call allocates next to nothing.
#[test]
fn the_body_limit_comes_before_inflating() {
    let body = vec![b'x'; 101];
    let req = Request {
        signal: Signal::Logs,
        encoding: Encoding::Protobuf,
        gzip: true,
        body: &body,
    };
    let opts = Options {
        limits: Limits {
            max_body_bytes: 100,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (res, peak) = peak_of(|| process(&req, &opts).map(|_| ()));
    assert!(
        matches!(
            res,
            Err(Error::BodyTooLarge {
                size: 101,
                limit: 100
            })
        ),
        "{res:?}"
    );
    println!("body limit: refused after allocating {peak} bytes");
    assert!(peak < 1024, "allocated {peak} bytes");
}

/// The inflated limit stops the inflater: a 64 MiB bomb whose stream is
/// broken near its end is refused as too large with a 1 MiB limit (the
/// inflater never reached the break, which a full inflate reports as bad
/// gzip), and the refused call never held much more than the limit.
#[test]
fn the_inflated_limit_stops_inflating() {
    let mut bomb = gz(&vec![0u8; 64 << 20]);
    bomb.truncate(bomb.len() - 16);
    let run = |limit: usize| {
        let opts = Options {
            limits: Limits {
                max_inflated_bytes: limit,
                ..Limits::default()
            },
            ..Options::default()
        };
        let req = Request {
            signal: Signal::Logs,
            encoding: Encoding::Protobuf,
            gzip: true,
            body: &bomb,
        };
        peak_of(|| process(&req, &opts).map(|_| ()))
    };
    let (res, peak) = run(1 << 20);
    assert!(
        matches!(res, Err(Error::InflatedTooLarge { limit: 1048576 })),
        "{res:?}"
    );
    println!("inflated limit (1 MiB): refused after allocating {peak} bytes");
    assert!(peak < (1 << 20) + (256 << 10), "allocated {peak} bytes");
    let (res, _) = run(128 << 20);
    assert!(matches!(res, Err(Error::Gzip(_))), "{res:?}");
}

/// The decoded limit stops the decoders: 100,000 tiny records followed by
/// a broken tail are refused as too large (the decoder never reached the
/// tail, which an unlimited decode reports), in protobuf and in JSON, and
/// the refused decode held at most a small multiple of the limit.
#[test]
fn the_decoded_limit_stops_decoding() {
    let mut pb: Vec<u8> = Vec::new();
    for _ in 0..100_000 {
        pb.extend([0x12, 0x00]); // an empty LogRecord
    }
    pb.extend([0x12, 0x7f]); // a record running past the end
    let mut scope = vec![0x12];
    varint(pb.len(), &mut scope);
    scope.extend(&pb);
    let mut body_pb = vec![0x0a];
    varint(scope.len(), &mut body_pb);
    body_pb.extend(&scope);
    let records = vec!["{}"; 100_000].join(",");
    let body_json =
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{records},{{"x":]}}]}}]}}"#)
            .into_bytes();
    let limit = 200_000;
    for (encoding, body) in [(Encoding::Protobuf, &body_pb), (Encoding::Json, &body_json)] {
        let small = Limits {
            max_decoded_bytes: limit,
            ..Limits::default()
        };
        let (res, peak) = peak_of(|| decode(Signal::Logs, encoding, body, &small).map(|_| ()));
        assert!(
            matches!(res, Err(Error::DecodedTooLarge { limit: 200_000 })),
            "{encoding:?}: {res:?}"
        );
        println!("decoded limit ({limit}), {encoding:?}: refused after allocating {peak} bytes");
        assert!(peak <= 3 * limit, "{encoding:?}: allocated {peak} bytes");
        let res = decode(Signal::Logs, encoding, body, &Limits::UNLIMITED).map(|_| ());
        assert!(
            matches!(res, Err(Error::Protobuf { .. } | Error::Json { .. })),
            "{encoding:?}: {res:?}"
        );
    }
}

/// A request of 2,000 records sharing a 4 KiB resource attribute: about
/// 8 MB of columns, from a 4 KiB body.
fn wide_request() -> Vec<u8> {
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    let mut req = fixtures::logs(0, 0);
    req.resource_logs.push(ResourceLogs {
        resource: Some(Resource {
            attributes: vec![fixtures::kv("blob", fixtures::s(&"x".repeat(4096)))],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: vec![Default::default(); 2000],
            ..Default::default()
        }],
        schema_url: String::new(),
    });
    req.encode_to_vec()
}

/// The output limit is checked before building: with a 1 MiB limit the
/// first batch of the wide request is refused before any of its ~8 MB of
/// columns is allocated, while building it without the limit does allocate
/// them (so the counter does see the work when it happens).
#[test]
fn the_output_limit_comes_before_building() {
    let body = wide_request();
    let limits = Limits {
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    let model = decode(Signal::Logs, Encoding::Protobuf, &body, &limits).unwrap();
    let planned = plan(&model, &limits).unwrap();
    let file = &planned.files()[0];
    let unit = arrow_schema::TimeUnit::Nanosecond;
    let (first, peak) = peak_of(|| planned.batches(file, unit).next().map(|b| b.map(|_| ())));
    assert!(
        matches!(
            first,
            Some(Err(Error::OutputTooLarge {
                table: "otel_logs",
                ..
            }))
        ),
        "{first:?}"
    );
    println!("output limit (1 MiB): refused after allocating {peak} bytes");
    assert!(peak < 64 << 10, "allocated {peak} bytes before refusing");

    let planned = plan(&model, &Limits::UNLIMITED).unwrap();
    let file = &planned.files()[0];
    let (built, peak) = peak_of(|| planned.batches(file, unit).next().map(|b| b.map(|_| ())));
    assert!(matches!(built, Some(Ok(()))), "{built:?}");
    println!("output unlimited: building the batch allocated {peak} bytes");
    assert!(peak > 8_000_000, "building allocated only {peak} bytes");
}

/// The object limit is checked before building: a request over it is
/// refused by `plan`, the stage before any file is built, with little
/// allocated; one file fewer in the limit than needed is enough.
#[test]
fn the_object_limit_comes_before_building() {
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    let mut req = fixtures::logs(0, 0);
    req.resource_logs.push(ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: (0..3u64)
                .map(|h| LogRecord {
                    time_unix_nano: fixtures::T0 + h * 3_600_000_000_000,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    });
    let body = req.encode_to_vec();
    let limits = Limits {
        max_objects: 2,
        ..Limits::default()
    };
    let model = decode(Signal::Logs, Encoding::Protobuf, &body, &limits).unwrap();
    let (res, peak) = peak_of(|| plan(&model, &limits).map(|p| p.files().len()));
    assert!(
        matches!(res, Err(Error::TooManyObjects { count: 3, limit: 2 })),
        "{:?}",
        res.err()
    );
    println!("object limit: refused after allocating {peak} bytes");
    assert!(peak < 16 << 10, "allocated {peak} bytes");
    let three = Limits {
        max_objects: 3,
        ..limits
    };
    assert_eq!(plan(&model, &three).map(|p| p.files().len()).ok(), Some(3));
}

/// Writes this file's corpora (`corpus` and `marked`) as fuzz seeds into
/// `$OTLP2R2_FUZZ_SEEDS` (`make fuzz-seeds`; bodies over 64 KiB are
/// skipped), or into a scratch directory when it is unset. Guarantees the
/// corpora give `process` seeds. Ignored so that a plain `cargo test` writes
/// no files.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let (dir, scratch) = match std::env::var_os("OTLP2R2_FUZZ_SEEDS") {
        Some(dir) => (std::path::PathBuf::from(dir), false),
        None => (
            std::env::temp_dir().join(format!("otlp2r2-error-seeds-{}", std::process::id())),
            true,
        ),
    };
    for c in corpus() {
        let name = format!("error-{}", c.name);
        fuzz::write_seeds(&dir, &name, c.signal, c.encoding, c.gzip, &c.body).unwrap();
    }
    for (i, (name, signal, encoding, gzip, body)) in marked().into_iter().enumerate() {
        let name = format!("marked-{i:03}-{name}");
        fuzz::write_seeds(&dir, &name, signal, encoding, gzip, &body).unwrap();
    }
    let seeds = std::fs::read_dir(dir.join("process"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(seeds > 0, "the corpora gave no process seeds");
    if scratch {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The meter the Worker charges its memory budget with (`pipeline::Meter`)
/// is an upper bound of what the pipeline really allocates, for real
/// requests of 8,192 records (the Collector's batch) and for a small one
/// of an unusual shape, and not a loose one: within 2× of the heap's peak.
#[test]
fn the_meter_bounds_the_heap_peak() {
    let bodies = [
        (
            "logs",
            Signal::Logs,
            fixtures::logs(8192, 1).encode_to_vec(),
        ),
        (
            "traces",
            Signal::Traces,
            fixtures::traces(8192, 2).encode_to_vec(),
        ),
        (
            "metrics",
            Signal::Metrics,
            fixtures::metrics(8192, 3).encode_to_vec(),
        ),
        ("wide", Signal::Logs, wide_request()),
    ];
    for (name, signal, body) in bodies {
        let (out, peak, metered) = metered_run(signal, &body, usize::MAX);
        assert!(out.unwrap() > 0);
        println!(
            "{name}: body {} B, heap peak {peak} B ({:.2}x the body), metered {metered} B ({:.2}x the body, {:.2}x the peak)",
            body.len(),
            peak as f64 / body.len() as f64,
            metered as f64 / body.len() as f64,
            metered as f64 / peak as f64
        );
        assert!(
            metered >= peak,
            "{name}: metered {metered} B under the heap's peak {peak} B"
        );
        assert!(
            metered <= 2 * peak,
            "{name}: metered {metered} B over twice the heap's peak {peak} B"
        );
    }
}

/// A body of tiny records decodes to many times its size: the meter hears
/// of the model while it is decoded (each MiB it grows), so a request the
/// memory budget cannot hold is refused before its model is built, not
/// once it is whole. 100,000 empty log records, 200 kB of protobuf,
/// decode to over 10 MB; the budget refuses past 4 MB.
#[test]
fn the_meter_refuses_a_model_while_it_is_decoded() {
    // ExportLogsServiceRequest { resource_logs { scope_logs { log_records {} × n } } }
    let records = [0x12u8, 0x00].repeat(100_000);
    let field = |tag: u8, payload: &[u8]| {
        let mut out = vec![tag];
        prost::encoding::encode_varint(payload.len() as u64, &mut out);
        out.extend_from_slice(payload);
        out
    };
    let body = field(0x0a, &field(0x12, &records));
    let (out, peak, most) = metered_run(Signal::Logs, &body, 4 << 20);
    assert!(matches!(out, Err(Error::Busy { .. })), "{out:?}");
    println!("refused at a charge of {most} B, heap peak {peak} B");
    assert!(peak < 1 << 20, "the model was built: heap peak {peak} B");
    // Without a meter (natively), the same request is within its limits.
    let unmetered = otlp2r2::pipeline::process_inflated(
        Signal::Logs,
        Encoding::Protobuf,
        &body,
        body.len(),
        &Options::default(),
        None,
    );
    assert_eq!(unmetered.map(|o| o.records).ok(), Some(100_000));
}

/// `body` through `process_inflated` with a meter that admits charges of
/// up to `budget` bytes, as the Worker's memory budget does: the records
/// written (or the error), the heap's peak, and the largest charge asked.
fn metered_run(
    signal: Signal,
    body: &[u8],
    budget: usize,
) -> (otlp2r2::Result<usize>, usize, usize) {
    use otlp2r2::pipeline::{process_inflated, Meter};
    let most = Cell::new(0);
    let charge = |bytes: usize| {
        most.set(most.get().max(bytes));
        bytes <= budget
    };
    let meter = Meter {
        held: 0,
        charge: &charge,
    };
    let opts = Options::default();
    let (out, peak) = peak_of(|| {
        process_inflated(
            signal,
            Encoding::Protobuf,
            body,
            body.len(),
            &opts,
            Some(meter),
        )
        .map(|o| o.records)
    });
    (out, peak, most.get())
}

/// The traces table has no scope-attributes column (nor has the exporter's),
/// so a span's scope attributes are neither rendered nor counted against the
/// output limit: 2 MB of them pass a 1 MiB limit in a traces request, while
/// the same scope in a logs request, whose table writes them, is refused.
#[test]
fn scope_attributes_count_only_where_they_are_written() {
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    let scope = || {
        Some(InstrumentationScope {
            name: "big".into(),
            attributes: vec![fixtures::kv("blob", fixtures::s(&"x".repeat(2 << 20)))],
            ..Default::default()
        })
    };
    let mut traces = fixtures::traces(1, 1);
    traces.resource_spans[0].scope_spans[0].scope = scope();
    let mut logs = fixtures::logs(1, 1);
    logs.resource_logs[0].scope_logs[0].scope = scope();
    let limits = Limits {
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    let body = traces.encode_to_vec();
    let model = decode(Signal::Traces, Encoding::Protobuf, &body, &limits).unwrap();
    let planned = plan(&model, &limits).unwrap();
    let unit = arrow_schema::TimeUnit::Nanosecond;
    for file in planned.files() {
        for batch in planned.batches(file, unit) {
            batch.unwrap();
        }
    }
    let body = logs.encode_to_vec();
    let model = decode(Signal::Logs, Encoding::Protobuf, &body, &limits).unwrap();
    assert!(
        matches!(
            plan(&model, &limits).err(),
            Some(Error::OutputTooLarge {
                table: "otel_logs",
                ..
            })
        ),
        "the logs table writes its scope attributes: refused"
    );
}
