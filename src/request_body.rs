//! Reading a Dash callback request's body before the access decision.
//!
//! The pattern is nginx's mirror module: start reading, return `NGX_DONE`,
//! and when the body is complete record the verdict in the request context
//! and re-run the phases; the ACCESS handler then returns that verdict.
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_core_run_phases, ngx_http_finalize_request, ngx_http_read_client_request_body,
    ngx_http_request_t, ngx_int_t, NGX_HTTP_SPECIAL_RESPONSE, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx::http::{HTTPStatus, HttpModuleLocationConf, Request};
use ngx::ngx_log_error;

use dash_auth_core::dash::check_callback_request;

use crate::buffers::{collect, CollectError};
use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::DashAuthModule;

/// Starts reading the body; the verdict arrives through [`body_ready`].
pub fn start(r: &mut Request, active: &Active) -> Status {
    let declared = r.as_ref().headers_in.content_length_n;
    if declared > 0 && declared as u64 > active.callbacks.body_max as u64 {
        return HTTPStatus::REQUEST_ENTITY_TOO_LARGE.into();
    }
    let req: *mut ngx_http_request_t = r.into();
    // SAFETY: a live main request in its ACCESS phase.
    let rc = unsafe { ngx_http_read_client_request_body(req, Some(body_ready)) };
    if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
        return Status(rc);
    }
    // Reading took a reference on the request; the phases resume from
    // `body_ready`, so this run ends here.
    // SAFETY: as above.
    unsafe { ngx_http_finalize_request(req, Status::NGX_DONE.0) };
    Status::NGX_DONE
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
    let req = r.as_ref();
    let mut body = Vec::new();
    // SAFETY: nginx finished reading; `bufs` describes the whole body, in
    // memory or in the temporary file.
    let read = match unsafe { req.request_body.as_ref() } {
        Some(rb) => unsafe { collect(rb.bufs, active.callbacks.body_max, false, &mut body) },
        None => Err(CollectError::Read(std::io::ErrorKind::UnexpectedEof.into())),
    };
    match read {
        Ok(_) => {}
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
    }
    // SAFETY: NULL or the parsed Content-Type header of this request.
    let content_type = unsafe { req.headers_in.content_type.as_ref() }.map(|h| h.value.as_bytes());
    match check_callback_request(
        &body,
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
