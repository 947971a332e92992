//! The `Cookie` request header(s) and the `Set-Cookie` we answer with.

use crate::syntax::{is_token, trim_ows, trim_ows_start};

/// What [`find_cookie`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieLookup<'a> {
    Absent,
    /// The value, without surrounding quotes.
    Found(&'a [u8]),
    /// The name appears more than once. Which copy a backend would pick is
    /// anyone's guess (a sibling subdomain can plant a second one), so the
    /// caller must treat this as no cookie at all.
    Duplicate,
    /// Present once, but its value is not a valid RFC 6265 cookie-value.
    Malformed,
}

/// RFC 6265 §4.1.1 cookie-octet: printable ASCII except space, `"`, `,`,
/// `;` and `\\`. Comparisons only, no branch or table, so that the check of
/// a whole value (the session token, on every request) vectorises.
fn is_cookie_octet(b: u8) -> bool {
    (b.wrapping_sub(0x21) < 0x5E) & (b != b'"') & (b != b',') & (b != b';') & (b != b'\\')
}

/// True if `name` can be used as a cookie name (an RFC 9110 token), so a
/// configured name is checked once at config time.
pub fn valid_cookie_name(name: &str) -> bool {
    is_token(name.as_bytes())
}

/// RFC 6265 cookie-value: cookie-octets, optionally inside one pair of
/// double quotes, which are removed.
fn cookie_value(raw: &[u8]) -> Option<&[u8]> {
    let inner = match raw {
        [b'"', inner @ .., b'"'] => inner,
        [b'"', ..] | [.., b'"'] => return None,
        _ => raw,
    };
    let mut outside = 0u8;
    for &b in inner {
        outside |= u8::from(!is_cookie_octet(b));
    }
    (outside == 0).then_some(inner)
}

/// Looks `name` up in the values of every `Cookie` header of a request
/// (HTTP/2 may send one header per cookie).
///
/// Pairs are split on `;`, whitespace around them and around `=` is ignored,
/// the name is compared exactly (browsers treat names case-sensitively), and
/// pairs without `=` are skipped as browsers do. Never panics.
pub fn find_cookie<'a, I>(headers: I, name: &str) -> CookieLookup<'a>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let name = name.as_bytes();
    if name.is_empty() {
        return CookieLookup::Absent;
    }
    let mut result = CookieLookup::Absent;
    for header in headers {
        // One SIMD scan for `;` walks the header; only a pair that starts
        // with the name is looked at more closely.
        let mut rest = header;
        loop {
            let (pair, next) = match memchr::memchr(b';', rest) {
                Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
                None => (rest, None),
            };
            if let Some(raw) = pair_value(pair, name) {
                if result != CookieLookup::Absent {
                    return CookieLookup::Duplicate;
                }
                result = match cookie_value(raw) {
                    Some(value) => CookieLookup::Found(value),
                    None => CookieLookup::Malformed,
                };
            }
            match next {
                Some(n) => rest = n,
                None => break,
            }
        }
    }
    result
}

/// Every well-formed value of `name`, in order. Only for logout, which
/// ends the session of each copy: where [`find_cookie`] must pick one
/// value or none, a logout has no reason to spare any.
pub fn all_values<'a, I>(headers: I, name: &str) -> Vec<&'a [u8]>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let name = name.as_bytes();
    if name.is_empty() {
        return Vec::new();
    }
    headers
        .into_iter()
        .flat_map(|header| header.split(|&b| b == b';'))
        .filter_map(|pair| pair_value(pair, name))
        .filter_map(cookie_value)
        .collect()
}

/// The raw value of `pair` if its name, whitespace aside, is `name`: the
/// pair must read `OWS name OWS "=" value`. A pair without `=` has no name
/// and never matches.
fn pair_value<'a>(pair: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let after = trim_ows_start(pair).strip_prefix(name)?;
    let value = trim_ows_start(after).strip_prefix(b"=")?;
    Some(trim_ows(value))
}

/// The `Set-Cookie` value for a session cookie.
///
/// `HttpOnly` keeps the token away from page scripts; `SameSite=Lax` keeps it
/// off cross-site subrequests while still sending it on top-level
/// navigation; `Max-Age` matches the token lifetime so the browser drops it
/// when it stops being valid anyway.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    let mut out = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if secure {
        out.push_str("; Secure");
    }
    out
}

/// A `Set-Cookie` value that makes the browser delete the session cookie.
pub fn expire_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CookieLookup::*;

    fn find<'a>(headers: &[&'a str], name: &str) -> CookieLookup<'a> {
        find_cookie(headers.iter().map(|h| h.as_bytes()), name)
    }

    #[test]
    fn found() {
        let cases: &[(&[&str], &str)] = &[
            (&["example_jwt=abc"], "abc"),
            (&["a=1; example_jwt=abc; b=2"], "abc"),
            (&["a=1;example_jwt=abc;b=2"], "abc"),
            (&["a=1;  example_jwt = abc  ;b=2"], "abc"),
            (&["\texample_jwt=abc\t"], "abc"),
            (&["a=1", "example_jwt=abc"], "abc"),
            (&["example_jwt=\"abc\""], "abc"),
            (&["example_jwt=a=b=c"], "a=b=c"),
            (&["example_jwt="], ""),
            (&["example_jwt=\"\""], ""),
            (&["example_jwt=abc;"], "abc"),
            (&[";;example_jwt=abc;;"], "abc"),
            (&["Example_JWT=x; example_jwt=abc"], "abc"),
            (&["xexample_jwt=x; example_jwtx=y; example_jwt=abc"], "abc"),
            (&["junk; =nameless; example_jwt=abc"], "abc"),
            (&["other=\"bad value\\\"; example_jwt=abc"], "abc"),
            (&["\u{ff}=\u{fe}; example_jwt=abc"], "abc"),
            (
                &["example_jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtIn0.sig-_"],
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtIn0.sig-_",
            ),
        ];
        for (headers, want) in cases {
            let got = find(headers, "example_jwt");
            assert_eq!(got, Found(want.as_bytes()), "{headers:?}");
        }
    }

    #[test]
    fn absent() {
        let cases: &[&[&str]] = &[
            &[],
            &[""],
            &[";"],
            &["a=1; b=2"],
            &["example_jwt"],
            &["EXAMPLE_JWT=abc"],
            &["example_jwt_2=abc"],
            &["my_example_jwt=abc"],
            &["example-jwt=abc"],
            &["a=example_jwt=abc"],
        ];
        for headers in cases {
            assert_eq!(find(headers, "example_jwt"), Absent, "{headers:?}");
        }
        assert_eq!(find(&["=abc"], ""), Absent);
    }

    #[test]
    fn duplicate() {
        let cases: &[&[&str]] = &[
            &["example_jwt=a; example_jwt=b"],
            &["example_jwt=a; example_jwt=a"],
            &["example_jwt=a", "example_jwt=b"],
            &["example_jwt=a", "x=1", "y=2; example_jwt=b"],
            &["example_jwt=a; example_jwt="],
            &["example_jwt=\"a b\"; example_jwt=ok"],
            &["example_jwt=ok", "example_jwt=\"bad"],
        ];
        for headers in cases {
            assert_eq!(find(headers, "example_jwt"), Duplicate, "{headers:?}");
        }
    }

    #[test]
    fn malformed() {
        let cases: &[&str] = &[
            "example_jwt=\"abc",
            "example_jwt=abc\"",
            "example_jwt=\"",
            "example_jwt=\"a\"b\"",
            "example_jwt=a b",
            "example_jwt=a,b",
            "example_jwt=a\\b",
            "example_jwt=a\u{7f}",
            "example_jwt=é",
        ];
        for h in cases {
            assert_eq!(find(&[h], "example_jwt"), Malformed, "{h:?}");
        }
        let raw: &[u8] = b"example_jwt=a\x00b";
        assert_eq!(find_cookie([raw], "example_jwt"), Malformed);
        let raw: &[u8] = b"example_jwt=\xff";
        assert_eq!(find_cookie([raw], "example_jwt"), Malformed);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let samples: &[&[u8]] = &[b"=", b"==", b";=;", b"\"", b"example_jwt=\"", b"\xff\xfe=;"];
        for s in samples {
            let _ = find_cookie([*s], "example_jwt");
        }
        let header = b"a=1; example_jwt=\"x\"; b";
        for i in 0..=header.len() {
            let _ = find_cookie([&header[..i], &header[i..]], "example_jwt");
        }
    }

    #[test]
    fn every_value_for_logout() {
        let all = |headers: &[&'static str]| {
            all_values(headers.iter().map(|h| h.as_bytes()), "example_jwt")
        };
        assert_eq!(all(&["example_jwt=a; example_jwt=b"]), [b"a", b"b"]);
        assert_eq!(
            all(&["example_jwt=a", "x=1; example_jwt=\"b\""]),
            [b"a", b"b"]
        );
        // A malformed copy is skipped, not a reason to skip the others.
        assert_eq!(all(&["example_jwt=a b; example_jwt=c"]), [b"c"]);
        assert!(all(&["other=a", "example_jwtx=b"]).is_empty());
        assert!(all_values([&b"=a"[..]], "").is_empty());
    }

    #[test]
    fn set_cookie_format() {
        assert_eq!(
            set_cookie("example_jwt", "tok", 3600, false),
            "example_jwt=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
        );
        assert_eq!(
            set_cookie("example_jwt", "tok", 60, true),
            "example_jwt=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            expire_cookie("s", true),
            "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }

    #[test]
    fn cookie_names() {
        for ok in ["example_jwt", "a", "__Host-s", "x.y"] {
            assert!(valid_cookie_name(ok), "{ok:?}");
        }
        for bad in ["", "a b", "a=b", "a;b", "a\"b", "é", "a,b", "a\tb"] {
            assert!(!valid_cookie_name(bad), "{bad:?}");
        }
    }
}
