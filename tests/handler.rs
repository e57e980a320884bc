//! The request handler (`http::handle`) natively, over the in-memory store
//! with failure switches: the Worker's whole request policy without
//! `wrangler dev`. Each test states the guarantee it checks.

mod common;

use std::cell::Cell;
use std::convert::Infallible;

use common::hooked::{Hooked, Hooks};
use futures_executor::block_on;
use futures_util::stream;
use otlp2r2::http::admission::{self, Admission};
use otlp2r2::http::{self, BodyRead, Config, Head, LogLine, Reply, RETRY_AFTER_SECONDS};
use otlp2r2::store::fault::{Faulty, Op, Rule, When};
use otlp2r2::store::memory::Memory;
use otlp2r2::store::Store;

const METRICS: &[u8] = include_bytes!("data/metrics.pb");
const LOGS: &[u8] = include_bytes!("data/logs.pb");

fn export(path: &'static str) -> Head<'static> {
    Head {
        method: "POST",
        path,
        content_type: Some("application/x-protobuf"),
        ..Head::default()
    }
}

/// The body as one chunk, as a platform stream would deliver a small body.
fn whole(body: &[u8]) -> impl futures_util::Stream<Item = Result<Vec<u8>, Infallible>> + Unpin {
    stream::iter([Ok(body.to_vec())])
}

fn send<S: Store>(head: &Head<'_>, body: &[u8], store: &S, config: &Config) -> (Reply, LogLine) {
    send_with(head, body, store, config, &Admission::new())
}

fn send_with<S: Store>(
    head: &Head<'_>,
    body: &[u8],
    store: &S,
    config: &Config,
    admission: &Admission,
) -> (Reply, LogLine) {
    block_on(http::handle(
        head,
        |_| whole(body),
        store,
        config,
        admission,
    ))
}

/// The objects a clean run of `body` stores.
fn clean_run(path: &'static str, body: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let store = Memory::new();
    let (reply, _) = send(&export(path), body, &store, &Config::default());
    assert_eq!(reply.status, 200);
    store.snapshot()
}

/// A failed put anywhere among a request's puts (first, middle, last; lost
/// before or after the write) is a 503 with Retry-After, never a 2xx; the
/// retry then answers 200 and the bucket holds exactly what a clean run
/// stores: the same keys with the same bytes, nothing twice.
#[test]
fn a_failed_put_anywhere_is_503_and_the_retry_lands_once() {
    let expected = clean_run("/v1/metrics", METRICS);
    assert!(expected.len() >= 3, "the fixture writes several files");
    for nth in 1..=expected.len() as u64 {
        for after in [false, true] {
            let store = Faulty::new(Memory::new());
            let rule = Rule::new(Op::Put, When::Nth(nth));
            store.fail(if after { rule.after() } else { rule });
            let config = Config::default();
            let (reply, log) = send(&export("/v1/metrics"), METRICS, &store, &config);
            assert_eq!(reply.status, 503, "put {nth} failed (after: {after})");
            assert_eq!(reply.retry_after, Some(RETRY_AFTER_SECONDS));
            assert!(log.error.as_deref().unwrap().contains("injected failure"));

            let (reply, _) = send(&export("/v1/metrics"), METRICS, &store, &config);
            assert_eq!(reply.status, 200, "the retry after put {nth} failed");
            assert_eq!(store.inner().snapshot(), expected);
        }
    }
}

/// A store that is down (every call fails, as with no R2 binding) answers
/// 503 on every export, in the request's encoding.
#[test]
fn a_store_that_is_down_is_503() {
    let store = Faulty::new(Memory::new());
    store.fail(Rule::new(Op::Put, When::Always));
    let (reply, _) = send(&export("/v1/logs"), LOGS, &store, &Config::default());
    assert_eq!(
        (reply.status, reply.content_type),
        (503, "application/x-protobuf")
    );
    assert!(store.inner().keys().is_empty());
}

/// A chunked body, counting how many chunks the handler pulled.
fn counted<'a>(
    chunks: usize,
    size: usize,
    pulled: &'a Cell<usize>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, Infallible>> + Unpin + 'a {
    stream::iter((0..chunks).map(move |_| {
        pulled.set(pulled.get() + 1);
        Ok(vec![0u8; size])
    }))
}

fn limited(max_body: usize) -> Config {
    Config::from_vars(Ok(None), |k| {
        (k == "MAX_BODY_BYTES").then(|| max_body.to_string())
    })
}

/// A streamed body without Content-Length is cut as soon as it passes the
/// limit (413): the handler stops pulling chunks there and stores nothing.
#[test]
fn a_streamed_body_is_cut_at_the_limit() {
    let pulled = Cell::new(0);
    let store = Memory::new();
    let body = |_| counted(100, 300, &pulled);
    let (reply, _) = block_on(http::handle(
        &export("/v1/logs"),
        body,
        &store,
        &limited(1000),
        &Admission::new(),
    ));
    assert_eq!(reply.status, 413);
    assert_eq!(pulled.get(), 4, "300 × 4 is the first total past 1000");
    assert!(store.keys().is_empty());

    // Exactly at the limit is accepted (and then fails as protobuf, not size).
    let pulled = Cell::new(0);
    let body = |_| counted(1, 1000, &pulled);
    let (reply, _) = block_on(http::handle(
        &export("/v1/logs"),
        body,
        &store,
        &limited(1000),
        &Admission::new(),
    ));
    assert_eq!(reply.status, 400);
}

/// A body of declared length within the limit may be read whole (the Worker
/// then makes one copy instead of streaming); without a declared length it
/// is streamed. Either way the handler checks what actually arrives: a
/// platform that delivered more than it declared would still get 413.
#[test]
fn a_declared_length_reads_whole_and_what_arrives_is_still_checked() {
    let length = LOGS.len().to_string();
    let declared = Head {
        content_length: Some(&length),
        ..export("/v1/logs")
    };
    let asked = Cell::new(None);
    let open = |how| {
        asked.set(Some(how));
        whole(LOGS)
    };
    let (reply, _) = block_on(http::handle(
        &declared,
        open,
        &Memory::new(),
        &Config::default(),
        &Admission::new(),
    ));
    assert_eq!((reply.status, asked.get()), (200, Some(BodyRead::Whole)));

    let open = |how| {
        asked.set(Some(how));
        whole(LOGS)
    };
    let (reply, _) = block_on(http::handle(
        &export("/v1/logs"),
        open,
        &Memory::new(),
        &Config::default(),
        &Admission::new(),
    ));
    assert_eq!((reply.status, asked.get()), (200, Some(BodyRead::Streamed)));

    let small = Head {
        content_length: Some("900"),
        ..export("/v1/logs")
    };
    let store = Memory::new();
    let (reply, _) = block_on(http::handle(
        &small,
        |_| whole(&[0u8; 1001]),
        &store,
        &limited(1000),
        &Admission::new(),
    ));
    assert_eq!(reply.status, 413);
    assert!(store.keys().is_empty());
}

/// A declared Content-Length over the limit is 413 before the body is read.
#[test]
fn a_declared_length_over_the_limit_is_413_unread() {
    let pulled = Cell::new(0);
    let head = Head {
        content_length: Some("1001"),
        ..export("/v1/logs")
    };
    let opened = Cell::new(false);
    let body = |_| {
        opened.set(true);
        counted(1, 10, &pulled)
    };
    let (reply, _) = block_on(http::handle(
        &head,
        body,
        &Memory::new(),
        &limited(1000),
        &Admission::new(),
    ));
    assert_eq!(reply.status, 413);
    assert!(!opened.get(), "the body was opened");
    assert_eq!(pulled.get(), 0);
}

/// A bad configuration answers 503 with `Retry-After` on exports (an OTLP
/// exporter retries it, where it drops the data of a 500), naming the var,
/// after the route and the token; the health route still answers 200.
#[test]
fn a_bad_configuration_is_503_so_exporters_retry() {
    let bad = Config::from_vars(Ok(Some("t".into())), |k| {
        (k == "TIMESTAMP_UNIT").then(|| "seconds".to_string())
    });
    let store = Memory::new();
    let authed = Head {
        authorization: Some("Bearer t"),
        ..export("/v1/logs")
    };
    let (reply, log) = send(&authed, LOGS, &store, &bad);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.retry_after, Some(5));
    assert!(log.error.unwrap().contains("TIMESTAMP_UNIT"));
    let (reply, _) = send(&export("/v1/logs"), LOGS, &store, &bad);
    assert_eq!(reply.status, 401, "the token is checked first");
    let health = Head {
        method: "GET",
        path: "/",
        ..Head::default()
    };
    assert_eq!(send(&health, b"", &store, &bad).0.status, 200);
    assert!(store.keys().is_empty());
}

/// The checks that need no body come first, in order: route, token,
/// content type, content encoding; none of them pulls the body.
#[test]
fn body_free_checks_answer_without_reading_the_body() {
    let config = Config {
        token: Some("secret-token".into()),
        ..Config::default()
    };
    let ok = Head {
        authorization: Some("Bearer secret-token"),
        ..export("/v1/logs")
    };
    let cases = [
        (
            Head {
                path: "/v1/profiles",
                ..ok
            },
            404,
        ),
        (
            Head {
                method: "GET",
                ..ok
            },
            405,
        ),
        (
            Head {
                authorization: Some("Bearer nope"),
                ..ok
            },
            401,
        ),
        (
            Head {
                content_type: Some("text/plain"),
                ..ok
            },
            415,
        ),
        (
            Head {
                content_encoding: Some("br"),
                ..ok
            },
            415,
        ),
    ];
    for (head, status) in cases {
        let pulled = Cell::new(0);
        let (reply, log) = block_on(http::handle(
            &head,
            |_| counted(1, 10, &pulled),
            &Memory::new(),
            &config,
            &Admission::new(),
        ));
        assert_eq!(reply.status, status, "{head:?}");
        assert_eq!(pulled.get(), 0, "{head:?} read the body");
        assert!(!log.to_json().contains("secret-token"));
        // The two statuses that name what the client should send instead.
        let header = match status {
            401 => Some(("www-authenticate", "Bearer")),
            405 => Some(("allow", "POST")),
            _ => None,
        };
        assert_eq!(reply.header, header, "{head:?}");
    }
}

/// An `AUTH_TOKEN` that is bound but cannot be read as text (the edge's
/// `Err`) does not turn auth off: every export is 503 with nothing stored,
/// a valid-looking request included; the health route still answers.
#[test]
fn a_token_that_cannot_be_read_does_not_turn_auth_off() {
    let config = Config::from_vars(Err("AUTH_TOKEN is bound but is not text".into()), |_| None);
    let store = Memory::new();
    for authorization in [None, Some("Bearer anything")] {
        let head = Head {
            authorization,
            ..export("/v1/logs")
        };
        let (reply, log) = send(&head, LOGS, &store, &config);
        assert_eq!(reply.status, 503, "{authorization:?}");
        assert!(log.error.unwrap().contains("AUTH_TOKEN"));
    }
    assert!(store.keys().is_empty());
    let health = Head {
        method: "GET",
        path: "/",
        ..Head::default()
    };
    assert_eq!(send(&health, b"", &store, &config).0.status, 200);
}

/// An uncompressed body is its own inflated size: with `MAX_INFLATED_BYTES`
/// under `MAX_BODY_BYTES`, a declared length over the inflated limit is 413
/// before the body is opened; a gzip body is held to the body limit only
/// until it is inflated.
#[test]
fn an_uncompressed_body_is_held_to_the_inflated_limit_unread() {
    let config = Config::from_vars(Ok(None), |k| match k {
        "MAX_BODY_BYTES" => Some("2000".into()),
        "MAX_INFLATED_BYTES" => Some("1000".into()),
        _ => None,
    });
    let opened = Cell::new(false);
    let pulled = Cell::new(0);
    // The status, and whether the body was opened.
    let send = |head: &Head<'_>| {
        let (reply, _) = block_on(http::handle(
            head,
            |_| {
                opened.set(true);
                counted(1, 1500, &pulled)
            },
            &Memory::new(),
            &config,
            &Admission::new(),
        ));
        (reply.status, opened.replace(false))
    };
    let head = Head {
        content_length: Some("1500"),
        ..export("/v1/logs")
    };
    assert_eq!(send(&head), (413, false), "the body was opened");
    let gzipped = Head {
        content_encoding: Some("gzip"),
        ..head
    };
    assert_eq!(send(&gzipped), (400, true), "read, then refused as gzip");
}

/// The log line of a stored request has its fields, with what was counted;
/// a failed one names the error; neither carries the token.
#[test]
fn the_log_line_has_its_fields() {
    let config = Config {
        token: Some("secret-token".into()),
        ..Config::default()
    };
    let head = Head {
        authorization: Some("Bearer secret-token"),
        ..export("/v1/logs")
    };
    let store = Memory::new();
    let (reply, log) = send(&head, LOGS, &store, &config);
    assert_eq!(reply.status, 200);
    let line: serde_json::Value = serde_json::from_str(&log.to_json()).unwrap();
    assert_eq!(line["msg"], "otlp2r2 request");
    assert_eq!(line["signal"], "logs");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes_in"], LOGS.len());
    assert_eq!(line["objects"], store.keys().len());
    let stored: usize = store.snapshot().values().map(Vec::len).sum();
    assert_eq!(line["bytes_out"], stored);
    assert!(line["records"].as_u64().unwrap() > 0);
    assert!(line["error"].is_null());
    for field in ["rejected", "duration_ms"] {
        assert!(line[field].is_u64(), "{field}");
    }
    assert!(!log.to_json().contains("secret-token"));

    let (reply, log) = send(&head, b"\xff\xff\xff", &store, &config);
    assert_eq!(reply.status, 400);
    assert!(log.error.unwrap().contains("malformed protobuf"));
}

/// A request that does not fit the isolate's memory budget is a 503 with
/// Retry-After before its body is opened, when its declared length says so,
/// or as soon as its streamed chunks pass the budget; nothing is stored, the
/// budget is released, and the same request is accepted once it fits.
#[test]
fn requests_over_the_memory_budget_are_503_and_release_it() {
    let store = Memory::new();
    let admission = Admission::new();
    let budget = admission::FIXED_COST + admission::cost(LOGS.len()) - 1;
    let config = Config {
        inflight_bytes: budget,
        ..Config::default()
    };
    // Another request in flight holds part of the budget.
    let other = admission.admit(0, budget).unwrap();

    // Declared length over what is left: refused unopened.
    let length = LOGS.len().to_string();
    let declared = Head {
        content_length: Some(&length),
        ..export("/v1/logs")
    };
    let opened = Cell::new(false);
    let body = |_| {
        opened.set(true);
        whole(LOGS)
    };
    let (reply, log) = block_on(http::handle(&declared, body, &store, &config, &admission));
    assert_eq!(
        (reply.status, reply.retry_after),
        (503, Some(RETRY_AFTER_SECONDS))
    );
    assert!(!opened.get());
    assert!(log.error.unwrap().starts_with("busy"));

    // No declared length: refused when the chunks pass the budget.
    let pulled = Cell::new(0);
    let chunks = |_| counted(LOGS.len() / 1000 + 1, 1000, &pulled);
    let (reply, _) = block_on(http::handle(
        &export("/v1/logs"),
        chunks,
        &store,
        &config,
        &admission,
    ));
    assert_eq!(reply.status, 503);
    assert!(pulled.get() < LOGS.len() / 1000, "stopped before the end");
    assert_eq!(
        admission.in_use(),
        other.charged(),
        "the refused requests hold nothing"
    );
    assert!(store.keys().is_empty());

    // Once the other request is done, the same request fits alone.
    drop(other);
    let (reply, _) = block_on(http::handle(
        &declared,
        |_| whole(LOGS),
        &store,
        &config,
        &admission,
    ));
    assert_eq!(reply.status, 200);
    assert_eq!(admission.in_use(), 0);
}

/// A body that stops arriving is cut off at its deadline: 503 with
/// `Retry-After` (exporters retry it with the data they kept), nothing
/// stored, and its charge on the memory budget given back at once (it would
/// otherwise hold it until the charge expires, 15 minutes on). The timer is
/// a future the edge makes (a `setTimeout` in the Worker): here one that
/// has fired, and one that never fires.
#[test]
fn a_body_that_stops_arriving_is_cut_off_at_its_deadline() {
    let store = Memory::new();
    let admission = Admission::new();
    let config = Config::default();
    let length = LOGS.len().to_string();
    let declared = Head {
        content_length: Some(&length),
        ..export("/v1/logs")
    };
    let fired = || std::future::ready(());
    // Declared, never sent; and half sent, then nothing.
    let silent = |_| {
        http::with_deadline(
            stream::pending::<Result<Vec<u8>, Infallible>>(),
            fired(),
            30,
        )
    };
    let half = |_| {
        let first = stream::iter([Ok::<_, Infallible>(LOGS[..LOGS.len() / 2].to_vec())]);
        http::with_deadline(
            futures_util::StreamExt::chain(first, stream::pending()),
            fired(),
            30,
        )
    };
    for (reply, log) in [
        block_on(http::handle(&declared, silent, &store, &config, &admission)),
        block_on(http::handle(
            &export("/v1/logs"),
            half,
            &store,
            &config,
            &admission,
        )),
    ] {
        assert_eq!(
            (reply.status, reply.retry_after),
            (503, Some(RETRY_AFTER_SECONDS)),
            "exporters retry it"
        );
        let message = "the request body did not arrive within 30 s; nothing was stored, retry";
        assert_eq!(log.error.as_deref(), Some(message));
        assert!(String::from_utf8_lossy(&reply.body).contains(message));
        assert_eq!(admission.in_use(), 0, "the charge is given back");
    }
    assert!(store.keys().is_empty());
    // A body that arrives whole before its timer fires is not cut.
    let in_time = |_| http::with_deadline(whole(LOGS), std::future::pending(), 30);
    let (reply, _) = block_on(http::handle(
        &declared, in_time, &store, &config, &admission,
    ));
    assert_eq!(reply.status, 200);
    // The var: 1 s to 10 minutes (inside a budget charge's life).
    let timeout = |v: &str| {
        let v = v.to_string();
        Config::from_vars(Ok(None), move |n| {
            (n == "BODY_TIMEOUT_SECS").then(|| v.clone())
        })
    };
    assert_eq!(timeout("5").body_timeout_secs, 5);
    assert_eq!(
        Config::default().body_timeout_secs,
        http::DEFAULT_BODY_TIMEOUT_SECS
    );
    assert_eq!(timeout("600").body_timeout_secs, 600);
    for bad in ["0", "601", "soon"] {
        let e = timeout(bad).options.unwrap_err();
        assert!(e.contains("BODY_TIMEOUT_SECS"), "{e}");
    }
}

/// A body whose stream breaks (the client or a proxy went away mid-upload)
/// is the transport's failure, not the data's: 503 with `Retry-After`,
/// which exporters retry with the data they kept, nothing stored, nothing
/// held.
#[test]
fn a_body_cut_short_is_answered_with_a_retry() {
    let store = Memory::new();
    let admission = Admission::new();
    let cut = |_| {
        let first = Ok::<_, String>(LOGS[..LOGS.len() / 2].to_vec());
        stream::iter([first, Err("connection reset".to_string())])
    };
    let (reply, log) = block_on(http::handle(
        &export("/v1/logs"),
        cut,
        &store,
        &Config::default(),
        &admission,
    ));
    assert_eq!(
        (reply.status, reply.retry_after),
        (503, Some(RETRY_AFTER_SECONDS))
    );
    let said = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(said.contains("the request body could not be read; nothing was stored, retry"));
    assert_eq!(
        log.error.as_deref(),
        Some("reading the body failed: connection reset")
    );
    assert!(store.keys().is_empty());
    assert_eq!(admission.in_use(), 0);
}

/// A gzip body is charged again once inflated: a small compressed body that
/// inflates past what the budget has left (with another request in flight)
/// is a 503, not a 413 or a 200.
#[test]
fn gzip_bodies_are_charged_their_inflated_size() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(LOGS).unwrap();
    let gz = gz.finish().unwrap();
    let admission = Admission::new();
    let budget = 2 * admission::FIXED_COST + admission::cost(LOGS.len());
    let config = Config {
        inflight_bytes: budget,
        ..Config::default()
    };
    // Not alone: another request holds its fixed cost.
    let other = admission.admit(0, budget).unwrap();
    let head = Head {
        content_encoding: Some("gzip"),
        ..export("/v1/logs")
    };
    let (reply, _) = block_on(http::handle(
        &head,
        |_| whole(&gz),
        &Memory::new(),
        &config,
        &admission,
    ));
    assert_eq!(reply.status, 503);
    assert_eq!(admission.in_use(), other.charged());
    drop(other);
    let roomy = Config::default();
    let (reply, _) = block_on(http::handle(
        &head,
        |_| whole(&gz),
        &Memory::new(),
        &roomy,
        &admission,
    ));
    assert_eq!(reply.status, 200);
}

/// A small request of an unusual shape: a 4 KiB resource attribute shared
/// by 2,000 empty records, 8 MB of columns once copied into every row,
/// from a body of a few KB (charged four times its bytes when it arrives).
fn wide_request() -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message;
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "blob".into(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue("x".repeat(4096))),
                    }),
                }],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![Default::default(); 2000],
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// What the pipeline plans is charged to the budget as it is planned: a
/// request whose body is small but whose columns are not is a 503 while
/// another request holds the budget (nothing stored, nothing held after),
/// and a 200 alone. Charged on its body alone, it was let in.
#[test]
fn a_request_is_charged_what_it_plans() {
    let wide = wide_request();
    assert!(wide.len() < 16 << 10, "{} bytes", wide.len());
    let store = Memory::new();
    let admission = Admission::new();
    let budget = 4 << 20;
    let config = Config {
        inflight_bytes: budget,
        ..Config::default()
    };
    let other = admission.admit(0, budget).unwrap();
    let (reply, log) = send_with(&export("/v1/logs"), &wide, &store, &config, &admission);
    assert_eq!(
        (reply.status, reply.retry_after),
        (503, Some(RETRY_AFTER_SECONDS))
    );
    assert!(log.error.unwrap().starts_with("busy"));
    assert!(store.keys().is_empty());
    assert_eq!(admission.in_use(), other.charged());
    drop(other);
    let (reply, _) = send_with(&export("/v1/logs"), &wide, &store, &config, &admission);
    assert_eq!(reply.status, 200);
    assert_eq!(admission.in_use(), 0);
}

/// Notes the memory budget's charge at each put.
struct AtPut<'a> {
    admission: &'a Admission,
    charged: std::cell::RefCell<Vec<usize>>,
}

impl Hooks for AtPut<'_> {
    async fn before_put(&self, _key: &str) -> otlp2r2::Result<()> {
        self.charged.borrow_mut().push(self.admission.in_use());
        Ok(())
    }
}

/// While its files upload, a request is charged what it still holds (its
/// files, twice: the JavaScript side's copies), not its peak, so that other
/// requests fit during its round trips to R2.
#[test]
fn the_charge_drops_to_the_files_while_they_upload() {
    let admission = Admission::new();
    let memory = Memory::new();
    let store = Hooked {
        inner: &memory,
        hook: AtPut {
            admission: &admission,
            charged: Default::default(),
        },
    };
    let length = LOGS.len().to_string();
    let head = Head {
        content_length: Some(&length),
        ..export("/v1/logs")
    };
    let (reply, log) = send_with(&head, LOGS, &store, &Config::default(), &admission);
    assert_eq!(reply.status, 200);
    let charged = store.hook.charged.borrow().clone();
    assert!(!charged.is_empty());
    let files = admission::FIXED_COST + 2 * log.bytes_out;
    assert!(
        charged.iter().all(|c| *c == files),
        "charged {charged:?} during the puts, the files {files}; the body was charged {}",
        admission::FIXED_COST + admission::cost(LOGS.len())
    );
    assert!(files < admission::FIXED_COST + admission::cost(LOGS.len()));
    assert_eq!(admission.in_use(), 0);
}

/// OTLP/HTTP: the response has the request's Content-Type, so protobuf
/// sent under its other name, `application/protobuf`, is answered under
/// that name, a success as a failure.
#[test]
fn protobuf_replies_take_the_name_the_request_used() {
    for (media, body, status) in [
        ("application/protobuf", LOGS, 200),
        ("Application/Protobuf; charset=x", LOGS, 200),
        ("application/protobuf", &b"\xff\xff"[..], 400),
        ("application/x-protobuf", LOGS, 200),
    ] {
        let head = Head {
            content_type: Some(media),
            ..export("/v1/logs")
        };
        let (reply, _) = send(&head, body, &Memory::new(), &Config::default());
        assert_eq!(reply.status, status, "{media}");
        let want = match media.contains("x-protobuf") {
            true => "application/x-protobuf",
            false => "application/protobuf",
        };
        assert_eq!(reply.content_type, want, "{media}");
    }
}
