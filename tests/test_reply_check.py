"""What leaves the app: every HTML or JSON reply to a user who lacks a section is
read for components of the sections they lack, whatever route answered it. A leak
on a page is the app's fault (502, and an error line for the operator); one in the
answer to a call is refused (403). Users with `_all_` get everything unchanged."""
import json
import re

import pytest

from harness import Dashboard, Stack, basic
from test_dash4_browser import router
from test_unchecked_routes import INITIALIZE, MCP_HEADERS

MIKE, MICA = ("mike", "123456"), ("mica", "1234")


def login(stack, who):
    # Not a page: the unsafe app refuses every page.
    r = stack.get("/_dash-layout", headers=[f"Authorization: {basic(*who)}"])
    assert r.status == 200, r
    return f"Cookie: example_jwt={r.cookie()}"


@pytest.fixture(scope="module")
def leaky_app(tmp_path_factory):
    d = Dashboard(tmp_path_factory.mktemp("leaky"), app="leaky_app:server")
    yield d
    d.stop()


@pytest.fixture(scope="module")
def leaky(leaky_app):
    s = Stack(leaky_app, env={"EXTRA_SERVER": "dash_auth_callback_response_max 64k;"}).start()
    yield s
    s.stop()


LEAK_LINE = 'user "mike": response refused: it carries a component of section "hr"'


@pytest.mark.parametrize("route", ["/api/layout", "/api/layout.html", "/api/chunked"])
def test_a_plugin_route_that_sends_a_layout(leaky, route):
    mike, mica = login(leaky, MIKE), login(leaky, MICA)
    r = leaky.get(f"{route}?path=/hr", headers=[mike])
    assert r.status == 502, r
    assert b"hr-title" not in r.body and b"hr-" not in r.body
    assert f"[error]" in leaky.error_log and LEAK_LINE in leaky.error_log
    # His own section's layout, by the same route, reaches him whole.
    r = leaky.get(f"{route}?path=/marketing", headers=[mike])
    assert r.status == 200, r
    assert b'"marketing-dropdown"' in r.body
    # mica sees every section.
    r = leaky.get(f"{route}?path=/hr", headers=[mica])
    assert r.status == 200, r
    assert b'"hr-title"' in r.body


def test_a_compressed_reply_cannot_be_read(leaky):
    mike, mica = login(leaky, MIKE), login(leaky, MICA)
    r = leaky.get("/api/gzip?path=/marketing", headers=[mike])
    assert r.status == 502, r
    assert 'user "mike": response refused: response is content-encoded' in leaky.error_log
    r = leaky.get("/api/gzip?path=/hr", headers=[mica])
    assert r.status == 200 and r.header("content-encoding") == "gzip", r


def test_an_event_stream_cannot_be_held(leaky):
    mike, mica = login(leaky, MIKE), login(leaky, MICA)
    r = leaky.get("/api/events?path=/marketing", headers=[mike])
    assert r.status == 403, r
    assert "an event stream cannot be held whole to be checked" in leaky.error_log
    r = leaky.get("/api/events?path=/hr", headers=[mica])
    assert r.status == 200 and b"hr-title" in r.body, r


def test_a_reply_over_the_bound_is_refused(leaky):
    mike, mica = login(leaky, MIKE), login(leaky, MICA)
    # 2500 rows are about 80 KB, over the 64k this server allows; 20 rows well under it.
    r = leaky.get("/api/big?rows=2500", headers=[mike])
    assert r.status == 502, r
    assert 'user "mike": response refused: response too large to check' in leaky.error_log
    assert leaky.get("/api/big?rows=20", headers=[mike]).status == 200
    r = leaky.get("/api/big?rows=2500", headers=[mica])
    assert r.status == 200 and len(r.body) > 64 * 1024, r


def test_scripts_and_layout_reach_mike(leaky):
    mike = login(leaky, MIKE)
    index = leaky.get("/marketing", headers=[mike])
    assert index.status == 200, index
    script = re.search(rb'src="(/_dash-component-suites/[^"]+)"', index.body).group(1).decode()
    r = leaky.get(script, headers=[mike])
    assert r.status == 200 and len(r.body) > 1000, r
    r = leaky.get("/_dash-layout", headers=[mike])
    assert r.status == 200 and b"_pages_content" in r.body, r


# The catch-all page route answers these GETs with the index page; with every
# page's layout in it when the app forgot suppress_callback_exceptions.
CATCH_ALL = ["/_dash-update-component", "/_dash-update-component/x", "/_dash-dependencies/x", "/"]


@pytest.fixture(scope="module")
def unsafe(tmp_path_factory):
    d = Dashboard(tmp_path_factory.mktemp("unsafe"), env={"DASH_UNSAFE_VALIDATION_LAYOUT": "1"})
    s = Stack(d).start()
    yield s
    s.stop()
    d.stop()


@pytest.mark.parametrize("path", CATCH_ALL)
def test_catch_all_gets_with_every_layout_are_refused(unsafe, stack, path):
    for who in (MIKE, MICA):
        r = unsafe.get(path, headers=[login(unsafe, who)])
        assert r.status == 502, (who, r)
        assert b"hr-title" not in r.body and b"validation_layout" not in r.body
    assert "set suppress_callback_exceptions=True" in unsafe.error_log
    # The same GETs to the demo app as shipped: its index page, nothing more.
    r = stack.get(path, headers=[login(stack, MIKE)])
    assert r.status == 200 and b"_dash-config" in r.body, r


def test_the_router_sending_a_page_of_another_section(dashboard):
    """Without `dash_auth_section_paths`, /people is in no section, so the request
    check lets its router callback through; the page's hr components in the reply
    still cannot reach mike."""
    s = Stack(dashboard, env={"SECTION_PATHS": ""}).start()
    try:
        mike, mica = login(s, MIKE), login(s, MICA)
        body = json.dumps(router("/people")).encode()
        headers = ["Content-Type: application/json"]
        r = s.get("/_dash-update-component", method="POST", headers=[mike, *headers], data=body)
        assert r.status == 403, r
        assert b"hr-people" not in r.body
        line = 'user "mike": response refused: callback reply: it carries a component of section "hr"'
        assert line in s.error_log, s.error_log
        # The request check had nothing against it: the reply check refused it.
        assert 'may not access section "hr"' not in s.error_log
        r = s.get("/_dash-update-component", method="POST", headers=[mica, *headers], data=body)
        assert r.status == 200 and b"hr-people-table" in r.body, r
        # Mike's own section's page, by the same router.
        r = s.get("/_dash-update-component", method="POST", headers=[mike, *headers],
                  data=json.dumps(router("/marketing")).encode())
        assert r.status == 200 and b"marketing-dropdown" in r.body, r
    finally:
        s.stop()


@pytest.fixture(scope="module")
def mcp_vouched(tmp_path_factory):
    d = Dashboard(tmp_path_factory.mktemp("mcp-vouched"), env={"DASH_MCP_ENABLED": "true"})
    s = Stack(d, env={"EXTRA_SERVER": "dash_auth_allow_unchecked /_mcp;"}).start()
    yield s
    s.stop()
    d.stop()


def mcp_call(stack, cookie, pathname):
    headers = [cookie, *MCP_HEADERS]
    r = stack.get("/_mcp", method="POST", headers=headers, data=INITIALIZE)
    assert r.status == 200, r
    session = r.header("mcp-session-id")
    if session:
        headers.append(f"Mcp-Session-Id: {session}")
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "update", "arguments": {"pathname_": pathname}}}
    return stack.get("/_mcp", method="POST", headers=headers, data=json.dumps(call).encode())


def test_mcp_let_through_still_cannot_send_a_section(mcp_vouched):
    mike, mica = login(mcp_vouched, MIKE), login(mcp_vouched, MICA)
    r = mcp_call(mcp_vouched, mike, "/hr")
    assert r.status == 403, r
    assert b"hr-title" not in r.body
    assert LEAK_LINE in mcp_vouched.error_log
    r = mcp_call(mcp_vouched, mike, "/marketing")
    assert r.status == 200 and b"marketing-dropdown" in r.body, r.body[:400]
    r = mcp_call(mcp_vouched, mica, "/hr")
    assert r.status == 200 and b"hr-title" in r.body, r.body[:400]
