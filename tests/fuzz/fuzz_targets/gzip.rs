//! libFuzzer target `gzip`: see `otlp2r2_fuzz::gzip` (tests/fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp2r2_fuzz::gzip(data);
});
