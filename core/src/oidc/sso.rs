//! Single sign-on, decided: when to send a browser to the OpenID Provider,
//! what the callback must prove, what to fetch from the provider and when,
//! and the session that comes out of it.
//!
//! The module fetches through nginx (a subrequest to an internal location
//! that `proxy_pass`es to the provider). Core answers [`Plan::Fetch`]; the
//! glue brings the reply back in [`Progress::fetched`], hands it to
//! [`Sso::absorb`] and asks [`Policy::decide`] again.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::config::SsoConfig;
use super::discovery::{self, Discovery};
use super::flow::{self, ClientAuth};
use super::id_token::{self, Expect, IdTokenError};
use super::jwks::{self, Jwks};
use crate::access::{Identity, Policy, RequestView};
use crate::cookie::{find_cookie, CookieLookup};
use crate::csrf::SiteOrigin;
use crate::endpoint::Method;
use crate::login::html_escape;
use crate::plan::{Level, Log, Plan};
use crate::return_path;

/// How long a discovery document or key set is used before the next
/// sign-in fetches it again (the cookie path never does).
pub const DOCUMENT_MAX_AGE: u64 = 3600;
/// How long a browser has to come back from the provider.
pub const STATE_LIFETIME: u64 = 600;
/// Longest user name taken from a claim.
pub const MAX_USER_LEN: usize = 256;

/// A location's single sign-on: its settings and, per worker, what it
/// learnt from the provider.
#[derive(Debug)]
pub struct Sso {
    pub config: SsoConfig,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    discovery: Option<(Arc<Discovery>, u64)>,
    jwks: Option<(Arc<Jwks>, u64)>,
}

/// What the module asks of the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Discovery,
    Jwks,
    Token,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Discovery => "discovery",
            Step::Jwks => "JWKS",
            Step::Token => "token",
        })
    }
}

/// One request to the provider, made through the internal location.
#[derive(Clone, PartialEq, Eq)]
pub struct Fetch {
    pub step: Step,
    pub url: String,
    /// A `POST` with this form body (the token request), else a `GET`.
    pub form: Option<String>,
    /// The `Authorization` header (client_secret_basic).
    pub authorization: Option<String>,
}

impl fmt::Debug for Fetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The form carries the code and the verifier, the header the secret.
        f.debug_struct("Fetch")
            .field("step", &self.step)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The provider's answer to a [`Fetch`], as the subrequest got it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub step: Step,
    /// The status; nginx's own 502 or 504 when the provider could not be
    /// reached or was too slow, 0 when there was no answer at all.
    pub status: u16,
    pub body: Vec<u8>,
}

/// One callback's progress through its fetches.
#[derive(Default)]
pub struct Progress {
    /// Set by the glue, taken by [`Sso::absorb`].
    pub fetched: Option<Fetched>,
    id_token: Option<String>,
    jwks_refreshed: bool,
    /// A refresh failed: the document already held is used.
    stale_discovery: bool,
    stale_jwks: bool,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Sso {
    pub fn new(config: SsoConfig) -> Sso {
        Sso {
            config,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        )
    }

    fn cached_discovery(
        &self,
        now: u64,
        progress: Option<&Progress>,
    ) -> Result<Arc<Discovery>, Fetch> {
        let stale_ok = progress.is_some_and(|p| p.stale_discovery);
        let held = self.cache.lock().ok().and_then(|c| c.discovery.clone());
        match held {
            Some((d, at)) if stale_ok || now < at.saturating_add(DOCUMENT_MAX_AGE) => Ok(d),
            _ => Err(Fetch {
                step: Step::Discovery,
                url: self.discovery_url(),
                form: None,
                authorization: None,
            }),
        }
    }

    fn cached_jwks(
        &self,
        d: &Discovery,
        now: u64,
        progress: &Progress,
    ) -> Result<Arc<Jwks>, Fetch> {
        let held = self.cache.lock().ok().and_then(|c| c.jwks.clone());
        match held {
            Some((k, at))
                if progress.stale_jwks
                    || progress.jwks_refreshed
                    || now < at.saturating_add(DOCUMENT_MAX_AGE) =>
            {
                Ok(k)
            }
            _ => Err(jwks_fetch(d)),
        }
    }

    /// May an unknown `kid` fetch the key set again now?
    fn may_refresh(&self, now: u64) -> bool {
        self.cache.lock().ok().is_some_and(|c| {
            c.jwks
                .as_ref()
                .is_none_or(|(_, at)| now >= at.saturating_add(self.config.refresh))
        })
    }

    /// The request line as the logs may show it: the callback's query holds
    /// the code and the state, which nginx would write into every error
    /// and access log line of the request. `None`: leave it.
    pub fn redacted_request_line(&self, uri: &[u8], line: &[u8]) -> Option<Vec<u8>> {
        if uri != self.config.redirect.as_bytes() {
            return None;
        }
        let query = line.iter().position(|&b| b == b'?')?;
        let protocol = line
            .iter()
            .rposition(|&b| b == b' ')
            .filter(|&p| p > query)
            .unwrap_or(line.len());
        let mut out = Vec::with_capacity(query + 12 + line.len() - protocol);
        out.extend_from_slice(line.get(..query)?);
        out.extend_from_slice(b"?[redacted]");
        out.extend_from_slice(line.get(protocol..)?);
        Some(out)
    }

    /// The provider's end-session URL for a logout, if it offers one and
    /// this worker knows it.
    pub fn end_session(&self, req: &RequestView<'_>) -> Option<String> {
        let d = self.cached_discovery(req.now, None).ok()?;
        let endpoint = d.end_session_endpoint.as_deref()?;
        let back = absolute(req, &self.config.post_logout)?;
        Some(flow::end_session_url(
            endpoint,
            &self.config.client_id,
            &back,
        ))
    }

    /// Takes in what a fetch brought back. `Some` is the answer to the
    /// request when the provider failed; `None`: ask again.
    pub fn absorb(&self, progress: &mut Progress, now: u64) -> Option<Plan> {
        let fetched = progress.fetched.take()?;
        let step = fetched.step;
        if step == Step::Token {
            return match flow::parse_token_response(fetched.status, &fetched.body) {
                Ok(id_token) => {
                    progress.id_token = Some(id_token);
                    None
                }
                Err(flow::TokenError::Refused { error }) => Some(failed(
                    403,
                    format!("sign-in refused: the token endpoint refused the code ({error})"),
                )),
                Err(e) => Some(unavailable(step, fetched.status, &e.to_string())),
            };
        }
        if fetched.status != 200 {
            return self.stale_or(progress, step, fetched.status, "no answer");
        }
        let mut cache = self.cache.lock().ok()?;
        match step {
            Step::Discovery => match discovery::parse(&fetched.body, &self.config.issuer) {
                Ok(d) => cache.discovery = Some((Arc::new(d), now)),
                Err(e) => {
                    drop(cache);
                    return self.stale_or(progress, step, fetched.status, &e.to_string());
                }
            },
            Step::Jwks => match jwks::parse(&fetched.body) {
                Ok(k) => {
                    progress.jwks_refreshed = true;
                    cache.jwks = Some((Arc::new(k), now));
                }
                Err(e) => {
                    drop(cache);
                    return self.stale_or(progress, step, fetched.status, &e.to_string());
                }
            },
            Step::Token => {}
        }
        None
    }

    /// A refresh that failed keeps the document already held; with none,
    /// the sign-in cannot go on.
    fn stale_or(
        &self,
        progress: &mut Progress,
        step: Step,
        status: u16,
        why: &str,
    ) -> Option<Plan> {
        let held = self.cache.lock().ok().is_some_and(|c| match step {
            Step::Discovery => c.discovery.is_some(),
            Step::Jwks => c.jwks.is_some(),
            Step::Token => false,
        });
        if held {
            match step {
                Step::Discovery => progress.stale_discovery = true,
                Step::Jwks => progress.stale_jwks = true,
                Step::Token => {}
            }
            return None;
        }
        Some(unavailable(step, status, why))
    }

    /// A browser without a session: off to the provider, with a fresh
    /// state, nonce and PKCE verifier bound to this browser. `log` says
    /// why there was no session.
    pub fn start(
        &self,
        policy: &Policy,
        req: &RequestView<'_>,
        progress: Option<&Progress>,
        log: Log,
    ) -> Plan {
        let d = match self.cached_discovery(req.now, progress) {
            Ok(d) => d,
            Err(fetch) => return Plan::Fetch(fetch),
        };
        let Some(redirect_uri) = absolute(req, &self.config.redirect) else {
            return insecure();
        };
        let return_to = return_path::sanitize(req.target);
        let Some(pending) = flow::fresh(return_to, req.now, STATE_LIFETIME) else {
            return Plan::refuse(
                500,
                Some(Log::error("cannot start a sign-in: no randomness".into())),
            );
        };
        let Some(sealed) = flow::seal(&pending, &policy.secret) else {
            return Plan::refuse(
                500,
                Some(Log::error("cannot seal the sign-in state".into())),
            );
        };
        Plan::Redirect {
            status: 302,
            location: flow::authorize_url(
                &d.authorization_endpoint,
                &self.config.client_id,
                &redirect_uri,
                &self.config.scopes,
                &pending,
            ),
            set_cookie: Some(flow::state_cookie(&sealed, STATE_LIFETIME)),
            device_cookie: None,
            log: Some(log),
        }
    }

    /// The provider sent the browser back: the state must be this
    /// browser's, the code is exchanged, the ID token verified, and the
    /// module's own session begins.
    pub fn callback(
        &self,
        policy: &Policy,
        req: &RequestView<'_>,
        progress: Option<&Progress>,
    ) -> Plan {
        if !matches!(req.method, Method::Get | Method::Head) {
            return Plan::refuse(405, None);
        }
        if !req.secure {
            return insecure();
        }
        let callback = match flow::parse_callback(req.args) {
            Ok(c) => c,
            Err(e) => return failed(400, format!("sign-in callback refused: {e}")),
        };
        let pending = match find_cookie(req.cookie_headers.iter().copied(), flow::STATE_COOKIE) {
            CookieLookup::Found(v) => match flow::open(v, &policy.secret, req.now) {
                Ok(p) => p,
                Err(e) => {
                    return failed(403, format!("sign-in callback refused: state cookie {e}"))
                }
            },
            _ => {
                return failed(
                    403,
                    "sign-in callback refused: no sign-in of this browser is under way \
                     (no state cookie)"
                        .into(),
                )
            }
        };
        if let Some(error) = &callback.error {
            return failed(
                403,
                format!("sign-in refused by the provider: {}", sanitize_code(error)),
            );
        }
        let (Some(code), Some(state)) = (&callback.code, &callback.state) else {
            return failed(400, "sign-in callback refused: no code or no state".into());
        };
        if !pending.state_matches(state) {
            return failed(
                403,
                "sign-in callback refused: the state is not this browser's".into(),
            );
        }
        let d = match self.cached_discovery(req.now, progress) {
            Ok(d) => d,
            Err(fetch) => return Plan::Fetch(fetch),
        };
        // RFC 9207: the answer must come from the provider the browser was
        // sent to, not from another one it also trusts.
        if !callback.iss_ok(&self.config.issuer, d.iss_parameter_supported) {
            let why = if callback.iss.is_some() {
                "sign-in callback refused: \"iss\" names another provider"
            } else {
                "sign-in callback refused: no \"iss\", which the provider always sends"
            };
            return failed(403, why.into());
        }
        let Some(redirect_uri) = absolute(req, &self.config.redirect) else {
            return insecure();
        };
        let empty = Progress::default();
        let progress = progress.unwrap_or(&empty);
        let Some(id_token) = &progress.id_token else {
            let request = flow::token_request(
                code,
                &pending.verifier,
                &redirect_uri,
                &self.config.client_id,
                &self.config.client_secret.0,
                // Unset: Basic where the provider offers it, which every
                // provider must (RFC 6749 §2.3.1), else Post.
                self.config
                    .client_auth
                    .or_else(|| ClientAuth::pick(&d.token_auth_methods))
                    .unwrap_or(ClientAuth::Basic),
            );
            return Plan::Fetch(Fetch {
                step: Step::Token,
                url: d.token_endpoint.clone(),
                form: Some(request.body.clone()),
                authorization: request.authorization.clone(),
            });
        };
        let keys = match self.cached_jwks(&d, req.now, progress) {
            Ok(k) => k,
            Err(fetch) => return Plan::Fetch(fetch),
        };
        let expect = Expect {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce: &pending.nonce,
            now: req.now,
            leeway: policy.leeway,
        };
        let claims = match id_token::verify(id_token, &keys, &expect) {
            Ok(c) => c,
            Err(IdTokenError::UnknownKey { .. })
                if !progress.jwks_refreshed && self.may_refresh(req.now) =>
            {
                // Keys rotate: one fetch of the set, then the token is
                // judged again.
                return Plan::Fetch(jwks_fetch(&d));
            }
            Err(e) => return failed(403, format!("sign-in refused: {e}")),
        };
        let Some(user) = claims
            .get(&self.config.user_claim)
            .and_then(|v| v.as_str())
            .filter(|u| valid_user(u))
        else {
            return failed(
                403,
                format!(
                    "sign-in refused: the ID token has no usable \"{}\" claim",
                    self.config.user_claim.escape_debug()
                ),
            );
        };
        let groups: Vec<&str> = match claims.get(&self.config.groups_claim) {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(serde_json::Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        let sections = self.config.groups.map.sections_for(groups.iter().copied());
        let sections: Vec<String> = sections
            .iter()
            .filter_map(|s| {
                if s == crate::grants::ALL {
                    Some(s.clone())
                } else {
                    policy.sections.canonical(s.as_bytes()).map(str::to_owned)
                }
            })
            .collect();
        let identity = Identity {
            user: user.to_owned(),
            allowed_resources: sections,
        };
        let session = match policy.mint(&identity, true, req) {
            Ok(cookie) => cookie,
            Err(e) => {
                return Plan::refuse(
                    500,
                    Some(Log::user(
                        Level::Error,
                        user,
                        format_args!("cannot issue session token: {e}"),
                    )),
                )
            }
        };
        let log = Log::user(
            Level::Info,
            user,
            format_args!(
                "signed in through the OpenID Provider, sections \"{}\"",
                identity.sections_joined()
            ),
        );
        Plan::Redirect {
            status: 302,
            // `flow::open` let only a path on this origin through.
            location: pending.return_to,
            set_cookie: Some(session),
            device_cookie: Some(flow::clear_state_cookie()),
            log: Some(log),
        }
    }
}

fn jwks_fetch(d: &Discovery) -> Fetch {
    Fetch {
        step: Step::Jwks,
        url: d.jwks_uri.clone(),
        form: None,
        authorization: None,
    }
}

/// `https://host` + `path`, from the request's own Host: the provider
/// holds the redirect URIs it accepts, so a forged Host only fails there.
fn absolute(req: &RequestView<'_>, path: &str) -> Option<String> {
    if !req.secure {
        return None;
    }
    let origin = SiteOrigin::of_request(true, req.host)?;
    Some(format!("{origin}{path}"))
}

fn valid_user(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USER_LEN
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An OAuth error code as the log may show it.
fn sanitize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect()
}

fn insecure() -> Plan {
    failed(
        403,
        "single sign-on needs https: its cookie is a __Host- cookie, and the \
         provider sends the browser back to an https address"
            .into(),
    )
}

/// A sign-in that cannot be completed: a page that says so, with a way to
/// start again, and the reason in the log.
fn failed(status: u16, why: String) -> Plan {
    Plan::Page {
        status,
        html: page(
            "Sign-in failed",
            "The sign-in could not be completed. Start again from the dashboard.",
        ),
        set_cookie: Some(flow::clear_state_cookie()),
        log: Some(Log::info(why)),
    }
}

/// The provider did not answer, or not usefully: 504 when it was too
/// slow, else 502, and the step in the log.
fn unavailable(step: Step, status: u16, why: &str) -> Plan {
    let status_out = if status == 504 { 504 } else { 502 };
    let why = if status == 0 || status == 200 {
        why.to_owned()
    } else {
        format!("status {status}")
    };
    Plan::Page {
        status: status_out,
        html: page(
            "Sign-in unavailable",
            "The identity provider did not answer. Try again in a moment.",
        ),
        set_cookie: None,
        log: Some(Log::error(format!(
            "OpenID Provider {step} request failed: {why}"
        ))),
    }
}

fn page(title: &str, text: &str) -> String {
    crate::page::frame(
        title,
        &format!(
            "  <h1>{t}</h1>\n  <p class=\"error\" role=\"alert\">{x}</p>\n  \
             <p class=\"back\"><a href=\"/\">Back to the dashboard</a></p>\n",
            t = html_escape(title),
            x = html_escape(text)
        ),
    )
}

#[cfg(test)]
#[path = "sso_tests.rs"]
mod tests;
