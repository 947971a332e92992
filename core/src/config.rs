//! The directives' values, their inheritance, their defaults, and the
//! [`Policy`] a location ends up with.
//!
//! nginx parses the arguments (times, sizes, paths) and stores them here;
//! everything after that is decided in this file, so that a location's
//! behaviour can be tested without nginx: which directive a location lacks,
//! what an unset directive means, what `off` turns off.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::access::Policy;
use crate::basic;
use crate::basic_cache::BasicCache;
use crate::csrf::SiteOrigin;
use crate::dash::Registry;
use crate::endpoint::UncheckedRoutes;
use crate::login;
use crate::oidc::config::SsoSettings;
use crate::oidc::sso::Sso;
use crate::password_check::{DEFAULT_HASH_QUEUE, DEFAULT_THREAD_POOL};
use crate::rate_limit::{self, Limit};
use crate::return_path;
use crate::section::{PathsConflict, SectionError, SectionPaths, Sections};
use crate::token::Secret;
use crate::users::UsersFile;

pub const DEFAULT_COOKIE_NAME: &str = "example_jwt";
/// Token lifetime and cookie `Max-Age`, in seconds.
pub const DEFAULT_TTL: u64 = 3600;
pub const DEFAULT_LEEWAY: u64 = 0;
/// 0: no absolute session length.
pub const DEFAULT_MAX_AGE: u64 = 0;
pub const DEFAULT_LOGOUT: &str = "/logout";
pub const DEFAULT_BASIC_CACHE_TTL: u64 = 60;
pub const DEFAULT_BASIC_CACHE_SIZE: usize = 1024;
pub const DEFAULT_BODY_MAX: usize = 1024 * 1024;
pub const DEFAULT_RESPONSE_MAX: usize = 8 * 1024 * 1024;
pub const DEFAULT_LOGIN_LIMIT: Limit = rate_limit::DEFAULT;
/// The smallest `dash_auth_zone`: room for useful tables next to the slab
/// pool's own bookkeeping.
pub const MIN_ZONE_SIZE: usize = 64 * 1024;

/// One directive's value at one configuration level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Setting<T> {
    /// Not written at this level: inherited, or the default.
    #[default]
    Unset,
    /// Written as `off`.
    Off,
    On(T),
}

impl<T: Clone> Setting<T> {
    pub fn is_set(&self) -> bool {
        !matches!(self, Setting::Unset)
    }

    /// nginx's rule: a level that does not write a directive takes its
    /// parent's value.
    pub fn inherit(&mut self, parent: &Setting<T>) {
        if !self.is_set() {
            self.clone_from(parent);
        }
    }

    /// The value written, `None` for `off`, `default` when unset.
    pub fn or(&self, default: Option<T>) -> Option<T> {
        match self {
            Setting::Unset => default,
            Setting::Off => None,
            Setting::On(v) => Some(v.clone()),
        }
    }

    /// The value written, or `default` when unset or `off`.
    pub fn value_or(&self, default: T) -> T {
        match self {
            Setting::On(v) => v.clone(),
            Setting::Unset | Setting::Off => default,
        }
    }
}

/// An `on | off` directive.
pub type Flag = Setting<()>;

impl Flag {
    pub fn from_bool(on: bool) -> Flag {
        if on {
            Setting::On(())
        } else {
            Setting::Off
        }
    }

    pub fn enabled(&self, default: bool) -> bool {
        match self {
            Setting::Unset => default,
            Setting::Off => false,
            Setting::On(()) => true,
        }
    }
}

/// `dash_auth "realm"`, with where it was written, for messages about the
/// location it switches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    pub name: String,
    pub defined_at: String,
}

/// Every directive of the module, at one configuration level.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub realm: Setting<Realm>,
    pub users: Setting<Arc<UsersFile>>,
    pub secret: Setting<Arc<Secret>>,
    pub cookie: Setting<String>,
    pub ttl: Setting<u64>,
    pub leeway: Setting<u64>,
    pub sections: Setting<Arc<Sections>>,
    pub section_paths: Setting<Arc<SectionPaths>>,
    pub dash_prefix: Setting<String>,
    pub registry: Setting<Arc<Registry>>,
    pub callback_check: Flag,
    pub body_max: Setting<usize>,
    pub response_max: Setting<usize>,
    pub filter_dependencies: Flag,
    pub basic_cache: Flag,
    pub basic_cache_ttl: Setting<u64>,
    pub basic_cache_size: Setting<usize>,
    pub login: Setting<String>,
    pub login_page: Setting<Arc<String>>,
    pub logout: Setting<String>,
    pub origins: Setting<Arc<Vec<SiteOrigin>>>,
    pub max_age: Setting<u64>,
    pub login_limit: Setting<Limit>,
    pub allow_unchecked: Setting<Arc<UncheckedRoutes>>,
    pub thread_pool: Setting<String>,
    pub hash_queue: Setting<usize>,
    /// Single sign-on and `dash_auth_password`.
    pub sso: SsoSettings,
}

/// Why a directive's argument was refused. Printed after
/// `"<directive>" directive`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    InvalidCookieName(String),
    InvalidRealm,
    InvalidParameter(String),
    InvalidSize(String),
    ZeroTime,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::InvalidCookieName(v) => write!(f, "has invalid cookie name \"{v}\""),
            ValueError::InvalidRealm => f.write_str("realm must not contain control characters"),
            ValueError::InvalidParameter(v) => write!(f, "has invalid parameter \"{v}\""),
            ValueError::InvalidSize(v) => write!(f, "has invalid size value \"{v}\""),
            ValueError::ZeroTime => f.write_str("has invalid time value \"0\""),
        }
    }
}

/// Why a location where `dash_auth` is on cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeError {
    Missing {
        directive: &'static str,
        defined_at: String,
    },
    Prefix(SectionError),
    SectionPaths(PathsConflict),
    /// Single sign-on cannot work as configured; the message says why.
    Sso(String),
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
            Self::Sso(why) => f.write_str(why),
            Self::SectionPaths(e) => {
                write!(f, "\"dash_auth_section_paths\" at {}: {e}", e.defined_at())
            }
        }
    }
}

/// `dash_auth <realm>`: refused if a control character would break the
/// challenge header.
pub fn realm(name: &str, defined_at: String) -> Result<Realm, ValueError> {
    if name.chars().any(char::is_control) {
        return Err(ValueError::InvalidRealm);
    }
    Ok(Realm {
        name: name.to_owned(),
        defined_at,
    })
}

/// `dash_auth_cookie <name>`: an RFC 6265 cookie-name.
pub fn cookie_name(name: &str) -> Result<String, ValueError> {
    if crate::cookie::valid_cookie_name(name) {
        Ok(name.to_owned())
    } else {
        Err(ValueError::InvalidCookieName(name.to_owned()))
    }
}

/// A location path for the login or logout page: validated like a return
/// path, and without a query or anything HTML would read as markup.
pub fn page_path(p: &str) -> Result<String, ValueError> {
    match return_path::validate(p.as_bytes()) {
        Some(v) if !v.contains(['?', '#', '"', '\'', '<', '>']) => Ok(v.to_owned()),
        _ => Err(ValueError::InvalidParameter(p.to_owned())),
    }
}

/// `dash_auth_origin origin ...`: each one as an `Origin` header carries
/// it, `scheme://host[:port]`, scheme `http` or `https`.
pub fn origins<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<SiteOrigin>, ValueError> {
    let mut out = Vec::new();
    for v in values {
        let o = SiteOrigin::parse(v.as_bytes())
            .ok_or_else(|| ValueError::InvalidParameter(v.to_owned()))?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

/// `dash_auth_login_limit failures window cooldown`: the count is a
/// positive integer up to a million; both times are positive (see
/// [`nonzero_time`]).
pub fn login_limit(failures: &str, window: u64, cooldown: u64) -> Result<Limit, ValueError> {
    let max_failures = failures
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| ValueError::InvalidParameter(failures.to_owned()))?;
    Ok(Limit {
        max_failures,
        window: nonzero_time(window)?,
        cooldown: nonzero_time(cooldown)?,
    })
}

/// `dash_auth_basic_cache_size`: a count of entries, not a size, so no
/// `k`/`m` suffixes; at least one.
pub fn cache_entries(n: &str) -> Result<usize, ValueError> {
    n.parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| ValueError::InvalidSize(n.to_owned()))
}

/// `dash_auth_hash_queue n`: password checks queued or running per
/// worker, at least one. nginx's own thread queue takes at most 65536.
pub fn hash_queue(n: &str) -> Result<usize, ValueError> {
    n.parse::<usize>()
        .ok()
        .filter(|&n| (1..=65536).contains(&n))
        .ok_or_else(|| ValueError::InvalidParameter(n.to_owned()))
}

/// `dash_auth_thread_pool name`: a pool named by `thread_pool`, or
/// nginx's `default`.
pub fn thread_pool(name: &str) -> Result<String, ValueError> {
    if name.is_empty() || name.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(ValueError::InvalidParameter(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// `dash_auth_zone name size`: `bytes` as nginx parsed `shown`.
pub fn zone_size(bytes: Option<usize>, shown: &str) -> Result<usize, ValueError> {
    bytes
        .filter(|&n| n >= MIN_ZONE_SIZE)
        .ok_or_else(|| ValueError::InvalidSize(shown.to_owned()))
}

/// For a time where zero means nothing (a token lifetime): refused.
pub fn nonzero_time(secs: u64) -> Result<u64, ValueError> {
    if secs == 0 {
        Err(ValueError::ZeroTime)
    } else {
        Ok(secs)
    }
}

impl Settings {
    /// Takes every directive this level does not write from `parent`.
    ///
    /// Both sides are destructured without `..`: a field added to
    /// [`Settings`] and forgotten here does not compile.
    pub fn inherit(&mut self, parent: &Settings) {
        let Settings {
            realm,
            users,
            secret,
            cookie,
            ttl,
            leeway,
            sections,
            section_paths,
            dash_prefix,
            registry,
            callback_check,
            body_max,
            response_max,
            filter_dependencies,
            basic_cache,
            basic_cache_ttl,
            basic_cache_size,
            login,
            login_page,
            logout,
            origins,
            max_age,
            login_limit,
            allow_unchecked,
            thread_pool,
            hash_queue,
            sso,
        } = self;
        let Settings {
            realm: p_realm,
            users: p_users,
            secret: p_secret,
            cookie: p_cookie,
            ttl: p_ttl,
            leeway: p_leeway,
            sections: p_sections,
            section_paths: p_section_paths,
            dash_prefix: p_dash_prefix,
            registry: p_registry,
            callback_check: p_callback_check,
            body_max: p_body_max,
            response_max: p_response_max,
            filter_dependencies: p_filter_dependencies,
            basic_cache: p_basic_cache,
            basic_cache_ttl: p_basic_cache_ttl,
            basic_cache_size: p_basic_cache_size,
            login: p_login,
            login_page: p_login_page,
            logout: p_logout,
            origins: p_origins,
            max_age: p_max_age,
            login_limit: p_login_limit,
            allow_unchecked: p_allow_unchecked,
            thread_pool: p_thread_pool,
            hash_queue: p_hash_queue,
            sso: p_sso,
        } = parent;
        realm.inherit(p_realm);
        users.inherit(p_users);
        secret.inherit(p_secret);
        cookie.inherit(p_cookie);
        ttl.inherit(p_ttl);
        leeway.inherit(p_leeway);
        sections.inherit(p_sections);
        section_paths.inherit(p_section_paths);
        dash_prefix.inherit(p_dash_prefix);
        registry.inherit(p_registry);
        callback_check.inherit(p_callback_check);
        body_max.inherit(p_body_max);
        response_max.inherit(p_response_max);
        filter_dependencies.inherit(p_filter_dependencies);
        basic_cache.inherit(p_basic_cache);
        basic_cache_ttl.inherit(p_basic_cache_ttl);
        basic_cache_size.inherit(p_basic_cache_size);
        login.inherit(p_login);
        login_page.inherit(p_login_page);
        logout.inherit(p_logout);
        origins.inherit(p_origins);
        max_age.inherit(p_max_age);
        login_limit.inherit(p_login_limit);
        allow_unchecked.inherit(p_allow_unchecked);
        thread_pool.inherit(p_thread_pool);
        hash_queue.inherit(p_hash_queue);
        sso.inherit(p_sso);
    }

    /// The name of the nginx thread pool password checks run on.
    pub fn thread_pool(&self) -> String {
        self.thread_pool.value_or(DEFAULT_THREAD_POOL.to_owned())
    }

    /// The policy of a location, after [`inherit`](Settings::inherit):
    /// `None` where `dash_auth` is off. `zone` says whether a
    /// `dash_auth_zone` is in effect, without which logout could not revoke.
    pub fn policy(&self, zone: bool) -> Result<Option<Policy>, MergeError> {
        let Setting::On(realm) = &self.realm else {
            return Ok(None);
        };
        let missing = |directive| MergeError::Missing {
            directive,
            defined_at: realm.defined_at.clone(),
        };
        let Setting::On(users) = &self.users else {
            return Err(missing("dash_auth_user_file"));
        };
        let Setting::On(secret) = &self.secret else {
            return Err(missing("dash_auth_secret_file"));
        };
        let login = match &self.login {
            Setting::On(path) => {
                if !zone {
                    return Err(missing("dash_auth_zone"));
                }
                Some(LoginPages {
                    script: login::expiry_script(path).into_bytes(),
                    path: path.clone(),
                    logout: self.logout.value_or(DEFAULT_LOGOUT.to_owned()),
                    page: self
                        .login_page
                        .value_or(Arc::new(login::DEFAULT_PAGE.to_owned())),
                    origins: self.origins.value_or(Arc::default()),
                })
            }
            Setting::Unset | Setting::Off => None,
        };
        let sections = match &self.sections {
            Setting::On(s) => Sections::clone(s),
            Setting::Unset | Setting::Off => Sections::default(),
        };
        let sections = match &self.dash_prefix {
            Setting::On(prefix) => sections.with_prefix(prefix).map_err(MergeError::Prefix)?,
            Setting::Unset | Setting::Off => sections,
        };
        // Checked here, not where written: the sections in effect may come
        // from another level, or later in the same block.
        let sections = match &self.section_paths {
            Setting::On(paths) => sections
                .with_paths(paths)
                .map_err(MergeError::SectionPaths)?,
            Setting::Unset | Setting::Off => sections,
        };
        let sso = self.sso.build(&sections)?;
        let passwords = self.sso.passwords.enabled(true);
        if !passwords && sso.is_none() {
            return Err(MergeError::Sso(format!(
                "\"dash_auth_password off\" in effect for \"dash_auth\" enabled at {} \
                 leaves no way to sign in: it needs \"dash_auth_oidc_issuer\"",
                realm.defined_at
            )));
        }
        if let (Some(sso), Some(login)) = (&sso, &login) {
            if [login.path.as_str(), login.logout.as_str()].contains(&sso.redirect.as_str()) {
                return Err(MergeError::Sso(format!(
                    "\"dash_auth_oidc_redirect_path\" \"{}\" is also the login or logout path",
                    sso.redirect
                )));
            }
        }
        // One cache per location, in each worker's memory (see
        // basic_cache); none if no random key could be had.
        let basic_cache = if self.basic_cache.enabled(true) {
            BasicCache::new(
                self.basic_cache_ttl.value_or(DEFAULT_BASIC_CACHE_TTL),
                self.basic_cache_size.value_or(DEFAULT_BASIC_CACHE_SIZE),
            )
            .map(|c| Arc::new(Mutex::new(c)))
        } else {
            None
        };
        Ok(Some(Policy {
            users: Arc::clone(users),
            secret: Arc::clone(secret),
            cookie_name: self.cookie.value_or(DEFAULT_COOKIE_NAME.to_owned()),
            ttl: self.ttl.value_or(DEFAULT_TTL),
            leeway: self.leeway.value_or(DEFAULT_LEEWAY),
            sections: Arc::new(sections),
            basic_cache,
            max_age: self.max_age.value_or(DEFAULT_MAX_AGE),
            challenge: basic::challenge(&realm.name),
            callbacks: CallbackRules {
                check: self.callback_check.enabled(true),
                body_max: self.body_max.value_or(DEFAULT_BODY_MAX),
                response_max: self.response_max.value_or(DEFAULT_RESPONSE_MAX),
                registry: self.registry.or(None),
                filter_dependencies: self.filter_dependencies.enabled(false),
            },
            login,
            limit: self.login_limit.or(Some(DEFAULT_LOGIN_LIMIT)),
            unchecked: self.allow_unchecked.value_or(Arc::default()),
            hash_queue: self.hash_queue.value_or(DEFAULT_HASH_QUEUE),
            sso: sso.map(|c| Arc::new(Sso::new(c))),
            passwords,
        }))
    }
}

/// The login and logout pages of one location tree (`dash_auth_login`).
#[derive(Debug, Clone)]
pub struct LoginPages {
    pub path: String,
    pub logout: String,
    /// The page template ([`login::DEFAULT_PAGE`] or a file).
    pub page: Arc<String>,
    /// Injected into the app's HTML pages (see [`login::expiry_script`]).
    pub script: Vec<u8>,
    /// Origins besides the request's own that may post the forms
    /// (`dash_auth_origin`; see [`crate::csrf`]).
    pub origins: Arc<Vec<SiteOrigin>>,
}

/// How Dash callbacks are checked in one location.
#[derive(Debug, Clone)]
pub struct CallbackRules {
    pub check: bool,
    pub body_max: usize,
    pub response_max: usize,
    pub registry: Option<Arc<Registry>>,
    pub filter_dependencies: bool,
}

impl Default for CallbackRules {
    fn default() -> CallbackRules {
        CallbackRules {
            check: true,
            body_max: DEFAULT_BODY_MAX,
            response_max: DEFAULT_RESPONSE_MAX,
            registry: None,
            filter_dependencies: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::secret;
    use crate::users::tests::demo_file;

    fn on() -> Settings {
        Settings {
            realm: Setting::On(realm("Dash", "nginx.conf:9".into()).unwrap()),
            users: Setting::On(Arc::new(UsersFile::parse(demo_file().as_bytes()).unwrap())),
            secret: Setting::On(Arc::new(secret())),
            ..Settings::default()
        }
    }

    #[test]
    fn setting_inheritance() {
        let mut child = Setting::<u64>::Unset;
        child.inherit(&Setting::On(5));
        assert_eq!(child, Setting::On(5));
        let mut child = Setting::<u64>::Off;
        child.inherit(&Setting::On(5));
        assert_eq!(child, Setting::Off);
        let mut child = Setting::On(7);
        child.inherit(&Setting::Off);
        assert_eq!(child, Setting::On(7));
        assert_eq!(Setting::<u64>::Unset.or(Some(1)), Some(1));
        assert_eq!(Setting::<u64>::Off.or(Some(1)), None);
        assert_eq!(Setting::On(2).or(Some(1)), Some(2));
        assert!(Flag::Unset.enabled(true) && !Flag::Unset.enabled(false));
        assert!(!Flag::from_bool(false).enabled(true));
        assert!(Flag::from_bool(true).enabled(false));
    }

    #[test]
    fn defaults() {
        let p = on().policy(false).unwrap().unwrap();
        assert_eq!(p.cookie_name, "example_jwt");
        assert_eq!((p.ttl, p.leeway, p.max_age), (3600, 0, 0));
        assert_eq!(p.challenge, "Basic realm=\"Dash\", charset=\"UTF-8\"");
        assert!(p.basic_cache.is_some());
        assert!(p.login.is_none());
        assert_eq!(p.limit, Some(rate_limit::DEFAULT));
        assert!(p.callbacks.check && !p.callbacks.filter_dependencies);
        assert_eq!(
            (p.callbacks.body_max, p.callbacks.response_max),
            (DEFAULT_BODY_MAX, DEFAULT_RESPONSE_MAX)
        );
        assert_eq!(p.sections.prefix(), "/");
    }

    #[test]
    fn off_and_missing() {
        assert!(Settings::default().policy(true).unwrap().is_none());
        let mut s = on();
        s.realm = Setting::Off;
        assert!(s.policy(true).unwrap().is_none());
        for (field, directive) in [(0, "dash_auth_user_file"), (1, "dash_auth_secret_file")] {
            let mut s = on();
            if field == 0 {
                s.users = Setting::Unset;
            } else {
                s.secret = Setting::Unset;
            }
            assert_eq!(
                s.policy(true).unwrap_err().to_string(),
                format!("\"dash_auth\" enabled at nginx.conf:9 has no \"{directive}\" in effect")
            );
        }
        let mut s = on();
        s.login = Setting::On("/login".into());
        assert!(matches!(
            s.policy(false),
            Err(MergeError::Missing {
                directive: "dash_auth_zone",
                ..
            })
        ));
        let p = s.policy(true).unwrap().unwrap();
        let login = p.login.unwrap();
        assert_eq!(
            (login.path.as_str(), login.logout.as_str()),
            ("/login", "/logout")
        );
        assert_eq!(login.page.as_str(), login::DEFAULT_PAGE);
        assert!(login.origins.is_empty());
        // dash_auth_origin is inherited like any other directive.
        let mut parent = s.clone();
        parent.origins = Setting::On(Arc::new(origins(["https://dash.example"]).unwrap()));
        let mut child = Settings::default();
        child.inherit(&parent);
        let login = child.policy(true).unwrap().unwrap().login.unwrap();
        assert_eq!(login.origins.len(), 1);
    }

    #[test]
    fn written_values_win() {
        let mut parent = on();
        parent.cookie = Setting::On("sess".into());
        parent.login_limit = Setting::Off;
        parent.basic_cache = Flag::Off;
        parent.callback_check = Flag::Off;
        parent.dash_prefix = Setting::On("/app/".into());
        let mut child = Settings {
            ttl: Setting::On(60),
            ..Settings::default()
        };
        child.inherit(&parent);
        let p = child.policy(true).unwrap().unwrap();
        assert_eq!((p.cookie_name.as_str(), p.ttl), ("sess", 60));
        assert_eq!(p.limit, None);
        assert!(p.basic_cache.is_none() && !p.callbacks.check);
        assert_eq!(p.sections.prefix(), "/app/");
        let mut bad = on();
        bad.dash_prefix = Setting::On("app".into());
        assert!(matches!(bad.policy(true), Err(MergeError::Prefix(_))));
    }

    fn paths(entries: &[(&str, &[&str], &str)]) -> Setting<Arc<SectionPaths>> {
        let mut p = SectionPaths::default();
        for (section, list, at) in entries {
            p.add(section, list, (*at).to_owned()).unwrap();
        }
        Setting::On(Arc::new(p))
    }

    #[test]
    fn section_paths_inherit_as_a_whole_and_meet_the_sections_at_merge() {
        let sections = |names: &[&str]| Setting::On(Arc::new(Sections::new(names).unwrap()));
        let mut parent = on();
        parent.sections = sections(&["hr", "marketing"]);
        parent.section_paths = paths(&[
            ("hr", &["/people"], "nginx.conf:20"),
            ("marketing", &["/ads"], "nginx.conf:21"),
        ]);
        let mut child = Settings::default();
        child.inherit(&parent);
        let p = child.policy(true).unwrap().unwrap();
        assert_eq!(p.sections.resolve_uri(b"/people"), Some("hr"));
        assert_eq!(p.sections.resolve_uri(b"/ads"), Some("marketing"));

        // A level that writes the directive replaces the parent's list.
        let mut child = Settings {
            section_paths: paths(&[("hr", &["/staff"], "nginx.conf:30")]),
            ..Settings::default()
        };
        child.inherit(&parent);
        let p = child.policy(true).unwrap().unwrap();
        assert_eq!(p.sections.resolve_uri(b"/staff"), Some("hr"));
        assert_eq!(p.sections.resolve_uri(b"/people"), None);
        assert_eq!(p.sections.resolve_uri(b"/ads"), None);

        // The sections may be written below the paths, and under a prefix.
        let mut child = Settings {
            sections: sections(&["hr"]),
            section_paths: paths(&[("hr", &["/people"], "nginx.conf:30")]),
            dash_prefix: Setting::On("/app/".into()),
            ..Settings::default()
        };
        child.inherit(&on());
        let p = child.policy(true).unwrap().unwrap();
        assert_eq!(p.sections.resolve_uri(b"/app/people"), Some("hr"));

        // Narrowed sections below inherited paths: refused, naming where
        // the paths were written, not the location.
        let mut child = Settings {
            sections: sections(&["marketing"]),
            ..Settings::default()
        };
        child.inherit(&parent);
        let e = child.policy(true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"dash_auth_section_paths\" at nginx.conf:20: section \"hr\" is not in the \"dash_auth_sections\" in effect"
        );
        let mut none = on();
        none.section_paths = paths(&[("hr", &["/people"], "nginx.conf:3")]);
        assert!(matches!(
            none.policy(true),
            Err(MergeError::SectionPaths(PathsConflict::NotASection { .. }))
        ));
        let mut inside = on();
        inside.sections = sections(&["hr", "marketing"]);
        inside.section_paths = paths(&[("hr", &["/Marketing"], "nginx.conf:4")]);
        assert_eq!(
            inside.policy(true).unwrap_err().to_string(),
            "\"dash_auth_section_paths\" at nginx.conf:4: path \"/marketing\" of section \"hr\" is a page of section \"marketing\" already"
        );
        // Where dash_auth is off nothing is enforced, so nothing is checked.
        none.realm = Setting::Off;
        assert!(none.policy(true).unwrap().is_none());
    }

    #[test]
    fn values() {
        assert!(realm("a \"b\"", String::new()).is_ok());
        assert_eq!(
            realm("a\nb", String::new()).unwrap_err(),
            ValueError::InvalidRealm
        );
        assert_eq!(cookie_name("example_jwt").unwrap(), "example_jwt");
        for bad in ["", "a b", "a;b", "a=b", "é"] {
            assert!(cookie_name(bad).is_err(), "{bad}");
        }
        assert_eq!(page_path("/login").unwrap(), "/login");
        for bad in ["login", "//evil", "/a?b", "/a\"", "/<x>"] {
            assert!(page_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            origins([
                "https://a.example",
                "http://b:8080",
                "HTTPS://A.example:443"
            ])
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
            ["https://a.example", "http://b:8080"]
        );
        for bad in ["a.example", "https://a.example/", "null", "*"] {
            assert_eq!(
                origins(["https://ok", bad]).unwrap_err(),
                ValueError::InvalidParameter(bad.into())
            );
        }
        assert_eq!(nonzero_time(0), Err(ValueError::ZeroTime));
        assert_eq!(hash_queue("1"), Ok(1));
        assert_eq!(hash_queue("65536"), Ok(65536));
        for bad in ["0", "-1", "65537", "x", ""] {
            assert!(hash_queue(bad).is_err(), "{bad}");
        }
        assert_eq!(thread_pool("dash_auth"), Ok("dash_auth".into()));
        assert!(thread_pool("").is_err());
        assert!(thread_pool("a b").is_err());
        assert_eq!(cache_entries("16"), Ok(16));
        for bad in ["0", "1k", "-1", ""] {
            assert!(cache_entries(bad).is_err(), "{bad}");
        }
        assert_eq!(zone_size(Some(65536), "64k"), Ok(65536));
        assert_eq!(
            zone_size(Some(1024), "1k").unwrap_err().to_string(),
            "has invalid size value \"1k\""
        );
        assert!(zone_size(None, "x").is_err());
        assert_eq!(
            login_limit("10", 300, 60),
            Ok(Limit {
                max_failures: 10,
                window: 300,
                cooldown: 60
            })
        );
        for bad in ["0", "-1", "1000001", "x", ""] {
            assert!(login_limit(bad, 1, 1).is_err(), "{bad}");
        }
        assert_eq!(login_limit("3", 0, 1), Err(ValueError::ZeroTime));
        assert_eq!(nonzero_time(5), Ok(5));
    }
}
