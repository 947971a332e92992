//! Which Dash endpoint a request path reaches.
//!
//! gunicorn/Werkzeug route `//_dash-update-component`,
//! `/%5Fdash-update-component` and `/_dash%2Dupdate-component` to the
//! callback endpoint, so matching happens on nginx's normalised `r->uri`
//! (decoded, dot segments resolved, slashes merged), never on the request
//! line. Matching the whole first segment ignoring case, and ignoring what
//! follows it, can only classify more paths as the callback endpoint than
//! Werkzeug would route there: the fail-closed direction.
use crate::section::{first_segment, strip_prefix};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `{prefix}_dash-update-component`: runs a server callback.
    Callback,
    /// `{prefix}_dash-dependencies`: lists every callback.
    Dependencies,
    /// Anything else: pages, layout, assets, component suites.
    Other,
}

impl Endpoint {
    /// `uri` is nginx's normalised `r->uri`; `prefix` the Dash
    /// `requests_pathname_prefix` (`/` or `/…/`).
    #[must_use]
    pub fn classify(uri: &[u8], prefix: &str) -> Endpoint {
        let Some(rest) = strip_prefix(uri, prefix) else {
            return Endpoint::Other;
        };
        let segment = first_segment(rest);
        if segment.eq_ignore_ascii_case(b"_dash-update-component") {
            Endpoint::Callback
        } else if segment.eq_ignore_ascii_case(b"_dash-dependencies") {
            Endpoint::Dependencies
        } else {
            Endpoint::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint::{self, *};

    #[test]
    fn classifies_like_werkzeug_or_stricter() {
        let cases: &[(&str, &str, Endpoint)] = &[
            ("/_dash-update-component", "/", Callback),
            ("//_dash-update-component", "/", Callback),
            ("/_DASH-update-component", "/", Callback),
            ("/_dash-update-component/", "/", Callback),
            ("/_dash-update-component/x", "/", Callback),
            ("_dash-update-component", "/", Callback),
            ("/_dash-dependencies", "/", Dependencies),
            ("/app/_dash-update-component", "/app/", Callback),
            ("/APP//_dash-update-component", "/app/", Callback),
            ("/_dash-update-component", "/app/", Other),
            ("/app/_dash-update-components", "/app/", Other),
            ("/_dash-layout", "/", Other),
            ("/", "/", Other),
            ("", "/", Other),
            ("/hr/_dash-update-component", "/", Other),
        ];
        for (uri, prefix, want) in cases {
            assert_eq!(
                Endpoint::classify(uri.as_bytes(), prefix),
                *want,
                "{uri} {prefix}"
            );
        }
    }
}
