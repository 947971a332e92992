"""The OpenID provider fixture (tests/oidc_provider.py) on its own, without nginx: the
flow the SSO tests rely on works, and every tamper mode does what it says, so a
relying party's refusal in those tests is for the reason the test names."""
import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from oidc_provider import MODES, LoginRefused, OpenIDProvider

CALLBACK = "https://127.0.0.1:1/oauth2/callback"
SIGNED_OUT = "https://127.0.0.1:1/signed-out"
CLIENTS = [
    {"client_id": "dash-rs", "client_secret": "rs-secret", "redirect_uris": [CALLBACK],
     "post_logout_redirect_uris": [SIGNED_OUT]},
    {"client_id": "dash-ps", "client_secret": "ps-secret", "redirect_uris": [CALLBACK],
     "token_endpoint_auth_method": "client_secret_post", "id_token_signed_response_alg": "PS256"},
    {"client_id": "dash-es", "client_secret": "es-secret", "redirect_uris": [CALLBACK],
     "id_token_signed_response_alg": "ES256"},
]
SECRETS = {c["client_id"]: c for c in CLIENTS}


@pytest.fixture(scope="module")
def op(tmp_path_factory):
    p = OpenIDProvider(tmp_path_factory.mktemp("op"), clients=CLIENTS)
    yield p
    p.stop()


@pytest.fixture(autouse=True)
def clean(request):
    yield
    if "op" in request.fixturenames:
        request.getfixturevalue("op").reset()


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict, dict, str]:
    h, p, s = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), s


# ---- signatures, checked with openssl against the JWKS as served ----------

def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def _int(b: bytes) -> bytes:
    b = b.lstrip(b"\0") or b"\0"
    return _der(0x02, b"\0" + b if b[0] & 0x80 else b)


def jwk_pem(jwk: dict) -> str:
    """The SPKI PEM of a public JWK (RSA or EC P-256), as openssl writes it."""
    if jwk["kty"] == "RSA":
        alg = _der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
        key = _der(0x30, _int(b64d(jwk["n"])) + _int(b64d(jwk["e"])))
    else:
        assert jwk["crv"] == "P-256"
        alg = _der(0x30, bytes.fromhex("06072a8648ce3d0201" "06082a8648ce3d030107"))
        key = b"\x04" + b64d(jwk["x"]) + b64d(jwk["y"])
    b64 = base64.b64encode(_der(0x30, alg + _der(0x03, b"\0" + key))).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def signed_by(token: str, jwk: dict) -> bool:
    """Whether `token`'s signature verifies under `jwk` with the header's alg."""
    header, _, sig = parts(token)
    signing_input = token.rsplit(".", 1)[0].encode()
    sig = b64d(sig)
    opts = []
    if header["alg"] == "ES256":
        if jwk["kty"] != "EC" or len(sig) != 64:
            return False
        sig = _der(0x30, _int(sig[:32]) + _int(sig[32:]))
    elif header["alg"] in ("RS256", "PS256"):
        if jwk["kty"] != "RSA":
            return False
        if header["alg"] == "PS256":
            opts = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
    else:
        return False
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "k").write_text(jwk_pem(jwk))
        (d / "s").write_bytes(sig)
        (d / "i").write_bytes(signing_input)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(d / "k"), *opts, "-signature",
                            str(d / "s"), str(d / "i")], capture_output=True)
    return r.returncode == 0


def key(op: OpenIDProvider, kid: str) -> dict | None:
    return next((k for k in op.jwks()["keys"] if k["kid"] == kid), None)


# ---- the flow by hand -------------------------------------------------------

def authorize(op, client_id="dash-rs", *, pkce=True, scope="openid profile email groups"):
    """An authorization URL as a relying party builds it, and what it must remember."""
    verifier, state, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": scope,
         "state": state, "nonce": nonce}
    if pkce == "plain":
        q |= {"code_challenge": verifier, "code_challenge_method": "plain"}
    elif pkce:
        q |= {"code_challenge": b64e(hashlib.sha256(verifier.encode()).digest()), "code_challenge_method": "S256"}
    url = op.discovery()["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)
    return url, {"client_id": client_id, "verifier": verifier, "state": state, "nonce": nonce}


def callback(op, location: str, want: dict) -> str:
    """The code from the redirect back, after checking state and iss as a relying party must."""
    u = urllib.parse.urlsplit(location)
    assert f"{u.scheme}://{u.netloc}{u.path}" == CALLBACK, location
    q = dict(urllib.parse.parse_qsl(u.query))
    assert q["state"] == want["state"] and q["iss"] == op.issuer, q
    return q["code"]


def token(op, code: str, want: dict) -> tuple[int, dict]:
    c = SECRETS[want["client_id"]]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "code_verifier": want["verifier"]}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if c.get("token_endpoint_auth_method") == "client_secret_post":
        form |= {"client_id": c["client_id"], "client_secret": c["client_secret"]}
    else:
        pair = f"{urllib.parse.quote(c['client_id'])}:{urllib.parse.quote(c['client_secret'])}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    status, _, body = op._fetch(op._opener(op.session()), op.discovery()["token_endpoint"],
                                urllib.parse.urlencode(form).encode(), headers)
    return status, json.loads(body)


def id_token(op, client_id="dash-rs", user="mica") -> tuple[str, dict]:
    url, want = authorize(op, client_id)
    status, body = token(op, callback(op, op.login(url, user, f"{user}-sso-pass"), want), want)
    assert status == 200, body
    return body["id_token"], want


# ---- tests ------------------------------------------------------------------

def test_discovery_and_jwks(op):
    d = op.discovery()
    assert d["issuer"] == op.issuer
    assert d["authorization_endpoint"] == op.issuer + "/auth"
    assert d["token_endpoint"] == op.issuer + "/token"
    assert d["jwks_uri"] == op.issuer + "/jwks"
    assert d["end_session_endpoint"] == op.issuer + "/session/end"
    assert d["authorization_response_iss_parameter_supported"] is True
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert {"RS256", "PS256", "ES256"} <= set(d["id_token_signing_alg_values_supported"])
    assert set(d["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert {"openid", "profile", "email", "groups"} <= set(d["scopes_supported"])
    keys = {k["kid"]: k for k in op.jwks()["keys"]}
    assert set(keys) == {"rsa-1", "ec-1"}
    assert keys["rsa-1"]["kty"] == "RSA" and keys["ec-1"]["crv"] == "P-256"
    assert not any("d" in k for k in keys.values()), "private key material in the JWKS"


def test_code_flow_claims_and_single_use_code(op):
    url, want = authorize(op)
    back = op.login(url, "mica", "mica-sso-pass")
    code = callback(op, back, want)
    status, body = token(op, code, want)
    assert status == 200, body
    header, claims, _ = parts(body["id_token"])
    assert header["alg"] == "RS256" and header["kid"] == "rsa-1"
    assert signed_by(body["id_token"], key(op, "rsa-1"))
    assert claims["iss"] == op.issuer and claims["aud"] == "dash-rs" and claims["nonce"] == want["nonce"]
    assert claims["sub"] == "u-1001" and claims["preferred_username"] == "mica"
    assert claims["groups"] == ["dash-all"] and claims["email"] == "mica@example.test"
    assert claims["iat"] <= time.time() + 5 < claims["exp"]
    # The same code again: refused (and the provider revokes what it issued).
    status, body = token(op, code, want)
    assert status == 400 and body["error"] == "invalid_grant", body


@pytest.mark.parametrize("client_id,user,groups", [("dash-ps", "mike", ["dash-marketing"]),
                                                   ("dash-es", "nobody", ["unmapped-group"])])
def test_other_algorithms_and_client_secret_post(op, client_id, user, groups):
    tok, _ = id_token(op, client_id, user)
    header, claims, _ = parts(tok)
    alg, kid = SECRETS[client_id]["id_token_signed_response_alg"], {"dash-ps": "rsa-1", "dash-es": "ec-1"}[client_id]
    assert (header["alg"], header["kid"]) == (alg, kid)
    assert signed_by(tok, key(op, kid))
    assert claims["preferred_username"] == user and claims["groups"] == groups


@pytest.mark.parametrize("user,password", [("mica", "mike-sso-pass"), ("mica", ""), ("eve", "mica-sso-pass")])
def test_wrong_password_or_unknown_user_refused(op, user, password):
    url, _ = authorize(op)
    with pytest.raises(LoginRefused, match="Invalid login or password"):
        op.login(url, user, password)


@pytest.mark.parametrize("pkce", [False, "plain"])
def test_pkce_s256_required(op, pkce):
    url, want = authorize(op, pkce=pkce)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(op.login(url, "mica", "mica-sso-pass")).query))
    assert q["error"] == "invalid_request" and "code" not in q, q
    assert ("PKCE" if pkce is False else "code_challenge_method") in q["error_description"], q


def test_logout_ends_the_provider_session(op):
    jar = op.session()
    url, want = authorize(op)
    status, body = token(op, callback(op, op.login(url, "mike", "mike-sso-pass", session=jar), want), want)
    assert status == 200
    # Signed in at the provider: the next authorization needs no password.
    url2, want2 = authorize(op)
    callback(op, op.login(url2, "mike", "not-asked", session=jar), want2)
    end = op.discovery()["end_session_endpoint"] + "?" + urllib.parse.urlencode(
        {"id_token_hint": body["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"})
    assert op.logout_confirm(end, session=jar) == SIGNED_OUT + "?state=bye"
    url3, _ = authorize(op)
    with pytest.raises(LoginRefused):
        op.login(url3, "mike", "not-asked", session=jar)


def test_counts_and_delay(op):
    op.reset_counts()
    op.discovery()
    op.jwks()
    op.delay("jwks", 0.6)
    t = time.monotonic()
    op.jwks()
    assert time.monotonic() - t >= 0.6
    op.reset()
    t = time.monotonic()
    op.jwks()
    assert time.monotonic() - t < 0.5
    counts = op.counts()
    assert counts["discovery"] == 1 and counts["jwks"] == 3 and counts["token"] == 0, counts
    id_token(op)
    counts = op.counts()
    assert counts["token"] == 1 and counts["authorization"] == 1 and counts["discovery"] == 3, counts


def test_every_mode_is_known():
    assert len(set(MODES)) == len(MODES) == 14


@pytest.mark.parametrize("mode", [m for m in MODES if m != "off"])
def test_tamper_mode(op, mode):
    _, tampered_before = op.mode()
    op.set_mode(mode)
    tok, want = id_token(op)
    assert op.mode() == (mode, tampered_before + 1)
    header, claims, sig = parts(tok)
    rsa1, ec1 = key(op, "rsa-1"), key(op, "ec-1")
    # Only what the mode names differs from an honest token: the rest still checks out.
    honest = {"iss": op.issuer, "aud": "dash-rs", "nonce": want["nonce"], "preferred_username": "mica",
              "groups": ["dash-all"]}
    changed = {
        "wrong-aud": {"aud": "someone-else"},
        "extra-aud": {"aud": ["dash-rs", "someone-else"]},
        "extra-aud-azp": {"aud": ["dash-rs", "someone-else"], "azp": "dash-rs"},
        "wrong-iss": {"iss": "https://evil.example"},
        "wrong-nonce": {"nonce": "forged"},
    }.get(mode, {})
    for k, v in {**honest, **changed}.items():
        assert claims[k] == v, (mode, k, claims)
    now = time.time()
    if mode == "expired":
        assert claims["exp"] < now - 3000 and claims["iat"] < claims["exp"] - 3000
    else:
        assert claims["exp"] > now
    assert (claims["iat"] > now + 3000) == (mode == "future-iat")
    if mode == "extra-aud":
        assert "azp" not in claims
    if mode == "none":
        assert header == {"alg": "none"} and sig == "" and tok.endswith(".")
    elif mode == "hs256-pubkey":
        assert header["alg"] == "HS256" and header["kid"] == "rsa-1"
        mac = hmac.new(jwk_pem(rsa1).encode(), tok.rsplit(".", 1)[0].encode(), hashlib.sha256).digest()
        assert hmac.compare_digest(b64d(sig), mac)
    elif mode == "unknown-kid":
        assert header["alg"] == "RS256" and header["kid"] == "rsa-unknown"
        assert key(op, "rsa-unknown") is None and not signed_by(tok, rsa1)
    elif mode == "rotated-kid":
        assert header["alg"] == "RS256" and header["kid"] == "rsa-2"
        assert signed_by(tok, key(op, "rsa-2")) and not signed_by(tok, rsa1)
        op.reset()
        assert key(op, "rsa-2") is None
    elif mode == "alg-kty-mismatch":
        assert header["alg"] == "ES256" and header["kid"] == "rsa-1"
        assert signed_by(tok, ec1)
    else:
        assert (header["alg"], header["kid"]) == ("RS256", "rsa-1")
        assert signed_by(tok, rsa1), mode


def test_tampering_ends_at_reset(op):
    op.set_mode("wrong-aud")
    assert parts(id_token(op)[0])[1]["aud"] == "someone-else"
    op.reset()
    tok, _ = id_token(op)
    assert parts(tok)[1]["aud"] == "dash-rs" and signed_by(tok, key(op, "rsa-1"))


def test_es256_client_kid_modes_keep_the_key_type(op):
    op.set_mode("unknown-kid")
    header = parts(id_token(op, "dash-es")[0])[0]
    assert (header["alg"], header["kid"]) == ("ES256", "ec-unknown")
    op.set_mode("rotated-kid")
    tok = id_token(op, "dash-es")[0]
    assert parts(tok)[0]["kid"] == "ec-2" and signed_by(tok, key(op, "ec-2"))


def test_restart_keeps_keys_unless_fresh(tmp_path):
    op = OpenIDProvider(tmp_path, clients=[], start=False)
    assert op.ca.is_file() and op.issuer == f"https://127.0.0.1:{op.port}"
    op.clients.append(CLIENTS[0])
    op.start()
    try:
        before = key(op, "rsa-1")
        op.set_mode("none")
        op.stop()
        with pytest.raises(OSError):
            urllib.request.urlopen(op.issuer + "/jwks", timeout=2, context=op._tls)
        op.start()
        assert key(op, "rsa-1") == before and op.mode()[0] == "off"
        id_token(op)
        op.kill()
        op.start(fresh_keys=True)
        assert key(op, "rsa-1")["n"] != before["n"]
        tok, _ = id_token(op)
        assert signed_by(tok, key(op, "rsa-1"))
    finally:
        op.stop()


def test_browser_signs_in_and_out(op, browser):
    from selenium.webdriver.common.by import By

    from chromium import wait
    url, want = authorize(op)
    browser.get(url)
    wait(browser, lambda d: d.find_elements(By.ID, "login-form"))
    browser.find_element(By.ID, "login").send_keys("mike")
    browser.find_element(By.ID, "password").send_keys("wrong")
    browser.find_element(By.ID, "login-submit").click()
    assert "Invalid login or password" in wait(browser, lambda d: d.find_elements(By.ID, "login-error"))[0].text
    browser.find_element(By.ID, "login").send_keys("mike")
    browser.find_element(By.ID, "password").send_keys("mike-sso-pass")
    browser.find_element(By.ID, "login-submit").click()
    wait(browser, lambda d: d.current_url.startswith(CALLBACK))
    status, body = token(op, callback(op, browser.current_url, want), want)
    assert status == 200 and parts(body["id_token"])[1]["preferred_username"] == "mike"
    browser.get(op.discovery()["end_session_endpoint"] + "?" + urllib.parse.urlencode(
        {"id_token_hint": body["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"}))
    wait(browser, lambda d: d.find_elements(By.ID, "logout-confirm"))[0].click()
    wait(browser, lambda d: d.current_url.startswith(SIGNED_OUT))
    assert browser.current_url == SIGNED_OUT + "?state=bye"
