//! Dash callback enforcement against the demo app's real bodies, replies and
//! `/_dash-dependencies`. Every section denial has a twin: the same input
//! passes for a user who holds that section, so a check that denies
//! everything cannot pass.
// A test: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use dash_auth_core::dash::{
    check_callback_request, check_callback_response, filter_dependencies,
    index_has_validation_layout, CallbackDenial, Leak, Registry, RegistryError, ReplyVia,
    ResponseDenial, Via,
};
use dash_auth_core::section::{SectionPaths, Sections};

const JSON: Option<&[u8]> = Some(b"application/json");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(root().join("../dashboard/examples").join(name)).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures").join(name)).unwrap()
}

fn sections() -> Sections {
    Sections::new(["hr", "marketing"]).unwrap()
}

fn registry() -> Registry {
    Registry::from_dependencies_json(&fixture("demo-dependencies.json")).unwrap()
}

fn user(grants: &[&str]) -> Vec<String> {
    grants.iter().map(|s| s.to_string()).collect()
}

const MIKE: &[&str] = &["marketing"];
const ANN: &[&str] = &["hr"];
const BOTH: &[&str] = &["hr", "marketing"];
const MICA: &[&str] = &["_all_"];
const NOBODY: &[&str] = &[];

fn check(
    body: &[u8],
    grants: &[&str],
    s: &Sections,
    reg: Option<&Registry>,
) -> Result<(), CallbackDenial> {
    check_callback_request(body, JSON, &user(grants), s, reg)
}

fn forbidden(section: &str, via: Via) -> CallbackDenial {
    CallbackDenial::ForbiddenSection {
        section: section.into(),
        via,
    }
}

/// `body` is refused to `denied` (for `section` through `via`) and allowed
/// to `twin`.
#[track_caller]
fn deny_with_twin(
    body: &[u8],
    s: &Sections,
    reg: Option<&Registry>,
    denied: &[&str],
    section: &str,
    via: Via,
    twin: &[&str],
) {
    let shown = String::from_utf8_lossy(body);
    assert_eq!(
        check(body, denied, s, reg),
        Err(forbidden(section, via)),
        "{denied:?} {shown}"
    );
    assert_eq!(check(body, twin, s, reg), Ok(()), "twin {twin:?} {shown}");
    assert_eq!(check(body, MICA, s, reg), Ok(()), "_all_ {shown}");
}

#[test]
fn demo_examples_with_and_without_registry() {
    let s = sections();
    let reg = registry();
    for r in [Some(&reg), None] {
        let ex = example;
        deny_with_twin(&ex("hr-slider.json"), &s, r, MIKE, "hr", Via::Output, ANN);
        deny_with_twin(
            &ex("marketing-dropdown.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Output,
            MIKE,
        );
        deny_with_twin(
            &ex("multi-output.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Output,
            MIKE,
        );
        deny_with_twin(
            &ex("pattern-all.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Output,
            MIKE,
        );
        deny_with_twin(
            &ex("pattern-match.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Output,
            MIKE,
        );
        deny_with_twin(&ex("router-hr.json"), &s, r, MIKE, "hr", Via::Route, ANN);
        deny_with_twin(
            &ex("router-marketing.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Route,
            MIKE,
        );
        // Mixed sections need both.
        deny_with_twin(
            &ex("mixed-sections.json"),
            &s,
            r,
            MIKE,
            "hr",
            Via::Output,
            BOTH,
        );
        deny_with_twin(
            &ex("mixed-sections.json"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Output,
            BOTH,
        );
        for shared in ["router-home.json", "home-setprops-hr.json"] {
            assert_eq!(check(&ex(shared), NOBODY, &s, r), Ok(()), "{shared}");
        }
    }
}

fn simple(output: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"output":{},"inputs":[]{extra}}}"#,
        serde_json::to_string(output).unwrap()
    )
    .into_bytes()
}

#[test]
fn output_key_forms() {
    let s = sections();
    let cases = [
        ("hr-graph.figure", "hr"),
        ("HR-graph.figure", "hr"),
        ("hr-a\\.b.figure", "hr"),
        ("hr-graph.figure@0123456789abcdef", "hr"),
        ("..home-a.children...hr-b.figure..", "hr"),
        ("..home-a.children...hr-b.figure@ab12..", "hr"),
        (r#"{"index":["MATCH"],"type":"hr-item"}.children"#, "hr"),
        (
            r#"{"index":["ALL"],"kind":1,"type":"HR-item"}.children"#,
            "hr",
        ),
        (r#"{"index":1\.5,"type":"hr-item"}.children"#, "hr"),
    ];
    for (key, section) in cases {
        deny_with_twin(&simple(key, ""), &s, None, MIKE, section, Via::Output, ANN);
    }
    for shared in [
        "home-graph.figure",
        "hrx.figure",
        "x\\.hr-a.children",
        "hr.children",
        &"0a".repeat(32),
        r#"{"index":["MATCH"],"type":"home-item"}.children"#,
    ] {
        assert_eq!(
            check(&simple(shared, ""), NOBODY, &s, None),
            Ok(()),
            "{shared}"
        );
    }
    // Both sections of a multi-output key are needed.
    let both = simple("..marketing-a.children...hr-b.figure..", "");
    deny_with_twin(&both, &s, None, MIKE, "hr", Via::Output, BOTH);
    deny_with_twin(&both, &s, None, ANN, "marketing", Via::Output, BOTH);
    for bad in [
        "",
        "hr-graph",
        "..hr-a.children",
        "....",
        "hr-graph.",
        ".figure",
        r#"{"index":}.children"#,
        r#"{"a":1,"a":2}.children"#,
        &"0A".repeat(32),
    ] {
        assert!(
            matches!(
                check(&simple(bad, ""), MICA, &s, None),
                Err(CallbackDenial::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn outputs_object_list_nested() {
    let s = sections();
    for outputs in [
        r#"{"id":"hr-x","property":"children"}"#,
        r#"[{"id":"home-a","property":"children"},{"id":{"index":1,"type":"hr-x"},"property":"children"}]"#,
        r#"[[{"id":{"index":0,"type":"hr-x"},"property":"children"}]]"#,
        r#"[{"id":"home-a","property":"children"},[{"id":{"index":0,"type":"hr-x"},"property":"children"}]]"#,
    ] {
        let body = simple("home-x.children", &format!(r#","outputs":{outputs}"#));
        deny_with_twin(&body, &s, None, MIKE, "hr", Via::Outputs, ANN);
    }
    for bad in [
        r#""hr-x""#,
        r#"{"property":"children"}"#,
        r#"{"id":"home-x"}"#,
        r#"{"id":7,"property":"children"}"#,
        r#"[[[[{"id":"home-x","property":"children"}]]]]"#,
    ] {
        let body = simple("home-x.children", &format!(r#","outputs":{bad}"#));
        assert!(
            matches!(
                check(&body, MICA, &s, None),
                Err(CallbackDenial::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn inputs_state_and_changed_ids() {
    let s = sections();
    let body = |inputs: &str, extra: &str| {
        format!(r#"{{"output":"home-x.children","inputs":{inputs}{extra}}}"#).into_bytes()
    };
    let home = r#"[{"id":"home-a","property":"value","value":1}]"#;
    let plain = r#"[{"id":"home-a","property":"value","value":1},{"id":"hr-dept","property":"value","value":"x"}]"#;
    let all = r#"[[{"id":{"index":0,"type":"home-b"},"property":"value","value":1},{"id":{"index":1,"type":"hr-budget"},"property":"value","value":2}]]"#;
    deny_with_twin(&body(plain, ""), &s, None, MIKE, "hr", Via::Inputs, ANN);
    deny_with_twin(&body(all, ""), &s, None, MIKE, "hr", Via::Inputs, ANN);
    deny_with_twin(
        &body(home, &format!(r#","state":{all}"#)),
        &s,
        None,
        MIKE,
        "hr",
        Via::State,
        ANN,
    );
    deny_with_twin(
        &body(home, &format!(r#","state":{plain}"#)),
        &s,
        None,
        MIKE,
        "hr",
        Via::State,
        ANN,
    );
    deny_with_twin(
        &body(home, r#","changedPropIds":["hr-dept.value"]"#),
        &s,
        None,
        MIKE,
        "hr",
        Via::ChangedPropIds,
        ANN,
    );
    deny_with_twin(
        &body(
            home,
            r#","changedPropIds":["{\"index\":1,\"type\":\"hr-budget\"}.value"]"#,
        ),
        &s,
        None,
        MIKE,
        "hr",
        Via::ChangedPropIds,
        ANN,
    );
    for bad in [
        r#","state":{"id":"hr-x"}"#,
        r#","state":[{"id":"home-x"}]"#,
        r#","state":[[[{"id":"home-x","property":"value"}]]]"#,
        r#","state":[{"id":null,"property":"value"}]"#,
        r#","state":[{"id":["hr-x"],"property":"value"}]"#,
        r#","state":[5]"#,
        r#","changedPropIds":"home-a.value""#,
        r#","changedPropIds":[1]"#,
        r#","changedPropIds":["{bad.value"]"#,
    ] {
        assert!(
            matches!(
                check(&body(home, bad), MICA, &s, None),
                Err(CallbackDenial::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    for bad in [
        &br#"{"output":"home-x.children"}"#[..],
        br#"{"output":"home-x.children","inputs":{}}"#,
        br#"{"output":"home-x.children","inputs":null}"#,
        br#"{"output":5,"inputs":[]}"#,
        br#"{"inputs":[]}"#,
        br#"["home-x.children"]"#,
        br#""home-x.children""#,
    ] {
        assert!(matches!(
            check(bad, MICA, &s, None),
            Err(CallbackDenial::Malformed(_))
        ));
    }
}

#[test]
fn escapes_are_decoded_before_comparing() {
    let s = sections();
    deny_with_twin(
        br#"{"output":"\u0068r-x.children","inputs":[]}"#,
        &s,
        None,
        MIKE,
        "hr",
        Via::Output,
        ANN,
    );
    deny_with_twin(
        br#"{"\u006futput":"\u0048R-x.children","inputs":[]}"#,
        &s,
        None,
        MIKE,
        "hr",
        Via::Output,
        ANN,
    );
    deny_with_twin(
        br#"{"output":"home-x.children","inputs":[{"id":{"type":"\u0068r-b"},"property":"value","value":1}]}"#,
        &s,
        None,
        MIKE,
        "hr",
        Via::Inputs,
        ANN,
    );
}

#[test]
fn strict_json() {
    let s = sections();
    let ok = br#"{"output":"home-x.children","inputs":[]}"#;
    assert_eq!(check(ok, MIKE, &s, None), Ok(()));
    assert_eq!(
        check(
            b"{\"output\":\"home-x.children\",\"inputs\":[]}\r\n ",
            MIKE,
            &s,
            None
        ),
        Ok(())
    );
    // Flask keeps the last duplicate, a naive reader the first.
    let dup_top = br#"{"output":"home-x.children","output":"hr-x.children","inputs":[]}"#;
    let dup_escaped = br#"{"output":"home-x.children","outp\u0075t":"hr-x.children","inputs":[]}"#;
    let dup_nested =
        br#"{"output":"home-x.children","inputs":[{"id":"home-a","id":"hr-a","property":"value"}]}"#;
    for dup in [&dup_top[..], dup_escaped, dup_nested] {
        assert_eq!(
            check(dup, MICA, &s, None),
            Err(CallbackDenial::DuplicateKey)
        );
    }
    let depth = |n: usize| {
        format!(
            r#"{{"output":"home-x.children","inputs":[],"x":{}{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert_eq!(check(depth(63).as_bytes(), MIKE, &s, None), Ok(()));
    assert_eq!(
        check(depth(64).as_bytes(), MICA, &s, None),
        Err(CallbackDenial::TooDeep)
    );
    assert_eq!(
        check(depth(200_000).as_bytes(), MICA, &s, None),
        Err(CallbackDenial::TooDeep)
    );
    for trailing in [&b"{}"[..], b"x", b"\0", b",", b"]"] {
        let body = [&ok[..], trailing].concat();
        assert!(matches!(
            check(&body, MICA, &s, None),
            Err(CallbackDenial::InvalidJson(_))
        ));
    }
    let bom = [&b"\xEF\xBB\xBF"[..], ok].concat();
    assert!(matches!(
        check(&bom, MICA, &s, None),
        Err(CallbackDenial::InvalidJson(_))
    ));
    let latin1 = b"{\"output\":\"home-x.children\",\"inputs\":[],\"x\":\"\xe9\"}";
    assert_eq!(check(latin1, MICA, &s, None), Err(CallbackDenial::NotUtf8));
    let utf16: Vec<u8> = String::from_utf8_lossy(ok)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(check(&utf16, MICA, &s, None).is_err());
    for bad in [
        &b""[..],
        b"{",
        b"{'output':1}",
        br#"{"output":"\ud800x.y","inputs":[]}"#,
        b"NaN",
    ] {
        assert!(matches!(
            check(bad, MICA, &s, None),
            Err(CallbackDenial::InvalidJson(_))
        ));
    }
}

#[test]
fn content_types() {
    let s = sections();
    let body = example("marketing-dropdown.json");
    for ok in [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON;charset=\"UTF-8\"",
        "application/json; boundary=x",
    ] {
        assert_eq!(
            check_callback_request(&body, Some(ok.as_bytes()), &user(MIKE), &s, None),
            Ok(()),
            "{ok}"
        );
    }
    for bad in [
        None,
        Some("text/plain"),
        Some("application/x+json"),
        Some("*/*+json"),
        Some("application/json-patch+json"),
        Some("application/json; charset=utf-16"),
        Some("application/json; charset=\"utf-16\""),
        Some("multipart/form-data"),
        Some(""),
    ] {
        assert_eq!(
            check_callback_request(&body, bad.map(str::as_bytes), &user(MICA), &s, None),
            Err(CallbackDenial::ContentType),
            "{bad:?}"
        );
    }
}

fn router(values: [(&str, &str); 2]) -> Vec<u8> {
    let inputs: Vec<String> = values
        .iter()
        .map(|(prop, value)| {
            format!(
                r#"{{"id":"_pages_location","property":"{prop}","value":{}}}"#,
                if *value == "null" {
                    "null".into()
                } else {
                    serde_json::to_string(value).unwrap()
                }
            )
        })
        .collect();
    format!(
        r#"{{"output":".._pages_content.children..._pages_store.data..","outputs":[{{"id":"_pages_content","property":"children"}},{{"id":"_pages_store","property":"data"}}],"inputs":[{}],"changedPropIds":["_pages_location.pathname"]}}"#,
        inputs.join(",")
    )
    .into_bytes()
}

fn route(path: &str) -> Vec<u8> {
    router([("pathname", path), ("search", "")])
}

#[test]
fn relabelled_router_inputs_go_by_position() {
    let s = sections();
    let reg = registry();
    // Dash reads position 0 as the pathname whatever it is labelled.
    let relabelled = router([("search", "/hr"), ("pathname", "/marketing")]);
    deny_with_twin(&relabelled, &s, Some(&reg), MIKE, "hr", Via::Route, ANN);
    // ... so the label pointing at /hr from position 1 is only the search.
    let swapped = router([("search", "/marketing"), ("pathname", "/hr")]);
    deny_with_twin(&swapped, &s, Some(&reg), ANN, "marketing", Via::Route, MIKE);
    // Without a registry both values look like paths and both count.
    deny_with_twin(&relabelled, &s, None, MIKE, "hr", Via::Route, BOTH);
    deny_with_twin(&relabelled, &s, None, ANN, "marketing", Via::Route, BOTH);
}

#[test]
fn router_path_spellings() {
    let s = sections();
    let reg = registry();
    for r in [Some(&reg), None] {
        for path in [
            "/hr",
            "/HR",
            "/Hr/",
            "//hr",
            "/hr/x",
            "/%68r",
            "/%68%52",
            "/hr?x=1",
            "/hr#x",
            "/hr;x",
            "\\hr",
            "https://host/hr",
            "HTTP://host:8080//HR?x",
            "https:\\\\host\\hr",
            "/./hr",
            "/hr/..",
            "/x/..%2Fhr",
        ] {
            deny_with_twin(&route(path), &s, r, MIKE, "hr", Via::Route, ANN);
        }
        // Normalised it is hr, as written it is marketing: both count.
        deny_with_twin(
            &route("/marketing/../hr"),
            &s,
            r,
            MIKE,
            "hr",
            Via::Route,
            BOTH,
        );
        deny_with_twin(
            &route("/marketing/../hr"),
            &s,
            r,
            ANN,
            "marketing",
            Via::Route,
            BOTH,
        );
        for shared in ["/", "/home", "/hrx", "/x/hr", "/assets/hr", "null"] {
            assert_eq!(check(&route(shared), NOBODY, &s, r), Ok(()), "{shared}");
        }
        for bad in [
            "/%zz",
            "/..",
            "/a/../../hr",
            "javascript:alert(1)",
            "",
            "hr",
            "/%ff",
            "/a%00",
        ] {
            assert_eq!(
                check(&route(bad), MICA, &s, r),
                Err(CallbackDenial::BadPath),
                "{bad}"
            );
        }
    }
    // A non-string pathname names no page.
    let numeric = String::from_utf8(route("/hr"))
        .unwrap()
        .replace("\"/hr\"", "7");
    assert_eq!(check(numeric.as_bytes(), NOBODY, &s, Some(&reg)), Ok(()));
}

#[test]
fn router_under_a_prefix() {
    let s = sections().with_prefix("/app/").unwrap();
    let reg = registry();
    for r in [Some(&reg), None] {
        // `/apphr` is what Dash's strip_relative_path turns into `hr`;
        // `/hr` is outside the prefix but a custom router may ignore it.
        for path in [
            "/app/hr",
            "/APP/hr/",
            "//app//hr",
            "/apphr",
            "/app/%68r",
            "/hr",
            "https://h/app/hr",
        ] {
            deny_with_twin(&route(path), &s, r, MIKE, "hr", Via::Route, ANN);
        }
        for shared in ["/app/", "/app", "/app/home", "/other/hr"] {
            assert_eq!(check(&route(shared), NOBODY, &s, r), Ok(()), "{shared}");
        }
        assert_eq!(check(&route("/app/marketing"), MIKE, &s, r), Ok(()));
    }
}

/// `sections()` where hr also owns `/people` and `/org/staff`.
fn with_pages() -> Sections {
    let mut paths = SectionPaths::default();
    paths
        .add("hr", &["/people", "/org/staff"], "nginx.conf:1".into())
        .unwrap();
    sections().with_paths(&paths).unwrap()
}

#[test]
fn router_to_a_section_page_path() {
    let s = with_pages();
    let reg = registry();
    for r in [Some(&reg), None] {
        for path in [
            "/people",
            "/People/",
            "//people",
            "/people/x",
            "/%70eople",
            "/people?x=1",
            "/people#x",
            "/people;x",
            "\\people",
            "https://host/PEOPLE",
            "/x/../people",
            // Normalised it is `/`, as written `/people`: both count.
            "/people/..",
            "/org/staff",
            "/org//staff/alice",
            "/org%2Fstaff",
        ] {
            deny_with_twin(&route(path), &s, r, MIKE, "hr", Via::Route, ANN);
        }
        for shared in [
            "/peoplex",
            "/x/people",
            "/org",
            "/org/staffx",
            "/org/x/staff",
        ] {
            assert_eq!(check(&route(shared), NOBODY, &s, r), Ok(()), "{shared}");
        }
        assert_eq!(check(&route("/marketing"), MIKE, &s, r), Ok(()));
        // Without the pages, `/people` is nobody's.
        assert_eq!(check(&route("/people"), NOBODY, &sections(), r), Ok(()));
    }
}

#[test]
fn router_to_a_section_page_path_under_a_prefix() {
    let s = with_pages().with_prefix("/app/").unwrap();
    let reg = registry();
    for r in [Some(&reg), None] {
        // The readings of `router_under_a_prefix`: segment by segment,
        // Dash's plain string prefix, and the prefix ignored.
        for path in [
            "/app/people",
            "/APP/people/x",
            "/apppeople",
            "/people",
            "/app/org/staff",
        ] {
            deny_with_twin(&route(path), &s, r, MIKE, "hr", Via::Route, ANN);
        }
        for shared in ["/app/", "/app/peoplex", "/other/people"] {
            assert_eq!(check(&route(shared), NOBODY, &s, r), Ok(()), "{shared}");
        }
    }
}

#[test]
fn registry_position_and_count() {
    let s = sections();
    let reg = registry();
    // Too few inputs: Dash would refuse, and the routing value is missing.
    let short = br#"{"output":".._pages_content.children..._pages_store.data..","inputs":[{"id":"_pages_location","property":"pathname","value":"/"}]}"#;
    assert!(matches!(
        check(short, MICA, &s, Some(&reg)),
        Err(CallbackDenial::Malformed(_))
    ));
    // Moving the routing value into `state` does not hide it: Dash reads
    // `inputs + state` by position.
    let moved = br#"{"output":".._pages_content.children..._pages_store.data..","inputs":[],"state":[{"id":"x","property":"y","value":"/hr"},{"id":"x","property":"z","value":""}]}"#;
    deny_with_twin(moved, &s, Some(&reg), MIKE, "hr", Via::Route, ANN);
    let extra = String::from_utf8(example("router-home.json"))
        .unwrap()
        .replace(
            r#""inputs": ["#,
            r#""inputs": [{"id":"a","property":"b","value":1},"#,
        );
    assert_eq!(
        check(extra.as_bytes(), MICA, &s, Some(&reg)),
        Err(CallbackDenial::Malformed(
            "inputs and state do not match the registered callback"
        ))
    );
}

const CUSTOM_DEPS: &str = r#"[
 {"output":"home-summary.children","inputs":[{"id":"hr-slider","property":"value"}],"state":[],"clientside_function":null},
 {"output":"home-total.children","inputs":[{"id":"home-go","property":"n_clicks"}],"state":[{"id":"{\"index\":[\"ALL\"],\"type\":\"hr-budget\"}","property":"value"}]},
 {"output":"home-page.children","inputs":[{"id":"home-go","property":"n_clicks"}],"state":[{"id":"url","property":"href"}]}
]"#;

#[test]
fn registered_ids_beat_client_labels() {
    let s = sections();
    let reg = Registry::from_dependencies_json(CUSTOM_DEPS.as_bytes()).unwrap();
    assert_eq!(reg.len(), 3);
    let relabelled = br#"{"output":"home-summary.children","inputs":[{"id":"home-x","property":"value","value":7}]}"#;
    deny_with_twin(
        relabelled,
        &s,
        Some(&reg),
        MIKE,
        "hr",
        Via::RegisteredInput,
        ANN,
    );
    // Without the registry the relabelling is invisible.
    assert_eq!(check(relabelled, MIKE, &s, None), Ok(()));
    let state = br#"{"output":"home-total.children","inputs":[{"id":"home-go","property":"n_clicks","value":1}],"state":[[]]}"#;
    deny_with_twin(state, &s, Some(&reg), MIKE, "hr", Via::RegisteredState, ANN);
    // A registered `href` state is a routing position.
    let href = br#"{"output":"home-page.children","inputs":[{"id":"home-go","property":"n_clicks","value":1}],"state":[{"id":"url","property":"search","value":"https://example.com/hr/x?y"}]}"#;
    deny_with_twin(href, &s, Some(&reg), MIKE, "hr", Via::Route, ANN);
}

#[test]
fn unknown_callback_with_registry() {
    let s = sections();
    let reg = registry();
    for key in [
        "hr-secret.figure",
        "marketing-graph.figure ",
        "home-other.children",
        &"ab".repeat(32),
    ] {
        let body = simple(key, "");
        assert_eq!(
            check(&body, MICA, &s, Some(&reg)),
            Err(CallbackDenial::UnknownCallback),
            "{key}"
        );
    }
    // The same shape with a registered key passes.
    let known = br#"{"output":"home-status.children","inputs":[{"id":"home-refresh","property":"n_clicks","value":1}]}"#;
    assert_eq!(check(known, NOBODY, &s, Some(&reg)), Ok(()));
}

#[test]
fn no_registry_resolves_every_path_looking_value() {
    let s = sections();
    let body = |prop: &str, value: &str| {
        format!(
            r#"{{"output":"home-x.children","inputs":[{{"id":"home-text","property":"{prop}","value":{}}}]}}"#,
            serde_json::to_string(value).unwrap()
        )
        .into_bytes()
    };
    for (prop, value) in [
        ("value", "/hr"),
        ("value", "//hr/x"),
        ("value", "\\hr"),
        ("value", "https://x/hr"),
        ("value", "HTTP://x/hr"),
        ("search", "/hr"),
        ("pathname", "/hr"),
        ("href", "https://x/HR"),
    ] {
        deny_with_twin(&body(prop, value), &s, None, MIKE, "hr", Via::Route, ANN);
    }
    for (prop, value) in [
        ("value", "hello /hr"),
        ("value", "hr"),
        ("value", "ftp://x/hr"),
        ("value", "/"),
    ] {
        assert_eq!(
            check(&body(prop, value), NOBODY, &s, None),
            Ok(()),
            "{value}"
        );
    }
    assert_eq!(
        check(&body("pathname", "hr"), MICA, &s, None),
        Err(CallbackDenial::BadPath)
    );
}

#[test]
fn denial_messages_and_statuses() {
    let d = forbidden("hr", Via::Output);
    assert_eq!(
        d.to_string(),
        r#"callback writes to section "hr" through "output""#
    );
    assert_eq!(d.status(), 403);
    assert_eq!(
        forbidden("hr", Via::Route).to_string(),
        r#"callback routes to section "hr" through "route""#
    );
    assert_eq!(
        forbidden("hr", Via::RegisteredInput).to_string(),
        r#"callback reads from section "hr" through "registered input""#
    );
    assert_eq!(CallbackDenial::UnknownCallback.status(), 403);
    assert_eq!(CallbackDenial::TooLarge.status(), 413);
    for d in [
        CallbackDenial::ContentType,
        CallbackDenial::NotUtf8,
        CallbackDenial::InvalidJson("x".into()),
        CallbackDenial::DuplicateKey,
        CallbackDenial::TooDeep,
        CallbackDenial::Malformed("x"),
        CallbackDenial::BadPath,
    ] {
        assert_eq!(d.status(), 400, "{d}");
        assert!(!d.is_forbidden());
        let text = d.to_string();
        assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
    }
    // The reason never quotes the body.
    let secret = br#"{"output":"home-x.children","inputs":[],"token":"s3cr3t" x}"#;
    let err = check(secret, MICA, &sections(), None)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[test]
fn registry_from_demo_capture() {
    let reg = registry();
    assert_eq!(reg.len(), 9);
    assert!(!reg.is_empty());
    assert_eq!(reg.clientside_count(), 1);
    for key in [
        "marketing-graph.figure",
        "..marketing-share-status.children...hr-share-status.children..",
        r#"{"index":["MATCH"],"type":"marketing-item"}.children"#,
        ".._pages_content.children..._pages_store.data..",
        "_pages_dummy.children",
    ] {
        assert!(reg.contains(key), "{key}");
    }
}

#[test]
fn registry_errors() {
    let cases = [
        ("{}", "not a JSON array"),
        ("[1]", "entry 0: not a JSON object"),
        (r#"[{"inputs":[]}]"#, r#"entry 0: "output" is missing"#),
        (
            r#"[{"output":"a.b","inputs":[]},{"output":1,"inputs":[]}]"#,
            r#"entry 1: "output" is not a string"#,
        ),
        (
            r#"[{"output":"nodot","inputs":[]}]"#,
            r#"entry 0: "output" cannot be parsed"#,
        ),
        (r#"[{"output":"a.b"}]"#, r#"entry 0: "inputs" is missing"#),
        (
            r#"[{"output":"a.b","inputs":{}}]"#,
            r#"entry 0: "inputs" is not a list"#,
        ),
        (
            r#"[{"output":"a.b","inputs":[{"property":"x"}]}]"#,
            r#"entry 0: "inputs"[0]: "id" is missing"#,
        ),
        (
            r#"[{"output":"a.b","inputs":[{"id":"{x","property":"x"}]}]"#,
            "unreadable dict id",
        ),
        (
            r#"[{"output":"a.b","inputs":[{"id":"a"}]}]"#,
            r#""property" is missing"#,
        ),
        (
            r#"[{"output":"a.b","inputs":[],"state":5}]"#,
            r#""state" is not a list"#,
        ),
        (
            r#"[{"output":"a.b","inputs":[]},{"output":"a.b","inputs":[]}]"#,
            "entry 1: the same",
        ),
        (
            r#"[{"output":"a.b","inputs":[],"inputs":[]}]"#,
            "duplicate key",
        ),
        ("[", "invalid JSON"),
    ];
    for (doc, want) in cases {
        let err = Registry::from_dependencies_json(doc.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{doc}: {err}");
    }
    assert_eq!(
        Registry::from_dependencies_json(b"{}"),
        Err(RegistryError::NotArray)
    );
    let empty = Registry::from_dependencies_json(b"[]").unwrap();
    assert!(empty.is_empty());
}

fn kept_keys(filtered: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(filtered).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["output"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn filtered_dependencies() {
    let s = sections();
    let deps = fixture("demo-dependencies.json");
    let all = kept_keys(&filter_dependencies(&deps, &user(MICA), &s).unwrap());
    assert_eq!(all.len(), 9);
    let mike = kept_keys(&filter_dependencies(&deps, &user(MIKE), &s).unwrap());
    assert_eq!(mike.len(), 7);
    assert!(!mike.iter().any(|k| k.contains("hr-")), "{mike:?}");
    assert!(mike.contains(&"marketing-graph.figure".to_owned()));
    let ann = kept_keys(&filter_dependencies(&deps, &user(ANN), &s).unwrap());
    assert_eq!(ann.len(), 4, "{ann:?}");
    assert!(ann.contains(&"hr-graph.figure".to_owned()));
    assert!(!ann.iter().any(|k| k.contains("marketing")), "{ann:?}");
    let nobody = kept_keys(&filter_dependencies(&deps, &user(NOBODY), &s).unwrap());
    assert_eq!(
        nobody,
        [
            "home-status.children",
            ".._pages_content.children..._pages_store.data..",
            "_pages_dummy.children"
        ]
    );
    // What is kept is still a registry Dash's renderer (and we) can read,
    // member for member.
    let kept = filter_dependencies(&deps, &user(MIKE), &s).unwrap();
    assert_eq!(Registry::from_dependencies_json(&kept).unwrap().len(), 7);
    let original: serde_json::Value = serde_json::from_slice(&deps).unwrap();
    let filtered: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(original[0], filtered[0]);
    // A `running` output in a forbidden section removes the callback too.
    let running = br#"[{"output":"home-a.children","inputs":[],"running":{"running":{"hr-bar.disabled":true},"runningOff":{"hr-bar.disabled":false}}}]"#;
    assert!(kept_keys(&filter_dependencies(running, &user(MIKE), &s).unwrap()).is_empty());
    assert_eq!(
        kept_keys(&filter_dependencies(running, &user(ANN), &s).unwrap()).len(),
        1
    );
    assert!(filter_dependencies(b"[{}]", &user(MICA), &s).is_err());
}

fn response_forbidden(section: &str, via: ReplyVia) -> Result<(), ResponseDenial> {
    Err(ResponseDenial::ForbiddenSection {
        section: section.into(),
        via,
    })
}

#[test]
fn callback_responses() {
    let s = sections();
    let reply = |body: &[u8], grants: &[&str]| check_callback_response(body, &user(grants), &s);
    // set_props from a home callback into hr.
    let side = fixture("responses/home-setprops-hr.json");
    assert_eq!(
        reply(&side, MIKE),
        response_forbidden("hr", ReplyVia::SideUpdate)
    );
    assert_eq!(reply(&side, ANN), Ok(()));
    assert_eq!(reply(&side, MICA), Ok(()));
    let matched = fixture("responses/pattern-match.json");
    assert_eq!(
        reply(&matched, ANN),
        response_forbidden("marketing", ReplyVia::Response)
    );
    assert_eq!(reply(&matched, MIKE), Ok(()));
    let mixed = fixture("responses/mixed-sections.json");
    assert!(reply(&mixed, MIKE).is_err());
    assert!(reply(&mixed, ANN).is_err());
    assert_eq!(reply(&mixed, BOTH), Ok(()));
    // The router writes only to shared ids, but its reply carries the
    // page's layout, whose components name the page's section.
    let router = |name: &str| fixture(&format!("responses/{name}"));
    assert_eq!(reply(&router("router-home.json"), NOBODY), Ok(()));
    for (name, section, owner) in [
        ("router-hr.json", "hr", ANN),
        ("router-marketing.json", "marketing", MIKE),
    ] {
        assert_eq!(
            reply(&router(name), NOBODY),
            Err(ResponseDenial::Carries(Leak::Component {
                section: section.to_owned()
            }))
        );
        assert_eq!(reply(&router(name), owner), Ok(()));
        assert_eq!(reply(&router(name), MICA), Ok(()));
    }
    // The first forbidden id in document order is the one named.
    for (name, section, via) in [
        ("hr-slider.json", "hr", ReplyVia::SideUpdate),
        ("marketing-dropdown.json", "marketing", ReplyVia::Response),
        ("multi-output.json", "marketing", ReplyVia::Response),
        ("pattern-all.json", "marketing", ReplyVia::Response),
    ] {
        let body = fixture(&format!("responses/{name}"));
        let other = if section == "hr" { MIKE } else { ANN };
        let owner = if section == "hr" { ANN } else { MIKE };
        assert_eq!(
            reply(&body, other),
            response_forbidden(section, via),
            "{name}"
        );
        assert_eq!(reply(&body, owner), Ok(()), "{name}");
    }
    let cases: [(&[u8], &str, ReplyVia); 5] = [
        (br#"{"multi":true,"response":{"hr-x":{"children":1}}}"#, "hr", ReplyVia::Response),
        (br#"{"progress":{"hr-bar.value":50}}"#, "hr", ReplyVia::Progress),
        (br#"{"cacheKey":"k","job":"1","progressDefault":{"{\"i\":1.5,\"t\":\"hr-p\"}.value":0}}"#, "hr", ReplyVia::ProgressDefault),
        (br#"{"cacheKey":"k","job":"1","cancel":[{"id":"hr-stop","property":"n_clicks"}]}"#, "hr", ReplyVia::Cancel),
        (br#"{"multi":true,"response":{"{\"index\":1,\"type\":\"HR-x\"}":{"children":1}}}"#, "hr", ReplyVia::Response),
    ];
    for (body, section, via) in cases {
        assert_eq!(reply(body, MIKE), response_forbidden(section, via));
        assert_eq!(reply(body, ANN), Ok(()));
        assert_eq!(reply(body, MICA), Ok(()));
    }
    for fine in [
        &b""[..],
        b" \n",
        br#"{"cacheKey":"k","job":"1"}"#,
        br#"{"multi":true,"response":{}}"#,
        b"{}",
    ] {
        assert_eq!(reply(fine, NOBODY), Ok(()));
    }
    // Keys may repeat in a reply: each occurrence is checked.
    assert_eq!(
        reply(br#"{"response":{},"response":{"hr-x":{}}}"#, MIKE),
        response_forbidden("hr", ReplyVia::Response)
    );
    for bad in [
        &b"{"[..],
        b"null",
        b"[]",
        br#"{"response":[]}"#,
        br#"{"response":{"{x":{}}}"#,
        b"{}x",
    ] {
        let err = reply(bad, MICA).unwrap_err();
        assert_eq!(err.status(), 502, "{err}");
    }
    assert_eq!(
        response_forbidden("hr", ReplyVia::SideUpdate)
            .unwrap_err()
            .status(),
        403
    );
    assert_eq!(
        response_forbidden("hr", ReplyVia::SideUpdate)
            .unwrap_err()
            .to_string(),
        r#"callback reply writes to section "hr" through "sideUpdate""#
    );
}

#[test]
fn validation_layout_in_index() {
    assert!(!index_has_validation_layout(&fixture(
        "index-suppressed.html"
    )));
    assert!(index_has_validation_layout(&fixture(
        "index-validation-layout.html"
    )));
    assert!(!index_has_validation_layout(
        b"<html><body>hi</body></html>"
    ));
    assert!(!index_has_validation_layout(b""));
    let page = |config: &str| {
        format!(r#"<script id="_dash-config" type="application/json">{config}</script>"#)
    };
    assert!(index_has_validation_layout(
        page(r#"{"validation\u005flayout":{}}"#).as_bytes()
    ));
    assert!(!index_has_validation_layout(
        page(r#"{"x":{"validation_layout":1}}"#).as_bytes()
    ));
    // Fail closed on a config we cannot read.
    assert!(index_has_validation_layout(page("{").as_bytes()));
    assert!(index_has_validation_layout(
        page(r#"{"a":1,"a":2}"#).as_bytes()
    ));
    assert!(index_has_validation_layout(
        br#"<script id="_dash-config" type="application/json">{}"#
    ));
    assert!(index_has_validation_layout(br#"<script id="_dash-config""#));
}

/// Ids the reply check reads from inside the reply document: dict ids in
/// `cancel`, escaped keys, and a `null` member.
#[test]
fn reply_ids_read_in_place() {
    let s = sections();
    let reply = |body: &[u8], grants: &[&str]| check_callback_response(body, &user(grants), &s);
    let cancel = br#"{"cacheKey":"k","job":"1","cancel":[{"id":{"index":1,"type":"hr-stop"},"property":"n_clicks"}]}"#;
    assert_eq!(
        reply(cancel, MIKE),
        response_forbidden("hr", ReplyVia::Cancel)
    );
    assert_eq!(reply(cancel, ANN), Ok(()));
    let escaped = br#"{"multi":true,"response":{"\u0068r-x":{"children":1}}}"#;
    assert_eq!(
        reply(escaped, MIKE),
        response_forbidden("hr", ReplyVia::Response)
    );
    assert_eq!(reply(escaped, ANN), Ok(()));
    let nested = br#"{"sideUpdate":{"{\"a\":[{\"b\":\"marketing-x\"}],\"c\":\"hr-y\"}":{}}}"#;
    assert_eq!(
        reply(nested, MIKE),
        response_forbidden("hr", ReplyVia::SideUpdate)
    );
    assert_eq!(
        reply(nested, ANN),
        response_forbidden("marketing", ReplyVia::SideUpdate)
    );
    assert_eq!(reply(nested, BOTH), Ok(()));
    assert_eq!(reply(br#"{"cancel":null,"response":null}"#, NOBODY), Ok(()));
}
