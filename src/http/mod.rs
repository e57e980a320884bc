//! The request handler: one export request in, one reply out, with the
//! objects stored before any 2xx.
//!
//! [`handle`] holds the whole policy of the HTTP edge, in the order it is
//! applied: route → bearer token → configuration → content type and encoding
//! → declared `Content-Length` → admission (the isolate's memory budget,
//! [`admission`]) → the body, read under the size cap and the deadline
//! ([`with_deadline`]) and charged as it arrives → inflated and charged again → [`crate::pipeline`] → every object
//! put into the [`Store`] → the OTLP reply.
//! Each check that needs no body comes before the body is read. It is generic
//! over the store and the body stream, so the Worker (`edge.rs`, with R2) and
//! the native tests (with [`crate::store::memory::Memory`]) run the same code.
//!
//! No I/O of its own beyond the store and the body; no clock (the edge times
//! the request and fills [`LogLine::duration_ms`], and gives the body its
//! deadline as a timer future).

pub mod admission;
mod policy;
mod reply;

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};

pub use policy::{authorized, options_from_vars, route, Route};
pub use reply::{
    error_reply, failure, health, reply_encoding, status_of, storage_failed, success, Reply,
    RETRY_AFTER_SECONDS,
};

use crate::body::{self, Encoding};
use crate::error::Error;
use crate::pipeline::{self, Options, Signal};
use crate::store::Store;
use admission::{cost, Admission, Permit, DEFAULT_INFLIGHT_BYTES};

/// The request line and the headers the handler reads. Header values are as
/// received (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Head<'a> {
    /// The request method (`POST`, `GET`…).
    pub method: &'a str,
    /// The URL path, without the query.
    pub path: &'a str,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding`.
    pub content_encoding: Option<&'a str>,
    /// `Content-Length`, unparsed (a bad value counts as absent).
    pub content_length: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
}

/// The Worker's configuration, as read from its vars and secrets. A bad var
/// is kept as its message and answered 503 on each export request (after the
/// route and the token are checked), so the health route still answers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The bearer token exporters must send; `None` or empty: auth is off.
    pub token: Option<String>,
    /// The pipeline options, or what is wrong with the vars.
    pub options: Result<Options, String>,
    /// The isolate-wide memory budget of requests in flight
    /// (`MAX_INFLIGHT_BYTES`, default [`DEFAULT_INFLIGHT_BYTES`]).
    pub inflight_bytes: usize,
    /// Seconds a request's body may take to arrive once reading starts
    /// (`BODY_TIMEOUT_SECS`, default [`DEFAULT_BODY_TIMEOUT_SECS`], at most
    /// [`MAX_BODY_TIMEOUT_SECS`]); the edge turns it into a timer for
    /// [`with_deadline`].
    pub body_timeout_secs: u64,
}

/// Default of [`Config::body_timeout_secs`]: 30 s, the OpenTelemetry
/// Collector's export timeout (the SDKs give up after 10 s). A body still
/// arriving after that belongs to a client that has stopped waiting, while
/// its charge holds the isolate's memory budget.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
/// Largest [`Config::body_timeout_secs`]: 10 minutes, well inside the life
/// of a budget charge ([`admission::CHARGE_TTL_MS`], counted from
/// admission), so that a body cut off at its deadline still holds its
/// charge until then.
pub const MAX_BODY_TIMEOUT_SECS: u64 = 600;
const _: () = assert!(MAX_BODY_TIMEOUT_SECS * 1000 < admission::CHARGE_TTL_MS);

impl Config {
    /// Reads the configuration: `token` is `AUTH_TOKEN` (`Err` when it is
    /// bound but cannot be read as text), `var` looks up a Worker var by
    /// name. A token that cannot be read is a bad configuration, answered
    /// 503 on every export: it must not turn auth off.
    pub fn from_vars(
        token: std::result::Result<Option<String>, String>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Config {
        let inflight = crate::vars::positive(&var, "MAX_INFLIGHT_BYTES", DEFAULT_INFLIGHT_BYTES);
        let timeout = body_timeout_secs(&var);
        let (options, inflight_bytes, body_timeout_secs) =
            match (options_from_vars(var), inflight, timeout) {
                (Ok(o), Ok(n), Ok(t)) => (Ok(o), n, t),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    (Err(e), DEFAULT_INFLIGHT_BYTES, DEFAULT_BODY_TIMEOUT_SECS)
                }
            };
        let (token, options) = match token {
            Ok(token) => (token, options),
            Err(e) => (None, Err(e)),
        };
        Config {
            token,
            options,
            inflight_bytes,
            body_timeout_secs,
        }
    }
}

/// `BODY_TIMEOUT_SECS`: 1 to [`MAX_BODY_TIMEOUT_SECS`].
fn body_timeout_secs(var: impl Fn(&str) -> Option<String>) -> Result<u64, String> {
    const NAME: &str = "BODY_TIMEOUT_SECS";
    let secs = crate::vars::count(&var, NAME, DEFAULT_BODY_TIMEOUT_SECS, 1)?;
    if secs > MAX_BODY_TIMEOUT_SECS {
        return Err(format!("{NAME}={secs} is over {MAX_BODY_TIMEOUT_SECS}"));
    }
    Ok(secs)
}

impl Default for Config {
    /// No token, default options and budget.
    fn default() -> Self {
        Config {
            token: None,
            options: Ok(Options::default()),
            inflight_bytes: DEFAULT_INFLIGHT_BYTES,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
        }
    }
}

/// The fields of the one log line per request. Never a token or payload
/// text: `error` is the error's message, which quotes at most a short,
/// truncated excerpt of a header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogLine {
    /// `logs`, `traces` or `metrics`; empty for other routes.
    pub signal: &'static str,
    /// The HTTP status answered.
    pub status: u16,
    /// Rows written.
    pub records: usize,
    /// Items rejected (OTLP partial success).
    pub rejected: usize,
    /// Files written.
    pub objects: usize,
    /// Body bytes as received.
    pub bytes_in: usize,
    /// Parquet bytes written.
    pub bytes_out: usize,
    /// Filled by the edge, which has the clock.
    pub duration_ms: u64,
    /// The Worker's wasm linear memory after the request (it only grows, so
    /// this is the isolate's peak so far); filled by the edge, 0 natively.
    pub memory_bytes: usize,
    /// Why the request failed, when it did.
    pub error: Option<String>,
}

impl LogLine {
    /// The line as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "msg": "otlp2r2 request",
            "signal": self.signal,
            "status": self.status,
            "records": self.records,
            "rejected": self.rejected,
            "objects": self.objects,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "duration_ms": self.duration_ms,
            "memory_bytes": self.memory_bytes,
            "error": self.error,
        })
        .to_string()
    }
}

/// Handles one request: checks it, reads the body under the size cap,
/// converts it, puts every object into `store`, and answers. 2xx only when
/// every put succeeded; a failed put is 503 with `Retry-After`, and the
/// retry writes the same keys.
///
/// `body` opens the body stream; it is called only once every check that
/// needs no body has passed, so a request refused early leaves its body
/// untouched (the platform can then discard it). Its argument says whether
/// the body may be read whole ([`BodyRead`]).
pub async fn handle<S, F, B, E>(
    head: &Head<'_>,
    body: F,
    store: &S,
    config: &Config,
    admission: &Admission,
) -> (Reply, LogLine)
where
    S: Store,
    F: FnOnce(BodyRead) -> B,
    B: Stream<Item = Result<Vec<u8>, E>> + Unpin,
    E: Into<BodyFault>,
{
    let mut log = LogLine::default();
    let mut reply = respond(head, body, store, config, admission, &mut log).await;
    log.status = reply.status;
    // OTLP/HTTP: a protobuf reply goes under the name the request used.
    if reply.content_type == Encoding::Protobuf.content_type() {
        reply.content_type = Encoding::Protobuf.reply_content_type(head.content_type);
    }
    (reply, log)
}

async fn respond<S, F, B, E>(
    head: &Head<'_>,
    body: F,
    store: &S,
    config: &Config,
    admission: &Admission,
    log: &mut LogLine,
) -> Reply
where
    S: Store,
    F: FnOnce(BodyRead) -> B,
    B: Stream<Item = Result<Vec<u8>, E>> + Unpin,
    E: Into<BodyFault>,
{
    let reply_enc = reply_encoding(head.content_type);
    let signal: Signal = match route(head.method, head.path) {
        Route::Health => return health(),
        Route::NotFound => {
            let msg = "not found: POST /v1/logs, /v1/traces or /v1/metrics";
            return failure(404, msg, reply_enc);
        }
        Route::MethodNotAllowed(allow) => {
            let mut r = failure(405, &format!("method not allowed; use {allow}"), reply_enc);
            r.header = Some(("allow", allow));
            return r;
        }
        Route::Export(signal) => signal,
    };
    log.signal = signal.name();

    if !authorized(config.token.as_deref(), head.authorization) {
        let mut r = failure(401, "missing or invalid bearer token", reply_enc);
        r.header = Some(("www-authenticate", "Bearer"));
        return r;
    }
    let opts = match &config.options {
        Ok(o) => o,
        Err(e) => {
            // 503, not 500: OTLP exporters retry a 503 (and keep the data
            // while they do), so a deploy that fixes the setting loses
            // nothing; a 500 would make them drop it.
            log.error = Some(e.clone());
            let msg = format!("bad configuration: {e}; nothing was stored, retry later");
            return failure(503, &msg, reply_enc);
        }
    };

    // Every check that needs no body comes before reading it.
    let encoding = match Encoding::from_content_type(head.content_type.unwrap_or("")) {
        Ok(e) => e,
        Err(e) => return error_reply(&e, reply_enc),
    };
    let gzip = match body::is_gzip(head.content_encoding) {
        Ok(g) => g,
        Err(e) => return error_reply(&e, encoding),
    };
    // An uncompressed body is its own inflated size: refused at the smaller
    // limit before it is read, not after.
    let limit = match gzip {
        true => opts.limits.max_body_bytes,
        false => opts
            .limits
            .max_body_bytes
            .min(opts.limits.max_inflated_bytes),
    };
    let declared = head
        .content_length
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(size) = declared.filter(|s| *s > limit) {
        return error_reply(&Error::BodyTooLarge { size, limit }, encoding);
    }
    // Admitted on what the request declares; charged again as it arrives.
    let Some(mut permit) = admission.admit(cost(declared.unwrap_or(0)), config.inflight_bytes)
    else {
        return busy(log, admission, encoding);
    };
    let how = if declared.is_some() {
        BodyRead::Whole
    } else {
        BodyRead::Streamed
    };
    let bytes = match read_body(body(how), limit, declared, &mut permit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return failure(413, "request body is over the size limit", encoding)
        }
        Err(BodyError::Busy) => return busy(log, admission, encoding),
        // A body that does not arrive is the transport's failure, not the
        // data's: 503 with `Retry-After`, which OTLP exporters retry with
        // the data they kept (a 400 or 408 would make them drop it).
        Err(BodyError::Fault(BodyFault::Unreadable(e))) => {
            log.error = Some(format!("reading the body failed: {e}"));
            let msg = "the request body could not be read; nothing was stored, retry";
            return failure(503, msg, encoding);
        }
        Err(BodyError::Fault(BodyFault::Late { secs })) => {
            let msg = format!(
                "the request body did not arrive within {secs} s; nothing was stored, retry"
            );
            log.error = Some(msg.clone());
            return failure(503, &msg, encoding);
        }
    };
    log.bytes_in = bytes.len();

    let limits = &opts.limits;
    // A gzip body is charged each size its inflated buffer takes before it
    // takes it: a request the budget cannot hold is refused before that work.
    let output = body::prepare_charged(
        &bytes,
        gzip,
        limits.max_body_bytes,
        limits.max_inflated_bytes,
        &mut |capacity| permit.grow_to(cost(bytes.len() + capacity)),
    )
    .and_then(|inflated| {
        // A gzip body holds its compressed and inflated bytes at once.
        let held = if gzip {
            bytes.len() + inflated.len()
        } else {
            bytes.len()
        };
        if !permit.grow_to(cost(held)) {
            return Ok(None);
        }
        // The charge above fits real requests; the meter charges more when
        // what the pipeline plans passes it (an unusual shape).
        let permit = std::cell::RefCell::new(&mut permit);
        let charge = |bytes: usize| permit.borrow_mut().grow_to(bytes.max(cost(held)));
        let meter = pipeline::Meter {
            held,
            charge: &charge,
        };
        pipeline::process_inflated(signal, encoding, &inflated, bytes.len(), opts, Some(meter))
            .map(Some)
    });
    let output = match output {
        Ok(Some(o)) => o,
        Ok(None) | Err(Error::Busy { .. }) => return busy(log, admission, encoding),
        Err(e) => {
            log.error = Some(e.to_string());
            return error_reply(&e, encoding);
        }
    };
    drop(bytes);
    log.records = output.records;
    log.rejected = output.rejected;
    log.objects = output.objects.len();
    log.bytes_out = output.bytes_out();

    // The reply is decided now, so the objects can be moved into the puts
    // (no second copy of every file while they upload). Past its peak, the
    // request holds its files, and their copies on the JavaScript side while
    // the puts send them: its charge drops to that for the round trips.
    let reply = success(&output, encoding);
    permit.shrink_to(2 * log.bytes_out);
    let objects = output.objects.into_iter().map(|o| (o.key, o.data));
    if let Err(e) = crate::store::put_all(store, objects).await {
        log.error = Some(e.to_string());
        return storage_failed(encoding);
    }
    reply
}

/// The 503 of a request that does not fit the isolate's memory budget now.
fn busy(log: &mut LogLine, admission: &Admission, encoding: Encoding) -> Reply {
    log.error = Some(format!(
        "busy: {} bytes of the memory budget are in use",
        admission.in_use()
    ));
    failure(503, "too many requests in flight; retry later", encoding)
}

/// How the edge may read a body, decided by the handler before opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    /// The declared `Content-Length` is within the size limit, and the
    /// platform delivers no more than that: the body may come as one piece
    /// (one copy into memory, no chunk-by-chunk stream). The handler still
    /// checks the size of what arrives.
    Whole,
    /// No declared length: the body must be streamed, so that reading stops
    /// as soon as it passes the limit.
    Streamed,
}

enum BodyError {
    TooLarge,
    Busy,
    Fault(BodyFault),
}

/// Why a body stream failed: the platform's error, or the deadline.
/// Any displayable error is [`BodyFault::Unreadable`]; [`with_deadline`]
/// adds [`BodyFault::Late`]. (It is not `Display` itself, so that every
/// error that is converts to it.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyFault {
    /// The stream failed (the client went away, the platform refused).
    Unreadable(String),
    /// The body was still arriving `secs` seconds after reading began.
    Late {
        /// The deadline, in seconds.
        secs: u64,
    },
}

impl<E: Display> From<E> for BodyFault {
    fn from(e: E) -> Self {
        BodyFault::Unreadable(e.to_string())
    }
}

/// `body`, cut off with [`BodyFault::Late`] if `timer` fires before it
/// ends: a client that stays connected but sends slowly (or declares more
/// than it sends) holds its memory budget charge for `secs` at most, not
/// until the charge expires. The timer is polled only while the body is waiting and is
/// dropped with the stream, so a body that ends in time cancels it.
pub fn with_deadline<B, E, T>(body: B, timer: T, secs: u64) -> Deadline<B, T>
where
    B: Stream<Item = Result<Vec<u8>, E>> + Unpin,
    E: Into<BodyFault>,
    T: Future<Output = ()> + Unpin,
{
    Deadline {
        body,
        timer: Some(timer),
        secs,
    }
}

/// The stream [`with_deadline`] makes.
pub struct Deadline<B, T> {
    body: B,
    /// `None` once it has fired (the stream then ends).
    timer: Option<T>,
    secs: u64,
}

impl<B, E, T> Stream for Deadline<B, T>
where
    B: Stream<Item = Result<Vec<u8>, E>> + Unpin,
    E: Into<BodyFault>,
    T: Future<Output = ()> + Unpin,
{
    type Item = Result<Vec<u8>, BodyFault>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(timer) = this.timer.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = this.body.poll_next_unpin(cx) {
            return Poll::Ready(item.map(|r| r.map_err(Into::into)));
        }
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => {
                this.timer = None;
                Poll::Ready(Some(Err(BodyFault::Late { secs: this.secs })))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Reads the body chunk by chunk, stopping as soon as it passes `limit`, so a
/// request without (or with a false) `Content-Length` never makes the Worker
/// buffer more than the limit.
async fn read_body<B, E>(
    mut body: B,
    limit: usize,
    declared: Option<usize>,
    permit: &mut Permit<'_>,
) -> Result<Vec<u8>, BodyError>
where
    B: Stream<Item = Result<Vec<u8>, E>> + Unpin,
    E: Into<BodyFault>,
{
    let mut out: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| BodyError::Fault(e.into()))?;
        if out.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        if !permit.grow_to(cost(out.len() + chunk.len())) {
            return Err(BodyError::Busy);
        }
        if out.is_empty() {
            // The first chunk is kept as it is: the whole body, in the
            // common case (the edge reads a body of declared length whole),
            // with no copy.
            out = chunk;
        } else {
            // More: room for the rest of the declared length at once
            // (already checked against the limit).
            let rest = declared.unwrap_or(0).min(limit).saturating_sub(out.len());
            out.reserve(rest.max(chunk.len()));
            out.extend_from_slice(&chunk);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn read(chunks: Vec<Vec<u8>>, declared: Option<usize>) -> Vec<u8> {
        let admission = Admission::new();
        let mut permit = admission.admit(0, usize::MAX).unwrap();
        let body = stream::iter(chunks.into_iter().map(Ok::<_, String>));
        match futures_executor::block_on(read_body(body, 1 << 20, declared, &mut permit)) {
            Ok(bytes) => bytes,
            Err(_) => panic!("the body was refused"),
        }
    }

    /// A body read whole (its declared length, one chunk) is kept as it
    /// came: no second buffer, no copy.
    #[test]
    fn a_whole_body_is_not_copied() {
        let chunk = vec![7u8; 1000];
        let at = chunk.as_ptr();
        let body = read(vec![chunk], Some(1000));
        assert_eq!((body.as_ptr(), body.len()), (at, 1000));
        // In pieces, it comes out whole, in the order sent.
        let pieces = vec![vec![1u8; 300], vec![2; 300], vec![3; 400]];
        let body = read(pieces.clone(), Some(1000));
        assert_eq!(body, pieces.concat());
        assert_eq!(read(pieces.clone(), None), pieces.concat());
    }
}
