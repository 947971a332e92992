//! Reading a request body from the ACCESS phase: a Dash callback's, before
//! the access decision, and the login form's.
//!
//! The pattern is nginx's mirror module: start reading, return `NGX_DONE`,
//! and when the body is complete record the verdict in the request context
//! and re-run the phases; the ACCESS handler then returns that verdict.
//! (The login form ends the request from its handler instead.)
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_core_run_phases, ngx_http_finalize_request, ngx_http_read_client_request_body,
    ngx_http_request_t, ngx_int_t, NGX_HTTP_SPECIAL_RESPONSE, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx::http::{HTTPStatus, HttpModuleLocationConf, Request};
use ngx::ngx_log_error;

use dash_auth_core::dash::check_callback_request;

use crate::buffers::{collect, single_memory, CollectError};
use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::DashAuthModule;

/// Starts reading the body; the verdict arrives through [`body_ready`].
pub fn start(r: &mut Request, active: &Active) -> Status {
    read_body(r, active.callbacks.body_max, body_ready)
}

/// Starts reading the request body, after refusing a declared length over
/// `max` with 413; nginx calls `ready` once the whole body is in.
pub fn read_body(
    r: &mut Request,
    max: usize,
    ready: unsafe extern "C" fn(*mut ngx_http_request_t),
) -> Status {
    let declared = r.as_ref().headers_in.content_length_n;
    if declared > 0 && declared as u64 > max as u64 {
        return HTTPStatus::REQUEST_ENTITY_TOO_LARGE.into();
    }
    let req: *mut ngx_http_request_t = r.into();
    // SAFETY: a live main request in its ACCESS phase.
    let rc = unsafe { ngx_http_read_client_request_body(req, Some(ready)) };
    if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
        return Status(rc);
    }
    // Reading took a reference on the request; `ready` resumes or ends it,
    // so this run ends here.
    // SAFETY: as above.
    unsafe { ngx_http_finalize_request(req, Status::NGX_DONE.0) };
    Status::NGX_DONE
}

/// The body [`read_body`] read, at most `max` bytes: borrowed from nginx's
/// buffer when it is one piece in memory, else copied into `out`.
pub fn body_bytes<'a>(
    r: &'a Request,
    max: usize,
    out: &'a mut Vec<u8>,
) -> Result<&'a [u8], CollectError> {
    // SAFETY: called from the post handler: nginx finished reading, and
    // `bufs` describes the whole body, in memory or in the temporary file,
    // for as long as the request lives.
    let Some(rb) = (unsafe { r.as_ref().request_body.as_ref() }) else {
        return Err(CollectError::Read(std::io::ErrorKind::UnexpectedEof.into()));
    };
    // SAFETY: as above.
    if let Some(body) = unsafe { single_memory(rb.bufs) } {
        if body.len() > max {
            return Err(CollectError::TooLarge);
        }
        return Ok(body);
    }
    // SAFETY: as above.
    unsafe { collect(rb.bufs, max, false, out) }?;
    Ok(out)
}

unsafe extern "C" fn body_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let status = verdict(req);
    if let Some(ctx) = RequestCtx::get(req) {
        ctx.access_status = Some(status.0);
    }
    // SAFETY: as above; this is how the mirror module resumes the phases.
    unsafe {
        (*r).set_preserve_body(1);
        (*r).write_event_handler = Some(ngx_http_core_run_phases);
        ngx_http_core_run_phases(r);
    }
}

fn verdict(r: &mut Request) -> Status {
    let (Some(ctx), Some(active)) = (
        RequestCtx::get(r),
        DashAuthModule::location_conf(r).and_then(|c| c.active.as_deref()),
    ) else {
        return Status::NGX_ERROR;
    };
    let mut copy = Vec::new();
    let body = match body_bytes(r, active.callbacks.body_max, &mut copy) {
        Ok(body) => body,
        Err(CollectError::TooLarge) => {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\": callback body over {} bytes",
                ctx.identity.user.escape_debug(),
                active.callbacks.body_max
            );
            return HTTPStatus::REQUEST_ENTITY_TOO_LARGE.into();
        }
        Err(CollectError::Read(e)) => {
            ngx_log_error!(
                NGX_LOG_ERR,
                r.log(),
                "dash_auth: cannot read callback body: {}",
                e
            );
            return HTTPStatus::FORBIDDEN.into();
        }
    };
    // SAFETY: NULL or the parsed Content-Type header of this request.
    let content_type =
        unsafe { r.as_ref().headers_in.content_type.as_ref() }.map(|h| h.value.as_bytes());
    match check_callback_request(
        body,
        content_type,
        &ctx.identity.allowed_resources,
        &active.policy.sections,
        active.callbacks.registry.as_deref(),
    ) {
        Ok(()) => Status::NGX_OK,
        Err(denial) => {
            ngx_log_error!(
                NGX_LOG_INFO,
                r.log(),
                "dash_auth: user \"{}\": {}",
                ctx.identity.user.escape_debug(),
                denial
            );
            Status(denial.status() as ngx_int_t)
        }
    }
}
