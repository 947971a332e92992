"""Password checks run on nginx's thread pool, never on the worker's event loop.

One worker, and a user whose bcrypt costs 2^15 rounds (a couple of seconds): while
that user's login is being hashed, the worker must go on serving everyone else; past
`dash_auth_hash_queue` checks a login gets 503 with Retry-After; a client that goes
away, a reload and a graceful shutdown during checks end every request cleanly. No
figure is timed here: each test only asks what happened first (speed is `make bench`'s).
"""
import subprocess
import time

import pytest

from harness import ROOT, SLOW, Stack, basic, wait_for

SLOW_PASSWORD = "slow-pa55"
DEMO = (ROOT / "nginx-conf/users").read_text()
# Long enough that "still running" is unmistakable even on a loaded machine.
SLOW_COST = "15"
# How long a request is given to reach nginx before the next step.
SETTLE = 0.5 * SLOW


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    line = subprocess.run([str(ROOT / "target/release/dash-auth-passwd"), "-B", "-C", SLOW_COST, "slow",
                           "marketing"], input=SLOW_PASSWORD.encode() + b"\n", capture_output=True,
                          check=True).stdout.decode().strip()
    path = tmp_path_factory.mktemp("users") / "users"
    # After the demo users: the dummy hash for unknown names copies the first user's cost.
    path.write_text(DEMO + line + "\n")
    return path


def one_worker(dashboard, users, **env):
    return Stack(dashboard, users=users, env={"WORKER_PROCESSES": "1", **env}).start()


@pytest.fixture
def stack1(dashboard, users):
    # HTTP/2 too: a stream reset is how an h2 client leaves.
    s = one_worker(dashboard, users, LISTEN_SSL="ssl http2")
    yield s
    s.stop()


def background(stack, path="/marketing", headers=(), data=None, extra=(), timeout=60):
    """A request left running; `finish` returns its status."""
    cmd = ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(timeout * SLOW)]
    for h in headers:
        cmd += ["-H", h]
    if data is not None:
        cmd += ["--data-binary", data]
    cmd += list(extra) + [stack.url(path)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout * SLOW)
    return proc.returncode, out.decode(), err.decode()


def slow_login(stack, password=SLOW_PASSWORD, **kw):
    return background(stack, headers=[f"Authorization: {basic('slow', password)}"], **kw)


def form_login(stack, user, password, **kw):
    return background(stack, "/login", headers=stack.same_origin(),
                      data=f"username={user}&password={password}&return=%2Fmarketing", **kw)


def test_the_worker_serves_others_while_a_password_is_hashed(stack1, mica_cookie_of):
    cookie = mica_cookie_of(stack1)
    login = slow_login(stack1, "wrong")
    time.sleep(SETTLE)
    # Same worker, while the hash runs: a session's page and layout, the login page.
    assert stack1.get("/hr", headers=[f"Cookie: example_jwt={cookie}"]).status == 200
    assert stack1.get("/_dash-layout", headers=[f"Cookie: example_jwt={cookie}"]).status == 200
    assert stack1.get("/login").status == 200
    assert login.poll() is None, "the slow login ended first: the worker waited for its hash"
    # A login's check waits for its turn behind the running one (one per worker).
    fast = background(stack1, headers=[f"Authorization: {basic('mike', '123456')}"])
    assert finish(login)[:2] == (0, "401")
    assert finish(fast)[:2] == (0, "200")
    # Its twin: the right password, also checked on the pool, signs in.
    assert finish(slow_login(stack1))[:2] == (0, "200")


@pytest.fixture
def mica_cookie_of():
    def get(stack):
        r = stack.get("/", headers=[f"Authorization: {basic('mica', '1234')}"])
        assert r.status == 200, r
        return r.cookie()
    return get


def test_past_the_queue_bound_a_login_gets_503(dashboard, users, mica_cookie_of):
    s = one_worker(dashboard, users, EXTRA_SERVER="dash_auth_hash_queue 1;")
    try:
        cookie = mica_cookie_of(s)
        login = slow_login(s)
        time.sleep(SETTLE)
        # The one check allowed is running: another login is refused, not queued.
        r = s.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"])
        assert r.status == 503, r
        assert r.header("Retry-After") == "1"
        f = s.get("/login", method="POST", headers=s.same_origin(),
                  data=b"username=mike&password=123456&return=%2Fmarketing")
        assert f.status == 503, f
        assert f.header("Retry-After") == "1"
        # A session never waits for the queue.
        assert s.get("/hr", headers=[f"Cookie: example_jwt={cookie}"]).status == 200
        assert login.poll() is None, "the slow login ended before the checks above"
        assert finish(login)[:2] == (0, "200")
        # The queue is free again: the same logins get in.
        assert s.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 200
        f = s.get("/login", method="POST", headers=s.same_origin(),
                  data=b"username=mike&password=123456&return=%2Fmarketing")
        assert f.status == 303, f
        log = s.error_log
        assert "[warn]" in log and 'user "mike": login refused with 503: 1 password checks already queued' in log, log
    finally:
        s.stop()


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_a_client_that_leaves_during_its_check(stack1, http2):
    pids = stack1.worker_pids()
    extra = ["--http2"] if http2 else ["--http1.1"]
    # The client gives up long before the hash is done.
    gone = slow_login(stack1, "wrong", timeout=SETTLE, extra=extra)
    code, _, _ = finish(gone)
    assert code == 28, "curl should have timed out"
    gone_form = form_login(stack1, "slow", "wrong", timeout=SETTLE, extra=extra)
    assert finish(gone_form)[0] == 28
    # nginx finishes both checks, then ends the requests: their failures are logged.
    wait_for(lambda: stack1.error_log.count('user "slow": password mismatch') >= 2, 60 * SLOW,
             "the abandoned checks to finish")
    time.sleep(SETTLE)
    assert stack1.worker_pids() == pids, "a worker died"
    # The worker is whole: both kinds of login still work over the same protocol.
    r = stack1.get("/marketing", headers=[f"Authorization: {basic('slow', SLOW_PASSWORD)}"], extra=extra)
    assert r.status == 200, r
    assert finish(form_login(stack1, "mike", "123456", extra=extra))[:2] == (0, "303")


def storm(stack):
    return [slow_login(stack), slow_login(stack, "wrong"), form_login(stack, "slow", SLOW_PASSWORD),
            form_login(stack, "slow", "wrong")]


def test_a_reload_during_checks_answers_every_waiting_login(dashboard, users):
    s = one_worker(dashboard, users)
    try:
        old = s.worker_pids()
        logins = storm(s)
        time.sleep(SETTLE)
        s.reload()
        # The old worker finishes what it started; the new one serves.
        assert [finish(p)[:2] for p in logins] == [(0, "200"), (0, "401"), (0, "303"), (0, "401")]
        wait_for(lambda: not (s.worker_pids() & old), 30 * SLOW, "the old worker to exit")
        assert s.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 200
    finally:
        s.stop()


def test_a_graceful_shutdown_during_checks_answers_every_waiting_login(dashboard, users):
    s = one_worker(dashboard, users)
    logins = storm(s)
    time.sleep(SETTLE)
    s.nginx("-s", "quit")
    try:
        assert [finish(p)[:2] for p in logins] == [(0, "200"), (0, "401"), (0, "303"), (0, "401")]
        s.proc.wait(30 * SLOW)
    finally:
        s.stop()


def test_guesses_sent_at_once_are_counted_while_they_run(dashboard, users):
    """Three failures allowed: of six different guesses sent together, no more than
    three are hashed; the rest are refused while the first are still running."""
    s = one_worker(dashboard, users, LOGIN_LIMIT="3 5m 5m")
    try:
        guesses = [slow_login(s, f"guess{i}") for i in range(6)]
        codes = sorted(finish(p)[1] for p in guesses)
        assert codes == ["401"] * 3 + ["429"] * 3, codes
        # Twin: the same right login sent four times at once is one login, not four
        # failures-to-be: every copy gets in (another user, whose count is clean).
        logins = [background(s, headers=[f"Authorization: {basic('mica', '1234')}"],
                             extra=["--interface", "127.0.0.2"]) for _ in range(4)]
        assert [finish(p)[:2] for p in logins] == [(0, "200")] * 4
    finally:
        s.stop()


def test_a_pool_declared_with_thread_pool(dashboard, users):
    s = one_worker(dashboard, users, EXTRA_MAIN="thread_pool dash_auth threads=2;",
                   EXTRA_SERVER="dash_auth_thread_pool dash_auth;")
    try:
        assert s.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 200
        assert s.get("/marketing", headers=[f"Authorization: {basic('mike', 'nope')}"]).status == 401
    finally:
        s.stop()


@pytest.mark.parametrize("line, message", [
    ("dash_auth_thread_pool nosuch;", 'unknown thread pool "nosuch"'),
    ("dash_auth_hash_queue 0;", '"dash_auth_hash_queue" directive has invalid parameter "0"'),
    ("dash_auth_hash_queue lots;", '"dash_auth_hash_queue" directive has invalid parameter "lots"'),
    ("dash_auth_hash_queue 4; dash_auth_hash_queue 4;", '"dash_auth_hash_queue" directive is duplicate'),
])
def test_bad_pool_settings_fail_nginx_t(dashboard, users, line, message):
    s = Stack(dashboard, users=users, env={"EXTRA_SERVER": line})
    t = s.test_config()
    assert t.returncode != 0
    assert "[emerg]" in t.stderr and message in t.stderr, t.stderr
    assert f"{s.conf}:" in t.stderr, t.stderr
    # Twin: a good value passes.
    s.render(EXTRA_SERVER="dash_auth_hash_queue 4; dash_auth_thread_pool default;")
    assert s.test_config().returncode == 0
