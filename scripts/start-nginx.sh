#!/usr/bin/env bash
# Starts nginx with the module in the foreground, in front of a running
# dashboard. Used by `make run` and, unchanged, as the nginx container's
# command:
#   1. creates the token secret and a self-signed certificate in
#      $STATE_DIR when absent (never baked into an image);
#   2. exports the app's callback registry from $DASH_UPSTREAM;
#   3. renders nginx-conf/nginx.conf.template into $RUN_DIR/conf/nginx.conf;
#   4. checks it with `nginx -t`, then execs nginx.
#
# Environment (defaults for `make run`):
#   NGINX_BIN, MODULE_PATH   the nginx binary and the module it loads
#   RUN_DIR                  nginx prefix: conf/, logs/ (run)
#   STATE_DIR                secret and certificate ($RUN_DIR/secrets)
#   HTTP_PORT, HTTPS_PORT    8080, 8443; LISTEN_ADDR ("" = all addresses)
#   DASH_UPSTREAM            127.0.0.1:8050, or unix:/path/to/socket
#   USERS_FILE               nginx-conf/users
#   and the template's optional placeholders (REALM, SECTIONS, EXTRA_SERVER, ...:
#   DEFAULTS in scripts/render-conf.py), passed through as they are
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NGINX_BIN:?}" "${MODULE_PATH:?}"

RUN_DIR=$(realpath -m "${RUN_DIR:-run}")
STATE_DIR=$(realpath -m "${STATE_DIR:-$RUN_DIR/secrets}")
export HTTP_PORT=${HTTP_PORT:-8080} HTTPS_PORT=${HTTPS_PORT:-8443} LISTEN_ADDR=${LISTEN_ADDR:-}
export DASH_UPSTREAM=${DASH_UPSTREAM:-127.0.0.1:8050}
export USERS_FILE=$(realpath "${USERS_FILE:-nginx-conf/users}")
export MODULE_PATH SECRET_FILE="$STATE_DIR/secret" TLS_CERT="$STATE_DIR/tls.crt" TLS_KEY="$STATE_DIR/tls.key"
export DASH_DEPENDENCIES="$RUN_DIR/conf/dash-dependencies.json"

mkdir -p "$RUN_DIR/conf" "$RUN_DIR/logs"
chmod 755 "$RUN_DIR"
scripts/gen-secrets.sh "$STATE_DIR"
case $DASH_UPSTREAM in
    unix:*) app=$DASH_UPSTREAM ;;
    *) app="http://$DASH_UPSTREAM/" ;;
esac
scripts/export-dependencies.sh "$app" "$DASH_DEPENDENCIES"
scripts/render-conf.py nginx-conf/nginx.conf.template "$RUN_DIR/conf/nginx.conf"
"$NGINX_BIN" -t -q -p "$RUN_DIR" -c conf/nginx.conf
exec "$NGINX_BIN" -p "$RUN_DIR" -c conf/nginx.conf -g "daemon off;"
