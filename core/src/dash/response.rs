//! Callback replies and the index page, checked on the way back as a second
//! line of defence: `set_props()` lets any callback write to any component
//! through `sideUpdate`, which no request check can foresee.

use std::fmt;

use crate::section::Sections;

use super::components::{scan_callback_reply, Leak};
use super::json::{Doc, JsonError};

/// The top-level member of a callback reply that named a forbidden
/// section: the [`ResponseDenial::ForbiddenSection`] `via`, displayed as
/// the member's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyVia {
    Response,
    SideUpdate,
    Progress,
    ProgressDefault,
    Cancel,
}

impl ReplyVia {
    /// The member's name in the reply's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyVia::Response => "response",
            ReplyVia::SideUpdate => "sideUpdate",
            ReplyVia::Progress => "progress",
            ReplyVia::ProgressDefault => "progressDefault",
            ReplyVia::Cancel => "cancel",
        }
    }
}

impl fmt::Display for ReplyVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a callback reply was withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseDenial {
    /// Not valid strict JSON (the reason carries no content).
    InvalidJson(String),
    TooLarge,
    /// Valid JSON, but not the shape of a Dash reply.
    Malformed(&'static str),
    ForbiddenSection {
        section: String,
        via: ReplyVia,
    },
    /// A value carries a component of a forbidden section (a router's
    /// page layout, say).
    Carries(Leak),
}

impl ResponseDenial {
    /// 403 when the reply would show a forbidden section, 502 when the
    /// upstream sent something that is not a Dash reply.
    pub fn status(&self) -> u16 {
        match self {
            ResponseDenial::ForbiddenSection { .. } | ResponseDenial::Carries(_) => 403,
            _ => 502,
        }
    }
}

impl fmt::Display for ResponseDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseDenial::InvalidJson(why) => {
                write!(f, "callback reply is not valid JSON: {why}")
            }
            ResponseDenial::TooLarge => write!(
                f,
                "callback reply is larger than {} bytes",
                super::MAX_JSON_LEN
            ),
            ResponseDenial::Malformed(why) => write!(f, "malformed callback reply: {why}"),
            ResponseDenial::ForbiddenSection { section, via } => {
                write!(
                    f,
                    "callback reply writes to section \"{section}\" through \"{via}\""
                )
            }
            ResponseDenial::Carries(leak) => write!(f, "callback reply: {leak}"),
        }
    }
}

impl std::error::Error for ResponseDenial {}

impl From<JsonError> for ResponseDenial {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::TooLarge => ResponseDenial::TooLarge,
            other => ResponseDenial::InvalidJson(other.to_string()),
        }
    }
}

/// How the ids of one top-level member are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdsAs {
    /// `{"<stringified id>": {"<prop>": value}}`
    MapKeys,
    /// `{"<id>.<prop>": value}`
    PropKeys,
    /// `[{"id": "<stringified id>", "property": …}]`
    DepList,
}

pub(super) const MEMBERS: [(ReplyVia, IdsAs); 5] = [
    (ReplyVia::Response, IdsAs::MapKeys),
    (ReplyVia::SideUpdate, IdsAs::MapKeys),
    (ReplyVia::Progress, IdsAs::PropKeys),
    (ReplyVia::ProgressDefault, IdsAs::PropKeys),
    (ReplyVia::Cancel, IdsAs::DepList),
];

/// Decides whether an upstream reply to a callback may reach the user.
///
/// An empty (or all-whitespace) body is a 204 and passes. Otherwise the
/// body must be a strict JSON object; the ids keying `response` and
/// `sideUpdate`, the `id.prop` keys of `progress` and `progressDefault`
/// (background callbacks), and the ids of `cancel` must all be in sections
/// `allowed` opens. Other members (`multi`, `cacheKey`, `job`, `dist`) name
/// no component. Values are read for components too: a router's reply
/// carries a page layout under the shared `_pages_content` id.
pub fn check_callback_response(
    body: &[u8],
    allowed: &[String],
    sections: &Sections,
) -> Result<(), ResponseDenial> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    scan_callback_reply(body, allowed, sections)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|i| i + from)
}

/// True when a Dash index page embeds a `validation_layout` (every page's
/// layout, sent to every user) in its
/// `<script id="_dash-config" type="application/json">` config. Dash 4.4.1
/// adds it when `suppress_callback_exceptions` is off and the app has pages
/// or a validation layout; a protected app must turn that off.
///
/// Fails closed: a config script that is unterminated or not a strict JSON
/// object counts as having one. A page without a config script (not a Dash
/// index) has none.
pub fn index_has_validation_layout(html: &[u8]) -> bool {
    const MARK: &[u8] = b"id=\"_dash-config\"";
    let mut from = 0;
    while let Some(at) = find(html, MARK, from) {
        let Some(open_end) = find(html, b">", at) else {
            return true;
        };
        let start = open_end + 1;
        let Some(end) = find(html, b"</script", start) else {
            return true;
        };
        let config = html.get(start..end).unwrap_or_default();
        match Doc::parse(config) {
            Ok(v) if v.root().is_object() => {
                if v.root().get("validation_layout").is_some() {
                    return true;
                }
            }
            _ => return true,
        }
        from = end;
    }
    false
}
