//! The candidates: each inflates one single-member gzip body whole (output
//! sized from the size trailer) and checks its CRC-32, as `src/body.rs` must.
//! `run` is the wasm entry point (`worker.js` times it in workerd); `main.rs`
//! times the same functions natively.

use std::mem::MaybeUninit;

/// Inflates a whole gzip body and checks it; `None` when it fails.
pub type Inflater = fn(&[u8]) -> Option<Vec<u8>>;

/// One row each: its name, and the function doing the whole job.
pub const CANDIDATES: [(&str, Inflater); 6] = [
    ("miniz_oxide + crc32fast", miniz_crc32fast),
    ("zlib-rs + crc32fast", zlib_crc32fast),
    ("zlib-rs + its crc32", zlib_own_crc),
    ("zune-inflate (its crc)", zune),
    ("crc32fast alone", crc32fast_alone),
    ("zlib-rs crc32 alone", zlib_crc_alone),
];

fn trailer(gz: &[u8]) -> (u32, usize) {
    let t = &gz[gz.len() - 8..];
    let word = |i: usize| u32::from_le_bytes([t[i], t[i + 1], t[i + 2], t[i + 3]]);
    (word(0), word(4) as usize)
}

/// The raw deflate stream: the benches' bodies carry a bare 10-byte header.
fn deflate(gz: &[u8]) -> &[u8] {
    &gz[10..gz.len() - 8]
}

fn miniz(gz: &[u8]) -> Option<Vec<u8>> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    let mut out = vec![0; trailer(gz).1];
    let mut state = Box::<DecompressorOxide>::default();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, _, wrote) = decompress(&mut state, deflate(gz), &mut out, 0, flags);
    (status == miniz_oxide::inflate::TINFLStatus::Done).then(|| {
        out.truncate(wrote);
        out
    })
}

fn zlib(gz: &[u8]) -> Option<Vec<u8>> {
    use zlib_rs::{Inflate, InflateFlush, Status};
    let mut out = Vec::<u8>::with_capacity(trailer(gz).1);
    let mut inflater = Inflate::new(false, 15);
    let spare: &mut [MaybeUninit<u8>] = out.spare_capacity_mut();
    let status = inflater.decompress_uninit(deflate(gz), spare, InflateFlush::Finish);
    // SAFETY: zlib-rs initialised `total_out` bytes from the start.
    unsafe { out.set_len(inflater.total_out() as usize) };
    matches!(status, Ok(Status::StreamEnd)).then_some(out)
}

fn checked(out: Option<Vec<u8>>, gz: &[u8], crc: fn(&[u8]) -> u32) -> Option<Vec<u8>> {
    out.filter(|o| crc(o) == trailer(gz).0)
}

fn miniz_crc32fast(gz: &[u8]) -> Option<Vec<u8>> {
    checked(miniz(gz), gz, crc32fast::hash)
}

fn zlib_crc32fast(gz: &[u8]) -> Option<Vec<u8>> {
    checked(zlib(gz), gz, crc32fast::hash)
}

fn zlib_own_crc(gz: &[u8]) -> Option<Vec<u8>> {
    checked(zlib(gz), gz, |o| zlib_rs::crc32::crc32(0, o))
}

fn zune(gz: &[u8]) -> Option<Vec<u8>> {
    let options = zune_inflate::DeflateOptions::default()
        .set_size_hint(trailer(gz).1)
        .set_confirm_checksum(true);
    zune_inflate::DeflateDecoder::new_with_options(gz, options)
        .decode_gzip()
        .ok()
}

/// The CRC alone, over an output decoded once (the row's time is the CRC's).
fn crc_alone(gz: &[u8], crc: fn(&[u8]) -> u32) -> Option<Vec<u8>> {
    OUT.with(|o| (crc(o.get_or_init(|| zlib(gz).unwrap())) == trailer(gz).0).then(Vec::new))
}

fn crc32fast_alone(gz: &[u8]) -> Option<Vec<u8>> {
    crc_alone(gz, crc32fast::hash)
}

fn zlib_crc_alone(gz: &[u8]) -> Option<Vec<u8>> {
    crc_alone(gz, |o| zlib_rs::crc32::crc32(0, o))
}

thread_local! {
    static OUT: std::cell::OnceCell<Vec<u8>> = const { std::cell::OnceCell::new() };
    static BODY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// wasm: room for the body, which the caller copies in before `run`.
#[no_mangle]
pub extern "C" fn body_alloc(len: usize) -> *mut u8 {
    BODY.with(|b| {
        *b.borrow_mut() = vec![0; len];
        b.borrow_mut().as_mut_ptr()
    })
}

/// wasm: runs candidate `case` once; its output's length, or -1 on failure.
#[no_mangle]
pub extern "C" fn run(case: usize) -> i64 {
    BODY.with(|b| match CANDIDATES[case].1(&b.borrow()) {
        Some(out) => out.len() as i64,
        None => -1,
    })
}
