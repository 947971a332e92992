#!/usr/bin/env bash
# Runs the demo dashboard under gunicorn in the foreground. Used by `make run`
# and, unchanged, as the dashboard container's command.
#
# Environment: DASH_BIND (127.0.0.1:8050, or unix:/path/to/socket), DASH_WORKERS (2), DASH_PREFIX (/),
# DASH_CACHE_DIR (background callbacks' store, shared by the workers; default
# ngx-dash-auth-cache in the temporary directory), GUNICORN (gunicorn from .venv,
# else from PATH).
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
gunicorn=${GUNICORN:-../.venv/bin/gunicorn}
[ -x "$gunicorn" ] || gunicorn=gunicorn
exec "$gunicorn" -c gunicorn.conf.py app:server
