//! otlp2r2: OTLP/HTTP logs, traces and metrics → ClickHouse-compatible
//! Snappy Parquet, on Cloudflare Workers + R2 or natively.
//!
//! Modules are listed in the order data flows through them:
//!
//! | module | does |
//! |---|---|
//! | [`body`] | content type, size limits, bounded gzip inflation |
//! | [`decode`] | protobuf / OTLP-JSON bytes → [`model`] (borrowed, zero-copy) |
//! | [`batch`] | model → sorted rows → pre-sized Arrow batches per [`schema`] table |
//! | [`write`] | Arrow → Snappy Parquet |
//! | [`key`] | deterministic, time-partitioned object names |
//! | [`pipeline`] | composes them: [`process`] is the one entry point |
//! | [`http`] | the HTTP edge's policy: routes, auth, statuses, OTLP responses |
//!
//! The core is pure (no I/O, no async, no globals). The Worker edge
//! (`edge` module, wasm32 only) and the CLI (`src/main.rs`) only move
//! bytes in and out and map [`Error`]s to statuses or messages.

pub mod batch;
pub mod body;
pub mod decode;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod edge;
pub mod error;
pub mod http;
pub mod key;
pub mod model;
pub mod pipeline;
pub mod schema;
pub mod store;
pub mod write;

pub use body::Encoding;
pub use error::{Error, Result};
pub use pipeline::{process, Limits, Object, Options, Output, Request, Signal};
pub use schema::Table;
