# ngx-dash-auth. The two commands a newcomer needs:
#   make run    the demo: nginx + module in front of the Dash app (https://localhost:8443)
#   make test   every test: core unit tests, then the integration suite against the
#               vendored nginx 1.28.3 and again against Debian's /usr/sbin/nginx
# and, as root with a Docker engine (installed and started when missing):
#   make test-docker  docker-compose build + up of a clean copy, checked from the host
.PHONY: run run-sso test test-docker check test-unit test-integration test-debian module-debian build setup clean fmt clippy soak test-valgrind bench fuzz fuzz-smoke

DEBIAN_MODULE := target/debian/release/libngx_http_dash_auth_module.so

run:
	scripts/run-demo.sh

# The demo signing browsers in through a local OpenID Provider (tests/oidc).
run-sso:
	SSO=1 scripts/run-demo.sh

test: setup check test-unit test-integration test-debian

# The house rules as lints ([workspace.lints] in Cargo.toml, clippy.toml):
# formatting, then clippy on every target with warnings as errors. Release
# profile, so the vendored nginx the build script made is reused.
check: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --features vendored --release -- -D warnings

setup:
	scripts/setup.sh

build:
	cargo build --release --features vendored

test-unit:
	cargo test -p dash-auth-core --release

# Real nginx with the module, in front of the real dashboard under gunicorn, driven by curl.
test-integration:
	.venv/bin/python -m pytest tests -q

# The compose stack as users run it: scripts/test-docker.sh, tests/docker_stack.py.
test-docker:
	scripts/test-docker.sh

# The module built for Debian 12's nginx package, loaded into /usr/sbin/nginx.
module-debian:
	scripts/build-debian-module.sh

# The same suite against Debian's nginx. test_demo.py is left out: `make run`
# always uses the vendored build, which the pass above already covers.
test-debian: module-debian
	NGINX_BIN=/usr/sbin/nginx MODULE_SO=$(abspath $(DEBIAN_MODULE)) \
		.venv/bin/python -m pytest tests -q --ignore=tests/test_demo.py

# wrk against nginx + module + the demo app for SOAK_SECONDS (120); one summary line.
soak: setup
	.venv/bin/python scripts/soak.py

# The integration suite with nginx (master and workers) under valgrind memcheck;
# reports the errors whose stacks pass through the module. Slow: bcrypt under
# valgrind takes seconds per login.
test-valgrind: setup
	scripts/test-valgrind.sh

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets --features vendored --release -- -D warnings

clean:
	cargo clean
	rm -rf .venv run tests/tools/node_modules tests/oidc/node_modules

# Requests/s, latency and nginx CPU per request of the module against unprotected
# nginx and against auth_request -> Flask + PyJWT, interleaved, on Debian's nginx
# with one pinned worker; then perf and callgrind profiles. Writes docs/bench/
# (results.md, results.png, profiles). BENCH_SECONDS (5) per case per round,
# BENCH_ROUNDS (3), BENCH_PROFILE=0 skips the profiles. Never fails on figures.
bench: module-debian
	bench/setup.sh
	bench/.venv/bin/python bench/bench.py

# Fuzzing the core's parsers with cargo-fuzz (libFuzzer + AddressSanitizer);
# see fuzz/README.md. Manual only, not run by CI. cargo-fuzz needs -Z flags:
# RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. New corpus entries
# go to fuzz/work/<target> (ignored by git), crashes to fuzz/artifacts/<target>.
FUZZ_TARGETS := basic_header cookie_header token users_file dash_callback json_differential section_path login_form oidc
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -rss_limit_mb=2048 -max_len=65536 -timeout=10

fuzz:
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/work/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run $$t fuzz/work/$$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS); \
	done

# 30 s per target: a quick check that every target builds and runs.
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30
