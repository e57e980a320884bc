//! Numbers read from the Worker's `[vars]` (and the CLI's equivalents): one
//! parser, so every setting is refused the same way, naming its var.

/// The var `name` as a number of at least `min`: `default` when unset, an
/// error naming the var when it is not such a number.
pub fn count(
    var: impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    min: u64,
) -> Result<u64, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| match min {
                0 => format!("{name}={v:?} is not a number"),
                1 => format!("{name}={v:?} is not a positive number"),
                _ => format!("{name}={v:?} is not a number of at least {min}"),
            }),
    }
}

/// [`count`] of at least 1, as a `usize` (sizes and counts of things).
pub fn positive(
    var: impl Fn(&str) -> Option<String>,
    name: &str,
    default: usize,
) -> Result<usize, String> {
    let n = count(var, name, default as u64, 1)?;
    usize::try_from(n).map_err(|_| format!("{name}={n} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_keeps_the_default_and_bad_values_name_the_var() {
        assert_eq!(count(|_| None, "X", 7, 1), Ok(7));
        assert_eq!(count(|_| Some(" 0 ".into()), "X", 7, 0), Ok(0));
        assert!(count(|_| Some("0".into()), "X", 7, 1)
            .unwrap_err()
            .contains("X=\"0\""));
        assert!(positive(|_| Some("lots".into()), "Y", 7)
            .unwrap_err()
            .contains("Y"));
    }
}
