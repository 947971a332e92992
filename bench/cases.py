"""The cases `make bench` measures, and the curl checks that each one answers
what it should and refuses what it must before any figure is taken.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from configs import CALLBACK_REPLY, PASSWORD, STATIC_BODY, USER
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


def make_cases(cookie: str, callback_body: Path) -> list[Case]:
    c = {"Cookie": f"example_jwt={cookie}"}
    b = {"Authorization": basic(USER, PASSWORD)}
    cj = dict(c, **{"Content-Type": "application/json"})
    big = f"{LARGE_USERS:,}".replace(",", " ")
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


def negative_checks(ports: dict, cookie: str, w: Path, cache: bool):
    """Each protected case really is protected: the figures are for checks that run."""
    bad = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
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
    ]
    if cache:
        checks.append(("E wrong password", ports["E"], "/bench.txt", "GET",
                       [f"Authorization: {basic(USER, 'wrong')}"], None, 401))
    for name, port, path, method, headers, data, status in checks:
        r = curl(f"http://127.0.0.1:{port}{path}", method=method, headers=headers, data=data)
        if r.status != status:
            raise RuntimeError(f"negative check {name!r}: expected {status}, got {r.status}")
