"""Builds HS256 tokens by hand (hmac + base64url), so tests can forge any header or claim."""
import base64
import hashlib
import hmac
import json


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def secret_key(secret_file_bytes: bytes) -> bytes:
    """The module strips one trailing newline from the secret file."""
    if secret_file_bytes.endswith(b"\r\n"):
        return secret_file_bytes[:-2]
    if secret_file_bytes.endswith(b"\n"):
        return secret_file_bytes[:-1]
    return secret_file_bytes


def make(claims: dict, key: bytes, header: dict | None = None, alg=hashlib.sha256) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = hmac.new(key, signing_input.encode(), alg).digest()
    return signing_input + "." + b64url(sig)


def parts(token: str):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s
