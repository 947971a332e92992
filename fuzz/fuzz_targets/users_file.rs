//! `users::UsersFile::parse` on an arbitrary file, then `authenticate`.
//!
//! Parsing computes one hash (the dummy for unknown users) at the cost of
//! the file's first hash, and authenticating computes more, so inputs with
//! an expensive hash anywhere are skipped: bcrypt cost above 6, SHA-crypt
//! above 5000 rounds. That cost is the administrator's choice, not a bug.
#![no_main]

use dash_auth_core::grants::ALL;
use dash_auth_core::hash::{PasswordHash, Scheme};
use dash_auth_core::section::valid_section_name;
use dash_auth_core::users::{valid_user_name, AuthFailure, UsersFile};
use libfuzzer_sys::fuzz_target;

const MAX_BCRYPT_COST: u32 = 6;
const MAX_SHA_ROUNDS: u32 = 5000;

/// True if any `:`-separated field of any line is a hash too slow to fuzz.
/// Fields are trimmed more generously than the parser trims them, so this
/// finds every hash the parser would accept, and maybe more.
fn too_costly(data: &[u8]) -> bool {
    data.split(|&b| b == b'\n')
        .flat_map(|line| line.split(|&b| b == b':'))
        .filter_map(|field| std::str::from_utf8(field).ok())
        .filter_map(|field| PasswordHash::parse(field.trim_matches([' ', '\t', '\r'])).ok())
        .any(|h| match h.scheme() {
            Scheme::Bcrypt => h.cost() > MAX_BCRYPT_COST,
            Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => h.cost() > MAX_SHA_ROUNDS,
        })
}

fuzz_target!(|data: &[u8]| {
    if too_costly(data) {
        return;
    }
    let file = match UsersFile::parse(data) {
        Ok(file) => file,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(!file.is_empty());
    for user in file.users() {
        assert!(valid_user_name(&user.name), "{:?}", user.name);
        assert!(user.line() >= 1);
        assert!(user
            .sections
            .iter()
            .all(|s| s == ALL || valid_section_name(s)));
        assert!(user.sections.iter().all(|s| *s == s.to_ascii_lowercase()));
        assert!(std::ptr::eq(file.get(&user.name).unwrap(), user));
        // `Debug` shows scheme and cost, never the hash.
        assert!(!format!("{user:?}").contains(user.hash().as_str()));
    }
    // One known user (the smallest name, so the run is deterministic) with
    // a wrong password, and an unknown user (the dummy hash).
    let name = file.users().map(|u| u.name.as_str()).min().unwrap();
    match file.authenticate(name, b"fuzz-password") {
        Ok(user) => assert_eq!(user.name, name),
        Err(e) => assert_eq!(e, AuthFailure::WrongPassword),
    }
    assert_eq!(
        file.authenticate("\u{0}unknown", b"pw").err(),
        Some(AuthFailure::UnknownUser)
    );
});
