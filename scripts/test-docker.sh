#!/usr/bin/env bash
# `make test-docker`: the container path as a user runs it. From a clean copy
# of the tree (what git would commit: tracked and new files, nothing ignored),
# `docker-compose build` and `docker-compose up -d`, then tests/docker_stack.py
# checks the stack from the host. Everything it starts is torn down on exit,
# on failure too; images stay, as the build cache for the next run.
#
#   1. a Docker engine: installed (docker.io, docker-compose) when missing and
#      started when none answers; both need root;
#   2. the base images: scripts/docker-base-images.sh (pulled, else stand-ins);
#   3. ports 80 and 443, or free ones through the compose file's HTTP_PORT and
#      HTTPS_PORT when those are taken.
#
# Environment: DOCKER_COMPOSE (docker-compose), KEEP_STACK=1 leaves the stack up.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say() { echo "test-docker: $*" >&2; }
t0=$SECONDS

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        say "$1 needs root; run as root, or start a Docker engine this user may use"
        exit 1
    fi
}

# 1. The engine.
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    need_root "installing docker.io and docker-compose"
    say "installing docker.io docker-compose"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-compose >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    need_root "starting dockerd"
    say "starting dockerd (log: /var/log/dockerd.log)"
    # Its own session: it outlives this run, as a system service would.
    setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log >&2; say "dockerd did not start"; exit 1; }
fi

# The browser check's chromium and the venv with pytest and selenium.
scripts/setup.sh --no-build

# 2. Base images.
t=$SECONDS
scripts/docker-base-images.sh
say "base images ready in $((SECONDS - t)) s"

# 3. A clean copy, and ports.
copy=$(mktemp -d /tmp/ngx-dash-auth-docker.XXXXXX)
export COMPOSE_PROJECT_NAME=ngx-dash-auth-test
compose() { (cd "$copy" && ${DOCKER_COMPOSE:-docker-compose} "$@"); }
teardown() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "${KEEP_STACK:-0}" = 1 ]; then
        say "KEEP_STACK=1: the stack stays up in $copy (project $COMPOSE_PROJECT_NAME)"
    else
        compose down -v --remove-orphans >/dev/null 2>&1 || true
        COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME-busy compose down -v --remove-orphans >/dev/null 2>&1 || true
        docker rmi "$COMPOSE_PROJECT_NAME-busy_nginx" "$COMPOSE_PROJECT_NAME-busy_dashboard" >/dev/null 2>&1 || true
        rm -rf "$copy"
    fi
    say "$([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
    exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [ -e "$f" ] && printf '%s\0' "$f"
    done | tar --null -T - -c | tar -C "$copy" -x
else
    tar --exclude=./target --exclude=./.venv --exclude=./run -c . | tar -C "$copy" -x
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
export HTTP_PORT=80 HTTPS_PORT=443
if ! port_free 80 || ! port_free 443; then
    HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port)
    say "80 or 443 is taken here: publishing on $HTTP_PORT and $HTTPS_PORT instead"
fi

t=$SECONDS
compose build
say "docker-compose build in $((SECONDS - t)) s"
t=$SECONDS
compose up -d
say "docker-compose up -d in $((SECONDS - t)) s"
for service in nginx dashboard; do
    say "image $service: $(docker image inspect -f '{{.Size}}' "${COMPOSE_PROJECT_NAME}_$service" | awk '{printf "%d MB", $1 / 1e6}')"
done

# 4. The checks, from the host. NGINX_BIN/MODULE_SO: the harness's curl is
# used, not its local nginx, so no local build is needed.
NGINX_BIN=/nonexistent MODULE_SO=/nonexistent COMPOSE_DIR=$copy \
    .venv/bin/python -m pytest -q -p no:cacheprovider "$root/tests/docker_stack.py"
