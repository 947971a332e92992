"""The Redis store (`dash_auth_redis`) under `make bench`: the cookie path
with the store configured against the same server without it (cases RD0 and
RD, interleaved rounds, one pinned worker each), and how long a logout on one
instance takes to be refused on another, over 100 logouts.

Run by bench.py after its cases (BENCH_CASES without RD skips it), or alone:
`bench/.venv/bin/python bench/store.py` (after scripts/build-debian-module.sh).
"""
from __future__ import annotations

import http.client
import shutil
import statistics
import time
from pathlib import Path

from configs import MICA, MICA_PASSWORD, PASSWORD, STATIC_BODY, USER, conf_header, prepare_workdir
from settings import OUT, ROUNDS, SECONDS
from harness import Redis, basic, free_port  # after settings (see its docstring)
from cases import Case
from processes import Nginx, run_case, wrk

LOGOUTS = 100


def conf(w: Path, port: int, redis: Redis | None) -> str:
    store = f"    dash_auth_redis {redis.address} prefix=bench:;\n" if redis else ""
    return conf_header(w, "store.py") + f"""    dash_auth_secret_file {w / 'secret'};
    dash_auth_token_ttl 8h;
    dash_auth_sections marketing hr;
    dash_auth_zone dash_auth 1m;
    dash_auth_login_limit off;
{store}    server {{
        listen 127.0.0.1:{port};
        dash_auth "bench";
        dash_auth_user_file {w / 'users-demo'};
        dash_auth_login /login;
    }}
}}
"""


def instance(w: Path, name: str, redis: Redis | None) -> tuple[Nginx, int]:
    prefix = w / name
    for d in ("logs", "conf"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    port = free_port()
    (prefix / "conf/nginx.conf").write_text(conf(w, port, redis))
    return Nginx(prefix, prefix / "conf/nginx.conf", port), port


class Client:
    """One keep-alive HTTP/1.1 connection: a poll every few hundred µs, not
    a curl process each."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def request(self, method: str, path: str, headers: dict) -> http.client.HTTPResponse:
        self.conn.request(method, path, headers=headers)
        r = self.conn.getresponse()
        r.read()
        return r

    def close(self):
        self.conn.close()


def login(c: Client, user: str, password: str) -> str:
    r = c.request("GET", "/bench.txt", {"Authorization": basic(user, password)})
    assert r.status == 200, r.status
    cookie = next(v for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("example_jwt="))
    return cookie.split(";", 1)[0]


def propagation(pa: int, pb: int) -> list[float]:
    """Seconds from a logout's reply on A to B's first refusal of the
    cookie, for LOGOUTS logouts."""
    a, b = Client(pa), Client(pb)
    origin = {"Origin": f"http://127.0.0.1:{pa}", "Sec-Fetch-Site": "same-origin"}
    times = []
    try:
        for _ in range(LOGOUTS):
            cookie = {"Cookie": login(a, USER, PASSWORD)}
            # B takes the fresh cookie first: the cut-off it later learns is
            # what refuses it, not a token B never accepted.
            deadline = time.monotonic() + 5
            while b.request("GET", "/bench.txt", cookie).status != 200:
                assert time.monotonic() < deadline, "B never took the fresh cookie"
                time.sleep(0.01)
            r = a.request("POST", "/logout", {**cookie, **origin})
            assert r.status == 303, r.status
            t0 = time.monotonic()
            while b.request("GET", "/bench.txt", cookie).status != 401:
                assert time.monotonic() - t0 < 10, "B never refused the cookie"
            times.append(time.monotonic() - t0)
    finally:
        a.close()
        b.close()
    return times


def run(w: Path | None = None) -> dict:
    own = w is None
    w = w or prepare_workdir()
    redis = Redis(w)
    nginxes = []
    try:
        plain, p0 = instance(w, "store-off", None)
        nginxes.append(plain)
        sa, pa = instance(w, "store-a", redis)
        nginxes.append(sa)
        sb, pb = instance(w, "store-b", redis)
        nginxes.append(sb)
        time.sleep(0.5)
        c = Client(pa)
        cookie = login(c, MICA, MICA_PASSWORD)
        c.close()
        cases = [Case("RD0", "module, cookie, /bench.txt, no store", "RD0", headers={"Cookie": cookie}),
                 Case("RD", "module, cookie, /bench.txt, Redis store configured", "RD", headers={"Cookie": cookie})]
        servers = {"RD0": (p0, plain), "RD": (pa, sa)}
        for case in cases:
            r = Client(servers[case.id][0]).request("GET", case.path, case.headers)
            assert r.status == 200, (case.id, r.status)
            wrk(case, servers[case.id][0], 1)
        rounds = []
        for rnd in range(ROUNDS):
            res = {}
            for case in cases:
                port, ng = servers[case.id]
                res[case.id] = run_case(case, port, ng, None)
                x = res[case.id]
                print(f"bench: store round {rnd + 1}/{ROUNDS} {case.id:3} {x['rps']:>10.1f} req/s  "
                      f"p50 {x['p50_us']:>6} µs  p99 {x['p99_us']:>7} µs  nginx {x['nginx_cpu_us']:6.2f} µs/req"
                      + (f"  ERRORS {x['errors']} non-2xx {x['non2xx']}" if x["errors"] or x["non2xx"] else ""),
                      flush=True)
            rounds.append(res)
        times = propagation(pa, pb)
        trouble = [t for n in nginxes for t in n.trouble()]
    finally:
        for n in nginxes:
            n.stop()
        redis.stop()
        if own:
            shutil.rmtree(w, ignore_errors=True)
    med = lambda case, k: statistics.median(r[case][k] for r in rounds)  # noqa: E731
    out = {
        "cases": {cid: {k: med(cid, k) for k in ("rps", "p50_us", "p99_us", "nginx_cpu_us")} for cid in ("RD0", "RD")},
        "propagation_ms": {"logouts": len(times), "median": statistics.median(times) * 1e3,
                           "worst": max(times) * 1e3, "best": min(times) * 1e3},
        "rounds": rounds,
        "trouble": trouble,
    }
    return out


def report(res: dict) -> str:
    s0, s = res["cases"]["RD0"], res["cases"]["RD"]
    p = res["propagation_ms"]
    lines = [
        "",
        "## The Redis store (`dash_auth_redis`)",
        "",
        f"Cookie path on `/bench.txt` ({len(STATIC_BODY)}-byte static file), one pinned worker each, "
        f"{ROUNDS} interleaved rounds of {SECONDS} s, medians:",
        "",
        "| case | requests/s | p50 µs | p99 µs | nginx CPU µs/req |",
        "|---|---|---|---|---|",
        f"| RD0 module, cookie, no store | {s0['rps']:.0f} | {s0['p50_us']:.0f} | {s0['p99_us']:.0f} | "
        f"{s0['nginx_cpu_us']:.2f} |",
        f"| RD module, cookie, Redis store configured | {s['rps']:.0f} | {s['p50_us']:.0f} | {s['p99_us']:.0f} | "
        f"{s['nginx_cpu_us']:.2f} |",
        "",
        f"Logout propagation, A to B through one loopback Redis, over {p['logouts']} logouts (from the logout's "
        f"reply on A to B's first `401`, polled back to back): median {p['median']:.0f} ms, worst "
        f"{p['worst']:.0f} ms, best {p['best']:.0f} ms. The design bound: a 50 ms tick to send it, the 200 ms "
        "poll, two round trips.",
    ]
    if res["trouble"]:
        lines += ["", "nginx error log had: " + "; ".join(res["trouble"][:3])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    r = run()
    text = report(r)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "store.md").write_text(text.lstrip())
    print(f"wrote {OUT / 'store.md'}")
