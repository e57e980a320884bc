//! The request body: content negotiation and bounded gzip inflation.
//!
//! Runs first, before any decoding: the size limits are checked here, and a
//! gzip body is inflated with the output capped *while* inflating, so a gzip
//! bomb never allocates past [`crate::Limits::max_inflated_bytes`].

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;

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
        let media = value.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
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
    inflate(body, max_inflated).map(Cow::Owned)
}

/// Inflates a (possibly multi-member) gzip body into at most `limit` bytes.
pub fn inflate(body: &[u8], limit: usize) -> Result<Vec<u8>> {
    if body.len() < 18 || body[0] != 0x1f || body[1] != 0x8b {
        return Err(Error::Gzip(
            "not a gzip stream (bad magic or too short)".into(),
        ));
    }
    // ISIZE: the last member's uncompressed size mod 2^32. A hint only.
    let tail = &body[body.len() - 4..];
    let hint = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize;
    let mut out: Vec<u8> = Vec::with_capacity(hint.min(limit));
    let mut decoder = MultiGzDecoder::new(body);
    loop {
        if out.len() >= limit {
            // Full: one more byte means the body is too large.
            let mut probe = [0u8; 1];
            match decoder.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => return Err(Error::InflatedTooLarge { limit }),
                Err(e) => return Err(Error::Gzip(e.to_string())),
            }
        }
        if out.len() == out.capacity() {
            // Grow geometrically, never past the limit.
            let grow = out.capacity().max(64 * 1024).min(limit - out.len());
            out.reserve_exact(grow);
        }
        let len = out.len();
        // 0 < room: len < limit and len < capacity here.
        let room = out.capacity().min(limit) - len;
        out.resize(len + room, 0);
        match decoder.read(&mut out[len..]) {
            Ok(0) => {
                out.truncate(len);
                break;
            }
            Ok(n) => out.truncate(len + n),
            Err(e) => return Err(Error::Gzip(e.to_string())),
        }
    }
    Ok(out)
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
