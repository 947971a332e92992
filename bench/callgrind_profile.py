"""The profile part of `make bench`: instructions per request under callgrind.

perf cannot count instructions on this project's machines (virtual CPUs with no
PMU: `perf stat -e instructions` says "not supported"), so the profile is
valgrind's callgrind, which counts every instruction executed (Ir) exactly.

For each profiled case, nginx runs under callgrind twice, in one process
(`master_process off; daemon off;`), collecting only inside
`ngx_process_events_and_timers` (the event loop: every request, no start-up or
config parsing). Each session gets the same warm-up, then N1 or N2 requests
over one keepalive connection; the difference of the two sessions, divided by
N2 - N1, is the exact cost of one request, with start-up, warm-up (and the
one bcrypt of a first Basic login) cancelled out.

From the call graph it reports, per request: all instructions; the module's
own functions by self cost, plus the libc functions they call (malloc, free,
memcpy). Raw `callgrind_annotate` output of the larger B session is saved next
to the results. For the reply-check cases (R, L and their twins), also every
function's self cost, whatever its object, so that what a checked reply costs
over its unchecked twin can be split between the module, nginx and libc.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from harness import port_open

N1 = int(os.environ.get("BENCH_PROFILE_N1", "100"))
N2 = int(os.environ.get("BENCH_PROFILE_N2", "1100"))
WARM = 50
MODULE_OBJ = "libngx_http_dash_auth_module"
# The reply-check cases, profiled from their bench Case; and (checked,
# unchecked twin) pairs whose difference is the reply check.
REPLY_CASES = ("R", "Ra", "Rf", "L", "La", "Lf")
REPLY_PAIRS = (("R", "Ra"), ("L", "La"), ("Rf", "Ra"), ("Lf", "La"))
KB = 1024


def _log(*a):
    print("bench: profile:", *a, flush=True, file=__import__("sys").stderr)


# --------------------------------------------------------------------------- callgrind format


class Profile:
    """Self cost per (object, function) and inclusive cost per call arc."""

    def __init__(self, path: Path):
        self.self_cost: dict[tuple[str, str], int] = defaultdict(int)
        self.calls: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self.total = 0
        names = {"ob": {}, "fl": {}, "fn": {}}
        space = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl",
                 "fn": "fn", "cfn": "fn"}
        ob = fn = cob = cfn = None
        pending_call = False
        name_re = re.compile(r"^\((\d+)\)(?: (.*))?$")
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    cost = line.split()
                    ir = int(cost[1]) if len(cost) > 1 else 0
                    if pending_call:
                        self.calls[(ob, fn, cob or ob, cfn)] += ir
                        pending_call = False
                        cob = None
                    else:
                        self.self_cost[(ob, fn)] += ir
                    continue
                key, eq, val = line.partition("=")
                if eq and key in space:
                    m = name_re.match(val)
                    table = names[space[key]]
                    if m:
                        if m.group(2) is not None:
                            table[m.group(1)] = m.group(2)
                        val = table.get(m.group(1), val)
                    if key == "ob":
                        ob = val
                    elif key == "fn":
                        fn = val
                        cob = None
                    elif key == "cob":
                        cob = val
                    elif key == "cfn":
                        cfn = val
                elif key == "calls":
                    pending_call = True
                elif line.startswith("summary:") or line.startswith("totals:"):
                    self.total = max(self.total, int(line.split()[1]))
        if not self.total:
            self.total = sum(self.self_cost.values())


def is_module(ob: str | None) -> bool:
    return bool(ob) and MODULE_OBJ in ob


def short_fn(name: str) -> str:
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    return name if len(name) <= 90 else name[:87] + "..."


def crate_of(fn: str) -> str:
    fn = fn.lstrip("<")
    head = re.split(r"::| as ", fn, maxsplit=1)[0]
    return head or fn


def _ours(fn: str | None) -> bool:
    """A function of dash_auth_core, not a recursive ('2) copy. (The module
    crate's entry points are left out: their inclusive cost holds nginx's
    work too, such as the rest of the request after a body is read.)"""
    return bool(fn) and fn.startswith("dash_auth_core::") and "'" not in fn


def fmt_int(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def per_request(a: Profile, b: Profile, n: int, every_function: bool = False) -> dict:
    """What session b has over session a, per request.

    The module's cost is its own functions' self cost plus what they call in
    libc (malloc, free, memcpy): not what they call in nginx, which includes
    the next filter of a chain, or the rest of the request after a body read.
    """
    d = {"total": (b.total - a.total) / n}
    libc = defaultdict(float)  # what module code calls outside the module, not in nginx
    nginx_calls = defaultdict(float)
    selfc = defaultdict(float)
    for key, ir in b.calls.items():
        cob, _cfn, tob, tfn = key
        if is_module(cob) and not is_module(tob):
            delta = (ir - a.calls.get(key, 0)) / n
            if "nginx" in Path(tob or "?").name:
                nginx_calls[short_fn(tfn)] += delta
            else:
                libc[f"{Path(tob or '?').name}: {short_fn(tfn)}"] += delta
    incl = defaultdict(float)  # dash_auth_core functions: self + everything they call
    for (ob, fn), ir in b.self_cost.items():
        if is_module(ob):
            selfc[short_fn(fn)] += (ir - a.self_cost.get((ob, fn), 0)) / n
            if _ours(fn):
                incl[short_fn(fn)] += (ir - a.self_cost.get((ob, fn), 0)) / n
    for key, ir in b.calls.items():
        cob, cfn, _tob, _tfn = key
        if is_module(cob) and _ours(cfn):
            incl[short_fn(cfn)] += (ir - a.calls.get(key, 0)) / n
    d["module_self"] = sum(selfc.values())
    d["module_libc"] = sum(libc.values())
    d["module"] = d["module_self"] + d["module_libc"]
    d["libc"] = dict(sorted(libc.items(), key=lambda kv: -kv[1]))
    d["nginx_calls"] = dict(sorted(nginx_calls.items(), key=lambda kv: -kv[1]))
    d["self"] = dict(sorted(selfc.items(), key=lambda kv: -kv[1]))
    d["inclusive"] = dict(sorted(incl.items(), key=lambda kv: -kv[1]))
    crates = defaultdict(float)
    for fn, ir in selfc.items():
        crates[crate_of(fn)] += ir
    d["crates"] = dict(sorted(crates.items(), key=lambda kv: -kv[1]))
    if every_function:
        allself = defaultdict(float)
        for (ob, fn), ir in b.self_cost.items():
            allself[f"{Path(ob or '?').name}: {short_fn(fn or '?')}"] += (ir - a.self_cost.get((ob, fn), 0)) / n
        d["all_self"] = {k: round(v, 1) for k, v in sorted(allself.items(), key=lambda kv: -kv[1]) if abs(v) >= 2}
    # Consistency: the average over the larger session alone (start-up
    # excluded, warm-up included) should be close to the difference.
    d["avg_session"] = b.total / (n + WARM + N1)
    return d


# --------------------------------------------------------------------------- sessions


def _rows(counts: dict, n: int, note: str = "") -> list[str]:
    """The first n (largest) functions of counts, as table rows."""
    return [f"| {fmt_int(v)} | `{k}`{note} |" for k, v in list(counts.items())[:n] if v >= 1]


def _drive(port: int, method: str, path: str, headers: dict, body: bytes | None, n: int):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for _ in range(n):
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"{method} {path}: status {r.status}")
    finally:
        conn.close()


def _quit(proc: subprocess.Popen, port: int):
    """SIGQUIT, repeated with a connection to wake the event loop: under
    valgrind a signal that lands just before epoll_wait can wait for the
    next event, and an idle nginx has none."""
    deadline = time.monotonic() + 120
    while proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)
        port_open(port)
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError("nginx under callgrind did not exit on SIGQUIT")


def _session(prefix: Path, conf: Path, nginx_bin: str, cpu: int, out: Path, port: int, req: tuple, n: int):
    cmd = ["taskset", "-c", str(cpu), "valgrind", "--tool=callgrind", "--toggle-collect=ngx_process_events_and_timers",
           f"--callgrind-out-file={out}", nginx_bin, "-p", str(prefix), "-c", str(conf), "-g",
           "daemon off; master_process off;"]
    with open(prefix / "logs/valgrind.log", "ab") as vlog:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=vlog)
        t0 = time.monotonic()
        try:
            deadline = time.monotonic() + 120
            while not port_open(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx under callgrind did not start; see " + str(prefix / "logs"))
                time.sleep(0.2)
            t1 = time.monotonic()
            _drive(port, *req, WARM)
            _drive(port, *req, n)
            t2 = time.monotonic()
        finally:
            _quit(proc, port)
    _log(f"{out.name}: start {t1 - t0:.1f} s, {WARM}+{n} requests {t2 - t1:.1f} s, exit {time.monotonic() - t2:.1f} s")
    return Profile(out)


def run(w: Path, ports: dict, render_conf, cache: bool, *, nginx_bin: str, nginx_cpu: int, cookie: str,
        authorization: str, body: Path, rows: list[dict], out: Path, replies: dict | None = None,
        reply_sizes: dict | None = None):
    """Profiles A, B, D (if the cache exists), F0, F0c and F1, then the
    reply-check cases of `replies` (id -> (port, (method, path, headers,
    body))). Returns (data, markdown)."""
    prefix = w / "prof"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render_conf(w, ports, cache=cache, profile=True))
    c = {"Cookie": f"example_jwt={cookie}"}
    cases = {
        "A": (ports["A"], ("GET", "/bench.txt", c, None)),
        "B": (ports["B"], ("GET", "/bench.txt", c, None)),
        "D": (ports["B"], ("GET", "/bench.txt", {"Authorization": authorization}, None)),
        "F0": (ports["F0"], ("POST", "/_dash-update-component", dict(c, **{"Content-Type": "application/json"}),
                             body.read_bytes())),
        "F0c": (ports["F0c"], ("POST", "/_dash-update-component", dict(c, **{"Content-Type": "application/json"}),
                               body.read_bytes())),
        "F1": (ports["F1"], ("POST", "/_dash-update-component", dict(c, **{"Content-Type": "application/json"}),
                             body.read_bytes())),
    }
    if not cache:
        del cases["D"]
    cases.update(replies or {})
    data = {"n1": N1, "n2": N2, "cases": {}, "reply_bytes": reply_sizes or {}}
    raw_b = None
    for cid, (port, req) in cases.items():
        t0 = time.monotonic()
        a = _session(prefix, conf, nginx_bin, nginx_cpu, prefix / f"cg-{cid}-{N1}.out", port, req, N1)
        b = _session(prefix, conf, nginx_bin, nginx_cpu, prefix / f"cg-{cid}-{N2}.out", port, req, N2)
        data["cases"][cid] = per_request(a, b, N2 - N1, every_function=cid in REPLY_CASES)
        d = data["cases"][cid]
        _log(f"{cid}: {d['total']:.0f} Ir/request (session average {d['avg_session']:.0f}), module {d['module']:.0f} "
             f"({time.monotonic() - t0:.0f} s)")
        if cid == "B":
            raw_b = prefix / f"cg-{cid}-{N2}.out"

    native = {r["id"]: r for r in rows}

    raw = ""
    if raw_b:
        raw = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=99", str(raw_b)],
                             capture_output=True, text=True).stdout
        raw_incl = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99", str(raw_b)],
                                  capture_output=True, text=True).stdout
    text = [_summary_text(data)]
    if raw:
        text.append(f"\n\n==== callgrind_annotate --inclusive=no, case B, session of {WARM}+{N2} requests "
                    "(includes the warm-up) ====\n")
        text.append("\n".join(raw.splitlines()[:80]))
        text.append(f"\n\n==== callgrind_annotate --inclusive=yes, same session ====\n")
        text.append("\n".join(raw_incl.splitlines()[:80]))
    (out / "profile-callgrind.txt").write_text("\n".join(text) + "\n")
    return data, _markdown(data, native)


def _summary_text(data: dict) -> str:
    L = [f"Instructions per request (Ir), from two callgrind sessions of {WARM}+{data['n1']} and "
         f"{WARM}+{data['n2']} requests (difference / {data['n2'] - data['n1']}); collection inside "
         "ngx_process_events_and_timers only (user space: nginx, the module, libc; not the kernel).",
         "Under valgrind the CPU has no SHA extensions: sha2 runs its portable code here, while natively it "
         "uses SHA-NI, so sha2::sha256::compress256 costs far fewer cycles natively than its share below.", ""]
    for cid, d in data["cases"].items():
        L.append(f"== {cid}: {d['total']:.0f} Ir/request (average over the larger session: {d['avg_session']:.0f}); "
                 f"module: {d['module']:.0f} = own code {d['module_self']:.0f} + libc it calls {d['module_libc']:.0f}")
        L.append("  module functions (self):")
        L += [f"    {v:10.0f}  {k}" for k, v in list(d["self"].items())[:30] if v >= 1]
        L.append("  libc called from the module (inclusive):")
        L += [f"    {v:10.0f}  {k}" for k, v in list(d["libc"].items())[:10] if v >= 1]
        L.append("  nginx called from the module (inclusive; includes the next filter, the rest of the request):")
        L += [f"    {v:10.0f}  {k}" for k, v in list(d["nginx_calls"].items())[:8] if v >= 1]
        L.append("  dash_auth_core functions, inclusive of what they call:")
        L += [f"    {v:10.0f}  {k}" for k, v in list(d.get("inclusive", {}).items())[:25] if v >= 1]
        L.append("  module self cost by crate:")
        L += [f"    {v:10.0f}  {k}" for k, v in d["crates"].items() if v >= 1]
        if d.get("all_self"):
            L.append("  every function, self cost (nginx, libc, the module):")
            L += [f"    {v:10.0f}  {k}" for k, v in list(d["all_self"].items())[:25]]
        L.append("")
    return "\n".join(L)


def _reply_markdown(data: dict) -> list[str]:
    """The reply check per KB, and where a checked reply's instructions go
    beyond its unchecked twin's."""
    cs, sizes = data["cases"], data.get("reply_bytes", {})
    pairs = [(c, t) for c, t in REPLY_PAIRS if c in cs and t in cs and c in sizes]
    if not pairs:
        return []
    L = []
    for c, t in pairs:
        diff = cs[c]["total"] - cs[t]["total"]
        mod = cs[c]["module"] - cs[t]["module"]
        kb = sizes[c] / KB
        L.append(f"- ({c} − {t}) / {kb:.2f} KB (the reply check): **{fmt_int(diff / kb)} instructions per KB** "
                 f"({fmt_int(diff)} per request; the module's own code and the libc it calls: {fmt_int(mod)}).")
    for c, t in pairs:
        if "all_self" not in cs[c] or "all_self" not in cs[t]:
            continue
        a, b = cs[t]["all_self"], cs[c]["all_self"]
        delta = {k: b.get(k, 0) - a.get(k, 0) for k in {*a, *b}}
        top = sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:12]
        L.append(f"\n{c} − {t}, per request, by function (self cost, every object; largest changes first):\n")
        L.append("| instructions | function |")
        L.append("|---|---|")
        L += [f"| {fmt_int(v)} | `{k}` |" for k, v in top if abs(v) >= 1]
    L.append("")
    return L


def _markdown(data: dict, native: dict) -> str:
    cs = data["cases"]
    L = ["## Profile (callgrind)\n",
         "`perf stat -e instructions` is not supported on these virtual CPUs, so the profile counts "
         "instructions with valgrind's callgrind: nginx in one process under callgrind, collecting inside "
         f"the event loop only, two sessions per case ({data['n1']} and {data['n2']} requests after the same "
         f"warm-up); their difference divided by {data['n2'] - data['n1']} is the exact user-space instruction "
         "count of one request (the kernel's share of the CPU time, the socket calls, is not counted). "
         "*Module* is the module's own functions plus the libc functions they call (malloc, free, memcpy). "
         "Under valgrind the CPU has no SHA extensions, so SHA-256 runs portable code there and looks "
         "several times costlier than it is natively (SHA-NI). "
         "Full tables: [profile-callgrind.txt](profile-callgrind.txt).\n",
         "| case | instructions / request | of which the module | measured nginx CPU / request (user + sys) |",
         "|---|---|---|---|"]
    for cid, d in cs.items():
        n = native.get(cid, {})
        cpu = f"{n['nginx_cpu_us']:.2f} µs" if n else "–"
        L.append(f"| {cid} | {fmt_int(d['total'])} | {fmt_int(d['module'])} | {cpu} |")
    L.append("")
    if "A" in cs and "B" in cs:
        diff = cs["B"]["total"] - cs["A"]["total"]
        L.append(f"- B − A: {fmt_int(diff)} instructions per request.")
    if "D" in cs and "B" in cs:
        L.append(f"- D / B: {cs['D']['total'] / cs['B']['total']:.2f}× the instructions.")
    if "F0" in cs and "F1" in cs:
        diff = cs["F1"]["total"] - cs["F0"]["total"]
        L.append(f"- F1 − F0: {fmt_int(diff)} instructions per request.")
    if "F0c" in cs and "F1" in cs:
        diff = cs["F1"]["total"] - cs["F0c"]["total"]
        L.append(f"- F1 − F0c (the callback check alone): {fmt_int(diff)} instructions per request.")
    L += _reply_markdown(data)
    for cid in ("B", "D", "F1"):
        if cid not in cs:
            continue
        d = cs[cid]
        L.append(f"\nCase {cid}, the module's instructions per request, largest first "
                 "(self cost of its functions; then libc calls):\n")
        L.append("| instructions | function |")
        L.append("|---|---|")
        L += _rows(d["self"], 10)
        L += _rows(d["libc"], 4, " (called by the module)")
        if d.get("inclusive"):
            L.append(f"\nCase {cid}, `dash_auth_core` functions with everything they call (inclusive; a nested "
                     "call counts in each caller):\n")
            L.append("| instructions | function |")
            L.append("|---|---|")
            L += _rows(d["inclusive"], 10)
    L.append("")
    return "\n".join(L)
