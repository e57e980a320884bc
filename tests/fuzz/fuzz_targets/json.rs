//! libFuzzer target `json`: see `otlp2r2_fuzz::json` (tests/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp2r2_fuzz::json(data);
});
