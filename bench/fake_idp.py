"""A fake OpenID Connect provider on loopback: a discovery document, a JWKS, and tokens signed with its keys.

It stands in for Clerk, Auth0 and the like in tests and in the fuzz run (no network here). Keys are
generated locally (RSA 2048 and EC P-256, cached per process); tokens are signed with PyJWT.

    with FakeIdentityProvider() as idp:
        settings.OIDC_PROVIDERS = [idp.provider()]
        token = idp.token(sub="user-1", email="mai@example.com", email_verified=True)

`idp.mode` makes the JWKS endpoint misbehave: "ok", "down" (HTTP 500), "garbage" (not JSON),
"empty" (no keys), "slow" (answers after `idp.delay` seconds). `idp.hits` counts requests by path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "dance-coach-api"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


@cache
def private_key(kid: str, alg: str):
    """One key per (kid, algorithm) for the whole process: RSA generation is slow."""
    if alg.startswith("ES"):
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(kid: str, alg: str) -> dict:
    public = private_key(kid, alg).public_key()
    to_jwk = ECAlgorithm.to_jwk if alg.startswith("ES") else RSAAlgorithm.to_jwk
    return {**to_jwk(public, as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


def public_pem(kid: str, alg: str) -> bytes:
    return (
        private_key(kid, alg)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class FakeIdentityProvider:
    def __init__(self, *, audience: str = AUDIENCE, port: int = 0):
        self.audience = audience
        self.published = [("rsa-1", "RS256"), ("ec-1", "ES256")]
        self.mode = "ok"
        self.delay = 0.0
        self.discovery_issuer: str | None = None  # set to make the discovery document name another issuer
        self.hits: Counter[str] = Counter()
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- server -------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    def start(self) -> FakeIdentityProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeIdentityProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def jwks(self) -> dict:
        return {"keys": [public_jwk(kid, alg) for kid, alg in self.published]}

    def _answer(self, path: str) -> tuple[int, bytes]:
        if path == DISCOVERY_PATH:
            issuer = self.discovery_issuer or self.issuer
            return 200, json.dumps({"issuer": issuer, "jwks_uri": self.jwks_url}).encode()
        if path != JWKS_PATH:
            return 404, b"{}"
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "down":
            return 500, b"upstream error"
        if self.mode == "garbage":
            return 200, b"<html>not a key set</html>"
        if self.mode == "empty":
            return 200, b'{"keys": []}'
        return 200, json.dumps(self.jwks()).encode()

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                idp.hits[self.path] += 1
                status, body = idp._answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting (the "slow" mode)

            def log_message(self, *args):
                pass

        return Handler

    # --- settings -----------------------------------------------------------------------------

    def provider(self, **overrides):
        """The OidcProvider settings.OIDC_PROVIDERS holds for this provider (discovery finds the JWKS)."""
        from config.oidc import oidc_provider

        options = {
            "prefix": "OIDC_",
            "issuer": self.issuer,
            "audiences": [self.audience],
            "authorized_parties": [],
            "jwks_url": "",
            "algorithms": ["RS256", "ES256"],
            **overrides,
        }
        return oidc_provider(**options)

    def env(self) -> dict[str, str]:
        """The same configuration as environment variables, for a server process."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_AUDIENCE": self.audience}

    # --- tokens -------------------------------------------------------------------------------

    def rotate(self, kid: str = "rsa-2", alg: str = "RS256") -> None:
        """Publish a new key in place of the old ones, as a provider does when it rotates."""
        self.published = [(kid, alg)]

    def claims(self, sub: str = "user-1", lifetime: int = 300, **claims) -> dict:
        now = int(time.time())
        base = {"iss": self.issuer, "sub": sub, "aud": self.audience, "iat": now, "nbf": now, "exp": now + lifetime}
        merged = {**base, **claims}
        return {name: value for name, value in merged.items() if value is not None}  # None drops a claim

    def token(self, sub: str = "user-1", *, kid: str = "rsa-1", alg: str = "RS256", lifetime: int = 300, **claims):
        """A token signed with the key (kid, alg); claims set to None are left out."""
        payload = self.claims(sub, lifetime, **claims)
        return jwt.encode(payload, private_key(kid, alg), algorithm=alg, headers={"kid": kid})

    def token_unsigned(self, sub: str = "user-1", **claims) -> str:
        """`alg: none`: no signature at all."""
        header = {"alg": "none", "typ": "JWT", "kid": "rsa-1"}
        return f"{_json_b64(header)}.{_json_b64(self.claims(sub, **claims))}."

    def token_key_confusion(self, sub: str = "user-1", *, kid: str = "rsa-1", **claims) -> str:
        """HS256 with the provider's public key as the HMAC secret: valid only to a verifier that trusts `alg`."""
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing_input = f"{_json_b64(header)}.{_json_b64(self.claims(sub, **claims))}"
        signature = hmac.new(public_pem(kid, "RS256"), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def token_without_kid(self, sub: str = "user-1", **claims) -> str:
        return jwt.encode(self.claims(sub, **claims), private_key("rsa-1", "RS256"), algorithm="RS256")

    @staticmethod
    def tampered(token: str, **claims) -> str:
        """The token with claims changed after signing (the signature no longer matches)."""
        header, payload, signature = token.split(".")
        original = json.loads(base64.urlsafe_b64decode(payload + "=="))
        return f"{header}.{_json_b64({**original, **claims})}.{signature}"
