//! The JSON grammar of the OTLP/JSON decoder: a cursor over the body that
//! reads one value at a time, with no value tree and no per-field visitor.
//!
//! The callers (`scalar`, `value`, the message modules) know the shape they
//! expect and ask for it: [`Parser::object`] walks an object's keys,
//! [`Parser::array`] an array's elements, [`Parser::scalar`] reads any one
//! value as a [`Scalar`]. Strings without escapes are borrowed from the
//! body; the body was checked as UTF-8 whole before parsing.
//!
//! It accepts what serde_json accepts, which the decoder used before (the
//! tests compare the two on every kind of malformed text): RFC 8259 JSON,
//! except that in ignored values, as serde_json does, `\u` escapes are not
//! checked for pairing and numbers not for range. It refuses the rest with
//! serde_json's messages: `what` plus the line and the column of the byte
//! where the error was seen (for a value of the wrong type, its last byte;
//! for a container of the wrong type, its opening bracket). Ignored values are skipped without recursion, whatever their
//! depth; the values read nest only as deep as OTLP's messages do, and
//! `AnyValue`'s own bound ([`crate::decode::MAX_DEPTH`]) limits the rest.
//!
//! No message quotes the payload: a value of the wrong type is named by its
//! kind (`string`, `integer`), never by its text.

use std::borrow::Cow;
use std::fmt;

use crate::decode::Budget;
use crate::error::{Error, Result};
use crate::model::{KeyValue, Str};

/// One JSON value as read by [`Parser::scalar`]. Objects and arrays are only
/// recognised (their opening bracket consumed), so that a reader expecting
/// a scalar can refuse them at their start.
pub(super) enum Scalar<'a> {
    Null,
    Bool(bool),
    /// A non-negative integer that fits `u64`.
    U64(u64),
    /// A negative integer that fits `i64`.
    I64(i64),
    /// Any other number (a fraction, an exponent, `-0` or out of the
    /// integer ranges), as serde_json classifies them.
    F64(f64),
    Str(Str<'a>),
    Object,
    Array,
}

impl Scalar<'_> {
    /// The kind of value, in serde's words, for "invalid type" messages.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "boolean",
            Scalar::U64(_) | Scalar::I64(_) => "integer",
            Scalar::F64(_) => "floating point",
            Scalar::Str(_) => "string",
            Scalar::Object => "map",
            Scalar::Array => "sequence",
        }
    }
}

/// The cursor: the body, the next byte to read and the decode budget the
/// callers charge; and room for the attribute list being read
/// ([`Parser::scratch_attrs`]).
pub(super) struct Parser<'a, 'b> {
    text: &'a str,
    at: usize,
    budget: &'b Budget<'b>,
    attrs: Vec<KeyValue<'a>>,
}

impl<'a, 'b> Parser<'a, 'b> {
    pub(super) fn new(text: &'a str, budget: &'b Budget) -> Self {
        Parser {
            text,
            at: 0,
            budget,
            attrs: Vec::new(),
        }
    }

    /// A list for reading an attribute list into, kept from list to list
    /// (the caller gives it back with [`Parser::return_attrs`] once it has
    /// moved the entries out), so a message's attributes are collected in
    /// one exactly sized `Vec` instead of one grown by doubling. A list
    /// read inside another gets a fresh one.
    #[inline]
    pub(super) fn scratch_attrs(&mut self) -> Vec<KeyValue<'a>> {
        let mut v = std::mem::take(&mut self.attrs);
        v.clear();
        v
    }

    /// Gives back the list [`Parser::scratch_attrs`] lent.
    #[inline]
    pub(super) fn return_attrs(&mut self, v: Vec<KeyValue<'a>>) {
        if v.capacity() > self.attrs.capacity() {
            self.attrs = v;
        }
    }

    /// Charges room for one `T` against the decode budget.
    #[inline]
    pub(super) fn charge<T>(&self) -> Result<()> {
        self.budget.charge::<T>(1)
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// The first byte of the next value, after whitespace.
    #[inline]
    fn value_start(&mut self) -> Result<u8> {
        self.ws();
        match self.peek() {
            Some(b) => Ok(b),
            None => Err(self.eof("EOF while parsing a value")),
        }
    }

    /// The next value when it is a string, read directly (the common case
    /// of the scalar readers, without [`Parser::scalar`]'s dispatch); `None`
    /// when it is not a string (the cursor is then at its first byte).
    #[inline(always)]
    pub(super) fn string_next(&mut self) -> Option<Result<Str<'a>>> {
        self.ws();
        (self.peek() == Some(b'"')).then(|| self.string())
    }

    /// The next value when it is a number, as its text (its grammar
    /// checked), for a reader that needs it exactly (an integer field: a
    /// `double` holds 64-bit integers only to 2^53); `None` when it is not
    /// a number (the cursor is then at its first byte).
    pub(super) fn number_next(&mut self) -> Option<Result<&'a str>> {
        self.ws();
        let start = self.at;
        matches!(self.peek(), Some(b'-' | b'0'..=b'9')).then(|| {
            self.at = self.number_end()?;
            Ok(&self.text[start..self.at])
        })
    }

    /// Whether the next value is `null` (or starts like it).
    #[inline]
    pub(super) fn null_next(&mut self) -> bool {
        self.ws();
        self.peek() == Some(b'n')
    }

    /// Where the cursor is, as the `at line L column C` of an error there
    /// (for [`Error::TooDeep`]).
    pub(super) fn here(&self) -> String {
        let (line, column) = line_column(self.bytes(), self.at);
        format!("at line {line} column {column}")
    }

    // ---- errors -------------------------------------------------------------

    /// An error whose position is the byte before `end` (the last byte read:
    /// serde_json's convention, line and column both 1-based).
    #[cold]
    #[inline(never)]
    pub(super) fn error_at(&self, what: impl Into<String>, end: usize) -> Error {
        let (line, column) = line_column(self.bytes(), end);
        Error::Json {
            what: what.into(),
            line,
            column,
        }
    }

    /// An error at the last byte read.
    #[cold]
    pub(super) fn error(&self, what: impl Into<String>) -> Error {
        self.error_at(what, self.at)
    }

    /// An error at the next byte (the one found wrong).
    #[cold]
    fn error_next(&self, what: &str) -> Error {
        self.error_at(what, (self.at + 1).min(self.text.len()))
    }

    #[cold]
    fn eof(&self, what: &str) -> Error {
        self.error_at(what, self.text.len())
    }

    /// "invalid type: KIND, expected EXPECTING", for a value already read.
    #[cold]
    pub(super) fn wrong_type(&self, met: &Scalar<'_>, expecting: &dyn fmt::Display) -> Error {
        self.error(format!(
            "invalid type: {}, expected {expecting}",
            met.kind()
        ))
    }

    // ---- containers ---------------------------------------------------------

    /// Reads an object, calling `field` with each key; `field` must read
    /// the key's value (or [`Parser::skip`] it). `null` is read as no
    /// object (`Ok(false)`); any other value is refused as not `expecting`.
    #[inline]
    pub(super) fn object(
        &mut self,
        expecting: &dyn fmt::Display,
        mut field: impl FnMut(&mut Self, Str<'a>) -> Result<()>,
    ) -> Result<bool> {
        match self.value_start()? {
            b'{' => self.at += 1,
            b'n' => return self.null_as_absent(expecting),
            _ => return Err(self.refuse(expecting)),
        }
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.at += 1;
                return Ok(true);
            }
            Some(b'"') => {}
            None => return Err(self.eof("EOF while parsing an object")),
            Some(_) => return Err(self.error_next("key must be a string")),
        }
        self.fields(&mut field)?;
        Ok(true)
    }

    /// The rest of an object after a field's value that the caller read
    /// itself (after [`Parser::eat_key`]): its other fields go to `field`,
    /// as in [`Parser::object`].
    #[inline]
    pub(super) fn rest_of_object(
        &mut self,
        mut field: impl FnMut(&mut Self, Str<'a>) -> Result<()>,
    ) -> Result<()> {
        if self.next_field()? {
            self.fields(&mut field)?;
        }
        Ok(())
    }

    /// `{"key":` (`open` = `{`, an object's first key) or `,"key":` (`open`
    /// = `,`, the next one) exactly after the cursor's whitespace: stepped
    /// over. The fast path of objects whose keys exporters write in a known
    /// order: the caller reads the key's value without the key being
    /// scanned and matched, and when this says no, reads the object the
    /// general way from where it is ([`Parser::object`], or
    /// [`Parser::rest_of_object`]), so the result does not depend on which
    /// path read it.
    #[inline(always)]
    pub(super) fn eat_key(&mut self, open: u8, key: &str) -> bool {
        self.ws();
        let (b, n) = (&self.bytes()[self.at..], key.len());
        let found = b.len() > n + 3
            && b[0] == open
            && b[1] == b'"'
            && &b[2..2 + n] == key.as_bytes()
            && b[2 + n] == b'"'
            && b[3 + n] == b':';
        if found {
            self.at += n + 4;
        }
        found
    }

    /// An object's fields, from the opening quote of a key to the closing
    /// brace.
    #[inline(always)]
    fn fields(&mut self, field: &mut impl FnMut(&mut Self, Str<'a>) -> Result<()>) -> Result<()> {
        loop {
            let key = self.string()?;
            self.colon()?;
            field(self, key)?;
            if !self.next_field()? {
                return Ok(());
            }
        }
    }

    /// After a field's value: `}` ends the object (`false`); `,` goes on to
    /// the next key, whose opening quote is then at the cursor (`true`).
    #[inline(always)]
    fn next_field(&mut self) -> Result<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => self.at += 1,
            Some(b'}') => {
                self.at += 1;
                return Ok(false);
            }
            None => return Err(self.eof("EOF while parsing an object")),
            Some(_) => return Err(self.error_next("expected `,` or `}`")),
        }
        self.ws();
        match self.peek() {
            Some(b'"') => Ok(true),
            Some(b'}') => Err(self.error_next("trailing comma")),
            None => Err(self.eof("EOF while parsing a value")),
            Some(_) => Err(self.error_next("key must be a string")),
        }
    }

    /// Reads an array, calling `element` at the start of each element;
    /// `element` must read it. `null` is no array (`Ok(false)`); any other
    /// value is refused as not `expecting`.
    #[inline]
    pub(super) fn array(
        &mut self,
        expecting: &dyn fmt::Display,
        mut element: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<bool> {
        match self.value_start()? {
            b'[' => self.at += 1,
            b'n' => return self.null_as_absent(expecting),
            _ => return Err(self.refuse(expecting)),
        }
        self.ws();
        match self.peek() {
            Some(b']') => {
                self.at += 1;
                return Ok(true);
            }
            None => return Err(self.eof("EOF while parsing a list")),
            Some(_) => {}
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(true);
                }
                None => return Err(self.eof("EOF while parsing a list")),
                Some(_) => return Err(self.error_next("expected `,` or `]`")),
            }
            self.ws();
            if self.peek() == Some(b']') {
                return Err(self.error_next("trailing comma"));
            }
        }
    }

    /// `null` where a container was expected: absent. Anything else that
    /// starts with `n` is a syntax error.
    fn null_as_absent(&mut self, expecting: &dyn fmt::Display) -> Result<bool> {
        match self.scalar()? {
            Scalar::Null => Ok(false),
            met => Err(self.wrong_type(&met, expecting)),
        }
    }

    /// Reads the value at the cursor (which is not a container of the
    /// expected kind) and refuses it as not `expecting`: a scalar is read
    /// whole first (so a syntax error inside it wins, and the position is
    /// its last byte), a container at its opening bracket.
    #[cold]
    fn refuse(&mut self, expecting: &dyn fmt::Display) -> Error {
        match self.scalar() {
            Ok(met) => self.wrong_type(&met, expecting),
            Err(e) => e,
        }
    }

    /// Skips one value of any kind (an unknown field), without recursion,
    /// checking only its grammar, as serde_json does for ignored values: no
    /// nesting limit, numbers not ranged, `\\u` escapes not paired. The
    /// containers open inside it are bits of `objects` (innermost lowest,
    /// 1 for an object), spilled to `outer` every 128 levels.
    pub(super) fn skip(&mut self) -> Result<()> {
        let (mut objects, mut open, mut outer) = (0u128, 0usize, Vec::new());
        loop {
            // At the start of a value: a scalar is skipped whole, a
            // container entered (`Some(is an object)`) unless it is empty.
            let entered = match self.value_start()? {
                c @ (b'{' | b'[') => {
                    let (object, close) = if c == b'{' {
                        (true, b'}')
                    } else {
                        (false, b']')
                    };
                    self.at += 1;
                    self.ws();
                    match self.peek() {
                        Some(e) if e == close => {
                            self.at += 1;
                            None
                        }
                        None if object => return Err(self.eof("EOF while parsing an object")),
                        None => return Err(self.eof("EOF while parsing a list")),
                        Some(b'"') if object => Some(true),
                        Some(_) if object => return Err(self.error_next("key must be a string")),
                        Some(_) => Some(false),
                    }
                }
                b'"' => {
                    self.skip_string()?;
                    None
                }
                b'-' | b'0'..=b'9' => {
                    self.at = self.number_end()?;
                    None
                }
                // `true`, `false`, `null`, or the error for anything else.
                _ => {
                    self.scalar()?;
                    None
                }
            };
            if let Some(object) = entered {
                if open > 0 && open.is_multiple_of(128) {
                    outer.push(objects);
                    objects = 0;
                }
                (objects, open) = (objects << 1 | u128::from(object), open + 1);
                if object {
                    self.skip_key()?;
                }
                continue;
            }
            // A value ended: close the containers that end here, then step
            // past a comma to the next value.
            loop {
                if open == 0 {
                    return Ok(());
                }
                let object = objects & 1 == 1;
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.ws();
                        match self.peek() {
                            Some(b'"') if object => self.skip_key()?,
                            Some(b'}') if object => return Err(self.error_next("trailing comma")),
                            None if object => return Err(self.eof("EOF while parsing a value")),
                            Some(_) if object => {
                                return Err(self.error_next("key must be a string"))
                            }
                            Some(b']') => return Err(self.error_next("trailing comma")),
                            _ => {}
                        }
                        break;
                    }
                    Some(b'}') if object => self.at += 1,
                    Some(b']') if !object => self.at += 1,
                    None if object => return Err(self.eof("EOF while parsing an object")),
                    None => return Err(self.eof("EOF while parsing a list")),
                    Some(_) if object => return Err(self.error_next("expected `,` or `}`")),
                    Some(_) => return Err(self.error_next("expected `,` or `]`")),
                }
                (objects, open) = (objects >> 1, open - 1);
                if open > 0 && open.is_multiple_of(128) {
                    objects = outer.pop().unwrap_or(0);
                }
            }
        }
    }

    /// An ignored object's key (at its opening quote) and the `:` after it.
    fn skip_key(&mut self) -> Result<()> {
        self.skip_string()?;
        self.colon()
    }

    /// Steps over a string (at its opening quote) of an ignored value:
    /// escapes are checked as escapes (a known letter, or `u` and four hex
    /// digits) and not decoded.
    fn skip_string(&mut self) -> Result<()> {
        let b = self.bytes();
        let mut i = self.at + 1;
        loop {
            i = find_special(b, i);
            self.at = i;
            match b.get(i) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            self.hex4()?;
                        }
                        None => return Err(self.eof("EOF while parsing a string")),
                        Some(_) => return Err(self.error_next("invalid escape")),
                    }
                    i = self.at + 1;
                }
                Some(_) => {
                    return Err(self
                        .error("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                None => return Err(self.eof("EOF while parsing a string")),
            }
        }
    }

    /// The `:` after a key.
    #[inline]
    fn colon(&mut self) -> Result<()> {
        self.ws();
        match self.peek() {
            Some(b':') => {
                self.at += 1;
                Ok(())
            }
            None => Err(self.eof("EOF while parsing an object")),
            Some(_) => Err(self.error_next("expected `:`")),
        }
    }
}

// ---- scalars ----------------------------------------------------------------

impl<'a> Parser<'a, '_> {
    /// Reads the next value as a [`Scalar`]; an object or an array only has
    /// its opening bracket read (the caller refuses it or walks it).
    pub(super) fn scalar(&mut self) -> Result<Scalar<'a>> {
        Ok(match self.value_start()? {
            b'"' => Scalar::Str(self.string()?),
            b'-' | b'0'..=b'9' => self.number()?,
            b'{' => {
                self.at += 1;
                Scalar::Object
            }
            b'[' => {
                self.at += 1;
                Scalar::Array
            }
            b't' => {
                self.literal(b"true")?;
                Scalar::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Scalar::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Scalar::Null
            }
            _ => return Err(self.error_next("expected value")),
        })
    }

    /// `true`, `false` or `null` at the cursor (its first byte checked).
    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes().get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            return Ok(());
        }
        self.bad_literal(word)
    }

    /// The error for a literal that is not `word` (its first byte checked).
    #[cold]
    fn bad_literal(&mut self, word: &[u8]) -> Result<()> {
        for &want in word {
            match self.peek() {
                Some(b) if b == want => self.at += 1,
                None => return Err(self.eof("EOF while parsing a value")),
                Some(_) => return Err(self.error_next("expected ident")),
            }
        }
        Ok(())
    }

    /// A string at the cursor (at its opening quote), borrowed from the body
    /// unless it has escapes.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Result<Str<'a>> {
        let b = self.bytes();
        let start = self.at + 1;
        let i = find_special(b, start);
        match b.get(i) {
            Some(b'"') => {
                self.at = i + 1;
                Ok(Cow::Borrowed(&self.text[start..i]))
            }
            Some(b'\\') => self.escaped(start, i).map(Cow::Owned),
            Some(_) => {
                self.at = i;
                Err(self.error("control character (\\u0000-\\u001F) found while parsing a string"))
            }
            None => Err(self.eof("EOF while parsing a string")),
        }
    }

    /// The rest of a string that has an escape at `i`: unescaped into a new
    /// `String` from `start`.
    #[cold]
    fn escaped(&mut self, start: usize, mut i: usize) -> Result<String> {
        let b = self.bytes();
        let mut out = String::with_capacity(i - start + 16);
        let mut run = start;
        loop {
            i = find_special(b, i);
            out.push_str(&self.text[run..i]);
            match b.get(i) {
                Some(b'"') => {
                    self.at = i + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    // The cursor on the escape's letter.
                    self.at = i + 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        None => return Err(self.eof("EOF while parsing a string")),
                        Some(_) => return Err(self.error_next("invalid escape")),
                    };
                    out.push(c);
                    // Past the letter (`unicode_escape` leaves the cursor on
                    // its last digit).
                    i = self.at + 1;
                    run = i;
                }
                Some(_) => {
                    self.at = i;
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                None => {
                    self.at = b.len();
                    return Err(self.eof("EOF while parsing a string"));
                }
            }
        }
    }

    /// `\uXXXX`, the cursor on its `u`, or a UTF-16 surrogate pair of two;
    /// leaves the cursor on the last hex digit read.
    fn unicode_escape(&mut self) -> Result<char> {
        let high = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&high) {
            return Err(self.error_next("lone leading surrogate in hex escape"));
        }
        if !(0xD800..=0xDBFF).contains(&high) {
            return char::from_u32(high)
                .ok_or_else(|| self.error_next("invalid unicode code point"));
        }
        for want in [b'\\', b'u'] {
            self.at += 1;
            match self.peek() {
                Some(c) if c == want => {}
                None => return Err(self.eof("EOF while parsing a string")),
                Some(_) => return Err(self.error_next("unexpected end of hex escape")),
            }
        }
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return Err(self.error_next("lone leading surrogate in hex escape"));
        }
        let c = 0x1_0000 + ((high - 0xD800) << 10 | (low - 0xDC00));
        char::from_u32(c).ok_or_else(|| self.error_next("invalid unicode code point"))
    }

    /// Four hex digits after the cursor; leaves the cursor on the last.
    fn hex4(&mut self) -> Result<u32> {
        let mut n = 0;
        for _ in 0..4 {
            self.at += 1;
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                None => return Err(self.eof("EOF while parsing a string")),
                Some(_) => return Err(self.error_next("invalid escape")),
            };
            n = n << 4 | u32::from(d);
        }
        Ok(n)
    }

    /// The non-negative integer at the cursor, after whitespace, when it
    /// is written plainly (1 to 19 decimal digits, no leading zero but `0`
    /// itself, no fraction or exponent) and `fits` takes it: stepped over
    /// and returned. `None` for anything else, the cursor at the value, for
    /// [`Parser::scalar`] to read (or refuse) as before.
    #[inline]
    pub(super) fn plain_uint<T>(&mut self, fits: impl FnOnce(u64) -> Option<T>) -> Option<T> {
        self.ws();
        let b = self.bytes();
        let start = self.at;
        let (mut n, mut i) = (0u64, start);
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            if i - start == 19 {
                return None;
            }
            n = n * 10 + u64::from(c - b'0');
            i += 1;
        }
        let leading_zero = i - start > 1 && b[start] == b'0';
        if i == start || leading_zero || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = fits(n)?;
        self.at = i;
        Some(v)
    }

    /// A number at the cursor (RFC 8259 grammar), classified as serde_json
    /// does: integers without fraction or exponent are [`Scalar::U64`] or
    /// (negative, not zero) [`Scalar::I64`] when they fit, anything else is
    /// [`Scalar::F64`], correctly rounded; beyond `f64` is refused.
    fn number(&mut self) -> Result<Scalar<'a>> {
        let (start, int_end) = (self.at, self.integer_end()?);
        let i = self.fraction_end(int_end)?;
        self.at = i;
        let b = self.bytes();
        let negative = b[start] == b'-';
        if i == int_end {
            // An integer: exact while it fits.
            let mut n: u64 = 0;
            let mut fits = true;
            for &d in &b[start + usize::from(negative)..i] {
                match n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d - b'0')))
                {
                    Some(v) => n = v,
                    None => {
                        fits = false;
                        break;
                    }
                }
            }
            if fits && !negative {
                return Ok(Scalar::U64(n));
            }
            if fits && n != 0 && n <= 1 << 63 {
                return Ok(Scalar::I64((n as i64).wrapping_neg()));
            }
        }
        let text = &self.text[start..i];
        match exact_f64(text.as_bytes()).map_or_else(|| text.parse::<f64>(), Ok) {
            Ok(f) if f.is_finite() => Ok(Scalar::F64(f)),
            _ => Err(self.error("number out of range")),
        }
    }

    /// The end of the integer part of the number at the cursor.
    fn integer_end(&mut self) -> Result<usize> {
        let b = self.bytes();
        let start = self.at;
        let negative = b[start] == b'-';
        let mut i = start + usize::from(negative);
        let digit = |i: usize| matches!(b.get(i), Some(b'0'..=b'9'));
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if digit(i) {
                    self.at = i;
                    return Err(self.error_next("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            None => return Err(self.eof("EOF while parsing a value")),
            Some(_) => {
                self.at = i;
                return Err(self.error_next("invalid number"));
            }
        }
        Ok(i)
    }

    /// The end of the number at the cursor, its grammar checked (RFC 8259).
    fn number_end(&mut self) -> Result<usize> {
        let i = self.integer_end()?;
        self.fraction_end(i)
    }

    /// The end of the fraction and exponent, if any, from `i`.
    fn fraction_end(&mut self, mut i: usize) -> Result<usize> {
        let b = self.bytes();
        if b.get(i) == Some(&b'.') {
            i += 1;
            i = self.digits(i)?;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            i = self.digits(i)?;
        }
        Ok(i)
    }

    /// One or more digits from `i` (a fraction or an exponent); the index
    /// after them.
    fn digits(&mut self, mut i: usize) -> Result<usize> {
        let b = self.bytes();
        match b.get(i) {
            Some(b'0'..=b'9') => {}
            None => {
                self.at = i;
                return Err(self.eof("EOF while parsing a value"));
            }
            Some(_) => {
                self.at = i;
                return Err(self.error_next("invalid number"));
            }
        }
        while let Some(b'0'..=b'9') = b.get(i) {
            i += 1;
        }
        Ok(i)
    }

    /// The end of the document: only whitespace may follow the value.
    pub(super) fn finish(&mut self) -> Result<()> {
        self.ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error_next("trailing characters")),
        }
    }
}

/// The index of the first byte at or after `i` that ends a run of plain
/// string bytes: `"`, `\\` or a control character (or `b.len()`). Sixteen
/// bytes at a time where the target has 128-bit SIMD (SSE2 on x86-64,
/// simd128 in the Worker's wasm), then eight at a time in a `u64`, so that
/// long values are cheap.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "wasm32", target_feature = "simd128")
    ))]
    while let Some(chunk) = b.get(i..i + 16) {
        let chunk: &[u8; 16] = chunk.try_into().expect("sixteen bytes");
        let flags = simd::specials(chunk);
        if flags != 0 {
            return i + flags.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(chunk) = b.get(i..i + 8) {
        let flags = swar_specials(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The special bytes of eight (little-endian in `w`): the high bit of each
/// byte that is zero after XOR with `"` or `\\`, or is below 0x20. Only the
/// lowest flag is exact (a borrow may flag bytes above a special one), which
/// is the one [`find_special`] uses.
#[inline(always)]
fn swar_specials(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    (quote.wrapping_sub(ONES) & !quote
        | slash.wrapping_sub(ONES) & !slash
        | w.wrapping_sub(ONES * 0x20) & !w)
        & HIGH
}

/// [`find_special`]'s sixteen-byte step: one bit per special byte of
/// `chunk`, the first byte lowest. The chunk is read as two `u64`s (no
/// unaligned pointer load, so no `unsafe`); the compiler joins them.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod simd {
    use std::arch::x86_64::*;

    #[inline(always)]
    pub(super) fn specials(chunk: &[u8; 16]) -> u32 {
        // SAFETY: the only requirement of a `target_feature` function is
        // that the CPU has the feature, and this module is compiled only
        // where SSE2 is enabled for the whole build (the `cfg` above; it is
        // part of x86-64's baseline).
        unsafe { sse2(chunk) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn sse2(chunk: &[u8; 16]) -> u32 {
        let (lo, hi) = chunk.split_at(8);
        let word = |h: &[u8]| i64::from_le_bytes(h.try_into().expect("eight bytes"));
        let v = _mm_set_epi64x(word(hi), word(lo));
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `v < 0x20` is `min(v, 0x1f) == v`.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)) as u32
    }
}

/// As above, with wasm's simd128 (which V8, so workerd, runs).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    pub(super) fn specials(chunk: &[u8; 16]) -> u32 {
        let (lo, hi) = chunk.split_at(8);
        let word = |h: &[u8]| u64::from_le_bytes(h.try_into().expect("eight bytes"));
        let v = u64x2(word(lo), word(hi));
        let special = v128_or(
            v128_or(
                u8x16_eq(v, u8x16_splat(b'"')),
                u8x16_eq(v, u8x16_splat(b'\\')),
            ),
            u8x16_lt(v, u8x16_splat(0x20)),
        );
        u32::from(u8x16_bitmask(special))
    }
}

/// A number of JSON's grammar whose decimal digits (without the point) fit
/// 2^53 and whose power of ten is at most 22 either way, computed by one
/// multiplication or division of two exactly represented doubles, which
/// IEEE 754 rounds correctly (Clinger's fast path, which serde_json and the
/// standard library take too); `None` for the others, which
/// [`str::parse`] rounds correctly the long way.
fn exact_f64(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (mut m, mut exp, mut i) = (0u64, 0i32, 0);
    let digit = |i: usize, m: &mut u64| -> Option<bool> {
        match s.get(i) {
            Some(&c @ b'0'..=b'9') => {
                *m = m.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                Some(true)
            }
            _ => Some(false),
        }
    };
    while digit(i, &mut m)? {
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while digit(i, &mut m)? {
            i += 1;
            exp -= 1;
        }
    }
    if let Some(b'e' | b'E') = s.get(i) {
        let sign = if s.get(i + 1) == Some(&b'-') { -1 } else { 1 };
        let mut e = 0i32;
        i += 1 + usize::from(matches!(s.get(i + 1), Some(b'-' | b'+')));
        let first = i;
        while let Some(&c @ b'0'..=b'9') = s.get(i) {
            e = e.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
            i += 1;
        }
        if i == first {
            return None;
        }
        exp = exp.checked_add(sign * e)?;
    }
    if i != s.len() || m > 1 << 53 {
        return None;
    }
    let v = match usize::try_from(exp) {
        Ok(e) => m as f64 * *POW10.get(e)?,
        Err(_) => m as f64 / *POW10.get(usize::try_from(exp.checked_neg()?).ok()?)?,
    };
    Some(if negative { -v } else { v })
}

/// serde_json's line and column of an error whose last byte read is the
/// one before `end`: the line is 1-based, the column counts the bytes of the
/// line up to `end` (so 0 right after a line break).
pub(super) fn line_column(b: &[u8], end: usize) -> (usize, usize) {
    let before = &b[..end.min(b.len())];
    let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
    let start = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - start)
}

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;

    use super::*;

    fn budget() -> Budget<'static> {
        Budget::new(1 << 30)
    }

    /// Skips `doc` as one value, as the decoder skips an unknown field.
    fn skip(doc: &str) -> Result<()> {
        let b = budget();
        let mut p = Parser::new(doc, &b);
        p.skip()?;
        p.finish()
    }

    /// Documents at every corner of the grammar, valid and not.
    fn corner_cases() -> Vec<String> {
        let mut docs: Vec<String> = [
            "",
            " ",
            "null",
            "true",
            "false",
            "nul",
            "tru",
            "falsey",
            "NULL",
            "{}",
            "[]",
            "{ }",
            "[ ]",
            " { \"a\" : [ 1 , 2 ] } ",
            "\t\r\n{\"a\":1}\n",
            "\u{b}1",
            "\u{c}1",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{,}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "[1 2]",
            "{1:2}",
            "{\"a\":1}}",
            "{\"a\":1}x",
            "[1]]",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":[",
            "{\"a\":{",
            "{\"a\":\"",
            "{\"a\":\"\\",
            "{\"a\":\"\\u",
            "{\"a\":\"\\u12",
            "{\"a\":{\"b\":1,",
            "{\"a\":{\"b\":1,}}",
            "[{}",
            "[[]",
            "{\"a\":[] ,\"b\":{}}",
            "\"x\" \"y\"",
            "[true,false,null]",
            "[tru]",
            "[nulll]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [
            "0",
            "-0",
            "-",
            "--1",
            "+1",
            "01",
            "-01",
            "1.",
            "1.e5",
            ".5",
            "-.5",
            "1e",
            "1e+",
            "1E-",
            "1e5",
            "1E+5",
            "1.5e-3",
            "2.5",
            "1e400",
            "-1e400",
            "1e-400",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "0.000",
        ] {
            docs.push(n.to_string());
            docs.push(format!("[{n}]"));
            docs.push(format!("{{\"n\":{n}}}"));
        }
        for s in [
            r#""a\u00e9b""#,
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\u12""#,
            r#""\uZZZZ""#,
            r#""\x""#,
            r#""a\/b\b\f\n\r\t\"\\""#,
            "\"tab\there\"",
            "\"nl\nhere\"",
            r#""\u0000""#,
            "\"\u{1f}\"",
            r#""\ud800\udc00""#,
            r#""\udbff\udfff""#,
            r#""\ud83d\ud83d""#,
            "\"ünïcödé ✓\"",
            "\"a",
            "\"\\\"",
            "\"0123456789abcdef0123456789\\n\"",
        ] {
            docs.push(s.to_string());
            docs.push(format!("{{{s}:[{s}]}}"));
        }
        for depth in [1, 127, 128, 300] {
            docs.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
            docs.push(format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
            docs.push("[{\"a\":".repeat(depth));
        }
        docs
    }

    /// A document of every kind of value, and each of its mutations by one
    /// byte (dropped, or replaced by one of JSON's structural bytes).
    fn mutations() -> Vec<String> {
        let doc = r#"{"a":[1,-2.5e3,"x\n\u00e9y",true,false,null,{"b":{}},[]],"c":"d"}"#;
        let mut out = vec![doc.to_string()];
        for i in 0..doc.len() {
            let mut dropped = doc.as_bytes().to_vec();
            dropped.remove(i);
            out.extend(String::from_utf8(dropped).ok());
            for c in b"{}[]\",:\\ 0-.e" {
                let mut replaced = doc.as_bytes().to_vec();
                replaced[i] = *c;
                out.extend(String::from_utf8(replaced).ok());
            }
        }
        out
    }

    /// Skipping accepts exactly what serde_json accepts as an ignored
    /// value, and refuses the rest on the same line (the decoder accepted
    /// these documents through serde_json before it had its own parser, so
    /// this keeps what senders may send).
    #[test]
    fn skipping_accepts_what_serde_json_accepts() {
        let mut checked = 0;
        for doc in corner_cases().into_iter().chain(mutations()) {
            let ours = skip(&doc);
            let theirs = serde_json::from_str::<IgnoredAny>(&doc);
            match (&ours, &theirs) {
                (Ok(()), Ok(_)) => {}
                (Err(Error::Json { line, .. }), Err(e)) => assert_eq!(*line, e.line(), "{doc:?}"),
                _ => panic!("{doc:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
            checked += 1;
        }
        assert!(checked > 600, "{checked}");
    }

    /// Values read (not skipped) are read as serde_json reads them:
    /// numbers classified the same (unsigned, negative, float, out of
    /// range), strings unescaped the same (surrogate pairs joined, lone
    /// surrogates refused).
    #[test]
    fn values_read_as_serde_json_reads_them() {
        use serde_json::Value;
        for doc in corner_cases().into_iter().chain(mutations()) {
            let b = budget();
            let mut p = Parser::new(&doc, &b);
            let ours = p.scalar().and_then(|v| {
                if matches!(v, Scalar::Object | Scalar::Array) {
                    return Ok(None);
                }
                p.finish().map(|()| Some(v))
            });
            let theirs = serde_json::from_str::<Value>(&doc);
            match (ours, theirs) {
                (Ok(None), _) => {}
                (Ok(Some(v)), Ok(t)) => {
                    let same = match (&v, &t) {
                        (Scalar::Null, Value::Null) => true,
                        (Scalar::Bool(a), Value::Bool(b)) => a == b,
                        (Scalar::Str(a), Value::String(b)) => a == b,
                        (Scalar::U64(a), Value::Number(n)) => n.as_u64() == Some(*a),
                        (Scalar::I64(a), Value::Number(n)) => {
                            n.as_i64() == Some(*a) && n.as_u64().is_none()
                        }
                        (Scalar::F64(a), Value::Number(n)) => {
                            n.is_f64() && n.as_f64().map(f64::to_bits) == Some(a.to_bits())
                        }
                        _ => false,
                    };
                    assert!(same, "{doc:?}: ours {} {t:?}", v.kind());
                }
                (Err(_), Err(_)) => {}
                (ours, theirs) => panic!(
                    "{doc:?}: ours {:?}, serde_json {theirs:?}",
                    ours.map(|v| v.map(|v| v.kind()))
                ),
            }
        }
    }

    /// The eight-bytes-at-a-time scan stops at the first `"`, `\` or
    /// control byte wherever it is, next to bytes that look like them to a
    /// careless bit trick (0x20, 0x7f, 0x80 and above, borrows from a zero).
    #[test]
    fn find_special_stops_at_the_first_special_byte() {
        for len in 0..40 {
            for fill in [b'a', b' ', 0x7f, 0x80, 0xff, b'!', b'#', b'['] {
                let plain = vec![fill; len];
                assert_eq!(find_special(&plain, 0), len);
                for at in 0..len {
                    for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                        let mut b = plain.clone();
                        b[at] = special;
                        // A second special byte after it must not win.
                        if at + 1 < len {
                            b[at + 1] = 0;
                        }
                        for from in 0..=at {
                            assert_eq!(find_special(&b, from), at, "{b:?} from {from}");
                        }
                    }
                }
            }
        }
    }

    /// The fast path gives the correctly rounded double wherever it
    /// answers: the standard library's parser agrees bit for bit on
    /// random decimals of every length and exponent near its limits.
    #[test]
    fn exact_f64_rounds_as_the_standard_parser() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut answered = 0;
        for _ in 0..200_000 {
            let digits = 1 + next() % 19;
            let mantissa = next() % 10u64.pow(digits as u32);
            let mut text = mantissa.to_string();
            let point = (next() % (text.len() as u64 + 1)) as usize;
            if point < text.len() && next() % 2 == 0 {
                text.insert(point, '.');
            }
            if next() % 2 == 0 {
                text.push_str(&format!("e{}", next() as i64 % 30));
            }
            if next() % 2 == 0 {
                text.insert(0, '-');
            }
            if let Some(f) = exact_f64(text.as_bytes()) {
                let want: f64 = text.parse().unwrap();
                assert_eq!(f.to_bits(), want.to_bits(), "{text}");
                answered += 1;
            }
        }
        assert!(answered > 50_000, "{answered}");
        // Exponents at i32's ends: no overflow, the standard parser's answer.
        for text in [
            "0.0e-2147483647",
            "1.5e-2147483647",
            "1e-2147483648",
            "1e2147483647",
        ] {
            if let Some(f) = exact_f64(text.as_bytes()) {
                assert_eq!(
                    f.to_bits(),
                    text.parse::<f64>().unwrap().to_bits(),
                    "{text}"
                );
            }
        }
    }

    /// Each step of [`find_special`] against a byte-by-byte reference on
    /// random chunks rich in the bytes that matter (and their neighbours).
    #[test]
    fn each_scan_step_flags_the_first_special_byte() {
        let palette = [
            b'"', b'\\', 0, 0x1f, 0x20, b'!', b'#', b'[', b']', 0x7f, 0x80, 0xff, b'a',
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let first = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        for _ in 0..100_000 {
            let mut chunk = [0u8; 16];
            for c in &mut chunk {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly plain bytes, so that the first special one is
                // anywhere in the chunk.
                *c = if x.is_multiple_of(8) {
                    palette[(x >> 8) as usize % palette.len()]
                } else {
                    b'a' + (x >> 16) as u8 % 26
                };
            }
            let eight = swar_specials(u64::from_le_bytes(chunk[..8].try_into().unwrap()));
            let got = (eight != 0).then(|| (eight.trailing_zeros() / 8) as usize);
            assert_eq!(got, first(&chunk[..8]), "{chunk:?}");
            #[cfg(any(
                all(target_arch = "x86_64", target_feature = "sse2"),
                all(target_arch = "wasm32", target_feature = "simd128")
            ))]
            {
                let sixteen = simd::specials(&chunk);
                let got = (sixteen != 0).then(|| sixteen.trailing_zeros() as usize);
                assert_eq!(got, first(&chunk), "{chunk:?}");
            }
        }
    }

    /// serde_json's line and column convention: the column counts the
    /// bytes of the line up to the error's end.
    #[test]
    fn positions_are_lines_and_columns() {
        assert_eq!(line_column(b"ab\ncd\nef", 7), (3, 1));
        assert_eq!(line_column(b"ab\ncd", 3), (2, 0));
        assert_eq!(line_column(b"abc", 2), (1, 2));
        let e = skip("{\"a\":1,\n  \"b\" 2}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed OTLP/JSON: expected `:` at line 2 column 7"
        );
    }
}
