"""Real nginx + the module in front of the real dashboard under gunicorn, on loopback.

Nothing here is mocked: `Stack` renders the shipped nginx.conf template with the
test's parameters, starts the vendored nginx binary with the built module, and
talks to it with the curl binary.
"""
from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"


def _paths() -> dict:
    """The nginx binary and module under test: the vendored build, unless the
    environment names another pair (`make test-debian` runs /usr/sbin/nginx)."""
    if os.environ.get("NGINX_BIN") and os.environ.get("MODULE_SO"):
        return {"NGINX_BIN": os.environ["NGINX_BIN"], "MODULE_SO": os.environ["MODULE_SO"]}
    out = subprocess.run([str(ROOT / "scripts/paths.sh")], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.split())


PATHS = _paths()
# Time scale for waits, for runs under valgrind.
SLOW = float(os.environ.get("DASH_AUTH_TEST_SLOW", "1"))
NGINX_BIN = PATHS["NGINX_BIN"]
MODULE_SO = PATHS["MODULE_SO"]


def _render_defaults() -> dict:
    spec = importlib.util.spec_from_file_location("render_conf", ROOT / "scripts/render-conf.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DEFAULTS


# The template's optional placeholders (REALM, SECTIONS, EXTRA_SERVER, ...): a
# test starts from their defaults, not from whatever the calling shell has set.
RENDER_DEFAULTS = _render_defaults()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# The id of the module's in-app refusal (core/src/refusal.rs).
REFUSAL_ID = "_dash_auth_refusal"


def router_refusal(r: "Response") -> str | None:
    """The in-app refusal, as JSON text, when `r` is the module's own Dash reply to a
    refused `use_pages` router callback (200, the refusal where the page would be);
    else None. What is in it comes from the module, never from the app."""
    if r.status != 200 or r.header("Content-Type") != "application/json":
        return None
    try:
        reply = json.loads(r.body)
        page = reply["response"]["_pages_content"]["children"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(page, dict) or page.get("props", {}).get("id") != REFUSAL_ID:
        return None
    assert reply["multi"] is True and set(reply) == {"multi", "response"}, reply
    assert set(reply["response"]) <= {"_pages_content", "_pages_store"}, reply
    return json.dumps(page)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        vals = self.all(name)
        return vals[0] if vals else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def cookie(self, name: str = "example_jwt") -> str | None:
        for v in self.all("Set-Cookie"):
            if v.startswith(name + "="):
                return v.split(";", 1)[0][len(name) + 1:]
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# The HTTP version curl speaks over https: "1.1", or "2" (over_http2). curl
# would pick h2 by itself wherever the server offers it; plain http stays 1.1.
HTTPS_VERSION = {"version": "1.1"}


@contextlib.contextmanager
def over_http2():
    """Every https request in the block goes over HTTP/2, or fails."""
    before = HTTPS_VERSION["version"]
    HTTPS_VERSION["version"] = "2"
    try:
        yield
    finally:
        HTTPS_VERSION["version"] = before


def curl(url: str, *, method: str | None = None, headers: list[str] | tuple = (),
         data: bytes | None = None, extra: list[str] | tuple = (), timeout: float = 30) -> Response:
    timeout *= SLOW
    """One request with the curl binary. `headers` are raw `Name: value` lines."""
    want = HTTPS_VERSION["version"] if url.startswith("https:") else "1.1"
    with tempfile.TemporaryDirectory() as tmp:
        hfile, bfile = os.path.join(tmp, "h"), os.path.join(tmp, "b")
        cmd = ["curl", "-sS", "-k", "--path-as-is", "-o", bfile, "-D", hfile, "-w", "%{http_code} %{http_version}",
               "--max-time", str(timeout), "--http2" if want == "2" else "--http1.1"]
        if method:
            cmd += ["-X", method]
        for h in headers:
            cmd += ["-H", h]
        if data is not None:
            dfile = os.path.join(tmp, "d")
            with open(dfile, "wb") as f:
                f.write(data)
            cmd += ["--data-binary", "@" + dfile]
        cmd += list(extra) + [url]
        out = subprocess.run(cmd, capture_output=True)
        if out.returncode != 0:
            raise RuntimeError(f"curl failed ({out.returncode}): {out.stderr.decode()}")
        code, _, version = out.stdout.decode().partition(" ")
        status = int(code or 0)
        if status and version != want:
            raise RuntimeError(f"asked curl for HTTP/{want}, got HTTP/{version}: {url}")
        raw = Path(hfile).read_bytes().decode("latin-1")
        # With redirects or 100-continue there may be several header blocks: keep the last.
        block = [b for b in raw.split("\r\n\r\n") if b.strip()][-1]
        hdrs = []
        for line in block.split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs.append((k.strip(), v.strip()))
        return Response(status, hdrs, Path(bfile).read_bytes())


class Dashboard:
    """The demo Dash app under gunicorn."""

    def __init__(self, workdir: Path, prefix: str = "/", env: dict | None = None, app: str = "app:server"):
        self.port = free_port()
        self.log = open(workdir / f"gunicorn-{self.port}.log", "wb")
        # A cache directory of its own: two apps sharing one would share the
        # secret that signs background-callback handles, and their results.
        env = {**os.environ, "DASH_BIND": f"127.0.0.1:{self.port}", "DASH_WORKERS": "2", "DASH_PREFIX": prefix,
               "DASH_CACHE_DIR": str(workdir / f"dash-cache-{self.port}"), **(env or {})}
        if app != "app:server":
            # A test's own variant of the demo app, from tests/apps.
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests/apps"), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen([str(VENV / "bin/gunicorn"), "-c", "gunicorn.conf.py", app],
                                     cwd=ROOT / "dashboard", env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(self._up, 60, "gunicorn")
        self.dependencies = workdir / f"dash-dependencies-{self.port}.json"
        subprocess.run([str(ROOT / "scripts/export-dependencies.sh"), f"http://127.0.0.1:{self.port}{prefix}",
                        str(self.dependencies)], check=True)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError("gunicorn exited; see " + self.log.name)
        return port_open(self.port)

    def stop(self):
        stop_group(self.proc, self.log)


def port_open(port: int) -> bool:
    """Something accepts connections on this loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def stop_group(proc: subprocess.Popen, log) -> None:
    """Stops a server started in its own session (gunicorn and its workers),
    then closes its log."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    proc.wait(20)
    log.close()


@dataclass
class Stack:
    """One nginx instance (its own prefix dir, ports, secret, certificate)."""

    upstream: Dashboard
    users: Path = ROOT / "nginx-conf/users"
    template: Path = ROOT / "nginx-conf/nginx.conf.template"
    env: dict = field(default_factory=dict)
    prefix: Path = field(init=False)

    def __post_init__(self):
        self.prefix = Path(tempfile.mkdtemp(prefix="dash-auth-nginx-"))
        os.chmod(self.prefix, 0o755)
        for d in ("conf", "logs", "secrets"):
            (self.prefix / d).mkdir()
        subprocess.run([str(ROOT / "scripts/gen-secrets.sh"), str(self.prefix / "secrets")], check=True,
                       capture_output=True)
        self.http_port, self.https_port = free_port(), free_port()
        self.proc = None
        self.render()

    @property
    def conf(self) -> Path:
        return self.prefix / "conf/nginx.conf"

    @property
    def secret(self) -> bytes:
        return (self.prefix / "secrets/secret").read_bytes()

    @property
    def error_log(self) -> str:
        """The error log, plus what the master wrote to stderr: an nginx built with
        --error-log-path=stderr (Debian's) logs a failed reload there."""
        out = ""
        for name in ("logs/error.log", "logs/stderr.log"):
            p = self.prefix / name
            if p.exists():
                out += p.read_text(errors="replace")
        return out

    @property
    def access_log(self) -> str:
        p = self.prefix / "logs/access.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def access_line(self, marker: str, timeout: float = 5.0) -> str:
        """The access-log line containing `marker`. nginx writes it in the log
        phase, which may finish just after curl has the response."""
        found = []

        def seen():
            found[:] = [l for l in self.access_log.splitlines() if marker in l]
            return bool(found)

        wait_for(seen, timeout * SLOW, f"access log line with {marker!r}")
        return found[0]

    def render(self, **overrides):
        """Writes conf/nginx.conf from the template. `env` and `overrides` set its
        placeholders, e.g. REALM="Team board" or EXTRA_SERVER="dash_auth_basic_cache off;"."""
        env = {k: v for k, v in os.environ.items() if k not in RENDER_DEFAULTS}
        env.update(NGINX_BIN=NGINX_BIN, MODULE_PATH=MODULE_SO, LISTEN_ADDR="127.0.0.1:", HTTP_PORT=str(self.http_port),
                   HTTPS_PORT=str(self.https_port), DASH_UPSTREAM=f"127.0.0.1:{self.upstream.port}",
                   USERS_FILE=str(self.users), SECRET_FILE=str(self.prefix / "secrets/secret"),
                   TLS_CERT=str(self.prefix / "secrets/tls.crt"), TLS_KEY=str(self.prefix / "secrets/tls.key"),
                   DASH_DEPENDENCIES=str(self.upstream.dependencies),
                   # Many tests fail logins on purpose from one address; the
                   # limit itself is tested with its own stack (test_browser_login.py).
                   LOGIN_LIMIT="off")
        env.update(self.env)
        env.update(overrides)
        subprocess.run([str(ROOT / "scripts/render-conf.py"), str(self.template), str(self.conf)], env=env,
                       check=True)

    def nginx(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([NGINX_BIN, "-p", str(self.prefix), "-c", "conf/nginx.conf", *args],
                              capture_output=True, text=True)

    def test_config(self) -> subprocess.CompletedProcess:
        return self.nginx("-t")

    def start(self):
        t = self.test_config()
        if t.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + t.stderr)
        # NGINX_WRAPPER runs the server under a tool, e.g. valgrind (make test-valgrind).
        wrapper = os.environ.get("NGINX_WRAPPER", "").split()
        with open(self.prefix / "logs/stderr.log", "wb") as err:
            self.proc = subprocess.Popen(wrapper + [NGINX_BIN, "-p", str(self.prefix), "-c", "conf/nginx.conf",
                                                    "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err)
        wait_for(self._up, 30 * SLOW, "nginx")
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError("nginx exited:\n" + self.error_log)
        return port_open(self.https_port)

    def hup(self):
        """Reload by signal, as a process manager does: unlike `nginx -s reload`,
        no second nginx parses the config first, so the master itself meets any error."""
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0 * SLOW)

    def reload(self):
        r = self.nginx("-s", "reload")
        assert r.returncode == 0, r.stderr
        time.sleep(1.0 * SLOW)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(20 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        log = self.error_log
        shutil.rmtree(self.prefix, ignore_errors=True)
        # A worker that died (a panic aborts it) shows up here, whatever the tests saw.
        crashes = [l for l in log.splitlines() if "exited on signal" in l or "[alert]" in l]
        assert not crashes, "nginx worker trouble:\n" + "\n".join(crashes)

    def url(self, path: str = "/", https: bool = True) -> str:
        if https:
            return f"https://127.0.0.1:{self.https_port}{path}"
        return f"http://127.0.0.1:{self.http_port}{path}"

    def origin(self, https: bool = True) -> str:
        """This server's origin, as a browser writes it in `Origin`."""
        return self.url("", https)

    def same_origin(self) -> list[str]:
        """The headers a browser sends with a form posted from this server's own page."""
        return [f"Origin: {self.origin()}", "Sec-Fetch-Site: same-origin"]

    def get(self, path: str = "/", **kw) -> Response:
        return curl(self.url(path), **kw)

    def worker_pids(self) -> set[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return {int(p) for p in out.split()}


class Redis:
    """A redis-server of its own on a free loopback port: no persistence, its
    own directory, so a restart starts empty, as after a crash."""

    def __init__(self, workdir: Path, password: str | None = None, tls: bool = False):
        self.port = free_port()
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="dash-auth-redis-", dir=workdir))
        self.tls = tls
        if tls:
            self.ca = make_ca(self.dir / "ca")
            self.cert, self.key = make_cert(self.dir / "ca", self.dir / "server", "localhost")
        self.proc = None
        self.start()

    def start(self):
        port = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.cert), "--tls-key-file",
                str(self.key), "--tls-ca-cert-file", str(self.ca), "--tls-auth-clients", "no"] if self.tls \
            else ["--port", str(self.port)]
        args = ["redis-server", *port, "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no", "--logfile",
                str(self.dir / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port), 10 * SLOW, "redis-server")
        return self

    def kill(self):
        """Gone at once, as in a crash: no goodbye to its clients."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args: str) -> str:
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        if self.tls:
            auth += ["--tls", "--cacert", str(self.ca)]
        return subprocess.run(["redis-cli", "-p", str(self.port), *auth, *args], capture_output=True,
                              text=True, timeout=10).stdout.strip()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def directive(self) -> str:
        """The arguments of `dash_auth_redis` that reach this server."""
        if self.tls:
            return f"{self.address} tls tls_trusted_certificate={self.ca} tls_name=localhost"
        return self.address


def make_ca(d: Path) -> Path:
    """A test CA in `d` (ca.pem, ca.key)."""
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=dash-auth test CA", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem")],
                   check=True, capture_output=True)
    return d / "ca.pem"


def make_cert(ca: Path, d: Path, name: str) -> tuple[Path, Path]:
    """A server certificate for `name` (and 127.0.0.1) signed by the CA in `ca`."""
    d.mkdir(parents=True, exist_ok=True)
    key, csr, crt, ext = d / "server.key", d / "server.csr", d / "server.pem", d / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{name},IP:127.0.0.1\n")
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", str(key),
                    "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca / "ca.pem"), "-CAkey",
                    str(ca / "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(crt)],
                   check=True, capture_output=True)
    return crt, key
