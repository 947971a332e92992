"""A real browser (Debian's headless chromium, driven by selenium) against real
nginx + the module + the demo app: login page, return path, sections,
callbacks, logout, and a session that ends while a dashboard is open.

Each step saves a screenshot under tests/artifacts/ and checks something
visible on it.
"""
import os
import shutil
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chromium import ARTIFACTS, choose, graph_title, shot, sign_in, wait
from harness import ROOT, Stack


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
    d.get(stack.url("/logout"))
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
