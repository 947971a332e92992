//! The pure parts of OpenID Connect sign-in (authorization code flow with
//! PKCE S256: RFC 6749, OpenID Connect Core 1.0, RFC 7636, RFC 9207).
//!
//! Nothing here does I/O: the glue fetches the provider's documents and
//! hands their bytes to [`discovery::parse`] and [`jwks::parse`], builds the
//! browser's redirect with [`flow`], posts what [`flow::token_request`]
//! returns, and checks the ID token with [`id_token::verify`]. Every error
//! prints a short text for the error log that never holds a token, code,
//! secret or PKCE verifier.

pub mod config;
pub mod discovery;
pub mod flow;
pub mod groups;
pub mod id_token;
pub mod jwks;
pub mod sso;

#[cfg(test)]
mod test_keys;

/// The ID token signature algorithms accepted: the one every provider must
/// support (RS256, OIDC Core §15.1) and the two common alternatives. No
/// HMAC (it would make the client secret a signing key) and no `none`.
pub const SUPPORTED_ALGS: [&str; 3] = ["RS256", "PS256", "ES256"];

/// Longest provider document (discovery, JWKS, token response) accepted.
pub const MAX_DOC_LEN: usize = 64 * 1024;

/// `alg` as a `jsonwebtoken` algorithm, if it is one of [`SUPPORTED_ALGS`].
pub(crate) fn supported_alg(alg: &str) -> Option<jsonwebtoken::Algorithm> {
    match alg {
        "RS256" => Some(jsonwebtoken::Algorithm::RS256),
        "PS256" => Some(jsonwebtoken::Algorithm::PS256),
        "ES256" => Some(jsonwebtoken::Algorithm::ES256),
        _ => None,
    }
}

/// A provider-supplied string made safe for an error message: control
/// characters escaped and cut to `max` characters, so a hostile document
/// cannot forge log lines or flood the log.
pub(crate) fn shown(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// `jsonwebtoken` panics on first use if it cannot pick a crypto backend;
/// installing ours first turns that into an error the caller can report.
pub(crate) fn crypto_ready() -> bool {
    use jsonwebtoken::crypto::{self, CryptoProvider};
    if CryptoProvider::try_get_default().is_none() {
        let _ = crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    }
    CryptoProvider::try_get_default().is_some()
}
