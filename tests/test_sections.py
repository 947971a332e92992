"""Sections by URL path: the first segment of nginx's normalized URI."""
import json

import pytest

from harness import ROOT

# Each test over HTTP/1.1 and over HTTP/2 (conftest.py).
pytestmark = pytest.mark.usefixtures("both_protocols")

HR_SPELLINGS = ["/hr", "/hr/", "/hr/x", "/HR", "//hr", "/marketing/../hr", "/%68r", "/hr?x=1", "/Hr/",
                "/./hr", "/marketing/%2e%2e/hr", "/%2Fhr"]
OPEN_PATHS = ["/", "/_dash-layout", "/_dash-dependencies", "/assets/none.css", "/nosuchsection"]


def cookie(c):
    return [f"Cookie: example_jwt={c}"]


@pytest.mark.parametrize("path", HR_SPELLINGS)
def test_mike_is_kept_out_of_hr(stack, mike_cookie, path):
    r = stack.get(path, headers=cookie(mike_cookie))
    assert r.status == 403, path


@pytest.mark.parametrize("path", HR_SPELLINGS)
def test_mica_opens_hr(stack, mica_cookie, path):
    r = stack.get(path, headers=cookie(mica_cookie))
    # Let through to Dash, which answers its index page (or a redirect for odd slashes).
    assert r.status in (200, 308), (path, r.status)


@pytest.mark.parametrize("path", ["/marketing", "/marketing/", "/MARKETING", "/hr/../marketing"])
def test_both_open_marketing(stack, mike_cookie, mica_cookie, path):
    for c in (mike_cookie, mica_cookie):
        assert stack.get(path, headers=cookie(c)).status == 200, path


@pytest.mark.parametrize("path", OPEN_PATHS)
def test_paths_outside_sections_are_open_to_every_signed_in_user(stack, mike_cookie, path):
    r = stack.get(path, headers=cookie(mike_cookie))
    assert r.status in (200, 404), path  # 404 from Dash itself, not a denial
    assert stack.get(path).status == 401, path


def test_forbidden_section_is_logged(stack, mike_cookie):
    stack.get("/hr", headers=cookie(mike_cookie))
    assert 'user "mike" may not access section "hr"' in stack.error_log


def test_forbidden_is_decided_before_the_upstream(stack, mike_cookie):
    stack.get("/hr?probe=forbidden-probe", headers=cookie(mike_cookie))
    line = stack.access_line("forbidden-probe")
    assert " 403 " in line and "upstream=-" in line and "mike" in line


def post_callback(stack, c, name):
    body = (ROOT / "dashboard/examples" / name).read_bytes()
    return stack.get("/_dash-update-component", method="POST", data=body,
                     headers=cookie(c) + ["Content-Type: application/json"])


def test_mike_drives_the_marketing_callback(stack, mike_cookie):
    r = post_callback(stack, mike_cookie, "marketing-dropdown.json")
    assert r.status == 200
    assert "marketing-graph" in json.loads(r.body)["response"]


def test_mica_drives_the_hr_callback(stack, mica_cookie):
    r = post_callback(stack, mica_cookie, "hr-slider.json")
    assert r.status == 200, r.text[:300]


def test_with_basic_on_every_request_sections_still_apply(stack):
    from harness import basic
    assert stack.get("/hr", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 403
    assert stack.get("/hr", headers=[f"Authorization: {basic('mica', '1234')}"]).status == 200


def test_the_token_in_a_second_cookie_header(stack, mike_cookie, mica_cookie):
    """Browsers send cookies over HTTP/2 as one `cookie` header each; a token after
    another cookie, in a header of its own, still counts."""
    split = ["Cookie: theme=dark; lang=en", f"Cookie: example_jwt={mike_cookie}"]
    assert stack.get("/marketing", headers=split).status == 200
    assert stack.get("/hr", headers=split).status == 403
    split = ["Cookie: theme=dark", f"Cookie: example_jwt={mica_cookie}", "Cookie: lang=en"]
    assert stack.get("/hr", headers=split).status == 200
    assert stack.get("/hr", headers=["Cookie: theme=dark", "Cookie: lang=en"]).status == 401
