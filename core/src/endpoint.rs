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
        // Dash's own spelling first: one memcmp instead of a byte-by-byte
        // case fold on every callback.
        let is = |name: &[u8]| segment == name || segment.eq_ignore_ascii_case(name);
        if is(b"_dash-update-component") {
            Endpoint::Callback
        } else if is(b"_dash-dependencies") {
            Endpoint::Dependencies
        } else {
            Endpoint::Other
        }
    }
}

/// Routes an admin vouches for (`dash_auth_allow_unchecked`): requests
/// that can run app code the module cannot check, let through anyway.
/// Matched exactly and case-sensitively against nginx's normalised `r->uri`,
/// as Werkzeug routes; an entry ending in `*` is a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UncheckedRoutes {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

/// Why a `dash_auth_allow_unchecked` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRoute(pub String);

impl UncheckedRoutes {
    /// Each entry is a path (`/api/report`) or a prefix (`/hooks/*`):
    /// one leading `/`, no query, fragment, dot segment, `//`, backslash,
    /// space, control or non-ASCII character, and `*` only at the end.
    pub fn new<'a>(
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<UncheckedRoutes, BadRoute> {
        let mut routes = UncheckedRoutes::default();
        for entry in entries {
            let (path, prefix) = match entry.strip_suffix('*') {
                Some(p) => (p, true),
                None => (entry, false),
            };
            let plain = path.starts_with('/')
                && path
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"?#*\\".contains(&b))
                && !path.contains("//")
                && !path.split('/').any(|seg| seg == "." || seg == "..");
            if !plain {
                return Err(BadRoute(entry.to_owned()));
            }
            if prefix {
                routes.prefixes.push(path.to_owned());
            } else {
                routes.exact.push(path.to_owned());
            }
        }
        Ok(routes)
    }

    pub fn matches(&self, uri: &[u8]) -> bool {
        self.exact.iter().any(|e| e.as_bytes() == uri)
            || self.prefixes.iter().any(|p| uri.starts_with(p.as_bytes()))
    }
}

/// The request method, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Get,
    Head,
    /// Sends the login form, or ends a session.
    Post,
    /// Any other method; like `POST`, it may carry a body.
    Other,
}

impl Method {
    /// `GET` or `HEAD`: asks for a representation, sends no body.
    pub fn is_safe_read(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }
}

/// Which upstream replies must be held back and judged whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCheck {
    None,
    /// A callback reply: may not write into, or carry a component of, a
    /// section the user lacks.
    Callback,
    /// `_dash-dependencies`, to be cut down to the user's sections.
    Dependencies,
    /// The reply to a `GET`: an HTML page may not embed
    /// `validation_layout`, and gets the session-expiry script. With
    /// `scan` (a user who lacks a section), every HTML or JSON reply is
    /// read for components of sections the user lacks, whatever route
    /// answered.
    Page {
        scan: bool,
    },
    /// The reply to a request that can run app code, on a route an admin
    /// vouched for, to a user who lacks a section: read like a page's.
    Call,
}

/// What to inspect of a request that was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    /// Read the callback body and check it before the request goes on.
    pub request_body: bool,
    pub response: ResponseCheck,
}

/// The location's Dash checks (`dash_auth_callback_check`,
/// `dash_auth_filter_dependencies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    pub callback_check: bool,
    pub filter_dependencies: bool,
}

impl Endpoint {
    /// What to inspect for a user let in. Every callback body is checked,
    /// even one from a user who sees every section, so that no malformed
    /// body reaches the app; replies and the dependency list only need
    /// judging for a user who lacks a section.
    #[must_use]
    pub fn inspection(self, method: Method, sees_everything: bool, checks: Checks) -> Inspection {
        if !checks.callback_check {
            return Inspection {
                request_body: false,
                response: ResponseCheck::None,
            };
        }
        let has_body = !method.is_safe_read();
        let response = match self {
            Endpoint::Callback if has_body && !sees_everything => ResponseCheck::Callback,
            Endpoint::Callback if has_body => ResponseCheck::None,
            Endpoint::Dependencies if checks.filter_dependencies && !sees_everything => {
                ResponseCheck::Dependencies
            }
            // Any route's GET may answer a page: Werkzeug sends the index
            // for `GET /_dash-update-component` to Dash's catch-all.
            _ if !has_body => ResponseCheck::Page {
                scan: !sees_everything,
            },
            _ if sees_everything => ResponseCheck::None,
            _ => ResponseCheck::Call,
        };
        Inspection {
            request_body: self == Endpoint::Callback && has_body,
            response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint::{self, *};
    use super::{Checks, Inspection, Method, ResponseCheck};

    #[test]
    #[rustfmt::skip]
    fn inspections() {
        let on = Checks {
            callback_check: true,
            filter_dependencies: true,
        };
        let no_filter = Checks {
            filter_dependencies: false,
            ..on
        };
        let off = Checks {
            callback_check: false,
            filter_dependencies: true,
        };
        let i = |request_body, response| Inspection {
            request_body,
            response,
        };
        let page = |scan| ResponseCheck::Page { scan };
        let cases = [
            // (endpoint, method, sees everything, checks) -> inspection
            (Callback, Method::Other, false, on, i(true, ResponseCheck::Callback)),
            (Callback, Method::Other, true, on, i(true, ResponseCheck::None)),
            (Callback, Method::Post, false, on, i(true, ResponseCheck::Callback)),
            // Werkzeug answers these with the index page.
            (Callback, Method::Get, false, on, i(false, page(true))),
            (Callback, Method::Head, false, on, i(false, page(true))),
            (Callback, Method::Get, true, on, i(false, page(false))),
            (Callback, Method::Other, false, off, i(false, ResponseCheck::None)),
            (Dependencies, Method::Get, false, on, i(false, ResponseCheck::Dependencies)),
            (Dependencies, Method::Get, true, on, i(false, page(false))),
            (Dependencies, Method::Get, false, no_filter, i(false, page(true))),
            (Other, Method::Get, false, on, i(false, page(true))),
            (Other, Method::Get, true, on, i(false, page(false))),
            (Other, Method::Head, false, on, i(false, page(true))),
            (Other, Method::Other, false, on, i(false, ResponseCheck::Call)),
            (Other, Method::Post, true, on, i(false, ResponseCheck::None)),
            (Other, Method::Get, false, off, i(false, ResponseCheck::None)),
        ];
        for (endpoint, method, all, checks, want) in cases {
            assert_eq!(
                endpoint.inspection(method, all, checks),
                want,
                "{endpoint:?} {method:?} all={all} {checks:?}"
            );
        }
    }

    #[test]
    fn unchecked_routes() {
        use super::{BadRoute, UncheckedRoutes};
        let r = UncheckedRoutes::new(["/api/report", "/hooks/*"]).unwrap();
        for (uri, want) in [
            ("/api/report", true),
            ("/api/report/", false),
            ("/API/report", false),
            ("/api/reports", false),
            ("/hooks/", true),
            ("/hooks/a/b", true),
            ("/hooks", false),
            ("/_mcp", false),
        ] {
            assert_eq!(r.matches(uri.as_bytes()), want, "{uri}");
        }
        assert!(!UncheckedRoutes::default().matches(b"/api/report"));
        for bad in [
            "api", "/a?b", "/a#b", "/a/../b", "/./a", "//a", "/a b", "/a\\b", "/*/x", "/é", "",
        ] {
            assert_eq!(
                UncheckedRoutes::new([bad]),
                Err(BadRoute(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(UncheckedRoutes::new(["/*"]).is_ok());
    }

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
