"""Single sign-on against a real OpenID Provider (tests/oidc: node oidc-provider over
TLS with its own test CA): nginx fetches discovery, JWKS and the token endpoint
through its internal location, verifies the ID token and issues its own session.

mica is in group dash-all (-> _all_), mike in dash-marketing (-> marketing), nobody
in a group the map does not name. Every refusal has an allowed twin."""
import contextlib
import json
import time
import urllib.parse
from pathlib import Path

import pytest

from harness import ROOT, Stack, basic, curl, wait_for
from oidc_provider import OpenIDProvider

STATE = "__Host-dash_auth_oidc"
PASSWORDS = {"mica": "mica-sso-pass", "mike": "mike-sso-pass", "nobody": "nobody-sso-pass"}
SECRET = "dash-client-secret-0123456789"
EXAMPLES = ROOT / "dashboard/examples"
HTML = "Accept: text/html,application/xhtml+xml"

# The flow over HTTP/1.1 and again over HTTP/2 (the callback's cookies may come
# split in several headers there).
pytestmark = pytest.mark.usefixtures("both_protocols")


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def sso_server(op: OpenIDProvider, d: Path, client="dash", extra="") -> str:
    """The server-level directives of single sign-on with `client`, and the
    internal location, as the README shows them."""
    secret = d / f"{client}.secret"
    secret.write_text(SECRET + "\n")
    groups = d / "groups"
    groups.write_text("# provider group -> sections\ndash-all _all_\ndash-marketing marketing\n")
    return f"""
        dash_auth_oidc_issuer {op.issuer};
        dash_auth_oidc_client_id {client};
        dash_auth_oidc_client_secret_file {secret};
        dash_auth_oidc_user_claim preferred_username;
        dash_auth_oidc_groups {groups};
        dash_auth_oidc_jwks_refresh 3s;
        proxy_ssl_trusted_certificate {op.ca};
        proxy_ssl_name localhost;
        {extra}
        include {ROOT}/nginx-conf/oidc-fetch.conf;
    """


@pytest.fixture(scope="module")
def sso(dashboard, tmp_path_factory):
    """One worker, so the provider's documents are fetched once and counted."""
    d = tmp_path_factory.mktemp("sso")
    stack = Stack(dashboard)
    base = f"https://127.0.0.1:{stack.https_port}"
    clients = [{"client_id": c, "client_secret": SECRET, "redirect_uris": [f"{base}/oauth2/callback"],
                "post_logout_redirect_uris": [f"{base}/"], **extra}
               for c, extra in (("dash", {}), ("dash-post", {"token_endpoint_auth_method": "client_secret_post"}),
                                ("dash-es", {"id_token_signed_response_alg": "ES256"}),
                                ("dash-ps", {"id_token_signed_response_alg": "PS256"}))]
    op = OpenIDProvider(d, clients)
    stack.env.update(WORKER_PROCESSES="1", EXTRA_SERVER=sso_server(op, d))
    stack.render()
    stack.start()
    stack.op, stack.dir = op, d
    yield stack
    stack.stop()
    op.stop()


def begin(stack, path="/marketing"):
    """A browser navigation without a session: the redirect to the provider and the
    state cookie."""
    r = stack.get(path, headers=[HTML])
    assert r.status == 302, (r.status, r.text[:300])
    location, state = r.header("Location"), r.cookie(STATE)
    assert location.startswith(stack.op.issuer + "/"), location
    assert state, r.headers
    return location, state


def back(stack, callback_url, state, extra=()):
    """The browser coming back from the provider to nginx."""
    parts = urllib.parse.urlsplit(callback_url)
    headers = [HTML, *extra]
    if state is not None:
        headers.append(f"Cookie: {STATE}={state}")
    return stack.get(f"{parts.path}?{parts.query}", headers=headers)


def sign_in(stack, user, path="/marketing"):
    location, state = begin(stack, path)
    cb = stack.op.login(location, user, PASSWORDS[user])
    r = back(stack, cb, state)
    assert r.status == 302, (r.status, r.text[:300], stack.error_log[-2000:])
    return r


def session(stack, user, path="/marketing"):
    cookie = sign_in(stack, user, path).cookie()
    assert cookie
    return cookie


def get(stack, cookie, path):
    return stack.get(path, headers=[HTML, f"Cookie: example_jwt={cookie}"])


def refused(r, status=403):
    assert r.status == status, (r.status, r.text[:300])
    assert not r.cookie(), r.headers


# The flow

def test_redirect_carries_pkce_state_and_nonce(sso):
    location, state = begin(sso, "/hr?tab=2")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert q["response_type"] == ["code"] and q["client_id"] == ["dash"]
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["redirect_uri"] == [sso.url("/oauth2/callback")]
    assert "openid" in q["scope"][0].split()
    assert len(q["state"][0]) >= 22 and len(q["nonce"][0]) >= 22
    # The verifier never leaves for the provider.
    assert "code_verifier" not in location


def test_mica_lands_where_she_asked_and_sees_everything(sso):
    r = sign_in(sso, "mica", "/hr?tab=2")
    assert r.header("Location") == "/hr?tab=2"
    cleared = [c for c in r.all("Set-Cookie") if c.startswith(STATE + "=")]
    assert cleared and "Max-Age=0" in cleared[0]
    cookie = r.cookie()
    for path in ("/hr", "/marketing", "/people"):
        assert get(sso, cookie, path).status == 200, path
    line = sso.access_line('"GET /people')
    assert " mica " in line and 'sections="_all_"' in line, line


def test_mike_gets_marketing_only(sso):
    cookie = session(sso, "mike")
    assert get(sso, cookie, "/marketing").status == 200
    assert get(sso, cookie, "/hr").status == 403
    assert get(sso, cookie, "/people").status == 403
    # The twins: mica, in dash-all, opens both.
    mica = session(sso, "mica")
    assert get(sso, mica, "/hr").status == 200
    assert get(sso, mica, "/people").status == 200


def test_a_group_the_map_does_not_name_gets_no_section(sso):
    cookie = session(sso, "nobody", "/")
    assert get(sso, cookie, "/").status == 200
    assert get(sso, cookie, "/marketing").status == 403
    # The twin: mike's group maps to marketing.
    assert get(sso, session(sso, "mike"), "/marketing").status == 200


def test_callback_checks_apply_to_sso_sessions(sso):
    mike, mica = session(sso, "mike"), session(sso, "mica")
    body = json.dumps(example("hr-slider")).encode()

    def post(cookie):
        return sso.get("/_dash-update-component", method="POST", data=body,
                       headers=[f"Cookie: example_jwt={cookie}", "Content-Type: application/json"])

    assert post(mike).status == 403
    assert post(mica).status == 200
    marketing = json.dumps(example("marketing-dropdown")).encode()
    r = sso.get("/_dash-update-component", method="POST", data=marketing,
                headers=[f"Cookie: example_jwt={mike}", "Content-Type: application/json"])
    assert r.status == 200, r.text[:200]


def test_scripts_without_a_session_still_get_basic(sso):
    r = sso.get("/marketing")
    assert r.status == 401 and r.header("WWW-Authenticate").startswith("Basic")
    ok = sso.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"])
    assert ok.status == 200


@contextlib.contextmanager
def reconfigured(stack, **server):
    """The same nginx (ports, secret) reloaded with other SSO settings, then back."""
    stack.render(EXTRA_SERVER=sso_server(stack.op, stack.dir, **server))
    stack.reload()
    try:
        yield stack
    finally:
        stack.render()
        stack.reload()


@pytest.mark.parametrize("client", ["dash-post", "dash-es", "dash-ps"])
def test_client_secret_post_es256_and_ps256(sso, client):
    """client_secret_post, and ID tokens signed ES256 and PS256, each by its own
    client; a twin of the default (client_secret_basic, RS256) above."""
    auth = "dash_auth_oidc_client_auth client_secret_post;" if client == "dash-post" else ""
    with reconfigured(sso, client=client, extra=auth):
        location, state = begin(sso)
        assert f"client_id={client}" in location
        r = back(sso, sso.op.login(location, "mike", PASSWORDS["mike"]), state)
        assert r.status == 302 and r.cookie(), (r.status, sso.error_log[-1500:])
        assert get(sso, r.cookie(), "/marketing").status == 200


# Hostile callbacks

def test_missing_state_cookie_then_the_real_one(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    refused(back(sso, cb, None))
    assert "no state cookie" in sso.error_log
    # Refused before the exchange, so the code is still good for its browser.
    r = back(sso, cb, state)
    assert r.status == 302 and r.cookie()


def test_forged_state_then_the_real_one(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    forged = cb.replace("state=", "state=x", 1)
    refused(back(sso, forged, state))
    refused(back(sso, cb, state[:-2] + ("AA" if not state.endswith("AA") else "BB")))
    r = back(sso, cb, state)
    assert r.status == 302 and r.cookie()


def test_a_state_cookie_from_another_sign_in_does_not_fit(sso):
    location1, state1 = begin(sso)
    location2, state2 = begin(sso)
    cb1 = sso.op.login(location1, "mike", PASSWORDS["mike"])
    refused(back(sso, cb1, state2))
    assert back(sso, cb1, state1).status == 302


def test_a_code_used_twice_and_a_replayed_callback(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    first = back(sso, cb, state)
    assert first.status == 302 and first.cookie()
    again = back(sso, cb, state)
    refused(again)
    assert "refused the code" in sso.error_log


def test_iss_mix_up_then_the_real_issuer(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    assert "iss=" in cb
    other = urllib.parse.quote("https://evil.example", safe="")
    mixed = urllib.parse.urlunsplit(urllib.parse.urlsplit(cb)._replace(
        query="&".join(p if not p.startswith("iss=") else f"iss={other}"
                       for p in urllib.parse.urlsplit(cb).query.split("&"))))
    refused(back(sso, mixed, state))
    stripped = urllib.parse.urlunsplit(urllib.parse.urlsplit(cb)._replace(
        query="&".join(p for p in urllib.parse.urlsplit(cb).query.split("&") if not p.startswith("iss="))))
    # The provider says it always sends iss (RFC 9207): a callback without it is refused.
    refused(back(sso, stripped, state))
    assert back(sso, cb, state).status == 302


def test_wrong_nonce_then_the_right_one(sso):
    location, state = begin(sso)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    bent = location.replace("nonce=" + urllib.parse.quote(q["nonce"][0], safe=""), "nonce=bent-nonce-value")
    assert bent != location
    refused(back(sso, sso.op.login(bent, "mike", PASSWORDS["mike"]), state))
    assert back(sso, sso.op.login(location, "mike", PASSWORDS["mike"]), state).status == 302


def test_provider_error_is_a_refusal(sso):
    location, state = begin(sso)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    cb = sso.url(f"/oauth2/callback?error=access_denied&state={q['state'][0]}&iss="
                 + urllib.parse.quote(sso.op.issuer, safe=""))
    refused(back(sso, cb, state))
    assert "access_denied" in sso.error_log


REFUSED_MODES = ["none", "hs256-pubkey", "wrong-aud", "extra-aud", "wrong-iss", "expired", "future-iat",
                 "wrong-nonce", "alg-kty-mismatch"]


REASONS = {"none": '"none"', "hs256-pubkey": '"hs256"', "wrong-aud": "audience", "extra-aud": "azp",
           "wrong-iss": "issuer", "expired": "expired", "future-iat": "future", "wrong-nonce": "nonce",
           "alg-kty-mismatch": "key"}


def log_since(stack, mark):
    return stack.error_log[mark:]


@pytest.mark.parametrize("mode", REFUSED_MODES)
def test_hostile_id_tokens_are_refused(sso, mode):
    sso.op.set_mode(mode)
    try:
        location, state = begin(sso)
        cb = sso.op.login(location, "mike", PASSWORDS["mike"])
        mark = len(sso.error_log)
        refused(back(sso, cb, state))
        assert sso.op.mode()[1] >= 1  # the provider did tamper
        lines = [l for l in log_since(sso, mark).splitlines() if "sign-in refused" in l]
        assert lines and REASONS[mode] in lines[0].lower(), (mode, lines)
    finally:
        sso.op.reset()


@pytest.mark.parametrize("mode", ["resign", "extra-aud-azp"])
def test_the_same_tampering_done_right_passes(sso, mode):
    """Twins of the above: re-signed with the provider's key, and several audiences
    with azp naming us."""
    sso.op.set_mode(mode)
    try:
        assert sso.op.mode()[0] == mode
        r = sign_in(sso, "mike")
        assert r.cookie()
        assert sso.op.mode()[1] >= 1  # the provider did tamper
    finally:
        sso.op.reset()


def test_unknown_kid_refreshes_the_keys_once_then_refuses(sso):
    time.sleep(3.2)  # past dash_auth_oidc_jwks_refresh
    sso.op.reset_counts()
    sso.op.set_mode("unknown-kid")
    try:
        location, state = begin(sso)
        refused(back(sso, sso.op.login(location, "mike", PASSWORDS["mike"]), state))
        assert sso.op.counts().get("jwks", 0) == 1, sso.op.counts()
        # Within the interval another unknown kid fetches nothing.
        location, state = begin(sso)
        refused(back(sso, sso.op.login(location, "mike", PASSWORDS["mike"]), state))
        assert sso.op.counts().get("jwks", 0) == 1, sso.op.counts()
    finally:
        sso.op.reset()


def test_a_rotated_key_is_found_by_the_refresh(sso):
    time.sleep(3.2)
    sso.op.reset_counts()
    sso.op.set_mode("rotated-kid")
    try:
        r = sign_in(sso, "mike")
        assert r.cookie()
        assert sso.op.counts().get("jwks", 0) == 1, sso.op.counts()
    finally:
        sso.op.reset()


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example"])
def test_return_path_stays_on_this_origin(sso, target):
    r = sign_in(sso, "mike", target)
    location = r.header("Location")
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
    twin = sign_in(sso, "mike", "/marketing?x=1")
    assert twin.header("Location") == "/marketing?x=1"


# The provider failing

def test_provider_stopped_during_a_sign_in(sso):
    mike = session(sso, "mike")
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    sso.op.kill()
    try:
        r = back(sso, cb, state)
        assert r.status == 502, (r.status, r.text[:200])
        assert "Sign-in unavailable" in r.text
        wait_for(lambda: "OpenID Provider token request failed" in sso.error_log, 5, "the log line")
        # Users with a session do not notice.
        assert get(sso, mike, "/marketing").status == 200
    finally:
        sso.op.start()
    assert sign_in(sso, "mike").cookie()


def test_provider_too_slow_gives_504(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    sso.op.delay("token", 12)
    try:
        started = time.monotonic()
        r = back(sso, cb, state)
        assert r.status == 504, (r.status, r.text[:200])
        assert time.monotonic() - started < 11 * 2
    finally:
        sso.op.delay("token", 0)
    assert sign_in(sso, "mike").cookie()


# Logout

def test_logout_ends_the_session_here_and_at_the_provider(sso):
    location, state = begin(sso)
    jar = sso.op.session()
    cookie = back(sso, sso.op.login(location, "mike", PASSWORDS["mike"], session=jar), state).cookie()
    assert get(sso, cookie, "/marketing").status == 200
    r = sso.get("/logout", method="POST", headers=[*sso.same_origin(), f"Cookie: example_jwt={cookie}"], data=b"")
    assert r.status == 303, r.status
    end = r.header("Location")
    assert end.startswith(sso.op.issuer + "/"), end
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(end).query)
    assert q["client_id"] == ["dash"] and q["post_logout_redirect_uri"] == [sso.url("/")]
    assert get(sso, cookie, "/marketing").status == 302
    assert sso.op.logout_confirm(end, session=jar).startswith(sso.url("/"))
    # A password user's logout stays here (the twin).
    pw = sso.get("/", headers=[f"Authorization: {basic('mike', '123456')}"]).cookie()
    r = sso.get("/logout", method="POST", headers=[*sso.same_origin(), f"Cookie: example_jwt={pw}"], data=b"")
    assert r.status == 303 and r.header("Location") == "/login"


# Passwords off

def test_passwords_off_leaves_only_sso(sso):
    with reconfigured(sso, extra="dash_auth_password off;"):
        r = sso.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"])
        assert r.status == 401 and not r.header("WWW-Authenticate") and not r.cookie()
        assert sso.get("/login", headers=[HTML]).status == 302  # no form: off to the provider
        cookie = session(sso, "mike")
        assert get(sso, cookie, "/marketing").status == 200
    # The twin: with passwords on, the same Basic login passes.
    assert sso.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 200


# Configuration

def config_error(stack, extra):
    stack.render(EXTRA_SERVER=extra)
    return stack.test_config()


@pytest.fixture(scope="module")
def spare(dashboard):
    s = Stack(dashboard)
    yield s


def test_broken_directives_fail_nginx_t(sso, spare, tmp_path):
    op = sso.op
    good = sso_server(op, tmp_path)
    ok = config_error(spare, good)
    assert ok.returncode == 0, ok.stderr
    cases = {
        "dash_auth_oidc_issuer http://idp.example;": "dash_auth_oidc_issuer",
        "dash_auth_oidc_issuer https://idp.example/?x=1;": "dash_auth_oidc_issuer",
        "dash_auth_oidc_client_auth private_key_jwt;": "dash_auth_oidc_client_auth",
        "dash_auth_oidc_scopes profile email;": "openid",
        "dash_auth_oidc_redirect_path oauth2;": "dash_auth_oidc_redirect_path",
        "dash_auth_oidc_user_claim \"a b\";": "dash_auth_oidc_user_claim",
        "dash_auth_oidc_jwks_refresh 0;": "dash_auth_oidc_jwks_refresh",
        "dash_auth_password maybe;": "dash_auth_password",
    }
    for line, named in cases.items():
        directive = line.split()[0]
        conf = "\n".join(l for l in good.splitlines() if l.strip().split(" ")[0] != directive) + "\n" + line
        r = config_error(spare, conf)
        assert r.returncode != 0, line
        assert "[emerg]" in r.stderr and named in r.stderr and "nginx.conf:" in r.stderr, (line, r.stderr)
    missing = "\n".join(l for l in good.splitlines() if "client_id" not in l)
    r = config_error(spare, missing)
    assert r.returncode != 0 and "dash_auth_oidc_client_id" in r.stderr, r.stderr
    empty = tmp_path / "empty.secret"
    empty.write_text("\n")
    r = config_error(spare, good.replace(str(tmp_path / "dash.secret"), str(empty)))
    assert r.returncode != 0 and "empty" in r.stderr, r.stderr


@pytest.mark.parametrize("line, problem", [
    ("dash-x marketing extra", "2"),
    ("dash-x market ing", "2"),
    ("dash-x ,marketing", "2"),
    ("dash-all hr", "2"),
    ("dash-x finance", "2"),
])
def test_broken_group_map_lines_fail_with_file_and_line(sso, spare, tmp_path, line, problem):
    good = sso_server(sso.op, tmp_path)
    groups = tmp_path / "groups"
    groups.write_text(f"dash-all _all_\n{line}\n")
    r = config_error(spare, good)
    assert r.returncode != 0, line
    assert f"{groups}:{problem}" in r.stderr and "[emerg]" in r.stderr, r.stderr
    groups.write_text("dash-all _all_\ndash-x marketing,hr\n")
    assert config_error(spare, good).returncode == 0


def test_the_code_and_state_stay_out_of_the_logs(sso):
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(cb).query)["code"][0]
    refused(back(sso, cb, None))  # an info line for this very request
    assert back(sso, cb, state).status == 302
    line = sso.access_line("GET /oauth2/callback?[redacted]")
    assert "302" in line
    assert code not in sso.error_log and code not in sso.access_log
    assert state not in sso.error_log and SECRET not in sso.error_log
    assert "/oauth2/callback?[redacted]" in sso.error_log


# A real browser through the provider's own pages

def provider_sign_in(d, user):
    from chromium import wait
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    wait(d, EC.visibility_of_element_located((By.ID, "login"))).send_keys(user)
    d.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    d.find_element(By.ID, "login-submit").click()


def test_browser_signs_in_through_the_provider(sso, browser):
    from chromium import choose, graph_title, shot, wait
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    d = browser
    d.get(sso.url("/hr"))
    wait(d, EC.url_contains(sso.op.issuer))
    shot(d, "20-sso-provider-login")
    provider_sign_in(d, "mike")
    wait(d, EC.url_matches(r"/hr$"))
    assert d.current_url == sso.url("/hr")
    # Landed where he asked, refused the section that is not his.
    assert d.find_element(By.TAG_NAME, "h1").text == "Not your section"
    assert d.find_element(By.ID, "user").text == "mike"
    shot(d, "21-sso-mike-hr-forbidden")
    d.get(sso.url("/marketing"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    links = [a.get_attribute("id") for a in d.find_elements(By.CSS_SELECTOR, "#nav-links a")]
    assert links == ["nav-home", "nav-marketing"], links
    choose(d, "marketing-dropdown", "Social")
    wait(d, lambda d: graph_title(d, "marketing-graph") == "Monthly leads: social")
    shot(d, "22-sso-mike-marketing")
    old = d.get_cookie("example_jwt")["value"]
    # Sign out: here, then at the provider, then back to the dashboard, which
    # asks the provider again.
    wait(d, EC.text_to_be_present_in_element((By.ID, "nav-user"), "Signed in as mike"))
    d.find_element(By.ID, "nav-sign-out").click()
    wait(d, EC.element_to_be_clickable((By.ID, "logout-confirm"))).click()
    wait(d, EC.visibility_of_element_located((By.ID, "login")))
    assert d.current_url.startswith(sso.op.issuer)
    assert d.get_cookie("example_jwt") is None
    assert get(sso, old, "/marketing").status == 302
    shot(d, "23-sso-signed-out")


def test_browser_mica_sees_every_section(sso, browser):
    from chromium import graph_title, wait
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    d = browser
    d.get(sso.url("/marketing"))
    provider_sign_in(d, "mica")
    wait(d, EC.url_matches(r"/marketing$"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    d.get(sso.url("/hr"))
    wait(d, EC.visibility_of_element_located((By.ID, "hr-graph")))
    links = [a.get_attribute("id") for a in d.find_elements(By.CSS_SELECTOR, "#nav-links a")]
    assert "nav-hr" in links, links


def test_a_client_that_leaves_during_a_fetch_costs_nothing(sso):
    """The browser gives up while nginx waits for the token endpoint: the
    subrequest is torn down with the request, the worker lives on, and the
    next sign-in works."""
    location, state = begin(sso)
    cb = sso.op.login(location, "mike", PASSWORDS["mike"])
    workers = sso.worker_pids()
    sso.op.delay("token", 4)
    try:
        parts = urllib.parse.urlsplit(cb)
        with pytest.raises(RuntimeError, match="curl failed"):
            curl(sso.url(f"{parts.path}?{parts.query}"), headers=[HTML, f"Cookie: {STATE}={state}"], timeout=1)
        time.sleep(4.5)  # the provider answers a request nobody waits for
    finally:
        sso.op.delay("token", 0)
    assert sso.worker_pids() == workers
    assert "[alert]" not in sso.error_log and "exited on signal" not in sso.error_log
    assert sign_in(sso, "mike").cookie()
