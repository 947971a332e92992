#!/usr/bin/env bash
# `make run`: the demo stack in the foreground. gunicorn serves the dashboard on
# a Unix socket (scripts/start-dashboard.sh), nginx with the module serves it on
# HTTPS_PORT, HTTP_PORT redirects (scripts/start-nginx.sh). Ctrl-C stops both.
#
# Environment: HTTP_PORT (8080), HTTPS_PORT (8443), DASH_AUTH_USERS (users file,
# default nginx-conf/users), RUN_DIR (run), DASH_CACHE_DIR (background
# callbacks' jobs and results, $RUN_DIR/dash-cache). SSO=1 (`make run-sso`)
# also starts a local OpenID Provider (scripts/start-oidc-provider.sh, on
# OP_PORT 9443) and signs browsers in through it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
eval "$(scripts/paths.sh)"

export HTTP_PORT=${HTTP_PORT:-8080} HTTPS_PORT=${HTTPS_PORT:-8443}
export RUN_DIR=${RUN_DIR:-run} USERS_FILE=${DASH_AUTH_USERS:-nginx-conf/users}

# The app trusts the identity headers nginx sets, so nothing but nginx may reach
# it: no TCP port, and a socket in a directory only nginx's workers can enter
# (root aside). Workers run as the user nginx was built with when started as
# root, else as whoever starts it. The directory is under /tmp, which every
# user can traverse (RUN_DIR's parents may not be) and whose paths fit a
# socket's 108 bytes.
worker=$(id -un)
if [ "$(id -u)" = 0 ]; then
    worker=$("$NGINX_BIN" -V 2>&1 | grep -o -- '--user=[^ ]*' | cut -d= -f2 || true)
    worker=${worker:-nobody}
fi
sock_dir=$(mktemp -d /tmp/ngx-dash-auth.XXXXXX)
chown "$worker" "$sock_dir"
export NGINX_BIN MODULE_PATH=$MODULE_SO DASH_UPSTREAM="unix:$sock_dir/gunicorn.sock"

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$sock_dir"
    echo "stopped" >&2
}
trap cleanup INT TERM EXIT

if [ "${SSO:-}" = 1 ]; then
    OP_PORT=${OP_PORT:-9443} RUN_DIR=$RUN_DIR HTTPS_PORT=$HTTPS_PORT scripts/start-oidc-provider.sh &
    pids+=($!)
    for _ in $(seq 1 150); do
        curl -sk -o /dev/null "https://127.0.0.1:${OP_PORT:-9443}/.well-known/openid-configuration" && break
        sleep 0.2
    done
    export EXTRA_SERVER="include $(realpath -m "$RUN_DIR")/oidc/sso.conf;"
fi

# start-dashboard.sh runs from dashboard/: the path must not be relative.
DASH_BIND=$DASH_UPSTREAM DASH_CACHE_DIR=$(realpath -m "${DASH_CACHE_DIR:-$RUN_DIR/dash-cache}") scripts/start-dashboard.sh &
pids+=($!)
scripts/start-nginx.sh &
pids+=($!)

for _ in $(seq 1 150); do
    if curl -sk -o /dev/null "https://127.0.0.1:$HTTPS_PORT/"; then
        if [ "${SSO:-}" = 1 ]; then
            echo "ready: https://localhost:$HTTPS_PORT signs in through the OpenID Provider at https://127.0.0.1:${OP_PORT:-9443} (its own CA: accept it in the browser) as mica/mica-sso-pass or mike/mike-sso-pass; curl still takes mica/1234; Ctrl-C stops"
        else
            echo "ready: https://localhost:$HTTPS_PORT (http://localhost:$HTTP_PORT redirects); log in as mica/1234 or mike/123456; Ctrl-C stops"
        fi
        wait -n "${pids[@]}" || true
        exit 1
    fi
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "run-demo: a server exited; see $RUN_DIR/logs/error.log" >&2; exit 1; }
    done
    sleep 0.2
done
echo "run-demo: the stack did not come up; see $RUN_DIR/logs/error.log" >&2
exit 1
