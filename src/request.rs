//! The plain view of an `ngx_http_request_t` that core decides on: the
//! headers it reads, the method, the paths, the connection, the clock and
//! the shared zone. Built here and nowhere else.
use ngx::ffi::{NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_POST};
use ngx::http::Request;

use dash_auth_core::csrf::FromHeaders;
use dash_auth_core::endpoint::Method;
use dash_auth_core::oidc::sso::Progress;
use dash_auth_core::password_check::Hashing;
use dash_auth_core::RequestView;

use crate::conf::Active;
use crate::respond::Body;
use crate::shm::Zone;

/// Calls `f` with the view of `r` under the location's policy; `hashing`
/// says where a password would be checked.
pub fn with_view<R>(
    r: &Request,
    active: &Active,
    hashing: Hashing<'_>,
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    with_headers(r, active, hashing, None, f)
}

/// [`with_view`] for a single sign-on that fetched from the provider.
pub fn with_sso_view<R>(
    r: &Request,
    active: &Active,
    sso: &Progress,
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    with_headers(r, active, Hashing::Inline, Some(sso), f)
}

/// The view with every header core reads.
fn with_headers<R>(
    r: &Request,
    active: &Active,
    hashing: Hashing<'_>,
    sso: Option<&Progress>,
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    // A request rarely carries more than one Cookie header (HTTP/2 may
    // split them), so the first few are kept on the stack.
    let mut inline: [&[u8]; 4] = [&[]; 4];
    let mut inline_len = 0;
    let mut spilled: Vec<&[u8]> = Vec::new();
    let mut authorization = None;
    let mut authorization_repeated = false;
    let mut accept = None;
    let mut upgrade = false;
    let mut from = FromHeaders::default();
    for (name, value) in r.headers_in_iterator() {
        let name = name.as_bytes();
        if name.eq_ignore_ascii_case(b"accept") {
            accept = Some(value.as_bytes());
        } else if name.eq_ignore_ascii_case(b"cookie") {
            match inline.get_mut(inline_len) {
                Some(slot) if spilled.is_empty() => {
                    *slot = value.as_bytes();
                    inline_len += 1;
                }
                _ => {
                    if spilled.is_empty() {
                        spilled.extend_from_slice(&inline);
                    }
                    spilled.push(value.as_bytes());
                }
            }
        } else if name.eq_ignore_ascii_case(b"authorization") {
            authorization_repeated |= authorization.is_some();
            authorization = Some(value.as_bytes());
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade = true;
        } else if name.eq_ignore_ascii_case(b"origin") {
            from.repeated |= from.origin.is_some();
            from.origin = Some(value.as_bytes());
        } else if name.eq_ignore_ascii_case(b"sec-fetch-site") {
            from.repeated |= from.fetch_site.is_some();
            from.fetch_site = Some(value.as_bytes());
        }
    }
    let cookie_headers = if spilled.is_empty() {
        inline.get(..inline_len).unwrap_or_default()
    } else {
        &spilled[..]
    };
    let headers = Credentials {
        cookie_headers,
        authorization,
        authorization_repeated,
        accept,
        upgrade,
        from,
    };
    build(r, active, headers, active.zone, hashing, sso, f)
}

/// The view for a body that was asked for.
///
/// A callback's body is judged against the grants alone: its headers were
/// judged in the ACCESS phase, so they are not walked again, and its view
/// has no shared zone. A form's is judged with its headers: the form
/// token's cookie, the session cookies a logout ends, where the browser
/// says it comes from; and the login form counts failures in the zone.
pub fn with_body_view<R>(
    r: &Request,
    active: &Active,
    of: Body,
    hashing: Hashing<'_>,
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    match of {
        Body::Callback => build(r, active, Credentials::default(), None, hashing, None, f),
        Body::Form(_) => with_headers(r, active, hashing, None, f),
    }
}

#[derive(Default)]
struct Credentials<'a> {
    cookie_headers: &'a [&'a [u8]],
    authorization: Option<&'a [u8]>,
    authorization_repeated: bool,
    accept: Option<&'a [u8]>,
    upgrade: bool,
    from: FromHeaders<'a>,
}

fn build<R>(
    r: &Request,
    active: &Active,
    headers: Credentials<'_>,
    zone: Option<Zone>,
    hashing: Hashing<'_>,
    sso: Option<&Progress>,
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    let (revocations, attempts) = zone.map(|z| z.tables()).unwrap_or_default();
    let shared = active.policy.shared(revocations, attempts);
    let req = r.as_ref();
    // SAFETY: NULL or the parsed Content-Type header of this request.
    let content_type = unsafe { req.headers_in.content_type.as_ref() }.map(|h| h.value.as_bytes());
    // SAFETY: NULL or the Host header of this request, which nginx has
    // validated (for HTTP/2 and 3, made from `:authority`).
    let host = unsafe { req.headers_in.host.as_ref() }.map(|h| h.value.as_bytes());
    let view = RequestView {
        method: method(r),
        cookie_headers: headers.cookie_headers,
        authorization: headers.authorization,
        authorization_repeated: headers.authorization_repeated,
        accept: headers.accept,
        upgrade: headers.upgrade,
        content_type,
        content_length: u64::try_from(req.headers_in.content_length_n).ok(),
        uri: r.path().as_bytes(),
        target: req.unparsed_uri.as_bytes(),
        args: req.args.as_bytes(),
        secure: is_https(r),
        host,
        from: headers.from,
        now: now(),
        client: client_addr(r),
        shared: Some(&shared),
        error_page_403: active.error_page_403,
        hashing,
        sso,
    };
    f(&view)
}

fn method(r: &Request) -> Method {
    match r.as_ref().method as u32 {
        NGX_HTTP_GET => Method::Get,
        NGX_HTTP_HEAD => Method::Head,
        NGX_HTTP_POST => Method::Post,
        _ => Method::Other,
    }
}

/// The client address as text, for the failure limit.
fn client_addr(r: &Request) -> &[u8] {
    // SAFETY: a request always has its connection, whose address text lives
    // as long as the connection.
    unsafe { (*r.connection()).addr_text.as_bytes() }
}

fn is_https(r: &Request) -> bool {
    #[cfg(ngx_feature = "http_ssl")]
    {
        // SAFETY: a request always has its connection.
        unsafe { !(*r.connection()).ssl.is_null() }
    }
    #[cfg(not(ngx_feature = "http_ssl"))]
    {
        let _ = r;
        false
    }
}

pub fn now() -> u64 {
    // nginx's cached clock: updated once per event loop iteration, which is
    // finer than the one-second resolution of JWT times.
    u64::try_from(ngx::ffi::ngx_time()).unwrap_or(0)
}
