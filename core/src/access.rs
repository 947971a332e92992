//! Who a request is from: the session cookie, else Basic credentials, and
//! the section of the URI. [`crate::decide`] builds the whole answer on top.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::basic::{self, parse_basic, BasicError};
use crate::basic_cache::BasicCache;
use crate::config::{
    CallbackRules, LoginPages, DEFAULT_COOKIE_NAME, DEFAULT_LEEWAY, DEFAULT_LOGIN_LIMIT,
    DEFAULT_MAX_AGE, DEFAULT_TTL,
};
use crate::cookie::{all_values, find_cookie, set_cookie, CookieLookup};
use crate::csrf::FromHeaders;
use crate::endpoint::{Method, UncheckedRoutes};
use crate::grants;
use crate::password_check::{HashJob, Hashing, DEFAULT_HASH_QUEUE};
use crate::rate_limit::{Attempts, Counter, Limit, Subject};
use crate::revocation::{self, Revocations};
use crate::section::Sections;
use crate::session;
use crate::shared_table::Table;
use crate::token::{self, Secret, TokenError};
use crate::users::{AuthFailure, UsersFile};

/// Everything a decision needs, built at nginx config time and shared
/// read-only between requests.
#[derive(Debug, Clone)]
pub struct Policy {
    pub users: Arc<UsersFile>,
    pub secret: Arc<Secret>,
    pub cookie_name: String,
    /// Token lifetime and cookie `Max-Age`, in seconds.
    pub ttl: u64,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway: u64,
    pub sections: Arc<Sections>,
    /// Recent successful Basic logins; `None` turns caching off.
    pub basic_cache: Option<Arc<Mutex<BasicCache>>>,
    /// Absolute session length from the password login, in seconds; 0: none.
    pub max_age: u64,
    /// The complete `WWW-Authenticate` value of a Basic challenge.
    pub challenge: String,
    pub callbacks: CallbackRules,
    /// Form login, when `dash_auth_login` is on.
    pub login: Option<LoginPages>,
    /// The login failure limit; `None`: `dash_auth_login_limit off`.
    pub limit: Option<Limit>,
    /// Routes let through although what they run cannot be checked.
    pub unchecked: Arc<UncheckedRoutes>,
    /// Password checks queued or running per worker past which a login
    /// that needs one is refused with 503.
    pub hash_queue: usize,
    /// Single sign-on through an OpenID Provider.
    pub sso: Option<Arc<crate::oidc::sso::Sso>>,
    /// Basic and the login form; off leaves single sign-on alone.
    pub passwords: bool,
}

/// State shared by every worker (the module keeps it in shared memory):
/// logout cut-offs and login failure counts.
#[derive(Default)]
pub struct Shared<'a> {
    pub revocations: Option<Revocations<'a>>,
    pub attempts: Option<Attempts<'a>>,
}

impl fmt::Debug for Shared<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shared")
    }
}

/// The parts of a request the decision looks at, as raw bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestView<'a> {
    pub method: Method,
    /// The value of every `Cookie` header.
    pub cookie_headers: &'a [&'a [u8]],
    pub authorization: Option<&'a [u8]>,
    /// More than one `Authorization` header: no copy may be picked.
    pub authorization_repeated: bool,
    /// An `Upgrade` header: the request asks to leave HTTP (a WebSocket),
    /// after which nginx cannot read what it carries.
    pub upgrade: bool,
    /// The last `Accept` header.
    pub accept: Option<&'a [u8]>,
    pub content_type: Option<&'a [u8]>,
    /// The declared `Content-Length`, if any.
    pub content_length: Option<u64>,
    /// nginx's `r->uri`: decoded, dot segments resolved, slashes merged.
    pub uri: &'a [u8],
    /// The request target as sent, path and query (`r->unparsed_uri`):
    /// where the login page sends the browser back to.
    pub target: &'a [u8],
    /// The query string, without `?` (`r->args`).
    pub args: &'a [u8],
    /// The request came over https (sets the cookie's `Secure` flag).
    pub secure: bool,
    /// The `Host` header: with `secure`, the origin the request was sent to.
    pub host: Option<&'a [u8]>,
    /// `Origin` and `Sec-Fetch-Site`: where the browser says it was sent from.
    pub from: FromHeaders<'a>,
    /// Unix time in seconds.
    pub now: u64,
    /// The client address, for the login failure limit.
    pub client: &'a [u8],
    pub shared: Option<&'a Shared<'a>>,
    /// The location has an `error_page` for 403: that page, the admin's,
    /// is shown for a refusal instead of the module's own.
    pub error_page_403: bool,
    /// Where a password would be hashed, or the verdict of this request's
    /// hash when it was asked again after one.
    pub hashing: Hashing<'a>,
    /// A single sign-on under way: what this request already fetched from
    /// the provider.
    pub sso: Option<&'a crate::oidc::sso::Progress>,
}

/// Who the request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    /// Section names or `_all_`.
    pub allowed_resources: Vec<String>,
}

impl Identity {
    /// The grants as one comma-separated string, e.g. for a header to the
    /// backend. Entries cannot contain `,` (they are validated section
    /// names), so the result splits back unambiguously.
    pub fn sections_joined(&self) -> String {
        self.allowed_resources.join(",")
    }
}

/// Why a request gets a 401. For the log line: never contains a password,
/// a token or the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// Neither a session cookie nor an Authorization header.
    NoCredentials,
    BadCookie(TokenError),
    /// The session cookie is present more than once.
    DuplicateCookie,
    /// The session cookie's value is not a valid cookie-value.
    MalformedCookie,
    BadAuthorization(BasicError),
    UnknownUser,
    WrongPassword,
    /// The login was right but no token could be made (see
    /// [`token::issue`]); a configuration problem.
    CannotIssue(TokenError),
    /// The session cookie is older than the user's last logout.
    LoggedOut,
    /// The session reached `dash_auth_session_max_age`.
    SessionTooOld,
    /// A valid session cookie whose user is not in the users file loaded
    /// now (removed since the login, then `nginx -s reload`).
    NotInUsersFile,
    /// A session from single sign-on where SSO is not configured.
    SsoOff,
    /// A failed login that reached the failure limit.
    LimitReached {
        failure: AuthFailure,
        who: Counter,
    },
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::NoCredentials => f.write_str("no credentials"),
            DenyReason::BadCookie(e) => write!(f, "invalid session cookie: {e}"),
            DenyReason::DuplicateCookie => f.write_str("duplicate session cookie"),
            DenyReason::MalformedCookie => f.write_str("malformed session cookie"),
            DenyReason::BadAuthorization(e) => write!(f, "invalid authorization header: {e}"),
            DenyReason::UnknownUser => AuthFailure::UnknownUser.fmt(f),
            DenyReason::WrongPassword => AuthFailure::WrongPassword.fmt(f),
            DenyReason::CannotIssue(e) => write!(f, "cannot issue session token: {e}"),
            DenyReason::LoggedOut => f.write_str("session cookie ended by logout"),
            DenyReason::SessionTooOld => f.write_str("session reached its maximum age"),
            DenyReason::NotInUsersFile => {
                f.write_str("session user is no longer in the users file")
            }
            DenyReason::SsoOff => {
                f.write_str("session signed in by SSO, which is not configured here")
            }
            DenyReason::LimitReached { failure, who } => {
                write!(f, "{failure}; login failure limit reached for the {who}")
            }
        }
    }
}

/// What to do with a request.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Pass it on. `set_cookie` is a complete `Set-Cookie` value when a Basic
    /// login just minted a session token.
    Allow {
        identity: Identity,
        set_cookie: Option<String>,
    },
    /// 401 with `WWW-Authenticate`. `user` is the name from a Basic header,
    /// if one was parsed, or that of a verified cookie whose user has left
    /// the users file (never a name taken from an unverified cookie).
    Unauthorized {
        user: Option<String>,
        reason: DenyReason,
    },
    /// 403: authenticated, but `section` is not granted.
    Forbidden { identity: Identity, section: String },
    /// 429: too many failed logins for this user or client address.
    TooManyAttempts { user: String },
    /// The password must be hashed first: run the job off the event loop,
    /// then ask again with its verdict.
    Hash(HashJob),
    /// 503: the worker's password-check queue is full.
    Busy { user: String, in_flight: usize },
}

/// How the password came: a Basic client has no cookie jar, so for it the
/// address of an earlier successful login stands in for the device cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Basic,
    Form,
}

/// The result of checking a user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginResult {
    /// The complete `Set-Cookie` value of the new session, and, for a form
    /// login under a failure limit, that of the device cookie.
    Success {
        identity: Identity,
        set_cookie: String,
        device_cookie: Option<String>,
    },
    /// Hash the password first (see [`Decision::Hash`]).
    Hash(HashJob),
    Denied(Decision),
}

impl Policy {
    /// `Some(true)` on a cache hit; `None` when there is no usable cache.
    fn cached_login(&self, user: &str, password: &[u8], now: u64) -> Option<bool> {
        let cache = self.basic_cache.as_ref()?.lock().ok()?;
        Some(cache.hit(user, password, now))
    }

    fn remember_login(&self, user: &str, password: &[u8], now: u64) {
        if let Some(mut cache) = self.basic_cache.as_ref().and_then(|c| c.lock().ok()) {
            cache.store(user, password, now);
        }
    }

    /// A policy with the defaults of every directive, no cache and no
    /// login page.
    pub fn new(users: Arc<UsersFile>, secret: Arc<Secret>, sections: Arc<Sections>) -> Policy {
        Policy {
            users,
            secret,
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            ttl: DEFAULT_TTL,
            leeway: DEFAULT_LEEWAY,
            sections,
            basic_cache: None,
            max_age: DEFAULT_MAX_AGE,
            challenge: basic::challenge("Restricted"),
            callbacks: CallbackRules::default(),
            login: None,
            limit: Some(DEFAULT_LOGIN_LIMIT),
            unchecked: Arc::default(),
            hash_queue: DEFAULT_HASH_QUEUE,
            sso: None,
            passwords: true,
        }
    }

    /// The shared state seen through this policy: the zone's logout
    /// cut-offs, and its failure counts unless the limit is off.
    pub fn shared<'a>(
        &self,
        revocations: Option<Table<'a>>,
        attempts: Option<Table<'a>>,
    ) -> Shared<'a> {
        Shared {
            revocations: revocations.map(Revocations),
            attempts: attempts
                .zip(self.limit)
                .map(|(table, limit)| Attempts { table, limit }),
        }
    }

    /// Who the request is from, and whether the URI's section is theirs.
    ///
    /// A valid session cookie wins and no password is checked. Otherwise a
    /// Basic header is verified and, if right, a token is minted and
    /// returned as `set_cookie`. Whoever is let in is then checked against
    /// the section of the URI. A duplicate or malformed cookie counts as a
    /// bad cookie, never as one of its copies.
    pub fn authenticate(&self, req: &RequestView<'_>) -> Decision {
        let cookie = find_cookie(req.cookie_headers.iter().copied(), &self.cookie_name);
        let cookie_problem = match cookie {
            CookieLookup::Absent => None,
            CookieLookup::Duplicate => Some((None, DenyReason::DuplicateCookie)),
            CookieLookup::Malformed => Some((None, DenyReason::MalformedCookie)),
            CookieLookup::Found(value) => match self.session(value, req) {
                Ok((identity, refreshed)) => return self.admit(identity, req.uri, refreshed),
                Err(problem) => Some(problem),
            },
        };

        // With passwords off, a Basic header is not even looked at. Asked
        // again after a fetch from the provider, the header was judged the
        // first time (and, if wrong, counted): judging it again would count
        // the failure twice, and hash on the event loop.
        let Some(authorization) = req
            .authorization
            .filter(|_| self.passwords && req.sso.is_none())
        else {
            let (user, reason) = cookie_problem.unwrap_or((None, DenyReason::NoCredentials));
            return Decision::Unauthorized { user, reason };
        };
        let credentials = match parse_basic(authorization) {
            Ok(c) => c,
            Err(e) => {
                return Decision::Unauthorized {
                    user: None,
                    reason: DenyReason::BadAuthorization(e),
                }
            }
        };
        match self.login(
            &credentials.user,
            credentials.password.as_bytes(),
            req,
            Via::Basic,
        ) {
            LoginResult::Success {
                identity,
                set_cookie,
                ..
            } => self.admit(identity, req.uri, Some(set_cookie)),
            LoginResult::Hash(job) => Decision::Hash(job),
            LoginResult::Denied(d) => d,
        }
    }

    /// A session cookie's claims, and the user's logout cut-off, if the
    /// token is one this policy signed and it is still running: signature
    /// and times, the maximum session age, the user's last logout.
    pub(crate) fn verified(
        &self,
        value: &[u8],
        req: &RequestView<'_>,
    ) -> Result<(token::Claims, u64), DenyReason> {
        let claims = token::verify(&self.secret, value, req.now, self.leeway)
            .map_err(DenyReason::BadCookie)?;
        if session::past_max_age(claims.auth_time, req.now, self.max_age) {
            return Err(DenyReason::SessionTooOld);
        }
        let cutoff = self.cutoff(&claims.sub, req);
        if revocation::is_revoked(claims.iat, cutoff) {
            return Err(DenyReason::LoggedOut);
        }
        Ok((claims, cutoff))
    }

    /// Verifies a session cookie ([`Policy::verified`]) and holds it to the
    /// users file loaded now: its user must still be there, and the
    /// sections in effect are the token's cut down to the file's
    /// ([`grants::effective`]). Returns a fresh `Set-Cookie` when the token
    /// is in the second half of its life; it carries the sections in
    /// effect, so a refresh never widens a session nor keeps a grant the
    /// file has taken away. A refused cookie comes back with the user to
    /// name in the log, when it was a verified one.
    fn session(
        &self,
        value: &[u8],
        req: &RequestView<'_>,
    ) -> Result<(Identity, Option<String>), (Option<String>, DenyReason)> {
        let (mut claims, cutoff) = self.verified(value, req).map_err(|r| (None, r))?;
        // One hash lookup per request: what makes a reload reach every
        // live session at its next request.
        if claims.sso {
            // The provider's groups were mapped at sign-in; the users file
            // does not know this user. Without SSO here, such a session
            // has no standing.
            if self.sso.is_none() {
                return Err((Some(claims.sub), DenyReason::SsoOff));
            }
        } else {
            let Some(user) = self.users.get(&claims.sub) else {
                return Err((Some(claims.sub), DenyReason::NotInUsersFile));
            };
            claims.allowed_resources = grants::effective(
                std::mem::take(&mut claims.allowed_resources),
                &user.sections,
            );
        }
        let mut refreshed = None;
        if session::refresh_due(claims.iat, claims.exp, req.now) {
            let iat = revocation::login_iat(req.now, cutoff);
            let exp = session::capped_exp(req.now, self.ttl, claims.auth_time, self.max_age);
            // Only worth it if the new token outlives the old one.
            if exp > claims.exp {
                let fresh = token::Claims {
                    iat,
                    exp,
                    ..claims.clone()
                };
                if let Ok(t) = token::issue_claims(&self.secret, &fresh) {
                    refreshed = Some(set_cookie(
                        &self.cookie_name,
                        &t,
                        exp.saturating_sub(req.now),
                        req.secure,
                    ));
                }
            }
        }
        Ok((
            Identity {
                user: claims.sub,
                allowed_resources: claims.allowed_resources,
            },
            refreshed,
        ))
    }

    /// The users of every valid session cookie, for logout, each once. A
    /// request may carry the cookie more than once (a copy planted by a
    /// sibling subdomain, or left under another path); signing in refuses
    /// to pick one, but a logout ends them all. A copy that would be
    /// refused anyway has nothing left to end. A user no longer in the
    /// users file is still named: the cut-off keeps the cookie dead should
    /// the user be added back before it expires.
    pub fn session_users(&self, req: &RequestView<'_>) -> Vec<String> {
        self.sessions(req).0
    }

    /// [`Policy::session_users`], and whether any of those sessions came
    /// from single sign-on.
    pub fn sessions(&self, req: &RequestView<'_>) -> (Vec<String>, bool) {
        let mut sso = false;
        let mut users: Vec<String> = Vec::new();
        for value in all_values(req.cookie_headers.iter().copied(), &self.cookie_name) {
            if let Ok((claims, _)) = self.verified(value, req) {
                sso |= claims.sso;
                if !users.contains(&claims.sub) {
                    users.push(claims.sub);
                }
            }
        }
        (users, sso)
    }

    /// The longest a token of this policy can live: a logout cut-off older
    /// than this covers only expired tokens.
    pub fn token_horizon(&self) -> u64 {
        self.ttl.saturating_add(self.leeway).saturating_add(1)
    }

    fn cutoff(&self, user: &str, req: &RequestView<'_>) -> u64 {
        req.shared
            .and_then(|s| s.revocations.as_ref())
            .map_or(0, |r| r.cutoff(user))
    }

    /// Checks a user name and password (from a Basic header or the login
    /// form) and mints a session: the failure limit first, then the users
    /// file (through the cache), counting failures.
    ///
    /// The per-(user, address) and per-address limits hold for everyone.
    /// The per-user limit is skipped for a client that has shown it is the
    /// user's own (a device cookie of the user, or for Basic an address of
    /// an earlier Basic login of the user), so that guessing from elsewhere
    /// cannot lock the user out of it; everyone else keeps it, so guesses
    /// spread over many addresses stay capped.
    pub fn login(
        &self,
        user: &str,
        password: &[u8],
        req: &RequestView<'_>,
        via: Via,
    ) -> LoginResult {
        let attempts = req.shared.and_then(|s| s.attempts.as_ref());
        if let Some(a) = attempts {
            let own_client = || {
                crate::device::vouches(&self.secret, req.cookie_headers, user, req.now)
                    || (via == Via::Basic && a.known_address(user, req.client, req.now))
            };
            // A check still running may yet be a failure.
            let blocked = |who| {
                let pending = match req.hashing {
                    Hashing::Offload(queue) => queue.pending(who),
                    Hashing::Inline | Hashing::Done(_) => 0,
                };
                a.blocked_with(who, req.now, pending)
            };
            if blocked(Subject::UserAt(user, req.client))
                || blocked(Subject::Address(req.client))
                || (blocked(Subject::User(user)) && !own_client())
            {
                return LoginResult::Denied(Decision::TooManyAttempts {
                    user: user.to_owned(),
                });
            }
        }
        let cached = self
            .cached_login(user, password, req.now)
            .and_then(|hit| hit.then(|| self.users.get(user)).flatten());
        let verified = match (cached, req.hashing) {
            (Some(u), _) => Ok(u),
            (None, Hashing::Inline) => self.users.authenticate(user, password),
            (None, Hashing::Offload(queue)) => {
                if let Some(leader) = queue.same_login(user, password) {
                    return LoginResult::Hash(self.users.job(user, password).joining(leader));
                }
                let in_flight = queue.len();
                let ticket = (in_flight < self.hash_queue)
                    .then(|| queue.enter(user, req.client, password))
                    .flatten();
                return match ticket {
                    Some(t) => LoginResult::Hash(self.users.job(user, password).with_ticket(t)),
                    None => LoginResult::Denied(Decision::Busy {
                        user: user.to_owned(),
                        in_flight,
                    }),
                };
            }
            (None, Hashing::Done(verdict)) => verdict
                .outcome_for(user, password)
                .and_then(|()| self.users.get(user).ok_or(AuthFailure::UnknownUser)),
        };
        let found = match verified {
            Ok(found) => {
                if cached.is_none() {
                    self.remember_login(user, password, req.now);
                }
                if let Some(a) = attempts {
                    a.succeed(user, req.client, req.now);
                    if via == Via::Basic {
                        a.remember_address(
                            user,
                            req.client,
                            req.now,
                            req.now.saturating_add(crate::device::LIFETIME),
                        );
                    }
                }
                found
            }
            Err(failure) => {
                let mut reason = match failure {
                    AuthFailure::UnknownUser => DenyReason::UnknownUser,
                    AuthFailure::WrongPassword => DenyReason::WrongPassword,
                };
                if let Some(a) = attempts {
                    // Every counter always advances; the message names the first.
                    let by_user = a.fail(Subject::User(user), req.now);
                    let by_addr = a.fail(Subject::Address(req.client), req.now);
                    let by_pair = a.fail(Subject::UserAt(user, req.client), req.now);
                    let who = if by_user {
                        Some(Counter::User)
                    } else if by_addr {
                        Some(Counter::ClientAddress)
                    } else if by_pair {
                        Some(Counter::UserAtAddress)
                    } else {
                        None
                    };
                    if let Some(who) = who {
                        reason = DenyReason::LimitReached { failure, who };
                    }
                }
                return LoginResult::Denied(Decision::Unauthorized {
                    user: Some(user.to_owned()),
                    reason,
                });
            }
        };
        let identity = Identity {
            user: found.name.clone(),
            allowed_resources: found.sections.clone(),
        };
        let set_cookie = match self.mint(&identity, false, req) {
            Ok(c) => c,
            Err(e) => {
                return LoginResult::Denied(Decision::Unauthorized {
                    user: Some(user.to_owned()),
                    reason: DenyReason::CannotIssue(e),
                })
            }
        };
        let device_cookie = match (via, attempts) {
            (Via::Form, Some(_)) => {
                crate::device::set_cookie(&self.secret, &found.name, req.now, req.secure)
            }
            _ => None,
        };
        LoginResult::Success {
            identity,
            set_cookie,
            device_cookie,
        }
    }

    /// A new session for `identity`, signed in now: the `Set-Cookie` value.
    /// `sso`: through the OpenID Provider rather than the users file.
    pub fn mint(
        &self,
        identity: &Identity,
        sso: bool,
        req: &RequestView<'_>,
    ) -> Result<String, TokenError> {
        // `iat` may run ahead of the clock after logouts (see
        // `revocation::login_iat`); `exp` is counted from the clock, so
        // that no token outlives the lifetime.
        let iat = revocation::login_iat(req.now, self.cutoff(&identity.user, req));
        let claims = token::Claims {
            sub: identity.user.clone(),
            allowed_resources: identity.allowed_resources.clone(),
            iat,
            exp: session::capped_exp(req.now, self.ttl, req.now, self.max_age),
            auth_time: req.now,
            sso,
        };
        let token = token::issue_claims(&self.secret, &claims)?;
        Ok(set_cookie(
            &self.cookie_name,
            &token,
            claims.exp.saturating_sub(req.now),
            req.secure,
        ))
    }

    fn admit(&self, identity: Identity, uri: &[u8], set_cookie: Option<String>) -> Decision {
        match self.sections.resolve_uri(uri) {
            Some(section) if !grants::allows(&identity.allowed_resources, section) => {
                Decision::Forbidden {
                    identity,
                    section: section.to_owned(),
                }
            }
            _ => Decision::Allow {
                identity,
                set_cookie,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::{forge, secret, KEY};
    use crate::users::tests::{demo_file, MICA};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    const NOW: u64 = 1_700_000_000;

    /// The demo users, and `hana` (hr) and `x` (no section) for the
    /// section tests: a session's user must be in the file.
    fn policy() -> Policy {
        let users = format!("{}hana:{MICA}:hr\nx:{MICA}\n", demo_file());
        policy_with(&users)
    }

    fn policy_with(users: &str) -> Policy {
        Policy::new(
            Arc::new(UsersFile::parse(users.as_bytes()).unwrap()),
            Arc::new(secret()),
            Arc::new(Sections::new(["hr", "marketing", "finance"]).unwrap()),
        )
    }

    #[test]
    fn basic_cache_keeps_only_successes() {
        let mut p = policy();
        let cache = Arc::new(Mutex::new(BasicCache::new(60, 16).unwrap()));
        p.basic_cache = Some(cache.clone());
        assert!(matches!(
            login(&p, "mike", "wrong", false),
            Decision::Unauthorized { .. }
        ));
        assert!(cache.lock().unwrap().is_empty());
        assert!(matches!(
            login(&p, "mike", "123456", false),
            Decision::Allow { .. }
        ));
        assert_eq!(cache.lock().unwrap().len(), 1);
        // A hit still mints a cookie and still applies sections.
        let Decision::Allow { set_cookie, .. } = login(&p, "mike", "123456", false) else {
            panic!("cached login refused")
        };
        assert!(set_cookie.is_some());
        let auth = basic("mike", "123456");
        assert!(matches!(
            decide(&p, &[], Some(&auth), "/hr"),
            Decision::Forbidden { .. }
        ));
        assert!(matches!(
            login(&p, "mike", "1234567", false),
            Decision::Unauthorized { .. }
        ));
    }

    fn basic(user: &str, password: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))).into_bytes()
    }

    fn decide(p: &Policy, cookies: &[&[u8]], auth: Option<&[u8]>, uri: &str) -> Decision {
        p.authenticate(&RequestView {
            cookie_headers: cookies,
            authorization: auth,
            uri: uri.as_bytes(),
            secure: false,
            now: NOW,
            client: b"127.0.0.1",
            shared: None,
            ..RequestView::default()
        })
    }

    fn login(p: &Policy, user: &str, password: &str, secure: bool) -> Decision {
        let auth = basic(user, password);
        p.authenticate(&RequestView {
            cookie_headers: &[],
            authorization: Some(&auth),
            uri: b"/",
            secure,
            now: NOW,
            client: b"127.0.0.1",
            shared: None,
            ..RequestView::default()
        })
    }

    /// The token inside a `Set-Cookie` value.
    fn token_of(set_cookie: &str) -> String {
        let (pair, _) = set_cookie.split_once(';').unwrap();
        pair.strip_prefix("example_jwt=").unwrap().to_owned()
    }

    fn cookie_for(p: &Policy, user: &str, resources: &[&str]) -> String {
        let resources: Vec<String> = resources.iter().map(|s| s.to_string()).collect();
        let t = token::issue(&p.secret, user, &resources, NOW, 3600).unwrap();
        format!("example_jwt={t}")
    }

    fn allowed(d: &Decision) -> bool {
        matches!(d, Decision::Allow { .. })
    }

    #[test]
    fn basic_login_mints_cookie() {
        let p = policy();
        let Decision::Allow {
            identity,
            set_cookie: Some(sc),
        } = login(&p, "mike", "123456", false)
        else {
            panic!("mike should log in");
        };
        assert_eq!(identity.user, "mike");
        assert_eq!(identity.allowed_resources, ["marketing"]);
        assert!(sc.starts_with("example_jwt=ey"), "{sc}");
        assert!(
            sc.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"),
            "{sc}"
        );
        assert!(!sc.contains("Secure"));
        let claims = token::verify(&p.secret, token_of(&sc).as_bytes(), NOW, 0).unwrap();
        assert_eq!(claims.sub, "mike");
        assert_eq!(claims.allowed_resources, ["marketing"]);
        assert_eq!((claims.iat, claims.exp), (NOW, NOW + 3600));

        // Secure over https, and the configured name and ttl.
        let mut p2 = policy();
        p2.cookie_name = "dash_session".into();
        p2.ttl = 600;
        let Decision::Allow {
            set_cookie: Some(sc),
            identity,
        } = login(&p2, "mica", "1234", true)
        else {
            panic!("mica should log in");
        };
        assert_eq!(identity.allowed_resources, ["_all_"]);
        assert!(sc.starts_with("dash_session=ey"));
        assert!(
            sc.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure"),
            "{sc}"
        );
        assert_eq!(identity.sections_joined(), "_all_");
    }

    #[test]
    fn minted_cookie_is_accepted_next_time() {
        let p = policy();
        let Decision::Allow {
            set_cookie: Some(sc),
            ..
        } = login(&p, "mike", "123456", false)
        else {
            panic!()
        };
        let pair = sc.split(';').next().unwrap().to_owned();
        let d = decide(&p, &[pair.as_bytes()], None, "/marketing/x");
        assert_eq!(
            d,
            Decision::Allow {
                identity: Identity {
                    user: "mike".into(),
                    allowed_resources: vec!["marketing".into()]
                },
                set_cookie: None
            }
        );
        assert!(matches!(
            decide(&p, &[pair.as_bytes()], None, "/hr"),
            Decision::Forbidden { ref section, .. } if section == "hr"
        ));
    }

    #[test]
    fn cookie_wins_over_basic() {
        let p = policy();
        let cookie = cookie_for(&p, "mike", &["marketing"]);
        // Even a wrong Basic password is not looked at.
        let wrong = basic("mica", "nope");
        let d = decide(&p, &[cookie.as_bytes()], Some(&wrong), "/");
        assert_eq!(
            d,
            Decision::Allow {
                identity: Identity {
                    user: "mike".into(),
                    allowed_resources: vec!["marketing".into()]
                },
                set_cookie: None
            }
        );
        let garbage: &[u8] = b"Bearer x";
        assert!(allowed(&decide(
            &p,
            &[cookie.as_bytes()],
            Some(garbage),
            "/"
        )));
    }

    #[test]
    fn bad_cookie_falls_back_to_basic() {
        let p = policy();
        let expired = {
            let t =
                token::issue(&p.secret, "mike", &["marketing".into()], NOW - 7200, 3600).unwrap();
            format!("example_jwt={t}")
        };
        let auth = basic("mica", "1234");
        let d = decide(&p, &[expired.as_bytes()], Some(&auth), "/hr");
        let Decision::Allow {
            identity,
            set_cookie: Some(_),
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!(identity.user, "mica");
        // Without Basic, the cookie's problem is the reason.
        assert_eq!(
            decide(&p, &[expired.as_bytes()], None, "/"),
            Decision::Unauthorized {
                user: None,
                reason: DenyReason::BadCookie(TokenError::Expired)
            }
        );
        // With a bad Basic too, the Basic problem is the reason.
        let wrong = basic("mica", "4321");
        assert_eq!(
            decide(&p, &[expired.as_bytes()], Some(&wrong), "/"),
            Decision::Unauthorized {
                user: Some("mica".into()),
                reason: DenyReason::WrongPassword
            }
        );
    }

    #[test]
    fn unauthorized_reasons() {
        let p = policy();
        let good = cookie_for(&p, "mike", &["marketing"]);
        type Case<'a> = (Vec<Vec<u8>>, Option<Vec<u8>>, Option<&'a str>, DenyReason);
        let cases: Vec<Case> = vec![
            (vec![], None, None, DenyReason::NoCredentials),
            (
                vec![b"other=1".to_vec()],
                None,
                None,
                DenyReason::NoCredentials,
            ),
            (
                vec![good.clone().into_bytes(), good.clone().into_bytes()],
                None,
                None,
                DenyReason::DuplicateCookie,
            ),
            (
                vec![format!("{good}; {good}").into_bytes()],
                None,
                None,
                DenyReason::DuplicateCookie,
            ),
            (
                vec![b"example_jwt=\"x".to_vec()],
                None,
                None,
                DenyReason::MalformedCookie,
            ),
            (
                vec![b"example_jwt=".to_vec()],
                None,
                None,
                DenyReason::BadCookie(TokenError::Malformed),
            ),
            (
                vec![b"example_jwt=a.b.c".to_vec()],
                None,
                None,
                DenyReason::BadCookie(TokenError::Malformed),
            ),
            (
                vec![],
                Some(basic("nobody", "1234")),
                Some("nobody"),
                DenyReason::UnknownUser,
            ),
            (
                vec![],
                Some(basic("mica", "12345")),
                Some("mica"),
                DenyReason::WrongPassword,
            ),
            (
                vec![],
                Some(basic("MICA", "1234")),
                Some("MICA"),
                DenyReason::UnknownUser,
            ),
            (
                vec![],
                Some(b"Bearer abc".to_vec()),
                None,
                DenyReason::BadAuthorization(BasicError::NotBasic),
            ),
            (
                vec![],
                Some(b"Basic !!!".to_vec()),
                None,
                DenyReason::BadAuthorization(BasicError::BadBase64),
            ),
            (
                vec![b"example_jwt=x.y.z".to_vec()],
                Some(b"Basic".to_vec()),
                None,
                DenyReason::BadAuthorization(BasicError::NoCredentials),
            ),
        ];
        for (cookies, auth, user, reason) in cases {
            let cookies: Vec<&[u8]> = cookies.iter().map(Vec::as_slice).collect();
            let d = decide(&p, &cookies, auth.as_deref(), "/");
            assert_eq!(
                d,
                Decision::Unauthorized {
                    user: user.map(str::to_owned),
                    reason: reason.clone()
                },
                "{reason}"
            );
        }
    }

    #[test]
    fn duplicate_cookie_with_basic_logs_in_again() {
        let p = policy();
        let good = cookie_for(&p, "mike", &["marketing"]);
        let auth = basic("mike", "123456");
        let d = decide(&p, &[good.as_bytes(), good.as_bytes()], Some(&auth), "/");
        assert!(
            matches!(
                d,
                Decision::Allow {
                    set_cookie: Some(_),
                    ..
                }
            ),
            "{d:?}"
        );
    }

    #[test]
    fn sections() {
        let p = policy();
        let mike = cookie_for(&p, "mike", &["marketing"]);
        let mica = cookie_for(&p, "mica", &["_all_"]);
        let nobody = cookie_for(&p, "x", &[]);
        let forbidden = |c: &str, uri: &str| -> Option<String> {
            match decide(&p, &[c.as_bytes()], None, uri) {
                Decision::Forbidden { section, .. } => Some(section),
                Decision::Allow { .. } => None,
                d => panic!("{d:?}"),
            }
        };
        for uri in [
            "/",
            "/marketing",
            "/Marketing/page",
            "/assets/x.css",
            "/_dash-layout",
            "/hrx",
        ] {
            assert_eq!(forbidden(&mike, uri), None, "{uri}");
        }
        for uri in ["/hr", "/hr/", "/HR", "//hr", "/hr/x"] {
            assert_eq!(forbidden(&mike, uri).as_deref(), Some("hr"), "{uri}");
        }
        assert_eq!(forbidden(&mike, "/finance").as_deref(), Some("finance"));
        for uri in ["/hr", "/marketing", "/finance", "/"] {
            assert_eq!(forbidden(&mica, uri), None, "{uri}");
        }
        assert_eq!(forbidden(&nobody, "/"), None);
        assert_eq!(
            forbidden(&nobody, "/marketing").as_deref(),
            Some("marketing")
        );

        // A Basic login to a forbidden section is a 403, not a 401.
        let auth = basic("mike", "123456");
        let d = decide(&p, &[], Some(&auth), "/hr/page");
        assert_eq!(
            d,
            Decision::Forbidden {
                identity: Identity {
                    user: "mike".into(),
                    allowed_resources: vec!["marketing".into()]
                },
                section: "hr".into()
            }
        );
    }

    #[test]
    fn section_pages() {
        let mut p = policy();
        let mut paths = crate::section::SectionPaths::default();
        paths
            .add("hr", &["/people", "/org/staff"], "nginx.conf:1".into())
            .unwrap();
        p.sections = Arc::new(Sections::clone(&p.sections).with_paths(&paths).unwrap());
        let mike = cookie_for(&p, "mike", &["marketing"]);
        let hana = cookie_for(&p, "hana", &["hr"]);
        let mica = cookie_for(&p, "mica", &["_all_"]);
        let section = |c: &str, uri: &str| match decide(&p, &[c.as_bytes()], None, uri) {
            Decision::Forbidden { section, .. } => Some(section),
            Decision::Allow { .. } => None,
            d => panic!("{d:?}"),
        };
        for uri in [
            "/people",
            "/People/",
            "/people/x",
            "/org/staff/a",
            "//org//staff",
        ] {
            assert_eq!(section(&mike, uri).as_deref(), Some("hr"), "{uri}");
            assert_eq!(section(&hana, uri), None, "{uri}");
            assert_eq!(section(&mica, uri), None, "{uri}");
        }
        for uri in ["/peoplex", "/org", "/org/staffx", "/marketing"] {
            assert_eq!(section(&mike, uri), None, "{uri}");
        }
        assert_eq!(section(&hana, "/marketing").as_deref(), Some("marketing"));
    }

    #[test]
    fn tampered_cookie_is_refused() {
        let p = policy();
        let forged = forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(
                r#"{{"sub":"mike","allowed_resources":["_all_"],"iat":{NOW},"exp":{}}}"#,
                NOW + 60
            ),
            b"not-the-key-not-the-key-not-the-key",
            "HS256",
        );
        let cookie = format!("example_jwt={forged}");
        assert_eq!(
            decide(&p, &[cookie.as_bytes()], None, "/hr"),
            Decision::Unauthorized {
                user: None,
                reason: DenyReason::BadCookie(TokenError::SignatureMismatch)
            }
        );
        // The same claims with the right key pass: the key is all that differs.
        let real = forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(
                r#"{{"sub":"mike","allowed_resources":["_all_"],"iat":{NOW},"exp":{}}}"#,
                NOW + 60
            ),
            KEY,
            "HS256",
        );
        let cookie = format!("example_jwt=\"{real}\"");
        assert!(allowed(&decide(
            &p,
            &[cookie.as_bytes()],
            None,
            "/marketing"
        )));
        // Even signed with the key, a token opens no more than the users
        // file gives its user: mike's line says marketing.
        assert!(matches!(
            decide(&p, &[cookie.as_bytes()], None, "/hr"),
            Decision::Forbidden { ref section, .. } if section == "hr"
        ));
    }

    #[test]
    fn leeway_is_applied() {
        let mut p = policy();
        let t = token::issue(&p.secret, "mike", &["marketing".into()], NOW - 3605, 3600).unwrap();
        let c = format!("example_jwt={t}");
        assert!(!allowed(&decide(&p, &[c.as_bytes()], None, "/")));
        p.leeway = 10;
        assert!(allowed(&decide(&p, &[c.as_bytes()], None, "/")));
    }

    #[test]
    fn reasons_display_without_secrets() {
        let p = policy();
        let auth = basic("mica", "supersecret");
        let d = decide(&p, &[], Some(&auth), "/");
        let Decision::Unauthorized { reason, user } = d else {
            panic!()
        };
        assert_eq!(user.as_deref(), Some("mica"));
        assert_eq!(reason.to_string(), "password mismatch");
        assert_eq!(DenyReason::UnknownUser.to_string(), "user not found");
        assert_eq!(
            DenyReason::BadCookie(TokenError::Expired).to_string(),
            "invalid session cookie: token expired"
        );
        assert_eq!(
            DenyReason::BadAuthorization(BasicError::BadBase64).to_string(),
            "invalid authorization header: credentials are not valid base64"
        );
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
        assert!(!dbg.contains("$2y$"), "{dbg}");
    }

    #[test]
    fn policy_can_be_shared() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Policy>();
        shareable::<Decision>();
    }

    #[test]
    fn sections_joined() {
        let id = Identity {
            user: "u".into(),
            allowed_resources: vec!["hr".into(), "marketing".into()],
        };
        assert_eq!(id.sections_joined(), "hr,marketing");
        let none = Identity {
            user: "u".into(),
            allowed_resources: vec![],
        };
        assert_eq!(none.sections_joined(), "");
    }

    fn view<'a>(
        cookies: &'a [&'a [u8]],
        now: u64,
        shared: Option<&'a Shared<'a>>,
    ) -> RequestView<'a> {
        RequestView {
            cookie_headers: cookies,
            authorization: None,
            uri: b"/",
            secure: false,
            now,
            client: b"10.0.0.9",
            shared,
            ..RequestView::default()
        }
    }

    #[test]
    fn logout_cut_off_refuses_older_tokens_only() {
        use crate::rate_limit::Attempts;
        use crate::shared_table::{tests::zone, Table};
        let p = policy();
        let (rw, aw) = (zone(16), zone(16));
        let shared = Shared {
            revocations: Some(Revocations(Table::new(&rw).unwrap())),
            attempts: Some(Attempts {
                table: Table::new(&aw).unwrap(),
                limit: crate::rate_limit::DEFAULT,
            }),
        };
        let cookie = cookie_for(&p, "mike", &["marketing"]);
        let c: &[&[u8]] = &[cookie.as_bytes()];
        assert!(allowed(&p.authenticate(&view(c, NOW, Some(&shared)))));
        assert_eq!(p.session_users(&view(c, NOW, Some(&shared))), ["mike"]);
        // Every valid copy counts, each user once; a bad copy is skipped.
        let mica = cookie_for(&p, "mica", &["_all_"]);
        let many: &[&[u8]] = &[
            cookie.as_bytes(),
            b"example_jwt=x",
            mica.as_bytes(),
            cookie.as_bytes(),
        ];
        assert_eq!(
            p.session_users(&view(many, NOW, Some(&shared))),
            ["mike", "mica"]
        );
        assert!(p
            .session_users(&view(&[b"example_jwt=x"], NOW, Some(&shared)))
            .is_empty());
        assert!(shared
            .revocations
            .as_ref()
            .unwrap()
            .revoke("mike", NOW, p.token_horizon()));
        assert_eq!(
            p.authenticate(&view(c, NOW + 1, Some(&shared))),
            Decision::Unauthorized {
                user: None,
                reason: DenyReason::LoggedOut
            }
        );
        // A login in the same second gets a token after the cut-off.
        let LoginResult::Success { set_cookie, .. } = p.login(
            "mike",
            b"123456",
            &view(&[], NOW, Some(&shared)),
            Via::Basic,
        ) else {
            panic!("login refused")
        };
        let fresh = set_cookie.split(';').next().unwrap().to_owned();
        let c2: &[&[u8]] = &[fresh.as_bytes()];
        assert!(allowed(&p.authenticate(&view(c2, NOW, Some(&shared)))));
    }

    #[test]
    fn sliding_refresh_and_max_age() {
        let mut p = policy();
        p.max_age = 5000;
        let cookie = cookie_for(&p, "mica", &["_all_"]);
        let c: &[&[u8]] = &[cookie.as_bytes()];
        let Decision::Allow { set_cookie, .. } = p.authenticate(&view(c, NOW + 1000, None)) else {
            panic!()
        };
        assert!(set_cookie.is_none());
        let Decision::Allow {
            set_cookie: Some(sc),
            ..
        } = p.authenticate(&view(c, NOW + 2000, None))
        else {
            panic!("no refresh")
        };
        let claims = token::verify(&p.secret, token_of(&sc).as_bytes(), NOW + 2000, 0).unwrap();
        assert_eq!(
            (claims.iat, claims.exp, claims.auth_time),
            (NOW + 2000, NOW + 5000, NOW)
        );
        assert!(sc.contains("Max-Age=3000"), "{sc}");
        let sc2 = format!("example_jwt={}", token_of(&sc));
        let c2: &[&[u8]] = &[sc2.as_bytes()];
        // The refreshed token ends at the maximum age.
        assert_eq!(
            p.authenticate(&view(c2, NOW + 5000, None)),
            Decision::Unauthorized {
                user: None,
                reason: DenyReason::BadCookie(TokenError::Expired)
            }
        );
        // A token that outlives a (since shortened) maximum age is refused.
        p.max_age = 1000;
        assert_eq!(
            p.authenticate(&view(c, NOW + 1000, None)),
            Decision::Unauthorized {
                user: None,
                reason: DenyReason::SessionTooOld
            }
        );
    }

    #[test]
    fn failure_limit_applies_to_basic_and_form() {
        use crate::rate_limit::{Attempts, Limit};
        use crate::shared_table::{tests::zone, Table};
        let p = policy();
        let aw = zone(16);
        let shared = Shared {
            revocations: None,
            attempts: Some(Attempts {
                table: Table::new(&aw).unwrap(),
                limit: Limit {
                    max_failures: 2,
                    window: 60,
                    cooldown: 60,
                },
            }),
        };
        let v = view(&[], NOW, Some(&shared));
        assert!(matches!(
            p.login("mike", b"x", &v, Via::Basic),
            LoginResult::Denied(Decision::Unauthorized {
                reason: DenyReason::WrongPassword,
                ..
            })
        ));
        assert!(matches!(
            p.login("mike", b"x", &v, Via::Basic),
            LoginResult::Denied(Decision::Unauthorized {
                reason: DenyReason::LimitReached {
                    who: Counter::User,
                    ..
                },
                ..
            })
        ));
        assert!(matches!(
            p.login("mike", b"123456", &v, Via::Basic),
            LoginResult::Denied(Decision::TooManyAttempts { .. })
        ));
        let auth = basic("mike", "123456");
        let mut bv = v;
        bv.authorization = Some(&auth);
        assert!(matches!(
            p.authenticate(&bv),
            Decision::TooManyAttempts { .. }
        ));
        // After the cool-down the right password works again.
        assert!(matches!(
            p.login(
                "mike",
                b"123456",
                &view(&[], NOW + 61, Some(&shared)),
                Via::Basic
            ),
            LoginResult::Success { .. }
        ));
    }

    /// OWASP's device cookies: guessing from one address locks the user
    /// out only where no device cookie (or, for Basic, no earlier login
    /// from that address) shows the client is the user's own.
    #[test]
    fn lockout_spares_the_users_own_clients() {
        use crate::rate_limit::{Attempts, Limit};
        use crate::shared_table::{tests::zone, Table};
        let p = policy();
        let aw = zone(64);
        let shared = Shared {
            revocations: None,
            attempts: Some(Attempts {
                table: Table::new(&aw).unwrap(),
                limit: Limit {
                    max_failures: 3,
                    window: 60,
                    cooldown: 60,
                },
            }),
        };
        fn at<'a>(
            addr: &'a [u8],
            cookies: &'a [&'a [u8]],
            shared: &'a Shared<'a>,
        ) -> RequestView<'a> {
            RequestView {
                client: addr,
                ..view(cookies, NOW, Some(shared))
            }
        }
        let ok = |r: LoginResult| matches!(r, LoginResult::Success { .. });
        let capped =
            |r: LoginResult| matches!(r, LoginResult::Denied(Decision::TooManyAttempts { .. }));
        // Earlier, at B: a form login (device cookie) and a Basic login.
        let LoginResult::Success {
            device_cookie: Some(device),
            ..
        } = p.login("mike", b"123456", &at(b"B", &[], &shared), Via::Form)
        else {
            panic!("a form login gets a device cookie");
        };
        assert!(device.starts_with("dash_auth_device=") && device.contains("SameSite=Strict"));
        let pair = device.split(';').next().unwrap_or_default();
        let jar = [pair.as_bytes()];
        assert!(matches!(
            p.login("mike", b"123456", &at(b"B", &[], &shared), Via::Basic),
            LoginResult::Success {
                device_cookie: None,
                ..
            }
        ));
        // Guessing from A, then from C: the per-user limit trips.
        for addr in [b"A", b"A", b"C"] {
            assert!(matches!(
                p.login("mike", b"x", &at(addr, &[], &shared), Via::Form),
                LoginResult::Denied(Decision::Unauthorized { .. })
            ));
        }
        // The browser with the device cookie, wherever the address and the
        // pair are not blocked themselves; without it, capped.
        assert!(ok(p.login(
            "mike",
            b"123456",
            &at(b"B", &jar, &shared),
            Via::Form
        )));
        assert!(ok(p.login(
            "mike",
            b"123456",
            &at(b"D", &jar, &shared),
            Via::Basic
        )));
        assert!(capped(p.login(
            "mike",
            b"123456",
            &at(b"B", &[], &shared),
            Via::Form
        )));
        // The Basic script at its known address; not elsewhere.
        assert!(ok(p.login(
            "mike",
            b"123456",
            &at(b"B", &[], &shared),
            Via::Basic
        )));
        assert!(capped(p.login(
            "mike",
            b"123456",
            &at(b"E", &[], &shared),
            Via::Basic
        )));
        // Guesses from the user's own browser still meet the per-address
        // (and per-pair) limit.
        for _ in 0..3 {
            let _ = p.login("mike", b"x", &at(b"G", &jar, &shared), Via::Form);
        }
        assert!(capped(p.login(
            "mike",
            b"123456",
            &at(b"G", &jar, &shared),
            Via::Form
        )));
        // Mike's device cookie does nothing for mica.
        for addr in [b"H", b"I", b"J"] {
            let _ = p.login("mica", b"x", &at(addr, &[], &shared), Via::Form);
        }
        assert!(capped(p.login(
            "mica",
            b"1234",
            &at(b"B", &jar, &shared),
            Via::Form
        )));
        assert!(ok(p.login(
            "mike",
            b"123456",
            &at(b"B", &jar, &shared),
            Via::Form
        )));
    }

    /// The sections in effect after a reload, and what a refresh writes.
    #[test]
    fn users_file_is_the_truth() {
        // The token of each case is minted before the reload, from the
        // file at login time; the policy holds the file loaded since.
        let file = |hana: Option<&str>| {
            let mut users = demo_file();
            if let Some(sections) = hana {
                users.push_str(&format!("hana:{MICA}:{sections}\n"));
            }
            policy_with(&users)
        };
        let ids = |user: &str, s: &[&str]| Identity {
            user: user.into(),
            allowed_resources: s.iter().map(|s| s.to_string()).collect(),
        };
        let gone = Decision::Unauthorized {
            user: Some("hana".into()),
            reason: DenyReason::NotInUsersFile,
        };
        let allow = |id: Identity| Decision::Allow {
            identity: id,
            set_cookie: None,
        };
        let forbid = |id: Identity, section: &str| Decision::Forbidden {
            identity: id,
            section: section.into(),
        };
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            &'a str,
            &'a [&'a str],
            &'a str,
            Decision,
        );
        let cases: Vec<Case> = vec![
            // (name, hana's sections in the file now, user, token's grants, uri, decision)
            (
                "removed",
                None,
                "hana",
                &["hr", "marketing"],
                "/hr",
                gone.clone(),
            ),
            (
                "removed, page outside sections",
                None,
                "hana",
                &["hr"],
                "/",
                gone.clone(),
            ),
            (
                "twin: mica stays",
                None,
                "mica",
                &["_all_"],
                "/hr",
                allow(ids("mica", &["_all_"])),
            ),
            (
                "unchanged",
                Some("hr,marketing"),
                "hana",
                &["hr", "marketing"],
                "/hr",
                allow(ids("hana", &["hr", "marketing"])),
            ),
            (
                "narrowed: hr taken away",
                Some("marketing"),
                "hana",
                &["hr", "marketing"],
                "/hr",
                forbid(ids("hana", &["marketing"]), "hr"),
            ),
            (
                "narrowed: marketing kept",
                Some("marketing"),
                "hana",
                &["hr", "marketing"],
                "/marketing",
                allow(ids("hana", &["marketing"])),
            ),
            (
                "token _all_, file narrowed",
                Some("marketing"),
                "hana",
                &["_all_"],
                "/hr",
                forbid(ids("hana", &["marketing"]), "hr"),
            ),
            (
                "widened file waits for a login",
                Some("_all_"),
                "hana",
                &["marketing"],
                "/hr",
                forbid(ids("hana", &["marketing"]), "hr"),
            ),
            (
                "widened file, granted section",
                Some("_all_"),
                "hana",
                &["marketing"],
                "/marketing",
                allow(ids("hana", &["marketing"])),
            ),
            (
                "every section taken away",
                Some("finance"),
                "hana",
                &["hr", "marketing"],
                "/marketing",
                forbid(ids("hana", &[]), "marketing"),
            ),
            (
                "every section taken away, page outside sections",
                Some("finance"),
                "hana",
                &["hr", "marketing"],
                "/",
                allow(ids("hana", &[])),
            ),
        ];
        for (name, hana, user, grants, uri, want) in cases {
            let p = file(hana);
            let c = cookie_for(&p, user, grants);
            assert_eq!(decide(&p, &[c.as_bytes()], None, uri), want, "{name}");
        }
    }

    #[test]
    fn removed_user_cookie_counts_as_absent() {
        let p = policy_with(&demo_file());
        let hana = cookie_for(&p, "hana", &["hr"]);
        // With Basic credentials alongside, they are checked as if no
        // cookie had come.
        let auth = basic("mike", "123456");
        let d = decide(&p, &[hana.as_bytes()], Some(&auth), "/marketing");
        let Decision::Allow {
            identity,
            set_cookie: Some(_),
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!(
            identity,
            Identity {
                user: "mike".into(),
                allowed_resources: vec!["marketing".into()],
            }
        );
        assert_eq!(
            DenyReason::NotInUsersFile.to_string(),
            "session user is no longer in the users file"
        );
        // Logout still names the user, so that the cut-off outlives a
        // re-adding of the user.
        assert_eq!(
            p.session_users(&view(&[hana.as_bytes()], NOW, None)),
            ["hana"]
        );
    }

    #[test]
    fn refresh_writes_the_sections_in_effect() {
        let refreshed = |hana: &str, grants: &[&str]| -> Vec<String> {
            let p = policy_with(&format!("{}hana:{MICA}:{hana}\n", demo_file()));
            let c = cookie_for(&p, "hana", grants);
            let Decision::Allow {
                set_cookie: Some(sc),
                identity,
            } = p.authenticate(&view(&[c.as_bytes()], NOW + 2000, None))
            else {
                panic!("no refresh")
            };
            let claims = token::verify(&p.secret, token_of(&sc).as_bytes(), NOW + 2000, 0).unwrap();
            assert_eq!(claims.allowed_resources, identity.allowed_resources);
            assert_eq!((claims.sub.as_str(), claims.auth_time), ("hana", NOW));
            claims.allowed_resources
        };
        assert_eq!(
            refreshed("hr,marketing", &["hr", "marketing"]),
            ["hr", "marketing"]
        );
        assert_eq!(refreshed("marketing", &["hr", "marketing"]), ["marketing"]);
        assert_eq!(refreshed("marketing", &["_all_"]), ["marketing"]);
        // A file that grants more does not widen the session.
        assert_eq!(refreshed("_all_", &["marketing"]), ["marketing"]);
        assert_eq!(refreshed("finance", &["marketing"]), Vec::<String>::new());
        // A removed user gets no refresh: the cookie is refused.
        let p = policy_with(&demo_file());
        let c = cookie_for(&p, "hana", &["hr"]);
        assert_eq!(
            p.authenticate(&view(&[c.as_bytes()], NOW + 2000, None)),
            Decision::Unauthorized {
                user: Some("hana".into()),
                reason: DenyReason::NotInUsersFile
            }
        );
    }
}
