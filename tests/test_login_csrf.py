"""Forged sign-ins and sign-outs, with curl against real nginx + the demo app.

A page on another site must not be able to sign a visitor in (as the
attacker) or out. The login and logout forms act only on a post the browser
marks as coming from this server (Origin, Sec-Fetch-Site), or, from a client
that sends neither header, one that carries the form token of the page that
showed it. Every refusal has its allowed twin.
"""
import re
import time
import urllib.parse

import pytest

import jwt_forge
from harness import Stack, basic, curl

FORM = "Content-Type: application/x-www-form-urlencoded"
MIKE = basic("mike", "123456")


@pytest.fixture(scope="module")
def stack(dashboard):
    """A stack of its own: these tests sign mike and mica out, which would
    end the sessions the shared stack's fixtures hand to other tests."""
    s = Stack(dashboard).start()
    yield s
    s.stop()


def body(**fields) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def form_token(r, name="__Host-dash_auth_csrf") -> str:
    """The token a login or logout page puts in its form, checked against its cookie."""
    cookie = r.cookie(name)
    assert cookie, r.all("Set-Cookie")
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert m and m.group(1) == cookie, r.text
    return cookie


def signed_in(stack, token) -> bool:
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={token}"])
    assert r.status in (200, 401), r.status
    return r.status == 200


def basic_token(stack) -> str:
    r = stack.get("/marketing", headers=[f"Authorization: {MIKE}"])
    assert r.status == 200
    return r.cookie()


CROSS = [
    pytest.param(["Origin: https://evil.example", "Sec-Fetch-Site: cross-site"], id="evil-site"),
    pytest.param(["Origin: https://evil.example"], id="evil-origin"),
    pytest.param(["Sec-Fetch-Site: cross-site"], id="cross-site"),
    pytest.param(["Sec-Fetch-Site: same-site"], id="same-site"),
    pytest.param(["Origin: null"], id="origin-null"),
]


@pytest.mark.parametrize("headers", CROSS)
def test_login_from_another_site_is_refused(stack, headers):
    r = stack.get("/login", method="POST", headers=[FORM, *headers],
                  data=body(username="mike", password="123456", **{"return": "/marketing"}))
    assert r.status == 403
    assert r.cookie() is None and r.header("Location") is None
    assert "dash_auth: login form refused: " in stack.error_log


@pytest.mark.parametrize("own", [
    pytest.param(lambda s: [f"Origin: {s.origin()}", "Sec-Fetch-Site: same-origin"], id="both"),
    pytest.param(lambda s: [f"Origin: {s.origin()}"], id="origin"),
    pytest.param(lambda s: ["Sec-Fetch-Site: same-origin"], id="sec-fetch-site"),
    pytest.param(lambda s: [f"Origin: HTTPS://127.0.0.1:{s.https_port}"], id="origin-scheme-case"),
])
def test_login_from_this_server_is_accepted(stack, own):
    r = stack.get("/login", method="POST", headers=[FORM, *own(stack)],
                  data=body(username="mike", password="123456", **{"return": "/marketing"}))
    assert r.status == 303 and r.header("Location").endswith("/marketing")
    assert signed_in(stack, r.cookie())


def test_login_origin_must_match_scheme_and_port(stack):
    for other in [stack.origin(https=False), f"https://127.0.0.1:{stack.http_port}", "https://127.0.0.1",
                  f"https://localhost:{stack.https_port}"]:
        r = stack.get("/login", method="POST", headers=[FORM, f"Origin: {other}"],
                      data=body(username="mike", password="123456"))
        assert r.status == 403, other
    assert f'is not this server\'s ({stack.origin()})' in stack.error_log


def test_login_page_sets_a_form_token(stack):
    r = stack.get("/login?return=%2Fhr")
    assert r.status == 200
    token = form_token(r)
    (c,) = [v for v in r.all("Set-Cookie") if v.startswith("__Host-dash_auth_csrf=")]
    assert c == f"__Host-dash_auth_csrf={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
    assert form_token(stack.get("/login")) != token


def test_login_without_headers_needs_the_form_token(stack):
    """A client that sends neither Origin nor Sec-Fetch-Site: no token, no session."""
    token = form_token(stack.get("/login"))
    jar = f"Cookie: __Host-dash_auth_csrf={token}"
    good = body(username="mike", password="123456", csrf=token, **{"return": "/marketing"})
    for headers, data, why in [
        ([FORM], good, "no form token cookie"),
        ([FORM, jar], body(username="mike", password="123456"), "no form token in the form"),
        ([FORM, "Cookie: __Host-dash_auth_csrf=" + form_token(stack.get("/login"))], good,
         "form token does not match its cookie"),
        ([FORM, f"Cookie: dash_auth_csrf={token}"], good, "no form token cookie"),
    ]:
        r = stack.get("/login", method="POST", headers=headers, data=data)
        assert r.status == 403, why
        assert r.cookie() is None
        assert "This form has expired." in r.text
        assert form_token(r) != token
        assert f"login form refused: {why}" in stack.error_log
    # The twin: the token of the page, with its cookie.
    r = stack.get("/login", method="POST", headers=[FORM, jar], data=good)
    assert r.status == 303 and r.header("Location").endswith("/marketing")
    assert signed_in(stack, r.cookie())
    # A forged form is refused before the password is looked at: a wrong
    # one counts no failure and is not logged as one.
    r = stack.get("/login", method="POST", headers=[FORM], data=body(username="ghost-csrf", password="x"))
    assert r.status == 403
    assert 'user "ghost-csrf"' not in stack.error_log


def test_form_token_over_plain_http(dashboard):
    """No __Host- cookie on http (browsers refuse it there): a plain name, no Secure."""
    s = Stack(dashboard, env={"LISTEN_SSL": ""}).start()
    try:
        url = f"http://127.0.0.1:{s.https_port}"
        r = curl(url + "/login")
        assert r.cookie("__Host-dash_auth_csrf") is None
        token = form_token(r, "dash_auth_csrf")
        (c,) = [v for v in r.all("Set-Cookie") if v.startswith("dash_auth_csrf=")]
        assert c == f"dash_auth_csrf={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        data = body(username="mike", password="123456", csrf=token)
        r = curl(url + "/login", method="POST", headers=[FORM, f"Cookie: __Host-dash_auth_csrf={token}"], data=data)
        assert r.status == 403
        r = curl(url + "/login", method="POST", headers=[FORM, f"Cookie: dash_auth_csrf={token}"], data=data)
        assert r.status == 303 and r.cookie()
        # The origin over http is http://host:port.
        own = [FORM, f"Origin: {url}"]
        assert curl(url + "/login", method="POST", headers=own, data=body(username="mike", password="123456")).status == 303
        other = [FORM, f"Origin: https://127.0.0.1:{s.https_port}"]
        assert curl(url + "/login", method="POST", headers=other, data=body(username="mike", password="123456")).status == 403
    finally:
        s.stop()


def test_dash_auth_origin_admits_the_public_origin(dashboard):
    """Behind a TLS terminator the browser's origin is https while nginx sees http."""
    s = Stack(dashboard, env={"LISTEN_SSL": "", "EXTRA_SERVER": "dash_auth_origin https://dash.example;"}).start()
    try:
        url = f"http://127.0.0.1:{s.https_port}"
        data = body(username="mike", password="123456")
        r = curl(url + "/login", method="POST", headers=[FORM, "Origin: https://dash.example",
                                                         "Sec-Fetch-Site: same-origin"], data=data)
        assert r.status == 303 and r.cookie()
        r = curl(url + "/login", method="POST", headers=[FORM, "Origin: https://other.example"], data=data)
        assert r.status == 403
    finally:
        s.stop()


@pytest.mark.parametrize("value", ["dash.example", "https://dash.example/", "null"])
def test_bad_dash_auth_origin_fails_nginx_t(dashboard, value):
    s = Stack(dashboard, env={"EXTRA_SERVER": f"dash_auth_origin {value};"})
    try:
        t = s.test_config()
        assert t.returncode != 0 and f'"dash_auth_origin" directive has invalid parameter "{value}"' in t.stderr, t.stderr
    finally:
        s.stop()


def test_basic_is_unaffected(stack):
    """Scripts sign in with Basic, never through the form: no header or token needed."""
    r = stack.get("/marketing", headers=[f"Authorization: {MIKE}"])
    assert r.status == 200 and r.cookie()
    assert signed_in(stack, r.cookie())


def test_get_logout_ends_nothing(stack):
    """A link or an image on any site can make a GET: it shows the button, nothing more."""
    token = basic_token(stack)
    for headers in [[], ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Dest: image"]]:
        r = stack.get("/logout", headers=[f"Cookie: example_jwt={token}", *headers])
        assert r.status == 200
        assert r.header("Cache-Control") == "no-store"
        assert '<form method="post" action="/logout">' in r.text
        assert '<button type="submit" id="sign-out">Sign out</button>' in r.text
        assert not any(v.startswith("example_jwt=") for v in r.all("Set-Cookie"))
        form_token(r)
        assert signed_in(stack, token)
    # The twin: the same-origin post the button makes.
    r = stack.get("/logout", method="POST", headers=[f"Cookie: example_jwt={token}", *stack.same_origin()])
    assert r.status == 303 and r.header("Location").endswith("/login")
    assert "example_jwt=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure" in r.all("Set-Cookie")
    assert not signed_in(stack, token)


@pytest.mark.parametrize("headers", CROSS)
def test_logout_from_another_site_is_refused(stack, headers):
    token = basic_token(stack)
    r = stack.get("/logout", method="POST", headers=[f"Cookie: example_jwt={token}", *headers])
    assert r.status == 403
    assert r.cookie() is None
    assert signed_in(stack, token)
    assert "dash_auth: logout refused: " in stack.error_log


def test_logout_without_headers_needs_the_form_token(stack):
    token = basic_token(stack)
    page = stack.get("/logout", headers=[f"Cookie: example_jwt={token}"])
    csrf = form_token(page)
    jar = f"Cookie: example_jwt={token}; __Host-dash_auth_csrf={csrf}"
    for headers, data in [([jar], b""), ([jar, FORM], b""), ([f"Cookie: example_jwt={token}", FORM], body(csrf=csrf))]:
        r = stack.get("/logout", method="POST", headers=headers, data=data)
        assert r.status == 403
        assert "This form has expired." in r.text and 'id="sign-out"' in r.text
        assert signed_in(stack, token)
    r = stack.get("/logout", method="POST", headers=[jar, FORM], data=body(csrf=csrf))
    assert r.status == 303 and r.header("Location").endswith("/login")
    assert not signed_in(stack, token)


def test_logout_revokes_a_duplicated_cookie(stack):
    """Two copies of the session cookie: signing in picks neither, logging out ends the valid one."""
    token = basic_token(stack)
    dup = f"Cookie: example_jwt={token}; example_jwt=x"
    assert stack.get("/marketing", headers=[dup]).status == 401
    assert signed_in(stack, token)
    r = stack.get("/logout", method="POST", headers=[dup, *stack.same_origin()])
    assert r.status == 303
    assert not signed_in(stack, token)


def test_logout_ends_every_valid_copy(stack):
    mike = basic_token(stack)
    mica = stack.get("/", headers=[f"Authorization: {basic('mica', '1234')}"]).cookie()
    r = stack.get("/logout", method="POST",
                  headers=[f"Cookie: example_jwt={mike}", f"Cookie: example_jwt={mica}", *stack.same_origin()])
    assert r.status == 303
    assert not signed_in(stack, mike) and not signed_in(stack, mica)


def test_two_logouts_in_one_second(stack):
    """Sign in, out, in and out again within one second: the second logout
    ends the token issued after the first, though both fall in one second of
    `iat`. Retried until the four steps do fall in one second."""
    logout = lambda t: stack.get("/logout", method="POST", headers=[f"Cookie: example_jwt={t}", *stack.same_origin()])
    basic_token(stack)  # the Basic cache makes the next logins quick
    for _ in range(10):
        start = time.time()
        first = basic_token(stack)
        assert logout(first).status == 303
        second = basic_token(stack)
        assert jwt_forge.parts(second)[1]["iat"] > jwt_forge.parts(first)[1]["iat"]
        assert logout(second).status == 303
        within_one_second = int(time.time()) == int(start)
        assert not signed_in(stack, first)
        assert not signed_in(stack, second), "the second logout let the second token live"
        third = basic_token(stack)
        assert signed_in(stack, third)
        if within_one_second:
            return
    pytest.fail("never had four requests within one second")
