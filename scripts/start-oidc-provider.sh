#!/usr/bin/env bash
# `make run-sso`'s OpenID Provider: the test provider (tests/oidc, node
# oidc-provider) on https://127.0.0.1:$OP_PORT, with a CA and certificate of
# its own, the demo's client registered, and the nginx directives that use it
# written to $RUN_DIR/oidc/sso.conf for EXTRA_SERVER. Runs in the foreground.
#
# Accounts (the provider's own login page): mica / mica-sso-pass (group
# dash-all -> every section), mike / mike-sso-pass (dash-marketing ->
# marketing), nobody / nobody-sso-pass (no mapped group).
#
# Environment: RUN_DIR (run), OP_PORT (9443), HTTPS_PORT (8443).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=$(realpath -m "${RUN_DIR:-run}")
OP_PORT=${OP_PORT:-9443} HTTPS_PORT=${HTTPS_PORT:-8443}
dir="$RUN_DIR/oidc"
mkdir -p "$dir"
chmod 700 "$dir"

if [ ! -s "$dir/tls.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=ngx-dash-auth demo provider CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/ext.cnf"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
    openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 365 \
        -extfile "$dir/ext.cnf" -out "$dir/tls.pem" 2>/dev/null
fi
[ -s "$dir/client-secret" ] || openssl rand -hex 24 >"$dir/client-secret"
secret=$(cat "$dir/client-secret")
printf '# provider group -> sections\ndash-all _all_\ndash-marketing marketing\n' >"$dir/groups"

uris=""
for host in localhost 127.0.0.1; do uris="$uris\"https://$host:$HTTPS_PORT/oauth2/callback\","; done
logout=""
for host in localhost 127.0.0.1; do logout="$logout\"https://$host:$HTTPS_PORT/\","; done
cat >"$dir/provider.json" <<JSON
{"issuer": "https://127.0.0.1:$OP_PORT", "port": $OP_PORT, "control_port": 0,
 "tls_cert": "$dir/tls.pem", "tls_key": "$dir/tls.key", "keys_file": "$dir/keys.json", "fresh_keys": false,
 "clients": [{"client_id": "dash-demo", "client_secret": "$secret", "redirect_uris": [${uris%,}],
              "post_logout_redirect_uris": [${logout%,}], "token_endpoint_auth_method": "client_secret_basic",
              "id_token_signed_response_alg": "RS256"}]}
JSON
cat >"$dir/sso.conf" <<CONF
dash_auth_oidc_issuer             https://127.0.0.1:$OP_PORT;
dash_auth_oidc_client_id          dash-demo;
dash_auth_oidc_client_secret_file $dir/client-secret;
dash_auth_oidc_user_claim         preferred_username;
dash_auth_oidc_groups             $dir/groups;
proxy_ssl_trusted_certificate     $dir/ca.pem;
# The provider's certificate names localhost; nginx checks host names only.
proxy_ssl_name                    localhost;
include $(pwd)/nginx-conf/oidc-fetch.conf;
CONF
cd tests/oidc
exec node provider.mjs "$dir/provider.json"
