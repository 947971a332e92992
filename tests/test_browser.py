"""A real browser (Debian's headless chromium, driven by selenium) against real
nginx + the module + the demo app: login page, return path, sections,
callbacks, logout, a session that ends while a dashboard is open, and a page
on another origin that tries to sign the browser in or out.

Each step saves a screenshot under tests/artifacts/ and checks something
visible on it.
"""
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chromium import ARTIFACTS, choose, graph_title, shot, sign_in, wait
from harness import ROOT, Stack, free_port, port_open, stop_group, wait_for


def test_mike_login_sections_callbacks_logout(stack, browser):
    d = browser
    d.get(stack.url("/hr"))
    wait(d, EC.url_contains("/login"))
    assert "return=/hr" in d.current_url
    wait(d, EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert d.find_element(By.TAG_NAME, "h1").text == "Sign in to the dashboard"
    shot(d, "01-mike-login-page")
    # The README's picture: refreshed on request, so runs leave the tree clean.
    doc = ROOT / "docs/login-page.png"
    if not doc.exists() or os.environ.get("DASH_AUTH_UPDATE_DOCS"):
        shutil.copy(ARTIFACTS / "01-mike-login-page.png", doc)

    sign_in(d, "mike", "wrong")
    wait(d, EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert "Wrong user name or password" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text
    shot(d, "02-mike-wrong-password")

    sign_in(d, "mike", "123456")
    wait(d, EC.url_matches(r"/hr$"))
    # The refusal page: who is signed in, and that hr is not his.
    assert d.find_element(By.TAG_NAME, "h1").text == "Not your section"
    assert d.find_element(By.ID, "user").text == "mike"
    assert d.find_element(By.ID, "section").text == "hr"
    assert d.find_element(By.ID, "sign-out").is_displayed()
    shot(d, "03-mike-hr-forbidden")

    d.get(stack.url("/"))
    wait(d, EC.element_to_be_clickable((By.ID, "nav-marketing"))).click()
    wait(d, EC.url_matches(r"/marketing$"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    links = [a.get_attribute("id") for a in d.find_elements(By.CSS_SELECTOR, "#nav-links a")]
    assert links == ["nav-home", "nav-marketing"], links
    shot(d, "04-mike-marketing")

    choose(d, "marketing-dropdown", "Social")
    wait(d, lambda d: graph_title(d, "marketing-graph") == "Monthly leads: social")
    shot(d, "05-mike-marketing-redrawn")

    old = d.get_cookie("example_jwt")["value"]
    assert stack.get("/marketing", headers=[f"Cookie: example_jwt={old}"]).status == 200
    # Opening the logout address shows a button and ends nothing.
    d.get(stack.url("/logout"))
    wait(d, EC.element_to_be_clickable((By.ID, "sign-out")))
    assert d.find_element(By.TAG_NAME, "h1").text == "Sign out of the dashboard"
    shot(d, "06a-mike-logout-page")
    assert d.get_cookie("example_jwt")["value"] == old
    assert stack.get("/marketing", headers=[f"Cookie: example_jwt={old}"]).status == 200
    # The navigation's button posts the logout form.
    d.get(stack.url("/marketing"))
    wait(d, EC.text_to_be_present_in_element((By.ID, "nav-user"), "Signed in as mike"))
    d.find_element(By.ID, "nav-sign-out").click()
    wait(d, EC.url_contains("/login"))
    assert d.get_cookie("example_jwt") is None
    wait(d, EC.visibility_of_element_located((By.ID, "username")))
    shot(d, "06-mike-logged-out")
    r = stack.get("/marketing", headers=[f"Cookie: example_jwt={old}"])
    assert r.status == 401


def test_mica_sees_every_section(stack, browser):
    d = browser
    d.get(stack.url("/marketing"))
    wait(d, EC.url_contains("/login"))
    sign_in(d, "mica", "1234")
    wait(d, EC.url_matches(r"/marketing$"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    links = [a.get_attribute("id") for a in d.find_elements(By.CSS_SELECTOR, "#nav-links a")]
    assert links == ["nav-home", "nav-marketing", "nav-hr"], links
    shot(d, "07-mica-marketing")
    d.find_element(By.ID, "nav-hr").click()
    wait(d, EC.url_matches(r"/hr$"))
    wait(d, EC.visibility_of_element_located((By.CSS_SELECTOR, "#hr-graph .main-svg")))
    assert d.find_element(By.ID, "hr-title").text == "HR"
    shot(d, "08-mica-hr")


def test_session_that_ends_on_an_open_page_leads_to_login(dashboard, browser):
    s = Stack(dashboard, env={"TOKEN_TTL": "5s", "SESSION_MAX_AGE": "5s"}).start()
    try:
        d = browser
        d.get(s.url("/marketing"))
        sign_in(d, "mica", "1234")
        wait(d, EC.url_matches(r"/marketing$"))
        assert graph_title(d, "marketing-graph") == "Monthly leads: email"
        shot(d, "09-short-session-open")
        time.sleep(6.5)
        choose(d, "marketing-dropdown", "Search")
        wait(d, EC.url_contains("/login"), timeout=20)
        assert "return=/marketing" in urllib.parse.unquote(d.current_url)
        wait(d, EC.visibility_of_element_located((By.ID, "username")))
        shot(d, "10-short-session-expired")
        sign_in(d, "mica", "1234")
        wait(d, EC.url_matches(r"/marketing$"))
        assert graph_title(d, "marketing-graph") == "Monthly leads: email"
        shot(d, "11-short-session-back")
    finally:
        s.stop()


FORGED = """<!DOCTYPE html>
<html><body>
<form id="forged" method="post" action="{action}">
  <input name="username" value="{user}"><input name="password" value="{password}">
  <input name="return" value="/marketing">
</form>
<img src="{logout}" alt="">
<script>document.getElementById("forged").submit();</script>
</body></html>
"""


def test_a_page_on_another_origin_cannot_sign_in_or_out(dashboard, browser, tmp_path):
    """A page on another origin (another port of 127.0.0.1, served by python's
    http.server) makes the browser post the login form with mike's password:
    no session may result. Then, with mica signed in on the real page (the
    twin), it posts the logout form and loads the logout address as an image:
    she stays signed in, until she presses the logout page's own button (the
    twin). A stack of its own, since mica signs out."""
    d = browser
    stack = Stack(dashboard).start()
    (tmp_path / "login.html").write_text(FORGED.format(
        action=stack.url("/login"), user="mike", password="123456", logout=stack.url("/logout")))
    (tmp_path / "logout.html").write_text(FORGED.format(
        action=stack.url("/logout"), user="", password="", logout=stack.url("/logout")))
    port = free_port()
    log = open(tmp_path / "http.server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(tmp_path)], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_for(lambda: port_open(port), 20, "http.server")
        evil = f"http://127.0.0.1:{port}"

        d.get(f"{evil}/login.html")
        wait(d, EC.url_contains(stack.origin()))
        wait(d, EC.presence_of_element_located((By.TAG_NAME, "body")))
        shot(d, "12-forged-login-refused")
        assert not any(c["name"] == "example_jwt" for c in d.get_cookies()), d.get_cookies()
        assert d.current_url == stack.url("/login")
        assert "403 Forbidden" in d.find_element(By.TAG_NAME, "body").text
        d.get(stack.url("/marketing"))
        wait(d, EC.url_contains("/login?return=/marketing"))
        wait(d, EC.visibility_of_element_located((By.ID, "username")))
        assert d.get_cookie("example_jwt") is None
        assert 'login form refused: Sec-Fetch-Site is "cross-site"' in stack.error_log

        # The twin: the same browser signs in on the module's own page.
        sign_in(d, "mica", "1234")
        wait(d, EC.url_matches(r"/marketing$"))
        assert graph_title(d, "marketing-graph") == "Monthly leads: email"
        token = d.get_cookie("example_jwt")["value"]

        d.get(f"{evil}/logout.html")
        wait(d, EC.url_contains(stack.origin()))
        wait(d, EC.presence_of_element_located((By.TAG_NAME, "body")))
        shot(d, "13-forged-logout-refused")
        assert (d.get_cookie("example_jwt") or {}).get("value") == token, d.get_cookies()
        assert d.current_url == stack.url("/logout")
        assert "403 Forbidden" in d.find_element(By.TAG_NAME, "body").text
        d.get(stack.url("/marketing"))
        wait(d, EC.url_matches(r"/marketing$"))
        assert graph_title(d, "marketing-graph") == "Monthly leads: email"
        assert stack.get("/marketing", headers=[f"Cookie: example_jwt={token}"]).status == 200
        assert "logout refused: " in stack.error_log

        # The logout page's own button does sign her out.
        d.get(stack.url("/logout"))
        wait(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
        wait(d, EC.url_contains("/login"))
        wait(d, EC.visibility_of_element_located((By.ID, "username")))
        shot(d, "14-signed-out-by-the-button")
        assert d.get_cookie("example_jwt") is None
        assert stack.get("/marketing", headers=[f"Cookie: example_jwt={token}"]).status == 401
    finally:
        stop_group(server, log)
        stack.stop()
