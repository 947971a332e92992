#!/usr/bin/env bash
# Exports the Dash app's callback registry (GET {prefix}_dash-dependencies)
# to a file for `dash_auth_dependencies_file`. Run it at deploy time, after
# the app is up and before nginx (re)loads its configuration: the module
# decides routing callbacks by the registered input positions in this file.
#
#   scripts/export-dependencies.sh http://127.0.0.1:8050/ conf/dash-dependencies.json
#   scripts/export-dependencies.sh unix:/run/dash/gunicorn.sock conf/dash-dependencies.json
set -euo pipefail
base=${1:?usage: export-dependencies.sh APP_URL|unix:SOCKET OUTPUT}
out=${2:?usage: export-dependencies.sh APP_URL|unix:SOCKET OUTPUT}
tmp="$out.tmp.$$"
via=()
if [[ $base == unix:* ]]; then
    via=(--unix-socket "${base#unix:}")
    base=http://localhost/
fi
for _ in $(seq 1 100); do
    if curl -sf "${via[@]}" -o "$tmp" "${base%/}/_dash-dependencies"; then
        mv "$tmp" "$out"
        exit 0
    fi
    sleep 0.2
done
rm -f "$tmp"
echo "export-dependencies: cannot fetch ${base%/}/_dash-dependencies" >&2
exit 1
