"""The container path, validated offline: no Docker engine runs here.

- docker-compose.yml against the compose-spec schema (vendored in check-jsonschema);
- both Dockerfiles through dockerfilelint;
- every file the Dockerfiles copy exists, and every script they run is one CI runs;
- the containers' own start scripts, run natively with the images' settings.
"""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import MODULE_SO, NGINX_BIN, ROOT, basic, curl, free_port, wait_for

DOCKERFILES = [ROOT / "Dockerfile", ROOT / "dashboard/Dockerfile"]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def validate_compose(path):
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True)


def test_compose_file_matches_the_compose_spec():
    r = validate_compose(ROOT / "docker-compose.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_validator_rejects_a_broken_file(tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text((ROOT / "docker-compose.yml").read_text().replace("condition: service_healthy",
                                                                     "condition: when_it_feels_like_it"))
    assert validate_compose(bad).returncode != 0


def test_compose_publishes_ports_only_on_nginx():
    text = (ROOT / "docker-compose.yml").read_text()
    dashboard = text.split("  dashboard:")[1].split("\n  nginx:")[0]
    assert "ports:" not in dashboard
    assert "internal: true" in text
    assert "./nginx-conf/users:/etc/dash-auth/users:ro" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_lint(dockerfile):
    lint = ROOT / "tests/tools/node_modules/.bin/dockerfilelint"
    r = subprocess.run([str(lint), str(dockerfile)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_sources_exist_and_scripts_are_the_tested_ones(dockerfile):
    text = dockerfile.read_text()
    for m in re.finditer(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _dest = m.group(1).split()
        for src in sources:
            assert (ROOT / src).exists(), src
    ci_paths = (ROOT / "Makefile").read_text() + (ROOT / "scripts/run-demo.sh").read_text()
    runs = "\n".join(re.findall(r"^(?:RUN|CMD) .*$", text, re.M))
    for script in set(re.findall(r"scripts/[\w.-]+\.sh", runs)):
        assert (ROOT / script).exists(), script
        assert script in ci_paths, f"{script} is run by {dockerfile.name} but not by make test / make run"


def test_container_start_scripts_natively(tmp_path):
    """What the two containers run, with their settings, on loopback."""
    dash_port, http_port, https_port = free_port(), free_port(), free_port()
    users = tmp_path / "users"
    users.write_text((ROOT / "nginx-conf/users").read_text())
    users.chmod(0o444)
    dash = subprocess.Popen([str(ROOT / "scripts/start-dashboard.sh")], start_new_session=True,
                            env=dict(os.environ, DASH_BIND=f"127.0.0.1:{dash_port}", DASH_WORKERS="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, NGINX_BIN=NGINX_BIN, MODULE_PATH=MODULE_SO, RUN_DIR=str(tmp_path / "var/nginx"),
               STATE_DIR=str(tmp_path / "var/secrets"), HTTP_PORT=str(http_port), HTTPS_PORT=str(https_port),
               LISTEN_ADDR="127.0.0.1:", DASH_UPSTREAM=f"127.0.0.1:{dash_port}", USERS_FILE=str(users))
    log = open(tmp_path / "nginx.out", "wb")
    nginx = subprocess.Popen([str(ROOT / "scripts/start-nginx.sh")], env=env, start_new_session=True,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        def up():
            assert nginx.poll() is None, (tmp_path / "nginx.out").read_text()
            try:
                return curl(f"https://127.0.0.1:{https_port}/", timeout=2).status == 401
            except RuntimeError:
                return False
        wait_for(up, 90, "nginx from start-nginx.sh")
        r = curl(f"https://127.0.0.1:{https_port}/marketing", headers=[f"Authorization: {basic('mike', '123456')}"])
        assert r.status == 200 and r.cookie()
        assert (tmp_path / "var/secrets/secret").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "var/nginx/conf/dash-dependencies.json").stat().st_size > 100
        secret_before = (tmp_path / "var/secrets/secret").read_bytes()
    finally:
        for p in (nginx, dash):
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        log.close()
    # A second start keeps the secret: sessions survive a container restart.
    subprocess.run([str(ROOT / "scripts/gen-secrets.sh"), str(tmp_path / "var/secrets")], check=True)
    assert (tmp_path / "var/secrets/secret").read_bytes() == secret_before
