"""From the runs of every round to the figures the report gives: medians per
case, and ratios between the cases of the same round against their targets.
"""
from __future__ import annotations

import statistics

from cases import Case
from settings import LARGE_USERS

# The verdict column compares each ratio with these; they are reported, never
# enforced, so a slow or busy machine still gets its report.
TARGET_B_MINUS_A_US = 2.0
TARGET_B_OVER_A = 0.85
TARGET_B_OVER_C = 20.0
TARGET_D_OVER_B_CPU = 2.0
TARGET_F_US = 10.0
TARGET_NGINX_T_S = 1.0
TARGET_G_GROWTH = 0.05  # "does not grow": within 5 % (noise) between 10 and 100 000 users
TARGET_REPLY_US_PER_KB = 1.0  # the reply check, nginx CPU per KB (1024 bytes) of reply
KB = 1024

# (checked case, its unchecked twin, what the row says): the reply check's
# cost per KB of the checked case's reply.
REPLY_PAIRS = (
    ("R", "Ra", "callback reply"),
    ("L", "La", "JSON layout"),
    ("Rf", "Ra", "callback reply, one \\u escape: read whole"),
    ("Lf", "La", "JSON layout, one \\u escape: read whole"),
)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def verdict(ok: bool | None, gap: str) -> str:
    if ok is None:
        return "–"
    return "PASS" if ok else f"gap: {gap}"


def ratios(rounds: list[dict], cases: dict, reply_bytes: dict | None = None) -> list[dict]:
    """Per-round ratios of paired runs, then their median (and range).
    reply_bytes: the reply size of the R and L cases, by case id."""

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
    for checked, twin, what in REPLY_PAIRS:
        if checked not in (reply_bytes or {}):
            continue
        n = reply_bytes[checked]
        kb = n / KB
        size = f"{n:,}".replace(",", " ")
        add(f"({checked} − {twin}) nginx CPU per KB: the reply check, {what} ({size} bytes = {kb:.2f} KB)",
            f"≤ {TARGET_REPLY_US_PER_KB:g} µs/KB",
            per_round(lambda r: (cpu(r, checked) - cpu(r, twin)) / kb), lambda m: m <= TARGET_REPLY_US_PER_KB,
            lambda m: f"{m / TARGET_REPLY_US_PER_KB:.1f}× the target", "µs/KB")
        # Holding a reply whole also changes how it is written: one buffer
        # to the client instead of one per proxy buffer, fewer writev calls,
        # less system time. User time alone is the check's own work.
        add(f"({checked} − {twin}) nginx user CPU per KB (the same, user time only)", "(info)",
            per_round(lambda r: (r[checked]["nginx_user_us"] - r[twin]["nginx_user_us"]) / kb), lambda m: True,
            lambda m: "", "µs/KB")
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
