//! The ACCESS phase handler: hands the request to the core policy and turns
//! its decision into a status, headers and one log line.
use ngx::core::Status;
use ngx::ffi::{ngx_http_request_t, ngx_int_t, ngx_list_push, ngx_table_elt_t, NGX_LOG_INFO};
use ngx::http::{HTTPStatus, HttpModuleLocationConf, Request};
use ngx::ngx_log_error;

use dash_auth_core::access::{Decision, Identity, RequestView, Shared};
use dash_auth_core::endpoint::{Endpoint, Method};
use dash_auth_core::grants;
use dash_auth_core::login::wants_login_page;
use dash_auth_core::rate_limit;
use dash_auth_core::return_path::login_redirect;

use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::{login_page, request_body, DashAuthModule};

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls phase handlers with a live request.
    let r = unsafe { Request::from_ngx_http_request(r) };
    handle(r).0
}

fn handle(r: &mut Request) -> Status {
    let Some(active) = DashAuthModule::location_conf(r).and_then(|c| c.active.as_deref()) else {
        return Status::NGX_DECLINED;
    };
    if let Some(ctx) = RequestCtx::get(r) {
        // Back from reading a callback body: the verdict is already made.
        if let Some(status) = ctx.access_status {
            return Status(status);
        }
    }

    if let Some(login) = &active.login {
        let path = r.path().as_bytes();
        if path == login.path.as_bytes() {
            return login_page::login(r, login);
        }
        if path == login.logout.as_bytes() {
            return login_page::logout(r, active, login);
        }
    }

    // A request rarely carries more than one Cookie header (HTTP/2 may
    // split them), so the first few are kept on the stack.
    let mut inline: [&[u8]; 4] = [&[]; 4];
    let mut inline_len = 0;
    let mut spilled: Vec<&[u8]> = Vec::new();
    let mut authorization = None;
    let mut accept = None;
    for (name, value) in r.headers_in_iterator() {
        let name = name.as_bytes();
        if name.eq_ignore_ascii_case(b"accept") {
            accept = Some(value.as_bytes());
        } else if name.eq_ignore_ascii_case(b"cookie") {
            match inline.get_mut(inline_len) {
                Some(slot) if spilled.is_empty() => {
                    *slot = value.as_bytes();
                    inline_len += 1;
                }
                _ => {
                    if spilled.is_empty() {
                        spilled.extend_from_slice(&inline);
                    }
                    spilled.push(value.as_bytes());
                }
            }
        } else if name.eq_ignore_ascii_case(b"authorization") {
            if authorization.is_some() {
                // nginx rejects a repeated Authorization header itself; if
                // one ever gets here, refuse to pick one.
                return HTTPStatus::BAD_REQUEST.into();
            }
            authorization = Some(value.as_bytes());
        }
    }
    let cookies = if spilled.is_empty() {
        inline.get(..inline_len).unwrap_or_default()
    } else {
        &spilled[..]
    };

    let shared = shared_state(active);
    let view = RequestView {
        cookie_headers: cookies,
        authorization,
        uri: r.path().as_bytes(),
        secure: is_https(r),
        now: now(),
        client: client_addr(r),
        shared: Some(&shared),
    };

    match active.policy.decide(&view) {
        Decision::Allow {
            identity,
            set_cookie,
        } => {
            if let Some(cookie) = set_cookie {
                if r.add_header_out("Set-Cookie", &cookie).is_none() {
                    return Status::NGX_ERROR;
                }
            }
            admit(r, active, identity)
        }
        Decision::Unauthorized { user, reason } => {
            match user {
                Some(user) => {
                    ngx_log_error!(
                        NGX_LOG_INFO,
                        r.log(),
                        "dash_auth: user \"{}\": {}",
                        user.escape_debug(),
                        reason
                    );
                }
                None => {
                    ngx_log_error!(NGX_LOG_INFO, r.log(), "dash_auth: {}", reason);
                }
            }
            if let Some(login) = &active.login {
                let method = r.as_ref().method;
                let get_or_head = method == ngx::ffi::NGX_HTTP_GET as usize
                    || method == ngx::ffi::NGX_HTTP_HEAD as usize;
                if wants_login_page(get_or_head, accept) {
                    let target = r.as_ref().unparsed_uri.as_bytes();
                    let location = login_redirect(&login.path, target);
                    return redirect(r, HTTPStatus::MOVED_TEMPORARILY, &location);
                }
                // A Dash callback after the session ended: the page's script
                // sends the user to the login page; a Basic challenge here
                // would pop up the browser's password dialog instead.
                let endpoint =
                    Endpoint::classify(r.path().as_bytes(), active.policy.sections.prefix());
                if endpoint == Endpoint::Callback {
                    return HTTPStatus::UNAUTHORIZED.into();
                }
            }
            challenge(r, active)
        }
        Decision::TooManyAttempts { user } => {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\": login refused, too many failed attempts",
                user.escape_debug()
            );
            HTTPStatus::TOO_MANY_REQUESTS.into()
        }
        Decision::Forbidden { identity, section } => {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\" may not access section \"{}\"",
                identity.user.escape_debug(),
                section
            );
            // Kept for $dash_auth_user in the access log.
            let _ = RequestCtx::new(identity).attach(r);
            HTTPStatus::FORBIDDEN.into()
        }
    }
}

/// Answers 401 with the Basic challenge.
///
/// The header is also stored in `headers_out.www_authenticate`: under
/// `satisfy any`, nginx clears exactly that pointer when another access
/// module lets the request in, as it does for `auth_basic`.
fn challenge(r: &mut Request, active: &Active) -> Status {
    let pool = r.pool();
    let req = r.as_mut();
    // SAFETY: headers_out.headers is an initialised list owned by the request.
    let h = unsafe { ngx_list_push(&mut req.headers_out.headers) }.cast::<ngx_table_elt_t>();
    // SAFETY: `h` is NULL or a fresh, pool-allocated element.
    if unsafe {
        ngx::ffi::add_to_ngx_table(h, pool.as_ptr(), "WWW-Authenticate", &active.challenge)
    }
    .is_none()
    {
        return Status::NGX_ERROR;
    }
    req.headers_out.www_authenticate = h;
    HTTPStatus::UNAUTHORIZED.into()
}

/// Lets an authenticated request on: keeps the identity for the variables
/// and the filters, and sends a Dash callback through the body check.
fn admit(r: &mut Request, active: &Active, identity: Identity) -> Status {
    let endpoint = Endpoint::classify(r.path().as_bytes(), active.policy.sections.prefix());
    let method = match r.as_ref().method as u32 {
        ngx::ffi::NGX_HTTP_GET => Method::Get,
        ngx::ffi::NGX_HTTP_HEAD => Method::Head,
        _ => Method::Other,
    };
    let sees_everything = active.policy.sections.is_empty()
        || grants::allows(&identity.allowed_resources, grants::ALL);
    let inspection = endpoint.inspection(method, sees_everything, active.callbacks.checks());

    let Some(ctx) = RequestCtx::new(identity).attach(r) else {
        return Status::NGX_ERROR;
    };
    ctx.response = inspection.response;
    if inspection.request_body {
        return request_body::start(r, active);
    }
    Status::NGX_OK
}

/// Answers `status` with a `Location` header; nginx writes the body.
pub fn redirect(r: &mut Request, status: HTTPStatus, location: &str) -> Status {
    let pool = r.pool();
    let req = r.as_mut();
    // SAFETY: headers_out.headers is an initialised list owned by the request.
    let h = unsafe { ngx_list_push(&mut req.headers_out.headers) }.cast::<ngx_table_elt_t>();
    // SAFETY: `h` is NULL or a fresh, pool-allocated element.
    if unsafe { ngx::ffi::add_to_ngx_table(h, pool.as_ptr(), "Location", location) }.is_none() {
        return Status::NGX_ERROR;
    }
    // nginx's special response and header filter read the pointer, as for
    // `return 302 …`.
    req.headers_out.location = h;
    status.into()
}

/// The shared tables of the location's zone (empty without one).
pub fn shared_state(active: &Active) -> Shared<'static> {
    let limit = active.limit.unwrap_or(rate_limit::DEFAULT);
    let mut shared = active
        .zone
        .and_then(|z| z.shared(limit))
        .unwrap_or_default();
    if active.limit.is_none() {
        shared.attempts = None;
    }
    shared
}

/// The client address as text, for the failure limit.
pub fn client_addr(r: &Request) -> &[u8] {
    // SAFETY: a request always has its connection, whose address text lives
    // as long as the connection.
    unsafe { (*r.connection()).addr_text.as_bytes() }
}

pub fn is_https(r: &Request) -> bool {
    #[cfg(ngx_feature = "http_ssl")]
    {
        // SAFETY: a request always has its connection.
        unsafe { !(*r.connection()).ssl.is_null() }
    }
    #[cfg(not(ngx_feature = "http_ssl"))]
    {
        let _ = r;
        false
    }
}

pub fn now() -> u64 {
    // nginx's cached clock: updated once per event loop iteration, which is
    // finer than the one-second resolution of JWT times.
    u64::try_from(ngx::ffi::ngx_time()).unwrap_or(0)
}
