"""Debian's headless chromium under selenium, and the steps the browser tests
share: signing in, waiting, reading a plot, picking a dropdown option."""
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from harness import ROOT

ARTIFACTS = ROOT / "tests/artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def start_browser():
    """A fresh profile each time: no cookie carries over from another test.
    Returns the driver and its profile directory."""
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
    return driver, profile


def stop_browser(driver, profile):
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
