#!/usr/bin/env python3
"""Render an nginx config template: replace each ${NAME} with the environment's NAME.

nginx's own `$variables` are left alone: only `${NAME}` with NAME in upper case is
substituted, and a NAME missing from the environment and from DEFAULTS is an
error, not an empty string. A default may itself hold placeholders.

A placeholder alone on its line stands for whole lines: empty, the line is left
out; several lines, each is indented like the placeholder. That is how the
EXTRA_* placeholders add directives at the http, server or location level, and
how ZONE, SECTION_PATHS or DEPENDENCIES can leave their directive out.
"""
import os
import re
import sys

NAME = r"\$\{([A-Z][A-Z0-9_]*)\}"
# Either a placeholder alone on its line (indent, name) or one inside a line (name).
PLACEHOLDER = re.compile(rf"^([ \t]*){NAME}[ \t]*(?:\n|\Z)|{NAME}", re.M)

# Placeholders that may be left unset.
DEFAULTS = {
    "WORKER_PROCESSES": "auto",
    "ZONE": "dash_auth_zone dash_auth 1m;",
    "LISTEN_SSL": "ssl",
    "REALM": "Dash dashboard",
    "COOKIE_NAME": "example_jwt",
    "TOKEN_TTL": "1h",
    "SECTIONS": "marketing hr",
    "SECTION_PATHS": "dash_auth_section_paths hr /people;",
    "LOGIN_PATH": "/login",
    "LOGOUT_PATH": "/logout",
    "SESSION_MAX_AGE": "12h",
    "LOGIN_LIMIT": "10 5m 5m",
    "DEPENDENCIES": "dash_auth_dependencies_file ${DASH_DEPENDENCIES};",
    "EXTRA_MAIN": "",
    "EXTRA_HTTP": "",
    "EXTRA_SERVER": "",
    "EXTRA_LOCATION": "",
}


def render(text: str, env: dict, defaults: dict = DEFAULTS) -> str:
    def value(name):
        if name in env:
            return env[name]
        if name in defaults:
            return render(defaults[name], env, {k: v for k, v in defaults.items() if k != name})
        raise KeyError(f"template needs ${{{name}}}, which is not set")

    def sub(m):
        indent, alone, inline = m.groups()
        if inline is not None:
            return value(inline)
        lines = value(alone).splitlines()
        return "".join(indent + line + "\n" if line.strip() else "\n" for line in lines)

    return PLACEHOLDER.sub(sub, text)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: render-conf.py TEMPLATE OUTPUT")
    with open(sys.argv[1]) as f:
        text = f.read()
    try:
        out = render(text, os.environ)
    except KeyError as e:
        sys.exit(f"render-conf.py: {sys.argv[1]}: {e.args[0]}")
    with open(sys.argv[2], "w") as f:
        f.write(out)


if __name__ == "__main__":
    main()
