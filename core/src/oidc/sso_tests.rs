//! The single sign-on decisions, table by table: [`Policy::decide`] asked
//! as the glue asks it, with each provider reply fed through
//! [`Sso::absorb`].
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::config::{Setting, Settings};
use crate::decide::tests::policy;
use crate::oidc::config::{ClientSecret, GroupsFile, SsoConfig};
use crate::oidc::flow::{ClientAuth, Pending};
use crate::oidc::groups;
use crate::oidc::test_keys::{RSA_DER, RSA_N};
use crate::token::tests::secret;
use crate::users::{tests::demo_file, UsersFile};

const NOW: u64 = 1_700_000_000;
const HTML: &[u8] = b"text/html,application/xhtml+xml,*/*;q=0.8";
const ISSUER: &str = "https://op.example";
const HOST: &[u8] = b"dash.example";

fn config() -> SsoConfig {
    SsoConfig {
        issuer: ISSUER.into(),
        client_id: "dash".into(),
        client_secret: ClientSecret(zeroize::Zeroizing::new("s3cret".into())),
        client_auth: None,
        scopes: "openid profile groups".into(),
        redirect: "/oauth2/callback".into(),
        user_claim: "preferred_username".into(),
        groups_claim: "groups".into(),
        groups: Arc::new(GroupsFile {
            map: groups::parse("dash-all _all_\ndash-marketing marketing\n").unwrap(),
            path: "groups".into(),
        }),
        fetch: "/_dash_auth_oidc".into(),
        refresh: 60,
        post_logout: "/".into(),
    }
}

fn sso_policy() -> Policy {
    let mut p = policy(true);
    p.sso = Some(Arc::new(Sso::new(config())));
    p
}

fn sso(p: &Policy) -> &Sso {
    p.sso.as_deref().unwrap()
}

fn nav<'a>(
    uri: &'a str,
    cookies: &'a [&'a [u8]],
    progress: Option<&'a Progress>,
) -> RequestView<'a> {
    RequestView {
        method: Method::Get,
        cookie_headers: cookies,
        accept: Some(HTML),
        uri: uri.split('?').next().unwrap().as_bytes(),
        target: uri.as_bytes(),
        args: uri.split_once('?').map_or("", |(_, q)| q).as_bytes(),
        secure: true,
        host: Some(HOST),
        now: NOW,
        client: b"127.0.0.1",
        sso: progress,
        ..RequestView::default()
    }
}

fn discovery_doc() -> Vec<u8> {
    json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://op.example/auth",
        "token_endpoint": "https://op.example/token",
        "jwks_uri": "https://op.example/jwks",
        "end_session_endpoint": "https://op.example/session/end",
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
    .to_string()
    .into_bytes()
}

fn jwks_doc(kid: &str) -> Vec<u8> {
    json!({"keys": [{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"}]})
        .to_string()
        .into_bytes()
}

fn feed(
    p: &Policy,
    progress: &mut Progress,
    step: Step,
    status: u16,
    body: Vec<u8>,
) -> Option<Plan> {
    progress.fetched = Some(Fetched { step, status, body });
    sso(p).absorb(progress, NOW)
}

fn id_token(kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_der(&STANDARD.decode(RSA_DER).unwrap());
    encode(&header, &claims, &key).unwrap()
}

fn claims(nonce: &str, user: &str, groups: &[&str]) -> Value {
    json!({"iss": ISSUER, "aud": "dash", "sub": "u-1", "exp": NOW + 300, "iat": NOW,
           "nonce": nonce, "preferred_username": user, "groups": groups})
}

/// A sign-in under way: the sealed state cookie and its pending values.
fn pending(p: &Policy, return_to: &str) -> (String, Pending) {
    let pending = flow::fresh(return_to, NOW, STATE_LIFETIME).unwrap();
    let cookie = format!(
        "{}={}",
        flow::STATE_COOKIE,
        flow::seal(&pending, &p.secret).unwrap()
    );
    (cookie, pending)
}

fn callback_uri(pending: &Pending, iss: &str) -> String {
    format!(
        "/oauth2/callback?code=the-code&state={}&iss={}",
        pending.state,
        crate::return_path::encode_param(iss).replace('/', "%2F")
    )
}

fn page_status(plan: &Plan) -> u16 {
    match plan {
        Plan::Page { status, .. } => *status,
        other => panic!("not a page: {other:?}"),
    }
}

#[test]
fn a_navigation_fetches_discovery_once_then_goes_to_the_provider() {
    let p = sso_policy();
    let plan = p.decide(&nav("/hr?tab=2", &[], None));
    let Plan::Fetch(f) = plan else {
        panic!("{plan:?}")
    };
    assert_eq!(f.step, Step::Discovery);
    assert_eq!(f.url, "https://op.example/.well-known/openid-configuration");
    assert!(f.form.is_none() && f.authorization.is_none());
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let Plan::Redirect {
        status: 302,
        location,
        set_cookie: Some(cookie),
        log: Some(_),
        ..
    } = p.decide(&nav("/hr?tab=2", &[], Some(&progress)))
    else {
        panic!()
    };
    assert!(
        location.starts_with("https://op.example/auth?response_type=code&"),
        "{location}"
    );
    assert!(
        location.contains("redirect_uri=https%3A%2F%2Fdash.example%2Foauth2%2Fcallback"),
        "{location}"
    );
    assert!(location.contains("code_challenge_method=S256"));
    assert!(cookie.starts_with("__Host-dash_auth_oidc=") && cookie.contains("Secure"));
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(
        flow::open(value.as_bytes(), &p.secret, NOW)
            .unwrap()
            .return_to,
        "/hr?tab=2"
    );
    // Cached: the next navigation needs no fetch.
    assert!(matches!(
        p.decide(&nav("/", &[], None)),
        Plan::Redirect { .. }
    ));
}

#[test]
fn scripts_still_get_basic_and_a_bad_discovery_is_a_502() {
    let p = sso_policy();
    let script = RequestView {
        accept: None,
        ..nav("/hr", &[], None)
    };
    assert!(matches!(p.decide(&script), Plan::Challenge { .. }));
    let mut progress = Progress::default();
    let wrong = String::from_utf8(discovery_doc())
        .unwrap()
        .replace(ISSUER, "https://evil.example");
    let plan = feed(&p, &mut progress, Step::Discovery, 200, wrong.into_bytes()).unwrap();
    assert_eq!(page_status(&plan), 502);
    assert!(plan.log().unwrap().text.contains("discovery"), "{plan:?}");
    assert_eq!(
        page_status(&feed(&p, &mut progress, Step::Discovery, 504, vec![]).unwrap()),
        504
    );
    assert_eq!(
        page_status(&feed(&p, &mut progress, Step::Discovery, 0, vec![]).unwrap()),
        502
    );
    // A refresh that fails keeps what was held.
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let mut later = Progress::default();
    assert!(feed(&p, &mut later, Step::Discovery, 503, vec![]).is_none());
}

/// The whole callback: the code exchange, the keys, the session.
fn sign_in(p: &Policy, user: &str, groups: &[&str], kid: &str) -> Plan {
    let (cookie, pending) = pending(p, "/marketing?x=1");
    let uri = callback_uri(&pending, ISSUER);
    let cookies: [&[u8]; 1] = [cookie.as_bytes()];
    let mut progress = Progress::default();
    let plan = p.decide(&nav(&uri, &cookies, None));
    if let Plan::Fetch(f) = &plan {
        if f.step == Step::Discovery {
            assert!(feed(p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
        }
    }
    let Plan::Fetch(token) = p.decide(&nav(&uri, &cookies, Some(&progress))) else {
        panic!()
    };
    assert_eq!(token.step, Step::Token);
    assert_eq!(token.url, "https://op.example/token");
    let form = token.form.as_deref().unwrap();
    assert!(
        form.contains("code=the-code")
            && form.contains(&format!("code_verifier={}", pending.verifier))
    );
    assert!(token
        .authorization
        .as_deref()
        .unwrap()
        .starts_with("Basic "));
    let reply = json!({"id_token": id_token(kid, claims(&pending.nonce, user, groups)), "token_type": "Bearer"});
    assert!(feed(
        p,
        &mut progress,
        Step::Token,
        200,
        reply.to_string().into_bytes()
    )
    .is_none());
    loop {
        match p.decide(&nav(&uri, &cookies, Some(&progress))) {
            Plan::Fetch(f) if f.step == Step::Jwks => {
                assert!(feed(p, &mut progress, Step::Jwks, 200, jwks_doc("k1")).is_none());
            }
            other => return other,
        }
    }
}

fn session_of(plan: &Plan) -> String {
    let Plan::Redirect {
        set_cookie: Some(c),
        ..
    } = plan
    else {
        panic!("{plan:?}")
    };
    c.split(';').next().unwrap().to_owned()
}

#[test]
fn a_callback_ends_in_the_modules_own_session_with_mapped_sections() {
    let p = sso_policy();
    let plan = sign_in(&p, "mike", &["dash-marketing", "other"], "k1");
    let Plan::Redirect {
        status: 302,
        location,
        device_cookie: Some(clear),
        ..
    } = &plan
    else {
        panic!("{plan:?}")
    };
    assert_eq!(location, "/marketing?x=1");
    assert!(clear.contains("Max-Age=0"));
    // mike of the provider is not the users file's mike: the session stands alone.
    let cookie = session_of(&plan);
    let cookies: [&[u8]; 1] = [cookie.as_bytes()];
    let Plan::Allow { identity, .. } = p.decide(&nav("/marketing", &cookies, None)) else {
        panic!()
    };
    assert_eq!(identity.allowed_resources, vec!["marketing".to_string()]);
    assert!(matches!(
        p.decide(&nav("/hr", &cookies, None)),
        Plan::Answer { status: 403, .. }
    ));
    // An SSO user the users file does not know.
    let plan = sign_in(&p, "sam@example.com", &["dash-all"], "k1");
    let cookie = session_of(&plan);
    let cookies: [&[u8]; 1] = [cookie.as_bytes()];
    let Plan::Allow { identity, .. } = p.decide(&nav("/hr", &cookies, None)) else {
        panic!()
    };
    assert_eq!(
        (identity.user.as_str(), identity.allowed_resources),
        ("sam@example.com", vec!["_all_".into()])
    );
    // No group mapped: in, with no section.
    let cookie = session_of(&sign_in(&p, "nina", &["unmapped"], "k1"));
    let cookies: [&[u8]; 1] = [cookie.as_bytes()];
    assert!(matches!(
        p.decide(&nav("/", &cookies, None)),
        Plan::Allow { .. }
    ));
    assert!(matches!(
        p.decide(&nav("/marketing", &cookies, None)),
        Plan::Answer { status: 403, .. }
    ));
    // Where SSO is off, such a session has no standing; a password session does.
    let plain = policy(true);
    assert!(matches!(
        plain.decide(&nav("/", &cookies, None)),
        Plan::Redirect { .. }
    ));
    let pw = format!(
        "example_jwt={}",
        crate::token::issue(&plain.secret, "mike", &["marketing".into()], NOW, 3600).unwrap()
    );
    let pw: [&[u8]; 1] = [pw.as_bytes()];
    assert!(matches!(
        plain.decide(&nav("/marketing", &pw, None)),
        Plan::Allow { .. }
    ));
}

#[test]
fn an_unknown_kid_refreshes_the_keys_once_per_interval() {
    let p = sso_policy();
    // Keys cached just now: the unknown kid is refused at once.
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Jwks, 200, jwks_doc("k1")).is_none());
    let plan = sign_in(&p, "mike", &[], "k2");
    assert_eq!(page_status(&plan), 403);
    assert!(plan.log().unwrap().text.contains("k2"));
    // Past the interval: one refresh, which finds the rotated key.
    let p = sso_policy();
    let mut progress = Progress {
        fetched: Some(Fetched {
            step: Step::Jwks,
            status: 200,
            body: jwks_doc("k0"),
        }),
        ..Progress::default()
    };
    sso(&p).absorb(&mut progress, NOW - 120);
    let (cookie, pending) = pending(&p, "/");
    let uri = callback_uri(&pending, ISSUER);
    let cookies: [&[u8]; 1] = [cookie.as_bytes()];
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let reply = json!({"id_token": id_token("k1", claims(&pending.nonce, "mike", &[]))});
    assert!(feed(
        &p,
        &mut progress,
        Step::Token,
        200,
        reply.to_string().into_bytes()
    )
    .is_none());
    let Plan::Fetch(f) = p.decide(&nav(&uri, &cookies, Some(&progress))) else {
        panic!()
    };
    assert_eq!(f.step, Step::Jwks);
    // The refresh still lacks it: refused, no second fetch.
    assert!(feed(&p, &mut progress, Step::Jwks, 200, jwks_doc("k9")).is_none());
    assert_eq!(
        page_status(&p.decide(&nav(&uri, &cookies, Some(&progress)))),
        403
    );
    // The twin: the refresh has it.
    let mut progress2 = Progress::default();
    assert!(feed(
        &p,
        &mut progress2,
        Step::Token,
        200,
        reply.to_string().into_bytes()
    )
    .is_none());
    assert!(feed(&p, &mut progress2, Step::Jwks, 200, jwks_doc("k1")).is_none());
    assert!(matches!(
        p.decide(&nav(&uri, &cookies, Some(&progress2))),
        Plan::Redirect { status: 302, .. }
    ));
}

#[test]
fn hostile_callbacks_are_refused_before_the_code_is_spent() {
    let p = sso_policy();
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let (cookie, pending) = pending(&p, "/");
    let (other_cookie, _) = self::pending(&p, "/");
    let good = callback_uri(&pending, ISSUER);
    let c: [&[u8]; 1] = [cookie.as_bytes()];
    let other: [&[u8]; 1] = [other_cookie.as_bytes()];
    let forged = format!(
        "{}=x{}",
        flow::STATE_COOKIE,
        &cookie[flow::STATE_COOKIE.len() + 1..]
    );
    let forged: [&[u8]; 1] = [forged.as_bytes()];
    let no_iss = good.split("&iss=").next().unwrap().to_owned();
    let cases: Vec<(&str, String, &[&[u8]], u16)> = vec![
        ("no state cookie", good.clone(), &[], 403),
        ("forged state cookie", good.clone(), &forged, 403),
        ("another sign-in's cookie", good.clone(), &other, 403),
        ("forged state", good.replace("state=", "state=x"), &c, 403),
        (
            "iss mix-up",
            callback_uri(&pending, "https://evil.example"),
            &c,
            403,
        ),
        ("no iss though promised", no_iss, &c, 403),
        (
            "provider error",
            format!(
                "/oauth2/callback?error=access_denied&state={}",
                pending.state
            ),
            &c,
            403,
        ),
        (
            "no code",
            format!("/oauth2/callback?state={}", pending.state),
            &c,
            400,
        ),
        (
            "state twice",
            format!("{good}&state={}", pending.state),
            &c,
            400,
        ),
    ];
    for (what, uri, cookies, status) in cases {
        let plan = p.decide(&nav(&uri, cookies, Some(&progress)));
        assert_eq!(page_status(&plan), status, "{what}: {plan:?}");
        let Plan::Page {
            set_cookie: Some(clear),
            ..
        } = &plan
        else {
            panic!()
        };
        assert!(clear.contains("Max-Age=0"), "{what}");
    }
    // Over plain http no sign-in can work.
    let plain = RequestView {
        secure: false,
        ..nav(&good, &c, Some(&progress))
    };
    assert_eq!(page_status(&p.decide(&plain)), 403);
    // The twin: the same callback, as it came, goes on to the exchange.
    let Plan::Fetch(f) = p.decide(&nav(&good, &c, Some(&progress))) else {
        panic!()
    };
    assert_eq!(f.step, Step::Token);
    // The token endpoint refusing the code (used twice) is a 403, not a 502.
    let refused =
        br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#.to_vec();
    let plan = feed(&p, &mut progress, Step::Token, 400, refused).unwrap();
    assert_eq!(page_status(&plan), 403);
    assert!(plan.log().unwrap().text.contains("invalid_grant"));
    assert_eq!(
        page_status(&feed(&p, &mut progress, Step::Token, 504, vec![]).unwrap()),
        504
    );
    assert_eq!(
        page_status(&feed(&p, &mut progress, Step::Token, 502, vec![]).unwrap()),
        502
    );
}

#[test]
fn a_wrong_nonce_or_audience_is_refused() {
    let p = sso_policy();
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    assert!(feed(&p, &mut progress, Step::Jwks, 200, jwks_doc("k1")).is_none());
    let (cookie, pending) = pending(&p, "/");
    let uri = callback_uri(&pending, ISSUER);
    let c: [&[u8]; 1] = [cookie.as_bytes()];
    let mut bad_aud = claims(&pending.nonce, "mike", &[]);
    bad_aud["aud"] = json!("someone-else");
    for (what, claims, ok) in [
        ("wrong nonce", claims("forged", "mike", &[]), false),
        ("wrong aud", bad_aud, false),
        (
            "no user claim",
            json!({"iss": ISSUER, "aud": "dash", "sub": "u-1", "exp": NOW + 300, "iat": NOW, "nonce": pending.nonce}),
            false,
        ),
        ("right", claims(&pending.nonce, "mike", &[]), true),
    ] {
        let mut progress = Progress::default();
        let reply = json!({"id_token": id_token("k1", claims)});
        assert!(feed(
            &p,
            &mut progress,
            Step::Token,
            200,
            reply.to_string().into_bytes()
        )
        .is_none());
        let plan = p.decide(&nav(&uri, &c, Some(&progress)));
        assert_eq!(
            matches!(plan, Plan::Redirect { status: 302, .. }),
            ok,
            "{what}: {plan:?}"
        );
    }
}

#[test]
fn passwords_off_leaves_only_single_sign_on() {
    let mut p = sso_policy();
    p.passwords = false;
    let auth = format!("Basic {}", STANDARD.encode("mike:123456")).into_bytes();
    let basic = RequestView {
        accept: None,
        authorization: Some(&auth),
        ..nav("/marketing", &[], None)
    };
    assert!(matches!(p.decide(&basic), Plan::Refuse { status: 401, .. }));
    // The login form's path goes to the provider too.
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    assert!(
        matches!(p.decide(&nav("/login", &[], None)), Plan::Redirect { location, .. } if location.starts_with(ISSUER))
    );
    // The twin: with passwords on, the same header signs in.
    p.passwords = true;
    assert!(matches!(p.decide(&basic), Plan::Allow { .. }));
}

#[test]
fn an_sso_logout_goes_on_to_the_provider() {
    let p = sso_policy();
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let cookie = session_of(&sign_in(&p, "mike", &["dash-marketing"], "k1"));
    let c: [&[u8]; 1] = [cookie.as_bytes()];
    let origin = b"https://dash.example".as_slice();
    let logout = |cookies| RequestView {
        method: Method::Post,
        from: crate::csrf::FromHeaders {
            origin: Some(origin),
            ..Default::default()
        },
        ..nav("/logout", cookies, None)
    };
    let Plan::Logout { location, .. } = p.decide(&logout(&c)) else {
        panic!()
    };
    assert_eq!(
        location,
        "https://op.example/session/end?client_id=dash&post_logout_redirect_uri=https%3A%2F%2Fdash.example%2F"
    );
    // A password session's logout stays here.
    let pw = format!(
        "example_jwt={}",
        crate::token::issue(&p.secret, "mike", &["marketing".into()], NOW, 3600).unwrap()
    );
    let pw: [&[u8]; 1] = [pw.as_bytes()];
    let Plan::Logout { location, .. } = p.decide(&logout(&pw)) else {
        panic!()
    };
    assert_eq!(location, "/login");
}

#[test]
fn the_request_line_of_a_callback_is_redacted() {
    let p = sso_policy();
    let s = sso(&p);
    assert_eq!(
        s.redacted_request_line(
            b"/oauth2/callback",
            b"GET /oauth2/callback?code=abc&state=x HTTP/1.1"
        )
        .unwrap(),
        b"GET /oauth2/callback?[redacted] HTTP/1.1"
    );
    assert!(s
        .redacted_request_line(b"/marketing", b"GET /marketing?code=1 HTTP/1.1")
        .is_none());
    assert!(s
        .redacted_request_line(b"/oauth2/callback", b"GET /oauth2/callback HTTP/1.1")
        .is_none());
}

#[test]
fn settings_need_a_client_and_known_sections() {
    let base = || {
        let mut s = Settings {
            realm: Setting::On(crate::config::realm("Dash", "nginx.conf:1".into()).unwrap()),
            users: Setting::On(Arc::new(UsersFile::parse(demo_file().as_bytes()).unwrap())),
            secret: Setting::On(Arc::new(secret())),
            sections: Setting::On(Arc::new(
                crate::section::Sections::new(["hr", "marketing"]).unwrap(),
            )),
            ..Default::default()
        };
        s.sso.issuer =
            Setting::On(super::super::config::issuer(ISSUER, "nginx.conf:9".into()).unwrap());
        s.sso.client_id = Setting::On("dash".into());
        s.sso.client_secret = Setting::On(ClientSecret(zeroize::Zeroizing::new("x".into())));
        s
    };
    let p = base().policy(true).unwrap().unwrap();
    assert!(p.sso.is_some() && p.passwords);
    let mut s = base();
    s.sso.client_id = Setting::Unset;
    let e = s.policy(true).unwrap_err().to_string();
    assert!(
        e.contains("dash_auth_oidc_client_id") && e.contains("nginx.conf:9"),
        "{e}"
    );
    let mut s = base();
    s.sso.groups = Setting::On(Arc::new(GroupsFile {
        map: groups::parse("a marketing\nb finance\n").unwrap(),
        path: "/etc/groups".into(),
    }));
    let e = s.policy(true).unwrap_err().to_string();
    assert!(e.contains("/etc/groups:2") && e.contains("finance"), "{e}");
    let mut s = base();
    s.sso.issuer = Setting::Unset;
    s.sso.passwords = crate::config::Flag::from_bool(false);
    assert!(s
        .policy(true)
        .unwrap_err()
        .to_string()
        .contains("dash_auth_oidc_issuer"));
    for bad in [
        "http://op.example",
        "https://",
        "https://op.example/?a",
        "https://u@op.example",
    ] {
        assert!(
            super::super::config::issuer(bad, String::new()).is_err(),
            "{bad}"
        );
    }
    assert!(super::super::config::scopes(["profile"]).is_err());
    assert_eq!(
        super::super::config::scopes(["openid", "groups"]).unwrap(),
        "openid groups"
    );
}

#[test]
fn asked_again_after_a_fetch_the_basic_header_is_not_judged_twice() {
    let p = sso_policy();
    let auth = format!("Basic {}", STANDARD.encode("mike:123456")).into_bytes();
    // First asked: a right Basic header signs in, even from a browser.
    let first = RequestView {
        authorization: Some(&auth),
        ..nav("/marketing", &[], None)
    };
    assert!(matches!(p.decide(&first), Plan::Allow { .. }));
    // A request only gets to a fetch when its header failed; asked again
    // with what was fetched, no header is judged (or counted) again.
    let mut progress = Progress::default();
    assert!(feed(&p, &mut progress, Step::Discovery, 200, discovery_doc()).is_none());
    let again = RequestView {
        authorization: Some(&auth),
        ..nav("/marketing", &[], Some(&progress))
    };
    assert!(
        matches!(p.decide(&again), Plan::Redirect { location, .. } if location.starts_with(ISSUER))
    );
}

#[test]
fn the_client_authentication_follows_the_provider_unless_written() {
    let token_request = |p: &Policy, methods: Option<&[&str]>| {
        let mut doc: Value = serde_json::from_slice(&discovery_doc()).unwrap();
        if let Some(m) = methods {
            doc["token_endpoint_auth_methods_supported"] = json!(m);
        }
        let mut progress = Progress::default();
        assert!(feed(
            p,
            &mut progress,
            Step::Discovery,
            200,
            doc.to_string().into_bytes()
        )
        .is_none());
        let (cookie, pending) = pending(p, "/");
        let c: [&[u8]; 1] = [cookie.as_bytes()];
        let uri = callback_uri(&pending, ISSUER);
        let Plan::Fetch(f) = p.decide(&nav(&uri, &c, Some(&progress))) else {
            panic!()
        };
        (
            f.authorization.is_some(),
            f.form.unwrap().contains("client_secret="),
        )
    };
    let p = sso_policy();
    assert_eq!(token_request(&p, None), (true, false));
    assert_eq!(
        token_request(&p, Some(&["client_secret_post", "client_secret_basic"])),
        (true, false)
    );
    assert_eq!(
        token_request(&p, Some(&["client_secret_post"])),
        (false, true)
    );
    // Written, it wins.
    let mut p = policy(true);
    p.sso = Some(Arc::new(Sso::new(SsoConfig {
        client_auth: Some(ClientAuth::Post),
        ..config()
    })));
    assert_eq!(
        token_request(&p, Some(&["client_secret_basic"])),
        (false, true)
    );
}
