"""A real browser (Debian's headless chromium, driven by selenium) against real
nginx + the module + the demo app: login page, return path, sections,
callbacks, logout, and a session that ends while a dashboard is open.

Each step saves a screenshot under tests/artifacts/ and checks something
visible on it.
"""
import os
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from harness import ROOT, Stack

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = ROOT / "tests/artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("chromium and chromium-driver are required (scripts/setup.sh installs them)")
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tempfile.mkdtemp(prefix="dash-auth-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--ignore-certificate-errors", "--window-size=1280,900", f"--user-data-dir={profile}"]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name):
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait(driver, cond, timeout=30):
    return WebDriverWait(driver, timeout).until(cond)


def sign_in(driver, user, password):
    wait(driver, EC.visibility_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def graph_title(driver, graph_id):
    return wait(driver, EC.visibility_of_element_located(
        (By.CSS_SELECTOR, f"#{graph_id} .gtitle"))).text


def choose(driver, dropdown_id, label):
    """Picks an option of a dcc.Dropdown as a user does: open it, click the option."""
    driver.find_element(By.ID, dropdown_id).click()
    option = wait(driver, EC.element_to_be_clickable(
        (By.XPATH, f"//*[@role='option'][normalize-space()='{label}'] | "
                   f"//*[contains(@class,'option')][normalize-space()='{label}']")))
    option.click()


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
    assert "403 Forbidden" in d.find_element(By.TAG_NAME, "body").text
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
