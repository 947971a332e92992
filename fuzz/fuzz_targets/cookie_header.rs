//! `cookie::find_cookie` over several `Cookie` headers (the input split on
//! `\n`), looked up with the default name and with a name taken from the
//! input's first line.
#![no_main]

use dash_auth_core::cookie::{find_cookie, valid_cookie_name, CookieLookup};
use libfuzzer_sys::fuzz_target;

/// RFC 6265 cookie-octet.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

fn within(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn check(headers: &[&[u8]], name: &str) {
    let got = find_cookie(headers.iter().copied(), name);
    match got {
        CookieLookup::Found(value) => {
            assert!(!name.is_empty());
            assert!(value.iter().all(|&b| is_cookie_octet(b)));
            assert!(headers.iter().any(|h| within(value, h)));
        }
        CookieLookup::Absent | CookieLookup::Duplicate | CookieLookup::Malformed => {}
    }
    if name.is_empty() {
        assert_eq!(got, CookieLookup::Absent);
    }
    // Header order does not matter: a name seen twice is a duplicate
    // wherever the copies are.
    let reversed = find_cookie(headers.iter().rev().copied(), name);
    assert_eq!(got, reversed);
    // One header joined with `;` means the same as several headers.
    let joined = headers.join(&b';');
    let one = find_cookie([joined.as_slice()], name);
    match (got, one) {
        (CookieLookup::Found(a), CookieLookup::Found(b)) => assert_eq!(a, b),
        (a, b) => assert_eq!(
            std::mem::discriminant(&a),
            std::mem::discriminant(&b),
            "{a:?} vs {b:?}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let headers: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    check(&headers, "example_jwt");
    if let Some((first, rest)) = headers.split_first() {
        if let Ok(name) = std::str::from_utf8(first) {
            let _ = valid_cookie_name(name);
            check(rest, name);
        }
    }
});
