//! Inputs found while fuzzing the core (`fuzz/`, see `fuzz/README.md`),
//! pinned so that the fix stays. One test per finding; the comment says
//! what went wrong before the fix.
// A test: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dash_auth_core::login::{render_page, return_from_query, Notice, DEFAULT_PAGE};
use dash_auth_core::users::{parse_sections, UsersFile};

/// bcrypt cost 4 (libxcrypt vector for "1234"), cheap to verify.
const MICA: &str = "$2y$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6";

/// A users-file line with tens of thousands of sections: repeats were
/// found with `Vec::contains`, so parsing was quadratic in the length of
/// the list (a 100 KB line took 0.7 s in release, 3.7 s in debug; found by
/// feeding the `users_file` target large inputs). Now linear; order kept,
/// repeats (in any case) dropped.
#[test]
fn users_file_many_sections_is_linear() {
    const N: usize = 30_000;
    let mut field = String::new();
    for i in 0..N {
        field.push_str(&format!("s{i},"));
    }
    // Repeats, in another case, and `_all_` twice.
    field.push_str("S0,s1,_ALL_,_all_,s29999");
    let line = format!("mica:{MICA}:{field}\n");

    let started = std::time::Instant::now();
    let users = UsersFile::parse(line.as_bytes()).unwrap();
    // Informational only (`--nocapture`): timing asserts are flaky. Before
    // the fix this line took seconds.
    eprintln!("{N} sections parsed in {:?}", started.elapsed());

    let sections = &users.get("mica").unwrap().sections;
    assert_eq!(sections.len(), N + 1);
    assert_eq!(sections.first().map(String::as_str), Some("s0"));
    assert_eq!(sections.get(N - 1).map(String::as_str), Some("s29999"));
    assert_eq!(sections.last().map(String::as_str), Some("_all_"));

    assert_eq!(
        parse_sections("b, A,a ,B,_ALL_, c").unwrap(),
        ["b", "a", "_all_", "c"]
    );
}

/// A return path holding a placeholder: `render_page` filled `{{return}}`
/// before `{{action}}`, so `return=/{{action}}` came back in the login
/// page's hidden field as `/login` (found by the `login_form` target).
/// Harmless (the action is escaped config and the field is re-validated on
/// submit), but the page must carry the path it was given.
#[test]
fn login_page_keeps_placeholders_in_the_return_path() {
    let back = return_from_query(b"return=/h{{action}}x{{message}}%7B%7Breturn%7D%7D");
    assert_eq!(back, "/h{{action}}x{{message}}{{return}}");
    let page = render_page(DEFAULT_PAGE, "/login", &back, Notice::Failed, "1.t.s");
    assert!(
        page.contains(r#"name="return" value="/h{{action}}x{{message}}{{return}}""#),
        "{page}"
    );
    assert!(page.contains(r#"action="/login""#));
    assert_eq!(page.matches("Wrong user name or password.").count(), 1);
}
