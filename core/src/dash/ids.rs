//! Component ids, the callback key Dash derives from them, and which
//! section an id belongs to.

use std::borrow::Cow;

use crate::section::Sections;

use super::json::{Doc, Val};

/// A component id: a string, or a pattern-matching dict (an object whose
/// values may be wildcards such as `["MATCH"]`). Borrows from the document
/// it was read from, except in the registry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ComponentId<'a> {
    Str(Cow<'a, str>),
    /// Always an object.
    Dict(Doc<'a>),
}

impl<'a> ComponentId<'a> {
    /// An id as Dash's `stringify_id` writes it (keys of `/_dash-dependencies`
    /// ids, of callback replies): dict ids are JSON text with sorted keys.
    ///
    /// Text starting with `{` that is not a JSON object is an error rather
    /// than a plain string: it is most likely a dict id our strict parser
    /// cannot read (Python writes `NaN`), and reading it as a string would
    /// hide the section its values name.
    pub(crate) fn from_stringified(s: &'a str) -> Option<ComponentId<'a>> {
        if s.starts_with('{') {
            match Doc::parse(s.as_bytes()) {
                Ok(doc) if doc.root().is_object() => Some(ComponentId::Dict(doc)),
                _ => None,
            }
        } else {
            Some(ComponentId::Str(Cow::Borrowed(s)))
        }
    }

    /// A copy that no longer borrows, for the registry.
    pub(crate) fn into_owned(self) -> ComponentId<'static> {
        match self {
            ComponentId::Str(s) => ComponentId::Str(Cow::Owned(s.into_owned())),
            ComponentId::Dict(doc) => ComponentId::Dict(doc.into_owned()),
        }
    }

    /// Every configured section this id belongs to (a dict id can name
    /// several).
    pub(crate) fn sections<'s>(&self, sections: &'s Sections, out: &mut Vec<&'s str>) {
        match self {
            ComponentId::Str(s) => out.extend(string_section(s, sections)),
            ComponentId::Dict(doc) => value_sections(doc.root(), sections, out),
        }
    }
}

/// The section of a string id `S-…`. Section names hold no `-`, so the part
/// before the first `-` is the only candidate; it is compared ignoring ASCII
/// case, like paths, so that `HR-x` cannot slip past `hr`.
pub(crate) fn string_section<'s>(id: &str, sections: &'s Sections) -> Option<&'s str> {
    let id = id.as_bytes();
    let dash = id.iter().position(|&b| b == b'-')?;
    sections.canonical(id.get(..dash)?)
}

/// Sections named by any string inside a dict id's values. Strings nested
/// in arrays or objects count too: a wildcard is never section-shaped, so
/// looking deeper can only deny more. Keys do not count.
pub(crate) fn value_sections<'s>(v: Val<'_, '_>, sections: &'s Sections, out: &mut Vec<&'s str>) {
    out.extend(v.strings().filter_map(|s| string_section(s, sections)));
}

/// True for the key of a callback without outputs: a sha256 hex digest.
fn is_no_output_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The output ids named by a callback key, read the way Dash's
/// `split_callback_id` reads it (`create_callback_id` writes it):
/// `id.prop`, `..id.prop...id.prop..` for several outputs, a `@hash` after
/// the property for `allow_duplicate`, dots inside ids escaped as `\.`, dict
/// ids as JSON text, and a bare sha256 hex digest for no output at all.
pub(crate) fn parse_output_key(key: &str) -> Result<Vec<ComponentId<'_>>, &'static str> {
    if let Some(multi) = key.strip_prefix("..") {
        let inner = multi
            .strip_suffix("..")
            .ok_or("multi-output key does not end with \"..\"")?;
        let mut ids = Vec::new();
        for part in inner.split("...") {
            ids.push(parse_one_output(part)?);
        }
        return Ok(ids);
    }
    if !key.contains('.') {
        return if is_no_output_key(key) {
            Ok(Vec::new())
        } else {
            Err("callback key has no property")
        };
    }
    Ok(vec![parse_one_output(key)?])
}

fn parse_one_output(part: &str) -> Result<ComponentId<'_>, &'static str> {
    let (escaped, prop) = part
        .rsplit_once('.')
        .ok_or("callback key has no property")?;
    if escaped.is_empty() || prop.is_empty() {
        return Err("callback key has an empty id or property");
    }
    let id = if escaped.contains("\\.") {
        ComponentId::from_stringified(&escaped.replace("\\.", ".")).map(ComponentId::into_owned)
    } else {
        ComponentId::from_stringified(escaped)
    };
    id.ok_or("callback key has an unreadable dict id")
}

/// The id of an `id.prop` key as Dash's `str(Output)` writes it for
/// `progress`, `progressDefault` and `running` (no escaping of dots). A key
/// without a dot is read whole as an id, which can only deny more.
pub(crate) fn parse_prop_key(key: &str) -> Option<ComponentId<'_>> {
    let id = key.rsplit_once('.').map_or(key, |(id, _)| id);
    ComponentId::from_stringified(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections() -> Sections {
        Sections::new(["hr", "marketing"]).unwrap()
    }

    fn names(key: &str) -> Vec<String> {
        let s = sections();
        let mut out = Vec::new();
        for id in parse_output_key(key).unwrap() {
            id.sections(&s, &mut out);
        }
        out.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn output_keys() {
        assert_eq!(names("marketing-graph.figure"), ["marketing"]);
        assert_eq!(names("HR-graph.figure"), ["hr"]);
        assert_eq!(names("hr\\.x.children"), Vec::<String>::new());
        assert_eq!(names("hr-a\\.b.children"), ["hr"]);
        assert_eq!(names("x\\.hr-a.children"), Vec::<String>::new());
        assert_eq!(
            names("..marketing-a.children...hr-b.figure@0123abcd.."),
            ["marketing", "hr"]
        );
        assert_eq!(
            names(r#"{"index":["MATCH"],"type":"hr-item"}.children"#),
            ["hr"]
        );
        assert_eq!(names(r#"{"index":1\.5,"type":"hr-item"}.children"#), ["hr"]);
        assert_eq!(names(&"ab12".repeat(16)), Vec::<String>::new());
        assert_eq!(
            names(".._pages_content.children..._pages_store.data.."),
            Vec::<String>::new()
        );
        for bad in [
            "",
            "hr-x",
            "...",
            "..hr-x.children",
            "....",
            "..a.b....",
            ".children",
            "hr-x.",
            "{\"a\":}.children",
            "{\"a\":1,\"a\":2}.children",
            &"AB12".repeat(16),
            &"ab12".repeat(17),
        ] {
            assert!(parse_output_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prop_keys() {
        let s = sections();
        let mut out = Vec::new();
        parse_prop_key("hr-bar.value")
            .unwrap()
            .sections(&s, &mut out);
        parse_prop_key(r#"{"a":1.5,"t":"marketing-x"}.children"#)
            .unwrap()
            .sections(&s, &mut out);
        parse_prop_key("hr-nodot").unwrap().sections(&s, &mut out);
        assert_eq!(out, ["hr", "marketing", "hr"]);
        assert!(parse_prop_key("{bad.x").is_none());
    }
}
