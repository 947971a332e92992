//! The session token: an HS256 JWT carried in the session cookie.
//!
//! The `jsonwebtoken` crate signs. Verification is done here, strictly,
//! because a generic JWT decoder accepts more than this module should
//! (other algorithms, loosely typed claims, its own idea of the current
//! time), and because it runs on every request: the HMAC key schedule is
//! computed once per key with the same RustCrypto `hmac` that
//! `jsonwebtoken` uses, and nothing is decoded onto the heap that the
//! claims do not need.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{self, CryptoProvider};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::dash::{Doc, Kind, Number, Val};
use crate::grants::ALL;
use crate::section::valid_section_name;
use crate::users::io_message;

/// Longest token accepted or issued; browsers keep cookies up to 4 KiB.
pub const MAX_TOKEN_LEN: usize = 4096;

/// Shortest secret accepted: HS256 wants at least its 256-bit output size.
pub const MIN_SECRET_LEN: usize = 32;

/// `{"alg":"HS256","typ":"JWT"}`, the header every token is issued with
/// (byte for byte what PyJWT writes).
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Why a secret was refused.
#[derive(Debug)]
pub enum SecretError {
    TooShort {
        len: usize,
    },
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    TooShortIn {
        path: PathBuf,
        len: usize,
    },
    /// `jsonwebtoken` has no crypto backend (a build problem).
    NoCryptoProvider,
    InvalidKid(String),
    /// Two keys with the same id, or two without one.
    DuplicateKid(Option<String>),
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::TooShort { len } => write!(
                f,
                "secret is {len} bytes, at least {MIN_SECRET_LEN} are required"
            ),
            SecretError::Read { path, source } => write!(
                f,
                "cannot read secret file \"{}\": {}",
                path.display(),
                io_message(source)
            ),
            SecretError::TooShortIn { path, len } => write!(
                f,
                "secret in \"{}\" is {len} bytes, at least {MIN_SECRET_LEN} are required",
                path.display()
            ),
            SecretError::NoCryptoProvider => f.write_str("no JWT crypto provider is available"),
            SecretError::InvalidKid(kid) => write!(
                f,
                "invalid key id \"{}\": use 1 to 64 letters, digits, '.', '_' or '-'",
                kid.escape_debug()
            ),
            SecretError::DuplicateKid(Some(kid)) => write!(f, "key id \"{kid}\" is listed twice"),
            SecretError::DuplicateKid(None) => {
                f.write_str("more than one key without a key id (add kid=… to all but one)")
            }
        }
    }
}

impl std::error::Error for SecretError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SecretError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `jsonwebtoken` panics on first use if it cannot pick a backend (e.g. if
/// feature unification ever enabled both). Installing ours explicitly while
/// the config is loaded turns that into an error, and since every
/// [`Secret`] goes through here, signing and verifying never hit the panic.
fn ensure_crypto_provider() -> bool {
    if CryptoProvider::try_get_default().is_none() {
        let _ = crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    }
    CryptoProvider::try_get_default().is_some()
}

/// The HMAC keys: the first signs new tokens, any of them verifies a token
/// that names it. Key bytes are wiped on drop and never printed.
///
/// A key may carry a `kid` (key id), written into the header of the tokens
/// it signs. A token with a `kid` verifies only against the key with that
/// id; a token without one only against the key without an id. Rotation is
/// then: add a new key first, keep the old one listed until its tokens have
/// expired, then remove it.
#[derive(Clone)]
pub struct Secret {
    keys: Vec<Key>,
}

#[derive(Clone)]
struct Key {
    kid: Option<String>,
    /// The base64url header this key signs with, `kid` included.
    header_b64: String,
    encoding: EncodingKey,
    /// The HMAC with the key already absorbed (its inner and outer pads
    /// hashed), cloned for each verification.
    verifier: Hmac<Sha256>,
    len: usize,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<_> = self
            .keys
            .iter()
            .map(|k| (k.kid.as_deref(), k.len))
            .collect();
        f.debug_struct("Secret")
            .field("keys (kid, len)", &kids)
            .finish_non_exhaustive()
    }
}

/// A key id: short, and safe in a JSON string and a log line.
pub fn valid_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Secret {
    /// Uses `bytes` as the key, minus one trailing `\n` or `\r\n`: a key
    /// file made with `openssl rand -base64 48 > file` ends with a newline
    /// that other readers of the file would not count as key material.
    pub fn from_bytes(bytes: &[u8]) -> Result<Secret, SecretError> {
        Ok(Secret {
            keys: vec![Key::new(bytes, None)?],
        })
    }

    /// [`Secret::from_bytes`] for a key with a `kid`.
    pub fn from_bytes_with_kid(bytes: &[u8], kid: Option<&str>) -> Result<Secret, SecretError> {
        Ok(Secret {
            keys: vec![Key::new(bytes, kid)?],
        })
    }

    /// Adds `other`'s keys after this one's: they verify, but do not sign.
    pub fn append(&mut self, other: Secret) -> Result<(), SecretError> {
        for key in other.keys {
            if self.keys.iter().any(|k| k.kid == key.kid) {
                return Err(SecretError::DuplicateKid(key.kid));
            }
            self.keys.push(key);
        }
        Ok(())
    }

    /// The key ids, signing key first (`None` for a key without an id).
    pub fn kids(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(|k| k.kid.as_deref())
    }

    fn signing(&self) -> Option<&Key> {
        self.keys.first()
    }

    fn by_kid(&self, kid: Option<&str>) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid.as_deref() == kid)
    }

    /// The key whose own header this is, byte for byte: every token we
    /// issue has one, and parsing it would only find that key again.
    fn by_header(&self, header_b64: &[u8]) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.header_b64.as_bytes() == header_b64)
    }

    /// Reads the key from a file; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Secret, SecretError> {
        Secret::load_with_kid(path, None)
    }

    /// [`Secret::load`] for a key with a `kid`.
    pub fn load_with_kid(path: impl AsRef<Path>, kid: Option<&str>) -> Result<Secret, SecretError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| SecretError::Read {
            path: path.to_owned(),
            source,
        })?);
        Secret::from_bytes_with_kid(&bytes, kid).map_err(|e| match e {
            SecretError::TooShort { len } => SecretError::TooShortIn {
                path: path.to_owned(),
                len,
            },
            e => e,
        })
    }

    /// The signing key's length in bytes.
    pub fn len(&self) -> usize {
        self.signing().map_or(0, |k| k.len)
    }

    /// Always false: a secret has at least [`MIN_SECRET_LEN`] bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// HMAC-SHA256 of `msg` under the signing key, for values other than
    /// tokens (the login form's token). The caller puts a label of its
    /// own first: a JWT's signing input is base64url and dots only, so a
    /// label with any other byte can never be mistaken for one.
    pub fn mac(&self, msg: &[u8]) -> Option<[u8; 32]> {
        let mut mac = self.signing()?.verifier.clone();
        mac.update(msg);
        Some(mac.finalize().into_bytes().into())
    }

    /// True if `tag` is the [`mac`](Secret::mac) of `msg` under any of the
    /// keys, so a value signed before a key rotation still verifies. Each
    /// comparison is constant-time.
    pub fn verify_mac(&self, msg: &[u8], tag: &[u8]) -> bool {
        self.keys.iter().any(|k| {
            let mut mac = k.verifier.clone();
            mac.update(msg);
            mac.verify_slice(tag).is_ok()
        })
    }
}

impl Key {
    fn new(bytes: &[u8], kid: Option<&str>) -> Result<Key, SecretError> {
        let key = bytes
            .strip_suffix(b"\r\n")
            .or_else(|| bytes.strip_suffix(b"\n"))
            .unwrap_or(bytes);
        if key.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort { len: key.len() });
        }
        if let Some(kid) = kid.filter(|k| !valid_kid(k)) {
            return Err(SecretError::InvalidKid(kid.to_owned()));
        }
        if !ensure_crypto_provider() {
            return Err(SecretError::NoCryptoProvider);
        }
        let header_b64 = match kid {
            None => HEADER_B64.to_owned(),
            // `valid_kid` leaves nothing that needs escaping in JSON.
            Some(kid) => {
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#))
            }
        };
        let too_short = SecretError::TooShort { len: key.len() };
        Ok(Key {
            kid: kid.map(str::to_owned),
            header_b64,
            encoding: EncodingKey::from_secret(key).map_err(|_| too_short)?,
            verifier: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .map_err(|_| SecretError::TooShort { len: key.len() })?,
            len: key.len(),
        })
    }
}

/// The token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// Section names, or `_all_`.
    pub allowed_resources: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    /// When the user typed their password; kept across sliding refreshes so
    /// a session has an absolute end. Tokens without it count from `iat`.
    pub auth_time: u64,
    /// Signed in through the OpenID Provider: the user is not in the users
    /// file, and logout also ends the provider's session.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sso: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What [`verify`] accepts: every field typed exactly (`exp` an unsigned
/// integer, `allowed_resources` an array of strings…), read from the strict
/// JSON reader's tape, which refuses duplicate keys; unknown claims ignored.
struct WireClaims<'d> {
    sub: &'d str,
    allowed_resources: Vec<String>,
    iat: u64,
    exp: u64,
    nbf: Option<u64>,
    auth_time: Option<u64>,
    sso: bool,
}

impl<'d> WireClaims<'d> {
    fn read(root: Val<'d, '_>) -> Option<WireClaims<'d>> {
        let (mut sub, mut resources, mut iat, mut exp, mut nbf, mut auth_time) =
            (None, None, None, None, None, None);
        let mut sso = false;
        for (key, value) in root.as_object()? {
            match key {
                "sub" => sub = Some(value.as_str()?),
                "allowed_resources" => {
                    let items = value.as_array()?;
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(item.as_str()?.to_owned());
                    }
                    resources = Some(out);
                }
                "iat" => iat = Some(unsigned(value)?),
                "exp" => exp = Some(unsigned(value)?),
                // When present, a number: `null` is not "absent".
                "nbf" => nbf = Some(unsigned(value)?),
                "auth_time" => auth_time = Some(unsigned(value)?),
                "sso" => {
                    sso = match value.kind() {
                        Kind::Bool(b) => b,
                        _ => return None,
                    }
                }
                _ => {}
            }
        }
        Some(WireClaims {
            sub: sub?,
            allowed_resources: resources?,
            iat: iat?,
            exp: exp?,
            nbf,
            auth_time,
            sso,
        })
    }
}

/// A JSON number that is a `u64` as serde reads one: an integer in range,
/// never a fraction or an exponent.
fn unsigned(v: Val<'_, '_>) -> Option<u64> {
    match v.kind() {
        Kind::Number(Number::U(n)) => Some(n),
        Kind::Number(Number::I(n)) => u64::try_from(n).ok(),
        _ => None,
    }
}

#[derive(Deserialize)]
struct WireHeader {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    /// Extensions this module does not implement must be refused (RFC 7515
    /// §4.1.11); it implements none.
    #[serde(default)]
    crit: Option<serde_json::Value>,
    /// Selects the key (see [`Secret`]).
    #[serde(default)]
    kid: Option<String>,
}

/// Why a token was refused. Never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    TooLong,
    Malformed,
    AlgorithmNotAllowed,
    SignatureMismatch,
    InvalidClaims,
    Expired,
    NotYetValid,
    Signing,
    /// The header names a key id that is not configured (or has none, and
    /// every configured key has one).
    UnknownKey,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenError::TooLong => "token too long",
            TokenError::Malformed => "token malformed",
            TokenError::AlgorithmNotAllowed => "token algorithm not allowed",
            TokenError::SignatureMismatch => "token signature mismatch",
            TokenError::InvalidClaims => "token claims invalid",
            TokenError::Expired => "token expired",
            TokenError::NotYetValid => "token not yet valid",
            TokenError::Signing => "token signing failed",
            TokenError::UnknownKey => "token key id unknown",
        })
    }
}

impl std::error::Error for TokenError {}

/// Signs a token for `sub` valid from `now` for `ttl` seconds.
///
/// Fails only if the token would exceed [`MAX_TOKEN_LEN`] (a user with very
/// many sections), since issuing a token [`verify`] refuses would loop the
/// browser through logins.
pub fn issue(
    secret: &Secret,
    sub: &str,
    allowed_resources: &[String],
    now: u64,
    ttl: u64,
) -> Result<String, TokenError> {
    issue_claims(
        secret,
        &Claims {
            sub: sub.to_owned(),
            allowed_resources: allowed_resources.to_vec(),
            iat: now,
            exp: now.saturating_add(ttl),
            auth_time: now,
            sso: false,
        },
    )
}

/// Signs exactly these claims (a sliding refresh keeps `auth_time`).
pub fn issue_claims(secret: &Secret, claims: &Claims) -> Result<String, TokenError> {
    let key = secret.signing().ok_or(TokenError::Signing)?;
    let payload = serde_json::to_vec(claims).map_err(|_| TokenError::Signing)?;
    let mut token = String::with_capacity(key.header_b64.len() + payload.len() * 4 / 3 + 48);
    token.push_str(&key.header_b64);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = crypto::sign(token.as_bytes(), &key.encoding, Algorithm::HS256)
        .map_err(|_| TokenError::Signing)?;
    token.push('.');
    token.push_str(&signature);
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    Ok(token)
}

/// True if every byte is base64url or a dot, the alphabet of a compact
/// JWS. Written without branches or a table so that the compiler checks
/// many bytes per instruction: every byte of every session cookie goes
/// through here.
fn jws_alphabet(bytes: &[u8]) -> bool {
    let mut outside = 0u8;
    for &b in bytes {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        let ok = letter | digit | (b == b'-') | (b == b'_') | (b == b'.');
        outside |= u8::from(!ok);
    }
    outside == 0
}

/// Claims of a typical token decode into a buffer on the stack; a larger
/// payload (a user with very many sections) goes to the heap.
const STACK_PAYLOAD_LEN: usize = 512;

/// Length of an HS256 signature in base64url without padding.
const SIGNATURE_B64_LEN: usize = 43;

/// A JSON object's text, for [`serde_json`]. A JSON array would also
/// deserialize into a struct through serde's sequence form, so it is
/// refused up front.
fn object_text(bytes: &[u8]) -> Option<&[u8]> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'{').then_some(bytes)
}

/// Decodes a JSON object segment onto the heap; for the rare header that
/// is not one of ours.
fn json_object<T: for<'de> Deserialize<'de>>(segment: &[u8]) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(object_text(&bytes)?).ok()
}

/// The key a token's header selects, after checking the header: `alg`
/// exactly `HS256`, no `crit`, `typ` absent or `JWT`.
fn header_key<'s>(secret: &'s Secret, header: &[u8]) -> Result<&'s Key, TokenError> {
    if let Some(key) = secret.by_header(header) {
        return Ok(key);
    }
    let header: WireHeader = json_object(header).ok_or(TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    if header.typ.is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(TokenError::Malformed);
    }
    secret
        .by_kid(header.kid.as_deref())
        .ok_or(TokenError::UnknownKey)
}

/// Checks the signature in constant time. A signature that is not
/// canonical base64url is malformed; one of the wrong length simply does
/// not match.
fn check_signature(key: &Key, signed: &[u8], signature: &[u8]) -> Result<(), TokenError> {
    let mut mac = key.verifier.clone();
    mac.update(signed);
    if signature.len() != SIGNATURE_B64_LEN {
        return match URL_SAFE_NO_PAD.decode(signature) {
            Ok(_) => Err(TokenError::SignatureMismatch),
            Err(_) => Err(TokenError::Malformed),
        };
    }
    let mut tag = [0u8; 32];
    match URL_SAFE_NO_PAD.decode_slice(signature, &mut tag) {
        Ok(32) => {}
        _ => return Err(TokenError::Malformed),
    }
    mac.verify_slice(&tag)
        .map_err(|_| TokenError::SignatureMismatch)
}

/// Checks a token and returns its claims.
///
/// In order: length, shape (three non-empty base64url segments), header
/// (`alg` exactly `HS256`, no `crit`, `typ` absent or `JWT`), signature,
/// claim types and values, then time: `exp + leeway > now`, and `nbf` (if
/// present) `<= now + leeway`. The clock is the caller's `now`, never the
/// system's, so nginx's cached time is used and tests are deterministic.
pub fn verify(secret: &Secret, token: &[u8], now: u64, leeway: u64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    if !jws_alphabet(token) {
        return Err(TokenError::Malformed);
    }
    // Only base64url and dots from here on: no UTF-8 to validate.
    let last_dot = memchr::memrchr(b'.', token).ok_or(TokenError::Malformed)?;
    let (signed, signature) = token.split_at(last_dot);
    let signature = signature.get(1..).unwrap_or_default();
    let first_dot = memchr::memchr(b'.', signed).ok_or(TokenError::Malformed)?;
    let (header, payload) = signed.split_at(first_dot);
    let payload = payload.get(1..).unwrap_or_default();
    if header.is_empty() || payload.is_empty() || signature.is_empty() || payload.contains(&b'.') {
        return Err(TokenError::Malformed);
    }

    let key = header_key(secret, header)?;
    check_signature(key, signed, signature)?;

    let mut stack = [0u8; STACK_PAYLOAD_LEN];
    let mut heap = Vec::new();
    let buf: &mut [u8] = match base64::decoded_len_estimate(payload.len()) {
        n if n <= STACK_PAYLOAD_LEN => &mut stack,
        n => {
            heap.resize(n, 0);
            &mut heap
        }
    };
    let len = URL_SAFE_NO_PAD
        .decode_slice(payload, buf)
        .map_err(|_| TokenError::InvalidClaims)?;
    let text = buf.get(..len).ok_or(TokenError::InvalidClaims)?;
    let doc = Doc::parse(text).map_err(|_| TokenError::InvalidClaims)?;
    let claims = WireClaims::read(doc.root()).ok_or(TokenError::InvalidClaims)?;
    // Signed by us, so these hold unless the key leaked; checked anyway
    // because the user name and sections end up in log lines and headers.
    let sub_ok = !claims.sub.is_empty() && !claims.sub.chars().any(char::is_control);
    let resources_ok = claims
        .allowed_resources
        .iter()
        .all(|r| r == ALL || valid_section_name(r));
    if !sub_ok || !resources_ok {
        return Err(TokenError::InvalidClaims);
    }

    if claims.exp.saturating_add(leeway) <= now {
        return Err(TokenError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(leeway))
    {
        return Err(TokenError::NotYetValid);
    }
    Ok(Claims {
        sub: claims.sub.to_owned(),
        allowed_resources: claims.allowed_resources,
        iat: claims.iat,
        exp: claims.exp,
        auth_time: claims.auth_time.unwrap_or(claims.iat),
        sso: claims.sso,
    })
}

#[cfg(test)]
mod rotation_tests {
    use super::*;

    const OLD: &[u8] = b"old-key-old-key-old-key-old-key-old-key!";
    const NEW: &[u8] = b"new-key-new-key-new-key-new-key-new-key!";
    const NOW: u64 = 1_700_000_000;

    fn ring(keys: &[(&[u8], Option<&str>)]) -> Result<Secret, SecretError> {
        let mut it = keys.iter();
        let (first, kid) = it.next().ok_or(SecretError::TooShort { len: 0 })?;
        let mut s = Secret::from_bytes_with_kid(first, *kid)?;
        for (bytes, kid) in it {
            s.append(Secret::from_bytes_with_kid(bytes, *kid)?)?;
        }
        Ok(s)
    }

    #[test]
    fn first_key_signs_and_writes_its_kid() {
        let s = ring(&[(NEW, Some("2026-11")), (OLD, Some("2026-10"))]).unwrap();
        let t = issue(&s, "mike", &["marketing".into()], NOW, 60).unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(t.split('.').next().unwrap())
            .unwrap();
        assert_eq!(header, br#"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#);
        assert_eq!(verify(&s, t.as_bytes(), NOW, 0).unwrap().sub, "mike");
    }

    #[test]
    fn tokens_of_any_listed_key_verify_until_it_is_removed() {
        let before = ring(&[(OLD, Some("2026-10"))]).unwrap();
        let old_token = issue(&before, "mike", &[], NOW, 60).unwrap();
        let during = ring(&[(NEW, Some("2026-11")), (OLD, Some("2026-10"))]).unwrap();
        assert!(verify(&during, old_token.as_bytes(), NOW, 0).is_ok());
        let after = ring(&[(NEW, Some("2026-11"))]).unwrap();
        assert_eq!(
            verify(&after, old_token.as_bytes(), NOW, 0),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn kid_selects_the_key_and_cannot_be_swapped() {
        let s = ring(&[(NEW, Some("a")), (OLD, Some("b"))]).unwrap();
        let by_a = issue(&s, "mike", &[], NOW, 60).unwrap();
        // Same payload and signature, header claiming key "b": wrong key, refused.
        let (_, rest) = by_a.split_once('.').unwrap();
        let header_b = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"b"}"#);
        let swapped = format!("{header_b}.{rest}");
        assert_eq!(
            verify(&s, swapped.as_bytes(), NOW, 0),
            Err(TokenError::SignatureMismatch)
        );
    }

    #[test]
    fn kid_less_tokens_need_a_kid_less_key() {
        let plain = Secret::from_bytes(OLD).unwrap();
        let t = issue(&plain, "mike", &[], NOW, 60).unwrap();
        let with_ids = ring(&[(OLD, Some("x"))]).unwrap();
        assert_eq!(
            verify(&with_ids, t.as_bytes(), NOW, 0),
            Err(TokenError::UnknownKey)
        );
        let mixed = ring(&[(NEW, Some("x")), (OLD, None)]).unwrap();
        assert!(verify(&mixed, t.as_bytes(), NOW, 0).is_ok());
    }

    #[test]
    fn bad_key_lists_are_refused() {
        assert!(matches!(
            ring(&[(NEW, Some("a")), (OLD, Some("a"))]),
            Err(SecretError::DuplicateKid(Some(_)))
        ));
        assert!(matches!(
            ring(&[(NEW, None), (OLD, None)]),
            Err(SecretError::DuplicateKid(None))
        ));
        for kid in ["", "a b", "a\"b", "ü", &"k".repeat(65)] {
            assert!(
                matches!(
                    Secret::from_bytes_with_kid(NEW, Some(kid)),
                    Err(SecretError::InvalidKid(_))
                ),
                "{kid:?}"
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Sha256, Sha384, Sha512};

    pub(crate) const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";
    const NOW: u64 = 1_700_000_000;

    pub(crate) fn secret() -> Secret {
        Secret::from_bytes(KEY).unwrap()
    }

    fn b64(data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(data)
    }

    fn mac<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = <M as KeyInit>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }

    /// A token with any header and payload text, signed with `alg`.
    pub(crate) fn forge(header: &str, payload: &str, key: &[u8], alg: &str) -> String {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let sig = match alg {
            "HS256" => mac::<Hmac<Sha256>>(key, msg.as_bytes()),
            "HS384" => mac::<Hmac<Sha384>>(key, msg.as_bytes()),
            "HS512" => mac::<Hmac<Sha512>>(key, msg.as_bytes()),
            _ => Vec::new(),
        };
        format!("{msg}.{}", b64(&sig))
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    fn payload(extra: &str) -> String {
        format!(
            r#"{{"sub":"mike","allowed_resources":["marketing"],"iat":{},"exp":{}{extra}}}"#,
            NOW - 10,
            NOW + 3600
        )
    }

    fn check(token: &str) -> Result<Claims, TokenError> {
        verify(&secret(), token.as_bytes(), NOW, 0)
    }

    #[test]
    fn roundtrip() {
        let s = secret();
        let token = issue(&s, "mike", &["marketing".into()], NOW, 3600).unwrap();
        assert!(token.starts_with(&format!("{HEADER_B64}.")));
        assert_eq!(token.split('.').count(), 3);
        let claims = verify(&s, token.as_bytes(), NOW, 0).unwrap();
        assert_eq!(
            claims,
            Claims {
                sub: "mike".into(),
                allowed_resources: vec!["marketing".into()],
                iat: NOW,
                exp: NOW + 3600,
                auth_time: NOW,
                sso: false,
            }
        );
        // The header is exactly what the spec (and PyJWT) write.
        let header = URL_SAFE_NO_PAD.decode(HEADER_B64).unwrap();
        assert_eq!(header, br#"{"alg":"HS256","typ":"JWT"}"#);
        // Payload field order is stable for other readers.
        let body = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            format!(
                r#"{{"sub":"mike","allowed_resources":["marketing"],"iat":{NOW},"exp":{},"auth_time":{NOW}}}"#,
                NOW + 3600
            )
        );
        // A token minted the way another HS256 implementation would is fine.
        let forged = forge(HS256, &payload(""), KEY, "HS256");
        assert_eq!(check(&forged).unwrap().sub, "mike");
        let no_typ = forge(r#"{"alg":"HS256"}"#, &payload(""), KEY, "HS256");
        assert!(check(&no_typ).is_ok());
        let extra = forge(
            r#"{"typ":"jwt","alg":"HS256"}"#,
            &payload(r#","nbf":1,"iss":"x","custom":[1,{"a":null}]"#),
            KEY,
            "HS256",
        );
        assert!(check(&extra).is_ok());
        // A kid selects a key; this secret has none with that id.
        let kid = forge(r#"{"alg":"HS256","kid":"k1"}"#, &payload(""), KEY, "HS256");
        assert_eq!(check(&kid), Err(TokenError::UnknownKey));
        let all = issue(&s, "mica", &["_all_".into()], NOW, 60).unwrap();
        assert_eq!(
            verify(&s, all.as_bytes(), NOW, 0)
                .unwrap()
                .allowed_resources,
            ["_all_"]
        );
        let none = issue(&s, "x", &[], NOW, 60).unwrap();
        assert!(verify(&s, none.as_bytes(), NOW, 0)
            .unwrap()
            .allowed_resources
            .is_empty());
    }

    #[test]
    fn algorithms() {
        let p = payload("");
        let cases = [
            (
                forge(r#"{"alg":"none","typ":"JWT"}"#, &p, KEY, "none"),
                TokenError::Malformed,
            ),
            (
                format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(p.as_bytes())),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":"none"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"None"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"hs256"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"HS384"}"#, &p, KEY, "HS384"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"HS512"}"#, &p, KEY, "HS512"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"RS256"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"ES256"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"EdDSA"}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            (
                forge(r#"{"alg":"HS256 "}"#, &p, KEY, "HS256"),
                TokenError::AlgorithmNotAllowed,
            ),
            // Header says HS256 but the MAC is HS512 with the same key.
            (
                forge(HS256, &p, KEY, "HS512"),
                TokenError::SignatureMismatch,
            ),
            (
                forge(r#"{"typ":"JWT"}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":256}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":null}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":["HS256"]}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"["HS256"]"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (forge(r#""HS256""#, &p, KEY, "HS256"), TokenError::Malformed),
            (
                forge(r#"{"alg":"HS256","alg":"HS256"}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":"HS256"}x"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(
                    r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
                    &p,
                    KEY,
                    "HS256",
                ),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":"HS256","typ":"at+jwt"}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
            (
                forge(r#"{"alg":"HS256","typ":1}"#, &p, KEY, "HS256"),
                TokenError::Malformed,
            ),
        ];
        for (token, want) in cases {
            assert_eq!(check(&token), Err(want), "{token}");
        }
    }

    #[test]
    fn signatures() {
        let s = secret();
        let token = issue(&s, "mike", &["marketing".into()], NOW, 3600).unwrap();
        let (signed, sig) = token.rsplit_once('.').unwrap();
        let (header, _) = signed.split_once('.').unwrap();

        // Widen the grant to _all_, keeping the original signature.
        let widened = format!(
            r#"{{"sub":"mike","allowed_resources":["_all_"],"iat":{NOW},"exp":{}}}"#,
            NOW + 3600
        );
        let tampered = format!("{header}.{}.{sig}", b64(widened.as_bytes()));
        assert_eq!(check(&tampered), Err(TokenError::SignatureMismatch));

        // Another secret.
        let other = Secret::from_bytes(&[b'x'; 32]).unwrap();
        assert_eq!(
            verify(&other, token.as_bytes(), NOW, 0),
            Err(TokenError::SignatureMismatch)
        );
        let forged = forge(
            HS256,
            &payload(""),
            b"wrong-key-wrong-key-wrong-key-xx",
            "HS256",
        );
        assert_eq!(check(&forged), Err(TokenError::SignatureMismatch));

        // A well-formed signature of the wrong value or length.
        for sig in [
            b64(&[0u8; 32]),
            b64(&[0u8; 31]),
            b64(&[0u8; 33]),
            b64(&[0u8; 64]),
        ] {
            let t = format!("{signed}.{sig}");
            assert_eq!(check(&t), Err(TokenError::SignatureMismatch), "{t}");
        }
        // Truncated or extended: no longer base64 of whole bytes.
        for t in [
            format!("{signed}.{}", &sig[..sig.len() - 1]),
            format!("{signed}.{sig}AA"),
        ] {
            assert_eq!(check(&t), Err(TokenError::Malformed), "{t}");
        }
        // Non-canonical base64 in the last character of the signature.
        let last = sig.as_bytes()[sig.len() - 1];
        let bumped = if last == b'B' { 'C' } else { 'B' };
        let bad = format!("{signed}.{}{bumped}", &sig[..sig.len() - 1]);
        assert!(matches!(
            check(&bad),
            Err(TokenError::SignatureMismatch | TokenError::Malformed)
        ));
    }

    #[test]
    fn claim_types() {
        let now = NOW;
        let exp = NOW + 3600;
        let claims = [
            // exp
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":"{exp}"}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp}.5}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp}.0}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":1e10}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":-1}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":null}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":true}}"#),
            format!(
                r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":18446744073709551616}}"#
            ),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp},"exp":{exp}}}"#),
            // allowed_resources
            format!(r#"{{"sub":"m","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":"_all_","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":1,"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[["_all_"]],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[1],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":null,"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":{{"_all_":1}},"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":["h-r"],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":["hr\r\nX: y"],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":["hr,_all_"],"iat":{now},"exp":{exp}}}"#),
            // sub
            format!(r#"{{"allowed_resources":[],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":1,"allowed_resources":[],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":["m"],"allowed_resources":[],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"","allowed_resources":[],"iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"m\r\nX-Evil: 1","allowed_resources":[],"iat":{now},"exp":{exp}}}"#),
            // iat, nbf
            format!(r#"{{"sub":"m","allowed_resources":[],"exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":"{now}","exp":{exp}}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp},"nbf":"1"}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp},"nbf":null}}"#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp},"nbf":1.5}}"#),
            // not an object
            format!(r#"["m",[],{now},{exp}]"#),
            r#""m""#.to_string(),
            "null".to_string(),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp}}} "x""#),
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp}"#),
            // A repeated key, even an unknown one, is refused: no two
            // readers of the token can see different claims.
            format!(r#"{{"sub":"m","allowed_resources":[],"iat":{now},"exp":{exp},"x":1,"x":2}}"#),
        ];
        for c in &claims {
            let token = forge(HS256, c, KEY, "HS256");
            assert_eq!(check(&token), Err(TokenError::InvalidClaims), "{c}");
        }
        // Whitespace inside the JSON is just JSON.
        let spaced = format!(
            " {{ \"sub\" : \"m\" , \"allowed_resources\" : [ \"hr\" ] , \"iat\" : {now} , \"exp\" : {exp} }} "
        );
        assert!(check(&forge(HS256, &spaced, KEY, "HS256")).is_ok());
        // Escapes are decoded, and unknown claims of any type are ignored.
        let escaped = format!(
            r#"{{"sub":"\u006dike","allowed_resources":["h\u0072"],"iat":{now},"exp":{exp},"x":{{"a":[1.5,null,true,-0]}},"auth_time":{now}}}"#
        );
        let c = check(&forge(HS256, &escaped, KEY, "HS256")).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.allowed_resources.as_slice()),
            ("mike", &["hr".to_string()][..])
        );
    }

    #[test]
    fn expiry_and_leeway() {
        let s = secret();
        let at = |exp: u64, nbf: Option<u64>| {
            let nbf = nbf.map(|n| format!(r#","nbf":{n}"#)).unwrap_or_default();
            forge(
                HS256,
                &format!(r#"{{"sub":"m","allowed_resources":[],"iat":0,"exp":{exp}{nbf}}}"#),
                KEY,
                "HS256",
            )
        };
        let v = |t: &str, leeway| verify(&s, t.as_bytes(), NOW, leeway);
        assert!(v(&at(NOW + 1, None), 0).is_ok());
        assert_eq!(v(&at(NOW, None), 0), Err(TokenError::Expired));
        assert_eq!(v(&at(NOW - 1, None), 0), Err(TokenError::Expired));
        assert_eq!(v(&at(0, None), 0), Err(TokenError::Expired));
        // Leeway lets a just-expired token through, and no further.
        assert!(v(&at(NOW - 5, None), 10).is_ok());
        assert!(v(&at(NOW - 9, None), 10).is_ok());
        assert_eq!(v(&at(NOW - 10, None), 10), Err(TokenError::Expired));
        assert!(v(&at(u64::MAX, None), u64::MAX).is_ok());
        // nbf: in the past or now is fine, the future only within leeway.
        assert!(v(&at(NOW + 60, Some(NOW)), 0).is_ok());
        assert!(v(&at(NOW + 60, Some(0)), 0).is_ok());
        assert_eq!(
            v(&at(NOW + 60, Some(NOW + 1)), 0),
            Err(TokenError::NotYetValid)
        );
        assert!(v(&at(NOW + 60, Some(NOW + 10)), 10).is_ok());
        assert_eq!(
            v(&at(NOW + 60, Some(NOW + 11)), 10),
            Err(TokenError::NotYetValid)
        );
        assert!(v(&at(NOW + 60, Some(u64::MAX)), u64::MAX).is_ok());
        // A token issued with a ttl is valid until, not at, its end.
        let t = issue(&s, "m", &[], NOW, 60).unwrap();
        assert!(verify(&s, t.as_bytes(), NOW + 59, 0).is_ok());
        assert_eq!(
            verify(&s, t.as_bytes(), NOW + 60, 0),
            Err(TokenError::Expired)
        );
        assert!(verify(&s, t.as_bytes(), NOW + 60, 1).is_ok());
        // Saturating: a huge ttl does not wrap into the past.
        let t = issue(&s, "m", &[], NOW, u64::MAX).unwrap();
        assert!(verify(&s, t.as_bytes(), NOW, 0).is_ok());
    }

    #[test]
    fn shapes() {
        let good = issue(&secret(), "mike", &["marketing".into()], NOW, 3600).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b".".to_vec(),
            b"..".to_vec(),
            b"...".to_vec(),
            parts[0].as_bytes().to_vec(),
            format!("{}.{}", parts[0], parts[1]).into_bytes(),
            format!("{good}.").into_bytes(),
            format!("{good}.{}", parts[2]).into_bytes(),
            format!(".{}.{}", parts[1], parts[2]).into_bytes(),
            format!("{}..{}", parts[0], parts[2]).into_bytes(),
            format!("{}.{}.", parts[0], parts[1]).into_bytes(),
            format!("{good}=").into_bytes(),
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]).into_bytes(),
            format!(" {good}").into_bytes(),
            format!("{good} ").into_bytes(),
            format!("{good}\n").into_bytes(),
            format!("\"{good}\"").into_bytes(),
            good.replace('-', "+")
                .replace('_', "/")
                .replace('e', "+")
                .into_bytes(),
            [good.as_bytes(), b"\xff"].concat(),
            [b"\xc3\xa9".as_slice(), good.as_bytes()].concat(),
            vec![0xff; 100],
            vec![0; 10],
            format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]).into_bytes(),
            format!("{}.{}.{}", b64(b""), parts[1], parts[2]).into_bytes(),
            format!("{}A.{}.{}", parts[0], parts[1], parts[2]).into_bytes(),
        ];
        for token in cases {
            let got = verify(&secret(), &token, NOW, 0);
            assert!(
                matches!(
                    got,
                    Err(TokenError::Malformed | TokenError::SignatureMismatch)
                ),
                "{:?}: {got:?}",
                String::from_utf8_lossy(&token)
            );
        }
        // A tampered payload segment that is not valid base64 is caught by
        // the signature before the payload is ever decoded.
        let bad_payload = format!("{}.{}A.{}", parts[0], parts[1], parts[2]);
        assert_eq!(check(&bad_payload), Err(TokenError::SignatureMismatch));
    }

    #[test]
    fn length_bound() {
        let s = secret();
        let long = vec![b'a'; MAX_TOKEN_LEN + 1];
        assert_eq!(verify(&s, &long, NOW, 0), Err(TokenError::TooLong));
        let huge = vec![0xffu8; 1 << 20];
        assert_eq!(verify(&s, &huge, NOW, 0), Err(TokenError::TooLong));
        // Too many sections to fit a cookie: refused at issue time.
        let many: Vec<String> = (0..200).map(|i| format!("section_number_{i:03}")).collect();
        assert_eq!(issue(&s, "m", &many, NOW, 60), Err(TokenError::TooLong));
        let some: Vec<String> = many[..50].to_vec();
        let t = issue(&s, "m", &some, NOW, 60).unwrap();
        assert!(t.len() <= MAX_TOKEN_LEN);
        assert_eq!(
            verify(&s, t.as_bytes(), NOW, 0)
                .unwrap()
                .allowed_resources
                .len(),
            50
        );
    }

    #[test]
    fn secrets() {
        assert!(Secret::from_bytes(&[b'k'; 32]).is_ok());
        assert!(matches!(
            Secret::from_bytes(&[b'k'; 31]),
            Err(SecretError::TooShort { len: 31 })
        ));
        assert!(matches!(
            Secret::from_bytes(b""),
            Err(SecretError::TooShort { len: 0 })
        ));
        // One trailing newline is not key material; 32 + "\n" is still 32.
        let mut k = vec![b'k'; 32];
        k.push(b'\n');
        assert_eq!(Secret::from_bytes(&k).unwrap().len(), 32);
        k.pop();
        k.pop();
        k.extend_from_slice(b"\r\n");
        assert!(matches!(
            Secret::from_bytes(&k),
            Err(SecretError::TooShort { len: 31 })
        ));
        // Only one newline is stripped.
        let mut k = vec![b'k'; 32];
        k.extend_from_slice(b"\n\n");
        assert_eq!(Secret::from_bytes(&k).unwrap().len(), 33);
        // The stripped and unstripped keys are the same key.
        let mut with_nl = KEY.to_vec();
        with_nl.push(b'\n');
        let a = Secret::from_bytes(&with_nl).unwrap();
        let t = issue(&a, "m", &[], NOW, 60).unwrap();
        assert!(verify(&secret(), t.as_bytes(), NOW, 0).is_ok());

        let dbg = format!("{:?}", secret());
        assert!(!dbg.contains("0123456789"), "{dbg}");
        assert_eq!(
            SecretError::TooShort { len: 12 }.to_string(),
            "secret is 12 bytes, at least 32 are required"
        );
    }

    #[test]
    fn secret_files() {
        let dir = std::env::temp_dir().join(format!("dash-auth-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing");
        assert_eq!(
            Secret::load(&missing).unwrap_err().to_string(),
            format!(
                "cannot read secret file \"{}\": No such file or directory",
                missing.display()
            )
        );
        let short = dir.join("short");
        std::fs::write(&short, "twelve bytes\n").unwrap();
        assert_eq!(
            Secret::load(&short).unwrap_err().to_string(),
            format!(
                "secret in \"{}\" is 12 bytes, at least 32 are required",
                short.display()
            )
        );
        let good = dir.join("good");
        // What `openssl rand -base64 48 > file` writes.
        std::fs::write(&good, format!("{}\n", "K".repeat(64))).unwrap();
        assert_eq!(Secret::load(&good).unwrap().len(), 64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn messages() {
        assert_eq!(
            TokenError::SignatureMismatch.to_string(),
            "token signature mismatch"
        );
        assert_eq!(TokenError::Expired.to_string(), "token expired");
        assert_eq!(TokenError::Malformed.to_string(), "token malformed");
        assert_eq!(
            TokenError::AlgorithmNotAllowed.to_string(),
            "token algorithm not allowed"
        );
    }
}
