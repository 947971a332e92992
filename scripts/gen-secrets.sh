#!/usr/bin/env bash
# Creates, only where absent, the token secret and a self-signed certificate:
#   DIR/secret        48 random bytes, base64 (64 chars), mode 0600
#   DIR/tls.crt/.key  self-signed for localhost, valid 365 days
# They are generated per installation and never committed.
set -euo pipefail
dir=${1:?usage: gen-secrets.sh DIR}
mkdir -p "$dir"
umask 077
if [ ! -s "$dir/secret" ]; then
    openssl rand -base64 48 >"$dir/secret.tmp"
    mv "$dir/secret.tmp" "$dir/secret"
    echo "gen-secrets: new token secret in $dir/secret" >&2
fi
if [ ! -s "$dir/tls.crt" ] || [ ! -s "$dir/tls.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
    chmod 644 "$dir/tls.crt"
    echo "gen-secrets: new self-signed certificate in $dir/tls.crt" >&2
fi
