"""`dash_auth_section_paths`: page paths that belong to a section although their first
segment is not its name (`hr` owning `/people`). Both the path of a page request and the
`use_pages` router's `pathname` resolve to the section; every denial has an allowed twin.

The shipped config gives the demo's staff directory (`/people`) to hr through the
SECTION_PATHS placeholder; the tests here set it to their own list. The other paths have
no page in the demo: for mica, Dash answers them with its index page, or its router with
its 404 content. What is tested is that the module refuses mike and lets mica through,
not what the app then shows.
"""
import json

import pytest

from harness import ROOT, Stack, basic, router_refusal

PATHS = "dash_auth_section_paths hr /people /human-resources /org/staff;"
HR_PAGES = ["/people", "/people/", "/people/x", "/PEOPLE", "/People/Team", "//people", "/%70eople",
            "/marketing/../people", "/people?x=1", "/human-resources", "/Human-Resources/q",
            "/org/staff", "/org//staff/alice", "/org/Staff/"]
NOT_HR = ["/peoplex", "/people-x", "/x/people", "/org", "/org/staffx", "/org/x/staff"]


def login(stack, user, password):
    r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
    assert r.status == 200, r
    return f"Cookie: example_jwt={r.cookie()}"


def users(stack):
    return login(stack, "mike", "123456"), login(stack, "mica", "1234")


@pytest.fixture(scope="module")
def paged(dashboard):
    s = Stack(dashboard, env={"SECTION_PATHS": PATHS}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def cookies(paged):
    return users(paged)


def router(path):
    body = json.loads((ROOT / "dashboard/examples/router-hr.json").read_text())
    body["inputs"][0]["value"] = path
    return json.dumps(body).encode()


def post_router(stack, cookie, path):
    return stack.get("/_dash-update-component", method="POST", data=router(path),
                     headers=[cookie, "Content-Type: application/json"])


# 1. The path of a page request, at nginx.

@pytest.mark.parametrize("path", HR_PAGES)
def test_page_path_is_the_section(paged, cookies, path):
    mike, mica = cookies
    assert paged.get(path, headers=[mike]).status == 403, path
    # Dash serves its index page for any path (or redirects odd slashes).
    assert paged.get(path, headers=[mica]).status in (200, 308), path


def test_denial_is_logged_under_the_section_name(paged, cookies):
    mike, mica = cookies
    paged.get("/people?probe=people-probe-mike", headers=[mike])
    line = paged.access_line("people-probe-mike")
    assert " 403 " in line and "upstream=-" in line
    assert 'user "mike" may not access section "hr"' in paged.error_log
    paged.get("/people?probe=people-probe-mica", headers=[mica])
    line = paged.access_line("people-probe-mica")
    assert " 200 " in line and "upstream=-" not in line


@pytest.mark.parametrize("path", NOT_HR)
def test_whole_segments_only(paged, cookies, path):
    mike, _ = cookies
    assert paged.get(path, headers=[mike]).status in (200, 404), path


def test_sections_own_names_still_work(paged, cookies):
    mike, mica = cookies
    assert paged.get("/hr", headers=[mike]).status == 403
    assert paged.get("/hr", headers=[mica]).status == 200
    assert paged.get("/marketing", headers=[mike]).status == 200


def test_shipped_config_gives_the_staff_directory_to_hr(stack, mike_cookie, mica_cookie):
    assert stack.get("/people", headers=[f"Cookie: example_jwt={mike_cookie}"]).status == 403
    assert stack.get("/people", headers=[f"Cookie: example_jwt={mica_cookie}"]).status == 200


def test_without_the_directive_the_page_is_nobodys(dashboard):
    s = Stack(dashboard, env={"SECTION_PATHS": ""}).start()
    try:
        mike, _ = users(s)
        assert s.get("/people", headers=[mike]).status == 200
        # Paths with no page in the demo: the router's reply carries no hr
        # component, so only the request check could refuse them.
        for path in ("/people/x", "/human-resources"):
            r = post_router(s, mike, path)
            assert r.status == 200 and not router_refusal(r), path
    finally:
        s.stop()


# 2. The `use_pages` router callback: `_pages_location.pathname`.

@pytest.mark.parametrize("path", ["/people", "/People/", "/people/x", "/x/../people", "/%70eople",
                                  "https://evil.example/people", "/human-resources", "/org/staff/alice"])
def test_router_to_a_page_path(paged, cookies, path):
    mike, mica = cookies
    r = post_router(paged, mike, path)
    # The module's own reply, the refusal in the page's place: nothing of the page.
    assert router_refusal(r), (path, r.status)
    assert b"hr-" not in r.body
    r = post_router(paged, mica, path)
    assert r.status not in (400, 401, 403, 413), (path, r.status)


def test_router_denial_is_the_request_check_and_twin_is_served(paged, cookies):
    mike, mica = cookies
    line = 'user "mike": callback routes to section "hr" through "route"'
    for path in ("/people", "/human-resources"):
        before = paged.error_log.count(line)
        assert router_refusal(post_router(paged, mike, path)), path
        # Refused before the app was asked, not by the check of its reply.
        assert paged.error_log.count(line) == before + 1, path
        r = post_router(paged, mica, path)
        assert r.status == 200 and "_pages_content" in r.text, (path, r.text[:200])
    # The staff directory itself, for mica.
    assert "hr-people" in post_router(paged, mica, "/people").text


@pytest.mark.parametrize("path", ["/peoplex", "/x/people", "/org", "/marketing"])
def test_router_to_other_paths_stays_open(paged, cookies, path):
    mike, _ = cookies
    r = post_router(paged, mike, path)
    assert r.status == 200 and not router_refusal(r), path


# 3. Inheritance, as nginx's own array directives: a level that writes any replaces.

def test_inherited_from_http(dashboard):
    s = Stack(dashboard, env={"SECTION_PATHS": "", "EXTRA_HTTP": "dash_auth_section_paths hr /people;"}).start()
    try:
        mike, mica = users(s)
        assert s.get("/people", headers=[mike]).status == 403
        assert s.get("/people", headers=[mica]).status == 200
        assert router_refusal(post_router(s, mike, "/people"))
        assert post_router(s, mica, "/people").status == 200
    finally:
        s.stop()


def test_a_location_that_writes_its_own_replaces_the_servers(dashboard):
    s = Stack(dashboard, env={"SECTION_PATHS": "dash_auth_section_paths hr /people;",
                              "EXTRA_LOCATION": "dash_auth_section_paths hr /staff;"}).start()
    try:
        mike, mica = users(s)
        assert s.get("/staff", headers=[mike]).status == 403
        assert s.get("/staff", headers=[mica]).status == 200
        assert s.get("/people", headers=[mike]).status == 200
    finally:
        s.stop()


# 4. `nginx -t`: each fault with [emerg], file:line and the problem; each with a valid twin.

def lines_of(stack, directive):
    return [i for i, line in enumerate(stack.conf.read_text().splitlines(), 1)
            if line.strip().startswith(directive + " ")]


def fails(dashboard, env, *want):
    s = Stack(dashboard, env=env)
    try:
        r = s.test_config()
        assert r.returncode != 0, env
        assert "[emerg]" in r.stderr, r.stderr
        lines = lines_of(s, "dash_auth_section_paths")
        for w in want:
            w = w.format(conf=s.conf, line=lines[0] if lines else None, last=lines[-1] if lines else None)
            assert w in r.stderr, (w, r.stderr)
        return r.stderr
    finally:
        s.stop()


def passes(dashboard, env):
    s = Stack(dashboard, env=env)
    try:
        r = s.test_config()
        assert r.returncode == 0, r.stderr
    finally:
        s.stop()


def test_unknown_section_fails_naming_the_directive(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths finance /money;"},
          '"dash_auth_section_paths" at {conf}:{line}: section "finance" is not in the "dash_auth_sections" in effect')
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /money;"})
    passes(dashboard, {"SECTIONS": "marketing hr finance", "SECTION_PATHS": "dash_auth_section_paths finance /money;"})


def test_sections_narrowed_below_inherited_paths_fail(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;",
                      "EXTRA_LOCATION": "dash_auth_sections marketing;"},
          '"dash_auth_section_paths" at {conf}:{line}: section "hr" is not in the "dash_auth_sections" in effect')
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;",
                       "EXTRA_LOCATION": "dash_auth_sections marketing;\ndash_auth_section_paths marketing /people;"})


@pytest.mark.parametrize("path,inside,twin", [("/marketing", "marketing", "/marketingx"),
                                              ("/Marketing/report", "marketing", "/marketing-report"),
                                              ("/hr/people", "hr", "/hr-people")])
def test_a_path_inside_a_sections_name_fails(dashboard, path, inside, twin):
    fails(dashboard, {"SECTION_PATHS": f"dash_auth_section_paths hr {path};"},
          f'"dash_auth_section_paths" at {{conf}}:{{line}}: path "{path.lower()}" of section "hr" '
          f'is a page of section "{inside}" already')
    passes(dashboard, {"SECTION_PATHS": f"dash_auth_section_paths hr {twin};"})


@pytest.mark.parametrize("bad", ["people", "/", "/people/", "//people", "/a/../b", "/a/./b", "/a%20b", "/a?b",
                                 "/a#b", '"/a b"', "/a\\\\b", "/café", "/a:b"])
def test_invalid_path_fails(dashboard, bad):
    # As the message shows it: nginx has unquoted it, the module escapes a backslash.
    shown = bad.strip('"')
    fails(dashboard, {"SECTION_PATHS": f"dash_auth_section_paths hr /ok {bad};"},
          f'"dash_auth_section_paths" directive has invalid path "{shown}"', "in {conf}:{line}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /ok /a-b/c_d/e.f~g;"})


def test_dash_endpoint_fails(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /_dash-update-component;"},
          '"dash_auth_section_paths" directive has invalid path "/_dash-update-component": '
          "it is one of Dash's own endpoints in {conf}:{line}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /dash-update-component;"})


def test_duplicate_path_across_sections_fails(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;\n"
                                      "dash_auth_section_paths marketing /People;"},
          '"dash_auth_section_paths" directive has duplicate path "/people" (section "hr" at {conf}:{line}) '
          "in {conf}:{last}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;\n"
                                       "dash_auth_section_paths marketing /peoples;"})


def test_overlapping_paths_fail(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;\n"
                                      "dash_auth_section_paths marketing /people/sales;"},
          '"dash_auth_section_paths" directive has path "/people/sales", which overlaps "/people" of section "hr" '
          "at {conf}:{line} in {conf}:{last}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people/staff;\n"
                                       "dash_auth_section_paths marketing /people/sales;"})


def test_same_section_twice_at_one_level_fails(dashboard):
    fails(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people;\ndash_auth_section_paths hr /staff;"},
          '"dash_auth_section_paths" directive lists section "hr" again (first at {conf}:{line})', "in {conf}:{last}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths hr /people /staff;"})


@pytest.mark.parametrize("directive,want", [
    ("dash_auth_section_paths h-r /people;", 'invalid section name "h-r"'),
    ("dash_auth_section_paths _all_ /people;", 'section name "_all_" is reserved'),
    ("dash_auth_section_paths hr;", 'invalid number of arguments in "dash_auth_section_paths" directive'),
])
def test_bad_section_argument_fails(dashboard, directive, want):
    fails(dashboard, {"SECTION_PATHS": directive}, want, "in {conf}:{line}")
    passes(dashboard, {"SECTION_PATHS": "dash_auth_section_paths HR /people;"})
