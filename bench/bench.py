#!/usr/bin/env python3
"""`make bench`: what the module costs nginx, side by side with the alternatives.

One nginx binary for every case: Debian's /usr/sbin/nginx (it has
auth_request) with the module built for it (scripts/build-debian-module.sh).
One nginx instance serves every case, each on its own loopback port; one
worker, pinned to one CPU; wrk pinned to another (`wrk -t1 -c32`); plain http,
keepalive, a 13-byte static file.

    A     no auth at all: the ceiling
    B     module, valid cookie, /bench.txt (not a section)
    B'    module, valid cookie, /marketing/bench.txt (a granted section)
    C     auth_request -> Flask + PyJWT under gunicorn (the old design)
    D     module, Basic on every request, credential cache on (the default)
    E     module, Basic on every request, cache off (bcrypt each time)
    F0/F1 a Dash callback POST proxied to a cheap upstream, without/with the module
    F0c   the same POST with the module (cookie checked) but the callback check off:
          F1 − F0c is what checking the body and the reply costs
    G     cookie and cached Basic with a 10-user and a 100 000-user file;
          `nginx -t` time with each file

BENCH_CASES=A,B,F0,F1 runs only those cases (with BENCH_OUT elsewhere, to
keep docs/bench as the full run left it).

The cases run interleaved, A B B' C ... then again, BENCH_ROUNDS times, each
for BENCH_SECONDS (E for BENCH_E_SECONDS). For each run: wrk's requests/s and
latency percentiles, and nginx's CPU time (utime + stime of master and worker
from /proc/<pid>/stat) divided by the requests wrk completed. Ratios are taken
per round, then the median over rounds is reported.

Then, unless BENCH_PROFILE=0: perf samples the worker natively (cpu-clock)
during one more run of A, B, D, F0, F0c and F1 (bench/perf_profile.py), and
callgrind counts their instructions per request (bench/callgrind_profile.py).

Writes docs/bench/results.md, results.png, results.json, profile-perf.txt and
profile-callgrind.txt. Reports figures; never fails on them.
`bench.py --report` rewrites results.md and results.png from results.json.
"""
from __future__ import annotations

import base64
import datetime as dt
import resource
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "docs/bench"))
NGINX_BIN = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
MODULE_SO = os.environ.get("BENCH_MODULE", str(ROOT / "target/debian/release/libngx_http_dash_auth_module.so"))

# The harness picks its nginx from these; set before importing it.
os.environ.setdefault("NGINX_BIN", NGINX_BIN)
os.environ.setdefault("MODULE_SO", MODULE_SO)
sys.path.insert(0, str(ROOT / "tests"))
from harness import basic, curl, free_port, port_open, stop_group, wait_for  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
E_SECONDS = int(os.environ.get("BENCH_E_SECONDS", str(min(SECONDS, 3))))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
LARGE_USERS = int(os.environ.get("BENCH_LARGE_USERS", "100000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
# A comma-separated subset of case ids, for a quick look while tuning (the
# ratios that need a missing case are left out of the report).
ONLY = {c for c in os.environ.get("BENCH_CASES", "").split(",") if c}
NPROC = os.cpu_count() or 1
NGINX_CPU = int(os.environ.get("BENCH_NGINX_CPU", "0"))
WRK_CPU = int(os.environ.get("BENCH_WRK_CPU", "1" if NPROC > 1 else "0"))
CLK_TCK = os.sysconf("SC_CLK_TCK")

USER, PASSWORD = "mike", "123456"  # nginx-conf/users: bcrypt cost 10, sections: marketing
STATIC_BODY = b"hello, bench\n"  # 13 bytes
assert len(STATIC_BODY) == 13
CALLBACK_REPLY = '{"multi":true,"response":{"marketing-total":{"children":"Total: 152500"}}}'

# The targets of issue 6, for the verdict column. Reported, never enforced.
TARGET_B_MINUS_A_US = 2.0
TARGET_B_OVER_A = 0.85
TARGET_B_OVER_C = 20.0
TARGET_D_OVER_B_CPU = 2.0
TARGET_F_US = 10.0
TARGET_NGINX_T_S = 1.0
TARGET_G_GROWTH = 0.05  # "does not grow": within 5 % (noise) between 10 and 100 000 users


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- cases


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


# --------------------------------------------------------------------------- files


def cpu_mask(cpu: int) -> str:
    return "1" + "0" * cpu


def write_users(path: Path, n: int):
    """n users: n-1 copies of mica's bcrypt line under other names, then mike
    last (so a linear scan would show). Load-time parsing is what grows."""
    demo = (ROOT / "nginx-conf/users").read_text().splitlines()
    mica = next(l for l in demo if l.startswith("mica:")).split(":")
    mike = next(l for l in demo if l.startswith("mike:"))
    with path.open("w") as f:
        f.write("# generated by bench/bench.py\n")
        for i in range(n - 1):
            f.write(f"user{i:06d}:{mica[1]}:marketing\n")
        f.write(mike + "\n")


def write_callback_body(path: Path, items: int = 30) -> int:
    """dashboard/examples/pattern-all.json (marketing-total <- ALL marketing-budget
    inputs) with `items` inputs, compact as the Dash renderer sends it."""
    body = json.loads((ROOT / "dashboard/examples/pattern-all.json").read_text())
    body["inputs"] = [[{"id": {"index": i, "type": "marketing-budget"}, "property": "value", "value": 1000 + 250 * i}
                       for i in range(items)]]
    data = json.dumps(body, separators=(",", ":")).encode()
    path.write_bytes(data)
    return len(data)


def module_conf(users: Path, extra: str = "") -> str:
    return (f'        dash_auth "bench";\n        dash_auth_user_file {users};\n{extra}')


def render_conf(w: Path, ports: dict, *, cache: bool, profile: bool = False) -> str:
    """One nginx.conf with a server per case (profile: only A, B, F0, F0c, F1, cheap)."""
    s = []
    s.append(f"""        server {{ # A: no auth
        listen 127.0.0.1:{ports['A']};
    }}
    server {{ # B, B', D: module (cookie or Basic; the credential cache at its default)
        listen 127.0.0.1:{ports['B']};
{module_conf(w / 'users-demo')}    }}
    server {{ # F0: callback POST without the module
        listen 127.0.0.1:{ports['F0']};
        location / {{ include {w / 'proxy-cheap.conf'}; }}
    }}
    server {{ # F0c: the same with the module, the callback check off
        listen 127.0.0.1:{ports['F0c']};
{module_conf(w / 'users-demo', '        dash_auth_callback_check off;' + chr(10))}        location / {{ include {w / 'proxy-cheap.conf'}; }}
    }}
    server {{ # F1: the same with the module: body read and checked, reply checked
        listen 127.0.0.1:{ports['F1']};
{module_conf(w / 'users-demo', f'        dash_auth_dependencies_file {ROOT / "core/tests/fixtures/demo-dependencies.json"};' + chr(10))}        location / {{ include {w / 'proxy-cheap.conf'}; }}
    }}
    server {{ # the cheap upstream of F0/F1: a fixed Dash callback reply
        listen 127.0.0.1:{ports['cheap']};
        location / {{
            default_type application/json;
            return 200 '{CALLBACK_REPLY}';
        }}
    }}""")
    if not profile:
        s.append(f"""    server {{ # C: auth_request -> Flask + PyJWT
        listen 127.0.0.1:{ports['C']};
        location / {{ auth_request /_auth; }}
        location = /_auth {{
            internal;
            proxy_pass http://authsvc/auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}
    }}
    server {{ # G: users-file scale
        listen 127.0.0.1:{ports['G10']};
{module_conf(w / 'users-10')}    }}
    server {{
        listen 127.0.0.1:{ports['G100k']};
{module_conf(w / 'users-large')}    }}""")
        if cache:
            s.append(f"""    server {{ # E: Basic with the credential cache off
        listen 127.0.0.1:{ports['E']};
{module_conf(w / 'users-demo', '        dash_auth_basic_cache off;' + chr(10))}    }}""")
    upstream_auth = "" if profile else f"""
    upstream authsvc {{
        server 127.0.0.1:{ports['auth']};
        keepalive 32;
        keepalive_timeout 30s;
    }}"""
    return f"""# generated by bench/bench.py
load_module {MODULE_SO};
worker_processes 1;
worker_cpu_affinity {cpu_mask(NGINX_CPU)};
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type text/plain;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    root {w / 'html'};
    client_body_temp_path {w / 'tmp/body'};
    proxy_temp_path {w / 'tmp/proxy'};
    fastcgi_temp_path {w / 'tmp/fastcgi'};
    uwsgi_temp_path {w / 'tmp/uwsgi'};
    scgi_temp_path {w / 'tmp/scgi'};

    # Module settings for the servers that turn it on with `dash_auth`.
    dash_auth_secret_file {w / 'secret'};
    dash_auth_token_ttl 8h;
    dash_auth_sections marketing hr;
{upstream_auth}
    upstream cheap {{
        server 127.0.0.1:{ports['cheap']};
        keepalive 32;
    }}

{chr(10).join(s)}
}}
"""


PROXY_CHEAP = """proxy_pass http://cheap;
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header X-Forwarded-User $dash_auth_user;
proxy_set_header X-Dash-Sections $dash_auth_sections;
"""


def prepare_workdir() -> Path:
    w = Path(tempfile.mkdtemp(prefix="dash-auth-bench-"))
    os.chmod(w, 0o755)  # workers run as nobody: they read html/
    for d in ("html/marketing", "logs", "conf", "tmp"):
        (w / d).mkdir(parents=True)
    (w / "html/bench.txt").write_bytes(STATIC_BODY)
    (w / "html/marketing/bench.txt").write_bytes(STATIC_BODY)
    (w / "secret").write_bytes(base64.b64encode(secrets.token_bytes(48)) + b"\n")
    os.chmod(w / "secret", 0o600)
    shutil.copy(ROOT / "nginx-conf/users", w / "users-demo")
    write_users(w / "users-10", 10)
    write_users(w / "users-large", LARGE_USERS)
    (w / "proxy-cheap.conf").write_text(PROXY_CHEAP)
    return w


# --------------------------------------------------------------------------- processes


def nginx_cmd(prefix: Path, conf: Path, *args: str) -> list[str]:
    return ["taskset", "-c", str(NGINX_CPU), NGINX_BIN, "-p", str(prefix), "-c", str(conf), *args]


def cache_supported(w: Path) -> bool:
    """Whether this build of the module knows `dash_auth_basic_cache`."""
    conf = w / "conf/cache-probe.conf"
    conf.write_text(f"""load_module {MODULE_SO};
pid logs/probe.pid;
error_log logs/probe.log warn;
events {{}}
http {{ server {{ listen 127.0.0.1:{free_port()};
    dash_auth x; dash_auth_user_file {w / 'users-demo'}; dash_auth_secret_file {w / 'secret'};
    dash_auth_basic_cache off; }} }}
""")
    r = subprocess.run([NGINX_BIN, "-t", "-p", str(w), "-c", str(conf)], capture_output=True, text=True)
    if r.returncode != 0 and "unknown directive" not in r.stderr:
        raise RuntimeError("nginx -t of the probe config failed:\n" + r.stderr)
    return r.returncode == 0


def time_nginx_t(w: Path, users: Path, runs: int = 3) -> float:
    """Median wall time of `nginx -t` with one dash_auth server on `users`."""
    name = users.name
    conf = w / f"conf/t-{name}.conf"
    conf.write_text(f"""load_module {MODULE_SO};
pid logs/t.pid;
error_log logs/t.log warn;
events {{}}
http {{ server {{ listen 127.0.0.1:{free_port()};
    dash_auth x; dash_auth_user_file {users}; dash_auth_secret_file {w / 'secret'}; }} }}
""")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(nginx_cmd(w, conf, "-t", "-q"), capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise RuntimeError(f"nginx -t with {users} failed:\n{r.stderr}")
    return statistics.median(times)


class Nginx:
    def __init__(self, prefix: Path, conf: Path, check_port: int):
        t = subprocess.run(nginx_cmd(prefix, conf, "-t"), capture_output=True, text=True)
        if t.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + t.stderr)
        self.stderr = open(prefix / "logs/stderr.log", "wb")
        # Its own session, so its own scheduler autogroup: nginx and wrk do not
        # share one group's CPU share against other work on the machine.
        self.proc = subprocess.Popen(nginx_cmd(prefix, conf, "-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, start_new_session=True)
        wait_for(lambda: self.proc.poll() is None and port_open(check_port), 30, "nginx")
        self.prefix = prefix

    def pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid] + [int(p) for p in out.split()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.stderr.close()

    def trouble(self) -> list[str]:
        log = (self.prefix / "logs/error.log").read_text(errors="replace") if (
            self.prefix / "logs/error.log").exists() else ""
        return [l for l in log.splitlines() if "exited on signal" in l or "[alert]" in l or "[crit]" in l
                or "[error]" in l]


class AuthService:
    """bench/auth_service.py under gunicorn (gthread, keepalive), not pinned: it
    may use every CPU, which favours the old design."""

    def __init__(self, w: Path, port: int):
        self.port = port
        self.log = open(w / "logs/gunicorn.log", "wb")
        env = {**os.environ, "BENCH_SECRET_FILE": str(w / "secret")}
        self.proc = subprocess.Popen(
            [str(BENCH / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--worker-class", "gthread", "--threads", "8", "--keep-alive", "75", "--log-level", "warning",
             "--no-control-socket", "--chdir", str(BENCH), "auth_service:app"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.proc.poll() is None and port_open(port), 60, "gunicorn")

    def pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid] + [int(p) for p in out.split()]

    def stop(self):
        stop_group(self.proc, self.log)


def cpu_ticks(pids: list[int]) -> tuple[int, int]:
    """utime and stime (fields 14 and 15 of /proc/<pid>/stat), summed over pids."""
    user = sys_ = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        user += int(fields[11])
        sys_ += int(fields[12])
    return user, sys_


def minor_faults(pids: list[int]) -> int:
    """minflt (field 10 of /proc/<pid>/stat), summed over pids: a worker whose
    allocator keeps returning memory to the kernel faults it back in."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        total += int(stat.rsplit(")", 1)[1].split()[7])
    return total


def fuzzers_running() -> list[str]:
    out = subprocess.run(["pgrep", "-fa", "fuzz/target"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if l.strip()]


# --------------------------------------------------------------------------- measuring


def wrk(case: Case, port: int, seconds: float, connections: int | None = None) -> dict:
    conns = connections or case.connections
    cmd = ["taskset", "-c", str(WRK_CPU), "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency",
           "--timeout", "10s", "-s", str(BENCH / "report.lua"), f"http://127.0.0.1:{port}{case.path}", "--",
           case.method, str(case.body) if case.body else "-"] + [f"{k}: {v}" for k, v in case.headers.items()]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, start_new_session=True)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {case.id}: {out.stderr}\n{out.stdout}")
    res = json.loads(line[6:])
    res["wrk_cpu_s"] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return res


def run_case(case: Case, port: int, nginx: Nginx, service: AuthService | None) -> dict:
    pids = nginx.pids()
    svc_pids = service.pids() if (service and case.service) else []
    n0, s0, f0, t0 = cpu_ticks(pids), cpu_ticks(svc_pids), minor_faults(pids), time.monotonic()
    res = wrk(case, port, case.seconds)
    n1, s1, f1, t1 = cpu_ticks(pids), cpu_ticks(svc_pids), minor_faults(pids), time.monotonic()
    reqs = max(res["requests"], 1)
    secs = res["duration_us"] / 1e6
    user_s, sys_s = (n1[0] - n0[0]) / CLK_TCK, (n1[1] - n0[1]) / CLK_TCK
    nginx_cpu_s = user_s + sys_s
    r = {
        "requests": res["requests"],
        "rps": res["requests"] / secs,
        "p50_us": res["p50_us"],
        "p99_us": res["p99_us"],
        "nginx_cpu_us": nginx_cpu_s * 1e6 / reqs,
        "nginx_user_us": user_s * 1e6 / reqs,
        "nginx_sys_us": sys_s * 1e6 / reqs,
        "nginx_busy": nginx_cpu_s / (t1 - t0),
        "nginx_faults": (f1 - f0) / reqs,
        "wrk_busy": res["wrk_cpu_s"] / (t1 - t0),
        "errors": res["connect"] + res["read"] + res["write"] + res["timeout"],
        "non2xx": res["status"],
    }
    if svc_pids:
        r["service_cpu_us"] = (sum(s1) - sum(s0)) / CLK_TCK * 1e6 / reqs
    return r


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


# --------------------------------------------------------------------------- report


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rps(x):
    return f"{x:,.0f}".replace(",", " ") if x >= 100 else f"{x:.1f}"


def fmt_us(x):
    if x >= 10000:
        return f"{x / 1000:,.1f} ms".replace(",", " ")
    return f"{x:.2f} µs" if x < 100 else f"{x:.0f} µs"


def fmt_lat(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us} µs"


def machine() -> dict:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor())
    nginx_v = subprocess.run([NGINX_BIN, "-v"], capture_output=True, text=True).stderr.strip()
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].split(" [")[0]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "core"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "nproc": NPROC, "kernel": platform.release(), "nginx": nginx_v, "wrk": wrk_v,
            "commit": head + (" (src/ or core/ modified)" if dirty else ""),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}


def verdict(ok: bool | None, gap: str) -> str:
    if ok is None:
        return "–"
    return "PASS" if ok else f"gap: {gap}"


def ratios(rounds: list[dict], cases: dict) -> list[dict]:
    """Per-round ratios of paired runs, then their median (and range)."""

    def per_round(f):
        vals = []
        for r in rounds:
            try:
                vals.append(f(r))
            except KeyError:
                pass
        return vals

    out = []

    def add(name, target, vals, ok, gap, unit=""):
        if not vals:
            return
        m = med(vals)
        out.append({"name": name, "target": target, "median": m, "min": min(vals), "max": max(vals),
                    "unit": unit, "verdict": verdict(None if target == "(info)" else ok(m), gap(m))})

    rps = lambda r, c: r[c]["rps"]  # noqa: E731
    cpu = lambda r, c: r[c]["nginx_cpu_us"]  # noqa: E731
    add("B / A requests/s (cookie, /bench.txt)", f"≥ {TARGET_B_OVER_A}×",
        per_round(lambda r: rps(r, "B") / rps(r, "A")), lambda m: m >= TARGET_B_OVER_A,
        lambda m: f"{m:.3f}× < {TARGET_B_OVER_A}×", "×")
    add("B − A nginx CPU per request", f"≤ {TARGET_B_MINUS_A_US:g} µs",
        per_round(lambda r: cpu(r, "B") - cpu(r, "A")), lambda m: m <= TARGET_B_MINUS_A_US,
        lambda m: f"{m - TARGET_B_MINUS_A_US:+.2f} µs over", "µs")
    add("B' / A requests/s (cookie, /marketing/…)", f"≥ {TARGET_B_OVER_A}×",
        per_round(lambda r: rps(r, "B'") / rps(r, "A")), lambda m: m >= TARGET_B_OVER_A,
        lambda m: f"{m:.3f}× < {TARGET_B_OVER_A}×", "×")
    add("B' − A nginx CPU per request", f"≤ {TARGET_B_MINUS_A_US:g} µs",
        per_round(lambda r: cpu(r, "B'") - cpu(r, "A")), lambda m: m <= TARGET_B_MINUS_A_US,
        lambda m: f"{m - TARGET_B_MINUS_A_US:+.2f} µs over", "µs")
    add("B / C requests/s (module vs auth_request)", f"≥ {TARGET_B_OVER_C:g}×",
        per_round(lambda r: rps(r, "B") / rps(r, "C")), lambda m: m >= TARGET_B_OVER_C,
        lambda m: f"{m:.1f}× < {TARGET_B_OVER_C:g}×", "×")
    add("C / B CPU per request (nginx + auth service vs nginx)", "(info)",
        per_round(lambda r: (cpu(r, "C") + r["C"]["service_cpu_us"]) / cpu(r, "B")), lambda m: True,
        lambda m: "", "×")
    add("D / B nginx CPU per request (cached Basic vs cookie)", f"≤ {TARGET_D_OVER_B_CPU:g}×",
        per_round(lambda r: cpu(r, "D") / cpu(r, "B")), lambda m: m <= TARGET_D_OVER_B_CPU,
        lambda m: f"{m:.2f}× > {TARGET_D_OVER_B_CPU:g}×", "×")
    add("E / D nginx CPU per request (cache off vs on)", "(info)",
        per_round(lambda r: cpu(r, "E") / cpu(r, "D")), lambda m: True, lambda m: "", "×")
    add("F1 − F0c nginx CPU per request (callback check)", f"≤ {TARGET_F_US:g} µs",
        per_round(lambda r: cpu(r, "F1") - cpu(r, "F0c")), lambda m: m <= TARGET_F_US,
        lambda m: f"{m - TARGET_F_US:+.2f} µs over", "µs")
    add("F1 − F0 nginx CPU per request (the whole module on a callback: cookie + check)", "(info)",
        per_round(lambda r: cpu(r, "F1") - cpu(r, "F0")), lambda m: True, lambda m: "", "µs")
    add("F1 / F0 requests/s", "(info)", per_round(lambda r: rps(r, "F1") / rps(r, "F0")), lambda m: True,
        lambda m: "", "×")
    g = f"{LARGE_USERS // 1000}k"
    add(f"G cookie: {g} / 10 users nginx CPU per request", f"≤ {1 + TARGET_G_GROWTH:g}×",
        per_round(lambda r: cpu(r, "G100k") / cpu(r, "G10")), lambda m: m <= 1 + TARGET_G_GROWTH,
        lambda m: f"{m:.3f}×", "×")
    add(f"G Basic cached: {g} / 10 users nginx CPU per request", f"≤ {1 + TARGET_G_GROWTH:g}×",
        per_round(lambda r: cpu(r, "G100kb") / cpu(r, "G10b")), lambda m: m <= 1 + TARGET_G_GROWTH,
        lambda m: f"{m:.3f}×", "×")
    return out


def summarize(cases: list[Case], rounds: list[dict]) -> list[dict]:
    rows = []
    for c in cases:
        runs = [r[c.id] for r in rounds if c.id in r]
        if not runs:
            continue
        row = {"id": c.id, "label": c.label, "rounds": len(runs)}
        for k in ("rps", "p50_us", "p99_us", "nginx_cpu_us", "nginx_user_us", "nginx_sys_us", "nginx_busy",
                  "wrk_busy", "service_cpu_us"):
            vals = [x[k] for x in runs if k in x]
            if vals:
                row[k] = med(vals)
                row[k + "_min"], row[k + "_max"] = min(vals), max(vals)
        row["errors"] = sum(x["errors"] for x in runs)
        row["non2xx"] = sum(x["non2xx"] for x in runs)
        row["requests"] = sum(x["requests"] for x in runs)
        row["seconds"], row["connections"] = c.seconds, c.connections
        rows.append(row)
    return rows


def plot(rows: list[dict], path: Path, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def color(i):
        if i in ("A", "F0", "F0c"):
            return "#8c8c8c"  # the baselines
        if i == "C":
            return "#d62728"  # the old design
        if i == "E":
            return "#ff7f0e"  # bcrypt on every request
        return "#1f77b4"  # the module

    rows = list(reversed(rows))  # first case on top
    labels = [f"{r['id']}  {r['label']}" for r in rows]
    colors = [color(r["id"]) for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.42 * len(rows) + 1.6), sharey=True)
    for ax, key, xlabel in ((ax1, "rps", "requests/s (median over rounds; log scale)"),
                            (ax2, "nginx_cpu_us", "nginx CPU µs per request (median; log scale)")):
        vals = [r[key] for r in rows]
        err = [[r[key] - r[key + "_min"] for r in rows], [r[key + "_max"] - r[key] for r in rows]]
        bars = ax.barh(labels, vals, color=colors, xerr=err, capsize=2, error_kw={"elinewidth": 0.8})
        if key == "nginx_cpu_us" and any("service_cpu_us" in r for r in rows):
            svc = [r.get("service_cpu_us", 0) for r in rows]
            ax.barh(labels, svc, left=vals, color="#ff9896", label="C: + the auth service's CPU")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(left=1)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", which="both", alpha=0.3)
        for b, r in zip(bars, rows):
            v = r[key]
            if key == "rps":
                text = fmt_rps(v)
            else:
                text = fmt_us(v) + (f" + {fmt_us(r['service_cpu_us'])}" if "service_cpu_us" in r else "")
            x = max(r[key + "_max"], v + (r.get("service_cpu_us", 0) if key == "nginx_cpu_us" else 0))
            ax.annotate(text, (x, b.get_y() + b.get_height() / 2), va="center", ha="left", fontsize=7.5,
                        xytext=(4, 0), textcoords="offset points")
        top = max(v + r.get("service_cpu_us", 0) * (key == "nginx_cpu_us") for v, r in zip(vals, rows))
        ax.set_xlim(1, top * 12)
    ax1.tick_params(axis="y", labelsize=8.5)
    fig.suptitle(title, fontsize=9.5)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(m: dict, rows, rats, scale, notes, profile_md, body_len, cache):
    g = f"{LARGE_USERS:,}".replace(",", " ")
    L = []
    L.append("# Benchmark results\n")
    L.append(f"Generated by `make bench` (bench/bench.py) on {m['date']}, at commit {m['commit']}. "
             "Figures are reported, not tested; rerun `make bench` to refresh them.\n")
    L.append("![requests/s and nginx CPU per request by case](results.png)\n")
    L.append("## Machine\n")
    L.append(f"- CPU: {m['cpu']}, {m['nproc']} CPUs (`nproc`)")
    L.append(f"- kernel {m['kernel']}; {m['nginx']} (Debian's `/usr/sbin/nginx`, every case); {m['wrk']}")
    L.append(f"- load average at start: {' '.join(m['loadavg'])}")
    for n in notes:
        L.append(f"- **{n}**")
    L.append("")
    L.append("## Ratios against the targets of issue 6\n")
    L.append("Each ratio is taken per round between runs of the same round, then the median over rounds "
             "(range in brackets).\n")
    L.append("| measure | target | median | range | verdict |")
    L.append("|---|---|---|---|---|")
    for r in rats:
        unit = r["unit"]
        f = (lambda x: f"{x:.2f} µs") if unit == "µs" else (lambda x: f"{x:.3f}×" if x < 10 else f"{x:.1f}×")
        L.append(f"| {r['name']} | {r['target']} | {f(r['median'])} | {f(r['min'])} … {f(r['max'])} | "
                 f"{r['verdict']} |")
    if scale:
        t = scale["nginx_t_large_s"]
        scale_row = True
    else:
        scale_row = False
    if scale_row:
        L.append(f"| `nginx -t` with {g} users | < {TARGET_NGINX_T_S:g} s | {t:.3f} s | "
                 f"(10 users: {scale['nginx_t_10_s']:.3f} s) | {verdict(t < TARGET_NGINX_T_S, f'{t:.2f} s')} |")
    L.append("")
    a = next((r for r in rows if r["id"] == "A"), None)
    if a:
        eq = a["nginx_cpu_us"] / (a["nginx_cpu_us"] + TARGET_B_MINUS_A_US)
        L.append(f"With one saturated worker, requests/s are inverse to CPU per request, so the two cookie-path targets "
                 f"agree only at the issue's reference ceiling (10.3 µs per request): with this run's ceiling of "
                 f"{a['nginx_cpu_us']:.2f} µs, {TARGET_B_MINUS_A_US:g} µs more is {eq:.2f}× the requests/s.\n")
    L.append("## Per case\n")
    L.append(f"Median over {ROUNDS} rounds (min … max of requests/s in brackets). CPU is nginx's (master + "
             "worker) utime + stime over the run, divided by the requests wrk completed; *busy* is that CPU "
             "time over the wall time of the run (100 % = the one worker saturated), and the same for wrk "
             "(100 % = the client is the limit). Latency percentiles are wrk's, which corrects for coordinated "
             "omission: one stall of the worker (a bcrypt, 70–90 ms, when a cached Basic login expires after "
             "`dash_auth_basic_cache_ttl`, 60 s by default) is enough to move the p99 of D and G…b.\n")
    L.append("| case | what | requests/s | p50 | p99 | nginx CPU / request (user + sys) | busy: nginx, wrk | errors |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        cpu = fmt_us(r["nginx_cpu_us"])
        if r["nginx_cpu_us"] < 10000:
            cpu += f" ({r['nginx_user_us']:.1f} + {r['nginx_sys_us']:.1f})"
        if "service_cpu_us" in r:
            cpu += f" (+ {fmt_us(r['service_cpu_us'])} auth service = {fmt_us(r['nginx_cpu_us'] + r['service_cpu_us'])})"
        errs = r["errors"] + r["non2xx"]
        L.append(f"| {r['id']} | {r['label']} | {fmt_rps(r['rps'])} ({fmt_rps(r['rps_min'])} … "
                 f"{fmt_rps(r['rps_max'])}) | {fmt_lat(r['p50_us'])} | {fmt_lat(r['p99_us'])} | {cpu} | "
                 f"{r['nginx_busy'] * 100:.0f} %, {r.get('wrk_busy', 0) * 100:.0f} % | {errs if errs else '0'} |")
    L.append("")
    if scale:
        L.append("## Users file scale\n")
        L.append(f"- `nginx -t` (whole process: start, parse, load, exit; median of 3): 10 users "
                 f"{scale['nginx_t_10_s'] * 1000:.0f} ms, {g} users {scale['nginx_t_large_s'] * 1000:.0f} ms "
                 f"({scale['large_file_mb']:.1f} MB file).")
        L.append("- The cookie path never reads the users file (the token carries the user and sections); the "
                 "cached-Basic path looks the user up on every request (G…b rows). The user sits on the last "
                 "line of each file, so a linear scan would show.\n")
    L.append("## How it was measured\n")
    L.append(f"""- One nginx binary for every case: Debian's `/usr/sbin/nginx` (built with `auth_request`), with
  the module built for it by `scripts/build-debian-module.sh`. One nginx instance serves every case,
  one `server` per case on its own loopback port (`render_conf` in `bench/bench.py` writes its
  `nginx.conf`). `worker_processes 1`, master and worker pinned
  to CPU {NGINX_CPU} (`taskset`, `worker_cpu_affinity`); wrk pinned to CPU {WRK_CPU}:
  `taskset -c {WRK_CPU} wrk -t1 -c{CONNECTIONS} -d{SECONDS}s --latency` (E: `-c1 -d{E_SECONDS}s`).
  Plain http, keepalive (`keepalive_requests` 10 000 000), `access_log off`, a 13-byte static file.
- Cases run interleaved: one round is every case once, in the table's order; {ROUNDS} rounds, after a
  {WARMUP:g} s warm-up of each case. Before the rounds every case is checked once with curl (status and
  body), and each protected case is checked to refuse a request it must refuse (no credentials,
  tampered cookie, forbidden section, wrong password, a callback into `hr`).
- The cookie is a real `example_jwt` minted by the module for `{USER}` (sections: `marketing`), sent
  as-is to B, C, F and G. Basic is `{USER}`'s bcrypt cost-10 password from `nginx-conf/users`.
- C: `auth_request /_auth` → `proxy_pass` to an upstream with `keepalive 32` → `bench/auth_service.py`
  (Flask {_pkg_version('flask')}, PyJWT {_pkg_version('jwt')}) under gunicorn {_pkg_version('gunicorn')}
  (2 workers, gthread, 8 threads, keep-alive), verifying the same cookie with the same secret
  (HS256 only, `exp`/`iat` required, section check on `X-Original-URI`). gunicorn is not pinned: it may
  run on every CPU, including nginx's, which favours the old design; its own CPU (master + workers) is
  shown next to nginx's.
- D runs on the same server as B (`dash_auth_basic_cache` at its default); E on a server with
  `dash_auth_basic_cache off`. {'' if cache else 'SKIPPED: this build of the module has no dash_auth_basic_cache.'}
- F: `POST /_dash-update-component` with a {body_len}-byte callback body (`dashboard/examples/pattern-all.json`
  with 30 `ALL` inputs, compact), `Content-Type: application/json`, the same cookie, proxied with keepalive
  to a `return 200` server in the same nginx that answers a fixed Dash reply. F1 has the module with
  the demo app's `dash_auth_dependencies_file`: it reads and checks the body before proxying and buffers
  and checks the reply (`{USER}` lacks `_all_`). F0c is the same location with the module and
  `dash_auth_callback_check off` ("the same POST on a location without the check"): F1 − F0c is the
  check's cost, the target. F0 is the location without the module: F1 − F0 is everything the module
  adds to a callback, the cookie check included. All upstream hops run in the same worker.
- G: users files of 10 and {g} lines (copies of one bcrypt line under other names; `{USER}` last).
- CPU: `/proc/<pid>/stat` utime + stime ({CLK_TCK} ticks/s) of the nginx master and worker, read just
  before and just after each wrk run, divided by wrk's completed requests.
- Raw per-round figures: `results.json`.
""")
    if profile_md:
        L.append(profile_md)
        if (OUT / "profile.md").exists():
            L.append("Where the module's time goes and what would shrink it, from these profiles: "
                     "[profile.md](profile.md) (written by hand; its figures are from the run it names).\n")
    (OUT / "results.md").write_text("\n".join(L))


def _pkg_version(name: str) -> str:
    r = subprocess.run([str(BENCH / ".venv/bin/python"), "-c", f"import {name}; print({name}.__version__)"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


# --------------------------------------------------------------------------- main


def main():
    for tool in ("wrk", "taskset", "curl"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found (bench/setup.sh installs it)")
    if not Path(MODULE_SO).exists():
        sys.exit(f"bench: {MODULE_SO} missing: run scripts/build-debian-module.sh")
    OUT.mkdir(parents=True, exist_ok=True)
    notes = []
    if NPROC < 2:
        notes.append("only one CPU: nginx and wrk share it, so requests/s are not comparable to a 2-CPU run")
    fuzz_start = fuzzers_running()
    m = machine()
    w = prepare_workdir()
    log(f"workdir {w}")
    cache = cache_supported(w)
    if not cache:
        log("SKIP D, E and the cached-Basic G cases: this module build has no dash_auth_basic_cache "
            "(rebuild with scripts/build-debian-module.sh once it lands)")
        notes.append("D, E and the cached-Basic G cases were skipped: the module build has no "
                     "`dash_auth_basic_cache` directive")
    body = w / "callback.json"
    body_len = write_callback_body(body)
    ports = {k: free_port() for k in ("A", "B", "C", "E", "F0", "F0c", "F1", "cheap", "G10", "G100k", "auth")}
    conf = w / "conf/nginx.conf"
    conf.write_text(render_conf(w, ports, cache=cache))

    scale = {
        "nginx_t_10_s": time_nginx_t(w, w / "users-10"),
        "nginx_t_large_s": time_nginx_t(w, w / "users-large"),
        "large_file_mb": (w / "users-large").stat().st_size / 1e6,
    }
    log(f"nginx -t: 10 users {scale['nginx_t_10_s']:.3f} s, {LARGE_USERS} users {scale['nginx_t_large_s']:.3f} s")

    nginx = service = None
    rounds: list[dict] = []
    fuzz_rounds = 0
    perf_data, perf_md = None, ""
    try:
        service = AuthService(w, ports["auth"])
        nginx = Nginx(w, conf, ports["A"])
        login = curl(f"http://127.0.0.1:{ports['B']}/bench.txt", headers=[f"Authorization: {basic(USER, PASSWORD)}"])
        cookie = login.cookie()
        if login.status != 200 or not cookie:
            raise RuntimeError(f"login failed: {login.status} {login.headers}")
        cases = [c for c in make_cases(cookie, body) if cache or not c.needs_cache]
        if ONLY:
            cases = [c for c in cases if c.id in ONLY]
        for c in cases:
            check_case(c, ports[c.server])
        negative_checks(ports, cookie, w, cache)
        log("checks passed: every case answers 200 with its body, and refuses what it must")

        est = len(cases) * (ROUNDS * (SECONDS + 0.5) + WARMUP)
        log(f"{len(cases)} cases x {ROUNDS} rounds x {SECONDS} s (E: {E_SECONDS} s): about {est / 60:.1f} min")
        for c in cases:
            wrk(c, ports[c.server], WARMUP if c.id != "E" else min(WARMUP, 1))
        for rnd in range(ROUNDS):
            if fuzzers_running():
                fuzz_rounds += 1
            res = {}
            for c in cases:
                res[c.id] = run_case(c, ports[c.server], nginx, service)
                r = res[c.id]
                log(f"round {rnd + 1}/{ROUNDS} {c.id:7} {r['rps']:>10.1f} req/s  p50 {r['p50_us']:>7} µs  "
                    f"p99 {r['p99_us']:>8} µs  nginx {r['nginx_cpu_us']:9.2f} µs/req  busy "
                    f"{r['nginx_busy'] * 100:3.0f} %  wrk {r['wrk_busy'] * 100:3.0f} %  faults {r['nginx_faults']:.3f}/req" + (f"  service {r['service_cpu_us']:.0f} µs/req"
                                                         if "service_cpu_us" in r else "")
                    + (f"  ERRORS {r['errors']} non-2xx {r['non2xx']}" if r["errors"] or r["non2xx"] else ""))
            rounds.append(res)
        if PROFILE:
            import perf_profile

            if perf_profile.available():
                log("perf: sampling the worker natively during A, B, D, F0, F0c, F1")
                try:
                    perf_data, perf_md = perf_profile.run(
                        [c for c in cases if c.id in ("A", "B", "D", "F0", "F0c", "F1")], ports, nginx, wrk, cpu_ticks,
                        CLK_TCK, SECONDS, w, OUT)
                except Exception as e:  # the figures stand without it
                    log(f"perf profile failed: {e}")
                    (OUT / "profile-perf.txt").unlink(missing_ok=True)
            else:
                log("perf: `perf record -e cpu-clock` does not work here; native profile skipped")
        if fuzz_rounds:
            notes.append(f"fuzzers (`pgrep -f fuzz/target`) were running at the start of {fuzz_rounds} of {ROUNDS} "
                         "rounds. With the kernel's autogroup scheduling their session gets an equal share of "
                         "the CPUs whatever their nice level, so nginx and wrk each got about half a CPU: "
                         "requests/s are low and noisy; CPU per request is less affected")
        trouble = nginx.trouble()
        if trouble:
            notes.append("nginx error log had: " + "; ".join(trouble[:3]))
    finally:
        if nginx:
            nginx.stop()
        if service:
            service.stop()

    if not fuzz_rounds and (fuzz_start or fuzzers_running()):
        notes.append("fuzzer processes ran during part of the run: figures may be noisy")
    rows = summarize(cases, rounds)
    rats = ratios(rounds, {c.id: c for c in cases})

    profile_md = ""
    profile_data = None
    if PROFILE:
        import callgrind_profile

        try:
            profile_data, profile_md = callgrind_profile.run(
                w, ports, render_conf, cache, nginx_bin=NGINX_BIN, nginx_cpu=NGINX_CPU, cookie=cookie,
                authorization=basic(USER, PASSWORD), body=body, rows=rows, out=OUT)
        except Exception as e:  # the benchmark figures stand without the profile
            log(f"profile failed: {e}")
            (OUT / "profile-callgrind.txt").unlink(missing_ok=True)
            profile_md = f"## Profile\n\nThe callgrind profile failed this time: `{e}`.\n"

    (OUT / "results.json").write_text(json.dumps({
        "machine": m, "notes": notes, "settings": {
            "seconds": SECONDS, "rounds": ROUNDS, "e_seconds": E_SECONDS, "connections": CONNECTIONS,
            "nginx_cpu": NGINX_CPU, "wrk_cpu": WRK_CPU, "large_users": LARGE_USERS, "callback_body_bytes": body_len},
        "cases": rows, "ratios": rats, "users_scale": scale, "rounds": rounds, "profile": profile_data,
        "perf": perf_data,
    }, indent=1, ensure_ascii=False))
    plot(rows, OUT / "results.png", chart_title(m))
    write_report(m, rows, rats, scale, notes, profile_md + "\n" + perf_md, body_len, cache)
    shutil.rmtree(w, ignore_errors=True)

    print()
    for r in rats:
        print(f"{r['name']:<60} {r['median']:10.3f} {r['unit']:<3} {r['verdict']}")
    print(f"{'nginx -t with ' + str(LARGE_USERS) + ' users':<60} {scale['nginx_t_large_s']:10.3f} s")
    print(f"wrote {OUT / 'results.md'} and {OUT / 'results.png'}")


def rerender():
    """`bench.py --report`: results.md and results.png again from results.json."""
    import callgrind_profile

    global SECONDS, ROUNDS, E_SECONDS, CONNECTIONS, NGINX_CPU, WRK_CPU, LARGE_USERS
    data = json.loads((OUT / "results.json").read_text())
    rows, m, st = data["cases"], data["machine"], data["settings"]
    SECONDS, ROUNDS, E_SECONDS, CONNECTIONS = st["seconds"], st["rounds"], st["e_seconds"], st["connections"]
    NGINX_CPU, WRK_CPU, LARGE_USERS = st["nginx_cpu"], st["wrk_cpu"], st["large_users"]
    profile_md = ""
    if data.get("profile"):
        profile_md = callgrind_profile._markdown(data["profile"], {r["id"]: r for r in rows})
    if data.get("perf"):
        import perf_profile

        profile_md += "\n" + perf_profile._markdown(data["perf"])
    plot(rows, OUT / "results.png", chart_title(m))
    write_report(m, rows, data["ratios"], data["users_scale"], data["notes"], profile_md,
                 st["callback_body_bytes"], any(r["id"] == "D" for r in rows))


def chart_title(m: dict) -> str:
    return (f"ngx-dash-auth: {m['nginx']}, 1 worker pinned to 1 CPU, wrk -t1 -c{CONNECTIONS} on another; "
            f"{m['cpu']}, {m['date']}")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    if sys.argv[1:] == ["--report"]:
        rerender()
    else:
        main()
