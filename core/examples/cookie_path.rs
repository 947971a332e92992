//! Native cost of the cookie path, per call: `cargo run --release -p
//! dash-auth-core --example cookie_path`. The nginx-level figures come from
//! `make bench`; this isolates the core so a change can be judged in seconds.
// A benchmark tool: a failure should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use dash_auth_core::access::{Policy, RequestView};
use dash_auth_core::cookie::find_cookie;
use dash_auth_core::plan::Plan;
use dash_auth_core::section::Sections;
use dash_auth_core::token::{self, Secret};
use dash_auth_core::users::UsersFile;

const NOW: u64 = 1_800_000_000;

/// Median over batches of the per-call time of `f`, in ns.
fn time<F: FnMut()>(mut f: F) -> f64 {
    const BATCH: u32 = 20_000;
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A request for a static file outside any section, with these cookies.
fn view<'a>(cookie_headers: &'a [&'a [u8]]) -> RequestView<'a> {
    RequestView {
        cookie_headers,
        authorization: None,
        uri: b"/bench.txt",
        secure: false,
        now: NOW + 10,
        client: b"127.0.0.1",
        shared: None,
        ..RequestView::default()
    }
}

fn main() {
    let secret = Secret::from_bytes(b"0123456789abcdef0123456789abcdef-bench").expect("secret");
    let users = UsersFile::parse(include_bytes!("../../nginx-conf/users")).expect("users");
    let sections = Sections::new(["marketing", "hr"]).expect("sections");
    let policy = Policy::new(
        Arc::new(users),
        Arc::new(secret.clone()),
        Arc::new(sections),
    );
    let tok = token::issue(&secret, "mike", &["marketing".to_owned()], NOW, 3600).expect("token");
    let alone = format!("example_jwt={tok}");
    let browser = format!(
        "_ga=GA1.1.1234567890.1700000000; theme=dark; example_jwt={tok}; _gid=GA1.1.987654321"
    );

    // Under callgrind (`--toggle-collect='*Policy::decide*'`), count exact
    // instructions instead of timing: `cookie_path calls 1000`.
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, n] = args.as_slice() {
        let n: u32 = n.parse().expect("a call count");
        let headers: [&[u8]; 1] = [if mode == "browser" { &browser } else { &alone }.as_bytes()];
        let view = view(&headers);
        for _ in 0..n {
            let _ = black_box(policy.decide(black_box(&view)));
        }
        return;
    }
    for (label, header) in [("alone", &alone), ("browser", &browser)] {
        let headers: [&[u8]; 1] = [header.as_bytes()];
        let view = view(&headers);
        assert!(matches!(policy.decide(&view), Plan::Allow { .. }));
        let find = time(|| {
            black_box(find_cookie(
                black_box(headers).iter().copied(),
                "example_jwt",
            ));
        });
        let verify = time(|| {
            let _ = black_box(token::verify(
                &secret,
                black_box(tok.as_bytes()),
                NOW + 10,
                0,
            ));
        });
        let decide = time(|| {
            let _ = black_box(policy.decide(black_box(&view)));
        });
        println!(
            "cookie_path {label:8} header {:3} B: find_cookie {find:6.0} ns  verify {verify:6.0} ns  decide {decide:6.0} ns",
            header.len()
        );
    }
}
