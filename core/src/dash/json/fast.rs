//! A direct reader for well-formed documents, the case every legitimate
//! request is: going through serde_json's visitor costs several times more
//! per token than the whole check may take.
//!
//! It writes a [`Doc`] tape, not a tree: one allocation per document.
//!
//! It only ever answers "accepted, and this is the tape" or "not sure".
//! Every "not sure" (any error, and whatever it does not handle itself) is
//! parsed again by the [`fallback`] reader, which gives the refusal its
//! precise reason in document order. So this reader may refuse more than
//! serde_json but never accept more, and must write the same tape; the
//! `json_differential` fuzz target compares the two.
//!
//! Input is a `str`: UTF-8 was checked by the caller, so only ASCII bytes
//! are ever looked at and every cut falls on a character boundary.

use super::tape::{object_keys, Doc, Node, Span};
use super::{fallback, has_duplicate_key, MAX_DEPTH};

/// Keys an object's duplicate check keeps as it reads them (Dash objects
/// have a handful); objects with more are checked when they close.
const KEYS_INLINE: usize = 8;

/// The whole of `text` as one document, or `None`.
pub(super) fn parse(text: &str) -> Option<Doc<'_>> {
    // Dash bodies take six to eight bytes of text a node (`"id":` and
    // `{"index":2,` are two); a guess on the small side regrows once, one
    // on the large side costs the allocator more on every request. The cap
    // keeps a huge body from reserving memory up front (and glibc from
    // serving it with mmap).
    let guess = (text.len() / 6).clamp(8, 4096);
    let mut p = Parser {
        text,
        pos: 0,
        nodes: Vec::with_capacity(guess),
        owned: String::new(),
    };
    p.skip_ws();
    p.value(0)?;
    p.skip_ws();
    (p.pos == text.len()).then_some(Doc {
        nodes: p.nodes,
        owned: p.owned,
    })
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    nodes: Vec<Node<'a>>,
    /// Decoded copies of strings with escapes (see [`Doc::owned`]).
    owned: String,
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

    #[cold]
    #[inline(never)]
    fn skip_ws(&mut self) {
        if !matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            return;
        }
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

    /// Appends the value's nodes. `depth` counts the arrays and objects
    /// around it, as the serde_json path does.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => return self.object(depth),
            b'[' => return self.array(depth),
            b'"' => {
                self.string()?;
            }
            b't' => {
                self.literal("true")?;
                self.nodes.push(Node::Bool(true));
            }
            b'f' => {
                self.literal("false")?;
                self.nodes.push(Node::Bool(false));
            }
            b'n' => {
                self.literal("null")?;
                self.nodes.push(Node::Null);
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            _ => return None,
        }
        Some(())
    }

    /// The container node goes first, completed when the container closes.
    fn open(&mut self, depth: usize) -> Option<usize> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let at = self.nodes.len();
        self.nodes.push(Node::Null);
        Some(at)
    }

    /// `node` with its span filled in.
    #[inline(always)]
    fn close(&mut self, at: usize, mut node: Node<'a>) -> Option<()> {
        let len = self.nodes.len();
        if let Node::Array { span, .. } | Node::Object { span, .. } = &mut node {
            *span = u32::try_from(len.checked_sub(at)?).ok()?;
        }
        *self.nodes.get_mut(at)? = node;
        Some(())
    }

    /// The next byte at or after `pos` that is not whitespace, left unread.
    /// The member loops keep their position in a local, not in `self.pos`,
    /// which every push (its growth path takes `&mut self.nodes`) would
    /// otherwise force back to memory; `self.pos` is only synced around the
    /// out-of-line readers.
    #[inline(always)]
    fn peek_at(&mut self, text: &'a str, pos: &mut usize) -> Option<u8> {
        let b = *text.as_bytes().get(*pos)?;
        if b > b' ' {
            return Some(b);
        }
        self.pos = *pos;
        self.skip_ws();
        *pos = self.pos;
        text.as_bytes().get(*pos).copied()
    }

    /// A value inside a container, from a local position: strings and
    /// short integers, most of them, are read in place rather than through
    /// another call of `value`.
    #[inline(always)]
    fn element_at(
        &mut self,
        text: &'a str,
        pos: &mut usize,
        depth: usize,
        first: u8,
    ) -> Option<()> {
        let bytes = text.as_bytes();
        match first {
            b'"' => {
                let start = *pos + 1;
                let end = start + plain_len(bytes.get(start..)?);
                match bytes.get(end)? {
                    b'"' => {
                        let s = str_between(text, start, end)?;
                        self.nodes.push(Node::Str(s));
                        *pos = end + 1;
                        Some(())
                    }
                    b'\\' => {
                        self.pos = *pos;
                        self.escaped_string(false)?;
                        *pos = self.pos;
                        Some(())
                    }
                    _ => None,
                }
            }
            b'0'..=b'9' => {
                if let Some((digits, n)) = small_uint(bytes.get(*pos..)?) {
                    *pos += digits;
                    self.nodes.push(Node::U(n));
                    return Some(());
                }
                self.pos = *pos;
                self.number()?;
                *pos = self.pos;
                Some(())
            }
            _ => {
                self.pos = *pos;
                // Not through `value`, which would look at `first` again.
                match first {
                    b'{' => self.object(depth)?,
                    b'[' => self.array(depth)?,
                    _ => self.value(depth)?,
                }
                *pos = self.pos;
                Some(())
            }
        }
    }

    /// A container's next value and the `,` or `close` after it; `true`
    /// once the container is closed.
    #[inline(always)]
    fn member_then(
        &mut self,
        text: &'a str,
        pos: &mut usize,
        depth: usize,
        close: u8,
    ) -> Option<bool> {
        let first = self.peek_at(text, pos)?;
        self.element_at(text, pos, depth + 1, first)?;
        let sep = self.peek_at(text, pos)?;
        *pos += 1;
        match sep {
            b',' => Some(false),
            b if b == close => Some(true),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        let at = self.open(depth)?;
        let text = self.text;
        let mut pos = self.pos;
        let mut len: u32 = 0;
        if self.peek_at(text, &mut pos)? == b']' {
            pos += 1;
        } else {
            loop {
                len += 1;
                if self.member_then(text, &mut pos, depth, b']')? {
                    break;
                }
            }
        }
        self.pos = pos;
        self.close(at, Node::Array { len, span: 0 })
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        let at = self.open(depth)?;
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = self.pos;
        let mut len: u32 = 0;
        // Each key's first eight bytes as a word, for a duplicate check with
        // no allocation, no second pass and no byte comparison: plain keys
        // have no NUL byte, so a key of up to seven bytes is all in its word
        // (zero above its end) and equal words mean equal keys. Longer keys
        // with equal words, an escaped key, or a big object, are checked
        // when the object closes instead.
        let mut words = [0u64; KEYS_INLINE];
        let mut check_at_end = false;
        if self.peek_at(text, &mut pos)? == b'}' {
            pos += 1;
        } else {
            loop {
                if self.peek_at(text, &mut pos)? != b'"' {
                    return None;
                }
                let start = pos + 1;
                let (plain, word) = plain_scan(bytes.get(start..)?);
                let end = start + plain;
                match bytes.get(end)? {
                    b'"' => {
                        let key = str_between(text, start, end)?;
                        self.nodes.push(Node::Key(key));
                        pos = end + 1;
                        if !check_at_end {
                            // Not `contains`, which is called out of line.
                            for earlier in words.iter().take(len as usize) {
                                if *earlier == word {
                                    if key.len() < 8 {
                                        return None;
                                    }
                                    check_at_end = true;
                                }
                            }
                            match words.get_mut(len as usize) {
                                Some(slot) => *slot = word,
                                None => check_at_end = true,
                            }
                        }
                    }
                    b'\\' => {
                        self.pos = pos;
                        self.escaped_string(true)?;
                        pos = self.pos;
                        check_at_end = true;
                    }
                    _ => return None,
                }
                if self.peek_at(text, &mut pos)? != b':' {
                    return None;
                }
                pos += 1;
                len += 1;
                if self.member_then(text, &mut pos, depth, b'}')? {
                    break;
                }
            }
        }
        self.pos = pos;
        if check_at_end {
            let members = self.nodes.get(at.checked_add(1)?..)?;
            if has_duplicate_key(object_keys(members, &self.owned), len as usize) {
                return None;
            }
        }
        self.close(at, Node::Object { len, span: 0 })
    }

    /// At the opening quote: appends the string as a node.
    #[inline(always)]
    fn string(&mut self) -> Option<()> {
        match self.plain_string()? {
            Some(s) => {
                self.nodes.push(Node::Str(s));
                Some(())
            }
            None => self.escaped_string(false),
        }
    }

    /// At the opening quote: the string if it has no escape (past its
    /// closing quote), `Some(None)` at its opening quote if it has one.
    /// Returned rather than pushed so that a key needs no second look at
    /// the tape for its duplicate check.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<Option<&'a str>> {
        let start = self.pos + 1;
        let end = start + plain_len(self.text.as_bytes().get(start..)?);
        match self.text.as_bytes().get(end)? {
            b'"' => {
                let s = str_between(self.text, start, end)?;
                self.pos = end + 1;
                Some(Some(s))
            }
            b'\\' => Some(None),
            _ => None,
        }
    }

    /// A string with an escape, from its opening quote, decoded onto the
    /// document's copies (left behind in them if it turns out wrong: the
    /// whole document is refused then).
    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self, key: bool) -> Option<()> {
        self.pos += 1;
        let at = self.owned.len();
        // Decoded strings are rare but come in small pieces (Dash's
        // `changedPropIds` are escaped JSON): one allocation, not several.
        if self.owned.capacity() == 0 {
            self.owned.reserve(64);
        }
        loop {
            let run = self.pos;
            self.plain_run();
            self.owned.push_str(self.text.get(run..self.pos)?);
            match self.next()? {
                b'"' => {
                    let span = Span {
                        at: u32::try_from(at).ok()?,
                        len: u32::try_from(self.owned.len() - at).ok()?,
                    };
                    self.nodes.push(if key {
                        Node::OwnedKey(span)
                    } else {
                        Node::OwnedStr(span)
                    });
                    return Some(());
                }
                b'\\' => {
                    let c = self.escape()?;
                    self.owned.push(c);
                }
                _ => return None,
            }
        }
    }

    /// Up to the next quote, backslash or control character (which JSON
    /// forbids raw in a string), or the end.
    #[inline(always)]
    fn plain_run(&mut self) {
        self.pos += plain_len(self.rest());
    }

    /// After a backslash.
    #[inline(always)]
    fn escape(&mut self) -> Option<char> {
        escape_at(self.text.as_bytes(), &mut self.pos)
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
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        // Wraps on long integers, but is only used for those of at most 18
        // digits, which cannot wrap.
        let mut n: u64 = 0;
        match self.next()? {
            b'0' => {}
            first @ b'1'..=b'9' => {
                n = u64::from(first - b'0');
                while let Some(b @ b'0'..=b'9') = self.peek() {
                    n = n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let digits = self.pos - int_start;
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
        if integer && digits <= 18 {
            if !negative {
                self.nodes.push(Node::U(n));
                return Some(());
            }
            if n != 0 {
                let n = i64::try_from(n).ok()?.checked_neg()?;
                self.nodes.push(Node::I(n));
                return Some(());
            }
        }
        let n = fallback::number(self.text.get(start..self.pos)?)?;
        self.nodes.push(Node::number(n));
        Some(())
    }
}

/// The escape after a backslash at `*pos` in `text`, moving `pos` past it.
pub(super) fn escape_at(text: &[u8], pos: &mut usize) -> Option<char> {
    let mut next = || {
        let b = text.get(*pos).copied();
        *pos += 1;
        b
    };
    Some(match next()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let first = hex4(&mut next)?;
            let code = match first {
                0xD800..=0xDBFF => {
                    if (next()?, next()?) != (b'\\', b'u') {
                        return None;
                    }
                    let second = hex4(&mut next)?;
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

fn hex4(next: &mut impl FnMut() -> Option<u8>) -> Option<u32> {
    let mut n = 0;
    for _ in 0..4 {
        let digit = char::from(next()?).to_digit(16)?;
        n = n * 16 + digit;
    }
    Some(n)
}

/// How many bytes at the start of `bytes` may stand in a string as they
/// are: not a quote, a backslash or a control character. Eight bytes at a
/// time (see [`stops`]); most strings end in the first word.
#[inline(always)]
pub(super) fn plain_len(bytes: &[u8]) -> usize {
    let mut done = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let stop = stops(u64::from_le_bytes(word));
        if stop != 0 {
            return done + (stop.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done + words
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(words.remainder().len())
}

/// `text[start..end]`, but not through `get(start..end)`, which the
/// compiler calls out of line.
#[inline(always)]
pub(super) fn str_between(text: &str, start: usize, end: usize) -> Option<&str> {
    let (_, s) = text.split_at_checked(end)?.0.split_at_checked(start)?;
    Some(s)
}

/// [`plain_len`], and the string's first (up to) eight bytes as a
/// little-endian word, zero above the string's end: keys compare by it.
#[inline(always)]
fn plain_scan(bytes: &[u8]) -> (usize, u64) {
    let Some(first) = bytes.first_chunk::<8>() else {
        let len = plain_len(bytes);
        let word = bytes
            .iter()
            .take(len.min(8))
            .rev()
            .fold(0, |word, &b| word << 8 | u64::from(b));
        return (len, word);
    };
    let w = u64::from_le_bytes(*first);
    let stop = stops(w);
    if stop != 0 {
        // At most 7 bytes, so the shift stays below 64.
        let len = stop.trailing_zeros() / 8;
        return (len as usize, w & ((1u64 << (len * 8)) - 1));
    }
    // Keys of eight to fifteen bytes are common (`property`): their end is
    // found in the second word without the loop's setup.
    let rest = bytes.get(8..).unwrap_or_default();
    if let Some(second) = rest.first_chunk::<8>() {
        let stop = stops(u64::from_le_bytes(*second));
        if stop != 0 {
            return (8 + (stop.trailing_zeros() / 8) as usize, w);
        }
    }
    (8 + plain_len(rest), w)
}

/// The common number, an unsigned integer of up to 18 digits, at the start
/// of `rest`: its length and value; `None` for anything else, left to
/// [`Parser::number`].
#[inline(always)]
fn small_uint(rest: &[u8]) -> Option<(usize, u64)> {
    let mut n: u64 = 0;
    let mut digits = 0;
    for &b in rest.iter().take(19) {
        if !b.is_ascii_digit() {
            break;
        }
        n = n * 10 + u64::from(b - b'0');
        digits += 1;
    }
    // 19 digits read means at least 19 in the number: too long here.
    let plain = (1..=18).contains(&digits)
        && !matches!(rest.get(digits), Some(b'.' | b'e' | b'E'))
        && (digits == 1 || rest.first() != Some(&b'0'));
    plain.then_some((digits, n))
}

/// The high bit set in each byte of the little-endian word `w` that is a
/// quote, a backslash or a control character (the usual bit tricks on a
/// `u64`). Each test sets a byte's high bit where that byte matches, and may
/// also set it in bytes after a true match (a borrow carries upward), never
/// before one, so the lowest set bit is the first match.
#[inline(always)]
fn stops(w: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    quote | backslash | control
}
