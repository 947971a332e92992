"""The processes a run starts and reads: nginx (one instance, one pinned
worker), the auth service of case C under gunicorn, wrk; and the CPU time and
page faults of nginx from /proc, which turn a wrk run into figures per request.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import statistics
import subprocess
import time
from pathlib import Path

from cases import Case
from settings import BENCH, CLK_TCK, MODULE_SO, NGINX_BIN, NGINX_CPU, WRK_CPU
from harness import free_port, port_open, stop_group, wait_for  # after settings (see its docstring)


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
        self.log_start = 0

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

    def mark_log(self):
        """What the error log holds so far is not trouble: the negative
        checks log the refusals they provoke, a leaking page's as an error."""
        path = self.prefix / "logs/error.log"
        self.log_start = path.stat().st_size if path.exists() else 0

    def trouble(self) -> list[str]:
        path = self.prefix / "logs/error.log"
        log = ""
        if path.exists():
            with path.open("rb") as f:
                f.seek(self.log_start)
                log = f.read().decode(errors="replace")
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
