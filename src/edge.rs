//! The Cloudflare Worker: the thin edge between the `worker` crate and the
//! pure core (wasm32 only).
//!
//! It reads the method, path, headers and body, asks [`crate::http`] what to
//! do, runs [`crate::process`], puts every object into the R2 bucket bound as
//! `OTLP_BUCKET`, and answers. It answers 2xx only after every put succeeded;
//! any failed put is a 503 with `Retry-After`, and the retry writes the same
//! keys. One structured log line per request; never a token or a payload.

use worker::{console_log, event, Context, Date, Env, Request, Response, Result};

use crate::body::{self, Encoding};
use crate::http::{self, Reply, Route};
use crate::pipeline::{self, Signal};

/// The R2 binding name, declared in `wrangler.toml`.
pub const BUCKET_BINDING: &str = "OTLP_BUCKET";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let started = Date::now().as_millis();
    let mut log = LogLine::default();
    let reply = handle(req, &env, &mut log).await;
    log.status = reply.status;
    log.ms = Date::now().as_millis().saturating_sub(started);
    console_log!("{}", log.to_json());
    respond(reply)
}

/// The fields of the per-request log line.
#[derive(Default)]
struct LogLine {
    signal: &'static str,
    status: u16,
    records: usize,
    rejected: usize,
    objects: usize,
    bytes_in: usize,
    bytes_out: usize,
    ms: u64,
    error: Option<String>,
}

impl LogLine {
    fn to_json(&self) -> String {
        serde_json::json!({
            "msg": "otlp2r2 request",
            "signal": self.signal,
            "status": self.status,
            "records": self.records,
            "rejected": self.rejected,
            "objects": self.objects,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "duration_ms": self.ms,
            "error": self.error,
        })
        .to_string()
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

async fn handle(mut req: Request, env: &Env, log: &mut LogLine) -> Reply {
    let content_type = header(&req, "content-type");
    let reply_enc = http::reply_encoding(content_type.as_deref());
    let signal: Signal = match http::route(req.method().as_ref(), &req.path()) {
        Route::Health => return http::health(),
        Route::NotFound => {
            return http::failure(
                404,
                "not found: POST /v1/logs, /v1/traces or /v1/metrics",
                reply_enc,
            )
        }
        Route::MethodNotAllowed(allow) => {
            let mut r = http::failure(405, &format!("method not allowed; use {allow}"), reply_enc);
            r.allow = Some(allow);
            return r;
        }
        Route::Export(signal) => signal,
    };
    log.signal = signal.name();

    let token = env.secret("AUTH_TOKEN").ok().map(|s| s.to_string());
    if !http::authorized(token.as_deref(), header(&req, "authorization").as_deref()) {
        return http::failure(401, "missing or invalid bearer token", reply_enc);
    }
    let opts = match http::options_from_vars(|name| env.var(name).ok().map(|v| v.to_string())) {
        Ok(o) => o,
        Err(e) => {
            log.error = Some(e.clone());
            return http::failure(500, &format!("bad configuration: {e}"), reply_enc);
        }
    };

    // Every check that needs no body comes before reading it.
    let encoding = match Encoding::from_content_type(content_type.as_deref().unwrap_or("")) {
        Ok(e) => e,
        Err(e) => return http::error_reply(&e, reply_enc),
    };
    let gzip = match body::is_gzip(header(&req, "content-encoding").as_deref()) {
        Ok(g) => g,
        Err(e) => return http::error_reply(&e, encoding),
    };
    let declared = header(&req, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(size) = declared.filter(|s| *s > opts.limits.max_body_bytes) {
        let e = crate::Error::BodyTooLarge {
            size,
            limit: opts.limits.max_body_bytes,
        };
        return http::error_reply(&e, encoding);
    }
    let bytes = match read_body(&mut req, opts.limits.max_body_bytes, declared).await {
        Ok(b) => b,
        Err(reply) => return reply(encoding),
    };
    log.bytes_in = bytes.len();

    let output = match pipeline::process(
        &pipeline::Request {
            signal,
            encoding,
            gzip,
            body: &bytes,
        },
        &opts,
    ) {
        Ok(o) => o,
        Err(e) => {
            log.error = Some(e.to_string());
            return http::error_reply(&e, encoding);
        }
    };
    drop(bytes);
    log.records = output.records;
    log.rejected = output.rejected;
    log.objects = output.objects.len();
    log.bytes_out = output.bytes_out();

    let bucket = match env.bucket(BUCKET_BINDING) {
        Ok(b) => b,
        Err(e) => {
            log.error = Some(format!("no R2 binding {BUCKET_BINDING}: {e}"));
            return http::storage_failed(encoding);
        }
    };
    // The reply is decided now, so the objects can be moved into the puts
    // (no second copy of every file while they upload).
    let reply = http::success(signal, &output, encoding);
    // All puts run concurrently; the reply waits for every one of them.
    let puts = output
        .objects
        .into_iter()
        .map(|obj| bucket.put(obj.key, obj.data).execute());
    for result in futures_util::future::join_all(puts).await {
        if let Err(e) = result {
            log.error = Some(format!("R2 put failed: {e}"));
            return http::storage_failed(encoding);
        }
    }
    reply
}

/// Reads the body chunk by chunk, stopping as soon as it passes `limit`, so a
/// request without (or with a false) `Content-Length` cannot make the Worker
/// buffer more than the limit.
async fn read_body(
    req: &mut Request,
    limit: usize,
    declared: Option<usize>,
) -> std::result::Result<Vec<u8>, fn(Encoding) -> Reply> {
    use futures_util::StreamExt;
    let mut stream = match req.stream() {
        Ok(s) => s,
        // No body at all is an empty body.
        Err(_) => return Ok(Vec::new()),
    };
    // Pre-sized from Content-Length (already checked against the limit).
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| unreadable as fn(Encoding) -> Reply)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large as fn(Encoding) -> Reply);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn unreadable(encoding: Encoding) -> Reply {
    http::failure(400, "could not read the request body", encoding)
}

fn too_large(encoding: Encoding) -> Reply {
    http::failure(413, "request body is over the size limit", encoding)
}

fn respond(reply: Reply) -> Result<Response> {
    let mut resp = Response::from_bytes(reply.body)?.with_status(reply.status);
    let headers = resp.headers_mut();
    headers.set("content-type", reply.content_type)?;
    if let Some(secs) = reply.retry_after {
        headers.set("retry-after", &secs.to_string())?;
    }
    if let Some(allow) = reply.allow {
        headers.set("allow", allow)?;
    }
    Ok(resp)
}
