#!/usr/bin/env bash
# What `make bench` needs besides the Debian module build: wrk, valgrind
# (callgrind), curl, and bench/.venv with the pinned Flask, PyJWT, gunicorn and
# matplotlib of bench/requirements.txt. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in wrk valgrind curl util-linux procps python3-venv; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if ((${#need[@]})); then
    echo "bench/setup.sh: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

VENV=bench/.venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.requirements.stamp"
want=$(sha256sum bench/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
    echo "$want" >"$stamp"
fi
