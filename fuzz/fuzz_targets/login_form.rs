//! Form login: `login::parse_form` on an arbitrary body, `form_field`,
//! `return_from_query`, `wants_login_page`, `inject_before_body_end`,
//! `return_path::validate` / `login_redirect` on arbitrary targets, and
//! the forms' forgery checks: `csrf::SiteOrigin` on an `Origin` or `Host`
//! value, `csrf::provenance`, `csrf::check` and `login::logout_token`.
#![no_main]

use dash_auth_core::cookie::CookieLookup;
use dash_auth_core::csrf::{self, FromHeaders, Provenance, SiteOrigin};
use dash_auth_core::login::{
    form_field, html_escape, inject_before_body_end, logout_token, parse_form, render_page,
    return_from_query, wants_login_page, Notice, DEFAULT_PAGE, MAX_FORM_LEN,
};
use dash_auth_core::token::Secret;
use dash_auth_core::return_path::{self, login_redirect, sanitize, validate, FALLBACK};
use libfuzzer_sys::fuzz_target;

const FORM: Option<&[u8]> = Some(b"application/x-www-form-urlencoded; charset=UTF-8");

/// A same-origin path: what `validate` promises.
fn check_return(path: &str) {
    assert!(path.starts_with('/'), "{path:?}");
    assert!(
        !path.starts_with("//") && !path.starts_with("/\\"),
        "{path:?}"
    );
    assert!(
        path.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'\\'),
        "{path:?}"
    );
    assert!(path.len() <= return_path::MAX_LEN);
}

fuzz_target!(|data: &[u8]| {
    match parse_form(FORM, data) {
        Ok(form) => {
            assert!(data.len() <= MAX_FORM_LEN);
            assert!(!form.user.is_empty());
            assert!(!form.user.chars().any(char::is_control));
            check_return(&form.return_to);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = form_field(data, "username");

    // The query string of the login page.
    let back = return_from_query(data);
    check_return(&back);
    let page = render_page(DEFAULT_PAGE, "/login", &back, Notice::Failed, "1.t.s");
    // The hidden field carries the return path as given, escaped.
    let field = format!("name=\"return\" value=\"{}\"", html_escape(&back));
    assert!(page.contains(&field), "{back:?}");

    // A request target: validated, and carried through the redirect's
    // query string unchanged.
    match validate(data) {
        Some(path) => check_return(path),
        None => assert_eq!(sanitize(data), FALLBACK),
    }
    let target = sanitize(data);
    let redirect = login_redirect("/login", data);
    match redirect.split_once('?') {
        Some(("/login", query)) => {
            assert_eq!(return_from_query(query.as_bytes()), target);
            assert_eq!(
                form_field(query.as_bytes(), "return").unwrap().as_deref(),
                Some(target.as_bytes())
            );
        }
        None => assert_eq!((redirect.as_str(), target), ("/login", FALLBACK)),
        Some(_) => panic!("{redirect:?}"),
    }

    // An origin prints as browsers write it, and reads back the same.
    if let Some(o) = SiteOrigin::parse(data) {
        assert_eq!(SiteOrigin::parse(o.to_string().as_bytes()), Some(o.clone()));
        // The same origin as a request's scheme and Host header.
        let shown = o.to_string();
        let (scheme, host) = shown.split_once("://").unwrap();
        let own = SiteOrigin::of_request(scheme == "https", Some(host.as_bytes()));
        assert_eq!(own.as_ref(), Some(&o));
        let from = FromHeaders {
            origin: Some(data),
            ..FromHeaders::default()
        };
        assert_eq!(csrf::provenance(from, own.as_ref(), &[]), Provenance::SameOrigin);
    }
    let _ = SiteOrigin::of_request(true, Some(data));
    let from = FromHeaders {
        origin: Some(data),
        fetch_site: Some(data),
        repeated: false,
    };
    let verdict = csrf::provenance(from, None, &[]);
    assert!(matches!(verdict, Provenance::CrossOrigin(_)), "{verdict:?}");
    // A form token: none forged from the input verifies.
    if let Ok(secret) = Secret::from_bytes(&[7u8; 32]) {
        let found = CookieLookup::Found(data);
        assert!(csrf::check(&secret, found, Some(data), 0).is_err());
        if let Some(t) = csrf::issue(&secret, 1000, &[1; csrf::NONCE_LEN]) {
            let ok = csrf::check(&secret, CookieLookup::Found(t.as_bytes()), Some(data), 1000);
            assert_eq!(ok.is_ok(), data == t.as_bytes());
        }
    }
    let _ = logout_token(FORM, data);

    let _ = wants_login_page(true, Some(data));
    let injected = inject_before_body_end(data, b"<script></script>");
    assert_eq!(injected.len(), data.len() + 17);
});
