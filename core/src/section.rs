//! Sections (the first path segment of a Dash page, or a page path given
//! to a section by `dash_auth_section_paths`) and URL paths.

use std::fmt;

use crate::grants::ALL;
use crate::syntax::{percent_decode, Plus};

/// Longest section name accepted.
pub const MAX_SECTION_LEN: usize = 64;

/// Longest raw path [`normalize_path`] looks at; longer is an error, not a
/// truncation, so that nothing after the cut can change the answer.
pub const MAX_PATH_LEN: usize = 8192;

/// A section name: 1..=64 ASCII letters, digits and `_`, and not `_all_`.
///
/// No `-`: Dash component ids are `{section}-…`, and a `-` inside a section
/// name would make one section's ids a prefix of another's.
pub fn valid_section_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SECTION_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.eq_ignore_ascii_case(ALL)
}

/// Why a list of sections or a Dash path prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionError {
    /// Not a [`valid_section_name`] (and not `_all_`).
    Invalid(String),
    /// `_all_` is a grant, not a section.
    Reserved,
    /// Listed twice, compared case-insensitively.
    Duplicate(String),
    /// A Dash `requests_pathname_prefix` must start and end with `/`.
    BadPrefix(String),
}

impl fmt::Display for SectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionError::Invalid(name) => write!(
                f,
                "invalid section name \"{}\": use 1 to {MAX_SECTION_LEN} ASCII letters, digits or \"_\"",
                name.escape_debug()
            ),
            SectionError::Reserved => write!(f, "section name \"{ALL}\" is reserved"),
            SectionError::Duplicate(name) => write!(f, "duplicate section \"{name}\""),
            SectionError::BadPrefix(prefix) => write!(
                f,
                "invalid path prefix \"{}\": it must start and end with \"/\"",
                prefix.escape_debug()
            ),
        }
    }
}

impl std::error::Error for SectionError {}

/// Why [`normalize_path`] refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    TooLong,
    /// Relative, empty, or a URL whose scheme is not http(s).
    NotAbsolute,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// A control character, raw or percent-encoded.
    ControlChar,
    NotUtf8,
    /// `..` would climb above `/`.
    AboveRoot,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::TooLong => "path is too long",
            PathError::NotAbsolute => "path is not absolute",
            PathError::BadEscape => "invalid percent-encoding in path",
            PathError::ControlChar => "control character in path",
            PathError::NotUtf8 => "path is not valid UTF-8",
            PathError::AboveRoot => "path goes above the root",
        })
    }
}

impl std::error::Error for PathError {}

/// The configured sections, canonicalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sections {
    names: Vec<String>,
    /// Lower-cased `requests_pathname_prefix`, always `/…/`.
    prefix: String,
    /// Pages given to a section by path (`dash_auth_section_paths`); no two
    /// overlap and none starts with a section's name, so a path matches at
    /// most one of them and only when no name does.
    pages: Vec<Page>,
}

/// A page path a section owns, as lower-cased segments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    segments: Vec<Box<[u8]>>,
    /// Index into [`Sections::names`]: the name returned is then the same
    /// string as for the section's own first segment, which callers may
    /// compare by address.
    section: usize,
}

impl Page {
    /// Whether `path`, whose [`first_segment`] is `first`, is this page or
    /// below it, whole segment by whole segment, ignoring ASCII case.
    fn covers(&self, first: &[u8], path: &[u8]) -> bool {
        let Some((head, tail)) = self.segments.split_first() else {
            return false;
        };
        // Most paths differ from most pages in the first segment, often in
        // its length: settled before the rest of the path is split.
        if !first.eq_ignore_ascii_case(head) {
            return false;
        }
        let mut got = segments(path).skip(1);
        tail.iter()
            .all(|want| got.next().is_some_and(|g| g.eq_ignore_ascii_case(want)))
    }
}

impl Default for Sections {
    fn default() -> Self {
        Sections {
            names: Vec::new(),
            prefix: "/".to_owned(),
            pages: Vec::new(),
        }
    }
}

impl Sections {
    /// Validates and lower-cases `names`; duplicates (in any case) are an
    /// error because they almost certainly hide a typo in the config.
    pub fn new<I, S>(names: I) -> Result<Sections, SectionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<String> = Vec::new();
        for name in names {
            let name = name.as_ref();
            if name.eq_ignore_ascii_case(ALL) {
                return Err(SectionError::Reserved);
            }
            if !valid_section_name(name) {
                return Err(SectionError::Invalid(name.to_owned()));
            }
            let lower = name.to_ascii_lowercase();
            if out.contains(&lower) {
                return Err(SectionError::Duplicate(lower));
            }
            out.push(lower);
        }
        Ok(Sections {
            names: out,
            ..Sections::default()
        })
    }

    /// Sets the Dash `requests_pathname_prefix` (`/` by default), so that
    /// `/app/hr` resolves to `hr` when Dash is served under `/app/`.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Sections, SectionError> {
        if !prefix.starts_with('/')
            || !prefix.ends_with('/')
            || prefix.bytes().any(|b| b.is_ascii_control() || b == b'\\')
        {
            return Err(SectionError::BadPrefix(prefix.to_owned()));
        }
        self.prefix = prefix.to_ascii_lowercase();
        Ok(self)
    }

    /// The canonical (lower-case) names, in configuration order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The canonical spelling of `name` if it is configured.
    pub fn canonical(&self, name: &[u8]) -> Option<&str> {
        self.names
            .iter()
            .find(|n| n.as_bytes().eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    /// Gives each section of `paths` its pages: every section named must be
    /// one of these, and no page may start with a section's name (`/hr`,
    /// `/hr/x`), which would take a page from that section or name one of
    /// its own twice.
    pub fn with_paths(mut self, paths: &SectionPaths) -> Result<Sections, PathsConflict> {
        let mut pages = Vec::new();
        for entry in &paths.entries {
            let Some(section) = self.names.iter().position(|n| *n == entry.section) else {
                return Err(PathsConflict::NotASection {
                    section: entry.section.clone(),
                    defined_at: entry.defined_at.clone(),
                });
            };
            for path in &entry.paths {
                if let Some(inside) = path.first().and_then(|first| self.canonical(first)) {
                    return Err(PathsConflict::InsideSection {
                        path: shown(path),
                        section: entry.section.clone(),
                        inside: inside.to_owned(),
                        defined_at: entry.defined_at.clone(),
                    });
                }
                pages.push(Page {
                    segments: path.clone(),
                    section,
                });
            }
        }
        self.pages = pages;
        Ok(self)
    }

    /// The section an already-normalised path (nginx's `r->uri`) belongs to.
    ///
    /// Only what follows the Dash prefix counts (see
    /// [`Sections::page_section`]): `/hr`, `/hr/`, `/hr/x`, `/HR` and `//hr`
    /// are all `hr`; `/`, `/assets/x` and `/hrx` are none. Comparison ignores
    /// ASCII case because a case-insensitive backend would serve `/HR` as
    /// `/hr`, and being stricter than the backend is the safe direction.
    /// Allocation-free: this runs on every request.
    #[must_use]
    pub fn resolve_uri(&self, uri: &[u8]) -> Option<&str> {
        if self.names.is_empty() {
            return None;
        }
        let rest = if self.prefix == "/" {
            uri
        } else {
            strip_prefix(uri, &self.prefix)?
        };
        self.page_section(rest)
    }

    /// The section of a page path already taken past the Dash prefix: the
    /// first segment if it is a section's name, else the section one of
    /// whose `dash_auth_section_paths` it is or lies below, whole segments
    /// compared ignoring ASCII case (`/people` covers `/people/x`, not
    /// `/peoplex`). Segments are read as for names: a missing leading
    /// slash, repeated slashes and `\` are tolerated, and `?`, `#` or `;`
    /// ends a segment.
    #[must_use]
    #[inline]
    pub fn page_section(&self, path: &[u8]) -> Option<&str> {
        let first = first_segment(path);
        if let Some(name) = self.canonical(first) {
            return Some(name);
        }
        if self.pages.is_empty() {
            return None;
        }
        self.page_of(first, path)
    }

    /// Out of line: a location without pages, the usual case, keeps the
    /// lookup it had before pages existed.
    #[inline(never)]
    fn page_of(&self, first: &[u8], path: &[u8]) -> Option<&str> {
        let page = self.pages.iter().find(|p| p.covers(first, path))?;
        self.names.get(page.section).map(String::as_str)
    }

    /// [`normalize_path`] then [`Sections::resolve_uri`], for paths taken from
    /// untrusted data rather than from nginx.
    pub fn resolve_path(&self, raw: &[u8]) -> Result<Option<&str>, PathError> {
        let path = normalize_path(raw)?;
        Ok(self.resolve_uri(path.as_bytes()))
    }
}

/// Longest page path `dash_auth_section_paths` accepts.
pub const MAX_PAGE_PATH_LEN: usize = 1024;

/// The page paths of every `dash_auth_section_paths` at one configuration
/// level: each section once, its paths lower-cased and split into segments.
/// A level that writes none inherits its parent's whole list; one that
/// writes any replaces it, as nginx does with its own array directives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionPaths {
    entries: Vec<PathsEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PathsEntry {
    section: String,
    paths: Vec<Vec<Box<[u8]>>>,
    /// `file:line` of the directive: whether the section exists is known
    /// only at merge time, when nginx's own position is no longer its.
    defined_at: String,
}

/// Why a `dash_auth_section_paths` directive was refused, as written.
/// Printed after `"dash_auth_section_paths" directive`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagePathError {
    Section(SectionError),
    /// Not `/seg` or `/seg/seg…` of [`valid_page_path`] segments.
    Invalid(String),
    /// Its first segment is one of Dash's own endpoints (`_dash-…`).
    DashEndpoint(String),
    /// The section already has a directive at this level.
    DuplicateSection {
        section: String,
        first_at: String,
    },
    /// The same path (ignoring ASCII case) is listed already.
    DuplicatePath {
        path: String,
        section: String,
        at: String,
    },
    /// One path lies below the other, so which section owns the pages
    /// below both would be a matter of order.
    Overlap {
        path: String,
        other: String,
        section: String,
        at: String,
    },
}

impl fmt::Display for PagePathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagePathError::Section(e) => e.fmt(f),
            PagePathError::Invalid(path) => write!(
                f,
                "has invalid path \"{}\": use \"/\" and segments of ASCII letters, digits, \"-\", \"_\", \".\" or \"~\", such as \"/people\" or \"/people/team\"",
                path.escape_debug()
            ),
            PagePathError::DashEndpoint(path) => {
                write!(f, "has invalid path \"{path}\": it is one of Dash's own endpoints")
            }
            PagePathError::DuplicateSection { section, first_at } => write!(
                f,
                "lists section \"{section}\" again (first at {first_at}): give all its paths in one directive"
            ),
            PagePathError::DuplicatePath { path, section, at } => write!(
                f,
                "has duplicate path \"{path}\" (section \"{section}\" at {at})"
            ),
            PagePathError::Overlap {
                path,
                other,
                section,
                at,
            } => write!(
                f,
                "has path \"{path}\", which overlaps \"{other}\" of section \"{section}\" at {at}"
            ),
        }
    }
}

impl std::error::Error for PagePathError {}

/// Why the `dash_auth_section_paths` in effect in a location cannot work
/// with its `dash_auth_sections`: found at merge time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathsConflict {
    NotASection {
        section: String,
        defined_at: String,
    },
    /// The path's first segment is the name of `inside`.
    InsideSection {
        path: String,
        section: String,
        inside: String,
        defined_at: String,
    },
}

impl PathsConflict {
    /// `file:line` of the directive at fault.
    pub fn defined_at(&self) -> &str {
        match self {
            PathsConflict::NotASection { defined_at, .. }
            | PathsConflict::InsideSection { defined_at, .. } => defined_at,
        }
    }
}

impl fmt::Display for PathsConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathsConflict::NotASection { section, .. } => write!(
                f,
                "section \"{section}\" is not in the \"dash_auth_sections\" in effect"
            ),
            PathsConflict::InsideSection {
                path,
                section,
                inside,
                ..
            } => write!(
                f,
                "path \"{path}\" of section \"{section}\" is a page of section \"{inside}\" already"
            ),
        }
    }
}

impl std::error::Error for PathsConflict {}

/// A page path for `dash_auth_section_paths`: `/` and one or more segments
/// of ASCII letters, digits, `-`, `_`, `.` and `~` (the unreserved URL
/// characters, so that nothing needs percent-encoding and the path reads
/// the same in `$uri` and in a router's `pathname`), none of them `.` or
/// `..`, no trailing `/`, at most [`MAX_PAGE_PATH_LEN`] bytes.
pub fn valid_page_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    path.len() <= MAX_PAGE_PATH_LEN
        && rest.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
}

/// The path as written in messages: its lower-cased segments.
fn shown(segments: &[Box<[u8]>]) -> String {
    let mut out = String::new();
    for seg in segments {
        out.push('/');
        out.push_str(&String::from_utf8_lossy(seg));
    }
    out
}

/// Whether one path is the other or lies below it.
fn overlaps(a: &[Box<[u8]>], b: &[Box<[u8]>]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

impl SectionPaths {
    /// One `dash_auth_section_paths section path ...` written at
    /// `defined_at`. Refused: a bad section name or path, a section given
    /// twice, and a path equal to, above or below one already listed (in
    /// any case), whichever section has it.
    pub fn add(
        &mut self,
        section: &str,
        paths: &[&str],
        defined_at: String,
    ) -> Result<(), PagePathError> {
        if section.eq_ignore_ascii_case(ALL) {
            return Err(PagePathError::Section(SectionError::Reserved));
        }
        if !valid_section_name(section) {
            return Err(PagePathError::Section(SectionError::Invalid(
                section.to_owned(),
            )));
        }
        let section = section.to_ascii_lowercase();
        if let Some(first) = self.entries.iter().find(|e| e.section == section) {
            return Err(PagePathError::DuplicateSection {
                section,
                first_at: first.defined_at.clone(),
            });
        }
        let mut entry = PathsEntry {
            section,
            paths: Vec::with_capacity(paths.len()),
            defined_at,
        };
        for &path in paths {
            if !valid_page_path(path) {
                return Err(PagePathError::Invalid(path.to_owned()));
            }
            let segs: Vec<Box<[u8]>> = path
                .to_ascii_lowercase()
                .split('/')
                .skip(1)
                .map(|seg| Box::from(seg.as_bytes()))
                .collect();
            if segs
                .first()
                .is_some_and(|first| first.starts_with(b"_dash-"))
            {
                return Err(PagePathError::DashEndpoint(path.to_owned()));
            }
            let listed = self
                .entries
                .iter()
                .chain(std::iter::once(&entry))
                .flat_map(|e| e.paths.iter().map(move |p| (e, p)));
            for (owner, other) in listed {
                if !overlaps(&segs, other) {
                    continue;
                }
                let (path, section, at) = (
                    shown(&segs),
                    owner.section.clone(),
                    owner.defined_at.clone(),
                );
                return Err(if segs == *other {
                    PagePathError::DuplicatePath { path, section, at }
                } else {
                    PagePathError::Overlap {
                        path,
                        other: shown(other),
                        section,
                        at,
                    }
                });
            }
            entry.paths.push(segs);
        }
        self.entries.push(entry);
        Ok(())
    }
}

/// Bytes that end a path segment for section matching. `\` because browsers
/// treat it as `/` in http(s) URLs; `?`, `#` and `;` because some backends cut
/// the path there. Treating them as separators can only make a path match a
/// section more often, which is the fail-closed direction.
fn is_segment_end(b: u8) -> bool {
    matches!(b, b'/' | b'\\' | b'?' | b'#' | b';')
}

fn is_slash(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

/// The segments of a path as a page path is matched against them: empty
/// ones (repeated slashes) skipped, each cut where [`first_segment`] cuts
/// one, so the first agrees with it. What follows a cut up to the next
/// slash is ignored, as a backend that reads `;` as a segment parameter
/// would: `/people;x/team` is read as `/people/team`, which can only make a
/// path match a page more often.
fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| is_slash(b))
        .filter(|s| !s.is_empty())
        .map(|s| {
            let end = s.iter().position(|&b| is_segment_end(b)).unwrap_or(s.len());
            s.get(..end).unwrap_or_default()
        })
}

/// The first non-empty path segment, tolerating a missing leading slash and
/// repeated slashes.
pub fn first_segment(path: &[u8]) -> &[u8] {
    let start = path
        .iter()
        .position(|&b| !is_slash(b))
        .unwrap_or(path.len());
    let rest = path.get(start..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|&b| is_segment_end(b))
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// Removes a Dash `requests_pathname_prefix` such as `/app/` from `path`,
/// segment by segment and ignoring ASCII case; returns what follows it
/// (starting with `/`, or empty), or `None` if `path` is outside the prefix.
/// A prefix of `/` always matches.
pub fn strip_prefix<'a>(path: &'a [u8], prefix: &str) -> Option<&'a [u8]> {
    let mut rest = path;
    for want in prefix.as_bytes().split(|&b| b == b'/') {
        if want.is_empty() {
            continue;
        }
        let start = rest.iter().position(|&b| !is_slash(b))?;
        let tail = rest.get(start..)?;
        let end = tail.iter().position(|&b| is_slash(b)).unwrap_or(tail.len());
        let (segment, after) = tail.split_at(end);
        if !segment.eq_ignore_ascii_case(want) {
            return None;
        }
        rest = after;
    }
    Some(rest)
}

/// The path of an http(s) URL, or `None` if `s` has no scheme. Other schemes
/// (`javascript:`, `data:`) have no path worth resolving and are refused.
fn url_path(s: &[u8]) -> Result<Option<&[u8]>, PathError> {
    let colon = match s.iter().position(|&b| b == b':') {
        Some(i) => i,
        None => return Ok(None),
    };
    let (scheme, after) = s.split_at(colon);
    let scheme_shaped = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_shaped {
        // A colon inside a path such as `/a:b` is not a scheme.
        return Ok(None);
    }
    if !scheme.eq_ignore_ascii_case(b"http") && !scheme.eq_ignore_ascii_case(b"https") {
        return Err(PathError::NotAbsolute);
    }
    // Browsers accept any run of `/` and `\` after `http:`.
    let after = after.get(1..).unwrap_or_default();
    let host_start = after
        .iter()
        .position(|&b| !is_slash(b))
        .unwrap_or(after.len());
    let authority = after.get(host_start..).unwrap_or_default();
    match authority.iter().position(|&b| is_slash(b)) {
        Some(i) => Ok(authority.get(i..)),
        None => Ok(Some(b"/")),
    }
}

/// Normalises a URL path found in untrusted data the way a browser or
/// backend would before routing it: drops the query and fragment, accepts an
/// `http(s)://host` prefix, percent-decodes (so `%2F` separates and `%2e%2e`
/// climbs), treats `\` as `/`, resolves `.` and `..`, and merges slashes.
///
/// Anything ambiguous is an error rather than a guess: a bad escape, a
/// control character, non-UTF-8, or `..` above the root.
pub fn normalize_path(raw: &[u8]) -> Result<String, PathError> {
    if raw.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    let end = raw
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(raw.len());
    let mut path = raw.get(..end).unwrap_or_default();
    if let Some(p) = url_path(path)? {
        path = p;
    }
    if !path.first().copied().is_some_and(is_slash) {
        return Err(PathError::NotAbsolute);
    }

    let mut decoded = Vec::with_capacity(path.len());
    // Byte by byte, so that a control character before a bad escape is
    // reported as such.
    for b in percent_decode(path, Plus::Literal) {
        let b = b.map_err(|_| PathError::BadEscape)?;
        if b.is_ascii_control() {
            return Err(PathError::ControlChar);
        }
        decoded.push(b);
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)?;

    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded.split(['/', '\\']) {
        trailing_slash = matches!(segment, "" | "." | "..");
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
            }
            s => segments.push(s),
        }
    }

    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Sections {
        Sections::new(["hr", "Marketing", "finance_2"]).unwrap()
    }

    #[test]
    fn section_names() {
        for ok in ["hr", "HR", "a", "finance_2", "_x", &"a".repeat(64)] {
            assert!(valid_section_name(ok), "{ok:?}");
        }
        let long = "a".repeat(65);
        for bad in [
            "", "_all_", "_ALL_", "h-r", "h r", "hr/", "é", "hr.x", "hr\n", &long, "a:b", "a,b",
        ] {
            assert!(!valid_section_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn sections_new() {
        let s = demo();
        assert_eq!(s.names(), ["hr", "marketing", "finance_2"]);
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        assert_eq!(
            Sections::new(["hr", "HR"]),
            Err(SectionError::Duplicate("hr".into()))
        );
        assert_eq!(
            Sections::new(["h-r"]),
            Err(SectionError::Invalid("h-r".into()))
        );
        assert_eq!(Sections::new(["_All_"]), Err(SectionError::Reserved));
        assert_eq!(Sections::new([""]), Err(SectionError::Invalid("".into())));
        assert!(Sections::new(Vec::<String>::new()).unwrap().is_empty());
        assert!(SectionError::Invalid("a\nb".into())
            .to_string()
            .contains("a\\nb"));
    }

    #[test]
    fn resolve_uri_hr_spellings() {
        let s = demo();
        for uri in [
            "/hr", "/hr/", "/hr/x", "/HR", "//hr", "hr", "/Hr/a/b", "///hr//x", "/hr?x", "/hr;x",
            "/hr\\x", "\\hr",
        ] {
            assert_eq!(s.resolve_uri(uri.as_bytes()), Some("hr"), "{uri:?}");
        }
        assert_eq!(s.resolve_uri(b"/MARKETING/q"), Some("marketing"));
        assert_eq!(s.resolve_uri(b"/finance_2"), Some("finance_2"));
    }

    #[test]
    fn resolve_uri_non_sections() {
        let s = demo();
        for uri in [
            "",
            "/",
            "//",
            "/assets/x",
            "/_dash-layout",
            "/_dash-update-component",
            "/hrx",
            "/h",
            "/x/hr",
            "/hr-x",
            "/%68r",
            "/hr.",
            "/ hr",
            "/\u{0}hr",
        ] {
            assert_eq!(s.resolve_uri(uri.as_bytes()), None, "{uri:?}");
        }
        assert_eq!(s.resolve_uri(&[b'/', 0xff, 0xfe]), None);
        assert_eq!(Sections::default().resolve_uri(b"/hr"), None);
    }

    #[test]
    fn resolve_uri_with_prefix() {
        let s = demo().with_prefix("/App/").unwrap();
        assert_eq!(s.prefix(), "/app/");
        assert_eq!(s.resolve_uri(b"/app/hr"), Some("hr"));
        assert_eq!(s.resolve_uri(b"/APP/HR/x"), Some("hr"));
        assert_eq!(s.resolve_uri(b"//app//hr"), Some("hr"));
        assert_eq!(s.resolve_uri(b"/hr"), None);
        assert_eq!(s.resolve_uri(b"/app"), None);
        assert_eq!(s.resolve_uri(b"/apphr"), None);
        assert_eq!(s.resolve_uri(b"/app/x/hr"), None);
        let deep = demo().with_prefix("/a/b/").unwrap();
        assert_eq!(deep.resolve_uri(b"/a/b/hr"), Some("hr"));
        assert_eq!(deep.resolve_uri(b"/a/hr"), None);
        for bad in ["", "app", "/app", "app/", "/a\\b/", "/a\nb/"] {
            assert!(demo().with_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(demo().with_prefix("/").is_ok());
    }

    /// `demo()` with `hr` owning `/people`, `/Human-Resources` and
    /// `/org/staff`, and `marketing` owning `/query-string`.
    fn with_pages() -> Sections {
        let mut p = SectionPaths::default();
        p.add(
            "HR",
            &["/people", "/Human-Resources", "/org/staff"],
            "nginx.conf:5".into(),
        )
        .unwrap();
        p.add("marketing", &["/query-string"], "nginx.conf:6".into())
            .unwrap();
        demo().with_paths(&p).unwrap()
    }

    #[test]
    fn page_paths() {
        for ok in [
            "/people",
            "/human-resources",
            "/query-string",
            "/a/b/c",
            "/v1.2",
            "/a~b",
            "/_x",
            "/...",
            "/HR2",
        ] {
            assert!(valid_page_path(ok), "{ok:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_PAGE_PATH_LEN));
        for bad in [
            "",
            "/",
            "people",
            "people/",
            "/people/",
            "//people",
            "/a//b",
            "/a/./b",
            "/a/..",
            "/.",
            "/a b",
            "/a%20b",
            "/a?b",
            "/a#b",
            "/a;b",
            "/a\\b",
            "/caf\u{e9}",
            "/a*",
            "/a\n",
            "/a:b",
            &long,
        ] {
            assert!(!valid_page_path(bad), "{bad:?}");
        }
        assert!(valid_page_path(&long[..MAX_PAGE_PATH_LEN]));
    }

    #[test]
    fn section_paths_refused_as_written() {
        let mut p = SectionPaths::default();
        p.add("hr", &["/people", "/org/staff"], "a:1".into())
            .unwrap();
        let cases: Vec<(&str, Vec<&str>, PagePathError)> = vec![
            (
                "h-r",
                vec!["/x"],
                PagePathError::Section(SectionError::Invalid("h-r".into())),
            ),
            (
                "_ALL_",
                vec!["/x"],
                PagePathError::Section(SectionError::Reserved),
            ),
            (
                "HR",
                vec!["/x"],
                PagePathError::DuplicateSection {
                    section: "hr".into(),
                    first_at: "a:1".into(),
                },
            ),
            (
                "marketing",
                vec!["/x", "x"],
                PagePathError::Invalid("x".into()),
            ),
            (
                "marketing",
                vec!["/_DASH-layout"],
                PagePathError::DashEndpoint("/_DASH-layout".into()),
            ),
            (
                "marketing",
                vec!["/People"],
                PagePathError::DuplicatePath {
                    path: "/people".into(),
                    section: "hr".into(),
                    at: "a:1".into(),
                },
            ),
            (
                "marketing",
                vec!["/people/sales"],
                PagePathError::Overlap {
                    path: "/people/sales".into(),
                    other: "/people".into(),
                    section: "hr".into(),
                    at: "a:1".into(),
                },
            ),
            (
                "marketing",
                vec!["/org"],
                PagePathError::Overlap {
                    path: "/org".into(),
                    other: "/org/staff".into(),
                    section: "hr".into(),
                    at: "a:1".into(),
                },
            ),
            (
                "marketing",
                vec!["/ads", "/ADS"],
                PagePathError::DuplicatePath {
                    path: "/ads".into(),
                    section: "marketing".into(),
                    at: "b:2".into(),
                },
            ),
            (
                "marketing",
                vec!["/ads", "/ads/x"],
                PagePathError::Overlap {
                    path: "/ads/x".into(),
                    other: "/ads".into(),
                    section: "marketing".into(),
                    at: "b:2".into(),
                },
            ),
        ];
        for (section, paths, want) in cases {
            let before = p.clone();
            assert_eq!(
                p.add(section, &paths, "b:2".into()),
                Err(want.clone()),
                "{section} {paths:?}"
            );
            assert_eq!(p, before, "a refused directive leaves nothing behind");
            assert!(!want.to_string().is_empty());
        }
        // Siblings and deeper-but-different paths do not overlap.
        p.add(
            "marketing",
            &["/peoplex", "/org/staffx", "/org/ads", "/orgs"],
            "b:2".into(),
        )
        .unwrap();
    }

    #[test]
    fn section_path_messages() {
        let overlap = PagePathError::Overlap {
            path: "/people/sales".into(),
            other: "/people".into(),
            section: "hr".into(),
            at: "nginx.conf:5".into(),
        };
        assert_eq!(
            overlap.to_string(),
            "has path \"/people/sales\", which overlaps \"/people\" of section \"hr\" at nginx.conf:5"
        );
        assert!(PagePathError::Invalid("/a\nb".into())
            .to_string()
            .starts_with("has invalid path \"/a\\nb\""));
        let unknown = PathsConflict::NotASection {
            section: "finance".into(),
            defined_at: "nginx.conf:7".into(),
        };
        assert_eq!(unknown.defined_at(), "nginx.conf:7");
        assert_eq!(
            unknown.to_string(),
            "section \"finance\" is not in the \"dash_auth_sections\" in effect"
        );
    }

    #[test]
    fn section_paths_against_the_sections_in_effect() {
        let add = |section: &str, path: &str| {
            let mut p = SectionPaths::default();
            p.add(section, &[path], "nginx.conf:9".into()).unwrap();
            p
        };
        assert_eq!(
            demo().with_paths(&add("finance", "/money")),
            Err(PathsConflict::NotASection {
                section: "finance".into(),
                defined_at: "nginx.conf:9".into()
            })
        );
        assert!(matches!(
            Sections::default().with_paths(&add("hr", "/people")),
            Err(PathsConflict::NotASection { .. })
        ));
        for (path, inside) in [
            ("/Marketing", "marketing"),
            ("/marketing/hr-report", "marketing"),
            ("/hr/people", "hr"),
            ("/FINANCE_2/x", "finance_2"),
        ] {
            assert_eq!(
                demo().with_paths(&add("hr", path)),
                Err(PathsConflict::InsideSection {
                    path: path.to_ascii_lowercase(),
                    section: "hr".into(),
                    inside: inside.into(),
                    defined_at: "nginx.conf:9".into()
                }),
                "{path}"
            );
        }
        // The twins: a path next to a section's name is fine.
        for path in ["/marketingx", "/hr-people", "/x/marketing"] {
            let s = demo().with_paths(&add("hr", path)).unwrap();
            assert_eq!(s.resolve_uri(path.as_bytes()), Some("hr"), "{path}");
        }
        assert_eq!(
            demo()
                .with_paths(&add("hr", "/people"))
                .unwrap()
                .with_paths(&SectionPaths::default())
                .unwrap(),
            demo(),
            "the list in effect replaces, never adds to, the pages"
        );
    }

    #[test]
    fn resolve_uri_section_pages() {
        let s = with_pages();
        let cases: &[(&str, Option<&str>)] = &[
            ("/people", Some("hr")),
            ("/people/", Some("hr")),
            ("/people/x", Some("hr")),
            ("/people/x/y", Some("hr")),
            ("/PEOPLE", Some("hr")),
            ("/People/X", Some("hr")),
            ("//people", Some("hr")),
            ("people", Some("hr")),
            ("/people?x", Some("hr")),
            ("/people;x", Some("hr")),
            ("/people#x", Some("hr")),
            ("\\people", Some("hr")),
            ("/human-resources", Some("hr")),
            ("/HUMAN-RESOURCES/q", Some("hr")),
            ("/query-string", Some("marketing")),
            ("/org/staff", Some("hr")),
            ("/org/staff/", Some("hr")),
            ("/org/staff/alice", Some("hr")),
            ("/org//staff", Some("hr")),
            ("/ORG/Staff", Some("hr")),
            ("/org\\staff", Some("hr")),
            ("/org;x/staff", Some("hr")),
            ("/org/staff;x", Some("hr")),
            // The sections' own names still resolve as before.
            ("/hr", Some("hr")),
            ("/marketing/people", Some("marketing")),
            ("/peoplex", None),
            ("/people-x", None),
            ("/peopl", None),
            ("/x/people", None),
            ("/", None),
            ("", None),
            ("/org", None),
            ("/org/", None),
            ("/org/staffx", None),
            ("/org/x/staff", None),
            ("/orgstaff", None),
            ("/human_resources", None),
            ("/query", None),
            ("/%70eople", None),
            ("/_dash-update-component", None),
        ];
        for &(uri, want) in cases {
            assert_eq!(s.resolve_uri(uri.as_bytes()), want, "{uri:?}");
            assert_eq!(s.page_section(uri.as_bytes()), want, "{uri:?}");
        }
        // The same string as the section's own: callers compare by address.
        assert!(std::ptr::eq(
            s.resolve_uri(b"/people").unwrap(),
            s.resolve_uri(b"/hr").unwrap()
        ));
        // Without pages nothing but names resolves.
        assert_eq!(demo().resolve_uri(b"/people"), None);
    }

    #[test]
    fn section_pages_under_a_prefix() {
        let s = with_pages().with_prefix("/App/").unwrap();
        for (uri, want) in [
            ("/app/people", Some("hr")),
            ("/APP/People/x", Some("hr")),
            ("//app//org//staff", Some("hr")),
            ("/app/query-string", Some("marketing")),
            ("/people", None),
            ("/apppeople", None),
            ("/app/x/people", None),
            ("/app", None),
        ] {
            assert_eq!(s.resolve_uri(uri.as_bytes()), want, "{uri:?}");
        }
        assert_eq!(s.resolve_path(b"/app/x/../people"), Ok(Some("hr")));
    }

    #[test]
    fn strip_prefix_cases() {
        assert_eq!(strip_prefix(b"/app/hr", "/app/"), Some(&b"/hr"[..]));
        assert_eq!(strip_prefix(b"/app", "/app/"), Some(&b""[..]));
        assert_eq!(strip_prefix(b"/hr", "/"), Some(&b"/hr"[..]));
        assert_eq!(strip_prefix(b"/other/hr", "/app/"), None);
        assert_eq!(strip_prefix(b"", "/app/"), None);
        assert_eq!(strip_prefix(b"/", "/app/"), None);
    }

    #[test]
    fn normalize_ok() {
        let cases = [
            ("/", "/"),
            ("/hr", "/hr"),
            ("/hr/", "/hr/"),
            ("//hr//x", "/hr/x"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/../hr", "/hr"),
            ("/x/%2e%2e/hr", "/hr"),
            ("/x/%2E%2E/hr", "/hr"),
            ("/%68%52", "/hR"),
            ("/a%2Fhr", "/a/hr"),
            ("/x%2F..%2Fhr", "/hr"),
            ("/hr?next=/x", "/hr"),
            ("/hr#frag", "/hr"),
            ("/x/..?q=%zz", "/"),
            ("\\hr", "/hr"),
            ("/a\\..\\hr", "/hr"),
            ("http://example.com/hr/x?y", "/hr/x"),
            ("HTTPS://example.com:8443//HR", "/HR"),
            ("https://example.com", "/"),
            ("https:\\\\example.com\\hr", "/hr"),
            ("/a:b", "/a:b"),
            ("/caf%C3%A9", "/café"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize_path(raw.as_bytes()).as_deref(),
                Ok(want),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn normalize_errors() {
        let long = format!("/{}", "a".repeat(MAX_PATH_LEN));
        let cases: [(&[u8], PathError); 16] = [
            (b"", PathError::NotAbsolute),
            (b"hr", PathError::NotAbsolute),
            (b"?x", PathError::NotAbsolute),
            (b"javascript:alert(1)", PathError::NotAbsolute),
            (b"data:text/html,x", PathError::NotAbsolute),
            (b"/%", PathError::BadEscape),
            (b"/%4", PathError::BadEscape),
            (b"/%zz", PathError::BadEscape),
            (b"/%+1", PathError::BadEscape),
            (b"/a%00", PathError::ControlChar),
            (b"/a\nb", PathError::ControlChar),
            (b"/%ff", PathError::NotUtf8),
            (&[b'/', 0xc3], PathError::NotUtf8),
            (b"/..", PathError::AboveRoot),
            (b"/a/../../hr", PathError::AboveRoot),
            (long.as_bytes(), PathError::TooLong),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize_path(raw),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert_eq!(normalize_path(b"/%2e%2e/hr"), Err(PathError::AboveRoot));
    }

    #[test]
    fn resolve_path_cases() {
        let s = demo();
        assert_eq!(s.resolve_path(b"/x/../HR/page"), Ok(Some("hr")));
        assert_eq!(s.resolve_path(b"/%68%72"), Ok(Some("hr")));
        assert_eq!(s.resolve_path(b"/assets%2F..%2Fhr"), Ok(Some("hr")));
        assert_eq!(
            s.resolve_path(b"https://h/marketing?x"),
            Ok(Some("marketing"))
        );
        assert_eq!(s.resolve_path(b"/assets/x.js"), Ok(None));
        assert_eq!(s.resolve_path(b"/../hr"), Err(PathError::AboveRoot));
        let s = with_pages();
        for (raw, want) in [
            ("/x/../People", Some("hr")),
            ("/%70eople/x", Some("hr")),
            ("/org%2Fstaff", Some("hr")),
            ("/org/./staff/", Some("hr")),
            ("/org/staff/..", None),
            ("https://h/Query-String?x", Some("marketing")),
            ("/people/../x", None),
        ] {
            assert_eq!(s.resolve_path(raw.as_bytes()), Ok(want), "{raw:?}");
        }
    }
}
