//! Defence in depth on what the dashboard sends back.
//!
//! For the requests whose plan named a reply check, the header filter asks
//! core whether to hold the reply; held, the body filter buffers it, up to
//! the bound core gave, and hands it whole to core, which lets it pass,
//! replaces it, or refuses it. A refused reply is replaced by an error page
//! through `ngx_http_filter_finalize_request`, as nginx's image filter does.
use core::ptr;

use ngx::core::Status;
use ngx::ffi::{
    ngx_chain_t, ngx_http_filter_finalize_request, ngx_http_output_body_filter_pt,
    ngx_http_output_header_filter_pt, ngx_http_request_t, ngx_http_top_body_filter,
    ngx_http_top_header_filter, ngx_int_t,
};
use ngx::http::Request;

use dash_auth_core::plan::{HeadPlan, ReplyHead, ReplyPlan, ReplyRefusal};

use crate::buffers::{borrowed_chain, collect};
use crate::ctx::{RequestCtx, ResponseCheck};
use crate::respond::log;

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
    // The plan asked for no reply check: nothing to carry out.
    if ctx.response == ResponseCheck::None {
        return next_header(r);
    }
    let active = ctx.active;
    let out = &req.as_ref().headers_out;
    let head = ReplyHead {
        status: out.status,
        main: req.is_main(),
        header_only: req.as_ref().header_only() != 0,
        content_type: out.content_type.as_bytes(),
        encoded: !out.content_encoding.is_null(),
        length: u64::try_from(out.content_length_n).ok(),
    };
    match active.policy.reply_head(ctx.response, &ctx.identity, &head) {
        HeadPlan::Pass => {
            ctx.response = ResponseCheck::None;
            next_header(r)
        }
        HeadPlan::Hold { max, held } => {
            ctx.holding = Some(held);
            ctx.reply_max = max;
            req.as_mut().set_allow_ranges(0);
            Status::NGX_OK.0
        }
        HeadPlan::Refuse(refusal) => refuse(req, ctx, &refusal),
    }
}

unsafe extern "C" fn body_filter(r: *mut ngx_http_request_t, chain: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: nginx calls filters with a live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let Some(ctx) = RequestCtx::get(req) else {
        return next_body(r, chain);
    };
    let Some(held) = ctx.holding else {
        return next_body(r, chain);
    };
    if chain.is_null() {
        return next_body(r, chain);
    }
    let mut body = core::mem::take(&mut ctx.response_body);
    // SAFETY: filter input is a valid chain of live buffers.
    let seen = unsafe { collect(chain, ctx.reply_max, true, &mut body) };
    ctx.response_body = body;
    let whole = match seen {
        Ok(seen) if !seen.last_buf => return Status::NGX_OK.0,
        Ok(_) => Ok(ctx.response_body.as_slice()),
        Err(e) => Err(e.into()),
    };
    ctx.holding = None;
    match ctx.active.policy.decide_reply(held, &ctx.identity, whole) {
        ReplyPlan::Pass => {}
        ReplyPlan::Replace(replaced) => {
            ctx.response_body = replaced;
            reset_length(req, ctx.response_body.len());
        }
        ReplyPlan::Refuse(refusal) => return refuse(req, ctx, &refusal),
    }

    let rc = next_header(r);
    if rc == Status::NGX_ERROR.0 || rc > Status::NGX_OK.0 || req.as_ref().header_only() != 0 {
        return rc;
    }
    // SAFETY: the held body lives in the request context, which the pool
    // drops only when the request is freed, and nothing changes it now.
    match unsafe { borrowed_chain(req, &ctx.response_body) } {
        Some(chain) => next_body(r, chain),
        None => Status::NGX_ERROR.0,
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

fn refuse(req: &mut Request, ctx: &mut RequestCtx, refusal: &ReplyRefusal) -> ngx_int_t {
    if let Some(hint) = &refusal.hint {
        log(req, hint);
    }
    log(req, &refusal.log);
    ctx.response = ResponseCheck::None;
    ctx.holding = None;
    ctx.response_body = Vec::new();
    let r: *mut ngx_http_request_t = req.into();
    // SAFETY: a live request; our context survives, and the error page's
    // own header filter call passes through since `response` is now None.
    unsafe {
        ngx_http_filter_finalize_request(
            r,
            ptr::addr_of_mut!(crate::ngx_http_dash_auth_module),
            i32::from(refusal.status) as ngx_int_t,
        )
    }
}
