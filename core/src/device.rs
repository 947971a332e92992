//! Device cookies (OWASP's design against lockout): a browser in which a
//! user has signed in gets a signed cookie naming that user. It grants
//! nothing; it only lets that user's logins from that browser past the
//! per-user failure limit, so that someone guessing elsewhere cannot lock
//! the user out. The per-(user, address) and per-address limits still
//! apply to it.
//!
//! Value: `base64url(user).expiry.base64url(HMAC)` under the module's
//! signing key ([`Secret::mac`]), with a label of its own so that no other
//! value the key signs can pass for one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::cookie::all_values;
use crate::token::Secret;

pub const COOKIE_NAME: &str = "dash_auth_device";

/// How long a device cookie, and a remembered Basic client's address,
/// vouch for a user: 30 days.
pub const LIFETIME: u64 = 30 * 24 * 3600;

const LABEL: &[u8] = b"dash-auth device\0";

fn signed_part(user_b64: &str, exp: u64) -> Vec<u8> {
    let mut msg = LABEL.to_vec();
    msg.extend_from_slice(user_b64.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(exp.to_string().as_bytes());
    msg
}

/// The cookie's value for `user`, valid until `now + LIFETIME`.
pub fn value(secret: &Secret, user: &str, now: u64) -> Option<String> {
    let exp = now.saturating_add(LIFETIME);
    let user_b64 = URL_SAFE_NO_PAD.encode(user.as_bytes());
    let tag = secret.mac(&signed_part(&user_b64, exp))?;
    Some(format!("{user_b64}.{exp}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

/// The complete `Set-Cookie` value. `SameSite=Strict`: no other site can
/// make the browser send it along with a login of its choosing.
pub fn set_cookie(secret: &Secret, user: &str, now: u64, secure: bool) -> Option<String> {
    let v = value(secret, user, now)?;
    let mut out =
        format!("{COOKIE_NAME}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME}");
    if secure {
        out.push_str("; Secure");
    }
    Some(out)
}

/// Whether one value is a running device cookie of `user`.
fn vouches_value(secret: &Secret, value: &[u8], user: &str, now: u64) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let mut parts = text.split('.');
    let (Some(user_b64), Some(exp), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(exp_n) = exp.parse::<u64>() else {
        return false;
    };
    if exp_n.to_string() != exp || now >= exp_n {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    if !secret.verify_mac(&signed_part(user_b64, exp_n), &tag) {
        return false;
    }
    URL_SAFE_NO_PAD
        .decode(user_b64)
        .is_ok_and(|name| name == user.as_bytes())
}

/// Whether any device cookie the request carries vouches for `user`.
pub fn vouches(secret: &Secret, cookie_headers: &[&[u8]], user: &str, now: u64) -> bool {
    all_values(cookie_headers.iter().copied(), COOKIE_NAME)
        .into_iter()
        .any(|v| vouches_value(secret, v, user, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::secret;

    #[test]
    fn vouches_only_for_its_user_until_expiry() {
        let s = secret();
        let c = set_cookie(&s, "mica", 1000, true).unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
        let header = c.split(';').next().unwrap().to_owned();
        let h: &[&[u8]] = &[header.as_bytes()];
        assert!(vouches(&s, h, "mica", 1000));
        assert!(vouches(&s, h, "mica", 1000 + LIFETIME - 1));
        assert!(!vouches(&s, h, "mica", 1000 + LIFETIME));
        assert!(!vouches(&s, h, "mike", 1000));
        assert!(!vouches(&s, &[], "mica", 1000));
    }

    #[test]
    fn forged_or_altered_cookies_vouch_for_nobody() {
        let s = secret();
        let v = value(&s, "mica", 1000).unwrap();
        let mut parts: Vec<&str> = v.split('.').collect();
        let mike = URL_SAFE_NO_PAD.encode("mike");
        parts[0] = &mike;
        let swapped = format!("{COOKIE_NAME}={}", parts.join("."));
        let later = v.replacen(
            &(1000 + LIFETIME).to_string(),
            &(9000 + LIFETIME).to_string(),
            1,
        );
        let later = format!("{COOKIE_NAME}={later}");
        for bad in [
            swapped.as_str(),
            later.as_str(),
            "dash_auth_device=bWljYQ.99999999999.AAAA",
            "dash_auth_device=garbage",
        ] {
            assert!(!vouches(&s, &[bad.as_bytes()], "mica", 1000), "{bad}");
            assert!(!vouches(&s, &[bad.as_bytes()], "mike", 1000), "{bad}");
        }
        // Another key's cookie is no good either.
        let other = Secret::from_bytes(&[7u8; 32]).unwrap();
        let theirs = format!("{COOKIE_NAME}={}", value(&other, "mica", 1000).unwrap());
        assert!(!vouches(&s, &[theirs.as_bytes()], "mica", 1000));
    }
}
