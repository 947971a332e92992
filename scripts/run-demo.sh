#!/usr/bin/env bash
# `make run`: the demo stack in the foreground. gunicorn serves the dashboard on
# loopback, nginx with the module serves it on HTTPS_PORT (HTTP_PORT redirects).
# Ctrl-C stops both.
#
# Environment: HTTP_PORT (8080), HTTPS_PORT (8443), DASH_AUTH_USERS (users file,
# default nginx-conf/users), DASH_PORT (gunicorn, 8050), RUN_DIR (run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/setup.sh
eval "$(scripts/paths.sh)"

export HTTP_PORT=${HTTP_PORT:-8080}
export HTTPS_PORT=${HTTPS_PORT:-8443}
DASH_PORT=${DASH_PORT:-8050}
RUN_DIR=$(realpath -m "${RUN_DIR:-run}")
users=$(realpath "${DASH_AUTH_USERS:-nginx-conf/users}")

mkdir -p "$RUN_DIR/conf" "$RUN_DIR/logs" "$RUN_DIR/secrets"
chmod 755 "$RUN_DIR"
scripts/gen-secrets.sh "$RUN_DIR/secrets"

export MODULE_PATH=$MODULE_SO LISTEN_ADDR="" DASH_UPSTREAM="127.0.0.1:$DASH_PORT" \
    USERS_FILE=$users SECRET_FILE="$RUN_DIR/secrets/secret" \
    TLS_CERT="$RUN_DIR/secrets/tls.crt" TLS_KEY="$RUN_DIR/secrets/tls.key" \
    DASH_DEPENDENCIES="$RUN_DIR/conf/dash-dependencies.json"
scripts/render-conf.py nginx-conf/nginx.conf.template "$RUN_DIR/conf/nginx.conf"

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "stopped" >&2
}
trap cleanup INT TERM EXIT

(cd dashboard && DASH_BIND="127.0.0.1:$DASH_PORT" exec "$root/.venv/bin/gunicorn" -c gunicorn.conf.py app:server) &
pids+=($!)
# nginx learns the app's callbacks from the running app, then starts.
scripts/export-dependencies.sh "http://127.0.0.1:$DASH_PORT/" "$DASH_DEPENDENCIES"
"$NGINX_BIN" -t -q -p "$RUN_DIR" -c conf/nginx.conf
"$NGINX_BIN" -p "$RUN_DIR" -c conf/nginx.conf -g "daemon off;" &
pids+=($!)

for _ in $(seq 1 100); do
    if curl -sk -o /dev/null "https://127.0.0.1:$HTTPS_PORT/" &&
        curl -s -o /dev/null "http://127.0.0.1:$DASH_PORT/_dash-layout"; then
        echo "ready: https://localhost:$HTTPS_PORT (http://localhost:$HTTP_PORT redirects); log in as mica/1234 or mike/123456; Ctrl-C stops"
        wait -n "${pids[@]}" || true
        exit 1
    fi
    sleep 0.2
done
echo "run-demo: the stack did not come up; see $RUN_DIR/logs/error.log" >&2
exit 1
