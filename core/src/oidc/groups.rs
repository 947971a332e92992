//! The groups file: which sections the members of a provider group see.
//!
//! ```text
//! # provider group         sections
//! dash-marketing           marketing
//! /dash-all                _all_
//! 0b5c6a9e-1f1e-4c1b-9d5e  hr,marketing
//! ```
//!
//! One mapping a line: the group (any non-blank text without whitespace or
//! control characters, as providers name groups by GUID, path or e-mail),
//! then a comma-separated list of sections, or `_all_`. Section names
//! follow the users file: the rules of [`valid_section_name`], any case,
//! kept in lower case.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::grants::ALL;
use crate::section::{valid_section_name, MAX_SECTION_LEN};

/// The parsed groups file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupMap {
    entries: Vec<Entry>,
    /// Group name to its index in `entries`.
    index: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    group: String,
    /// Canonical (lower-case) sections without repeats, or just [`ALL`].
    sections: Vec<String>,
    line: usize,
}

/// Why the groups file was refused, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsError {
    pub line: usize,
    pub what: String,
}

impl fmt::Display for GroupsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for GroupsError {}

/// Parses the groups file; the first bad line is the error.
pub fn parse(text: &str) -> Result<GroupMap, GroupsError> {
    // An editor's byte order mark would otherwise become part of the first
    // group's name, and that group would silently never match.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut map = GroupMap::default();
    for (n, raw) in text.split('\n').enumerate() {
        let line = n + 1;
        let fail = |what: String| GroupsError { line, what };
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.chars().any(|c| c.is_control() && c != '\t') {
            return Err(fail("control character in line".to_owned()));
        }
        let mut fields = raw.split([' ', '\t']).filter(|f| !f.is_empty());
        let Some(group) = fields.next() else {
            continue;
        };
        if group.starts_with('#') {
            continue;
        }
        let Some(list) = fields.next() else {
            return Err(fail(format!(
                "group \"{}\" has no sections",
                super::shown(group, 80)
            )));
        };
        if fields.next().is_some() {
            return Err(fail(
                "unexpected third field, expected \"group section[,section...]\"".to_owned(),
            ));
        }
        let sections = parse_sections(list).map_err(fail)?;
        if let Some(&first) = map.index.get(group) {
            let first = map.entries.get(first).map_or(0, |e| e.line);
            return Err(fail(format!(
                "group \"{}\" is already mapped on line {first}",
                super::shown(group, 80)
            )));
        }
        map.index.insert(group.to_owned(), map.entries.len());
        map.entries.push(Entry {
            group: group.to_owned(),
            sections,
            line,
        });
    }
    Ok(map)
}

/// `a,b,_all_`: each entry a section or `_all_`, none empty.
fn parse_sections(list: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for entry in list.split(',') {
        let canonical = if entry.is_empty() {
            return Err("empty section name".to_owned());
        } else if entry.eq_ignore_ascii_case(ALL) {
            ALL.to_owned()
        } else if valid_section_name(entry) {
            entry.to_ascii_lowercase()
        } else {
            return Err(format!(
                "invalid section name \"{}\": use \"{ALL}\" or 1 to {MAX_SECTION_LEN} ASCII letters, digits or \"_\"",
                super::shown(entry, 80)
            ));
        };
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    // `_all_` beside other sections means all of them.
    if out.iter().any(|s| s == ALL) {
        out = vec![ALL.to_owned()];
    }
    Ok(out)
}

impl GroupMap {
    /// The sections the members of `groups` see together: the union, in
    /// file order, without repeats; exactly `["_all_"]` if any group maps to
    /// it; empty if no group is mapped. Group names compare exactly, as the
    /// provider sends them.
    pub fn sections_for<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut hits: Vec<usize> = groups
            .into_iter()
            .filter_map(|g| self.index.get(g).copied())
            .collect();
        hits.sort_unstable();
        hits.dedup();
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for entry in hits.iter().filter_map(|&i| self.entries.get(i)) {
            for section in &entry.sections {
                if section == ALL {
                    return vec![ALL.to_owned()];
                }
                if seen.insert(section) {
                    out.push(section.clone());
                }
            }
        }
        out
    }

    /// Every section named (not `_all_`) with its line, for the check
    /// against `dash_auth_sections`.
    pub fn sections(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries.iter().flat_map(|e| {
            e.sections
                .iter()
                .filter(|s| s.as_str() != ALL)
                .map(move |s| (s.as_str(), e.line))
        })
    }

    /// How many groups are mapped.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# provider group   sections
dash-marketing     marketing
/dash-all          _all_

  0b5c6a9e-1f1e-4c1b-9d5e-5b7a0f0c2e11\thr,Marketing
jürgen@example.com\tHR,hr\r
cn=Dash,ou=groups  marketing,_all_
";

    #[test]
    fn parses_the_example() {
        let map = parse(FILE).unwrap();
        assert_eq!(map.len(), 5);
        assert_eq!(map.sections_for(["dash-marketing"]), ["marketing"]);
        assert_eq!(map.sections_for(["/dash-all"]), ["_all_"]);
        assert_eq!(
            map.sections_for(["0b5c6a9e-1f1e-4c1b-9d5e-5b7a0f0c2e11"]),
            ["hr", "marketing"]
        );
        assert_eq!(map.sections_for(["jürgen@example.com"]), ["hr"]);
        // `_all_` with others is all.
        assert_eq!(map.sections_for(["cn=Dash,ou=groups"]), ["_all_"]);
        let named: Vec<_> = map.sections().collect();
        assert_eq!(
            named,
            [("marketing", 2), ("hr", 5), ("marketing", 5), ("hr", 6)]
        );
    }

    #[test]
    fn union_in_file_order() {
        let map = parse("a hr\nb marketing,hr\nc sales\nall _all_\n").unwrap();
        // The token's order does not matter, the file's does.
        assert_eq!(
            map.sections_for(["c", "b", "a"]),
            ["hr", "marketing", "sales"]
        );
        assert_eq!(map.sections_for(["b", "b", "b"]), ["marketing", "hr"]);
        assert_eq!(map.sections_for(["c", "all"]), ["_all_"]);
        assert_eq!(map.sections_for(["zzz", "c"]), ["sales"]);
        assert!(map.sections_for(["zzz"]).is_empty());
        assert!(map.sections_for([]).is_empty());
        // Exact names: no case folding, no trimming, no prefix match.
        assert!(map.sections_for(["A", " a", "a ", "/a"]).is_empty());
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("\n\n# only a comment\n   \t\n").unwrap().is_empty());
        assert!(parse("\u{feff}# bom\n").unwrap().is_empty());
        let map = parse("\u{feff}a hr").unwrap();
        assert_eq!(map.sections_for(["a"]), ["hr"]);
    }

    #[test]
    fn long_group_names() {
        let group = format!("/{}", "x".repeat(10_000));
        let map = parse(&format!("{group} hr\n")).unwrap();
        assert_eq!(map.sections_for([group.as_str()]), ["hr"]);
    }

    /// Each refusal, its line, and a line that is accepted in its place.
    #[test]
    fn refusals_with_twins() {
        let cases: &[(&str, &str, &str)] = &[
            ("a hr marketing", "a hr,marketing", "third field"),
            ("a hr, marketing", "a hr,marketing", "third field"),
            ("a", "a hr", "has no sections"),
            ("a hr,,marketing", "a hr,marketing", "empty section name"),
            ("a hr,", "a hr", "empty section name"),
            ("a ,hr", "a hr", "empty section name"),
            ("a h.r", "a h_r", "invalid section name \"h.r\""),
            ("a hr/x", "a hr", "invalid section name"),
            ("a hé", "a he", "invalid section name"),
            ("a h-r", "a h_r", "invalid section name"),
            ("a all", "a _all_", ""),
            ("a\u{7}b hr", "ab hr", "control character"),
            ("a hr\u{0}", "a hr", "control character"),
            ("a\u{85} hr", "a hr", "control character"),
            ("a hr\rb x", "a hr", "control character"),
            ("a\x0cb hr", "ab hr", "control character"),
        ];
        for (bad, good, what) in cases {
            if what.is_empty() {
                // `all` is a fine section name; the twin is the grant.
                parse(bad).unwrap();
                continue;
            }
            let file = format!("# header\nx hr\n{bad}\n");
            let err = parse(&file).unwrap_err();
            assert_eq!(err.line, 3, "{bad:?}");
            assert!(err.what.contains(what), "{bad:?}: {err}");
            assert_eq!(err.to_string(), err.what);
            parse(&format!("# header\nx hr\n{good}\n")).unwrap();
        }
        let long = "s".repeat(MAX_SECTION_LEN + 1);
        assert!(parse(&format!("a {long}")).is_err());
        parse(&format!("a {}", &long[1..])).unwrap();
    }

    #[test]
    fn duplicate_group() {
        let err = parse("a hr\n\nb hr\na marketing\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(err.what, "group \"a\" is already mapped on line 1");
        // Names differing in case are two groups.
        let map = parse("a hr\nA marketing\n").unwrap();
        assert_eq!(map.sections_for(["A"]), ["marketing"]);
    }

    #[test]
    fn hostile_names_are_escaped_in_errors() {
        let err = parse(&format!("{} ", "\u{202e}x".repeat(100))).unwrap_err();
        assert!(err.what.len() < 400, "{}", err.what);
        let err = parse("a \"x\"").unwrap_err();
        assert!(err.what.contains(r#"\"x\""#), "{}", err.what);
    }
}
