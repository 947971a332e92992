//! The login and logout pages, answered from the ACCESS phase.
//!
//! A page is sent as a content handler would: header and body through the
//! filters, then `ngx_http_finalize_request` with the result, and `NGX_DONE`
//! to the phase engine. Redirects are returned as statuses with a
//! `Location` header, and nginx writes their body, as for `return 303 …`.
//! The form body is read like a Dash callback's (`request_body.rs`).
use core::ptr;

use ngx::core::Status;
use ngx::ffi::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_http_finalize_request, ngx_http_request_t, ngx_int_t,
    ngx_pcalloc, NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_POST, NGX_LOG_INFO, NGX_LOG_WARN,
};
use ngx::http::{HTTPStatus, HttpModuleLocationConf, Request};
use ngx::ngx_log_error;

use dash_auth_core::access::{Decision, LoginResult, RequestView};
use dash_auth_core::cookie::expire_cookie;
use dash_auth_core::login::{parse_form, render_page, return_from_query, Notice, MAX_FORM_LEN};

use crate::access::{client_addr, is_https, now, redirect, shared_state};
use crate::conf::{Active, LoginConf};
use crate::request_body::{body_bytes, read_body};
use crate::DashAuthModule;

fn method(r: &Request) -> usize {
    r.as_ref().method
}

/// `GET`/`HEAD` show the form; `POST` checks it.
pub fn login(r: &mut Request, login: &LoginConf) -> Status {
    let m = method(r);
    if m == NGX_HTTP_GET as usize || m == NGX_HTTP_HEAD as usize {
        let rc = r.discard_request_body();
        if rc != Status::NGX_OK {
            return rc;
        }
        let return_to = return_from_query(r.as_ref().args.as_bytes());
        let page = render_page(&login.page, &login.path, &return_to, Notice::None);
        let rc = send_page(r, HTTPStatus::OK, page);
        let req: *mut ngx_http_request_t = r.into();
        // SAFETY: a live request; finalizing with the filters' result is what
        // the content phase does for a content handler.
        unsafe { ngx_http_finalize_request(req, rc.0) };
        return Status::NGX_DONE;
    }
    if m != NGX_HTTP_POST as usize {
        return HTTPStatus::NOT_ALLOWED.into();
    }
    read_body(r, MAX_FORM_LEN, form_ready)
}

unsafe extern "C" fn form_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let rc = check_form(req);
    // SAFETY: as above; this ends the request the body reading kept open.
    unsafe { ngx_http_finalize_request(r, rc.0) };
}

fn check_form(r: &mut Request) -> Status {
    let Some(active) = DashAuthModule::location_conf(r).and_then(|c| c.active.as_deref()) else {
        return Status::NGX_ERROR;
    };
    let Some(login) = &active.login else {
        return Status::NGX_ERROR;
    };
    let mut copy = Vec::new();
    let Ok(body) = body_bytes(r, MAX_FORM_LEN, &mut copy) else {
        return HTTPStatus::BAD_REQUEST.into();
    };
    // SAFETY: NULL or the parsed Content-Type header of this request.
    let content_type =
        unsafe { r.as_ref().headers_in.content_type.as_ref() }.map(|h| h.value.as_bytes());
    let form = match parse_form(content_type, body) {
        Ok(f) => f,
        Err(e) => {
            ngx_log_error!(NGX_LOG_INFO, r.log(), "dash_auth: {}", e);
            return HTTPStatus::BAD_REQUEST.into();
        }
    };
    let shared = shared_state(active);
    let view = RequestView {
        cookie_headers: &[],
        authorization: None,
        uri: r.path().as_bytes(),
        secure: is_https(r),
        now: now(),
        client: client_addr(r),
        shared: Some(&shared),
    };
    match active
        .policy
        .login(&form.user, form.password.as_bytes(), &view)
    {
        LoginResult::Success {
            identity,
            set_cookie,
        } => {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\": signed in with the login form",
                identity.user.escape_debug()
            );
            if r.add_header_out("Set-Cookie", &set_cookie).is_none() {
                return Status::NGX_ERROR;
            }
            redirect(r, HTTPStatus::SEE_OTHER, &form.return_to)
        }
        LoginResult::Denied(Decision::TooManyAttempts { user }) => {
            ngx_log_error!(
                NGX_LOG_WARN,
                r.log(),
                "dash_auth: user \"{}\": login refused, too many failed attempts",
                user.escape_debug()
            );
            let page = render_page(
                &login.page,
                &login.path,
                &form.return_to,
                Notice::TooManyAttempts,
            );
            send_page(r, HTTPStatus::TOO_MANY_REQUESTS, page)
        }
        LoginResult::Denied(d) => {
            if let Decision::Unauthorized { user, reason } = &d {
                let level = match reason {
                    dash_auth_core::DenyReason::LimitReached { .. } => NGX_LOG_WARN,
                    _ => NGX_LOG_INFO,
                };
                ngx_log_error!(
                    level,
                    r.log(),
                    "dash_auth: user \"{}\": {}",
                    user.as_deref().unwrap_or("").escape_debug(),
                    reason
                );
            }
            let page = render_page(&login.page, &login.path, &form.return_to, Notice::Failed);
            send_page(r, HTTPStatus::UNAUTHORIZED, page)
        }
    }
}

/// Ends the session: records the logout for every worker, expires the
/// cookie and sends the browser to the login page.
pub fn logout(r: &mut Request, active: &Active, login: &LoginConf) -> Status {
    let m = method(r);
    if m != NGX_HTTP_GET as usize && m != NGX_HTTP_POST as usize {
        return HTTPStatus::NOT_ALLOWED.into();
    }
    let rc = r.discard_request_body();
    if rc != Status::NGX_OK {
        return rc;
    }
    let mut cookies: Vec<&[u8]> = Vec::new();
    for (name, value) in r.headers_in_iterator() {
        if name.as_bytes().eq_ignore_ascii_case(b"cookie") {
            cookies.push(value.as_bytes());
        }
    }
    let shared = shared_state(active);
    let now = now();
    let view = RequestView {
        cookie_headers: &cookies,
        authorization: None,
        uri: r.path().as_bytes(),
        secure: is_https(r),
        now,
        client: client_addr(r),
        shared: Some(&shared),
    };
    if let Some(user) = active.policy.session_user(&view) {
        let recorded = shared
            .revocations
            .as_ref()
            .is_some_and(|rev| rev.revoke(&user, now, active.policy.token_horizon()));
        if recorded {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\": signed out",
                user.escape_debug()
            );
        } else {
            ngx_log_error!(
                ngx::ffi::NGX_LOG_ERR,
                r.log(),
                "dash_auth: user \"{}\": logout not recorded, \"dash_auth_zone\" is full; enlarge it",
                user.escape_debug()
            );
        }
    }
    let expired = expire_cookie(&active.policy.cookie_name, view.secure);
    if r.add_header_out("Set-Cookie", &expired).is_none() {
        return Status::NGX_ERROR;
    }
    redirect(r, HTTPStatus::SEE_OTHER, &login.path)
}

/// Sends an HTML page; the caller finalizes the request with the result.
fn send_page(r: &mut Request, status: HTTPStatus, page: String) -> Status {
    Status(send_page_inner(r, status, page))
}

fn send_page_inner(r: &mut Request, status: HTTPStatus, page: String) -> ngx_int_t {
    let len = page.len();
    r.set_status(status);
    r.set_content_length_n(len);
    {
        let out = &mut r.as_mut().headers_out;
        out.content_type.len = "text/html; charset=utf-8".len();
        out.content_type.data = c"text/html; charset=utf-8".as_ptr().cast_mut().cast();
        out.content_type_len = "text/html".len();
    }
    // Pages are per request (the return path, the message): never cached.
    if r.add_header_out("Cache-Control", "no-store").is_none() {
        return Status::NGX_ERROR.0;
    }
    let rc = r.send_header();
    if rc == Status::NGX_ERROR || rc.0 > Status::NGX_OK.0 || r.header_only() {
        return rc.0;
    }
    let pool = r.pool().as_ptr();
    // SAFETY: allocations from the live request pool.
    let (b, cl, data) = unsafe {
        (
            ngx_pcalloc(pool, core::mem::size_of::<ngx_buf_t>()).cast::<ngx_buf_t>(),
            ngx_alloc_chain_link(pool),
            ngx_pcalloc(pool, len.max(1)).cast::<u8>(),
        )
    };
    // SAFETY: NULL or fresh allocations of the right types and sizes.
    let (Some(b), Some(cl)) = (unsafe { b.as_mut() }, unsafe { cl.as_mut() }) else {
        return Status::NGX_ERROR.0;
    };
    if data.is_null() {
        return Status::NGX_ERROR.0;
    }
    // SAFETY: `data` has room for `len` bytes and does not overlap `page`.
    unsafe { ptr::copy_nonoverlapping(page.as_ptr(), data, len) };
    b.start = data;
    b.pos = data;
    // SAFETY: one past the last copied byte.
    b.last = unsafe { data.add(len) };
    b.end = b.last;
    b.set_memory(1);
    b.set_last_buf(1);
    b.set_last_in_chain(1);
    cl.buf = b;
    cl.next = ptr::null_mut();
    r.output_filter(cl).0
}
