//! wasm32 entry points for the bench-wasm harness: a thin wasm-bindgen edge
//! over [`stages`], which `bin/native.rs` runs natively too.
//!
//! `prepare(workload)` builds a workload's request body with the same
//! fixture generator and seeds as the native benches; `load` takes a body
//! a driver already has (so a fresh instance holds only the body); `run`
//! runs one stage once. The JS runner (`runner.js`) times them in workerd:
//! nothing here is timed in Rust, workerd's clock is the one that matters.

pub mod stages;

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use stages::Prepared;

thread_local! {
    static CURRENT: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

fn js(e: String) -> JsError {
    JsError::new(&e)
}

/// Builds workload `id` and makes it the current one. Returns the body size
/// in bytes.
#[wasm_bindgen]
pub fn prepare(id: &str) -> Result<u32, JsError> {
    let (body, records) = stages::generate(id).map_err(js)?;
    let len = body.len() as u32;
    let p = stages::load(id, body, records).map_err(js)?;
    CURRENT.with(|c| *c.borrow_mut() = Some(p));
    Ok(len)
}

/// The current workload's body (a copy), so a driver can feed the very
/// same bytes to a fresh instance with [`load`] (and to the native runner).
#[wasm_bindgen]
pub fn body() -> Vec<u8> {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .map(|p| p.body().to_vec())
            .unwrap_or_default()
    })
}

/// Makes `bytes` (the body of workload `id`, `records` records) the current
/// workload, without generating anything: the instance's memory then holds
/// only the body, so its growth during a run is the run's own peak.
#[wasm_bindgen]
pub fn load(id: &str, bytes: Vec<u8>, records: u32) -> Result<(), JsError> {
    let p = stages::load(id, bytes, records as usize).map_err(js)?;
    CURRENT.with(|c| *c.borrow_mut() = Some(p));
    Ok(())
}

/// Records in the current workload.
#[wasm_bindgen]
pub fn records() -> u32 {
    CURRENT.with(|c| c.borrow().as_ref().map(|p| p.records as u32).unwrap_or(0))
}

/// Bytes of wasm linear memory now; it only grows, so after a run this is the peak.
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return (core::arch::wasm32::memory_size(0) * 65536) as f64;
    #[cfg(not(target_arch = "wasm32"))]
    0.0
}

/// Runs `stage` of `library` once on the current workload; returns a size
/// (bytes out, rows or batches) so the work cannot be optimised away.
#[wasm_bindgen]
pub fn run(library: &str, stage: &str) -> Result<f64, JsError> {
    CURRENT.with(|c| {
        let mut cur = c.borrow_mut();
        let p = cur
            .as_mut()
            .ok_or_else(|| JsError::new("call prepare first"))?;
        Ok(p.run(library, stage).map_err(js)? as f64)
    })
}
