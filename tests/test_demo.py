"""`make run`: the demo command itself, as a new user runs it."""
import os
import pwd
import re
import signal
import subprocess
import time
from pathlib import Path

from harness import ROOT, basic, curl, free_port


def test_make_run_serves_the_dashboard_and_stops_on_ctrl_c(tmp_path):
    ports = {"HTTP_PORT": free_port(), "HTTPS_PORT": free_port()}
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
        conf = (tmp_path / "run/conf/nginx.conf").read_text()
        sock = Path(re.search(r"server unix:(\S+);", conf).group(1))
        app_is_reachable_by_nginx_alone(sock, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        proc.wait(30)
    # Both servers are gone: the port is free again, the socket answers no more.
    out = subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{ports['HTTPS_PORT']}/"])
    assert out.returncode == 7  # connection refused
    assert not sock.parent.exists()


def app_is_reachable_by_nginx_alone(sock, session):
    """The app trusts nginx's identity headers: gunicorn listens on no TCP port, and
    its socket sits in a directory only nginx's workers' user can enter."""
    ours = subprocess.run(["pgrep", "-s", str(session), "gunicorn"], capture_output=True, text=True).stdout.split()
    assert ours, "no gunicorn in make run's session"
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    # Other tests' apps may listen on loopback meanwhile: only this run's count.
    assert not [p for p in ours if f"pid={p}," in listening], listening
    st = sock.parent.stat()
    assert oct(st.st_mode & 0o777) == "0o700"
    worker = pwd.getpwuid(st.st_uid).pw_name
    assert worker == ("nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name)
    sock = str(sock)
    if os.getuid() == 0:
        # Another local account: refused by the directory's permissions.
        other = subprocess.run(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups",
                                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", sock,
                                "http://localhost/_dash-layout"], capture_output=True, text=True)
        assert other.returncode == 7, other
        # nginx's workers' user gets through, as nginx does.
        ok = subprocess.run(["setpriv", f"--reuid={st.st_uid}", f"--regid={st.st_gid}", "--clear-groups",
                             "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", sock,
                             "http://localhost/_dash-layout"], capture_output=True, text=True)
        assert ok.stdout == "200", ok
