//! What nginx is to do with a request: the answer [`crate::decide`] gives
//! for each phase, complete down to the headers and the log line, so that
//! the module only carries it out.

use crate::access::Identity;
use crate::endpoint::ResponseCheck;
use crate::password_check::HashJob;

/// How loud a log line is; the module maps it to nginx's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// One line for the error log, without the module's name. Never holds a
/// password, a token or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub level: Level,
    pub text: String,
}

impl Log {
    pub fn info(text: String) -> Log {
        Log {
            level: Level::Info,
            text,
        }
    }

    pub fn warn(text: String) -> Log {
        Log {
            level: Level::Warn,
            text,
        }
    }

    pub fn error(text: String) -> Log {
        Log {
            level: Level::Error,
            text,
        }
    }

    /// `user "<name>": <what>`, the name escaped so a log line stays one line.
    pub fn user(level: Level, user: &str, what: impl std::fmt::Display) -> Log {
        Log {
            level,
            text: format!("user \"{}\": {what}", user.escape_debug()),
        }
    }
}

/// What to inspect of a request that is let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspect {
    /// Read the request body, at most this many bytes, and hand it to
    /// [`Policy::decide_body`](crate::Policy::decide_body) before the
    /// request goes on.
    pub body: Option<usize>,
    /// Which reply to hold back and judge whole.
    pub reply: ResponseCheck,
}

/// The answer to a request, in the ACCESS phase or after its body was read.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Pass the request on. The identity feeds `$dash_auth_user`,
    /// `$dash_auth_sections` and the reply check.
    Allow {
        identity: Identity,
        /// A complete `Set-Cookie` value: a Basic login minted a session,
        /// or a sliding refresh renewed one.
        set_cookie: Option<String>,
        inspect: Inspect,
    },
    /// The body was checked: go on as already allowed.
    Proceed,
    /// Check a password off the event loop: run the job on a thread, then
    /// ask the same question again ([`Policy::decide`](crate::Policy::decide)
    /// for a Basic login, [`Policy::decide_body`](crate::Policy::decide_body)
    /// for the form) with its verdict in
    /// [`Hashing::Done`](crate::password_check::Hashing::Done).
    Hash(HashJob),
    /// Ask the OpenID Provider (through nginx's internal location), put
    /// the reply in [`Progress::fetched`](crate::oidc::sso::Progress), then
    /// ask the same question again.
    Fetch(crate::oidc::sso::Fetch),
    /// 503 with `Retry-After`: the worker's password checks are at their
    /// bound.
    Busy { retry_after: u64, log: Log },
    /// Read one of the module's forms, at most
    /// [`MAX_FORM_LEN`](crate::login::MAX_FORM_LEN) bytes, then ask
    /// [`Policy::decide_body`](crate::Policy::decide_body).
    ReadForm(Form),
    /// A `Location` answer; nginx writes the body.
    Redirect {
        status: u16,
        location: String,
        set_cookie: Option<String>,
        /// A second `Set-Cookie`: the device cookie of a form login.
        device_cookie: Option<String>,
        log: Option<Log>,
    },
    /// 401 asking for Basic credentials.
    Challenge { www_authenticate: String, log: Log },
    /// An error status with nginx's own page: 400, a bare 401, 403, 405,
    /// 413, 429 or 500. `identity` is kept for the access log when known.
    Refuse {
        status: u16,
        identity: Option<Identity>,
        log: Option<Log>,
    },
    /// The login or logout page, never cached. `set_cookie` carries the
    /// token of the page's form.
    Page {
        status: u16,
        html: String,
        set_cookie: Option<String>,
        log: Option<Log>,
    },
    /// End the session (already recorded in the shared zone): expire the
    /// cookie and send the browser to `location` with a 303.
    Logout {
        location: String,
        set_cookie: String,
        log: Option<Log>,
    },
    /// A refusal the module writes out itself, never cached: the page a
    /// browser gets for a section that is not the user's, or the Dash
    /// reply that says so inside the app. It is the module's, not the
    /// app's, so no reply check holds it. `identity` is kept for the
    /// access log.
    Answer {
        status: u16,
        content: Content,
        identity: Identity,
        log: Option<Log>,
    },
}

/// A body the module writes, with its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Html(String),
    /// A Dash callback reply.
    Json(String),
}

impl Content {
    /// The `Content-Type` header.
    pub fn content_type(&self) -> &'static str {
        match self {
            Content::Html(_) => "text/html; charset=utf-8",
            Content::Json(_) => "application/json",
        }
    }

    /// The type without parameters, which nginx keeps apart
    /// (`content_type_len`) for the filters that match types.
    pub fn media_type(&self) -> &'static str {
        match self {
            Content::Html(_) => "text/html",
            Content::Json(_) => "application/json",
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Content::Html(s) | Content::Json(s) => s.as_bytes(),
        }
    }
}

impl Plan {
    pub(crate) fn refuse(status: u16, log: Option<Log>) -> Plan {
        Plan::Refuse {
            status,
            identity: None,
            log,
        }
    }

    /// The log line the plan carries, if any.
    pub fn log(&self) -> Option<&Log> {
        match self {
            Plan::Allow { .. }
            | Plan::Proceed
            | Plan::ReadForm(_)
            | Plan::Hash(_)
            | Plan::Fetch(_) => None,
            Plan::Challenge { log, .. } | Plan::Busy { log, .. } => Some(log),
            Plan::Redirect { log, .. }
            | Plan::Refuse { log, .. }
            | Plan::Page { log, .. }
            | Plan::Logout { log, .. }
            | Plan::Answer { log, .. } => log.as_ref(),
        }
    }
}

/// Why a body could not be had whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over the bound the plan gave.
    TooLarge,
    /// nginx could not read it (its temporary file, say); the reason.
    Unreadable(String),
}

/// Which body [`Policy::decide_body`](crate::Policy::decide_body) is given.
/// The view it comes with carries no credentials: those were judged when
/// the body was asked for.
#[derive(Debug, Clone, Copy)]
pub enum BodyOf<'a> {
    /// A Dash callback of the user let in.
    Callback(&'a Identity),
    Form(Form),
}

/// The module's own forms, posted to its login and logout paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Login,
    Logout,
}

/// The reply's status line and headers, as far as the reply check cares.
#[derive(Debug, Clone, Copy)]
pub struct ReplyHead<'a> {
    pub status: usize,
    /// Not a subrequest.
    pub main: bool,
    /// A `HEAD` reply, or one nginx sends without a body.
    pub header_only: bool,
    pub content_type: &'a [u8],
    /// Has a `Content-Encoding`.
    pub encoded: bool,
    /// `Content-Length`, when the upstream sent one; a chunked reply has
    /// none and is bounded as it arrives.
    pub length: Option<u64>,
}

/// A reply that may not reach the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRefusal {
    /// 502 for a page the app should not have sent, else 403.
    pub status: u16,
    pub log: Log,
    /// A line for the operator on what to change in the app.
    pub hint: Option<Log>,
}

/// What to do with a reply once its headers are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadPlan {
    /// Send it on unchecked.
    Pass,
    /// Hold the headers and the body, at most `max` bytes, until the body
    /// can be judged whole, as `held`.
    Hold {
        max: usize,
        held: Held,
    },
    Refuse(ReplyRefusal),
}

/// What a held reply is judged as, once whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A callback's `200`: its shape, the ids it writes to, and the
    /// components it carries.
    Callback,
    /// `_dash-dependencies`, cut down to the user's sections.
    Dependencies,
    /// An HTML page for a user who sees every section: no
    /// `validation_layout`, and the session-expiry script.
    Index,
    /// HTML or JSON for a user who lacks a section, read for components
    /// of the sections they lack. `page`: the answer to a `GET`, so a hit
    /// means the app leaks (502); otherwise the user asked for it (403).
    Html {
        page: bool,
    },
    Json {
        page: bool,
    },
}

/// What to do with a held reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyPlan {
    Pass,
    /// Send this body instead (a filtered or amended one), with its length.
    Replace(Vec<u8>),
    Refuse(ReplyRefusal),
}
