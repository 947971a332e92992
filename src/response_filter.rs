//! Defence in depth on what the dashboard sends back.
//!
//! For the requests the ACCESS handler marked (see [`ResponseCheck`]), the
//! header filter holds the response headers back and the body filter
//! buffers the body, up to a bound, until it can be judged as a whole. A
//! refused response is replaced by an error page through
//! `ngx_http_filter_finalize_request`, as nginx's image filter does.
use core::ptr;

use ngx::core::Status;
use ngx::ffi::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_chain_t, ngx_http_filter_finalize_request,
    ngx_http_output_body_filter_pt, ngx_http_output_header_filter_pt, ngx_http_request_t,
    ngx_http_top_body_filter, ngx_http_top_header_filter, ngx_int_t, ngx_pcalloc,
    NGX_HTTP_BAD_GATEWAY, NGX_HTTP_FORBIDDEN, NGX_HTTP_OK, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx::http::{HttpModuleLocationConf, Request};
use ngx::ngx_log_error;

use dash_auth_core::dash::{
    check_callback_response, filter_dependencies, index_has_validation_layout,
};

use crate::buffers::{collect, CollectError};
use crate::ctx::{RequestCtx, ResponseCheck};
use crate::DashAuthModule;

static mut NEXT_HEADER_FILTER: ngx_http_output_header_filter_pt = None;
static mut NEXT_BODY_FILTER: ngx_http_output_body_filter_pt = None;

/// Inserts both filters at the top of nginx's filter chains.
///
/// # Safety
/// Call once from `postconfiguration`, while nginx is single-threaded.
pub unsafe fn register() {
    // SAFETY: per the function contract.
    unsafe {
        NEXT_HEADER_FILTER = ngx_http_top_header_filter;
        ngx_http_top_header_filter = Some(header_filter);
        NEXT_BODY_FILTER = ngx_http_top_body_filter;
        ngx_http_top_body_filter = Some(body_filter);
    }
}

fn next_header(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: set once in `register`, before any request.
    match unsafe { NEXT_HEADER_FILTER } {
        // SAFETY: the next filter accepts any live request.
        Some(f) => unsafe { f(r) },
        None => Status::NGX_ERROR.0,
    }
}

fn next_body(r: *mut ngx_http_request_t, chain: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: set once in `register`, before any request.
    match unsafe { NEXT_BODY_FILTER } {
        // SAFETY: the next filter accepts any live request and chain.
        Some(f) => unsafe { f(r, chain) },
        None => Status::NGX_ERROR.0,
    }
}

unsafe extern "C" fn header_filter(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls filters with a live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let Some(ctx) = RequestCtx::get(req) else {
        return next_header(r);
    };
    if ctx.response == ResponseCheck::None || !req.is_main() {
        return next_header(r);
    }
    let out = &req.as_ref().headers_out;
    let html = out
        .content_type
        .as_bytes()
        .get(..9)
        .is_some_and(|t| t.eq_ignore_ascii_case(b"text/html"));
    if out.status != NGX_HTTP_OK as usize
        || req.as_ref().header_only() != 0
        || (ctx.response == ResponseCheck::Index && !html)
    {
        ctx.response = ResponseCheck::None;
        return next_header(r);
    }
    if !out.content_encoding.is_null() {
        // Compressed bodies cannot be judged: refuse rather than guess.
        return refuse(req, ctx, "response is content-encoded");
    }
    ctx.holding = true;
    let req = req.as_mut();
    req.set_allow_ranges(0);
    Status::NGX_OK.0
}

unsafe extern "C" fn body_filter(r: *mut ngx_http_request_t, chain: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: nginx calls filters with a live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let Some(ctx) = RequestCtx::get(req) else {
        return next_body(r, chain);
    };
    if !ctx.holding || chain.is_null() {
        return next_body(r, chain);
    }
    let limit = DashAuthModule::location_conf(req)
        .and_then(|c| c.active.as_deref())
        .map_or(0, |a| a.callbacks.response_max);
    let mut body = core::mem::take(&mut ctx.response_body);
    // SAFETY: filter input is a valid chain of live buffers.
    let seen = unsafe { collect(chain, limit, true, &mut body) };
    ctx.response_body = body;
    match seen {
        Ok(seen) if !seen.last_buf => return Status::NGX_OK.0,
        Ok(_) => {}
        Err(CollectError::TooLarge) => return refuse(req, ctx, "response too large to check"),
        Err(CollectError::Read(_)) => return refuse(req, ctx, "cannot read response"),
    }
    ctx.holding = false;
    if let Err(why) = judge(req, ctx) {
        return refuse(req, ctx, &why);
    }

    let rc = next_header(r);
    if rc == Status::NGX_ERROR.0 || rc > Status::NGX_OK.0 || req.as_ref().header_only() != 0 {
        return rc;
    }
    send_buffered(req, ctx)
}

/// Checks the complete body; may replace it (dependencies filtering).
fn judge(req: &mut Request, ctx: &mut RequestCtx) -> Result<(), String> {
    let Some(active) = DashAuthModule::location_conf(req).and_then(|c| c.active.as_deref()) else {
        return Err("no configuration".into());
    };
    let sections = &active.policy.sections;
    let allowed = &ctx.identity.allowed_resources;
    match ctx.response {
        ResponseCheck::Callback => check_callback_response(&ctx.response_body, allowed, sections)
            .map_err(|e| e.to_string()),
        ResponseCheck::Index => {
            if index_has_validation_layout(&ctx.response_body) {
                ngx_log_error!(
                    NGX_LOG_ERR,
                    req.log(),
                    "dash_auth: the Dash app sends every page's layout (validation_layout) in its index page; \
                     set suppress_callback_exceptions=True in the app"
                );
                return Err("index page carries validation_layout".into());
            }
            if let Some(login) = &active.login {
                // The page learns where to go when its session ends.
                ctx.response_body = dash_auth_core::login::inject_before_body_end(
                    &ctx.response_body,
                    &login.script,
                );
                reset_length(req, ctx.response_body.len());
            }
            Ok(())
        }
        ResponseCheck::Dependencies => {
            let filtered = filter_dependencies(&ctx.response_body, allowed, sections)
                .map_err(|e| e.to_string())?;
            ctx.response_body = filtered;
            reset_length(req, ctx.response_body.len());
            Ok(())
        }
        ResponseCheck::None => Ok(()),
    }
}

/// The body was rewritten: drop the upstream's Content-Length header.
fn reset_length(req: &mut Request, len: usize) {
    let out = &mut req.as_mut().headers_out;
    // SAFETY: NULL or a header element owned by the request.
    if let Some(h) = unsafe { out.content_length.as_mut() } {
        h.hash = 0;
    }
    out.content_length = ptr::null_mut();
    out.content_length_n = len as _;
}

/// Passes the held body on as one in-memory buffer.
fn send_buffered(req: &mut Request, ctx: &mut RequestCtx) -> ngx_int_t {
    let pool = req.pool().as_ptr();
    // SAFETY: allocations from the live request pool.
    let (b, cl) = unsafe {
        (
            ngx_pcalloc(pool, core::mem::size_of::<ngx_buf_t>()).cast::<ngx_buf_t>(),
            ngx_alloc_chain_link(pool),
        )
    };
    // SAFETY: NULL or fresh allocations of the right types.
    let (Some(b), Some(cl)) = (unsafe { b.as_mut() }, unsafe { cl.as_mut() }) else {
        return Status::NGX_ERROR.0;
    };
    // The data stays in the request context, alive until the pool is freed;
    // nobody writes through a `memory` buffer.
    let data = ctx.response_body.as_mut_ptr();
    b.start = data;
    b.pos = data;
    // SAFETY: one past the end of the vector's initialised bytes.
    b.last = unsafe { data.add(ctx.response_body.len()) };
    b.end = b.last;
    b.set_memory(1);
    b.set_last_buf(1);
    cl.buf = b;
    cl.next = ptr::null_mut();
    next_body(req.into(), cl)
}

fn refuse(req: &mut Request, ctx: &mut RequestCtx, why: &str) -> ngx_int_t {
    let status = match ctx.response {
        ResponseCheck::Index => NGX_HTTP_BAD_GATEWAY,
        _ => NGX_HTTP_FORBIDDEN,
    };
    ngx_log_error!(
        NGX_LOG_INFO,
        req.log(),
        "dash_auth: user \"{}\": response refused: {}",
        ctx.identity.user.escape_debug(),
        why
    );
    ctx.response = ResponseCheck::None;
    ctx.holding = false;
    ctx.response_body = Vec::new();
    let r: *mut ngx_http_request_t = req.into();
    // SAFETY: a live request; our context survives, and the error page's
    // own header filter call passes through since `response` is now None.
    unsafe {
        ngx_http_filter_finalize_request(
            r,
            ptr::addr_of_mut!(crate::ngx_http_dash_auth_module),
            status as ngx_int_t,
        )
    }
}
