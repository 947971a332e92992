#!/usr/bin/env python3
"""`make soak`: wrk against real nginx + module + the demo app, for a bounded time.

Six request kinds run side by side, each as its own wrk process that knows which
statuses are right for it (wrk's response callback cannot tell the requests of one
process apart):

    cookie-static   valid cookie, static file served by nginx        200
    cookie-bad      tampered cookie                                   401
    basic-login     Basic (SHA-256 crypt user), mints a cookie        200
    callback-ok     mike POSTs a marketing callback                   200
    callback-deny   mike POSTs the hr callback                        403
    path-deny       mike GETs /hr                                     403

It records worker crashes, unexpected statuses, worker RSS at 10 % of the run and at
the end, and error-log lines at warn or above; prints one summary line and exits
non-zero if any limit is broken. Loopback only; bounded by SOAK_SECONDS (120).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import Dashboard, Stack, basic  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "120"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "4"))
RSS_LIMIT_KB = 2048

LUA = r"""
local expected = {%(expected)s}
local counts = {}
function setup(thread) thread:set("id", tostring(thread)) end
function init(args)
  wrk.method = "%(method)s"
  -- Keep wrk's own Host header: add to the table, never replace it.
  for k, v in pairs({%(headers)s}) do wrk.headers[k] = v end
  %(body)s
  unexpected = 0
  total = 0
end
function response(status, headers, body)
  total = total + 1
  if not expected[status] then
    if unexpected < 3 then io.stderr:write("%(name)s: unexpected status ", status, "\n") end
    unexpected = unexpected + 1
  end
end
threads = {}
local orig_setup = setup
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local u, t = 0, 0
  for _, th in ipairs(threads) do u = u + th:get("unexpected"); t = t + th:get("total") end
  io.write(string.format("RESULT %%d %%d %%d\n", t, u, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_script(tmp: Path, name: str, method: str, headers: dict, body: bytes | None, expected: list[int]) -> Path:
    hdrs = ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in headers.items())
    body_lua = f"wrk.body = {json.dumps(body.decode())}" if body else ""
    exp = ", ".join(f"[{s}] = true" for s in expected)
    path = tmp / f"{name}.lua"
    path.write_text(LUA % {"expected": exp, "method": method, "headers": hdrs, "body": body_lua, "name": name})
    return path


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    tmp = Path(tempfile.mkdtemp(prefix="dash-auth-soak-"))
    users = tmp / "users"
    soak_line = subprocess.run([str(ROOT / "target/release/dash-auth-passwd"), "-5", "soak", "marketing"],
                               input=b"soak-pass\n", capture_output=True, check=True).stdout.decode()
    users.write_text((ROOT / "nginx-conf/users").read_text() + soak_line)
    html = tmp / "html"
    html.mkdir()
    (html / "soak.txt").write_text("soak static\n")
    os.chmod(tmp, 0o755)

    dashboard = Dashboard(tmp, env={"DASH_WORKERS": "4"})
    stack = Stack(dashboard, users=users, env={
        "WORKER_PROCESSES": "2",
        "EXTRA_SERVER": f"location = /soak.txt {{\n    root {html};\n}}",
    }).start()
    try:
        cookie = stack.get("/", headers=[f"Authorization: {basic('mike', '123456')}"]).cookie()
        bad = cookie[:-6] + ("AAAAAA" if not cookie.endswith("AAAAAA") else "BBBBBB")
        examples = ROOT / "dashboard/examples"
        ok_body = (examples / "marketing-dropdown.json").read_bytes()
        deny_body = (examples / "hr-slider.json").read_bytes()
        c = {"Cookie": f"example_jwt={cookie}"}
        cj = dict(c, **{"Content-Type": "application/json"})
        kinds = [
            ("cookie-static", "/soak.txt", "GET", c, None, [200]),
            ("cookie-bad", "/soak.txt", "GET", {"Cookie": f"example_jwt={bad}"}, None, [401]),
            ("basic-login", "/soak.txt", "GET", {"Authorization": basic("soak", "soak-pass")}, None, [200]),
            ("callback-ok", "/_dash-update-component", "POST", cj, ok_body, [200]),
            ("callback-deny", "/_dash-update-component", "POST", cj, deny_body, [403]),
            ("path-deny", "/hr", "GET", c, None, [403]),
        ]
        workers = stack.worker_pids()
        procs = []
        for name, path, method, headers, body, expected in kinds:
            script = lua_script(tmp, name, method, headers, body, expected)
            procs.append((name, subprocess.Popen(
                ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "-s", str(script),
                 stack.url(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        time.sleep(max(1.0, SECONDS * 0.1))
        rss_early = {pid: rss_kb(pid) for pid in workers}
        results = {}
        for name, p in procs:
            out, _ = p.communicate(timeout=SECONDS + 60)
            m = re.search(r"RESULT (\d+) (\d+) (\d+)", out)
            if not m:
                print(out)
                raise SystemExit(f"soak: wrk for {name} printed no result")
            results[name] = tuple(int(x) for x in m.groups())
            if results[name][1]:
                print("\n".join(l for l in out.splitlines() if "unexpected status" in l))
        alive = stack.worker_pids()
        rss_end = {pid: rss_kb(pid) for pid in workers if pid in alive}
    finally:
        log = stack.error_log
        try:
            stack.stop()
        except AssertionError as e:  # a crashed worker: reported below
            print(e)
        dashboard.stop()

    crashes = len(workers - alive) + log.count("exited on signal")
    unexpected = sum(r[1] for r in results.values())
    socket_errors = sum(r[2] for r in results.values())
    total = sum(r[0] for r in results.values())
    growth = max((rss_end[p] - rss_early[p] for p in rss_end), default=0)
    loud = [l for l in log.splitlines() if re.search(r"\[(warn|error|crit|alert|emerg)\]", l)]
    for name, (t, u, e) in results.items():
        print(f"  {name:14s} {t:8d} requests  {u} unexpected  {e} socket errors")
    for l in loud[:10]:
        print("  log:", l)
    ok = crashes == 0 and unexpected == 0 and socket_errors == 0 and growth < RSS_LIMIT_KB and not loud
    print(f"soak: {SECONDS} s, {total} requests ({total / SECONDS:.0f}/s), {unexpected} unexpected statuses, "
          f"{socket_errors} socket errors, {crashes} worker crashes, worker RSS growth {growth} KB "
          f"(early {sorted(rss_early.values())} KB, end {sorted(rss_end.values())} KB), "
          f"{len(loud)} warn+ log lines: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
