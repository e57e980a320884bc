//! What the handler answers: the [`Reply`] type, the one mapping from
//! [`Error`] to HTTP status, and the OTLP/HTTP response bodies
//! (`google.rpc.Status` for failures, `Export*ServiceResponse` for success),
//! encoded like the request.

use prost::encoding::{encode_key, encode_varint, WireType};

use crate::body::Encoding;
use crate::error::Error;
use crate::pipeline::Output;

/// An HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` of `body`.
    pub content_type: &'static str,
    /// The encoded OTLP response or `google.rpc.Status`.
    pub body: Vec<u8>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
    /// One more header, name and value: `Allow` on a 405, `WWW-Authenticate`
    /// on a 401 (RFC 9110 §15.5.2, RFC 6750 §3).
    pub header: Option<(&'static str, &'static str)>,
}

/// Seconds an exporter should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// gRPC status codes used in `google.rpc.Status` bodies.
mod code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const NOT_FOUND: i32 = 5;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const UNIMPLEMENTED: i32 = 12;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

/// The HTTP status for a pipeline error: the one place statuses are decided.
pub fn status_of(err: &Error) -> u16 {
    match err {
        Error::BodyTooLarge { .. }
        | Error::InflatedTooLarge { .. }
        | Error::DecodedTooLarge { .. }
        | Error::OutputTooLarge { .. }
        | Error::TooManyObjects { .. } => 413,
        Error::UnsupportedContentType(_) | Error::UnsupportedContentEncoding(_) => 415,
        Error::Gzip(_) | Error::Protobuf { .. } | Error::Json { .. } | Error::TooDeep { .. } => 400,
        Error::Store { .. } | Error::Busy { .. } => 503,
        Error::Arrow(_) | Error::Parquet(_) | Error::Internal(_) => 500,
        Error::UnreadableInput { .. } | Error::BadRecord { .. } => 500,
    }
}

fn grpc_code(status: u16) -> i32 {
    match status {
        400 => code::INVALID_ARGUMENT,
        401 => code::UNAUTHENTICATED,
        404 => code::NOT_FOUND,
        405 | 415 => code::UNIMPLEMENTED,
        413 => code::RESOURCE_EXHAUSTED,
        503 => code::UNAVAILABLE,
        _ => code::INTERNAL,
    }
}

/// A failure reply with a `google.rpc.Status` body in `encoding`.
pub fn failure(status: u16, message: &str, encoding: Encoding) -> Reply {
    let code = grpc_code(status);
    let body = match encoding {
        Encoding::Protobuf => {
            let mut b = Vec::with_capacity(message.len() + 8);
            encode_key(1, WireType::Varint, &mut b);
            encode_varint(code as u64, &mut b);
            encode_key(2, WireType::LengthDelimited, &mut b);
            encode_varint(message.len() as u64, &mut b);
            b.extend_from_slice(message.as_bytes());
            b
        }
        Encoding::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    Reply {
        status,
        content_type: encoding.content_type(),
        body,
        retry_after: (status == 503).then_some(RETRY_AFTER_SECONDS),
        header: None,
    }
}

/// The reply for a pipeline error.
pub fn error_reply(err: &Error, encoding: Encoding) -> Reply {
    failure(status_of(err), &err.to_string(), encoding)
}

/// The reply when storing the objects failed: 503 with `Retry-After`, so
/// OTLP exporters retry (and the retry overwrites the same keys).
pub fn storage_failed(encoding: Encoding) -> Reply {
    failure(
        503,
        "storing the Parquet objects failed; retry later",
        encoding,
    )
}

/// The 200 reply: an `Export*ServiceResponse` in `encoding`, with
/// `partial_success` filled in when items were skipped.
///
/// The only items ever skipped are metrics without data points. The spec
/// counts `rejected_data_points` in data points, and such a metric holds
/// none: the count stays 0 (left out, its default) and `error_message`
/// says what was dropped, which is how the spec has a server warn while
/// accepting everything. (Counting each such metric as a rejected point
/// had exporters log points lost that never existed.)
pub fn success(output: &Output, encoding: Encoding) -> Reply {
    let message = output.rejected_message.as_deref().unwrap_or("");
    let body = match encoding {
        Encoding::Protobuf => {
            let mut b = Vec::new();
            if !message.is_empty() {
                let mut inner = Vec::with_capacity(message.len() + 6);
                encode_key(2, WireType::LengthDelimited, &mut inner);
                encode_varint(message.len() as u64, &mut inner);
                inner.extend_from_slice(message.as_bytes());
                encode_key(1, WireType::LengthDelimited, &mut b);
                encode_varint(inner.len() as u64, &mut b);
                b.extend_from_slice(&inner);
            }
            b
        }
        Encoding::Json if message.is_empty() => b"{}".to_vec(),
        Encoding::Json => serde_json::json!({ "partialSuccess": { "errorMessage": message } })
            .to_string()
            .into_bytes(),
    };
    Reply {
        status: 200,
        content_type: encoding.content_type(),
        body,
        retry_after: None,
        header: None,
    }
}

/// `GET /`: name, version and schema version as JSON.
pub fn health() -> Reply {
    let body = serde_json::json!({
        "name": "otlp2r2",
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": crate::schema::SCHEMA_VERSION,
        "status": "ok",
    });
    Reply {
        status: 200,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
        retry_after: None,
        header: None,
    }
}

/// The encoding to answer in before the content type is known to be valid:
/// the request's if it parses, else JSON.
pub fn reply_encoding(content_type: Option<&str>) -> Encoding {
    content_type
        .and_then(|ct| Encoding::from_content_type(ct).ok())
        .unwrap_or(Encoding::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(status_of(&Error::BodyTooLarge { size: 2, limit: 1 }), 413);
        assert_eq!(status_of(&Error::UnsupportedContentType("x".into())), 415);
        assert_eq!(status_of(&Error::Gzip("x".into())), 400);
        assert_eq!(status_of(&Error::Internal("x")), 500);
        let store = Error::Store {
            op: "put",
            key: "k".into(),
            reason: "down".into(),
        };
        assert_eq!(status_of(&store), 503);
        let r = storage_failed(Encoding::Json);
        assert_eq!((r.status, r.retry_after), (503, Some(RETRY_AFTER_SECONDS)));
    }

    /// Metrics without data points are a warning: no data point counted
    /// as rejected, the message in both encodings; nothing skipped, an
    /// empty response.
    #[test]
    fn skipped_metrics_are_a_warning_not_rejected_points() {
        use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
        use prost::Message;
        let mut output = Output::default();
        let r = success(&output, Encoding::Protobuf);
        assert!(r.status == 200 && r.body.is_empty());
        assert_eq!(success(&output, Encoding::Json).body, b"{}");
        output.rejected = 2;
        output.rejected_message = Some("2 metric(s) had no data points".into());
        let r = success(&output, Encoding::Protobuf);
        let ps = ExportMetricsServiceResponse::decode(r.body.as_slice())
            .unwrap()
            .partial_success
            .unwrap();
        assert_eq!(ps.rejected_data_points, 0);
        assert_eq!(ps.error_message, "2 metric(s) had no data points");
        let r = success(&output, Encoding::Json);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"partialSuccess": {"errorMessage": "2 metric(s) had no data points"}})
        );
    }
}
