//! `section::normalize_path`, `Sections::resolve_path` / `resolve_uri` and
//! `endpoint::Endpoint::classify`, with the prefixes `/` and `/app/`, with
//! and without `dash_auth_section_paths` pages, and with a prefix taken from
//! the input's first line when it is a valid one.
#![no_main]

use std::sync::OnceLock;

use dash_auth_core::endpoint::Endpoint;
use dash_auth_core::section::{normalize_path, SectionPaths, Sections, MAX_PATH_LEN};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["hr", "marketing", "finance_2"];

fn root() -> &'static Sections {
    static S: OnceLock<Sections> = OnceLock::new();
    S.get_or_init(|| Sections::new(NAMES).unwrap())
}

fn app() -> &'static Sections {
    static S: OnceLock<Sections> = OnceLock::new();
    S.get_or_init(|| Sections::new(NAMES).unwrap().with_prefix("/app/").unwrap())
}

/// `root()` where hr also owns `/people` and `/org/staff`, under `/app/`.
fn paged() -> &'static Sections {
    static S: OnceLock<Sections> = OnceLock::new();
    S.get_or_init(|| {
        let mut paths = SectionPaths::default();
        paths
            .add("hr", &["/people", "/org/staff"], String::new())
            .unwrap();
        Sections::new(NAMES)
            .unwrap()
            .with_prefix("/app/")
            .unwrap()
            .with_paths(&paths)
            .unwrap()
    })
}

fn check_normalized(raw: &[u8], p: &str) {
    assert!(raw.len() <= MAX_PATH_LEN);
    assert!(p.starts_with('/'), "{p:?}");
    assert!(!p.contains("//"), "{p:?}");
    assert!(!p.contains('\\'), "{p:?}");
    assert!(!p.bytes().any(|b| b.is_ascii_control()), "{p:?}");
    for seg in p.split('/') {
        assert!(seg != "." && seg != "..", "{p:?}");
    }
    assert!(p.len() <= raw.len() + 1, "{p:?}");
    // Nothing left to decode, cut or climb: normalising again changes nothing.
    if !p.contains(['%', '?', '#']) {
        assert_eq!(normalize_path(p.as_bytes()).as_deref(), Ok(p), "{p:?}");
    }
}

fn check_sections(s: &Sections, data: &[u8], normalized: Option<&str>) {
    let by_uri = s.resolve_uri(data);
    if let Some(name) = by_uri {
        assert!(s.names().iter().any(|n| n == name));
    }
    // Matching ignores ASCII case.
    assert_eq!(s.resolve_uri(&data.to_ascii_uppercase()), by_uri);
    match (s.resolve_path(data), normalized) {
        (Ok(got), Some(p)) => assert_eq!(got, s.resolve_uri(p.as_bytes())),
        (Err(_), None) => {}
        (got, want) => panic!("resolve_path {got:?} but normalize_path {want:?}"),
    }

    let kind = Endpoint::classify(data, s.prefix());
    assert_eq!(
        Endpoint::classify(&data.to_ascii_uppercase(), s.prefix()),
        kind
    );
    if kind != Endpoint::Other {
        // An endpoint is never a section.
        assert_eq!(by_uri, None);
    }
}

fuzz_target!(|data: &[u8]| {
    let normalized = match normalize_path(data) {
        Ok(p) => {
            check_normalized(data, &p);
            Some(p)
        }
        Err(e) => {
            let _ = e.to_string();
            None
        }
    };
    check_sections(root(), data, normalized.as_deref());
    check_sections(app(), data, normalized.as_deref());
    check_sections(paged(), data, normalized.as_deref());
    // Pages only add: a path that resolves without them resolves the same.
    let plain = app().resolve_uri(data);
    if plain.is_some() {
        assert_eq!(paged().resolve_uri(data), plain);
    }
    let _ = Endpoint::classify(data, "/");
    let _ = Endpoint::classify(data, "/app/");

    if let Some(nl) = data.iter().position(|&b| b == b'\n') {
        let (prefix, rest) = (&data[..nl], &data[nl + 1..]);
        if let Ok(prefix) = std::str::from_utf8(prefix) {
            if let Ok(s) = Sections::new(NAMES).unwrap().with_prefix(prefix) {
                assert!(s.prefix().starts_with('/') && s.prefix().ends_with('/'));
                let n = normalize_path(rest).ok();
                check_sections(&s, rest, n.as_deref());
            }
        }
    }
});
