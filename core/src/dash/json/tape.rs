//! A parsed document as one flat list of nodes in document order, for the
//! checks that run on every request: one allocation per document instead
//! of one per object and array, and nothing to walk when it is dropped.
//!
//! A container node records how many nodes its whole subtree takes, itself
//! included, so a subtree is a self-contained slice: skipping a value is
//! one step, and copying one out (a dict id) is a slice copy. An object's
//! members are a `Key` node followed by the value's subtree.

use std::borrow::Cow;

use super::{Number, Value};

/// Strings without escapes borrow from the text; the others (rare) own a
/// decoded copy. Not `Cow`: 24 bytes a node instead of 32, and no odd
/// offsets for the compiler to copy through.
#[derive(Debug, Clone)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    // Numbers flattened: a `Number` inside a node was copied through a
    // misaligned stack slot on every push.
    U(u64),
    I(i64),
    F(f64),
    Str(&'a str),
    OwnedStr(Box<str>),
    Key(&'a str),
    OwnedKey(Box<str>),
    Array { len: usize, span: usize },
    Object { len: usize, span: usize },
}

/// Strings compare by content, borrowed or not, as `Cow`s do.
impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::U(a), Node::U(b)) => a == b,
            (Node::I(a), Node::I(b)) => a == b,
            (Node::F(a), Node::F(b)) => a == b,
            (Node::Array { len, span }, Node::Array { len: l, span: s })
            | (Node::Object { len, span }, Node::Object { len: l, span: s }) => {
                len == l && span == s
            }
            (Node::Str(_) | Node::OwnedStr(_), Node::Str(_) | Node::OwnedStr(_)) => {
                self.string() == other.string()
            }
            (Node::Key(_) | Node::OwnedKey(_), Node::Key(_) | Node::OwnedKey(_)) => {
                self.key() == other.key()
            }
            _ => false,
        }
    }
}

impl<'a> Node<'a> {
    fn span(&self) -> usize {
        match self {
            Node::Array { span, .. } | Node::Object { span, .. } => *span,
            _ => 1,
        }
    }

    /// A string value, decoded.
    fn string(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            Node::OwnedStr(s) => Some(s),
            _ => None,
        }
    }

    /// A member's key, decoded.
    fn key(&self) -> Option<&str> {
        match self {
            Node::Key(k) => Some(k),
            Node::OwnedKey(k) => Some(k),
            _ => None,
        }
    }

    pub(super) fn number(n: Number) -> Node<'a> {
        match n {
            Number::U(n) => Node::U(n),
            Number::I(n) => Node::I(n),
            Number::F(n) => Node::F(n),
        }
    }

    pub(super) fn from_string(s: Cow<'a, str>) -> Node<'a> {
        match s {
            Cow::Borrowed(s) => Node::Str(s),
            Cow::Owned(s) => Node::OwnedStr(s.into_boxed_str()),
        }
    }

    pub(super) fn from_key(s: Cow<'a, str>) -> Node<'a> {
        match s {
            Cow::Borrowed(s) => Node::Key(s),
            Cow::Owned(s) => Node::OwnedKey(s.into_boxed_str()),
        }
    }
}

/// A node's string as the tree holds it.
fn cow<'a>(borrowed: Option<&'a str>, owned: Option<&str>) -> Cow<'a, str> {
    match (borrowed, owned) {
        (Some(s), _) => Cow::Borrowed(s),
        (None, Some(s)) => Cow::Owned(s.to_owned()),
        (None, None) => Cow::Borrowed(""),
    }
}

/// A whole document (or a copy of one of its values).
#[derive(Debug, Clone, PartialEq)]
pub struct Doc<'a> {
    pub(super) nodes: Vec<Node<'a>>,
}

impl<'a> Doc<'a> {
    pub fn root(&self) -> Val<'_, 'a> {
        Val { nodes: &self.nodes }
    }

    /// A copy that no longer borrows the text it was read from.
    pub fn into_owned(self) -> Doc<'static> {
        let nodes = self
            .nodes
            .into_iter()
            .map(|n| match n {
                Node::Null => Node::Null,
                Node::Bool(b) => Node::Bool(b),
                Node::U(n) => Node::U(n),
                Node::I(n) => Node::I(n),
                Node::F(n) => Node::F(n),
                Node::Str(s) => Node::OwnedStr(s.into()),
                Node::OwnedStr(s) => Node::OwnedStr(s),
                Node::Key(s) => Node::OwnedKey(s.into()),
                Node::OwnedKey(s) => Node::OwnedKey(s),
                Node::Array { len, span } => Node::Array { len, span },
                Node::Object { len, span } => Node::Object { len, span },
            })
            .collect();
        Doc { nodes }
    }

    /// The same document as a tree.
    pub fn from_value(v: &Value<'a>) -> Doc<'a> {
        let mut nodes = Vec::new();
        push_value(&mut nodes, v);
        Doc { nodes }
    }
}

fn push_value<'a>(nodes: &mut Vec<Node<'a>>, v: &Value<'a>) {
    let at = nodes.len();
    match v {
        Value::Null => nodes.push(Node::Null),
        Value::Bool(b) => nodes.push(Node::Bool(*b)),
        Value::Number(n) => nodes.push(Node::number(*n)),
        Value::String(s) => nodes.push(Node::from_string(s.clone())),
        Value::Array(items) => {
            nodes.push(Node::Null);
            for item in items {
                push_value(nodes, item);
            }
            let span = nodes.len() - at;
            if let Some(n) = nodes.get_mut(at) {
                *n = Node::Array {
                    len: items.len(),
                    span,
                };
            }
        }
        Value::Object(members) => {
            nodes.push(Node::Null);
            for (k, item) in members {
                nodes.push(Node::from_key(k.clone()));
                push_value(nodes, item);
            }
            let span = nodes.len() - at;
            if let Some(n) = nodes.get_mut(at) {
                *n = Node::Object {
                    len: members.len(),
                    span,
                };
            }
        }
    }
}

/// One value of a [`Doc`]: its subtree. `'d` is the document borrowed,
/// `'a` the text the document borrows.
#[derive(Debug, Clone, Copy)]
pub struct Val<'d, 'a> {
    nodes: &'d [Node<'a>],
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
        match first {
            Node::Null | Node::Key(_) | Node::OwnedKey(_) => Kind::Null,
            Node::Bool(b) => Kind::Bool(*b),
            Node::U(n) => Kind::Number(Number::U(*n)),
            Node::I(n) => Kind::Number(Number::I(*n)),
            Node::F(n) => Kind::Number(Number::F(*n)),
            Node::Str(s) => Kind::String(s),
            Node::OwnedStr(s) => Kind::String(s),
            Node::Array { len, .. } => Kind::Array(Items { rest, left: *len }),
            Node::Object { len, .. } => Kind::Object(Members { rest, left: *len }),
        }
    }

    /// The member `key` of an object; `None` for other values.
    pub fn get(self, key: &str) -> Option<Val<'d, 'a>> {
        self.as_object()?.find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn as_str(self) -> Option<&'d str> {
        self.nodes.first()?.string()
    }

    pub fn as_array(self) -> Option<Items<'d, 'a>> {
        match self.kind() {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(self) -> Option<Members<'d, 'a>> {
        match self.kind() {
            Kind::Object(members) => Some(members),
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
        self.nodes.iter().filter_map(Node::string)
    }

    /// This value as a document of its own.
    pub fn to_doc(self) -> Doc<'a> {
        Doc {
            nodes: self.nodes.to_vec(),
        }
    }

    pub fn to_value(self) -> Value<'a> {
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::Number(n) => Value::Number(n),
            Kind::String(s) => {
                let borrowed = match self.nodes.first() {
                    Some(Node::Str(b)) => Some(*b),
                    _ => None,
                };
                Value::String(cow(borrowed, Some(s)))
            }
            Kind::Array(items) => Value::Array(items.map(Val::to_value).collect()),
            Kind::Object(mut members) => {
                let mut out = Vec::with_capacity(members.left);
                while let Some((k, v)) = members.next_member() {
                    let key = match k {
                        Node::Key(k) => Cow::Borrowed(*k),
                        other => cow(None, other.key()),
                    };
                    out.push((key, v.to_value()));
                }
                Value::Object(out)
            }
        }
    }
}

/// The keys of an object's members, from the nodes after the object's own.
pub(super) fn object_keys<'n>(members: &'n [Node<'_>]) -> impl Iterator<Item = &'n str> + Clone {
    let mut rest = members;
    std::iter::from_fn(move || {
        let (key, tail) = rest.split_first()?;
        let key = key.key()?;
        let span = tail.first()?.span();
        rest = tail.get(span..)?;
        Some(key)
    })
}

/// The next value's subtree at the front of `rest`.
fn take<'d, 'a>(rest: &mut &'d [Node<'a>]) -> Option<Val<'d, 'a>> {
    let span = rest.first()?.span();
    let (nodes, tail) = rest.split_at_checked(span)?;
    *rest = tail;
    Some(Val { nodes })
}

/// The elements of an array, in order.
#[derive(Debug, Clone)]
pub struct Items<'d, 'a> {
    rest: &'d [Node<'a>],
    left: usize,
}

impl<'d, 'a> Iterator for Items<'d, 'a> {
    type Item = Val<'d, 'a>;

    fn next(&mut self) -> Option<Val<'d, 'a>> {
        self.left = self.left.checked_sub(1)?;
        take(&mut self.rest)
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
    left: usize,
}

impl<'d, 'a> Members<'d, 'a> {
    /// The next member with its key node.
    fn next_member(&mut self) -> Option<(&'d Node<'a>, Val<'d, 'a>)> {
        self.left = self.left.checked_sub(1)?;
        let (key, tail) = self.rest.split_first()?;
        key.key()?;
        self.rest = tail;
        Some((key, take(&mut self.rest)?))
    }
}

impl<'d, 'a> Iterator for Members<'d, 'a> {
    type Item = (&'d str, Val<'d, 'a>);

    fn next(&mut self) -> Option<(&'d str, Val<'d, 'a>)> {
        let (key, v) = self.next_member()?;
        Some((key.key()?, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}
