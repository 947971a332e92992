#!/usr/bin/env bash
# `make module-debian`: builds the module for Debian's own nginx package.
#
# Installs nginx and nginx-dev from apt, configures a private copy of
# /usr/share/nginx/src with the exact flags Debian built /usr/sbin/nginx with
# (its conf_flags file), and builds the module against that tree. The result,
# target/debian/release/libngx_http_dash_auth_module.so, has the module
# signature /usr/sbin/nginx expects, so `load_module` accepts it.
#
#   --prepare  only the packages and the configured tree (a cached image layer)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need=()
for p in nginx nginx-dev libclang-dev libpcre2-dev zlib1g-dev libssl-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if ((${#need[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

src=/usr/share/nginx/src
tree="$root/target/debian/nginx-src"
version=$(/usr/sbin/nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
if [ ! -f "$tree/objs/ngx_auto_config.h" ] || [ "$(cat "$tree/.version" 2>/dev/null)" != "$version" ]; then
    rm -rf "$tree"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"
    # conf_flags holds a bash array, NGX_CONF_FLAGS=( … ).
    # shellcheck disable=SC1091
    source "$tree/conf_flags"
    (cd "$tree" && ./configure "${NGX_CONF_FLAGS[@]}" --builddir=objs >"$tree/configure.log" 2>&1) || {
        tail -n 30 "$tree/configure.log" >&2
        exit 1
    }
    echo "$version" >"$tree/.version"
fi

[ "${1:-}" = "--prepare" ] && exit 0
NGINX_SOURCE_DIR="$tree" NGINX_BUILD_DIR="$tree/objs" \
    cargo build --release --target-dir "$root/target/debian" --quiet
echo "MODULE_SO=$root/target/debian/release/libngx_http_dash_auth_module.so"
echo "NGINX_BIN=/usr/sbin/nginx"
