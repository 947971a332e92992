//! `basic::parse_basic` on an arbitrary `Authorization` value.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dash_auth_core::basic::{parse_basic, MAX_DECODED_LEN, MAX_HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_basic(data) {
        Ok(creds) => {
            assert!(data.len() <= MAX_HEADER_LEN);
            assert!(!creds.user.is_empty());
            assert!(!creds.user.chars().any(char::is_control));
            // The first `:` splits, so the user holds none.
            assert!(!creds.user.contains(':'));
            assert!(creds.user.len() + 1 + creds.password.len() <= MAX_DECODED_LEN);
            // Re-encoding the credentials gives a header that parses back
            // to the same thing.
            let mut plain = creds.user.as_bytes().to_vec();
            plain.push(b':');
            plain.extend_from_slice(creds.password.as_bytes());
            let header = format!("Basic {}", STANDARD.encode(&plain));
            let again = parse_basic(header.as_bytes()).expect("re-encoded header must parse");
            assert_eq!(again, creds);
            // Debug never shows the password.
            let dbg = format!("{creds:?}");
            assert!(dbg.contains("<redacted>"));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
