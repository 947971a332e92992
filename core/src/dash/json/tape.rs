//! A parsed document as one flat list of nodes in document order, for the
//! checks that run on every request: one allocation per document instead
//! of one per object and array, and nothing to walk when it is dropped.
//!
//! A container node records how many nodes its whole subtree takes, itself
//! included, so a subtree is a self-contained slice: skipping a value is
//! one step, and copying one out (a dict id) is a slice copy. An object's
//! members are a `Key` node followed by the value's subtree.
//!
//! Strings without escapes borrow from the text; decoded copies of the
//! others (rare) are ranges of one side buffer. Nodes own nothing, so
//! dropping a tape frees two buffers at most without visiting a node.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::Number;

/// A decoded string's range in its document's [`Doc::owned`]. Documents
/// are at most [`MAX_JSON_LEN`](super::MAX_JSON_LEN) bytes, and a decoded
/// string is never longer than its escaped text, so `u32` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) at: u32,
    pub(super) len: u32,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    // Numbers flattened: a `Number` inside a node was copied through a
    // misaligned stack slot on every push.
    U(u64),
    I(i64),
    F(f64),
    Str(&'a str),
    OwnedStr(Span),
    Key(&'a str),
    OwnedKey(Span),
    Array { len: u32, span: u32 },
    Object { len: u32, span: u32 },
}

impl Node<'_> {
    fn span(&self) -> usize {
        match self {
            Node::Array { span, .. } | Node::Object { span, .. } => *span as usize,
            _ => 1,
        }
    }

    pub(super) fn number(n: Number) -> Self {
        match n {
            Number::U(n) => Node::U(n),
            Number::I(n) => Node::I(n),
            Number::F(n) => Node::F(n),
        }
    }
}

/// A decoded string of a document. Spans are the reader's own, so `None`
/// is never expected; it reads as no string.
pub(super) fn owned_str(owned: &str, span: Span) -> Option<&str> {
    let end = span.at.checked_add(span.len)? as usize;
    owned.get(span.at as usize..end)
}

/// A string value of a document, decoded.
fn node_string<'d>(node: &Node<'d>, owned: &'d str) -> Option<&'d str> {
    match *node {
        Node::Str(s) => Some(s),
        Node::OwnedStr(span) => owned_str(owned, span),
        _ => None,
    }
}

/// A member's key, decoded.
pub(super) fn node_key<'d>(node: &Node<'d>, owned: &'d str) -> Option<&'d str> {
    match *node {
        Node::Key(s) => Some(s),
        Node::OwnedKey(span) => owned_str(owned, span),
        _ => None,
    }
}

/// Appends a decoded copy to `owned`, for a string node.
pub(super) fn push_owned(owned: &mut String, s: &str) -> Span {
    let at = offset(owned.len());
    owned.push_str(s);
    Span {
        at,
        len: offset(s.len()),
    }
}

/// Bounded by the document's size, which fits (see [`Span`]); saturating
/// keeps an impossible overflow from wrapping to another string.
pub(super) fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A whole document (or a copy of one of its values).
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub(super) nodes: Vec<Node<'a>>,
    /// Decoded copies of the strings that held an escape, one after
    /// another.
    pub(super) owned: String,
}

/// Documents compare by content, whether a string is borrowed or decoded.
impl PartialEq for Doc<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.owned.as_str(), other.owned.as_str());
        self.nodes.len() == other.nodes.len()
            && self.nodes.iter().zip(&other.nodes).all(|pair| match pair {
                (Node::Null, Node::Null) => true,
                (Node::Bool(x), Node::Bool(y)) => x == y,
                (Node::U(x), Node::U(y)) => x == y,
                (Node::I(x), Node::I(y)) => x == y,
                (Node::F(x), Node::F(y)) => x == y,
                (Node::Array { len, span }, Node::Array { len: l, span: s })
                | (Node::Object { len, span }, Node::Object { len: l, span: s }) => {
                    len == l && span == s
                }
                (
                    x @ (Node::Str(_) | Node::OwnedStr(_)),
                    y @ (Node::Str(_) | Node::OwnedStr(_)),
                ) => node_string(x, a) == node_string(y, b),
                (
                    x @ (Node::Key(_) | Node::OwnedKey(_)),
                    y @ (Node::Key(_) | Node::OwnedKey(_)),
                ) => node_key(x, a) == node_key(y, b),
                _ => false,
            })
    }
}

impl<'a> Doc<'a> {
    pub fn root(&self) -> Val<'_, 'a> {
        Val {
            nodes: &self.nodes,
            owned: &self.owned,
        }
    }

    /// A copy that no longer borrows the text it was read from.
    pub fn into_owned(self) -> Doc<'static> {
        let mut owned = self.owned;
        let nodes = self
            .nodes
            .into_iter()
            .map(|n| match n {
                Node::Null => Node::Null,
                Node::Bool(b) => Node::Bool(b),
                Node::U(n) => Node::U(n),
                Node::I(n) => Node::I(n),
                Node::F(n) => Node::F(n),
                Node::Str(s) => Node::OwnedStr(push_owned(&mut owned, s)),
                Node::OwnedStr(span) => Node::OwnedStr(span),
                Node::Key(s) => Node::OwnedKey(push_owned(&mut owned, s)),
                Node::OwnedKey(span) => Node::OwnedKey(span),
                Node::Array { len, span } => Node::Array { len, span },
                Node::Object { len, span } => Node::Object { len, span },
            })
            .collect();
        Doc { nodes, owned }
    }
}

/// One value of a [`Doc`]: its subtree. `'d` is the document borrowed,
/// `'a` the text the document borrows.
#[derive(Debug, Clone, Copy)]
pub struct Val<'d, 'a> {
    nodes: &'d [Node<'a>],
    /// The document's decoded strings: a `&String` rather than a `&str`,
    /// one word instead of two, as `Val`s are copied often.
    owned: &'d String,
}

/// What a [`Val`] is, to match on.
#[derive(Debug, Clone)]
pub enum Kind<'d, 'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'d str),
    Array(Items<'d, 'a>),
    Object(Members<'d, 'a>),
}

impl<'d, 'a> Val<'d, 'a> {
    pub fn kind(self) -> Kind<'d, 'a> {
        let (first, rest) = match self.nodes.split_first() {
            Some(split) => split,
            // Never built; reads as the value that names nothing.
            None => return Kind::Null,
        };
        match *first {
            Node::Null | Node::Key(_) | Node::OwnedKey(_) => Kind::Null,
            Node::Bool(b) => Kind::Bool(b),
            Node::U(n) => Kind::Number(Number::U(n)),
            Node::I(n) => Kind::Number(Number::I(n)),
            Node::F(n) => Kind::Number(Number::F(n)),
            Node::Str(s) => Kind::String(s),
            Node::OwnedStr(span) => Kind::String(owned_str(self.owned, span).unwrap_or_default()),
            Node::Array { len, .. } => Kind::Array(Items {
                rest,
                owned: self.owned,
                left: len as usize,
            }),
            Node::Object { len, .. } => Kind::Object(Members {
                rest,
                owned: self.owned,
                left: len as usize,
            }),
        }
    }

    /// The member `key` of an object; `None` for other values.
    pub fn get(self, key: &str) -> Option<Val<'d, 'a>> {
        self.as_object()?.find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn as_str(self) -> Option<&'d str> {
        node_string(self.nodes.first()?, self.owned)
    }

    pub fn as_array(self) -> Option<Items<'d, 'a>> {
        match self.nodes.split_first()? {
            (Node::Array { len, .. }, rest) => Some(Items {
                rest,
                owned: self.owned,
                left: *len as usize,
            }),
            _ => None,
        }
    }

    pub fn as_object(self) -> Option<Members<'d, 'a>> {
        match self.nodes.split_first()? {
            (Node::Object { len, .. }, rest) => Some(Members {
                rest,
                owned: self.owned,
                left: *len as usize,
            }),
            _ => None,
        }
    }

    pub fn is_null(self) -> bool {
        matches!(self.nodes.first(), Some(Node::Null))
    }

    pub fn is_object(self) -> bool {
        matches!(self.nodes.first(), Some(Node::Object { .. }))
    }

    /// Every string value inside this one (itself included, keys not), in
    /// document order: the subtree's nodes in a row, no walk needed.
    pub fn strings(self) -> impl Iterator<Item = &'d str> {
        let owned = self.owned;
        self.nodes.iter().filter_map(move |n| node_string(n, owned))
    }

    /// This value as a document of its own. Only the subtree's decoded
    /// strings are copied: a dict id kept from a big document (the
    /// registry's) does not carry all of that document's.
    pub fn to_doc(self) -> Doc<'a> {
        if self.owned.is_empty() {
            return Doc {
                nodes: self.nodes.to_vec(),
                owned: String::new(),
            };
        }
        let mut owned = String::new();
        let nodes = self
            .nodes
            .iter()
            .map(|n| match *n {
                Node::OwnedStr(span) => Node::OwnedStr(push_owned(
                    &mut owned,
                    owned_str(self.owned, span).unwrap_or_default(),
                )),
                Node::OwnedKey(span) => Node::OwnedKey(push_owned(
                    &mut owned,
                    owned_str(self.owned, span).unwrap_or_default(),
                )),
                other => other,
            })
            .collect();
        Doc { nodes, owned }
    }

    /// Re-encodes compactly, with serde_json's escaping of strings and
    /// numbers.
    pub fn to_json(self) -> Vec<u8> {
        // Cannot fail: every number is finite and every key a string.
        serde_json::to_vec(&self).unwrap_or_default()
    }
}

/// Nesting is bounded by the readers' [`MAX_DEPTH`](super::MAX_DEPTH), so
/// the recursion is too.
impl Serialize for Val<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.kind() {
            Kind::Null => s.serialize_unit(),
            Kind::Bool(b) => s.serialize_bool(b),
            Kind::Number(Number::U(n)) => s.serialize_u64(n),
            Kind::Number(Number::I(n)) => s.serialize_i64(n),
            Kind::Number(Number::F(n)) => s.serialize_f64(n),
            Kind::String(v) => s.serialize_str(v),
            Kind::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
            Kind::Object(members) => {
                let mut map = s.serialize_map(Some(members.left))?;
                for (k, v) in members {
                    map.serialize_entry(k, &v)?;
                }
                map.end()
            }
        }
    }
}

/// The keys of an object's members, from the nodes after the object's own.
pub(super) fn object_keys<'n>(
    members: &'n [Node<'n>],
    owned: &'n str,
) -> impl Iterator<Item = &'n str> + Clone {
    let mut rest = members;
    std::iter::from_fn(move || {
        let (key, tail) = rest.split_first()?;
        let key = node_key(key, owned)?;
        let span = tail.first()?.span();
        rest = tail.get(span..)?;
        Some(key)
    })
}

/// The next value's subtree at the front of `rest`.
fn take<'d, 'a>(rest: &mut &'d [Node<'a>], owned: &'d String) -> Option<Val<'d, 'a>> {
    let span = rest.first()?.span();
    let (nodes, tail) = rest.split_at_checked(span)?;
    *rest = tail;
    Some(Val { nodes, owned })
}

/// The elements of an array, in order.
#[derive(Debug, Clone)]
pub struct Items<'d, 'a> {
    rest: &'d [Node<'a>],
    owned: &'d String,
    left: usize,
}

impl<'d, 'a> Iterator for Items<'d, 'a> {
    type Item = Val<'d, 'a>;

    fn next(&mut self) -> Option<Val<'d, 'a>> {
        self.left = self.left.checked_sub(1)?;
        take(&mut self.rest, self.owned)
    }

    // Exact for every tape the reader builds; a collect sizes its `Vec`
    // from it.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Items<'_, '_> {}

/// The members of an object, in order.
#[derive(Debug, Clone)]
pub struct Members<'d, 'a> {
    rest: &'d [Node<'a>],
    owned: &'d String,
    left: usize,
}

impl<'d, 'a> Members<'d, 'a> {
    /// The next member with its key node.
    fn next_member(&mut self) -> Option<(&'d Node<'a>, Val<'d, 'a>)> {
        self.left = self.left.checked_sub(1)?;
        let (key, tail) = self.rest.split_first()?;
        if !matches!(key, Node::Key(_) | Node::OwnedKey(_)) {
            return None;
        }
        self.rest = tail;
        Some((key, take(&mut self.rest, self.owned)?))
    }
}

impl<'d, 'a> Iterator for Members<'d, 'a> {
    type Item = (&'d str, Val<'d, 'a>);

    fn next(&mut self) -> Option<(&'d str, Val<'d, 'a>)> {
        let (key, v) = self.next_member()?;
        Some((node_key(key, self.owned)?, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fallback, fast};
    use super::*;

    #[test]
    fn nodes_own_nothing() {
        assert!(!std::mem::needs_drop::<Node<'_>>());
        assert_eq!(std::mem::size_of::<Node<'_>>(), 24);
    }

    #[test]
    fn decoded_strings_read_like_borrowed_ones() {
        let text = r#"{"a\u0062":["x\n",{"k":"\u00e9"}],"c":"plain","d":{"\\":"y\"z"}}"#;
        let doc = fast::parse(text).unwrap();
        let root = doc.root();
        assert_eq!(root.get("ab").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(
            root.strings().collect::<Vec<_>>(),
            ["x\n", "\u{e9}", "plain", "y\"z"]
        );
        assert_eq!(
            root.get("d").unwrap().get("\\").unwrap().as_str(),
            Some("y\"z")
        );
        let owned = doc.clone().into_owned();
        assert_eq!(owned, doc);
        assert_eq!(owned.root().get("c").unwrap().as_str(), Some("plain"));
        let sub = root.get("ab").unwrap().to_doc();
        assert_eq!(sub.root().strings().collect::<Vec<_>>(), ["x\n", "\u{e9}"]);
        // Only the subtree's decoded strings come along.
        assert_eq!(sub.owned, "x\n\u{e9}");
        assert_eq!(sub, fast::parse(r#"["x\n",{"k":"\u00e9"}]"#).unwrap());
        assert_eq!(fallback::parse(text).unwrap(), doc);
        // A different decoded string is a different document.
        let other =
            fast::parse(r#"{"a\u0062":["x\n",{"k":"\u00e8"}],"c":"plain","d":{"\\":"y\"z"}}"#)
                .unwrap();
        assert_ne!(other, doc);
    }
}
