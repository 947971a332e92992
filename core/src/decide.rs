//! The first two questions the module asks: what to do with a request
//! ([`Policy::decide`]), and with its body once read
//! ([`Policy::decide_body`]). The third, what to do with the app's reply,
//! is in [`crate::reply`].

use crate::access::{Decision, DenyReason, Identity, LoginResult, Policy, RequestView, Via};
use crate::config::LoginPages;
use crate::cookie::{expire_cookie, find_cookie};
use crate::csrf::{self, Provenance, SiteOrigin};
use crate::dash::check_callback_request;
use crate::endpoint::{Checks, Endpoint, Method};
use crate::grants;
use crate::login::{
    logout_token, parse_form, render_logout_page, render_page, return_from_query, wants_login_page,
    Notice, MAX_FORM_LEN,
};
use crate::password_check::{Unhashed, RETRY_AFTER};
use crate::plan::{BodyError, BodyOf, Form, Inspect, Level, Log, Plan};
use crate::return_path::login_redirect;

impl Policy {
    /// The ACCESS phase: the whole answer to a request.
    ///
    /// The login and logout pages come first (they need no session); then
    /// the request is authenticated, and whoever is let in gets what to
    /// inspect of the request and its reply.
    pub fn decide(&self, req: &RequestView<'_>) -> Plan {
        if let Some(sso) = &self.sso {
            if req.uri == sso.config.redirect.as_bytes() {
                return sso.callback(self, req, req.sso);
            }
        }
        if let Some(login) = &self.login {
            if self.passwords && req.uri == login.path.as_bytes() {
                return self.login_page(login, req);
            }
            if req.uri == login.logout.as_bytes() {
                return self.logout(login, req);
            }
        }
        if req.authorization_repeated {
            // nginx refuses a repeated Authorization header itself; if one
            // ever gets here, no copy is picked.
            return Plan::refuse(400, None);
        }
        match self.authenticate(req) {
            Decision::Allow {
                identity,
                set_cookie,
            } => self.let_in(identity, set_cookie, req),
            Decision::Unauthorized { user, reason } => self.unauthorized(user, &reason, req),
            Decision::TooManyAttempts { user } => Plan::refuse(
                429,
                Some(Log::user(
                    Level::Info,
                    &user,
                    "login refused, too many failed attempts",
                )),
            ),
            Decision::Forbidden { identity, section } => self.forbidden(identity, &section, req),
            Decision::Hash(job) => Plan::Hash(job),
            Decision::Busy { user, in_flight } => busy(&user, in_flight),
        }
    }

    fn checks(&self) -> Checks {
        Checks {
            callback_check: self.callbacks.check,
            filter_dependencies: self.callbacks.filter_dependencies,
        }
    }

    fn let_in(
        &self,
        identity: Identity,
        set_cookie: Option<String>,
        req: &RequestView<'_>,
    ) -> Plan {
        let endpoint = Endpoint::classify(req.uri, self.sections.prefix());
        let sees_everything =
            self.sections.is_empty() || grants::allows(&identity.allowed_resources, grants::ALL);
        if !sees_everything && self.cannot_check(endpoint, req) {
            let log = Log::user(
                Level::Info,
                &identity.user,
                format_args!(
                    "{} to \"{}\" refused: it can run app code the module cannot check \
                     (dash_auth_allow_unchecked lets a route through)",
                    if req.upgrade { "upgrade" } else { "request" },
                    String::from_utf8_lossy(req.uri).escape_debug()
                ),
            );
            return Plan::Refuse {
                status: 403,
                identity: Some(identity),
                log: Some(log),
            };
        }
        let inspection = endpoint.inspection(req.method, sees_everything, self.checks());
        let body = inspection.request_body.then_some(self.callbacks.body_max);
        if let Some(max) = body {
            if req.content_length.is_some_and(|n| n > max as u64) {
                let log = callback_too_large(&identity, max);
                return Plan::Refuse {
                    status: 413,
                    identity: Some(identity),
                    log: Some(log),
                };
            }
        }
        Plan::Allow {
            identity,
            set_cookie,
            inspect: Inspect {
                body,
                reply: inspection.response,
            },
        }
    }

    /// A request that can run app code (any method but `GET`/`HEAD`, or a
    /// protocol upgrade) anywhere but the callback endpoint, whose body is
    /// checked, and the routes an admin vouches for: `/_mcp`, WebSocket
    /// callbacks, `api_endpoint=` and `hooks.route` routes. Only for a user
    /// who lacks a section: the rest see everything anyway.
    fn cannot_check(&self, endpoint: Endpoint, req: &RequestView<'_>) -> bool {
        let runs_code = req.upgrade || !req.method.is_safe_read();
        let checked = endpoint == Endpoint::Callback && !req.upgrade;
        runs_code && !checked && !self.unchecked.matches(req.uri)
    }

    fn unauthorized(
        &self,
        user: Option<String>,
        reason: &DenyReason,
        req: &RequestView<'_>,
    ) -> Plan {
        let log = Log::info(match &user {
            Some(user) => format!("user \"{}\": {}", user.escape_debug(), reason),
            None => reason.to_string(),
        });
        let navigation = wants_login_page(req.method.is_safe_read(), req.accept);
        if let Some(sso) = &self.sso {
            if navigation {
                return sso.start(self, req, req.sso, log);
            }
        }
        if let Some(login) = self.login.as_ref().filter(|_| self.passwords) {
            if navigation {
                return Plan::Redirect {
                    status: 302,
                    location: login_redirect(&login.path, req.target),
                    set_cookie: None,
                    device_cookie: None,
                    log: Some(log),
                };
            }
        }
        // A Dash callback after the session ended: the page's script
        // sends the user to sign in again; a Basic challenge here would
        // pop up the browser's password dialog instead. Without passwords
        // there is nothing to challenge for.
        let browser = self.login.is_some() || self.sso.is_some();
        if !self.passwords
            || (browser
                && Endpoint::classify(req.uri, self.sections.prefix()) == Endpoint::Callback)
        {
            return Plan::refuse(401, Some(log));
        }
        Plan::Challenge {
            www_authenticate: self.challenge.clone(),
            log,
        }
    }

    /// `GET`/`HEAD` show the form; `POST` sends it, unless the browser says
    /// it comes from another site.
    fn login_page(&self, login: &LoginPages, req: &RequestView<'_>) -> Plan {
        match req.method {
            Method::Get | Method::Head => {
                let return_to = return_from_query(req.args);
                self.form_page(req, 200, None, |token| {
                    render_page(&login.page, &login.path, &return_to, Notice::None, token)
                })
            }
            Method::Post => match provenance(login, req) {
                Provenance::CrossOrigin(why) => {
                    Plan::refuse(403, Some(Log::info(format!("login form refused: {why}"))))
                }
                _ if req.content_length.is_some_and(|n| n > MAX_FORM_LEN as u64) => {
                    Plan::refuse(413, None)
                }
                _ => Plan::ReadForm(Form::Login),
            },
            Method::Other => Plan::refuse(405, None),
        }
    }

    /// `GET`/`HEAD` show a page with the logout button and end nothing: a
    /// link or an image on any site could make that request. The button
    /// posts the logout form, which ends the session if the browser says
    /// it comes from this site, or, from a client that says nothing, if it
    /// carries the page's form token.
    fn logout(&self, login: &LoginPages, req: &RequestView<'_>) -> Plan {
        match req.method {
            Method::Get | Method::Head => self.logout_page(login, req, 200, Notice::None, None),
            Method::Post => match provenance(login, req) {
                Provenance::CrossOrigin(why) => {
                    Plan::refuse(403, Some(Log::info(format!("logout refused: {why}"))))
                }
                Provenance::SameOrigin => self.end_sessions(login, req),
                Provenance::Unstated
                    if req.content_length.is_some_and(|n| n > MAX_FORM_LEN as u64) =>
                {
                    Plan::refuse(413, None)
                }
                Provenance::Unstated => Plan::ReadForm(Form::Logout),
            },
            Method::Other => Plan::refuse(405, None),
        }
    }

    fn logout_page(
        &self,
        login: &LoginPages,
        req: &RequestView<'_>,
        status: u16,
        notice: Notice,
        log: Option<Log>,
    ) -> Plan {
        self.form_page(req, status, log, |token| {
            render_logout_page(&login.logout, notice, token)
        })
    }

    /// One of the module's pages with a form: a fresh form token goes into
    /// the page and into the cookie that the post must match.
    fn form_page(
        &self,
        req: &RequestView<'_>,
        status: u16,
        log: Option<Log>,
        render: impl FnOnce(&str) -> String,
    ) -> Plan {
        let Some(token) = csrf::fresh(&self.secret, req.now) else {
            return Plan::refuse(
                500,
                Some(Log::error("cannot make a form token: no randomness".into())),
            );
        };
        Plan::Page {
            status,
            html: render(&token),
            set_cookie: Some(csrf::set_cookie(&token, req.secure)),
            log,
        }
    }

    /// The form token check, for a post whose browser said nothing about
    /// where it comes from.
    fn form_token(
        &self,
        req: &RequestView<'_>,
        field: Option<&[u8]>,
    ) -> Result<(), csrf::FormTokenError> {
        let cookie = find_cookie(
            req.cookie_headers.iter().copied(),
            csrf::cookie_name(req.secure),
        );
        csrf::check(&self.secret, cookie, field, req.now)
    }

    /// Ends the session of every valid cookie the request carries: each
    /// user's cut-off goes into the shared zone, so every worker refuses
    /// those tokens from now on.
    fn end_sessions(&self, login: &LoginPages, req: &RequestView<'_>) -> Plan {
        let revocations = req.shared.and_then(|s| s.revocations.as_ref());
        let (users, via_sso) = self.sessions(req);
        let lines: Vec<Log> = users
            .iter()
            .map(|user| {
                let recorded =
                    revocations.is_some_and(|rev| rev.revoke(user, req.now, self.token_horizon()));
                if recorded {
                    Log::user(Level::Info, user, "signed out")
                } else {
                    Log::user(
                        Level::Error,
                        user,
                        "logout not recorded, \"dash_auth_zone\" is full; enlarge it",
                    )
                }
            })
            .collect();
        let log = lines.into_iter().reduce(|a, b| Log {
            level: if a.level == Level::Error {
                a.level
            } else {
                b.level
            },
            text: format!("{}; {}", a.text, b.text),
        });
        // A session from the provider ends there too, when it offers a
        // way; else the next sign-in would be silent.
        let location = self
            .sso
            .as_ref()
            .filter(|_| via_sso)
            .and_then(|sso| sso.end_session(req))
            .unwrap_or_else(|| login.path.clone());
        Plan::Logout {
            location,
            set_cookie: expire_cookie(&self.cookie_name, req.secure),
            log,
        }
    }

    /// After the body a plan asked for was read: a callback's is checked
    /// against the user's sections, a login form's password is checked.
    #[inline]
    pub fn decide_body(
        &self,
        req: &RequestView<'_>,
        of: BodyOf<'_>,
        body: Result<&[u8], BodyError>,
    ) -> Plan {
        match of {
            BodyOf::Callback(identity) => self.callback_body(req, identity, body),
            BodyOf::Form(Form::Login) => self.login_form(req, body),
            BodyOf::Form(Form::Logout) => self.logout_form(req, body),
        }
    }

    #[inline]
    fn callback_body(
        &self,
        req: &RequestView<'_>,
        identity: &Identity,
        body: Result<&[u8], BodyError>,
    ) -> Plan {
        let body = match body {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Plan::refuse(
                    413,
                    Some(callback_too_large(identity, self.callbacks.body_max)),
                )
            }
            Err(BodyError::Unreadable(why)) => {
                return Plan::refuse(
                    403,
                    Some(Log::error(format!("cannot read callback body: {why}"))),
                )
            }
        };
        match check_callback_request(
            body,
            req.content_type,
            &identity.allowed_resources,
            &self.sections,
            self.callbacks.registry.as_deref(),
        ) {
            Ok(()) => Plan::Proceed,
            Err(denial) => self.refused_callback(identity, body, &denial),
        }
    }

    fn login_form(&self, req: &RequestView<'_>, body: Result<&[u8], BodyError>) -> Plan {
        let (Some(login), Ok(body)) = (&self.login, body) else {
            return Plan::refuse(400, None);
        };
        let form = match parse_form(req.content_type, body) {
            Ok(f) => f,
            Err(e) => return Plan::refuse(400, Some(Log::info(e.to_string()))),
        };
        let return_to = form.return_to.as_str();
        let page = |notice| {
            move |token: &str| render_page(&login.page, &login.path, return_to, notice, token)
        };
        // Before any password is checked: a forged form counts no failure.
        let forged = match provenance(login, req) {
            Provenance::CrossOrigin(why) => Some(why),
            Provenance::SameOrigin => None,
            Provenance::Unstated => self
                .form_token(req, form.csrf.as_deref())
                .err()
                .map(|e| e.to_string()),
        };
        if let Some(why) = forged {
            let log = Log::info(format!("login form refused: {why}"));
            return self.form_page(req, 403, Some(log), page(Notice::FormExpired));
        }
        match self.login(&form.user, form.password.as_bytes(), req, Via::Form) {
            LoginResult::Success {
                identity,
                set_cookie,
                device_cookie,
            } => Plan::Redirect {
                status: 303,
                location: form.return_to.clone(),
                set_cookie: Some(set_cookie),
                device_cookie,
                log: Some(Log::user(
                    Level::Info,
                    &identity.user,
                    "signed in with the login form",
                )),
            },
            LoginResult::Hash(job) => Plan::Hash(job),
            LoginResult::Denied(Decision::Busy { user, in_flight }) => busy(&user, in_flight),
            LoginResult::Denied(Decision::TooManyAttempts { user }) => self.form_page(
                req,
                429,
                Some(Log::user(
                    Level::Warn,
                    &user,
                    "login refused, too many failed attempts",
                )),
                page(Notice::TooManyAttempts),
            ),
            LoginResult::Denied(d) => {
                let log = match &d {
                    Decision::Unauthorized { user, reason } => {
                        let level = match reason {
                            DenyReason::LimitReached { .. } => Level::Warn,
                            _ => Level::Info,
                        };
                        Some(Log::user(level, user.as_deref().unwrap_or(""), reason))
                    }
                    _ => None,
                };
                self.form_page(req, 401, log, page(Notice::Failed))
            }
        }
    }

    /// A logout form from a client that did not say where it comes from:
    /// its token decides. Without a good one nothing ends, and the page
    /// offers the button again.
    fn logout_form(&self, req: &RequestView<'_>, body: Result<&[u8], BodyError>) -> Plan {
        let Some(login) = &self.login else {
            return Plan::refuse(400, None);
        };
        if let Provenance::CrossOrigin(why) = provenance(login, req) {
            return Plan::refuse(403, Some(Log::info(format!("logout refused: {why}"))));
        }
        let field = body
            .ok()
            .and_then(|body| logout_token(req.content_type, body));
        match self.form_token(req, field.as_deref()) {
            Ok(()) => self.end_sessions(login, req),
            Err(e) => {
                let log = Log::info(format!("logout refused: {e}"));
                self.logout_page(login, req, 403, Notice::FormExpired, Some(log))
            }
        }
    }
}

/// Where the browser says a post to the login or logout path comes from.
fn provenance(login: &LoginPages, req: &RequestView<'_>) -> Provenance {
    let own = SiteOrigin::of_request(req.secure, req.host);
    csrf::provenance(req.from, own.as_ref(), &login.origins)
}

impl Policy {
    /// A login whose password check could not be run: refused like an
    /// overload, and logged as the module's failure.
    pub fn unhashed(&self, why: Unhashed) -> Plan {
        Plan::Busy {
            retry_after: RETRY_AFTER,
            log: Log::error(format!(
                "login refused with 503: password check failed: {why}"
            )),
        }
    }
}

/// A login refused because the worker's password checks are at their
/// bound; the client is to come back shortly, as for any overload.
fn busy(user: &str, in_flight: usize) -> Plan {
    Plan::Busy {
        retry_after: RETRY_AFTER,
        log: Log::user(
            Level::Warn,
            user,
            format_args!(
                "login refused with 503: {in_flight} password checks already queued or \
                 running in this worker (dash_auth_hash_queue)"
            ),
        ),
    }
}

fn callback_too_large(identity: &Identity, max: usize) -> Log {
    Log::user(
        Level::Info,
        &identity.user,
        format_args!("callback body over {max} bytes"),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;
    use crate::access::Shared;
    use crate::config::LoginPages;
    use crate::endpoint::ResponseCheck;
    use crate::login::{expiry_script, DEFAULT_PAGE};
    use crate::rate_limit::{Attempts, Limit};
    use crate::revocation::Revocations;
    use crate::section::Sections;
    use crate::shared_table::{tests::zone, Table};
    use crate::token::{self, tests::secret};
    use crate::users::{tests::demo_file, UsersFile};

    const NOW: u64 = 1_700_000_000;
    const HTML: &[u8] = b"text/html,application/xhtml+xml,*/*;q=0.8";
    const JSON: &[u8] = b"application/json";
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    const CALLBACK: &[u8] = br#"{"output":"marketing-graph.figure","outputs":{"id":"marketing-graph","property":"figure"},"inputs":[{"id":"marketing-dropdown","property":"value","value":"email"}],"changedPropIds":["marketing-dropdown.value"]}"#;
    const HR_CALLBACK: &[u8] = br#"{"output":"hr-graph.figure","outputs":{"id":"hr-graph","property":"figure"},"inputs":[{"id":"hr-dept","property":"value","value":"sales"}],"changedPropIds":["hr-dept.value"]}"#;

    pub(crate) fn policy(login: bool) -> Policy {
        let mut p = Policy::new(
            Arc::new(UsersFile::parse(demo_file().as_bytes()).unwrap()),
            Arc::new(secret()),
            Arc::new(Sections::new(["hr", "marketing"]).unwrap()),
        );
        p.challenge = crate::basic::challenge("Dash dashboard");
        if login {
            p.login = Some(LoginPages {
                path: "/login".into(),
                logout: "/logout".into(),
                page: Arc::new(DEFAULT_PAGE.to_owned()),
                script: expiry_script("/login").into_bytes(),
                origins: Arc::default(),
            });
        }
        p
    }

    fn cookie(p: &Policy, user: &str, sections: &[&str]) -> String {
        let s: Vec<String> = sections.iter().map(|s| s.to_string()).collect();
        format!(
            "example_jwt={}",
            token::issue(&p.secret, user, &s, NOW, 3600).unwrap()
        )
    }

    fn basic(user: &str, password: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))).into_bytes()
    }

    fn view<'a>(method: Method, uri: &'a str, cookies: &'a [&'a [u8]]) -> RequestView<'a> {
        RequestView {
            method,
            cookie_headers: cookies,
            uri: uri.as_bytes(),
            target: uri.as_bytes(),
            now: NOW,
            client: b"127.0.0.1",
            ..RequestView::default()
        }
    }

    pub(crate) fn mike() -> Identity {
        Identity {
            user: "mike".into(),
            allowed_resources: vec!["marketing".into()],
        }
    }

    pub(crate) fn mica() -> Identity {
        Identity {
            user: "mica".into(),
            allowed_resources: vec!["_all_".into()],
        }
    }

    fn allow(identity: Identity, body: Option<usize>, reply: ResponseCheck) -> Plan {
        Plan::Allow {
            identity,
            set_cookie: None,
            inspect: Inspect { body, reply },
        }
    }

    fn info(text: &str) -> Option<Log> {
        Some(Log::info(text.to_owned()))
    }

    const HOST: &[u8] = b"dash.example";

    /// A post from a page of this server, as a browser marks it.
    fn same_origin(v: &mut RequestView<'_>) {
        v.secure = true;
        v.host = Some(HOST);
        v.from.origin = Some(b"https://dash.example");
        v.from.fetch_site = Some(b"same-origin");
    }

    /// A page with a form: its status, its HTML, and the form token, which
    /// the page's field and its cookie carry alike.
    fn form_page(plan: Plan, cookie_name: &str) -> (u16, String, String) {
        let Plan::Page {
            status,
            html,
            set_cookie: Some(c),
            ..
        } = plan
        else {
            panic!("no page with a form token: {plan:?}")
        };
        let token = c
            .strip_prefix(&format!("{cookie_name}="))
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("{c}"))
            .to_owned();
        assert!(
            html.contains(&format!(r#"name="csrf" value="{token}""#)),
            "{html}"
        );
        (status, html, token)
    }

    #[test]
    fn access_phase_table() {
        let with_login = policy(true);
        let without = policy(false);
        let mike_c = cookie(&with_login, "mike", &["marketing"]);
        let mica_c = cookie(&with_login, "mica", &["_all_"]);
        let mike_c: &[&[u8]] = &[mike_c.as_bytes()];
        let mica_c: &[&[u8]] = &[mica_c.as_bytes()];
        let none: &[&[u8]] = &[];
        let mb = Some(crate::config::DEFAULT_BODY_MAX);
        let chal = || Plan::Challenge {
            www_authenticate: "Basic realm=\"Dash dashboard\", charset=\"UTF-8\"".into(),
            log: Log::info("no credentials".into()),
        };
        type Tweak = fn(&mut RequestView<'_>);
        let html: Tweak = |v| v.accept = Some(HTML);
        let json: Tweak = |v| v.content_type = Some(JSON);
        let huge: Tweak = |v| v.content_length = Some(2 * 1024 * 1024);
        let twice: Tweak = |v| v.authorization_repeated = true;
        let same_origin: Tweak = same_origin;
        let keep: Tweak = |_| {};
        type Case<'a> = (
            &'a str,
            &'a Policy,
            Method,
            &'a str,
            &'a [&'a [u8]],
            Tweak,
            Plan,
        );
        let cases: Vec<Case> = vec![
            // Pages: the cookie holder gets what to inspect.
            (
                "page",
                &with_login,
                Method::Get,
                "/",
                mike_c,
                html,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
            (
                "granted section",
                &with_login,
                Method::Get,
                "/marketing",
                mike_c,
                keep,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
            (
                "HEAD is not judged",
                &with_login,
                Method::Head,
                "/",
                mike_c,
                keep,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
            (
                "callback, partial grant",
                &with_login,
                Method::Post,
                "/_dash-update-component",
                mike_c,
                json,
                allow(mike(), mb, ResponseCheck::Callback),
            ),
            (
                "callback, all sections",
                &with_login,
                Method::Post,
                "/_dash-update-component",
                mica_c,
                json,
                allow(mica(), mb, ResponseCheck::None),
            ),
            (
                "callback over the body bound",
                &with_login,
                Method::Post,
                "/_dash-update-component",
                mike_c,
                huge,
                Plan::Refuse {
                    status: 413,
                    identity: Some(mike()),
                    log: info("user \"mike\": callback body over 1048576 bytes"),
                },
            ),
            (
                "forbidden section, not a browser",
                &with_login,
                Method::Get,
                "/hr/x",
                mike_c,
                keep,
                Plan::Refuse {
                    status: 403,
                    identity: Some(mike()),
                    log: info("user \"mike\" may not access section \"hr\""),
                },
            ),
            // No session.
            (
                "browser to the login page",
                &with_login,
                Method::Get,
                "/hr?x=1",
                none,
                html,
                Plan::Redirect {
                    status: 302,
                    location: "/login?return=/hr%3Fx%3D1".into(),
                    set_cookie: None,
                    device_cookie: None,
                    log: info("no credentials"),
                },
            ),
            (
                "script gets the challenge",
                &with_login,
                Method::Get,
                "/hr",
                none,
                keep,
                chal(),
            ),
            (
                "callback gets a bare 401",
                &with_login,
                Method::Post,
                "/_dash-update-component",
                none,
                json,
                Plan::Refuse {
                    status: 401,
                    identity: None,
                    log: info("no credentials"),
                },
            ),
            (
                "no login page: challenge",
                &without,
                Method::Get,
                "/",
                none,
                html,
                chal(),
            ),
            (
                "no login page: callback challenged",
                &without,
                Method::Post,
                "/_dash-update-component",
                none,
                json,
                chal(),
            ),
            (
                "two Authorization headers",
                &with_login,
                Method::Get,
                "/",
                mike_c,
                twice,
                Plan::refuse(400, None),
            ),
            // The module's own pages.
            (
                "login form",
                &with_login,
                Method::Post,
                "/login",
                none,
                keep,
                Plan::ReadForm(Form::Login),
            ),
            (
                "login form too large",
                &with_login,
                Method::Post,
                "/login",
                none,
                huge,
                Plan::refuse(413, None),
            ),
            (
                "login page, other method",
                &with_login,
                Method::Other,
                "/login",
                none,
                keep,
                Plan::refuse(405, None),
            ),
            (
                "logout, other method",
                &with_login,
                Method::Other,
                "/logout",
                mike_c,
                keep,
                Plan::refuse(405, None),
            ),
            (
                "logout without a session",
                &with_login,
                Method::Post,
                "/logout",
                none,
                same_origin,
                Plan::Logout {
                    location: "/login".into(),
                    set_cookie: "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
                        .into(),
                    log: None,
                },
            ),
            (
                "logout form from a client that says nothing",
                &with_login,
                Method::Post,
                "/logout",
                mike_c,
                keep,
                Plan::ReadForm(Form::Logout),
            ),
            (
                "no login page: /login is a page",
                &without,
                Method::Get,
                "/login",
                mike_c,
                keep,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
        ];
        for (name, p, method, uri, cookies, tweak, want) in cases {
            let mut v = view(method, uri, cookies);
            tweak(&mut v);
            assert_eq!(p.decide(&v), want, "{name}");
        }
    }

    /// After a reload, a session is what the users file loaded now allows:
    /// a removed user's cookie is treated as no cookie at all, and a
    /// narrowed user's identity (so `$dash_auth_sections`, the headers to
    /// the app, the callback and reply checks) carries only what is left.
    #[test]
    fn users_file_is_the_truth_table() {
        let reloaded = |login: bool, hana: Option<&str>| {
            let mut p = policy(login);
            let mut users = demo_file();
            if let Some(sections) = hana {
                users.push_str(&format!("hana:{}:{sections}\n", crate::users::tests::MICA));
            }
            p.users = Arc::new(UsersFile::parse(users.as_bytes()).unwrap());
            p
        };
        let gone_log = info("user \"hana\": session user is no longer in the users file");
        let hana = |s: &[&str]| Identity {
            user: "hana".into(),
            allowed_resources: s.iter().map(|s| s.to_string()).collect(),
        };
        let mb = Some(crate::config::DEFAULT_BODY_MAX);
        type Tweak = fn(&mut RequestView<'_>);
        let html: Tweak = |v| v.accept = Some(HTML);
        let json: Tweak = |v| v.content_type = Some(JSON);
        let keep: Tweak = |_| {};
        type Case<'a> = (
            &'a str,
            bool,
            Option<&'a str>,
            &'a [&'a str],
            Method,
            &'a str,
            Tweak,
            Plan,
        );
        let cases: Vec<Case> = vec![
            (
                "removed: browser to the login page",
                true,
                None,
                &["hr", "marketing"],
                Method::Get,
                "/hr",
                html,
                Plan::Redirect {
                    status: 302,
                    location: "/login?return=/hr".into(),
                    set_cookie: None,
                    device_cookie: None,
                    log: gone_log.clone(),
                },
            ),
            (
                "removed: callback gets a bare 401",
                true,
                None,
                &["hr", "marketing"],
                Method::Post,
                "/_dash-update-component",
                json,
                Plan::Refuse {
                    status: 401,
                    identity: None,
                    log: gone_log.clone(),
                },
            ),
            (
                "removed: script gets the challenge",
                false,
                None,
                &["hr", "marketing"],
                Method::Get,
                "/",
                keep,
                Plan::Challenge {
                    www_authenticate: "Basic realm=\"Dash dashboard\", charset=\"UTF-8\"".into(),
                    log: Log::info(
                        "user \"hana\": session user is no longer in the users file".into(),
                    ),
                },
            ),
            (
                "unchanged: her page",
                true,
                Some("hr,marketing"),
                &["hr", "marketing"],
                Method::Get,
                "/hr",
                html,
                allow(
                    hana(&["hr", "marketing"]),
                    None,
                    ResponseCheck::Page { scan: true },
                ),
            ),
            (
                "narrowed: hr refused",
                true,
                Some("marketing"),
                &["hr", "marketing"],
                Method::Get,
                "/hr",
                keep,
                Plan::Refuse {
                    status: 403,
                    identity: Some(hana(&["marketing"])),
                    log: info("user \"hana\" may not access section \"hr\""),
                },
            ),
            (
                "narrowed: marketing let in, with marketing only",
                true,
                Some("marketing"),
                &["hr", "marketing"],
                Method::Get,
                "/marketing",
                html,
                allow(
                    hana(&["marketing"]),
                    None,
                    ResponseCheck::Page { scan: true },
                ),
            ),
            (
                "narrowed: callback checked against marketing only",
                true,
                Some("marketing"),
                &["hr", "marketing"],
                Method::Post,
                "/_dash-update-component",
                json,
                allow(hana(&["marketing"]), mb, ResponseCheck::Callback),
            ),
            (
                "file _all_ widens no session: hr still refused",
                true,
                Some("_all_"),
                &["marketing"],
                Method::Get,
                "/hr",
                keep,
                Plan::Refuse {
                    status: 403,
                    identity: Some(hana(&["marketing"])),
                    log: info("user \"hana\" may not access section \"hr\""),
                },
            ),
        ];
        // (name, form login, hana's line now, her token's grants from the
        // login before the reload, request, plan)
        for (name, login, file, grants, method, uri, tweak, want) in cases {
            let p = reloaded(login, file);
            let c = cookie(&p, "hana", grants);
            let cookies: &[&[u8]] = &[c.as_bytes()];
            let mut v = view(method, uri, cookies);
            tweak(&mut v);
            assert_eq!(p.decide(&v), want, "{name}");
        }
    }

    #[test]
    fn what_cannot_be_checked_is_refused() {
        let mut p = policy(true);
        let mike_c = cookie(&p, "mike", &["marketing"]);
        let mica_c = cookie(&p, "mica", &["_all_"]);
        let mike_c: &[&[u8]] = &[mike_c.as_bytes()];
        let mica_c: &[&[u8]] = &[mica_c.as_bytes()];
        let refused = |route: &str, what: &str| Plan::Refuse {
            status: 403,
            identity: Some(mike()),
            log: info(&format!(
                "user \"mike\": {what} to \"{route}\" refused: it can run app code the module \
                 cannot check (dash_auth_allow_unchecked lets a route through)"
            )),
        };
        type Case<'a> = (Method, &'a str, bool, &'a [&'a [u8]], Plan);
        let cases: Vec<Case> = vec![
            // MCP runs any callback; an api_endpoint or hooks.route route
            // runs whatever it likes.
            (
                Method::Post,
                "/_mcp",
                false,
                mike_c,
                refused("/_mcp", "request"),
            ),
            (
                Method::Post,
                "/_mcp",
                false,
                mica_c,
                allow(mica(), None, ResponseCheck::None),
            ),
            (
                Method::Other,
                "/marketing",
                false,
                mike_c,
                refused("/marketing", "request"),
            ),
            (
                Method::Post,
                "/api/report",
                false,
                mike_c,
                refused("/api/report", "request"),
            ),
            // A WebSocket callback: nginx cannot read its frames.
            (
                Method::Get,
                "/_dash-ws-callback",
                true,
                mike_c,
                refused("/_dash-ws-callback", "upgrade"),
            ),
            (
                Method::Get,
                "/_dash-ws-callback",
                true,
                mica_c,
                allow(mica(), None, ResponseCheck::Page { scan: false }),
            ),
            (
                Method::Post,
                "/_dash-update-component",
                true,
                mike_c,
                refused("/_dash-update-component", "upgrade"),
            ),
            // What can be checked, or only reads, goes on as before.
            (
                Method::Post,
                "/_dash-update-component",
                false,
                mike_c,
                allow(
                    mike(),
                    Some(crate::config::DEFAULT_BODY_MAX),
                    ResponseCheck::Callback,
                ),
            ),
            (
                Method::Get,
                "/_mcp",
                false,
                mike_c,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
            (
                Method::Head,
                "/marketing",
                false,
                mike_c,
                allow(mike(), None, ResponseCheck::Page { scan: true }),
            ),
        ];
        for (method, uri, upgrade, cookies, want) in &cases {
            let mut v = view(*method, uri, cookies);
            v.upgrade = *upgrade;
            assert_eq!(&p.decide(&v), want, "{method:?} {uri} upgrade={upgrade}");
        }
        // A route the admin vouches for goes through, for anyone let in.
        p.unchecked = Arc::new(crate::endpoint::UncheckedRoutes::new(["/api/*", "/_mcp"]).unwrap());
        for uri in ["/api/report", "/_mcp"] {
            assert_eq!(
                p.decide(&view(Method::Post, uri, mike_c)),
                allow(mike(), None, ResponseCheck::Call),
                "{uri}"
            );
        }
        assert!(matches!(
            p.decide(&view(Method::Post, "/apis", mike_c)),
            Plan::Refuse { status: 403, .. }
        ));
        // Without sections every user sees everything: nothing to refuse.
        let mut open = policy(false);
        open.sections = Arc::new(Sections::default());
        let any = cookie(&open, "mike", &["marketing"]);
        assert!(matches!(
            open.decide(&view(Method::Post, "/_mcp", &[any.as_bytes()])),
            Plan::Allow { .. }
        ));
    }

    #[test]
    fn login_page_and_basic_login() {
        let p = policy(true);
        let mut v = view(Method::Get, "/login", &[]);
        v.args = b"return=%2Fmarketing";
        let (status, html, _) = form_page(p.decide(&v), "dash_auth_csrf");
        assert_eq!(status, 200);
        assert!(html.contains(r#"value="/marketing""#), "{html}");
        assert!(html.contains(r#"action="/login""#));

        let auth = basic("mike", "123456");
        let mut v = view(Method::Get, "/marketing", &[]);
        v.authorization = Some(&auth);
        let Plan::Allow {
            identity,
            set_cookie: Some(c),
            ..
        } = p.decide(&v)
        else {
            panic!("Basic login refused")
        };
        assert_eq!(identity, mike());
        assert!(c.starts_with("example_jwt=ey"), "{c}");
        let wrong = basic("mike", "nope");
        v.authorization = Some(&wrong);
        assert_eq!(
            p.decide(&v),
            Plan::Challenge {
                www_authenticate: p.challenge.clone(),
                log: Log::info("user \"mike\": password mismatch".into())
            }
        );
    }

    #[test]
    fn logout_records_the_cut_off() {
        let p = policy(true);
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let c = cookie(&p, "mike", &["marketing"]);
        let c: &[&[u8]] = &[c.as_bytes()];
        let mut v = view(Method::Post, "/logout", c);
        v.shared = Some(&shared);
        same_origin(&mut v);
        assert_eq!(
            p.decide(&v),
            Plan::Logout {
                location: "/login".into(),
                set_cookie: "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
                    .into(),
                log: Some(Log::info("user \"mike\": signed out".into())),
            }
        );
        let mut later = view(Method::Get, "/", c);
        later.shared = Some(&shared);
        later.now = NOW + 1;
        assert!(
            matches!(p.decide(&later), Plan::Challenge { log, .. } if log.text == "session cookie ended by logout")
        );
        // Without a zone the logout cannot be recorded, and says so.
        let mut v = view(Method::Post, "/logout", c);
        same_origin(&mut v);
        v.now = NOW + 2;
        let Plan::Logout { log: Some(log), .. } = p.decide(&v) else {
            panic!()
        };
        assert_eq!(log.level, Level::Error);
    }

    /// Where a post to the login or logout path comes from, as the
    /// browser marks it, in the ACCESS phase: from elsewhere is refused
    /// before any body is read; from here, or unstated, the form is read.
    #[test]
    fn forms_from_another_site_are_refused() {
        let p = policy(true);
        let mut proxied = policy(true);
        if let Some(login) = &mut proxied.login {
            login.origins = Arc::new(crate::config::origins(["https://public.example"]).unwrap());
        }
        let mike_c = cookie(&p, "mike", &["marketing"]);
        let mike_c: &[&[u8]] = &[mike_c.as_bytes()];
        type Tweak = fn(&mut RequestView<'_>);
        fn origin_only(v: &mut RequestView<'_>) {
            same_origin(v);
            v.from.fetch_site = None;
        }
        fn site_only(v: &mut RequestView<'_>) {
            same_origin(v);
            v.from.origin = None;
        }
        fn evil(v: &mut RequestView<'_>) {
            same_origin(v);
            v.from.origin = Some(b"https://evil.example");
            v.from.fetch_site = Some(b"cross-site");
        }
        let typed_in: Tweak = |v| {
            same_origin(v);
            v.from = csrf::FromHeaders {
                fetch_site: Some(b"none"),
                ..Default::default()
            };
        };
        let evil_origin: Tweak = |v| {
            origin_only(v);
            v.from.origin = Some(b"https://evil.example");
        };
        let cross_site: Tweak = |v| {
            site_only(v);
            v.from.fetch_site = Some(b"cross-site");
        };
        let same_site: Tweak = |v| {
            site_only(v);
            v.from.fetch_site = Some(b"same-site");
        };
        let null: Tweak = |v| {
            origin_only(v);
            v.from.origin = Some(b"null");
        };
        let plain_http: Tweak = |v| {
            origin_only(v);
            v.from.origin = Some(b"http://dash.example");
        };
        let other_port: Tweak = |v| {
            origin_only(v);
            v.from.origin = Some(b"https://dash.example:8443");
        };
        let no_host: Tweak = |v| {
            origin_only(v);
            v.host = None;
        };
        let public: Tweak = |v| {
            origin_only(v);
            v.secure = false;
            v.from.origin = Some(b"https://public.example");
        };
        let twice: Tweak = |v| {
            same_origin(v);
            v.from.repeated = true;
        };
        let evil_huge: Tweak = |v| {
            evil(v);
            v.content_length = Some(1 << 20);
        };
        let same_huge: Tweak = |v| {
            same_origin(v);
            v.content_length = Some(1 << 20);
        };
        let unstated: Tweak = |_| {};
        let refused =
            |what: &str, why: &str| Plan::refuse(403, info(&format!("{what} refused: {why}")));
        let not_ours = |origin: &str| {
            format!("Origin \"{origin}\" is not this server's (https://dash.example)")
        };
        let logout = Plan::Logout {
            location: "/login".into(),
            set_cookie: "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure".into(),
            log: None,
        };
        let read_login = Plan::ReadForm(Form::Login);
        let cases: Vec<(&str, &Policy, &str, Tweak, Plan)> = vec![
            ("same origin", &p, "/login", same_origin, read_login.clone()),
            ("Origin alone", &p, "/login", origin_only, read_login.clone()),
            ("Sec-Fetch-Site alone", &p, "/login", site_only, read_login.clone()),
            ("typed in", &p, "/login", typed_in, read_login.clone()),
            ("says nothing: the token decides", &p, "/login", unstated, read_login.clone()),
            (
                "another site",
                &p,
                "/login",
                evil,
                refused("login form", "Sec-Fetch-Site is \"cross-site\""),
            ),
            (
                "another Origin",
                &p,
                "/login",
                evil_origin,
                refused("login form", &not_ours("https://evil.example")),
            ),
            (
                "cross-site",
                &p,
                "/login",
                cross_site,
                refused("login form", "Sec-Fetch-Site is \"cross-site\""),
            ),
            (
                "same site is not same origin",
                &p,
                "/login",
                same_site,
                refused("login form", "Sec-Fetch-Site is \"same-site\""),
            ),
            ("Origin: null", &p, "/login", null, refused("login form", &not_ours("null"))),
            (
                "plain http page",
                &p,
                "/login",
                plain_http,
                refused("login form", &not_ours("http://dash.example")),
            ),
            (
                "another port",
                &p,
                "/login",
                other_port,
                refused("login form", &not_ours("https://dash.example:8443")),
            ),
            (
                "no Host header",
                &p,
                "/login",
                no_host,
                refused(
                    "login form",
                    "Origin \"https://dash.example\" is not this server's (unknown, no Host header)",
                ),
            ),
            (
                "behind a proxy, not configured",
                &p,
                "/login",
                public,
                refused(
                    "login form",
                    "Origin \"https://public.example\" is not this server's (http://dash.example)",
                ),
            ),
            ("behind a proxy, dash_auth_origin", &proxied, "/login", public, read_login.clone()),
            (
                "a header twice",
                &p,
                "/login",
                twice,
                refused("login form", "Origin or Sec-Fetch-Site sent more than once"),
            ),
            (
                "refused before its size is looked at",
                &p,
                "/login",
                evil_huge,
                refused("login form", "Sec-Fetch-Site is \"cross-site\""),
            ),
            ("same origin, too large", &p, "/login", same_huge, Plan::refuse(413, None)),
            // Logout: the same rule; a same-origin post ends the session at once.
            ("logout, same origin", &p, "/logout", same_origin, logout.clone()),
            ("logout, Origin alone", &p, "/logout", origin_only, logout.clone()),
            ("logout, Sec-Fetch-Site alone", &p, "/logout", site_only, logout.clone()),
            ("logout says nothing", &p, "/logout", unstated, Plan::ReadForm(Form::Logout)),
            (
                "logout from another site",
                &p,
                "/logout",
                evil,
                refused("logout", "Sec-Fetch-Site is \"cross-site\""),
            ),
            (
                "logout from another Origin",
                &p,
                "/logout",
                evil_origin,
                refused("logout", &not_ours("https://evil.example")),
            ),
            ("logout, Origin: null", &p, "/logout", null, refused("logout", &not_ours("null"))),
            ("logout says nothing, too large", &p, "/logout", |v| v.content_length = Some(1 << 20), Plan::refuse(413, None)),
        ];
        for (name, policy, uri, tweak, want) in cases {
            // No session to end, so the plan is the same whoever asks.
            let mut v = view(Method::Post, uri, &[]);
            tweak(&mut v);
            assert_eq!(policy.decide(&v), want, "{name}");
        }
        // A refused logout ends nothing: the session cookie still works.
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let mut v = view(Method::Post, "/logout", mike_c);
        v.shared = Some(&shared);
        evil(&mut v);
        assert!(matches!(p.decide(&v), Plan::Refuse { status: 403, .. }));
        let mut later = view(Method::Get, "/marketing", mike_c);
        later.shared = Some(&shared);
        assert!(matches!(p.decide(&later), Plan::Allow { .. }));
    }

    /// A client that says nothing about where a form comes from: the form
    /// must carry the token of the page that showed it, and its cookie.
    #[test]
    fn login_form_token_table() {
        let mut p = policy(true);
        for secure in [true, false] {
            let name = csrf::cookie_name(secure);
            let mut get = view(Method::Get, "/login", &[]);
            get.secure = secure;
            let (status, _, token) = form_page(p.decide(&get), name);
            assert_eq!(status, 200);
            let (_, _, other) = form_page(p.decide(&get), name);
            assert_ne!(token, other, "each page its own token");
            let jar = format!("{name}={token}");
            let other_jar = format!("{name}={other}");
            let wrong_name = format!("{}={token}", csrf::cookie_name(!secure));
            let twice = format!("{name}={token}; {name}={token}");
            let with_token = format!("username=mike&password=123456&csrf={token}");
            let with_other = format!("username=mike&password=123456&csrf={other}");
            let wrong_password = format!("username=mike&password=x&csrf={token}");
            type Case<'a> = (&'a str, &'a str, &'a str, u64, Result<u16, &'a str>);
            let cases: Vec<Case> = vec![
                ("token and its cookie", &jar, &with_token, NOW, Ok(303)),
                (
                    "still good a while later",
                    &jar,
                    &with_token,
                    NOW + 3599,
                    Ok(303),
                ),
                (
                    "no token in the form",
                    &jar,
                    "username=mike&password=123456",
                    NOW,
                    Err("no form token in the form"),
                ),
                (
                    "no cookie",
                    "",
                    &with_token,
                    NOW,
                    Err("no form token cookie"),
                ),
                (
                    "another page's cookie",
                    &other_jar,
                    &with_token,
                    NOW,
                    Err("form token does not match its cookie"),
                ),
                (
                    "another page's token",
                    &jar,
                    &with_other,
                    NOW,
                    Err("form token does not match its cookie"),
                ),
                (
                    "cookie twice",
                    &twice,
                    &with_token,
                    NOW,
                    Err("no form token cookie"),
                ),
                (
                    "the other scheme's cookie",
                    &wrong_name,
                    &with_token,
                    NOW,
                    Err("no form token cookie"),
                ),
                (
                    "expired",
                    &jar,
                    &with_token,
                    NOW + 3600,
                    Err("form token expired"),
                ),
                (
                    "a token of our own making",
                    "dash_auth_csrf=1.2.3; __Host-dash_auth_csrf=1.2.3",
                    "username=mike&password=123456&csrf=1.2.3",
                    NOW,
                    Err("form token is not valid"),
                ),
                // The token is checked first, the password still after.
                (
                    "good token, wrong password",
                    &jar,
                    &wrong_password,
                    NOW,
                    Ok(401),
                ),
            ];
            for (what, jar, body, now, want) in cases {
                let jar: &[&[u8]] = &[jar.as_bytes()];
                let mut v = view(Method::Post, "/login", jar);
                v.secure = secure;
                v.content_type = Some(FORM);
                v.now = now;
                let plan = p.decide_body(&v, BodyOf::Form(Form::Login), Ok(body.as_bytes()));
                let name = format!("{what} (secure: {secure})");
                match want {
                    Ok(303) => assert!(
                        matches!(&plan, Plan::Redirect { status: 303, set_cookie: Some(c), .. } if c.starts_with("example_jwt=ey")),
                        "{name}: {plan:?}"
                    ),
                    Ok(status) => assert!(
                        matches!(&plan, Plan::Page { status: s, .. } if *s == status),
                        "{name}: {plan:?}"
                    ),
                    Err(why) => {
                        assert_eq!(
                            plan.log(),
                            info(&format!("login form refused: {why}")).as_ref(),
                            "{name}"
                        );
                        // No session, and a fresh form to try again with.
                        let (status, html, fresh) = form_page(plan, csrf::cookie_name(secure));
                        assert_eq!(status, 403, "{name}");
                        assert!(html.contains("This form has expired."), "{name}");
                        assert!(html.contains(r#"name="username""#), "{name}");
                        assert_ne!(fresh, token);
                    }
                }
            }
        }

        // A browser that says the form is from here needs no token.
        let mut v = view(Method::Post, "/login", &[]);
        v.content_type = Some(FORM);
        same_origin(&mut v);
        let body: &[u8] = b"username=mike&password=123456";
        assert!(matches!(
            p.decide_body(&v, BodyOf::Form(Form::Login), Ok(body)),
            Plan::Redirect { status: 303, .. }
        ));
        // One that says it is from elsewhere is refused with one.
        let mut get = view(Method::Get, "/login", &[]);
        get.secure = true;
        let (_, _, token) = form_page(p.decide(&get), csrf::COOKIE_HTTPS);
        let jar = format!("{}={token}", csrf::COOKIE_HTTPS);
        let jar: &[&[u8]] = &[jar.as_bytes()];
        let body = format!("username=mike&password=123456&csrf={token}");
        let mut v = view(Method::Post, "/login", jar);
        v.content_type = Some(FORM);
        same_origin(&mut v);
        v.from.origin = Some(b"https://evil.example");
        let plan = p.decide_body(&v, BodyOf::Form(Form::Login), Ok(body.as_bytes()));
        assert!(matches!(plan, Plan::Page { status: 403, .. }), "{plan:?}");

        // Forged forms count no failure: the limit is never reached.
        p.limit = Some(Limit {
            max_failures: 1,
            window: 60,
            cooldown: 60,
        });
        let aw = zone(16);
        let shared = Shared {
            revocations: None,
            attempts: Some(Attempts {
                table: Table::new(&aw).unwrap(),
                limit: p.limit.unwrap(),
            }),
        };
        let mut forged = view(Method::Post, "/login", &[]);
        forged.content_type = Some(FORM);
        forged.shared = Some(&shared);
        for _ in 0..3 {
            let plan = p.decide_body(
                &forged,
                BodyOf::Form(Form::Login),
                Ok(b"username=mike&password=x"),
            );
            assert!(matches!(plan, Plan::Page { status: 403, .. }), "{plan:?}");
        }
        let mut v = forged;
        same_origin(&mut v);
        assert!(matches!(
            p.decide_body(
                &v,
                BodyOf::Form(Form::Login),
                Ok(b"username=mike&password=123456")
            ),
            Plan::Redirect { status: 303, .. }
        ));
    }

    #[test]
    fn logout_takes_a_post_from_this_site() {
        let p = policy(true);
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let c = cookie(&p, "mike", &["marketing"]);
        let c: &[&[u8]] = &[c.as_bytes()];
        let signed_in = |now: u64| {
            let mut v = view(Method::Get, "/marketing", c);
            v.shared = Some(&shared);
            v.now = now;
            matches!(p.decide(&v), Plan::Allow { .. })
        };
        assert!(signed_in(NOW));

        // GET and HEAD show the button and end nothing, from anywhere.
        for method in [Method::Get, Method::Head] {
            let mut v = view(method, "/logout", c);
            v.shared = Some(&shared);
            v.secure = true;
            let (status, html, _) = form_page(p.decide(&v), csrf::COOKIE_HTTPS);
            assert_eq!(status, 200);
            assert!(
                html.contains(r#"<form method="post" action="/logout">"#),
                "{html}"
            );
            assert!(html.contains(r#"<button type="submit" id="sign-out">Sign out</button>"#));
            assert!(signed_in(NOW + 1));
        }
        assert_eq!(
            p.decide(&view(Method::Other, "/logout", c)),
            Plan::refuse(405, None)
        );

        // A client that says nothing: the logout page's token.
        let mut get = view(Method::Get, "/logout", c);
        get.secure = true;
        let (_, _, token) = form_page(p.decide(&get), csrf::COOKIE_HTTPS);
        let jar = format!("{}={token}", csrf::COOKIE_HTTPS);
        let with_jar: &[&[u8]] = &[c[0], jar.as_bytes()];
        let body = format!("csrf={token}");
        let mut post = view(Method::Post, "/logout", with_jar);
        post.shared = Some(&shared);
        post.secure = true;
        post.content_type = Some(FORM);
        assert_eq!(p.decide(&post), Plan::ReadForm(Form::Logout));
        for (what, content_type, body, why) in [
            (
                "no token",
                Some(FORM),
                &b""[..],
                "no form token in the form",
            ),
            (
                "another token",
                Some(FORM),
                b"csrf=1.2.3",
                "form token does not match its cookie",
            ),
            (
                "not a form",
                Some(JSON),
                body.as_bytes(),
                "no form token in the form",
            ),
        ] {
            let mut v = post;
            v.content_type = content_type;
            let plan = p.decide_body(&v, BodyOf::Form(Form::Logout), Ok(body));
            assert_eq!(
                plan.log(),
                info(&format!("logout refused: {why}")).as_ref(),
                "{what}"
            );
            let (status, html, _) = form_page(plan, csrf::COOKIE_HTTPS);
            assert_eq!(status, 403, "{what}");
            assert!(html.contains("This form has expired.") && html.contains("sign-out"));
            assert!(signed_in(NOW + 1), "{what}");
        }
        let mut evil = post;
        evil.from.origin = Some(b"https://evil.example");
        evil.host = Some(HOST);
        assert_eq!(
            p.decide_body(&evil, BodyOf::Form(Form::Logout), Ok(body.as_bytes())),
            Plan::refuse(
                403,
                info("logout refused: Origin \"https://evil.example\" is not this server's (https://dash.example)")
            )
        );
        assert!(signed_in(NOW + 1));
        assert_eq!(
            p.decide_body(&post, BodyOf::Form(Form::Logout), Ok(body.as_bytes())),
            Plan::Logout {
                location: "/login".into(),
                set_cookie: "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
                    .into(),
                log: info("user \"mike\": signed out"),
            }
        );
        assert!(!signed_in(NOW + 1));
    }

    #[test]
    fn logout_ends_every_session_it_carries() {
        let p = policy(true);
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let mike_c = cookie(&p, "mike", &["marketing"]);
        let mica_c = cookie(&p, "mica", &["_all_"]);
        let works = |c: &str| {
            let jar: &[&[u8]] = &[c.as_bytes()];
            let mut v = view(Method::Get, "/", jar);
            v.shared = Some(&shared);
            v.now = NOW + 1;
            matches!(p.decide(&v), Plan::Allow { .. })
        };
        // A valid copy and a junk one: signing in picks neither, logging
        // out ends the valid one.
        let dup = format!("{mike_c}; example_jwt=x");
        let jar: &[&[u8]] = &[dup.as_bytes()];
        let mut v = view(Method::Get, "/", jar);
        v.shared = Some(&shared);
        assert!(matches!(p.decide(&v), Plan::Challenge { .. }));
        let mut out = view(Method::Post, "/logout", jar);
        out.shared = Some(&shared);
        same_origin(&mut out);
        assert!(matches!(
            p.decide(&out),
            Plan::Logout { log: Some(log), .. } if log.text == "user \"mike\": signed out"
        ));
        assert!(!works(&mike_c));
        assert!(works(&mica_c));
        // Two users' cookies, in two headers: both end, in one line.
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let jar: &[&[u8]] = &[mike_c.as_bytes(), mica_c.as_bytes()];
        let mut out = view(Method::Post, "/logout", jar);
        out.shared = Some(&shared);
        same_origin(&mut out);
        assert!(matches!(
            p.decide(&out),
            Plan::Logout { log: Some(log), .. }
                if log.text == "user \"mike\": signed out; user \"mica\": signed out"
                    && log.level == Level::Info
        ));
        for c in [&mike_c, &mica_c] {
            let jar: &[&[u8]] = &[c.as_bytes()];
            let mut v = view(Method::Get, "/", jar);
            v.shared = Some(&shared);
            v.now = NOW + 1;
            assert!(matches!(p.decide(&v), Plan::Challenge { .. }));
        }
    }

    /// Sign in, out, in and out again, all within one second: each logout
    /// ends the token current at its time.
    #[test]
    fn two_logouts_in_one_second() {
        let p = policy(true);
        let (rw, aw) = (zone(16), zone(16));
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        let auth = basic("mike", "123456");
        let sign_in = || {
            let mut v = view(Method::Get, "/marketing", &[]);
            v.authorization = Some(&auth);
            v.shared = Some(&shared);
            let Plan::Allow {
                set_cookie: Some(c),
                ..
            } = p.decide(&v)
            else {
                panic!("Basic login refused")
            };
            c.split(';').next().unwrap().to_owned()
        };
        let works = |c: &str| {
            let jar: &[&[u8]] = &[c.as_bytes()];
            let mut v = view(Method::Get, "/marketing", jar);
            v.shared = Some(&shared);
            matches!(p.decide(&v), Plan::Allow { .. })
        };
        let sign_out = |c: &str| {
            let jar: &[&[u8]] = &[c.as_bytes()];
            let mut v = view(Method::Post, "/logout", jar);
            v.shared = Some(&shared);
            same_origin(&mut v);
            assert!(matches!(
                p.decide(&v),
                Plan::Logout { log: Some(log), .. } if log.text == "user \"mike\": signed out"
            ));
        };
        let first = sign_in();
        assert!(works(&first));
        sign_out(&first);
        assert!(!works(&first));
        let second = sign_in();
        assert!(works(&second));
        sign_out(&second);
        assert!(
            !works(&second),
            "the second logout let the second token live"
        );
        let third = sign_in();
        assert!(works(&third));
        // Its `iat` runs ahead of the clock, its `exp` does not: no token
        // outlives the lifetime.
        let value = third.strip_prefix("example_jwt=").unwrap();
        let claims = token::verify(&p.secret, value.as_bytes(), NOW, 0).unwrap();
        assert_eq!((claims.iat, claims.exp), (NOW + 2, NOW + 3600));
    }

    #[test]
    fn limit_off_keeps_no_counts() {
        let mut p = policy(false);
        let (rw, aw) = (zone(16), zone(16));
        assert!(p
            .shared(Table::new(&rw), Table::new(&aw))
            .attempts
            .is_some());
        p.limit = None;
        let s = p.shared(Table::new(&rw), Table::new(&aw));
        assert!(s.attempts.is_none() && s.revocations.is_some());
        let _: Option<Revocations<'_>> = s.revocations;
    }

    #[test]
    fn passwords_are_checked_off_the_event_loop() {
        use crate::password_check::{HashQueue, Hashing};
        let mut p = policy(true);
        p.hash_queue = 2;
        let limit = |max_failures| {
            Some(Limit {
                max_failures,
                window: 60,
                cooldown: 60,
            })
        };
        let (rw, aw, aw3) = (zone(64), zone(64), zone(64));
        p.limit = limit(10);
        let shared = p.shared(Table::new(&rw), Table::new(&aw));
        p.limit = limit(3);
        let shared3 = p.shared(Table::new(&rw), Table::new(&aw3));
        let queue = HashQueue::default();
        let good = basic("mike", "123456");
        let mut v = view(Method::Get, "/marketing", &[]);
        v.shared = Some(&shared);
        v.authorization = Some(&good);
        v.hashing = Hashing::Offload(&queue);

        // Basic: a job, then the same question with its verdict.
        let Plan::Hash(job) = p.decide(&v) else {
            panic!("no job for an uncached Basic login")
        };
        assert_eq!(queue.len(), 1);
        let verdict = job.run();
        queue.leave(verdict.ticket().unwrap());
        v.hashing = Hashing::Done(&verdict);
        assert!(matches!(
            p.decide(&v),
            Plan::Allow {
                set_cookie: Some(_),
                ..
            }
        ));
        // A verdict answers only for its own password.
        let wrong = basic("mike", "nope");
        v.authorization = Some(&wrong);
        assert!(matches!(p.decide(&v), Plan::Challenge { .. }));

        // The bound: past two checks in flight, 503 with Retry-After.
        v.hashing = Hashing::Offload(&queue);
        let guesses: Vec<Vec<u8>> = ["a", "b", "c"].iter().map(|g| basic("mika", g)).collect();
        let mut jobs = Vec::new();
        for g in &guesses[..2] {
            v.authorization = Some(g);
            let Plan::Hash(job) = p.decide(&v) else {
                panic!("no job under the bound")
            };
            jobs.push(job);
        }
        v.authorization = Some(&guesses[2]);
        let Plan::Busy { retry_after, log } = p.decide(&v) else {
            panic!("no 503 past the bound")
        };
        assert_eq!(retry_after, 1);
        assert_eq!(log.level, Level::Warn);
        assert!(
            log.text.contains("2 password checks already queued"),
            "{}",
            log.text
        );
        // A session cookie never waits for the queue.
        let c = cookie(&p, "mike", &["marketing"]);
        let cookies = [c.as_bytes()];
        let mut with_cookie = view(Method::Get, "/marketing", &cookies);
        with_cookie.hashing = Hashing::Offload(&queue);
        assert_eq!(
            p.decide(&with_cookie),
            allow(mike(), None, ResponseCheck::Page { scan: true })
        );
        for job in jobs {
            queue.leave(job.ticket().unwrap());
        }

        // Checks still running count as failures: with one counted and
        // two distinct guesses running, the limit of 3 is reached.
        p.hash_queue = 8;
        v.shared = Some(&shared3);
        let counted = basic("hana", "x");
        v.authorization = Some(&counted);
        v.hashing = Hashing::Inline;
        assert!(matches!(p.decide(&v), Plan::Challenge { .. }));
        v.hashing = Hashing::Offload(&queue);
        let running = [basic("hana", "y"), basic("hana", "z")];
        let mut jobs = Vec::new();
        for g in &running {
            v.authorization = Some(g);
            let Plan::Hash(job) = p.decide(&v) else {
                panic!("no job under the limit")
            };
            jobs.push(job);
        }
        let g = basic("hana", "w");
        v.authorization = Some(&g);
        assert!(matches!(p.decide(&v), Plan::Refuse { status: 429, .. }));
        for job in jobs {
            queue.leave(job.ticket().unwrap());
        }
        let Plan::Hash(job) = p.decide(&v) else {
            panic!("still refused once the checks ended")
        };
        queue.leave(job.ticket().unwrap());
        // The same login sent at once several times is one check: the
        // copies join it, past the bound too.
        p.hash_queue = 1;
        v.authorization = Some(&good);
        let Plan::Hash(leader) = p.decide(&v) else {
            panic!("mike's own login")
        };
        assert_eq!(leader.joins(), None);
        for _ in 0..4 {
            let Plan::Hash(copy) = p.decide(&v) else {
                panic!("mike's login sent again")
            };
            assert_eq!((copy.joins(), copy.ticket()), (leader.ticket(), None));
        }
        assert_eq!(queue.len(), 1);
        let verdict = leader.run();
        queue.leave(verdict.ticket().unwrap());
        v.hashing = Hashing::Done(&verdict);
        assert!(
            matches!(p.decide(&v), Plan::Allow { .. }),
            "a copy, with the verdict"
        );

        // The form: a job, then the redirect with the cookie.
        let queue = HashQueue::default();
        let mut f = view(Method::Post, "/login", &[]);
        f.content_type = Some(FORM);
        f.shared = Some(&shared);
        same_origin(&mut f);
        f.hashing = Hashing::Offload(&queue);
        let body: Result<&[u8], BodyError> = Ok(b"username=mica&password=1234&return=%2Fhr");
        let Plan::Hash(job) = p.decide_body(&f, BodyOf::Form(Form::Login), body.clone()) else {
            panic!("no job for the form")
        };
        let verdict = job.run();
        f.hashing = Hashing::Done(&verdict);
        assert!(matches!(
            p.decide_body(&f, BodyOf::Form(Form::Login), body),
            Plan::Redirect {
                status: 303,
                set_cookie: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn body_phase_table() {
        let p = policy(true);
        let mut v = view(Method::Post, "/_dash-update-component", &[]);
        v.content_type = Some(JSON);
        let (mike, mica) = (mike(), mica());
        type Case<'a> = (&'a str, &'a Identity, Result<&'a [u8], BodyError>, Plan);
        let cases: Vec<Case> = vec![
            ("own section", &mike, Ok(CALLBACK), Plan::Proceed),
            ("all sections", &mica, Ok(HR_CALLBACK), Plan::Proceed),
            (
                "other section",
                &mike,
                Ok(HR_CALLBACK),
                Plan::refuse(
                    403,
                    info("user \"mike\": callback writes to section \"hr\" through \"output\""),
                ),
            ),
            (
                "not JSON",
                &mica,
                Ok(b"{"),
                Plan::Refuse {
                    status: 400,
                    identity: None,
                    log: None,
                },
            ),
            (
                "too large",
                &mike,
                Err(BodyError::TooLarge),
                Plan::refuse(413, info("user \"mike\": callback body over 1048576 bytes")),
            ),
            (
                "unreadable",
                &mike,
                Err(BodyError::Unreadable("gone".into())),
                Plan::refuse(
                    403,
                    Some(Log::error("cannot read callback body: gone".into())),
                ),
            ),
        ];
        for (name, who, body, want) in cases {
            let got = p.decide_body(&v, BodyOf::Callback(who), body);
            match (&got, &want) {
                // The JSON reason's wording belongs to the reader.
                (
                    Plan::Refuse {
                        status: 400,
                        log: Some(_),
                        ..
                    },
                    Plan::Refuse {
                        status: 400,
                        log: None,
                        ..
                    },
                ) => {}
                _ => assert_eq!(got, want, "{name}"),
            }
        }
        let mut plain = v;
        plain.content_type = Some(b"text/plain");
        assert!(matches!(
            p.decide_body(&plain, BodyOf::Callback(&mica), Ok(CALLBACK)),
            Plan::Refuse { status: 400, .. }
        ));
    }

    #[test]
    fn login_form_table() {
        let mut p = policy(true);
        let mut v = view(Method::Post, "/login", &[]);
        v.content_type = Some(FORM);
        same_origin(&mut v);
        let form = |s: &'static str| -> Result<&'static [u8], BodyError> { Ok(s.as_bytes()) };
        let Plan::Redirect {
            status: 303,
            location,
            set_cookie: Some(c),
            device_cookie: _,
            log,
        } = p.decide_body(
            &v,
            BodyOf::Form(Form::Login),
            form("username=mike&password=123456&return=%2Fmarketing"),
        )
        else {
            panic!("form login refused")
        };
        assert_eq!(location, "/marketing");
        assert!(c.starts_with("example_jwt=ey"));
        assert_eq!(log, info("user \"mike\": signed in with the login form"));

        let Plan::Page {
            status: 401,
            html,
            log,
            ..
        } = p.decide_body(
            &v,
            BodyOf::Form(Form::Login),
            form("username=nobody&password=x"),
        )
        else {
            panic!()
        };
        assert!(html.contains("Wrong user name or password."));
        assert_eq!(log, info("user \"nobody\": user not found"));

        assert_eq!(
            p.decide_body(&v, BodyOf::Form(Form::Login), form("username=mike")),
            Plan::refuse(400, info("login form lacks username or password"))
        );
        assert_eq!(
            p.decide_body(&v, BodyOf::Form(Form::Login), Err(BodyError::TooLarge)),
            Plan::refuse(400, None)
        );
        let mut json = v;
        json.content_type = Some(JSON);
        assert!(matches!(
            p.decide_body(
                &json,
                BodyOf::Form(Form::Login),
                form("username=mike&password=123456")
            ),
            Plan::Refuse { status: 400, .. }
        ));

        // The failure limit: the failure that reaches it warns, then 429.
        p.limit = Some(Limit {
            max_failures: 2,
            window: 60,
            cooldown: 60,
        });
        let aw = zone(16);
        let shared = Shared {
            revocations: None,
            attempts: Some(Attempts {
                table: Table::new(&aw).unwrap(),
                limit: p.limit.unwrap(),
            }),
        };
        v.shared = Some(&shared);
        let wrong = form("username=mike&password=x");
        assert!(matches!(
            p.decide_body(&v, BodyOf::Form(Form::Login), wrong.clone()),
            Plan::Page {
                status: 401,
                log: Some(Log {
                    level: Level::Info,
                    ..
                }),
                ..
            }
        ));
        assert!(matches!(
            p.decide_body(&v, BodyOf::Form(Form::Login), wrong),
            Plan::Page {
                status: 401,
                log: Some(Log {
                    level: Level::Warn,
                    ..
                }),
                ..
            }
        ));
        let Plan::Page {
            status: 429,
            html,
            log,
            ..
        } = p.decide_body(
            &v,
            BodyOf::Form(Form::Login),
            form("username=mike&password=123456"),
        )
        else {
            panic!()
        };
        assert!(html.contains("Too many failed attempts"));
        assert_eq!(
            log,
            Some(Log::warn(
                "user \"mike\": login refused, too many failed attempts".into()
            ))
        );
    }

    /// A browser navigation to a section that is not the user's gets the
    /// readable page; an API client keeps nginx's 403. The router callback
    /// refused for the page it routes to gets a Dash reply showing the
    /// refusal; any other refused callback keeps its 403. Each with the
    /// twin that goes through.
    #[test]
    fn refusals_a_person_can_read() {
        use crate::plan::Content;
        let with_login = policy(true);
        let without = policy(false);
        let mut prefixed = policy(true);
        prefixed.sections = Arc::new(
            Sections::new(["hr", "marketing"])
                .unwrap()
                .with_prefix("/app/")
                .unwrap(),
        );
        let mike_c = cookie(&with_login, "mike", &["marketing"]);
        let mica_c = cookie(&with_login, "mica", &["_all_"]);
        let mike_c: &[&[u8]] = &[mike_c.as_bytes()];
        let mica_c: &[&[u8]] = &[mica_c.as_bytes()];
        let denied = info("user \"mike\" may not access section \"hr\"");
        let plain = || Plan::Refuse {
            status: 403,
            identity: Some(mike()),
            log: denied.clone(),
        };
        let page = |p: &Policy, method, uri, accept: Option<&'static [u8]>, error_page| {
            let mut v = view(method, uri, mike_c);
            v.accept = accept;
            v.error_page_403 = error_page;
            p.decide(&v)
        };
        let html_of = |plan: Plan| match plan {
            Plan::Answer {
                status: 403,
                content: Content::Html(html),
                identity,
                log,
            } => {
                assert_eq!(identity, mike());
                assert_eq!(log, denied);
                html
            }
            other => panic!("no refusal page: {other:?}"),
        };

        // The navigation: who is signed in, which section, home, sign out.
        let html = html_of(page(&with_login, Method::Get, "/hr/x", Some(HTML), false));
        assert!(html.contains("<strong id=\"user\">mike</strong>"), "{html}");
        assert!(html.contains("<strong id=\"section\">hr</strong>"));
        assert!(html.contains(r#"<a href="/" id="home">"#));
        assert!(html.contains(r#"<form method="post" action="/logout">"#));
        assert!(!html.contains("/hr/x"), "only the section's name: {html}");
        let head = html_of(page(&with_login, Method::Head, "/hr", Some(HTML), false));
        assert_eq!(
            head,
            html_of(page(&with_login, Method::Get, "/HR", Some(HTML), false))
        );
        // A section page by its own path is refused under the section's name.
        let mut people = crate::section::SectionPaths::default();
        people
            .add("hr", &["/people"], "nginx.conf:1".into())
            .unwrap();
        let mut paths = policy(true);
        paths.sections = Arc::new(
            Sections::clone(&with_login.sections)
                .with_paths(&people)
                .unwrap(),
        );
        let html = html_of(page(&paths, Method::Get, "/people", Some(HTML), false));
        assert!(html.contains("<strong id=\"section\">hr</strong>") && !html.contains("people"));
        // Under a Dash prefix, home is the app's root.
        let html = html_of(page(&prefixed, Method::Get, "/app/hr", Some(HTML), false));
        assert!(html.contains(r#"<a href="/app/" id="home">"#), "{html}");
        // Basic only: no logout to post to.
        let html = html_of(page(&without, Method::Get, "/hr", Some(HTML), false));
        assert!(
            !html.contains("<form") && !html.contains("sign-out"),
            "{html}"
        );

        // Not a navigation, or the admin's own error page: nginx's 403.
        for (method, accept) in [
            (Method::Get, None),
            (Method::Get, Some(&b"application/json"[..])),
            (Method::Get, Some(&b"*/*"[..])),
            (Method::Post, Some(HTML)),
        ] {
            assert_eq!(
                page(&with_login, method, "/hr", accept, false),
                plain(),
                "{method:?} {accept:?}"
            );
        }
        assert_eq!(
            page(&with_login, Method::Get, "/hr", Some(HTML), true),
            plain()
        );

        // The twins: mike's own section, and mica's hr.
        assert_eq!(
            page(&with_login, Method::Get, "/marketing", Some(HTML), false),
            allow(mike(), None, ResponseCheck::Page { scan: true })
        );
        let mut v = view(Method::Get, "/hr", mica_c);
        v.accept = Some(HTML);
        assert_eq!(
            with_login.decide(&v),
            allow(mica(), None, ResponseCheck::Page { scan: false })
        );

        // Inside the app: the router's callback.
        let router = |path: &str, outputs: &str| {
            format!(
                r#"{{"output":".._pages_content.children..._pages_store.data..","outputs":{outputs},"inputs":[{{"id":"_pages_location","property":"pathname","value":"{path}"}},{{"id":"_pages_location","property":"search","value":""}}],"changedPropIds":["_pages_location.pathname"]}}"#
            )
        };
        let both = r#"[{"id":"_pages_content","property":"children"},{"id":"_pages_store","property":"data"}]"#;
        let content = r#"{"id":"_pages_content","property":"children"}"#;
        let mut v = view(Method::Post, "/_dash-update-component", &[]);
        v.content_type = Some(JSON);
        let body = |p: &Policy, who: &Identity, b: &str| {
            p.decide_body(&v, BodyOf::Callback(who), Ok(b.as_bytes()))
        };
        let routed = info("user \"mike\": callback routes to section \"hr\" through \"route\"");
        let reply_of = |plan: Plan| match plan {
            Plan::Answer {
                status: 200,
                content: Content::Json(json),
                identity,
                log,
            } => {
                assert_eq!(identity, mike());
                assert_eq!(log, routed);
                serde_json::from_str::<serde_json::Value>(&json).unwrap()
            }
            other => panic!("no Dash reply: {other:?}"),
        };
        let (mike, mica) = (mike(), mica());
        let r = reply_of(body(&with_login, &mike, &router("/hr", both)));
        assert_eq!(r["multi"], true);
        let page = &r["response"]["_pages_content"]["children"];
        assert_eq!(page["props"]["id"], crate::refusal::CONTAINER_ID);
        let text = page.to_string();
        assert!(text.contains("Not your section"), "{text}");
        assert!(text.contains("signed in as mike. The hr section"), "{text}");
        assert_eq!(
            r["response"]["_pages_store"]["data"]["title"],
            "Not your section"
        );
        assert_eq!(r["response"].as_object().unwrap().len(), 2);
        // Only the outputs the request names.
        let r = reply_of(body(
            &with_login,
            &mike,
            &router("/people/../hr?x", content),
        ));
        assert!(r["response"].get("_pages_store").is_none(), "{r}");
        let r = reply_of(body(&prefixed, &mike, &router("/app/hr", both)));
        assert!(r.to_string().contains(r#""href":"/app/""#), "{r}");

        // Any other refused callback keeps its status: not the router, the
        // router writing into a section, or a path that cannot be read.
        let path_in_other = r#"{"output":"marketing-graph.figure","outputs":{"id":"marketing-graph","property":"figure"},"inputs":[{"id":"marketing-dropdown","property":"value","value":"/hr"}]}"#;
        assert_eq!(
            body(&with_login, &mike, path_in_other),
            Plan::refuse(403, routed.clone())
        );
        let into_hr = router(
            "/hr",
            r#"[{"id":"_pages_content","property":"children"},{"id":"hr-graph","property":"figure"}]"#,
        );
        assert_eq!(
            body(&with_login, &mike, &into_hr),
            Plan::refuse(
                403,
                info("user \"mike\": callback writes to section \"hr\" through \"outputs\"")
            )
        );
        assert!(matches!(
            body(&with_login, &mike, &router("/%zz", both)),
            Plan::Refuse { status: 400, .. }
        ));
        assert!(matches!(
            body(
                &with_login,
                &mike,
                std::str::from_utf8(HR_CALLBACK).unwrap()
            ),
            Plan::Refuse { status: 403, .. }
        ));

        // The twins: mike's own page, and mica's hr.
        assert_eq!(
            body(&with_login, &mike, &router("/marketing", both)),
            Plan::Proceed
        );
        assert_eq!(
            body(&with_login, &mica, &router("/hr", both)),
            Plan::Proceed
        );
        assert_eq!(body(&with_login, &mica, path_in_other), Plan::Proceed);
    }
}
