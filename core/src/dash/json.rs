//! Strict JSON for request and response bodies.
//!
//! serde_json does the lexing (escapes, UTF-8, numbers, trailing data); the
//! visitor here builds a tree and refuses what serde_json would let through
//! but Flask and our checks might read differently: duplicate keys (Python
//! keeps the last one, a naive check the first), and nesting deeper than
//! [`MAX_DEPTH`].
//!
//! This runs on every callback request and reply, where per-token
//! allocations used to be most of the cost. So the checks read a flat
//! [`Doc`] (one allocation per document, strings without escapes borrowed
//! from the body) built by a direct reader ([`fast`]); serde_json reads only
//! what that reader does not accept, and says what is wrong with it. The
//! rules above are the same on both paths. [`parse`] gives a tree, for the
//! registry and other configuration-time readers.

mod fast;
mod tape;

pub use tape::{Doc, Kind, Val};

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Deepest nesting of arrays and objects accepted. Dash bodies need about 6;
/// the bound keeps recursion far from the stack limit of an nginx worker.
pub const MAX_DEPTH: usize = 64;

/// Largest document parsed. Callback bodies carry component values (a
/// `dcc.Upload` sends whole files base64-encoded), so this is generous; it
/// exists so that one request cannot make a worker build an unbounded tree.
pub const MAX_JSON_LEN: usize = 32 * 1024 * 1024;

/// A parsed JSON value. Objects keep their order and never hold a key twice.
/// Strings and keys borrow from the document unless they held an escape.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    U(u64),
    I(i64),
    F(f64),
}

impl<'a> Value<'a> {
    /// The member `key` of an object; `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// Re-encodes compactly (serde_json's escaping of strings and numbers).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing this tree to a Vec cannot fail: every number is finite
        // and every key is a string.
        serde_json::to_vec(self).unwrap_or_default()
    }
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

/// Parses exactly one JSON document (surrounding whitespace allowed) into a
/// tree.
pub fn parse(bytes: &[u8]) -> Result<Value<'_>, JsonError> {
    let text = checked_text(bytes)?;
    match fast::parse(text) {
        Some(doc) => Ok(doc.root().to_value()),
        None => parse_serde(text),
    }
}

/// [`parse`], into a flat [`Doc`]: what the per-request checks read.
pub fn parse_doc(bytes: &[u8]) -> Result<Doc<'_>, JsonError> {
    let text = checked_text(bytes)?;
    match fast::parse(text) {
        Some(doc) => Ok(doc),
        // The direct reader leaves nothing valid to serde_json (the fuzz
        // target holds it to that), but if it did, this is still right.
        None => parse_serde(text).map(|v| Doc::from_value(&v)),
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

/// The reference reader: serde_json and the visitor below. Slower, but its
/// refusals carry serde_json's reason and position.
fn parse_serde(text: &str) -> Result<Value<'_>, JsonError> {
    let failure = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        depth: 0,
        failure: &failure,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(failure.take().unwrap_or_else(|| syntax(&e))),
    }
}

/// Compares the direct reader with the serde_json one on `bytes`, for the
/// `json_differential` fuzz target: both must accept the same documents
/// with the same tree. `Err` describes a disagreement.
pub fn differential(bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    if bytes.len() > MAX_JSON_LEN || bytes.starts_with(b"\xEF\xBB\xBF") {
        return Ok(());
    }
    let fast = fast::parse(text);
    match (
        fast.as_ref().map(|d| d.root().to_value()),
        parse_serde(text),
    ) {
        (Some(fast), Ok(reference)) => {
            if fast != reference {
                return Err(format!("trees differ: {fast:?} != {reference:?}"));
            }
            // `==` takes -0.0 for 0.0; the encoding does not.
            let (a, b) = (fast.to_json(), reference.to_json());
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

fn syntax(e: &serde_json::Error) -> JsonError {
    // serde_json's syntax messages name a category and a position only, but
    // cap them anyway: they end up in the error log.
    let mut msg = e.to_string();
    if msg.len() > 120 {
        let mut cut = 120;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    JsonError::Syntax(msg)
}

/// Carries the depth down the tree, and the precise reason up past
/// serde_json, whose custom errors are only strings.
#[derive(Clone, Copy)]
struct Seed<'a> {
    depth: usize,
    failure: &'a Cell<Option<JsonError>>,
}

impl Seed<'_> {
    fn fail<E: de::Error>(&self, why: JsonError) -> E {
        let msg = why.to_string();
        self.failure.set(Some(why));
        E::custom(msg)
    }

    fn enter<E: de::Error>(&self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fail(JsonError::TooDeep));
        }
        Ok(Seed {
            depth: self.depth + 1,
            failure: self.failure,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::U(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::I(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::F(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let inner = self.enter()?;
        let mut members: Vec<(Cow<'de, str>, Value<'de>)> = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(inner)?;
            members.push((key, value));
        }
        if has_duplicate_key(members.iter().map(|(k, _)| k.as_ref()), members.len()) {
            return Err(self.fail(JsonError::DuplicateKey));
        }
        Ok(Value::Object(members))
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

/// An object key, borrowed from the document when it has no escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(Number::U(n)) => s.serialize_u64(*n),
            Value::Number(Number::I(n)) => s.serialize_i64(*n),
            Value::Number(Number::F(n)) => s.serialize_f64(*n),
            Value::String(v) => s.serialize_str(v),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_decodes() {
        let v = parse(br#" {"a":[1,-2,3.5,true,null],"\u0068r":"x\u00e9"} "#).unwrap();
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
            String::from_utf8(v.to_json()).unwrap(),
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
                    let tree = parse_serde(&text).unwrap();
                    assert_eq!(Doc::from_value(&tree), doc, "{}", path.display());
                    assert_eq!(doc.clone().into_owned(), doc, "{}", path.display());
                    assert_eq!(doc.root().to_value(), tree, "{}", path.display());
                    assert_eq!(differential(text.as_bytes()), Ok(()), "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20);
    }
}
