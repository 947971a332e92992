"""The cases `make bench` measures, and the curl checks that each one answers
what it should and refuses what it must before any figure is taken.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from configs import CALLBACK_2K5, CALLBACK_REPLY, LAYOUT_100K, MICA, PASSWORD, STATIC_BODY, USER
from settings import CONNECTIONS, E_SECONDS, LARGE_USERS, ROOT, SECONDS
from harness import basic, curl  # after settings (see its docstring)


@dataclass
class Case:
    id: str
    label: str
    server: str
    path: str = "/bench.txt"
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: Path | None = None
    expect: bytes | None = STATIC_BODY
    seconds: int = SECONDS
    connections: int = CONNECTIONS
    needs_cache: bool = False
    service: bool = False  # count the auth service's CPU too


def make_cases(cookie: str, callback_body: Path, mica_cookie: str, graph_body: Path, w: Path) -> list[Case]:
    """cookie is mike's (lacks hr: his replies are checked), mica_cookie
    mica's (`_all_`: not checked); w the work directory with the replies."""
    c = {"Cookie": f"example_jwt={cookie}"}
    ca = {"Cookie": f"example_jwt={mica_cookie}"}
    b = {"Authorization": basic(USER, PASSWORD)}
    cj = dict(c, **{"Content-Type": "application/json"})
    caj = dict(ca, **{"Content-Type": "application/json"})
    big = f"{LARGE_USERS:,}".replace(",", " ")
    replies = w / "upstream/replies"
    esc = lambda name: name.removesuffix(".json") + "-esc.json"  # noqa: E731
    cb = dict(server="R", path="/_dash-update-component", method="POST", body=graph_body,
              expect=(replies / CALLBACK_2K5).read_bytes())
    cbf = dict(cb, server="Rf", expect=(replies / esc(CALLBACK_2K5)).read_bytes())
    lay = dict(server="R", path=f"/replies/{LAYOUT_100K}", expect=(replies / LAYOUT_100K).read_bytes())
    layf = dict(lay, path=f"/replies/{esc(LAYOUT_100K)}", expect=(replies / esc(LAYOUT_100K)).read_bytes())
    return [
        Case("A", "no auth (static file)", "A", headers=c),
        Case("B", "module, cookie, /bench.txt", "B", headers=c),
        Case("B'", "module, cookie, /marketing/bench.txt", "B", path="/marketing/bench.txt", headers=c),
        Case("C", "auth_request -> Flask+PyJWT (gunicorn)", "C", headers=c, service=True),
        Case("D", "module, Basic every request, cache on", "B", headers=b, needs_cache=True),
        # One connection: each request holds the worker for a whole bcrypt, so
        # more connections only queue; and at the end of the run at most one
        # request was served but not counted.
        Case("E", "module, Basic every request, cache off", "E", headers=b, seconds=E_SECONDS, connections=1,
             needs_cache=True),
        Case("F0", "callback POST, no module", "F0", path="/_dash-update-component", method="POST", headers=cj,
             body=callback_body, expect=CALLBACK_REPLY.encode()),
        Case("F0c", "callback POST, module, callback check off", "F0c", path="/_dash-update-component",
             method="POST", headers=cj, body=callback_body, expect=CALLBACK_REPLY.encode()),
        Case("F1", "callback POST, module checks it", "F1", path="/_dash-update-component", method="POST",
             headers=cj, body=callback_body, expect=CALLBACK_REPLY.encode()),
        # The reply check. Each twin differs only in the user: mica's
        # replies are not checked, and both callback bodies are, so the
        # difference is what holding and checking the reply costs.
        Case("R", f"callback POST, 2.5 KB reply checked ({USER})", headers=cj, **cb),
        Case("Ra", f"callback POST, 2.5 KB reply not checked ({MICA}: _all_)", headers=caj, **cb),
        Case("Rf", f"callback POST, 2.5 KB reply with a \\u escape, read whole ({USER})", headers=cj, **cbf),
        Case("L", f"GET 100 KB JSON layout, checked ({USER})", headers=c, **lay),
        Case("La", f"GET 100 KB JSON layout, not checked ({MICA}: _all_)", headers=ca, **lay),
        Case("Lf", f"GET 100 KB JSON layout with a \\u escape, read whole ({USER})", headers=c, **layf),
        Case("G10", "cookie, 10-user file", "G10", headers=c),
        Case("G100k", f"cookie, {big}-user file", "G100k", headers=c),
        Case("G10b", "Basic cached, 10-user file", "G10", headers=b, needs_cache=True),
        Case("G100kb", f"Basic cached, {big}-user file", "G100k", headers=b,
             needs_cache=True),
    ]


def check_case(case: Case, port: int):
    """One request with curl: the status and body the case expects."""
    resp = curl(f"http://127.0.0.1:{port}{case.path}", method=case.method,
                headers=[f"{k}: {v}" for k, v in case.headers.items()],
                data=case.body.read_bytes() if case.body else None)
    if resp.status != 200 or (case.expect is not None and resp.body != case.expect):
        raise RuntimeError(f"case {case.id}: expected 200 {case.expect!r}, got {resp.status} {resp.body[:200]!r}")


def negative_checks(ports: dict, cookie: str, w: Path, cache: bool, mica_cookie: str, graph_body: Path):
    """Each protected case really is protected: the figures are for checks that run."""
    bad = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    mike_j = [f"Cookie: example_jwt={cookie}", "Content-Type: application/json"]
    mica_j = [f"Cookie: example_jwt={mica_cookie}", "Content-Type: application/json"]
    hr_layout = "/replies/" + LAYOUT_100K.removesuffix(".json") + "-hr.json"
    graph = graph_body.read_bytes()
    checks = [
        ("B no credentials", ports["B"], "/bench.txt", "GET", [], None, 401),
        ("B tampered cookie", ports["B"], "/bench.txt", "GET", [f"Cookie: example_jwt={bad}"], None, 401),
        ("B forbidden section", ports["B"], "/hr/bench.txt", "GET", [f"Cookie: example_jwt={cookie}"], None, 403),
        ("C tampered cookie", ports["C"], "/bench.txt", "GET", [f"Cookie: example_jwt={bad}"], None, 401),
        ("C forbidden section", ports["C"], "/hr/bench.txt", "GET", [f"Cookie: example_jwt={cookie}"], None, 403),
        ("B wrong password", ports["B"], "/bench.txt", "GET", [f"Authorization: {basic(USER, 'wrong')}"], None, 401),
        ("F1 hr callback", ports["F1"], "/_dash-update-component", "POST",
         [f"Cookie: example_jwt={cookie}", "Content-Type: application/json"],
         (ROOT / "dashboard/examples/hr-slider.json").read_bytes(), 403),
        # The replies the R and L cases get, with one hr component in them:
        # refused for mike (a callback's answer is his request's, 403; a
        # page's is the app's fault, 502), passed for mica.
        ("R reply with an hr component", ports["Rh"], "/_dash-update-component", "POST", mike_j, graph, 403),
        ("Ra the same for mica", ports["Rh"], "/_dash-update-component", "POST", mica_j, graph, 200),
        ("L layout with an hr component", ports["R"], hr_layout, "GET", mike_j[:1], None, 502),
        ("La the same for mica", ports["R"], hr_layout, "GET", mica_j[:1], None, 200),
    ]
    if cache:
        checks.append(("E wrong password", ports["E"], "/bench.txt", "GET",
                       [f"Authorization: {basic(USER, 'wrong')}"], None, 401))
    for name, port, path, method, headers, data, status in checks:
        r = curl(f"http://127.0.0.1:{port}{path}", method=method, headers=headers, data=data)
        if r.status != status:
            raise RuntimeError(f"negative check {name!r}: expected {status}, got {r.status}")
