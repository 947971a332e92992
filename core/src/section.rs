//! Sections (the first path segment of a Dash page) and URL paths.

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
}

impl Default for Sections {
    fn default() -> Self {
        Sections {
            names: Vec::new(),
            prefix: "/".to_owned(),
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
            prefix: "/".to_owned(),
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

    /// The section an already-normalised path (nginx's `r->uri`) belongs to.
    ///
    /// Only the first segment after the Dash prefix counts: `/hr`, `/hr/`,
    /// `/hr/x`, `/HR` and `//hr` are all `hr`; `/`, `/assets/x` and `/hrx` are
    /// none. Comparison ignores ASCII case because a case-insensitive backend
    /// would serve `/HR` as `/hr`, and being stricter than the backend is the
    /// safe direction. Allocation-free: this runs on every request.
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
        self.canonical(first_segment(rest))
    }

    /// [`normalize_path`] then [`Sections::resolve_uri`], for paths taken from
    /// untrusted data rather than from nginx.
    pub fn resolve_path(&self, raw: &[u8]) -> Result<Option<&str>, PathError> {
        let path = normalize_path(raw)?;
        Ok(self.resolve_uri(path.as_bytes()))
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
    }
}
