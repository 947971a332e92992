import pytest

from harness import Dashboard, Stack


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def dashboard(workdir):
    d = Dashboard(workdir)
    yield d
    d.stop()


@pytest.fixture(scope="session")
def stack(dashboard):
    """The shipped nginx.conf template with the shipped demo users."""
    s = Stack(dashboard).start()
    yield s
    s.stop()


@pytest.fixture
def browser():
    """Headless chromium with a fresh profile (tests/chromium.py)."""
    from chromium import start_browser, stop_browser
    driver, profile = start_browser()
    yield driver
    stop_browser(driver, profile)


@pytest.fixture(scope="session")
def mike_cookie(stack):
    from harness import basic
    r = stack.get("/", headers=[f"Authorization: {basic('mike', '123456')}"])
    assert r.status == 200, r
    return r.cookie()


@pytest.fixture(scope="session")
def mica_cookie(stack):
    from harness import basic
    r = stack.get("/", headers=[f"Authorization: {basic('mica', '1234')}"])
    assert r.status == 200, r
    return r.cookie()
