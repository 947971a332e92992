"""Dash 4 features of the demo app behind the module, with no false denial:
a background callback (progress, running, cancel), a page with a
`path_template`, a `redirect_from` route, a clientside callback, and a
section page at a path other than its section's name (`/people`, section hr).

First with curl, request by request, then in Debian's headless chromium, as
mica (every section) and mike (marketing only) use them. Every refusal has a
twin that the other user, or the same user in his section, gets through.

`/people` is section hr because the shipped config says so
(`dash_auth_section_paths hr /people;`, the SECTION_PATHS placeholder).
"""
import html as htmllib
import json
import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chromium import choose, graph_title, shot, sign_in, wait
from harness import REFUSAL_ID, basic, router_refusal

PASSWORDS = {"mica": "1234", "mike": "123456"}
# dashboard/pages/marketing.py: 8 steps of 0.5 s.
RUN_SECONDS = 4.0
ATTRIBUTION = {
    "output": "marketing-attribution-result.children",
    "outputs": {"id": "marketing-attribution-result", "property": "children"},
    "inputs": [{"id": "marketing-attribution-run", "property": "n_clicks", "value": 1}],
    "state": [{"id": "marketing-months", "property": "value", "value": 6},
              {"id": "marketing-attribution-token", "property": "data", "value": "curl-run"}],
    "changedPropIds": ["marketing-attribution-run.n_clicks"],
    "parsedChangedPropsIds": ["marketing-attribution-run.n_clicks"],
}
CANCEL = {
    "output": "marketing-attribution-cancel.id",
    "outputs": {"id": "marketing-attribution-cancel", "property": "id"},
    "inputs": [{"id": "marketing-attribution-cancel", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["marketing-attribution-cancel.n_clicks"],
    "parsedChangedPropsIds": ["marketing-attribution-cancel.n_clicks"],
}
HR_GRAPH = {
    "output": "hr-graph.figure",
    "outputs": {"id": "hr-graph", "property": "figure"},
    "inputs": [{"id": "hr-slider", "property": "value", "value": 5},
               {"id": "hr-dept", "property": "value", "value": "sales"}],
    "changedPropIds": ["hr-slider.value"],
    "parsedChangedPropsIds": ["hr-slider.value"],
}
ROUTER = {
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
    "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
               {"id": "_pages_location", "property": "search", "value": ""}],
    "changedPropIds": ["_pages_location.pathname"],
    "parsedChangedPropsIds": ["_pages_location.pathname"],
}


@pytest.fixture(scope="module")
def cookies(stack):
    out = {}
    for user, password in PASSWORDS.items():
        r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
        assert r.status == 200, user
        out[user] = f"Cookie: example_jwt={r.cookie()}"
    return out


def end_id(stack, cookie):
    """The signed page-load token the renderer echoes as `endId`: Dash binds
    background jobs' handles to it."""
    r = stack.get("/marketing", headers=[cookie])
    assert r.status == 200, r
    m = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', r.text, re.S)
    return json.loads(htmllib.unescape(m.group(1)))["end_id"]


def post(stack, cookie, body, query=""):
    return stack.get("/_dash-update-component" + query, method="POST", data=json.dumps(body).encode(),
                     headers=[cookie, "Content-Type: application/json"])


def nulled(body):
    """A poll's body, as Dash >= 3.0.2 sends it: the same callback, every value null."""
    body = json.loads(json.dumps(body))
    for item in body["inputs"] + body.get("state", []):
        item["value"] = None
    return body


def start_run(stack, cookie, token):
    eid = end_id(stack, cookie)
    body = json.loads(json.dumps(ATTRIBUTION))
    body["state"][1]["value"] = token
    r = post(stack, cookie, body, f"?endId={eid}")
    assert r.status == 200, r.text[:300]
    job = json.loads(r.body)
    assert set(job) >= {"cacheKey", "job", "cancel"}, job
    return eid, job, f"?endId={eid}&cacheKey={job['cacheKey']}&job={job['job']}"


def poll_to_end(stack, cookie, query):
    """Polls as the renderer does until the job answers; returns the replies."""
    replies = []
    deadline = time.monotonic() + RUN_SECONDS + 20
    while time.monotonic() < deadline:
        r = post(stack, cookie, nulled(ATTRIBUTION), query)
        assert r.status in (200, 204), (r.status, r.text[:300])
        replies.append(r)
        if r.status == 204 or "response" in json.loads(r.body):
            return replies
        time.sleep(0.3)
    raise AssertionError("the background job never answered")


def job_alive(job_handle):
    pid = int(job_handle.split("~", 1)[0])
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def router(path):
    body = json.loads(json.dumps(ROUTER))
    body["inputs"][0]["value"] = path
    return body


# Curl, request by request.

@pytest.mark.parametrize("user", ["mike", "mica"])
def test_background_start_and_polls_pass(stack, cookies, user):
    _, job, query = start_run(stack, cookies[user], f"curl-{user}")
    replies = poll_to_end(stack, cookies[user], query)
    progress = [json.loads(r.body)["progress"] for r in replies if r.status == 200 and "progress" in r.text]
    assert progress, [r.text[:200] for r in replies]
    assert all(set(p) == {"marketing-attribution-progress.value", "marketing-attribution-progress.max",
                          "marketing-attribution-status.children"} for p in progress), progress
    assert "step" in progress[0]["marketing-attribution-status.children"]
    last = json.loads(replies[-1].body)
    assert "Run 1: attribution over 6 month(s)" in json.dumps(last["response"]), last
    assert not job_alive(job["job"])


def test_cancel_passes_for_mike_and_ends_the_job(stack, cookies):
    mike = cookies["mike"]
    eid, job, query = start_run(stack, mike, "curl-cancel")
    assert post(stack, mike, nulled(ATTRIBUTION), query).status == 200
    assert job_alive(job["job"])
    r = post(stack, mike, CANCEL, f"?endId={eid}&cancelJob={job['job']}")
    assert r.status in (200, 204), (r.status, r.text[:300])
    # A cancelled job never answers: the renderer's next poll is told there is nothing to update.
    replies = poll_to_end(stack, mike, query)
    assert replies[-1].status == 204, replies[-1].text[:300]
    assert not job_alive(job["job"])
    time.sleep(RUN_SECONDS)
    r = post(stack, mike, nulled(ATTRIBUTION), query)
    assert r.status == 204 and "Run 1" not in r.text, r.text[:300]


def test_marketing_job_polled_as_an_hr_callback_is_refused_for_mike(stack, cookies):
    mike, mica = cookies["mike"], cookies["mica"]
    _, _, query = start_run(stack, mike, "curl-as-hr-mike")
    r = post(stack, mike, nulled(HR_GRAPH), query)
    assert r.status == 403, (r.status, r.text[:300])
    assert "hr-graph" not in r.text
    assert 'user "mike": callback writes to section "hr"' in stack.error_log
    # The same job polled as itself still goes through for him.
    assert "Run 1" in json.dumps(json.loads(poll_to_end(stack, mike, query)[-1].body))
    # mica, with every section, gets the hr callback with a job's handles through.
    _, _, query = start_run(stack, mica, "curl-as-hr-mica")
    r = post(stack, mica, HR_GRAPH, query)
    assert r.status == 200, (r.status, r.text[:300])
    assert "hr-graph" in json.loads(r.body)["response"]
    poll_to_end(stack, mica, query)


@pytest.mark.parametrize("user", ["mike", "mica"])
def test_path_template_page_through_the_router(stack, cookies, user):
    r = post(stack, cookies[user], router("/marketing/report/summer-sale"))
    assert r.status == 200, r.text[:300]
    text = json.dumps(json.loads(r.body)["response"])
    assert "marketing-report-id" in text and "summer-sale" in text and "Campaign report: Summer sale" in text
    body = {"output": "marketing-report-graph.figure",
            "outputs": {"id": "marketing-report-graph", "property": "figure"},
            "inputs": [{"id": "marketing-report-metric", "property": "value", "value": "cumulative"},
                       {"id": "marketing-report-campaign", "property": "data", "value": "summer-sale"}],
            "changedPropIds": ["marketing-report-metric.value"],
            "parsedChangedPropsIds": ["marketing-report-metric.value"]}
    r = post(stack, cookies[user], body)
    assert r.status == 200, r.text[:300]
    assert "Cumulative leads: Summer sale" in r.text


def test_redirect_from_routes(stack, cookies):
    mike, mica = cookies["mike"], cookies["mica"]
    for c in (mike, mica):
        r = stack.get("/marketing/campaigns", headers=[c])
        assert r.status == 301 and r.header("Location") == "/marketing", r
    # The hr page's old address is under /hr: refused to mike before Dash redirects.
    r = stack.get("/hr/directory", headers=[mike])
    assert r.status == 403 and r.header("Location") is None, r
    r = stack.get("/hr/directory", headers=[mica])
    assert r.status == 301 and r.header("Location") == "/people", r


def test_staff_directory_callback_needs_hr(stack, cookies):
    body = {"output": "..hr-people-rows.children...hr-people-count.children..",
            "outputs": [{"id": "hr-people-rows", "property": "children"},
                        {"id": "hr-people-count", "property": "children"}],
            "inputs": [{"id": "hr-people-dept", "property": "value", "value": "sales"}],
            "changedPropIds": ["hr-people-dept.value"], "parsedChangedPropsIds": ["hr-people-dept.value"]}
    r = post(stack, cookies["mike"], body)
    assert r.status == 403, (r.status, r.text[:300])
    r = post(stack, cookies["mica"], body)
    assert r.status == 200 and "3 people" in r.text, r.text[:300]


def test_people_is_section_hr_by_path(stack, cookies):
    r = stack.get("/people", headers=[cookies["mike"]])
    assert r.status == 403, (r.status, "is dash_auth_section_paths hr /people; in the config?")
    assert 'user "mike" may not access section "hr"' in stack.error_log
    assert stack.get("/people", headers=[cookies["mica"]]).status == 200


def test_people_is_section_hr_in_the_router(stack, cookies):
    r = post(stack, cookies["mike"], router("/people"))
    assert router_refusal(r), (r.status, r.text[:200], "is dash_auth_section_paths hr /people; in the config?")
    assert "hr-people" not in r.text
    r = post(stack, cookies["mica"], router("/people"))
    assert r.status == 200 and "hr-people-table" in r.text, r.text[:300]


# Chromium, as a person uses the dashboard.

def callback_requests(d):
    """The callback requests this page has made so far: [(url, status), ...]."""
    return d.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/_dash-update-component'))"
        ".map(e => [e.name, e.responseStatus]);")


def push_path(d, path):
    """What a dcc.Link does: a pushState, then the event dcc.Location listens for."""
    d.execute_script("window.history.pushState({}, '', arguments[0]);"
                     "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));", path)


def text_of(d, element_id):
    return d.find_element(By.ID, element_id).text


def show(d, element_id):
    """Scrolls an element to the middle of the window, for the screenshot."""
    d.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'center'});", element_id)


def enabled(d, element_id):
    return d.find_element(By.ID, element_id).is_enabled()


def drive_marketing(d, stack, user):
    # Signing in from an old bookmark: the login returns to it, and Dash's
    # redirect_from route sends the browser on to the marketing page.
    d.get(stack.url("/marketing/campaigns"))
    wait(d, EC.url_contains("/login"))
    sign_in(d, user, PASSWORDS[user])
    wait(d, EC.url_matches(r"/marketing$"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    d.execute_script("performance.setResourceTimingBufferSize(10000);")
    shot(d, f"dash4-{user}-01-marketing")

    # The background callback: running disables Run and enables Cancel, progress
    # is shown, then the result.
    run = wait(d, EC.element_to_be_clickable((By.ID, "marketing-attribution-run")))
    run.click()
    wait(d, lambda d: "step" in text_of(d, "marketing-attribution-status"))
    assert not enabled(d, "marketing-attribution-run") and enabled(d, "marketing-attribution-cancel")
    value = int(d.find_element(By.ID, "marketing-attribution-progress").get_attribute("value"))
    assert 1 <= value <= 8, value
    show(d, "marketing-attribution-progress")
    shot(d, f"dash4-{user}-02-progress")
    wait(d, lambda d: "Run 1: attribution over 6 month(s)" in text_of(d, "marketing-attribution-result"))
    assert "email:" in text_of(d, "marketing-attribution-result")
    wait(d, lambda d: enabled(d, "marketing-attribution-run"))
    assert not enabled(d, "marketing-attribution-cancel")
    show(d, "marketing-attribution-result")
    shot(d, f"dash4-{user}-03-result")
    polls = [(u, s) for u, s in callback_requests(d) if "cacheKey=" in u]
    assert polls and all(s == 200 for _, s in polls), polls

    # Start again and cancel: the second run never lands.
    d.find_element(By.ID, "marketing-attribution-run").click()
    wait(d, lambda d: "step" in text_of(d, "marketing-attribution-status"))
    wait(d, EC.element_to_be_clickable((By.ID, "marketing-attribution-cancel"))).click()
    wait(d, lambda d: enabled(d, "marketing-attribution-run"))
    assert not enabled(d, "marketing-attribution-cancel")
    time.sleep(RUN_SECONDS + 1)
    result = text_of(d, "marketing-attribution-result")
    assert "Run 1:" in result and "Run 2" not in result, result
    assert "step" not in text_of(d, "marketing-attribution-status")
    cancels = [(u, s) for u, s in callback_requests(d) if "cancelJob=" in u]
    assert cancels and all(s in (200, 204) for _, s in cancels), cancels
    refused = [(u, s) for u, s in callback_requests(d) if s in (400, 401, 403)]
    assert not refused, refused
    show(d, "marketing-attribution-result")
    shot(d, f"dash4-{user}-04-cancelled")

    # The clientside callback: the paragraph opens and closes with no request.
    before = len(callback_requests(d))
    assert not d.find_element(By.ID, "marketing-method").is_displayed()
    d.find_element(By.ID, "marketing-method-toggle").click()
    wait(d, EC.visibility_of_element_located((By.ID, "marketing-method")))
    assert text_of(d, "marketing-method-toggle") == "Hide methodology"
    show(d, "marketing-method")
    shot(d, f"dash4-{user}-05-methodology")
    d.find_element(By.ID, "marketing-method-toggle").click()
    wait(d, EC.invisibility_of_element_located((By.ID, "marketing-method")))
    time.sleep(1)
    assert len(callback_requests(d)) == before, callback_requests(d)[before:]

    # The path_template page, from its link, then by its address with an id it does not know.
    d.find_element(By.ID, "marketing-report-link-summer-sale").click()
    wait(d, EC.url_matches(r"/marketing/report/summer-sale$"))
    wait(d, EC.text_to_be_present_in_element((By.ID, "marketing-report-id"), "summer-sale"))
    assert text_of(d, "marketing-report-title") == "Campaign report: Summer sale"
    assert graph_title(d, "marketing-report-graph") == "Leads per week: Summer sale"
    wait(d, EC.title_is("Report: Summer sale"))
    d.find_element(By.XPATH, "//*[@id='marketing-report-metric']//label[normalize-space()='Cumulative leads']").click()
    wait(d, lambda d: graph_title(d, "marketing-report-graph") == "Cumulative leads: Summer sale")
    shot(d, f"dash4-{user}-06-report")
    d.get(stack.url("/marketing/report/q3-2027"))
    wait(d, EC.text_to_be_present_in_element((By.ID, "marketing-report-id"), "q3-2027"))
    assert "no campaign report 'q3-2027'" in text_of(d, "marketing-report-missing")
    shot(d, f"dash4-{user}-07-report-unknown")
    refused = [(u, s) for u, s in callback_requests(d) if s in (400, 401, 403)]
    assert not refused, refused


@pytest.mark.parametrize("user", ["mike", "mica"])
def test_marketing_dash4_features_in_the_browser(stack, browser, user):
    drive_marketing(browser, stack, user)


def test_mica_opens_the_staff_directory(stack, browser):
    d = browser
    d.get(stack.url("/hr"))
    sign_in(d, "mica", "1234")
    wait(d, EC.url_matches(r"/hr$"))
    wait(d, EC.visibility_of_element_located((By.ID, "hr-title")))
    d.execute_script("performance.setResourceTimingBufferSize(10000);")
    # In-app navigation: the router callback is asked for /people.
    wait(d, EC.element_to_be_clickable((By.ID, "hr-people-link"))).click()
    wait(d, EC.url_matches(r"/people$"))
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#hr-people-rows tr")) == 12)
    assert text_of(d, "hr-people-title") == "Staff directory"
    assert text_of(d, "hr-people-count") == "12 people"
    shot(d, "dash4-mica-08-people")
    choose(d, "hr-people-dept", "Sales")
    wait(d, lambda d: text_of(d, "hr-people-count") == "3 people")
    assert len(d.find_elements(By.CSS_SELECTOR, "#hr-people-rows tr")) == 3
    assert all(row.text.split()[2] == "Sales" for row in d.find_elements(By.CSS_SELECTOR, "#hr-people-rows tr"))
    shot(d, "dash4-mica-09-people-sales")
    refused = [(u, s) for u, s in callback_requests(d) if s in (400, 401, 403)]
    assert not refused, refused
    # The directory's old address under /hr, and its own address, loaded directly.
    for path in ("/hr/directory", "/people"):
        d.get(stack.url(path))
        wait(d, EC.url_matches(r"/people$"))
        wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#hr-people-rows tr")) == 12)


def refused_in_app(d, path, absent_id):
    """Navigates inside the app; the router's request is answered by the module with the
    refusal, which the page shows in place of the page asked for."""
    before = len(callback_requests(d))
    push_path(d, path)
    refusal = wait(d, EC.visibility_of_element_located((By.ID, REFUSAL_ID)))
    assert "Not your section" in refusal.text and "The hr section" in refusal.text, refusal.text
    routed = callback_requests(d)[before:]
    assert routed and all(s == 200 for _, s in routed), routed
    time.sleep(1)
    assert not d.find_elements(By.ID, absent_id)
    assert not d.find_elements(By.ID, "marketing-title")
    assert d.current_url.endswith(path)


def test_mike_is_refused_hr_in_the_browser(stack, browser):
    d = browser
    d.get(stack.url("/marketing"))
    sign_in(d, "mike", "123456")
    wait(d, EC.url_matches(r"/marketing$"))
    assert graph_title(d, "marketing-graph") == "Monthly leads: email"
    d.execute_script("performance.setResourceTimingBufferSize(10000);")
    refused_in_app(d, "/hr", "hr-title")
    shot(d, "dash4-mike-08-hr-route-refused")
    for path in ("/hr", "/hr/directory"):
        d.get(stack.url(path))
        wait(d, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Not your section"))
        assert text_of(d, "user") == "mike" and text_of(d, "section") == "hr"
        assert d.current_url.endswith(path), d.current_url
    shot(d, "dash4-mike-09-hr-directory-forbidden")


def test_mike_is_refused_the_staff_directory_in_the_browser(stack, browser):
    d = browser
    d.get(stack.url("/people"))
    wait(d, EC.url_contains("/login"))
    sign_in(d, "mike", "123456")
    wait(d, EC.url_matches(r"/people$"))
    wait(d, lambda d: "Not your section" in d.find_element(By.TAG_NAME, "body").text
         or d.find_elements(By.ID, "hr-people-title"))
    body = d.find_element(By.TAG_NAME, "body").text
    shot(d, "dash4-mike-10-people-forbidden")
    assert "Not your section" in body and "Staff directory" not in body, body[:300]
    assert text_of(d, "user") == "mike" and text_of(d, "section") == "hr"
    d.get(stack.url("/marketing"))
    wait(d, EC.visibility_of_element_located((By.ID, "marketing-title")))
    d.execute_script("performance.setResourceTimingBufferSize(10000);")
    refused_in_app(d, "/people", "hr-people-title")
