//! Where the login page sends the browser back to: only a path on this
//! origin, so the login page cannot be used as an open redirect.

/// The path used when the requested return target is refused or absent.
pub const FALLBACK: &str = "/";

/// Longest return path kept; a longer one falls back to `/`.
pub const MAX_LEN: usize = 2048;

/// `Some(path)` if `raw` is a same-origin relative reference that a browser
/// resolves to this host whatever its quirks: one leading `/`, then no `/`
/// or `\` right after it (`//host`, `/\host` are scheme-relative to
/// browsers), no backslash anywhere (browsers read it as `/`), no control
/// character, space or non-ASCII byte (some are stripped before parsing,
/// turning `/\t/host` into `//host`).
pub fn validate(raw: &[u8]) -> Option<&str> {
    if raw.len() > MAX_LEN {
        return None;
    }
    let [b'/', rest @ ..] = raw else {
        return None;
    };
    if matches!(rest.first(), Some(b'/' | b'\\')) {
        return None;
    }
    if raw
        .iter()
        .any(|&b| b == b'\\' || !(0x21..0x7f).contains(&b))
    {
        return None;
    }
    std::str::from_utf8(raw).ok()
}

/// [`validate`], or [`FALLBACK`].
pub fn sanitize(raw: &[u8]) -> &str {
    validate(raw).unwrap_or(FALLBACK)
}

/// Percent-encodes a query parameter value: everything but unreserved
/// characters and `/`, which keeps return paths readable.
pub fn encode_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `login_path?return=<target>`: where an unauthenticated browser is sent.
/// `target` is the request's original path and query; an unsafe one is
/// replaced by `/` so the login page never echoes it.
pub fn login_redirect(login_path: &str, target: &[u8]) -> String {
    let target = sanitize(target);
    if target == FALLBACK {
        return login_path.to_owned();
    }
    format!("{login_path}?return={}", encode_param(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        for ok in [
            "/",
            "/hr",
            "/hr/x?y=1&z=%2F",
            "/marketing#frag",
            "/a/b/../c",
            "/%2F%2Fevil.example",
            "/?return=//x",
        ] {
            assert_eq!(validate(ok.as_bytes()), Some(ok), "{ok:?}");
        }
    }

    #[test]
    fn refused() {
        for bad in [
            "",
            "hr",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/a\\b",
            "https://evil.example/",
            "javascript:alert(1)",
            "http:/x",
            " /hr",
            "/\t/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/a b",
            "/\u{7f}",
            "/é",
            "?x",
            "#x",
        ] {
            assert_eq!(validate(bad.as_bytes()), None, "{bad:?}");
            assert_eq!(sanitize(bad.as_bytes()), "/");
        }
        assert_eq!(validate(b"/\xff"), None);
        assert_eq!(validate(b"/\x00"), None);
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(validate(long.as_bytes()), None);
    }

    #[test]
    fn redirect() {
        assert_eq!(login_redirect("/login", b"/hr"), "/login?return=/hr");
        assert_eq!(
            login_redirect("/login", b"/hr?a=1&b=2"),
            "/login?return=/hr%3Fa%3D1%26b%3D2"
        );
        assert_eq!(login_redirect("/login", b"/"), "/login");
        assert_eq!(login_redirect("/login", b"//evil"), "/login");
        assert_eq!(encode_param("a\"<>'&"), "a%22%3C%3E%27%26");
    }
}
