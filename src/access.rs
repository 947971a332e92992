//! The ACCESS phase handler: the request's view goes to core once, and the
//! plan that comes back is carried out. A Basic login whose password must
//! be hashed waits for the thread pool, and comes back here with the
//! verdict (see `password_check.rs`).
use ngx::core::Status;
use ngx::ffi::{ngx_http_request_t, ngx_int_t};
use ngx::http::{HttpModuleLocationConf, Request};

use dash_auth_core::password_check::{Hashing, Unhashed};
use dash_auth_core::RequestView;

use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::password_check::{self, with_queue, Progress, Resume};
use crate::request::{now, with_sso_view, with_view};
use crate::respond::{carry_out, finalize, Next};
use crate::{request_body, sso, DashAuthModule};

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
        // Back from the OpenID Provider, or woken while still waiting.
        if let Some(state) = ctx.sso.as_mut() {
            if state.waiting {
                return Status::NGX_AGAIN;
            }
            let Some(sso) = active.policy.sso.as_deref() else {
                return Status::NGX_ERROR;
            };
            let plan = match sso.absorb(&mut state.progress, now()) {
                Some(plan) => plan,
                None => with_sso_view(r, active, &state.progress, |view| {
                    active.policy.decide(view)
                }),
            };
            return next(r, active, plan);
        }
    }
    sso::redact(r, active);
    let decide = |view: &RequestView<'_>| active.policy.decide(view);
    let plan = match password_check::progress(r) {
        // Woken before its check is done: keep waiting.
        Progress::Running => return Status::NGX_AGAIN,
        Progress::Done(verdict) => with_view(r, active, Hashing::Done(&verdict), decide),
        Progress::Lost => active.policy.unhashed(Unhashed::Lost),
        Progress::None => with_queue(|q| with_view(r, active, Hashing::Offload(q), decide)),
    };
    next(r, active, plan)
}

fn next(r: &mut Request, active: &'static Active, plan: dash_auth_core::Plan) -> Status {
    match carry_out(r, active, plan) {
        Next::Return(status) => status,
        Next::Sent(rc) => {
            finalize(r, rc);
            Status::NGX_DONE
        }
        Next::ReadBody(of) => request_body::start(r, of),
        Next::Fetch(fetch) => sso::start(r, active, fetch),
        // The phases stop here; the check's completion runs them again.
        Next::Hash(job) => {
            if password_check::start(r, active, job, Resume::Phases) {
                Status::NGX_AGAIN
            } else {
                next(r, active, active.policy.unhashed(Unhashed::NotQueued))
            }
        }
    }
}
