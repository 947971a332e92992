"""The users file is the source of truth for live sessions: after `nginx -s
reload`, a removed user's cookie counts as no cookie, a narrowed user keeps only
what the file still gives, and a sliding refresh writes only that. Every refused
case has a twin that still works after the same reload."""
import subprocess
import time

import pytest

import jwt_forge
from harness import ROOT, SLOW, Stack, basic

HTML = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
DEMO = (ROOT / "nginx-conf/users").read_text().splitlines()
MICA = next(l for l in DEMO if l.startswith("mica:"))
MIKE = next(l for l in DEMO if l.startswith("mike:"))
# Long enough that the checks after a reload run before the refresh is due,
# short enough that the test can wait for it.
TTL = max(10, int(10 * SLOW))


def passwd_line(user, password, sections):
    return subprocess.run([str(ROOT / "target/release/dash-auth-passwd"), "-5", user, sections],
                          input=password.encode() + b"\n", capture_output=True, check=True).stdout.decode().strip()


HANA_PASSWORD = "hana-pa55"


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users"

    def write(hana_sections=None, mike=MIKE):
        lines = [MICA, mike]
        if hana_sections is not None:
            lines.append(passwd_line("hana", HANA_PASSWORD, hana_sections))
        path.write_text("\n".join(lines) + "\n")

    write("hr,marketing")
    write.path = path
    return write


@pytest.fixture
def users_stack(dashboard, users):
    s = Stack(dashboard, users=users.path, env={"TOKEN_TTL": f"{TTL}s"}).start()
    yield s
    s.stop()


def sign_in(stack, user, password):
    r = stack.get("/", headers=[f"Authorization: {basic(user, password)}"])
    assert r.status == 200, r
    return r.cookie()


def with_cookie(token, *more):
    return [f"Cookie: example_jwt={token}", *more]


def claims(token):
    return jwt_forge.parts(token)[1]


def test_removed_user_is_signed_out_at_reload(users_stack, users):
    s = users_stack
    hana = sign_in(s, "hana", HANA_PASSWORD)
    mica = sign_in(s, "mica", "1234")
    assert s.get("/hr", headers=with_cookie(hana)).status == 200

    users(hana_sections=None)
    s.reload()

    # Every worker refuses her cookie as if none had come: the Basic challenge,
    # or the login page for a browser. Several requests reach both workers.
    for _ in range(6):
        r = s.get("/hr", headers=with_cookie(hana))
        assert r.status == 401 and r.header("WWW-Authenticate").startswith("Basic realm=")
        assert s.get("/", headers=with_cookie(hana)).status == 401
    r = s.get("/hr", headers=with_cookie(hana, HTML))
    assert r.status == 302 and r.header("Location").endswith("/login?return=/hr")
    assert s.get("/hr", headers=[f"Authorization: {basic('hana', HANA_PASSWORD)}"]).status == 401
    log = s.error_log
    assert 'user "hana": session user is no longer in the users file' in log
    assert hana not in log and hana.split(".")[2] not in log

    # Twin: mica's cookie, minted before the same reload, still opens /hr.
    for _ in range(6):
        assert s.get("/hr", headers=with_cookie(mica)).status == 200


def test_narrowed_user_keeps_only_what_the_file_gives(users_stack, users):
    s = users_stack
    signed_in = time.time()
    hana = sign_in(s, "hana", HANA_PASSWORD)
    mike = sign_in(s, "mike", "123456")
    mica = sign_in(s, "mica", "1234")
    assert claims(hana)["allowed_resources"] == ["hr", "marketing"]
    assert s.get("/hr", headers=with_cookie(hana)).status == 200
    assert "nav-hr" in s.get("/_dash-layout", headers=with_cookie(hana)).text

    # hana loses hr; mike's line now grants every section.
    users(hana_sections="marketing", mike=MIKE.rsplit(":", 1)[0] + ":_all_")
    s.reload()
    assert time.time() - signed_in < TTL / 2, "the reload took too long to see the cookie before its refresh"

    for _ in range(6):
        assert s.get("/hr", headers=with_cookie(hana)).status == 403
        assert s.get("/people", headers=with_cookie(hana)).status == 403
        assert s.get("/marketing", headers=with_cookie(hana)).status == 200
    assert 'user "hana" may not access section "hr"' in s.error_log
    # The app and the access log are told the sections in effect.
    layout = s.get("/_dash-layout", headers=with_cookie(hana)).text
    assert "Signed in as hana" in layout and "nav-marketing" in layout and "nav-hr" not in layout
    s.get("/marketing?probe=narrowed", headers=with_cookie(hana))
    assert 'sections="marketing"' in s.access_line("probe=narrowed")

    # A file that grants more widens no live session: mike's cookie was
    # minted with marketing. Twin: his next password login gets every section.
    assert s.get("/hr", headers=with_cookie(mike)).status == 403
    fresh_mike = sign_in(s, "mike", "123456")
    assert claims(fresh_mike)["allowed_resources"] == ["_all_"]
    assert s.get("/hr", headers=with_cookie(fresh_mike)).status == 200

    # Into the second half of the token's life: the refresh writes only marketing.
    time.sleep(max(0.0, signed_in + TTL / 2 + 1 - time.time()))
    r = s.get("/marketing", headers=with_cookie(hana))
    assert r.status == 200
    refreshed = r.cookie()
    assert refreshed, "no sliding refresh"
    c = claims(refreshed)
    assert c["sub"] == "hana" and c["allowed_resources"] == ["marketing"]
    assert c["iat"] > claims(hana)["iat"] and c["auth_time"] == claims(hana)["auth_time"]
    assert s.get("/hr", headers=with_cookie(refreshed)).status == 403
    assert s.get("/marketing", headers=with_cookie(refreshed)).status == 200
    # Twin: an unchanged user's refresh keeps what she has. She signed in
    # after hana (bcrypt takes its time on a loaded machine): wait for her
    # token's own second half.
    time.sleep(max(0.0, claims(mica)["iat"] + TTL / 2 + 1 - time.time()))
    r = s.get("/hr", headers=with_cookie(mica))
    assert r.status == 200 and r.cookie() and claims(r.cookie())["allowed_resources"] == ["_all_"]


def test_logout_of_a_removed_user_outlives_adding_her_back(users_stack, users):
    s = users_stack
    hana = sign_in(s, "hana", HANA_PASSWORD)
    other = sign_in(s, "hana", HANA_PASSWORD)
    users(hana_sections=None)
    s.reload()
    assert s.get("/marketing", headers=with_cookie(hana)).status == 401
    r = s.get("/logout", method="POST", data=b"",
              headers=[*with_cookie(hana), f"Origin: {s.origin()}", "Sec-Fetch-Site: same-origin"])
    assert r.status == 303 and "Max-Age=0" in r.header("Set-Cookie")
    assert 'user "hana": signed out' in s.error_log
    # Added back before her tokens expire: the cookies issued before the
    # logout stay refused, a new login works.
    users(hana_sections="marketing")
    s.reload()
    assert s.get("/marketing", headers=with_cookie(hana)).status == 401
    assert s.get("/marketing", headers=with_cookie(other)).status == 401
    assert "session cookie ended by logout" in s.error_log
    fresh = sign_in(s, "hana", HANA_PASSWORD)
    assert s.get("/marketing", headers=with_cookie(fresh)).status == 200
