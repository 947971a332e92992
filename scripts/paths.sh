#!/usr/bin/env bash
# Prints NGINX_BIN=… and MODULE_SO=… for the vendored build, so that the
# Makefile, the demo and the tests agree on which binaries they run.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
module="$target/release/libngx_http_dash_auth_module.so"
nginx=$(ls -t "$target"/release/build/nginx-sys-*/out/objs/nginx 2>/dev/null | head -n 1 || true)
if [ ! -f "$module" ] || [ -z "$nginx" ]; then
    echo "paths.sh: build first (scripts/setup.sh)" >&2
    exit 1
fi
echo "NGINX_BIN=$(realpath "$nginx")"
echo "MODULE_SO=$(realpath "$module")"
