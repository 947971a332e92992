"""Hostile input: the token attack matrix, odd headers and methods, key rotation,
configuration faults under reload. Every refused case has a passing twin."""
import base64
import hashlib
import hmac
import json
import subprocess
import threading
import time

import pytest

import jwt_forge
from harness import ROOT, Stack, basic, curl

MIKE = basic("mike", "123456")


@pytest.fixture(scope="module")
def big(dashboard):
    """The shipped config with room for 8 KB cookies and a 30 s leeway location."""
    s = Stack(dashboard, env={
        "EXTRA_HTTP": "large_client_header_buffers 4 16k;",
        "EXTRA_SERVER": "location /leeway/ {\n    dash_auth_leeway 30s;\n    proxy_pass http://dashboard;\n}",
    }).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def key(big):
    return jwt_forge.secret_key(big.secret)


def claims(**over):
    now = int(time.time())
    c = {"sub": "mike", "allowed_resources": ["marketing"], "iat": now, "exp": now + 600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


DROP = object()


def raw_token(header: dict | str, payload: dict | str, key: bytes, digest=hashlib.sha256) -> str:
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    signing = jwt_forge.b64url(h.encode()) + "." + jwt_forge.b64url(p.encode())
    return signing + "." + jwt_forge.b64url(hmac.new(key, signing.encode(), digest).digest())


def status_with_cookie(stack, cookie_header: bytes | str, path="/marketing"):
    return stack.get(path, headers=[f"Cookie: {cookie_header}"]).status


HS = {"alg": "HS256", "typ": "JWT"}


def attack_matrix(key):
    now = int(time.time())
    valid = raw_token(HS, claims(), key)
    other = raw_token(HS, claims(sub="mica", allowed_resources=["_all_"]), key)
    h, p, s = valid.split(".")
    widened = jwt_forge.b64url(json.dumps(claims(allowed_resources=["_all_"])).encode())
    # (name, refused cookie value, twin: the same construction made valid)
    return [
        ("empty", "", valid),
        ("garbage", "not a token at all", valid),
        ("one-segment", h, valid),
        ("two-segments", f"{h}.{p}", valid),
        ("four-segments", f"{valid}.{s}", valid),
        ("alg-none", jwt_forge.b64url(b'{"alg":"none","typ":"JWT"}') + f".{p}.", valid),
        ("alg-none-sig", jwt_forge.b64url(b'{"alg":"none"}') + f".{p}.{s}", valid),
        ("hs384", raw_token({"alg": "HS384", "typ": "JWT"}, claims(), key, hashlib.sha384), valid),
        ("hs512", raw_token({"alg": "HS512", "typ": "JWT"}, claims(), key, hashlib.sha512), valid),
        ("rs256-hmac", raw_token({"alg": "RS256", "typ": "JWT"}, claims(), key), valid),
        ("foreign-signature", f"{h}.{p}.{other.split('.')[2]}", valid),
        ("widened-payload", f"{h}.{widened}.{s}", valid),
        ("wrong-secret", raw_token(HS, claims(), b"y" * 48), valid),
        ("exp-past", raw_token(HS, claims(exp=now - 60), key), raw_token(HS, claims(exp=now + 60), key)),
        ("exp-negative", raw_token(HS, claims(exp=-1), key), valid),
        ("exp-missing", raw_token(HS, claims(exp=DROP), key), valid),
        ("exp-string", raw_token(HS, claims(exp=str(now + 600)), key), valid),
        ("exp-fraction", raw_token(HS, claims(exp=now + 600.5), key), raw_token(HS, claims(exp=now + 600), key)),
        ("nbf-future", raw_token(HS, claims(nbf=now + 3600), key), raw_token(HS, claims(nbf=now - 10), key)),
        ("resources-string", raw_token(HS, claims(allowed_resources="marketing"), key), valid),
        ("resources-number", raw_token(HS, claims(allowed_resources=7), key), valid),
        ("resources-nested", raw_token(HS, claims(allowed_resources=[["marketing"]]), key), valid),
        ("resources-absent", raw_token(HS, claims(allowed_resources=DROP), key), valid),
        ("cookie-8k", raw_token(HS, claims(pad="x" * 8200), key), valid),
        ("space-inside", valid[:20] + " " + valid[20:], valid),
        ("unbalanced-quote", '"' + valid, '"' + valid + '"'),
    ]


def test_token_attack_matrix(big, key):
    for name, bad, twin in attack_matrix(key):
        assert status_with_cookie(big, f"example_jwt={bad}") == 401, name
        assert status_with_cookie(big, f"example_jwt={twin}") == 200, name + " (twin)"
    assert big.proc.poll() is None


def test_no_cookie_and_other_cookies_only(big, key):
    assert big.get("/marketing").status == 401
    assert status_with_cookie(big, "other=1; example_jwtx=2") == 401
    assert status_with_cookie(big, f"other=1; example_jwt={raw_token(HS, claims(), key)}") == 200


def test_duplicate_session_cookies_are_refused(big, key):
    a, b = raw_token(HS, claims(), key), raw_token(HS, claims(sub="mica"), key)
    assert status_with_cookie(big, f"example_jwt={a}; example_jwt={b}") == 401
    assert status_with_cookie(big, f"example_jwt={a}; example_jwt={a}") == 401
    # ...also across two Cookie header lines
    r = big.get("/marketing", headers=[f"Cookie: example_jwt={a}", f"Cookie: example_jwt={b}"])
    assert r.status == 401
    assert status_with_cookie(big, f"example_jwt={a}") == 200


def test_cookie_past_nginx_header_limit_is_rejected_by_nginx(big, key):
    # Beyond large_client_header_buffers nginx itself answers 400 before any module runs.
    huge = raw_token(HS, claims(pad="x" * 20000), key)
    assert status_with_cookie(big, f"example_jwt={huge}") == 400
    assert big.proc.poll() is None


def test_non_utf8_cookie(big, key):
    valid = raw_token(HS, claims(), key)
    bad = b"example_jwt=" + valid.encode()[:30] + b"\xff\xfe" + valid.encode()[30:]
    r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", b"Cookie: " + bad,
                        big.url("/marketing")], capture_output=True)
    assert r.stdout == b"401"
    assert status_with_cookie(big, f"example_jwt={valid}") == 200


def test_whitespace_and_quotes_around_a_valid_token_are_the_same_cookie(big, key):
    # RFC 6265: optional whitespace around pairs and a DQUOTE-wrapped value.
    valid = raw_token(HS, claims(), key)
    for header in (f"example_jwt={valid}", f"  example_jwt={valid}  ", f'example_jwt="{valid}"',
                   f"a=b;example_jwt={valid}", f"a=b ;  example_jwt={valid};"):
        assert status_with_cookie(big, header) == 200, header


def test_leeway_in_both_directions(big, key):
    now = int(time.time())
    just_expired = raw_token(HS, claims(exp=now - 10), key)
    long_expired = raw_token(HS, claims(exp=now - 120), key)
    soon_valid = raw_token(HS, claims(nbf=now + 10), key)
    assert status_with_cookie(big, f"example_jwt={just_expired}", "/leeway/") == 200
    assert status_with_cookie(big, f"example_jwt={soon_valid}", "/leeway/") == 200
    assert status_with_cookie(big, f"example_jwt={long_expired}", "/leeway/") == 401
    # The location without leeway refuses the first two.
    assert status_with_cookie(big, f"example_jwt={just_expired}", "/") == 401
    assert status_with_cookie(big, f"example_jwt={soon_valid}", "/") == 401


@pytest.mark.parametrize("value,status", [
    ("Basic !!!notbase64", 401),
    ("Basic " + base64.b64encode(b"nocolon").decode(), 401),
    ("Basic " + base64.b64encode(b":123456").decode(), 401),
    ("Basic " + base64.b64encode(b"mike:123456").decode() + "====", 401),
    ("Basic " + base64.b64encode(b"mi\xffke:123456").decode(), 401),
    ("Bearer " + base64.b64encode(b"mike:123456").decode(), 401),
    ("Basic", 401),
    ("", 401),
])
def test_bad_authorization_headers(big, value, status):
    r = big.get("/marketing", headers=[f"Authorization: {value}"])
    assert r.status == status, value
    assert big.get("/marketing", headers=[f"Authorization: {MIKE}"]).status == 200


def test_lowercase_scheme_is_the_same_scheme(big):
    # RFC 7235: the auth-scheme is case-insensitive.
    value = "basic " + base64.b64encode(b"mike:123456").decode()
    assert big.get("/marketing", headers=[f"Authorization: {value}"]).status == 200
    value = "bASIC " + base64.b64encode(b"mike:wrong").decode()
    assert big.get("/marketing", headers=[f"Authorization: {value}"]).status == 401


def test_64k_authorization_header(big):
    value = "Basic " + base64.b64encode(b"mike:" + b"x" * 48000).decode()
    assert big.get("/marketing", headers=[f"Authorization: {value}"]).status == 400  # nginx: header too large
    assert big.proc.poll() is None


def test_several_authorization_headers(big):
    r = big.get("/marketing", headers=[f"Authorization: {MIKE}", f"Authorization: {basic('mica', '1234')}"])
    assert r.status == 400


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "PROPFIND", "FOO", "DELETE", "PATCH"])
def test_every_method_is_authenticated(big, key, method):
    extra = ["-I"] if method == "HEAD" else []
    r = big.get("/hr", method=None if method == "HEAD" else method, extra=extra)
    assert r.status == 401, method
    cookie = f"Cookie: example_jwt={raw_token(HS, claims(), key)}"
    assert big.get("/hr", method=None if method == "HEAD" else method, extra=extra,
                   headers=[cookie]).status == 403, method
    r = big.get("/marketing", method=None if method == "HEAD" else method, extra=extra, headers=[cookie])
    if method == "HEAD":
        assert r.status not in (401, 403), method
    else:
        # Any other method can run app code the module cannot check: refused
        # to a user who lacks a section (test_unchecked_routes.py), even in his own.
        assert r.status == 403, method
    # mica: a token of every section opens only what the users file gives its user.
    everything = f"Cookie: example_jwt={raw_token(HS, claims(sub='mica', allowed_resources=['_all_']), key)}"
    r = big.get("/marketing", method=None if method == "HEAD" else method, extra=extra, headers=[everything])
    assert r.status not in (401, 403), method


class Traffic:
    """Requests in a loop on another thread; records every status it gets."""

    def __init__(self, stack, cookie):
        self.stack, self.cookie = stack, cookie
        self.statuses, self.errors = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                self.statuses.append(self.stack.get("/marketing", headers=[f"Cookie: example_jwt={self.cookie}"],
                                                    timeout=10).status)
            except RuntimeError as e:
                self.errors.append(str(e))

    def __enter__(self):
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)
        self.stop.set()
        self.thread.join(30)


def write_key(path, byte):
    path.write_bytes(bytes([byte]) * 48 + b"\n")


def test_key_rotation_with_live_reloads(dashboard, tmp_path):
    k1, k2 = tmp_path / "k1", tmp_path / "k2"
    write_key(k1, ord("a"))
    write_key(k2, ord("b"))
    # SECRET_FILE is the argument of the template's dash_auth_secret_file; a second
    # key goes on its own dash_auth_secret_file line, after the first.
    s = Stack(dashboard, env={"SECRET_FILE": f"{k1} kid=2026-10"}).start()
    try:
        old = s.get("/", headers=[f"Authorization: {MIKE}"]).cookie()
        assert jwt_forge.parts(old)[0]["kid"] == "2026-10"

        # Step 1: a new signing key first, the old one still listed.
        s.render(SECRET_FILE=f"{k2} kid=2026-11", EXTRA_SERVER=f"dash_auth_secret_file {k1} kid=2026-10;")
        with Traffic(s, old) as t:
            s.reload()
        assert t.errors == [] and set(t.statuses) == {200}, (t.errors, set(t.statuses))
        new = s.get("/", headers=[f"Authorization: {MIKE}"]).cookie()
        assert jwt_forge.parts(new)[0]["kid"] == "2026-11"
        assert status_with_cookie(s, f"example_jwt={old}") == 200

        # Step 2: the old key removed: its tokens stop working after the reload.
        s.render(SECRET_FILE=f"{k2} kid=2026-11")
        with Traffic(s, new) as t:
            s.reload()
        assert t.errors == [] and set(t.statuses) == {200}
        assert status_with_cookie(s, f"example_jwt={old}") == 401
        assert status_with_cookie(s, f"example_jwt={new}") == 200
        assert "token key id unknown" in s.error_log
    finally:
        s.stop()


@pytest.mark.parametrize("fault", ["users-missing", "users-unreadable", "users-malformed", "users-hash",
                                   "users-duplicate", "users-section", "secret-missing", "secret-unreadable",
                                   "secret-short", "secret-duplicate-kid"])
def test_config_faults_fail_nginx_t_and_a_reload_keeps_serving(dashboard, tmp_path, fault):
    users = tmp_path / "users"
    good_users = (ROOT / "nginx-conf/users").read_text()
    users.write_text(good_users)
    secret = tmp_path / "secret"
    write_key(secret, ord("s"))
    s = Stack(dashboard, users=users, env={"SECRET_FILE": str(secret)}).start()
    try:
        cookie = s.get("/", headers=[f"Authorization: {MIKE}"]).cookie()
        mica_line = next(l for l in good_users.splitlines() if l.startswith("mica:"))
        if fault == "users-missing":
            users.unlink()
        elif fault == "users-unreadable":
            users.unlink()
            users.mkdir()  # root reads any file; a directory cannot be read as one
        elif fault == "users-malformed":
            users.write_text(good_users + "no-hash-here\n")
        elif fault == "users-hash":
            users.write_text(good_users + "ann:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:marketing\n")
        elif fault == "users-duplicate":
            users.write_text(good_users + mica_line + "\n")
        elif fault == "users-section":
            users.write_text(good_users + mica_line.replace("mica:", "ann:").replace("_all_", "hr/../x") + "\n")
        elif fault == "secret-missing":
            secret.unlink()
        elif fault == "secret-unreadable":
            secret.unlink()
            secret.mkdir()
        elif fault == "secret-short":
            secret.write_bytes(b"too short\n")
        elif fault == "secret-duplicate-kid":
            s.render(EXTRA_SERVER=f"dash_auth_secret_file {secret};")

        t = s.test_config()
        assert t.returncode != 0, fault
        assert "[emerg]" in t.stderr and f"{s.conf}:" in t.stderr, t.stderr
        if fault.startswith("users-") and fault not in ("users-missing", "users-unreadable"):
            assert f'"{users}", line ' in t.stderr, t.stderr

        with Traffic(s, cookie) as traffic:
            s.hup()
        assert traffic.errors == [] and set(traffic.statuses) == {200}, (traffic.errors, set(traffic.statuses))
        assert s.get("/marketing", headers=[f"Cookie: example_jwt={cookie}"]).status == 200
        assert "[emerg]" in s.error_log
    finally:
        s.stop()
