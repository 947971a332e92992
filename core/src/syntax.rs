//! The pieces of HTTP syntax (RFC 9110) that several parsers share: token
//! characters, optional whitespace, media types with their parameters, and
//! percent-decoding (RFC 3986 §2.1, with the `+` of HTML forms).
//!
//! One version of each, so that the cookie, Basic, login and callback
//! checks cannot drift apart on what a token or an escape is. Nothing here
//! allocates unless a decoded value has to differ from its input, and
//! nothing panics on any input.

use std::borrow::Cow;

/// RFC 9110 §5.6.2 `tchar`, indexed by byte: one load and no branch per
/// byte.
// Built at compile time: an index out of range fails the build, not a worker.
#[allow(clippy::indexing_slicing)]
static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let specials = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
};

/// An RFC 9110 token character.
#[inline]
pub fn is_tchar(b: u8) -> bool {
    // A `u8` is always below the table's 256 entries: the compiler drops
    // the bound check, and `false` is never taken.
    TCHAR.get(usize::from(b)).copied().unwrap_or(false)
}

/// An RFC 9110 token: one or more [`is_tchar`] bytes.
#[inline]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 §5.6.3 `OWS`: space or horizontal tab.
#[inline]
pub fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

#[inline]
pub fn trim_ows_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    s
}

#[inline]
pub fn trim_ows_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

#[inline]
pub fn trim_ows(s: &[u8]) -> &[u8] {
    trim_ows_end(trim_ows_start(s))
}

/// A media type as found in `Content-Type` or an `Accept` item:
/// `type/subtype *( OWS ";" OWS name=value )`.
///
/// Parsing only splits off the parameters; they are read, and checked, when
/// [`params`](MediaType::params) is walked, so a caller that ignores them
/// (the login form, `Accept`) pays nothing for them and refuses nothing
/// because of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    essence: &'a [u8],
    params: Option<&'a [u8]>,
}

impl<'a> MediaType<'a> {
    #[inline]
    pub fn parse(value: &'a [u8]) -> MediaType<'a> {
        let (essence, params) = match value.iter().position(|&b| b == b';') {
            Some(i) => (value.get(..i).unwrap_or_default(), value.get(i + 1..)),
            None => (value, None),
        };
        MediaType {
            essence: trim_ows(essence),
            params,
        }
    }

    /// `type/subtype` as sent, OWS trimmed. Not checked to be two tokens:
    /// callers compare it with the one type they accept.
    #[inline]
    pub fn essence(&self) -> &'a [u8] {
        self.essence
    }

    /// True if this is `essence`, ignoring ASCII case (types are
    /// case-insensitive, RFC 9110 §8.3.1).
    #[inline]
    pub fn is(&self, essence: &str) -> bool {
        self.essence.eq_ignore_ascii_case(essence.as_bytes())
    }

    /// The parameters in order, each parsed on its own.
    pub fn params(&self) -> Params<'a> {
        Params { rest: self.params }
    }
}

/// The parameters of a [`MediaType`].
///
/// Every `;` ends a parameter, even inside a quoted string: no client sends
/// one there, and splitting first means a value can never swallow the
/// parameters after it. An empty parameter (`type/sub;`) is an error.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, BadParam>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        let (raw, next) = match rest.iter().position(|&b| b == b';') {
            Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
            None => (rest, None),
        };
        self.rest = next;
        Some(Param::parse(raw))
    }
}

/// A parameter that is not `token=token` or `token=quoted-string`, with OWS
/// allowed only around the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadParam;

/// One `name=value` of a [`MediaType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// As sent; parameter names are case-insensitive.
    pub name: &'a [u8],
    value: ParamValue<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamValue<'a> {
    Token(&'a [u8]),
    /// Between the quotes, already checked, escapes not yet undone.
    Quoted(&'a [u8]),
}

impl<'a> Param<'a> {
    fn parse(raw: &'a [u8]) -> Result<Param<'a>, BadParam> {
        let raw = trim_ows(raw);
        let eq = raw.iter().position(|&b| b == b'=').ok_or(BadParam)?;
        let (name, value) = (
            raw.get(..eq).unwrap_or_default(),
            raw.get(eq + 1..).unwrap_or_default(),
        );
        if !is_token(name) {
            return Err(BadParam);
        }
        let value = match value {
            [b'"', inner @ .., b'"'] if quoted_ok(inner) => ParamValue::Quoted(inner),
            [b'"', ..] => return Err(BadParam),
            token if is_token(token) => ParamValue::Token(token),
            _ => return Err(BadParam),
        };
        Ok(Param { name, value })
    }

    /// The value, a quoted-string's `\x` pairs undone; borrowed unless
    /// there was one.
    pub fn value(&self) -> Cow<'a, [u8]> {
        match self.value {
            ParamValue::Token(v) => Cow::Borrowed(v),
            ParamValue::Quoted(v) if !v.contains(&b'\\') => Cow::Borrowed(v),
            ParamValue::Quoted(v) => {
                let mut out = Vec::with_capacity(v.len());
                let mut bytes = v.iter().copied();
                while let Some(b) = bytes.next() {
                    out.push(match b {
                        b'\\' => bytes.next().unwrap_or(b),
                        b => b,
                    });
                }
                Cow::Owned(out)
            }
        }
    }
}

/// The inside of a quoted-string: no bare `"`, no control character but
/// tab, and every `\` followed by the byte it escapes. The escaped byte may
/// be anything, control characters included, as this has always accepted.
fn quoted_ok(inner: &[u8]) -> bool {
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                let Some(_) = bytes.next() else {
                    return false;
                };
            }
            b'"' => return false,
            b if b.is_ascii_control() && b != b'\t' => return false,
            _ => {}
        }
    }
    true
}

/// What a `+` stands for in percent-encoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// Itself: paths and URLs.
    Literal,
    /// A space: `application/x-www-form-urlencoded` bodies and query strings.
    Space,
}

/// A `%` not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape;

/// The bytes of percent-encoded text, decoded one at a time, so that a
/// caller checking each decoded byte stops at the first bad one in the same
/// order as the text. Yields [`BadEscape`] for a truncated or non-hex
/// escape, then ends.
#[derive(Debug, Clone)]
pub struct PercentDecode<'a> {
    rest: &'a [u8],
    plus: Plus,
}

#[inline]
pub fn percent_decode(raw: &[u8], plus: Plus) -> PercentDecode<'_> {
    PercentDecode { rest: raw, plus }
}

/// All of `raw` decoded, or [`BadEscape`] if any escape is bad.
pub fn percent_decode_to_vec(raw: &[u8], plus: Plus) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    for b in percent_decode(raw, plus) {
        out.push(b?);
    }
    Ok(out)
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Iterator for PercentDecode<'_> {
    type Item = Result<u8, BadEscape>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(match b {
            b'%' => match *rest {
                [hi, lo, ref after @ ..] => match (hex_value(hi), hex_value(lo)) {
                    (Some(hi), Some(lo)) => {
                        self.rest = after;
                        Ok((hi << 4) | lo)
                    }
                    _ => self.fail(),
                },
                _ => self.fail(),
            },
            b'+' if self.plus == Plus::Space => Ok(b' '),
            b => Ok(b),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // One item per one to three bytes, but a bad escape ends it early.
        (usize::from(!self.rest.is_empty()), Some(self.rest.len()))
    }
}

impl PercentDecode<'_> {
    fn fail(&mut self) -> Result<u8, BadEscape> {
        self.rest = &[];
        Err(BadEscape)
    }
}

impl std::iter::FusedIterator for PercentDecode<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchars() {
        // RFC 9110 §5.6.2, spelled out independently of the table.
        let specials = b"!#$%&'*+-.^_`|~";
        for b in 0..=255u8 {
            let want = b.is_ascii_digit() || b.is_ascii_alphabetic() || specials.contains(&b);
            assert_eq!(is_tchar(b), want, "{b:#04x}");
        }
        let cases: &[(&[u8], bool)] = &[
            (b"", false),
            (b"a", true),
            (b"example_jwt", true),
            (b"__Host-s", true),
            (b"x.y", true),
            (b"!#$%&'*+-.^_`|~09AZaz", true),
            (b"a b", false),
            (b"a=b", false),
            (b"a;b", false),
            (b"a\"b", false),
            (b"a,b", false),
            (b"a\tb", false),
            (b"a/b", false),
            (b"a\x7f", false),
            (b"\xc3\xa9", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_token(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn ows() {
        let cases: &[(&[u8], &[u8], &[u8], &[u8])] = &[
            // input, trim_ows, trim_ows_start, trim_ows_end
            (b"", b"", b"", b""),
            (b" ", b"", b"", b""),
            (b" \t \t", b"", b"", b""),
            (b"a", b"a", b"a", b"a"),
            (b" a ", b"a", b"a ", b" a"),
            (b"\ta b\t", b"a b", b"a b\t", b"\ta b"),
            (b"\r\na\n", b"\r\na\n", b"\r\na\n", b"\r\na\n"),
            (b"\x0ba\x0c", b"\x0ba\x0c", b"\x0ba\x0c", b"\x0ba\x0c"),
            (b"\xa0a\xa0", b"\xa0a\xa0", b"\xa0a\xa0", b"\xa0a\xa0"),
        ];
        for (s, both, start, end) in cases {
            let shown = String::from_utf8_lossy(s);
            assert_eq!(trim_ows(s), *both, "{shown:?}");
            assert_eq!(trim_ows_start(s), *start, "{shown:?}");
            assert_eq!(trim_ows_end(s), *end, "{shown:?}");
        }
        for b in 0..=255u8 {
            assert_eq!(is_ows(b), b == b' ' || b == b'\t', "{b:#04x}");
        }
    }

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    fn params(m: &MediaType<'_>) -> Result<Pairs, BadParam> {
        m.params()
            .map(|p| p.map(|p| (p.name.to_vec(), p.value().into_owned())))
            .collect()
    }

    #[test]
    fn media_types() {
        type Want = Result<&'static [(&'static str, &'static str)], BadParam>;
        let cases: &[(&[u8], &[u8], Want)] = &[
            (b"", b"", Ok(&[])),
            (b"application/json", b"application/json", Ok(&[])),
            (b" text/html\t", b"text/html", Ok(&[])),
            (b"TEXT/HTML;q=0.5", b"TEXT/HTML", Ok(&[("q", "0.5")])),
            (
                b"application/json ; charset=\"utf-8\"",
                b"application/json",
                Ok(&[("charset", "utf-8")]),
            ),
            (
                b"a/b; charset=\"utf\\-8\"",
                b"a/b",
                Ok(&[("charset", "utf-8")]),
            ),
            (
                b"a/b;x=1;\ty=\"\" ;z=\"a b\\\"c\\\\\"",
                b"a/b",
                Ok(&[("x", "1"), ("y", ""), ("z", "a b\"c\\")]),
            ),
            (b"a/b; x=\"\t\"", b"a/b", Ok(&[("x", "\t")])),
            // A quoted pair may carry any byte.
            (b"a/b; x=\"\\\x01\"", b"a/b", Ok(&[("x", "\x01")])),
            // Not the grammar, but the essence is the caller's to judge.
            (b"not a type ;x=1", b"not a type", Ok(&[("x", "1")])),
            (b"a/b\r\n", b"a/b\r\n", Ok(&[])),
            (b"a/b;", b"a/b", Err(BadParam)),
            (b"a/b;;x=1", b"a/b", Err(BadParam)),
            (b"a/b; x", b"a/b", Err(BadParam)),
            (b"a/b; =1", b"a/b", Err(BadParam)),
            (b"a/b; x=", b"a/b", Err(BadParam)),
            (b"a/b; x = 1", b"a/b", Err(BadParam)),
            (b"a/b; x =1", b"a/b", Err(BadParam)),
            (b"a/b; x= 1", b"a/b", Err(BadParam)),
            (b"a/b; x=a=b", b"a/b", Err(BadParam)),
            (b"a/b; x=a b", b"a/b", Err(BadParam)),
            (b"a/b; x=\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a", b"a/b", Err(BadParam)),
            (b"a/b; x=a\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a\"b\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a\\\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a\x00\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a\x7f\"", b"a/b", Err(BadParam)),
            (b"a/b; x=\"a;b\"", b"a/b", Err(BadParam)),
            (b"a/b; x\x01=1", b"a/b", Err(BadParam)),
            (b"a/b; x=1\x0c", b"a/b", Err(BadParam)),
            (b"a/b; x=1, c/d", b"a/b", Err(BadParam)),
        ];
        for (value, essence, want) in cases {
            let shown = String::from_utf8_lossy(value);
            let m = MediaType::parse(value);
            assert_eq!(m.essence(), *essence, "{shown:?}");
            let want = want.map(|list| {
                list.iter()
                    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(params(&m), want, "{shown:?}");
        }
        let m = MediaType::parse(b"Application/JSON; charset=utf-8");
        assert!(m.is("application/json") && m.is("APPLICATION/json"));
        assert!(!m.is("application/jsonx") && !m.is("application/jso"));
        // A bad parameter does not hide the ones after it.
        let m = MediaType::parse(b"a/b; bad; x=1");
        let got: Vec<bool> = m.params().map(|p| p.is_ok()).collect();
        assert_eq!(got, [false, true]);
        let borrowed = MediaType::parse(b"a/b; x=\"plain\"");
        let param = borrowed.params().next().and_then(Result::ok);
        assert!(param.is_some_and(|p| matches!(p.value(), Cow::Borrowed(b"plain"))));
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn percent() {
        use Plus::{Literal, Space};
        let cases: &[(&[u8], Plus, Result<&[u8], BadEscape>)] = &[
            (b"", Literal, Ok(b"")),
            (b"abc", Literal, Ok(b"abc")),
            (b"a+b%20c%2B", Space, Ok(b"a b c+")),
            (b"a+b%20c%2B", Literal, Ok(b"a+b c+")),
            (b"%e9%E9", Literal, Ok(b"\xe9\xe9")),
            (b"%2e%2E%2f", Literal, Ok(b"../")),
            (b"%00%7f%ff", Space, Ok(b"\x00\x7f\xff")),
            (b"%25", Literal, Ok(b"%")),
            (b"%2525", Literal, Ok(b"%25")),
            (b"\xff+", Literal, Ok(b"\xff+")),
            (b"%", Literal, Err(BadEscape)),
            (b"%2", Space, Err(BadEscape)),
            (b"a%", Space, Err(BadEscape)),
            (b"%zz", Literal, Err(BadEscape)),
            (b"%g0", Literal, Err(BadEscape)),
            (b"%0g", Literal, Err(BadEscape)),
            (b"%+1", Space, Err(BadEscape)),
            (b"%-1", Literal, Err(BadEscape)),
            (b"% 1", Literal, Err(BadEscape)),
            (b"%\xc3\xa9", Literal, Err(BadEscape)),
            (b"ok%41%4", Literal, Err(BadEscape)),
        ];
        for (raw, plus, want) in cases {
            let shown = String::from_utf8_lossy(raw);
            assert_eq!(
                percent_decode_to_vec(raw, *plus),
                want.map(<[u8]>::to_vec),
                "{shown:?} {plus:?}"
            );
        }
        // The bytes before a bad escape come out first, then it ends.
        let got: Vec<_> = percent_decode(b"a%41%zzb", Literal).collect();
        assert_eq!(got, [Ok(b'a'), Ok(b'A'), Err(BadEscape)]);
        let mut it = percent_decode(b"%", Literal);
        assert_eq!(
            (it.next(), it.next(), it.next()),
            (Some(Err(BadEscape)), None, None)
        );
    }
}
