"""Single sign-on under `make bench`, as information: how long a whole SSO
login takes against the local OpenID Provider (tests/oidc), from the browser's
first request to the session cookie, and how much of it is nginx's callback
(the code exchange at the token endpoint, the ID token check, the session).

One nginx worker with the module, over https on loopback; the provider is
node oidc-provider over TLS. The first login of a fresh worker also fetches
discovery and the JWKS; it is reported on its own.

Run by bench.py after its cases (BENCH_CASES without O skips it), or alone:
`bench/.venv/bin/python bench/sso.py` (after scripts/build-debian-module.sh).
"""
from __future__ import annotations

import http.client
import shutil
import ssl
import statistics
import subprocess
import time
import urllib.parse
from pathlib import Path

from configs import conf_header, prepare_workdir
from settings import OUT, ROOT
from harness import free_port  # after settings (see its docstring)
from oidc_provider import OpenIDProvider
from processes import Nginx

LOGINS = 40
STATE = "__Host-dash_auth_oidc"
SECRET = "bench-client-secret-0123456789"


def conf(w: Path, port: int, op: OpenIDProvider) -> str:
    return conf_header(w, "sso.py", pinned=False, connections=1024, keepalive=False) + f"""    dash_auth_zone dash_auth 1m;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {w / 'tls.crt'};
        ssl_certificate_key {w / 'tls.key'};
        dash_auth "bench";
        dash_auth_user_file {w / 'users-demo'};
        dash_auth_secret_file {w / 'secret'};
        dash_auth_sections marketing hr;
        dash_auth_login /login;
        dash_auth_oidc_issuer {op.issuer};
        dash_auth_oidc_client_id bench;
        dash_auth_oidc_client_secret_file {w / 'oidc-secret'};
        dash_auth_oidc_user_claim preferred_username;
        dash_auth_oidc_groups {w / 'groups'};
        proxy_ssl_trusted_certificate {op.ca};
        proxy_ssl_name localhost;
        include {ROOT / 'nginx-conf/oidc-fetch.conf'};
    }}
}}
"""


def one_login(port: int, op: OpenIDProvider, tls: ssl.SSLContext) -> tuple[float, float]:
    """Seconds for the whole login, and for nginx's callback alone."""
    t0 = time.perf_counter()
    c = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=30)
    c.request("GET", "/bench.txt", headers={"Accept": "text/html"})
    r = c.getresponse()
    r.read()
    assert r.status == 302, r.status
    state = next(v for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith(STATE + "="))
    callback = op.login(r.getheader("Location"), "mike", "mike-sso-pass")
    parts = urllib.parse.urlsplit(callback)
    t1 = time.perf_counter()
    c.request("GET", f"{parts.path}?{parts.query}",
              headers={"Accept": "text/html", "Cookie": state.split(";", 1)[0]})
    r = c.getresponse()
    r.read()
    t2 = time.perf_counter()
    assert r.status == 302, r.status
    assert any(k.lower() == "set-cookie" and v.startswith("example_jwt=") for k, v in r.getheaders())
    c.close()
    return t2 - t0, t2 - t1


def run(w: Path | None = None) -> dict:
    own = w is None
    w = w or prepare_workdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(w / "tls.key"), "-out", str(w / "tls.crt")], check=True, capture_output=True)
    (w / "oidc-secret").write_text(SECRET + "\n")
    (w / "groups").write_text("dash-all _all_\ndash-marketing marketing\n")
    port = free_port()
    op = OpenIDProvider(w, [{"client_id": "bench", "client_secret": SECRET,
                             "redirect_uris": [f"https://127.0.0.1:{port}/oauth2/callback"]}])
    (w / "sso" / "logs").mkdir(parents=True, exist_ok=True)
    (w / "sso/conf").mkdir(exist_ok=True)
    (w / "sso/conf/nginx.conf").write_text(conf(w, port, op))
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    nginx = Nginx(w / "sso", w / "sso/conf/nginx.conf", port)
    try:
        first = one_login(port, op, tls)
        runs = [one_login(port, op, tls) for _ in range(LOGINS)]
        trouble = nginx.trouble()
    finally:
        nginx.stop()
        op.stop()
        if own:
            shutil.rmtree(w, ignore_errors=True)
    total = sorted(t for t, _ in runs)
    callback = sorted(c for _, c in runs)
    q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1e3  # noqa: E731
    return {
        "logins": LOGINS,
        "first_ms": {"total": first[0] * 1e3, "callback": first[1] * 1e3},
        "total_ms": {"median": statistics.median(total) * 1e3, "p90": q(total, 0.9)},
        "callback_ms": {"median": statistics.median(callback) * 1e3, "p90": q(callback, 0.9)},
        "trouble": trouble,
    }


def report(res: dict) -> str:
    t, c, f = res["total_ms"], res["callback_ms"], res["first_ms"]
    lines = [
        "",
        "## Single sign-on (information)",
        "",
        f"A whole SSO login against the local OpenID Provider (node oidc-provider over TLS on loopback), "
        f"{res['logins']} logins one after another: from the first request to nginx, through the provider's "
        "login form, to the session cookie. The callback is nginx's part: the code exchange at the token "
        "endpoint (a subrequest through the internal location), the ID token check and the session.",
        "",
        "| | median ms | p90 ms |",
        "|---|---|---|",
        f"| whole login | {t['median']:.1f} | {t['p90']:.1f} |",
        f"| nginx's callback | {c['median']:.1f} | {c['p90']:.1f} |",
        "",
        f"The first login of a fresh worker, which also fetches discovery and the JWKS: {f['total']:.1f} ms, "
        f"its callback {f['callback']:.1f} ms.",
    ]
    if res["trouble"]:
        lines += ["", "nginx error log had: " + "; ".join(res["trouble"][:3])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import json
    import sys

    out = run()
    print(report(out))
    if sys.argv[1:] == ["--save"]:
        (OUT / "sso.json").write_text(json.dumps(out, indent=1))
