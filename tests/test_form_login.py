"""Form login, logout, sliding sessions, the session-expiry script and the
login failure limit, with curl against real nginx + the demo app."""
import subprocess
import time
import urllib.parse

import pytest

import jwt_forge
from harness import Stack, basic, curl

HTML = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM = "Content-Type: application/x-www-form-urlencoded"


def form(user, password, ret=None):
    fields = {"username": user, "password": password}
    if ret is not None:
        fields["return"] = ret
    return urllib.parse.urlencode(fields).encode()


def login(stack, user, password, ret=None):
    """The login form as a browser posts it from the login page."""
    return stack.get("/login", method="POST", headers=[FORM, *stack.same_origin()],
                     data=form(user, password, ret))


def test_browser_navigation_is_sent_to_the_login_page(stack):
    r = stack.get("/hr?x=1&y=2", headers=[HTML])
    assert r.status == 302
    loc = r.header("Location")
    assert loc.endswith("/login?return=/hr%3Fx%3D1%26y%3D2"), loc
    # Scripts and XHR keep the Basic challenge.
    r = stack.get("/hr")
    assert r.status == 401 and r.header("WWW-Authenticate") == 'Basic realm="Dash dashboard", charset="UTF-8"'
    r = stack.get("/hr", method="POST", headers=[HTML])
    assert r.status == 401


def test_login_page_is_served_for_get_and_head(stack):
    r = stack.get("/login?return=%2Fhr", headers=[HTML])
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/html")
    assert r.header("Cache-Control") == "no-store"
    assert '<form method="post" action="/login">' in r.text
    assert 'name="return" value="/hr"' in r.text
    assert '<label for="username">' in r.text and '<label for="password">' in r.text
    h = stack.get("/login", method="HEAD", extra=["-I"])
    assert h.status == 200 and b"<form" not in h.body
    assert int(h.header("Content-Length")) > 500
    # An evil return target is never echoed.
    r = stack.get("/login?return=%2F%2Fevil.example")
    assert 'name="return" value="/"' in r.text and "evil" not in r.text
    assert stack.get("/login", method="PUT").status == 405


def test_keepalive_across_login_page_requests(stack):
    """Page, HEAD, redirect and a failed POST on one connection."""
    url = stack.url("/login")
    out = subprocess.run(
        ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", url,
         "--next", "-sk", "-I", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", url,
         "--next", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n",
         "-H", FORM, "-H", f"Origin: {stack.origin()}", "--data-binary", "username=mike&password=x", url,
         "--next", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n",
         "-H", HTML, stack.url("/hr")],
        capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:4] == ["200 1", "200 0", "401 0", "302 0"], out


def test_form_login_sets_cookie_and_returns(stack):
    r = login(stack, "mike", "123456", "/marketing?a=1")
    assert r.status == 303
    assert r.header("Location").endswith("/marketing?a=1")
    token = r.cookie()
    assert token
    attrs = [a.strip() for a in r.header("Set-Cookie").split(";")[1:]]
    assert attrs == ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=3600", "Secure"]
    _, claims, _ = jwt_forge.parts(token)
    assert claims["sub"] == "mike" and claims["auth_time"] == claims["iat"]
    assert stack.get("/marketing", headers=[f"Cookie: example_jwt={token}"]).status == 200
    assert stack.get("/hr", headers=[f"Cookie: example_jwt={token}"]).status == 403


@pytest.mark.parametrize("evil", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                  "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)", "hr"])
def test_return_path_cannot_leave_the_site(stack, evil):
    r = login(stack, "mica", "1234", evil)
    assert r.status == 303
    assert urllib.parse.urlsplit(r.header("Location")).path == "/"
    assert "evil" not in r.header("Location")


def test_failed_login_shows_the_form_again(stack):
    for user, pw in [("mike", "wrong"), ("ghost", "123456")]:
        r = login(stack, user, pw, "/hr")
        assert r.status == 401
        assert r.header("WWW-Authenticate") is None
        assert r.cookie() is None
        assert "Wrong user name or password." in r.text
        assert 'name="return" value="/hr"' in r.text
    assert 'user "ghost": user not found' in stack.error_log
    assert "wrong" not in stack.error_log.split("ghost")[-1]


@pytest.mark.parametrize("headers,data", [
    (["Content-Type: application/json"], b'{"username":"mike","password":"123456"}'),
    ([FORM], b"username=mike"),
    ([FORM], b"username=mike&username=mica&password=1234"),
    ([FORM], b"username=%zz&password=1"),
])
def test_malformed_login_forms_are_400(stack, headers, data):
    assert stack.get("/login", method="POST", headers=headers, data=data).status == 400


def test_logout_ends_the_session_for_every_worker(stack):
    token = login(stack, "mike", "123456").cookie()
    cookie = f"Cookie: example_jwt={token}"
    assert stack.get("/marketing", headers=[cookie]).status == 200
    r = stack.get("/logout", method="POST", headers=[cookie, *stack.same_origin()])
    assert r.status == 303 and r.header("Location").endswith("/login")
    assert r.header("Set-Cookie") == "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
    # The old value is refused by every worker, though not expired.
    for _ in range(8):
        r = stack.get("/marketing", headers=[cookie])
        assert r.status == 401
    assert "session cookie ended by logout" in stack.error_log
    # Logging in again at once gives a working cookie.
    fresh = login(stack, "mike", "123456").cookie()
    assert stack.get("/marketing", headers=[f"Cookie: example_jwt={fresh}"]).status == 200
    # Without a cookie it still expires and redirects.
    r = stack.get("/logout", method="POST", headers=stack.same_origin())
    assert r.status == 303 and "Max-Age=0" in r.header("Set-Cookie")
    assert stack.get("/logout", method="DELETE").status == 405


def test_expired_session_callback_gets_401_without_basic_prompt(stack):
    key = jwt_forge.secret_key(stack.secret)
    now = int(time.time())
    old = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 7200,
                          "exp": now - 3600}, key)
    r = stack.get("/_dash-update-component", method="POST",
                  headers=[f"Cookie: example_jwt={old}", "Content-Type: application/json"], data=b"{}")
    assert r.status == 401
    assert r.header("WWW-Authenticate") is None


def test_app_pages_carry_the_expiry_script(stack, mica_cookie):
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={mica_cookie}"])
    assert r.status == 200
    assert "_dash-update-component" in r.text and 'var login="/login"' in r.text
    assert r.text.index("var login=") < r.text.rindex("</body>")
    assert len(r.body) == int(r.header("Content-Length") or len(r.body))


def test_sliding_refresh_in_second_half(stack):
    key = jwt_forge.secret_key(stack.secret)
    now = int(time.time())
    young = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 60,
                            "exp": now + 3540, "auth_time": now - 60}, key)
    assert stack.get("/", headers=[f"Cookie: example_jwt={young}"]).cookie() is None
    aging = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 2000,
                            "exp": now + 1600, "auth_time": now - 5000}, key)
    r = stack.get("/", headers=[f"Cookie: example_jwt={aging}"])
    assert r.status == 200
    fresh = r.cookie()
    _, claims, _ = jwt_forge.parts(fresh)
    assert claims["auth_time"] == now - 5000
    assert claims["exp"] >= now + 3590 and claims["iat"] >= now
    # Past the maximum session age (12h by default) the cookie is refused.
    ancient = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 100,
                              "exp": now + 3500, "auth_time": now - 13 * 3600}, key)
    assert stack.get("/", headers=[f"Cookie: example_jwt={ancient}"]).status == 401


def test_refresh_stops_at_max_age(dashboard):
    s = Stack(dashboard, env={"SESSION_MAX_AGE": "2h"}).start()
    try:
        key = jwt_forge.secret_key(s.secret)
        now = int(time.time())
        t = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 2000,
                            "exp": now + 1600, "auth_time": now - 6000}, key)
        # A refresh would end at auth_time + 2h, before the token's own exp:
        # no new cookie, and the session ends with this token.
        r = s.get("/", headers=[f"Cookie: example_jwt={t}"])
        assert r.status == 200 and r.cookie() is None
        t = jwt_forge.make({"sub": "mica", "allowed_resources": ["_all_"], "iat": now - 2000,
                            "exp": now + 1600, "auth_time": now - 4000}, key)
        _, claims, _ = jwt_forge.parts(s.get("/", headers=[f"Cookie: example_jwt={t}"]).cookie())
        assert abs(claims["exp"] - (now - 4000 + 7200)) <= 1
        assert claims["auth_time"] == now - 4000
    finally:
        s.stop()


def test_login_failure_limit(dashboard):
    s = Stack(dashboard, env={"LOGIN_LIMIT": "3 1m 1m"}).start()
    try:
        for _ in range(3):
            assert login(s, "mike", "nope").status == 401
        r = login(s, "mike", "123456")
        assert r.status == 429 and r.cookie() is None
        assert "Too many failed attempts" in r.text
        assert s.get("/", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 429
        assert "login failure limit reached for the user" in s.error_log
        # Another user from the same address is limited after the address's count is reached.
        assert login(s, "mica", "1234").status == 429
    finally:
        s.stop()


def test_login_without_zone_fails_nginx_t(dashboard):
    s = Stack(dashboard, env={"ZONE": ""})
    try:
        t = s.test_config()
        assert t.returncode != 0
        assert 'has no "dash_auth_zone" in effect' in t.stderr
    finally:
        s.stop()


@pytest.mark.parametrize("env,why", [
    ({"LOGIN_PATH": "login"}, "invalid parameter"),
    ({"LOGIN_PATH": "//evil"}, "invalid parameter"),
    ({"ZONE": "dash_auth_zone dash_auth 1k;"}, "invalid size"),
    ({"LOGIN_LIMIT": "0 1m 1m"}, "invalid parameter"),
    ({"LOGIN_LIMIT": "5 x 1m"}, "invalid time"),
])
def test_bad_login_directives_fail_nginx_t(dashboard, env, why):
    s = Stack(dashboard, env=env)
    try:
        t = s.test_config()
        assert t.returncode != 0 and why in t.stderr, t.stderr
    finally:
        s.stop()


def test_custom_login_page(dashboard, tmp_path):
    page = tmp_path / "login.html"
    page.write_text('<html><body><h1>ACME sign-in</h1>{{message}}<form method="post" action="{{action}}">'
                    '<input name="return" value="{{return}}"><input name="username">'
                    '<input name="password" type="password"></form></body></html>')
    s = Stack(dashboard, env={"LOGIN_PATH": "/signin", "EXTRA_SERVER": f"dash_auth_login_page {page};"})
    s.start()
    try:
        r = s.get("/signin?return=/hr")
        assert r.status == 200
        assert "<h1>ACME sign-in</h1>" in r.text and 'action="/signin"' in r.text
        assert 'value="/hr"' in r.text
        r = s.get("/signin", method="POST", headers=[FORM, *s.same_origin()], data=form("mike", "bad"))
        assert r.status == 401 and "Wrong user name or password." in r.text
        assert s.get("/marketing", headers=[HTML]).header("Location").endswith("/signin?return=/marketing")
    finally:
        s.stop()
