//! Every parser fed random bytes and random mutations of valid input must
//! return, never panic: a panic would abort an nginx worker.
// A test: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use dash_auth_core::access::{Policy, RequestView};
use dash_auth_core::basic::parse_basic;
use dash_auth_core::config::LoginPages;
use dash_auth_core::cookie::find_cookie;
use dash_auth_core::csrf::FromHeaders;
use dash_auth_core::endpoint::Method;
use dash_auth_core::plan::{BodyOf, Form, Inspect, Plan};
use dash_auth_core::section::{normalize_path, SectionPaths, Sections};
use dash_auth_core::token::{self, Secret};
use dash_auth_core::users::UsersFile;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Bytes biased towards the characters the parsers care about.
    fn byte(&mut self) -> u8 {
        const INTERESTING: &[u8] = b"=;:,.\"\\/%?#$ \t\r\n\x00\x7f\xff\xc3{}[]-_aAzZ09+";
        if self.below(3) == 0 {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.byte()).collect()
    }

    /// Flips, inserts, deletes or duplicates a few bytes of `seed`.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=self.below(4) {
            let at = if v.is_empty() { 0 } else { self.below(v.len()) };
            match self.below(4) {
                0 if !v.is_empty() => v[at] = self.byte(),
                1 => v.insert(at, self.byte()),
                2 if !v.is_empty() => {
                    v.remove(at);
                }
                _ => {
                    let tail = v[at..].to_vec();
                    v.extend_from_slice(&tail);
                }
            }
        }
        v
    }
}

const MICA: &str = "$2y$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6";
const SHA: &str = "$6$saltsalt$/alWecYH7Ry7BmdtYwV3ObFkYwJ96i4zoGSMR09J7xkAoFGB7iwoQytRgpR6rkCCVBVNkvTdkdDjhKYVJ8L2T.";

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let secret = Secret::from_bytes(&[7u8; 32]).unwrap();
    let sections = Sections::new(["hr", "marketing"]).unwrap();
    let mut paths = SectionPaths::default();
    paths
        .add("hr", &["/people", "/org/staff"], String::new())
        .unwrap();
    let paged = sections.clone().with_paths(&paths).unwrap();
    let token = token::issue(&secret, "mica", &["_all_".into()], 1000, 60).unwrap();
    let seeds: [&[u8]; 9] = [
        b"username=mi%63a&password=1+2&return=%2Fhr%3Fa%3D1",
        b"//Org;x/staff/..%2Fpeople?q",
        b"marketing /ads /org/ads /people-x",
        b"Basic bWljYToxMjM0",
        b"a=1; example_jwt=\"x\"; b=2",
        token.as_bytes(),
        b"/x/../hr/%2e%2e/marketing?q#f",
        b"https://host/hr",
        b"mica:$2y$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6:hr,_all_\n# c\n",
    ];
    for round in 0..20_000 {
        let input = if round % 2 == 0 {
            rng.bytes(64)
        } else {
            let seed = seeds[rng.below(seeds.len())];
            rng.mutate(seed)
        };
        let _ = parse_basic(&input);
        let _ = find_cookie([input.as_slice(), b"example_jwt=a"], "example_jwt");
        let _ = find_cookie([input.as_slice()], "example_jwt");
        let _ = token::verify(&secret, &input, 1000, 5);
        let _ = normalize_path(&input);
        let _ = sections.resolve_uri(&input);
        let _ = sections.resolve_path(&input);
        let _ = paged.resolve_uri(&input);
        let _ = paged.resolve_path(&input);
        let form_ct: &[u8] = b"application/x-www-form-urlencoded";
        let _ = dash_auth_core::login::parse_form(Some(form_ct), &input);
        let _ = dash_auth_core::login::return_from_query(&input);
        let _ = dash_auth_core::login::wants_login_page(true, Some(&input));
        let _ = dash_auth_core::login::inject_before_body_end(&input, b"<s>");
        let _ = dash_auth_core::return_path::login_redirect("/login", &input);
        if let Ok(text) = std::str::from_utf8(&input) {
            let _ = dash_auth_core::hash::PasswordHash::parse(text);
            let words: Vec<&str> = text.split(' ').collect();
            let mut more = paths.clone();
            if let Some((section, list)) = words.split_first() {
                if more.add(section, list, String::new()).is_ok() {
                    let _ = sections.clone().with_paths(&more);
                }
            }
        }
    }
}

#[test]
fn users_file_never_panics() {
    let mut rng = Rng(42);
    let file = format!("mica:{MICA}:_all_\nmike:{SHA}:marketing\n# comment\n");
    for _ in 0..300 {
        let mut input = rng.mutate(file.as_bytes());
        // Keep the first line intact now and then so parsing gets past it
        // and the dummy hash is built.
        if rng.below(2) == 0 {
            input = [format!("ok:{MICA}\n").as_bytes(), &input].concat();
        }
        let _ = UsersFile::parse(&input);
    }
}

#[test]
fn decide_never_panics() {
    let mut rng = Rng(7);
    let users = UsersFile::parse(format!("mica:{MICA}:_all_\n").as_bytes()).unwrap();
    let mut policy = Policy::new(
        Arc::new(users),
        Arc::new(Secret::from_bytes(&[7u8; 32]).unwrap()),
        Arc::new(Sections::new(["hr"]).unwrap()),
    );
    policy.login = Some(LoginPages {
        path: "/login".into(),
        logout: "/logout".into(),
        page: Arc::new(dash_auth_core::login::DEFAULT_PAGE.into()),
        script: Vec::new(),
        origins: Arc::default(),
    });
    let token = token::issue(&policy.secret, "mica", &["hr".into()], 1000, 60).unwrap();
    let cookie = format!("example_jwt={token}");
    let form_token = dash_auth_core::csrf::issue(&policy.secret, 1000, &[3; 16]).unwrap();
    let form_cookie = format!("dash_auth_csrf={form_token}; __Host-dash_auth_csrf={form_token}");
    for _ in 0..2_000 {
        let c1 = rng.mutate(cookie.as_bytes());
        let c3 = rng.mutate(form_cookie.as_bytes());
        let origin = rng.mutate(b"https://dash.example:8443");
        let fetch_site = rng.mutate(b"same-origin");
        let host = rng.mutate(b"dash.example:8443");
        let c2 = rng.bytes(32);
        let auth = rng.mutate(b"Basic bWljYToxMjM0");
        let uri = match rng.below(3) {
            0 => b"/login".to_vec(),
            1 => b"/logout".to_vec(),
            _ => rng.mutate(b"/hr/x"),
        };
        let target = rng.mutate(b"/hr/x?a=%2F&b");
        let accept = rng.mutate(b"text/html;q=0.9, */*");
        let cookies: [&[u8]; 3] = [&c1, &c2, &c3];
        let method = [Method::Get, Method::Head, Method::Post, Method::Other]
            .get(rng.below(4))
            .copied()
            .unwrap_or_default();
        let view = RequestView {
            method,
            cookie_headers: &cookies,
            // Most mutations break the Basic header, so few reach bcrypt.
            authorization: Some(&auth),
            accept: Some(&accept),
            content_type: Some(if rng.below(2) == 0 {
                b"application/json"
            } else {
                b"application/x-www-form-urlencoded"
            }),
            content_length: Some(rng.next() % 4096),
            uri: &uri,
            target: &target,
            args: &target,
            secure: rng.below(2) == 0,
            host: Some(&host),
            from: FromHeaders {
                origin: (rng.below(2) == 0).then_some(&origin[..]),
                fetch_site: (rng.below(2) == 0).then_some(&fetch_site[..]),
                repeated: rng.below(8) == 0,
            },
            now: if rng.below(2) == 0 { 1000 } else { rng.next() },
            client: b"127.0.0.1",
            ..RequestView::default()
        };
        if let Plan::Allow {
            identity,
            inspect: Inspect { body: Some(_), .. },
            ..
        } = policy.decide(&view)
        {
            let body = rng.mutate(br#"{"output":"hr-a.children","inputs":[],"changedPropIds":[]}"#);
            let _ = policy.decide_body(&view, BodyOf::Callback(&identity), Ok(&body));
        }
        let body = format!("username=mica&password=1234&return=%2Fhr&csrf={form_token}");
        let form = rng.mutate(body.as_bytes());
        let _ = policy.decide_body(&view, BodyOf::Form(Form::Login), Ok(&form));
        let _ = policy.decide_body(&view, BodyOf::Form(Form::Logout), Ok(&form));
    }
}

fn dash_seeds() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = ["../dashboard/examples", "tests/fixtures/responses"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    seeds.push(br#"{"output":"..hr-a\\.b.x@ab...{\"i\":[\"ALL\"],\"t\":\"hr-x\"}.y..","inputs":[[{"id":{"t":"\u0068r-x"},"property":"href","value":"https://h/%68r/../x?y#z"}]],"state":[{"id":"a","property":"pathname","value":"//app/hr"}],"changedPropIds":["{\"i\":1}.v"]}"#.to_vec());
    seeds.push(br#"{"progress":{"hr-x.value":1},"progressDefault":{"{\"a\":1.5}.v":0},"cancel":[{"id":"hr-c","property":"n"}],"sideUpdate":{"{\"t\":\"hr-x\"}":{"a":1}}}"#.to_vec());
    seeds
}

#[test]
fn dash_parsers_never_panic() {
    use dash_auth_core::dash::{
        check_callback_request, check_callback_response, filter_dependencies,
        index_has_validation_layout, Registry,
    };
    let mut rng = Rng(0xDA5B_0A2D);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let deps = std::fs::read(root.join("tests/fixtures/demo-dependencies.json")).unwrap();
    let index = std::fs::read(root.join("tests/fixtures/index-validation-layout.html")).unwrap();
    let registry = Registry::from_dependencies_json(&deps).unwrap();
    let plain = Sections::new(["hr", "marketing"]).unwrap();
    let mut paths = SectionPaths::default();
    paths
        .add("hr", &["/people", "/org/staff"], String::new())
        .unwrap();
    let prefixed = plain
        .clone()
        .with_prefix("/app/")
        .unwrap()
        .with_paths(&paths)
        .unwrap();
    let seeds = dash_seeds();
    let grants: [Vec<String>; 3] = [vec![], vec!["marketing".into()], vec!["_all_".into()]];
    let content_types: [&[u8]; 3] = [
        b"application/json",
        b"application/json; charset=\"UTF-8\"",
        b"text/plain",
    ];
    for round in 0..6_000 {
        let input = match round % 3 {
            0 => rng.bytes(96),
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                rng.mutate(seed)
            }
        };
        let allowed = &grants[rng.below(grants.len())];
        let sections = if rng.below(2) == 0 { &plain } else { &prefixed };
        let pick = rng.below(content_types.len());
        let ct = rng.mutate(content_types[pick]);
        let _ = check_callback_request(&input, Some(&ct), allowed, sections, Some(&registry));
        let _ = check_callback_request(&input, Some(b"application/json"), allowed, sections, None);
        let _ = check_callback_request(
            &input,
            Some(b"application/json"),
            allowed,
            sections,
            Some(&registry),
        );
        let _ = check_callback_response(&input, allowed, sections);
        let _ = index_has_validation_layout(&input);
    }
    for _ in 0..1_500 {
        let input = rng.mutate(&deps);
        let _ = Registry::from_dependencies_json(&input);
        let _ = filter_dependencies(&input, &grants[1], &plain);
        let page = rng.mutate(&index);
        let _ = index_has_validation_layout(&page);
    }
    // Deep nesting of every kind stops at the depth bound, not the stack.
    for open in ["[", "{\"a\":", "[{\"id\":"] {
        let bomb = open.repeat(100_000);
        let _ = check_callback_request(
            bomb.as_bytes(),
            Some(b"application/json"),
            &grants[2],
            &plain,
            None,
        );
        let _ = check_callback_response(bomb.as_bytes(), &grants[2], &plain);
        let _ = Registry::from_dependencies_json(bomb.as_bytes());
    }
}

#[test]
fn oidc_parsers_never_panic() {
    use dash_auth_core::oidc::{discovery, flow, groups, id_token, jwks};
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let secret = Secret::from_bytes(&[7u8; 32]).unwrap();
    let issuer = "https://op.example";
    let doc = br#"{"issuer":"https://op.example","authorization_endpoint":"https://op.example/auth","token_endpoint":"https://op.example/token","jwks_uri":"https://op.example/jwks","id_token_signing_alg_values_supported":["RS256"],"code_challenge_methods_supported":["S256"]}"#;
    let keys = br#"{"keys":[{"kty":"RSA","kid":"k1","use":"sig","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#;
    let pending = flow::fresh("/hr?a=1", 1000, 600).unwrap();
    let sealed = flow::seal(&pending, &secret).unwrap();
    let token_reply =
        br#"{"id_token":"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln","token_type":"Bearer"}"#;
    let seeds: [&[u8]; 7] = [
        doc,
        keys,
        sealed.as_bytes(),
        token_reply,
        b"code=abc&state=xyz&iss=https%3A%2F%2Fop.example",
        b"dash-all _all_\n# c\ndash-marketing marketing,hr\r\n",
        b"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOlsiYSIsImIiXX0.",
    ];
    // A usable key set, so that tokens reach the signature and claim checks.
    let usable = jwks::parse(
        // 2048 bits, odd: a modulus the parser keeps.
        format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"k1","n":"wf{}AQ","e":"AQAB"}}]}}"#,
            "_".repeat(338)
        )
        .as_bytes(),
    )
    .ok();
    assert!(usable.is_some());
    for round in 0..20_000 {
        let input = if round % 2 == 0 {
            rng.bytes(96)
        } else {
            let seed = seeds[rng.below(seeds.len())];
            rng.mutate(seed)
        };
        let _ = discovery::parse(&input, issuer);
        let _ = jwks::parse(&input);
        let _ = flow::open(&input, &secret, 1000);
        let _ = flow::parse_callback(&input);
        let _ = flow::parse_token_response(200, &input);
        let _ = flow::parse_token_response(400, &input);
        if let Ok(text) = std::str::from_utf8(&input) {
            let _ = groups::parse(text);
            if let Some(keys) = &usable {
                let expect = id_token::Expect {
                    issuer,
                    client_id: "dash",
                    nonce: "n",
                    now: 1000,
                    leeway: 5,
                };
                let _ = id_token::verify(text, keys, &expect);
            }
        }
    }
}
