//! Strict JSON for request and response bodies.
//!
//! [`Doc::parse`] is the one way in: it reads exactly one document
//! (surrounding whitespace allowed) into a flat tape, [`Doc`], which
//! [`Doc::root`] and [`Val`] read. Everything here that reads JSON goes
//! through it: callback requests and replies, JSON cut out of an HTML page,
//! dict ids held as JSON text, and `/_dash-dependencies`.
//!
//! It refuses what serde_json would let through but Flask and our checks
//! might read differently: duplicate keys (Python keeps the last one, a
//! naive check the first), and nesting deeper than [`MAX_DEPTH`]; also
//! bodies over [`MAX_JSON_LEN`], a byte order mark, and invalid UTF-8
//! anywhere. [`JsonError`] says which.
//!
//! This runs on every callback request and reply, where per-token
//! allocations used to be most of the cost. So the tape is one allocation
//! per document, with strings without escapes borrowed from the body, and
//! two readers write it:
//!
//! - [`fast`], a direct reader, for the documents it is sure of (every
//!   well-formed Dash body);
//! - [`fallback`], serde_json with a visitor, for the rest: the reference,
//!   which also says what is wrong with a document.
//!
//! The rules above are the same on both paths, and both write the same
//! tape for the same document; the `json_differential` fuzz target (see
//! [`differential`]) holds them to it.

mod fallback;
mod fast;
pub(crate) mod skim;
mod tape;

pub use tape::{Doc, Kind, Val};

use std::fmt;

/// Deepest nesting of arrays and objects accepted. Dash bodies need about 6;
/// the bound keeps recursion far from the stack limit of an nginx worker.
pub const MAX_DEPTH: usize = 64;

/// Largest document parsed. Callback bodies carry component values (a
/// `dcc.Upload` sends whole files base64-encoded), so this is generous; it
/// exists so that one request cannot make a worker build an unbounded tape.
pub const MAX_JSON_LEN: usize = 32 * 1024 * 1024;

/// A number as serde_json reads it: unsigned, negative, or anything else
/// as a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    U(u64),
    I(i64),
    F(f64),
}

/// Why a document was refused. Messages never quote the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    TooLarge,
    NotUtf8,
    /// A UTF-8 byte order mark: Python's `json.loads(bytes)` skips it, a
    /// strict reader does not; refusing it avoids the question.
    Bom,
    DuplicateKey,
    TooDeep,
    /// serde_json's own message (position and category, no content).
    Syntax(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::TooLarge => write!(f, "JSON document is larger than {MAX_JSON_LEN} bytes"),
            JsonError::NotUtf8 => f.write_str("JSON document is not valid UTF-8"),
            JsonError::Bom => f.write_str("JSON document starts with a byte order mark"),
            JsonError::DuplicateKey => f.write_str("duplicate key in JSON object"),
            JsonError::TooDeep => write!(f, "JSON nesting deeper than {MAX_DEPTH}"),
            JsonError::Syntax(msg) => write!(f, "invalid JSON: {msg}"),
        }
    }
}

impl std::error::Error for JsonError {}

impl<'a> Doc<'a> {
    /// Reads exactly one JSON document (surrounding whitespace allowed),
    /// strictly (see the [module](self)). Strings without escapes borrow
    /// from `bytes`; [`Doc::into_owned`] makes a copy that does not.
    pub fn parse(bytes: &'a [u8]) -> Result<Doc<'a>, JsonError> {
        let text = checked_text(bytes)?;
        #[cfg(test)]
        if tests::FALLBACK_ONLY.get() {
            return fallback::parse(text);
        }
        match fast::parse(text) {
            Some(doc) => Ok(doc),
            // The direct reader leaves nothing valid to serde_json (the fuzz
            // target holds it to that), but if it did, this is still right.
            None => fallback::parse(text),
        }
    }
}

fn checked_text(bytes: &[u8]) -> Result<&str, JsonError> {
    if bytes.len() > MAX_JSON_LEN {
        return Err(JsonError::TooLarge);
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonError::Bom);
    }
    // Validating once up front gives invalid UTF-8 its own refusal wherever
    // it is, and lets serde_json read a `str`, which does not validate each
    // string again as `from_slice` does.
    std::str::from_utf8(bytes).map_err(|_| JsonError::NotUtf8)
}

/// Compares the direct reader with the serde_json one on `bytes`, for the
/// `json_differential` fuzz target: both must accept the same documents
/// with the same tape, and the same encoding of it. `Err` describes a
/// disagreement.
pub fn differential(bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = checked_text(bytes) else {
        return Ok(());
    };
    match (fast::parse(text), fallback::parse(text)) {
        (Some(fast), Ok(reference)) => {
            if fast != reference {
                return Err(format!("tapes differ: {fast:?} != {reference:?}"));
            }
            // `==` takes -0.0 for 0.0; the encoding does not.
            let (a, b) = (fast.root().to_json(), reference.root().to_json());
            if a != b {
                let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                return Err(format!("encodings differ: {a} != {b}"));
            }
            Ok(())
        }
        (Some(fast), Err(e)) => Err(format!("direct reader accepts ({fast:?}), serde_json: {e}")),
        (None, Ok(reference)) => Err(format!("direct reader refuses {reference:?}")),
        (None, Err(_)) => Ok(()),
    }
}

/// Objects up to this size are checked for duplicate keys pair by pair,
/// which allocates nothing; Dash objects have a handful of members.
const PAIRWISE_MAX: usize = 16;

/// Whether any of the `len` `keys` of one object repeats. Keys are compared
/// decoded, so `"a"` and `"\u0061"` are the same key.
fn has_duplicate_key<'k>(keys: impl Iterator<Item = &'k str> + Clone, len: usize) -> bool {
    if len <= PAIRWISE_MAX {
        return keys
            .clone()
            .enumerate()
            .any(|(i, key)| keys.clone().take(i).any(|earlier| earlier == key));
    }
    // Sorting is O(n log n); pairs or a linear search per key would let one
    // object with many keys cost quadratic time.
    let mut sorted: Vec<&str> = keys.collect();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w.first() == w.get(1))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// Makes [`Doc::parse`] skip the direct reader, so that a test can
        /// run the body checks on the fallback's tape.
        pub(super) static FALLBACK_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    fn fallback_only<R>(f: impl FnOnce() -> R) -> R {
        FALLBACK_ONLY.set(true);
        let r = f();
        FALLBACK_ONLY.set(false);
        r
    }

    /// A value of a tape as a tree, to compare with literals.
    #[derive(Debug, PartialEq)]
    enum Value<'d> {
        Null,
        Bool(bool),
        Number(Number),
        String(&'d str),
        Array(Vec<Value<'d>>),
        Object(Vec<(&'d str, Value<'d>)>),
    }

    impl<'d> Value<'d> {
        fn of(v: Val<'d, '_>) -> Value<'d> {
            match v.kind() {
                Kind::Null => Value::Null,
                Kind::Bool(b) => Value::Bool(b),
                Kind::Number(n) => Value::Number(n),
                Kind::String(s) => Value::String(s),
                Kind::Array(items) => Value::Array(items.map(Value::of).collect()),
                Kind::Object(members) => {
                    Value::Object(members.map(|(k, v)| (k, Value::of(v))).collect())
                }
            }
        }

        fn get(&self, key: &str) -> Option<&Value<'d>> {
            match self {
                Value::Object(members) => members.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }
    }

    fn parse(bytes: &[u8]) -> Result<Doc<'_>, JsonError> {
        Doc::parse(bytes)
    }

    #[test]
    fn accepts_and_decodes() {
        let doc = parse(br#" {"a":[1,-2,3.5,true,null],"\u0068r":"x\u00e9"} "#).unwrap();
        let v = Value::of(doc.root());
        assert_eq!(v.get("hr").and_then(Value::as_str), Some("x\u{e9}"));
        assert_eq!(
            v.get("a"),
            Some(&Value::Array(vec![
                Value::Number(Number::U(1)),
                Value::Number(Number::I(-2)),
                Value::Number(Number::F(3.5)),
                Value::Bool(true),
                Value::Null,
            ]))
        );
        assert_eq!(
            String::from_utf8(doc.root().to_json()).unwrap(),
            r#"{"a":[1,-2,3.5,true,null],"hr":"xé"}"#
        );
    }

    #[test]
    fn refusals() {
        let deep_ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(deep_ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(deep.as_bytes()), Err(JsonError::TooDeep));
        let bomb = "[".repeat(100_000);
        assert_eq!(parse(bomb.as_bytes()), Err(JsonError::TooDeep));
        let cases: [(&[u8], JsonError); 6] = [
            (br#"{"a":1,"a":2}"#, JsonError::DuplicateKey),
            (br#"{"a":1,"\u0061":2}"#, JsonError::DuplicateKey),
            (br#"[{"x":{"b":1,"b":1}}]"#, JsonError::DuplicateKey),
            (b"\xEF\xBB\xBF{}", JsonError::Bom),
            (b"{\"a\":\"\xff\"}", JsonError::NotUtf8),
            (b"{\"a\":\"\xc3\"}", JsonError::NotUtf8),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse(input),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        for bad in [
            &b"{} {}"[..],
            b"{}x",
            b"",
            b"{",
            b"NaN",
            b"[Infinity]",
            b"[1e400]",
            br#"["\ud800"]"#,
            b"[\"a\x01\"]",
            b"{'a':1}",
            b"[1,]",
            b"{\"a\":1,}",
            b"\x00{}",
        ] {
            assert!(
                matches!(parse(bad), Err(JsonError::Syntax(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse(b"{}\n\r\t ").is_ok());
    }

    /// Inputs where the direct reader and serde_json could part ways.
    #[test]
    fn direct_reader_agrees_with_serde_json() {
        let deep_ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let deep_obj = format!(
            "{}1{}",
            "{\"a\":".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let wide = format!("{{{}}}", members.join(","));
        let wide_dup = format!("{{{},\"k7\":0}}", members.join(","));
        let mut cases: Vec<&[u8]> = vec![
            deep_ok.as_bytes(),
            deep.as_bytes(),
            deep_obj.as_bytes(),
            wide.as_bytes(),
            wide_dup.as_bytes(),
        ];
        cases.extend([
            &b"null"[..],
            b"true",
            b"false",
            b"nul",
            b"tru",
            b"truex",
            b" [ ] ",
            b"{ }",
            b"[ 1 , 2 ]",
            b"0",
            b"-0",
            b"-0.0",
            b"00",
            b"01",
            b"-",
            b"-a",
            b"1.",
            b"1.e5",
            b".5",
            b"1e",
            b"1e+",
            b"1E-2",
            b"1e+2",
            b"2.5E3",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"123456789012345678",
            b"1234567890123456789",
            b"18446744073709551615",
            b"18446744073709551616",
            b"-123456789012345678",
            b"-9223372036854775808",
            b"-9223372036854775809",
            b"0.1",
            b"0.30000000000000004",
            b"1.7976931348623157e308",
            b"5e-324",
            b"123456789012345678901234567890.5e-10",
            b"+1",
            b"1_0",
            br#""""#,
            br#""a\"b""#,
            br#""\\""#,
            br#""\/""#,
            br#""\b\f\n\r\t""#,
            br#""\u0000""#,
            br#""\u00e9\u00E9""#,
            br#""\ud83d\ude00""#,
            br#""\uD83D\uDE00x""#,
            br#""\ud800""#,
            br#""\udc00""#,
            br#""\ud800\u0041""#,
            br#""\ud800\ud800""#,
            br#""\ud800x""#,
            br#""\u12""#,
            br#""\u12g4""#,
            br#""\u+123""#,
            br#""\x""#,
            br#""\'""#,
            br#""a"#,
            b"\"a\x01\"",
            b"\"a\x1f\"",
            b"\"a\x7f\"",
            b"\"\t\"",
            "\"\u{e9}\u{1F600}\"".as_bytes(),
            "\"\u{e9}\\n\u{1F600}\"".as_bytes(),
            br#"{"a":1,"a":2}"#,
            br#"{"a":1,"\u0061":2}"#,
            br#"{"\u0061":1,"a\u0000":2}"#,
            br#"{"a" : 1 , "b" : [ ] }"#,
            br#"{"":1,"":2}"#,
            br#"{"":1,"a":2}"#,
            br#"{"abcdefg":1,"abcdefg":2}"#,
            br#"{"abcdefg":1,"abcdefgh":2}"#,
            br#"{"abcdefgh":1,"abcdefgh":2}"#,
            br#"{"abcdefgh":1,"abcdefghi":2}"#,
            br#"{"abcdefghi":1,"abcdefghi":2}"#,
            br#"{"abcdefghi":1,"abcdefghj":2}"#,
            br#"{"abcdefghi":1,"b":0,"abcdefghi":2}"#,
            br#"{"x":{"a":1},"a":1}"#,
            br#"{"a":1,"ab":2,"a":3}"#,
            br#"{"ab":1,"b":{},"ab":2}"#,
            br#"{"a":1,}"#,
            br#"{,}"#,
            br#"{"a"}"#,
            br#"{"a":}"#,
            br#"{1:2}"#,
            br#"{"a":1 "b":2}"#,
            br#"[1 2]"#,
            br#"[1,]"#,
            br#"[,1]"#,
            b"[",
            b"{",
            b"",
            b" ",
            b"{} {}",
            b"[]]",
            b"{}x",
            b"NaN",
            b"[Infinity]",
            b"\x00{}",
            b"[\"a\"\x00]",
            b"\x0c[]",
            b"[]\x0b",
        ]);
        for input in cases {
            assert_eq!(
                differential(input),
                Ok(()),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn real_bodies_take_the_direct_reader() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dirs = [
            root.join("../dashboard/examples"),
            root.join("tests/fixtures"),
            root.join("tests/fixtures/responses"),
        ];
        let mut seen = 0;
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let doc = fast::parse(&text).unwrap();
                    // The fallback's tape, and an owned copy, are the same
                    // document.
                    let reference = fallback::parse(&text).unwrap();
                    assert_eq!(reference, doc, "{}", path.display());
                    assert_eq!(doc.clone().into_owned(), doc, "{}", path.display());
                    assert_eq!(
                        Value::of(doc.root()),
                        Value::of(reference.root()),
                        "{}",
                        path.display()
                    );
                    assert_eq!(
                        fallback_only(|| Doc::parse(text.as_bytes())),
                        Ok(doc.clone()),
                        "{}",
                        path.display()
                    );
                    assert_eq!(differential(text.as_bytes()), Ok(()), "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20);
    }

    /// The body checks answer the same on the fallback's tape as on the
    /// direct reader's, passes and denials alike.
    #[test]
    fn checks_agree_on_both_tapes() {
        use crate::dash::{
            check_callback_request, check_callback_response, filter_dependencies,
            index_has_validation_layout, Registry,
        };
        use crate::section::Sections;

        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |rel: &str| std::fs::read(root.join(rel)).unwrap();
        let bodies = |rel: &str| -> Vec<Vec<u8>> {
            let mut paths: Vec<_> = std::fs::read_dir(root.join(rel))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            paths.sort();
            paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
        };
        let requests = bodies("../dashboard/examples");
        let replies = bodies("tests/fixtures/responses");
        let deps = read("tests/fixtures/demo-dependencies.json");
        let registry = Registry::from_dependencies_json(&deps).unwrap();
        assert_eq!(
            fallback_only(|| Registry::from_dependencies_json(&deps)),
            Ok(registry.clone())
        );
        let sections = Sections::new(["hr", "marketing"]).unwrap();
        let ct = Some(&b"application/json"[..]);
        let (mut passed, mut denied) = (0, 0);
        let grants: [&[&str]; 4] = [&[], &["hr"], &["marketing"], &["_all_"]];
        for grant in grants {
            let allowed: Vec<String> = grant.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                fallback_only(|| filter_dependencies(&deps, &allowed, &sections)),
                filter_dependencies(&deps, &allowed, &sections),
                "{grant:?}"
            );
            for body in &requests {
                for reg in [None, Some(&registry)] {
                    let got = check_callback_request(body, ct, &allowed, &sections, reg);
                    let reference = fallback_only(|| {
                        check_callback_request(body, ct, &allowed, &sections, reg)
                    });
                    assert_eq!(
                        got,
                        reference,
                        "{grant:?} {}",
                        String::from_utf8_lossy(body)
                    );
                    if got.is_ok() {
                        passed += 1;
                    } else {
                        denied += 1;
                    }
                }
            }
            for body in &replies {
                let got = check_callback_response(body, &allowed, &sections);
                let reference =
                    fallback_only(|| check_callback_response(body, &allowed, &sections));
                assert_eq!(
                    got,
                    reference,
                    "{grant:?} {}",
                    String::from_utf8_lossy(body)
                );
                if got.is_ok() {
                    passed += 1;
                } else {
                    denied += 1;
                }
            }
        }
        for page in [
            "tests/fixtures/index-suppressed.html",
            "tests/fixtures/index-validation-layout.html",
        ] {
            let html = read(page);
            let got = index_has_validation_layout(&html);
            assert_eq!(fallback_only(|| index_has_validation_layout(&html)), got);
        }
        assert!(
            passed > 10 && denied > 10,
            "{passed} passed, {denied} denied"
        );
    }
}
