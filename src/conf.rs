//! The directives: each parses its arguments into
//! `dash_auth_core::config::Settings`, which holds the inheritance, the
//! defaults and the checks of a whole location.
//!
//! Files (users, secret, dependencies, login page) are read while the
//! configuration is parsed, so a broken file fails `nginx -t` and a failed
//! reload keeps the old workers. Every location where `dash_auth` is on
//! gets a ready-made [`Active`] policy at merge time.
use core::ffi::{c_char, c_void};
use core::fmt;
use std::sync::Arc;

use dash_auth_core::config::{self, Flag, Setting, Settings, ValueError};
use dash_auth_core::dash::Registry;
use dash_auth_core::endpoint::UncheckedRoutes;
use dash_auth_core::oidc::config as sso;
use dash_auth_core::oidc::groups;
use dash_auth_core::section::{SectionPaths, Sections};
use dash_auth_core::token::Secret;
use dash_auth_core::users::UsersFile;
use dash_auth_core::Policy;
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_str_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_2MORE,
    NGX_CONF_TAKE1, NGX_CONF_TAKE12, NGX_CONF_TAKE13, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET,
    NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_SRV_CONF,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_string;

use crate::shm::Zone;
use crate::{conf_msg, DashAuthModule};

pub mod ext;
use ext::{parse_size, parse_time, NgxConfExt, ThreadPool};

/// The `http` block's configuration: shared zones belong there, as in
/// nginx's own modules.
#[derive(Default)]
pub struct MainConf {
    zone: Setting<Zone>,
    /// `dash_auth_redis`, with where it was written.
    pub store: Option<(crate::store::StoreConf, String)>,
    /// The longest token lifetime of any location: how long a logout
    /// cut-off shared through the store lives.
    pub horizon: u64,
}

impl MainConf {
    pub fn zone(&self) -> Option<Zone> {
        match &self.zone {
            Setting::On(zone) => Some(*zone),
            _ => None,
        }
    }
}

/// Location configuration, as written by the directives.
#[derive(Default)]
pub struct LocConf {
    settings: Settings,
    /// Set by the merge where `dash_auth` is on; `None` means the module stays out.
    pub active: Option<Arc<Active>>,
}

/// Everything the handlers need in one location.
pub struct Active {
    pub policy: Policy,
    pub zone: Option<Zone>,
    /// Where password checks run.
    pub threads: ThreadPool,
    /// The location has an `error_page` for 403, which then wins over the
    /// module's refusal page.
    pub error_page_403: bool,
}

/// Why a directive was refused. Printed after `"<directive>" directive`.
#[derive(Debug)]
enum DirectiveError {
    NotUtf8,
    InvalidTime(String),
    InvalidSize(String),
    InvalidFlag(String),
    InvalidParameter(String),
    Value(ValueError),
    Registry(String, dash_auth_core::dash::RegistryError),
    Io(String, std::io::Error),
    Path,
    Zone,
    Users(dash_auth_core::users::LoadError),
    Secret(dash_auth_core::token::SecretError),
    Sections(dash_auth_core::section::SectionError),
    SectionPaths(dash_auth_core::section::PagePathError),
    Store(dash_auth_core::store::DirectiveError),
    Tls,
    Resolve(String, String),
    /// A file's content is wrong: where, and what.
    InFile(String, String),
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
            Self::Value(e) => write!(f, "{e}"),
            Self::Registry(path, e) => {
                write!(f, "cannot load Dash dependencies from \"{path}\": {e}")
            }
            Self::Io(path, e) => write!(f, "cannot read \"{path}\": {e}"),
            Self::Path => f.write_str("cannot resolve the path"),
            Self::Zone => f.write_str("cannot add shared zone"),
            Self::Users(e) => write!(f, "cannot load users: {e}"),
            Self::Secret(e) => write!(f, "cannot load secret: {e}"),
            Self::Sections(e) => write!(f, "{e}"),
            Self::SectionPaths(e) => write!(f, "{e}"),
            Self::Store(e) => write!(f, "{e}"),
            Self::Tls => f.write_str("cannot make the TLS context for Redis (see the line above)"),
            Self::Resolve(host, e) => write!(f, "cannot resolve \"{host}\": {e}"),
            Self::InFile(at, e) => write!(f, "in {at}: {e}"),
        }
    }
}

impl From<ValueError> for DirectiveError {
    fn from(e: ValueError) -> Self {
        DirectiveError::Value(e)
    }
}

/// Replaces ngx's default merge, which fails without saying why.
pub unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut c_void,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes the configuration being parsed and two location
    // configurations created by our `create_loc_conf`, distinct objects of
    // type `LocConf`.
    let (Some(cf), Some(prev), Some(conf)) = (
        unsafe { cf.as_ref() },
        unsafe { prev.cast::<LocConf>().as_ref() },
        unsafe { conf.cast::<LocConf>().as_mut() },
    ) else {
        return NGX_CONF_ERROR;
    };
    // Without `..`: a field added to `LocConf` must be thought about here.
    let LocConf { settings, active } = conf;
    settings.inherit(&prev.settings);
    let zone = match DashAuthModule::main_conf(cf).map(|m| &m.zone) {
        Some(Setting::On(zone)) => Some(*zone),
        _ => None,
    };
    let policy = match settings.policy(zone.is_some()) {
        Ok(Some(policy)) => policy,
        Ok(None) => {
            *active = None;
            return NGX_CONF_OK;
        }
        Err(e) => return cf.emerg(&e),
    };
    if let Some(main) = DashAuthModule::main_conf_mut(cf) {
        main.horizon = main.horizon.max(policy.token_horizon());
    }
    let pool = settings.thread_pool();
    let Some(threads) = cf.thread_pool(&pool) else {
        return cf.emerg(&format_args!("cannot use thread pool \"{pool}\""));
    };
    *active = Some(Arc::new(Active {
        policy,
        zone,
        threads,
        error_page_403: cf.has_error_page(403),
    }));
    NGX_CONF_OK
}

const ANY_LEVEL: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

type Handler =
    unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char;

const fn command(name: ngx_str_t, args: u32, set: Handler) -> ngx_command_t {
    ngx_command_t {
        name,
        type_: (ANY_LEVEL | args) as ngx_uint_t,
        set: Some(set),
        conf: NGX_HTTP_LOC_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    }
}

pub static mut COMMANDS: [ngx_command_t; 42] = [
    ngx_command_t {
        name: ngx_string!("dash_auth_redis"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE) as ngx_uint_t,
        set: Some(cmd_redis),
        conf: NGX_HTTP_MAIN_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("dash_auth_zone"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12) as ngx_uint_t,
        set: Some(cmd_zone),
        conf: NGX_HTTP_MAIN_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    command(ngx_string!("dash_auth_login"), NGX_CONF_TAKE1, cmd_login),
    command(
        ngx_string!("dash_auth_login_page"),
        NGX_CONF_TAKE1,
        cmd_login_page,
    ),
    command(ngx_string!("dash_auth_logout"), NGX_CONF_TAKE1, cmd_logout),
    command(ngx_string!("dash_auth_origin"), NGX_CONF_1MORE, cmd_origin),
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
        ngx_string!("dash_auth_thread_pool"),
        NGX_CONF_TAKE1,
        cmd_thread_pool,
    ),
    command(
        ngx_string!("dash_auth_hash_queue"),
        NGX_CONF_TAKE1,
        cmd_hash_queue,
    ),
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
        ngx_string!("dash_auth_section_paths"),
        NGX_CONF_2MORE,
        cmd_section_paths,
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
    command(
        ngx_string!("dash_auth_allow_unchecked"),
        NGX_CONF_1MORE,
        cmd_allow_unchecked,
    ),
    command(
        ngx_string!("dash_auth_password"),
        NGX_CONF_TAKE1,
        cmd_password,
    ),
    command(
        ngx_string!("dash_auth_oidc_issuer"),
        NGX_CONF_TAKE1,
        cmd_oidc_issuer,
    ),
    command(
        ngx_string!("dash_auth_oidc_client_id"),
        NGX_CONF_TAKE1,
        cmd_oidc_client_id,
    ),
    command(
        ngx_string!("dash_auth_oidc_client_secret_file"),
        NGX_CONF_TAKE1,
        cmd_oidc_client_secret,
    ),
    command(
        ngx_string!("dash_auth_oidc_client_auth"),
        NGX_CONF_TAKE1,
        cmd_oidc_client_auth,
    ),
    command(
        ngx_string!("dash_auth_oidc_scopes"),
        NGX_CONF_1MORE,
        cmd_oidc_scopes,
    ),
    command(
        ngx_string!("dash_auth_oidc_redirect_path"),
        NGX_CONF_TAKE1,
        cmd_oidc_redirect,
    ),
    command(
        ngx_string!("dash_auth_oidc_user_claim"),
        NGX_CONF_TAKE1,
        cmd_oidc_user_claim,
    ),
    command(
        ngx_string!("dash_auth_oidc_groups_claim"),
        NGX_CONF_TAKE1,
        cmd_oidc_groups_claim,
    ),
    command(
        ngx_string!("dash_auth_oidc_groups"),
        NGX_CONF_TAKE1,
        cmd_oidc_groups,
    ),
    command(
        ngx_string!("dash_auth_oidc_fetch_location"),
        NGX_CONF_TAKE1,
        cmd_oidc_fetch,
    ),
    command(
        ngx_string!("dash_auth_oidc_jwks_refresh"),
        NGX_CONF_TAKE1,
        cmd_oidc_refresh,
    ),
    command(
        ngx_string!("dash_auth_oidc_post_logout_path"),
        NGX_CONF_TAKE1,
        cmd_oidc_post_logout,
    ),
    ngx_command_t::empty(),
];

/// Runs a directive's typed body against the configuration `T` it writes
/// and maps its result to what nginx expects.
///
/// `body` returns `Ok(false)` when the directive was already set at this
/// level, which nginx reports as `"<name>" directive is duplicate`.
fn directive<T>(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    body: impl FnOnce(&ngx_conf_t, &mut T) -> Result<bool, DirectiveError>,
) -> *mut c_char {
    // SAFETY: nginx calls directive handlers with the configuration being
    // parsed and, per the command's `conf` offset, the `LocConf` or
    // `MainConf` the handler was declared for.
    let (Some(cf), Some(conf)) = (unsafe { cf.as_ref() }, unsafe { conf.cast::<T>().as_mut() })
    else {
        return NGX_CONF_ERROR;
    };
    match body(cf, conf) {
        Ok(true) => NGX_CONF_OK,
        Ok(false) => conf_msg(c"is duplicate"),
        Err(e) => cf.error(&format_args!("directive {e}")),
    }
}

/// A location-level directive: it writes the `Settings` of its level.
fn setting(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    body: impl FnOnce(&ngx_conf_t, &mut Settings) -> Result<bool, DirectiveError>,
) -> *mut c_char {
    directive::<LocConf>(cf, conf, |cf, conf| body(cf, &mut conf.settings))
}

/// The `i`-th argument; nginx's argument count checks guarantee the ones
/// a directive declares.
fn arg(cf: &ngx_conf_t, i: usize) -> Result<&ngx_str_t, DirectiveError> {
    cf.args()
        .get(i)
        .ok_or_else(|| DirectiveError::InvalidParameter("missing argument".into()))
}

fn text(a: &ngx_str_t) -> Result<&str, DirectiveError> {
    a.to_str().map_err(|_| DirectiveError::NotUtf8)
}

fn arg1(cf: &ngx_conf_t) -> Result<&str, DirectiveError> {
    text(arg(cf, 1)?)
}

fn set_once<T: Clone>(
    slot: &mut Setting<T>,
    value: impl FnOnce() -> Result<Setting<T>, DirectiveError>,
) -> Result<bool, DirectiveError> {
    if slot.is_set() {
        return Ok(false);
    }
    *slot = value()?;
    Ok(true)
}

/// The argument `i` as a time in seconds, zero included.
fn time_arg(cf: &ngx_conf_t, i: usize) -> Result<u64, DirectiveError> {
    let a = arg(cf, i)?;
    parse_time(a).ok_or_else(|| DirectiveError::InvalidTime(text(a).unwrap_or_default().into()))
}

/// The argument `i` as a size in bytes, zero refused: no bound of the
/// module is useful at zero.
fn size_arg(cf: &ngx_conf_t, i: usize) -> Result<usize, DirectiveError> {
    let a = arg(cf, i)?;
    parse_size(a)
        .filter(|&n| n > 0)
        .ok_or_else(|| DirectiveError::InvalidSize(text(a).unwrap_or_default().into()))
}

/// The argument `i` as a time where zero means nothing.
fn nonzero_time_arg(cf: &ngx_conf_t, i: usize) -> Result<u64, DirectiveError> {
    config::nonzero_time(time_arg(cf, i)?).map_err(|_| {
        DirectiveError::InvalidTime(arg(cf, i).and_then(text).unwrap_or_default().into())
    })
}

fn flag(cf: &ngx_conf_t) -> Result<Flag, DirectiveError> {
    match arg1(cf)? {
        "on" => Ok(Flag::from_bool(true)),
        "off" => Ok(Flag::from_bool(false)),
        other => Err(DirectiveError::InvalidFlag(other.into())),
    }
}

fn file(cf: &ngx_conf_t) -> Result<std::path::PathBuf, DirectiveError> {
    cf.full_path(arg(cf, 1)?).ok_or(DirectiveError::Path)
}

/// A directive whose one argument sets one field, once.
macro_rules! one_value {
    ($handler:ident, $field:ident, |$cf:ident| $parse:expr) => {
        extern "C" fn $handler(
            cf: *mut ngx_conf_t,
            _: *mut ngx_command_t,
            conf: *mut c_void,
        ) -> *mut c_char {
            setting(cf, conf, |$cf, s| set_once(&mut s.$field, || $parse))
        }
    };
}

one_value!(cmd_dash_auth, realm, |cf| match arg1(cf)? {
    "off" => Ok(Setting::Off),
    realm => Ok(Setting::On(config::realm(realm, cf.position())?)),
});

one_value!(cmd_user_file, users, |cf| UsersFile::load(&file(cf)?)
    .map(|u| Setting::On(Arc::new(u)))
    .map_err(DirectiveError::Users));

extern "C" fn cmd_secret_file(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // Repeatable: the first key signs, every listed key verifies the tokens
    // that name its kid (see `dash_auth_core::token::Secret`).
    setting(cf, conf, |cf, s| {
        let kid = match cf.args().get(2) {
            None => None,
            Some(a) => {
                let a = text(a)?;
                let kid = a
                    .strip_prefix("kid=")
                    .ok_or_else(|| DirectiveError::InvalidParameter(a.to_string()))?;
                Some(kid)
            }
        };
        let key = Secret::load_with_kid(&file(cf)?, kid).map_err(DirectiveError::Secret)?;
        match &mut s.secret {
            Setting::On(keys) => Arc::make_mut(keys)
                .append(key)
                .map_err(DirectiveError::Secret)?,
            slot => *slot = Setting::On(Arc::new(key)),
        }
        Ok(true)
    })
}

one_value!(cmd_cookie, cookie, |cf| Ok(Setting::On(
    config::cookie_name(arg1(cf)?)?
)));

one_value!(cmd_token_ttl, ttl, |cf| Ok(Setting::On(nonzero_time_arg(
    cf, 1
)?)));

one_value!(cmd_leeway, leeway, |cf| Ok(Setting::On(time_arg(cf, 1)?)));

one_value!(cmd_sections, sections, |cf| {
    let mut names = Vec::new();
    for a in cf.args().get(1..).unwrap_or_default() {
        names.push(text(a)?);
    }
    Sections::new(names)
        .map(|s| Setting::On(Arc::new(s)))
        .map_err(DirectiveError::Sections)
});

extern "C" fn cmd_section_paths(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // Repeatable, once per section: the level's directives make one list
    // (see `dash_auth_core::section::SectionPaths`).
    setting(cf, conf, |cf, s| {
        let section = arg1(cf)?;
        let mut paths = Vec::new();
        for a in cf.args().get(2..).unwrap_or_default() {
            paths.push(text(a)?);
        }
        let mut list = match &s.section_paths {
            Setting::On(list) => SectionPaths::clone(list),
            Setting::Unset | Setting::Off => SectionPaths::default(),
        };
        list.add(section, &paths, cf.position())
            .map_err(DirectiveError::SectionPaths)?;
        s.section_paths = Setting::On(Arc::new(list));
        Ok(true)
    })
}

one_value!(cmd_allow_unchecked, allow_unchecked, |cf| {
    let mut entries = Vec::new();
    for a in cf.args().get(1..).unwrap_or_default() {
        entries.push(text(a)?);
    }
    UncheckedRoutes::new(entries)
        .map(|r| Setting::On(Arc::new(r)))
        .map_err(|e| DirectiveError::InvalidParameter(e.0))
});

one_value!(cmd_dash_prefix, dash_prefix, |cf| {
    let prefix = arg1(cf)?;
    Sections::default()
        .with_prefix(prefix)
        .map(|_| Setting::On(prefix.to_string()))
        .map_err(DirectiveError::Sections)
});

one_value!(cmd_dependencies_file, registry, |cf| {
    let path = file(cf)?;
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| DirectiveError::Io(shown.clone(), e))?;
    Registry::from_dependencies_json(&bytes)
        .map(|r| Setting::On(Arc::new(r)))
        .map_err(|e| DirectiveError::Registry(shown, e))
});

one_value!(cmd_callback_check, callback_check, |cf| flag(cf));

one_value!(cmd_filter_dependencies, filter_dependencies, |cf| flag(cf));

one_value!(cmd_body_max, body_max, |cf| Ok(Setting::On(size_arg(
    cf, 1
)?)));

one_value!(cmd_response_max, response_max, |cf| Ok(Setting::On(
    size_arg(cf, 1)?
)));

one_value!(cmd_basic_cache, basic_cache, |cf| flag(cf));

one_value!(cmd_basic_cache_ttl, basic_cache_ttl, |cf| Ok(Setting::On(
    time_arg(cf, 1)?
)));

one_value!(cmd_basic_cache_size, basic_cache_size, |cf| Ok(
    Setting::On(config::cache_entries(arg1(cf)?)?)
));

one_value!(cmd_login, login, |cf| match arg1(cf)? {
    "off" => Ok(Setting::Off),
    path => Ok(Setting::On(config::page_path(path)?)),
});

one_value!(cmd_logout, logout, |cf| Ok(Setting::On(config::page_path(
    arg1(cf)?
)?)));

one_value!(cmd_origin, origins, |cf| {
    let mut values = Vec::new();
    for a in cf.args().get(1..).unwrap_or_default() {
        values.push(text(a)?);
    }
    Ok(Setting::On(Arc::new(config::origins(values)?)))
});

one_value!(cmd_login_page, login_page, |cf| {
    let path = file(cf)?;
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| DirectiveError::Io(shown, e))?;
    Ok(Setting::On(Arc::new(text)))
});

one_value!(cmd_max_age, max_age, |cf| Ok(Setting::On(time_arg(cf, 1)?)));

one_value!(cmd_thread_pool, thread_pool, |cf| {
    let name = config::thread_pool(arg1(cf)?)?;
    // Added here, not only at the merge, so that nginx names this line
    // if no `thread_pool` declares it.
    cf.thread_pool(&name)
        .ok_or_else(|| DirectiveError::InvalidParameter(name.clone()))?;
    Ok(Setting::On(name))
});

one_value!(cmd_hash_queue, hash_queue, |cf| Ok(Setting::On(
    config::hash_queue(arg1(cf)?)?
)));

/// [`one_value!`] for the single sign-on directives.
macro_rules! sso_value {
    ($handler:ident, $field:ident, |$cf:ident| $parse:expr) => {
        extern "C" fn $handler(
            cf: *mut ngx_conf_t,
            _: *mut ngx_command_t,
            conf: *mut c_void,
        ) -> *mut c_char {
            setting(cf, conf, |$cf, s| set_once(&mut s.sso.$field, || $parse))
        }
    };
}

sso_value!(cmd_password, passwords, |cf| flag(cf));

sso_value!(cmd_oidc_issuer, issuer, |cf| match arg1(cf)? {
    "off" => Ok(Setting::Off),
    url => Ok(Setting::On(sso::issuer(url, cf.position())?)),
});

sso_value!(cmd_oidc_client_id, client_id, |cf| Ok(Setting::On(
    sso::client_id(arg1(cf)?)?
)));

sso_value!(cmd_oidc_client_secret, client_secret, |cf| {
    let path = file(cf)?;
    let shown = path.display().to_string();
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(&path).map_err(|e| DirectiveError::Io(shown.clone(), e))?,
    );
    sso::client_secret(&bytes)
        .map(Setting::On)
        .map_err(|e| DirectiveError::InFile(shown, e.to_string()))
});

sso_value!(cmd_oidc_client_auth, client_auth, |cf| Ok(Setting::On(
    sso::client_auth(arg1(cf)?)?
)));

sso_value!(cmd_oidc_scopes, scopes, |cf| {
    let mut values = Vec::new();
    for a in cf.args().get(1..).unwrap_or_default() {
        values.push(text(a)?);
    }
    Ok(Setting::On(sso::scopes(values)?))
});

sso_value!(cmd_oidc_redirect, redirect, |cf| Ok(Setting::On(
    config::page_path(arg1(cf)?)?
)));

sso_value!(cmd_oidc_post_logout, post_logout, |cf| Ok(Setting::On(
    config::page_path(arg1(cf)?)?
)));

sso_value!(cmd_oidc_fetch, fetch, |cf| Ok(Setting::On(
    config::page_path(arg1(cf)?)?
)));

sso_value!(cmd_oidc_user_claim, user_claim, |cf| Ok(Setting::On(
    sso::claim(arg1(cf)?)?
)));

sso_value!(cmd_oidc_groups_claim, groups_claim, |cf| Ok(Setting::On(
    sso::claim(arg1(cf)?)?
)));

sso_value!(cmd_oidc_refresh, refresh, |cf| Ok(Setting::On(
    nonzero_time_arg(cf, 1)?
)));

sso_value!(cmd_oidc_groups, groups, |cf| {
    let path = file(cf)?;
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| DirectiveError::Io(shown.clone(), e))?;
    match groups::parse(&text) {
        Ok(map) => Ok(Setting::On(Arc::new(sso::GroupsFile { map, path: shown }))),
        Err(e) => Err(DirectiveError::InFile(
            format!("{shown}:{}", e.line),
            e.to_string(),
        )),
    }
});

one_value!(cmd_login_limit, login_limit, |cf| {
    let first = arg1(cf)?;
    if first == "off" && cf.args().len() == 2 {
        return Ok(Setting::Off);
    }
    // The times are checked first so that a bad one is named as a time.
    let window = nonzero_time_arg(cf, 2)?;
    let cooldown = nonzero_time_arg(cf, 3)?;
    Ok(Setting::On(config::login_limit(first, window, cooldown)?))
});

extern "C" fn cmd_zone(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive::<MainConf>(cf, conf, |cf, main| {
        set_once(&mut main.zone, || {
            if arg1(cf)? == "off" {
                return Ok(Setting::Off);
            }
            let size = arg(cf, 2)
                .map_err(|_| DirectiveError::InvalidParameter("zone size missing".into()))?;
            let size = config::zone_size(parse_size(size), text(size).unwrap_or_default())?;
            let zone = Zone::add(cf, arg(cf, 1)?, size).ok_or(DirectiveError::Zone)?;
            Ok(Setting::On(zone))
        })
    })
}

extern "C" fn cmd_redis(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    directive::<MainConf>(cf, conf, |cf, main| {
        if main.store.is_some() {
            return Ok(false);
        }
        let mut args = Vec::new();
        for a in cf.args().get(1..).unwrap_or_default() {
            args.push(text(a)?);
        }
        let d = dash_auth_core::store::parse_directive(&args).map_err(DirectiveError::Store)?;
        // Resolved once, at configuration time, as nginx does for the
        // servers of an upstream block.
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(d.host.as_str(), d.port))
            .map_err(|e| DirectiveError::Resolve(d.host.clone(), e.to_string()))?
            .next()
            .ok_or_else(|| DirectiveError::Resolve(d.host.clone(), "no address".into()))?;
        let password = match &d.password_file {
            None => None,
            Some(f) => {
                let path = cf.full_path_of(f).ok_or(DirectiveError::Path)?;
                let shown = path.display().to_string();
                let bytes = zeroize::Zeroizing::new(
                    std::fs::read(&path).map_err(|e| DirectiveError::Io(shown, e))?,
                );
                let end = bytes
                    .iter()
                    .rposition(|b| !b.is_ascii_whitespace())
                    .map_or(0, |i| i + 1);
                Some(zeroize::Zeroizing::new(
                    bytes.get(..end).unwrap_or_default().to_vec(),
                ))
            }
        };
        let timeout_ms = match &d.timeout {
            None => dash_auth_core::store::DEFAULT_TIMEOUT_MS,
            Some(t) => ext::parse_msec(t)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| DirectiveError::InvalidTime(t.clone()))?,
        };
        let tls = match &d.tls {
            None => None,
            Some(t) => {
                let path = cf
                    .full_path_of(&t.trusted_certificate)
                    .ok_or(DirectiveError::Path)?;
                let ssl = cf.ssl_client(&path).ok_or(DirectiveError::Tls)?;
                Some(crate::store::StoreTls {
                    ssl,
                    name: t.name.clone().into_bytes(),
                })
            }
        };
        let name = format!("{}:{}", d.host, d.port);
        let store = crate::store::StoreConf {
            addr,
            name,
            prefix: d.prefix,
            password,
            timeout_ms,
            tls,
        };
        main.store = Some((store, cf.position()));
        Ok(true)
    })
}

/// `init_main_conf`: the store writes into the zone, so it needs one.
pub unsafe extern "C" fn init_main_conf(cf: *mut ngx_conf_t, conf: *mut c_void) -> *mut c_char {
    // SAFETY: nginx passes the configuration and the `MainConf` made by
    // `create_main_conf`.
    let (Some(cf), Some(main)) = (unsafe { cf.as_ref() }, unsafe {
        conf.cast::<MainConf>().as_ref()
    }) else {
        return NGX_CONF_ERROR;
    };
    match (&main.store, main.zone()) {
        (Some((_, at)), None) => cf.emerg(&format_args!(
            "\"dash_auth_redis\" in {at} needs \"dash_auth_zone\""
        )),
        _ => NGX_CONF_OK,
    }
}
