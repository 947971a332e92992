//! Talking to the OpenID Provider through nginx itself: each [`Fetch`]
//! core asks for becomes an in-memory subrequest to the internal location
//! (`dash_auth_oidc_fetch_location`), which `proxy_pass`es to
//! `$dash_auth_oidc_url`. nginx's resolver, TLS verification, timeouts and
//! keepalive apply, and the worker never blocks: the request waits in the
//! ACCESS phase, and the subrequest's end runs the phases again.
use core::ffi::c_void;
use core::ptr::{addr_of, null_mut};

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_post_subrequest_t, ngx_http_request_t, ngx_http_variable_t, ngx_int_t,
    ngx_str_t, ngx_uint_t, ngx_variable_value_t, NGX_HTTP_SUBREQUEST_IN_MEMORY,
    NGX_HTTP_SUBREQUEST_WAITED, NGX_HTTP_VAR_NOCACHEABLE, NGX_LOG_ERR,
};
use ngx::http::Request;
use ngx::{ngx_log_error, ngx_string};

use dash_auth_core::oidc::sso::{Fetch, Fetched, Progress};
use dash_auth_core::Identity;

use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::variables;

/// A sign-in's fetches, kept in the request context.
#[derive(Default)]
pub struct SsoState {
    pub progress: Progress,
    /// The fetch under way, read by the variables of its subrequest.
    fetch: Option<Fetch>,
    /// Its subrequest: nginx may call the end handler more than once, and
    /// only this one's answer counts.
    sr: usize,
    pub waiting: bool,
}

/// Starts the subrequest for `fetch`. `NGX_AGAIN` while it runs; its end
/// puts the reply in the context and runs the phases again.
pub fn start(r: &mut Request, active: &'static Active, fetch: Fetch) -> Status {
    let Some(sso) = active.policy.sso.as_deref() else {
        return Status::NGX_ERROR;
    };
    let ctx = match RequestCtx::get(r) {
        Some(ctx) => ctx,
        None => {
            let blank = Identity {
                user: String::new(),
                allowed_resources: Vec::new(),
            };
            match RequestCtx::new(active, blank).attach(r) {
                Some(ctx) => ctx,
                None => return Status::NGX_ERROR,
            }
        }
    };
    let state = ctx.sso.get_or_insert_with(Default::default);
    let parent: *mut ngx_http_request_t = r.into();
    let pool = r.pool();
    let ps = pool.allocate(ngx_http_post_subrequest_t {
        handler: Some(ended),
        data: parent.cast(),
    });
    if ps.is_null() {
        return Status::NGX_ERROR;
    }
    let location = sso.config.fetch.as_bytes();
    let mut uri = ngx_str_t {
        len: location.len(),
        data: location.as_ptr().cast_mut(),
    };
    let mut sr: *mut ngx_http_request_t = null_mut();
    let flags = (NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED) as ngx_uint_t;
    let step = fetch.step;
    state.fetch = Some(fetch);
    state.waiting = true;
    // SAFETY: `parent` is the live main request in its ACCESS phase; the
    // URI points into the location's configuration, which outlives every
    // request; `ps` was allocated from the request pool just above.
    let rc =
        unsafe { ngx::ffi::ngx_http_subrequest(parent, &mut uri, null_mut(), &mut sr, ps, flags) };
    if rc != Status::NGX_OK.0 || sr.is_null() {
        state.waiting = false;
        state.fetch = None;
        ngx_log_error!(
            NGX_LOG_ERR,
            r.log(),
            "dash_auth: cannot start the OpenID Provider {} subrequest",
            step
        );
        return Status::NGX_ERROR;
    }
    state.sr = sr as usize;
    Status::NGX_AGAIN
}

/// Keeps the callback's code and state out of the logs: nginx writes the
/// request line into every error log line and `$request`.
pub fn redact(r: &mut Request, active: &Active) {
    let Some(sso) = active.policy.sso.as_deref() else {
        return;
    };
    let uri = r.path().as_bytes();
    let line = r.as_ref().request_line.as_bytes();
    let Some(redacted) = sso.redacted_request_line(uri, line) else {
        return;
    };
    let p = r.pool().alloc_unaligned(redacted.len()).cast::<u8>();
    if p.is_null() {
        return;
    }
    // SAFETY: `p` has room for `redacted`, from the request pool, which
    // outlives the request's log lines.
    unsafe { core::ptr::copy_nonoverlapping(redacted.as_ptr(), p, redacted.len()) };
    let req = r.as_mut();
    req.request_line.data = p;
    req.request_line.len = redacted.len();
}

/// The subrequest ended: its status and the body nginx kept in memory.
unsafe extern "C" fn ended(
    sr: *mut ngx_http_request_t,
    data: *mut c_void,
    rc: ngx_int_t,
) -> ngx_int_t {
    let parent = data.cast::<ngx_http_request_t>();
    if sr.is_null() || parent.is_null() {
        return rc;
    }
    // SAFETY: `data` is the main request that made this subrequest, and
    // lives at least as long as it.
    let parent = unsafe { Request::from_ngx_http_request(parent) };
    let Some(state) = RequestCtx::get(parent).and_then(|c| c.sso.as_mut()) else {
        return rc;
    };
    if state.sr != sr as usize {
        return rc;
    }
    let Some(fetch) = state.fetch.take() else {
        return rc;
    };
    // SAFETY: nginx passes the subrequest being finalized.
    let sr = unsafe { &*sr };
    let status = if rc == Status::NGX_ERROR.0 || rc == 499 {
        0
    } else if (300..600).contains(&rc) {
        u16::try_from(rc).unwrap_or(0)
    } else {
        u16::try_from(sr.headers_out.status).unwrap_or(0)
    };
    let body = if status == 0 {
        Vec::new()
    } else {
        in_memory_body(sr)
    };
    state.progress.fetched = Some(Fetched {
        step: fetch.step,
        status,
        body,
    });
    state.waiting = false;
    rc
}

/// The reply body of an in-memory subrequest: one buffer in `r->out`.
fn in_memory_body(sr: &ngx_http_request_t) -> Vec<u8> {
    // SAFETY: for a subrequest in memory nginx keeps the whole body in
    // the one buffer of `out`; NULL when there was none.
    let Some(buf) = (unsafe { sr.out.as_ref() }).and_then(|out| unsafe { out.buf.as_ref() }) else {
        return Vec::new();
    };
    if buf.pos.is_null() || buf.last < buf.pos {
        return Vec::new();
    }
    // SAFETY: `pos..last` is the buffer's data, in the request pool.
    let len = unsafe { buf.last.offset_from(buf.pos) } as usize;
    // SAFETY: as above.
    unsafe { core::slice::from_raw_parts(buf.pos, len) }.to_vec()
}

const URL: usize = 0;
const METHOD: usize = 1;
const BODY: usize = 2;
const AUTHORIZATION: usize = 3;
const CONTENT_TYPE: usize = 4;

const fn variable(name: ngx_str_t, data: usize) -> ngx_http_variable_t {
    ngx_http_variable_t {
        name,
        set_handler: None,
        get_handler: Some(get),
        data,
        flags: NGX_HTTP_VAR_NOCACHEABLE as _,
        index: 0,
    }
}

static mut VARIABLES: [ngx_http_variable_t; 5] = [
    variable(ngx_string!("dash_auth_oidc_url"), URL),
    variable(ngx_string!("dash_auth_oidc_method"), METHOD),
    variable(ngx_string!("dash_auth_oidc_body"), BODY),
    variable(ngx_string!("dash_auth_oidc_authorization"), AUTHORIZATION),
    variable(ngx_string!("dash_auth_oidc_content_type"), CONTENT_TYPE),
];

pub fn register(cf: &ngx_conf_t) -> ngx_int_t {
    // SAFETY: preconfiguration runs single-threaded, and nothing writes
    // the table.
    variables::add(cf, unsafe { &*addr_of!(VARIABLES) })
}

/// The fetch under way, seen from its subrequest: the variables belong to
/// the main request's context.
unsafe extern "C" fn get(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    data: usize,
) -> ngx_int_t {
    // SAFETY: nginx evaluates variables with a live request and value slot.
    let (Some(r), Some(v)) = (unsafe { r.as_ref() }, unsafe { v.as_mut() }) else {
        return Status::NGX_ERROR.into();
    };
    if r.main.is_null() {
        return Status::NGX_ERROR.into();
    }
    // SAFETY: a request's `main` is the live main request.
    let main = unsafe { Request::from_ngx_http_request(r.main) };
    let fetch = RequestCtx::get(main)
        .and_then(|c| c.sso.as_ref())
        .and_then(|s| s.fetch.as_ref());
    let value: Option<&str> = fetch.and_then(|f| match data {
        URL => Some(f.url.as_str()),
        METHOD => Some(if f.form.is_some() { "POST" } else { "GET" }),
        BODY => f.form.as_deref(),
        AUTHORIZATION => f.authorization.as_deref(),
        CONTENT_TYPE => f.form.as_ref().map(|_| "application/x-www-form-urlencoded"),
        _ => None,
    });
    // The strings live in the main request's context until it ends.
    variables::set(v, value);
    Status::NGX_OK.into()
}
