"""Dash-aware enforcement: callback bodies, routing callbacks, responses, other endpoints.

Every deny case is paired with the same request allowed for a user who has the section,
so no test here can pass by denying everything.
"""
import copy
import json
import subprocess

import pytest

from harness import ROOT, Dashboard, Stack, basic, router_refusal

# Each test over HTTP/1.1 and over HTTP/2 (conftest.py).
pytestmark = pytest.mark.usefixtures("both_protocols")

EXAMPLES = ROOT / "dashboard/examples"
PASSWORDS = {"mica": "1234", "mike": "123456", "hana": "hana-pass", "mona": "mona-pass"}


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    """The demo users plus hana (hr only) and mona (marketing and hr)."""
    shipped = (ROOT / "nginx-conf/users").read_text()
    lines = [shipped]
    for name, sections in (("hana", "hr"), ("mona", "marketing,hr")):
        out = subprocess.run([str(ROOT / "target/release/dash-auth-passwd"), "-5", name, sections],
                             input=(PASSWORDS[name] + "\n").encode(), capture_output=True, check=True)
        lines.append(out.stdout.decode())
    p = tmp_path_factory.mktemp("users") / "users"
    p.write_text("".join(lines))
    return p


def start(dashboard, users, **env):
    """The shipped config for these users, its placeholders set from `env`."""
    return Stack(dashboard, users=users, env=env).start()


@pytest.fixture(scope="module")
def cb(dashboard, users):
    """The shipped config, plus a small body limit and a dependencies-filtering location."""
    s = start(dashboard, users, EXTRA_SERVER="dash_auth_callback_body_max 16k;\n\n"
                                             "location = /_dash-dependencies {\n"
                                             "    dash_auth_filter_dependencies on;\n"
                                             "    proxy_pass http://dashboard;\n"
                                             "    proxy_set_header X-Forwarded-User $dash_auth_user;\n"
                                             "}")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def cookies(cb):
    out = {}
    for user, password in PASSWORDS.items():
        r = cb.get("/", headers=[f"Authorization: {basic(user, password)}"])
        assert r.status == 200, user
        out[user] = r.cookie()
    return out


def post(stack, cookie, body, path="/_dash-update-component", content_type="application/json", method=None,
         extra=()):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = [f"Cookie: example_jwt={cookie}"]
    if content_type is not None:
        headers.append(f"Content-Type: {content_type}")
    return stack.get(path, method=method or "POST", data=data, headers=headers, extra=extra)


def passes_gateway(stack, cookie, body, **kw):
    """For requests the app itself may reject: the module let them through."""
    return post(stack, cookie, body, **kw).status not in (400, 401, 403, 413)


def expect(stack, cookies, body, allowed, denied, status=403, **kw):
    for user in denied:
        r = post(stack, cookies[user], body, **kw)
        assert r.status == status, (user, r.status, r.text[:200])
    for user in allowed:
        r = post(stack, cookies[user], body, **kw)
        assert r.status == 200, (user, r.status, r.text[:300])
    return r if allowed else None


def expect_route(stack, cookies, body, allowed, denied, **kw):
    """A router callback to a page: users refused it get the module's own Dash reply,
    the refusal where the page would be (and nothing of the page); the others the page."""
    for user in denied:
        r = post(stack, cookies[user], body, **kw)
        assert router_refusal(r), (user, r.status, r.text[:200])
        assert "hr-" not in r.text and "marketing-" not in r.text, r.text
    for user in allowed:
        r = post(stack, cookies[user], body, **kw)
        assert r.status == 200 and not router_refusal(r), (user, r.status, r.text[:300])
    return r if allowed else None


def router(path, search=""):
    body = example("router-hr")
    body["inputs"][0]["value"] = path
    body["inputs"][1]["value"] = search
    return body


# 1. The callback endpoint: every id in output, outputs, inputs and state.

def test_direct_hr_callback(cb, cookies):
    r = expect(cb, cookies, example("hr-slider"), allowed=["mica", "hana", "mona"], denied=["mike"])
    assert "hr-graph" in json.loads(r.body)["response"]


def test_every_marketing_control_works_for_mike(cb, cookies):
    for name in ("marketing-dropdown", "multi-output", "pattern-match", "pattern-all", "router-marketing",
                 "router-home"):
        r = post(cb, cookies["mike"], example(name))
        assert r.status == 200, (name, r.text[:200])


def test_marketing_callbacks_are_closed_to_hr_only_users(cb, cookies):
    expect(cb, cookies, example("marketing-dropdown"), allowed=["mike", "mona", "mica"], denied=["hana"])


def test_mixed_section_multi_output_needs_both(cb, cookies):
    expect(cb, cookies, example("mixed-sections"), allowed=["mona", "mica"], denied=["mike", "hana"])


def test_dict_id_input_from_hr(cb, cookies):
    body = example("pattern-match")
    body["inputs"][0]["id"] = {"index": 2, "type": "hr-budget"}
    expect(cb, cookies, body, allowed=["mona", "mica"], denied=["mike"])


def test_dict_id_output_key_from_hr(cb, cookies):
    body = example("pattern-match")
    body["outputs"]["id"]["type"] = "hr-item"
    expect(cb, cookies, body, allowed=[], denied=["mike", "hana"])
    assert passes_gateway(cb, cookies["mona"], body)


def test_state_and_all_inputs_are_checked(cb, cookies):
    body = example("pattern-all")
    body["inputs"][0].append({"id": {"index": 9, "type": "hr-budget"}, "property": "value", "value": 1})
    expect(cb, cookies, body, allowed=["mona", "mica"], denied=["mike"])
    # With the registry, an extra state entry is refused whatever its id
    # (Dash checks the count); the registry-less test below checks state ids.
    body = example("marketing-dropdown")
    body["state"] = [{"id": "hr-dept", "property": "value", "value": "sales"}]
    assert post(cb, cookies["mica"], body).status == 400


def test_escaped_json_is_decoded_before_comparing(cb, cookies):
    raw = json.dumps(example("hr-slider")).replace('"hr-slider"', '"\\u0068r-slider"').encode()
    assert b"\\u0068r-slider" in raw
    expect(cb, cookies, raw, allowed=["mica", "hana"], denied=["mike"])


# 2. Routing callbacks: decided by registered position, on the normalized path.

@pytest.mark.parametrize("path", ["/hr", "/HR", "//hr", "/hr/", "/%68r", "/hr?x=1", "/hr#top", "/hr/sub"])
def test_router_to_hr(cb, cookies, path):
    expect_route(cb, cookies, router(path), allowed=["mica", "hana"], denied=["mike"])


def test_router_path_naming_two_sections_needs_both(cb, cookies):
    # Read raw, "/marketing/../hr" names marketing; normalized, hr. Both count.
    expect_route(cb, cookies, router("/marketing/../hr"), allowed=["mica", "mona"], denied=["mike", "hana"])


def test_router_with_a_full_url(cb, cookies):
    # Dash itself fails on this value (500); the module must still refuse it first.
    expect_route(cb, cookies, router("https://evil.example/hr"), allowed=[], denied=["mike"])
    assert passes_gateway(cb, cookies["mica"], router("https://evil.example/hr"))


def test_router_to_marketing_and_home(cb, cookies):
    for path in ("/marketing", "/", "/nosuchpage"):
        assert post(cb, cookies["mike"], router(path)).status == 200, path


def test_relabelled_router_input(cb, cookies):
    # Dash reads inputs by position: position 0 is the pathname, whatever its label says.
    body = router("/hr", "")
    body["inputs"] = [
        {"id": "_pages_location", "property": "search", "value": "/hr"},
        {"id": "_pages_location", "property": "pathname", "value": "/marketing"},
    ]
    r = expect_route(cb, cookies, body, allowed=["mica", "hana"], denied=["mike"])
    assert "hr-graph" in r.text  # Dash did serve the hr page by position
    body["inputs"][0] = {"id": "home-anything", "property": "value", "value": "/hr"}
    expect_route(cb, cookies, body, allowed=["mica", "hana"], denied=["mike"])


def test_reordered_pathname_cannot_hide_behind_search(cb, cookies):
    body = router("/marketing", "/hr")
    assert post(cb, cookies["mike"], body).status == 200  # search is not a path input


def test_unknown_callback_is_refused(cb, cookies):
    body = example("marketing-dropdown")
    body["output"] = "marketing-nothing.children"
    body["outputs"] = {"id": "marketing-nothing", "property": "children"}
    for user in ("mike", "mica"):
        assert post(cb, cookies[user], body).status == 403
    assert post(cb, cookies["mica"], example("marketing-dropdown")).status == 200


# 3. Strict body parsing, fail closed.

def test_duplicate_keys(cb, cookies):
    good = json.dumps(example("marketing-dropdown"))
    dup = good.replace('"output": "marketing-graph.figure"',
                       '"output": "marketing-graph.figure", "output": "hr-graph.figure"').encode()
    assert dup.count(b'"output":') == 2
    for user in ("mike", "mica"):
        assert post(cb, cookies[user], dup).status in (400, 403), user
        assert post(cb, cookies[user], good.encode()).status == 200, user


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/vnd.api+json", "application/json; charset=utf-16"])
def test_wrong_content_type(cb, cookies, ctype):
    body = example("marketing-dropdown")
    assert post(cb, cookies["mica"], body, content_type=ctype).status in (400, 403, 415)
    assert post(cb, cookies["mica"], body, content_type="application/json; charset=UTF-8").status == 200


def test_utf16_body(cb, cookies):
    raw = json.dumps(example("marketing-dropdown")).encode("utf-16")
    assert post(cb, cookies["mica"], raw).status in (400, 403)


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"output": "x"} trailing', b"\xff\xfe",
                                 b'{"output": 1, "inputs": []}', b'{"inputs": []}'])
def test_malformed_bodies(cb, cookies, raw):
    assert post(cb, cookies["mica"], raw).status in (400, 403)
    assert cb.proc.poll() is None


def test_oversized_body_gets_413(cb, cookies):
    body = example("marketing-dropdown")
    body["inputs"][0]["value"] = "x" * 20000
    assert post(cb, cookies["mica"], body).status == 413
    # ... and the same body chunked (no Content-Length) too.
    assert post(cb, cookies["mica"], body, extra=["-H", "Transfer-Encoding: chunked"]).status == 413
    body["inputs"][0]["value"] = "social"
    assert post(cb, cookies["mica"], body, extra=["-H", "Transfer-Encoding: chunked"]).status == 200


def test_chunked_body_is_checked(cb, cookies):
    expect(cb, cookies, example("hr-slider"), allowed=["mica"], denied=["mike"],
           extra=["-H", "Transfer-Encoding: chunked"])


@pytest.mark.parametrize("directive", ["client_body_buffer_size 64;", "client_body_in_file_only clean;"])
def test_body_spooled_to_a_temp_file(dashboard, users, directive):
    s = start(dashboard, users, EXTRA_SERVER=directive)
    try:
        c = {u: s.get("/", headers=[f"Authorization: {basic(u, PASSWORDS[u])}"]).cookie() for u in ("mike", "mica")}
        expect(s, c, example("hr-slider"), allowed=["mica"], denied=["mike"])
        expect_route(s, c, router("/hr"), allowed=["mica"], denied=["mike"])
        assert post(s, c["mike"], example("marketing-dropdown")).status == 200
    finally:
        s.stop()


# 4. Responses: set_props (sideUpdate) into a forbidden section.

def test_set_props_into_hr_from_a_shared_callback(cb, cookies):
    r = expect(cb, cookies, example("home-setprops-hr"), allowed=["mica", "hana"], denied=["mike"])
    assert "hr-note" in r.text  # the reply really does write into hr
    assert "response refused" in cb.error_log


# 5. Other endpoints and spellings.

@pytest.mark.parametrize("path", ["//_dash-update-component", "/%5Fdash-update-component",
                                  "/_dash%2Dupdate-component", "/_dash-update-component?cacheKey=1&job=2"])
def test_callback_endpoint_under_another_spelling(cb, cookies, path):
    # For mica the app answers with the hr figure: Werkzeug did route this spelling
    # to the callback endpoint, so the check had to apply.
    r = expect(cb, cookies, example("hr-slider"), allowed=["mica"], denied=["mike"], path=path,
               extra=["--path-as-is"])
    assert "hr-graph" in r.text


@pytest.mark.parametrize("path", ["/x/../_dash-update-component", "/_DASH-update-component",
                                  "/_dash-update-component/", "/%2e/_dash-update-component"])
def test_spellings_nginx_normalizes_to_the_endpoint_are_checked(cb, cookies, path):
    expect(cb, cookies, example("hr-slider"), allowed=[], denied=["mike"], path=path, extra=["--path-as-is"])
    assert passes_gateway(cb, cookies["mica"], example("hr-slider"), path=path, extra=["--path-as-is"])


def test_other_methods_on_the_callback_endpoint_are_checked(cb, cookies):
    for method in ("PUT", "PATCH", "DELETE"):
        assert post(cb, cookies["mike"], example("hr-slider"), method=method).status == 403, method


def test_dependencies_filtered_per_user(cb, cookies):
    mike = cb.get("/_dash-dependencies", headers=[f"Cookie: example_jwt={cookies['mike']}"])
    mica = cb.get("/_dash-dependencies", headers=[f"Cookie: example_jwt={cookies['mica']}"])
    assert mike.status == mica.status == 200
    assert "hr-graph" in mica.text and "marketing-graph" in mica.text
    assert "hr-graph" not in mike.text and "hr-" not in mike.text
    assert "marketing-graph" in mike.text
    assert len(json.loads(mike.body)) < len(json.loads(mica.body))


def test_index_with_validation_layout_is_refused(tmp_path_factory, users):
    unsafe = Dashboard(tmp_path_factory.mktemp("unsafe"), env={"DASH_UNSAFE_VALIDATION_LAYOUT": "1"})
    s = start(unsafe, users)
    try:
        r = s.get("/", headers=[f"Authorization: {basic('mica', '1234')}"])
        assert r.status == 502
        assert "hr-graph" not in r.text
        assert "validation_layout" in s.error_log and "suppress_callback_exceptions" in s.error_log
    finally:
        s.stop()
        unsafe.stop()


def test_index_without_validation_layout_is_served(cb, cookies):
    r = cb.get("/", headers=[f"Cookie: example_jwt={cookies['mike']}"])
    assert r.status == 200 and "_dash-config" in r.text


def test_without_exported_registry_paths_in_values_are_still_checked(dashboard, users):
    s = start(dashboard, users, DEPENDENCIES="")
    try:
        assert not [l for l in s.conf.read_text().splitlines() if l.strip().startswith("dash_auth_dependencies_file")]
        c = {u: s.get("/", headers=[f"Authorization: {basic(u, PASSWORDS[u])}"]).cookie() for u in ("mike", "mica")}
        expect_route(s, c, router("/hr"), allowed=["mica"], denied=["mike"])
        body = router("/hr")
        body["inputs"][0]["property"] = "value"  # relabelled: the value still looks like a path
        expect_route(s, c, body, allowed=["mica"], denied=["mike"])
        assert post(s, c["mike"], router("/marketing")).status == 200
        body = example("marketing-dropdown")
        body["state"] = [{"id": "hr-dept", "property": "value", "value": "sales"}]
        expect(s, c, body, allowed=[], denied=["mike"])
        assert passes_gateway(s, c["mica"], body)
    finally:
        s.stop()
