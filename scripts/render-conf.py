#!/usr/bin/env python3
"""Render an nginx config template: replace each ${NAME} with the environment's NAME.

nginx's own `$variables` are left alone: only `${NAME}` with NAME in upper case is
substituted, and a NAME missing from the environment is an error, not an empty string.
"""
import os
import re
import sys


def render(text: str, env: dict) -> str:
    def sub(m):
        name = m.group(1)
        if name not in env:
            raise KeyError(f"template needs ${{{name}}}, which is not set")
        return env[name]

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", sub, text)


# Placeholders that may be left unset.
DEFAULTS = {
    "TOKEN_TTL": "1h",
    "SESSION_MAX_AGE": "12h",
    "LOGIN_LIMIT": "10 5m 5m",
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: render-conf.py TEMPLATE OUTPUT")
    with open(sys.argv[1]) as f:
        text = f.read()
    try:
        out = render(text, {**DEFAULTS, **os.environ})
    except KeyError as e:
        sys.exit(f"render-conf.py: {sys.argv[1]}: {e.args[0]}")
    with open(sys.argv[2], "w") as f:
        f.write(out)


if __name__ == "__main__":
    main()
