#!/usr/bin/env bash
# Installs and builds everything the demo and the tests need. Idempotent: a
# second run only rebuilds what changed.
#
#   scripts/setup.sh             apt packages, Python venv, module + nginx build
#   scripts/setup.sh --no-build  the same without Rust (make test-docker builds in images)
#
# Environment: VENV (default .venv), CARGO_PROFILE (default release).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=1
[ "${1:-}" = "--no-build" ] && BUILD=0

# redis-server: the shared store's tests (tests/test_redis.py).
APT_PACKAGES=(libclang-dev libpcre2-dev zlib1g-dev libssl-dev pkg-config openssl curl ca-certificates chromium chromium-driver redis-server)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_apt+=("$p")
done
if ((${#need_apt[@]})); then
    echo "setup: installing ${need_apt[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ((BUILD)) && ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found: install Rust 1.88 or newer (https://rustup.rs)" >&2
    exit 1
fi

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        # Debian's own python3 keeps venv in a separate package.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
fi
stamp="$VENV/.requirements.stamp"
want=$(cat dashboard/requirements.txt tests/requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r dashboard/requirements.txt -r tests/requirements.txt
    echo "$want" >"$stamp"
fi

if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
if [ ! -x tests/tools/node_modules/.bin/dockerfilelint ]; then
    npm ci --prefix tests/tools --silent --no-audit --no-fund >/dev/null
fi
# The OpenID provider the SSO tests sign in at (tests/oidc/README.md).
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    npm ci --prefix tests/oidc --silent --no-audit --no-fund >/dev/null
fi

((BUILD)) || exit 0
for tool in clippy fmt; do
    if ! cargo "$tool" --version >/dev/null 2>&1; then
        echo "setup: cargo $tool not found: \`make check\` needs it (rustup component add clippy rustfmt)" >&2
        exit 1
    fi
done

cargo build --release --features vendored --quiet
scripts/paths.sh >/dev/null
