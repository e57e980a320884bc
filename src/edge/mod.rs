//! The Cloudflare Worker's edge (wasm32 only): platform glue and nothing else.
//!
//! It turns the `worker` crate's request into a plain [`http::Head`] and
//! body stream, binds the R2 bucket `OTLP_BUCKET` as a [`Store`], reads the
//! configuration from the Worker's vars and secrets, runs [`http::handle`],
//! prints its log line with the duration, and turns the [`http::Reply`] into
//! a response. All policy lives in [`crate::http`], tested natively.
//! `compact.rs` is the same kind of glue for the Cron Trigger and the queue
//! consumer of compaction.

use futures_util::{stream, StreamExt};
use worker::{console_log, event, Context, Date, Env, Request, Response, Result};

mod compact;

use crate::http::admission::Admission;
use crate::http::{self, BodyRead, Config, Head, Reply};
use crate::store::r2::R2;

/// The R2 binding name, declared in `wrangler.toml`.
pub const BUCKET_BINDING: &str = "OTLP_BUCKET";

/// The memory budget shared by the requests this isolate serves at once.
static ADMISSION: Admission = Admission::with_clock(now_ms);

/// Milliseconds since the epoch: the clock of the memory budget's charges.
fn now_ms() -> u64 {
    Date::now().as_millis()
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let started = Date::now().as_millis();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let (content_type, content_encoding, content_length, authorization) = (
        header("content-type"),
        header("content-encoding"),
        header("content-length"),
        header("authorization"),
    );
    let (method, path) = (req.method(), req.path());
    let head = Head {
        method: method.as_ref(),
        path: &path,
        content_type: content_type.as_deref(),
        content_encoding: content_encoding.as_deref(),
        content_length: content_length.as_deref(),
        authorization: authorization.as_deref(),
    };
    let config = Config::from_vars(auth_token(&env), |name| var(&env, name));
    let bucket = env
        .bucket(BUCKET_BINDING)
        .map_err(|e| format!("no R2 binding {BUCKET_BINDING}: {e}"));
    // Opened only when the handler reads it. A body of declared length comes
    // whole (one `arrayBuffer()`, one copy into wasm memory); any other is
    // streamed so the handler can cut it at the limit. No body at all is an
    // empty body. Either is cut off at the deadline, whose timer starts when
    // reading does.
    let secs = config.body_timeout_secs;
    let body = move |how| {
        let timer = worker::Delay::from(std::time::Duration::from_secs(secs));
        http::with_deadline(open_body(req, how), timer, secs)
    };
    let store = R2::new(bucket);
    #[cfg(feature = "fault-injection")]
    let store = faults::wrap(store, &env);
    let (reply, mut log) = http::handle(&head, body, &store, &config, &ADMISSION).await;
    log.duration_ms = Date::now().as_millis().saturating_sub(started);
    log.memory_bytes = core::arch::wasm32::memory_size(0) * 65536;
    console_log!("{}", log.to_json());
    respond(reply)
}

/// A `[vars]` setting as text, `None` when it is not set: a string as it
/// is, any other value as its JSON text. wrangler passes a TOML number or
/// boolean (`COMPACT_LOOKBACK_HOURS = 0`) as a JSON value, which
/// workers-rs's `Env::var` refuses (it reads strings only); taken for an
/// unset setting, it was silently replaced by the default. As text it is
/// parsed, or refused by name, like the string form.
fn var(env: &Env, name: &str) -> Option<String> {
    let v = worker::js_sys::Reflect::get(env, &name.into()).ok()?;
    if v.is_undefined() || v.is_null() {
        return None;
    }
    match v.as_string() {
        Some(text) => Some(text),
        None => worker::js_sys::JSON::stringify(&v).ok()?.as_string(),
    }
}

/// `AUTH_TOKEN` as text: a secret, or a `[vars]` string, number or
/// boolean (as [`var`] reads it). Bound to anything else (a Secrets Store
/// binding is an object) it is an error, not "no token": workers-rs's
/// `Env::secret` reads strings only, and taking its refusal for an unset
/// token turned auth off.
fn auth_token(env: &Env) -> std::result::Result<Option<String>, String> {
    const NAME: &str = "AUTH_TOKEN";
    let v = worker::js_sys::Reflect::get(env, &NAME.into())
        .map_err(|_| format!("{NAME} cannot be read"))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if v.is_string() || v.as_f64().is_some() || v.as_bool().is_some() {
        if let Some(text) = var(env, NAME) {
            return Ok(Some(text));
        }
    }
    Err(format!(
        "{NAME} is bound but is not text; set it with `wrangler secret put {NAME}`"
    ))
}

/// The request body as the handler asked for it.
fn open_body(
    mut req: Request,
    how: BodyRead,
) -> impl futures_util::Stream<Item = Result<Vec<u8>>> + Unpin {
    match how {
        BodyRead::Whole => stream::once(Box::pin(async move { req.bytes().await })).left_stream(),
        BodyRead::Streamed => stream::iter(req.stream().ok()).flatten().right_stream(),
    }
}

/// The `fault-injection` test build: R2 behind a failure switch shared by
/// the isolate's requests, with the rules its vars ask for.
#[cfg(feature = "fault-injection")]
mod faults {
    use std::sync::{Arc, OnceLock};

    use worker::Env;

    use crate::store::fault::{rules_from_vars, Faulty, Op, Rule, Switch, When};
    use crate::store::r2::R2;

    static SWITCH: OnceLock<Arc<Switch>> = OnceLock::new();

    /// `store` failing by the isolate's switch (made on first use).
    pub fn wrap(store: R2, env: &Env) -> Faulty<R2> {
        let switch = SWITCH.get_or_init(|| {
            let switch = Switch::default();
            let var = |name: &str| super::var(env, name);
            // A bad rule var fails every put, which the load test sees at once.
            match rules_from_vars(var) {
                Ok(rules) => rules.into_iter().for_each(|r| switch.fail(r)),
                Err(_) => switch.fail(Rule::new(Op::Put, When::Always)),
            }
            Arc::new(switch)
        });
        Faulty::with_switch(store, Arc::clone(switch))
    }
}

fn respond(reply: Reply) -> Result<Response> {
    let mut resp = Response::from_bytes(reply.body)?.with_status(reply.status);
    let headers = resp.headers_mut();
    headers.set("content-type", reply.content_type)?;
    if let Some(secs) = reply.retry_after {
        headers.set("retry-after", &secs.to_string())?;
    }
    if let Some((name, value)) = reply.header {
        headers.set(name, value)?;
    }
    Ok(resp)
}
