"""scripts/render-conf.py, as make run, the container and the harness run it."""
import os
import subprocess

import pytest

from harness import ROOT

RENDER = ROOT / "scripts/render-conf.py"
REQUIRED = {"MODULE_PATH": "/m.so", "LISTEN_ADDR": "", "HTTP_PORT": "80", "HTTPS_PORT": "443",
            "DASH_UPSTREAM": "dashboard:8050", "USERS_FILE": "/u", "SECRET_FILE": "/s", "TLS_CERT": "/c",
            "TLS_KEY": "/k", "DASH_DEPENDENCIES": "/d.json"}


def render(tmp_path, template, **env):
    src, out = tmp_path / "t.conf.template", tmp_path / "t.conf"
    src.write_text(template)
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG")}
    r = subprocess.run([str(RENDER), str(src), str(out)], env={**base, **env}, capture_output=True, text=True)
    return r, out.read_text() if out.exists() else None


def test_shipped_template_with_only_the_required_names(tmp_path):
    r, conf = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), **REQUIRED)
    assert r.returncode == 0, r.stderr
    assert "${" not in conf
    lines = conf.splitlines()
    assert "    dash_auth_zone dash_auth 1m;" in lines
    assert '        dash_auth             "Dash dashboard";' in lines
    assert "        dash_auth_dependencies_file /d.json;" in lines
    # The empty EXTRA_* lines are left out, not left blank.
    assert not [l for l in lines if l and not l.strip()]
    assert '            proxy_set_header Accept-Encoding "";\n        }\n    }\n}' in conf


def test_missing_required_name_is_an_error(tmp_path):
    env = dict(REQUIRED)
    del env["DASH_DEPENDENCIES"]
    r, _ = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), **env)
    assert r.returncode != 0 and "DASH_DEPENDENCIES" in r.stderr
    # ...unless the line that needs it is left out.
    r, conf = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), DEPENDENCIES="", **env)
    assert r.returncode == 0, r.stderr
    assert not [l for l in conf.splitlines() if l.strip().startswith("dash_auth_dependencies_file")]


def test_a_placeholder_alone_on_its_line_is_whole_lines(tmp_path):
    template = "http {\n    ${EXTRA_HTTP}\n    server {\n        ${EXTRA_SERVER}\n    }\n}\n"
    _, conf = render(tmp_path, template, EXTRA_SERVER="location /a {\n    return 204;\n}\n\nlimit_rate 1k;")
    assert conf == ("http {\n    server {\n        location /a {\n            return 204;\n        }\n\n"
                    "        limit_rate 1k;\n    }\n}\n")
    # Inside a line, a value is put in as it is; nginx's own variables are left alone.
    _, conf = render(tmp_path, "listen ${LISTEN_ADDR}${HTTPS_PORT} ${LISTEN_SSL}; # $host ${host}\n",
                     LISTEN_ADDR="127.0.0.1:", HTTPS_PORT="8443")
    assert conf == "listen 127.0.0.1:8443 ssl; # $host ${host}\n"


@pytest.mark.parametrize("version, listen, http2", [("1.22.1", "ssl http2", False), ("1.25.0", "ssl http2", False),
                                                   ("1.25.1", "ssl", True), ("1.28.3", "ssl", True)])
def test_http2_is_spelled_for_the_nginx_version(tmp_path, version, listen, http2):
    """`listen ... http2` before 1.25.1, the `http2` directive from then on."""
    r, conf = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), NGINX_VERSION=version,
                     **REQUIRED)
    assert r.returncode == 0, r.stderr
    lines = conf.splitlines()
    assert f"        listen 443 {listen};" in lines
    assert ("        http2 on;" in lines) == http2


def test_http2_version_from_the_binary(tmp_path):
    """NGINX_BIN is asked with -v; one that cannot say fails the rendering."""
    fake = tmp_path / "nginx"
    fake.write_text("#!/bin/sh\necho 'nginx version: nginx/1.22.1' >&2\n")
    fake.chmod(0o755)
    template = (ROOT / "nginx-conf/nginx.conf.template").read_text()
    r, conf = render(tmp_path, template, NGINX_BIN=str(fake), **REQUIRED)
    assert r.returncode == 0 and "        listen 443 ssl http2;" in conf.splitlines(), r.stderr
    fake.write_text("#!/bin/sh\necho 'no idea' >&2\n")
    r, _ = render(tmp_path, template, NGINX_BIN=str(fake), **REQUIRED)
    assert r.returncode != 0 and "version" in r.stderr


def test_redirect_port_left_out_for_443_only(tmp_path):
    _, conf = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), **REQUIRED)
    assert "return 301 https://$host$https_port_in_url$request_uri;" in conf
    assert "map 443 $https_port_in_url {" in conf and 'default ":443";' in conf
    env = {**REQUIRED, "PUBLIC_HTTPS_PORT": "8443"}
    _, conf = render(tmp_path, (ROOT / "nginx-conf/nginx.conf.template").read_text(), **env)
    assert "map 8443 $https_port_in_url {" in conf
