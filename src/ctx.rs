//! Per-request state, kept in the request pool from the ACCESS phase until
//! the response has been filtered.
use std::cell::OnceCell;

use ngx::ffi::ngx_int_t;
use ngx::http::{HttpModule, Request};

use dash_auth_core::access::Identity;
pub use dash_auth_core::endpoint::ResponseCheck;
use dash_auth_core::plan::Held;

use crate::conf::Active;
use crate::password_check::Pending;
use crate::sso::SsoState;
use crate::DashAuthModule;

pub struct RequestCtx {
    /// The location policy the request was let in under; its body and its
    /// reply are judged by the same one, without looking it up again.
    pub active: &'static Active,
    pub identity: Identity,
    /// `$dash_auth_sections`, joined the first time it is read: most
    /// requests (static files, cookie checks) never read it.
    sections: OnceCell<String>,
    /// The ACCESS phase's final answer once the callback body was checked;
    /// the phase handler runs again after the body is read and returns it.
    pub access_status: Option<ngx_int_t>,
    /// The bound on the callback body being read.
    pub body_max: usize,
    pub response: ResponseCheck,
    /// The response headers are held until the body has been judged as
    /// this.
    pub holding: Option<Held>,
    /// The bound on the held reply.
    pub reply_max: usize,
    pub response_body: Vec<u8>,
    /// The password check the request waits for, or waited for.
    pub hashing: Option<Pending>,
    /// A single sign-on's fetches from the provider.
    pub sso: Option<SsoState>,
}

impl RequestCtx {
    pub fn new(active: &'static Active, identity: Identity) -> RequestCtx {
        RequestCtx {
            active,
            sections: OnceCell::new(),
            identity,
            access_status: None,
            body_max: 0,
            response: ResponseCheck::None,
            holding: None,
            reply_max: 0,
            response_body: Vec::new(),
            hashing: None,
            sso: None,
        }
    }

    pub fn sections(&self) -> &str {
        self.sections
            .get_or_init(|| self.identity.sections_joined())
    }

    pub fn get<'a>(r: &Request) -> Option<&'a mut RequestCtx> {
        let p = r
            .get_module_ctx::<RequestCtx>(DashAuthModule::module())
            .map(|c| core::ptr::from_ref(c).cast_mut())?;
        // SAFETY: the context is allocated by `attach` from the request pool,
        // which outlives every handler and filter call of the request, and
        // nginx runs one of those at a time, so no other reference is alive.
        unsafe { p.as_mut() }
    }

    /// Stores the context in the request; `None` if the pool is exhausted.
    pub fn attach<'a>(self, r: &mut Request) -> Option<&'a mut RequestCtx> {
        let p = r.pool().allocate(self);
        if p.is_null() {
            return None;
        }
        r.set_module_ctx(p.cast(), DashAuthModule::module());
        // SAFETY: just allocated and initialised; the pool outlives the request.
        unsafe { p.as_mut() }
    }
}
