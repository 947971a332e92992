//! `$dash_auth_user` and `$dash_auth_sections`, for `proxy_set_header` and logs.
//!
//! Both come from the identity the access handler stored in the request
//! context; a request the module did not authenticate has neither.
use core::ptr::addr_of;

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_request_t, ngx_http_variable_t, ngx_int_t, ngx_variable_value_t,
    NGX_HTTP_VAR_NOCACHEABLE,
};
use ngx::http::HttpModule;
use ngx::ngx_string;

use crate::conf::ext::NgxConfExt;
use crate::ctx::RequestCtx;
use crate::DashAuthModule;

const USER: usize = 0;
const SECTIONS: usize = 1;

static mut VARIABLES: [ngx_http_variable_t; 2] = [
    ngx_http_variable_t {
        name: ngx_string!("dash_auth_user"),
        set_handler: None,
        get_handler: Some(get),
        data: USER,
        flags: NGX_HTTP_VAR_NOCACHEABLE as _,
        index: 0,
    },
    ngx_http_variable_t {
        name: ngx_string!("dash_auth_sections"),
        set_handler: None,
        get_handler: Some(get),
        data: SECTIONS,
        flags: NGX_HTTP_VAR_NOCACHEABLE as _,
        index: 0,
    },
];

pub fn register(cf: &ngx_conf_t) -> ngx_int_t {
    // SAFETY: preconfiguration runs single-threaded, and nothing writes
    // the table.
    add(cf, unsafe { &*addr_of!(VARIABLES) })
}

/// Adds each variable of `vars` with its handler.
pub fn add(cf: &ngx_conf_t, vars: &[ngx_http_variable_t]) -> ngx_int_t {
    for var in vars.iter() {
        let Some(v) = cf.add_variable(&var.name, var.flags) else {
            return Status::NGX_ERROR.into();
        };
        v.get_handler = var.get_handler;
        v.data = var.data;
    }
    Status::NGX_OK.into()
}

unsafe extern "C" fn get(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    data: usize,
) -> ngx_int_t {
    // SAFETY: nginx evaluates variables with a live request and value slot.
    let Some(v) = (unsafe { v.as_mut() }) else {
        return Status::NGX_ERROR.into();
    };
    if r.is_null() {
        return Status::NGX_ERROR.into();
    }
    // SAFETY: checked for NULL above; nginx owns the request.
    let r = unsafe { ngx::http::Request::from_ngx_http_request(r) };
    let value = r
        .get_module_ctx::<RequestCtx>(DashAuthModule::module())
        .map(|ctx| {
            if data == USER {
                ctx.identity.user.as_str()
            } else {
                ctx.sections()
            }
        });
    set(v, value);
    Status::NGX_OK.into()
}

/// Points `v` at `value`, or marks it not found when there is none or it
/// is empty. The string must outlive the request: nginx keeps the pointer.
pub fn set(v: &mut ngx_variable_value_t, value: Option<&str>) {
    match value {
        Some(s) if !s.is_empty() => {
            v.set_valid(1);
            v.set_no_cacheable(0);
            v.set_not_found(0);
            v.set_len(s.len() as u32);
            // nginx never writes through a variable's data pointer.
            v.data = s.as_ptr().cast_mut();
        }
        _ => v.set_not_found(1),
    }
}
