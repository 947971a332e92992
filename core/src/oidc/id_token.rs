//! The ID token check (OpenID Connect Core §3.1.3.7).
//!
//! `jsonwebtoken` verifies the signature, with a `Validation` that allows
//! exactly the header's algorithm, and checks what it knows of the claims;
//! every rule is then checked again here, on the decoded claims, with the
//! caller's clock, so that no claim is trusted on the strength of a
//! generic decoder's defaults. The key comes only from the provider's
//! JWKS: keys or key URLs in the token's header (`jwk`, `jku`, `x5c`,
//! `x5u`) are ignored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, Algorithm, Validation};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::jwks::Jwks;
use super::{crypto_ready, shown, supported_alg};

/// Longest ID token accepted.
pub const MAX_ID_TOKEN_LEN: usize = 16 * 1024;

/// What the token must say, and the clock to check it with.
#[derive(Clone, Copy)]
pub struct Expect<'a> {
    /// The configured issuer, compared exactly.
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: &'a str,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// Clock skew allowed, in seconds, on `exp`, `iat` and `nbf`.
    pub leeway: u64,
}

impl fmt::Debug for Expect<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expect")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("now", &self.now)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// Why an ID token was refused. None of them carries token text but the
/// header's `alg` and `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenError {
    TooLong(usize),
    /// Not three base64url parts, or a header or claims that are not JSON
    /// objects.
    Malformed,
    /// A header `alg` outside [`SUPPORTED_ALGS`](super::SUPPORTED_ALGS).
    Algorithm(String),
    /// A `crit` header: extensions we do not implement must not be ignored
    /// (RFC 7515 §4.1.11).
    Critical,
    /// No JWKS key fits the header's `kid` and `alg`. Distinct because the
    /// provider may have rotated its keys: the caller refetches the JWKS
    /// once and retries. The `kid` is as the token has it (for
    /// [`Jwks::has_kid`]); `Display` escapes it.
    UnknownKey {
        kid: Option<String>,
    },
    NoCryptoProvider,
    Signature,
    MissingClaim(&'static str),
    /// A claim of the wrong JSON type (a number that is not a date, …).
    ClaimType(&'static str),
    Issuer,
    Audience,
    /// Several audiences and no `azp` (OIDC Core §3.1.3.7 item 4).
    AzpMissing,
    AzpMismatch,
    Expired,
    IssuedInFuture,
    NotYetValid,
    Nonce,
    Subject,
}

impl fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdTokenError::TooLong(len) => write!(
                f,
                "ID token is {len} bytes, more than the {MAX_ID_TOKEN_LEN} accepted"
            ),
            IdTokenError::Malformed => f.write_str("ID token is not a well-formed JWT"),
            IdTokenError::Algorithm(alg) => write!(
                f,
                "ID token is signed with \"{alg}\", which is not accepted (use {})",
                super::SUPPORTED_ALGS.join(", ")
            ),
            IdTokenError::Critical => f.write_str("ID token has a \"crit\" header"),
            IdTokenError::UnknownKey { kid: Some(kid) } => write!(
                f,
                "no key in the provider's JWKS for the ID token's kid \"{}\" and alg",
                shown(kid, 64)
            ),
            IdTokenError::UnknownKey { kid: None } => f.write_str(
                "ID token has no kid and the provider's JWKS has no single key for its alg",
            ),
            IdTokenError::NoCryptoProvider => f.write_str("no JWT crypto provider is available"),
            IdTokenError::Signature => f.write_str("ID token signature is invalid"),
            IdTokenError::MissingClaim(claim) => write!(f, "ID token has no \"{claim}\" claim"),
            IdTokenError::ClaimType(claim) => {
                write!(f, "ID token \"{claim}\" claim has the wrong type")
            }
            IdTokenError::Issuer => f.write_str("ID token issuer is not the configured issuer"),
            IdTokenError::Audience => {
                f.write_str("ID token audience does not include the client id")
            }
            IdTokenError::AzpMissing => {
                f.write_str("ID token has several audiences and no authorized party (azp)")
            }
            IdTokenError::AzpMismatch => {
                f.write_str("ID token authorized party (azp) is not the client id")
            }
            IdTokenError::Expired => f.write_str("ID token has expired"),
            IdTokenError::IssuedInFuture => f.write_str("ID token is issued in the future"),
            IdTokenError::NotYetValid => f.write_str("ID token is not valid yet (nbf)"),
            IdTokenError::Nonce => {
                f.write_str("ID token nonce does not match the one of this sign-in")
            }
            IdTokenError::Subject => f.write_str("ID token subject (sub) is empty"),
        }
    }
}

impl std::error::Error for IdTokenError {}

/// The claims of `token` if it is an ID token for `expect`, signed by a
/// key of `jwks`.
pub fn verify(
    token: &str,
    jwks: &Jwks,
    expect: &Expect<'_>,
) -> Result<Map<String, Value>, IdTokenError> {
    if token.len() > MAX_ID_TOKEN_LEN {
        return Err(IdTokenError::TooLong(token.len()));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed);
    };
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(IdTokenError::Malformed)?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg,
        _ => return Err(IdTokenError::Malformed),
    };
    let alg = supported_alg(alg).ok_or_else(|| IdTokenError::Algorithm(shown(alg, 32)))?;
    if header.contains_key("crit") {
        return Err(IdTokenError::Critical);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(IdTokenError::Malformed),
    };
    let key = jwks
        .key_for(kid, alg)
        .ok_or_else(|| IdTokenError::UnknownKey {
            kid: kid.map(str::to_owned),
        })?;
    if !crypto_ready() {
        return Err(IdTokenError::NoCryptoProvider);
    }
    let claims = decode::<Map<String, Value>>(token, key, &validation(alg, expect))
        .map_err(|e| from_jwt_error(e.kind()))?
        .claims;
    check_claims(&claims, expect)?;
    Ok(claims)
}

fn validation(alg: Algorithm, expect: &Expect<'_>) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.leeway = expect.leeway;
    v.set_issuer(&[expect.issuer]);
    v.set_audience(&[expect.client_id]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // Its clock is the system's; ours is the caller's, checked below.
    v.validate_exp = false;
    v.validate_nbf = false;
    v
}

fn from_jwt_error(kind: &ErrorKind) -> IdTokenError {
    match kind {
        ErrorKind::InvalidSignature => IdTokenError::Signature,
        ErrorKind::InvalidIssuer => IdTokenError::Issuer,
        ErrorKind::InvalidAudience => IdTokenError::Audience,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => IdTokenError::MissingClaim("exp"),
            "iss" => IdTokenError::MissingClaim("iss"),
            "aud" => IdTokenError::MissingClaim("aud"),
            "sub" => IdTokenError::MissingClaim("sub"),
            _ => IdTokenError::Malformed,
        },
        _ => IdTokenError::Malformed,
    }
}

/// OIDC Core §3.1.3.7 items 2–4 and 9–11, on the signed claims.
fn check_claims(claims: &Map<String, Value>, expect: &Expect<'_>) -> Result<(), IdTokenError> {
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == expect.issuer => {}
        Some(Value::String(_)) => return Err(IdTokenError::Issuer),
        None | Some(Value::Null) => return Err(IdTokenError::MissingClaim("iss")),
        Some(_) => return Err(IdTokenError::ClaimType("iss")),
    }
    let several = match claims.get("aud") {
        Some(Value::String(aud)) if aud == expect.client_id => false,
        Some(Value::String(_)) => return Err(IdTokenError::Audience),
        Some(Value::Array(auds)) => {
            if !auds.iter().all(Value::is_string) {
                return Err(IdTokenError::ClaimType("aud"));
            }
            if !auds.iter().any(|a| a.as_str() == Some(expect.client_id)) {
                return Err(IdTokenError::Audience);
            }
            auds.len() > 1
        }
        None | Some(Value::Null) => return Err(IdTokenError::MissingClaim("aud")),
        Some(_) => return Err(IdTokenError::ClaimType("aud")),
    };
    match claims.get("azp") {
        None if several => return Err(IdTokenError::AzpMissing),
        None => {}
        Some(Value::String(azp)) if azp == expect.client_id => {}
        Some(_) => return Err(IdTokenError::AzpMismatch),
    }
    let exp = date(claims, "exp")?.ok_or(IdTokenError::MissingClaim("exp"))?;
    if exp.saturating_add(expect.leeway) <= expect.now {
        return Err(IdTokenError::Expired);
    }
    let iat = date(claims, "iat")?.ok_or(IdTokenError::MissingClaim("iat"))?;
    if iat > expect.now.saturating_add(expect.leeway) {
        return Err(IdTokenError::IssuedInFuture);
    }
    if let Some(nbf) = date(claims, "nbf")? {
        if nbf > expect.now.saturating_add(expect.leeway) {
            return Err(IdTokenError::NotYetValid);
        }
    }
    match claims.get("nonce") {
        Some(Value::String(nonce)) => {
            let equal: bool = nonce.as_bytes().ct_eq(expect.nonce.as_bytes()).into();
            // An empty expected nonce would match a token without one.
            if !equal || expect.nonce.is_empty() {
                return Err(IdTokenError::Nonce);
            }
        }
        None | Some(Value::Null) => return Err(IdTokenError::MissingClaim("nonce")),
        Some(_) => return Err(IdTokenError::ClaimType("nonce")),
    }
    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => {}
        Some(Value::String(_)) => return Err(IdTokenError::Subject),
        None | Some(Value::Null) => return Err(IdTokenError::MissingClaim("sub")),
        Some(_) => return Err(IdTokenError::ClaimType("sub")),
    }
    Ok(())
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional, cut to
/// whole seconds; `None` when absent.
fn date(claims: &Map<String, Value>, claim: &'static str) -> Result<Option<u64>, IdTokenError> {
    let Some(value) = claims.get(claim) else {
        return Ok(None);
    };
    if let Some(secs) = value.as_u64() {
        return Ok(Some(secs));
    }
    match value.as_f64() {
        // `as` saturates; dates past u64 are "never expires", still checked.
        Some(secs) if secs.is_finite() && secs >= 0.0 => Ok(Some(secs as u64)),
        _ => Err(IdTokenError::ClaimType(claim)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::jwks;
    use super::super::test_keys::{EC_DER, EC_X, EC_Y, RSA_DER, RSA_N, RSA_PUBLIC_PEM};
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, KeyInit, Mac};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use sha2::Sha256;

    const ISS: &str = "https://idp.example.com/realms/dash";
    const CLIENT: &str = "dash";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const NOW: u64 = 1_700_000_000;
    const LEEWAY: u64 = 60;

    fn expect() -> Expect<'static> {
        Expect {
            issuer: ISS,
            client_id: CLIENT,
            nonce: NONCE,
            now: NOW,
            leeway: LEEWAY,
        }
    }

    fn keys() -> Jwks {
        jwks::parse(
            &serde_json::to_vec(&json!({"keys": [
                {"kty": "RSA", "kid": "rsa1", "use": "sig", "n": RSA_N, "e": "AQAB"},
                {"kty": "EC", "kid": "ec1", "use": "sig", "crv": "P-256", "x": EC_X, "y": EC_Y},
            ]}))
            .unwrap(),
        )
        .unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISS,
            "sub": "248289761001",
            "aud": CLIENT,
            "nonce": NONCE,
            "iat": NOW - 10,
            "exp": NOW + 300,
            "groups": ["dash-marketing"],
        })
    }

    fn edit(edit: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut c = claims();
        edit(c.as_object_mut().unwrap());
        c
    }

    fn sign_with(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_der(&STANDARD.decode(EC_DER).unwrap()),
            _ => EncodingKey::from_rsa_der(&STANDARD.decode(RSA_DER).unwrap()),
        };
        encode(&header, claims, &key).unwrap()
    }

    fn sign(claims: &Value) -> String {
        sign_with(Algorithm::RS256, Some("rsa1"), claims)
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with any header, signed by HMAC-SHA256 under `key` (or with
    /// an empty signature).
    fn forge(header: &Value, claims: &Value, key: Option<&[u8]>) -> String {
        let msg = format!(
            "{}.{}",
            b64(&serde_json::to_vec(header).unwrap()),
            b64(&serde_json::to_vec(claims).unwrap())
        );
        let sig = key.map_or_else(Vec::new, |key| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
            mac.update(msg.as_bytes());
            mac.finalize().into_bytes().to_vec()
        });
        format!("{msg}.{}", b64(&sig))
    }

    #[test]
    fn accepts_rs256_ps256_es256() {
        let jwks = keys();
        for (alg, kid) in [
            (Algorithm::RS256, Some("rsa1")),
            (Algorithm::PS256, Some("rsa1")),
            (Algorithm::ES256, Some("ec1")),
            // Without a kid: the one key of the type.
            (Algorithm::RS256, None),
            (Algorithm::ES256, None),
        ] {
            let token = sign_with(alg, kid, &claims());
            let got = verify(&token, &jwks, &expect()).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            assert_eq!(got["sub"], "248289761001");
            assert_eq!(got["groups"], json!(["dash-marketing"]));
        }
    }

    /// Every refusal of the claims, next to the same token fixed.
    #[test]
    fn claim_refusals_with_twins() {
        type Edit = fn(&mut Map<String, Value>);
        let cases: &[(Edit, Edit, IdTokenError)] = &[
            (
                |c| {
                    c.insert("iss".into(), json!("https://evil.example.com/realms/dash"));
                },
                |_| {},
                IdTokenError::Issuer,
            ),
            (
                |c| {
                    c.insert("iss".into(), json!(format!("{ISS}/")));
                },
                |_| {},
                IdTokenError::Issuer,
            ),
            (
                |c| {
                    c.insert("iss".into(), json!([ISS]));
                },
                |_| {},
                IdTokenError::ClaimType("iss"),
            ),
            (
                |c| {
                    c.remove("iss");
                },
                |_| {},
                IdTokenError::MissingClaim("iss"),
            ),
            (
                |c| {
                    c.insert("aud".into(), json!("other"));
                },
                |c| {
                    c.insert("aud".into(), json!([CLIENT]));
                },
                IdTokenError::Audience,
            ),
            (
                |c| {
                    c.insert("aud".into(), json!(["other", "more"]));
                },
                |c| {
                    c.insert("aud".into(), json!(["other", CLIENT]));
                    c.insert("azp".into(), json!(CLIENT));
                },
                IdTokenError::Audience,
            ),
            (
                |c| {
                    c.insert("aud".into(), json!(["other", CLIENT]));
                },
                |c| {
                    c.insert("aud".into(), json!(["other", CLIENT]));
                    c.insert("azp".into(), json!(CLIENT));
                },
                IdTokenError::AzpMissing,
            ),
            (
                |c| {
                    c.insert("aud".into(), json!(["other", CLIENT]));
                    c.insert("azp".into(), json!("other"));
                },
                |c| {
                    c.insert("aud".into(), json!(["other", CLIENT]));
                    c.insert("azp".into(), json!(CLIENT));
                },
                IdTokenError::AzpMismatch,
            ),
            (
                |c| {
                    c.insert("azp".into(), json!("other"));
                },
                |c| {
                    c.insert("azp".into(), json!(CLIENT));
                },
                IdTokenError::AzpMismatch,
            ),
            (
                |c| {
                    c.remove("aud");
                },
                |_| {},
                IdTokenError::MissingClaim("aud"),
            ),
            (
                |c| {
                    c.insert("exp".into(), json!(NOW - LEEWAY));
                },
                |c| {
                    c.insert("exp".into(), json!(NOW - LEEWAY + 1));
                },
                IdTokenError::Expired,
            ),
            (
                |c| {
                    c.insert("exp".into(), json!(NOW - 3600));
                },
                |c| {
                    c.insert("exp".into(), json!(NOW - 30));
                },
                IdTokenError::Expired,
            ),
            (
                |c| {
                    c.remove("exp");
                },
                |_| {},
                IdTokenError::MissingClaim("exp"),
            ),
            (
                |c| {
                    c.insert("exp".into(), json!("tomorrow"));
                },
                |c| {
                    c.insert("exp".into(), json!((NOW + 300) as f64 + 0.5));
                },
                IdTokenError::MissingClaim("exp"),
            ),
            (
                |c| {
                    c.insert("iat".into(), json!(NOW + LEEWAY + 1));
                },
                |c| {
                    c.insert("iat".into(), json!(NOW + LEEWAY));
                },
                IdTokenError::IssuedInFuture,
            ),
            (
                |c| {
                    c.remove("iat");
                },
                |_| {},
                IdTokenError::MissingClaim("iat"),
            ),
            (
                |c| {
                    c.insert("iat".into(), json!(-1));
                },
                |c| {
                    c.insert("iat".into(), json!(0));
                },
                IdTokenError::ClaimType("iat"),
            ),
            (
                |c| {
                    c.insert("nbf".into(), json!(NOW + LEEWAY + 1));
                },
                |c| {
                    c.insert("nbf".into(), json!(NOW + LEEWAY));
                },
                IdTokenError::NotYetValid,
            ),
            (
                |c| {
                    c.insert("nbf".into(), json!("now"));
                },
                |c| {
                    c.insert("nbf".into(), json!(NOW - 10));
                },
                IdTokenError::ClaimType("nbf"),
            ),
            (
                |c| {
                    c.insert("nonce".into(), json!("n-0S6_WzA2MJ"));
                },
                |_| {},
                IdTokenError::Nonce,
            ),
            (
                |c| {
                    c.insert("nonce".into(), json!(""));
                },
                |_| {},
                IdTokenError::Nonce,
            ),
            (
                |c| {
                    c.remove("nonce");
                },
                |_| {},
                IdTokenError::MissingClaim("nonce"),
            ),
            (
                |c| {
                    c.insert("nonce".into(), json!([NONCE]));
                },
                |_| {},
                IdTokenError::ClaimType("nonce"),
            ),
            (
                |c| {
                    c.insert("sub".into(), json!(""));
                },
                |c| {
                    c.insert("sub".into(), json!("x"));
                },
                IdTokenError::Subject,
            ),
            (
                |c| {
                    c.remove("sub");
                },
                |_| {},
                IdTokenError::MissingClaim("sub"),
            ),
        ];
        let jwks = keys();
        for (i, (bad, good, want)) in cases.iter().enumerate() {
            let got = verify(&sign(&edit(*bad)), &jwks, &expect());
            assert_eq!(got.err().as_ref(), Some(want), "case {i}");
            verify(&sign(&edit(*good)), &jwks, &expect())
                .unwrap_or_else(|e| panic!("case {i} twin: {e}"));
        }
    }

    #[test]
    fn expected_values_that_refuse() {
        let jwks = keys();
        let token = sign(&claims());
        // An empty expected nonce matches nothing, not even an empty claim.
        let empty = Expect {
            nonce: "",
            ..expect()
        };
        assert_eq!(verify(&token, &jwks, &empty), Err(IdTokenError::Nonce));
        let no_nonce = sign(&edit(|c| {
            c.insert("nonce".into(), json!(""));
        }));
        assert_eq!(verify(&no_nonce, &jwks, &empty), Err(IdTokenError::Nonce));
        // The clock is the caller's: the same token, an hour later.
        let later = Expect {
            now: NOW + 3600,
            ..expect()
        };
        assert_eq!(verify(&token, &jwks, &later), Err(IdTokenError::Expired));
        let other_client = Expect {
            client_id: "other",
            ..expect()
        };
        assert_eq!(
            verify(&token, &jwks, &other_client),
            Err(IdTokenError::Audience)
        );
        verify(&token, &jwks, &expect()).unwrap();
    }

    #[test]
    fn header_refusals() {
        let jwks = keys();
        let c = claims();
        // alg none, with and without a signature.
        for alg in [
            "none", "None", "HS256", "HS512", "RS384", "ES384", "EdDSA", "",
        ] {
            let token = forge(&json!({"alg": alg, "kid": "rsa1"}), &c, None);
            assert_eq!(
                verify(&token, &jwks, &expect()),
                Err(IdTokenError::Algorithm(alg.into())),
                "{alg}"
            );
        }
        // Key confusion: the RSA public key as an HMAC secret.
        let confused = forge(
            &json!({"alg": "HS256", "kid": "rsa1", "typ": "JWT"}),
            &c,
            Some(RSA_PUBLIC_PEM.as_bytes()),
        );
        assert_eq!(
            verify(&confused, &jwks, &expect()),
            Err(IdTokenError::Algorithm("HS256".into()))
        );
        // An ES256 header naming the RSA key; its twin names the EC key.
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("rsa1".into());
        let key = EncodingKey::from_ec_der(&STANDARD.decode(EC_DER).unwrap());
        let token = encode(&header, &c, &key).unwrap();
        assert_eq!(
            verify(&token, &jwks, &expect()),
            Err(IdTokenError::UnknownKey {
                kid: Some("rsa1".into())
            })
        );
        header.kid = Some("ec1".into());
        verify(&encode(&header, &c, &key).unwrap(), &jwks, &expect()).unwrap();
        // An RS256 header naming the EC key.
        let token = sign_with(Algorithm::RS256, Some("ec1"), &c);
        assert!(matches!(
            verify(&token, &jwks, &expect()),
            Err(IdTokenError::UnknownKey { .. })
        ));
        // Unknown kid, and no kid when two keys would fit.
        let token = sign_with(Algorithm::RS256, Some("rotated"), &c);
        let err = verify(&token, &jwks, &expect()).unwrap_err();
        assert_eq!(
            err,
            IdTokenError::UnknownKey {
                kid: Some("rotated".into())
            }
        );
        assert!(err.to_string().contains("\"rotated\""));
        let two = jwks::parse(
            &serde_json::to_vec(&json!({"keys": [
                {"kty": "RSA", "kid": "a", "n": RSA_N, "e": "AQAB"},
                {"kty": "RSA", "kid": "b", "n": RSA_N, "e": "AQAB"},
            ]}))
            .unwrap(),
        )
        .unwrap();
        let token = sign_with(Algorithm::RS256, None, &c);
        assert_eq!(
            verify(&token, &two, &expect()),
            Err(IdTokenError::UnknownKey { kid: None })
        );
        verify(&sign_with(Algorithm::RS256, Some("b"), &c), &two, &expect()).unwrap();
        // crit, even one jsonwebtoken would accept; its twin has none.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa1".into());
        let key = EncodingKey::from_rsa_der(&STANDARD.decode(RSA_DER).unwrap());
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()]] {
            header.crit = Some(crit);
            header.extras.insert("b64", true);
            let token = encode(&header, &c, &key).unwrap();
            assert_eq!(
                verify(&token, &jwks, &expect()),
                Err(IdTokenError::Critical)
            );
        }
        header.crit = None;
        verify(&encode(&header, &c, &key).unwrap(), &jwks, &expect()).unwrap();
        // A key in the header is not a key we trust.
        let embedded = forge(
            &json!({"alg": "RS256", "kid": "mine", "jwk": {"kty": "RSA", "n": RSA_N, "e": "AQAB"}}),
            &c,
            None,
        );
        assert_eq!(
            verify(&embedded, &jwks, &expect()),
            Err(IdTokenError::UnknownKey {
                kid: Some("mine".into())
            })
        );
    }

    #[test]
    fn expect_debug_hides_the_nonce() {
        let debug = format!("{:?}", expect());
        assert!(debug.contains(CLIENT) && !debug.contains(NONCE), "{debug}");
    }

    #[test]
    fn tampering() {
        let jwks = keys();
        let token = sign(&claims());
        let (signed, sig) = token.rsplit_once('.').unwrap();
        let (header, _) = signed.split_once('.').unwrap();
        // Another payload under the original signature.
        let other = b64(&serde_json::to_vec(&edit(|c| {
            c.insert("sub".into(), json!("admin"));
        }))
        .unwrap());
        let swapped = format!("{header}.{other}.{sig}");
        assert_eq!(
            verify(&swapped, &jwks, &expect()),
            Err(IdTokenError::Signature)
        );
        // One signature bit flipped.
        let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        raw[10] ^= 1;
        let flipped = format!("{signed}.{}", b64(&raw));
        assert_eq!(
            verify(&flipped, &jwks, &expect()),
            Err(IdTokenError::Signature)
        );
        // A PS256 token presented as RS256 (same key, other padding).
        let ps = sign_with(Algorithm::PS256, Some("rsa1"), &claims());
        let (_, ps_sig) = ps.rsplit_once('.').unwrap();
        let relabeled = format!("{signed}.{ps_sig}");
        assert_eq!(
            verify(&relabeled, &jwks, &expect()),
            Err(IdTokenError::Signature)
        );
        // An ES256 signature of another message.
        let es = sign_with(Algorithm::ES256, Some("ec1"), &claims());
        let es_other = sign_with(
            Algorithm::ES256,
            Some("ec1"),
            &edit(|c| {
                c.insert("sub".into(), json!("admin"));
            }),
        );
        let (es_signed, _) = es_other.rsplit_once('.').unwrap();
        let (_, es_sig) = es.rsplit_once('.').unwrap();
        assert_eq!(
            verify(&format!("{es_signed}.{es_sig}"), &jwks, &expect()),
            Err(IdTokenError::Signature)
        );
        verify(&token, &jwks, &expect()).unwrap();
        verify(&es, &jwks, &expect()).unwrap();
    }

    #[test]
    fn shape_and_size() {
        let jwks = keys();
        let token = sign(&claims());
        let (signed, sig) = token.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            "a.b".into(),
            format!("{token}."),
            signed.to_owned(),
            format!("{token}.{sig}"),
            format!("!{token}"),
            format!("e30.{}", signed.split_once('.').unwrap().1),
            format!("W10.{}.{sig}", signed.split_once('.').unwrap().1),
        ] {
            assert_eq!(
                verify(&bad, &jwks, &expect()),
                Err(IdTokenError::Malformed),
                "{bad:.40}"
            );
        }
        // A signed payload that is not an object.
        let key = EncodingKey::from_rsa_der(&STANDARD.decode(RSA_DER).unwrap());
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa1".into());
        let array = encode(&header, &json!([1, 2]), &key).unwrap();
        assert_eq!(
            verify(&array, &jwks, &expect()),
            Err(IdTokenError::Malformed)
        );
        // Size: just under the limit passes, just over is refused unread.
        let base = sign(&claims()).len();
        let pad = |n: usize| {
            sign(&edit(|c| {
                c.insert("pad".into(), json!("x".repeat(n)));
            }))
        };
        let mut n = (MAX_ID_TOKEN_LEN - base) * 3 / 4 - 16;
        while pad(n + 1).len() <= MAX_ID_TOKEN_LEN {
            n += 1;
        }
        let fits = pad(n);
        assert!(fits.len() <= MAX_ID_TOKEN_LEN);
        verify(&fits, &jwks, &expect()).unwrap();
        let over = pad(n + 1);
        assert!(over.len() > MAX_ID_TOKEN_LEN);
        assert_eq!(
            verify(&over, &jwks, &expect()),
            Err(IdTokenError::TooLong(over.len()))
        );
    }

    #[test]
    fn errors_never_show_the_token() {
        let jwks = keys();
        let token = sign_with(
            Algorithm::RS256,
            Some("rsa1"),
            &edit(|c| {
                c.insert("nonce".into(), json!("SECRET-NONCE-VALUE"));
            }),
        );
        let err = verify(&token, &jwks, &expect()).unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("SECRET") && !text.contains(&token[..20]),
            "{text}"
        );
        // A hostile alg or kid is cut and escaped.
        let token = forge(
            &json!({"alg": format!("x\n{}", "y".repeat(500))}),
            &claims(),
            None,
        );
        let text = verify(&token, &jwks, &expect()).unwrap_err().to_string();
        assert!(!text.contains('\n') && text.len() < 200, "{text}");
        let kid = "k\r\n".repeat(100);
        let token = forge(&json!({"alg": "RS256", "kid": kid}), &claims(), None);
        let err = verify(&token, &jwks, &expect()).unwrap_err();
        assert_eq!(err, IdTokenError::UnknownKey { kid: Some(kid) });
        let text = err.to_string();
        assert!(!text.contains('\n') && text.len() < 400, "{text}");
    }
}
