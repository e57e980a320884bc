//! The HTTP edge's policy, kept pure so it is tested natively: routes, auth,
//! configuration from Worker vars, error → status mapping, and the OTLP/HTTP
//! response bodies (encoded like the request).
//!
//! `edge.rs` (wasm32 only) is the glue that feeds this from the `worker`
//! crate's request and turns [`Reply`]s into responses. Nothing here does I/O.

use prost::encoding::{encode_key, encode_varint, WireType};
use subtle::ConstantTimeEq;

use crate::body::Encoding;
use crate::error::Error;
use crate::pipeline::{Limits, Options, Output, Signal};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: health and version.
    Health,
    /// `POST /v1/{logs,traces,metrics}`.
    Export(Signal),
    /// A known path with the wrong method; carries the allowed method.
    MethodNotAllowed(&'static str),
    NotFound,
}

/// Routes a method and path.
pub fn route(method: &str, path: &str) -> Route {
    let signal = match path {
        "/v1/logs" => Some(Signal::Logs),
        "/v1/traces" => Some(Signal::Traces),
        "/v1/metrics" => Some(Signal::Metrics),
        _ => None,
    };
    match (signal, method) {
        (Some(s), "POST") => Route::Export(s),
        (Some(_), _) => Route::MethodNotAllowed("POST"),
        (None, "GET" | "HEAD") if path == "/" => Route::Health,
        (None, _) if path == "/" => Route::MethodNotAllowed("GET"),
        (None, _) => Route::NotFound,
    }
}

/// Checks an `Authorization` header against the configured token, in
/// constant time. No token configured means auth is off.
pub fn authorized(token: Option<&str>, authorization: Option<&str>) -> bool {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return true;
    };
    // The scheme name is case-insensitive (RFC 7235).
    let given = authorization.and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    let Some(given) = given else {
        return false;
    };
    bool::from(given.trim().as_bytes().ct_eq(token.as_bytes()))
}

/// Builds [`Options`] from Worker vars (`MAX_BODY_BYTES`,
/// `MAX_INFLATED_BYTES`, `MAX_DECODED_BYTES`, `MAX_OUTPUT_BYTES`,
/// `MAX_OBJECTS`, `TIMESTAMP_UNIT` = `ns`|`us`);
/// unset vars keep their defaults. A bad value is an error naming the var.
pub fn options_from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let size = |name: &str, default: usize| -> Result<usize, String> {
        match var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name}={v:?} is not a positive number")),
        }
    };
    let d = Limits::default();
    opts.limits = Limits {
        max_body_bytes: size("MAX_BODY_BYTES", d.max_body_bytes)?,
        max_inflated_bytes: size("MAX_INFLATED_BYTES", d.max_inflated_bytes)?,
        max_decoded_bytes: size("MAX_DECODED_BYTES", d.max_decoded_bytes)?,
        max_output_bytes: size("MAX_OUTPUT_BYTES", d.max_output_bytes)?,
        max_objects: size("MAX_OBJECTS", d.max_objects)?,
    };
    opts.timestamp_unit = match var("TIMESTAMP_UNIT").as_deref().map(str::trim) {
        None | Some("") | Some("ns") => arrow_schema::TimeUnit::Nanosecond,
        Some("us") => arrow_schema::TimeUnit::Microsecond,
        Some(other) => return Err(format!("TIMESTAMP_UNIT={other:?}: expected ns or us")),
    };
    Ok(opts)
}

/// An HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
    /// Value for an `Allow` header (405).
    pub allow: Option<&'static str>,
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
        Error::Arrow(_) | Error::Parquet(_) => 500,
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
        allow: None,
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
/// `partial_success` filled in when items were rejected.
pub fn success(signal: Signal, output: &Output, encoding: Encoding) -> Reply {
    let rejected = output.rejected as i64;
    let message = output.rejected_message.as_deref().unwrap_or("");
    let body = match encoding {
        Encoding::Protobuf => {
            let mut b = Vec::new();
            if rejected != 0 || !message.is_empty() {
                let mut inner = Vec::with_capacity(message.len() + 12);
                if rejected != 0 {
                    encode_key(1, WireType::Varint, &mut inner);
                    encode_varint(rejected as u64, &mut inner);
                }
                if !message.is_empty() {
                    encode_key(2, WireType::LengthDelimited, &mut inner);
                    encode_varint(message.len() as u64, &mut inner);
                    inner.extend_from_slice(message.as_bytes());
                }
                encode_key(1, WireType::LengthDelimited, &mut b);
                encode_varint(inner.len() as u64, &mut b);
                b.extend_from_slice(&inner);
            }
            b
        }
        Encoding::Json => {
            if rejected == 0 && message.is_empty() {
                b"{}".to_vec()
            } else {
                let field = match signal {
                    Signal::Logs => "rejectedLogRecords",
                    Signal::Traces => "rejectedSpans",
                    Signal::Metrics => "rejectedDataPoints",
                };
                let mut ps = serde_json::Map::new();
                ps.insert(field.into(), rejected.to_string().into());
                ps.insert("errorMessage".into(), message.into());
                serde_json::json!({ "partialSuccess": ps })
                    .to_string()
                    .into_bytes()
            }
        }
    };
    Reply {
        status: 200,
        content_type: encoding.content_type(),
        body,
        retry_after: None,
        allow: None,
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
        allow: None,
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
    fn routes() {
        assert_eq!(route("POST", "/v1/logs"), Route::Export(Signal::Logs));
        assert_eq!(route("POST", "/v1/metrics"), Route::Export(Signal::Metrics));
        assert_eq!(route("GET", "/v1/traces"), Route::MethodNotAllowed("POST"));
        assert_eq!(route("GET", "/"), Route::Health);
        assert_eq!(route("DELETE", "/"), Route::MethodNotAllowed("GET"));
        assert_eq!(route("POST", "/v1/profiles"), Route::NotFound);
    }

    #[test]
    fn auth_is_off_without_a_token_and_exact_with_one() {
        assert!(authorized(None, None));
        assert!(authorized(Some(""), None));
        assert!(authorized(Some("s3cret"), Some("Bearer s3cret")));
        assert!(authorized(Some("s3cret"), Some("bearer s3cret")));
        assert!(!authorized(Some("s3cret"), Some("Bearer s3cre")));
        assert!(!authorized(Some("s3cret"), Some("s3cret")));
        assert!(!authorized(Some("s3cret"), None));
    }

    #[test]
    fn vars_configure_limits_and_unit() {
        let vars = |k: &str| match k {
            "MAX_BODY_BYTES" => Some("1000".to_string()),
            "TIMESTAMP_UNIT" => Some("us".to_string()),
            _ => None,
        };
        let o = options_from_vars(vars).unwrap();
        assert_eq!(o.limits.max_body_bytes, 1000);
        assert_eq!(
            o.limits.max_inflated_bytes,
            Limits::default().max_inflated_bytes
        );
        assert_eq!(o.timestamp_unit, arrow_schema::TimeUnit::Microsecond);
        let bad = options_from_vars(|k| (k == "MAX_DECODED_BYTES").then(|| "lots".to_string()));
        assert!(bad.unwrap_err().contains("MAX_DECODED_BYTES"));
    }

    #[test]
    fn statuses() {
        assert_eq!(status_of(&Error::BodyTooLarge { size: 2, limit: 1 }), 413);
        assert_eq!(status_of(&Error::UnsupportedContentType("x".into())), 415);
        assert_eq!(status_of(&Error::Gzip("x".into())), 400);
        let r = storage_failed(Encoding::Json);
        assert_eq!((r.status, r.retry_after), (503, Some(RETRY_AFTER_SECONDS)));
    }
}
