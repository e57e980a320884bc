//! The malformed-input corpus: every kind of bad request yields its typed
//! error with a message saying what and where. Never a panic, never output.

mod common;

use common::fixtures;
use otlp2r2::{process, Encoding, Error, Limits, Options, Request, Signal};
use prost::Message;

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
        case("bad hex id", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"zz00000000000000"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid id \"zz00000000000000\""),
        case("odd hex id", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abc"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "32 hex digits"),
        case("bad base64", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"!!"}}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "invalid base64"),
        case("unknown enum name", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "unknown enum name \"LOUD\""),
        case("int out of range", Json, br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"flags":"99999999999"}]}]}]}"#.to_vec(), |e| matches!(e, Error::Json { .. }), "not a valid u32"),
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
