//! Reading a request body from the ACCESS phase: a Dash callback's, before
//! it may go on, and the login or logout form's.
//!
//! The pattern is nginx's mirror module: start reading, return `NGX_DONE`,
//! and when the body is complete ask core about it. A callback's verdict is
//! recorded in the request context and the phases re-run; the ACCESS
//! handler then returns it. A form's answer ends the request.
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_core_run_phases, ngx_http_read_client_request_body, ngx_http_request_t, ngx_int_t,
    NGX_HTTP_SPECIAL_RESPONSE,
};
use ngx::http::{HttpModuleLocationConf, Request};

use dash_auth_core::login::MAX_FORM_LEN;
use dash_auth_core::password_check::{Hashing, Unhashed};
use dash_auth_core::plan::{BodyError, BodyOf, Form, Plan};

use crate::buffers::{collect, single_memory};
use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::password_check::{self, with_queue, Progress, Resume};
use crate::request::with_body_view;
use crate::respond::{carry_out, finalize, Body, Next};
use crate::DashAuthModule;

/// Starts reading a body; core's answer arrives through the post handler.
pub fn start(r: &mut Request, of: Body) -> Status {
    let ready = match of {
        Body::Callback => callback_ready,
        Body::Form(Form::Login) => login_form_ready,
        Body::Form(Form::Logout) => logout_form_ready,
    };
    let req: *mut ngx_http_request_t = r.into();
    // SAFETY: a live main request in its ACCESS phase.
    let rc = unsafe { ngx_http_read_client_request_body(req, Some(ready)) };
    if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
        return Status(rc);
    }
    // Reading took a reference on the request; the post handler resumes
    // or ends it, so this run ends here.
    finalize(r, Status::NGX_DONE);
    Status::NGX_DONE
}

/// The body nginx read, at most `max` bytes: borrowed from nginx's buffer
/// when it is one piece in memory, else copied into `out`.
fn body_bytes<'a>(r: &'a Request, max: usize, out: &'a mut Vec<u8>) -> Result<&'a [u8], BodyError> {
    // SAFETY: called from the post handler: nginx finished reading, and
    // `bufs` describes the whole body, in memory or in the temporary file,
    // for as long as the request lives.
    let Some(rb) = (unsafe { r.as_ref().request_body.as_ref() }) else {
        return Err(BodyError::Unreadable("no request body".into()));
    };
    // SAFETY: as above.
    if let Some(body) = unsafe { single_memory(rb.bufs) } {
        if body.len() > max {
            return Err(BodyError::TooLarge);
        }
        return Ok(body);
    }
    // SAFETY: as above.
    unsafe { collect(rb.bufs, max, false, out) }?;
    Ok(out)
}

unsafe extern "C" fn callback_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let status = match callback_verdict(req) {
        // The module answered it (the refused router's Dash reply): the
        // request ends here, as after the login form.
        Next::Sent(rc) => return finalize(req, rc),
        Next::Return(status) => status,
        Next::ReadBody(_) | Next::Hash(_) | Next::Fetch(_) => Status::NGX_ERROR,
    };
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

fn callback_verdict(r: &mut Request) -> Next {
    let Some(ctx) = RequestCtx::get(r) else {
        return Next::Return(Status::NGX_ERROR);
    };
    let active = ctx.active;
    let mut copy = Vec::new();
    let body = body_bytes(r, ctx.body_max, &mut copy);
    let of = BodyOf::Callback(&ctx.identity);
    let plan = with_body_view(r, active, Body::Callback, Hashing::Inline, |view| {
        active.policy.decide_body(view, of, body)
    });
    carry_out(r, active, plan)
}

// The post handler takes no argument, so each form has its own.
unsafe extern "C" fn login_form_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    let rc = with_queue(|q| form_answer(req, Form::Login, Hashing::Offload(q)));
    if let Some(rc) = rc {
        finalize(req, rc);
    }
}

/// The login form again, once its password check is done (the request's
/// write handler while it waits): the body is still the request's.
pub fn login_form_hashed(r: &mut Request) {
    let rc = match password_check::progress(r) {
        Progress::Running => return,
        Progress::Done(verdict) => form_answer(r, Form::Login, Hashing::Done(&verdict)),
        Progress::Lost | Progress::None => answer_unhashed(r, Unhashed::Lost),
    };
    if let Some(rc) = rc {
        finalize(r, rc);
    }
}

unsafe extern "C" fn logout_form_ready(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls the post handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    if let Some(rc) = form_answer(req, Form::Logout, Hashing::Inline) {
        finalize(req, rc);
    }
}

/// The form's answer to finalize the request with; `None` while its
/// password is being checked.
fn form_answer(r: &mut Request, form: Form, hashing: Hashing<'_>) -> Option<Status> {
    let Some(active) = DashAuthModule::location_conf(r).and_then(|c| c.active.as_deref()) else {
        return Some(Status::NGX_ERROR);
    };
    let mut copy = Vec::new();
    let body = body_bytes(r, MAX_FORM_LEN, &mut copy);
    let plan = with_body_view(r, active, Body::Form(form), hashing, |view| {
        active.policy.decide_body(view, BodyOf::Form(form), body)
    });
    carried_out(r, active, plan)
}

fn carried_out(r: &mut Request, active: &'static Active, plan: Plan) -> Option<Status> {
    match carry_out(r, active, plan) {
        Next::Return(status) | Next::Sent(status) => Some(status),
        // A form never needs the provider.
        Next::ReadBody(_) | Next::Fetch(_) => Some(Status::NGX_ERROR),
        Next::Hash(job) => {
            if password_check::start(r, active, job, Resume::Form) {
                None
            } else {
                carried_out(r, active, active.policy.unhashed(Unhashed::NotQueued))
            }
        }
    }
}

fn answer_unhashed(r: &mut Request, why: Unhashed) -> Option<Status> {
    let Some(active) = DashAuthModule::location_conf(r).and_then(|c| c.active.as_deref()) else {
        return Some(Status::NGX_ERROR);
    };
    carried_out(r, active, active.policy.unhashed(why))
}
