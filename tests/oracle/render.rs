//! The oracle's text forms, written from docs/schema.md ("Conventions") and
//! pdata's `Value.AsString()`: ids in hex, attribute values and bodies as
//! text, doubles in Go's ES6 form, containers as Go `encoding/json` (sorted
//! keys, no HTML escaping). Shares no code with `src/batch/render.rs`: the
//! shortest digits come from `core::fmt`'s correctly rounded exact mode,
//! searched digit count by digit count.

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

/// Lowercase hex of an id, `""` when absent or all zeros.
pub fn hex_id(b: &[u8]) -> String {
    if b.iter().all(|x| *x == 0) {
        return String::new();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `AsString()` of an optional value (absent = empty = `""`).
pub fn text(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) if d.is_nan() => "NaN".into(),
        Some(Value::DoubleValue(d)) if d.is_infinite() => {
            if *d > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Some(Value::DoubleValue(d)) => go_float(*d),
        Some(Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(_) => {
            let mut out = String::new();
            match json(v.unwrap(), &mut out) {
                Some(()) => out,
                // A non-finite double anywhere inside: json.Marshal fails.
                None => String::new(),
            }
        }
    }
}

/// An attribute list as the `Map<Utf8, Utf8>` column holds it: every entry,
/// by key as the exporter's ordered map sorts them (bytewise), entries of
/// one key in request order.
pub fn attrs(kvs: &[KeyValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = kvs
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Go's `encoding/json` of `AsRaw()`; `None` on a non-finite double.
fn json(v: &AnyValue, out: &mut String) -> Option<()> {
    match &v.value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => json_str(s, out),
        Some(Value::BoolValue(b)) => out.push_str(&b.to_string()),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) if !d.is_finite() => return None,
        Some(Value::DoubleValue(d)) => out.push_str(&go_float(*d)),
        // `ByteSlice.AsRaw()` of an empty slice is a nil []byte: `null`.
        Some(Value::BytesValue(b)) if b.is_empty() => out.push_str("null"),
        Some(Value::BytesValue(b)) => {
            json_str(&base64::engine::general_purpose::STANDARD.encode(b), out)
        }
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, item) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out)?;
            }
            out.push(']');
        }
        Some(Value::KvlistValue(l)) => {
            // A Go map: the last of repeated keys wins; keys sorted by bytes.
            let mut map = std::collections::BTreeMap::new();
            let empty = AnyValue { value: None };
            for kv in &l.values {
                map.insert(kv.key.as_str(), kv.value.as_ref().unwrap_or(&empty));
            }
            out.push('{');
            for (i, (k, v)) in map.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(k, out);
                out.push(':');
                json(v, out)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// A Go `encoding/json` string literal with HTML escaping off.
fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The shortest decimal digits that read back as `abs` (finite, > 0), and
/// the exponent of the first digit: `abs ≈ d.ddd × 10^exp`. Among equally
/// short candidates the nearest wins, a tie going to the even digit, as Go's
/// `strconv` does: `{:.*e}` rounds the exact binary value half to even.
fn shortest(abs: f64) -> (String, i32) {
    for p in 1..=17usize {
        let s = format!("{:.*e}", p - 1, abs);
        let (m, e) = s.split_once('e').unwrap();
        let digits: String = m.chars().filter(|c| *c != '.').collect();
        let exp: i32 = e.parse().unwrap();
        if s.parse::<f64>().unwrap() == abs {
            return (digits.trim_end_matches('0').to_string(), exp);
        }
        // Next to a power of two the round-trip interval is lopsided: the
        // nearest p-digit decimal may miss while its neighbour fits.
        let n: u64 = digits.parse().unwrap();
        for cand in [n.wrapping_sub(1), n + 1] {
            let c = format!("{cand}e{}", exp - (p as i32 - 1));
            if cand > 0 && c.parse::<f64>().unwrap() == abs {
                let cs = cand.to_string();
                let exp = exp + (cs.len() as i32 - p as i32);
                return (cs.trim_end_matches('0').to_string(), exp);
            }
        }
    }
    unreachable!("17 digits always round-trip")
}

/// A finite double as pdata's `float64AsString` and Go's `encoding/json`
/// write it: `strconv` shortest digits, plain decimal for 1e-6 <= |d| < 1e21,
/// else `d.ddde±x` with no exponent padding.
pub fn go_float(d: f64) -> String {
    let sign = if d.is_sign_negative() { "-" } else { "" };
    let abs = d.abs();
    if abs == 0.0 {
        return format!("{sign}0");
    }
    let (digits, exp) = shortest(abs);
    let body = if !(1e-6..1e21).contains(&abs) {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        format!("{mant}e{}{}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else if (exp as usize) < digits.len() - 1 {
        let (int, frac) = digits.split_at(exp as usize + 1);
        format!("{int}.{frac}")
    } else {
        format!("{digits}{}", "0".repeat(exp as usize + 1 - digits.len()))
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle's own float rendering agrees with Go on known values,
    /// including a tie broken to the even digit.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn go_float_known_values() {
        for (d, want) in [
            (1.0, "1"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1658206780088562.25, "1658206780088562.2"),
            (2.0f64.powi(-1022), "2.2250738585072014e-308"),
        ] {
            assert_eq!(go_float(d), want, "{d:e}");
        }
    }
}
