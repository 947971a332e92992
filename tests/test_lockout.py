"""The failure limit slows guessing without locking the user out (OWASP's
device cookies): guesses from one address trip the per-user limit, yet the
user's own browser (device cookie) and own Basic script (an address it has
logged in from) still sign in; any other client stays capped."""

import urllib.parse

from harness import Stack, basic

FORM = "Content-Type: application/x-www-form-urlencoded"
A, B, C = "127.0.0.1", "127.0.0.2", "127.0.0.3"
# Few enough to trip quickly, with a cool-down that outlasts the test.
LIMIT = {"LOGIN_LIMIT": "3 10m 10m"}


def src(addr):
    return ["--interface", addr]


def form_login(stack, addr, user, password, cookies=()):
    data = urllib.parse.urlencode({"username": user, "password": password}).encode()
    headers = [FORM, *stack.same_origin()] + [f"Cookie: {c}" for c in cookies]
    return stack.get("/login", method="POST", headers=headers, data=data, extra=src(addr))


def basic_login(stack, addr, user, password):
    return stack.get("/", headers=[f"Authorization: {basic(user, password)}"], extra=src(addr))


def lock_out_mica_from_a(stack):
    for _ in range(3):
        assert form_login(stack, A, "mica", "wrong").status == 401
    assert form_login(stack, A, "mica", "1234").status == 429
    assert "login failure limit reached for the user" in stack.error_log


def test_device_cookie_is_set_by_a_form_login(dashboard):
    s = Stack(dashboard, env=LIMIT).start()
    try:
        r = form_login(s, B, "mica", "1234")
        assert r.status == 303
        [device] = [c for c in r.all("Set-Cookie") if c.startswith("dash_auth_device=")]
        for attr in ("HttpOnly", "SameSite=Strict", "Secure", "Max-Age=2592000"):
            assert attr in device, device
        assert r.cookie("example_jwt")
        # It grants nothing by itself.
        r = s.get("/", headers=[f"Cookie: dash_auth_device={r.cookie('dash_auth_device')}"], extra=src(B))
        assert r.status == 401
    finally:
        s.stop()


def test_browser_with_device_cookie_is_not_locked_out(dashboard):
    s = Stack(dashboard, env=LIMIT).start()
    try:
        r = form_login(s, B, "mica", "1234")
        assert r.status == 303
        device = "dash_auth_device=" + r.cookie("dash_auth_device")
        lock_out_mica_from_a(s)
        # Allowed: mica's own browser at B.
        r = form_login(s, B, "mica", "1234", cookies=[device])
        assert r.status == 303 and r.cookie("example_jwt"), r.status
        # Twin: the same address without the cookie is capped.
        r = form_login(s, B, "mica", "1234")
        assert r.status == 429 and r.cookie("example_jwt") is None
        # A forged device cookie does nothing.
        bad = device[:-4] + ("AAAA" if not device.endswith("AAAA") else "BBBB")
        assert form_login(s, B, "mica", "1234", cookies=[bad]).status == 429
    finally:
        s.stop()


def test_basic_script_at_a_known_address_is_not_locked_out(dashboard):
    s = Stack(dashboard, env=LIMIT).start()
    try:
        assert basic_login(s, B, "mica", "1234").status == 200
        lock_out_mica_from_a(s)
        # Allowed: the script at B that logged in before.
        r = basic_login(s, B, "mica", "1234")
        assert r.status == 200 and r.cookie("example_jwt")
        # Twin: the same script from A, where the guesses came from.
        assert basic_login(s, A, "mica", "1234").status == 429
    finally:
        s.stop()


def test_new_address_without_device_cookie_is_capped(dashboard):
    s = Stack(dashboard, env=LIMIT).start()
    try:
        r = form_login(s, B, "mica", "1234")
        device = "dash_auth_device=" + r.cookie("dash_auth_device")
        assert basic_login(s, B, "mica", "1234").status == 200
        lock_out_mica_from_a(s)
        # Denied: C has never seen mica sign in, form or Basic.
        assert form_login(s, C, "mica", "1234").status == 429
        assert basic_login(s, C, "mica", "1234").status == 429
        # Twin: C with mica's device cookie gets in.
        assert form_login(s, C, "mica", "1234", cookies=[device]).status == 303
        # Other users at C are not held by mica's count.
        assert basic_login(s, C, "mike", "123456").status == 200
    finally:
        s.stop()


def test_guesses_spread_over_addresses_stay_capped(dashboard):
    s = Stack(dashboard, env=LIMIT).start()
    try:
        for addr in (A, B, C):
            assert form_login(s, addr, "mike", "wrong").status == 401
        # The per-user limit tripped though no address reached its own.
        assert form_login(s, "127.0.0.4", "mike", "123456").status == 429
        # Twin: mica from the same addresses is not held.
        assert form_login(s, A, "mica", "1234").status == 303
    finally:
        s.stop()
