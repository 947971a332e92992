//! Dash callback enforcement: which sections a callback request, a callback
//! reply or the app's callback list touches.
//!
//! A path check alone does not protect a Dash app: every section's data
//! flows through one endpoint, `POST {prefix}_dash-update-component`, and a
//! multi-page app picks the page to render from a `pathname` *value* in the
//! body, not from the request path. So the body is read here, strictly
//! (duplicate keys, escapes and odd content types are where a gateway and
//! Flask would disagree), and every component id in it, plus the URL a
//! router callback reads, is checked against the user's sections.
//!
//! An id belongs to section `S` when it is a string starting with `S-`, or
//! a pattern-matching dict with any string value starting with `S-`
//! (ignoring ASCII case). A callback touching several sections needs all.
//!
//! With a [`Registry`] (the app's own `/_dash-dependencies`), the callback is
//! identified by its key exactly as Dash does, the URL is taken by the
//! position Dash reads it from, and the registered ids are checked too, so
//! relabelled inputs cannot get past. Without one, every body id is checked
//! and every path-looking value is treated as a URL.

mod components;
mod ids;
mod json;
mod registry;
mod request;
mod response;

pub(crate) use components::is_json_type;
pub use components::{cannot_carry, scan_html, scan_json, Leak};
/// The strict reader, for the token's claims.
pub(crate) use json::{Doc, Kind, Number, Val};
pub use json::{JsonError, MAX_DEPTH, MAX_JSON_LEN};
pub use registry::{filter_dependencies, Registry, RegistryError};
pub use request::{check_callback_request, pages_router_outputs, CallbackDenial, RouterOutputs};
pub use response::{
    check_callback_response, index_has_validation_layout, ReplyVia, ResponseDenial,
};

use std::fmt;

use crate::grants::allows;

/// Hooks for the fuzz crate, not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::json::differential as json_differential;
}

/// Where in a callback request a forbidden section was found: the
/// [`CallbackDenial::ForbiddenSection`] `via`. Displayed as the body member
/// (or registry part) it names, which is what the error log shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// The `output` key, or a registered callback's outputs and `running`.
    Output,
    Outputs,
    Inputs,
    State,
    ChangedPropIds,
    /// The registry's inputs for this callback, whatever the body says.
    RegisteredInput,
    RegisteredState,
    /// A URL value that a router callback reads.
    Route,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Output => "output",
            Via::Outputs => "outputs",
            Via::Inputs => "inputs",
            Via::State => "state",
            Via::ChangedPropIds => "changedPropIds",
            Via::RegisteredInput => "registered input",
            Via::RegisteredState => "registered state",
            Via::Route => "route",
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first of `found` that `allowed` does not open.
fn first_forbidden<'s>(found: &[&'s str], allowed: &[String]) -> Option<&'s str> {
    found.iter().copied().find(|s| !allows(allowed, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log lines of every `via`, as they read when `via` was a string.
    #[test]
    fn via_texts() {
        let request = [
            (Via::Output, "writes to", "output"),
            (Via::Outputs, "writes to", "outputs"),
            (Via::Inputs, "reads from", "inputs"),
            (Via::State, "reads from", "state"),
            (Via::ChangedPropIds, "reads from", "changedPropIds"),
            (Via::RegisteredInput, "reads from", "registered input"),
            (Via::RegisteredState, "reads from", "registered state"),
            (Via::Route, "routes to", "route"),
        ];
        for (via, verb, text) in request {
            assert_eq!(via.to_string(), text);
            let denial = CallbackDenial::ForbiddenSection {
                section: "hr".into(),
                via,
            };
            assert_eq!(
                denial.to_string(),
                format!("callback {verb} section \"hr\" through \"{text}\"")
            );
        }
        let reply = [
            (ReplyVia::Response, "response"),
            (ReplyVia::SideUpdate, "sideUpdate"),
            (ReplyVia::Progress, "progress"),
            (ReplyVia::ProgressDefault, "progressDefault"),
            (ReplyVia::Cancel, "cancel"),
        ];
        for (via, text) in reply {
            assert_eq!(via.to_string(), text);
            let denial = ResponseDenial::ForbiddenSection {
                section: "hr".into(),
                via,
            };
            assert_eq!(
                denial.to_string(),
                format!("callback reply writes to section \"hr\" through \"{text}\"")
            );
        }
    }
}
