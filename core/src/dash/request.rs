//! `POST {prefix}_dash-update-component` bodies.

use std::fmt;

use crate::section::{normalize_path, strip_prefix, Sections};

use super::ids::{parse_output_key, parse_prop_key, string_section, ComponentId};
use super::json::{self, JsonError, Kind, Val};
use super::registry::{is_routing_property, Registry};
use crate::grants::allows;
use crate::syntax::MediaType;

use super::Via;

/// Why a callback request was refused. Never carries body content beyond a
/// section name (which is one of the configured ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackDenial {
    /// Not `application/json` (parameters allowed, `charset` only `utf-8`).
    ContentType,
    NotUtf8,
    /// serde_json's reason (category and position), or a byte order mark.
    InvalidJson(String),
    DuplicateKey,
    TooDeep,
    /// Larger than [`super::MAX_JSON_LEN`].
    TooLarge,
    /// Valid JSON that is not a Dash callback body.
    Malformed(&'static str),
    /// A registry is loaded and has no callback under this `output` key:
    /// Dash could not run it either, or the exported registry is stale.
    UnknownCallback,
    ForbiddenSection {
        section: String,
        via: Via,
    },
    /// A URL value that cannot be normalised, so its section is unknown.
    BadPath,
}

impl CallbackDenial {
    /// The HTTP status to answer with: 403 for a policy refusal, 413 for a
    /// body over the size bound, 400 for anything that is not a well-formed
    /// callback request.
    pub fn status(&self) -> u16 {
        match self {
            CallbackDenial::ForbiddenSection { .. } | CallbackDenial::UnknownCallback => 403,
            CallbackDenial::TooLarge => 413,
            _ => 400,
        }
    }

    /// True when the refusal is about the user's sections rather than about
    /// the shape of the request.
    pub fn is_forbidden(&self) -> bool {
        self.status() == 403
    }
}

impl fmt::Display for CallbackDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackDenial::ContentType => {
                f.write_str("callback content type is not \"application/json\" in UTF-8")
            }
            CallbackDenial::NotUtf8 => f.write_str("callback body is not valid UTF-8"),
            CallbackDenial::InvalidJson(why) => write!(f, "callback body is not valid JSON: {why}"),
            CallbackDenial::DuplicateKey => f.write_str("callback body has a duplicate JSON key"),
            CallbackDenial::TooDeep => write!(
                f,
                "callback body is nested deeper than {}",
                super::MAX_DEPTH
            ),
            CallbackDenial::TooLarge => write!(
                f,
                "callback body is larger than {} bytes",
                super::MAX_JSON_LEN
            ),
            CallbackDenial::Malformed(why) => write!(f, "malformed callback body: {why}"),
            CallbackDenial::UnknownCallback => {
                f.write_str("callback \"output\" is not in the dash registry")
            }
            CallbackDenial::ForbiddenSection { section, via } => {
                let verb = match via {
                    Via::Output | Via::Outputs => "writes to",
                    Via::Route => "routes to",
                    Via::Inputs
                    | Via::State
                    | Via::ChangedPropIds
                    | Via::RegisteredInput
                    | Via::RegisteredState => "reads from",
                };
                write!(f, "callback {verb} section \"{section}\" through \"{via}\"")
            }
            CallbackDenial::BadPath => {
                f.write_str("callback carries a URL that cannot be normalized")
            }
        }
    }
}

impl std::error::Error for CallbackDenial {}

impl From<JsonError> for CallbackDenial {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::TooLarge => CallbackDenial::TooLarge,
            JsonError::NotUtf8 => CallbackDenial::NotUtf8,
            JsonError::Bom => CallbackDenial::InvalidJson("byte order mark".into()),
            JsonError::DuplicateKey => CallbackDenial::DuplicateKey,
            JsonError::TooDeep => CallbackDenial::TooDeep,
            JsonError::Syntax(msg) => CallbackDenial::InvalidJson(msg),
        }
    }
}

/// `application/json`, with optional parameters of which `charset`, if
/// present (once), is `utf-8`. Flask also takes `*/*+json` and sniffs
/// UTF-16 and UTF-32; the Dash renderer sends neither, and accepting them
/// would mean reading the body the way Flask does in every corner.
fn content_type_ok(ct: &[u8]) -> bool {
    if !ct.is_ascii() {
        return false;
    }
    let media = MediaType::parse(ct);
    if !media.is("application/json") {
        return false;
    }
    let mut charset_seen = false;
    for param in media.params() {
        let Ok(param) = param else {
            return false;
        };
        if param.name.eq_ignore_ascii_case(b"charset") {
            if charset_seen || !param.value().eq_ignore_ascii_case(b"utf-8") {
                return false;
            }
            charset_seen = true;
        }
    }
    true
}

/// One `{id, property, value}` of `inputs`, `state` or `outputs`.
struct Entry<'a> {
    id: Val<'a, 'a>,
    property: &'a str,
    value: Option<Val<'a, 'a>>,
    /// Its position among the callback's arguments (`inputs ++ state`);
    /// unused for `outputs`.
    slot: usize,
}

fn entry<'a>(v: Val<'a, 'a>) -> Result<Entry<'a>, CallbackDenial> {
    let members = v.as_object().ok_or(CallbackDenial::Malformed(
        "an input, state or output is not an object",
    ))?;
    // One pass instead of a lookup per field; keys are unique.
    let (mut id, mut property, mut value) = (None, None, None);
    for (key, member) in members {
        match key {
            "id" => id = Some(member),
            "property" => property = Some(member),
            "value" => value = Some(member),
            _ => {}
        }
    }
    let id = id.ok_or(CallbackDenial::Malformed(
        "an input, state or output has no \"id\"",
    ))?;
    let property = property
        .and_then(Val::as_str)
        .ok_or(CallbackDenial::Malformed(
            "an input, state or output has no string \"property\"",
        ))?;
    Ok(Entry {
        id,
        property,
        value,
        slot: 0,
    })
}

/// `inputs` or `state`: a list whose items are entries, or (ALL and
/// ALLSMALLER wildcards) lists of entries. Dash reads exactly these two
/// levels; anything deeper would break it, so it is refused.
///
/// Appends the entries to `out`, each with its slot counted from `first`
/// (one flat list rather than one per slot: a single allocation), and
/// returns the number of slots.
fn slots<'a>(
    v: Val<'a, 'a>,
    first: usize,
    out: &mut Vec<Entry<'a>>,
) -> Result<usize, CallbackDenial> {
    let items = v.as_array().ok_or(CallbackDenial::Malformed(
        "\"inputs\" or \"state\" is not a list",
    ))?;
    let count = items.len();
    for (i, item) in items.enumerate() {
        let slot = first + i;
        match item.as_array() {
            Some(group) => {
                out.reserve(group.len());
                for e in group {
                    out.push(Entry { slot, ..entry(e)? });
                }
            }
            None => out.push(Entry {
                slot,
                ..entry(item)?
            }),
        }
    }
    Ok(count)
}

/// Largest list depth accepted in `outputs` (an ALL output inside a
/// multi-output callback is two levels).
const MAX_OUTPUTS_NESTING: usize = 3;

fn output_entries<'a>(
    v: Val<'a, 'a>,
    level: usize,
    out: &mut Vec<Entry<'a>>,
) -> Result<(), CallbackDenial> {
    match v.as_array() {
        Some(items) if level < MAX_OUTPUTS_NESTING => {
            for item in items {
                output_entries(item, level + 1, out)?;
            }
            Ok(())
        }
        Some(_) => Err(CallbackDenial::Malformed(
            "\"outputs\" is nested too deeply",
        )),
        None => {
            out.push(entry(v)?);
            Ok(())
        }
    }
}

/// The parts of a body that name components, validated.
struct Body<'a> {
    key: &'a str,
    key_ids: Vec<ComponentId<'a>>,
    outputs: Vec<Entry<'a>>,
    /// Entries of `inputs`, then of `state`, with their slots.
    values: Vec<Entry<'a>>,
    /// Where `state`'s entries start in `values`.
    state_at: usize,
    /// How many slots `inputs` and `state` have together.
    slots: usize,
    changed: Vec<ComponentId<'a>>,
}

fn read_body<'a>(doc: Val<'a, 'a>) -> Result<Body<'a>, CallbackDenial> {
    let members = doc
        .as_object()
        .ok_or(CallbackDenial::Malformed("body is not a JSON object"))?;
    // One pass instead of a lookup per field; keys are unique.
    let (mut output, mut outputs_v, mut inputs_v, mut state_v, mut changed_v) =
        (None, None, None, None, None);
    for (key, member) in members {
        match key {
            "output" => output = Some(member),
            "outputs" => outputs_v = Some(member),
            "inputs" => inputs_v = Some(member),
            "state" => state_v = Some(member),
            "changedPropIds" => changed_v = Some(member),
            _ => {}
        }
    }
    let key = match output.map(Val::kind) {
        Some(Kind::String(s)) => s,
        Some(_) => return Err(CallbackDenial::Malformed("\"output\" is not a string")),
        None => return Err(CallbackDenial::Malformed("\"output\" is missing")),
    };
    let key_ids =
        parse_output_key(key).map_err(|_| CallbackDenial::Malformed("unreadable \"output\""))?;
    let mut outputs = Vec::new();
    if let Some(v) = outputs_v {
        output_entries(v, 0, &mut outputs)?;
    }
    let mut values = Vec::new();
    let input_slots = slots(
        inputs_v.ok_or(CallbackDenial::Malformed("\"inputs\" is missing"))?,
        0,
        &mut values,
    )?;
    let state_at = values.len();
    let state_slots = match state_v {
        Some(v) => slots(v, input_slots, &mut values)?,
        None => 0,
    };
    let mut changed = Vec::new();
    if let Some(v) = changed_v {
        let items = v.as_array().ok_or(CallbackDenial::Malformed(
            "\"changedPropIds\" is not a list",
        ))?;
        for item in items {
            let id = item
                .as_str()
                .and_then(parse_prop_key)
                .ok_or(CallbackDenial::Malformed("unreadable \"changedPropIds\""))?;
            changed.push(id);
        }
    }
    Ok(Body {
        key,
        key_ids,
        outputs,
        values,
        state_at,
        slots: input_slots + state_slots,
        changed,
    })
}

fn deny(section: &str, via: Via) -> CallbackDenial {
    CallbackDenial::ForbiddenSection {
        section: section.to_owned(),
        via,
    }
}

/// The section checks of one request, sharing one scratch list: the first
/// forbidden section is the same whether all ids' sections are gathered
/// first or each id is checked in turn, and checking in turn keeps the list
/// as short as one id's sections, so it is allocated at most once.
struct Checker<'s, 'g, 'b> {
    allowed: &'g [String],
    sections: &'s Sections,
    found: Vec<&'s str>,
    /// The last section `allowed` was found to open: an ALL callback names
    /// the same one for every input, and the grants need not be compared
    /// again each time.
    granted: Option<&'s str>,
    /// The last string of a body id and its section, for the same reason:
    /// an ALL callback's inputs share their `type`.
    last_id: Option<(&'b str, Option<&'s str>)>,
}

impl<'s, 'b> Checker<'s, '_, 'b> {
    fn grant(&mut self, section: &'s str, via: Via) -> Result<(), CallbackDenial> {
        // Sections are `Sections`' own strings, so identity is equality.
        if self.granted.is_some_and(|g| std::ptr::eq(g, section)) {
            return Ok(());
        }
        if !allows(self.allowed, section) {
            return Err(deny(section, via));
        }
        self.granted = Some(section);
        Ok(())
    }

    fn found(&mut self, via: Via) -> Result<(), CallbackDenial> {
        for i in 0..self.found.len() {
            if let Some(&section) = self.found.get(i) {
                self.grant(section, via)?;
            }
        }
        Ok(())
    }

    fn id_string_section(&mut self, s: &'b str) -> Option<&'s str> {
        if let Some((last, section)) = self.last_id {
            if last == s {
                return section;
            }
        }
        let section = string_section(s, self.sections);
        self.last_id = Some((s, section));
        section
    }

    fn ids<'i, 'c: 'i>(
        &mut self,
        ids: impl IntoIterator<Item = &'i ComponentId<'c>>,
        via: Via,
    ) -> Result<(), CallbackDenial> {
        for id in ids {
            self.found.clear();
            id.sections(self.sections, &mut self.found);
            self.found(via)?;
        }
        Ok(())
    }

    fn entries<'e>(
        &mut self,
        entries: impl Iterator<Item = &'e Entry<'b>> + Clone,
        via: Via,
    ) -> Result<(), CallbackDenial>
    where
        'b: 'e,
    {
        // A malformed id anywhere in the list wins over a forbidden one, as
        // when every id was read before any was checked.
        if entries
            .clone()
            .any(|e| e.id.as_str().is_none() && !e.id.is_object())
        {
            return Err(CallbackDenial::Malformed(
                "a component id is not a string or an object",
            ));
        }
        // A string id is its only string; a dict id names the sections of
        // every string inside it (see `ids::value_sections`).
        for e in entries {
            for s in e.id.strings() {
                if let Some(section) = self.id_string_section(s) {
                    self.grant(section, via)?;
                }
            }
        }
        Ok(())
    }

    fn route(&mut self, value: Option<Val<'_, '_>>) -> Result<(), CallbackDenial> {
        // `null` (no URL yet) and non-strings cannot name a page.
        let Some(url) = value.and_then(Val::as_str) else {
            return Ok(());
        };
        self.found.clear();
        route_sections(url, self.sections, &mut self.found)?;
        self.found(Via::Route)
    }
}

/// The section of a page path (its first segment, or a
/// `dash_auth_section_paths` page), read after the Dash prefix the ways an
/// app might: segment by segment (how we route `r->uri`), as Dash's
/// `strip_relative_path` does (a plain string prefix without its trailing
/// `/`, so `/apphr` under `/app/` is `hr`), and not stripped at all (a
/// custom router may ignore the prefix). Any of them naming a section
/// counts: being stricter than the app is the safe direction.
fn path_sections<'s>(path: &[u8], sections: &'s Sections, out: &mut Vec<&'s str>) {
    out.extend(sections.page_section(path));
    let prefix = sections.prefix();
    if prefix == "/" {
        return;
    }
    if let Some(rest) = strip_prefix(path, prefix) {
        out.extend(sections.page_section(rest));
    }
    let bare = prefix.trim_end_matches('/').as_bytes();
    if let (Some(head), Some(rest)) = (path.get(..bare.len()), path.get(bare.len()..)) {
        if head.eq_ignore_ascii_case(bare) {
            out.extend(sections.page_section(rest));
        }
    }
}

/// A URL as written, with only `scheme://authority` removed: an app that
/// matches the raw `pathname` sees `/hr/..` as `hr`, not as `/`.
fn raw_path(url: &[u8]) -> &[u8] {
    let Some(colon) = url.iter().position(|&b| b == b':') else {
        return url;
    };
    let (scheme, after) = url.split_at(colon);
    let scheme_shaped = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_shaped {
        return url;
    }
    let after = after.get(1..).unwrap_or_default();
    let host = after
        .iter()
        .position(|&b| b != b'/' && b != b'\\')
        .unwrap_or(after.len());
    let authority = after.get(host..).unwrap_or_default();
    let path = authority
        .iter()
        .position(|&b| b == b'/' || b == b'\\')
        .unwrap_or(authority.len());
    authority.get(path..).unwrap_or_default()
}

/// Every section a URL value routes to, read both normalised (percent
/// escapes, dot segments, slashes, query and fragment: what a browser or a
/// careful app sees) and raw.
fn route_sections<'s>(
    url: &str,
    sections: &'s Sections,
    found: &mut Vec<&'s str>,
) -> Result<(), CallbackDenial> {
    let normalized = normalize_path(url.as_bytes()).map_err(|_| CallbackDenial::BadPath)?;
    path_sections(normalized.as_bytes(), sections, found);
    path_sections(raw_path(url.as_bytes()), sections, found);
    Ok(())
}

/// Without a registry we cannot know which value a callback reads as its
/// URL, so any value that could be one is resolved.
fn looks_like_path(value: Option<Val<'_, '_>>) -> bool {
    let Some(s) = value.and_then(Val::as_str) else {
        return false;
    };
    let b = s.as_bytes();
    let scheme = |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    b.first().is_some_and(|&c| c == b'/' || c == b'\\') || scheme(b"http:") || scheme(b"https:")
}

/// Decides whether a callback request may reach the app.
///
/// `content_type` is the request's `Content-Type` header; `allowed` the
/// user's grants (`_all_` opens everything); `registry` the app's callbacks
/// if exported.
///
/// Checked, after strict parsing: the ids of the `output` key, `outputs`,
/// `inputs`, `state` and `changedPropIds`. With a registry: the callback
/// must be registered, its input and state count must match (Dash refuses
/// a mismatch too), its registered input and state ids are checked, and
/// each value at a registered `pathname`/`href` position of
/// `inputs ++ state` is resolved as a URL, by position only, as Dash passes
/// values. Without a registry: every input or state labelled
/// `pathname`/`href`, and every value starting with `/`, `\` or
/// `http(s):`, is resolved as a URL (fail closed: a text field holding
/// `/hr` is refused for a user without `hr`).
pub fn check_callback_request(
    body: &[u8],
    content_type: Option<&[u8]>,
    allowed: &[String],
    sections: &Sections,
    registry: Option<&Registry>,
) -> Result<(), CallbackDenial> {
    if !content_type.is_some_and(content_type_ok) {
        return Err(CallbackDenial::ContentType);
    }
    let doc = json::Doc::parse(body)?;
    let body = read_body(doc.root())?;
    let (inputs, state) = body
        .values
        .split_at_checked(body.state_at)
        .unwrap_or_default();

    let registered = match registry {
        Some(registry) => {
            let callback = registry
                .get(body.key)
                .ok_or(CallbackDenial::UnknownCallback)?;
            if body.slots != callback.arity() {
                return Err(CallbackDenial::Malformed(
                    "inputs and state do not match the registered callback",
                ));
            }
            Some(callback)
        }
        None => None,
    };

    let mut check = Checker {
        allowed,
        sections,
        found: Vec::new(),
        granted: None,
        last_id: None,
    };
    check.ids(&body.key_ids, Via::Output)?;
    check.entries(body.outputs.iter(), Via::Outputs)?;
    check.entries(inputs.iter(), Via::Inputs)?;
    check.entries(state.iter(), Via::State)?;
    check.ids(&body.changed, Via::ChangedPropIds)?;

    match registered {
        Some(callback) => {
            check.ids(callback.inputs.iter().map(|d| &d.id), Via::RegisteredInput)?;
            check.ids(callback.state.iter().map(|d| &d.id), Via::RegisteredState)?;
            check.ids(&callback.running, Via::Output)?;
            for position in callback.routing_positions() {
                if position >= body.slots {
                    return Err(CallbackDenial::Malformed("a routing input is missing"));
                }
                for e in body.values.iter().filter(|e| e.slot == position) {
                    check.route(e.value)?;
                }
            }
        }
        None => {
            for e in &body.values {
                if is_routing_property(e.property) || looks_like_path(e.value) {
                    check.route(e.value)?;
                }
            }
        }
    }
    Ok(())
}

/// The `use_pages` router's outputs a callback request names: Dash's
/// router writes the page into `_pages_content.children` and its title
/// into `_pages_store.data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterOutputs {
    /// `_pages_store.data` is named too.
    pub store: bool,
}

/// `None` unless the request's `outputs` name the page container,
/// `_pages_content.children`: only then can a reply show a refusal where
/// the page would have been. For a body [`check_callback_request`] has read.
pub fn pages_router_outputs(body: &[u8]) -> Option<RouterOutputs> {
    let doc = json::Doc::parse(body).ok()?;
    let body = read_body(doc.root()).ok()?;
    let names = |id: &str, property: &str| {
        body.outputs
            .iter()
            .any(|e| e.property == property && e.id.as_str() == Some(id))
    };
    names("_pages_content", "children").then(|| RouterOutputs {
        store: names("_pages_store", "data"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "application/json ; charset=\"utf-8\"",
            "application/json; charset=\"utf\\-8\"",
            " application/json\t",
            "application/json; foo=bar; charset=utf-8",
        ] {
            assert!(content_type_ok(ok.as_bytes()), "{ok:?}");
        }
        for bad in [
            "",
            "text/plain",
            "application/x+json",
            "application/vnd.api+json",
            "*/*+json",
            "application/json-patch+json",
            "application/jsonx",
            "application/json; charset=utf-16",
            "application/json; charset=latin1",
            "application/json; charset=utf-8; charset=utf-8",
            "application/json; charset",
            "application/json;",
            "application/json; charset = utf-8",
            "application/json; charset=\"utf-8",
            "application/json; charset=utf-8\u{0}",
            "application/json, text/plain",
            "application/json; charset=ütf-8",
        ] {
            assert!(!content_type_ok(bad.as_bytes()), "{bad:?}");
        }
        assert!(!content_type_ok(b"application/json\xff"));
    }

    #[test]
    fn router_outputs() {
        let body = |outputs: &str| {
            format!(
                r#"{{"output":"_pages_content.children","outputs":{outputs},"inputs":[{{"id":"_pages_location","property":"pathname","value":"/hr"}}]}}"#
            )
        };
        let both = r#"[{"id":"_pages_content","property":"children"},{"id":"_pages_store","property":"data"}]"#;
        assert_eq!(
            pages_router_outputs(body(both).as_bytes()),
            Some(RouterOutputs { store: true })
        );
        let single = r#"{"id":"_pages_content","property":"children"}"#;
        assert_eq!(
            pages_router_outputs(body(single).as_bytes()),
            Some(RouterOutputs { store: false })
        );
        for other in [
            r#"{"id":"_pages_content","property":"style"}"#,
            r#"[{"id":"_pages_store","property":"data"}]"#,
            r#"{"id":"marketing-graph","property":"children"}"#,
            r#"{"id":{"type":"_pages_content"},"property":"children"}"#,
        ] {
            assert_eq!(
                pages_router_outputs(body(other).as_bytes()),
                None,
                "{other}"
            );
        }
        assert_eq!(pages_router_outputs(b"{"), None);
    }

    #[test]
    fn raw_paths() {
        assert_eq!(raw_path(b"/hr/.."), b"/hr/..");
        assert_eq!(raw_path(b"https://host/hr?x"), b"/hr?x");
        assert_eq!(raw_path(b"https:\\\\host\\hr"), b"\\hr");
        assert_eq!(raw_path(b"https://host"), b"");
        assert_eq!(raw_path(b"/a:b"), b"/a:b");
    }
}
