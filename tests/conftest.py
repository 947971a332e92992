import pytest

from harness import Dashboard, Stack, over_http2


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def dashboard(workdir):
    d = Dashboard(workdir)
    yield d
    d.stop()


@pytest.fixture(scope="module", params=["http1.1", "h2"])
def both_protocols(request):
    """A module marked `usefixtures("both_protocols")` runs twice: its https requests
    over HTTP/1.1, then over HTTP/2, where bodies come in DATA frames and the
    Cookie header may come split in several."""
    if request.param == "h2":
        with over_http2():
            yield request.param
    else:
        yield request.param


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


_SESSIONS: dict[str, str] = {}


def _session(stack, user: str, password: str) -> str:
    """A session cookie of `user` on the shared stack, signed in once and
    reused while it lasts. Some tests sign users out on this stack (which
    ends every session of theirs): then the next test signs in again, so no
    test depends on the order the others ran in."""
    from harness import basic
    cookie = _SESSIONS.get(user)
    if cookie and stack.get("/", headers=[f"Cookie: example_jwt={cookie}"]).status == 200:
        return cookie
    r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
    assert r.status == 200, r
    _SESSIONS[user] = r.cookie()
    return _SESSIONS[user]


@pytest.fixture
def mike_cookie(stack):
    return _session(stack, "mike", "123456")


@pytest.fixture
def mica_cookie(stack):
    return _session(stack, "mica", "1234")
