"""`make run`: the demo command itself, as a new user runs it."""
import os
import signal
import subprocess
import time

from harness import ROOT, basic, curl, free_port


def test_make_run_serves_the_dashboard_and_stops_on_ctrl_c(tmp_path):
    ports = {"HTTP_PORT": free_port(), "HTTPS_PORT": free_port(), "DASH_PORT": free_port()}
    env = dict(os.environ, RUN_DIR=str(tmp_path / "run"), **{k: str(v) for k, v in ports.items()})
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("ready: "):
                break
        assert any(l.startswith("ready: ") for l in lines), "".join(lines)
        assert sum(l.startswith("ready: ") for l in lines) == 1

        https = f"https://127.0.0.1:{ports['HTTPS_PORT']}"
        assert curl(https + "/").status == 401
        r = curl(https + "/marketing", headers=[f"Authorization: {basic('mike', '123456')}"])
        assert r.status == 200 and r.cookie()
        assert curl(https + "/hr", headers=[f"Cookie: example_jwt={r.cookie()}"]).status == 403
        redirect = curl(f"http://127.0.0.1:{ports['HTTP_PORT']}/hr")
        assert redirect.status == 301
        assert redirect.header("Location") == f"https://127.0.0.1:{ports['HTTPS_PORT']}/hr"
        secret = tmp_path / "run/secrets/secret"
        assert oct(secret.stat().st_mode & 0o777) == "0o600"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        proc.wait(30)
    # Both servers are gone: the ports are free again.
    for port in (ports["HTTPS_PORT"], ports["DASH_PORT"]):
        out = subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{port}/"])
        assert out.returncode == 7, port  # connection refused
