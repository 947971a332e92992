# ngx-dash-auth. The two commands a newcomer needs:
#   make run    the demo: nginx + module in front of the Dash app (https://localhost:8443)
#   make test   every test: core unit tests, then the integration suite
.PHONY: run test test-unit test-integration build setup clean fmt clippy

run:
	scripts/run-demo.sh

test: setup test-unit test-integration

setup:
	scripts/setup.sh

build:
	cargo build --release --features vendored

test-unit:
	cargo test -p dash-auth-core --release

# Real nginx with the module, in front of the real dashboard under gunicorn, driven by curl.
test-integration:
	.venv/bin/python -m pytest tests -q

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --features vendored -- -D warnings

clean:
	cargo clean
	rm -rf .venv run
