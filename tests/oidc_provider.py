"""A real OpenID Provider (tests/oidc/provider.mjs, panva's oidc-provider under node)
for the SSO tests, and the user's side of its login and logout pages.

    op = OpenIDProvider(workdir, clients=[{"client_id": "dash", "client_secret": "...",
                                           "redirect_uris": ["https://127.0.0.1:8443/oauth2/callback"]}])
    op.issuer, op.ca                   # for the nginx config (proxy_ssl_trusted_certificate op.ca)
    back = op.login(authorize_url, "mica", "mica-sso-pass")   # -> redirect_uri?code=..&state=..&iss=..
    op.set_mode("wrong-aud")           # the next id_tokens from /token come tampered
    op.reset(); op.counts(); op.stop()

Users: mica/mica-sso-pass (groups dash-all), mike/mike-sso-pass (dash-marketing),
nobody/nobody-sso-pass (unmapped-group). See tests/oidc/README.md for the modes.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from harness import ROOT, free_port, make_ca, make_cert, stop_group, wait_for

OP_DIR = ROOT / "tests/oidc"

# The values tests/oidc/provider.mjs accepts (`off` = no tampering).
MODES = ("off", "none", "hs256-pubkey", "wrong-aud", "extra-aud", "extra-aud-azp", "wrong-iss", "expired",
         "future-iat", "wrong-nonce", "unknown-kid", "rotated-kid", "alg-kty-mismatch", "resign")

USERS = {"mica": "mica-sso-pass", "mike": "mike-sso-pass", "nobody": "nobody-sso-pass"}


class ProviderError(RuntimeError):
    """The provider answered something the flow did not expect (an error page, a 4xx/5xx)."""


class LoginRefused(ProviderError):
    """The login form came back again: wrong password or unknown user."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Forms(HTMLParser):
    """The forms of a page (action, method, fields, named submit buttons) and the text
    of its error element (id login-error or op-error)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.error = ""
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if a.get("id") in ("login-error", "op-error"):
            self._in_error = True
        if tag == "form":
            self.forms.append({"id": a.get("id", ""), "action": a.get("action", ""),
                               "method": a.get("method", "get").lower(), "fields": [], "buttons": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type", "text") == "submit":
                self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
            else:
                self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag in ("p", "div", "span"):
            self._in_error = False

    def handle_data(self, data):
        if self._in_error:
            self.error += data


# What a browser sends, so the provider answers with its pages, errors included.
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _why(page: "_Forms", body: bytes) -> str:
    return page.error.strip() or body[:300].decode("utf-8", "replace")


def _forms(body: bytes) -> _Forms:
    parser = _Forms()
    parser.feed(body.decode("utf-8", "replace"))
    return parser


class OpenIDProvider:
    """One provider process: its own CA and certificate (DNS:localhost, IP:127.0.0.1),
    TLS port and control port. Started by the constructor unless start=False: then
    `issuer` and `ca` are known before the relying party's port is, and `clients`
    (registered at each start) can be filled in before start().

    A client: client_id, client_secret, redirect_uris (exact match), and optionally
    post_logout_redirect_uris ([]), token_endpoint_auth_method (client_secret_basic
    or client_secret_post), id_token_signed_response_alg (RS256, PS256 or ES256)."""

    def __init__(self, workdir: Path, clients: list[dict], port: int | None = None, *, start: bool = True):
        self.port = port or free_port()
        self.control_port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.dir = Path(workdir) / f"oidc-op-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca = make_ca(self.dir / "ca")
        self.cert, self.key = make_cert(self.dir / "ca", self.dir / "tls", "localhost")
        self.clients = list(clients)
        self.log_path = self.dir / "provider.log"
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._tls = ssl.create_default_context(cafile=str(self.ca))
        if start:
            self.start()

    @staticmethod
    def _client(c: dict) -> dict:
        return {"post_logout_redirect_uris": [], "token_endpoint_auth_method": "client_secret_basic",
                "id_token_signed_response_alg": "RS256", **c}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- process ---------------------------------------------------------

    def start(self, fresh_keys: bool = False) -> "OpenIDProvider":
        """Starts node on the same ports. The signing keys (rsa-1, ec-1) are kept in
        the provider's directory and survive a restart unless fresh_keys; sessions,
        codes, mode, delays and counts do not."""
        if self.proc is not None:
            raise RuntimeError("provider already running")
        config = self.dir / "provider.json"
        config.write_text(json.dumps({
            "issuer": self.issuer, "port": self.port, "control_port": self.control_port,
            "tls_cert": str(self.cert), "tls_key": str(self.key), "keys_file": str(self.dir / "keys.json"),
            "fresh_keys": fresh_keys, "clients": [self._client(c) for c in self.clients],
        }, indent=1))
        node = os.environ.get("NODE_BIN") or shutil.which("node") or "node"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([node, "provider.mjs", str(config)], cwd=OP_DIR, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(self._up, 30, "the OpenID provider")
        except BaseException:
            self.kill()
            raise
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited ({self.proc.returncode}):\n{self.log_tail()}")
        try:
            self.discovery()
            self._control("GET", "/mode")
        except (OSError, ProviderError):
            return False
        return True

    def stop(self) -> None:
        """SIGTERM and wait (idempotent)."""
        if self.proc is not None:
            stop_group(self.proc, self._log)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: the provider vanishes mid-whatever (idempotent)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(20)
            self._log.close()
            self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # ---- control port ----------------------------------------------------

    def _control(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise ProviderError(f"control {method} {path}: {e.code} {e.read().decode(errors='replace')}") from None

    def set_mode(self, mode: str) -> None:
        """How every following token-endpoint answer's id_token is tampered, until
        reset() or set_mode("off")."""
        self._control("POST", "/mode", {"mode": mode})

    def mode(self) -> tuple[str, int]:
        """The current mode and how many id_tokens have been tampered since start."""
        r = self._control("GET", "/mode")
        return r["mode"], r["tampered"]

    def reset(self) -> None:
        """Mode off, no delays (counts stay: reset_counts())."""
        self._control("POST", "/reset")

    def delay(self, path: str, seconds: float) -> None:
        """Holds every answer of an endpoint (token, jwks, discovery, authorization,
        end_session, userinfo) for `seconds` before serving it; 0 ends it."""
        self._control("POST", "/delay", {"path": path, "seconds": seconds})

    def counts(self) -> dict[str, int]:
        """Requests received per endpoint since start or reset_counts(): always
        discovery, jwks, token, authorization, end_session; and, once seen,
        authorization_resume, interaction, end_session_confirm, userinfo, other."""
        return self._control("GET", "/counts")

    def reset_counts(self) -> None:
        self._control("POST", "/counts/reset")

    # ---- TLS side --------------------------------------------------------

    def session(self) -> http.cookiejar.CookieJar:
        """A browser's cookie jar at the provider, for login()/logout_confirm()."""
        return http.cookiejar.CookieJar()

    def _opener(self, jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(urllib.request.HTTPSHandler(context=self._tls),
                                           urllib.request.HTTPCookieProcessor(jar), _NoRedirect())

    @staticmethod
    def _fetch(opener, url: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()

    def _get_json(self, path: str) -> dict:
        status, _, body = self._fetch(self._opener(self.session()), self.issuer + path)
        if status != 200:
            raise ProviderError(f"GET {path}: {status}")
        return json.loads(body)

    def discovery(self) -> dict:
        return self._get_json("/.well-known/openid-configuration")

    def jwks(self) -> dict:
        return self._get_json("/jwks")

    def _ours(self, url: str) -> bool:
        a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(self.issuer)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def login(self, authorize_url: str, user: str, password: str, *,
              session: http.cookiejar.CookieJar | None = None) -> str:
        """Opens `authorize_url` (the provider's, as the relying party redirected to),
        fills the login form, and returns the first redirect that leaves the provider
        (redirect_uri?code=&state=&iss=, or ?error=) without following it. A fresh
        cookie jar unless `session` (then a signed-in session skips the form).
        LoginRefused if the form comes back (wrong password, unknown user)."""
        opener = self._opener(session if session is not None else self.session())
        url, data, submitted = authorize_url, None, False
        for _ in range(20):
            status, headers, body = self._fetch(opener, url, data, BROWSER)
            data = None
            if status in (301, 302, 303, 307, 308):
                nxt = urllib.parse.urljoin(url, headers["Location"])
                if not self._ours(nxt):
                    return nxt
                url = nxt
                continue
            page = _forms(body)
            form = next((f for f in page.forms if f["id"] == "login-form"), None)
            if status == 200 and form is not None:
                if submitted:
                    raise LoginRefused(page.error.strip() or "login form shown again")
                fields = dict(form["fields"], login=user, password=password)
                url, data, submitted = urllib.parse.urljoin(url, form["action"]), urllib.parse.urlencode(
                    fields).encode(), True
                continue
            raise ProviderError(f"{status} at {urllib.parse.urlsplit(url).path}: {_why(page, body)}")
        raise ProviderError("too many redirects at the provider")

    def logout_confirm(self, url: str, *, session: http.cookiejar.CookieJar | None = None) -> str:
        """Opens the end-session `url` (id_token_hint, post_logout_redirect_uri, state),
        presses "Sign out" (button logout-confirm, or the provider's auto-submitting
        form when there is no session), and returns where the provider sends the user:
        the post_logout_redirect_uri with state, not followed; or, without one, the
        provider's own signed-out page's URL. `session`: the jar login() used."""
        opener = self._opener(session if session is not None else self.session())
        data, submitted = None, False
        for _ in range(20):
            status, headers, body = self._fetch(opener, url, data, BROWSER)
            data = None
            if status in (301, 302, 303, 307, 308):
                url = urllib.parse.urljoin(url, headers["Location"])
                if not self._ours(url):
                    return url
                continue
            page = _forms(body)
            if status == 200 and page.forms and not submitted:
                form = page.forms[0]
                fields = form["fields"] + form["buttons"][:1]
                url, data, submitted = urllib.parse.urljoin(url, form["action"]), urllib.parse.urlencode(
                    fields).encode(), True
                continue
            if status == 200 and not page.forms:
                return url
            raise ProviderError(f"{status} at {urllib.parse.urlsplit(url).path}: {_why(page, body)}")
        raise ProviderError("too many redirects at the provider")
