//! The OpenID Provider's documents and the browser's callback: discovery,
//! the key set, the token response, the callback query, the state cookie and
//! the group map. The first byte picks the parser.
#![no_main]

use dash_auth_core::oidc::{discovery, flow, groups, jwks};
use dash_auth_core::token::Secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Ok(d) = discovery::parse(input, "https://op.example") {
                assert_eq!(d.issuer, "https://op.example");
                for url in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
                    assert!(url.starts_with("https://"), "{url}");
                }
            }
        }
        1 => {
            if let Ok(k) = jwks::parse(input) {
                assert!(!k.is_empty());
            }
        }
        2 => {
            if let Ok(id_token) = flow::parse_token_response(200, input) {
                assert!(!id_token.is_empty());
            }
        }
        3 => {
            if let Ok(c) = flow::parse_callback(input) {
                for v in [&c.code, &c.state, &c.iss, &c.error].into_iter().flatten() {
                    assert!(v.len() <= 4096);
                }
            }
        }
        4 => {
            let Ok(secret) = Secret::from_bytes(&[7u8; 32]) else {
                return;
            };
            if let Ok(p) = flow::open(input, &secret, 1000) {
                // Only what this secret sealed opens, and its return path
                // never leaves the origin.
                assert!(dash_auth_core::return_path::validate(p.return_to.as_bytes()).is_some());
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(input) {
                if let Ok(map) = groups::parse(text) {
                    for (section, _) in map.sections() {
                        assert!(!section.is_empty());
                    }
                }
            }
        }
    }
});
