//! The Worker's compaction glue (wasm32 only): the Cron Trigger plans, the
//! queue consumer compacts, one partition per message.
//!
//! `#[event(scheduled)]` lists the eligible partitions
//! ([`compact::find_eligible`]) and sends one message per partition to the
//! queue bound as `COMPACT_QUEUE`; `#[event(queue)]` runs [`compact::run`]
//! for each message, and sends the partition again when the run's bounds
//! left work for another ([`compact::Report::more`]: a large partition is
//! compacted over several messages). Queues deliver at least once and
//! Cloudflare runs as many consumers as the queue needs: the lease and the
//! intent make a second delivery harmless. A run that failed on a store
//! call is retried by the queue; one that failed otherwise (a file whose
//! pages do not decode) would fail the same again, so its message is acked
//! and the next cron plans the partition anew. A handler never returns an
//! error (workers-rs would abort the isolate). One JSON log line per
//! planning and per partition.

use std::sync::atomic::{AtomicU64, Ordering};

use worker::{
    console_log, event, Context, Date, Env, MessageBatch, MessageExt, ScheduleContext,
    ScheduledEvent,
};

use super::BUCKET_BINDING;
use crate::compact::{self, Partition, Settings};
use crate::http::Config;
use crate::store::r2::R2;

/// The queue binding compaction messages go through (`wrangler.toml`).
pub const QUEUE_BINDING: &str = "COMPACT_QUEUE";

/// Queues take at most 100 messages per batch send.
const SEND_BATCH: usize = 100;

fn settings(env: &Env) -> Result<Settings, String> {
    Settings::from_vars(|name| super::var(env, name))
}

fn bucket(env: &Env) -> R2 {
    R2::new(
        env.bucket(BUCKET_BINDING)
            .map_err(|e| format!("no R2 binding {BUCKET_BINDING}: {e}")),
    )
}

fn log(fields: serde_json::Value) {
    console_log!("{fields}");
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    let started = Date::now().as_millis();
    let planned = async {
        let settings = settings(&env)?;
        let partitions = compact::find_eligible(&bucket(&env), started / 1000, &settings)
            .await
            .map_err(|e| e.to_string())?;
        let queue = env.queue(QUEUE_BINDING).map_err(|e| e.to_string())?;
        let ids: Vec<String> = partitions.iter().map(Partition::id).collect();
        // Each batch on its own: one that fails leaves its partitions to
        // the next cron, not the batches after it.
        let (mut sent, mut failed) = (0, None);
        for chunk in ids.chunks(SEND_BATCH) {
            match queue.send_batch(chunk.to_vec()).await {
                Ok(_) => sent += chunk.len(),
                Err(e) => {
                    failed.get_or_insert(e.to_string());
                }
            }
        }
        Ok::<_, String>((ids.len(), sent, failed))
    };
    let (partitions, sent, error) = match planned.await {
        Ok((planned, sent, failed)) => (Some(planned), Some(sent), failed),
        Err(e) => (None, None, Some(e)),
    };
    log(serde_json::json!({
        "msg": "otlp2r2 compaction plan",
        "partitions": partitions,
        "sent": sent,
        "duration_ms": Date::now().as_millis().saturating_sub(started),
        "error": error,
    }));
}

async fn requeue(env: &Env, partition: &Partition) -> Result<(), String> {
    let queue = env.queue(QUEUE_BINDING).map_err(|e| e.to_string())?;
    queue.send(partition.id()).await.map_err(|e| e.to_string())
}

/// Why a run did not start: the isolate's memory is taken by requests (or
/// another run) in flight.
const BUSY: &str = "the isolate's memory budget is taken by requests in flight; retried later";

/// Distinguishes the runs of one isolate; the time distinguishes isolates.
static RUNS: AtomicU64 = AtomicU64::new(0);

#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    console_error_panic_hook::set_once();
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            log(serde_json::json!({"msg": "otlp2r2 compaction", "error": e.to_string()}));
            batch.retry_all();
            return Ok(());
        }
    };
    let store = bucket(&env);
    for message in messages {
        let started = Date::now().as_millis();
        let owner = format!("{started}-{}", RUNS.fetch_add(1, Ordering::Relaxed));
        let Some(partition) = Partition::from_id(message.body()) else {
            // Not ours to retry: a message no run can act on.
            log(serde_json::json!({"msg": "otlp2r2 compaction", "error": "not a partition id"}));
            message.ack();
            continue;
        };
        // An error with whether a redelivery could end otherwise: a bad
        // setting can be fixed meanwhile, a failed store call may work.
        let result = match settings(&env) {
            Ok(s) => {
                // Requests and runs may share an isolate: a run is charged
                // its memory against the budget of memory in flight that
                // requests take from (`MAX_INFLIGHT_BYTES`), and waits for
                // the queue's next delivery when it does not fit now.
                let capacity =
                    Config::from_vars(Ok(None), |name| super::var(&env, name)).inflight_bytes;
                match super::ADMISSION.admit(s.run_memory(), capacity) {
                    Some(permit) => {
                        let clock = || Date::now().as_millis() / 1000;
                        // A run over its bound (a pair of wide inputs)
                        // grows its charge before it merges.
                        let permit = std::cell::RefCell::new(permit);
                        let charge = |bytes| permit.borrow_mut().grow_to(bytes);
                        let run =
                            compact::run_metered(&store, partition, &clock, &s, &owner, &charge)
                                .await;
                        drop(permit);
                        run.map_err(|e| (e.to_string(), e.is_transient()))
                    }
                    None => Err((BUSY.to_string(), true)),
                }
            }
            Err(e) => Err((e, true)),
        };
        let mut line = serde_json::json!({
            "msg": "otlp2r2 compaction",
            "partition": partition.id(),
            "duration_ms": Date::now().as_millis().saturating_sub(started),
            // The isolate's wasm memory: it only grows, so this is the
            // largest any run of this isolate needed so far.
            "memory_bytes": core::arch::wasm32::memory_size(0) * 65536,
        });
        match &result {
            Ok(r) => {
                if let (Some(line), Ok(serde_json::Value::Object(fields))) =
                    (line.as_object_mut(), serde_json::to_value(r))
                {
                    line.extend(fields);
                }
                if r.more {
                    // The run's bounds left small files, or it recorded an
                    // unreadable one and left its merge's others: the
                    // partition goes back on the queue (the next cron would
                    // find it too).
                    if let Err(e) = requeue(&env, &partition).await {
                        line["requeue_error"] = e.into();
                    }
                }
                message.ack();
            }
            Err((e, transient)) => {
                line["error"] = e.clone().into();
                if *transient {
                    message.retry();
                } else {
                    // It would fail the same at every delivery, each redoing
                    // the run's work. Nothing is dropped: the run left its
                    // intent or the partition's small files, which keep the
                    // partition eligible at the next cron.
                    line["retried"] = false.into();
                    message.ack();
                }
            }
        }
        log(line);
    }
    Ok(())
}
