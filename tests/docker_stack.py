"""The docker-compose stack, checked from the host as a user meets it.

Run by scripts/test-docker.sh (`make test-docker`) once `docker-compose up -d`
has started the stack in COMPOSE_DIR (project COMPOSE_PROJECT_NAME, published
on HTTP_PORT and HTTPS_PORT). Not collected by `pytest tests`: no stack runs there.
The tests run in file order; the late ones restart and recreate the stack.
"""
import contextlib
import json
import os
import re
import socket
import subprocess
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chromium import graph_title, shot, sign_in, start_browser, stop_browser, wait
from harness import ROOT, basic, curl, over_http2, router_refusal, wait_for

COMPOSE_DIR = os.environ.get("COMPOSE_DIR", "")
PROJECT = os.environ.get("COMPOSE_PROJECT_NAME", "")
HTTP_PORT = int(os.environ.get("HTTP_PORT", "80"))
HTTPS_PORT = int(os.environ.get("HTTPS_PORT", "443"))
# How URLs write the https port: not at all for the default one.
PORT_IN_URL = "" if HTTPS_PORT == 443 else f":{HTTPS_PORT}"
BASE = f"https://127.0.0.1:{HTTPS_PORT}"
USERS = {"mica": "1234", "mike": "123456"}
EXAMPLES = ROOT / "dashboard/examples"
# The stack's logs from before `docker-compose down`.
EARLIER_LOGS = []

if not COMPOSE_DIR or not PROJECT:
    pytest.fail("run by scripts/test-docker.sh (make test-docker), which starts the stack", pytrace=False)


def compose(*args, check=True, timeout=600, env=None):
    r = subprocess.run([os.environ.get("DOCKER_COMPOSE", "docker-compose"), *args], cwd=COMPOSE_DIR,
                       capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check:
        assert r.returncode == 0, f"docker-compose {' '.join(args)}:\n{r.stdout}{r.stderr}"
    return r


def docker(*args, check=True):
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, f"docker {' '.join(args)}:\n{r.stdout}{r.stderr}"
    return r


def container(service):
    cid = compose("ps", "-q", service).stdout.strip()
    assert cid, f"no {service} container"
    return cid


def health(service):
    return docker("inspect", "-f", "{{.State.Health.Status}}", container(service)).stdout.strip()


def wait_healthy(timeout=180):
    for service in ("dashboard", "nginx"):
        wait_for(lambda: health(service) == "healthy", timeout, f"{service} healthy")


def image(service):
    return docker("inspect", "-f", "{{.Image}}", container(service)).stdout.strip()


def get(path, **kw):
    return curl(BASE + path, **kw)


def login(user):
    r = get("/", headers=[f"Authorization: {basic(user, USERS[user])}"])
    assert r.status == 200, (user, r.status)
    assert r.cookie()
    return r.cookie()


def cookie(c):
    return [f"Cookie: example_jwt={c}"]


def callback(c, name):
    body = (EXAMPLES / f"{name}.json").read_bytes()
    return get("/_dash-update-component", method="POST", data=body,
               headers=cookie(c) + ["Content-Type: application/json"])


@pytest.fixture(scope="module", autouse=True)
def stack_up():
    wait_healthy()


@pytest.fixture(scope="module")
def cookies():
    return {u: login(u) for u in USERS}


def test_http_redirects_to_https_without_the_default_port():
    r = curl(f"http://127.0.0.1:{HTTP_PORT}/hr?x=1")
    assert r.status == 301
    assert r.header("Location") == f"https://127.0.0.1{PORT_IN_URL}/hr?x=1"


def test_unauthenticated_gets_the_basic_challenge():
    r = get("/")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Basic realm="Dash dashboard", charset="UTF-8"'


@pytest.mark.parametrize("protocol", ["http1.1", "h2"])
def test_sections_of_both_users(cookies, protocol):
    with over_http2() if protocol == "h2" else contextlib.nullcontext():
        assert get("/hr", headers=cookie(cookies["mica"])).status == 200
        assert get("/marketing", headers=cookie(cookies["mica"])).status == 200
        assert get("/hr", headers=cookie(cookies["mike"])).status == 403
        assert get("/marketing", headers=cookie(cookies["mike"])).status == 200


@pytest.mark.parametrize("protocol", ["http1.1", "h2"])
def test_callback_allowed_and_denied(cookies, protocol):
    with over_http2() if protocol == "h2" else contextlib.nullcontext():
        r = callback(cookies["mica"], "hr-slider")
        assert r.status == 200 and "hr-graph" in json.loads(r.body)["response"], r.text[:300]
        assert callback(cookies["mike"], "hr-slider").status == 403
        r = callback(cookies["mike"], "router-hr")
        assert router_refusal(r), r.text[:300]
        r = callback(cookies["mica"], "router-hr")
        assert r.status == 200 and not router_refusal(r)


def test_the_app_sees_the_host_and_scheme_the_browser_used(cookies):
    """Dash's page meta tags are absolute URLs built from the request's Host."""
    with over_http2():
        r = get("/marketing", headers=cookie(cookies["mike"]))
    assert r.status == 200
    urls = re.findall(r'<meta property="twitter:url" content="([^"]*)"', r.text)
    assert urls == [f"https://127.0.0.1{PORT_IN_URL}/marketing"], urls


def test_form_login_in_chromium():
    d, profile = start_browser()
    try:
        d.get(BASE + "/hr")
        wait(d, EC.url_contains("/login"))
        sign_in(d, "mike", "wrong")
        wait(d, EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
        sign_in(d, "mike", "123456")
        wait(d, EC.url_matches(r"/hr$"))
        assert d.find_element(By.TAG_NAME, "h1").text == "Not your section"
        d.get(BASE + "/marketing")
        assert graph_title(d, "marketing-graph") == "Monthly leads: email"
        # The browser took the page over HTTP/2.
        proto = d.execute_script("return performance.getEntriesByType('navigation')[0].nextHopProtocol")
        assert proto == "h2", proto
        shot(d, "docker-mike-marketing")
    finally:
        stop_browser(d, profile)


def test_dashboard_port_is_not_published():
    assert compose("port", "dashboard", "8050", check=False).stdout.strip() in ("", ":0")
    ports = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", container("dashboard")).stdout)
    assert all(not bound for bound in (ports or {}).values()), ports
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 8050), 1).close()
    # Its network has no way out, and nginx is its only other member.
    nets = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", container("dashboard")).stdout)
    assert list(nets) == [f"{PROJECT}_backend"], nets
    assert docker("network", "inspect", "-f", "{{.Internal}}", f"{PROJECT}_backend").stdout.strip() == "true"


def test_nginx_workers_are_unprivileged():
    ps = compose("exec", "-T", "nginx", "sh", "-c",
                 "for p in /proc/[0-9]*; do printf '%s %s\\n' \"$(awk '/^Uid:/{print $2}' $p/status)\" "
                 "\"$(tr '\\0' ' ' <$p/cmdline)\"; done").stdout
    workers = [l for l in ps.splitlines() if "nginx: worker process" in l]
    assert workers, ps
    assert all(not l.startswith("0 ") for l in workers), workers
    # A worker's user cannot read the token secret or the TLS key (the master reads them).
    uid = workers[0].split()[0]
    for f in ("/var/lib/dash-auth/secrets/secret", "/var/lib/dash-auth/secrets/tls.key"):
        r = compose("exec", "-T", "-u", uid, "nginx", "cat", f, check=False)
        assert r.returncode != 0 and not r.stdout, f


@pytest.mark.parametrize("service", ["nginx", "dashboard"])
def test_image_holds_no_secret_key_or_toolchain(service):
    img = image(service)
    script = (
        # Private keys anywhere but the kernel's and docker's own trees.
        "grep -rlIs -e '-----BEGIN [A-Z ]*PRIVATE KEY-----' / --exclude-dir=proc --exclude-dir=sys "
        "--exclude-dir=dev 2>/dev/null; "
        "ls -A /var/lib/dash-auth 2>/dev/null | sed 's|^|state: |'; "
        "for t in gcc cc c++ clang ld as make cargo rustc rustup; do command -v $t; done; "
        "ls -d /usr/local/cargo /usr/local/rustup /root/.cargo /usr/lib/gcc 2>/dev/null; true")
    out = docker("run", "--rm", "--entrypoint", "sh", img, "-c", script).stdout
    assert out.strip() == "", out


def test_runtime_images_are_small():
    sizes = {s: int(docker("image", "inspect", "-f", "{{.Size}}", image(s)).stdout) for s in ("nginx", "dashboard")}
    print("image sizes (MB):", {s: round(n / 1e6) for s, n in sizes.items()})
    # Debian's slim base is 75 MB; nginx, curl, openssl and python3-minimal add
    # about 40; the dashboard is Python with dash, plotly and their pins.
    assert sizes["nginx"] < 140e6, sizes
    assert sizes["dashboard"] < 400e6, sizes


def _still_signed_in(cookies):
    assert get("/marketing", headers=cookie(cookies["mike"])).status == 200
    assert get("/hr", headers=cookie(cookies["mica"])).status == 200
    assert get("/hr", headers=cookie(cookies["mike"])).status == 403


def test_sessions_survive_an_nginx_restart(cookies):
    before = container("nginx")
    compose("restart", "nginx")
    wait_healthy()
    assert container("nginx") == before
    _still_signed_in(cookies)


def test_sessions_survive_down_and_up(cookies):
    """The secret lives in the named volume, which `down` keeps."""
    before = container("nginx")
    # `down` removes the containers and their logs: the log check reads these too.
    EARLIER_LOGS.append(compose("logs", "--no-color").stdout)
    compose("down")
    compose("up", "-d")
    wait_healthy()
    assert container("nginx") != before
    _still_signed_in(cookies)


def test_a_taken_port_fails_up_with_a_clear_message():
    """A second stack on the same ports: `up` ends at once, naming the port."""
    busy = {"COMPOSE_PROJECT_NAME": f"{PROJECT}-busy"}
    # The same images under the second project's names: nothing is rebuilt.
    for service in ("nginx", "dashboard"):
        docker("tag", image(service), f"{PROJECT}-busy_{service}")
    try:
        start = time.monotonic()
        r = compose("up", "-d", "--no-build", check=False, env=busy, timeout=300)
        took = time.monotonic() - start
        assert r.returncode != 0, r.stdout + r.stderr
        out = r.stdout + r.stderr
        assert re.search(rf"(port is already allocated|address already in use)", out), out
        assert str(HTTP_PORT) in out or str(HTTPS_PORT) in out, out
        assert took < 120, took
    finally:
        compose("down", "-v", "--remove-orphans", check=False, env=busy)
        for service in ("nginx", "dashboard"):
            docker("rmi", f"{PROJECT}-busy_{service}", check=False)


def test_logs_have_no_emergency_alert_or_crash():
    runs = EARLIER_LOGS + [compose("logs", "--no-color").stdout]
    assert len(runs) == 2, "the containers from before `down` left no logs"
    for logs in runs:
        bad = [l for l in logs.splitlines()
               if re.search(r"\[(emerg|alert|crit)\]|exited on signal|\[CRITICAL\]|Traceback|panicked", l)]
        assert not bad, "\n".join(bad)
        # nginx's error log is the container's output, denials (info) included.
        assert "start worker process" in logs, logs[-2000:]
    assert 'dash_auth: user "mike" may not access section "hr"' in runs[0]
