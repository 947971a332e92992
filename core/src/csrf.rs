//! Forged sign-ins and sign-outs. A page on another site can make a
//! visitor's browser post the login form with the attacker's password (the
//! visitor then works, unknowingly, in the attacker's account) or post the
//! logout form. The module's forms act only on a request the browser itself
//! marks as sent from this site:
//!
//! - `Sec-Fetch-Site` must be `same-origin` or `none` (typed in by the user);
//! - `Origin` must be this server's own origin: the request's scheme
//!   (`$scheme`) and its `Host` header, or one listed with
//!   `dash_auth_origin`. `Origin: null` (a sandboxed frame, a redirect
//!   across sites) is another origin.
//!
//! Either header that says otherwise refuses the request. A browser sends
//! at least one of them with every `POST`; for a client that sends neither,
//! the form carries a token that must equal the value of a short-lived
//! cookie the form's page set (a signed double-submit token): another site
//! can neither read that cookie nor, under the `__Host-` prefix, write it.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::cookie::CookieLookup;
use crate::syntax::trim_ows;
use crate::token::Secret;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The token's cookie over https: `__Host-` makes the browser refuse it
/// unless it is `Secure`, `Path=/` and host-only, so neither a page on
/// plain http nor a sibling subdomain can plant one.
pub const COOKIE_HTTPS: &str = "__Host-dash_auth_csrf";
/// Over plain http the browser refuses any `__Host-` cookie, so the token
/// lives under a plain name there.
pub const COOKIE_HTTP: &str = "dash_auth_csrf";
/// How long a form's token is good for, in seconds.
pub const TOKEN_TTL: u64 = 3600;
/// Random bytes per token.
pub const NONCE_LEN: usize = 16;
/// What the MAC covers first: no JWT signing input contains a space or NUL.
const LABEL: &[u8] = b"ngx-dash-auth form token v1\0";

/// The cookie's name on a request over https or not.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        COOKIE_HTTPS
    } else {
        COOKIE_HTTP
    }
}

/// The `Set-Cookie` value that carries a form token. `SameSite=Strict`:
/// the cookie is only ever needed by a post from this site's own form.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let mut out = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={TOKEN_TTL}",
        cookie_name(secure)
    );
    if secure {
        out.push_str("; Secure");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A web origin: scheme, host and port, compared as browsers serialize
/// them (host in lower case, the default port filled in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl SiteOrigin {
    /// An `Origin` header value, or a `dash_auth_origin` argument:
    /// `http` or `https`, `://`, a host, an optional port, and nothing
    /// else (no path, no user info, no trailing `/`). `null` is `None`.
    pub fn parse(value: &[u8]) -> Option<SiteOrigin> {
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(value, b"https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ci(value, b"http://") {
            (Scheme::Http, rest)
        } else {
            return None;
        };
        SiteOrigin::authority(scheme, rest)
    }

    /// The origin a request was sent to: its scheme, and its `Host`
    /// header (`host` or `host:port`), which the browser sets to the
    /// host and port of the page's address. `None` without a usable one.
    pub fn of_request(secure: bool, host: Option<&[u8]>) -> Option<SiteOrigin> {
        let scheme = if secure { Scheme::Https } else { Scheme::Http };
        SiteOrigin::authority(scheme, trim_ows(host?))
    }

    fn authority(scheme: Scheme, value: &[u8]) -> Option<SiteOrigin> {
        let (host, port) = match value.first() {
            Some(b'[') => {
                let end = value.iter().position(|&b| b == b']')?;
                let inner = value.get(1..end)?;
                let ok = !inner.is_empty()
                    && inner
                        .iter()
                        .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
                if !ok {
                    return None;
                }
                (value.get(..=end)?, value.get(end + 1..)?)
            }
            _ => {
                let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
                let host = value.get(..end)?;
                let ok = !host.is_empty()
                    && host
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
                if !ok {
                    return None;
                }
                (host, value.get(end..)?)
            }
        };
        let port = match port {
            [] => scheme.default_port(),
            [b':', digits @ ..] if (1..=5).contains(&digits.len()) => {
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                std::str::from_utf8(digits).ok()?.parse::<u16>().ok()?
            }
            _ => return None,
        };
        if port == 0 {
            return None;
        }
        Some(SiteOrigin {
            scheme,
            host: String::from_utf8(host.to_ascii_lowercase()).ok()?,
            port,
        })
    }
}

impl fmt::Display for SiteOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

fn strip_prefix_ci<'a>(value: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| value.get(prefix.len()..))
        .flatten()
}

/// The headers that say where a request comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct FromHeaders<'a> {
    pub origin: Option<&'a [u8]>,
    pub fetch_site: Option<&'a [u8]>,
    /// Either header came more than once: no copy is picked.
    pub repeated: bool,
}

/// Where the browser says a request was sent from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// From a page of this origin (or typed in by the user).
    SameOrigin,
    /// From elsewhere; why, for the log.
    CrossOrigin(String),
    /// Neither header: not a browser that says; the form token decides.
    Unstated,
}

/// Judges the request's `Origin` and `Sec-Fetch-Site` against its own
/// origin (`own`, from the scheme and the `Host` header) and the
/// configured ones.
pub fn provenance(
    from: FromHeaders<'_>,
    own: Option<&SiteOrigin>,
    configured: &[SiteOrigin],
) -> Provenance {
    if from.repeated {
        return Provenance::CrossOrigin("Origin or Sec-Fetch-Site sent more than once".into());
    }
    if let Some(site) = from.fetch_site {
        let site = trim_ows(site);
        if !(site.eq_ignore_ascii_case(b"same-origin") || site.eq_ignore_ascii_case(b"none")) {
            return Provenance::CrossOrigin(format!("Sec-Fetch-Site is \"{}\"", shown(site)));
        }
    }
    if let Some(origin) = from.origin {
        let origin = trim_ows(origin);
        let ours =
            SiteOrigin::parse(origin).is_some_and(|o| own == Some(&o) || configured.contains(&o));
        if !ours {
            let own = own.map_or_else(|| "unknown, no Host header".to_owned(), |o| o.to_string());
            return Provenance::CrossOrigin(format!(
                "Origin \"{}\" is not this server's ({own})",
                shown(origin)
            ));
        }
    }
    if from.origin.is_some() || from.fetch_site.is_some() {
        Provenance::SameOrigin
    } else {
        Provenance::Unstated
    }
}

/// A header value for a log line: one line, and not too long.
fn shown(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value.get(..128).unwrap_or(value));
    let mut out = text.escape_debug().to_string();
    if value.len() > 128 {
        out.push('…');
    }
    out
}

/// A fresh form token, `<exp>.<nonce>.<mac>`: good until `now +`
/// [`TOKEN_TTL`], signed with the signing key. Cookie-safe and HTML-safe
/// (digits, base64url and dots). `None` if no key can sign.
pub fn issue(secret: &Secret, now: u64, nonce: &[u8; NONCE_LEN]) -> Option<String> {
    let signed = format!(
        "{}.{}",
        now.saturating_add(TOKEN_TTL),
        URL_SAFE_NO_PAD.encode(nonce)
    );
    let tag = secret.mac(&[LABEL, signed.as_bytes()].concat())?;
    Some(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

/// Draws a nonce and issues a token; `None` if the system has no
/// randomness or no key signs.
pub fn fresh(secret: &Secret, now: u64) -> Option<String> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).ok()?;
    issue(secret, now, &nonce)
}

/// Why a form's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormTokenError {
    /// No cookie (cookies off, or it expired), or it came twice.
    NoCookie,
    NoField,
    /// The form's token is not the cookie's.
    Mismatch,
    /// Not one of ours (a bad signature, a wrong shape).
    Invalid,
    Expired,
}

impl fmt::Display for FormTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormTokenError::NoCookie => "no form token cookie",
            FormTokenError::NoField => "no form token in the form",
            FormTokenError::Mismatch => "form token does not match its cookie",
            FormTokenError::Invalid => "form token is not valid",
            FormTokenError::Expired => "form token expired",
        })
    }
}

/// Checks a form's token against its cookie: present in both, equal
/// (constant-time), signed by one of the keys and not expired.
pub fn check(
    secret: &Secret,
    cookie: CookieLookup<'_>,
    field: Option<&[u8]>,
    now: u64,
) -> Result<(), FormTokenError> {
    let CookieLookup::Found(cookie) = cookie else {
        return Err(FormTokenError::NoCookie);
    };
    let field = field.ok_or(FormTokenError::NoField)?;
    if !bool::from(cookie.ct_eq(field)) {
        return Err(FormTokenError::Mismatch);
    }
    let dot = memchr::memrchr(b'.', cookie).ok_or(FormTokenError::Invalid)?;
    let (signed, tag) = cookie.split_at(dot);
    let tag = URL_SAFE_NO_PAD
        .decode(tag.get(1..).unwrap_or_default())
        .map_err(|_| FormTokenError::Invalid)?;
    if !secret.verify_mac(&[LABEL, signed].concat(), &tag) {
        return Err(FormTokenError::Invalid);
    }
    let exp = signed
        .split(|&b| b == b'.')
        .next()
        .and_then(|e| std::str::from_utf8(e).ok())
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or(FormTokenError::Invalid)?;
    if exp <= now {
        return Err(FormTokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::secret;

    const NOW: u64 = 1_700_000_000;

    fn origin(s: &str) -> SiteOrigin {
        SiteOrigin::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn origins() {
        let cases = [
            ("https://example.com", "https://example.com"),
            ("https://example.com:443", "https://example.com"),
            ("HTTPS://Example.COM:8443", "https://example.com:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:80", "http://[::1]"),
            ("http://a_b.example", "http://a_b.example"),
        ];
        for (value, shown) in cases {
            assert_eq!(origin(value).to_string(), shown, "{value}");
        }
        assert_eq!(origin("https://x:443"), origin("https://x"));
        assert_ne!(origin("https://x"), origin("http://x"));
        assert_ne!(origin("https://x"), origin("https://x:8443"));
        for bad in [
            "null",
            "",
            "https://",
            "https://x/",
            "https://x/path",
            "https://user@x",
            "https://x:",
            "https://x:0",
            "https://x:65536",
            "https://x:+1",
            "https://x:8443:1",
            "ftp://x",
            "https:/x",
            "https://[::1",
            "https://[zz]",
            "https://x y",
            "https://é.example",
        ] {
            assert_eq!(SiteOrigin::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn own_origin_from_the_host_header() {
        let own = |secure, host: &str| SiteOrigin::of_request(secure, Some(host.as_bytes()));
        assert_eq!(
            own(true, "example.com"),
            Some(origin("https://example.com"))
        );
        assert_eq!(
            own(true, "Example.com:443"),
            Some(origin("https://example.com"))
        );
        assert_eq!(
            own(false, "127.0.0.1:8080"),
            Some(origin("http://127.0.0.1:8080"))
        );
        assert_eq!(own(true, "[::1]:8443"), Some(origin("https://[::1]:8443")));
        assert_eq!(own(true, ""), None);
        assert_eq!(own(true, "x/y"), None);
        assert_eq!(SiteOrigin::of_request(true, None), None);
    }

    #[test]
    fn provenance_rules() {
        let own = origin("https://dash.example:8443");
        let proxy = [origin("https://public.example")];
        let judge = |origin: Option<&str>, site: Option<&str>| {
            provenance(
                FromHeaders {
                    origin: origin.map(str::as_bytes),
                    fetch_site: site.map(str::as_bytes),
                    repeated: false,
                },
                Some(&own),
                &proxy,
            )
        };
        use Provenance::*;
        assert_eq!(judge(None, None), Unstated);
        assert_eq!(judge(Some("https://dash.example:8443"), None), SameOrigin);
        assert_eq!(judge(Some("https://DASH.example:8443"), None), SameOrigin);
        assert_eq!(judge(Some("https://public.example"), None), SameOrigin);
        assert_eq!(judge(None, Some("same-origin")), SameOrigin);
        assert_eq!(judge(None, Some("none")), SameOrigin);
        assert_eq!(
            judge(Some("https://dash.example:8443"), Some("same-origin")),
            SameOrigin
        );
        assert_eq!(
            judge(Some("https://evil.example"), None),
            CrossOrigin(
                "Origin \"https://evil.example\" is not this server's \
                 (https://dash.example:8443)"
                    .into()
            )
        );
        assert_eq!(
            judge(None, Some("cross-site")),
            CrossOrigin("Sec-Fetch-Site is \"cross-site\"".into())
        );
        for (o, s) in [
            (Some("null"), None),
            (Some("http://dash.example:8443"), None),
            (Some("https://dash.example"), None),
            (Some("https://dash.example:8443/"), None),
            (None, Some("same-site")),
            (None, Some("")),
            (Some("https://dash.example:8443"), Some("cross-site")),
            (Some("https://evil.example"), Some("same-origin")),
        ] {
            assert!(matches!(judge(o, s), CrossOrigin(_)), "{o:?} {s:?}");
        }
        // Without a Host header no Origin can be this server's.
        let from = FromHeaders {
            origin: Some(b"https://dash.example:8443"),
            ..FromHeaders::default()
        };
        assert!(matches!(provenance(from, None, &[]), CrossOrigin(w) if w.contains("no Host")));
        let twice = FromHeaders {
            repeated: true,
            ..FromHeaders::default()
        };
        assert!(matches!(provenance(twice, Some(&own), &[]), CrossOrigin(_)));
        // A long or odd value stays one short line.
        let long = format!("https://{}\n", "a".repeat(500));
        let Provenance::CrossOrigin(why) = judge(Some(&long), None) else {
            panic!()
        };
        assert!(why.len() < 300 && !why.contains('\n'), "{why}");
    }

    #[test]
    fn tokens() {
        let s = secret();
        let t = issue(&s, NOW, &[7; NONCE_LEN]).unwrap();
        assert!(t.starts_with(&format!("{}.", NOW + TOKEN_TTL)), "{t}");
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')));
        let found = CookieLookup::Found(t.as_bytes());
        assert_eq!(check(&s, found, Some(t.as_bytes()), NOW), Ok(()));
        assert_eq!(
            check(&s, found, Some(t.as_bytes()), NOW + TOKEN_TTL),
            Err(FormTokenError::Expired)
        );
        assert_eq!(
            check(&s, CookieLookup::Absent, Some(t.as_bytes()), NOW),
            Err(FormTokenError::NoCookie)
        );
        assert_eq!(
            check(&s, CookieLookup::Duplicate, Some(t.as_bytes()), NOW),
            Err(FormTokenError::NoCookie)
        );
        assert_eq!(check(&s, found, None, NOW), Err(FormTokenError::NoField));
        let other = issue(&s, NOW, &[8; NONCE_LEN]).unwrap();
        assert_eq!(
            check(&s, found, Some(other.as_bytes()), NOW),
            Err(FormTokenError::Mismatch)
        );
        // The same pair, forged: a later expiry, or another key.
        let (_, rest) = t.split_once('.').unwrap();
        let later = format!("{}.{rest}", NOW + 10 * TOKEN_TTL);
        let forged = CookieLookup::Found(later.as_bytes());
        assert_eq!(
            check(&s, forged, Some(later.as_bytes()), NOW),
            Err(FormTokenError::Invalid)
        );
        let foreign = Secret::from_bytes(&[b'k'; 40]).unwrap();
        let theirs = issue(&foreign, NOW, &[7; NONCE_LEN]).unwrap();
        let found_theirs = CookieLookup::Found(theirs.as_bytes());
        assert_eq!(
            check(&s, found_theirs, Some(theirs.as_bytes()), NOW),
            Err(FormTokenError::Invalid)
        );
        for junk in ["", ".", "x", "1.2", "1.2.!!", "abc.def.ghi"] {
            let c = CookieLookup::Found(junk.as_bytes());
            assert_eq!(
                check(&s, c, Some(junk.as_bytes()), NOW),
                Err(FormTokenError::Invalid),
                "{junk:?}"
            );
        }
        // Still good after a rotation: the old key verifies.
        let mut rotated = Secret::from_bytes_with_kid(&[b'n'; 40], Some("new")).unwrap();
        rotated.append(secret()).unwrap();
        assert_eq!(check(&rotated, found, Some(t.as_bytes()), NOW), Ok(()));
        assert!(fresh(&s, NOW).is_some_and(|a| fresh(&s, NOW).is_some_and(|b| a != b)));
    }

    #[test]
    fn cookie() {
        assert_eq!(
            set_cookie("t", true),
            "__Host-dash_auth_csrf=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
        );
        assert_eq!(
            set_cookie("t", false),
            "dash_auth_csrf=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        );
    }
}
