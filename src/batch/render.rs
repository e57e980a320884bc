//! `AnyValue` → text, the way the ClickHouse exporter renders it.
//!
//! The exporter stores every attribute value and log body as a string through
//! pdata's `Value.AsString()`: strings raw, ints in decimal, bools as
//! `true`/`false`, doubles in the shortest round-trip form (exponent only
//! below 1e-6 or from 1e21: `1e-7`, `1e+21`), bytes as padded standard
//! base64, arrays and key-value lists as compact JSON with sorted keys.
//!
//! A top-level NaN or infinite double renders as `NaN`, `Infinity`,
//! `-Infinity`, as pdata has since collector PR #15138 (April 2026; an
//! error text before); inside an array or list it makes the whole value
//! `""`, as pdata's JSON encoder does.
//!
//! Each renderer has a matching `*_bound` giving an upper bound of its output
//! length, used to pre-size builders before any byte is written.

use base64::Engine;

use crate::model::{AnyValue, KeyValue};

/// Appends the text form of `v` to `out`.
pub fn text(v: &AnyValue<'_>, out: &mut Vec<u8>) {
    match v {
        AnyValue::Empty => {}
        AnyValue::Str(s) => out.extend_from_slice(s.as_bytes()),
        AnyValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AnyValue::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        AnyValue::Double(d) => double(*d, out),
        AnyValue::Bytes(b) => base64_into(b, out),
        AnyValue::Array(_) | AnyValue::KvList(_) => {
            let start = out.len();
            if json(v, out).is_err() {
                // pdata's json.Marshal fails on a non-finite double inside a
                // container, and the exporter then stores "".
                out.truncate(start);
            }
        }
    }
}

/// An upper bound of the length `text(v)` appends.
pub fn text_bound(v: &AnyValue<'_>) -> usize {
    match v {
        AnyValue::Empty => 0,
        AnyValue::Str(s) => s.len(),
        AnyValue::Bool(_) => 5,
        AnyValue::Int(_) => 20,
        AnyValue::Double(_) => DOUBLE_BOUND,
        AnyValue::Bytes(b) => base64_len(b.len()),
        AnyValue::Array(_) | AnyValue::KvList(_) => json_bound(v),
    }
}

/// Longest output of [`double`]: `-0.0000012345678901234567` is 25 bytes.
const DOUBLE_BOUND: usize = 26;

/// A double as Go's `encoding/json` (ES6) formats it.
///
/// The shortest round-trip digits come from `zmij` (already linked through
/// `serde_json`; ~4× faster than `core::fmt` here), then are laid out the
/// way Go does: plain decimal in [1e-6, 1e21), else `d.ddde±x`. When two
/// shortest forms are equally near (the value is a tie), Go, ES6 and zmij
/// take the even digit; `core::fmt` does not (`1658206780088562.25` →
/// Go `…562.2`, `{}` `…562.3`). A test checks this against `core::fmt` on
/// random bit patterns.
pub fn double(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    let mut fmt = zmij::Buffer::new();
    let s = fmt.format_finite(d);
    // Most values: zmij writes them in plain decimal already (from 1e-5 to
    // below 1e16), the same digits as Go's, only with ".0" after an integer
    // (transform of 10k logs: its doubles 4.2 → 2.5 M instructions).
    if !s.as_bytes().contains(&b'e') && (d == 0.0 || (1e-6..1e21).contains(&d.abs())) {
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
        return;
    }
    let (buf, len, point) = shortest_digits(s.as_bytes());
    let digits = &buf[..len];
    if d.is_sign_negative() {
        out.push(b'-');
    }
    let n = digits.len() as i32;
    let abs = d.abs();
    if digits.is_empty() {
        out.push(b'0');
    } else if !(1e-6..1e21).contains(&abs) {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let e = point - 1;
        out.extend_from_slice(if e < 0 { b"e-" } else { b"e+" });
        out.extend_from_slice(itoa::Buffer::new().format(e.unsigned_abs()).as_bytes());
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-point) as usize, b'0');
        out.extend_from_slice(digits);
    } else if point >= n {
        out.extend_from_slice(digits);
        out.resize(out.len() + (point - n) as usize, b'0');
    } else {
        out.extend_from_slice(&digits[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[point as usize..]);
    }
}

/// Splits a formatted finite float (`-12.5`, `1.5e-7`, `1e21`…) into its
/// significant digits, without leading or trailing zeros, and the decimal
/// point's position: the value is `0.DIGITS × 10^point`. No digits for zero.
/// Returns the digits buffer, their count and the point.
fn shortest_digits(s: &[u8]) -> ([u8; 24], usize, i32) {
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let (mantissa, exp) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let int_len = mantissa
        .iter()
        .position(|&c| c == b'.')
        .unwrap_or(mantissa.len()) as i32;
    // At most 17 significant digits plus zeros around them (`0.000001`).
    let mut digits = [0u8; 24];
    let (mut n, mut lead) = (0usize, 0i32);
    for &c in mantissa.iter().filter(|&&c| c != b'.') {
        if n == 0 && c == b'0' {
            lead += 1;
        } else if n < digits.len() {
            digits[n] = c;
            n += 1;
        }
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }
    (digits, n, int_len - lead + exp)
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = s
        .iter()
        .fold(0i32, |v, &c| v * 10 + i32::from(c.wrapping_sub(b'0')));
    if neg {
        -v
    } else {
        v
    }
}

fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

fn base64_into(b: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + base64_len(b.len()), 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(b, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

/// Marker: a non-finite double inside a container.
struct NonFinite;

fn json(v: &AnyValue<'_>, out: &mut Vec<u8>) -> Result<(), NonFinite> {
    match v {
        AnyValue::Empty => out.extend_from_slice(b"null"),
        AnyValue::Str(s) => json_str(s, out),
        AnyValue::Bool(_) | AnyValue::Int(_) => text(v, out),
        AnyValue::Double(d) => {
            if !d.is_finite() {
                return Err(NonFinite);
            }
            double(*d, out);
        }
        // pdata's `ByteSlice.AsRaw()` of an empty slice is a nil []byte,
        // which encoding/json writes as null.
        AnyValue::Bytes(b) if b.is_empty() => out.extend_from_slice(b"null"),
        AnyValue::Bytes(b) => {
            out.push(b'"');
            base64_into(b, out);
            out.push(b'"');
        }
        AnyValue::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json(item, out)?;
            }
            out.push(b']');
        }
        AnyValue::KvList(kvs) => {
            // Go maps marshal with sorted keys; a repeated key keeps its last value.
            let sorted: Vec<&KeyValue<'_>> = match KeyOrder::default().of(kvs) {
                Some(order) => order.iter().map(|&i| &kvs[i as usize]).collect(),
                None => kvs.iter().collect(),
            };
            out.push(b'{');
            let mut first = true;
            for (i, kv) in sorted.iter().enumerate() {
                if sorted.get(i + 1).is_some_and(|next| next.key == kv.key) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                json_str(&kv.key, out);
                out.push(b':');
                json(&kv.value, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// The order in which the ClickHouse exporter stores the entries of a map
/// (and Go marshals a map's keys): by key, bytewise (clickhouse-go's
/// ordered map sorts the entries it collects). ClickHouse compares maps
/// entry by entry (`GROUP BY Attributes`, a hash of them), so the order is
/// part of the value. Entries of one key keep their request order: this
/// crate's choice, as the exporter's sort is not stable past 12 entries.
///
/// Keys are compared by their first eight bytes first ([`prefix`]), and
/// whole only where those are equal. The last two lists' orders are kept:
/// a list whose keys have the prefixes of one of them takes that order
/// without a sort when its neighbours in that order that share a prefix
/// (`exception.type`, `exception.message`) are still in order (the records
/// of one instrumentation carry the same keys in the same order, and a
/// request mixes a few such shapes). Sorting every list, keys compared
/// whole, cost 7 % of a logs request (callgrind, 10k records of five to
/// eight attributes).
#[derive(Debug, Default)]
pub(super) struct KeyOrder {
    /// The last list's shape, then the one before.
    shapes: [Shape; 2],
}

/// A list's keys as [`KeyOrder`] keeps them.
#[derive(Debug, Default)]
struct Shape {
    /// The key prefixes, in the list's order.
    prefixes: Vec<u64>,
    /// The indexes in key order; empty when the list was in order.
    order: Vec<u32>,
    /// The neighbours in key order whose prefixes are equal: only their
    /// whole keys tell whether another list of these prefixes has this
    /// order.
    ties: Vec<(u32, u32)>,
}

impl Shape {
    /// Whether `kvs` sort in this shape's order: the same prefixes, and
    /// each tied pair in order, by key and then (equal keys) by index.
    /// That suffices: a permutation whose every neighbouring pair is in
    /// that order is the stable sort.
    #[inline(always)]
    fn fits(&self, kvs: &[KeyValue<'_>]) -> bool {
        let in_order = |a: u32, b: u32| (&kvs[a as usize].key, a) <= (&kvs[b as usize].key, b);
        self.prefixes.len() == kvs.len()
            && (kvs.iter().zip(&self.prefixes)).all(|(kv, &p)| prefix(&kv.key) == p)
            && (self.ties.iter()).all(|&(a, b)| in_order(a, b))
    }

    /// Becomes the shape of `kvs`: sorts them.
    fn sort(&mut self, kvs: &[KeyValue<'_>]) {
        self.prefixes.clear();
        self.prefixes.extend(kvs.iter().map(|kv| prefix(&kv.key)));
        self.order.clear();
        self.order.extend(0..kvs.len() as u32);
        let p = &self.prefixes;
        let at = |i: u32| (p[i as usize], &kvs[i as usize].key);
        // Stable; a list of up to 20 is sorted by insertion, unallocated.
        self.order.sort_by(|&a, &b| at(a).cmp(&at(b)));
        self.ties.clear();
        let tied = |w: &[u32]| p[w[0] as usize] == p[w[1] as usize];
        (self.ties).extend(
            self.order
                .windows(2)
                .filter(|w| tied(w))
                .map(|w| (w[0], w[1])),
        );
        if (self.order.iter().enumerate()).all(|(i, &o)| o as usize == i) {
            self.order.clear();
        }
    }
}

impl KeyOrder {
    /// The indexes of `kvs` in key order; `None` when they are in it
    /// already (the Go and Java SDKs sort their attributes).
    #[inline(never)]
    pub(super) fn of(&mut self, kvs: &[KeyValue<'_>]) -> Option<&[u32]> {
        if kvs.len() < 2 {
            return None;
        }
        if !self.shapes[0].fits(kvs) {
            if !self.shapes[1].fits(kvs) {
                self.shapes[1].sort(kvs);
            }
            self.shapes.swap(0, 1);
        }
        let order = &self.shapes[0].order;
        (!order.is_empty()).then_some(&order[..])
    }
}

/// A key's first eight bytes as a big-endian number, zero-padded: two keys
/// whose numbers differ compare as those do (a shorter key pads with the
/// lowest byte), and only equal numbers need the keys compared whole.
#[inline(always)]
fn prefix(key: &str) -> u64 {
    let b = key.as_bytes();
    match b.get(..8) {
        Some(head) => u64::from_be_bytes(head.try_into().unwrap_or_default()),
        None => (b.iter().enumerate()).fold(0, |v, (i, &c)| v | u64::from(c) << (56 - 8 * i)),
    }
}

fn json_bound(v: &AnyValue<'_>) -> usize {
    match v {
        AnyValue::Empty => 4,
        AnyValue::Str(s) => json_str_bound(s),
        AnyValue::Bytes(b) => (base64_len(b.len()) + 2).max(4),
        AnyValue::Array(items) => 2 + items.iter().map(|i| json_bound(i) + 1).sum::<usize>(),
        AnyValue::KvList(kvs) => {
            2 + kvs
                .iter()
                .map(|kv| json_str_bound(&kv.key) + 2 + json_bound(&kv.value))
                .sum::<usize>()
        }
        other => text_bound(other),
    }
}

fn json_str_bound(s: &str) -> usize {
    // Worst case every byte becomes a six-byte \u00XX escape.
    s.len() * 6 + 2
}

/// A JSON string literal with Go `encoding/json` escapes (HTML left as is,
/// as current pdata does; U+2028 and U+2029 escaped).
fn json_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
            0xe2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                b""
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            if c == 0xe2 {
                out.extend_from_slice(if bytes[i + 2] == 0xa8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                start = i + 3;
                continue;
            }
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 15) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    proptest::proptest! {
        /// The order is a stable sort by key bytes, for keys that share
        /// eight-byte prefixes, end inside them, hold zero bytes, short
        /// lists and long ones; and so after a list of the same prefixes
        /// (whose order it may take) whose keys differ past them.
        #[test]
        fn key_order_is_the_stable_sort_by_key(
            keys in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["", "ab", "abcdefg", "abcdefgh", "abcdefgi", "é"]),
                    proptest::collection::vec(proptest::sample::select(vec!['\0', 'a', 'b', 'é']), 0..4),
                    proptest::bool::ANY,
                ),
                0..40,
            )
        ) {
            let list = |tails: bool| -> Vec<KeyValue<'static>> {
                (keys.iter())
                    .map(|(head, k, tail)| {
                        let mut key: String = head.to_string();
                        key.extend(k);
                        if tails && *tail {
                            key.push('b');
                        }
                        KeyValue { key: Cow::Owned(key), value: AnyValue::Empty }
                    })
                    .collect()
            };
            let stable = |kvs: &[KeyValue<'_>]| {
                let mut want: Vec<u32> = (0..kvs.len() as u32).collect();
                want.sort_by(|&a, &b| kvs[a as usize].key.cmp(&kvs[b as usize].key));
                want
            };
            let mut orders = KeyOrder::default();
            let mut got = |kvs: &[KeyValue<'_>]| match orders.of(kvs) {
                Some(order) => order.to_vec(),
                None => (0..kvs.len() as u32).collect(),
            };
            let (first, second) = (list(false), list(true));
            proptest::prop_assert_eq!(got(&first), stable(&first));
            proptest::prop_assert_eq!(got(&second), stable(&second));
            proptest::prop_assert_eq!(got(&second), stable(&second));
        }
    }

    /// A kept order whose tied pair is reversed (`exception.type` after
    /// `exception.message`) is not taken by a list whose pair holds one key
    /// twice: those keep their request order.
    #[test]
    fn repeated_keys_keep_request_order_after_a_reversed_tie() {
        let list = |keys: &[&str]| -> Vec<KeyValue<'static>> {
            (keys.iter())
                .map(|k| KeyValue {
                    key: Cow::Owned(k.to_string()),
                    value: AnyValue::Empty,
                })
                .collect()
        };
        let mut orders = KeyOrder::default();
        let first = list(&["exception.type", "exception.message"]);
        assert_eq!(orders.of(&first), Some(&[1, 0][..]));
        let twice = list(&["exception.type", "exception.type"]);
        assert_eq!(orders.of(&twice), None);
    }

    fn t(v: AnyValue<'_>) -> String {
        let mut out = Vec::new();
        text(&v, &mut out);
        assert!(out.len() <= text_bound(&v), "bound too small for {v:?}");
        String::from_utf8(out).unwrap()
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values, written out
    fn doubles_match_go_encoding_json() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.0, "-0"),
            (123456789.0, "123456789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (-1.2345678901234567e-6, "-0.0000012345678901234567"),
            // A tie: Go (and ES6) round half to even.
            (1658206780088562.25, "1658206780088562.2"),
        ];
        for (d, want) in cases {
            assert_eq!(t(AnyValue::Double(d)), want, "{d}");
        }
    }

    /// The old `core::fmt` renderer, kept as the oracle for [`double`].
    fn double_std(d: f64) -> String {
        let abs = d.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            let s = format!("{d:e}");
            match s.split_once('e') {
                Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                _ => s,
            }
        } else {
            format!("{d}")
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values, written out
    fn doubles_match_core_fmt_on_random_bits() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut ties = 0;
        let mut check = |d: f64| {
            if !d.is_finite() {
                return;
            }
            let (ours, std) = (t(AnyValue::Double(d)), double_std(d));
            if ours != std {
                // Only a tie may differ: same length, both exact round
                // trips, and ours ends in the even digit.
                ties += 1;
                assert_eq!(ours.len(), std.len(), "{d:e}: {ours} vs {std}");
                assert_eq!(ours.parse::<f64>().unwrap(), d, "{ours}");
                let mantissa = ours.split('e').next().unwrap_or_default();
                let significant = mantissa.trim_end_matches(['0', '.']);
                assert!(
                    significant.ends_with(['2', '4', '6', '8']),
                    "{d:e}: {ours} vs {std}"
                );
            }
        };
        for i in 0..200_000u64 {
            // xorshift64: spreads over every exponent and sign.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(f64::from_bits(x));
            // Short decimals like real measurements (12.34, 0.001…).
            check((x % 1_000_000) as f64 / [1.0, 10.0, 100.0, 1e4, 1e7][(i % 5) as usize]);
        }
        for d in [
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            1e-6,
            9.999999999999999e-7,
            1e21,
            9.999999999999999e20,
            1e15,
            1e16,
            1e17,
            123e-9,
        ] {
            check(d);
            check(-d);
        }
        assert!(ties < 100, "{ties} ties in 400k values");
    }

    #[test]
    fn scalars_and_containers() {
        assert_eq!(t(AnyValue::Int(-42)), "-42");
        assert_eq!(t(AnyValue::Bool(true)), "true");
        assert_eq!(t(AnyValue::Bytes(Cow::Borrowed(b"hi!?"))), "aGkhPw==");
        let kv = |k: &'static str, v| KeyValue {
            key: Cow::Borrowed(k),
            value: v,
        };
        let v = AnyValue::KvList(vec![
            kv("z", AnyValue::Str("a\"b\n<&>\u{2028}".into())),
            kv(
                "a",
                AnyValue::Array(vec![
                    AnyValue::Int(1),
                    AnyValue::Double(2.5),
                    AnyValue::Empty,
                ]),
            ),
            kv("z", AnyValue::Bool(false)),
        ]);
        assert_eq!(t(v), r#"{"a":[1,2.5,null],"z":false}"#);
        let s = AnyValue::Array(vec![AnyValue::Str("a\"b\n<&>\u{2028}\u{1}".into())]);
        assert_eq!(t(s), r#"["a\"b\n<&>\u2028\u0001"]"#);
        assert_eq!(t(AnyValue::Array(vec![AnyValue::Double(f64::NAN)])), "");
        // Empty bytes: "" alone, null inside a container (a nil []byte in Go).
        assert_eq!(t(AnyValue::Bytes(Cow::Borrowed(b""))), "");
        assert_eq!(
            t(AnyValue::Array(vec![AnyValue::Bytes(Cow::Borrowed(b""))])),
            "[null]"
        );
    }
}
