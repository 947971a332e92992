"""Login with Basic, the session cookie, and what counts as no credentials."""
import statistics
import time
import uuid

import pytest

import jwt_forge
from harness import basic, curl

MIKE = basic("mike", "123456")
MICA = basic("mica", "1234")
CHALLENGE = 'Basic realm="Dash dashboard", charset="UTF-8"'


def probe_path():
    return f"/?probe={uuid.uuid4().hex}"


def test_no_credentials_gets_basic_challenge_and_upstream_is_not_contacted(stack):
    path = probe_path()
    r = stack.get(path)
    assert r.status == 401
    assert r.header("WWW-Authenticate") == CHALLENGE
    assert r.cookie() is None
    line = stack.access_line(path)
    assert " 401 " in line and "upstream=-" in line


def test_basic_login_sets_session_cookie(stack):
    r = stack.get("/", headers=[f"Authorization: {MICA}"])
    assert r.status == 200
    assert "_dash-config" in r.text  # the real Dash index page came back
    (set_cookie,) = [c for c in r.all("Set-Cookie") if c.startswith("example_jwt=")]
    attrs = [a.strip() for a in set_cookie.split(";")[1:]]
    assert attrs == ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=3600", "Secure"]


def test_token_is_hs256_with_the_documented_claims(stack):
    before = int(time.time())
    r = stack.get("/", headers=[f"Authorization: {MIKE}"])
    token = r.cookie()
    header, claims, sig = jwt_forge.parts(token)
    assert header["alg"] == "HS256"
    assert claims["sub"] == "mike"
    assert claims["allowed_resources"] == ["marketing"]
    assert before - 2 <= claims["iat"] <= time.time() + 2
    assert claims["exp"] == claims["iat"] + 3600
    # Signed with the configured secret: re-signing the same input gives the same signature.
    key = jwt_forge.secret_key(stack.secret)
    h, p, _ = token.split(".")
    import hashlib, hmac
    expect = jwt_forge.b64url(hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest())
    assert sig == expect


def test_cookie_alone_is_enough_after_login(stack, mike_cookie):
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={mike_cookie}"])
    assert r.status == 200
    assert r.cookie() is None  # a valid cookie is not re-issued on every request


def test_cookie_among_other_cookies(stack, mike_cookie):
    r = stack.get("/", headers=[f"Cookie: a=1; example_jwt={mike_cookie}; b=2"])
    assert r.status == 200


@pytest.mark.parametrize("cred", [basic("mike", "wrong"), basic("nobody", "123456")])
def test_wrong_password_and_unknown_user_get_the_same_401(stack, cred):
    r = stack.get("/", headers=[f"Authorization: {cred}"])
    ref = stack.get("/")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == CHALLENGE
    assert r.body == ref.body
    assert r.cookie() is None


def test_failures_are_logged_with_user_and_reason_never_the_password(stack):
    stack.get("/", headers=[f"Authorization: {basic('mike', 'S3cretGuess')}"])
    stack.get("/", headers=[f"Authorization: {basic('ghost', 'OtherGuess9')}"])
    log = stack.error_log
    assert 'user "mike": password mismatch' in log
    assert 'user "ghost": user not found' in log
    assert "S3cretGuess" not in log and "OtherGuess9" not in log
    assert "[info]" in log


def test_cookie_value_is_never_logged(stack, mike_cookie):
    forged = mike_cookie[:-4] + "AAAA"
    stack.get("/", headers=[f"Cookie: example_jwt={forged}"])
    assert mike_cookie.split(".")[2] not in stack.error_log
    assert forged not in stack.error_log


def timed(stack, cred, n=5):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert stack.get("/", headers=[f"Authorization: {cred}"]).status == 401
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def test_unknown_user_pays_for_a_full_hash(stack):
    # Not a benchmark: a coarse guard that an unknown user is not answered
    # without hashing (bcrypt cost 10 is ~50 ms; skipping it would be ~1 ms).
    wrong = timed(stack, basic("mike", "nope"))
    unknown = timed(stack, basic("nobody-at-all", "nope"))
    assert unknown > wrong * 0.3, (unknown, wrong)


@pytest.fixture(scope="module")
def key(stack):
    return jwt_forge.secret_key(stack.secret)


def good_claims(**over):
    now = int(time.time())
    c = {"sub": "mike", "allowed_resources": ["marketing"], "iat": now, "exp": now + 600}
    c.update(over)
    return c


def bad_tokens(key, mike_cookie):
    now = int(time.time())
    h, p, s = mike_cookie.split(".")
    widened = jwt_forge.b64url(
        __import__("json").dumps(dict(jwt_forge.parts(mike_cookie)[1], allowed_resources=["_all_"])).encode())
    none_header = jwt_forge.b64url(b'{"alg":"none","typ":"JWT"}')
    return {
        "garbage": "not-a-token",
        "empty": "",
        "two-segments": f"{h}.{p}",
        "tampered-payload": f"{h}.{widened}.{s}",
        "wrong-secret": jwt_forge.make(good_claims(), b"x" * 48),
        "expired": jwt_forge.make(good_claims(iat=now - 7200, exp=now - 3600), key),
        "alg-none": f"{none_header}.{p}.",
        "no-exp": jwt_forge.make({"sub": "mike", "allowed_resources": ["marketing"], "iat": now}, key),
    }


@pytest.mark.parametrize("case", ["garbage", "empty", "two-segments", "tampered-payload", "wrong-secret",
                                  "expired", "alg-none", "no-exp"])
def test_bad_cookie_counts_as_absent(stack, key, mike_cookie, case):
    token = bad_tokens(key, mike_cookie)[case]
    r = stack.get("/hr", headers=[f"Cookie: example_jwt={token}"])
    assert r.status == 401, case
    assert r.header("WWW-Authenticate") == CHALLENGE
    # ...and valid Basic credentials alongside still log in, with a fresh cookie.
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={token}", f"Authorization: {MIKE}"])
    assert r.status == 200, case
    assert r.cookie()


def test_forged_token_with_the_right_secret_is_accepted(stack, key):
    # The passing twin of the cases above: the same construction, validly signed.
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={jwt_forge.make(good_claims(), key)}"])
    assert r.status == 200


def test_malformed_authorization_is_401_not_500(stack):
    for value in ["Basic", "Basic !!!", "Basic " + "bm9jb2xvbg==", "Bearer abc", "Basic " + "A" * 5000]:
        r = stack.get("/", headers=[f"Authorization: {value}"])
        assert r.status in (400, 401), value
    assert stack.proc.poll() is None


def test_plain_http_redirects_to_https(stack):
    r = curl(stack.url("/marketing?x=1", https=False))
    assert r.status == 301
    assert r.header("Location") == f"https://127.0.0.1:{stack.https_port}/marketing?x=1"


def test_no_secure_attribute_over_plain_http(dashboard):
    from harness import Stack
    s = Stack(dashboard, env={"LISTEN_SSL": ""}).start()
    try:
        r = curl(f"http://127.0.0.1:{s.https_port}/", headers=[f"Authorization: {MIKE}"])
        assert r.status == 200
        (set_cookie,) = r.all("Set-Cookie")
        assert set_cookie.endswith("; Max-Age=3600") and "Secure" not in set_cookie
    finally:
        s.stop()


@pytest.mark.parametrize("realm,challenge", [
    # As written in nginx.conf, inside the template's double quotes.
    (r'Team \"A\" board', r'Basic realm="Team \"A\" board", charset="UTF-8"'),
    (r"Team \\ board", r'Basic realm="Team \\ board", charset="UTF-8"'),
])
def test_realm_is_configurable_and_quoted(dashboard, realm, challenge):
    from harness import Stack
    s = Stack(dashboard, env={"REALM": realm}).start()
    try:
        assert s.get("/").header("WWW-Authenticate") == challenge
    finally:
        s.stop()


def test_dash_auth_off_in_a_location_lets_requests_through(dashboard):
    from harness import Stack
    s = Stack(dashboard, env={"EXTRA_SERVER": "location = /_reload-hash {\n    dash_auth off;\n"
                                              "    proxy_pass http://dashboard;\n}"}).start()
    try:
        assert s.get("/_reload-hash").status == 200
        assert s.get("/").status == 401
    finally:
        s.stop()
