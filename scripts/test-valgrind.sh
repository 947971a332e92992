#!/usr/bin/env bash
# `make test-valgrind`: the integration suite with every nginx the tests start
# running under valgrind memcheck (master and forked workers), then a count of
# the errors, and of those whose stack passes through the module.
#
# Extra pytest arguments may be given, e.g. scripts/test-valgrind.sh -k callbacks
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
logs=$(mktemp -d /tmp/dash-auth-valgrind.XXXXXX)
export NGINX_WRAPPER="valgrind --tool=memcheck --leak-check=no --error-limit=no --num-callers=40 --log-file=$logs/vg-%p.log"
export DASH_AUTH_TEST_SLOW=${DASH_AUTH_TEST_SLOW:-10}
set +e
# test_demo/test_deploy start nginx through `make run` and the container
# scripts, outside the harness's wrapper; they add nothing here. The browser
# test's page timeouts are not scaled for valgrind's slowdown.
.venv/bin/python -m pytest tests -q -p no:cacheprovider --ignore=tests/test_demo.py --ignore=tests/test_deploy.py \
    --ignore=tests/test_browser.py "$@"
status=$?
set -e
.venv/bin/python - "$logs" <<'PY'
import re, sys
from pathlib import Path
logs = sorted(Path(sys.argv[1]).glob("vg-*.log"))
errors = module = 0
for log in logs:
    text = log.read_text(errors="replace")
    pid = log.stem.split("-")[1]
    # An error report is a block of "==pid== " lines that starts with its kind
    # and ends at a blank "==pid== " line.
    blocks = re.split(rf"^=={pid}== \n", text, flags=re.M)
    for b in blocks:
        if not re.search(r"(Invalid (read|write|free)|uninitialised|Mismatched free|overlap|Syscall param)", b):
            continue
        errors += 1
        if re.search(r"ngx_http_dash_auth_module|dash_auth_core|libngx_http_dash_auth", b):
            module += 1
            print(b)
print(f"valgrind: {len(logs)} nginx processes, {errors} memcheck errors, {module} through the module; logs in {sys.argv[1]}")
sys.exit(1 if module else 0)
PY
exit $status
