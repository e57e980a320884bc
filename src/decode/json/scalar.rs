//! OTLP/JSON scalars: each wrapper reads one JSON scalar as OTLP/JSON
//! allows it (integers as numbers or strings, doubles with `"NaN"` and the
//! infinities, enums by number or proto name, ids in hex or base64, base64
//! bytes), and all accept `null` as the default value.
//!
//! Nothing here knows which field it reads, and no error quotes the value it
//! read (it could be anything the sender put there, a secret included):
//! messages name the type expected and serde_json adds the position. Every
//! wrapper deserializes through [`super::quiet::any`], which keeps serde's
//! own "invalid type" messages free of the value too.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::quiet::any;
use super::visit::Ctx;
use crate::model::{
    AGGREGATION_TEMPORALITY_NAMES, SEVERITY_NUMBER_NAMES, SPAN_KIND_NAMES, STATUS_CODE_NAMES,
};

/// An object key, borrowed when it has no escapes.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

/// A string value, borrowed when it has no escapes.
pub(super) struct S<'de>(pub(super) Cow<'de, str>);

pub(super) struct CowStrVisitor;
impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(""))
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        any(d, CowStrVisitor).map(Key)
    }
}

impl<'de> de::Deserialize<'de> for S<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        any(d, CowStrVisitor).map(S)
    }
}

/// Defines a wrapper for an integer type that OTLP/JSON may send as a number
/// or a decimal string.
macro_rules! json_int {
    ($name:ident, $t:ty) => {
        pub(super) struct $name(pub(super) $t);
        impl<'de> de::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        write!(f, "an integer ({}) as a number or a string", stringify!($t))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        <$t>::try_from(v).map_err(|_| {
                            E::custom(concat!("the value is out of range for ", stringify!($t)))
                        })
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::try_from(v).map_err(|_| {
                            E::custom(concat!("the value is out of range for ", stringify!($t)))
                        })
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                        // proto3 JSON allows integral values in exponent form.
                        // Through i128, which holds every integral f64 in
                        // range exactly: 2^64 must not pass as u64::MAX.
                        let i = v as i128;
                        if v.fract() == 0.0
                            && i as f64 == v
                            && i >= <$t>::MIN as i128
                            && i <= <$t>::MAX as i128
                        {
                            Ok(i as $t)
                        } else {
                            Err(E::custom(concat!(
                                "the value is not a valid ",
                                stringify!($t)
                            )))
                        }
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        match v.parse::<$t>() {
                            Ok(n) => Ok(n),
                            Err(_) => match v.parse::<f64>() {
                                Ok(f) => self.visit_f64(f),
                                Err(_) => Err(E::custom(concat!(
                                    "the string is not a valid ",
                                    stringify!($t)
                                ))),
                            },
                        }
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
                        Ok(0)
                    }
                }
                any(d, V).map($name)
            }
        }
    };
}

json_int!(U64, u64);
json_int!(I64, i64);
json_int!(U32, u32);
json_int!(I32, i32);

/// A double: a number, a numeric string, or `"NaN"` / `"Infinity"` / `"-Infinity"`.
pub(super) struct F64(pub(super) f64);

impl<'de> de::Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a double, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                match v {
                    "NaN" => Ok(f64::NAN),
                    "Infinity" => Ok(f64::INFINITY),
                    "-Infinity" => Ok(f64::NEG_INFINITY),
                    _ => v
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .ok_or_else(|| E::custom("the string is not a valid double")),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
                Ok(0.0)
            }
        }
        any(d, V).map(F64)
    }
}

/// A bool (`null` is false).
pub(super) struct Bool(pub(super) bool);

impl<'de> de::Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
        }
        any(d, V).map(Bool)
    }
}

/// A packed repeated number field: a JSON array whose elements are `T`,
/// each charged against the decode budget (8 bytes from as little as 2 of
/// JSON, so unbudgeted arrays would bypass the memory bound).
pub(super) struct Nums<'c, T> {
    ctx: &'c Ctx<'c>,
    _t: PhantomData<T>,
}

pub(super) fn nums<'de, T: NumElem, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'_>,
) -> Result<Vec<T::Out>, A::Error> {
    map.next_value_seed(Nums::<T> {
        ctx,
        _t: PhantomData,
    })
}

/// A scalar wrapper used as a [`Nums`] element, and the value it yields.
pub(super) trait NumElem: for<'de> de::Deserialize<'de> {
    type Out;
    fn get(self) -> Self::Out;
}
impl NumElem for U64 {
    type Out = u64;
    fn get(self) -> u64 {
        self.0
    }
}
impl NumElem for F64 {
    type Out = f64;
    fn get(self) -> f64 {
        self.0
    }
}

impl<'de, T: NumElem> DeserializeSeed<'de> for Nums<'_, T> {
    type Value = Vec<T::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        any(d, self)
    }
}

impl<'de, T: NumElem> Visitor<'de> for Nums<'_, T> {
    type Value = Vec<T::Out>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element::<T>()? {
            self.ctx.charge::<T::Out, A::Error>()?;
            out.push(v.get());
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// An enum, as its integer or its proto name (`N` names the enum: one of
/// the markers below, over the `*_NAMES` tables of [`crate::model`]).
pub(super) struct Enum<N>(pub(super) i32, PhantomData<N>);

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

impl<'de, N: EnumNames> de::Deserialize<'de> for Enum<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<N>(PhantomData<N>);
        impl<N: EnumNames> V<N> {
            fn out_of_range<E: de::Error>() -> E {
                E::custom(format_args!("{} value out of the int32 range", N::ENUM))
            }
        }
        impl<'de, N: EnumNames> Visitor<'de> for V<N> {
            type Value = i32;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a {} as an integer or its name", N::ENUM)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
                i32::try_from(v).map_err(|_| Self::out_of_range())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
                i32::try_from(v).map_err(|_| Self::out_of_range())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
                match N::NAMES.iter().position(|n| *n == v) {
                    Some(i) => Ok(i as i32),
                    None => v
                        .parse::<i32>()
                        .map_err(|_| E::custom(format_args!("unknown enum name for {}", N::ENUM))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
                Ok(0)
            }
        }
        any(d, V::<N>(PhantomData)).map(|v| Enum(v, PhantomData))
    }
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
pub(super) struct Id<const N: usize>(pub(super) [u8; N]);

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

    fn from_hex(v: &[u8]) -> Option<[u8; N]> {
        let mut id = [0u8; N];
        for (out, pair) in id.iter_mut().zip(v.chunks_exact(2)) {
            *out = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(id)
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

impl<'de, const N: usize> de::Deserialize<'de> for Id<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a {N}-byte id as {} hex digits or {} base64 characters",
                    N * 2,
                    b64_len(N)
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<[u8; N], E> {
                if v.is_empty() {
                    return Ok([0u8; N]);
                }
                Id::<N>::parse(v).ok_or_else(|| {
                    E::custom(format_args!(
                        "invalid {N}-byte id: expected {} hex digits or {} base64 characters \
                         ({} without padding)",
                        N * 2,
                        b64_len(N),
                        b64_len_unpadded(N)
                    ))
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<[u8; N], E> {
                Ok([0u8; N])
            }
        }
        any(d, V::<N>).map(Id)
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Bytes as base64: standard or URL-safe alphabet, padding optional.
pub(super) struct B64(pub(super) Vec<u8>);

impl<'de> de::Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("base64 bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
                use base64::engine::{general_purpose as gp, DecodePaddingMode, GeneralPurpose};
                const LENIENT: gp::GeneralPurposeConfig =
                    gp::PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent);
                const STD: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
                const URL: GeneralPurpose =
                    GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
                // The decoder's own message names the offending byte; say
                // only that the string is not base64 (serde_json adds where).
                STD.decode(v).or_else(|_| URL.decode(v)).map_err(|_| {
                    E::custom("invalid base64 in a bytes value (standard or URL-safe alphabet)")
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
                Ok(Vec::new())
            }
        }
        any(d, V).map(B64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::json::tests::big;
    use crate::decode::json::traces;
    use crate::error::Error;

    /// Reads `v` (a JSON value) as an id of `N` bytes.
    fn id<const N: usize>(v: &str) -> Result<[u8; N], String> {
        serde_json::from_str::<Id<N>>(v)
            .map(|i| i.0)
            .map_err(|e| e.to_string())
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
