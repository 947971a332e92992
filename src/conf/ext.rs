//! The one place that turns `ngx_conf_t` pointers into safe calls.
//!
//! Directive handlers receive raw pointers from nginx; naming the `unsafe`
//! here keeps the handlers themselves free of it.
use core::ffi::c_char;
use core::fmt::Display;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use ngx::core::{NgxStr, NGX_CONF_ERROR};
use ngx::ffi::{ngx_conf_full_name, ngx_conf_t, ngx_str_t, NGX_LOG_EMERG, NGX_OK};
use ngx::ngx_conf_log_error;

pub trait NgxConfExt {
    /// The directive name followed by its arguments.
    fn args(&self) -> &[ngx_str_t];
    /// Logs `[emerg] "<directive>" <err>` with nginx's own "in file:line" suffix.
    fn error(&self, err: &dyn Display) -> *mut c_char;
    /// `file:line` of the directive being parsed, for messages printed later.
    fn position(&self) -> String;
    /// Resolves a path against the configuration prefix, as `auth_basic_user_file` does.
    fn full_path(&self, name: &ngx_str_t) -> Option<PathBuf>;
}

impl NgxConfExt for ngx_conf_t {
    fn args(&self) -> &[ngx_str_t] {
        // SAFETY: while a directive is parsed, `cf->args` is an array of ngx_str_t
        // owned by the configuration pool.
        unsafe { self.args.as_ref().map(|a| a.as_slice()).unwrap_or_default() }
    }

    fn error(&self, err: &dyn Display) -> *mut c_char {
        let cf = core::ptr::from_ref(self).cast_mut();
        let name = self
            .args()
            .first()
            .map(|s| s.as_bytes())
            .unwrap_or_default();
        ngx_conf_log_error!(
            NGX_LOG_EMERG,
            cf,
            "\"{}\" {}",
            NgxStr::from_bytes(name),
            err
        );
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
}
