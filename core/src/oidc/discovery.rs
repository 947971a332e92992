//! The provider's metadata (OpenID Connect Discovery 1.0,
//! `/.well-known/openid-configuration`), checked before anything in it is
//! used: the browser is sent to its URLs and the client secret to one.

use std::fmt;

use serde_json::{Map, Value};

use super::{shown, MAX_DOC_LEN, SUPPORTED_ALGS};

/// What the module uses of the provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the provider adds `iss` to its authorization responses.
    pub iss_parameter_supported: bool,
    /// `token_endpoint_auth_methods_supported`, `["client_secret_basic"]`
    /// when absent (OIDC Discovery §3).
    pub token_auth_methods: Vec<String>,
}

/// Why a discovery document or a JWKS was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocError {
    /// Longer than [`MAX_DOC_LEN`].
    TooLarge(usize),
    /// Not a JSON object.
    NotJson,
    /// A required member is absent (or `null`).
    Missing(&'static str),
    /// A member has the wrong JSON type.
    WrongType(&'static str),
    /// `issuer` is not the configured issuer (OIDC Discovery §4.3).
    IssuerMismatch { expected: String, found: String },
    /// An endpoint that is not an absolute `https://` URL without userinfo
    /// or fragment.
    BadUrl {
        field: &'static str,
        why: &'static str,
    },
    /// `id_token_signing_alg_values_supported` lists none of ours.
    NoSupportedAlg,
    /// `code_challenge_methods_supported` lacks `S256`.
    NoS256,
    /// A JWKS without one key that can verify our algorithms.
    NoUsableKey,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::TooLarge(len) => write!(
                f,
                "provider document is {len} bytes, more than the {MAX_DOC_LEN} accepted"
            ),
            DocError::NotJson => f.write_str("provider document is not a JSON object"),
            DocError::Missing(field) => write!(f, "provider document has no \"{field}\""),
            DocError::WrongType(field) => {
                write!(f, "provider document has a \"{field}\" of the wrong type")
            }
            DocError::IssuerMismatch { expected, found } => write!(
                f,
                "provider metadata names issuer \"{}\", expected \"{}\" exactly",
                shown(found, 200),
                shown(expected, 200)
            ),
            DocError::BadUrl { field, why } => {
                write!(f, "provider metadata \"{field}\" is refused: {why}")
            }
            DocError::NoSupportedAlg => write!(
                f,
                "provider signs ID tokens with none of {}",
                SUPPORTED_ALGS.join(", ")
            ),
            DocError::NoS256 => {
                f.write_str("provider does not support the PKCE code challenge method S256")
            }
            DocError::NoUsableKey => write!(
                f,
                "provider JWKS has no usable signing key (RSA of 2048 bits or more, or EC P-256, for {})",
                SUPPORTED_ALGS.join(", ")
            ),
        }
    }
}

impl std::error::Error for DocError {}

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Parses the metadata of the provider configured as `expected_issuer`.
pub fn parse(body: &[u8], expected_issuer: &str) -> Result<Discovery, DocError> {
    let doc = object(body)?;
    let issuer = string(&doc, "issuer")?.ok_or(DocError::Missing("issuer"))?;
    if issuer != expected_issuer {
        return Err(DocError::IssuerMismatch {
            expected: expected_issuer.to_owned(),
            found: issuer.to_owned(),
        });
    }
    let endpoint = |field: &'static str| -> Result<String, DocError> {
        let url = string(&doc, field)?.ok_or(DocError::Missing(field))?;
        check_https_url(url).map_err(|why| DocError::BadUrl { field, why })?;
        Ok(url.to_owned())
    };
    let authorization_endpoint = endpoint("authorization_endpoint")?;
    let token_endpoint = endpoint("token_endpoint")?;
    let jwks_uri = endpoint("jwks_uri")?;
    let end_session_endpoint = match string(&doc, "end_session_endpoint")? {
        None => None,
        Some(_) => Some(endpoint("end_session_endpoint")?),
    };

    let algs = strings(&doc, "id_token_signing_alg_values_supported")?
        .ok_or(DocError::Missing("id_token_signing_alg_values_supported"))?;
    if !algs.iter().any(|a| SUPPORTED_ALGS.contains(&a.as_str())) {
        return Err(DocError::NoSupportedAlg);
    }
    if let Some(methods) = strings(&doc, "code_challenge_methods_supported")? {
        if !methods.iter().any(|m| m == "S256") {
            return Err(DocError::NoS256);
        }
    }
    let iss_parameter_supported = match doc.get("authorization_response_iss_parameter_supported") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(DocError::WrongType(
                "authorization_response_iss_parameter_supported",
            ))
        }
    };
    let token_auth_methods = strings(&doc, "token_endpoint_auth_methods_supported")?
        .unwrap_or_else(|| vec!["client_secret_basic".to_owned()]);

    Ok(Discovery {
        issuer: issuer.to_owned(),
        authorization_endpoint,
        token_endpoint,
        jwks_uri,
        end_session_endpoint,
        iss_parameter_supported,
        token_auth_methods,
    })
}

/// `Ok` if `url` is an absolute `https://` URL the module may send a
/// browser or a request to: a host, no userinfo (`https://a@b/` is a
/// classic phishing shape, and credentials do not belong in metadata), no
/// fragment (RFC 6749 §3.1, §3.2), and only visible ASCII, since it ends up
/// in a `Location` header and a request line. The error says why.
pub fn check_https_url(url: &str) -> Result<(), &'static str> {
    if url.len() > MAX_URL_LEN {
        return Err("URL is too long");
    }
    if url.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err("URL contains a space, control character or non-ASCII byte");
    }
    let rest = match url.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => url.get(8..).unwrap_or(""),
        _ => return Err("URL is not https://"),
    };
    if url.contains('#') {
        return Err("URL has a fragment");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("URL has userinfo");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, after)) if is_ipv6ish(addr) => (addr, after.strip_prefix(':')),
            _ => return Err("URL has an invalid host"),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() || (!authority.starts_with('[') && !is_reg_name(host)) {
        return Err("URL has an invalid host");
    }
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !ok {
            return Err("URL has an invalid port");
        }
    } else if authority.starts_with('[') && !authority.ends_with(']') {
        return Err("URL has an invalid host");
    }
    Ok(())
}

/// A DNS name or IPv4 address: letters, digits, `-`, `.` and `_`.
fn is_reg_name(host: &str) -> bool {
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

fn is_ipv6ish(addr: &str) -> bool {
    !addr.is_empty()
        && addr.contains(':')
        && addr
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

/// The body as a JSON object, after the size check.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, DocError> {
    if body.len() > MAX_DOC_LEN {
        return Err(DocError::TooLarge(body.len()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(DocError::NotJson),
    }
}

/// A string member; `None` when absent or `null`.
fn string<'a>(
    doc: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, DocError> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DocError::WrongType(field)),
    }
}

/// An array-of-strings member; `None` when absent or `null`.
fn strings(doc: &Map<String, Value>, field: &'static str) -> Result<Option<Vec<String>>, DocError> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or(DocError::WrongType(field)),
        Some(_) => Err(DocError::WrongType(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://idp.example.com/realms/dash";

    fn doc() -> Value {
        json!({
            "issuer": ISS,
            "authorization_endpoint": "https://idp.example.com/realms/dash/protocol/openid-connect/auth",
            "token_endpoint": "https://idp.example.com/realms/dash/protocol/openid-connect/token",
            "jwks_uri": "https://idp.example.com/realms/dash/protocol/openid-connect/certs",
            "end_session_endpoint": "https://idp.example.com/realms/dash/protocol/openid-connect/logout",
            "id_token_signing_alg_values_supported": ["PS384", "RS256", "ES256"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "authorization_response_iss_parameter_supported": true,
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "client_secret_post"],
            "response_types_supported": ["code"],
        })
    }

    fn with(edit: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
        let mut d = doc();
        edit(d.as_object_mut().unwrap());
        serde_json::to_vec(&d).unwrap()
    }

    #[test]
    fn accepted() {
        let d = parse(&with(|_| {}), ISS).unwrap();
        assert_eq!(d.issuer, ISS);
        assert!(d.authorization_endpoint.ends_with("/auth"));
        assert!(d.token_endpoint.ends_with("/token"));
        assert!(d.jwks_uri.ends_with("/certs"));
        assert!(d
            .end_session_endpoint
            .as_deref()
            .unwrap()
            .ends_with("/logout"));
        assert!(d.iss_parameter_supported);
        assert_eq!(
            d.token_auth_methods,
            [
                "private_key_jwt",
                "client_secret_basic",
                "client_secret_post"
            ]
        );
    }

    #[test]
    fn defaults() {
        let d = parse(
            &with(|d| {
                d.remove("end_session_endpoint");
                d.remove("code_challenge_methods_supported");
                d.remove("authorization_response_iss_parameter_supported");
                d.remove("token_endpoint_auth_methods_supported");
            }),
            ISS,
        )
        .unwrap();
        assert_eq!(d.end_session_endpoint, None);
        assert!(!d.iss_parameter_supported);
        assert_eq!(d.token_auth_methods, ["client_secret_basic"]);
        // `null` is absent.
        let d = parse(
            &with(|d| {
                d.insert("end_session_endpoint".into(), Value::Null);
                d.insert(
                    "authorization_response_iss_parameter_supported".into(),
                    Value::Null,
                );
            }),
            ISS,
        )
        .unwrap();
        assert_eq!(d.end_session_endpoint, None);
        assert!(!d.iss_parameter_supported);
    }

    /// Each refusal beside the same document with the one member fixed.
    #[test]
    fn refusals_with_twins() {
        type Edit = fn(&mut Map<String, Value>);
        let cases: &[(Edit, Edit, DocError)] = &[
            (
                |d| {
                    d.insert(
                        "issuer".into(),
                        json!("https://idp.example.com/realms/dash/"),
                    );
                },
                |d| {
                    d.insert("issuer".into(), json!(ISS));
                },
                DocError::IssuerMismatch {
                    expected: ISS.into(),
                    found: format!("{ISS}/"),
                },
            ),
            (
                |d| {
                    d.insert(
                        "issuer".into(),
                        json!("https://IDP.example.com/realms/dash"),
                    );
                },
                |_| {},
                DocError::IssuerMismatch {
                    expected: ISS.into(),
                    found: "https://IDP.example.com/realms/dash".into(),
                },
            ),
            (
                |d| {
                    d.remove("issuer");
                },
                |_| {},
                DocError::Missing("issuer"),
            ),
            (
                |d| {
                    d.insert("issuer".into(), json!([ISS]));
                },
                |_| {},
                DocError::WrongType("issuer"),
            ),
            (
                |d| {
                    d.remove("token_endpoint");
                },
                |_| {},
                DocError::Missing("token_endpoint"),
            ),
            (
                |d| {
                    d.insert("jwks_uri".into(), json!(42));
                },
                |_| {},
                DocError::WrongType("jwks_uri"),
            ),
            (
                |d| {
                    d.insert(
                        "authorization_endpoint".into(),
                        json!("http://idp.example.com/auth"),
                    );
                },
                |d| {
                    d.insert(
                        "authorization_endpoint".into(),
                        json!("https://idp.example.com/auth"),
                    );
                },
                DocError::BadUrl {
                    field: "authorization_endpoint",
                    why: "URL is not https://",
                },
            ),
            (
                |d| {
                    d.insert(
                        "token_endpoint".into(),
                        json!("https://evil@idp.example.com/token"),
                    );
                },
                |d| {
                    d.insert(
                        "token_endpoint".into(),
                        json!("https://idp.example.com/token?x=@"),
                    );
                },
                DocError::BadUrl {
                    field: "token_endpoint",
                    why: "URL has userinfo",
                },
            ),
            (
                |d| {
                    d.insert("jwks_uri".into(), json!("https://idp.example.com/certs#x"));
                },
                |d| {
                    d.insert("jwks_uri".into(), json!("https://idp.example.com/certs"));
                },
                DocError::BadUrl {
                    field: "jwks_uri",
                    why: "URL has a fragment",
                },
            ),
            (
                |d| {
                    d.insert("end_session_endpoint".into(), json!("javascript:alert(1)"));
                },
                |d| {
                    d.remove("end_session_endpoint");
                },
                DocError::BadUrl {
                    field: "end_session_endpoint",
                    why: "URL is not https://",
                },
            ),
            (
                |d| {
                    d.insert(
                        "id_token_signing_alg_values_supported".into(),
                        json!(["HS256", "none", "RS384"]),
                    );
                },
                |d| {
                    d.insert(
                        "id_token_signing_alg_values_supported".into(),
                        json!(["HS256", "PS256"]),
                    );
                },
                DocError::NoSupportedAlg,
            ),
            (
                |d| {
                    d.remove("id_token_signing_alg_values_supported");
                },
                |_| {},
                DocError::Missing("id_token_signing_alg_values_supported"),
            ),
            (
                |d| {
                    d.insert(
                        "id_token_signing_alg_values_supported".into(),
                        json!("RS256"),
                    );
                },
                |_| {},
                DocError::WrongType("id_token_signing_alg_values_supported"),
            ),
            (
                |d| {
                    d.insert("code_challenge_methods_supported".into(), json!(["plain"]));
                },
                |d| {
                    d.insert("code_challenge_methods_supported".into(), json!(["S256"]));
                },
                DocError::NoS256,
            ),
            (
                |d| {
                    d.insert("code_challenge_methods_supported".into(), json!(["s256"]));
                },
                |_| {},
                DocError::NoS256,
            ),
            (
                |d| {
                    d.insert(
                        "authorization_response_iss_parameter_supported".into(),
                        json!("true"),
                    );
                },
                |d| {
                    d.insert(
                        "authorization_response_iss_parameter_supported".into(),
                        json!(false),
                    );
                },
                DocError::WrongType("authorization_response_iss_parameter_supported"),
            ),
            (
                |d| {
                    d.insert(
                        "token_endpoint_auth_methods_supported".into(),
                        json!(["client_secret_basic", 1]),
                    );
                },
                |d| {
                    d.insert(
                        "token_endpoint_auth_methods_supported".into(),
                        json!(["client_secret_post"]),
                    );
                },
                DocError::WrongType("token_endpoint_auth_methods_supported"),
            ),
        ];
        for (i, (bad, good, want)) in cases.iter().enumerate() {
            assert_eq!(parse(&with(*bad), ISS), Err(want.clone()), "case {i}");
            parse(&with(*good), ISS).unwrap_or_else(|e| panic!("case {i} twin: {e}"));
        }
    }

    #[test]
    fn not_json_and_size() {
        for body in [&b""[..], b"[]", b"\"x\"", b"{", b"null", b"\xff"] {
            assert_eq!(parse(body, ISS), Err(DocError::NotJson), "{body:?}");
        }
        let good = with(|_| {});
        let mut big = good.clone();
        big.pop();
        big.extend(std::iter::repeat_n(b' ', MAX_DOC_LEN));
        big.push(b'}');
        assert_eq!(parse(&big, ISS), Err(DocError::TooLarge(big.len())));
        let mut fits = good.clone();
        fits.pop();
        fits.extend(std::iter::repeat_n(b' ', MAX_DOC_LEN - good.len()));
        fits.push(b'}');
        assert_eq!(fits.len(), MAX_DOC_LEN);
        parse(&fits, ISS).unwrap();
    }

    #[test]
    fn urls() {
        for ok in [
            "https://idp.example.com",
            "https://idp.example.com/",
            "HTTPS://idp.example.com/a",
            "https://idp.example.com:8443/a?b=c&d=%2F",
            "https://127.0.0.1/x",
            "https://[::1]:8443/x",
            "https://[2001:db8::1]/x",
            "https://login.microsoftonline.com/tid/oauth2/v2.0/authorize",
            "https://idp.example.com/a?next=https://x@y",
        ] {
            assert_eq!(check_https_url(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("http://idp.example.com/", "URL is not https://"),
            ("https:/idp.example.com/", "URL is not https://"),
            ("//idp.example.com/", "URL is not https://"),
            ("/authorize", "URL is not https://"),
            ("", "URL is not https://"),
            ("https://", "URL has an invalid host"),
            ("https:///x", "URL has an invalid host"),
            ("https://?x", "URL has an invalid host"),
            ("https://u:p@idp.example.com/", "URL has userinfo"),
            ("https://idp.example.com@evil.example/", "URL has userinfo"),
            ("https://idp.example.com/#", "URL has a fragment"),
            ("https://idp.example.com:0/", "URL has an invalid port"),
            ("https://idp.example.com:65536/", "URL has an invalid port"),
            ("https://idp.example.com:/", "URL has an invalid port"),
            ("https://idp.example.com:44a/", "URL has an invalid port"),
            ("https://[::1/", "URL has an invalid host"),
            ("https://[::1]x/", "URL has an invalid host"),
            ("https://[]/", "URL has an invalid host"),
            ("https://idp.exa%6dple.com/", "URL has an invalid host"),
            ("https://idp.example.com\\@evil/", "URL has userinfo"),
            ("https://idp.example.com\\evil/", "URL has an invalid host"),
            (
                "https://idp.example.com/a b",
                "URL contains a space, control character or non-ASCII byte",
            ),
            (
                "https://idp.example.com/\r\nX: y",
                "URL contains a space, control character or non-ASCII byte",
            ),
            (
                "https://idpé.example.com/",
                "URL contains a space, control character or non-ASCII byte",
            ),
        ] {
            assert_eq!(check_https_url(bad), Err(why), "{bad:?}");
        }
        let long = format!("https://idp.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_https_url(&long), Err("URL is too long"));
        assert_eq!(check_https_url(&long[..MAX_URL_LEN]), Ok(()));
    }

    #[test]
    fn display_never_echoes_unbounded_or_raw_text() {
        let found = format!("https://x/\n{}", "a".repeat(1000));
        let err = parse(
            &with(|d| {
                d.insert("issuer".into(), json!(found));
            }),
            ISS,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.len() < 600, "{text}");
        assert!(text.contains(ISS));
    }
}
