//! The browser side of the authorization code flow: the redirect to the
//! provider, the short-lived cookie that ties the provider's answer to the
//! browser that asked (`state`, `nonce`, PKCE verifier, where to go back),
//! the callback's query, and the token request and response.
//!
//! The cookie is signed, not encrypted: it holds the PKCE verifier, which
//! is what PKCE needs (only the browser that started the sign-in has it;
//! a code that leaks through a log or a `Referer` is useless without it),
//! and nothing a reader could use on its own.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::MAX_DOC_LEN;
use crate::return_path;
use crate::syntax::{percent_decode_to_vec, Plus};
use crate::token::Secret;

/// The state cookie. `__Host-`: only ever set by this origin over HTTPS,
/// for `/`, so a sibling subdomain cannot plant one.
pub const STATE_COOKIE: &str = "__Host-dash_auth_oidc";

/// Longest state cookie value issued or read: with its name and `=`, the
/// 4096 bytes every browser keeps.
pub const MAX_STATE_LEN: usize = 4096 - STATE_COOKIE.len() - 1;

/// Longest value of a callback parameter.
pub const MAX_PARAM_LEN: usize = 4096;

/// Put before the payload in the MAC input: no session token, login form
/// token or other value of ours is ever MACed with this prefix, so none
/// can be passed off as a state cookie, nor one as them.
const MAC_LABEL: &[u8] = b"dash-auth-oidc-state\0";

/// One sign-in in progress.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// Sent as `state`, compared with the callback's (CSRF, RFC 6749 §10.12).
    pub state: String,
    /// Sent as `nonce`, compared with the ID token's (replay, OIDC Core §15.5.2).
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636 §4.1).
    pub verifier: String,
    /// Where the browser goes after the sign-in: a path on this origin.
    pub return_to: String,
    /// Unix time after which the sign-in is abandoned.
    pub expires: u64,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("return_to", &self.return_to)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// True if the callback's `state` is this sign-in's, compared in
    /// constant time.
    pub fn state_matches(&self, state: &str) -> bool {
        !self.state.is_empty() && bool::from(self.state.as_bytes().ct_eq(state.as_bytes()))
    }
}

fn random_b64<const N: usize>() -> Option<String> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

/// A new sign-in that goes back to `return_to` (or `/` if that is not a
/// safe local path) and lasts `lifetime` seconds; `None` if the system
/// has no randomness to give.
pub fn fresh(return_to: &str, now: u64, lifetime: u64) -> Option<Pending> {
    Some(Pending {
        state: random_b64::<16>()?,
        nonce: random_b64::<16>()?,
        // 32 bytes: the 43 characters RFC 7636 §4.1 recommends.
        verifier: random_b64::<32>()?,
        return_to: return_path::sanitize(return_to.as_bytes()).to_owned(),
        expires: now.saturating_add(lifetime),
    })
}

/// The PKCE S256 challenge: BASE64URL(SHA256(verifier)), RFC 7636 §4.2.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The state cookie's value: `base64url(json).base64url(mac)`. A return
/// path that is unsafe, or too long to fit the cookie, becomes `/`.
/// `None` only if the secret has no signing key.
pub fn seal(p: &Pending, secret: &Secret) -> Option<String> {
    let safe = return_path::sanitize(p.return_to.as_bytes());
    let sealed = seal_json(p, safe, secret)?;
    if sealed.len() <= MAX_STATE_LEN {
        return Some(sealed);
    }
    seal_json(p, return_path::FALLBACK, secret).filter(|s| s.len() <= MAX_STATE_LEN)
}

fn seal_json(p: &Pending, return_to: &str, secret: &Secret) -> Option<String> {
    let json = Zeroizing::new(
        serde_json::to_vec(&Pending {
            return_to: return_to.to_owned(),
            ..p.clone()
        })
        .ok()?,
    );
    sign_payload(&URL_SAFE_NO_PAD.encode(json.as_slice()), secret)
}

fn sign_payload(payload: &str, secret: &Secret) -> Option<String> {
    let mac = secret.mac(&mac_input(payload.as_bytes()))?;
    Some(format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac)))
}

fn mac_input(payload: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(MAC_LABEL.len() + payload.len());
    msg.extend_from_slice(MAC_LABEL);
    msg.extend_from_slice(payload);
    msg
}

/// Why a state cookie was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    TooLong(usize),
    /// Not `payload.mac` in base64url.
    Shape,
    /// Not signed by our secret (forged, altered, or an old secret).
    Mac,
    /// Signed, but not the JSON of a sign-in (a value of another version).
    Payload,
    Expired,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::TooLong(len) => write!(
                f,
                "sign-in state cookie is {len} bytes, more than the {MAX_STATE_LEN} accepted"
            ),
            StateError::Shape => f.write_str("sign-in state cookie is malformed"),
            StateError::Mac => f.write_str("sign-in state cookie signature is invalid"),
            StateError::Payload => f.write_str("sign-in state cookie content is invalid"),
            StateError::Expired => f.write_str("sign-in state cookie has expired"),
        }
    }
}

impl std::error::Error for StateError {}

fn is_b64url(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The sign-in a state cookie holds, if we sealed it and it is still
/// current. Its `return_to` is checked again: a path that is no longer
/// safe by today's rules becomes `/`.
pub fn open(value: &[u8], secret: &Secret, now: u64) -> Result<Pending, StateError> {
    if value.len() > MAX_STATE_LEN {
        return Err(StateError::TooLong(value.len()));
    }
    let mut parts = value.split(|&b| b == b'.');
    let (Some(payload), Some(mac), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(StateError::Shape);
    };
    if !is_b64url(payload) || !is_b64url(mac) {
        return Err(StateError::Shape);
    }
    let tag = URL_SAFE_NO_PAD.decode(mac).map_err(|_| StateError::Shape)?;
    if tag.len() != 32 {
        return Err(StateError::Shape);
    }
    if !secret.verify_mac(&mac_input(payload), &tag) {
        return Err(StateError::Mac);
    }
    let json = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| StateError::Payload)?,
    );
    let mut p: Pending = serde_json::from_slice(&json).map_err(|_| StateError::Payload)?;
    let token_like =
        |s: &str, min: usize, max: usize| (min..=max).contains(&s.len()) && is_b64url(s.as_bytes());
    // RFC 7636 §4.1: 43 to 128 unreserved characters.
    let verifier_ok = (43..=128).contains(&p.verifier.len())
        && p.verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !token_like(&p.state, 16, 128) || !token_like(&p.nonce, 16, 128) || !verifier_ok {
        return Err(StateError::Payload);
    }
    if p.expires <= now {
        return Err(StateError::Expired);
    }
    if return_path::validate(p.return_to.as_bytes()).is_none() {
        p.return_to = return_path::FALLBACK.to_owned();
    }
    Ok(p)
}

/// The `Set-Cookie` value that stores a sealed sign-in. `SameSite=Lax`,
/// not `Strict`: the provider sends the browser back with a top-level
/// cross-site GET, which must carry the cookie.
pub fn state_cookie(value: &str, max_age: u64) -> String {
    format!("{STATE_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// The `Set-Cookie` value that removes the state cookie.
pub fn clear_state_cookie() -> String {
    state_cookie("", 0)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (space
/// as `%20`): right for a URL query, and for an
/// `application/x-www-form-urlencoded` body or Basic credentials (RFC 6749
/// Appendix B), whose decoders read `%20` as a space too.
pub fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `endpoint` with `params` added to its query.
fn with_query(endpoint: &str, params: &[(&str, &str)]) -> String {
    let mut url = endpoint.to_owned();
    if !endpoint.contains('?') {
        url.push('?');
    } else if !endpoint.ends_with(['?', '&']) {
        url.push('&');
    }
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            url.push('&');
        }
        url.push_str(name);
        url.push('=');
        url.push_str(&form_urlencode(value));
    }
    url
}

/// The provider's authorization URL for this sign-in (RFC 6749 §4.1.1,
/// OIDC Core §3.1.2.1, RFC 7636 §4.3).
pub fn authorize_url(
    endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &str,
    p: &Pending,
) -> String {
    let challenge = challenge(&p.verifier);
    with_query(
        endpoint,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", scopes),
            ("state", &p.state),
            ("nonce", &p.nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// The provider's logout URL (OIDC RP-Initiated Logout 1.0 §2).
pub fn end_session_url(endpoint: &str, client_id: &str, post_logout_redirect_uri: &str) -> String {
    with_query(
        endpoint,
        &[
            ("client_id", client_id),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
        ],
    )
}

/// The parameters of the provider's redirect back (RFC 6749 §4.1.2 and
/// §4.1.2.1, RFC 9207). An empty value counts as absent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    /// The provider's error code, cut to `[A-Za-z0-9_.-]` and 64
    /// characters so that it is safe to log.
    pub error: Option<String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "…"))
            .field("state", &self.state.as_ref().map(|_| "…"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .finish()
    }
}

impl Callback {
    /// RFC 9207 §2.4: an `iss` must be the issuer, and when the provider
    /// says it sends one (`required`), it must be there.
    pub fn iss_ok(&self, issuer: &str, required: bool) -> bool {
        match &self.iss {
            Some(iss) => iss == issuer,
            None => !required,
        }
    }
}

/// Why the callback's query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    /// One of `code`, `state`, `iss`, `error` given twice (RFC 6749 §3.1).
    Repeated(&'static str),
    /// A bad `%` escape in this parameter (or in a parameter name).
    BadEncoding(&'static str),
    NotUtf8(&'static str),
    TooLong(&'static str),
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::Repeated(name) => {
                write!(f, "sign-in callback has more than one \"{name}\"")
            }
            CallbackError::BadEncoding(name) => {
                write!(f, "sign-in callback has a bad %-escape in \"{name}\"")
            }
            CallbackError::NotUtf8(name) => {
                write!(f, "sign-in callback \"{name}\" is not UTF-8")
            }
            CallbackError::TooLong(name) => write!(
                f,
                "sign-in callback \"{name}\" is longer than {MAX_PARAM_LEN} bytes"
            ),
        }
    }
}

impl std::error::Error for CallbackError {}

/// Parses the callback's query string (without the `?`).
pub fn parse_callback(args: &[u8]) -> Result<Callback, CallbackError> {
    let mut out = Callback::default();
    let mut seen = [false; 4];
    for pair in args.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (pair.get(..i).unwrap_or_default(), pair.get(i + 1..)),
            None => (pair, None),
        };
        let name = percent_decode_to_vec(name, Plus::Space)
            .map_err(|_| CallbackError::BadEncoding("parameter name"))?;
        let (slot, name): (usize, &'static str) = match name.as_slice() {
            b"code" => (0, "code"),
            b"state" => (1, "state"),
            b"iss" => (2, "iss"),
            b"error" => (3, "error"),
            _ => continue,
        };
        if let Some(seen) = seen.get_mut(slot) {
            if *seen {
                return Err(CallbackError::Repeated(name));
            }
            *seen = true;
        }
        let raw = value.unwrap_or_default();
        // An escape is 3 bytes for 1: a raw value this long decodes too long.
        if raw.len() > 3 * MAX_PARAM_LEN {
            return Err(CallbackError::TooLong(name));
        }
        let bytes = Zeroizing::new(
            percent_decode_to_vec(raw, Plus::Space)
                .map_err(|_| CallbackError::BadEncoding(name))?,
        );
        if bytes.len() > MAX_PARAM_LEN {
            return Err(CallbackError::TooLong(name));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| CallbackError::NotUtf8(name))?;
        if text.is_empty() {
            continue;
        }
        let text = text.to_owned();
        match slot {
            0 => out.code = Some(text),
            1 => out.state = Some(text),
            2 => out.iss = Some(text),
            _ => out.error = Some(error_code(&text)).filter(|e| !e.is_empty()),
        }
    }
    Ok(out)
}

/// An OAuth error code kept to characters safe in a log line.
fn error_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(64)
        .collect()
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: the credentials in an `Authorization` header.
    Basic,
    /// `client_secret_post`: the credentials in the body.
    Post,
}

impl ClientAuth {
    /// The method to use with a provider that supports `methods`
    /// (`token_endpoint_auth_methods_supported`): Basic, which every
    /// provider must support (RFC 6749 §2.3.1), unless only Post is listed.
    pub fn pick(methods: &[String]) -> Option<ClientAuth> {
        if methods.iter().any(|m| m == "client_secret_basic") {
            Some(ClientAuth::Basic)
        } else if methods.iter().any(|m| m == "client_secret_post") {
            Some(ClientAuth::Post)
        } else {
            None
        }
    }
}

/// The token request: the body to POST as
/// `application/x-www-form-urlencoded`, and the `Authorization` header
/// value, if any. Both hold secrets, so `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub body: String,
    pub authorization: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The authorization code exchange (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub fn token_request(
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    client_id: &str,
    client_secret: &str,
    auth: ClientAuth,
) -> TokenRequest {
    let mut body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}&client_id={}",
        form_urlencode(code),
        form_urlencode(redirect_uri),
        form_urlencode(verifier),
        form_urlencode(client_id),
    );
    let authorization = match auth {
        ClientAuth::Post => {
            body.push_str("&client_secret=");
            body.push_str(&Zeroizing::new(form_urlencode(client_secret)));
            None
        }
        ClientAuth::Basic => {
            let credentials = Zeroizing::new(format!(
                "{}:{}",
                form_urlencode(client_id),
                Zeroizing::new(form_urlencode(client_secret)).as_str()
            ));
            Some(format!("Basic {}", STANDARD.encode(credentials.as_bytes())))
        }
    };
    TokenRequest {
        body,
        authorization,
    }
}

/// Why the token response gave no ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// An unexpected HTTP status.
    Status(u16),
    /// The provider's OAuth error (RFC 6749 §5.2), cut to a safe code.
    Refused {
        error: String,
    },
    TooLarge(usize),
    /// Not the JSON of a token response.
    Malformed,
    /// A token response without `id_token`: not an OpenID Connect answer.
    NoIdToken,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Status(status) => {
                write!(f, "token endpoint answered with HTTP status {status}")
            }
            TokenError::Refused { error } => {
                write!(f, "token endpoint refused the code: \"{error}\"")
            }
            TokenError::TooLarge(len) => write!(
                f,
                "token response is {len} bytes, more than the {MAX_DOC_LEN} accepted"
            ),
            TokenError::Malformed => {
                f.write_str("token response is not a valid JSON token response")
            }
            TokenError::NoIdToken => {
                f.write_str("token response has no id_token (is \"openid\" among the scopes?)")
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// The ID token from the token endpoint's answer (RFC 6749 §5.1, §5.2;
/// OIDC Core §3.1.3.3).
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<String, TokenError> {
    if body.len() > MAX_DOC_LEN {
        return Err(TokenError::TooLarge(body.len()));
    }
    let json = serde_json::from_slice::<Value>(body).ok();
    let doc = json.as_ref().and_then(Value::as_object);
    match status {
        200 => {}
        400..=499 => {
            let error = doc
                .and_then(|d| d.get("error"))
                .and_then(Value::as_str)
                .map(error_code)
                .filter(|e| !e.is_empty());
            return Err(match error {
                Some(error) => TokenError::Refused { error },
                None => TokenError::Status(status),
            });
        }
        _ => return Err(TokenError::Status(status)),
    }
    let doc = doc.ok_or(TokenError::Malformed)?;
    match doc.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("Bearer") => {}
        Some(_) => return Err(TokenError::Malformed),
    }
    match doc.get("id_token") {
        None | Some(Value::Null) => Err(TokenError::NoIdToken),
        Some(Value::String(t)) if !t.is_empty() => Ok(t.clone()),
        Some(_) => Err(TokenError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn secret() -> Secret {
        Secret::from_bytes(&[b'k'; 32]).unwrap()
    }

    fn pending() -> Pending {
        Pending {
            state: "c3RhdGUtc3RhdGUtc3RhdGU".into(),
            nonce: "bm9uY2Utbm9uY2Utbm9uY2U".into(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            return_to: "/hr?tab=2".into(),
            expires: NOW + 600,
        }
    }

    #[test]
    fn fresh_values() {
        let a = fresh("/marketing", NOW, 600).unwrap();
        let b = fresh("/marketing", NOW, 600).unwrap();
        assert_eq!(a.state.len(), 22);
        assert_eq!(a.nonce.len(), 22);
        assert_eq!(a.verifier.len(), 43);
        assert!(is_b64url(a.state.as_bytes()) && is_b64url(a.verifier.as_bytes()));
        assert_eq!(a.return_to, "/marketing");
        assert_eq!(a.expires, NOW + 600);
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(a.state, a.nonce);
        for unsafe_path in ["//evil.example", "https://evil.example", "", "/a\\b"] {
            assert_eq!(fresh(unsafe_path, NOW, 600).unwrap().return_to, "/");
        }
        assert_eq!(fresh("/", u64::MAX - 1, 600).unwrap().expires, u64::MAX);
        let debug = format!("{a:?}");
        assert!(
            !debug.contains(&a.verifier) && !debug.contains(&a.nonce),
            "{debug}"
        );
    }

    #[test]
    fn pkce_challenge_rfc7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn state_matching() {
        let p = pending();
        assert!(p.state_matches("c3RhdGUtc3RhdGUtc3RhdGU"));
        assert!(!p.state_matches("c3RhdGUtc3RhdGUtc3RhdGV"));
        assert!(!p.state_matches("c3RhdGUtc3RhdGUtc3RhdG"));
        assert!(!p.state_matches(""));
        let empty = Pending {
            state: String::new(),
            ..pending()
        };
        assert!(!empty.state_matches(""));
    }

    #[test]
    fn seal_and_open() {
        let s = secret();
        let value = seal(&pending(), &s).unwrap();
        let (payload, mac) = value.split_once('.').unwrap();
        assert!(is_b64url(payload.as_bytes()));
        assert_eq!(mac.len(), 43);
        assert_eq!(open(value.as_bytes(), &s, NOW).unwrap(), pending());
        // Still good one second before it expires, not at expiry.
        assert!(open(value.as_bytes(), &s, NOW + 599).is_ok());
        assert_eq!(
            open(value.as_bytes(), &s, NOW + 600),
            Err(StateError::Expired)
        );
        // Another secret, and a rotation that keeps the old one.
        let other = Secret::from_bytes(&[b'o'; 32]).unwrap();
        assert_eq!(open(value.as_bytes(), &other, NOW), Err(StateError::Mac));
        let mut rotated = Secret::from_bytes_with_kid(&[b'n'; 32], Some("new")).unwrap();
        rotated.append(s.clone()).unwrap();
        assert_eq!(open(value.as_bytes(), &rotated, NOW).unwrap(), pending());
    }

    #[test]
    fn refusals_with_twins() {
        let s = secret();
        let good = seal(&pending(), &s).unwrap();
        let (payload, mac) = good.split_once('.').unwrap();
        let json = |v: Value| sign_payload(&URL_SAFE_NO_PAD.encode(v.to_string()), &s).unwrap();
        let mut fields = serde_json::to_value(pending()).unwrap();
        let extra = {
            let mut v = fields.clone();
            v["admin"] = Value::Bool(true);
            json(v)
        };
        fields.as_object_mut().unwrap().remove("nonce");
        let missing = json(fields);
        let flipped = {
            let mut p = payload.to_owned().into_bytes();
            p[5] = if p[5] == b'A' { b'B' } else { b'A' };
            format!("{}.{mac}", String::from_utf8(p).unwrap())
        };
        let cases: Vec<(Vec<u8>, StateError)> = vec![
            (flipped.into_bytes(), StateError::Mac),
            (
                format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])).into_bytes(),
                StateError::Mac,
            ),
            (payload.as_bytes().to_vec(), StateError::Shape),
            (format!("{payload}.").into_bytes(), StateError::Shape),
            (format!(".{mac}").into_bytes(), StateError::Shape),
            (format!("{payload}.{mac}.x").into_bytes(), StateError::Shape),
            (format!("{payload}={mac}").into_bytes(), StateError::Shape),
            (format!("{payload}.{mac}=").into_bytes(), StateError::Shape),
            (
                format!("{payload}.{}", &mac[..42]).into_bytes(),
                StateError::Shape,
            ),
            (format!("{payload}.{mac}AA").into_bytes(), StateError::Shape),
            (format!("{payload} .{mac}").into_bytes(), StateError::Shape),
            (b"\xff.\xff".to_vec(), StateError::Shape),
            (b"".to_vec(), StateError::Shape),
            // A JWT is three parts; even our own session token is no state.
            (
                format!("eyJhbGciOiJIUzI1NiJ9.{payload}.{mac}").into_bytes(),
                StateError::Shape,
            ),
            (extra.into_bytes(), StateError::Payload),
            (missing.into_bytes(), StateError::Payload),
            (
                json(Value::String("x".into())).into_bytes(),
                StateError::Payload,
            ),
            (
                sign_payload("bm90IGpzb24", &s).unwrap().into_bytes(),
                StateError::Payload,
            ),
            (
                vec![b'a'; MAX_STATE_LEN + 1],
                StateError::TooLong(MAX_STATE_LEN + 1),
            ),
        ];
        for (i, (bad, want)) in cases.into_iter().enumerate() {
            assert_eq!(open(&bad, &s, NOW), Err(want), "case {i}");
        }
        assert!(open(good.as_bytes(), &s, NOW).is_ok());
    }

    #[test]
    fn sealed_content_is_checked() {
        let s = secret();
        for (edit, ok) in [
            (
                Pending {
                    verifier: "short".into(),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    verifier: "a".repeat(129),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    verifier: "a~.-_".repeat(9),
                    ..pending()
                },
                true,
            ),
            (
                Pending {
                    verifier: format!("{} ", "a".repeat(43)),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    state: String::new(),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    state: "short".into(),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    nonce: "n=n&n=nnnnnnnnnnnnnnnnn".into(),
                    ..pending()
                },
                false,
            ),
            (
                Pending {
                    nonce: "n".repeat(16),
                    ..pending()
                },
                true,
            ),
        ] {
            let value = seal(&edit, &s).unwrap();
            assert_eq!(
                open(value.as_bytes(), &s, NOW).is_ok(),
                ok,
                "{:?}",
                edit.verifier
            );
            if !ok {
                assert_eq!(open(value.as_bytes(), &s, NOW), Err(StateError::Payload));
            }
        }
    }

    #[test]
    fn return_paths() {
        let s = secret();
        let with = |r: &str| Pending {
            return_to: r.into(),
            ..pending()
        };
        // Unsafe ones never go into the cookie.
        for bad in ["//evil.example", "https://evil.example/", "/\\evil", "x"] {
            let value = seal(&with(bad), &s).unwrap();
            assert_eq!(open(value.as_bytes(), &s, NOW).unwrap().return_to, "/");
        }
        // ... and are refused on the way out too, should one be sealed.
        let mut v = serde_json::to_value(with("//evil.example")).unwrap();
        v["return_to"] = Value::String("//evil.example".into());
        let forged = sign_payload(&URL_SAFE_NO_PAD.encode(v.to_string()), &s).unwrap();
        assert_eq!(open(forged.as_bytes(), &s, NOW).unwrap().return_to, "/");
        // The longest safe path fits; one that bloats the JSON falls back.
        let long = format!("/{}", "a".repeat(return_path::MAX_LEN - 1));
        let value = seal(&with(&long), &s).unwrap();
        assert!(value.len() <= MAX_STATE_LEN);
        assert_eq!(open(value.as_bytes(), &s, NOW).unwrap().return_to, long);
        let quotes = format!("/{}", "\"".repeat(return_path::MAX_LEN - 1));
        let value = seal(&with(&quotes), &s).unwrap();
        assert!(value.len() <= MAX_STATE_LEN);
        assert_eq!(open(value.as_bytes(), &s, NOW).unwrap().return_to, "/");
    }

    #[test]
    fn cookies() {
        assert_eq!(
            state_cookie("abc.def", 600),
            "__Host-dash_auth_oidc=abc.def; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600"
        );
        assert_eq!(
            clear_state_cookie(),
            "__Host-dash_auth_oidc=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn urls() {
        let p = pending();
        let want = "https://idp.example.com/auth?response_type=code&client_id=dash%20app\
            &redirect_uri=https%3A%2F%2Fdash.example.com%2Foidc%2Fcallback\
            &scope=openid%20profile%20groups&state=c3RhdGUtc3RhdGUtc3RhdGU\
            &nonce=bm9uY2Utbm9uY2Utbm9uY2U\
            &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
            &code_challenge_method=S256";
        let got = authorize_url(
            "https://idp.example.com/auth",
            "dash app",
            "https://dash.example.com/oidc/callback",
            "openid profile groups",
            &p,
        );
        assert_eq!(got, want);
        assert!(!got.contains(&p.verifier));
        for (endpoint, prefix) in [
            (
                "https://idp.example.com/auth?tenant=x",
                "https://idp.example.com/auth?tenant=x&response_type=",
            ),
            (
                "https://idp.example.com/auth?",
                "https://idp.example.com/auth?response_type=",
            ),
            (
                "https://idp.example.com/auth?a=1&",
                "https://idp.example.com/auth?a=1&response_type=",
            ),
        ] {
            let got = authorize_url(endpoint, "c", "https://r/", "openid", &p);
            assert!(got.starts_with(prefix), "{got}");
        }
        assert_eq!(
            end_session_url(
                "https://idp.example.com/logout",
                "dash",
                "https://dash.example.com/?a=1&b=é"
            ),
            "https://idp.example.com/logout?client_id=dash\
             &post_logout_redirect_uri=https%3A%2F%2Fdash.example.com%2F%3Fa%3D1%26b%3D%C3%A9"
        );
        assert_eq!(
            end_session_url("https://idp.example.com/logout?x=1", "d", "https://d/"),
            "https://idp.example.com/logout?x=1&client_id=d&post_logout_redirect_uri=https%3A%2F%2Fd%2F"
        );
        assert_eq!(
            form_urlencode("aZ09-._~ +/%&=\n"),
            "aZ09-._~%20%2B%2F%25%26%3D%0A"
        );
    }

    #[test]
    fn callback_accepted() {
        let cb = parse_callback(
            b"state=c3Rh&session_state=x%zz&code=SplxlOBeZQQYbYS6WxSbIA&iss=https%3A%2F%2Fidp.example.com&scope=openid+profile",
        )
        .unwrap();
        assert_eq!(cb.code.as_deref(), Some("SplxlOBeZQQYbYS6WxSbIA"));
        assert_eq!(cb.state.as_deref(), Some("c3Rh"));
        assert_eq!(cb.iss.as_deref(), Some("https://idp.example.com"));
        assert_eq!(cb.error, None);
        let debug = format!("{cb:?}");
        assert!(
            !debug.contains("SplxlOBeZQQYbYS6WxSbIA") && !debug.contains("c3Rh"),
            "{debug}"
        );

        let cb = parse_callback(b"error=access_denied&error_description=The+user+said+no&state=s")
            .unwrap();
        assert_eq!(cb.error.as_deref(), Some("access_denied"));
        assert_eq!(cb.code, None);
        // A hostile error code is cut down to something loggable.
        let cb = parse_callback(b"error=%0D%0Abad%20%22code%22%3Cx%3E").unwrap();
        assert_eq!(cb.error.as_deref(), Some("badcodex"));
        let cb = parse_callback(b"error=%0D%0A").unwrap();
        assert_eq!(cb.error, None);
        // `+` is a space, `%2B` a plus; names are decoded too.
        let cb = parse_callback(b"c%6Fde=a+b%2Bc&&state&iss=").unwrap();
        assert_eq!(cb.code.as_deref(), Some("a b+c"));
        assert_eq!((cb.state, cb.iss), (None, None));
        assert_eq!(parse_callback(b"").unwrap(), Callback::default());
        let max = "a".repeat(MAX_PARAM_LEN);
        let cb = parse_callback(format!("code={max}").as_bytes()).unwrap();
        assert_eq!(cb.code.as_deref(), Some(max.as_str()));
        let cb = parse_callback("state=%C3%A9t%C3%A9".as_bytes()).unwrap();
        assert_eq!(cb.state.as_deref(), Some("été"));
    }

    #[test]
    fn callback_refused() {
        let long = "a".repeat(MAX_PARAM_LEN + 1);
        let escaped = "%41".repeat(MAX_PARAM_LEN + 1);
        let cases: Vec<(String, CallbackError)> = vec![
            ("code=a&code=b".into(), CallbackError::Repeated("code")),
            (
                "state=a&x=1&state=a".into(),
                CallbackError::Repeated("state"),
            ),
            ("iss=a&iss=a".into(), CallbackError::Repeated("iss")),
            ("error=a&error=".into(), CallbackError::Repeated("error")),
            ("code=a&c%6Fde=b".into(), CallbackError::Repeated("code")),
            ("code=%zz".into(), CallbackError::BadEncoding("code")),
            ("state=%4".into(), CallbackError::BadEncoding("state")),
            (
                "co%zz=x".into(),
                CallbackError::BadEncoding("parameter name"),
            ),
            ("code=%FF".into(), CallbackError::NotUtf8("code")),
            ("iss=%C3".into(), CallbackError::NotUtf8("iss")),
            (format!("code={long}"), CallbackError::TooLong("code")),
            (format!("state={escaped}"), CallbackError::TooLong("state")),
        ];
        for (bad, want) in cases {
            assert_eq!(
                parse_callback(bad.as_bytes()),
                Err(want.clone()),
                "{bad:.40}"
            );
            assert!(!want.to_string().is_empty());
        }
        // Twins: one of each, the same escapes valid, other names repeated.
        let cb = parse_callback(b"code=a&state=b&iss=c&error=d&x=1&x=2&scope=%zz").unwrap();
        assert_eq!(cb.code.as_deref(), Some("a"));
        assert!(parse_callback(b"code=%41&state=%34&iss=%C3%A9").is_ok());
    }

    #[test]
    fn iss_check() {
        let with = |iss: Option<&str>| Callback {
            iss: iss.map(str::to_owned),
            ..Callback::default()
        };
        let i = "https://idp.example.com";
        assert!(with(Some(i)).iss_ok(i, true));
        assert!(with(Some(i)).iss_ok(i, false));
        assert!(with(None).iss_ok(i, false));
        assert!(!with(None).iss_ok(i, true));
        assert!(!with(Some("https://evil.example")).iss_ok(i, false));
        assert!(!with(Some("https://idp.example.com/")).iss_ok(i, true));
    }

    #[test]
    fn token_requests() {
        let basic = token_request(
            "SplxlOBeZQQYbYS6WxSbIA",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "https://dash.example.com/oidc/callback",
            "s6BhdRkqt3",
            "7Fjfp0ZBr1KtDRbnfVdmIw",
            ClientAuth::Basic,
        );
        assert_eq!(
            basic.body,
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA\
             &redirect_uri=https%3A%2F%2Fdash.example.com%2Foidc%2Fcallback\
             &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&client_id=s6BhdRkqt3"
        );
        // The example credentials of OIDC Core §3.1.3.1.
        assert_eq!(
            basic.authorization.as_deref(),
            Some("Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3")
        );
        // Basic credentials are form-encoded first (RFC 6749 §2.3.1).
        let odd = token_request(
            "c",
            "v",
            "https://r/",
            "id:1",
            "p@ss:wörd+",
            ClientAuth::Basic,
        );
        let header = odd.authorization.unwrap();
        let decoded = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"id%3A1:p%40ss%3Aw%C3%B6rd%2B");

        let post = token_request("c&d", "v", "https://r/", "id", "s=cret", ClientAuth::Post);
        assert_eq!(
            post.body,
            "grant_type=authorization_code&code=c%26d&redirect_uri=https%3A%2F%2Fr%2F\
             &code_verifier=v&client_id=id&client_secret=s%3Dcret"
        );
        assert_eq!(post.authorization, None);

        let debug = format!("{basic:?} {post:?}");
        for secret in [
            "7Fjfp0ZBr1KtDRbnfVdmIw",
            "czZCaGRS",
            "SplxlOBeZQQYbYS6WxSbIA",
            "dBjftJeZ",
            "s%3Dcret",
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    #[test]
    fn client_auth_choice() {
        let m = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ClientAuth::pick(&m(&["client_secret_basic"])),
            Some(ClientAuth::Basic)
        );
        assert_eq!(
            ClientAuth::pick(&m(&["client_secret_post", "client_secret_basic"])),
            Some(ClientAuth::Basic)
        );
        assert_eq!(
            ClientAuth::pick(&m(&["private_key_jwt", "client_secret_post"])),
            Some(ClientAuth::Post)
        );
        assert_eq!(
            ClientAuth::pick(&m(&["private_key_jwt", "tls_client_auth"])),
            None
        );
        assert_eq!(ClientAuth::pick(&[]), None);
    }

    #[test]
    fn token_responses() {
        let ok = br#"{"access_token":"SlAV32hkKG","token_type":"Bearer","expires_in":3600,"id_token":"eyJ.x.y"}"#;
        assert_eq!(parse_token_response(200, ok).unwrap(), "eyJ.x.y");
        for fine in [
            &br#"{"token_type":"bearer","id_token":"a.b.c"}"#[..],
            br#"{"id_token":"a.b.c"}"#,
            br#"{"token_type":null,"id_token":"a.b.c","refresh_token":"r"}"#,
        ] {
            assert_eq!(parse_token_response(200, fine).unwrap(), "a.b.c");
        }
        let cases: Vec<(u16, &[u8], TokenError)> = vec![
            (
                400,
                br#"{"error":"invalid_grant","error_description":"Code not valid"}"#,
                TokenError::Refused {
                    error: "invalid_grant".into(),
                },
            ),
            (
                401,
                br#"{"error":"invalid_client"}"#,
                TokenError::Refused {
                    error: "invalid_client".into(),
                },
            ),
            (
                400,
                br#"{"error":"bad\r\nX-Injected: 1"}"#,
                TokenError::Refused {
                    error: "badX-Injected1".into(),
                },
            ),
            (400, br#"{"error":""}"#, TokenError::Status(400)),
            (400, br#"{"error":7}"#, TokenError::Status(400)),
            (400, b"<html>Bad Request</html>", TokenError::Status(400)),
            (500, br#"{"error":"server_error"}"#, TokenError::Status(500)),
            (302, b"", TokenError::Status(302)),
            (201, ok, TokenError::Status(201)),
            (200, b"not json", TokenError::Malformed),
            (200, b"[]", TokenError::Malformed),
            (
                200,
                br#"{"token_type":"DPoP","id_token":"a.b.c"}"#,
                TokenError::Malformed,
            ),
            (
                200,
                br#"{"token_type":1,"id_token":"a.b.c"}"#,
                TokenError::Malformed,
            ),
            (200, br#"{"id_token":""}"#, TokenError::Malformed),
            (200, br#"{"id_token":["a.b.c"]}"#, TokenError::Malformed),
            (
                200,
                br#"{"access_token":"x","token_type":"Bearer"}"#,
                TokenError::NoIdToken,
            ),
            (200, br#"{"id_token":null}"#, TokenError::NoIdToken),
        ];
        for (status, body, want) in cases {
            assert_eq!(
                parse_token_response(status, body),
                Err(want.clone()),
                "{status} {body:?}"
            );
            assert!(!want.to_string().is_empty());
        }
        let long = format!("{:1$}", "x", 130);
        let refused = parse_token_response(400, format!(r#"{{"error":"{long}"}}"#).as_bytes());
        assert_eq!(refused, Err(TokenError::Refused { error: "x".into() }));
        let long = "e".repeat(100);
        let refused = parse_token_response(400, format!(r#"{{"error":"{long}"}}"#).as_bytes());
        assert_eq!(
            refused,
            Err(TokenError::Refused {
                error: "e".repeat(64)
            })
        );
        let big = vec![b' '; MAX_DOC_LEN + 1];
        assert_eq!(
            parse_token_response(200, &big),
            Err(TokenError::TooLarge(big.len()))
        );
        // Display never holds the tokens.
        let text = parse_token_response(200, br#"{"id_token":["SECRET"]}"#)
            .unwrap_err()
            .to_string();
        assert!(!text.contains("SECRET"));
    }
}
