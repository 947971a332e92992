"""The old design, for case C of `make bench`: an auth service that nginx asks
through `auth_request` on every request.

It verifies the same HS256 `example_jwt` cookie the module mints, with the same
secret, the way a small Flask + PyJWT service would: signature, `alg` fixed to
HS256, `exp`/`iat` required; then the section of the original URI against the
token's `allowed_resources`. 200 lets nginx serve the request, 401/403 refuse it.

    BENCH_SECRET_FILE=/path/to/secret gunicorn -k gthread auth_service:app
"""
import os

import jwt
from flask import Flask, request

SECTIONS = {"marketing", "hr"}
COOKIE = os.environ.get("BENCH_COOKIE", "example_jwt")

with open(os.environ["BENCH_SECRET_FILE"], "rb") as f:
    SECRET = f.read()
# The module's rule: the file's bytes, less one trailing newline.
if SECRET.endswith(b"\n"):
    SECRET = SECRET[:-1]

app = Flask(__name__)


@app.get("/auth")
def auth():
    token = request.cookies.get(COOKIE)
    if not token:
        return "", 401
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "iat", "sub"]})
    except jwt.InvalidTokenError:
        return "", 401
    uri = request.headers.get("X-Original-URI", "/")
    section = uri.split("?", 1)[0].lstrip("/").split("/", 1)[0].lower()
    allowed = claims.get("allowed_resources") or []
    if section in SECTIONS and "_all_" not in allowed and section not in allowed:
        return "", 403
    return "", 200
