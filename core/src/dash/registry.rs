//! The app's callbacks, read from its own `/_dash-dependencies`.
//!
//! Dash runs the callback registered under the body's `output` key and feeds
//! it the body's input values by position; the ids and properties the client
//! labels them with are never compared. Only the registry says which
//! position is the URL a router reads, and which sections the callback
//! really reads from.

use std::collections::HashMap;
use std::fmt;

use crate::section::Sections;

use super::ids::{parse_output_key, parse_prop_key, ComponentId};
use super::json::{Doc, JsonError, Kind, Val};
use super::{first_forbidden, Via};

/// Properties through which a callback reads the URL: what `dcc.Location`
/// exposes (the `use_pages` router reads `_pages_location.pathname`).
/// `search` and `hash` cannot name a section by themselves.
pub(crate) fn is_routing_property(property: &str) -> bool {
    property.eq_ignore_ascii_case("pathname") || property.eq_ignore_ascii_case("href")
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dep {
    pub(crate) id: ComponentId<'static>,
    pub(crate) property: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Callback {
    pub(crate) outputs: Vec<ComponentId<'static>>,
    pub(crate) inputs: Vec<Dep>,
    pub(crate) state: Vec<Dep>,
    /// Ids a background callback sets while it runs (`running=`).
    pub(crate) running: Vec<ComponentId<'static>>,
    pub(crate) clientside: bool,
}

impl Callback {
    /// Positions in `inputs ++ state` (Dash's `inputs_list + states_list`,
    /// the order in which it hands values to the function) that carry a URL.
    /// Routing state counts too: `State("url", "pathname")` is common.
    pub(crate) fn routing_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.inputs
            .iter()
            .chain(&self.state)
            .enumerate()
            .filter(|(_, dep)| is_routing_property(&dep.property))
            .map(|(i, _)| i)
    }

    pub(crate) fn arity(&self) -> usize {
        self.inputs.len() + self.state.len()
    }

    /// The first section this callback touches that `allowed` lacks, and
    /// through what.
    pub(crate) fn forbidden<'s>(
        &self,
        allowed: &[String],
        sections: &'s Sections,
    ) -> Option<(&'s str, Via)> {
        let check = |ids: &mut dyn Iterator<Item = &ComponentId<'static>>| {
            let mut found = Vec::new();
            for id in ids {
                id.sections(sections, &mut found);
            }
            first_forbidden(&found, allowed)
        };
        if let Some(s) = check(&mut self.outputs.iter().chain(&self.running)) {
            return Some((s, Via::Output));
        }
        if let Some(s) = check(&mut self.inputs.iter().map(|d| &d.id)) {
            return Some((s, Via::RegisteredInput));
        }
        if let Some(s) = check(&mut self.state.iter().map(|d| &d.id)) {
            return Some((s, Via::RegisteredState));
        }
        None
    }
}

/// Every callback of one Dash app, keyed by the exact `output` string Dash
/// looks callbacks up by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    callbacks: HashMap<String, Callback>,
}

/// Why a `/_dash-dependencies` document was refused, for an `[emerg]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    Json(JsonError),
    NotArray,
    /// `index` counts from 0, like the array.
    Entry {
        index: usize,
        problem: String,
    },
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Json(e) => write!(f, "{e}"),
            RegistryError::NotArray => f.write_str("not a JSON array"),
            RegistryError::Entry { index, problem } => {
                write!(f, "entry {index}: {problem}")
            }
        }
    }
}

impl std::error::Error for RegistryError {}

fn entry_error(index: usize, problem: impl Into<String>) -> RegistryError {
    RegistryError::Entry {
        index,
        problem: problem.into(),
    }
}

impl Registry {
    /// Reads the JSON array Dash serves at `/_dash-dependencies`.
    ///
    /// Strict, because a callback we misread is a callback we cannot
    /// enforce: every entry needs a parseable `output` key and `inputs`;
    /// `state` may be absent. Two entries with the same key are refused
    /// (Dash would keep the last one, silently). Clientside callbacks are
    /// kept: they never reach the server, so holding them costs nothing.
    pub fn from_dependencies_json(bytes: &[u8]) -> Result<Registry, RegistryError> {
        let doc = Doc::parse(bytes).map_err(RegistryError::Json)?;
        let entries = doc.root().as_array().ok_or(RegistryError::NotArray)?;
        let mut callbacks = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.enumerate() {
            let (key, callback) = parse_entry(entry).map_err(|p| entry_error(index, p))?;
            if callbacks.insert(key.to_owned(), callback).is_some() {
                return Err(entry_error(index, "the same \"output\" key appears twice"));
            }
        }
        Ok(Registry { callbacks })
    }

    pub fn len(&self) -> usize {
        self.callbacks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.callbacks.is_empty()
    }

    /// True if a callback is registered under exactly this key.
    pub fn contains(&self, output: &str) -> bool {
        self.callbacks.contains_key(output)
    }

    /// How many registered callbacks are clientside.
    pub fn clientside_count(&self) -> usize {
        self.callbacks.values().filter(|c| c.clientside).count()
    }

    pub(crate) fn get(&self, output: &str) -> Option<&Callback> {
        self.callbacks.get(output)
    }
}

/// A member, unless it is missing or `null`: both mean the field is unused.
fn present<'d, 'a>(v: Option<Val<'d, 'a>>) -> Option<Val<'d, 'a>> {
    v.filter(|v| !v.is_null())
}

fn parse_entry<'d>(entry: Val<'d, '_>) -> Result<(&'d str, Callback), String> {
    if !entry.is_object() {
        return Err("not a JSON object".into());
    }
    let key = match entry.get("output") {
        None => return Err("\"output\" is missing".into()),
        Some(v) => v.as_str().ok_or("\"output\" is not a string")?,
    };
    let outputs = parse_output_key(key)
        .map_err(|why| format!("\"output\" cannot be parsed: {why}"))?
        .into_iter()
        .map(ComponentId::into_owned)
        .collect();
    let inputs = match entry.get("inputs") {
        None => return Err("\"inputs\" is missing".into()),
        Some(v) => parse_deps(v, "inputs")?,
    };
    let state = match present(entry.get("state")) {
        None => Vec::new(),
        Some(v) => parse_deps(v, "state")?,
    };
    let running = match present(entry.get("running")) {
        None => Vec::new(),
        Some(v) => parse_running(v)?,
    };
    let clientside = present(entry.get("clientside_function")).is_some();
    Ok((
        key,
        Callback {
            outputs,
            inputs,
            state,
            running,
            clientside,
        },
    ))
}

fn parse_deps(v: Val<'_, '_>, field: &str) -> Result<Vec<Dep>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("\"{field}\" is not a list"))?;
    let mut deps = Vec::with_capacity(items.len());
    for (i, item) in items.enumerate() {
        let bad = |what: &str| format!("\"{field}\"[{i}]: {what}");
        if !item.is_object() {
            return Err(bad("not an object"));
        }
        let id = match item.get("id") {
            Some(v) => match v.kind() {
                Kind::String(s) => ComponentId::from_stringified(s)
                    .ok_or_else(|| bad("unreadable dict id"))?
                    .into_owned(),
                Kind::Object(_) => ComponentId::Dict(v.to_doc().into_owned()),
                _ => return Err(bad("\"id\" is not a string or an object")),
            },
            None => return Err(bad("\"id\" is missing")),
        };
        let property = item
            .get("property")
            .and_then(Val::as_str)
            .ok_or_else(|| bad("\"property\" is missing or not a string"))?;
        deps.push(Dep {
            id,
            property: property.to_owned(),
        });
    }
    Ok(deps)
}

/// `running` is `{"running": {"id.prop": v}, "runningOff": {…}}`.
fn parse_running(v: Val<'_, '_>) -> Result<Vec<ComponentId<'static>>, String> {
    let members = v.as_object().ok_or("\"running\" is not an object")?;
    let mut ids = Vec::new();
    for (_, group) in members {
        let Some(keys) = group.as_object() else {
            continue;
        };
        for (key, _) in keys {
            let id = parse_prop_key(key).ok_or("\"running\" has an unreadable dict id")?;
            ids.push(id.into_owned());
        }
    }
    Ok(ids)
}

/// The `/_dash-dependencies` document without the callbacks that touch a
/// section `allowed` lacks (through outputs, inputs, state or `running`), so
/// a user's browser does not learn other sections' component ids.
///
/// Entries are re-encoded compactly in their original member order; an
/// entry that cannot be read fails the whole document (fail closed).
pub fn filter_dependencies(
    bytes: &[u8],
    allowed: &[String],
    sections: &Sections,
) -> Result<Vec<u8>, RegistryError> {
    let doc = Doc::parse(bytes).map_err(RegistryError::Json)?;
    let entries = doc.root().as_array().ok_or(RegistryError::NotArray)?;
    let mut kept = Vec::with_capacity(entries.len());
    for (index, entry) in entries.enumerate() {
        let (_, callback) = parse_entry(entry).map_err(|p| entry_error(index, p))?;
        if callback.forbidden(allowed, sections).is_none() {
            kept.push(entry);
        }
    }
    // Cannot fail: the entries are tape values (see `Val::to_json`).
    Ok(serde_json::to_vec(&kept).unwrap_or_default())
}
