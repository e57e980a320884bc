//! otlp2r2: OTLP/HTTP logs, traces and metrics → ClickHouse-compatible
//! Snappy Parquet, on Cloudflare Workers + R2 or natively.
//!
//! Modules are listed in the order data flows through them:
//!
//! | module | does |
//! |---|---|
//! | [`http`] | the request handler: routes, auth, limits, statuses, OTLP replies, the puts |
//! | [`body`] | content type, size limits, bounded gzip inflation |
//! | `decode` | protobuf (`proto/`: wire reader, messages) / OTLP-JSON (`json/`) bytes → `model` (borrowed, zero-copy) |
//! | `batch` | model → sorted rows → pre-sized Arrow batches; each table's columns declared once (`columns!`) |
//! | `write` | Arrow → Snappy Parquet, with our own encoder for string columns |
//! | [`key`] | the hour partition, time clamping, deterministic object names |
//! | [`pipeline`] | composes them: [`process`] is the one entry point; its stages ([`pipeline::decode`], [`pipeline::plan`], [`pipeline::Plan::batches`], [`pipeline::write`]) are public for benches |
//! | [`store`] | the object-store trait: R2 (wasm32), a local folder, memory, and a failure switch |
//!
//! The core (`body` to `pipeline`) is pure: no I/O, no async, no globals.
//! [`http::handle`] is the one async place that talks to a [`store::Store`].
//! The Worker edge (`edge` module, wasm32 only) and the CLI (`src/main.rs`)
//! only choose the store and turn platform types into plain ones and back.
//!
//! `batch`, `decode`, `model` and `write` are internals: public (and hidden
//! from the docs) only so that tests and benches can check and time each
//! stage; they are not a stable API.

#[doc(hidden)]
pub mod batch;
pub mod body;
pub mod compact;
#[doc(hidden)]
pub mod decode;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod edge;
pub mod error;
pub mod http;
pub mod key;
#[doc(hidden)]
pub mod model;
pub mod pipeline;
pub mod schema;
pub mod store;
pub mod vars;
#[doc(hidden)]
pub mod write;

pub use body::Encoding;
pub use error::{Error, Result};
pub use pipeline::{process, Limits, Object, Options, Output, Request, Signal};
pub use schema::Table;
