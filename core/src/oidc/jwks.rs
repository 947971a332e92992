//! The provider's signing keys (a JWK Set, RFC 7517 §5, from `jwks_uri`).
//!
//! Only keys that can verify [`SUPPORTED_ALGS`](super::SUPPORTED_ALGS) are kept: RSA of 2048 bits
//! or more, and EC P-256. A key that is malformed or meant for something
//! else is skipped rather than failing the set, because providers publish
//! encryption keys and keys for other algorithms beside the ones that sign
//! ID tokens; a set with nothing usable left is an error.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::discovery::{object, DocError};
use super::supported_alg;

/// Smallest RSA modulus accepted (NIST SP 800-131A: 1024-bit keys are
/// factorable by a well-funded attacker).
pub const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus accepted: the `rsa` crate refuses bigger ones at
/// verification time, and skipping them here reports it at fetch time.
pub const MAX_RSA_BITS: usize = 8192;

/// The usable keys of a JWK Set. Holds public keys only, but `Debug`
/// still prints just their ids and types.
#[derive(Clone)]
pub struct Jwks {
    keys: Vec<Key>,
}

#[derive(Clone)]
struct Key {
    kid: Option<String>,
    kind: Kind,
    /// The key's own `alg`, if it names one.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rsa,
    P256,
}

impl Kind {
    fn of(alg: Algorithm) -> Option<Kind> {
        match alg {
            Algorithm::RS256 | Algorithm::PS256 => Some(Kind::Rsa),
            Algorithm::ES256 => Some(Kind::P256),
            _ => None,
        }
    }
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| (k.kid.as_deref(), k.kind, k.alg))
            .collect();
        f.debug_struct("Jwks")
            .field("keys (kid, type, alg)", &keys)
            .finish()
    }
}

/// Parses a JWK Set, keeping the keys [`Jwks::key_for`] can use.
pub fn parse(body: &[u8]) -> Result<Jwks, DocError> {
    let doc = object(body)?;
    let keys = match doc.get("keys") {
        None | Some(Value::Null) => return Err(DocError::Missing("keys")),
        Some(Value::Array(keys)) => keys,
        Some(_) => return Err(DocError::WrongType("keys")),
    };
    let keys: Vec<Key> = keys
        .iter()
        .filter_map(|k| k.as_object().and_then(usable_key))
        .collect();
    if keys.is_empty() {
        return Err(DocError::NoUsableKey);
    }
    Ok(Jwks { keys })
}

/// The key, if it is a well-formed signing key of a type we verify.
fn usable_key(jwk: &Map<String, Value>) -> Option<Key> {
    let text = |name: &str| -> Result<Option<&str>, ()> {
        match jwk.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(()),
        }
    };
    if text("use").ok()?.is_some_and(|u| u != "sig") {
        return None;
    }
    // RFC 7517 §4.3: a key limited to other operations is not for us.
    match jwk.get("key_ops") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
        Some(_) => return None,
    }
    let kid = text("kid").ok()?.map(str::to_owned);
    let alg = match text("alg").ok()? {
        None => None,
        Some(alg) => Some(supported_alg(alg)?),
    };
    let (kind, key) = match text("kty").ok()?? {
        "RSA" => (Kind::Rsa, rsa_key(text("n").ok()??, text("e").ok()??)?),
        "EC" if text("crv").ok()?? == "P-256" => {
            (Kind::P256, p256_key(text("x").ok()??, text("y").ok()??)?)
        }
        _ => return None,
    };
    // A key that names an algorithm of the other type is inconsistent.
    if alg.is_some_and(|a| Kind::of(a) != Some(kind)) {
        return None;
    }
    Some(Key {
        kid,
        kind,
        alg,
        key,
    })
}

fn b64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD_INDIFFERENT.decode(s).ok()
}

/// The big-endian bytes without leading zeros.
fn unpadded(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn rsa_key(n: &str, e: &str) -> Option<DecodingKey> {
    let n_bytes = b64(n)?;
    let n = unpadded(&n_bytes);
    let bits = match n.first() {
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    };
    // A modulus is a product of two odd primes: an even one is junk that
    // would only fail later, looking like a bad signature.
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || n.last().is_none_or(|b| b % 2 == 0) {
        return None;
    }
    let e_bytes = b64(e)?;
    let e = unpadded(&e_bytes);
    if e.len() > 5 {
        return None;
    }
    let value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    // The public exponents the `rsa` crate verifies with: odd, 3..2^33.
    if value < 3 || value % 2 == 0 || value >= 1 << 33 {
        return None;
    }
    Some(DecodingKey::from_rsa_raw_components(n, e))
}

fn p256_key(x: &str, y: &str) -> Option<DecodingKey> {
    let (x, y) = (b64(x)?, b64(y)?);
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    // The SEC1 uncompressed point, what `from_ec_components` builds; the
    // curve check happens when it is parsed to verify.
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(DecodingKey::from_ec_der(&point))
}

impl Jwks {
    /// The key to verify a token signed with `alg` that names `kid`: of
    /// the type `alg` needs, with no other `alg` of its own, and either
    /// the one with that `kid` or, for a token without one, the only key
    /// of that type. `None` when there is no such key or more than one
    /// (two keys with one kid, or several and no kid): guessing would let
    /// the provider's mistake decide which key is trusted.
    pub fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Option<&DecodingKey> {
        let kind = Kind::of(alg)?;
        let mut fits = self.keys.iter().filter(|k| {
            k.kind == kind
                && k.alg.is_none_or(|a| a == alg)
                && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
        });
        match (fits.next(), fits.next()) {
            (Some(key), None) => Some(&key.key),
            _ => None,
        }
    }

    /// True if some usable key has this id.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// How many usable keys the set holds (never zero).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::{EC_X, EC_Y, RSA_N, SMALL_N};
    use super::*;
    use serde_json::json;

    fn rsa(kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"})
    }

    fn ec(kid: &str) -> Value {
        json!({"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256", "x": EC_X, "y": EC_Y})
    }

    fn even_n() -> String {
        let mut n = b64(RSA_N).unwrap();
        *n.last_mut().unwrap() &= 0xfe;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n)
    }

    fn set(keys: Vec<Value>) -> Result<Jwks, DocError> {
        parse(&serde_json::to_vec(&json!({ "keys": keys })).unwrap())
    }

    fn with(mut key: Value, field: &str, value: Value) -> Value {
        let obj = key.as_object_mut().unwrap();
        if value.is_null() {
            obj.remove(field);
        } else {
            obj.insert(field.into(), value);
        }
        key
    }

    #[test]
    fn keeps_rsa_and_p256() {
        let jwks = set(vec![rsa("r1"), ec("e1")]).unwrap();
        assert_eq!(jwks.len(), 2);
        assert!(jwks.has_kid("r1") && jwks.has_kid("e1") && !jwks.has_kid("x"));
        assert!(jwks.key_for(Some("r1"), Algorithm::RS256).is_some());
        assert!(jwks.key_for(Some("e1"), Algorithm::ES256).is_some());
        let debug = format!("{jwks:?}");
        assert!(
            debug.contains("r1") && !debug.contains(&RSA_N[..20]),
            "{debug}"
        );
        assert!(!debug.contains(&EC_X[..20]), "{debug}");
    }

    /// Each key that is skipped beside its usable twin.
    #[test]
    fn skipped_keys_with_twins() {
        let cases: Vec<(Value, Value)> = vec![
            (
                with(rsa("k"), "use", json!("enc")),
                with(rsa("k"), "use", Value::Null),
            ),
            (with(rsa("k"), "use", json!(1)), rsa("k")),
            (
                with(rsa("k"), "key_ops", json!(["encrypt"])),
                with(rsa("k"), "key_ops", json!(["verify"])),
            ),
            (with(rsa("k"), "key_ops", json!("verify")), rsa("k")),
            (
                with(rsa("k"), "alg", json!("RS384")),
                with(rsa("k"), "alg", json!("PS256")),
            ),
            (
                with(rsa("k"), "alg", json!("ES256")),
                with(rsa("k"), "alg", Value::Null),
            ),
            (with(rsa("k"), "alg", json!("HS256")), rsa("k")),
            (with(rsa("k"), "alg", json!("none")), rsa("k")),
            (
                with(ec("k"), "alg", json!("RS256")),
                with(ec("k"), "alg", json!("ES256")),
            ),
            (with(rsa("k"), "kty", json!("oct")), rsa("k")),
            (with(rsa("k"), "kty", json!("rsa")), rsa("k")),
            (with(rsa("k"), "kty", Value::Null), rsa("k")),
            (with(ec("k"), "crv", json!("P-384")), ec("k")),
            (with(ec("k"), "crv", json!("secp256k1")), ec("k")),
            (with(ec("k"), "crv", Value::Null), ec("k")),
            (with(rsa("k"), "n", json!(SMALL_N)), rsa("k")),
            (with(rsa("k"), "n", json!("")), rsa("k")),
            (with(rsa("k"), "n", json!(even_n())), rsa("k")),
            (with(rsa("k"), "n", json!("not base64!")), rsa("k")),
            (with(rsa("k"), "n", Value::Null), rsa("k")),
            (
                with(rsa("k"), "e", json!("AQ")),
                with(rsa("k"), "e", json!("Aw")),
            ),
            (
                with(rsa("k"), "e", json!("AAAC")),
                with(rsa("k"), "e", json!("AAEAAQ")),
            ),
            (with(rsa("k"), "e", json!("AQAAAAAB")), rsa("k")),
            (with(rsa("k"), "e", json!(65537)), rsa("k")),
            (with(ec("k"), "x", json!(&EC_X[..40])), ec("k")),
            (with(ec("k"), "y", json!(format!("{EC_Y}AA"))), ec("k")),
            (with(ec("k"), "y", Value::Null), ec("k")),
            (
                with(rsa("k"), "kid", json!(7)),
                with(rsa("k"), "kid", json!("7")),
            ),
            (json!("a string"), rsa("k")),
        ];
        for (i, (bad, good)) in cases.into_iter().enumerate() {
            // Alone it leaves nothing usable; beside a good key it is skipped.
            assert_eq!(
                set(vec![bad.clone()]).err(),
                Some(DocError::NoUsableKey),
                "case {i}"
            );
            let jwks = set(vec![bad, ec("other")]).unwrap();
            assert_eq!(jwks.len(), 1, "case {i}");
            let jwks = set(vec![good, ec("other")]).unwrap();
            assert_eq!(jwks.len(), 2, "case {i}");
        }
    }

    #[test]
    fn padded_and_zero_prefixed_values() {
        // Some providers pad, or keep the sign byte of the modulus.
        let padded = format!("{RSA_N}=");
        assert_eq!(
            set(vec![with(rsa("k"), "n", json!(padded))]).unwrap().len(),
            1
        );
        let mut n = vec![0u8];
        n.extend(b64(RSA_N).unwrap());
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n);
        assert_eq!(set(vec![with(rsa("k"), "n", json!(n))]).unwrap().len(), 1);
    }

    #[test]
    fn document_errors() {
        assert_eq!(parse(b"{}").err(), Some(DocError::Missing("keys")));
        assert_eq!(
            parse(br#"{"keys": null}"#).err(),
            Some(DocError::Missing("keys"))
        );
        assert_eq!(
            parse(br#"{"keys": {}}"#).err(),
            Some(DocError::WrongType("keys"))
        );
        assert_eq!(parse(br#"{"keys": []}"#).err(), Some(DocError::NoUsableKey));
        assert_eq!(parse(b"[]").err(), Some(DocError::NotJson));
        assert_eq!(parse(b"").err(), Some(DocError::NotJson));
        let big = vec![b' '; super::super::MAX_DOC_LEN + 1];
        assert_eq!(parse(&big).err(), Some(DocError::TooLarge(big.len())));
        assert!(DocError::NoUsableKey
            .to_string()
            .contains("no usable signing key"));
    }

    #[test]
    fn key_selection() {
        let jwks = set(vec![
            rsa("r1"),
            with(rsa("r2"), "alg", Value::Null),
            with(rsa("p1"), "alg", json!("PS256")),
            ec("e1"),
        ])
        .unwrap();
        // By kid: the type and the key's own alg must fit.
        assert!(jwks.key_for(Some("r1"), Algorithm::RS256).is_some());
        assert!(jwks.key_for(Some("r1"), Algorithm::PS256).is_none());
        assert!(jwks.key_for(Some("r1"), Algorithm::ES256).is_none());
        assert!(jwks.key_for(Some("r2"), Algorithm::RS256).is_some());
        assert!(jwks.key_for(Some("r2"), Algorithm::PS256).is_some());
        assert!(jwks.key_for(Some("p1"), Algorithm::PS256).is_some());
        assert!(jwks.key_for(Some("p1"), Algorithm::RS256).is_none());
        assert!(jwks.key_for(Some("e1"), Algorithm::ES256).is_some());
        assert!(jwks.key_for(Some("e1"), Algorithm::RS256).is_none());
        assert!(jwks.key_for(Some("nope"), Algorithm::RS256).is_none());
        // Algorithms we never verify, whatever the key.
        for alg in [
            Algorithm::HS256,
            Algorithm::RS384,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            assert!(jwks.key_for(Some("r2"), alg).is_none(), "{alg:?}");
            assert!(jwks.key_for(None, alg).is_none(), "{alg:?}");
        }
        // Without a kid: only when one key of the type fits.
        assert!(jwks.key_for(None, Algorithm::ES256).is_some());
        assert!(jwks.key_for(None, Algorithm::RS256).is_none()); // r1 and r2
        assert!(jwks.key_for(None, Algorithm::PS256).is_none()); // r2 and p1
        let one = set(vec![rsa("r1"), ec("e1")]).unwrap();
        assert!(one.key_for(None, Algorithm::RS256).is_some());
        assert!(one.key_for(None, Algorithm::PS256).is_none());
        let bare = set(vec![with(
            with(rsa("x"), "kid", Value::Null),
            "alg",
            Value::Null,
        )])
        .unwrap();
        assert!(bare.key_for(None, Algorithm::PS256).is_some());
        assert!(bare.key_for(Some("x"), Algorithm::PS256).is_none());
        // One kid twice is ambiguous.
        let twice = set(vec![rsa("dup"), rsa("dup")]).unwrap();
        assert!(twice.key_for(Some("dup"), Algorithm::RS256).is_none());
        let apart = set(vec![rsa("dup"), ec("dup")]).unwrap();
        assert!(apart.key_for(Some("dup"), Algorithm::RS256).is_some());
        assert!(apart.key_for(Some("dup"), Algorithm::ES256).is_some());
    }
}
