//! The request body: content negotiation and bounded gzip inflation.
//!
//! Runs first, before any decoding: the size limits are checked here, and a
//! gzip body is inflated with the output capped *while* inflating, so a gzip
//! bomb never allocates past [`crate::Limits::max_inflated_bytes`].

use std::borrow::Cow;

use crate::error::{Error, Result};

/// The two OTLP/HTTP body encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`
    Protobuf,
    /// `application/json` (OTLP/JSON)
    Json,
}

impl Encoding {
    /// Parses a `Content-Type` header. Parameters (`; charset=utf-8`) and
    /// case are ignored. `application/protobuf` is accepted as protobuf.
    pub fn from_content_type(value: &str) -> Result<Encoding> {
        let media = media_type(value);
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case(PROTOBUF_ALIAS)
        {
            Ok(Encoding::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json") {
            Ok(Encoding::Json)
        } else {
            Err(Error::UnsupportedContentType(truncate(value, 64).into()))
        }
    }

    /// The `Content-Type` of a response in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// The `Content-Type` of a response in this encoding to a request
    /// whose `Content-Type` was `request`: OTLP/HTTP answers in the
    /// request's, and protobuf has two names.
    pub fn reply_content_type(self, request: Option<&str>) -> &'static str {
        match self {
            Encoding::Protobuf
                if request.is_some_and(|r| media_type(r).eq_ignore_ascii_case(PROTOBUF_ALIAS)) =>
            {
                PROTOBUF_ALIAS
            }
            e => e.content_type(),
        }
    }
}

/// The other name of protobuf's media type, accepted as a request's.
const PROTOBUF_ALIAS: &str = "application/protobuf";

/// A `Content-Type`'s media type: without its parameters and spaces.
fn media_type(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

/// Parses a `Content-Encoding` header: true for gzip, false for none.
pub fn is_gzip(content_encoding: Option<&str>) -> Result<bool> {
    match content_encoding.map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("identity") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") => Ok(true),
        Some(v) => Err(Error::UnsupportedContentEncoding(truncate(v, 64).into())),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks the body size, then inflates it when `gzip` is set.
///
/// The inflated buffer never holds more than `max_inflated` bytes: growth is
/// capped at the limit, and one byte past it is an [`Error::InflatedTooLarge`].
/// Cost: one pass over the output; the gzip size trailer is used only as a
/// capacity hint (clamped to the limit), never trusted.
pub fn prepare(
    body: &[u8],
    gzip: bool,
    max_body: usize,
    max_inflated: usize,
) -> Result<Cow<'_, [u8]>> {
    prepare_charged(body, gzip, max_body, max_inflated, &mut |_| true)
}

/// [`prepare`], telling `charge` each size the inflated buffer is about to
/// be allocated or grown to (see [`inflate_charged`]).
pub fn prepare_charged<'b>(
    body: &'b [u8],
    gzip: bool,
    max_body: usize,
    max_inflated: usize,
    charge: &mut dyn FnMut(usize) -> bool,
) -> Result<Cow<'b, [u8]>> {
    if body.len() > max_body {
        return Err(Error::BodyTooLarge {
            size: body.len(),
            limit: max_body,
        });
    }
    if !gzip {
        // An uncompressed body is its own inflated size.
        if body.len() > max_inflated {
            return Err(Error::BodyTooLarge {
                size: body.len(),
                limit: max_inflated,
            });
        }
        return Ok(Cow::Borrowed(body));
    }
    inflate_charged(body, max_inflated, charge).map(Cow::Owned)
}

/// The size `body` says it inflates to: its gzip size trailer (ISIZE, the
/// last member's size mod 2^32), at most 1,032 times the body (deflate's
/// largest expansion: a larger trailer is a lie) and one byte past
/// `limit`; 0 for a body that is not gzip (too short, or not its magic).
/// [`inflate`] reserves it (at least 64 KiB) before inflating. A hint
/// only: a lie is caught by what inflating finds.
fn inflated_hint(body: &[u8], limit: usize) -> usize {
    let tail = match body {
        [0x1f, 0x8b, ..] if body.len() >= 18 => &body[body.len() - 4..],
        _ => return 0,
    };
    let hint = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    (hint as usize)
        .min(body.len().saturating_mul(1032))
        .min(limit.saturating_add(1))
}

/// Inflates a (possibly multi-member) gzip body into at most `limit` bytes,
/// the whole body at once: each member's raw deflate stream is inflated by
/// `zlib-rs` straight into the output buffer's spare capacity (never zeroed),
/// which is sized from the gzip size trailer and grown only when that hint
/// was short. RFC 1952: every member's header is checked, and its CRC-32 and
/// size trailer must match what it inflated to. Chosen by measurement over
/// `miniz_oxide` (0.66× its time natively, 0.54× in workerd, CRC included)
/// and `zune-inflate` (`make bench-inflate`, docs/performance.md).
pub fn inflate(body: &[u8], limit: usize) -> Result<Vec<u8>> {
    inflate_charged(body, limit, &mut |_| true)
}

/// [`inflate`], asking `charge` before the output buffer is allocated and
/// before each time it grows, with the capacity it is about to have (the
/// Worker charges it to the isolate's memory budget): a refusal is
/// [`Error::Busy`], before that memory is taken. The size trailer a sender
/// wrote only sizes the first allocation, so a trailer that lies, or a body
/// of several members, is charged as it really inflates.
pub fn inflate_charged(
    body: &[u8],
    limit: usize,
    charge: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<u8>> {
    use zlib_rs::{Inflate, InflateError, InflateFlush, Status};

    if body.len() < 18 || body[0] != 0x1f || body[1] != 0x8b {
        return Err(Error::Gzip(
            "not a gzip stream (bad magic or too short)".into(),
        ));
    }
    // One byte past the limit tells "exactly at the limit" from "over it".
    let cap = limit.saturating_add(1);
    let hint = inflated_hint(body, limit);
    let first = hint.max(64 * 1024).min(cap);
    if !charge(first) {
        return Err(Error::Busy {
            bytes: first as u64,
        });
    }
    let mut out: Vec<u8> = Vec::with_capacity(first);
    let mut pos = 0;
    // Raw deflate (no zlib header), a 32 KiB window: its state is on the heap.
    let mut inflater = Inflate::new(false, 15);
    while pos < body.len() {
        pos += member_header(&body[pos..])?;
        let start = out.len(); // <= limit: checked after each member
        inflater.reset(false);
        loop {
            if out.len() == cap.min(out.capacity()) {
                if out.len() >= cap {
                    return Err(Error::InflatedTooLarge { limit });
                }
                // Doubling, so that a short hint costs O(output) copies.
                let more = out.len().max(64 * 1024).min(cap - out.len());
                if !charge(out.len() + more) {
                    return Err(Error::Busy {
                        bytes: (out.len() + more) as u64,
                    });
                }
                out.reserve_exact(more);
            }
            let room = cap.min(out.capacity()) - out.len();
            let (was_in, was_out) = (inflater.total_in(), inflater.total_out());
            let status = inflater.decompress_uninit(
                &body[pos..],
                &mut out.spare_capacity_mut()[..room],
                InflateFlush::NoFlush,
            );
            let read = (inflater.total_in() - was_in) as usize;
            let wrote = (inflater.total_out() - was_out) as usize;
            pos += read;
            // SAFETY: zlib-rs initialised the `wrote` bytes after `len`.
            unsafe { out.set_len(out.len() + wrote) };
            match status {
                Ok(Status::StreamEnd) => break,
                // Output full: grow it (or refuse) and go on.
                Ok(_) if wrote == room => {}
                // Stopped with room left and nothing more to read: the
                // stream ends before its last block does.
                Ok(_) if pos == body.len() => {
                    return Err(Error::Gzip("truncated gzip stream".into()))
                }
                Ok(_) if read == 0 && wrote == 0 => {
                    return Err(Error::Gzip("corrupt deflate stream (no progress)".into()))
                }
                Ok(_) => {}
                Err(InflateError::DataError) => {
                    let why = inflater.error_message().unwrap_or("invalid data");
                    return Err(Error::Gzip(format!("corrupt deflate stream ({why})")));
                }
                Err(other) => {
                    return Err(Error::Gzip(format!(
                        "corrupt deflate stream ({})",
                        other.as_str()
                    )))
                }
            }
        }
        if out.len() > limit {
            return Err(Error::InflatedTooLarge { limit });
        }
        let Some(trailer) = body.get(pos..pos + 8) else {
            return Err(Error::Gzip("truncated gzip stream (no trailer)".into()));
        };
        pos += 8;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        let member = &out[start..];
        if crc32(member) != crc {
            return Err(Error::Gzip("CRC-32 mismatch".into()));
        }
        if member.len() as u32 != size {
            return Err(Error::Gzip("size trailer mismatch".into()));
        }
    }
    Ok(out)
}

/// CRC-32 (ISO-HDLC, gzip's): zlib-rs's braided tables in wasm32, which
/// took 0.72× crc32fast's time in workerd (`make bench-inflate`), and its
/// carry-less-multiply code natively.
fn crc32(bytes: &[u8]) -> u32 {
    zlib_rs::crc32::crc32(0, bytes)
}

/// The length of the gzip member header at the start of `b` (RFC 1952 2.3).
fn member_header(b: &[u8]) -> Result<usize> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    const MAX_FIELD: usize = 65_535;
    let bad = |what: &str| Error::Gzip(format!("invalid gzip header: {what}"));
    if b.len() < 10 || b[0] != 0x1f || b[1] != 0x8b {
        return Err(bad("bad magic"));
    }
    if b[2] != 8 {
        return Err(bad("compression method is not deflate"));
    }
    let flags = b[3];
    if flags & 0xe0 != 0 {
        return Err(bad("reserved flag bits set"));
    }
    let mut n = 10;
    if flags & FEXTRA != 0 {
        let len = b.get(n..n + 2).ok_or_else(|| bad("truncated"))?;
        n += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = b.get(n..).ok_or_else(|| bad("truncated"))?;
            let len = rest
                .iter()
                .position(|&c| c == 0)
                .ok_or_else(|| bad("truncated"))?;
            // flate2's bound, so that the two agree on every stream.
            if len > MAX_FIELD {
                return Err(bad("file name or comment longer than 65,535 bytes"));
            }
            n += 1 + len;
        }
    }
    if flags & FHCRC != 0 {
        // The low 16 bits of the CRC-32 of the header bytes before it.
        let stored = b.get(n..n + 2).ok_or_else(|| bad("truncated"))?;
        if u16::from_le_bytes([stored[0], stored[1]]) != crc32(&b[..n]) as u16 {
            return Err(bad("header CRC-16 mismatch"));
        }
        n += 2;
    }
    if n > b.len() {
        return Err(bad("truncated"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A gzip member with every optional header field (RFC 1952 2.3.1),
    /// the header CRC-16 included (flate2 writes all but that one).
    fn gz_with_header_fields(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::GzBuilder::new()
            .filename("f.pb")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        let mut body = e.finish().unwrap();
        let header = 10 + 2 + 3 + b"f.pb\0".len() + b"c\0".len();
        body[3] |= 2; // FHCRC
        let mut crc = flate2::Crc::new();
        crc.update(&body[..header]);
        let crc = crc.sum() as u16;
        body.splice(header..header, crc.to_le_bytes());
        body
    }

    fn sample(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| (i * 7 % 251) as u8 ^ (i >> 9) as u8)
            .collect()
    }

    #[test]
    fn inflate_reads_what_flate2_writes() {
        for n in [0, 1, 1000, 70_000, 1 << 20] {
            let data = sample(n);
            for level in [
                Compression::none(),
                Compression::fast(),
                Compression::best(),
            ] {
                let mut e = GzEncoder::new(Vec::new(), level);
                e.write_all(&data).unwrap();
                assert_eq!(
                    inflate(&e.finish().unwrap(), usize::MAX).unwrap(),
                    data,
                    "{n}"
                );
            }
            assert_eq!(
                inflate(&gz_with_header_fields(&data), usize::MAX).unwrap(),
                data,
                "{n}"
            );
        }
        // Several members, the last one small: the size hint is short.
        let (a, b) = (sample(300_000), sample(10));
        let body = [gz(&a), gz_with_header_fields(&b), gz(&a)].concat();
        let want = [a.clone(), b, a].concat();
        assert_eq!(inflate(&body, usize::MAX).unwrap(), want);
    }

    /// 100,000 empty members before one of 8 MiB (whose size the trailer
    /// hint gives) cost a reset each, not a pass over the output buffer. A
    /// guard against the quadratic case, not a speed target: touching 8 MiB
    /// per member would be 800 GiB, over a minute at memset's speed; done
    /// right it is a second or two even in a debug build.
    #[test]
    fn many_members_stay_linear() {
        let big = sample(8 << 20);
        let body = [gz(b"").repeat(100_000), gz(&big)].concat();
        let started = std::time::Instant::now();
        assert_eq!(inflate(&body, 16 << 20).unwrap(), big);
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn inflate_stops_at_the_limit() {
        let data = sample(100_000);
        let body = gz(&data);
        assert_eq!(inflate(&body, 100_000).unwrap().len(), 100_000);
        assert!(matches!(
            inflate(&body, 99_999),
            Err(Error::InflatedTooLarge { limit: 99_999 })
        ));
        // A trailer that lies about the size changes nothing but the hint.
        let mut lying = body.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            inflate(&lying, 1 << 30),
            Err(Error::Gzip(m)) if m.contains("size trailer")
        ));
    }

    #[test]
    fn inflate_checks_the_stream() {
        let body = gz(&sample(5000));
        let err = |b: &[u8]| match inflate(b, usize::MAX) {
            Err(Error::Gzip(m)) => m,
            other => panic!("{other:?}"),
        };
        let n = body.len();
        let mut crc = body.clone();
        crc[n - 8] ^= 1;
        assert!(err(&crc).contains("CRC-32"));
        assert!(err(&body[..n - 3]).contains("truncated"));
        assert!(err(&body[..n / 2]).contains("truncated"));
        let mut method = body.clone();
        method[2] = 7;
        assert!(err(&method).contains("not deflate"));
        let mut reserved = body.clone();
        reserved[3] |= 0x80;
        assert!(err(&reserved).contains("reserved"));
        let mut corrupt = body.clone();
        corrupt[10] = 0xff; // block type 3 is invalid
        assert!(err(&corrupt).contains("deflate"));
        let mut header_crc = gz_with_header_fields(b"x");
        header_crc[22] ^= 1;
        assert!(err(&header_crc).contains("header CRC-16"));
        let named = |len: usize| {
            let name = "n".repeat(len);
            let mut e = flate2::GzBuilder::new()
                .filename(name.as_str())
                .write(Vec::new(), Compression::fast());
            e.write_all(b"x").unwrap();
            e.finish().unwrap()
        };
        assert_eq!(inflate(&named(65_535), usize::MAX).unwrap(), b"x");
        assert!(err(&named(65_536)).contains("65,535"));
        // Trailing bytes that are not another member.
        let trailing = [body.clone(), b"garbage!!!".to_vec()].concat();
        assert!(err(&trailing).contains("header"));
        assert!(err(b"\x1f\x8b\x08\x00").contains("not a gzip stream"));
    }

    #[test]
    fn content_types_tolerate_parameters_and_case() {
        assert_eq!(
            Encoding::from_content_type("Application/X-Protobuf; charset=utf-8").unwrap(),
            Encoding::Protobuf
        );
        assert_eq!(
            Encoding::from_content_type("application/json;charset=UTF-8").unwrap(),
            Encoding::Json
        );
        assert!(matches!(
            Encoding::from_content_type("text/plain"),
            Err(Error::UnsupportedContentType(_))
        ));
    }

    #[test]
    fn content_encodings() {
        assert!(!is_gzip(None).unwrap());
        assert!(is_gzip(Some("GZIP")).unwrap());
        assert!(matches!(
            is_gzip(Some("br")),
            Err(Error::UnsupportedContentEncoding(_))
        ));
    }

    #[test]
    fn inflates_within_the_limit_exactly() {
        let data = vec![7u8; 100_000];
        assert_eq!(inflate(&gz(&data), 100_000).unwrap(), data);
        assert!(matches!(
            inflate(&gz(&data), 99_999),
            Err(Error::InflatedTooLarge { limit: 99_999 })
        ));
    }

    #[test]
    fn tiny_limits_are_enforced_not_truncated() {
        for limit in [0, 1, 5, 63, 64, 65] {
            let data = vec![3u8; 100];
            assert!(
                matches!(
                    inflate(&gz(&data), limit),
                    Err(Error::InflatedTooLarge { .. })
                ),
                "limit {limit}"
            );
        }
        assert_eq!(inflate(&gz(b"abc"), 3).unwrap(), b"abc");
    }

    #[test]
    fn gzip_bomb_never_allocates_past_the_cap() {
        // 64 MiB of zeros compresses to ~64 KiB; the cap is 1 MiB.
        let bomb = gz(&vec![0u8; 64 << 20]);
        let err = inflate(&bomb, 1 << 20).unwrap_err();
        assert!(matches!(err, Error::InflatedTooLarge { .. }));
    }

    #[test]
    fn lying_size_trailer_is_only_a_hint() {
        let mut g = gz(b"hello");
        let n = g.len();
        g[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        // The stream is now corrupt (ISIZE mismatch) but nothing huge is allocated.
        assert!(inflate(&g, 1 << 20).is_err());
    }

    #[test]
    fn multi_member_and_garbage() {
        let mut two = gz(b"ab");
        two.extend(gz(b"cd"));
        assert_eq!(inflate(&two, 10).unwrap(), b"abcd");
        assert!(matches!(
            inflate(b"not gzip at all, no", 10),
            Err(Error::Gzip(_))
        ));
        let mut truncated = gz(&[1u8; 1000]);
        truncated.truncate(truncated.len() - 6);
        assert!(matches!(inflate(&truncated, 10_000), Err(Error::Gzip(_))));
    }
}
