//! Per-call cost of the checks that run on every request, natively.
//!
//! `cargo run --release -p dash-auth-core --example hot_paths`
//!
//! Each case runs in batches; the median batch is reported so that a
//! scheduler hiccup in one batch does not move the figure. Add a case as a
//! function returning a `Case` and list it in `main`. An argument keeps only
//! the cases whose name contains it.
// A benchmark tool: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dash_auth_core::access::{Policy, RequestView};
use dash_auth_core::dash::{
    cannot_carry, check_callback_request, check_callback_response, scan_json, Registry,
};
use dash_auth_core::plan::Plan;
use dash_auth_core::section::{SectionPaths, Sections};
use dash_auth_core::token::{self, Secret};
use dash_auth_core::users::UsersFile;

const BATCHES: usize = 15;
/// Enough work per batch (a few ms) that the clock's resolution is noise.
const TARGET_BATCH_NS: u128 = 5_000_000;

struct Case {
    name: &'static str,
    run: Box<dyn FnMut() -> bool>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> Vec<u8> {
    let path = root().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sections() -> Sections {
    Sections::new(["hr", "marketing"]).expect("sections")
}

fn mike() -> Vec<String> {
    vec!["marketing".to_owned()]
}

/// `dashboard/examples/pattern-all.json` with `items` ALL inputs, compact,
/// as the Dash renderer sends it: the body the nginx benchmark
/// (`bench/bench.py`, case F1) posts, with 30 items.
fn pattern_all_body(items: usize) -> Vec<u8> {
    let inputs: Vec<String> = (0..items)
        .map(|i| {
            format!(
                r#"{{"id":{{"index":{i},"type":"marketing-budget"}},"property":"value","value":{}}}"#,
                1000 + 250 * i
            )
        })
        .collect();
    format!(
        concat!(
            r#"{{"output":"marketing-total.children","#,
            r#""outputs":{{"id":"marketing-total","property":"children"}},"#,
            r#""inputs":[[{}]],"#,
            r#""changedPropIds":["{{\"index\":2,\"type\":\"marketing-budget\"}}.value"],"#,
            r#""parsedChangedPropsIds":[{{"index":2,"type":"marketing-budget"}}]}}"#
        ),
        inputs.join(",")
    )
    .into_bytes()
}

fn callback_request(with_registry: bool) -> Case {
    let body = pattern_all_body(30);
    let registry = with_registry.then(|| {
        Registry::from_dependencies_json(&read("core/tests/fixtures/demo-dependencies.json"))
            .expect("registry")
    });
    let sections = sections();
    let allowed = mike();
    let ct: Option<&[u8]> = Some(b"application/json");
    // The case must measure the pass path, not an early refusal.
    check_callback_request(&body, ct, &allowed, &sections, registry.as_ref())
        .expect("callback_request passes");
    Case {
        name: if with_registry {
            "callback_request/registry (pattern-all, 30 inputs)"
        } else {
            "callback_request/no_registry (pattern-all, 30 inputs)"
        },
        run: Box::new(move || {
            check_callback_request(black_box(&body), ct, &allowed, &sections, registry.as_ref())
                .is_ok()
        }),
    }
}

fn callback_response() -> Case {
    let body = read("core/tests/fixtures/responses/pattern-all.json");
    let sections = sections();
    let allowed = mike();
    check_callback_response(&body, &allowed, &sections).expect("callback_response passes");
    Case {
        name: "callback_response (pattern-all reply)",
        run: Box::new(move || {
            check_callback_response(black_box(&body), &allowed, &sections).is_ok()
        }),
    }
}

/// A reply held for a user who lacks a section: the byte test that clears
/// most, or the whole reading it falls back to (the callback check, or the
/// scan of any JSON reply), on a 2.5 KB figure reply and a 100 KB page
/// layout (the router's reply for a report page). `make bench` serves the
/// same files.
fn reply_scan(
    name: &'static str,
    fixture: &'static str,
    callback: bool,
    quick: bool,
    accented: bool,
) -> Case {
    let mut body = read(&format!("core/tests/fixtures/replies/{fixture}"));
    if accented {
        // A non-ASCII character, as json.dumps writes one.
        body.splice(1..1, br#""note":"caf\u00e9","#.iter().copied());
    }
    let sections = sections();
    let allowed = mike();
    let check = move |body: &[u8]| {
        if quick {
            cannot_carry(body, &allowed, &sections)
        } else if callback {
            check_callback_response(body, &allowed, &sections).is_ok()
        } else {
            scan_json(body, &allowed, &sections).is_ok()
        }
    };
    assert!(check(&body), "{fixture} passes");
    Case {
        name,
        run: Box::new(move || check(black_box(&body))),
    }
}

/// `Sections::resolve_uri`, which every request with a session runs, over
/// the paths a dashboard mostly gets (the callback endpoint, assets, a
/// section page, a page given by path), with and without
/// `dash_auth_section_paths` pages.
fn section_lookup(with_pages: bool) -> Case {
    let mut s = sections();
    if with_pages {
        let mut paths = SectionPaths::default();
        paths
            .add(
                "hr",
                &["/people", "/human-resources", "/org/staff"],
                String::new(),
            )
            .expect("paths");
        paths
            .add("marketing", &["/query-string"], String::new())
            .expect("paths");
        s = s.with_paths(&paths).expect("pages");
    }
    let uris: [&[u8]; 4] = [
        b"/_dash-update-component",
        b"/assets/style.css",
        b"/marketing",
        b"/org/staff/alice",
    ];
    Case {
        name: if with_pages {
            "resolve_uri/pages (4 paths, 4 pages)"
        } else {
            "resolve_uri/names (4 paths)"
        },
        run: Box::new(move || {
            uris.iter()
                .filter(|u| s.resolve_uri(black_box(u)).is_some())
                .count()
                > 0
        }),
    }
}

/// `users` users as `make bench` writes them for cases G10 and G100k
/// (`bench/configs.py`): copies of mica's line under other names, then mike
/// last.
fn users_file(users: usize) -> UsersFile {
    let demo = String::from_utf8(read("nginx-conf/users")).expect("utf-8");
    let line = |name: &str| {
        demo.lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .expect("demo user")
            .to_owned()
    };
    let mica_hash = line("mica").split(':').nth(1).expect("hash").to_owned();
    let mut text = String::new();
    for i in 0..users.saturating_sub(1) {
        writeln!(text, "user{i:06}:{mica_hash}:marketing").expect("write");
    }
    writeln!(text, "{}", line("mike")).expect("write");
    UsersFile::parse(text.as_bytes()).expect("users")
}

/// `Policy::decide` for mike's cookie on a static file (bench case G):
/// the token is verified and its user looked up in the users file, so the
/// 10-user and the 100 000-user file must cost the same.
fn cookie_path(name: &'static str, users: usize) -> Case {
    const NOW: u64 = 1_800_000_000;
    let secret = Secret::from_bytes(b"0123456789abcdef0123456789abcdef-bench").expect("secret");
    let policy = Policy::new(
        Arc::new(users_file(users)),
        Arc::new(secret.clone()),
        Arc::new(sections()),
    );
    let tok = token::issue(&secret, "mike", &mike(), NOW, 3600).expect("token");
    let header = format!("example_jwt={tok}").into_bytes();
    let run = move || {
        let headers: [&[u8]; 1] = [&header];
        let view = RequestView {
            cookie_headers: &headers,
            uri: b"/bench.txt",
            now: NOW + 10,
            client: b"127.0.0.1",
            ..RequestView::default()
        };
        matches!(
            policy.decide(black_box(&view)),
            Plan::Allow {
                set_cookie: None,
                ..
            }
        )
    };
    // The case must measure the pass path, not an early refusal.
    assert!(run(), "{name} passes");
    Case {
        name,
        run: Box::new(run),
    }
}

/// Median and fastest batch, in ns per call.
fn measure(case: &mut Case) -> (f64, f64) {
    // Calibrate a batch size, warming caches and the allocator meanwhile.
    let mut iters: u64 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            black_box((case.run)());
        }
        if start.elapsed().as_nanos() >= TARGET_BATCH_NS / 4 {
            break;
        }
        iters *= 2;
    }
    iters *= 4;
    let mut per_call: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box((case.run)());
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    let median = per_call
        .get(per_call.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let fastest = per_call.first().copied().unwrap_or(f64::NAN);
    (median, fastest)
}

fn main() {
    let filter = std::env::args().nth(1);
    // `HOT_PATHS_CALLS=N`: exactly N calls per case and no timing, for
    // `valgrind --tool=callgrind` (divide the case's inclusive count by N).
    let fixed: Option<u64> = std::env::var("HOT_PATHS_CALLS")
        .ok()
        .and_then(|n| n.parse().ok());
    let mut cases = vec![
        callback_request(true),
        callback_request(false),
        callback_response(),
        reply_scan(
            "reply: quick test, 2.5 KB callback",
            "callback-2k5.json",
            true,
            true,
            false,
        ),
        reply_scan(
            "reply: quick test, 100 KB layout",
            "router-100k.json",
            true,
            true,
            false,
        ),
        reply_scan(
            "reply: callback check, 2.5 KB",
            "callback-2k5.json",
            true,
            false,
            false,
        ),
        reply_scan(
            "reply: JSON scan, 100 KB layout",
            "router-100k.json",
            false,
            false,
            false,
        ),
        reply_scan(
            "reply: callback check, 100 KB",
            "router-100k.json",
            true,
            false,
            false,
        ),
        reply_scan(
            "reply: quick test, 100 KB layout with a \\u00e9",
            "router-100k.json",
            true,
            true,
            true,
        ),
        section_lookup(false),
        section_lookup(true),
        cookie_path("cookie path: decide, 10-user file", 10),
        cookie_path("cookie path: decide, 100 000-user file", 100_000),
    ];
    for case in &mut cases {
        if filter
            .as_ref()
            .is_some_and(|f| !case.name.contains(f.as_str()))
        {
            continue;
        }
        if let Some(n) = fixed {
            for _ in 0..n {
                black_box((case.run)());
            }
            continue;
        }
        let (median, fastest) = measure(case);
        println!(
            "{:<54} {:>8.0} ns/call (fastest batch {:.0})",
            case.name, median, fastest
        );
    }
}
