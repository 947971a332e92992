"""Requests that can run app code the module cannot check (Dash's MCP server, WebSocket
callbacks, any non-GET route but the callback endpoint) are refused for a user who lacks
a section, and served to one with `_all_` or on a route the admin vouches for."""
import json

import pytest

from harness import Dashboard, Stack, basic

INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                         "params": {"protocolVersion": "2025-03-26", "capabilities": {},
                                    "clientInfo": {"name": "test", "version": "1"}}}).encode()
MCP_HEADERS = ["Content-Type: application/json", "Accept: application/json, text/event-stream"]
WEBSOCKET = ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]


@pytest.fixture(scope="module")
def mcp_app(tmp_path_factory):
    # Dash 4.3+ serves MCP from this variable alone, no code change.
    d = Dashboard(tmp_path_factory.mktemp("mcp"), env={"DASH_MCP_ENABLED": "true"})
    yield d
    d.stop()


def login(stack, user, password):
    r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
    assert r.status == 200, r
    return f"Cookie: example_jwt={r.cookie()}"


@pytest.fixture(scope="module")
def mcp(mcp_app):
    s = Stack(mcp_app).start()
    yield s
    s.stop()


def mcp_post(stack, cookie):
    return stack.get("/_mcp", method="POST", headers=[cookie, *MCP_HEADERS], data=INITIALIZE)


def test_mcp_is_refused_to_a_partial_grant_and_served_to_all(mcp):
    mike, mica = login(mcp, "mike", "123456"), login(mcp, "mica", "1234")
    r = mcp_post(mcp, mike)
    assert r.status == 403, r
    assert b"jsonrpc" not in r.body
    line = 'user "mike": request to "/_mcp" refused: it can run app code the module cannot check'
    assert line in mcp.error_log
    r = mcp_post(mcp, mica)
    assert r.status == 200, r
    assert b"jsonrpc" in r.body and b"serverInfo" in r.body, r.body[:300]


def test_websocket_upgrade_is_refused_to_a_partial_grant(mcp):
    mike, mica = login(mcp, "mike", "123456"), login(mcp, "mica", "1234")
    r = mcp.get("/_dash-ws-callback", headers=[mike, *WEBSOCKET])
    assert r.status == 403, r
    assert 'user "mike": upgrade to "/_dash-ws-callback" refused' in mcp.error_log
    # The same upgrade from mica reaches the app (this backend has no WebSocket route).
    r = mcp.get("/_dash-ws-callback", headers=[mica, *WEBSOCKET])
    assert r.status not in (401, 403), r


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS"])
def test_other_methods_off_the_callback_endpoint(mcp, method):
    mike, mica = login(mcp, "mike", "123456"), login(mcp, "mica", "1234")
    assert mcp.get("/marketing", method=method, headers=[mike]).status == 403, method
    assert mcp.get("/marketing", method=method, headers=[mica]).status not in (401, 403), method
    # Reading stays open to mike, in his section.
    assert mcp.get("/marketing", headers=[mike]).status == 200


def test_a_vouched_route_goes_through(mcp_app):
    s = Stack(mcp_app, env={"EXTRA_SERVER": "dash_auth_allow_unchecked /_mcp /hooks/*;"}).start()
    try:
        mike = login(s, "mike", "123456")
        r = mcp_post(s, mike)
        assert r.status == 200, r
        # Only what is listed: another route is still refused, and still open to mica.
        assert s.get("/api/x", method="POST", headers=[mike], data=b"{}").status == 403
        mica = login(s, "mica", "1234")
        assert s.get("/api/x", method="POST", headers=[mica], data=b"{}").status not in (401, 403)
    finally:
        s.stop()


@pytest.mark.parametrize("bad", ["_mcp", "/a?b", "/a/../b", "//a", "/*/x"])
def test_allow_unchecked_is_validated(mcp_app, bad):
    s = Stack(mcp_app, env={"EXTRA_SERVER": f"dash_auth_allow_unchecked /ok {bad};"})
    good = Stack(mcp_app, env={"EXTRA_SERVER": "dash_auth_allow_unchecked /ok /hooks/*;"})
    try:
        r = s.test_config()
        assert r.returncode != 0
        assert f'"dash_auth_allow_unchecked" directive has invalid parameter "{bad}"' in r.stderr, r.stderr
        assert f"{s.conf}:" in r.stderr
        assert good.test_config().returncode == 0
    finally:
        s.stop()
        good.stop()
