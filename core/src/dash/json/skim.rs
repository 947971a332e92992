//! Reading a document once, front to back, without keeping it: for the
//! replies, which are large (a page's layout, a figure's data) and of which
//! a check needs a few member names and the strings under them.
//!
//! The grammar is the strict one of [`Doc::parse`](super::Doc::parse)
//! (UTF-8 checked first, no byte order mark, no trailing commas, no
//! comments, nesting at most [`MAX_DEPTH`]), but nothing is built: a
//! [`Visit`] is told where each value sits and what each string is, and
//! numbers are checked for their grammar only, as no check reads one. Keys
//! may repeat: a visitor that looks at every occurrence of a member cannot
//! be fooled by the one a browser would keep.

use std::borrow::Cow;

use super::fast::{escape_at, plain_len, str_between};
use super::{checked_text, JsonError, MAX_DEPTH};

/// What a value is, told to [`Visit::value`] before its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Object,
    Array,
    String,
    /// `null`.
    Null,
    /// A number, `true` or `false`.
    Scalar,
}

/// A string as it stands in the text, decoded only when asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a> {
    /// Between the quotes.
    raw: &'a str,
    escaped: bool,
}

impl<'a> Text<'a> {
    /// The first byte of the string's text, escapes not decoded: enough to
    /// tell that a string cannot start a document.
    pub(crate) fn first_raw(&self) -> Option<u8> {
        self.raw.as_bytes().first().copied()
    }

    #[inline]
    pub(crate) fn decoded(&self) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(self.raw);
        }
        self.decode()
    }

    #[cold]
    fn decode(&self) -> Cow<'a, str> {
        let bytes = self.raw.as_bytes();
        let mut out = String::with_capacity(self.raw.len());
        let mut pos = 0;
        while pos < bytes.len() {
            let run = plain_len(bytes.get(pos..).unwrap_or_default());
            out.push_str(self.raw.get(pos..pos + run).unwrap_or_default());
            pos += run + 1;
            // Checked when it was read: every backslash starts an escape.
            if let Some(c) = escape_at(bytes, &mut pos) {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }
}

/// Told where each value of a document stands. `Ctx` is the visitor's own
/// idea of a position ("under a `props` member", "a component id"): it
/// gives the root's, and derives each member's and element's from its
/// container's.
///
/// A visitor stops the reading with [`Halt`], keeping its reason itself:
/// a one-byte error keeps every step's result in a register.
pub(crate) trait Visit {
    type Ctx: Copy;

    /// The context of the member `key` of an object in `object`.
    fn member(&mut self, object: Self::Ctx, key: &str) -> Result<Self::Ctx, Halt>;
    /// The context of an element of an array in `array`.
    fn element(&mut self, array: Self::Ctx) -> Self::Ctx;
    /// A value in `ctx` begins.
    fn value(&mut self, ctx: Self::Ctx, shape: Shape) -> Result<(), Halt>;
    /// A string value in `ctx` (after [`value`](Visit::value)).
    fn string(&mut self, ctx: Self::Ctx, text: Text<'_>) -> Result<(), Halt>;
    /// An object or array in `ctx` ended.
    fn end(&mut self, ctx: Self::Ctx) -> Result<(), Halt>;
}

/// A visitor's "stop here".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Halt;

/// Why a skim stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Not one strict JSON document. The reason is the tape reader's,
    /// which reads it again to say precisely what is wrong.
    Json(JsonError),
    /// The visitor halted it.
    Halted,
}

/// Reads `bytes` as one document, telling `visitor` about it, with `root`
/// the root value's context.
pub(crate) fn skim<V: Visit>(bytes: &[u8], root: V::Ctx, visitor: &mut V) -> Result<(), Stopped> {
    let text = checked_text(bytes).map_err(Stopped::Json)?;
    let mut r = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    r.ws();
    let done = r.value(root, 0, visitor).and_then(|()| {
        r.ws();
        if r.pos == r.bytes.len() {
            Ok(())
        } else {
            Err(Fault::Json)
        }
    });
    match done {
        Ok(()) => Ok(()),
        Err(Fault::Halted) => Err(Stopped::Halted),
        Err(Fault::Json) => Err(Stopped::Json(why(bytes))),
    }
}

/// The tape reader's reason for refusing `bytes`. It should refuse what
/// this reader did; if it accepts, the two disagree, which still refuses.
#[cold]
fn why(bytes: &[u8]) -> JsonError {
    match super::Doc::parse(bytes) {
        Err(e) => e,
        Ok(_) => JsonError::Syntax("not read the same way by both readers".to_owned()),
    }
}

#[derive(Clone, Copy)]
enum Fault {
    Json,
    Halted,
}

impl From<Halt> for Fault {
    fn from(_: Halt) -> Fault {
        Fault::Halted
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

type Step = Result<(), Fault>;

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Step {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Fault::Json)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Step {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) != Some(word) {
            return Err(Fault::Json);
        }
        self.pos = end;
        Ok(())
    }

    fn value<V: Visit>(&mut self, ctx: V::Ctx, depth: usize, v: &mut V) -> Step {
        let shape = match self.peek() {
            Some(b'{') => Shape::Object,
            Some(b'[') => Shape::Array,
            Some(b'"') => Shape::String,
            Some(b'n') => Shape::Null,
            Some(b't' | b'f' | b'-' | b'0'..=b'9') => Shape::Scalar,
            _ => return Err(Fault::Json),
        };
        v.value(ctx, shape).map_err(Fault::from)?;
        match shape {
            Shape::Object => self.object(ctx, depth, v),
            Shape::Array => self.array(ctx, depth, v),
            Shape::String => {
                let text = self.string()?;
                v.string(ctx, text).map_err(Fault::from)
            }
            Shape::Null => self.literal(b"null"),
            Shape::Scalar => match self.peek() {
                Some(b't') => self.literal(b"true"),
                Some(b'f') => self.literal(b"false"),
                _ => self.number(),
            },
        }
    }

    fn object<V: Visit>(&mut self, ctx: V::Ctx, depth: usize, v: &mut V) -> Step {
        if !self.open(depth, b'}')? {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(Fault::Json);
                }
                let key = self.string()?;
                let child = v.member(ctx, &key.decoded())?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                self.value(child, depth + 1, v)?;
                if self.next_or_close(b'}')? {
                    break;
                }
            }
        }
        Ok(v.end(ctx)?)
    }

    fn array<V: Visit>(&mut self, ctx: V::Ctx, depth: usize, v: &mut V) -> Step {
        if !self.open(depth, b']')? {
            let child = v.element(ctx);
            loop {
                self.value(child, depth + 1, v)?;
                if self.next_or_close(b']')? {
                    break;
                }
            }
        }
        Ok(v.end(ctx)?)
    }

    /// At an object's or array's opening bracket: past it, and past
    /// `close` too if the container is empty (then `true`).
    fn open(&mut self, depth: usize, close: u8) -> Result<bool, Fault> {
        if depth >= MAX_DEPTH {
            return Err(Fault::Json);
        }
        self.pos += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        Ok(empty)
    }

    /// After a member or element: past the comma before the next one
    /// (`false`), or past `close` (`true`).
    fn next_or_close(&mut self, close: u8) -> Result<bool, Fault> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.ws();
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(Fault::Json),
        }
    }

    /// At the opening quote: the string, past its closing quote. Escapes
    /// are checked here, decoded only if the visitor asks.
    #[inline(always)]
    fn string(&mut self) -> Result<Text<'a>, Fault> {
        let start = self.pos + 1;
        let mut pos = start;
        let mut escaped = false;
        loop {
            pos += plain_len(self.bytes.get(pos..).unwrap_or_default());
            match self.bytes.get(pos) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    pos += 1;
                    escape_at(self.bytes, &mut pos).ok_or(Fault::Json)?;
                }
                // A raw control character, or the end of the text.
                _ => return Err(Fault::Json),
            }
        }
        let raw = str_between(self.text, start, pos).ok_or(Fault::Json)?;
        self.pos = pos + 1;
        Ok(Text { raw, escaped })
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, not converted.
    fn number(&mut self) -> Step {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Fault::Json),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Step {
        let at = self.pos;
        self.digits();
        if self.pos == at {
            Err(Fault::Json)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes down what it is told, to compare with the tape reader.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl Visit for Log {
        type Ctx = usize;

        fn member(&mut self, depth: usize, key: &str) -> Result<usize, Halt> {
            self.0.push(format!("{depth}:key {key}"));
            Ok(depth + 1)
        }
        fn element(&mut self, depth: usize) -> usize {
            depth + 1
        }
        fn value(&mut self, depth: usize, shape: Shape) -> Result<(), Halt> {
            self.0.push(format!("{depth}:{shape:?}"));
            Ok(())
        }
        fn string(&mut self, depth: usize, text: Text<'_>) -> Result<(), Halt> {
            self.0.push(format!("{depth}:str {}", text.decoded()));
            Ok(())
        }
        fn end(&mut self, depth: usize) -> Result<(), Halt> {
            self.0.push(format!("{depth}:end"));
            Ok(())
        }
    }

    fn log(text: &str) -> Result<Vec<String>, Stopped> {
        let mut l = Log::default();
        skim(text.as_bytes(), 0, &mut l).map(|()| l.0)
    }

    #[test]
    fn tells_where_each_value_stands() {
        assert_eq!(
            log(
                r#" {"a\u0062":["x\n",{"k":"\u00e9\ud83d\ude00"}],"c":-1.5e+3,"d":null,"e":true} "#
            )
            .unwrap(),
            [
                "0:Object",
                "0:key ab",
                "1:Array",
                "2:String",
                "2:str x\n",
                "2:Object",
                "2:key k",
                "3:String",
                "3:str \u{e9}\u{1f600}",
                "2:end",
                "1:end",
                "0:key c",
                "1:Scalar",
                "0:key d",
                "1:Null",
                "0:key e",
                "1:Scalar",
                "0:end",
            ]
        );
        assert_eq!(log("[]").unwrap(), ["0:Array", "0:end"]);
        assert_eq!(log(r#""""#).unwrap(), ["0:String", "0:str "]);
    }

    /// The same documents as the tape reader, with its reasons.
    #[test]
    fn refuses_what_the_tape_reader_refuses() {
        let deep_ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(log(&deep_ok).is_ok());
        let cases = [
            deep,
            "".into(),
            " ".into(),
            "{".into(),
            "[1,]".into(),
            "{\"a\":1,}".into(),
            "{\"a\" 1}".into(),
            "{a:1}".into(),
            "[01]".into(),
            "[1.]".into(),
            "[.5]".into(),
            "[1e]".into(),
            "[-]".into(),
            "[+1]".into(),
            "[NaN]".into(),
            "[tru]".into(),
            "[nul]".into(),
            "\"\\x\"".into(),
            "\"\\ud800\"".into(),
            "\"\\udc00\"".into(),
            "\"\\u12\"".into(),
            "\"a\tb\"".into(),
            "\"abc".into(),
            "{} {}".into(),
            "\u{feff}{}".into(),
            "[1] x".into(),
        ];
        for text in cases {
            let Err(Stopped::Json(e)) = log(&text) else {
                panic!("accepted {text:?}")
            };
            assert_eq!(
                Err(e),
                super::super::Doc::parse(text.as_bytes()).map(|_| ())
            );
        }
        assert_eq!(
            skim(b"[\"\xff\"]", 0, &mut Log::default()),
            Err(Stopped::Json(JsonError::NotUtf8))
        );
    }

    #[test]
    fn accepts_what_the_tape_reader_accepts() {
        for text in [
            r#"{"a":[1,-0,0.5,1E9,-2e-3,123456789012345678901234567890,"\/\b\f\n\r\t\"\\"]}"#,
            r#"{"a":1,"a":2}"#,
            "\t[ {\"x\" : [ ] } ]\r\n",
        ] {
            assert!(log(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_visitor_can_stop_it() {
        struct StopAt(&'static str, Option<String>);
        impl Visit for StopAt {
            type Ctx = ();
            fn member(&mut self, (): (), key: &str) -> Result<(), Halt> {
                if key == self.0 {
                    self.1 = Some(key.to_owned());
                    Err(Halt)
                } else {
                    Ok(())
                }
            }
            fn element(&mut self, (): ()) {}
            fn value(&mut self, (): (), _: Shape) -> Result<(), Halt> {
                Ok(())
            }
            fn string(&mut self, (): (), _: Text<'_>) -> Result<(), Halt> {
                Ok(())
            }
            fn end(&mut self, (): ()) -> Result<(), Halt> {
                Ok(())
            }
        }
        let mut at_b = StopAt("b", None);
        assert_eq!(
            skim(br#"{"a":{"b":1}}"#, (), &mut at_b),
            Err(Stopped::Halted)
        );
        assert_eq!(at_b.1.as_deref(), Some("b"));
        assert_eq!(
            skim(br#"{"a":{"b":1}}"#, (), &mut StopAt("c", None)),
            Ok(())
        );
    }
}
