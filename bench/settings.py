"""What `make bench` reads from its environment: the paths, the BENCH_* knobs
and the CPUs. Every other bench module takes its settings from here.

Import this before tests/harness.py: the harness picks its nginx binary and
module when it is first imported, and this module points it at the Debian
pair the benchmark runs (and puts tests/ on sys.path for it).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "docs/bench"))
NGINX_BIN = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
MODULE_SO = os.environ.get("BENCH_MODULE", str(ROOT / "target/debian/release/libngx_http_dash_auth_module.so"))

os.environ.setdefault("NGINX_BIN", NGINX_BIN)
os.environ.setdefault("MODULE_SO", MODULE_SO)
sys.path.insert(0, str(ROOT / "tests"))

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
E_SECONDS = int(os.environ.get("BENCH_E_SECONDS", str(min(SECONDS, 3))))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
LARGE_USERS = int(os.environ.get("BENCH_LARGE_USERS", "100000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
# Keep the work directory (configs, logs, callgrind outputs) for a closer
# look with callgrind_annotate; its path is printed at the end.
KEEP = os.environ.get("BENCH_KEEP", "0") != "0"
# A comma-separated subset of case ids, for a quick look while tuning (the
# ratios that need a missing case are left out of the report).
ONLY = {c for c in os.environ.get("BENCH_CASES", "").split(",") if c}
NPROC = os.cpu_count() or 1
NGINX_CPU = int(os.environ.get("BENCH_NGINX_CPU", "0"))
WRK_CPU = int(os.environ.get("BENCH_WRK_CPU", "1" if NPROC > 1 else "0"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
