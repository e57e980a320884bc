//! OTLP/JSON scalars: each reader takes one JSON value as OTLP/JSON allows
//! it (integers as numbers or strings, doubles with `"NaN"` and the
//! infinities, enums by number or proto name, ids in hex or base64, base64
//! bytes), and all accept `null` as the default value.
//!
//! Nothing here knows which field it reads, and no error quotes the value it
//! read (it could be anything the sender put there, a secret included):
//! messages name the type expected, and the kind of value met, and
//! [`Parser`] adds the position.

use base64::Engine;

use super::lex::{Parser, Scalar};
use crate::error::Result;
use crate::model::{
    Str, AGGREGATION_TEMPORALITY_NAMES, SEVERITY_NUMBER_NAMES, SPAN_KIND_NAMES, STATUS_CODE_NAMES,
};

/// An integer type of an OTLP field, which OTLP/JSON may send as a number
/// or a decimal string.
pub(super) trait JsonInt: Copy + TryFrom<i128> {
    const NAME: &'static str;
    const ZERO: Self;
}

macro_rules! json_int {
    ($($t:ty),*) => {$(
        impl JsonInt for $t {
            const NAME: &'static str = stringify!($t);
            const ZERO: Self = 0;
        }
    )*};
}
json_int!(u64, i64, u32, i32);

/// A double: a number, a numeric string, or `"NaN"` / `"Infinity"` / `"-Infinity"`.
const DOUBLE: &str = "a double, \"NaN\", \"Infinity\" or \"-Infinity\"";

impl<'a> Parser<'a, '_> {
    /// A string (`null` is empty).
    #[inline]
    pub(super) fn str(&mut self) -> Result<Str<'a>> {
        if let Some(s) = self.string_next() {
            return s;
        }
        match self.scalar()? {
            Scalar::Str(s) => Ok(s),
            Scalar::Null => Ok(Str::Borrowed("")),
            met => Err(self.wrong_type(&met, &"a string")),
        }
    }

    /// An integer of type `T`, as a number or a decimal string.
    #[inline]
    pub(super) fn int<T: JsonInt>(&mut self) -> Result<T> {
        if let Some(s) = self.string_next() {
            return self.int_of_str(&s?);
        }
        // A plain number in range (an `int32` or `uint32` field, as JSON
        // writes them), without the exact reading below.
        if let Some(v) = self.plain_uint(|n| T::try_from(i128::from(n)).ok()) {
            return Ok(v);
        }
        if let Some(text) = self.number_next() {
            return self.int_of_text(text?, "value");
        }
        match self.scalar()? {
            Scalar::Null => Ok(T::ZERO),
            met => Err(self.wrong_type(
                &met,
                &format_args!("an integer ({}) as a number or a string", T::NAME),
            )),
        }
    }

    /// An integer from a string: decimal digits on the fast path, anything
    /// else (a sign, an exponent, out of range…) the long way.
    #[inline]
    fn int_of_str<T: JsonInt>(&self, s: &str) -> Result<T> {
        match decimal(s).and_then(|n| T::try_from(i128::from(n)).ok()) {
            Some(n) => Ok(n),
            None => self.int_of_text(s, "string"),
        }
    }

    /// An integer from a number's text (`what` names where it was: a
    /// "value" or a "string"), of the type `T` the field has.
    #[cold]
    fn int_of_text<T: JsonInt>(&self, text: &str, what: &str) -> Result<T> {
        let n = self.integral(text, what, T::NAME)?;
        T::try_from(n).map_err(|_| self.error(format!("the value is out of range for {}", T::NAME)))
    }

    /// The integer a number's text denotes ([`integral`]). proto3 JSON
    /// allows an integral value in any number form (`1e3`, `5.0`), in a
    /// string too, where Go's `protojson` takes JSON's number grammar (no
    /// `+`, no leading zero, no space). Read exactly, not through a
    /// `double`, which would round `9007199254740993.0` to its neighbour
    /// and `-9223372036854775809` to `i64::MIN`.
    #[cold]
    fn integral(&self, text: &str, what: &str, name: &str) -> Result<i128> {
        integral(text.as_bytes())
            .ok_or_else(|| self.error(format!("the {what} is not a valid {name}")))
    }

    /// A double (`null` is 0).
    #[inline]
    pub(super) fn f64(&mut self) -> Result<f64> {
        match self.scalar()? {
            Scalar::F64(f) => Ok(f),
            Scalar::U64(n) => Ok(n as f64),
            Scalar::I64(n) => Ok(n as f64),
            Scalar::Str(s) => match &*s {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                _ => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| self.error("the string is not a valid double")),
            },
            Scalar::Null => Ok(0.0),
            met => Err(self.wrong_type(&met, &DOUBLE)),
        }
    }

    /// An optional double (`sum`, `min`, `max`): `null` is absent.
    pub(super) fn opt_f64(&mut self) -> Result<Option<f64>> {
        if self.null_next() {
            self.scalar()?;
            return Ok(None);
        }
        self.f64().map(Some)
    }

    /// A bool (`null` is false).
    pub(super) fn bool(&mut self) -> Result<bool> {
        match self.scalar()? {
            Scalar::Bool(b) => Ok(b),
            Scalar::Null => Ok(false),
            met => Err(self.wrong_type(&met, &"true or false")),
        }
    }

    /// An enum, as its integer (in any number form whose value is integral,
    /// as for integers) or its proto name (`N` names the enum: one of the
    /// markers below, over the `*_NAMES` tables of [`crate::model`]); a
    /// string holding a number is taken as that number too, as an integer
    /// field takes it.
    pub(super) fn enumeration<N: EnumNames>(&mut self) -> Result<i32> {
        let out_of_range = |p: &Self| p.error(format!("{} value out of the int32 range", N::ENUM));
        // A plain number in range, as JSON writes enums, without the exact
        // reading below (about 300 instructions an enum).
        if let Some(v) = self.plain_uint(|n| i32::try_from(n).ok()) {
            return Ok(v);
        }
        if let Some(text) = self.number_next() {
            let n = self.integral(text?, "value", N::ENUM)?;
            return i32::try_from(n).map_err(|_| out_of_range(self));
        }
        match self.scalar()? {
            Scalar::Str(s) => match N::NAMES.iter().position(|n| *n == s) {
                Some(i) => Ok(i as i32),
                // A number in a string, by the rules of integer fields:
                // JSON's number grammar, so `"+9"` and `"09"` are refused.
                None => match integral(s.as_bytes()) {
                    Some(n) => i32::try_from(n).map_err(|_| out_of_range(self)),
                    None => Err(self.error(format!("unknown enum name for {}", N::ENUM))),
                },
            },
            Scalar::Null => Ok(0),
            met => Err(self.wrong_type(
                &met,
                &format_args!("a {} as an integer or its name", N::ENUM),
            )),
        }
    }

    /// A trace or span id of `N` bytes; empty or `null` is absent (zeros).
    /// See [`Id`] for the forms accepted.
    #[inline]
    pub(super) fn id<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.scalar()? {
            Scalar::Str(s) if s.is_empty() => Ok([0u8; N]),
            Scalar::Str(s) => Id::<N>::parse(&s).ok_or_else(|| {
                self.error(format!(
                    "invalid {N}-byte id: expected {} hex digits or {} base64 characters \
                     ({} without padding)",
                    N * 2,
                    b64_len(N),
                    b64_len_unpadded(N)
                ))
            }),
            Scalar::Null => Ok([0u8; N]),
            met => Err(self.wrong_type(
                &met,
                &format_args!(
                    "a {N}-byte id as {} hex digits or {} base64 characters",
                    N * 2,
                    b64_len(N)
                ),
            )),
        }
    }

    /// Bytes as base64: standard or URL-safe alphabet, padding optional.
    pub(super) fn base64(&mut self) -> Result<Vec<u8>> {
        use base64::engine::{general_purpose as gp, DecodePaddingMode, GeneralPurpose};
        const LENIENT: gp::GeneralPurposeConfig =
            gp::PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent);
        const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
        const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
        match self.scalar()? {
            // The decoder's own message names the offending byte; say only
            // that the string is not base64 (the parser adds where).
            Scalar::Str(s) => STD.decode(&*s).or_else(|_| URL.decode(&*s)).map_err(|_| {
                self.error("invalid base64 in a bytes value (standard or URL-safe alphabet)")
            }),
            Scalar::Null => Ok(Vec::new()),
            met => Err(self.wrong_type(&met, &"base64 bytes")),
        }
    }

    /// A packed repeated number field: a JSON array whose elements are read
    /// by `read`, each charged against the decode budget (8 bytes from as
    /// little as 2 of JSON, so unbudgeted arrays would bypass the memory
    /// bound). `null` is empty.
    pub(super) fn nums<T>(&mut self, read: fn(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.array(&"an array of numbers", |p| {
            let v = read(p)?;
            p.charge::<T>()?;
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }
}

/// The value of 1 to 19 decimal digits (which always fit `u64`): the
/// common form of OTLP/JSON's 64-bit integers, read without the general
/// parser's checks per digit.
#[inline]
fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.bytes().try_fold(0u64, |n, c| {
        let d = c.wrapping_sub(b'0');
        (d < 10).then_some(n * 10 + u64::from(d))
    })
}

/// The integer that `s`, a number in JSON's grammar (RFC 8259), denotes,
/// computed exactly from its digits; beyond `u64` it saturates (out of
/// range for every field). `None` when `s` is not such a number or its
/// value is not integral.
fn integral(s: &[u8]) -> Option<i128> {
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let digits_from = |i: usize| {
        i + s[i.min(s.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_end = digits_from(0);
    if int_end == 0 || (int_end > 1 && s[0] == b'0') {
        return None;
    }
    let (mut i, mut frac_end) = (int_end, int_end);
    if s.get(i) == Some(&b'.') {
        frac_end = digits_from(i + 1);
        if frac_end == i + 1 {
            return None;
        }
        i = frac_end;
    }
    let mut exp = 0i64;
    if let Some(b'e' | b'E') = s.get(i) {
        let sign = if s.get(i + 1) == Some(&b'-') { -1 } else { 1 };
        i += 1 + usize::from(matches!(s.get(i + 1), Some(b'-' | b'+')));
        let end = digits_from(i);
        if end == i {
            return None;
        }
        // Past 2^40 the value is out of range (or not integral) either way.
        exp = sign
            * s[i..end]
                .iter()
                .fold(0i64, |e, c| (e * 10 + i64::from(c - b'0')).min(1 << 40));
        i = end;
    }
    if i != s.len() {
        return None;
    }
    // The digits without the point, `int_end..frac_end` shifted past it.
    let digit = |k: usize| if k < int_end { s[k] } else { s[k + 1] };
    let count = int_end + frac_end.saturating_sub(int_end + 1);
    let (Some(first), Some(last)) = (
        (0..count).find(|&k| digit(k) != b'0'),
        (0..count).rev().find(|&k| digit(k) != b'0'),
    ) else {
        return Some(0);
    };
    // value = digits[first..=last] × 10^shift, its last digit not zero.
    let shift = exp - (count - int_end) as i64 + (count - 1 - last) as i64;
    if shift < 0 {
        return None;
    }
    // Every field's range lies within ±u64::MAX: past it, saturate.
    let magnitude = (first..=last)
        .try_fold(0u64, |n, k| {
            n.checked_mul(10)?.checked_add(u64::from(digit(k) - b'0'))
        })
        .and_then(|n| n.checked_mul(10u64.checked_pow(u32::try_from(shift).ok()?)?))
        .map_or(i128::MAX, i128::from);
    Some(if negative { -magnitude } else { magnitude })
}

/// The proto names of one enum, indexed by value.
pub(super) trait EnumNames {
    /// The enum's proto name, for error messages.
    const ENUM: &'static str;
    const NAMES: &'static [&'static str];
}
/// `SeverityNumber`.
pub(super) struct SeverityNames;
impl EnumNames for SeverityNames {
    const ENUM: &'static str = "SeverityNumber";
    const NAMES: &'static [&'static str] = SEVERITY_NUMBER_NAMES;
}
/// `Span.SpanKind`.
pub(super) struct SpanKindNames;
impl EnumNames for SpanKindNames {
    const ENUM: &'static str = "Span.SpanKind";
    const NAMES: &'static [&'static str] = SPAN_KIND_NAMES;
}
/// `Status.StatusCode`.
pub(super) struct StatusCodeNames;
impl EnumNames for StatusCodeNames {
    const ENUM: &'static str = "Status.StatusCode";
    const NAMES: &'static [&'static str] = STATUS_CODE_NAMES;
}
/// `AggregationTemporality`.
pub(super) struct TemporalityNames;
impl EnumNames for TemporalityNames {
    const ENUM: &'static str = "AggregationTemporality";
    const NAMES: &'static [&'static str] = AGGREGATION_TEMPORALITY_NAMES;
}

/// A trace or span id of `N` bytes; empty or `null` is absent (zeros).
///
/// OTLP/JSON writes ids in hex (any case accepted here); producers that use
/// the generic proto3 JSON mapping write them in base64, as any `bytes`
/// field. Both are accepted, told apart by the length alone: `2N` characters
/// are hex, [`b64_len`] (padded with `=`) or [`b64_len_unpadded`] characters
/// are standard-alphabet base64. Hex digits are base64 characters too, so a
/// string is never tried as one and then as the other: for 16-byte ids that
/// is 32 (hex) against 24 or 22 (base64); for 8-byte ids 16 against 12 or
/// 11. The base64 must be canonical (unused trailing bits zero), so each id
/// has one spelling per form. The URL-safe alphabet is not accepted for ids.
pub(super) struct Id<const N: usize>;

/// Characters of `n` bytes in padded base64.
pub(super) const fn b64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Characters of `n` bytes in base64 without padding.
pub(super) const fn b64_len_unpadded(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

impl<const N: usize> Id<N> {
    /// The three lengths differ, so the length alone decides the form (and
    /// the decoded ids fit [`Id::from_base64`]'s buffer).
    const LENGTHS_DIFFER: () = assert!(
        2 * N != b64_len(N) && 2 * N != b64_len_unpadded(N) && N <= 18 && N > 0,
        "hex and base64 ids of this size are not told apart by length"
    );

    /// Reads `v` as hex or base64 by its length; `None` when it is neither.
    fn parse(v: &str) -> Option<[u8; N]> {
        let () = Self::LENGTHS_DIFFER;
        match v.len() {
            l if l == 2 * N => Self::from_hex(v.as_bytes()),
            l if l == b64_len(N) || l == b64_len_unpadded(N) => Self::from_base64(v),
            _ => None,
        }
    }

    /// Hex digits through a table, without a branch per digit: a byte that
    /// is not a digit maps to `0xff`, whose high bits mark the whole id bad.
    fn from_hex(v: &[u8]) -> Option<[u8; N]> {
        let mut id = [0u8; N];
        let mut bad = 0u8;
        for (out, pair) in id.iter_mut().zip(v.chunks_exact(2)) {
            let (high, low) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
            bad |= high | low;
            *out = high << 4 | low;
        }
        (bad & 0xf0 == 0).then_some(id)
    }

    fn from_base64(v: &str) -> Option<[u8; N]> {
        use base64::engine::{general_purpose as gp, DecodePaddingMode, GeneralPurpose};
        // Padding optional; trailing bits must be zero (the default).
        const STD: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            gp::PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        // 24 characters decode to at most 18 bytes; a wrong count of
        // padding or data characters shows as a wrong decoded length.
        let mut buf = [0u8; 18];
        let n = STD.decode_slice(v, &mut buf).ok()?;
        (n == N).then(|| {
            let mut id = [0u8; N];
            id.copy_from_slice(&buf[..N]);
            id
        })
    }
}

/// The value of each hex digit (either case), `0xff` for other bytes.
const HEX: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::json::tests::big;
    use crate::decode::json::traces;
    use crate::error::Error;

    /// Reads `v` (a JSON value) as an id of `N` bytes.
    fn id<const N: usize>(v: &str) -> Result<[u8; N], String> {
        let budget = big();
        let mut p = Parser::new(v, &budget);
        p.id::<N>()
            .and_then(|id| p.finish().map(|()| id))
            .map_err(|e| e.to_string())
    }

    /// Reads `v` (a whole JSON document) as an integer of type `T`.
    fn int<T: JsonInt>(v: &str) -> Option<T> {
        let budget = big();
        let mut p = Parser::new(v, &budget);
        let n = p.int::<T>().ok()?;
        p.finish().ok().map(|()| n)
    }

    /// Numbers read in place (plain digits) and through the exact reading
    /// of a number's text (anything else) give what proto3 JSON says: integral
    /// values in range, in any number form or as strings; the rest is an
    /// error, whichever path it takes (leading zeros, 20 digits, fractions,
    /// exponents, signs, out of range).
    #[test]
    fn integers_in_every_number_form() {
        assert_eq!(int::<u32>("0"), Some(0));
        assert_eq!(int::<u32>("7"), Some(7));
        assert_eq!(int::<u32>(" 42"), Some(42));
        assert_eq!(int::<u32>("4294967295"), Some(u32::MAX));
        assert_eq!(int::<u32>("4294967296"), None);
        assert_eq!(int::<u32>("01"), None);
        assert_eq!(int::<u32>("00"), None);
        assert_eq!(int::<u32>("-0"), Some(0));
        assert_eq!(int::<u32>("-1"), None);
        assert_eq!(int::<u32>("1e2"), Some(100));
        assert_eq!(int::<u32>("1E2"), Some(100));
        assert_eq!(int::<u32>("5.0"), Some(5));
        assert_eq!(int::<u32>("5.5"), None);
        assert_eq!(int::<u32>("\"12\""), Some(12));
        assert_eq!(int::<i32>("-12"), Some(-12));
        assert_eq!(int::<i32>("2147483648"), None);
        assert_eq!(int::<i64>("9223372036854775807"), Some(i64::MAX));
        assert_eq!(int::<i64>("9223372036854775808"), None);
        assert_eq!(
            int::<u64>("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(int::<u64>("18446744073709551615"), Some(u64::MAX));
        assert_eq!(int::<u64>("18446744073709551616"), None);
        assert_eq!(
            int::<u64>("1714564800000000000"),
            Some(1_714_564_800_000_000_000)
        );
    }

    /// Integral values in fraction or exponent form are read exactly, not
    /// through a double: past 2^53 a double rounds them to a neighbour, and
    /// just past `i64::MIN` to `i64::MIN` itself.
    #[test]
    fn integers_past_a_doubles_precision_are_exact_or_refused() {
        assert_eq!(int::<i64>("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(int::<i64>("-9223372036854775809"), None);
        assert_eq!(int::<i64>("\"-9223372036854775809\""), None);
        assert_eq!(int::<i64>("-9223372036854775809e0"), None);
        assert_eq!(
            int::<u64>("9007199254740993.0"),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(
            int::<u64>("\"9007199254740993.0\""),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(int::<u64>("18446744073709551615.000"), Some(u64::MAX));
        assert_eq!(int::<u64>("1.8446744073709551615e19"), Some(u64::MAX));
        assert_eq!(int::<u64>("1.8446744073709551616e19"), None);
        assert_eq!(int::<i64>("-92233720368547758.08e2"), Some(i64::MIN));
        assert_eq!(int::<i64>("9223372036854775807.5"), None);
        assert_eq!(int::<u64>("1714564800e9"), Some(1_714_564_800_000_000_000));
        assert_eq!(
            int::<u64>("17145648000000000000000e-4"),
            Some(1_714_564_800_000_000_000)
        );
        assert_eq!(int::<u64>("17145648000000000001e-1"), None);
        assert_eq!(int::<u32>("0e99999999999999999999"), Some(0));
        assert_eq!(int::<u32>("0.000e-7"), Some(0));
        assert_eq!(int::<u32>("1e99999999999999999999"), None);
        assert_eq!(int::<u32>("1e-99999999999999999999"), None);
        assert_eq!(int::<i32>("-2147483648.0"), Some(i32::MIN));
        assert_eq!(int::<i32>("-21474836.49e2"), None);
        // Strings: JSON's number grammar, as Go's protojson reads them.
        assert_eq!(int::<i32>("\"-7\""), Some(-7));
        assert_eq!(int::<u32>("\"+7\""), None);
        assert_eq!(int::<u32>("\"007\""), None);
        assert_eq!(int::<u32>("\"7e0\""), Some(7));
        assert_eq!(int::<u32>("\"7.\""), None);
        assert_eq!(int::<u32>("\".5e1\""), None);
        assert_eq!(int::<u32>("\" 7\""), None);
        assert_eq!(int::<u32>("\"7e\""), None);
        assert_eq!(int::<u32>("\"\""), None);
    }

    /// Reads `v` (a whole JSON document) as a `SeverityNumber`.
    fn severity(v: &str) -> Result<i32, String> {
        let budget = big();
        let mut p = Parser::new(v, &budget);
        (p.enumeration::<SeverityNames>())
            .and_then(|n| p.finish().map(|()| n))
            .map_err(|e| e.to_string())
    }

    /// Enums take what integer fields take for numbers (integral values in
    /// any form, as Go's `protojson` does), their proto names, and numbers
    /// in strings by JSON's grammar, as integer fields take them.
    #[test]
    fn enums_take_integral_numbers_names_and_decimal_strings() {
        for (v, want) in [
            ("9", 9),
            ("9.0", 9),
            ("0.9e1", 9),
            ("-0", 0),
            ("-3", -3),
            ("null", 0),
            ("\"SEVERITY_NUMBER_INFO\"", 9),
            ("\"9\"", 9),
            ("\"-3\"", -3),
            ("\"9e0\"", 9),
        ] {
            assert_eq!(severity(v), Ok(want), "{v}");
        }
        for (v, error) in [
            ("9.5", "the value is not a valid SeverityNumber"),
            ("2147483648", "SeverityNumber value out of the int32 range"),
            (
                "-2147483649e0",
                "SeverityNumber value out of the int32 range",
            ),
            ("\"LOUD\"", "unknown enum name for SeverityNumber"),
            // A string must hold a JSON number, as for integer fields.
            ("\"+9\"", "unknown enum name for SeverityNumber"),
            ("\"09\"", "unknown enum name for SeverityNumber"),
            ("\" 9\"", "unknown enum name for SeverityNumber"),
            ("\"9.5\"", "unknown enum name for SeverityNumber"),
            (
                "\"2147483648\"",
                "SeverityNumber value out of the int32 range",
            ),
            ("true", "invalid type: boolean"),
        ] {
            let got = severity(v).unwrap_err();
            assert!(got.contains(error), "{v}: {got}");
        }
    }

    proptest::proptest! {
        /// Any i64, written with its digits shifted by a power of ten that
        /// an exponent undoes (`12e0`, `1.2e1`, `1200e-2`), and with zeros
        /// after a point, reads as itself; one non-zero digit more after
        /// the point makes it not integral.
        #[test]
        fn every_integral_form_of_an_i64_reads_as_it(n: i64, k in 0usize..25, z in 0usize..4, d in 1u8..10) {
            let (sign, digits) = match n {
                n if n < 0 => ("-", n.unsigned_abs().to_string()),
                n => ("", n.to_string()),
            };
            let zeros = "0".repeat(z);
            // Shifted right by k: digits.zeros with the point k places left.
            let padded = format!("{}{digits}", "0".repeat(k.saturating_sub(digits.len() - 1)));
            let (whole, frac) = padded.split_at(padded.len() - k);
            let whole = whole.trim_start_matches('0');
            let whole = if whole.is_empty() { "0" } else { whole };
            let forms = [
                format!("{sign}{digits}"),
                format!("{sign}{digits}.{zeros}0"),
                format!("{sign}{whole}.{frac}{zeros}0e{k}"),
                format!("{sign}{digits}{zeros}e-{z}"),
                format!("\"{sign}{digits}{zeros}E-{z}\""),
            ];
            for form in &forms {
                proptest::prop_assert_eq!(int::<i64>(form), Some(n), "{}", form);
            }
            let fraction = format!("{sign}{digits}.{zeros}{d}");
            proptest::prop_assert_eq!(int::<i64>(&fraction), None, "{}", fraction);
        }

        /// Any text of a number's characters reads without a panic, and
        /// what reads as an integer a double holds exactly is the value the
        /// standard library's parser gives it.
        #[test]
        fn number_texts_read_as_the_standard_parser_reads_them(text in "[-+0-9.eE]{0,24}") {
            if let Some(n) = integral(text.as_bytes()) {
                if n.unsigned_abs() < 1 << 53 {
                    proptest::prop_assert_eq!(text.parse::<f64>().ok(), Some(n as f64), "{}", text);
                }
            }
        }
    }

    const TRACE: [u8; 16] = [
        0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6,
        0x0c,
    ];
    const SPAN: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];

    /// Hex (either case) and base64 (padded or not) of the same id read as
    /// the same bytes; the base64 strings are computed here by the base64
    /// crate's standard engine, not written by hand.
    #[test]
    fn ids_read_as_hex_or_base64_by_length() {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        assert_eq!((b64_len(16), b64_len_unpadded(16)), (24, 22));
        assert_eq!((b64_len(8), b64_len_unpadded(8)), (12, 11));
        let t = TRACE;
        assert_eq!(id::<16>(r#""5b8efff798038103d269b633813fc60c""#), Ok(t));
        assert_eq!(id::<16>(r#""5B8EFFF798038103D269B633813FC60C""#), Ok(t));
        let padded = STANDARD.encode(t);
        let bare = STANDARD_NO_PAD.encode(t);
        assert_eq!((padded.len(), bare.len()), (24, 22));
        assert_eq!(id::<16>(&format!("{padded:?}")), Ok(t));
        assert_eq!(id::<16>(&format!("{bare:?}")), Ok(t));
        let s = SPAN;
        assert_eq!(id::<8>(r#""eee19b7ec3c1b174""#), Ok(s));
        let (padded, bare) = (STANDARD.encode(s), STANDARD_NO_PAD.encode(s));
        assert_eq!((padded.len(), bare.len()), (12, 11));
        assert_eq!(id::<8>(&format!("{padded:?}")), Ok(s));
        assert_eq!(id::<8>(&format!("{bare:?}")), Ok(s));
        assert_eq!(id::<8>(r#""""#), Ok([0; 8]));
        assert_eq!(id::<8>("null"), Ok([0; 8]));
    }

    /// A hex id whose digits are all base64 characters (every hex id is)
    /// is read as hex, never as base64: 32 characters of digits decode as
    /// 16 hex bytes, while as base64 they would be 24 different bytes.
    #[test]
    fn a_hex_id_is_never_read_as_base64() {
        let hex = "01234567890123456789012345678901";
        let want: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(id::<16>(&format!("{hex:?}")).unwrap().to_vec(), want);
        // And 16 hex digits for a span id likewise.
        assert_eq!(
            id::<8>(r#""0000000000000001""#),
            Ok([0, 0, 0, 0, 0, 0, 0, 1])
        );
    }

    /// Everything else is refused: other lengths (one off each accepted
    /// one), non-hex at the hex length, non-base64 or a wrong padding at the
    /// base64 lengths, the URL-safe alphabet, non-canonical trailing bits.
    #[test]
    fn ids_of_other_forms_are_refused() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let padded = STANDARD.encode(TRACE);
        let refused16 = [
            "0".repeat(31),
            "0".repeat(33),
            "0".repeat(23),
            "0".repeat(21),
            "0".repeat(25),
            format!("{}g", "0".repeat(31)),
            format!("{}!!", "A".repeat(22)),
            // 22 data characters then "==" is 24 long but decodes to 16…
            // only with canonical bits; 24 data characters are 18 bytes.
            "A".repeat(24),
            format!("{}=", &padded[..22]),
            // A '=' where data belongs.
            format!("{}=A", &padded[..22]),
            // '-' and '_' (URL-safe) instead of '+' and '/'.
            URL_SAFE.encode([0xfb; 16]),
            // Non-zero unused bits in the last character (…A== is canonical).
            format!("{}B==", &"A".repeat(21)),
        ];
        for v in &refused16 {
            let e = id::<16>(&format!("{v:?}")).unwrap_err();
            assert!(e.contains("invalid 16-byte id"), "{v}: {e}");
            assert!(e.contains("32 hex digits or 24 base64"), "{v}: {e}");
        }
        assert!(STANDARD.encode([0xfb; 16]).contains('+'));
        for v in [
            "0".repeat(15),
            "0".repeat(17),
            "0".repeat(10),
            "A".repeat(12),
            format!("{}==", "A".repeat(10)),
            format!("{}B=", "A".repeat(10)),
        ] {
            let e = id::<8>(&format!("{v:?}")).unwrap_err();
            assert!(e.contains("invalid 8-byte id"), "{v}: {e}");
        }
        // Not strings at all.
        assert!(id::<8>("12")
            .unwrap_err()
            .contains("invalid type: integer,"));
    }

    /// A bad id's message names its size and where it is, not its value.
    #[test]
    fn bad_ids_name_the_size_and_position_not_the_value() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#;
        let e = traces(body, &big()).unwrap_err();
        let Error::Json { what, line, column } = &e else {
            panic!("{e}")
        };
        assert!(what.starts_with("invalid 16-byte id"), "{what}");
        assert!(!what.contains("xyz"), "{what}");
        assert_eq!((*line, *column), (1, 59));
    }
}
