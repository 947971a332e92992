//! The Dash checks: `check_callback_request` (with and without the demo
//! app's registry), `check_callback_response`, `index_has_validation_layout`,
//! `Registry::from_dependencies_json` and `filter_dependencies`.
//!
//! The first input byte picks the user's grants and the Dash prefix; the
//! rest is the body. A body holding a NUL byte (never valid JSON) is also
//! read as `registry NUL request`, so fuzzed registries meet fuzzed requests.
#![no_main]

use std::sync::OnceLock;

use dash_auth_core::dash::{
    check_callback_request, check_callback_response, filter_dependencies,
    index_has_validation_layout, CallbackDenial, Registry, ResponseDenial,
};
use dash_auth_core::section::Sections;
use libfuzzer_sys::fuzz_target;

const JSON: Option<&[u8]> = Some(b"application/json");
const DEPENDENCIES: &[u8] = include_bytes!("../../core/tests/fixtures/demo-dependencies.json");
const EXAMPLES: [&[u8]; 4] = [
    include_bytes!("../../dashboard/examples/router-hr.json"),
    include_bytes!("../../dashboard/examples/hr-slider.json"),
    include_bytes!("../../dashboard/examples/pattern-match.json"),
    include_bytes!("../../dashboard/examples/multi-output.json"),
];

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry::from_dependencies_json(DEPENDENCIES).unwrap())
}

fn sections(app: bool) -> &'static Sections {
    static ROOT: OnceLock<Sections> = OnceLock::new();
    static APP: OnceLock<Sections> = OnceLock::new();
    let make = || Sections::new(["hr", "marketing"]).unwrap();
    if app {
        APP.get_or_init(|| make().with_prefix("/app/").unwrap())
    } else {
        ROOT.get_or_init(make)
    }
}

fn grants(selector: u8) -> Vec<String> {
    let g: &[&str] = match selector % 5 {
        0 => &[],
        1 => &["hr"],
        2 => &["marketing"],
        3 => &["hr", "marketing"],
        _ => &["_all_"],
    };
    g.iter().map(|s| s.to_string()).collect()
}

fn all() -> Vec<String> {
    vec!["_all_".to_owned()]
}

fn request(body: &[u8], allowed: &[String], s: &Sections, reg: Option<&Registry>) {
    let got = check_callback_request(body, JSON, allowed, s, reg);
    let everything = check_callback_request(body, JSON, &all(), s, reg);
    for r in [&got, &everything] {
        if let Err(e) = r {
            assert!(matches!(e.status(), 400 | 403 | 413));
            assert_eq!(e.is_forbidden(), e.status() == 403);
            let _ = e.to_string();
        }
    }
    // `_all_` opens every section, and more grants never deny more.
    assert!(
        !matches!(everything, Err(CallbackDenial::ForbiddenSection { .. })),
        "{everything:?}"
    );
    if got.is_ok() {
        assert!(everything.is_ok(), "{everything:?}");
    }
    assert_eq!(
        check_callback_request(body, None, allowed, s, reg),
        Err(CallbackDenial::ContentType)
    );
}

fn response(body: &[u8], allowed: &[String], s: &Sections) {
    let got = check_callback_response(body, allowed, s);
    let everything = check_callback_response(body, &all(), s);
    for r in [&got, &everything] {
        if let Err(e) = r {
            assert!(matches!(e.status(), 403 | 502));
            let _ = e.to_string();
        }
    }
    assert!(
        !matches!(everything, Err(ResponseDenial::ForbiddenSection { .. })),
        "{everything:?}"
    );
    if got.is_ok() {
        assert!(everything.is_ok(), "{everything:?}");
    }
}

fn dependencies(body: &[u8], allowed: &[String], s: &Sections) -> Option<Registry> {
    let parsed = Registry::from_dependencies_json(body);
    if let Err(e) = &parsed {
        let _ = e.to_string();
    }
    let kept_all = filter_dependencies(body, &all(), s);
    let kept = filter_dependencies(body, allowed, s);
    if let Ok(reg) = &parsed {
        let _ = reg.clientside_count();
        // `_all_` keeps every callback, and the result reads back the same.
        let doc = kept_all.as_ref().expect("a registry always filters");
        let again = Registry::from_dependencies_json(doc).expect("filtered registry must parse");
        assert_eq!(again.len(), reg.len());
        let doc = kept.as_ref().expect("a registry always filters");
        let mine = Registry::from_dependencies_json(doc).expect("filtered registry must parse");
        assert!(mine.len() <= reg.len());
    }
    match (&kept, &kept_all) {
        (Ok(doc), Ok(_)) => {
            // Filtering is idempotent.
            assert_eq!(filter_dependencies(doc, allowed, s).as_ref(), Ok(doc));
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("filter for user {a:?} but for _all_ {b:?}"),
    }
    parsed.ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let allowed = grants(selector);
    let s = sections(selector & 0x80 != 0);

    request(body, &allowed, s, None);
    request(body, &allowed, s, Some(registry()));
    response(body, &allowed, s);
    let _ = index_has_validation_layout(body);
    if let Some(reg) = dependencies(body, &allowed, s) {
        for example in EXAMPLES {
            request(example, &allowed, s, Some(&reg));
        }
    }
    if let Some(nul) = body.iter().position(|&b| b == 0) {
        let (deps, req) = (&body[..nul], &body[nul + 1..]);
        if let Ok(reg) = Registry::from_dependencies_json(deps) {
            request(req, &allowed, s, Some(&reg));
        }
    }
});
