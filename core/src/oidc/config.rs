//! The `dash_auth_oidc_*` directives' values, their inheritance and
//! defaults, and the [`SsoConfig`] a location ends up with.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::discovery::check_https_url;
use super::flow::ClientAuth;
use super::groups::GroupMap;
use crate::config::{Flag, MergeError, Setting, ValueError};
use crate::section::Sections;

pub const DEFAULT_SCOPES: &str = "openid profile email groups";
pub const DEFAULT_REDIRECT: &str = "/oauth2/callback";
pub const DEFAULT_USER_CLAIM: &str = "sub";
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";
/// The internal location that `proxy_pass`es to the provider.
pub const DEFAULT_FETCH: &str = "/_dash_auth_oidc";
/// Shortest time between two JWKS fetches caused by an unknown `kid`.
pub const DEFAULT_REFRESH: u64 = 60;
pub const DEFAULT_POST_LOGOUT: &str = "/";

/// `dash_auth_oidc_issuer`, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub url: String,
    pub defined_at: String,
}

/// The client secret, read from its file; wiped on drop, never printed.
#[derive(Clone)]
pub struct ClientSecret(pub Zeroizing<String>);

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

impl PartialEq for ClientSecret {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

/// The group map with the file it came from, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupsFile {
    pub map: GroupMap,
    pub path: String,
}

/// Every `dash_auth_oidc_*` directive at one configuration level, and
/// `dash_auth_password`.
#[derive(Debug, Clone, Default)]
pub struct SsoSettings {
    pub issuer: Setting<Issuer>,
    pub client_id: Setting<String>,
    pub client_secret: Setting<ClientSecret>,
    pub client_auth: Setting<ClientAuth>,
    pub scopes: Setting<String>,
    pub redirect: Setting<String>,
    pub user_claim: Setting<String>,
    pub groups_claim: Setting<String>,
    pub groups: Setting<Arc<GroupsFile>>,
    pub fetch: Setting<String>,
    pub refresh: Setting<u64>,
    pub post_logout: Setting<String>,
    pub passwords: Flag,
}

/// A location's single sign-on, complete.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// `None`: as the provider's discovery offers ([`ClientAuth::pick`]).
    pub client_auth: Option<ClientAuth>,
    pub scopes: String,
    pub redirect: String,
    pub user_claim: String,
    pub groups_claim: String,
    pub groups: Arc<GroupsFile>,
    pub fetch: String,
    pub refresh: u64,
    pub post_logout: String,
}

/// An issuer URL: `https://`, a host, no query, no fragment (OpenID
/// Connect Discovery §2).
pub fn issuer(url: &str, defined_at: String) -> Result<Issuer, ValueError> {
    if check_https_url(url).is_err() || url.contains('?') {
        return Err(ValueError::InvalidParameter(url.to_owned()));
    }
    Ok(Issuer {
        url: url.to_owned(),
        defined_at,
    })
}

/// A client id: printable ASCII, as the token request and the logout URL
/// carry it.
pub fn client_id(id: &str) -> Result<String, ValueError> {
    if id.is_empty() || id.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
        return Err(ValueError::InvalidParameter(id.to_owned()));
    }
    Ok(id.to_owned())
}

/// A claim name: printable ASCII, no space.
pub fn claim(name: &str) -> Result<String, ValueError> {
    if name.is_empty() || name.len() > 128 || name.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err(ValueError::InvalidParameter(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// The scopes, space-separated as the request sends them; `openid` must
/// be among them (OpenID Connect Core §3.1.2.1).
pub fn scopes<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<String, ValueError> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if v.is_empty()
            || v.bytes()
                .any(|b| !(0x21..0x7f).contains(&b) || b == b'"' || b == b'\\')
        {
            return Err(ValueError::InvalidParameter(v.to_owned()));
        }
        out.push(v);
    }
    if !out.contains(&"openid") {
        return Err(ValueError::InvalidParameter(
            "the scopes must include \"openid\"".to_owned(),
        ));
    }
    Ok(out.join(" "))
}

pub fn client_auth(v: &str) -> Result<ClientAuth, ValueError> {
    match v {
        "client_secret_basic" => Ok(ClientAuth::Basic),
        "client_secret_post" => Ok(ClientAuth::Post),
        other => Err(ValueError::InvalidParameter(other.to_owned())),
    }
}

/// The client secret file's first line.
pub fn client_secret(bytes: &[u8]) -> Result<ClientSecret, ValueError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ValueError::InvalidParameter("the secret is not UTF-8".to_owned()))?;
    let line = text.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        return Err(ValueError::InvalidParameter(
            "the secret file is empty".to_owned(),
        ));
    }
    Ok(ClientSecret(Zeroizing::new(line.to_owned())))
}

impl SsoSettings {
    /// nginx's rule, directive by directive. Both sides are destructured
    /// without `..`, so a new directive cannot be forgotten here.
    pub fn inherit(&mut self, parent: &SsoSettings) {
        let SsoSettings {
            issuer,
            client_id,
            client_secret,
            client_auth,
            scopes,
            redirect,
            user_claim,
            groups_claim,
            groups,
            fetch,
            refresh,
            post_logout,
            passwords,
        } = self;
        let SsoSettings {
            issuer: p_issuer,
            client_id: p_client_id,
            client_secret: p_client_secret,
            client_auth: p_client_auth,
            scopes: p_scopes,
            redirect: p_redirect,
            user_claim: p_user_claim,
            groups_claim: p_groups_claim,
            groups: p_groups,
            fetch: p_fetch,
            refresh: p_refresh,
            post_logout: p_post_logout,
            passwords: p_passwords,
        } = parent;
        issuer.inherit(p_issuer);
        client_id.inherit(p_client_id);
        client_secret.inherit(p_client_secret);
        client_auth.inherit(p_client_auth);
        scopes.inherit(p_scopes);
        redirect.inherit(p_redirect);
        user_claim.inherit(p_user_claim);
        groups_claim.inherit(p_groups_claim);
        groups.inherit(p_groups);
        fetch.inherit(p_fetch);
        refresh.inherit(p_refresh);
        post_logout.inherit(p_post_logout);
        passwords.inherit(p_passwords);
    }

    /// The location's single sign-on, `None` where no issuer is in effect.
    /// Every section the group map names must be one of `sections`.
    pub fn build(&self, sections: &Sections) -> Result<Option<SsoConfig>, MergeError> {
        let Setting::On(issuer) = &self.issuer else {
            return Ok(None);
        };
        let missing = |directive| MergeError::Missing {
            directive,
            defined_at: issuer.defined_at.clone(),
        };
        let Setting::On(client_id) = &self.client_id else {
            return Err(missing("dash_auth_oidc_client_id"));
        };
        let Setting::On(client_secret) = &self.client_secret else {
            return Err(missing("dash_auth_oidc_client_secret_file"));
        };
        let groups = self.groups.value_or(Arc::new(GroupsFile {
            map: GroupMap::default(),
            path: String::new(),
        }));
        for (section, line) in groups.map.sections() {
            if sections.canonical(section.as_bytes()).is_none() {
                return Err(MergeError::Sso(format!(
                    "\"dash_auth_oidc_groups\" in {}:{line}: \"{section}\" is not one of \
                     \"dash_auth_sections\"",
                    groups.path
                )));
            }
        }
        Ok(Some(SsoConfig {
            issuer: issuer.url.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            client_auth: self.client_auth.or(None),
            scopes: self.scopes.value_or(DEFAULT_SCOPES.to_owned()),
            redirect: self.redirect.value_or(DEFAULT_REDIRECT.to_owned()),
            user_claim: self.user_claim.value_or(DEFAULT_USER_CLAIM.to_owned()),
            groups_claim: self.groups_claim.value_or(DEFAULT_GROUPS_CLAIM.to_owned()),
            groups,
            fetch: self.fetch.value_or(DEFAULT_FETCH.to_owned()),
            refresh: self.refresh.value_or(DEFAULT_REFRESH),
            post_logout: self.post_logout.value_or(DEFAULT_POST_LOGOUT.to_owned()),
        }))
    }
}
