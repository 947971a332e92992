"""Native time profile for `make bench`: `perf record -e cpu-clock`.

The virtual CPUs have no PMU (no instruction or cycle counters), but perf's
software clock still samples the nginx worker natively, with SHA-NI and the
kernel included, unlike callgrind. Each profiled case runs once more under
wrk while perf samples the worker; the shares of each object (kernel, nginx,
libc, the module) are turned into µs per request with the worker's CPU time
over that run.
"""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

MODULE_DSO = "libngx_http_dash_auth_module.so"


def available() -> bool:
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
                       capture_output=True)
    return r.returncode == 0


def _report(data: Path, sort: str) -> list[tuple[float, str]]:
    out = subprocess.run(["perf", "report", "-i", str(data), "--sort", sort, "--stdio", "--percent-limit", "0.2"],
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(.*\S)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2)))
    return rows


def _dso_name(raw: str) -> str:
    if "kernel" in raw:
        return "kernel"
    if MODULE_DSO in raw:
        return "module"
    if raw.startswith("libc"):
        return "libc"
    if raw.startswith("nginx"):
        return "nginx"
    return "other"


def run(cases, ports: dict, nginx, wrk, cpu_ticks, clk_tck: int, seconds: int, workdir: Path, out: Path):
    """cases: the Case objects to profile. Returns (data, markdown)."""
    data = {}
    text = ["perf record -e cpu-clock (software clock sampling of the nginx worker, natively); "
            "shares of the worker's CPU time, and µs per request from the worker's utime+stime over the run.", ""]
    for c in cases:
        pids = nginx.pids()
        worker = pids[-1]
        path = workdir / f"perf-{c.id}.data"
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-o", str(path), "-p",
                                str(worker)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        t0 = cpu_ticks([worker])
        res = wrk(c, ports[c.server], seconds)
        t1 = cpu_ticks([worker])
        rec.send_signal(signal.SIGINT)
        rec.wait(60)
        us = (sum(t1) - sum(t0)) / clk_tck * 1e6 / max(res["requests"], 1)
        by_dso = {}
        for pct, name in _report(path, "dso"):
            key = _dso_name(name)
            by_dso[key] = by_dso.get(key, 0) + pct
        syms = [(pct, name) for pct, name in _report(path, "dso,sym")]
        module_syms = [(pct, re.sub(r"^\S+\s+\[\.\]\s+", "", name)) for pct, name in syms if MODULE_DSO in name]
        libc_syms = [(pct, re.sub(r"^\S+\s+\[\.\]\s+", "", name)) for pct, name in syms if name.startswith("libc")]
        data[c.id] = {"cpu_us": us, "dso_pct": by_dso,
                      "dso_us": {k: v / 100 * us for k, v in by_dso.items()},
                      "module_syms": module_syms[:20], "libc_syms": libc_syms[:12]}
        text.append(f"== {c.id} ({c.label}): {us:.2f} µs of worker CPU per request")
        text += [f"    {v:6.2f} %  {v / 100 * us:7.2f} µs  {k}" for k, v in sorted(by_dso.items(), key=lambda kv: -kv[1])]
        text.append("  module symbols (% of the worker's time):")
        text += [f"    {p:6.2f} %  {n}" for p, n in module_syms[:20]]
        text.append("  libc symbols:")
        text += [f"    {p:6.2f} %  {n}" for p, n in libc_syms[:12]]
        text.append("")
        path.unlink(missing_ok=True)
    (out / "profile-perf.txt").write_text("\n".join(text) + "\n")
    return data, _markdown(data)


def _markdown(data: dict) -> str:
    L = ["## Native time profile (perf, cpu-clock sampling)\n",
         "The same cases once more, with `perf record -e cpu-clock` sampling the nginx worker (natively: SHA-NI, "
         "the kernel's socket work included). Each object's share of the worker's samples times the worker's "
         "CPU time per request. Full lists: [profile-perf.txt](profile-perf.txt).\n",
         "| case | worker CPU / request | kernel | nginx | libc | module |",
         "|---|---|---|---|---|---|"]
    for cid, d in data.items():
        u = d["dso_us"]
        L.append(f"| {cid} | {d['cpu_us']:.2f} µs | {u.get('kernel', 0):.2f} µs | {u.get('nginx', 0):.2f} µs | "
                 f"{u.get('libc', 0):.2f} µs | {u.get('module', 0):.2f} µs |")
    for cid in ("B", "F1"):
        if cid not in data:
            continue
        d = data[cid]
        L.append(f"\nCase {cid}, the module's largest symbols natively (µs per request):\n")
        L.append("| µs | symbol |")
        L.append("|---|---|")
        for pct, name in d["module_syms"][:10]:
            L.append(f"| {pct / 100 * d['cpu_us']:.2f} | `{name[:100]}` |")
    L.append("")
    return "\n".join(L)
