//! Form login: which requests go to the login page, the form body, and the
//! page itself.

use std::fmt;

use crate::basic::Password;
use crate::csrf;
use crate::return_path;
use crate::syntax::{percent_decode_to_vec, MediaType, Plus};

/// Longest form body read; a login form is a few dozen bytes.
pub const MAX_FORM_LEN: usize = 8192;

/// The page served when no `dash_auth_login_page` is configured.
pub const DEFAULT_PAGE: &str = include_str!("login.html");

/// The logout page's content (framed by [`crate::page`]): one button that
/// posts the logout form.
pub const LOGOUT_PAGE: &str = include_str!("logout.html");

/// Placeholders a custom page may use.
pub const MESSAGE_PLACEHOLDER: &str = "{{message}}";
pub const RETURN_PLACEHOLDER: &str = "{{return}}";
pub const ACTION_PLACEHOLDER: &str = "{{action}}";
/// The form token (see [`crate::csrf`]), for a hidden `csrf` field.
pub const CSRF_PLACEHOLDER: &str = "{{csrf}}";

/// True for a browser navigation: a GET (or HEAD) whose `Accept` lists
/// `text/html`. XHR, fetch, API clients and curl don't, and keep getting the
/// Basic challenge.
pub fn wants_login_page(get_or_head: bool, accept: Option<&[u8]>) -> bool {
    get_or_head
        && accept.is_some_and(|a| {
            a.split(|&b| b == b',')
                .any(|item| names_media_type(item, "text/html"))
        })
}

/// True if a `Content-Type` or `Accept` item names `essence`, whatever its
/// parameters. CR, LF and FF around the type are ignored as well as OWS,
/// as these two checks always have: nginx passes a form feed through, and
/// the shared parser is no reason to turn away a client that sends one.
fn names_media_type(value: &[u8], essence: &str) -> bool {
    MediaType::parse(value)
        .essence()
        .trim_ascii()
        .eq_ignore_ascii_case(essence.as_bytes())
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a
/// space, `%XY` a byte. A truncated or non-hex escape is refused.
pub fn form_decode(raw: &[u8]) -> Option<Vec<u8>> {
    percent_decode_to_vec(raw, Plus::Space).ok()
}

/// The value of `name` in a query string or form body, decoded. `None` if
/// absent or undecodable; a repeated name is refused as a whole
/// ([`Duplicate`](FormError::Duplicate)) so no two readers pick different copies.
pub fn form_field(body: &[u8], name: &str) -> Result<Option<Vec<u8>>, FormError> {
    let mut found = None;
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (
                pair.get(..eq).unwrap_or_default(),
                pair.get(eq + 1..).unwrap_or_default(),
            ),
            None => (pair, &b""[..]),
        };
        let key = form_decode(k).ok_or(FormError::Encoding)?;
        if key != name.as_bytes() {
            continue;
        }
        if found.is_some() {
            return Err(FormError::Duplicate);
        }
        found = Some(form_decode(v).ok_or(FormError::Encoding)?);
    }
    Ok(found)
}

/// Why a login form was refused before any password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormError {
    ContentType,
    TooLarge,
    Encoding,
    Duplicate,
    MissingField,
    BadUser,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormError::ContentType => {
                "login form content type is not application/x-www-form-urlencoded"
            }
            FormError::TooLarge => "login form too large",
            FormError::Encoding => "login form badly encoded",
            FormError::Duplicate => "login form repeats a field",
            FormError::MissingField => "login form lacks username or password",
            FormError::BadUser => "login form user name is not valid UTF-8 text",
        })
    }
}

/// A parsed login form. The password is wiped when dropped.
#[derive(Debug)]
pub struct LoginForm {
    pub user: String,
    pub password: Password,
    /// Already validated: a same-origin path, `/` otherwise.
    pub return_to: String,
    /// The form token, if the form sent one.
    pub csrf: Option<Vec<u8>>,
}

fn is_form_content_type(ct: &[u8]) -> bool {
    names_media_type(ct, "application/x-www-form-urlencoded")
}

/// Parses a `POST` to the login page: fields `username`, `password` and
/// optionally `return`.
pub fn parse_form(content_type: Option<&[u8]>, body: &[u8]) -> Result<LoginForm, FormError> {
    if !content_type.is_some_and(is_form_content_type) {
        return Err(FormError::ContentType);
    }
    if body.len() > MAX_FORM_LEN {
        return Err(FormError::TooLarge);
    }
    let user = form_field(body, "username")?.ok_or(FormError::MissingField)?;
    let password = form_field(body, "password")?.ok_or(FormError::MissingField)?;
    let password = Password::new(&zeroize::Zeroizing::new(password));
    let return_to = form_field(body, "return")?.unwrap_or_default();
    let csrf = form_field(body, csrf::FIELD)?;
    let user = String::from_utf8(user).map_err(|_| FormError::BadUser)?;
    if user.is_empty() || user.chars().any(char::is_control) {
        return Err(FormError::BadUser);
    }
    Ok(LoginForm {
        user,
        password,
        return_to: return_path::sanitize(&return_to).to_owned(),
        csrf,
    })
}

/// The form token of a logout form. A body that is not a well-formed form
/// has none, and the logout page asks again.
pub fn logout_token(content_type: Option<&[u8]>, body: &[u8]) -> Option<Vec<u8>> {
    if !content_type.is_some_and(is_form_content_type) || body.len() > MAX_FORM_LEN {
        return None;
    }
    form_field(body, csrf::FIELD).ok().flatten()
}

/// The return target named in the login page's query string, validated.
pub fn return_from_query(args: &[u8]) -> String {
    match form_field(args, "return") {
        Ok(Some(v)) => return_path::sanitize(&v).to_owned(),
        _ => return_path::FALLBACK.to_owned(),
    }
}

/// Escapes text for an HTML element or a quoted attribute.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the login page says above the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    None,
    /// Wrong user or password: one message for both, so the page does not
    /// tell which user names exist.
    Failed,
    TooManyAttempts,
    LoggedOut,
    /// The form's token was missing, stale or not its cookie's.
    FormExpired,
}

impl Notice {
    fn html(self) -> &'static str {
        match self {
            Notice::None => "",
            Notice::Failed => r#"<p class="error" role="alert">Wrong user name or password.</p>"#,
            Notice::TooManyAttempts => {
                r#"<p class="error" role="alert">Too many failed attempts. Try again later.</p>"#
            }
            Notice::LoggedOut => r#"<p class="notice" role="status">You are signed out.</p>"#,
            Notice::FormExpired => {
                r#"<p class="error" role="alert">This form has expired. Please try again.</p>"#
            }
        }
    }
}

/// Fills a page template: every placeholder is replaced, the return path
/// escaped (it is validated too, so escaping is belt and braces). The return
/// path comes from the request, so it is filled in last: a path holding
/// `{{action}}` must not be rewritten by a later replacement.
pub fn render_page(
    template: &str,
    action: &str,
    return_to: &str,
    notice: Notice,
    csrf: &str,
) -> String {
    template
        .replace(MESSAGE_PLACEHOLDER, notice.html())
        .replace(ACTION_PLACEHOLDER, &html_escape(action))
        .replace(CSRF_PLACEHOLDER, &html_escape(csrf))
        .replace(RETURN_PLACEHOLDER, &html_escape(return_to))
}

/// The logout page, its form posting to `action`.
pub fn render_logout_page(action: &str, notice: Notice, csrf: &str) -> String {
    render_page(
        &crate::page::frame("Sign out", LOGOUT_PAGE),
        action,
        "/",
        notice,
        csrf,
    )
}

/// The script injected into the app's HTML pages when form login is on: a
/// callback answered `401` (the session ended while the page was open)
/// sends the browser to the login page and back to this page afterwards.
/// Wrapping `fetch` leaves the app and Dash's renderer untouched.
pub fn expiry_script(login_path: &str) -> String {
    // The path is a validated location path (no quotes or `<`), and JSON
    // string syntax makes it a safe JS literal anyway.
    let login = serde_json::to_string(login_path).unwrap_or_else(|_| "\"/\"".into());
    format!(
        "<script>(function(){{var f=window.fetch;if(!f)return;var login={login};\
window.fetch=function(input,init){{return f.apply(this,arguments).then(function(r){{\
var u=typeof input==='string'?input:(input&&input.url)||'';\
if(r.status===401&&u.indexOf('_dash-update-component')!==-1){{\
window.location.assign(login+'?return='+encodeURIComponent(location.pathname+location.search));}}\
return r;}});}};}})();</script>"
    )
}

/// Inserts `snippet` before the last `</body>` of an HTML page (or at the
/// end if there is none).
pub fn inject_before_body_end(page: &[u8], snippet: &[u8]) -> Vec<u8> {
    let needle = b"</body>";
    let at = page
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
        .unwrap_or(page.len());
    let (before, after) = page.split_at_checked(at).unwrap_or((page, &[]));
    let mut out = Vec::with_capacity(page.len() + snippet.len());
    out.extend_from_slice(before);
    out.extend_from_slice(snippet);
    out.extend_from_slice(after);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] = b"application/x-www-form-urlencoded";

    #[test]
    fn browser_navigation() {
        let accept: &[u8] = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_login_page(true, Some(accept)));
        assert!(wants_login_page(true, Some(b"TEXT/HTML; q=0.5")));
        assert!(!wants_login_page(false, Some(accept)));
        assert!(!wants_login_page(true, None));
        assert!(!wants_login_page(true, Some(b"*/*")));
        assert!(!wants_login_page(true, Some(b"application/json")));
        assert!(!wants_login_page(true, Some(b"text/htmlx")));
    }

    #[test]
    fn decode() {
        assert_eq!(form_decode(b"a+b%20c%2B").unwrap(), b"a b c+");
        assert_eq!(form_decode(b"%e9").unwrap(), [0xe9]);
        for bad in [&b"%"[..], b"%2", b"%zz", b"%+1", b"a%"] {
            assert_eq!(form_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parses_form() {
        let f = parse_form(
            Some(b"application/x-www-form-urlencoded; charset=UTF-8"),
            b"username=mike&password=12%2634+5&return=%2Fhr%3Fx%3D1",
        )
        .unwrap();
        assert_eq!(f.user, "mike");
        assert_eq!(f.password.as_bytes(), b"12&34 5");
        assert_eq!(f.return_to, "/hr?x=1");
        let f = parse_form(Some(FORM), b"password=&username=a&x=y").unwrap();
        assert_eq!(f.password.as_bytes(), b"");
        assert_eq!(f.return_to, "/");
        // An open redirect attempt falls back to `/`.
        for evil in [
            "%2F%2Fevil",
            "https%3A%2F%2Fevil",
            "%2F%5Cevil",
            "%2F%09%2Fevil",
        ] {
            let body = format!("username=a&password=b&return={evil}");
            assert_eq!(
                parse_form(Some(FORM), body.as_bytes()).unwrap().return_to,
                "/"
            );
        }
        assert!(format!("{f:?}").contains("redacted"));
        assert_eq!(f.csrf, None);
        let f = parse_form(Some(FORM), b"username=a&password=b&csrf=1.x.y").unwrap();
        assert_eq!(f.csrf.as_deref(), Some(&b"1.x.y"[..]));
    }

    #[test]
    fn logout_form() {
        assert_eq!(
            logout_token(Some(FORM), b"csrf=1.x.y").as_deref(),
            Some(&b"1.x.y"[..])
        );
        assert_eq!(logout_token(Some(FORM), b""), None);
        assert_eq!(logout_token(Some(FORM), b"csrf=a&csrf=b"), None);
        assert_eq!(logout_token(Some(b"text/plain"), b"csrf=1.x.y"), None);
        assert_eq!(logout_token(None, b"csrf=1.x.y"), None);
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn refuses_bad_forms() {
        let cases: &[(Option<&[u8]>, &[u8], FormError)] = &[
            (None, b"username=a&password=b", FormError::ContentType),
            (Some(b"application/json"), b"{}", FormError::ContentType),
            (Some(b"multipart/form-data"), b"", FormError::ContentType),
            (Some(FORM), b"username=a", FormError::MissingField),
            (Some(FORM), b"password=a", FormError::MissingField),
            (Some(FORM), b"", FormError::MissingField),
            (
                Some(FORM),
                b"username=a&username=b&password=c",
                FormError::Duplicate,
            ),
            (
                Some(FORM),
                b"username=a&password=c&password=d",
                FormError::Duplicate,
            ),
            (Some(FORM), b"username=%zz&password=c", FormError::Encoding),
            (Some(FORM), b"username=&password=c", FormError::BadUser),
            (Some(FORM), b"username=%0a&password=c", FormError::BadUser),
            (Some(FORM), b"username=%ff&password=c", FormError::BadUser),
            (
                Some(FORM),
                b"username=a&password=c&csrf=1&csrf=2",
                FormError::Duplicate,
            ),
        ];
        for (ct, body, want) in cases {
            assert_eq!(parse_form(*ct, body).unwrap_err(), *want, "{body:?}");
        }
        let big = vec![b'a'; MAX_FORM_LEN + 1];
        assert_eq!(
            parse_form(Some(FORM), &big).unwrap_err(),
            FormError::TooLarge
        );
    }

    #[test]
    fn query_return() {
        assert_eq!(return_from_query(b"return=%2Fhr"), "/hr");
        assert_eq!(
            return_from_query(b"x=1&return=/marketing?a"),
            "/marketing?a"
        );
        assert_eq!(return_from_query(b"return=//evil"), "/");
        assert_eq!(return_from_query(b"return=/a&return=/b"), "/");
        assert_eq!(return_from_query(b""), "/");
    }

    #[test]
    fn page() {
        let p = render_page(
            DEFAULT_PAGE,
            "/login",
            "/hr?a=1&b=\"",
            Notice::Failed,
            "1.tok.sig",
        );
        assert!(p.contains("Wrong user name or password."));
        assert!(p.contains(r#"value="/hr?a=1&amp;b=&quot;""#), "{p}");
        assert!(p.contains(r#"action="/login""#));
        assert!(p.contains(r#"<input type="hidden" name="csrf" value="1.tok.sig">"#));
        assert!(!p.contains("{{"));
        // No favicon request: it would be refused (401) before sign-in.
        assert!(p.contains(r#"<link rel="icon" href="data:,">"#));
        let p = render_page(DEFAULT_PAGE, "/login", "/", Notice::None, "t");
        assert!(!p.contains("role=\"alert\""));
        // A return path cannot reach into the token's placeholder.
        let p = render_page(DEFAULT_PAGE, "/login", "/{{csrf}}", Notice::None, "t");
        assert!(p.contains(r#"value="/{{csrf}}""#), "{p}");

        let p = render_logout_page("/logout", Notice::FormExpired, "1.tok.sig");
        assert!(
            p.contains(r#"<form method="post" action="/logout">"#),
            "{p}"
        );
        assert!(p.contains(r#"name="csrf" value="1.tok.sig""#));
        assert!(p.contains("This form has expired."));
        assert!(p.contains(r#"id="sign-out""#));
        assert!(!p.contains("{{"));
    }

    #[test]
    fn injection() {
        assert_eq!(
            inject_before_body_end(b"<html><body>x</body></html>", b"<s>"),
            b"<html><body>x<s></body></html>"
        );
        assert_eq!(inject_before_body_end(b"<p>", b"<s>"), b"<p><s>");
        assert_eq!(
            inject_before_body_end(b"</BODY></body>", b"!"),
            b"</BODY>!</body>"
        );
        let s = expiry_script("/login");
        assert!(s.contains(r#"var login="/login";"#));
        assert!(s.starts_with("<script>") && s.ends_with("</script>"));
    }
}
