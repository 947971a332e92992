//! The reference reader: serde_json does the lexing (escapes, UTF-8,
//! numbers, trailing data), and the visitor here writes the same tape as
//! [`fast`](super::fast), refusing what serde_json would let through but
//! Flask and our checks might read differently (see [`super`]).
//!
//! Slower than the direct reader, but its refusals carry serde_json's
//! reason and position, and it is the definition the direct reader is held
//! to: it reads whatever that reader is not sure of.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::tape::{object_keys, offset, push_owned, Doc, Node};
use super::{has_duplicate_key, JsonError, Number, MAX_DEPTH};

/// The whole of `text` as one document.
pub(super) fn parse(text: &str) -> Result<Doc<'_>, JsonError> {
    let mut out = Builder {
        doc: Doc {
            nodes: Vec::new(),
            owned: String::new(),
        },
        failure: None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        depth: 0,
        out: &mut out,
    };
    match seed.deserialize(&mut de).and_then(|()| de.end()) {
        Ok(()) => Ok(out.doc),
        Err(e) => Err(out.failure.take().unwrap_or_else(|| syntax(&e))),
    }
}

/// One number, as serde_json reads it: what the direct reader hands over
/// for every number it does not convert itself, so that floats round, and
/// large or out-of-range numbers resolve, exactly as here. Writes no tape,
/// as documents full of floats (figures) come this way once per number.
pub(super) fn number(text: &str) -> Option<Number> {
    let mut de = serde_json::Deserializer::from_str(text);
    let n = de.deserialize_any(NumberOnly).ok()?;
    de.end().ok()?;
    Some(n)
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

/// The tape being written, and the precise reason for a refusal, carried
/// up past serde_json, whose custom errors are only strings.
struct Builder<'a> {
    doc: Doc<'a>,
    failure: Option<JsonError>,
}

impl Builder<'_> {
    fn fail<E: de::Error>(&mut self, why: JsonError) -> E {
        let msg = why.to_string();
        self.failure = Some(why);
        E::custom(msg)
    }

    /// Room for a container node, completed by [`Builder::close`].
    fn open(&mut self) -> usize {
        let at = self.doc.nodes.len();
        self.doc.nodes.push(Node::Null);
        at
    }

    /// The container node at `at`, given its span (every node pushed since
    /// [`Builder::open`], itself included).
    fn close(&mut self, at: usize, node: impl FnOnce(u32) -> Node<'static>) {
        let span = offset(self.doc.nodes.len().saturating_sub(at));
        if let Some(slot) = self.doc.nodes.get_mut(at) {
            *slot = node(span);
        }
    }
}

/// Writes one value, and carries the depth down the document: the arrays
/// and objects around the value, as the direct reader counts them.
struct Seed<'b, 'a> {
    depth: usize,
    out: &'b mut Builder<'a>,
}

impl<'b, 'a> Seed<'b, 'a> {
    /// The depth of a container's members.
    fn enter<E: de::Error>(&mut self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.out.fail(JsonError::TooDeep));
        }
        Ok(self.depth + 1)
    }

    fn push(self, node: Node<'a>) {
        self.out.doc.nodes.push(node);
    }

    fn push_owned(self, s: &str) {
        let span = push_owned(&mut self.out.doc.owned, s);
        self.out.doc.nodes.push(Node::OwnedStr(span));
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.push(Node::Null);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.push(Node::Bool(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.push(Node::U(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.push(Node::I(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.push(Node::F(v));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.push(Node::Str(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.push_owned(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let at = self.out.open();
        let mut len = 0usize;
        while seq
            .next_element_seed(Seed {
                depth,
                out: &mut *self.out,
            })?
            .is_some()
        {
            len += 1;
        }
        let len = offset(len);
        self.out.close(at, |span| Node::Array { len, span });
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let at = self.out.open();
        let mut len = 0usize;
        while map.next_key_seed(Key(&mut *self.out))?.is_some() {
            map.next_value_seed(Seed {
                depth,
                out: &mut *self.out,
            })?;
            len += 1;
        }
        // After the whole object, as a refusal found inside a member comes
        // first in the document.
        let doc = &self.out.doc;
        let members = doc.nodes.get(at + 1..).unwrap_or_default();
        if has_duplicate_key(object_keys(members, &doc.owned), len) {
            return Err(self.out.fail(JsonError::DuplicateKey));
        }
        let len = offset(len);
        self.out.close(at, |span| Node::Object { len, span });
        Ok(())
    }
}

/// Writes an object key, borrowed from the document when it has no escape.
struct Key<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for Key<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.0.doc.nodes.push(Node::Key(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        let span = push_owned(&mut self.0.doc.owned, v);
        self.0.doc.nodes.push(Node::OwnedKey(span));
        Ok(())
    }
}

/// Accepts a number and nothing else.
struct NumberOnly;

impl<'de> Visitor<'de> for NumberOnly {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
        Ok(Number::U(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
        Ok(Number::I(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
        Ok(Number::F(v))
    }
}
