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
    R/Ra  a callback POST (marketing-dropdown) answered by a 2.5 KB figure reply
          (core/tests/fixtures/replies/callback-2k5.json), with mike's cookie (he
          lacks hr: the reply is held and checked) and mica's (_all_: it is not);
          (R − Ra) / KB is the reply check's cost per KB
    L/La  a GET of a 100 KB JSON layout (router-100k.json, a static file of the
          cheap upstream) through the module, mike's and mica's cookies
    Rf/Lf R and L with one character of the reply spelled as a \\u escape, which
          the byte test cannot clear: the whole reply is read
    G     cookie and cached Basic with a 10-user and a 100 000-user file;
          `nginx -t` time with each file
    S     B beside a storm of 20 failed logins per second (bench/storm.py):
          p99 and requests/s with the storm against without
    P     Basic logins per second with 2 workers, cache off (bench/storm.py)
    RD0/RD the Redis store (bench/store.py, after the rest, with nginx
          instances and a redis-server of its own): the cookie path without
          and with `dash_auth_redis`; then 100 logouts on one instance, each
          timed until another instance refuses the cookie (median, worst)
    O     a whole single sign-on login against the local OpenID Provider
          (bench/sso.py, information only): median and p90, and nginx's part

BENCH_CASES=A,B,F0,F1 runs only those cases (with BENCH_OUT elsewhere, to
keep docs/bench as the full run left it).

The cases run interleaved, A B B' C ... then again, BENCH_ROUNDS times, each
for BENCH_SECONDS (E for BENCH_E_SECONDS). For each run: wrk's requests/s and
latency percentiles, and nginx's CPU time (utime + stime of master and worker
from /proc/<pid>/stat) divided by the requests wrk completed. Ratios are taken
per round, then the median over rounds is reported.

Then, unless BENCH_PROFILE=0: perf samples the worker natively (cpu-clock)
during one more run of A, B, D, F0, F0c and F1 (bench/perf_profile.py), and
callgrind counts their instructions per request, and those of R, Ra, Rf, L,
La and Lf (bench/callgrind_profile.py).

Writes docs/bench/results.md, results.png, results.json, profile-perf.txt and
profile-callgrind.txt, and store.json for the store. Reports figures; never
fails on them.
`bench.py --report` rewrites results.md and results.png from results.json.

This file only runs the steps in order. The rest of bench/:

    settings.py    the BENCH_* environment, paths, CPUs
    cases.py       the cases above, and the curl checks run before measuring
    configs.py     nginx.conf, the users files, the callback body, the work dir
    processes.py   nginx, the auth service, wrk; CPU time from /proc per run
    stats.py       medians per case, ratios per round, the targets
    report.py      results.md, results.png, the machine description
    perf_profile.py, callgrind_profile.py   the two profiles
    store.py       the Redis store's cases and logout propagation
    sso.py         the time of a whole SSO login
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from settings import (BENCH, KEEP, CLK_TCK, CONNECTIONS, E_SECONDS, LARGE_USERS, MODULE_SO, NGINX_BIN, NGINX_CPU, NPROC,
                      ONLY, OUT, PROFILE, ROUNDS, SECONDS, WARMUP, WRK_CPU)
from cases import check_case, make_cases, negative_checks
from configs import (MICA, MICA_PASSWORD, PASSWORD, USER, prepare_workdir, render_conf, write_callback_body,
                     write_graph_body)
from processes import AuthService, Nginx, cache_supported, cpu_ticks, fuzzers_running, run_case, time_nginx_t, wrk
from report import chart_title, machine, plot, write_report
from stats import ratios, summarize
import storm
from harness import basic, curl, free_port  # after settings (see its docstring)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


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
    graph_body = w / "callback-graph.json"
    write_graph_body(graph_body)
    ports = {k: free_port() for k in ("A", "B", "C", "E", "F0", "F0c", "F1", "R", "Rf", "Rh", "cheap", "G10", "G100k",
                                      "auth")}
    conf = w / "conf/nginx.conf"
    conf.write_text(render_conf(w, ports, cache=cache))

    scale = {
        "nginx_t_10_s": time_nginx_t(w, w / "users-10"),
        "nginx_t_large_s": time_nginx_t(w, w / "users-large"),
        "large_file_mb": (w / "users-large").stat().st_size / 1e6,
    }
    log(f"nginx -t: 10 users {scale['nginx_t_10_s']:.3f} s, {LARGE_USERS} users {scale['nginx_t_large_s']:.3f} s")

    nginx = service = None
    storm_data = logins = None
    rounds: list[dict] = []
    fuzz_rounds = 0
    perf_data, perf_md = None, ""
    try:
        service = AuthService(w, ports["auth"])
        nginx = Nginx(w, conf, ports["A"])
        cookie, mica_cookie = (login(ports["B"], u, pw) for u, pw in ((USER, PASSWORD), (MICA, MICA_PASSWORD)))
        all_cases = make_cases(cookie, body, mica_cookie, graph_body, w)
        cases = [c for c in all_cases if cache or not c.needs_cache]
        if ONLY:
            cases = [c for c in cases if c.id in ONLY]
        for c in cases:
            check_case(c, ports[c.server])
        negative_checks(ports, cookie, w, cache, mica_cookie, graph_body)
        nginx.mark_log()
        log("checks passed: every case answers 200 with its body, and refuses what it must")

        rounds, fuzz_rounds = measure(cases, ports, nginx, service)
        if not ONLY or "S" in ONLY:
            storm_data = storm.storm_rounds(cookie, ports["B"], nginx, log)
        if PROFILE:
            perf_data, perf_md = perf(cases, ports, nginx, w)
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
    if not ONLY or "P" in ONLY:
        logins = storm.logins_per_second(w, log)
    storm_md = storm.markdown(storm_data, logins)

    if not fuzz_rounds and (fuzz_start or fuzzers_running()):
        notes.append("fuzzer processes ran during part of the run: figures may be noisy")
    m["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    rows = summarize(cases, rounds)
    busy_note = shared_cpu(m, rows)
    if busy_note:
        notes.append(busy_note)
    rats = ratios(rounds, {c.id: c for c in cases}, reply_bytes(all_cases))

    profile_data, profile_md = None, ""
    if PROFILE:
        profile_data, profile_md = callgrind(w, ports, cache, cookie, body, rows, all_cases)

    st = {"seconds": SECONDS, "rounds": ROUNDS, "e_seconds": E_SECONDS, "connections": CONNECTIONS,
          "nginx_cpu": NGINX_CPU, "wrk_cpu": WRK_CPU, "large_users": LARGE_USERS, "callback_body_bytes": body_len,
          "graph_body_bytes": graph_body.stat().st_size, "reply_bytes": reply_bytes(all_cases)}
    (OUT / "results.json").write_text(json.dumps({
        "machine": m, "notes": notes, "settings": st,
        "cases": rows, "ratios": rats, "users_scale": scale, "rounds": rounds, "profile": profile_data,
        "perf": perf_data, "storm": storm_data, "logins": logins,
    }, indent=1, ensure_ascii=False))
    plot(rows, OUT / "results.png", chart_title(m, st))
    write_report(OUT, m, st, rows, rats, scale, notes, storm_md + "\n" + profile_md + "\n" + perf_md, cache)
    if KEEP:
        log(f"work directory kept: {w}")
    else:
        shutil.rmtree(w, ignore_errors=True)

    if not ONLY or "RD" in ONLY:
        import store  # noqa: PLC0415 (its own nginx instances and Redis, after the main ones are gone)
        log("the Redis store: cookie path with and without it, then logout propagation")
        res = store.run()
        with (OUT / "results.md").open("a") as f:
            f.write(store.report(res))
        (OUT / "store.json").write_text(json.dumps(res, indent=1))
        p = res["propagation_ms"]
        print(f"{'logout propagation A -> B (median / worst of ' + str(p['logouts']) + ')':<60} "
              f"{p['median']:7.0f} / {p['worst']:.0f} ms")

    if not ONLY or "O" in ONLY:
        import sso  # noqa: PLC0415 (its own nginx and OpenID Provider)
        log("single sign-on: the time of a whole login against the local provider")
        res = sso.run()
        with (OUT / "results.md").open("a") as f:
            f.write(sso.report(res))
        (OUT / "sso.json").write_text(json.dumps(res, indent=1))
        print(f"{'SSO login, whole / nginx callback (median)':<60} "
              f"{res['total_ms']['median']:7.1f} / {res['callback_ms']['median']:.1f} ms")

    print()
    for r in rats:
        print(f"{r['name']:<60} {r['median']:10.3f} {r['unit']:<3} {r['verdict']}")
    if storm_data:
        print(f"{'S: cookie p99 beside a login storm / alone':<60} {storm_data['p99_ratio']:10.3f} x")
    if logins:
        print(f"{'P: Basic logins per second, 2 workers':<60} {logins['rps']:10.1f}")
    print(f"{'nginx -t with ' + str(LARGE_USERS) + ' users':<60} {scale['nginx_t_large_s']:10.3f} s")
    print(f"wrote {OUT / 'results.md'} and {OUT / 'results.png'}")


def shared_cpu(m: dict, rows: list[dict]) -> str | None:
    """A note when other work took CPU from the run. The load average
    counts the bench's own nginx and wrk (about 2 during the rounds); the
    worker's busy share says it directly: alone, it saturates its CPU in
    every case but C (which waits for the auth service) and E (one
    connection)."""
    busy = [r["nginx_busy"] for r in rows if r["id"] not in ("C", "E")]
    if not busy or (min(busy) >= 0.9 and float(m["loadavg"][0]) <= NPROC / 2):
        return None
    return (f"other work shared the CPUs: load average {m['loadavg'][0]} at the start and {m['loadavg_end'][0]} "
            f"at the end of the rounds ({NPROC} CPUs; the bench's nginx and wrk count for about 2), and the nginx "
            f"worker was busy {min(busy) * 100:.0f} to {max(busy) * 100:.0f} % of the time where alone it "
            "saturates its CPU. Requests/s and CPU per request are noisy; the callgrind instruction counts "
            "are not affected")


def login(port: int, user: str, password: str) -> str:
    """The cookie the module mints for a Basic login."""
    r = curl(f"http://127.0.0.1:{port}/bench.txt", headers=[f"Authorization: {basic(user, password)}"])
    cookie = r.cookie()
    if r.status != 200 or not cookie:
        raise RuntimeError(f"login of {user} failed: {r.status} {r.headers}")
    return cookie


def reply_bytes(cases) -> dict:
    """The size of each case's reply, for the figures per KB."""
    return {c.id: len(c.expect) for c in cases if c.id[0] in "RL" and c.expect is not None}


def measure(cases, ports: dict, nginx: Nginx, service: AuthService) -> tuple[list[dict], int]:
    """A warm-up of every case, then the interleaved rounds. Returns the runs
    of each round by case id, and in how many rounds fuzzers were running."""
    est = len(cases) * (ROUNDS * (SECONDS + 0.5) + WARMUP)
    log(f"{len(cases)} cases x {ROUNDS} rounds x {SECONDS} s (E: {E_SECONDS} s): about {est / 60:.1f} min")
    for c in cases:
        wrk(c, ports[c.server], WARMUP if c.id != "E" else min(WARMUP, 1))
    rounds, fuzz_rounds = [], 0
    for rnd in range(ROUNDS):
        if fuzzers_running():
            fuzz_rounds += 1
        res = {}
        for c in cases:
            res[c.id] = run_case(c, ports[c.server], nginx, service)
            r = res[c.id]
            log(f"round {rnd + 1}/{ROUNDS} {c.id:7} {r['rps']:>10.1f} req/s  p50 {r['p50_us']:>7} µs  "
                f"p99 {r['p99_us']:>8} µs  nginx {r['nginx_cpu_us']:9.2f} µs/req  busy "
                f"{r['nginx_busy'] * 100:3.0f} %  wrk {r['wrk_busy'] * 100:3.0f} %  "
                f"faults {r['nginx_faults']:.3f}/req"
                + (f"  service {r['service_cpu_us']:.0f} µs/req" if "service_cpu_us" in r else "")
                + (f"  ERRORS {r['errors']} non-2xx {r['non2xx']}" if r["errors"] or r["non2xx"] else ""))
        rounds.append(res)
    return rounds, fuzz_rounds


def perf(cases, ports: dict, nginx: Nginx, w: Path) -> tuple[dict | None, str]:
    """The native profile, on the running nginx. Returns (data, markdown)."""
    import perf_profile

    if not perf_profile.available():
        log("perf: `perf record -e cpu-clock` does not work here; native profile skipped")
        return None, ""
    log("perf: sampling the worker natively during A, B, D, F0, F0c, F1")
    try:
        return perf_profile.run(
            [c for c in cases if c.id in ("A", "B", "D", "F0", "F0c", "F1")], ports, nginx, wrk, cpu_ticks,
            CLK_TCK, SECONDS, w, OUT)
    except Exception as e:  # the figures stand without it
        log(f"perf profile failed: {e}")
        (OUT / "profile-perf.txt").unlink(missing_ok=True)
        return None, ""


def callgrind(w: Path, ports: dict, cache: bool, cookie: str, body: Path, rows: list[dict],
              cases) -> tuple[dict | None, str]:
    """The instruction counts, on nginx instances of their own (the measuring
    one has stopped). Returns (data, markdown)."""
    import callgrind_profile

    replies = {c.id: (ports[c.server], (c.method, c.path, c.headers, c.body.read_bytes() if c.body else None))
               for c in cases if c.id in callgrind_profile.REPLY_CASES}
    try:
        return callgrind_profile.run(
            w, ports, render_conf, cache, nginx_bin=NGINX_BIN, nginx_cpu=NGINX_CPU, cookie=cookie,
            authorization=basic(USER, PASSWORD), body=body, rows=rows, out=OUT, replies=replies,
            reply_sizes=reply_bytes(cases))
    except Exception as e:  # the benchmark figures stand without the profile
        log(f"profile failed: {e}")
        (OUT / "profile-callgrind.txt").unlink(missing_ok=True)
        return None, f"## Profile\n\nThe callgrind profile failed this time: `{e}`.\n"


def rerender():
    """`bench.py --report`: results.md and results.png again from results.json."""
    import callgrind_profile

    data = json.loads((OUT / "results.json").read_text())
    rows, m, st = data["cases"], data["machine"], data["settings"]
    profile_md = storm.markdown(data.get("storm"), data.get("logins")) + "\n"
    if data.get("profile"):
        profile_md += callgrind_profile._markdown(data["profile"], {r["id"]: r for r in rows})
    if data.get("perf"):
        import perf_profile

        profile_md += "\n" + perf_profile._markdown(data["perf"])
    plot(rows, OUT / "results.png", chart_title(m, st))
    write_report(OUT, m, st, rows, data["ratios"], data["users_scale"], data["notes"], profile_md,
                 any(r["id"] == "D" for r in rows))
    if (OUT / "store.json").exists():
        import store  # noqa: PLC0415

        with (OUT / "results.md").open("a") as f:
            f.write(store.report(json.loads((OUT / "store.json").read_text())))
    if (OUT / "sso.json").exists():
        import sso  # noqa: PLC0415

        with (OUT / "results.md").open("a") as f:
            f.write(sso.report(json.loads((OUT / "sso.json").read_text())))


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    if sys.argv[1:] == ["--report"]:
        rerender()
    else:
        main()
