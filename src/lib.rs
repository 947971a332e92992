//! `ngx_http_dash_auth_module`: Basic login, a signed session cookie and
//! per-section access control for Plotly Dash, in nginx's ACCESS phase.
//!
//! This crate is glue only. Every decision is made by `dash_auth_core`: once
//! per phase the module hands it a plain view of the request and carries
//! out the plan it gets back.
//! - `request.rs`: the view of an `ngx_http_request_t` core decides on;
//! - `respond.rs`: carrying out a plan (headers, status, page, log line);
//! - `access.rs`: the ACCESS phase handler;
//! - `request_body.rs`: reading a Dash callback or login-form body first;
//! - `password_check.rs`: password checks on nginx's thread pool;
//! - `response_filter.rs`: holding back and judging the app's replies;
//! - `conf.rs` (+ `conf/ext.rs`, the config-time FFI): the directives;
//! - `shm.rs`: the `dash_auth_zone` shared memory;
//! - `store.rs`: the `dash_auth_redis` connection, on the event loop;
//! - `sso.rs`: single sign-on's fetches from the OpenID Provider, as
//!   subrequests;
//! - `ctx.rs` / `buffers.rs`: per-request state, buffer chains;
//! - `variables.rs`: `$dash_auth_user` and `$dash_auth_sections`.
use core::ffi::c_char;
use core::ptr::{addr_of, addr_of_mut};

use ngx::core::Status;
use ngx::ffi::{ngx_conf_t, ngx_http_module_t, ngx_int_t, ngx_module_t, NGX_HTTP_MODULE};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf};

use conf::ext::NgxConfExt;

mod access;
mod buffers;
mod conf;
mod ctx;
mod password_check;
mod request;
mod request_body;
mod respond;
mod response_filter;
mod shm;
mod sso;
mod store;
mod variables;

pub struct DashAuthModule;

impl HttpModule for DashAuthModule {
    fn module() -> &'static ngx_module_t {
        // SAFETY: the module table is a static that nginx only writes while
        // loading the configuration, before any request is served.
        unsafe { &*addr_of!(ngx_http_dash_auth_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        // SAFETY: nginx always passes a valid configuration.
        match unsafe { cf.as_ref() } {
            Some(cf) => {
                let rc = variables::register(cf);
                if rc != Status::NGX_OK.0 {
                    return rc;
                }
                sso::register(cf)
            }
            None => Status::NGX_ERROR.into(),
        }
    }

    unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        // SAFETY: nginx always passes a valid configuration.
        let Some(cf) = (unsafe { cf.as_ref() }) else {
            return Status::NGX_ERROR.into();
        };
        if !cf.add_access_handler(access::access_handler) {
            return Status::NGX_ERROR.into();
        }
        // SAFETY: postconfiguration runs once per configuration load, before
        // any request, with nginx single-threaded.
        unsafe { response_filter::register() };
        Status::NGX_OK.into()
    }
}

// SAFETY: the location configuration is created by `create_loc_conf` below with
// exactly this type.
unsafe impl HttpModuleLocationConf for DashAuthModule {
    type LocationConf = conf::LocConf;
}

// SAFETY: the main configuration is created by `create_main_conf` below with
// exactly this type.
unsafe impl HttpModuleMainConf for DashAuthModule {
    type MainConf = conf::MainConf;
}

static NGX_HTTP_DASH_AUTH_MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(DashAuthModule::preconfiguration),
    postconfiguration: Some(DashAuthModule::postconfiguration),
    create_main_conf: Some(DashAuthModule::create_main_conf),
    init_main_conf: Some(conf::init_main_conf),
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(DashAuthModule::create_loc_conf),
    merge_loc_conf: Some(conf::merge_loc_conf),
};

ngx::ngx_modules!(ngx_http_dash_auth_module);

#[used]
#[allow(non_upper_case_globals)]
#[no_mangle]
pub static mut ngx_http_dash_auth_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(NGX_HTTP_DASH_AUTH_MODULE_CTX) as _,
    // SAFETY: nginx reads the command table; it is never moved or freed.
    commands: unsafe { addr_of_mut!(conf::COMMANDS[0]) },
    type_: NGX_HTTP_MODULE as _,
    init_process: Some(store::init_process),
    ..ngx_module_t::default()
};

/// nginx expects `char *` results from directive handlers; this names the
/// static strings we hand back.
pub(crate) const fn conf_msg(s: &'static core::ffi::CStr) -> *mut c_char {
    s.as_ptr().cast_mut()
}
