//! The one place that turns `ngx_conf_t` pointers into safe calls.
//!
//! Directive handlers, the merge and the zone registration receive raw
//! pointers from nginx; every FFI call they need at configuration time is
//! made here, so they themselves hold no `unsafe`.
use core::ffi::{c_char, c_void};
use core::fmt::Display;
use core::ptr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use ngx::core::{NgxStr, NGX_CONF_ERROR};
use ngx::ffi::{
    ngx_array_push, ngx_conf_full_name, ngx_conf_t, ngx_http_add_variable, ngx_http_err_page_t,
    ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_ACCESS_PHASE, ngx_http_request_t,
    ngx_http_variable_t, ngx_int_t, ngx_parse_size, ngx_parse_time, ngx_shared_memory_add,
    ngx_shm_zone_init_pt, ngx_shm_zone_t, ngx_str_t, ngx_thread_pool_add, ngx_thread_pool_t,
    ngx_uint_t, NGX_ERROR, NGX_LOG_EMERG, NGX_OK,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_conf_log_error;

pub trait NgxConfExt {
    /// The directive name followed by its arguments.
    fn args(&self) -> &[ngx_str_t];
    /// Logs `[emerg] "<directive>" <err>` with nginx's own "in file:line" suffix.
    fn error(&self, err: &dyn Display) -> *mut c_char;
    /// Logs `[emerg] <err>` with nginx's "in file:line" suffix (the merge's
    /// messages name their directive themselves).
    fn emerg(&self, err: &dyn Display) -> *mut c_char;
    /// `file:line` of the directive being parsed, for messages printed later.
    fn position(&self) -> String;
    /// Resolves a path against the configuration prefix, as `auth_basic_user_file` does.
    fn full_path(&self, name: &ngx_str_t) -> Option<PathBuf>;
    /// [`NgxConfExt::full_path`] of a path that is part of an argument.
    fn full_path_of(&self, name: &str) -> Option<PathBuf>;
    /// Adds (or finds, on reload) the shared zone `name` of `size` bytes
    /// owned by `tag`; `init` is set on a zone that has none yet.
    fn shared_zone(
        &self,
        name: &ngx_str_t,
        size: usize,
        tag: *mut c_void,
        init: ngx_shm_zone_init_pt,
    ) -> Option<*mut ngx_shm_zone_t>;
    /// The thread pool `name`: the one a `thread_pool` directive declares,
    /// or a new one nginx makes with its defaults if the name is
    /// `default`; any other undeclared name fails the configuration
    /// with the file and line of the directive being parsed.
    fn thread_pool(&self, name: &str) -> Option<ThreadPool>;
    /// Whether the location being merged lists `status` in an
    /// `error_page` (the core module's own merge has run by then).
    fn has_error_page(&self, status: ngx_int_t) -> bool;
    /// A TLS client context (TLS 1.2 and 1.3) that verifies servers
    /// against the CA certificates in `trusted` (a resolved path), freed
    /// with the cycle. `None` if nginx refused it; it has logged why.
    fn ssl_client(&self, trusted: &std::path::Path) -> Option<SslClient>;
    /// Appends `handler` to the ACCESS phase (postconfiguration only).
    fn add_access_handler(&self, handler: AccessHandler) -> bool;
    /// Declares the variable `name` (preconfiguration only); nginx owns it.
    fn add_variable(
        &self,
        name: &ngx_str_t,
        flags: ngx_uint_t,
    ) -> Option<&'static mut ngx_http_variable_t>;
}

pub type AccessHandler = extern "C" fn(*mut ngx_http_request_t) -> ngx_int_t;

/// A TLS client context made by [`NgxConfExt::ssl_client`].
#[derive(Clone, Copy)]
pub struct SslClient(pub core::ptr::NonNull<ngx::ffi::ngx_ssl_t>);

/// A pool of nginx's `thread_pool` module.
#[derive(Clone, Copy)]
pub struct ThreadPool(pub core::ptr::NonNull<ngx_thread_pool_t>);

// SAFETY: set at configuration time and only passed to
// `ngx_thread_task_post` afterwards, by the event loop's thread.
unsafe impl Send for ThreadPool {}
// SAFETY: as above.
unsafe impl Sync for ThreadPool {}

/// nginx's time syntax (`90`, `5m`, `1h 30m`), in seconds. Zero is a
/// value here; directives for which it means nothing refuse it themselves
/// (`dash_auth_core::config::nonzero_time`).
pub fn parse_time(arg: &ngx_str_t) -> Option<u64> {
    let mut value = *arg;
    // SAFETY: ngx_parse_time only reads the string it is given.
    let secs = unsafe { ngx_parse_time(&mut value, 1) };
    if secs == NGX_ERROR as isize {
        return None;
    }
    u64::try_from(secs).ok()
}

/// nginx's time syntax in milliseconds (`500ms`, `2s`).
pub fn parse_msec(text: &str) -> Option<u64> {
    let mut bytes = text.as_bytes().to_vec();
    let mut value = ngx_str_t {
        len: bytes.len(),
        data: bytes.as_mut_ptr(),
    };
    // SAFETY: ngx_parse_time only reads the `len` bytes it is given.
    let ms = unsafe { ngx_parse_time(&mut value, 0) };
    if ms == NGX_ERROR as isize {
        return None;
    }
    u64::try_from(ms).ok()
}

/// nginx's size syntax (`512`, `64k`, `1m`), in bytes; zero included.
pub fn parse_size(arg: &ngx_str_t) -> Option<usize> {
    let mut value = *arg;
    // SAFETY: ngx_parse_size only reads the string it is given.
    let size = unsafe { ngx_parse_size(&mut value) };
    usize::try_from(size).ok()
}

impl NgxConfExt for ngx_conf_t {
    fn args(&self) -> &[ngx_str_t] {
        // SAFETY: while a directive is parsed, `cf->args` is an array of ngx_str_t
        // owned by the configuration pool.
        unsafe { self.args.as_ref().map(|a| a.as_slice()).unwrap_or_default() }
    }

    fn error(&self, err: &dyn Display) -> *mut c_char {
        let name = self
            .args()
            .first()
            .map(|s| s.as_bytes())
            .unwrap_or_default();
        self.emerg(&format_args!("\"{}\" {}", NgxStr::from_bytes(name), err))
    }

    fn emerg(&self, err: &dyn Display) -> *mut c_char {
        let cf = core::ptr::from_ref(self).cast_mut();
        ngx_conf_log_error!(NGX_LOG_EMERG, cf, "{}", err);
        NGX_CONF_ERROR
    }

    fn position(&self) -> String {
        // SAFETY: `conf_file` is set for the whole time a file is being parsed.
        match unsafe { self.conf_file.as_ref() } {
            Some(file) => format!("{}:{}", file.file.name, file.line),
            None => "(command line)".to_string(),
        }
    }

    fn full_path(&self, name: &ngx_str_t) -> Option<PathBuf> {
        let mut full = *name;
        // SAFETY: `cycle` is valid during configuration; ngx_conf_full_name only
        // allocates the joined name from the cycle pool.
        let rc = unsafe { ngx_conf_full_name(self.cycle, &mut full, 1) };
        if rc != NGX_OK as isize {
            return None;
        }
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(full.as_bytes())))
    }

    fn full_path_of(&self, name: &str) -> Option<PathBuf> {
        let mut bytes = name.as_bytes().to_vec();
        let s = ngx_str_t {
            len: bytes.len(),
            data: bytes.as_mut_ptr(),
        };
        // The result is copied before `bytes` goes.
        self.full_path(&s)
    }

    fn shared_zone(
        &self,
        name: &ngx_str_t,
        size: usize,
        tag: *mut c_void,
        init: ngx_shm_zone_init_pt,
    ) -> Option<*mut ngx_shm_zone_t> {
        let mut name = *name;
        let cf = core::ptr::from_ref(self).cast_mut();
        // SAFETY: a configuration being parsed; nginx refuses a zone of the
        // same name with another tag or size itself, and logs why.
        let zone = unsafe { ngx_shared_memory_add(cf, &mut name, size, tag) };
        // SAFETY: NULL or the zone nginx just registered, which lives as
        // long as the cycle.
        let z = unsafe { zone.as_mut() }?;
        if z.init.is_none() {
            z.init = init;
        }
        Some(zone)
    }

    fn thread_pool(&self, name: &str) -> Option<ThreadPool> {
        // nginx keeps the name's pointer: it must live as long as the cycle.
        // SAFETY: the configuration's pool is the cycle's.
        let data = unsafe { ngx::ffi::ngx_pnalloc(self.pool, name.len()) }.cast::<u8>();
        if data.is_null() {
            return None;
        }
        // SAFETY: `data` has room for `name.len()` bytes and is not `name`.
        unsafe { core::ptr::copy_nonoverlapping(name.as_ptr(), data, name.len()) };
        let mut name = ngx_str_t {
            len: name.len(),
            data,
        };
        let cf = core::ptr::from_ref(self).cast_mut();
        // SAFETY: a configuration being parsed; the name lives in its pool.
        let tp = unsafe { ngx_thread_pool_add(cf, &mut name) };
        core::ptr::NonNull::new(tp).map(ThreadPool)
    }

    fn has_error_page(&self, status: ngx_int_t) -> bool {
        let Some(clcf) = NgxHttpCoreModule::location_conf(self) else {
            return false;
        };
        // SAFETY: NULL or the location's array of `error_page` entries, built
        // by the core module's directive and merge.
        let Some(pages) = (unsafe { clcf.error_pages.as_ref() }) else {
            return false;
        };
        if pages.elts.is_null() {
            return false;
        }
        // SAFETY: `elts` holds `nelts` initialised `ngx_http_err_page_t`.
        let pages = unsafe {
            core::slice::from_raw_parts(pages.elts.cast::<ngx_http_err_page_t>(), pages.nelts)
        };
        pages.iter().any(|p| p.status == status)
    }

    fn ssl_client(&self, trusted: &std::path::Path) -> Option<SslClient> {
        use ngx::ffi::{
            ngx_pcalloc, ngx_pool_cleanup_add, ngx_ssl_cleanup_ctx, ngx_ssl_create, ngx_ssl_t,
            ngx_ssl_trusted_certificate, NGX_SSL_TLSv1_2, NGX_SSL_TLSv1_3,
        };
        let cf = core::ptr::from_ref(self).cast_mut();
        // SAFETY: the configuration's pool is the cycle's; zeroed is the
        // state nginx's own modules start an `ngx_ssl_t` from.
        let ssl = unsafe { ngx_pcalloc(self.pool, core::mem::size_of::<ngx_ssl_t>()) }
            .cast::<ngx_ssl_t>();
        // SAFETY: NULL or the zeroed context just allocated.
        let s = unsafe { ssl.as_mut() }?;
        s.log = self.log;
        // SAFETY: a zeroed context; nginx fills it in and logs failures.
        if unsafe {
            ngx_ssl_create(
                ssl,
                (NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3) as _,
                ptr::null_mut(),
            )
        } != NGX_OK as isize
        {
            return None;
        }
        // SAFETY: the cycle's pool; the cleanup frees the OpenSSL context
        // when the cycle goes, as for `proxy_ssl`.
        if let Some(cln) = unsafe { ngx_pool_cleanup_add(self.pool, 0).as_mut() } {
            cln.handler = Some(ngx_ssl_cleanup_ctx);
            cln.data = ssl.cast();
        }
        let mut bytes = trusted.as_os_str().as_bytes().to_vec();
        let mut file = ngx_str_t {
            len: bytes.len(),
            data: bytes.as_mut_ptr(),
        };
        // SAFETY: a context made above; nginx reads the file now and copies
        // nothing of the name past the call.
        if unsafe { ngx_ssl_trusted_certificate(cf, ssl, &mut file, 4) } != NGX_OK as isize {
            return None;
        }
        core::ptr::NonNull::new(ssl).map(SslClient)
    }

    fn add_access_handler(&self, handler: AccessHandler) -> bool {
        let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(self) else {
            return false;
        };
        let Some(phase) = cmcf
            .phases
            .get_mut(ngx_http_phases_NGX_HTTP_ACCESS_PHASE as usize)
        else {
            return false;
        };
        // SAFETY: the core module initialises the phase handler arrays
        // before any postconfiguration runs.
        let h = unsafe { ngx_array_push(&mut phase.handlers) }.cast::<ngx_http_handler_pt>();
        // SAFETY: ngx_array_push returns NULL or a slot sized for the element type.
        match unsafe { h.as_mut() } {
            Some(slot) => {
                *slot = Some(handler);
                true
            }
            None => false,
        }
    }

    fn add_variable(
        &self,
        name: &ngx_str_t,
        flags: ngx_uint_t,
    ) -> Option<&'static mut ngx_http_variable_t> {
        let mut name = *name;
        let cf = core::ptr::from_ref(self).cast_mut();
        // SAFETY: the configuration being parsed; nginx copies the name.
        let v = unsafe { ngx_http_add_variable(cf, &mut name, flags) };
        // SAFETY: NULL or a variable owned by the core module for the cycle.
        unsafe { v.as_mut() }
    }
}
