//! Directives and their http → server → location inheritance.
//!
//! Files (users, secret) are read while the configuration is parsed, so a
//! broken file fails `nginx -t` and a failed reload keeps the old workers.
//! Every location where `dash_auth` is on gets a ready-made [`Active`] policy at
//! merge time; the request path never looks at unset fields.
use core::ffi::{c_char, c_void};
use core::fmt;
use std::sync::{Arc, Mutex};

use dash_auth_core::access::Policy;
use dash_auth_core::basic_cache::BasicCache;
use dash_auth_core::dash::Registry;
use dash_auth_core::endpoint::Checks;
use dash_auth_core::rate_limit::{self, Limit};
use dash_auth_core::section::Sections;
use dash_auth_core::token::Secret;
use dash_auth_core::users::UsersFile;
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_parse_size, ngx_parse_time, ngx_str_t, ngx_uint_t,
    NGX_CONF_1MORE, NGX_CONF_TAKE1, NGX_CONF_TAKE12, NGX_CONF_TAKE13, NGX_ERROR, NGX_HTTP_LOC_CONF,
    NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF, NGX_HTTP_SRV_CONF, NGX_LOG_EMERG,
};
use ngx::{ngx_conf_log_error, ngx_string};

use crate::conf_msg;
use crate::shm::Zone;

mod ext;
use ext::NgxConfExt;

pub const DEFAULT_COOKIE: &str = "example_jwt";
pub const DEFAULT_TTL: u64 = 3600;

/// Location configuration, as written by the directives.
#[derive(Default)]
pub struct LocConf {
    realm: Option<Realm>,
    users: Option<Arc<UsersFile>>,
    secret: Option<Arc<Secret>>,
    cookie: Option<String>,
    ttl: Option<u64>,
    leeway: Option<u64>,
    sections: Option<Arc<Sections>>,
    dash_prefix: Option<String>,
    registry: Option<Arc<Registry>>,
    callback_check: Option<bool>,
    body_max: Option<usize>,
    response_max: Option<usize>,
    filter_dependencies: Option<bool>,
    basic_cache: Option<bool>,
    basic_cache_ttl: Option<u64>,
    basic_cache_size: Option<usize>,
    zone: Option<Option<Zone>>,
    login: Option<Option<String>>,
    login_page: Option<Arc<String>>,
    logout: Option<String>,
    max_age: Option<u64>,
    login_limit: Option<Option<Limit>>,
    /// Set by the merge where `dash_auth` is on; `None` means the module stays out.
    pub active: Option<Arc<Active>>,
}

#[derive(Clone)]
enum Realm {
    Off,
    On {
        challenge: String,
        defined_at: String,
    },
}

/// Everything the access handler needs in one location.
pub struct Active {
    pub policy: Policy,
    /// The complete `WWW-Authenticate` value.
    pub challenge: String,
    pub callbacks: CallbackPolicy,
    /// Form login, when `dash_auth_login` is on.
    pub login: Option<LoginConf>,
    pub zone: Option<Zone>,
    /// `None`: `dash_auth_login_limit off`.
    pub limit: Option<Limit>,
}

/// The login and logout pages of one location tree.
pub struct LoginConf {
    pub path: String,
    pub logout: String,
    /// The page template (`dash_auth_core::login::DEFAULT_PAGE` or a file).
    pub page: Arc<String>,
    /// Injected into the app's HTML pages (see `login::expiry_script`).
    pub script: Vec<u8>,
}

pub const DEFAULT_LOGOUT: &str = "/logout";

/// How Dash callbacks are checked in one location.
pub struct CallbackPolicy {
    pub check: bool,
    pub body_max: usize,
    pub response_max: usize,
    pub registry: Option<Arc<Registry>>,
    pub filter_dependencies: bool,
}

impl CallbackPolicy {
    pub fn checks(&self) -> Checks {
        Checks {
            callback_check: self.check,
            filter_dependencies: self.filter_dependencies,
        }
    }
}

pub const DEFAULT_BASIC_CACHE_TTL: u64 = 60;
pub const DEFAULT_BASIC_CACHE_SIZE: usize = 1024;
pub const DEFAULT_BODY_MAX: usize = 1024 * 1024;
pub const DEFAULT_RESPONSE_MAX: usize = 8 * 1024 * 1024;

/// Why a directive was refused. Printed after `"<directive>" directive`.
#[derive(Debug)]
enum DirectiveError {
    NotUtf8,
    InvalidTime(String),
    InvalidSize(String),
    InvalidFlag(String),
    InvalidParameter(String),
    Registry(String, dash_auth_core::dash::RegistryError),
    Io(String, std::io::Error),
    InvalidCookieName(String),
    InvalidRealm,
    Path,
    Users(dash_auth_core::users::LoadError),
    Secret(dash_auth_core::token::SecretError),
    Sections(dash_auth_core::section::SectionError),
}

impl fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("argument is not valid UTF-8"),
            Self::InvalidTime(v) => write!(f, "has invalid time value \"{v}\""),
            Self::InvalidSize(v) => write!(f, "has invalid size value \"{v}\""),
            Self::InvalidParameter(v) => write!(f, "has invalid parameter \"{v}\""),
            Self::InvalidFlag(v) => {
                write!(f, "has invalid value \"{v}\", it must be \"on\" or \"off\"")
            }
            Self::Registry(path, e) => {
                write!(f, "cannot load Dash dependencies from \"{path}\": {e}")
            }
            Self::Io(path, e) => write!(f, "cannot read \"{path}\": {e}"),
            Self::InvalidCookieName(v) => write!(f, "has invalid cookie name \"{v}\""),
            Self::InvalidRealm => f.write_str("realm must not contain control characters"),
            Self::Path => f.write_str("cannot resolve the path"),
            Self::Users(e) => write!(f, "cannot load users: {e}"),
            Self::Secret(e) => write!(f, "cannot load secret: {e}"),
            Self::Sections(e) => write!(f, "{e}"),
        }
    }
}

/// Why a location where `dash_auth` is on cannot work.
#[derive(Debug)]
enum MergeError {
    Missing {
        directive: &'static str,
        defined_at: String,
    },
    Prefix(dash_auth_core::section::SectionError),
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing {
                directive,
                defined_at,
            } => write!(
                f,
                "\"dash_auth\" enabled at {defined_at} has no \"{directive}\" in effect"
            ),
            Self::Prefix(e) => write!(f, "\"dash_auth_dash_prefix\": {e}"),
        }
    }
}

fn inherit<T: Clone>(slot: &mut Option<T>, prev: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(prev);
    }
}

impl LocConf {
    fn merge_from(&mut self, prev: &LocConf) -> Result<(), MergeError> {
        inherit(&mut self.realm, &prev.realm);
        inherit(&mut self.users, &prev.users);
        inherit(&mut self.secret, &prev.secret);
        inherit(&mut self.cookie, &prev.cookie);
        inherit(&mut self.ttl, &prev.ttl);
        inherit(&mut self.leeway, &prev.leeway);
        inherit(&mut self.sections, &prev.sections);
        inherit(&mut self.dash_prefix, &prev.dash_prefix);
        inherit(&mut self.registry, &prev.registry);
        inherit(&mut self.callback_check, &prev.callback_check);
        inherit(&mut self.body_max, &prev.body_max);
        inherit(&mut self.response_max, &prev.response_max);
        inherit(&mut self.filter_dependencies, &prev.filter_dependencies);
        inherit(&mut self.basic_cache, &prev.basic_cache);
        inherit(&mut self.basic_cache_ttl, &prev.basic_cache_ttl);
        inherit(&mut self.basic_cache_size, &prev.basic_cache_size);
        inherit(&mut self.zone, &prev.zone);
        inherit(&mut self.login, &prev.login);
        inherit(&mut self.login_page, &prev.login_page);
        inherit(&mut self.logout, &prev.logout);
        inherit(&mut self.max_age, &prev.max_age);
        inherit(&mut self.login_limit, &prev.login_limit);

        let Some(Realm::On {
            challenge,
            defined_at,
        }) = &self.realm
        else {
            self.active = None;
            return Ok(());
        };
        let missing = |directive| MergeError::Missing {
            directive,
            defined_at: defined_at.clone(),
        };
        let users = self
            .users
            .clone()
            .ok_or_else(|| missing("dash_auth_user_file"))?;
        let secret = self
            .secret
            .clone()
            .ok_or_else(|| missing("dash_auth_secret_file"))?;
        let zone = self.zone.flatten();
        let login = match self.login.clone().flatten() {
            None => None,
            Some(path) => {
                // Logout must revoke: without shared memory it could not.
                if zone.is_none() {
                    return Err(missing("dash_auth_zone"));
                }
                Some(LoginConf {
                    script: dash_auth_core::login::expiry_script(&path).into_bytes(),
                    path,
                    logout: self.logout.clone().unwrap_or_else(|| DEFAULT_LOGOUT.into()),
                    page: self.login_page.clone().unwrap_or_else(|| {
                        Arc::new(dash_auth_core::login::DEFAULT_PAGE.to_owned())
                    }),
                })
            }
        };
        let sections = self.sections.as_deref().cloned().unwrap_or_default();
        let sections = match &self.dash_prefix {
            Some(prefix) => sections.with_prefix(prefix).map_err(MergeError::Prefix)?,
            None => sections,
        };
        self.active = Some(Arc::new(Active {
            policy: Policy {
                users,
                secret,
                cookie_name: self.cookie.clone().unwrap_or_else(|| DEFAULT_COOKIE.into()),
                ttl: self.ttl.unwrap_or(DEFAULT_TTL),
                leeway: self.leeway.unwrap_or(0),
                sections: Arc::new(sections),
                // One cache per location, in each worker's memory (see
                // dash_auth_core::basic_cache); none if no random key.
                basic_cache: if self.basic_cache.unwrap_or(true) {
                    BasicCache::new(
                        self.basic_cache_ttl.unwrap_or(DEFAULT_BASIC_CACHE_TTL),
                        self.basic_cache_size.unwrap_or(DEFAULT_BASIC_CACHE_SIZE),
                    )
                    .map(|c| Arc::new(Mutex::new(c)))
                } else {
                    None
                },
                max_age: self.max_age.unwrap_or(0),
            },
            challenge: challenge.clone(),
            callbacks: CallbackPolicy {
                check: self.callback_check.unwrap_or(true),
                body_max: self.body_max.unwrap_or(DEFAULT_BODY_MAX),
                response_max: self.response_max.unwrap_or(DEFAULT_RESPONSE_MAX),
                registry: self.registry.clone(),
                filter_dependencies: self.filter_dependencies.unwrap_or(false),
            },
            login,
            zone,
            limit: self.login_limit.unwrap_or(Some(rate_limit::DEFAULT)),
        }));
        Ok(())
    }
}

/// Replaces ngx's default merge, which fails without saying why.
pub unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut c_void,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes two location configurations created by our
    // `create_loc_conf`, distinct objects of type `LocConf`.
    let (Some(prev), Some(conf)) = (unsafe { prev.cast::<LocConf>().as_ref() }, unsafe {
        conf.cast::<LocConf>().as_mut()
    }) else {
        return NGX_CONF_ERROR;
    };
    match conf.merge_from(prev) {
        Ok(()) => NGX_CONF_OK,
        Err(e) => {
            ngx_conf_log_error!(NGX_LOG_EMERG, cf, "{}", e);
            NGX_CONF_ERROR
        }
    }
}

const ANY_LEVEL: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

const fn command(
    name: ngx_str_t,
    args: u32,
    set: unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char,
) -> ngx_command_t {
    ngx_command_t {
        name,
        type_: (ANY_LEVEL | args) as ngx_uint_t,
        set: Some(set),
        conf: NGX_HTTP_LOC_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    }
}

pub static mut COMMANDS: [ngx_command_t; 23] = [
    command(ngx_string!("dash_auth_zone"), NGX_CONF_TAKE12, cmd_zone),
    command(ngx_string!("dash_auth_login"), NGX_CONF_TAKE1, cmd_login),
    command(
        ngx_string!("dash_auth_login_page"),
        NGX_CONF_TAKE1,
        cmd_login_page,
    ),
    command(ngx_string!("dash_auth_logout"), NGX_CONF_TAKE1, cmd_logout),
    command(
        ngx_string!("dash_auth_session_max_age"),
        NGX_CONF_TAKE1,
        cmd_max_age,
    ),
    command(
        ngx_string!("dash_auth_login_limit"),
        NGX_CONF_TAKE13,
        cmd_login_limit,
    ),
    command(ngx_string!("dash_auth"), NGX_CONF_TAKE1, cmd_dash_auth),
    command(
        ngx_string!("dash_auth_user_file"),
        NGX_CONF_TAKE1,
        cmd_user_file,
    ),
    command(
        ngx_string!("dash_auth_secret_file"),
        NGX_CONF_TAKE12,
        cmd_secret_file,
    ),
    command(ngx_string!("dash_auth_cookie"), NGX_CONF_TAKE1, cmd_cookie),
    command(
        ngx_string!("dash_auth_token_ttl"),
        NGX_CONF_TAKE1,
        cmd_token_ttl,
    ),
    command(ngx_string!("dash_auth_leeway"), NGX_CONF_TAKE1, cmd_leeway),
    command(
        ngx_string!("dash_auth_sections"),
        NGX_CONF_1MORE,
        cmd_sections,
    ),
    command(
        ngx_string!("dash_auth_dash_prefix"),
        NGX_CONF_TAKE1,
        cmd_dash_prefix,
    ),
    command(
        ngx_string!("dash_auth_dependencies_file"),
        NGX_CONF_TAKE1,
        cmd_dependencies_file,
    ),
    command(
        ngx_string!("dash_auth_callback_check"),
        NGX_CONF_TAKE1,
        cmd_callback_check,
    ),
    command(
        ngx_string!("dash_auth_callback_body_max"),
        NGX_CONF_TAKE1,
        cmd_body_max,
    ),
    command(
        ngx_string!("dash_auth_callback_response_max"),
        NGX_CONF_TAKE1,
        cmd_response_max,
    ),
    command(
        ngx_string!("dash_auth_filter_dependencies"),
        NGX_CONF_TAKE1,
        cmd_filter_dependencies,
    ),
    command(
        ngx_string!("dash_auth_basic_cache"),
        NGX_CONF_TAKE1,
        cmd_basic_cache,
    ),
    command(
        ngx_string!("dash_auth_basic_cache_ttl"),
        NGX_CONF_TAKE1,
        cmd_basic_cache_ttl,
    ),
    command(
        ngx_string!("dash_auth_basic_cache_size"),
        NGX_CONF_TAKE1,
        cmd_basic_cache_size,
    ),
    ngx_command_t::empty(),
];

/// Runs a directive's typed body and maps its result to what nginx expects.
///
/// `body` returns `Ok(false)` when the directive was already set at this
/// level, which nginx reports as `"<name>" directive is duplicate`.
fn directive(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    body: impl FnOnce(&ngx_conf_t, &mut LocConf) -> Result<bool, DirectiveError>,
) -> *mut c_char {
    // SAFETY: nginx calls directive handlers with the configuration being
    // parsed and, thanks to NGX_HTTP_LOC_CONF_OFFSET, our `LocConf`.
    let (Some(cf), Some(conf)) = (unsafe { cf.as_ref() }, unsafe {
        conf.cast::<LocConf>().as_mut()
    }) else {
        return NGX_CONF_ERROR;
    };
    match body(cf, conf) {
        Ok(true) => NGX_CONF_OK,
        Ok(false) => conf_msg(c"is duplicate"),
        Err(e) => cf.error(&format_args!("directive {e}")),
    }
}

/// The first argument: NGX_CONF_TAKE1 / 1MORE guarantee it exists.
fn arg1(cf: &ngx_conf_t) -> Result<&str, DirectiveError> {
    cf.args()
        .get(1)
        .ok_or(DirectiveError::NotUtf8)?
        .to_str()
        .map_err(|_| DirectiveError::NotUtf8)
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: impl FnOnce() -> Result<T, DirectiveError>,
) -> Result<bool, DirectiveError> {
    if slot.is_some() {
        return Ok(false);
    }
    *slot = Some(value()?);
    Ok(true)
}

extern "C" fn cmd_dash_auth(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        let realm = arg1(cf)?;
        set_once(&mut conf.realm, || {
            if realm == "off" {
                return Ok(Realm::Off);
            }
            if realm.chars().any(char::is_control) {
                return Err(DirectiveError::InvalidRealm);
            }
            // A quoted-string: escape what would end it early.
            let escaped = realm.replace('\\', "\\\\").replace('"', "\\\"");
            Ok(Realm::On {
                challenge: format!("Basic realm=\"{escaped}\""),
                defined_at: cf.position(),
            })
        })
    })
}

extern "C" fn cmd_user_file(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.users, || {
            let path = cf.full_path(&cf.args()[1]).ok_or(DirectiveError::Path)?;
            UsersFile::load(&path)
                .map(Arc::new)
                .map_err(DirectiveError::Users)
        })
    })
}

extern "C" fn cmd_secret_file(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // Repeatable: the first key signs, every listed key verifies the tokens
    // that name its kid (see `dash_auth_core::token::Secret`).
    directive(cf, conf, |cf, conf| {
        let args = cf.args();
        let kid = match args.get(2) {
            None => None,
            Some(a) => {
                let a = a.to_str().map_err(|_| DirectiveError::NotUtf8)?;
                let kid = a
                    .strip_prefix("kid=")
                    .ok_or_else(|| DirectiveError::InvalidParameter(a.to_string()))?;
                Some(kid)
            }
        };
        let path = cf.full_path(&args[1]).ok_or(DirectiveError::Path)?;
        let key = Secret::load_with_kid(&path, kid).map_err(DirectiveError::Secret)?;
        match &mut conf.secret {
            Some(keys) => Arc::make_mut(keys)
                .append(key)
                .map_err(DirectiveError::Secret)?,
            None => conf.secret = Some(Arc::new(key)),
        }
        Ok(true)
    })
}

extern "C" fn cmd_cookie(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        let name = arg1(cf)?;
        set_once(&mut conf.cookie, || {
            // RFC 6265 cookie-name is an RFC 7230 token.
            let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            if name.is_empty() || !name.bytes().all(token) {
                return Err(DirectiveError::InvalidCookieName(name.into()));
            }
            Ok(name.to_string())
        })
    })
}

fn parse_time(cf: &ngx_conf_t) -> Result<u64, DirectiveError> {
    let mut value = cf.args()[1];
    // SAFETY: ngx_parse_time only reads the string.
    let secs = unsafe { ngx_parse_time(&mut value, 1) };
    if secs == NGX_ERROR as isize || secs < 0 {
        return Err(DirectiveError::InvalidTime(arg1(cf)?.into()));
    }
    Ok(secs as u64)
}

extern "C" fn cmd_token_ttl(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.ttl, || match parse_time(cf)? {
            0 => Err(DirectiveError::InvalidTime("0".into())),
            secs => Ok(secs),
        })
    })
}

/// A directive whose one argument sets one field, once.
macro_rules! one_value {
    ($handler:ident, $field:ident, $parse:ident) => {
        extern "C" fn $handler(
            cf: *mut ngx_conf_t,
            _: *mut ngx_command_t,
            conf: *mut c_void,
        ) -> *mut c_char {
            directive(cf, conf, |cf, conf| {
                set_once(&mut conf.$field, || $parse(cf))
            })
        }
    };
}

one_value!(cmd_leeway, leeway, parse_time);

extern "C" fn cmd_sections(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.sections, || {
            let mut names = Vec::new();
            for arg in &cf.args()[1..] {
                names.push(arg.to_str().map_err(|_| DirectiveError::NotUtf8)?);
            }
            Sections::new(names)
                .map(Arc::new)
                .map_err(DirectiveError::Sections)
        })
    })
}

extern "C" fn cmd_dash_prefix(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        let prefix = arg1(cf)?;
        set_once(&mut conf.dash_prefix, || {
            Sections::default()
                .with_prefix(prefix)
                .map(|_| prefix.to_string())
                .map_err(DirectiveError::Sections)
        })
    })
}

extern "C" fn cmd_dependencies_file(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.registry, || {
            let path = cf.full_path(&cf.args()[1]).ok_or(DirectiveError::Path)?;
            let shown = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|e| DirectiveError::Io(shown.clone(), e))?;
            Registry::from_dependencies_json(&bytes)
                .map(Arc::new)
                .map_err(|e| DirectiveError::Registry(shown, e))
        })
    })
}

fn parse_flag(cf: &ngx_conf_t) -> Result<bool, DirectiveError> {
    match arg1(cf)? {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(DirectiveError::InvalidFlag(other.into())),
    }
}

fn parse_size(cf: &ngx_conf_t) -> Result<usize, DirectiveError> {
    let mut value = cf.args()[1];
    // SAFETY: ngx_parse_size only reads the string.
    let size = unsafe { ngx_parse_size(&mut value) };
    match usize::try_from(size) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(DirectiveError::InvalidSize(arg1(cf)?.into())),
    }
}

one_value!(cmd_callback_check, callback_check, parse_flag);

one_value!(cmd_filter_dependencies, filter_dependencies, parse_flag);

one_value!(cmd_body_max, body_max, parse_size);

one_value!(cmd_response_max, response_max, parse_size);

one_value!(cmd_basic_cache, basic_cache, parse_flag);

one_value!(cmd_basic_cache_ttl, basic_cache_ttl, parse_time);

extern "C" fn cmd_basic_cache_size(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.basic_cache_size, || {
            arg1(cf)?
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| DirectiveError::InvalidSize(arg1(cf).unwrap_or_default().into()))
        })
    })
}

/// A location path for the login or logout page: validated like a return
/// path, and without a query.
fn page_path(cf: &ngx_conf_t) -> Result<String, DirectiveError> {
    let p = arg1(cf)?;
    match dash_auth_core::return_path::validate(p.as_bytes()) {
        Some(v) if !v.contains(['?', '#', '"', '\'', '<', '>']) => Ok(v.to_owned()),
        _ => Err(DirectiveError::InvalidParameter(p.into())),
    }
}

extern "C" fn cmd_zone(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        if arg1(cf)? == "off" {
            return set_once(&mut conf.zone, || Ok(None));
        }
        let args = cf.args();
        let Some(size_arg) = args.get(2) else {
            return Err(DirectiveError::InvalidParameter("zone size missing".into()));
        };
        let mut size_str = *size_arg;
        // SAFETY: ngx_parse_size only reads the string.
        let size = unsafe { ngx_parse_size(&mut size_str) };
        let size = match usize::try_from(size) {
            Ok(n) if n >= 64 * 1024 => n,
            _ => {
                return Err(DirectiveError::InvalidSize(
                    size_arg.to_str().unwrap_or_default().into(),
                ))
            }
        };
        let mut name = args[1];
        let cf_ptr = core::ptr::from_ref(cf).cast_mut();
        // SAFETY: a configuration being parsed; the tag is our module, so
        // a zone of the same name from another module is refused by nginx.
        let zone = unsafe {
            ngx::ffi::ngx_shared_memory_add(
                cf_ptr,
                &mut name,
                size,
                core::ptr::addr_of_mut!(crate::ngx_http_dash_auth_module).cast(),
            )
        };
        // SAFETY: NULL or the zone nginx just registered.
        let Some(z) = (unsafe { zone.as_mut() }) else {
            return Err(DirectiveError::InvalidParameter(
                "cannot add shared zone".into(),
            ));
        };
        if z.init.is_none() {
            z.init = Some(crate::shm::init);
        }
        set_once(&mut conf.zone, || Ok(Some(Zone(zone))))
    })
}

extern "C" fn cmd_login(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.login, || {
            if arg1(cf)? == "off" {
                return Ok(None);
            }
            page_path(cf).map(Some)
        })
    })
}

one_value!(cmd_logout, logout, page_path);

extern "C" fn cmd_login_page(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.login_page, || {
            let path = cf.full_path(&cf.args()[1]).ok_or(DirectiveError::Path)?;
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| DirectiveError::Io(shown, e))?;
            Ok(Arc::new(text))
        })
    })
}

one_value!(cmd_max_age, max_age, parse_time);

fn time_arg(cf: &ngx_conf_t, i: usize) -> Result<u64, DirectiveError> {
    let Some(arg) = cf.args().get(i) else {
        return Err(DirectiveError::InvalidParameter("missing time".into()));
    };
    let mut value = *arg;
    // SAFETY: ngx_parse_time only reads the string.
    let secs = unsafe { ngx_parse_time(&mut value, 1) };
    if secs == NGX_ERROR as isize || secs <= 0 {
        return Err(DirectiveError::InvalidTime(
            arg.to_str().unwrap_or_default().into(),
        ));
    }
    Ok(secs as u64)
}

extern "C" fn cmd_login_limit(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive(cf, conf, |cf, conf| {
        set_once(&mut conf.login_limit, || {
            let first = arg1(cf)?;
            if first == "off" && cf.args().len() == 2 {
                return Ok(None);
            }
            let max_failures = first
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| DirectiveError::InvalidParameter(first.into()))?;
            Ok(Some(Limit {
                max_failures,
                window: time_arg(cf, 2)?,
                cooldown: time_arg(cf, 3)?,
            }))
        })
    })
}
