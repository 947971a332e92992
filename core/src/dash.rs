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

mod ids;
mod json;
mod registry;
mod request;
mod response;

pub use json::{JsonError, MAX_DEPTH, MAX_JSON_LEN};
pub use registry::{filter_dependencies, Registry, RegistryError};
pub use request::{check_callback_request, CallbackDenial};
pub use response::{check_callback_response, index_has_validation_layout, ResponseDenial};

use crate::grants::allows;

/// Hooks for the fuzz crate, not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::json::differential as json_differential;
}

/// Where a forbidden id was found; the `via` of the denials.
pub const VIA_OUTPUT: &str = "output";
pub const VIA_OUTPUTS: &str = "outputs";
pub const VIA_INPUTS: &str = "inputs";
pub const VIA_STATE: &str = "state";
pub const VIA_CHANGED: &str = "changedPropIds";
pub const VIA_REGISTERED_INPUT: &str = "registered input";
pub const VIA_REGISTERED_STATE: &str = "registered state";
pub const VIA_ROUTE: &str = "route";

/// The first of `found` that `allowed` does not open.
fn first_forbidden<'s>(found: &[&'s str], allowed: &[String]) -> Option<&'s str> {
    found.iter().copied().find(|s| !allows(allowed, s))
}
