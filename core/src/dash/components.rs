//! Any reply of the app, read for the Dash components it carries.
//!
//! The request checks stop the callbacks and paths the module knows, but a
//! layout can leave the app by many other ways: the router's reply puts a
//! page's whole layout under the shared `_pages_content` id, a catch-all
//! route answers the index page with `validation_layout`, `_dash-layout`,
//! an MCP tool's result, a page registered at a path that is not its
//! section's. What they all have in common is the shape of a component,
//! `{"props": {"id": …, …}, "type": …, "namespace": …}`, so that shape is
//! looked for everywhere, at any depth, and its id decides.

use std::fmt;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use memchr::{memchr, memchr_iter};

use crate::section::Sections;

use super::first_forbidden;
use super::ids::{parse_prop_key, string_section, ComponentId};
use super::json::skim::{skim, Halt, Shape, Stopped, Text, Visit};
use super::json::JsonError;
use super::response::{IdsAs, ReplyVia, ResponseDenial, MEMBERS};
use crate::grants::allows;

/// How many times a JSON document held as a string inside another is read
/// too: an MCP tool result carries the callback's reply as JSON text.
const NESTED: u8 = 3;

/// What a reply may not carry to a user who lacks a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leak {
    /// A component whose id belongs to a section the user lacks.
    Component { section: String },
    /// Every page's layout at once, whatever the user may see.
    ValidationLayout,
    /// Says it is JSON, but the strict reader cannot read it, so it
    /// cannot be cleared (the reason carries no content).
    Unreadable(String),
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leak::Component { section } => {
                write!(f, "it carries a component of section \"{section}\"")
            }
            Leak::ValidationLayout => f.write_str("it carries validation_layout"),
            Leak::Unreadable(why) => write!(f, "its JSON cannot be read: {why}"),
        }
    }
}

/// True when `body` cannot carry a component or an id of a section
/// outside `allowed`, nor `validation_layout`, whatever it is: a test on
/// bytes, far cheaper than reading the body, that lets most replies (a
/// user's own section's layout) through unread.
///
/// Why it holds: an id of section `S` is a string whose text starts with
/// `S-` (ASCII case ignored). Without a `\u` escape anywhere, a JSON
/// string's letters and `-` stand in the text as they are, right after its
/// opening quote, which is a `"` byte even in a document held as text
/// (`\"`, `\\\"`) or as a pattern-matching id's JSON in a key. So such an
/// id shows as the bytes `"S-`, and `validation_layout` as itself (escapes
/// of other characters than ASCII ones change neither). HTML
/// carries JSON inside `<script>`, where nothing is decoded either.
pub fn cannot_carry(body: &[u8], allowed: &[String], sections: &Sections) -> bool {
    // Built once: a finder's setup costs more than a short reply's search.
    static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));
    static LAYOUT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"validation_layout"));
    if LAYOUT.find(body).is_some() || ascii_escape(body, &ESCAPE) {
        return false;
    }
    let lacked: Vec<&[u8]> = sections
        .names()
        .iter()
        .filter(|s| !allows(allowed, s))
        .map(|s| s.as_bytes())
        .collect();
    if lacked.is_empty() {
        return true;
    }
    memchr_iter(b'-', body).all(|dash| {
        !lacked.iter().any(|name| {
            dash.checked_sub(name.len() + 1).is_some_and(|quote| {
                body.get(quote) == Some(&b'"')
                    && body
                        .get(quote + 1..dash)
                        .is_some_and(|s| s.eq_ignore_ascii_case(name))
            })
        })
    })
}

/// True if `body` holds a `\\u` escape of a printable ASCII character,
/// which could spell a section's name, its `-` or a quote. Escapes of other
/// characters cannot: section names are printable ASCII, and Python's
/// `json.dumps` writes every non-ASCII character so, which would otherwise
/// send most non-English replies to the whole reading.
fn ascii_escape(body: &[u8], escape: &Finder<'_>) -> bool {
    escape.find_iter(body).any(|at| {
        match body.get(at + 2..at + 6) {
            // Printable ASCII, 0x20 to 0x7f; control characters spell
            // nothing that matters.
            Some([b'0', b'0', high, _]) => matches!(high, b'2'..=b'7'),
            // Cut short: cannot be cleared.
            None => true,
            Some(_) => false,
        }
    })
}

/// Checks a JSON reply: an empty one passes, anything else must be strict
/// JSON with no component of a section outside `allowed`.
pub fn scan_json(body: &[u8], allowed: &[String], sections: &Sections) -> Result<(), Leak> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    read(body, At::Plain, allowed, sections, NESTED).map_err(|stop| match stop {
        Err(e) => Leak::Unreadable(e.to_string()),
        Ok(ResponseDenial::Carries(leak)) => leak,
        // Only a callback reply's own members stop it otherwise.
        Ok(other) => Leak::Unreadable(other.to_string()),
    })
}

/// Checks a callback reply whole, in one reading: the ids its members
/// write to (see [`check_callback_response`](super::check_callback_response))
/// and the components its values carry.
pub(crate) fn scan_callback_reply(
    body: &[u8],
    allowed: &[String],
    sections: &Sections,
) -> Result<(), ResponseDenial> {
    read(body, At::Reply, allowed, sections, NESTED).map_err(|stop| match stop {
        Err(e) => ResponseDenial::from(e),
        Ok(denial) => denial,
    })
}

/// Reads `body` from `root`: `Err(Ok(denial))` when the scan found one,
/// `Err(Err(why))` when the body is not strict JSON.
fn read(
    body: &[u8],
    root: At,
    allowed: &[String],
    sections: &Sections,
    nested: u8,
) -> Result<(), Result<ResponseDenial, JsonError>> {
    let mut scan = Scan {
        allowed,
        sections,
        nested,
        item_has_id: false,
        found: None,
    };
    match skim(body, root, &mut scan) {
        Ok(()) => Ok(()),
        Err(Stopped::Json(e)) => Err(Err(e)),
        // A halt always comes with its reason.
        Err(Stopped::Halted) => Err(Ok(scan.found.unwrap_or(UNREADABLE_ID))),
    }
}

/// Where a value stands, as far as components are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Plain,
    /// The value of a `props` member: its `id` is a component's.
    Props,
    /// A component id, or anything inside a dict id: every string names a
    /// section. With the callback reply's member it was found in, if any.
    Id(Option<ReplyVia>),
    /// A callback reply's top level.
    Reply,
    /// A callback reply's member whose keys are component ids.
    IdKeys(ReplyVia, IdsAs),
    /// A callback reply's `cancel` list, an item of it, its id.
    Cancel,
    CancelItem,
    CancelId,
}

struct Scan<'s> {
    allowed: &'s [String],
    sections: &'s Sections,
    /// How many more documents held as text to read.
    nested: u8,
    /// The `cancel` item being read has had an `id`.
    item_has_id: bool,
    /// Why the scan halted.
    found: Option<ResponseDenial>,
}

const UNREADABLE_ID: ResponseDenial = ResponseDenial::Malformed("unreadable component id");

impl Scan<'_> {
    fn section(&self, section: Option<&str>, via: Option<ReplyVia>) -> Result<(), ResponseDenial> {
        let Some(section) = section.filter(|s| !allows(self.allowed, s)) else {
            return Ok(());
        };
        let section = section.to_owned();
        Err(match via {
            Some(via) => ResponseDenial::ForbiddenSection { section, via },
            None => ResponseDenial::Carries(Leak::Component { section }),
        })
    }

    fn id(&self, id: Option<ComponentId<'_>>, via: ReplyVia) -> Result<(), ResponseDenial> {
        let mut found = Vec::new();
        id.ok_or(UNREADABLE_ID)?.sections(self.sections, &mut found);
        self.section(first_forbidden(&found, self.allowed), Some(via))
    }

    /// A string that may be a document of its own, read as one; text that
    /// is not one is just text.
    #[cold]
    fn nested(&self, text: Text<'_>) -> Result<(), ResponseDenial> {
        let text = text.decoded();
        if !looks_like_document(text.as_bytes()) {
            return Ok(());
        }
        let nested = self.nested - 1;
        match read(
            text.as_bytes(),
            At::Plain,
            self.allowed,
            self.sections,
            nested,
        ) {
            Err(Ok(denial)) => Err(denial),
            _ => Ok(()),
        }
    }
}

impl Scan<'_> {
    /// Keeps the reason, and halts.
    fn halt<T>(&mut self, r: Result<T, ResponseDenial>) -> Result<T, Halt> {
        r.map_err(|denial| {
            self.found = Some(denial);
            Halt
        })
    }

    fn member_at(&mut self, object: At, key: &str) -> Result<At, ResponseDenial> {
        match object {
            At::Reply => {
                if let Some(&(via, keys)) = MEMBERS.iter().find(|(via, _)| via.as_str() == key) {
                    return Ok(match keys {
                        IdsAs::DepList => At::Cancel,
                        keys => At::IdKeys(via, keys),
                    });
                }
            }
            At::IdKeys(via, keys) => {
                let id = match keys {
                    IdsAs::PropKeys => parse_prop_key(key),
                    _ => ComponentId::from_stringified(key),
                };
                self.id(id, via)?;
                return Ok(At::Plain);
            }
            At::Id(via) => return Ok(At::Id(via)),
            At::CancelId => return Ok(At::Id(Some(ReplyVia::Cancel))),
            At::CancelItem if key == "id" => {
                self.item_has_id = true;
                return Ok(At::CancelId);
            }
            At::Props if key == "id" => return Ok(At::Id(None)),
            _ => {}
        }
        match key {
            "props" => Ok(At::Props),
            "validation_layout" => Err(ResponseDenial::Carries(Leak::ValidationLayout)),
            _ => Ok(At::Plain),
        }
    }

    fn value_at(&mut self, at: At, shape: Shape) -> Result<(), ResponseDenial> {
        let fits = match at {
            At::Reply => shape == Shape::Object,
            At::IdKeys(..) => matches!(shape, Shape::Object | Shape::Null),
            At::Cancel => matches!(shape, Shape::Array | Shape::Null),
            At::CancelItem => {
                self.item_has_id = false;
                shape == Shape::Object
            }
            At::CancelId => matches!(shape, Shape::String | Shape::Object),
            At::Plain | At::Props | At::Id(_) => true,
        };
        if fits {
            return Ok(());
        }
        Err(match at {
            At::Reply => ResponseDenial::Malformed("reply is not a JSON object"),
            At::IdKeys(..) => ResponseDenial::Malformed("an id map is not an object"),
            At::Cancel => ResponseDenial::Malformed("\"cancel\" is not a list"),
            _ => UNREADABLE_ID,
        })
    }
}

impl Visit for Scan<'_> {
    type Ctx = At;

    #[inline]
    fn member(&mut self, object: At, key: &str) -> Result<At, Halt> {
        // Layouts are mostly plain members and components' props: decided
        // here, without a call.
        match object {
            At::Plain | At::Props => match key.as_bytes() {
                b"props" => Ok(At::Props),
                b"id" if object == At::Props => Ok(At::Id(None)),
                b"validation_layout" => {
                    self.halt(Err(ResponseDenial::Carries(Leak::ValidationLayout)))
                }
                _ => Ok(At::Plain),
            },
            At::Id(via) => Ok(At::Id(via)),
            _ => {
                let r = self.member_at(object, key);
                self.halt(r)
            }
        }
    }

    fn element(&mut self, array: At) -> At {
        match array {
            At::Id(via) => At::Id(via),
            At::CancelId => At::Id(Some(ReplyVia::Cancel)),
            At::Cancel => At::CancelItem,
            _ => At::Plain,
        }
    }

    #[inline]
    fn value(&mut self, at: At, shape: Shape) -> Result<(), Halt> {
        if matches!(at, At::Plain | At::Props | At::Id(_)) {
            return Ok(());
        }
        let r = self.value_at(at, shape);
        self.halt(r)
    }

    #[inline]
    fn string(&mut self, at: At, text: Text<'_>) -> Result<(), Halt> {
        let r = match at {
            At::Id(via) => self.section(string_section(&text.decoded(), self.sections), via),
            At::CancelId => self.id(
                ComponentId::from_stringified(&text.decoded()),
                ReplyVia::Cancel,
            ),
            _ if self.nested == 0 || !may_start_document(text) => return Ok(()),
            _ => self.nested(text),
        };
        self.halt(r)
    }

    fn end(&mut self, at: At) -> Result<(), Halt> {
        if at == At::CancelItem && !self.item_has_id {
            return self.halt(Err(UNREADABLE_ID));
        }
        Ok(())
    }
}

/// The first byte of a string's text, escapes not decoded, says whether
/// it could be a document (whitespace or an escape first: maybe).
fn may_start_document(text: Text<'_>) -> bool {
    matches!(
        text.first_raw(),
        Some(b'{' | b'[' | b' ' | b'\\' | b'\n' | b'\r' | b'\t')
    )
}

fn looks_like_document(s: &[u8]) -> bool {
    matches!(
        s.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) && s.len() >= 2
}

/// Checks an HTML reply. Components reach an HTML page only as JSON inside
/// `<script>` elements (Dash's `_dash-config`, an app's own data island),
/// so each script is read: one typed as JSON must be strict JSON, and any
/// other whose text is a JSON document is read as one too. An unterminated
/// script element cannot be cleared.
pub fn scan_html(html: &[u8], allowed: &[String], sections: &Sections) -> Result<(), Leak> {
    let mut at = 0;
    while let Some(open) = find_tag(html, at, b"<script") {
        let Some(open_end) = html.get(open..).and_then(|t| memchr(b'>', t)) else {
            return Err(Leak::Unreadable("unterminated <script> tag".to_owned()));
        };
        let attrs = html.get(open + 7..open + open_end).unwrap_or_default();
        let start = open + open_end + 1;
        let Some(end) = find_tag(html, start, b"</script") else {
            return Err(Leak::Unreadable("unterminated <script> element".to_owned()));
        };
        let text = html.get(start..end).unwrap_or_default();
        if is_json_type(script_type(attrs)) {
            scan_json(text, allowed, sections)?;
        } else if looks_like_document(text) {
            if let Err(Ok(ResponseDenial::Carries(leak))) =
                read(text, At::Plain, allowed, sections, NESTED)
            {
                return Err(leak);
            }
        }
        at = end + 8;
    }
    Ok(())
}

/// The next `<name` (ignoring case) at or after `from` that is a whole tag
/// name: followed by whitespace, `>` or `/`.
fn find_tag(html: &[u8], mut from: usize, name: &[u8]) -> Option<usize> {
    loop {
        let at = from + memchr(b'<', html.get(from..)?)?;
        let after = html.get(at + name.len()).copied();
        let named = html
            .get(at..at + name.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(name));
        if named
            && matches!(
                after,
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>' | b'/')
            )
        {
            return Some(at);
        }
        from = at + 1;
    }
}

/// The value of a start tag's `type` attribute, as HTML reads attributes
/// (names ignore case; values quoted with `"` or `'`, or bare).
fn script_type(attrs: &[u8]) -> &[u8] {
    let mut rest = trim_start(attrs);
    while !rest.is_empty() {
        let n = rest
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'=' || b == b'/')
            .unwrap_or(rest.len());
        let Some((name, tail)) = rest.split_at_checked(n.max(1)) else {
            return b"";
        };
        let tail = trim_start(tail);
        let (value, tail) = match tail.split_first() {
            Some((b'=', v)) if n > 0 => attribute_value(trim_start(v)),
            _ => (&b""[..], tail),
        };
        if name.eq_ignore_ascii_case(b"type") {
            return value;
        }
        rest = trim_start(tail);
    }
    b""
}

/// An attribute's value and what follows it.
fn attribute_value(v: &[u8]) -> (&[u8], &[u8]) {
    match v.split_first() {
        Some((&q @ (b'"' | b'\''), quoted)) => {
            let end = memchr(q, quoted).unwrap_or(quoted.len());
            (
                quoted.get(..end).unwrap_or_default(),
                quoted.get(end + 1..).unwrap_or_default(),
            )
        }
        _ => {
            let end = v
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(v.len());
            v.split_at_checked(end).unwrap_or((v, b""))
        }
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

/// `application/json`, `text/json`, or any `…+json` (`application/ld+json`),
/// parameters ignored.
pub(crate) fn is_json_type(media_type: &[u8]) -> bool {
    let essence = crate::syntax::MediaType::parse(media_type).essence();
    let Some(slash) = essence.iter().position(|&b| b == b'/') else {
        return false;
    };
    let subtype = essence.get(slash + 1..).unwrap_or_default();
    subtype.eq_ignore_ascii_case(b"json")
        || subtype
            .len()
            .checked_sub(5)
            .and_then(|i| subtype.get(i..))
            .is_some_and(|t| t.eq_ignore_ascii_case(b"+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections() -> Sections {
        Sections::new(["marketing", "hr"]).unwrap()
    }

    fn mike() -> Vec<String> {
        vec!["marketing".to_owned()]
    }

    fn hr() -> Result<(), Leak> {
        Err(Leak::Component {
            section: "hr".to_owned(),
        })
    }

    fn component(id: &str, children: &str) -> String {
        format!(
            r#"{{"props":{{"id":{id},"children":{children}}},"type":"Div","namespace":"dash_html_components"}}"#
        )
    }

    #[test]
    fn json_replies() {
        let s = sections();
        let hr_title = component(r#""hr-title""#, "null");
        let mkt = component(r#""marketing-graph""#, "null");
        let cases: Vec<(String, Result<(), Leak>)> = vec![
            (String::new(), Ok(())),
            (" \n".to_owned(), Ok(())),
            (mkt.clone(), Ok(())),
            (component(r#""nav""#, &format!("[{mkt}]")), Ok(())),
            (hr_title.clone(), hr()),
            // At any depth: the router's page content, a layout's children.
            (
                format!(
                    r#"{{"multi":true,"response":{{"_pages_content":{{"children":{}}}}}}}"#,
                    component(r#""nav""#, &format!("[{mkt},{{\"x\":[{hr_title}]}}]"))
                ),
                hr(),
            ),
            // Section names are matched ignoring case, as ids are.
            (component(r#""HR-title""#, "null"), hr()),
            // A pattern-matching id names the section in any value.
            (component(r#"{"type":"hr-row","index":1}"#, "null"), hr()),
            (
                component(r#"{"type":"marketing-row","index":1}"#, "null"),
                Ok(()),
            ),
            // Numbers and shared ids name nothing.
            (component("7", "null"), Ok(())),
            (component(r#""people""#, "null"), Ok(())),
            // Only a component's own id counts: text that reads like an id
            // is data.
            (
                r#"{"props":{"children":"hr-title"},"label":"hr-x","id":"hr-y"}"#.to_owned(),
                Ok(()),
            ),
            // Dash's index config with every page's layout.
            (
                r#"{"validation_layout":null}"#.to_owned(),
                Err(Leak::ValidationLayout),
            ),
            (
                format!(r#"{{"a":{{"validation_layout":{mkt}}}}}"#),
                Err(Leak::ValidationLayout),
            ),
            // A document held as text (an MCP tool result).
            (
                format!(
                    r#"{{"result":{{"content":[{{"type":"text","text":{}}}]}}}}"#,
                    serde_json::to_string(&hr_title).unwrap()
                ),
                hr(),
            ),
            (
                format!(
                    r#"{{"result":{{"content":[{{"type":"text","text":{}}}]}}}}"#,
                    serde_json::to_string(&mkt).unwrap()
                ),
                Ok(()),
            ),
            // Text that only starts like a document is text.
            (r#"{"note":"{not json"}"#.to_owned(), Ok(())),
        ];
        for (body, want) in cases {
            assert_eq!(scan_json(body.as_bytes(), &mike(), &s), want, "{body}");
            // The quick test never clears what the reading refuses.
            if want.is_err() {
                assert!(!cannot_carry(body.as_bytes(), &mike(), &s), "{body}");
            }
            // A user with the section, or every section, sees it all.
            let both = vec!["marketing".to_owned(), "hr".to_owned()];
            let all = vec!["_all_".to_owned()];
            if !matches!(want, Err(Leak::ValidationLayout)) {
                assert_eq!(scan_json(body.as_bytes(), &both, &s), Ok(()), "{body}");
                assert_eq!(scan_json(body.as_bytes(), &all, &s), Ok(()), "{body}");
            }
        }
        // Keys may repeat, and every occurrence counts: a browser keeps the
        // last one, a naive check the first.
        assert_eq!(
            scan_json(
                br#"{"props":{"id":"marketing-x","id":"hr-x"}}"#,
                &mike(),
                &s
            ),
            hr()
        );
        for bad in ["{", "[1,]", "[NaN]", "\u{feff}{}"] {
            assert!(
                matches!(
                    scan_json(bad.as_bytes(), &mike(), &s),
                    Err(Leak::Unreadable(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let s = sections();
        let mut doc = component(r#""hr-title""#, "null");
        for _ in 0..NESTED {
            doc = format!(r#"{{"text":{}}}"#, serde_json::to_string(&doc).unwrap());
        }
        // NESTED levels of text below the reply are read...
        assert_eq!(scan_json(doc.as_bytes(), &mike(), &s), hr());
        // ...and no deeper.
        let deeper = format!(r#"{{"text":{}}}"#, serde_json::to_string(&doc).unwrap());
        assert_eq!(scan_json(deeper.as_bytes(), &mike(), &s), Ok(()));
    }

    #[test]
    fn html_replies() {
        let s = sections();
        let hr_title = component(r#""hr-title""#, "null");
        let mkt = component(r#""marketing-graph""#, "null");
        let index = |config: &str| {
            format!(
                "<!DOCTYPE html><html><head><title>Dash</title></head><body>\
                 <div id=\"react-entry-point\"></div><footer>\
                 <script id=\"_dash-config\" type=\"application/json\">{config}</script>\
                 <script src=\"/_dash-component-suites/dash/deps/react.min.js\"></script>\
                 <script id=\"_dash-renderer\" type=\"application/javascript\">var renderer = new DashRenderer();</script>\
                 </footer></body></html>"
            )
        };
        let cases: Vec<(String, Result<(), Leak>)> = vec![
            (
                index(r#"{"url_base_pathname":null,"requests_pathname_prefix":"/"}"#),
                Ok(()),
            ),
            (
                index(&format!(r#"{{"validation_layout":{mkt}}}"#)),
                Err(Leak::ValidationLayout),
            ),
            (index(&hr_title), hr()),
            (index(&mkt), Ok(())),
            // Tag and attribute names ignore case; values may be bare.
            (
                format!("<SCRIPT TYPE=application/json>{hr_title}</SCRIPT >"),
                hr(),
            ),
            (
                format!("<script type='application/ld+json'>{hr_title}</script>"),
                hr(),
            ),
            // A script of another type is read only if it is a document.
            (format!("<script>{hr_title}</script>"), hr()),
            ("<script>var x = {a: 1};</script>".to_owned(), Ok(())),
            ("<script>{ not: json }</script>".to_owned(), Ok(())),
            // Outside scripts, HTML is text, ids and all.
            (format!("<pre>{hr_title}</pre>"), Ok(())),
            ("<scripts>{}</scripts>".to_owned(), Ok(())),
            (String::new(), Ok(())),
        ];
        for (body, want) in cases {
            assert_eq!(scan_html(body.as_bytes(), &mike(), &s), want, "{body}");
            if want.is_err() {
                assert!(!cannot_carry(body.as_bytes(), &mike(), &s), "{body}");
            }
        }
        for bad in [
            index("{"),
            "<script type=\"application/json\">{\"a\":1}".to_owned(),
            "<script type=\"application/json\"".to_owned(),
        ] {
            assert!(
                matches!(
                    scan_html(bad.as_bytes(), &mike(), &s),
                    Err(Leak::Unreadable(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn what_cannot_carry_a_lacked_section() {
        let s = sections();
        for (body, clear) in [
            (r#"{"props":{"id":"marketing-x"}}"#, true),
            (
                r#"{"x":"2026-01-01","y":"a-b","z":"xhr-1","w":"marketing-hr-2"}"#,
                true,
            ),
            (r#"{"props":{"id":"hr-x"}}"#, false),
            (r#"{"props":{"id":"HR-x"}}"#, false),
            (r#"{"props":{"id":"\u0068r-x"}}"#, false),
            (r#"{"props":{"id":"\u0048r-x"}}"#, false),
            (r#"{"props":{"id":"hr\u002dx"}}"#, false),
            (r#"{"k":"{\u0022type\u0022:\u0022hr-row\u0022}"}"#, false),
            (r#"{"k":"{\\\"id\\\":\\\"\\u0068r-x\\\"}"}"#, false),
            (r#"{"\u0076alidation_layout":1}"#, false),
            (r#"{"props":{"id":"hr-x\u00e9"}}"#, false),
            (
                r#"{"props":{"id":"marketing-\u00e9t\u00e9","title":"caf\u00e9 \ud83d\ude00"}}"#,
                true,
            ),
            (r#"{"props":{"id":"marketing-x"},"t":"\u00"#, false),
            (r#"{"props":{"id":"marketing-x"},"t":"a\u001fb"}"#, true),
            (r#"{"props":{"id":"marketing-x"},"t":"a\u007fb"}"#, false),
            (r#"{"k":"{\"type\":\"hr-row\"}"}"#, false),
            (r#"{"validation_layout":null}"#, false),
            (r#"<script>{"props":{"id":"hr-x"}}</script>"#, false),
            ("", true),
            (r#""hr"#, true),
            (r#"-"#, true),
        ] {
            assert_eq!(cannot_carry(body.as_bytes(), &mike(), &s), clear, "{body}");
        }
        // A user with every section: only validation_layout matters.
        let both = vec!["marketing".to_owned(), "hr".to_owned()];
        assert!(cannot_carry(br#"{"props":{"id":"hr-x"}}"#, &both, &s));
        assert!(!cannot_carry(br#"{"validation_layout":1}"#, &both, &s));
    }

    #[test]
    fn json_types() {
        for (t, json) in [
            (&b"application/json"[..], true),
            (b"Application/JSON; charset=utf-8", true),
            (b"text/json", true),
            (b"application/ld+json", true),
            (b"application/problem+JSON", true),
            (b"application/javascript", false),
            (b"text/html", false),
            (b"json", false),
            (b"application/jsonx", false),
            (b"", false),
        ] {
            assert_eq!(is_json_type(t), json, "{}", String::from_utf8_lossy(t));
        }
    }
}
