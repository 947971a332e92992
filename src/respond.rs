//! Carrying out a [`Plan`]: the log line, the headers, the status or the
//! page. Nothing here decides; every branch is one of core's answers.
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, ngx_table_elt_t, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN,
};
use ngx::http::Request;
use ngx::ngx_log_error;

use dash_auth_core::oidc::sso::Fetch;
use dash_auth_core::password_check::HashJob;
use dash_auth_core::plan::{Content, Form, Inspect, Level, Log, Plan};
use dash_auth_core::Identity;

use crate::buffers;
use crate::conf::Active;
use crate::ctx::{RequestCtx, ResponseCheck};

/// What the caller does next with the request.
pub enum Next {
    /// Return this from the handler (a phase status or an HTTP status,
    /// which nginx answers with its own page).
    Return(Status),
    /// The page went out through the filters with this result: finalize
    /// the request with it.
    Sent(Status),
    /// Read the request body before going on.
    ReadBody(Body),
    /// Check this password on the thread pool, then ask again.
    Hash(HashJob),
    /// Ask the OpenID Provider, then ask again.
    Fetch(Fetch),
}

/// Which body is being read; the post handler asks core about it.
#[derive(Clone, Copy)]
pub enum Body {
    /// At most the bound the plan gave, kept in the request context.
    Callback,
    /// The login or logout form, at most `login::MAX_FORM_LEN`.
    Form(Form),
}

pub fn log(r: &Request, line: &Log) {
    let level = match line.level {
        Level::Info => NGX_LOG_INFO,
        Level::Warn => NGX_LOG_WARN,
        Level::Error => NGX_LOG_ERR,
    };
    ngx_log_error!(level, r.log(), "dash_auth: {}", line.text);
}

fn log_opt(r: &Request, line: Option<&Log>) {
    if let Some(line) = line {
        log(r, line);
    }
}

/// Carries out `plan`, made under `active`.
pub fn carry_out(r: &mut Request, active: &'static Active, plan: Plan) -> Next {
    log_opt(r, plan.log());
    match plan {
        Plan::Allow {
            identity,
            set_cookie,
            inspect,
        } => allow(r, active, identity, set_cookie, inspect),
        Plan::Proceed => Next::Return(Status::NGX_OK),
        Plan::Hash(job) => Next::Hash(job),
        Plan::Fetch(fetch) => Next::Fetch(fetch),
        Plan::Busy { retry_after, .. } => {
            if r.add_header_out("Retry-After", &retry_after.to_string())
                .is_none()
            {
                return Next::Return(Status::NGX_ERROR);
            }
            Next::Return(http(503))
        }
        Plan::ReadForm(form) => Next::ReadBody(Body::Form(form)),
        Plan::Redirect {
            status,
            location,
            set_cookie,
            device_cookie,
            ..
        } => {
            for c in [set_cookie, device_cookie].into_iter().flatten() {
                if r.add_header_out("Set-Cookie", &c).is_none() {
                    return Next::Return(Status::NGX_ERROR);
                }
            }
            redirect(r, status, &location)
        }
        Plan::Logout {
            location,
            set_cookie,
            ..
        } => {
            let rc = r.discard_request_body();
            if rc != Status::NGX_OK {
                return Next::Return(rc);
            }
            if r.add_header_out("Set-Cookie", &set_cookie).is_none() {
                return Next::Return(Status::NGX_ERROR);
            }
            redirect(r, 303, &location)
        }
        Plan::Challenge {
            www_authenticate, ..
        } => {
            // Also kept in `headers_out.www_authenticate`: under `satisfy
            // any`, nginx clears exactly that pointer when another access
            // module lets the request in, as it does for `auth_basic`.
            let Some(h) = push_header(r, "WWW-Authenticate", &www_authenticate) else {
                return Next::Return(Status::NGX_ERROR);
            };
            r.as_mut().headers_out.www_authenticate = h;
            Next::Return(http(401))
        }
        Plan::Refuse {
            status, identity, ..
        } => {
            // Kept for $dash_auth_user in the access log.
            if let Some(identity) = identity {
                let _ = RequestCtx::new(active, identity).attach(r);
            }
            Next::Return(http(status))
        }
        Plan::Page {
            status,
            html,
            set_cookie,
            ..
        } => {
            let rc = r.discard_request_body();
            if rc != Status::NGX_OK {
                return Next::Return(rc);
            }
            if set_cookie.is_some_and(|c| r.add_header_out("Set-Cookie", &c).is_none()) {
                return Next::Return(Status::NGX_ERROR);
            }
            Next::Sent(send(r, status, &Content::Html(html)))
        }
        Plan::Answer {
            status,
            content,
            identity,
            ..
        } => {
            match RequestCtx::get(r) {
                // A callback's body was read: its reply check was set up for
                // the app's reply, and this one is the module's.
                Some(ctx) => {
                    ctx.response = ResponseCheck::None;
                    ctx.holding = None;
                }
                // Kept for $dash_auth_user in the access log.
                None => {
                    if RequestCtx::new(active, identity).attach(r).is_none() {
                        return Next::Return(Status::NGX_ERROR);
                    }
                }
            }
            let rc = r.discard_request_body();
            if rc != Status::NGX_OK {
                return Next::Return(rc);
            }
            Next::Sent(send(r, status, &content))
        }
    }
}

fn allow(
    r: &mut Request,
    active: &'static Active,
    identity: Identity,
    set_cookie: Option<String>,
    inspect: Inspect,
) -> Next {
    if set_cookie.is_some_and(|c| r.add_header_out("Set-Cookie", &c).is_none()) {
        return Next::Return(Status::NGX_ERROR);
    }
    let mut ctx = RequestCtx::new(active, identity);
    ctx.response = inspect.reply;
    ctx.body_max = inspect.body.unwrap_or(0);
    if ctx.attach(r).is_none() {
        return Next::Return(Status::NGX_ERROR);
    }
    match inspect.body {
        Some(_) => Next::ReadBody(Body::Callback),
        None => Next::Return(Status::NGX_OK),
    }
}

fn http(status: u16) -> Status {
    Status(i32::from(status) as ngx_int_t)
}

/// Adds a response header and returns its element, for the
/// `headers_out` pointers nginx's own filters read.
fn push_header(r: &mut Request, name: &str, value: &str) -> Option<*mut ngx_table_elt_t> {
    let pool = r.pool();
    let out = &mut r.as_mut().headers_out;
    // SAFETY: headers_out.headers is an initialised list owned by the request.
    let h = unsafe { ngx::ffi::ngx_list_push(&mut out.headers) }.cast::<ngx_table_elt_t>();
    // SAFETY: `h` is NULL or a fresh element of that list, filled from the
    // request pool.
    unsafe { ngx::ffi::add_to_ngx_table(h, pool.as_ptr(), name, value) }?;
    Some(h)
}

/// Answers `status` with a `Location` header; nginx writes the body, as
/// for `return 302 …`, reading `headers_out.location`.
fn redirect(r: &mut Request, status: u16, location: &str) -> Next {
    let Some(h) = push_header(r, "Location", location) else {
        return Next::Return(Status::NGX_ERROR);
    };
    r.as_mut().headers_out.location = h;
    Next::Return(http(status))
}

/// Sends a body the module wrote, as a content handler would; the caller
/// finalizes the request with the result.
fn send(r: &mut Request, status: u16, content: &Content) -> Status {
    let body = content.body();
    r.set_status(ngx::http::HTTPStatus(usize::from(status)));
    r.set_content_length_n(body.len());
    {
        let out = &mut r.as_mut().headers_out;
        let content_type = content.content_type();
        out.content_type.len = content_type.len();
        out.content_type.data = content_type.as_ptr().cast_mut();
        out.content_type_len = content.media_type().len();
    }
    // Written for this request (the return path, the message, the user):
    // never cached.
    if r.add_header_out("Cache-Control", "no-store").is_none() {
        return Status::NGX_ERROR;
    }
    let rc = r.send_header();
    if rc == Status::NGX_ERROR || rc.0 > Status::NGX_OK.0 || r.header_only() {
        return rc;
    }
    match buffers::memory_chain(r, body) {
        Some(chain) => r.output_filter(chain),
        None => Status::NGX_ERROR,
    }
}

/// Ends a request whose body reading kept it open.
pub fn finalize(r: &mut Request, rc: Status) {
    let req: *mut ngx_http_request_t = r.into();
    // SAFETY: a live request; finalizing with a handler's result is what
    // the content phase does for a content handler.
    unsafe { ngx::ffi::ngx_http_finalize_request(req, rc.0) };
}
