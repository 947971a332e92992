//! `token::verify` on arbitrary bytes against a rotated key set, with the
//! clock and leeway taken from the input's first 10 bytes; and `issue` →
//! `verify` round trips with the rest of the input as the user name, and
//! with its first line as a key id.
#![no_main]

use std::sync::OnceLock;

use dash_auth_core::token::{self, valid_kid, Secret, TokenError, MAX_TOKEN_LEN};
use libfuzzer_sys::fuzz_target;

/// The key without an id (what a deployment before rotation has).
const LEGACY: &[u8] = b"0123456789abcdef0123456789abcdef-fuzz-key";
const NEW: &[u8] = b"new-key-new-key-new-key-new-key-new-key!";
const OLD: &[u8] = b"old-key-old-key-old-key-old-key-old-key!";
const WRONG: &[u8] = b"fedcba9876543210fedcba9876543210-other-key";

fn keys(list: &[(&[u8], Option<&str>)]) -> Secret {
    let mut it = list.iter();
    let (bytes, kid) = it.next().unwrap();
    let mut secret = Secret::from_bytes_with_kid(bytes, *kid).unwrap();
    for (bytes, kid) in it {
        secret
            .append(Secret::from_bytes_with_kid(bytes, *kid).unwrap())
            .unwrap();
    }
    secret
}

/// Signs with `new`; also verifies `old` and the legacy key.
fn rotated() -> &'static Secret {
    static S: OnceLock<Secret> = OnceLock::new();
    S.get_or_init(|| keys(&[(NEW, Some("new")), (LEGACY, None), (OLD, Some("old"))]))
}

/// The same key ids with other bytes.
fn wrong() -> &'static Secret {
    static S: OnceLock<Secret> = OnceLock::new();
    S.get_or_init(|| keys(&[(WRONG, Some("new")), (WRONG, None), (WRONG, Some("old"))]))
}

fn signers() -> &'static [Secret; 3] {
    static S: OnceLock<[Secret; 3]> = OnceLock::new();
    S.get_or_init(|| {
        [
            rotated().clone(),
            keys(&[(LEGACY, None)]),
            keys(&[(OLD, Some("old"))]),
        ]
    })
}

fn round_trip(signer: &Secret, verifier: &Secret, sub: &str, now: u64) {
    let grants = ["hr".to_owned(), "_all_".to_owned()];
    match token::issue(signer, sub, &grants, now, 3600) {
        Ok(tok) => {
            assert!(tok.len() <= MAX_TOKEN_LEN);
            let claims = token::verify(verifier, tok.as_bytes(), now, 0)
                .unwrap_or_else(|e| panic!("issued token refused: {e}"));
            assert_eq!(claims.sub, sub);
            assert_eq!(claims.allowed_resources, grants);
            assert_eq!((claims.iat, claims.exp), (now, now + 3600));
            assert_eq!(
                token::verify(verifier, tok.as_bytes(), now + 3600, 0),
                Err(TokenError::Expired)
            );
        }
        Err(e) => assert_eq!(e, TokenError::TooLong),
    }
}

fuzz_target!(|data: &[u8]| {
    let (now, leeway, rest) = match data {
        [a, b, c, d, e, f, g, h, l1, l2, rest @ ..] => (
            u64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]),
            u64::from(u16::from_le_bytes([*l1, *l2])),
            rest,
        ),
        _ => (1_700_000_000, 0, data),
    };

    for token in [data, rest] {
        match token::verify(rotated(), token, now, leeway) {
            Ok(claims) => {
                assert!(token.len() <= MAX_TOKEN_LEN);
                assert!(!claims.sub.is_empty());
                assert!(!claims.sub.chars().any(char::is_control));
                assert!(claims.exp.saturating_add(leeway) > now);
                // Same key ids, other key bytes: the signature decides.
                assert_eq!(
                    token::verify(wrong(), token, now, leeway),
                    Err(TokenError::SignatureMismatch)
                );
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    // Round trips: what any configured key signs, the rotated set accepts,
    // for any user name `verify` would accept at all.
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let now = now % (1 << 40);
    if !text.is_empty() && !text.chars().any(char::is_control) {
        for signer in signers() {
            round_trip(signer, rotated(), text, now);
        }
    }
    // The first line as a key id.
    let kid = text.split('\n').next().unwrap_or_default();
    if kid.len() <= 80 {
        match Secret::from_bytes_with_kid(NEW, Some(kid)) {
            Ok(secret) => {
                assert!(valid_kid(kid), "{kid:?}");
                round_trip(&secret, &secret, "mica", now);
            }
            Err(e) => {
                assert!(!valid_kid(kid), "{kid:?}");
                let _ = e.to_string();
            }
        }
    }
});
