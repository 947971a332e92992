"""The URLs people and apps see: the http -> https redirect, the Host the app is
sent (Dash builds its page meta tags from it), and HTTP/2 on the https port."""
import contextlib
import re

import pytest

from harness import Stack, curl, over_http2


def cookie(c):
    return [f"Cookie: example_jwt={c}"]


def twitter_url(r):
    assert r.status == 200, r.status
    urls = re.findall(r'<meta property="twitter:url" content="([^"]*)"', r.text)
    assert len(urls) == 1, r.text[:500]
    return urls[0]


@pytest.fixture(scope="module")
def public(dashboard):
    """Behind a port mapping: nginx listens on a free port, browsers reach 443 or 8443."""
    stacks = {port: Stack(dashboard, env={"PUBLIC_HTTPS_PORT": port}).start() for port in ("443", "8443")}
    yield stacks
    for s in stacks.values():
        s.stop()


def test_redirect_keeps_a_port_other_than_443(stack, public):
    r = curl(stack.url("/hr?x=1", https=False))
    assert r.status == 301
    assert r.header("Location") == f"https://127.0.0.1:{stack.https_port}/hr?x=1"
    r = curl(public["8443"].url("/hr", https=False))
    assert r.header("Location") == "https://127.0.0.1:8443/hr"


def test_redirect_to_443_names_no_port(public):
    r = curl(public["443"].url("/hr?x=1", https=False), headers=["Host: dash.example:80"])
    assert r.status == 301
    assert r.header("Location") == "https://dash.example/hr?x=1"


@pytest.mark.parametrize("protocol", ["http1.1", "h2"])
def test_login_redirect_is_relative(public, protocol):
    """Behind a port mapping nginx's own port is not the browser's: a relative
    Location keeps the browser on the address it used."""
    s = public["8443"]
    with over_http2() if protocol == "h2" else contextlib.nullcontext():
        r = s.get("/hr", headers=["Accept: text/html", "Host: 127.0.0.1:8443"])
    assert r.status == 302
    assert r.header("Location") == "/login?return=/hr"


@pytest.mark.parametrize("protocol", ["http1.1", "h2"])
def test_the_app_sees_the_host_with_its_port(stack, mike_cookie, protocol):
    if protocol == "h2":
        with over_http2():
            r = stack.get("/marketing", headers=cookie(mike_cookie))
    else:
        r = stack.get("/marketing", headers=cookie(mike_cookie))
    assert twitter_url(r) == f"https://127.0.0.1:{stack.https_port}/marketing"


def test_the_app_sees_the_host_as_sent(stack, mike_cookie):
    """A port is passed on as the browser wrote it, and none is made up."""
    r = stack.get("/marketing", headers=cookie(mike_cookie) + ["Host: dash.example:8443"])
    assert twitter_url(r) == "https://dash.example:8443/marketing"
    r = stack.get("/marketing", headers=cookie(mike_cookie) + ["Host: dash.example"])
    assert twitter_url(r) == "https://dash.example/marketing"


def test_http2_is_on_in_the_shipped_config(stack):
    with over_http2():
        assert stack.get("/").status == 401
    # Spelled as this nginx takes it: no deprecation warning from nginx -t.
    t = stack.test_config()
    assert t.returncode == 0 and "[warn]" not in t.stderr, t.stderr


def test_http2_can_be_turned_off(dashboard):
    s = Stack(dashboard, env={"HTTP2": "", "LISTEN_SSL": "ssl"}).start()
    try:
        assert s.get("/").status == 401
        with over_http2(), pytest.raises(RuntimeError, match="got HTTP/1.1"):
            s.get("/")
    finally:
        s.stop()


def test_the_rendering_picks_the_spelling_by_the_binary_version(stack):
    version = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", stack.nginx("-v").stderr).groups()
    conf = stack.conf.read_text()
    listen = re.search(rf"listen 127\.0\.0\.1:{stack.https_port} ([^;]*);", conf).group(1)
    if tuple(map(int, version)) >= (1, 25, 1):
        assert listen == "ssl" and "\n        http2 on;\n" in conf
    else:
        assert listen == "ssl http2" and "http2 on" not in conf
