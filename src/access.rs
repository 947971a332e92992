//! The ACCESS phase handler: the request's view goes to core once, and the
//! plan that comes back is carried out.
use ngx::core::Status;
use ngx::ffi::{ngx_http_request_t, ngx_int_t};
use ngx::http::{HttpModuleLocationConf, Request};

use crate::ctx::RequestCtx;
use crate::request::with_view;
use crate::respond::{carry_out, finalize, Next};
use crate::{request_body, DashAuthModule};

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
    let plan = with_view(r, active, |view| active.policy.decide(view));
    match carry_out(r, active, plan) {
        Next::Return(status) => status,
        Next::Sent(rc) => {
            finalize(r, rc);
            Status::NGX_DONE
        }
        Next::ReadBody(of) => request_body::start(r, of),
    }
}
