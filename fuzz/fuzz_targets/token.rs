//! `token::verify` on arbitrary bytes, with the clock and leeway taken from
//! the input's first 10 bytes; and an `issue` → `verify` round trip with
//! the rest of the input as the user name.
#![no_main]

use std::sync::OnceLock;

use dash_auth_core::token::{self, Secret, TokenError, MAX_TOKEN_LEN};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-fuzz-key";
const OTHER_KEY: &[u8] = b"fedcba9876543210fedcba9876543210-other-key";

fn secret() -> &'static Secret {
    static S: OnceLock<Secret> = OnceLock::new();
    S.get_or_init(|| Secret::from_bytes(KEY).unwrap())
}

fn other() -> &'static Secret {
    static S: OnceLock<Secret> = OnceLock::new();
    S.get_or_init(|| Secret::from_bytes(OTHER_KEY).unwrap())
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
        match token::verify(secret(), token, now, leeway) {
            Ok(claims) => {
                assert!(token.len() <= MAX_TOKEN_LEN);
                assert!(!claims.sub.is_empty());
                assert!(!claims.sub.chars().any(char::is_control));
                assert!(claims.exp.saturating_add(leeway) > now);
                // Only our key signs.
                assert_eq!(
                    token::verify(other(), token, now, leeway),
                    Err(TokenError::SignatureMismatch)
                );
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    // Round trip: what `issue` signs, `verify` accepts, for any user name
    // `verify` would accept at all.
    let Ok(sub) = std::str::from_utf8(rest) else {
        return;
    };
    if sub.is_empty() || sub.chars().any(char::is_control) {
        return;
    }
    let now = now % (1 << 40);
    let grants = ["hr".to_owned(), "_all_".to_owned()];
    match token::issue(secret(), sub, &grants, now, 3600) {
        Ok(tok) => {
            assert!(tok.len() <= MAX_TOKEN_LEN);
            let claims = token::verify(secret(), tok.as_bytes(), now, 0)
                .unwrap_or_else(|e| panic!("issued token refused: {e}"));
            assert_eq!(claims.sub, sub);
            assert_eq!(claims.allowed_resources, grants);
            assert_eq!((claims.iat, claims.exp), (now, now + 3600));
            assert_eq!(
                token::verify(secret(), tok.as_bytes(), now + 3600, 0),
                Err(TokenError::Expired)
            );
        }
        Err(e) => assert_eq!(e, TokenError::TooLong),
    }
});
