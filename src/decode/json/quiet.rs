//! Error messages that never quote the payload.
//!
//! serde's default "invalid type" error quotes the value it met
//! (`invalid type: string "…", expected …`, whole, however long), and
//! serde_json's typed `deserialize_map`/`deserialize_str` do the same before
//! any visitor runs. Those messages end up in the reply and the log line, so
//! a secret sent in the wrong field would be logged. Every visitor of this
//! decoder is therefore run through [`any`]: `deserialize_any` with the
//! visitor wrapped in [`Quiet`], which runs its scalar methods with a private
//! error type ([`Said`]) that names the kind of value met (`string`,
//! `integer`) and never the value, then hands that message to serde_json
//! (which adds the line and column).
//!
//! It does not change what is accepted: every method forwards to the wrapped
//! visitor. The decoder's own messages (`scalar`) quote nothing either; the
//! test below checks that no other module calls a `deserialize_*` method.

use std::fmt;

use serde::de::{self, Deserializer, Expected, MapAccess, SeqAccess, Unexpected, Visitor};

/// Deserializes `d` with `visitor`, by `deserialize_any`, so that a value of
/// the wrong type reaches the visitor (and [`Quiet`]) instead of being
/// quoted by serde_json.
#[inline]
pub(super) fn any<'de, D: Deserializer<'de>, V: Visitor<'de>>(
    d: D,
    visitor: V,
) -> Result<V::Value, D::Error> {
    d.deserialize_any(Quiet(visitor))
}

/// A visitor whose errors name the kind of value met, never the value.
struct Quiet<V>(V);

/// The error the wrapped visitor's scalar methods return: the message only.
#[derive(Debug)]
struct Said(String);

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Said {}

/// The kind of an unexpected value in serde's words, without the value
/// (serde writes "string \"…\"", this writes "string").
fn kind(unexp: &Unexpected<'_>) -> &'static str {
    match unexp {
        Unexpected::Bool(_) => "boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "integer",
        Unexpected::Float(_) => "floating point",
        Unexpected::Char(_) => "char",
        Unexpected::Str(_) => "string",
        Unexpected::Bytes(_) => "byte array",
        Unexpected::Unit => "null",
        Unexpected::Option => "Option value",
        Unexpected::NewtypeStruct => "newtype struct",
        Unexpected::Seq => "sequence",
        Unexpected::Map => "map",
        Unexpected::Enum
        | Unexpected::UnitVariant
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant => "enum",
        Unexpected::Other(_) => "value of another type",
    }
}

impl de::Error for Said {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Said(msg.to_string())
    }
    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Said(format!("invalid type: {}, expected {exp}", kind(&unexp)))
    }
    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Said(format!("invalid value: {}, expected {exp}", kind(&unexp)))
    }
    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Said(format!("unknown variant, expected one of {expected:?}"))
    }
    fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
        Said(format!("unknown field, expected one of {expected:?}"))
    }
}

/// Runs one scalar method of the wrapped visitor with [`Said`] errors.
macro_rules! quiet {
    ($($method:ident($t:ty);)*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            self.0.$method::<Said>(v).map_err(|e| E::custom(e.0))
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Quiet<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    quiet! {
        visit_bool(bool);
        visit_i64(i64);
        visit_u64(u64);
        visit_f64(f64);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit::<Said>().map_err(|e| E::custom(e.0))
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none::<Said>().map_err(|e| E::custom(e.0))
    }

    // Containers: the values inside are read by their own (quiet) seeds, and
    // a container's own "invalid type" names no value (`an object`).
    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(seq)
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map)
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeSeed;

    use super::*;

    /// Reads a bool through [`any`], as the decoder does.
    struct B;
    impl<'de> DeserializeSeed<'de> for B {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = bool;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("true or false")
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                    Ok(v)
                }
            }
            any(d, V)
        }
    }

    fn read(json: &str) -> Result<bool, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        B.deserialize(&mut de).map_err(|e| e.to_string())
    }

    /// A wrong type is named by its kind only; the value (here a marker
    /// string, a number, a float) never appears; a right one still reads.
    #[test]
    fn wrong_types_are_named_not_quoted() {
        assert_eq!(read("true"), Ok(true));
        for (json, kind) in [
            (r#""SECRET-42""#, "string"),
            ("4242424242", "integer"),
            ("-4242424242", "integer"),
            ("4242.4242", "floating point"),
            ("[\"SECRET-42\"]", "sequence"),
            ("{\"SECRET-42\":1}", "map"),
        ] {
            let e = read(json).unwrap_err();
            assert!(e.starts_with(&format!("invalid type: {kind}")), "{e}");
            assert!(e.contains("expected true or false"), "{e}");
            assert!(!e.contains("SECRET") && !e.contains("4242"), "{e}");
        }
        // And what serde_json itself says without the wrapper, to show the
        // wrapper is what keeps the value out.
        let raw = serde_json::from_str::<bool>(r#""SECRET-42""#).unwrap_err();
        assert!(raw.to_string().contains("SECRET-42"));
    }

    /// Every visitor of the decoder goes through [`any`]: no other module
    /// calls a `deserialize_*` method of a deserializer (which would quote a
    /// value of the wrong type before any visitor runs).
    #[test]
    fn no_module_bypasses_the_wrapper() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/decode/json");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == "quiet.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(".deserialize_"),
                "{path:?} calls deserialize_*"
            );
            checked += 1;
        }
        assert!(checked >= 8, "only {checked} files under {dir:?}");
    }
}
