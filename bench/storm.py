"""The cookie path under a login storm, and Basic logins per second.

Storm (case S): case B's server, one pinned worker. wrk sends cookie requests
as in B (`wrk -t1 -c32`, BENCH_SECONDS); in every other run a second process
sends BENCH_STORM_RATE (20) failed Basic logins per second beside it, paced,
each on a new connection from one of 64 loopback addresses (127.0.1.1-64) and
under a user name of its own: every one costs a full bcrypt (an unknown name
is checked against the dummy hash), and the failure limit (10 per name and
per address in 5 minutes) never ends the storm. Runs alternate, alone then
storm, BENCH_ROUNDS times; the figure is the cookie path's p99 and requests/s
with the storm against without, per round, then the median.

Logins/s (case P): a second nginx with 2 workers, not pinned, the credential
cache off; 8 clients, each a user of its own (the 10-user file's, all with
mica's password and cost), send right Basic logins one after another on a
keep-alive connection for BENCH_SECONDS: every request is one bcrypt (the same
login sent on several connections at once would share one check, so each
client signs in as another user). Both cores hash, whichever worker a
connection landed on.
"""
from __future__ import annotations

import http.client
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cases import Case
from configs import MICA_PASSWORD, conf_header, module_conf
from processes import Nginx, run_case
from settings import ROUNDS, SECONDS
from harness import basic, free_port  # after settings (see its docstring)

RATE = float(os.environ.get("BENCH_STORM_RATE", "20"))
ADDRESSES = [f"127.0.1.{i}" for i in range(1, 65)]


class Storm:
    """Failed logins at RATE per second until stopped; counts the answers."""

    def __init__(self, port: int):
        self.port = port
        self.stop_flag = threading.Event()
        self.answers: dict[str, int] = {}
        self.lock = threading.Lock()
        self.n = 0

    def one(self, i: int):
        addr = ADDRESSES[i % len(ADDRESSES)]
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(addr, 0))
            c.request("GET", "/bench.txt", headers={"Authorization": basic(f"storm{i:06d}", "wrong")})
            status = str(c.getresponse().status)
            c.close()
        except OSError as e:
            status = type(e).__name__
        with self.lock:
            self.answers[status] = self.answers.get(status, 0) + 1

    def run(self):
        with ThreadPoolExecutor(max_workers=64) as pool:
            t0 = time.monotonic()
            while not self.stop_flag.is_set():
                due = t0 + self.n / RATE
                delay = due - time.monotonic()
                if delay > 0:
                    self.stop_flag.wait(delay)
                    continue
                pool.submit(self.one, self.n)
                self.n += 1

    def __enter__(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join()


def storm_rounds(cookie: str, port: int, nginx: Nginx, log) -> dict:
    case = Case("S", "module, cookie, /bench.txt, beside a login storm", "B",
                headers={"Cookie": f"example_jwt={cookie}"})
    runs = {"alone": [], "storm": []}
    answers: dict[str, int] = {}
    sent = 0
    for rnd in range(ROUNDS):
        runs["alone"].append(run_case(case, port, nginx, None))
        with Storm(port) as s:
            time.sleep(0.5)  # the storm is on before wrk starts
            r = run_case(case, port, nginx, None)
        runs["storm"].append(r)
        sent += s.n
        for k, v in s.answers.items():
            answers[k] = answers.get(k, 0) + v
        a, b = runs["alone"][-1], runs["storm"][-1]
        log(f"storm round {rnd + 1}/{ROUNDS}: alone {a['rps']:.0f} req/s p99 {a['p99_us']} µs; "
            f"storm {b['rps']:.0f} req/s p99 {b['p99_us']} µs; logins {s.answers}")
    ratio = lambda k: statistics.median(s[k] / a[k] for a, s in zip(runs["alone"], runs["storm"]))  # noqa: E731
    med = lambda which, k: statistics.median(r[k] for r in runs[which])  # noqa: E731
    return {
        "rate": RATE, "logins_sent": sent, "answers": answers,
        "alone": {"rps": med("alone", "rps"), "p50_us": med("alone", "p50_us"), "p99_us": med("alone", "p99_us")},
        "storm": {"rps": med("storm", "rps"), "p50_us": med("storm", "p50_us"), "p99_us": med("storm", "p99_us")},
        "p99_ratio": ratio("p99_us"), "rps_ratio": ratio("rps"),
    }


def logins_per_second(w: Path, log) -> dict:
    """Case P on an nginx of its own with two workers."""
    port = free_port()
    prefix = w / "p2"
    for d in ("logs", "conf"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    conf = prefix / "conf/nginx.conf"
    header = conf_header(w, "storm.py", workers=2, pinned=False, connections=1024, keepalive=False)
    conf.write_text(header + f"""    dash_auth_secret_file {w / 'secret'};
    dash_auth_zone dash_auth_p 1m;
    dash_auth_login_limit off;
    server {{
        listen 127.0.0.1:{port} reuseport;
{module_conf(w / 'users-10', '        dash_auth_basic_cache off;' + chr(10))}    }}
}}
""")
    nginx = Nginx(prefix, conf, port)
    try:
        runs = [sign_ins(port, SECONDS) for _ in range(ROUNDS)]
    finally:
        nginx.stop()
    rps = statistics.median(runs)
    log(f"logins/s with 2 workers: {' '.join(f'{r:.1f}' for r in runs)}")
    return {"rps": rps, "workers": 2, "connections": CLIENTS, "cpus": os.cpu_count()}


CLIENTS = 8


def sign_ins(port: int, seconds: float) -> float:
    """Right Basic logins per second, CLIENTS users at once, each on its own
    keep-alive connection."""
    counts = [0] * CLIENTS
    end = time.monotonic() + seconds

    def client(i: int):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": basic(f"user{i:06d}", MICA_PASSWORD)}
        while time.monotonic() < end:
            c.request("GET", "/bench.txt", headers=auth)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"case P: login of user{i:06d} answered {r.status}")
            counts[i] += 1
        c.close()

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for f in [pool.submit(client, i) for i in range(CLIENTS)]:
            f.result()
    return sum(counts) / (time.monotonic() - t0)


def before() -> tuple[dict | None, dict | None, str]:
    """S and P of another build, for a before/after: BENCH_STORM_BEFORE names
    the results.json of a run with BENCH_MODULE=<that build> BENCH_CASES=B,S,P,
    and BENCH_STORM_BEFORE_LABEL says which build it was."""
    path = os.environ.get("BENCH_STORM_BEFORE")
    if not path:
        return None, None, ""
    import json

    data = json.loads(Path(path).read_text())
    return data.get("storm"), data.get("logins"), os.environ.get("BENCH_STORM_BEFORE_LABEL", "before")


def markdown(s: dict | None, p: dict | None) -> str:
    s0, p0, label = before()
    out = []
    if s:
        out.append(storm_markdown(s, s0, label))
    if p:
        line = (f"Basic logins per second, 2 workers, credential cache off, {p['connections']} users signing "
                f"in at once: **{p['rps']:.1f}** ({p['cpus']} CPUs)")
        if p0:
            line += f"; {label}: {p0['rps']:.1f}"
        out.append(line + ".\n")
    return "\n".join(out)


def storm_markdown(s: dict, s0: dict | None = None, label: str = "") -> str:
    a, b = s["alone"], s["storm"]
    then = ""
    if s0:
        a0, b0 = s0["alone"], s0["storm"]
        then = (f"| {label}: cookie path alone | {a0['rps']:,.0f} | {a0['p50_us']} µs | {a0['p99_us']} µs |\n"
                f"| {label}: cookie path beside the storm | {b0['rps']:,.0f} | {b0['p50_us']} µs | "
                f"{b0['p99_us']} µs |\n")
        then_ratio = (f" {label}: p99 {s0['p99_ratio']:.2f}×, requests/s {s0['rps_ratio']:.2f}× "
                      f"(storm answered {', '.join(f'{k}: {v}' for k, v in sorted(s0['answers'].items()))}).")
    else:
        then_ratio = ""
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(s["answers"].items()))
    return f"""## The cookie path under a login storm

Case B's server and load, alone and beside {s['rate']:.0f} failed Basic logins per second (each a full
bcrypt; {s['logins_sent']} sent over {len(ADDRESSES)} source addresses, answered {answers}), the runs
alternating, medians over the rounds:

| | requests/s | p50 | p99 |
|---|---|---|---|
| cookie path alone | {a['rps']:,.0f} | {a['p50_us']} µs | {a['p99_us']} µs |
| cookie path beside the storm | {b['rps']:,.0f} | {b['p50_us']} µs | {b['p99_us']} µs |
{then}
p99 beside the storm / alone: **{s['p99_ratio']:.2f}×** (target ≤ 2×); requests/s: {s['rps_ratio']:.2f}×.{then_ratio}
"""
