"""Refusals a person can read.

A browser that opens a section the user lacks gets a 403 page in the login page's
style: who is signed in, which section is not theirs, a link home and a sign-out
button. API clients keep nginx's plain 403. Inside the app, the `use_pages` router
callback refused for the page it routes to gets the module's own Dash reply (200),
so the refusal shows where the page would have been; any other refused callback
keeps its 403. Neither answer reaches the app or carries anything of the section
but its name. Every refusal has a twin that goes through.

First with curl, then in Debian's headless chromium.
"""
import json
import os
import shutil
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chromium import ARTIFACTS, shot, sign_in, wait
from harness import REFUSAL_ID, ROOT, Dashboard, Stack, basic, router_refusal

NAVIGATION = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "Content-Type: application/json"
PASSWORDS = {"mike": "123456", "mica": "1234"}


@pytest.fixture(scope="module")
def own(dashboard):
    """A stack of its own: signing out here records a cut-off for mike that
    would end the sessions other suites hold."""
    s = Stack(dashboard).start()
    yield s
    s.stop()


def login(stack, user, home="/"):
    r = stack.get(home, headers=[f"Authorization: {basic(user, PASSWORDS[user])}"])
    assert r.status == 200, r
    return f"Cookie: example_jwt={r.cookie()}"


@pytest.fixture(scope="module")
def cookies(own):
    return {user: login(own, user) for user in PASSWORDS}


def router(path, outputs=None):
    body = json.loads((ROOT / "dashboard/examples/router-hr.json").read_text())
    body["inputs"][0]["value"] = path
    if outputs is not None:
        body["outputs"] = outputs
    return json.dumps(body).encode()


def post(stack, cookie, body, query=""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return stack.get("/_dash-update-component" + query, method="POST", data=data, headers=[cookie, JSON])


def example(name):
    return json.loads((ROOT / f"dashboard/examples/{name}.json").read_text())


# Curl: a page of another section.

@pytest.mark.parametrize("path", ["/hr", "/hr/x", "/HR/", "/people", "/%68r"])
def test_navigation_gets_the_readable_page(own, cookies, path):
    r = own.get(f"{path}?probe=nav-{path}", headers=[cookies["mike"], NAVIGATION])
    assert r.status == 403, r
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert r.header("Cache-Control") == "no-store"
    assert r.header("WWW-Authenticate") is None
    assert "<h1>Not your section</h1>" in r.text
    assert '<strong id="user">mike</strong>' in r.text
    assert '<strong id="section">hr</strong>' in r.text
    assert '<a href="/" id="home">' in r.text
    assert '<form method="post" action="/logout">' in r.text and 'id="sign-out"' in r.text
    assert '<link rel="icon" href="data:,">' in r.text
    # The section's name and nothing else of it: no path, no component, no
    # byte from the app (which is never asked).
    assert "hr-" not in r.text and "people" not in r.text.lower() and "_dash" not in r.text
    line = own.access_line(f"probe=nav-{path}")
    assert " 403 " in line and "upstream=-" in line and " mike " in line, line
    assert 'user "mike" may not access section "hr"' in own.error_log


def test_navigation_twins_reach_the_app(own, cookies):
    r = own.get("/hr", headers=[cookies["mica"], NAVIGATION])
    assert r.status == 200 and "_dash-config" in r.text and "Not your section" not in r.text, r
    r = own.get("/marketing", headers=[cookies["mike"], NAVIGATION])
    assert r.status == 200 and "_dash-config" in r.text and "Not your section" not in r.text, r


@pytest.mark.parametrize("accept", [None, "Accept: application/json", "Accept: */*"])
def test_api_clients_keep_the_plain_403(own, cookies, accept):
    headers = [cookies["mike"]] + ([accept] if accept else [])
    r = own.get("/hr", headers=headers)
    assert r.status == 403, r
    assert "403 Forbidden" in r.text and "Not your section" not in r.text, r.text
    # The twin: the same client in mike's own section.
    headers = [cookies["mike"]] + ([accept] if accept else [])
    assert own.get("/marketing", headers=headers).status == 200


def test_head_and_other_methods(own, cookies):
    r = own.get("/hr", method="HEAD", headers=[cookies["mike"], NAVIGATION], extra=["-I"])
    assert r.status == 403 and r.header("Content-Type") == "text/html; charset=utf-8", r
    assert b"<html" not in r.body  # with -I, curl's output is the headers alone
    # A POST is no navigation: nginx's page.
    r = own.get("/hr", method="POST", data=b"x=1", headers=[cookies["mike"], NAVIGATION])
    assert r.status == 403 and "Not your section" not in r.text, r


def test_the_sign_out_button_signs_out(dashboard):
    # A stack of its own again: the logout ends every session of mike's so far.
    s = Stack(dashboard).start()
    try:
        mike = login(s, "mike")
        page = s.get("/hr", headers=[mike, NAVIGATION])
        assert page.status == 403
        action = page.text.split('<form method="post" action="', 1)[1].split('"', 1)[0]
        assert action == "/logout"
        # As a browser posts the form: from this server's own origin.
        r = s.get(action, method="POST", data=b"",
                  headers=[mike, f"Origin: {s.origin()}", "Sec-Fetch-Site: same-origin"])
        assert r.status == 303 and r.header("Location").endswith("/login"), r
        assert "Max-Age=0" in r.header("Set-Cookie")
        assert s.get("/marketing", headers=[mike]).status == 401
        # A new login works again, and sees the page again.
        time.sleep(1.1)
        mike = login(s, "mike")
        assert s.get("/hr", headers=[mike, NAVIGATION]).status == 403
        assert s.get("/marketing", headers=[mike]).status == 200
    finally:
        s.stop()


def test_with_basic_only_the_page_has_no_sign_out(dashboard):
    s = Stack(dashboard, env={"LOGIN_PATH": "off"}).start()
    try:
        mike, mica = login(s, "mike"), login(s, "mica")
        r = s.get("/hr", headers=[mike, NAVIGATION])
        assert r.status == 403 and '<strong id="user">mike</strong>' in r.text, r
        assert "<form" not in r.text and "sign-out" not in r.text
        assert s.get("/hr", headers=[mica, NAVIGATION]).status == 200
    finally:
        s.stop()


def test_an_error_page_of_the_admin_wins(dashboard):
    extra = ('error_page 403 /forbidden.html;\n'
             'location = /forbidden.html {\n'
             '    dash_auth off;\n'
             '    return 200 "the admin\'s own page\\n";\n'
             '}')
    s = Stack(dashboard, env={"EXTRA_SERVER": extra}).start()
    try:
        mike, mica = login(s, "mike"), login(s, "mica")
        r = s.get("/hr", headers=[mike, NAVIGATION])
        assert r.status == 403 and "the admin's own page" in r.text and "Not your section" not in r.text, r
        assert s.get("/hr", headers=[mica, NAVIGATION]).status == 200
        # The router's in-app refusal is a Dash reply, not a page: it stays.
        assert router_refusal(post(s, mike, router("/hr")))
    finally:
        s.stop()


def test_login_page_asks_for_no_favicon(own):
    r = own.get("/login", headers=[NAVIGATION])
    assert r.status == 200 and '<link rel="icon" href="data:,">' in r.text, r


# Curl: the router callback, and other callbacks.

def test_refused_router_gets_the_refusal_inside_the_app(own, cookies):
    line = 'user "mike": callback routes to section "hr" through "route"'
    before = own.error_log.count(line)
    r = post(own, cookies["mike"], router("/hr"), "?probe=router-mike")
    page = router_refusal(r)
    assert page, (r.status, r.header("Content-Type"), r.text[:300])
    assert r.header("Cache-Control") == "no-store"
    assert "Not your section" in page and "signed in as mike. The hr section" in page, page
    reply = json.loads(r.body)
    assert reply["response"]["_pages_store"] == {"data": {"title": "Not your section"}}
    assert "hr-" not in r.text
    assert own.error_log.count(line) == before + 1
    access = own.access_line("probe=router-mike")
    assert " 200 " in access and "upstream=-" in access and " mike " in access, access
    # The twins: mica gets the hr page from the app, mike his own page.
    r = post(own, cookies["mica"], router("/hr"), "?probe=router-mica")
    assert r.status == 200 and "hr-graph" in r.text and not router_refusal(r), r.text[:300]
    assert "upstream=-" not in own.access_line("probe=router-mica")
    r = post(own, cookies["mike"], router("/marketing"))
    assert r.status == 200 and "marketing-graph" in r.text and not router_refusal(r), r.text[:300]


@pytest.mark.parametrize("path", ["/people", "/HR/", "/marketing/../hr", "https://evil.example/hr"])
def test_refused_router_under_other_spellings(own, cookies, path):
    page = router_refusal(post(own, cookies["mike"], router(path)))
    assert page and "The hr section" in page, path
    assert not router_refusal(post(own, cookies["mica"], router(path)))


def test_only_the_outputs_the_router_names(own, cookies):
    content = {"id": "_pages_content", "property": "children"}
    r = post(own, cookies["mike"], router("/hr", [content]))
    assert router_refusal(r) and "_pages_store" not in json.loads(r.body)["response"], r.text
    r = post(own, cookies["mike"], router("/hr", content))
    assert router_refusal(r) and "_pages_store" not in json.loads(r.body)["response"], r.text


def test_other_refused_callbacks_keep_403(own, cookies):
    mike, mica = cookies["mike"], cookies["mica"]
    # A section's own callback.
    r = post(own, mike, example("hr-slider"))
    assert r.status == 403 and not router_refusal(r), r
    assert post(own, mica, example("hr-slider")).status == 200
    # The router writing into a section as well: refused for the output, not the route.
    outputs = [{"id": "_pages_content", "property": "children"}, {"id": "hr-graph", "property": "figure"}]
    r = post(own, mike, router("/hr", outputs))
    assert r.status == 403, r
    assert 'user "mike": callback writes to section "hr" through "outputs"' in own.error_log
    # A path that cannot be read is a bad request, not a page.
    assert post(own, mike, router("/%zz")).status == 400


def test_without_the_registry_only_the_router_gets_the_reply(dashboard):
    s = Stack(dashboard, env={"DEPENDENCIES": ""}).start()
    try:
        mike, mica = login(s, "mike"), login(s, "mica")
        assert router_refusal(post(s, mike, router("/hr")))
        assert not router_refusal(post(s, mica, router("/hr")))
        # A path-looking value in another callback: refused for its route, still a 403.
        body = example("marketing-dropdown")
        body["inputs"][0]["value"] = "/hr"
        r = post(s, mike, body)
        assert r.status == 403, r
        assert 'user "mike": callback routes to section "hr" through "route"' in s.error_log
    finally:
        s.stop()


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory):
    d = Dashboard(tmp_path_factory.mktemp("prefixed"), prefix="/app/")
    s = Stack(d, env={"EXTRA_SERVER": "dash_auth_dash_prefix /app/;"}).start()
    yield s
    s.stop()
    d.stop()


def test_home_is_the_apps_root_under_a_prefix(prefixed):
    mike, mica = login(prefixed, "mike", "/app/"), login(prefixed, "mica", "/app/")
    r = prefixed.get("/app/hr", headers=[mike, NAVIGATION])
    assert r.status == 403 and '<a href="/app/" id="home">' in r.text, r
    assert prefixed.get("/app/hr", headers=[mica, NAVIGATION]).status == 200
    body = router("/app/hr")
    r = prefixed.get("/app/_dash-update-component", method="POST", data=body, headers=[mike, JSON])
    page = router_refusal(r)
    assert page and '"href": "/app/"' in page, (r.status, r.text[:300])
    r = prefixed.get("/app/_dash-update-component", method="POST", data=body, headers=[mica, JSON])
    assert r.status == 200 and "hr-graph" in r.text, r.text[:300]


# Chromium, as a person meets the refusals.

def push_path(d, path):
    """What a dcc.Link does: a pushState, then the event dcc.Location listens for."""
    d.execute_script("window.history.pushState({}, '', arguments[0]);"
                     "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));", path)


def callback_statuses(d):
    return d.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/_dash-update-component')).map(e => e.responseStatus);")


def test_mike_reads_the_refusals_in_the_browser(own, browser):
    d = browser
    d.get(own.url("/marketing"))
    sign_in(d, "mike", "123456")
    wait(d, EC.url_matches(r"/marketing$"))
    wait(d, EC.visibility_of_element_located((By.ID, "marketing-title")))
    d.execute_script("performance.setResourceTimingBufferSize(10000);")

    # In the app: the router is answered with the refusal, shown where the page goes.
    before = len(callback_statuses(d))
    push_path(d, "/hr")
    refusal = wait(d, EC.visibility_of_element_located((By.ID, REFUSAL_ID)))
    assert "Not your section" in refusal.text, refusal.text
    assert "You are signed in as mike. The hr section is not one of yours." in refusal.text
    assert d.find_element(By.ID, "_pages_content").text == refusal.text
    assert not d.find_elements(By.ID, "hr-title") and not d.find_elements(By.ID, "marketing-title")
    assert d.current_url.endswith("/hr")
    wait(d, EC.title_is("Not your section"))
    routed = callback_statuses(d)[before:]
    assert routed and all(s == 200 for s in routed), routed
    shot(d, "refusal-01-mike-hr-in-app")
    # Its link goes home inside the app.
    refusal.find_element(By.LINK_TEXT, "Go to the home page").click()
    wait(d, EC.visibility_of_element_located((By.ID, "home-title")))
    assert d.current_url.endswith("/") and not d.find_elements(By.ID, REFUSAL_ID)

    # Opened directly: the styled page, with his name and a sign-out button.
    d.get(own.url("/hr"))
    wait(d, EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert d.find_element(By.TAG_NAME, "h1").text == "Not your section"
    assert d.find_element(By.ID, "user").text == "mike"
    assert d.find_element(By.ID, "section").text == "hr"
    assert d.title == "Not your section"
    assert "hr-title" not in d.page_source and "HR" not in d.find_element(By.TAG_NAME, "body").text
    sign_out = d.find_element(By.ID, "sign-out")
    assert sign_out.is_displayed()
    shot(d, "refusal-02-mike-hr-page")
    # The README's picture: refreshed on request, so runs leave the tree clean.
    doc = ROOT / "docs/refusal-page.png"
    if not doc.exists() or os.environ.get("DASH_AUTH_UPDATE_DOCS"):
        shutil.copy(ARTIFACTS / "refusal-02-mike-hr-page.png", doc)
    # Neither page, nor the login page, asked for a favicon it would be refused.
    time.sleep(0.5)
    assert "/favicon.ico" not in own.access_log

    d.find_element(By.ID, "home").click()
    wait(d, EC.visibility_of_element_located((By.ID, "home-title")))
    d.get(own.url("/people"))
    wait(d, EC.visibility_of_element_located((By.ID, "sign-out"))).click()
    wait(d, EC.url_contains("/login"))
    assert d.get_cookie("example_jwt") is None
    wait(d, EC.visibility_of_element_located((By.ID, "username")))
    shot(d, "refusal-03-mike-signed-out")


def test_mica_sees_hr_in_the_browser(own, browser):
    d = browser
    d.get(own.url("/marketing"))
    sign_in(d, "mica", "1234")
    wait(d, EC.url_matches(r"/marketing$"))
    wait(d, EC.visibility_of_element_located((By.ID, "marketing-title")))
    push_path(d, "/hr")
    wait(d, EC.visibility_of_element_located((By.ID, "hr-title")))
    assert not d.find_elements(By.ID, REFUSAL_ID)
    d.get(own.url("/hr"))
    wait(d, EC.visibility_of_element_located((By.ID, "hr-title")))
    assert "Not your section" not in d.find_element(By.TAG_NAME, "body").text
    shot(d, "refusal-04-mica-hr")
