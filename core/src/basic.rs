//! The `Authorization: Basic …` request header (RFC 7617).

use std::fmt;
use std::ops::Deref;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::syntax::{is_ows, trim_ows};

/// Longest header value looked at; anything longer is refused before decoding.
pub const MAX_HEADER_LEN: usize = 8192;

/// Longest decoded `user:password`.
pub const MAX_DECODED_LEN: usize = 4096;

/// Base64 length of [`MAX_DECODED_LEN`] bytes, so that an oversized value is
/// refused without allocating for it.
const MAX_ENCODED_LEN: usize = MAX_DECODED_LEN.div_ceil(3) * 4;

/// A password taken from a request, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    pub fn new(bytes: &[u8]) -> Password {
        Password(Zeroizing::new(bytes.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Password {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Password {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The user name and password of a Basic header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Password,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why an Authorization header was refused. The messages go to the error
/// log, so they never quote the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicError {
    /// Another scheme (`Bearer`, `Digest`…) or no scheme at all.
    NotBasic,
    /// `Basic` with nothing after it.
    NoCredentials,
    BadBase64,
    NotUtf8,
    NoColon,
    EmptyUser,
    /// The user name holds a control character (RFC 7617 §2 forbids them).
    ControlInUser,
    TooLong,
}

impl fmt::Display for BasicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BasicError::NotBasic => "authorization scheme is not \"Basic\"",
            BasicError::NoCredentials => "no credentials after \"Basic\"",
            BasicError::BadBase64 => "credentials are not valid base64",
            BasicError::NotUtf8 => "credentials are not valid UTF-8",
            BasicError::NoColon => "credentials contain no \":\"",
            BasicError::EmptyUser => "user name is empty",
            BasicError::ControlInUser => "user name contains control characters",
            BasicError::TooLong => "authorization header is too long",
        })
    }
}

impl std::error::Error for BasicError {}

/// Parses the value of an Authorization header as Basic credentials.
///
/// The scheme is matched case-insensitively (RFC 7617 §2); the credentials
/// must be canonical padded base64 with nothing after the padding, decode to
/// UTF-8 `user:password` split at the first `:` (the password may contain
/// more), and the user must be non-empty and free of control characters.
pub fn parse_basic(value: &[u8]) -> Result<Credentials, BasicError> {
    if value.len() > MAX_HEADER_LEN {
        return Err(BasicError::TooLong);
    }
    // Field values carry no surrounding whitespace (RFC 9110 §5.5); nginx
    // already strips it, this only guards other callers.
    let value = trim_ows(value);
    let scheme_end = value.iter().position(|&b| is_ows(b)).unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Err(BasicError::NotBasic);
    }
    let encoded = trim_ows(rest);
    if encoded.is_empty() {
        return Err(BasicError::NoCredentials);
    }
    if encoded.len() > MAX_ENCODED_LEN {
        return Err(BasicError::TooLong);
    }
    let decoded = Zeroizing::new(
        STANDARD
            .decode(encoded)
            .map_err(|_| BasicError::BadBase64)?,
    );
    if decoded.len() > MAX_DECODED_LEN {
        return Err(BasicError::TooLong);
    }
    let text = std::str::from_utf8(&decoded).map_err(|_| BasicError::NotUtf8)?;
    let (user, password) = text.split_once(':').ok_or(BasicError::NoColon)?;
    if user.is_empty() {
        return Err(BasicError::EmptyUser);
    }
    if user.chars().any(char::is_control) {
        return Err(BasicError::ControlInUser);
    }
    Ok(Credentials {
        user: user.to_owned(),
        password: Password::new(password.as_bytes()),
    })
}

/// The `WWW-Authenticate` value asking for Basic credentials in `realm`.
/// `"` and `\` are escaped and control characters dropped, so a realm from the
/// config cannot break the header.
pub fn challenge(realm: &str) -> String {
    let mut out = String::with_capacity(realm.len() + 32);
    out.push_str("Basic realm=\"");
    for c in realm.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push_str("\", charset=\"UTF-8\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    fn header(creds: &[u8]) -> Vec<u8> {
        format!("Basic {}", b64(creds)).into_bytes()
    }

    #[test]
    fn parses_demo_users() {
        let c = parse_basic(&header(b"mica:1234")).unwrap();
        assert_eq!(c.user, "mica");
        assert_eq!(c.password.as_bytes(), b"1234");
        let c = parse_basic(b"Basic bWlrZToxMjM0NTY=").unwrap();
        assert_eq!(c.user, "mike");
        assert_eq!(&*c.password, b"123456");
    }

    #[test]
    fn accepted_variants() {
        let enc = b64(b"mica:1234");
        for v in [
            format!("Basic {enc}"),
            format!("basic {enc}"),
            format!("BASIC {enc}"),
            format!("bAsIc {enc}"),
            format!("Basic  {enc}"),
            format!("Basic\t{enc}"),
            format!("Basic \t {enc}"),
            format!(" Basic {enc} "),
        ] {
            let c = parse_basic(v.as_bytes()).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(
                (c.user.as_str(), c.password.as_bytes()),
                ("mica", &b"1234"[..])
            );
        }
    }

    #[test]
    fn password_edge_cases() {
        let c = parse_basic(&header(b"u:a:b:c")).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_bytes()),
            ("u", &b"a:b:c"[..])
        );
        let c = parse_basic(&header(b"u:")).unwrap();
        assert!(c.password.is_empty());
        let c = parse_basic(&header("jürgen:pässwörd".as_bytes())).unwrap();
        assert_eq!(c.user, "jürgen");
        assert_eq!(c.password.as_bytes(), "pässwörd".as_bytes());
        // Control characters are allowed in the password, only the user is
        // logged and forwarded.
        let c = parse_basic(&header(b"u:a\tb")).unwrap();
        assert_eq!(c.password.as_bytes(), b"a\tb");
        let c = parse_basic(&header(b"user name:x")).unwrap();
        assert_eq!(c.user, "user name");
    }

    #[test]
    fn limits() {
        let max = [b'a'; MAX_DECODED_LEN];
        let mut creds = b"u:".to_vec();
        creds.extend_from_slice(&max[..MAX_DECODED_LEN - 2]);
        assert!(parse_basic(&header(&creds)).is_ok());
        creds.push(b'a');
        assert_eq!(parse_basic(&header(&creds)), Err(BasicError::TooLong));
        let huge = vec![b'A'; MAX_HEADER_LEN + 1];
        assert_eq!(parse_basic(&huge), Err(BasicError::TooLong));
        let mut huge = b"Basic ".to_vec();
        huge.extend_from_slice(&[b'A'; 6000]);
        assert_eq!(parse_basic(&huge), Err(BasicError::TooLong));
    }

    #[test]
    fn rejects() {
        let good = b64(b"mica:1234");
        let cases: Vec<(Vec<u8>, BasicError)> = vec![
            (b"".to_vec(), BasicError::NotBasic),
            (b"   ".to_vec(), BasicError::NotBasic),
            (format!("Bearer {good}").into_bytes(), BasicError::NotBasic),
            (
                b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x".to_vec(),
                BasicError::NotBasic,
            ),
            (format!("Digest {good}").into_bytes(), BasicError::NotBasic),
            (format!("Basicx {good}").into_bytes(), BasicError::NotBasic),
            (format!("Basic:{good}").into_bytes(), BasicError::NotBasic),
            (format!("Basic{good}").into_bytes(), BasicError::NotBasic),
            (format!("Bas {good}").into_bytes(), BasicError::NotBasic),
            (good.clone().into_bytes(), BasicError::NotBasic),
            (b"Basic".to_vec(), BasicError::NoCredentials),
            (b"Basic   ".to_vec(), BasicError::NoCredentials),
            // Base64 problems: padding missing, extra, inside; whitespace
            // inside; trailing garbage; URL-safe alphabet; non-canonical bits.
            (b"Basic bWlrZToxMjM0NTY".to_vec(), BasicError::BadBase64),
            (b"Basic bWlrZToxMjM0NTY==".to_vec(), BasicError::BadBase64),
            (b"Basic bWlrZToxMjM0NTY=x".to_vec(), BasicError::BadBase64),
            (
                b"Basic bWlrZToxMjM0NTY=AAAA".to_vec(),
                BasicError::BadBase64,
            ),
            (b"Basic bWlrZToxMj M0NTY=".to_vec(), BasicError::BadBase64),
            (b"Basic bWlrZToxMj\tM0NTY=".to_vec(), BasicError::BadBase64),
            (
                b"Basic bWlrZToxMjM0NTY=\r\n".to_vec(),
                BasicError::BadBase64,
            ),
            (b"Basic bWlrZToxMjM0NTZ=".to_vec(), BasicError::BadBase64),
            (b"Basic bW=rZToxMjM0NTY=".to_vec(), BasicError::BadBase64),
            (b"Basic bWlr_ToxMjM0NTY=".to_vec(), BasicError::BadBase64),
            (b"Basic !!!!".to_vec(), BasicError::BadBase64),
            (b"Basic =".to_vec(), BasicError::BadBase64),
            (b"Basic \xff\xfe".to_vec(), BasicError::BadBase64),
            (
                format!("Basic {good} x").into_bytes(),
                BasicError::BadBase64,
            ),
            (header(b"\xff\xfe:pw"), BasicError::NotUtf8),
            (header(b"u:\xc3"), BasicError::NotUtf8),
            (header(b"micapass"), BasicError::NoColon),
            (header(b""), BasicError::NoCredentials),
            (header(b":1234"), BasicError::EmptyUser),
            (header(b":"), BasicError::EmptyUser),
            (header(b"mi\nca:1234"), BasicError::ControlInUser),
            (header(b"mica\0:1234"), BasicError::ControlInUser),
            (header(b"\x7f:1234"), BasicError::ControlInUser),
            (
                header("a\u{85}b:1234".as_bytes()),
                BasicError::ControlInUser,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(
                parse_basic(&value),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(&value)
            );
        }
    }

    #[test]
    fn every_prefix_of_a_header_is_safe() {
        let h = header("mica:pässwörd:with:colons".as_bytes());
        for i in 0..=h.len() {
            let _ = parse_basic(&h[..i]);
            let _ = parse_basic(&h[i..]);
        }
    }

    #[test]
    fn debug_hides_password() {
        let c = parse_basic(&header(b"mica:hunter2")).unwrap();
        let dbg = format!("{c:?} {:?}", c.password);
        assert!(dbg.contains("mica"));
        assert!(!dbg.contains("hunter2"));
    }

    #[test]
    fn messages() {
        assert_eq!(
            BasicError::BadBase64.to_string(),
            "credentials are not valid base64"
        );
        assert_eq!(
            challenge("Dash \"x\"\\\n"),
            "Basic realm=\"Dash \\\"x\\\"\\\\\", charset=\"UTF-8\""
        );
    }
}
