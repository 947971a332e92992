# ngx-dash-auth. The two commands a newcomer needs:
#   make run    the demo: nginx + module in front of the Dash app (https://localhost:8443)
#   make test   every test: core unit tests, then the integration suite against the
#               vendored nginx 1.28.3 and again against Debian's /usr/sbin/nginx
.PHONY: run test test-unit test-integration test-debian module-debian build setup clean fmt clippy soak test-valgrind

DEBIAN_MODULE := target/debian/release/libngx_http_dash_auth_module.so

run:
	scripts/run-demo.sh

test: setup test-unit test-integration test-debian

setup:
	scripts/setup.sh

build:
	cargo build --release --features vendored

test-unit:
	cargo test -p dash-auth-core --release

# Real nginx with the module, in front of the real dashboard under gunicorn, driven by curl.
test-integration:
	.venv/bin/python -m pytest tests -q

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
	cargo clippy --workspace --features vendored -- -D warnings

clean:
	cargo clean
	rm -rf .venv run tests/tools/node_modules
