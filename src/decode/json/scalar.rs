//! OTLP/JSON scalars: each wrapper reads one JSON scalar as OTLP/JSON
//! allows it (integers as numbers or strings, doubles with `"NaN"` and the
//! infinities, enums by number or proto name, hex ids, base64 bytes), and
//! all accept `null` as the default value.
//!
//! Nothing here knows which field it reads; errors name the value, not the
//! field (serde_json adds the position).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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
        d.deserialize_str(CowStrVisitor).map(Key)
    }
}

impl<'de> de::Deserialize<'de> for S<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CowStrVisitor).map(S)
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
                            E::custom(format_args!("{v} is out of range for {}", stringify!($t)))
                        })
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::try_from(v).map_err(|_| {
                            E::custom(format_args!("{v} is out of range for {}", stringify!($t)))
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
                            Err(E::custom(format_args!(
                                "{v} is not a valid {}",
                                stringify!($t)
                            )))
                        }
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        match v.parse::<$t>() {
                            Ok(n) => Ok(n),
                            Err(_) => match v.parse::<f64>() {
                                Ok(f) => self.visit_f64(f),
                                Err(_) => Err(E::custom(format_args!(
                                    "{v:?} is not a valid {}",
                                    stringify!($t)
                                ))),
                            },
                        }
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
                        Ok(0)
                    }
                }
                d.deserialize_any(V).map($name)
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
                        .ok_or_else(|| E::custom(format_args!("{v:?} is not a valid double"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
                Ok(0.0)
            }
        }
        d.deserialize_any(V).map(F64)
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
        d.deserialize_any(V).map(Bool)
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
        d.deserialize_any(self)
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
    const NAMES: &'static [&'static str];
}
/// `SeverityNumber`.
pub(super) struct SeverityNames;
impl EnumNames for SeverityNames {
    const NAMES: &'static [&'static str] = SEVERITY_NUMBER_NAMES;
}
/// `Span.SpanKind`.
pub(super) struct SpanKindNames;
impl EnumNames for SpanKindNames {
    const NAMES: &'static [&'static str] = SPAN_KIND_NAMES;
}
/// `Status.StatusCode`.
pub(super) struct StatusCodeNames;
impl EnumNames for StatusCodeNames {
    const NAMES: &'static [&'static str] = STATUS_CODE_NAMES;
}
/// `AggregationTemporality`.
pub(super) struct TemporalityNames;
impl EnumNames for TemporalityNames {
    const NAMES: &'static [&'static str] = AGGREGATION_TEMPORALITY_NAMES;
}

impl<'de, N: EnumNames> de::Deserialize<'de> for Enum<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<N>(PhantomData<N>);
        impl<'de, N: EnumNames> Visitor<'de> for V<N> {
            type Value = i32;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an enum value as an integer or its name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
                i32::try_from(v)
                    .map_err(|_| E::custom(format_args!("enum value {v} is out of range")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
                i32::try_from(v)
                    .map_err(|_| E::custom(format_args!("enum value {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
                match N::NAMES.iter().position(|n| *n == v) {
                    Some(i) => Ok(i as i32),
                    None => v
                        .parse::<i32>()
                        .map_err(|_| E::custom(format_args!("unknown enum name {v:?}"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
                Ok(0)
            }
        }
        d.deserialize_any(V::<N>(PhantomData))
            .map(|v| Enum(v, PhantomData))
    }
}

/// A trace or span id as hex (any case); empty or `null` is absent (zeros).
pub(super) struct Hex<const N: usize>(pub(super) [u8; N]);

impl<'de, const N: usize> de::Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an id of {} hex digits", N * 2)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<[u8; N], E> {
                let mut id = [0u8; N];
                if v.is_empty() {
                    return Ok(id);
                }
                let bad = || {
                    E::custom(format_args!(
                        "invalid id {:?}: expected {} hex digits",
                        Excerpt(v),
                        N * 2
                    ))
                };
                if v.len() != N * 2 {
                    return Err(bad());
                }
                for (i, pair) in v.as_bytes().chunks_exact(2).enumerate() {
                    let hi = hex_digit(pair[0]).ok_or_else(bad)?;
                    let lo = hex_digit(pair[1]).ok_or_else(bad)?;
                    id[i] = (hi << 4) | lo;
                }
                Ok(id)
            }
            fn visit_unit<E: de::Error>(self) -> Result<[u8; N], E> {
                Ok([0u8; N])
            }
        }
        d.deserialize_any(V::<N>).map(Hex)
    }
}

pub(super) fn hex_digit(c: u8) -> Option<u8> {
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
                STD.decode(v)
                    .or_else(|_| URL.decode(v))
                    .map_err(|e| E::custom(format_args!("invalid base64 {:?}: {e}", Excerpt(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
                Ok(Vec::new())
            }
        }
        d.deserialize_any(V).map(B64)
    }
}

/// At most 40 characters of user input, for error messages.
pub(super) struct Excerpt<'a>(&'a str);

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0.char_indices().nth(40) {
            Some((i, _)) => write!(f, "{:?}…", &self.0[..i]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::json::tests::big;
    use crate::decode::json::traces;
    use crate::error::Error;

    #[test]
    fn bad_ids_name_the_value_and_position() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#;
        let e = traces(body, &big()).unwrap_err();
        let Error::Json { what, line, .. } = &e else {
            panic!("{e}")
        };
        assert!(what.contains("invalid id \"xyz\""), "{what}");
        assert_eq!(*line, 1);
    }
}
