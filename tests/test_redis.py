"""Two nginx instances, A and B, with the same key and users file in front of
the demo app, sharing a real redis-server (`dash_auth_redis`): a logout on one
is refused on the other within a second, failures spread over both meet one
limit, a Redis outage leaves the cookie path and local logouts working and is
made good when Redis returns, and a restarted instance loads the live
cut-offs."""

import shutil
import statistics
import time
import urllib.parse

import pytest

from harness import SLOW, Redis, Stack, basic, make_ca, wait_for

FORM = "Content-Type: application/x-www-form-urlencoded"
X, Y = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def redis(tmp_path):
    r = Redis(tmp_path)
    yield r
    r.stop()


@pytest.fixture
def instances(dashboard):
    made = []

    def make(redis, env=None, like=None, prefix="t:"):
        env = {"EXTRA_HTTP": f"dash_auth_redis {redis.directive} prefix={prefix};", **(env or {})}
        s = Stack(dashboard, env=env)
        if like is not None:
            shutil.copy(like.prefix / "secrets/secret", s.prefix / "secrets/secret")
        made.append(s)
        return s.start()

    yield make
    for s in made:
        s.stop()


def connected(redis, n):
    """At least `n` clients (one per nginx worker) are connected to `redis`."""
    def enough():
        lines = [l for l in redis.cli("CLIENT", "LIST").splitlines() if "cmd=client" not in l]
        return len(lines) >= n
    deadline = time.monotonic() + 10 * SLOW
    while not enough():
        assert time.monotonic() < deadline, "nginx workers did not connect to redis"
        time.sleep(0.05)
    # The start-up load is one round trip after the connect.
    time.sleep(0.1)


def workers(stack):
    return len(stack.worker_pids())


def pair(make, redis, env=None):
    a = make(redis, env)
    b = make(redis, env, like=a)
    connected(redis, workers(a) + workers(b))
    return a, b


def login(stack, user, password):
    r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
    assert r.status == 200, r
    return f"Cookie: example_jwt={r.cookie()}"


def logout(stack, cookie):
    r = stack.get("/logout", method="POST", headers=[cookie, *stack.same_origin()])
    assert r.status == 303, r


def status(stack, path, cookie):
    return stack.get(path, headers=[cookie]).status


def form_login(stack, addr, user, password):
    data = urllib.parse.urlencode({"username": user, "password": password}).encode()
    return stack.get("/login", method="POST", headers=[FORM, *stack.same_origin()], data=data,
                     extra=["--interface", addr]).status


def until(predicate, budget, what):
    """Seconds until `predicate` held, polled every 20 ms; fails past `budget`."""
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < budget * SLOW, f"{what} not within {budget} s"
        time.sleep(0.02)
    return time.monotonic() - t0


def test_logout_on_a_is_refused_on_b_within_a_second(instances, redis):
    a, b = pair(instances, redis)
    mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")
    assert status(b, "/marketing", mike) == 200
    logout(a, mike)
    took = until(lambda: status(b, "/marketing", mike) == 401, 1.0, "B refusing mike's cookie")
    # Every worker of B refuses it, not just the one that was asked.
    for _ in range(8):
        assert status(b, "/marketing", mike) == 401
    # Allowed twin: another user's cookie still works on B.
    for _ in range(8):
        assert status(b, "/", mica) == 200
    print(f"propagation {took * 1000:.0f} ms")
    # The documented keys, expiring with the token lifetime (1h + leeway).
    assert redis.cli("ZSCORE", "t:revoked", "mike") != ""
    assert redis.cli("ZSCORE", "t:revoked", "mica") == ""
    assert 3500 < int(redis.cli("TTL", "t:revoked")) <= 3700
    assert 3500 < int(redis.cli("TTL", "t:events")) <= 3700


def test_failures_spread_over_a_and_b_reach_the_limit_together(instances, redis):
    a, b = pair(instances, redis, {"LOGIN_LIMIT": "4 10m 10m"})
    # Below the limit across both: the right password still logs in.
    for s in (a, b, a):
        assert form_login(s, Y, "mike", "wrong") == 401
    assert form_login(b, Y, "mike", "123456") == 303
    # Four failures, two on each: neither instance alone saw four.
    for s in (a, b, a, b):
        assert form_login(s, X, "mica", "wrong") == 401
    time.sleep(1.0 * SLOW)
    assert form_login(a, X, "mica", "1234") == 429
    assert form_login(b, X, "mica", "1234") == 429
    assert "reached the limit across instances" in a.error_log
    # The counts expire with the window.
    assert 500 < int(redis.cli("TTL", "t:fail:user:mica")) <= 600
    assert redis.cli("GET", "t:fail:pair:127.0.0.2/mica") == "4"


def test_redis_outage_keeps_the_cookie_path_and_local_logouts(instances, redis):
    a, b = pair(instances, redis)
    mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")

    def timed(stack, cookie):
        t0 = time.monotonic()
        assert status(stack, "/", cookie) == 200
        return time.monotonic() - t0

    before = [timed(s, mica) for s in (a, b) for _ in range(10)]
    redis.kill()
    during = [timed(s, mica) for s in (a, b) for _ in range(20)]
    # No request waits for Redis: nothing slower than before, give or take noise.
    assert max(during) < max(before) + 0.1 * SLOW, (before, during)
    assert statistics.median(during) < statistics.median(before) + 0.02 * SLOW, (before, during)
    # A logout on A holds on A (every worker) while Redis is away ...
    logout(a, mike)
    for _ in range(8):
        assert status(a, "/marketing", mike) == 401
        assert status(a, "/", mica) == 200
    # ... and B, which cannot know yet, still takes it: what an outage weakens.
    assert status(b, "/marketing", mike) == 200
    # One error line per worker for the whole outage, not one per attempt.
    time.sleep(2.0 * SLOW)
    lines = [l for l in a.error_log.splitlines() if f"redis {redis.address} unavailable" in l]
    assert 1 <= len(lines) <= workers(a), lines
    assert all("[error]" in l for l in lines)
    assert "connect() to" not in a.error_log
    redis.start()
    # Back: A replays its logout, B learns it (backoff is at most 3 s).
    until(lambda: status(b, "/marketing", mike) == 401, 8.0, "B refusing mike after Redis returned")
    assert status(b, "/", mica) == 200
    assert "is back" in a.error_log
    lines = [l for l in a.error_log.splitlines() if f"redis {redis.address} unavailable" in l]
    assert len(lines) <= workers(a), lines


def test_restarted_instance_loads_the_live_cutoffs(instances, redis):
    a, b = pair(instances, redis)
    mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")
    logout(a, mike)
    until(lambda: status(b, "/marketing", mike) == 401, 1.0, "B refusing mike")
    # Many other live cut-offs: the load takes several pages.
    now = int(time.time())
    others = [x for i in range(3000) for x in (str(now), f"user{i}")]
    assert redis.cli("ZADD", "t:revoked", *others) == "3000"
    b.stop()
    # A new B: an empty zone, and the logout long past in the stream.
    c = instances(redis, like=a)
    connected(redis, workers(a) + workers(c))
    for _ in range(8):
        assert status(c, "/marketing", mike) == 401
        assert status(c, "/", mica) == 200


def test_password_file(instances, tmp_path):
    r = Redis(tmp_path, password="pass-for-the-test")
    try:
        good = tmp_path / "redis-password"
        good.write_text("pass-for-the-test\n")
        env = {"EXTRA_HTTP": f"dash_auth_redis {r.address} password_file={good};"}
        a = instances(r, env)
        b = instances(r, env, like=a)
        connected(r, workers(a) + workers(b))
        mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")
        logout(a, mike)
        until(lambda: status(b, "/marketing", mike) == 401, 1.0, "B refusing mike")
        assert status(b, "/", mica) == 200
        # A wrong password is an outage, logged once per worker, never echoed.
        bad = tmp_path / "bad-password"
        bad.write_text("nope-not-it\n")
        c = instances(r, {"EXTRA_HTTP": f"dash_auth_redis {r.address} password_file={bad};"})
        time.sleep(1.5 * SLOW)
        lines = [l for l in c.error_log.splitlines() if "authentication refused" in l]
        assert 1 <= len(lines) <= workers(c), lines
        assert "nope-not-it" not in c.error_log
    finally:
        r.stop()


@pytest.mark.parametrize("directive,problem", [
    ("dash_auth_redis 127.0.0.1:0;", "invalid address"),
    ("dash_auth_redis unix:/tmp/redis.sock;", "invalid address"),
    ("dash_auth_redis 127.0.0.1:6379 colour=red;", "invalid parameter \"colour=red\""),
    ("dash_auth_redis 127.0.0.1:6379 tls;", 'without "tls_trusted_certificate=file"'),
    ("dash_auth_redis 127.0.0.1:6379 prefix=;", "invalid prefix"),
    ("dash_auth_redis 127.0.0.1:6379 timeout=soon;", "invalid time value"),
    ("dash_auth_redis 127.0.0.1:6379 password_file=/nonexistent/pw;", "cannot read"),
    ("dash_auth_redis 127.0.0.1:6379; dash_auth_redis 127.0.0.1:6380;", "is duplicate"),
])
def test_bad_directives_fail_nginx_t_with_file_and_line(dashboard, directive, problem):
    s = Stack(dashboard, env={"EXTRA_HTTP": directive})
    try:
        r = s.test_config()
        assert r.returncode != 0
        assert "[emerg]" in r.stderr and problem in r.stderr, r.stderr
        line = next(i for i, l in enumerate(s.conf.read_text().splitlines(), 1) if "dash_auth_redis" in l)
        assert f"{s.conf}:{line}" in r.stderr, r.stderr
    finally:
        s.stop()


def test_store_needs_the_zone(dashboard):
    s = Stack(dashboard, env={"EXTRA_HTTP": "dash_auth_redis 127.0.0.1:6379;", "ZONE": ""})
    try:
        r = s.test_config()
        assert r.returncode != 0 and "needs \"dash_auth_zone\"" in r.stderr, r.stderr
    finally:
        s.stop()


def test_good_directive_passes_nginx_t(dashboard, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("x\n")
    s = Stack(dashboard, env={"EXTRA_HTTP": f"dash_auth_redis localhost:6390 prefix=app1: timeout=250ms password_file={pw};"})
    try:
        r = s.test_config()
        assert r.returncode == 0, r.stderr
    finally:
        s.stop()


def test_reload_keeps_the_store_consistent(instances, redis):
    a, b = pair(instances, redis)
    mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")
    logout(a, mike)
    until(lambda: status(b, "/marketing", mike) == 401, 1.0, "B refusing mike")
    b.reload()
    # The new workers connect and load; the old ones have closed theirs.
    connected(redis, workers(a) + workers(b))
    for _ in range(8):
        assert status(b, "/marketing", mike) == 401
        assert status(b, "/", mica) == 200
    logout(a, mica)
    until(lambda: status(b, "/", mica) == 401, 1.0, "reloaded B refusing mica")


@pytest.fixture
def tls_redis(tmp_path):
    r = Redis(tmp_path, tls=True)
    yield r
    r.stop()


def test_over_tls_a_logout_on_a_is_refused_on_b(instances, tls_redis):
    a, b = pair(instances, tls_redis)
    mike, mica = login(a, "mike", "123456"), login(a, "mica", "1234")
    assert status(b, "/marketing", mike) == 200
    logout(a, mike)
    until(lambda: status(b, "/marketing", mike) == 401, 1.0, "B refusing mike's cookie over TLS")
    # Allowed twin: another user's cookie still works on B.
    assert status(b, "/", mica) == 200
    assert tls_redis.cli("ZSCORE", "t:revoked", "mike") != ""


def test_over_tls_a_server_the_cas_do_not_sign_is_not_used(dashboard, tls_redis, tmp_path):
    """The trusted file holds another CA: the store never gets past the handshake,
    and says why once; the instance works on its own (its twin is the test above)."""
    other = make_ca(tmp_path / "other-ca")
    s = Stack(dashboard, env={"EXTRA_HTTP": f"dash_auth_redis {tls_redis.address} tls "
                                            f"tls_trusted_certificate={other} tls_name=localhost;"}).start()
    try:
        mike = login(s, "mike", "123456")
        wait_for(lambda: "not signed by the trusted CAs" in s.error_log, 10 * SLOW, "the TLS refusal logged")
        assert tls_redis.cli("ZCARD", "t:revoked") in ("0", "")
        logout(s, mike)
        # Local state still holds: the logout is enforced here.
        assert status(s, "/marketing", mike) == 401
        assert tls_redis.cli("EXISTS", "dash_auth:revoked") == "0"
    finally:
        s.stop()


@pytest.mark.parametrize("args, message", [
    ("tls", 'without "tls_trusted_certificate=file"'),
    ("tls_trusted_certificate=/nonexistent/ca.pem", 'without "tls"'),
    ("tls tls_trusted_certificate=/nonexistent/ca.pem", "/nonexistent/ca.pem"),
])
def test_bad_tls_settings_fail_nginx_t(dashboard, tls_redis, args, message):
    s = Stack(dashboard, env={"EXTRA_HTTP": f"dash_auth_redis {tls_redis.address} {args};"})
    t = s.test_config()
    assert t.returncode != 0
    assert "[emerg]" in t.stderr and message in t.stderr, t.stderr
    assert f"{s.conf}:" in t.stderr, t.stderr
    # Twin: the trusted file that signs the server passes.
    s.render(EXTRA_HTTP=f"dash_auth_redis {tls_redis.directive};")
    assert s.test_config().returncode == 0, s.test_config().stderr
