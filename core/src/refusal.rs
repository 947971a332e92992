//! Refusals a person can read: a browser that opens a section that is not
//! the user's gets a page saying so, and a Dash app whose router is
//! refused a page shows the same words where the page would have been.
//!
//! Both name the user and the section, and nothing else of the section:
//! its name is a configured one, and no part of its page or its data is
//! ever asked for. Clients that are not a person at a browser (API calls,
//! curl, any callback but the router's) keep the bare status.

use serde_json::{json, Map, Value};

use crate::access::{Identity, Policy, RequestView};
use crate::dash::{pages_router_outputs, CallbackDenial, RouterOutputs, Via};
use crate::login::{html_escape, wants_login_page};
use crate::page::{fill, frame};
use crate::plan::{Content, Level, Log, Plan};

/// The page's content, framed by [`crate::page`]; its placeholders are
/// filled in one pass.
pub const PAGE: &str = include_str!("refusal.html");

/// What the page and the in-app refusal are headed, and the tab's title.
pub const TITLE: &str = "Not your section";

/// The id of the in-app refusal's container: with no `-` in it, it can
/// never read as a section's component (`S-…`).
pub const CONTAINER_ID: &str = "_dash_auth_refusal";

impl Policy {
    /// A request for a page of a section the user lacks: a browser
    /// navigation, as the login redirect tells one, gets the refusal page;
    /// anything else, or a location with its own `error_page 403`,
    /// nginx's `403`.
    pub(crate) fn forbidden(
        &self,
        identity: Identity,
        section: &str,
        req: &RequestView<'_>,
    ) -> Plan {
        let log = Some(Log::info(format!(
            "user \"{}\" may not access section \"{}\"",
            identity.user.escape_debug(),
            section
        )));
        if !wants_login_page(req.method.is_safe_read(), req.accept) || req.error_page_403 {
            return Plan::Refuse {
                status: 403,
                identity: Some(identity),
                log,
            };
        }
        let logout = self.login.as_ref().map(|l| l.logout.as_str());
        let html = render_page(&identity.user, section, self.sections.prefix(), logout);
        Plan::Answer {
            status: 403,
            content: Content::Html(html),
            identity,
            log,
        }
    }

    /// A callback request the body check refused. The `use_pages` router,
    /// refused for the page its routing input names, gets a Dash reply
    /// that puts the refusal where the page would be: the renderer would
    /// only log a `403`, and leave the old page under the new address.
    /// Any other refusal keeps its status. The request never reaches the
    /// app either way.
    pub(crate) fn refused_callback(
        &self,
        identity: &Identity,
        body: &[u8],
        denial: &CallbackDenial,
    ) -> Plan {
        let log = Some(Log::user(Level::Info, &identity.user, denial));
        if let CallbackDenial::ForbiddenSection {
            section,
            via: Via::Route,
        } = denial
        {
            if let Some(outputs) = pages_router_outputs(body) {
                let reply = router_reply(&identity.user, section, self.sections.prefix(), outputs);
                return Plan::Answer {
                    status: 200,
                    content: Content::Json(reply),
                    identity: identity.clone(),
                    log,
                };
            }
        }
        Plan::refuse(denial.status(), log)
    }
}

/// The refusal page: `user` signed in, `section` not theirs, a link to
/// `home` (the app's root) and, with form login, a sign-out button that
/// posts to `logout`.
pub fn render_page(user: &str, section: &str, home: &str, logout: Option<&str>) -> String {
    let signout = logout
        .map(|path| {
            format!(
                "<form method=\"post\" action=\"{}\">\
                 <button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
                html_escape(path)
            )
        })
        .unwrap_or_default();
    fill(
        &frame(TITLE, PAGE),
        &[
            ("user", &html_escape(user)),
            ("section", &html_escape(section)),
            ("home", &html_escape(home)),
            ("signout", &signout),
        ],
    )
}

fn component(namespace: &str, kind: &str, props: Value) -> Value {
    json!({"type": kind, "namespace": namespace, "props": props})
}

/// The Dash reply of a refused router request: the refusal as the page's
/// content, written as Dash writes `html` and `dcc` components, and the
/// tab's title when the request names the store that carries it. An
/// output left out is one Dash leaves as it is.
pub fn router_reply(user: &str, section: &str, home: &str, outputs: RouterOutputs) -> String {
    let html = |kind: &str, props: Value| component("dash_html_components", kind, props);
    let page = html(
        "Div",
        json!({
            "id": CONTAINER_ID,
            "children": [
                html("H2", json!({"children": TITLE})),
                html("P", json!({"children": format!(
                    "You are signed in as {user}. The {section} section is not one of yours."
                )})),
                component("dash_core_components", "Link", json!({
                    "href": home,
                    "children": "Go to the home page",
                })),
            ],
        }),
    );
    let mut response = Map::new();
    response.insert("_pages_content".into(), json!({"children": page}));
    if outputs.store {
        response.insert("_pages_store".into(), json!({"data": {"title": TITLE}}));
    }
    json!({"multi": true, "response": response}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_the_user_and_section_escaped() {
        let p = render_page("<mi&ke>", "hr", "/app/", Some("/logout"));
        assert!(p.contains("signed in as <strong id=\"user\">&lt;mi&amp;ke&gt;</strong>"));
        assert!(p.contains("<strong id=\"section\">hr</strong>"));
        assert!(p.contains(r#"<a href="/app/" id="home">"#));
        assert!(p.contains(r#"<form method="post" action="/logout">"#));
        assert!(p.contains(r#"<link rel="icon" href="data:,">"#));
        assert!(!p.contains("{{"), "{p}");
        let p = render_page("mike", "hr", "/", None);
        assert!(!p.contains("<form") && !p.contains("sign-out"));
    }

    #[test]
    fn values_are_not_placeholders() {
        let p = render_page("{{signout}}", "hr", "/", Some("/logout"));
        assert!(
            p.contains("<strong id=\"user\">{{signout}}</strong>"),
            "{p}"
        );
        assert_eq!(p.matches("<form").count(), 1);
        assert_eq!(
            fill("a{{x}}b{{y}}c{{", &[("x", "{{y}}")]),
            "a{{y}}b{{y}}c{{"
        );
        assert_eq!(fill("{{x}", &[("x", "1")]), "{{x}");
        assert_eq!(fill("{{{{x}}", &[("x", "1")]), "{{1");
    }

    /// The reply never meets the reply check (the module clears it for its
    /// own answers), and would not be refused by it either: it writes only
    /// the router's ids and carries no section's component.
    #[test]
    fn the_reply_check_has_nothing_against_it() {
        use crate::decide::tests::{mike, policy};
        use crate::plan::{Held, ReplyPlan};
        let p = policy(true);
        let reply = router_reply("mike", "hr", "/", RouterOutputs { store: true });
        assert_eq!(
            p.decide_reply(Held::Callback, &mike(), Ok(reply.as_bytes())),
            ReplyPlan::Pass
        );
    }

    #[test]
    fn router_reply_is_a_dash_reply() {
        let r: Value = serde_json::from_str(&router_reply(
            "mi\"ke",
            "hr",
            "/",
            RouterOutputs { store: true },
        ))
        .unwrap();
        assert_eq!(r["multi"], true);
        let page = &r["response"]["_pages_content"]["children"];
        assert_eq!(page["type"], "Div");
        assert_eq!(page["namespace"], "dash_html_components");
        assert_eq!(page["props"]["id"], CONTAINER_ID);
        let children = page["props"]["children"].as_array().unwrap();
        assert_eq!(children[0]["props"]["children"], TITLE);
        assert_eq!(
            children[1]["props"]["children"],
            "You are signed in as mi\"ke. The hr section is not one of yours."
        );
        assert_eq!(children[2]["props"]["href"], "/");
        assert_eq!(r["response"]["_pages_store"]["data"]["title"], TITLE);
        let r: Value = serde_json::from_str(&router_reply(
            "mike",
            "hr",
            "/app/",
            RouterOutputs { store: false },
        ))
        .unwrap();
        assert!(r["response"].get("_pages_store").is_none());
        assert_eq!(
            r["response"]["_pages_content"]["children"]["props"]["children"][2]["props"]["href"],
            "/app/"
        );
    }
}
