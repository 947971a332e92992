//! A direct reader for well-formed documents, the case every legitimate
//! request is: going through serde_json's visitor costs several times more
//! per token than the whole check may take.
//!
//! It only ever answers "accepted, and this is the tree" or "not sure".
//! Every "not sure" (any error, and whatever it does not handle itself) is
//! parsed again by the serde_json path, which gives the refusal its precise
//! reason in document order. So this reader may refuse more than serde_json
//! but never accept more, and must build the same tree; the
//! `json_differential` fuzz target compares the two.
//!
//! Input is a `str`: UTF-8 was checked by the caller, so only ASCII bytes
//! are ever looked at and every cut falls on a character boundary.

use std::borrow::Cow;

use super::{has_duplicate_key, Number, Value, MAX_DEPTH};

/// The whole of `text` as one document, or `None`.
pub(super) fn parse(text: &str) -> Option<Value<'_>> {
    let mut p = Parser {
        text,
        pos: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    (p.pos == text.len()).then_some(v)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Elements of the arrays being read, innermost last: a container's
    /// `Vec` is allocated once, at its exact size, when it closes.
    items: Vec<Value<'a>>,
    /// Members of the objects being read, likewise.
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos.checked_add(word.len())?;
        if self.text.as_bytes().get(self.pos..end)? != word.as_bytes() {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// `depth` counts the arrays and objects around the value, as the
    /// serde_json path does.
    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true").map(|()| Value::Bool(true)),
            b'f' => self.literal("false").map(|()| Value::Bool(false)),
            b'n' => self.literal("null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value<'a>> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(Value::Array(Vec::new()));
        }
        let start = self.items.len();
        loop {
            self.skip_ws();
            let item = self.value(depth + 1)?;
            self.items.push(item);
            self.skip_ws();
            match self.next()? {
                b',' => {}
                b']' => break,
                _ => return None,
            }
        }
        Some(Value::Array(self.items.drain(start..).collect()))
    }

    fn object(&mut self, depth: usize) -> Option<Value<'a>> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(Value::Object(Vec::new()));
        }
        let start = self.members.len();
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.next()? != b':' {
                return None;
            }
            self.skip_ws();
            let value = self.value(depth + 1)?;
            self.members.push((key, value));
            self.skip_ws();
            match self.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
        if has_duplicate_key(self.members.get(start..)?) {
            return None;
        }
        Some(Value::Object(self.members.drain(start..).collect()))
    }

    /// At the opening quote. Borrowed unless there is an escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        self.plain_run();
        match self.peek()? {
            b'"' => {
                let s = self.text.get(start..self.pos)?;
                self.pos += 1;
                return Some(Cow::Borrowed(s));
            }
            b'\\' => {}
            _ => return None,
        }
        let mut out = String::from(self.text.get(start..self.pos)?);
        loop {
            match self.next()? {
                b'"' => return Some(Cow::Owned(out)),
                b'\\' => out.push(self.escape()?),
                _ => return None,
            }
            let run = self.pos;
            self.plain_run();
            out.push_str(self.text.get(run..self.pos)?);
        }
    }

    /// Up to the next quote, backslash or control character (which JSON
    /// forbids raw in a string), or the end.
    fn plain_run(&mut self) {
        let rest = self.rest();
        self.pos += rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(rest.len());
    }

    /// After a backslash.
    fn escape(&mut self) -> Option<char> {
        Some(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        self.literal("\\u")?;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    // A lone surrogate is no character: left to serde_json
                    // to refuse, like any other error.
                    0xDC00..=0xDFFF => return None,
                    _ => first,
                };
                char::from_u32(code)?
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16)?;
            n = n * 16 + digit;
        }
        Some(n)
    }

    fn digits(&mut self) -> Option<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return None;
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Short integers are
    /// converted here; anything else goes through serde_json so that every
    /// float rounds, and every large or out-of-range number resolves,
    /// exactly as there.
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let int = self.text.get(int_start..self.pos)?;
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        // 18 digits always fit in an i64. serde_json reads `-0` as a float.
        if integer && int.len() <= 18 {
            let n = int.bytes().try_fold(0u64, |n, b| {
                let digit = char::from(b).to_digit(10)?;
                n.checked_mul(10)?.checked_add(u64::from(digit))
            })?;
            if !negative {
                return Some(Number::U(n));
            }
            if n != 0 {
                return Some(Number::I(i64::try_from(n).ok()?.checked_neg()?));
            }
        }
        match super::parse_serde(self.text.get(start..self.pos)?) {
            Ok(Value::Number(n)) => Some(n),
            _ => None,
        }
    }
}
