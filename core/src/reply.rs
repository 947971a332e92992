//! The reply phase: what the app sends back, judged before it leaves.
//!
//! The request checks stop what the module knows to be a section's; this
//! one stops what it does not know. For a user who lacks a section, every
//! HTML or JSON reply is held whole and read for components of the
//! sections they lack, whatever route answered. A reply that cannot be
//! held whole (compressed, streamed, or over the bound) is refused rather
//! than guessed at. Most replies are a user's own section's, and a test on
//! bytes ([`cannot_carry`]) clears them without reading them as JSON.

use crate::access::{Identity, Policy};
use crate::dash::{
    cannot_carry, check_callback_response, filter_dependencies, index_has_validation_layout,
    is_json_type, scan_html, scan_json, Leak,
};
use crate::endpoint::ResponseCheck;
use crate::login::inject_before_body_end;
use crate::plan::{BodyError, HeadPlan, Held, Level, Log, ReplyHead, ReplyPlan, ReplyRefusal};
use crate::syntax::MediaType;

impl Policy {
    /// The reply's headers are in: hold it for judging, or let it pass.
    #[inline]
    pub fn reply_head(
        &self,
        check: ResponseCheck,
        identity: &Identity,
        head: &ReplyHead<'_>,
    ) -> HeadPlan {
        if check == ResponseCheck::None || !head.main || head.header_only || !has_body(head.status)
        {
            return HeadPlan::Pass;
        }
        let media = MediaType::parse(head.content_type);
        let html = media.is("text/html") || media.is("application/xhtml+xml");
        let held = match (check, head.status) {
            (ResponseCheck::Callback, 200) => Held::Callback,
            (ResponseCheck::Dependencies, 200) => Held::Dependencies,
            (ResponseCheck::Page { scan: false }, 200) if html => Held::Index,
            (ResponseCheck::Page { scan: false }, _) => return HeadPlan::Pass,
            (check, _) => {
                let page = matches!(check, ResponseCheck::Page { .. });
                if html {
                    Held::Html { page }
                } else if is_json_type(head.content_type) || head.content_type.is_empty() {
                    // No type at all: read as JSON, which refuses
                    // anything else.
                    Held::Json { page }
                } else if media.is("text/event-stream") {
                    return HeadPlan::Refuse(refused(
                        403,
                        identity,
                        "an event stream cannot be held whole to be checked",
                    ));
                } else {
                    // Scripts, styles, images, text: no component is
                    // ever sent as one.
                    return HeadPlan::Pass;
                }
            }
        };
        if head.encoded {
            return HeadPlan::Refuse(refusal(held, identity, "response is content-encoded"));
        }
        let max = self.callbacks.response_max;
        if head.length.is_some_and(|n| n > max as u64) {
            return HeadPlan::Refuse(refusal(held, identity, "response too large to check"));
        }
        HeadPlan::Hold { max, held }
    }

    /// The held reply, whole: let it through, amended, or refuse it.
    pub fn decide_reply(
        &self,
        held: Held,
        identity: &Identity,
        body: Result<&[u8], BodyError>,
    ) -> ReplyPlan {
        let body = match body {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return ReplyPlan::Refuse(refusal(held, identity, "response too large to check"))
            }
            Err(BodyError::Unreadable(_)) => {
                return ReplyPlan::Refuse(refusal(held, identity, "cannot read response"))
            }
        };
        let allowed = &identity.allowed_resources;
        let sections = &self.sections;
        let scanned = matches!(held, Held::Callback | Held::Html { .. } | Held::Json { .. });
        if scanned && cannot_carry(body, allowed, sections) {
            return self.deliver(held, body);
        }
        let found = match held {
            Held::Callback => {
                return match check_callback_response(body, allowed, sections) {
                    Ok(()) => ReplyPlan::Pass,
                    Err(e) => ReplyPlan::Refuse(refusal(held, identity, &e)),
                }
            }
            Held::Dependencies => {
                return match filter_dependencies(body, allowed, sections) {
                    Ok(filtered) => ReplyPlan::Replace(filtered),
                    Err(e) => ReplyPlan::Refuse(refusal(held, identity, &e)),
                }
            }
            Held::Index if index_has_validation_layout(body) => Err(Leak::ValidationLayout),
            Held::Index => Ok(()),
            Held::Html { .. } => scan_html(body, allowed, sections),
            Held::Json { .. } => scan_json(body, allowed, sections),
        };
        match found {
            Err(leak) => ReplyPlan::Refuse(leaked(held, identity, &leak)),
            Ok(()) => self.deliver(held, body),
        }
    }

    /// A reply found clean, as it goes out.
    fn deliver(&self, held: Held, body: &[u8]) -> ReplyPlan {
        match (&self.login, held) {
            // The page learns where to go when its session ends.
            (Some(login), Held::Index | Held::Html { page: true }) => {
                ReplyPlan::Replace(inject_before_body_end(body, &login.script))
            }
            _ => ReplyPlan::Pass,
        }
    }
}

/// Only these carry a body (RFC 9110 §6.4.1); a `101` hands the
/// connection over, and nothing more passes through the filters.
fn has_body(status: usize) -> bool {
    status >= 200 && status != 204 && status != 304
}

/// A page's reply is the app's doing, so a refused one is a `502`; any
/// other is the answer to what the user asked, a `403`.
fn status(held: Held) -> u16 {
    match held {
        Held::Index | Held::Html { page: true } | Held::Json { page: true } => 502,
        Held::Callback | Held::Dependencies | Held::Html { .. } | Held::Json { .. } => 403,
    }
}

fn refused(status: u16, identity: &Identity, why: impl std::fmt::Display) -> ReplyRefusal {
    ReplyRefusal {
        status,
        log: Log::user(
            Level::Info,
            &identity.user,
            format_args!("response refused: {why}"),
        ),
        hint: None,
    }
}

fn refusal(held: Held, identity: &Identity, why: impl std::fmt::Display) -> ReplyRefusal {
    refused(status(held), identity, why)
}

/// A reply that carries what the user may not see. On a page the operator
/// has something to fix in the app, so the line is an `error`, with the
/// fix when there is a known one.
fn leaked(held: Held, identity: &Identity, leak: &Leak) -> ReplyRefusal {
    let mut r = refusal(held, identity, leak);
    if r.status == 502 {
        r.log.level = Level::Error;
    }
    if *leak == Leak::ValidationLayout {
        r.hint = Some(Log::error(
            "the Dash app sends every page's layout (validation_layout) in its index page; \
             set suppress_callback_exceptions=True in the app"
                .to_owned(),
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::tests::{mica, mike, policy};

    fn head(status: usize, content_type: &'static str) -> ReplyHead<'static> {
        ReplyHead {
            status,
            main: true,
            header_only: false,
            content_type: content_type.as_bytes(),
            encoded: false,
            length: None,
        }
    }

    fn hold(held: Held) -> HeadPlan {
        HeadPlan::Hold {
            max: crate::config::DEFAULT_RESPONSE_MAX,
            held,
        }
    }

    fn refuse(status: u16, why: &str) -> HeadPlan {
        HeadPlan::Refuse(ReplyRefusal {
            status,
            log: Log::info(format!("user \"mike\": response refused: {why}")),
            hint: None,
        })
    }

    #[test]
    #[rustfmt::skip]
    fn heads() {
        use ResponseCheck::{Call, Callback, Dependencies, Page};
        let p = policy(false);
        let scan = Page { scan: true };
        let plain = Page { scan: false };
        let cases = [
            (ResponseCheck::None, head(200, "text/html"), HeadPlan::Pass),
            // A user who sees every section: HTML pages only.
            (plain, head(200, "text/html; charset=utf-8"), hold(Held::Index)),
            (plain, head(200, "TEXT/HTML"), hold(Held::Index)),
            (plain, head(200, "application/json"), HeadPlan::Pass),
            (plain, head(404, "text/html"), HeadPlan::Pass),
            // A user who lacks a section: HTML and JSON, any status.
            (scan, head(200, "text/html"), hold(Held::Html { page: true })),
            (scan, head(404, "text/html"), hold(Held::Html { page: true })),
            (scan, head(200, "application/xhtml+xml"), hold(Held::Html { page: true })),
            (scan, head(200, "application/json"), hold(Held::Json { page: true })),
            (scan, head(500, "application/problem+json"), hold(Held::Json { page: true })),
            (scan, head(200, ""), hold(Held::Json { page: true })),
            (scan, head(200, "application/javascript"), HeadPlan::Pass),
            (scan, head(200, "text/css"), HeadPlan::Pass),
            (scan, head(200, "image/png"), HeadPlan::Pass),
            (scan, head(304, "text/html"), HeadPlan::Pass),
            (scan, head(101, ""), HeadPlan::Pass),
            (scan, head(200, "text/event-stream"),
             refuse(403, "an event stream cannot be held whole to be checked")),
            (Call, head(200, "application/json"), hold(Held::Json { page: false })),
            (Call, head(200, "text/event-stream"),
             refuse(403, "an event stream cannot be held whole to be checked")),
            (Callback, head(200, "application/json"), hold(Held::Callback)),
            // Dash's debug page for a failed callback.
            (Callback, head(500, "text/html"), hold(Held::Html { page: false })),
            (Callback, head(204, "application/json"), HeadPlan::Pass),
            (Callback, ReplyHead { main: false, ..head(200, "") }, HeadPlan::Pass),
            (Callback, ReplyHead { header_only: true, ..head(200, "") }, HeadPlan::Pass),
            (Dependencies, head(200, "application/json"), hold(Held::Dependencies)),
            (Callback, ReplyHead { encoded: true, ..head(200, "application/json") },
             refuse(403, "response is content-encoded")),
            (plain, ReplyHead { encoded: true, ..head(200, "text/html") },
             refuse(502, "response is content-encoded")),
            (scan, ReplyHead { encoded: true, ..head(200, "text/javascript") }, HeadPlan::Pass),
            // Known to be over the bound: refused before a byte is held.
            (scan, ReplyHead { length: Some(8 * 1024 * 1024 + 1), ..head(200, "application/json") },
             refuse(502, "response too large to check")),
            (scan, ReplyHead { length: Some(8 * 1024 * 1024), ..head(200, "application/json") },
             hold(Held::Json { page: true })),
        ];
        for (check, h, want) in cases {
            assert_eq!(p.reply_head(check, &mike(), &h), want, "{check:?} {h:?}");
        }
    }

    const HR_TITLE: &str = r#"{"props":{"id":"hr-title","children":"HR"},"type":"H2","namespace":"dash_html_components"}"#;
    const MKT_TITLE: &str = r#"{"props":{"id":"marketing-title","children":"M"},"type":"H2","namespace":"dash_html_components"}"#;

    fn router_reply(page: &str) -> Vec<u8> {
        format!(r#"{{"multi":true,"response":{{"_pages_content":{{"children":{page}}},"_pages_store":{{"data":{{"path":"/people"}}}}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn bodies() {
        let with_login = policy(true);
        let without = policy(false);
        let (m, a) = (mike(), mica());
        let hr_reply: &[u8] = br#"{"multi":true,"response":{"hr-graph":{"figure":{}}}}"#;
        let own_reply: &[u8] = br#"{"multi":true,"response":{"marketing-graph":{"figure":{}}}}"#;
        let page: &[u8] = b"<html><body><p>x</p></body></html>";

        assert_eq!(
            without.decide_reply(Held::Callback, &m, Ok(own_reply)),
            ReplyPlan::Pass
        );
        let ReplyPlan::Refuse(r) = without.decide_reply(Held::Callback, &m, Ok(hr_reply)) else {
            panic!()
        };
        assert_eq!(r.status, 403);
        assert!(
            r.log.text.starts_with("user \"mike\": response refused: "),
            "{}",
            r.log.text
        );

        // The router's reply for a page whose path is not its section's.
        let ReplyPlan::Refuse(r) =
            without.decide_reply(Held::Callback, &m, Ok(&router_reply(HR_TITLE)))
        else {
            panic!()
        };
        assert_eq!((r.status, r.log.level), (403, Level::Info));
        assert!(
            r.log.text.contains("component of section \"hr\""),
            "{}",
            r.log.text
        );
        assert_eq!(
            without.decide_reply(Held::Callback, &m, Ok(&router_reply(MKT_TITLE))),
            ReplyPlan::Pass
        );

        assert_eq!(
            without.decide_reply(Held::Index, &m, Ok(page)),
            ReplyPlan::Pass
        );
        let ReplyPlan::Replace(amended) = with_login.decide_reply(Held::Index, &m, Ok(page)) else {
            panic!()
        };
        let amended = String::from_utf8(amended).unwrap();
        assert!(amended.contains("var login=\"/login\"") && amended.ends_with("</body></html>"));

        // Every page's layout in the index, to anyone: the app's mistake.
        let layout = include_bytes!("../tests/fixtures/index-validation-layout.html");
        for (held, who) in [(Held::Index, &a), (Held::Html { page: true }, &m)] {
            let ReplyPlan::Refuse(r) = with_login.decide_reply(held, who, Ok(layout)) else {
                panic!("{held:?}")
            };
            assert_eq!(r.status, 502);
            assert!(r.hint.is_some_and(
                |h| h.level == Level::Error && h.text.contains("suppress_callback_exceptions")
            ));
        }

        // A layout on any route: the app leaks, and the operator hears.
        let layout_reply = format!(
            r#"{{"props":{{"id":"people","children":[{HR_TITLE}]}},"type":"Div","namespace":"dash_html_components"}}"#
        );
        let ReplyPlan::Refuse(r) =
            without.decide_reply(Held::Json { page: true }, &m, Ok(layout_reply.as_bytes()))
        else {
            panic!()
        };
        assert_eq!((r.status, r.log.level), (502, Level::Error));
        let ReplyPlan::Refuse(r) =
            without.decide_reply(Held::Json { page: false }, &m, Ok(layout_reply.as_bytes()))
        else {
            panic!()
        };
        assert_eq!((r.status, r.log.level), (403, Level::Info));
        // Its twin: the user's own section's layout.
        let own = layout_reply.replace("hr-title", "marketing-title");
        assert_eq!(
            without.decide_reply(Held::Json { page: true }, &m, Ok(own.as_bytes())),
            ReplyPlan::Pass
        );
        let html_page =
            format!("<html><body><script type=\"application/json\">{own}</script></body></html>");
        let ReplyPlan::Replace(amended) =
            with_login.decide_reply(Held::Html { page: true }, &m, Ok(html_page.as_bytes()))
        else {
            panic!()
        };
        assert!(String::from_utf8(amended).unwrap().contains("var login="));
        // Not a page: nothing to add.
        assert_eq!(
            with_login.decide_reply(Held::Html { page: false }, &m, Ok(html_page.as_bytes())),
            ReplyPlan::Pass
        );
        // What might name a lacked section is read, and must be JSON...
        let ReplyPlan::Refuse(r) =
            without.decide_reply(Held::Json { page: true }, &m, Ok(br#"<p id="hr-x">"#))
        else {
            panic!()
        };
        assert!(r.log.text.contains("cannot be read"), "{}", r.log.text);
        // ...what cannot is not read at all.
        assert_eq!(
            without.decide_reply(Held::Json { page: true }, &m, Ok(b"<html>not json")),
            ReplyPlan::Pass
        );
        let own_escaped = br#"{"props":{"id":"marketing-\u00e9"}}"#;
        assert_eq!(
            without.decide_reply(Held::Json { page: false }, &m, Ok(own_escaped)),
            ReplyPlan::Pass
        );
        let hr_escaped = br#"{"props":{"id":"hr-x"}}"#;
        assert!(matches!(
            without.decide_reply(Held::Json { page: false }, &m, Ok(hr_escaped)),
            ReplyPlan::Refuse(_)
        ));

        let deps = include_bytes!("../tests/fixtures/demo-dependencies.json");
        let ReplyPlan::Replace(cut) = without.decide_reply(Held::Dependencies, &m, Ok(deps)) else {
            panic!()
        };
        assert!(!String::from_utf8(cut).unwrap().contains("hr-"));
        assert_eq!(
            without.decide_reply(Held::Callback, &m, Err(BodyError::TooLarge)),
            ReplyPlan::Refuse(ReplyRefusal {
                status: 403,
                log: Log::info(
                    "user \"mike\": response refused: response too large to check".into()
                ),
                hint: None
            })
        );
        let ReplyPlan::Refuse(r) = without.decide_reply(
            Held::Json { page: true },
            &m,
            Err(BodyError::Unreadable("x".into())),
        ) else {
            panic!()
        };
        assert_eq!(r.status, 502);
    }
}
