//! The `dash-auth-passwd` binary writes lines the users-file parser accepts.
// A test: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use dash_auth_core::hash::Scheme;
use dash_auth_core::users::UsersFile;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dash-auth-passwd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dash-auth-passwd");
    // The binary may exit on a usage error before reading: a broken pipe
    // here is expected then.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

fn line(args: &[&str], stdin: &[u8]) -> String {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn demo_users_round_trip() {
    let mica = line(&["mica", "_all_"], b"1234\n");
    let mike = line(&["-C", "4", "mike", "marketing"], b"123456\n");
    assert!(mica.starts_with("mica:$2y$10$"), "{mica}");
    assert!(mica.ends_with(":_all_\n"), "{mica}");
    assert!(mike.starts_with("mike:$2y$04$"), "{mike}");

    let users = UsersFile::parse(format!("{mica}{mike}").as_bytes()).expect("parse");
    assert_eq!(
        users.authenticate("mica", b"1234").unwrap().sections,
        ["_all_"]
    );
    assert_eq!(
        users.authenticate("mike", b"123456").unwrap().sections,
        ["marketing"]
    );
    assert!(users.authenticate("mike", b"1234").is_err());
}

#[test]
fn schemes_and_costs() {
    let cases: [(&[&str], &str, Scheme, u32); 5] = [
        (&["-B", "-C4"], "$2y$04$", Scheme::Bcrypt, 4),
        (&["-5"], "$5$", Scheme::ShaCrypt256, 5000),
        (&["-6"], "$6$", Scheme::ShaCrypt512, 5000),
        (
            &["-6", "-C", "1000"],
            "$6$rounds=1000$",
            Scheme::ShaCrypt512,
            1000,
        ),
        (
            &["-5", "-C", "2000"],
            "$5$rounds=2000$",
            Scheme::ShaCrypt256,
            2000,
        ),
    ];
    for (flags, prefix, scheme, cost) in cases {
        let mut args = flags.to_vec();
        args.extend(["u", "hr, Marketing"]);
        // A CRLF line ending is not part of the password.
        let out = line(&args, b"p\xc3\xa4ss:word\r\nsecond line ignored\n");
        assert!(out.starts_with(&format!("u:{prefix}")), "{out}");
        assert!(out.ends_with(":hr,marketing\n"), "{out}");
        let users = UsersFile::parse(out.as_bytes()).expect("parse");
        let user = users
            .authenticate("u", "päss:word".as_bytes())
            .expect("password");
        assert_eq!((user.hash().scheme(), user.hash().cost()), (scheme, cost));
    }
    // No trailing newline at all is fine too.
    let out = line(&["-C", "4", "u", "hr"], b"pw");
    let users = UsersFile::parse(out.as_bytes()).expect("parse");
    assert!(users.authenticate("u", b"pw").is_ok());
}

#[test]
fn errors() {
    let cases: [(&[&str], &[u8], i32, &str); 10] = [
        (&["u"], b"pw\n", 2, "expected USER and SECTIONS"),
        (&["u", "hr", "x"], b"pw\n", 2, "expected USER and SECTIONS"),
        (&["-x", "u", "hr"], b"pw\n", 2, "unknown option"),
        (&["-C"], b"pw\n", 2, "needs a value"),
        (&["-C", "x", "u", "hr"], b"pw\n", 2, "invalid cost"),
        (&["-C", "3", "u", "hr"], b"pw\n", 1, "out of range"),
        (&["u:x", "hr"], b"pw\n", 1, "invalid user name"),
        (&["u", "h-r"], b"pw\n", 1, "invalid section name"),
        (&["u", "hr,"], b"pw\n", 1, "empty section name"),
        (&["u", "hr"], b"\n", 1, "empty password"),
    ];
    for (args, stdin, code, message) in cases {
        let out = run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
