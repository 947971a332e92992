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

use memchr::memchr;

use crate::section::Sections;

use super::first_forbidden;
use super::ids::{string_section, value_sections};
use super::json::{Doc, Kind, Val};

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

/// Checks a JSON reply: an empty one passes, anything else must be strict
/// JSON with no component of a section outside `allowed`.
pub fn scan_json(body: &[u8], allowed: &[String], sections: &Sections) -> Result<(), Leak> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let doc = Doc::parse(body).map_err(|e| Leak::Unreadable(e.to_string()))?;
    scan(doc.root(), allowed, sections)
}

/// Checks a document already read (a callback reply, after its own checks).
pub(crate) fn scan(v: Val<'_, '_>, allowed: &[String], sections: &Sections) -> Result<(), Leak> {
    scan_nested(v, allowed, sections, NESTED)
}

fn scan_nested(
    v: Val<'_, '_>,
    allowed: &[String],
    sections: &Sections,
    nested: u8,
) -> Result<(), Leak> {
    let mut found = Vec::new();
    for (key, value) in v.members_within() {
        if key == "props" {
            let Some(id) = value.get("id") else {
                continue;
            };
            found.clear();
            match id.kind() {
                Kind::String(s) => found.extend(string_section(s, sections)),
                Kind::Object(_) => value_sections(id, sections, &mut found),
                // Numbers and the like name no section.
                _ => {}
            }
            if let Some(section) = first_forbidden(&found, allowed) {
                return Err(Leak::Component {
                    section: section.to_owned(),
                });
            }
        } else if key == "validation_layout" {
            return Err(Leak::ValidationLayout);
        }
    }
    let Some(nested) = nested.checked_sub(1) else {
        return Ok(());
    };
    for s in v.strings() {
        // Text that is not JSON is just text; only a document is read on.
        if looks_like_document(s.as_bytes()) {
            if let Ok(doc) = Doc::parse(s.as_bytes()) {
                scan_nested(doc.root(), allowed, sections, nested)?;
            }
        }
    }
    Ok(())
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
            if let Ok(doc) = Doc::parse(text) {
                scan(doc.root(), allowed, sections)?;
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
            // A user with the section, or every section, sees it all.
            let both = vec!["marketing".to_owned(), "hr".to_owned()];
            let all = vec!["_all_".to_owned()];
            if !matches!(want, Err(Leak::ValidationLayout)) {
                assert_eq!(scan_json(body.as_bytes(), &both, &s), Ok(()), "{body}");
                assert_eq!(scan_json(body.as_bytes(), &all, &s), Ok(()), "{body}");
            }
        }
        for bad in ["{", "[1,]", r#"{"a":1,"a":2}"#, "\u{feff}{}"] {
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
