"""Parsers of configuration values and the ``Setting`` record (``config`` holds the table).

Each parser takes the raw environment string and returns the typed value or raises
``ValueError`` with a message for the operator; ``config.from_env`` names the variable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConfigError(RuntimeError):
    """Raised at start-up when an environment variable has a bad value."""


def _int(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ValueError(f"must be between {lo} and {hi}, got {value}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}, got {value}")
        return value

    return parse


def _database_url(raw: str) -> str:
    url = raw.strip()
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("postgresql+", "sqlite:")):
        return url
    raise ValueError("must be a postgresql:// (or postgres://) or sqlite:// URL")


def _redis_url(raw: str) -> str:
    url = raw.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be a redis://, rediss:// or unix:// URL")
    return url


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _str(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return url


def _smtp_url(raw: str) -> str:
    url = raw.strip()
    scheme, _, rest = url.partition("://")
    if scheme not in ("smtp", "smtps") or not rest or rest.startswith(("/", ":", "@")):
        raise ValueError("must be an smtp://host:port or smtps://host:port URL")
    return url


def _email(raw: str) -> str:
    value = raw.strip()
    address = value.rsplit("<", 1)[-1].rstrip(">")
    if "@" not in address or any(c.isspace() for c in address) or "\n" in value:
        raise ValueError(f"{value!r} is not an email address (`Name <addr@host>` or `addr@host`)")
    return value


def _storage_url(raw: str) -> str:
    url = raw.strip()
    if url.startswith("file:///") or (url.startswith("s3://") and len(url) > 5
                                      and not url[5:].startswith(("/", "?"))):
        return url
    raise ValueError("must be file:///absolute/dir or s3://bucket[/prefix][?endpoint=...]")


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w for w in (part.strip() for part in raw.split(",")) if w)


def _origins(raw: str) -> tuple[str, ...]:
    origins = _words(raw)
    for origin in origins:
        if origin != "*" and (not origin.startswith(("http://", "https://"))
                              or origin.count("/") != 2):
            raise ValueError(f"{origin!r} is not an origin like https://app.example.org")
    return origins


def _floors(raw: str) -> dict[str, int]:
    """``category=cents,...``: per-category credit price floors in euro cents."""
    floors = {}
    for part in _words(raw):
        category, _, cents = part.partition("=")
        try:
            floors[category.strip()] = _int(0, 10**9)(cents)
        except ValueError as exc:
            raise ValueError(f"{part!r}: {exc}") from None
        if not category.strip():
            raise ValueError(f"{part!r}: expected category=cents")
    return floors


def _signing_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    """``kid=<base64url 32-byte Ed25519 private key>,...``: the first signs, all are published."""
    keys = []
    for part in _words(raw):
        kid, _, b64 = part.partition("=")
        kid = kid.strip()
        if not kid or not b64.strip() or len(kid) > 64:
            raise ValueError(f"{part[:20]!r}...: expected kid=<base64url private key>")
        try:
            seed = base64.urlsafe_b64decode(b64.strip() + "=" * (-len(b64.strip()) % 4))
        except (ValueError, binascii.Error):
            raise ValueError(f"key {kid!r}: not base64url") from None
        if len(seed) != 32:
            raise ValueError(f"key {kid!r}: an Ed25519 private key is 32 bytes, got {len(seed)}")
        keys.append((kid, seed))
    if len({k for k, _ in keys}) != len(keys):
        raise ValueError("two keys with the same kid")
    return tuple(keys)


def _retry_intervals(raw: str) -> tuple[int, ...]:
    values = tuple(_int(0, 86_400)(part) for part in raw.split(",") if part.strip())
    if not values or len(values) > 20:
        raise ValueError("expected 1 to 20 comma-separated seconds")
    return values


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


@dataclass(frozen=True)
class Setting:
    env: str
    key: str
    parse: Callable[[str], Any]
    default: Any
    doc: str
