//! The request policy that needs no body: routes, the bearer token, and the
//! configuration from Worker vars. Pure functions, tested here.

use subtle::ConstantTimeEq;

use crate::pipeline::{Limits, Options, Signal};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: health and version.
    Health,
    /// `POST /v1/{logs,traces,metrics}`.
    Export(Signal),
    /// A known path with the wrong method; carries its `Allow` header.
    MethodNotAllowed(&'static str),
    /// Any other path.
    NotFound,
}

/// Routes a method and path.
pub fn route(method: &str, path: &str) -> Route {
    let signal = match path {
        "/v1/logs" => Some(Signal::Logs),
        "/v1/traces" => Some(Signal::Traces),
        "/v1/metrics" => Some(Signal::Metrics),
        _ => None,
    };
    match (signal, method) {
        (Some(s), "POST") => Route::Export(s),
        (Some(_), _) => Route::MethodNotAllowed("POST"),
        (None, "GET" | "HEAD") if path == "/" => Route::Health,
        (None, _) if path == "/" => Route::MethodNotAllowed("GET, HEAD"),
        (None, _) => Route::NotFound,
    }
}

/// Checks an `Authorization` header against the configured token, in
/// constant time. No token configured (or an empty one) means auth is off.
///
/// The header must be `Bearer <token>` (RFC 6750 §2.1: `"Bearer" 1*SP
/// b64token`): the scheme in any case (RFC 7235 §2.1), one or more spaces,
/// then exactly the token. Whitespace around the whole value (spaces or
/// tabs) is the field's optional whitespace (RFC 9110 §5.5) and is ignored;
/// any other difference, a tab between scheme and token included, is a
/// refusal. The comparison takes the same time for every token of the
/// configured length; a token of another length is refused at once (its
/// length is all that timing can tell).
pub fn authorized(token: Option<&str>, authorization: Option<&str>) -> bool {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return true;
    };
    let given = authorization.and_then(|h| {
        let (scheme, rest) = h.trim_matches([' ', '\t']).split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim_start_matches(' '))
    });
    let Some(given) = given else {
        return false;
    };
    bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// Builds [`Options`] from Worker vars (`MAX_BODY_BYTES`,
/// `MAX_INFLATED_BYTES`, `MAX_DECODED_BYTES`, `MAX_OUTPUT_BYTES`,
/// `MAX_OBJECTS`, `TIMESTAMP_UNIT` = `ns`|`us`);
/// unset vars keep their defaults. A bad value is an error naming the var.
pub fn options_from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let size = |name: &str, default: usize| crate::vars::positive(&var, name, default);
    let d = Limits::default();
    opts.limits = Limits {
        max_body_bytes: size("MAX_BODY_BYTES", d.max_body_bytes)?,
        max_inflated_bytes: size("MAX_INFLATED_BYTES", d.max_inflated_bytes)?,
        max_decoded_bytes: size("MAX_DECODED_BYTES", d.max_decoded_bytes)?,
        max_output_bytes: size("MAX_OUTPUT_BYTES", d.max_output_bytes)?,
        max_objects: size("MAX_OBJECTS", d.max_objects)?,
    };
    opts.timestamp_unit = match var("TIMESTAMP_UNIT").as_deref().map(str::trim) {
        None | Some("") | Some("ns") => arrow_schema::TimeUnit::Nanosecond,
        Some("us") => arrow_schema::TimeUnit::Microsecond,
        Some(other) => return Err(format!("TIMESTAMP_UNIT={other:?}: expected ns or us")),
    };
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("POST", "/v1/logs"), Route::Export(Signal::Logs));
        assert_eq!(route("POST", "/v1/metrics"), Route::Export(Signal::Metrics));
        assert_eq!(route("GET", "/v1/traces"), Route::MethodNotAllowed("POST"));
        assert_eq!(route("GET", "/"), Route::Health);
        assert_eq!(route("DELETE", "/"), Route::MethodNotAllowed("GET, HEAD"));
        assert_eq!(route("POST", "/v1/profiles"), Route::NotFound);
    }

    #[test]
    fn auth_is_off_without_a_token() {
        assert!(authorized(None, None));
        assert!(authorized(Some(""), None));
        assert!(authorized(None, Some("Bearer anything")));
    }

    /// The `Authorization` header against the token `s3cret`: each case says
    /// whether it is let in and why (RFC 6750 §2.1 for the bearer syntax,
    /// RFC 7235 §2.1 for the scheme, RFC 9110 §5.5 for field whitespace).
    /// Fails if any answer changes.
    #[test]
    fn the_auth_header_table() {
        #[rustfmt::skip]
        let table: &[(Option<&str>, bool, &str)] = &[
            (Some("Bearer s3cret"), true, "the form RFC 6750 gives"),
            (Some("bearer s3cret"), true, "the scheme is case-insensitive (RFC 7235)"),
            (Some("BEARER s3cret"), true, "likewise"),
            (Some("Bearer   s3cret"), true, "1*SP: several spaces separate scheme and token"),
            (Some("  Bearer s3cret  "), true, "leading/trailing spaces are the field's OWS"),
            (Some("\tBearer s3cret\t"), true, "OWS includes tabs at either end"),
            (None, false, "missing header"),
            (Some(""), false, "empty header"),
            (Some("Bearer"), false, "empty bearer: no token at all"),
            (Some("Bearer "), false, "empty bearer: only the separator"),
            (Some("Bearer    "), false, "empty bearer: only spaces"),
            (Some("s3cret"), false, "no scheme"),
            (Some("Basic s3cret"), false, "another scheme"),
            (Some("Token s3cret"), false, "another scheme"),
            (Some("Bearers3cret"), false, "no space after the scheme"),
            (Some("Bearer nope00"), false, "wrong token of the same length"),
            (Some("Bearer s3cre"), false, "a prefix of the token (shorter)"),
            (Some("Bearer s"), false, "a one-character prefix"),
            (Some("Bearer s3cret2"), false, "the token plus more (longer)"),
            (Some("Bearer s3cret s3cret"), false, "two tokens"),
            (Some("Bearer S3CRET"), false, "the token is case-sensitive"),
            (Some("Bearer\ts3cret"), false, "a tab is not the SP the syntax requires"),
            (Some("Bearer \ts3cret"), false, "a tab inside is part of the token, not OWS"),
            (Some("Bearer s3c ret"), false, "a space inside the token"),
            (Some("Bearer \"s3cret\""), false, "quotes are not part of b64token"),
            (Some("Bearer s3cret,"), false, "a list of credentials is not one token"),
            (Some("Bearer=s3cret"), false, "auth-param syntax is not the bearer form"),
        ];
        for (header, want, why) in table {
            assert_eq!(
                authorized(Some("s3cret"), *header),
                *want,
                "{header:?}: {why}"
            );
        }
    }

    #[test]
    fn vars_configure_limits_and_unit() {
        let vars = |k: &str| match k {
            "MAX_BODY_BYTES" => Some("1000".to_string()),
            "TIMESTAMP_UNIT" => Some("us".to_string()),
            _ => None,
        };
        let o = options_from_vars(vars).unwrap();
        assert_eq!(o.limits.max_body_bytes, 1000);
        assert_eq!(
            o.limits.max_inflated_bytes,
            Limits::default().max_inflated_bytes
        );
        assert_eq!(o.timestamp_unit, arrow_schema::TimeUnit::Microsecond);
        let bad = options_from_vars(|k| (k == "MAX_DECODED_BYTES").then(|| "lots".to_string()));
        assert!(bad.unwrap_err().contains("MAX_DECODED_BYTES"));
    }
}
