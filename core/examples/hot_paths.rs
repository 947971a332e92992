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

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use dash_auth_core::dash::{
    cannot_carry, check_callback_request, check_callback_response, scan_json, Registry,
};
use dash_auth_core::section::{SectionPaths, Sections};

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
fn reply_scan(name: &'static str, fixture: &'static str, callback: bool, quick: bool) -> Case {
    let body = read(&format!("core/tests/fixtures/replies/{fixture}"));
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
        ),
        reply_scan(
            "reply: quick test, 100 KB layout",
            "router-100k.json",
            true,
            true,
        ),
        reply_scan(
            "reply: callback check, 2.5 KB",
            "callback-2k5.json",
            true,
            false,
        ),
        reply_scan(
            "reply: JSON scan, 100 KB layout",
            "router-100k.json",
            false,
            false,
        ),
        reply_scan(
            "reply: callback check, 100 KB",
            "router-100k.json",
            true,
            false,
        ),
        section_lookup(false),
        section_lookup(true),
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
