"""Configuration faults fail `nginx -t` with [emerg], file and line; reload re-reads files."""
import re
import subprocess

import pytest

from harness import ROOT, Stack, basic, free_port

VALID_LINE = (ROOT / "nginx-conf/users").read_text().splitlines()


def users_file(tmp_path, text):
    p = tmp_path / "users"
    p.write_text(text)
    return p


def conf_line(stack, directive):
    for i, line in enumerate(stack.conf.read_text().splitlines(), 1):
        if line.strip().startswith(directive + " "):
            return i
    raise AssertionError(directive)


@pytest.fixture
def make_stack(dashboard):
    made = []

    def make(**kw):
        s = Stack(dashboard, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def mica_line():
    return next(l for l in (ROOT / "nginx-conf/users").read_text().splitlines() if l.startswith("mica:"))


@pytest.mark.parametrize("bad,line,problem", [
    ("apr1:$apr1$abc$def:_all_\n", 2, "unknown password hash scheme"),
    ("plain:1234:_all_\n", 2, "plain"),
    ("nocolon\n", 2, ""),
    ("bad:$6$salt$hash:mark eting\n", 2, ""),
    ("DUP", 2, "duplicate"),
])
def test_bad_users_file_fails_nginx_t_naming_file_and_line(tmp_path, make_stack, bad, line, problem):
    if bad == "DUP":
        bad = mica_line() + "\n"
    users = users_file(tmp_path, mica_line() + "\n" + bad)
    s = make_stack(users=users)
    r = s.test_config()
    assert r.returncode != 0
    err = r.stderr
    assert "[emerg]" in err
    assert str(users) in err
    assert f"line {line}" in err
    assert problem in err
    # nginx's own suffix: the nginx.conf file and the directive's line
    assert f"{s.conf}:{conf_line(s, 'dash_auth_user_file')}" in err


def test_missing_users_file(tmp_path, make_stack):
    s = make_stack(users=tmp_path / "absent")
    r = s.test_config()
    assert r.returncode != 0 and "[emerg]" in r.stderr and "absent" in r.stderr


@pytest.mark.parametrize("content", [b"", b"short-secret\n", b"x" * 31 + b"\n"])
def test_short_secret_fails_nginx_t(make_stack, content):
    s = make_stack()
    (s.prefix / "secrets/secret").write_bytes(content)
    r = s.test_config()
    assert r.returncode != 0
    assert "[emerg]" in r.stderr and "32" in r.stderr
    assert f"{s.conf}:{conf_line(s, 'dash_auth_secret_file')}" in r.stderr


def test_missing_secret_file(make_stack):
    s = make_stack()
    (s.prefix / "secrets/secret").unlink()
    r = s.test_config()
    assert r.returncode != 0 and "[emerg]" in r.stderr and "secret" in r.stderr


def test_shipped_config_passes_nginx_t(make_stack):
    r = make_stack().test_config()
    assert r.returncode == 0, r.stderr


def test_reload_picks_up_a_changed_users_file(tmp_path, make_stack):
    users = users_file(tmp_path, mica_line() + "\n")
    s = make_stack(users=users).start()
    newbie = basic("newbie", "pa55word")
    assert s.get("/", headers=[f"Authorization: {newbie}"]).status == 401
    line = subprocess.run([str(ROOT / "target/release/dash-auth-passwd"), "-6", "newbie", "marketing"],
                          input=b"pa55word\n", capture_output=True, check=True).stdout.decode().strip()
    users.write_text(mica_line() + "\n" + line + "\n")
    s.reload()
    r = s.get("/marketing", headers=[f"Authorization: {newbie}"])
    assert r.status == 200
    assert s.get("/hr", headers=[f"Authorization: {newbie}"]).status == 403


def test_failed_reload_keeps_serving_the_old_config(tmp_path, make_stack):
    users = users_file(tmp_path, mica_line() + "\n")
    s = make_stack(users=users).start()
    users.write_text("broken line without hash\n")
    r = s.nginx("-s", "reload")  # parses the config first, so refuses to signal
    assert r.returncode != 0 and "[emerg]" in r.stderr + s.error_log
    s.hup()  # the master itself tries, fails, and keeps the old configuration
    assert s.get("/", headers=[f"Authorization: {basic('mica', '1234')}"]).status == 200
    assert re.search(r"\[emerg\].*line 1", s.error_log)


def test_dash_auth_without_user_file_fails(make_stack):
    # A second server, like the shipped one but for its users file.
    s = make_stack()
    s.render(EXTRA_HTTP=f"""server {{
    listen 127.0.0.1:{free_port()};
    dash_auth             "Second server";
    dash_auth_secret_file {s.prefix / 'secrets/secret'};
}}""")
    r = s.test_config()
    assert r.returncode != 0
    assert "[emerg]" in r.stderr and "dash_auth_user_file" in r.stderr


def test_dash_auth_with_user_file_in_a_second_server_passes(make_stack):
    s = make_stack()
    s.render(EXTRA_HTTP=f"""server {{
    listen 127.0.0.1:{free_port()};
    dash_auth             "Second server";
    dash_auth_user_file   {s.users};
    dash_auth_secret_file {s.prefix / 'secrets/secret'};
}}""")
    r = s.test_config()
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("directive,env", [
    ("dash_auth_token_ttl", {"TOKEN_TTL": "forever"}),
    ("dash_auth_cookie", {"COOKIE_NAME": '"bad name"'}),
    ("dash_auth_sections", {"SECTIONS": "marketing hr-x"}),
    ("dash_auth_basic_cache_size", {"EXTRA_SERVER": "dash_auth_basic_cache_size 0;"}),
    ("dash_auth_basic_cache", {"EXTRA_SERVER": "dash_auth_basic_cache maybe;"}),
])
def test_bad_directive_values(make_stack, directive, env):
    s = make_stack(env=env)
    r = s.test_config()
    assert r.returncode != 0
    assert "[emerg]" in r.stderr and directive in r.stderr


def test_basic_cache_is_dropped_on_reload(tmp_path, make_stack):
    """A cached login must not outlive a password change: a reload starts new workers."""
    passwd = ROOT / "target/release/dash-auth-passwd"
    line = lambda pw: subprocess.run([str(passwd), "-5", "mike", "marketing"], input=pw.encode() + b"\n",
                                     capture_output=True, check=True).stdout.decode()
    users = users_file(tmp_path, mica_line() + "\n" + line("old-pass"))
    s = make_stack(users=users).start()
    old = [f"Authorization: {basic('mike', 'old-pass')}"]
    assert s.get("/marketing", headers=old).status == 200
    assert s.get("/marketing", headers=old).status == 200  # now answered from the cache
    users.write_text(mica_line() + "\n" + line("new-pass"))
    s.reload()
    assert s.get("/marketing", headers=old).status == 401
    assert s.get("/marketing", headers=[f"Authorization: {basic('mike', 'new-pass')}"]).status == 200


def test_basic_cache_can_be_turned_off(make_stack):
    s = make_stack(env={"EXTRA_SERVER": "dash_auth_basic_cache off;"}).start()
    assert s.get("/marketing", headers=[f"Authorization: {basic('mike', '123456')}"]).status == 200
    assert s.get("/marketing", headers=[f"Authorization: {basic('mike', 'nope')}"]).status == 401


ZONE = "dash_auth_zone dash_auth 1m;"


@pytest.mark.parametrize("level", ["EXTRA_SERVER", "EXTRA_LOCATION"])
def test_zone_outside_http_fails_nginx_t(make_stack, level):
    s = make_stack(env={"ZONE": "", level: ZONE})
    r = s.test_config()
    assert r.returncode != 0
    line = conf_line(s, "dash_auth_zone")
    # Debian's nginx logs to stderr with its pid after the level.
    want = r'\[emerg\] (\d+#\d+: )?"dash_auth_zone" directive is not allowed here in ' + re.escape(f"{s.conf}:{line}")
    assert re.search(want, r.stderr), r.stderr


def test_zone_at_http_level_passes_nginx_t(make_stack):
    # The same line as above, moved to the http block (where the shipped config has it).
    s = make_stack(env={"ZONE": "", "EXTRA_HTTP": ZONE})
    r = s.test_config()
    assert r.returncode == 0, r.stderr
