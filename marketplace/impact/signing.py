"""Ed25519 keys of carbon statements: from ``CARBON_STATEMENT_KEYS`` (the first signs, all
are published), or a development key generated once per process when it is unset (kid
``dev-...``, labelled as such: what it signed cannot be checked after a restart). Kids in
``CARBON_STATEMENT_REVOKED_KIDS`` are neither used nor published."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

from marketplace.core.errors import ServiceUnavailable

_EXTENSION = "reloop.statement_keys"
_DEV_KEY: list[Ed25519PrivateKey] = []  # one per process


@dataclass(frozen=True)
class Key:
    kid: str
    private: Ed25519PrivateKey
    dev: bool

    @property
    def x(self) -> str:
        return b64url(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _dev_key() -> Key:
    if not _DEV_KEY:
        _DEV_KEY.append(Ed25519PrivateKey.generate())
    private = _DEV_KEY[0]
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Key("dev-" + hashlib.sha256(raw).hexdigest()[:12], private, True)


def keys() -> list[Key]:
    """Every configured key, revoked ones included (cached per app)."""
    app = current_app
    cached = app.extensions.get(_EXTENSION)
    if cached is None:
        configured = app.config.get("CARBON_STATEMENT_KEYS")
        cached = ([Key(kid, Ed25519PrivateKey.from_private_bytes(seed), False)
                   for kid, seed in configured] if configured else [_dev_key()])
        app.extensions[_EXTENSION] = cached
    return cached


def revoked() -> set[str]:
    return set(current_app.config.get("CARBON_STATEMENT_REVOKED_KIDS") or ())


def active_keys() -> list[Key]:
    gone = revoked()
    return [k for k in keys() if k.kid not in gone]


def sign(payload: str) -> tuple[str, str]:
    """(kid, base64url signature) of the UTF-8 bytes of ``payload``."""
    active = active_keys()
    if not active:
        raise ServiceUnavailable("Every statement key is revoked; configure a new one.")
    key = active[0]
    return key.kid, b64url(key.private.sign(payload.encode()))


def key_status(kid: str) -> str:
    """``active``, ``revoked`` or ``unknown`` (e.g. a development key of another process)."""
    if kid in revoked():
        return "revoked"
    return "active" if any(k.kid == kid for k in keys()) else "unknown"


def jwks() -> dict:
    return {"keys": [{"kid": k.kid, "kty": "OKP", "crv": "Ed25519", "x": k.x, "use": "sig",
                      "alg": "EdDSA", **({"dev": True} if k.dev else {})}
                     for k in active_keys()]}


def verify(jwk: dict, payload: str, signature: str) -> bool:
    """Check a statement offline against a published JWK (what a third party does)."""
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    try:
        public.verify(b64url_decode(signature), payload.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
