"""Rate limits (Flask-Limiter), keyed by client address unless a view says otherwise.

Counters live in Redis (``REDIS_URL``) so every process shares them. When Redis is
unreachable, **login fails closed**: ``POST /auth/tokens`` answers 503 with ``Retry-After``
(checked with a Redis ``PING`` before each login), because counting failed logins per email in
each process's memory would give an attacker N times the allowance with N processes. Other
limits (registration per address) fall back to per-process in-memory counters, so
registration keeps working and its jobs land through the outbox reconciler; any other Redis
error that reaches a request is a 503 too, not a 500.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from marketplace.core.http.api import api

log = logging.getLogger("marketplace.core.limiter")
RETRY_AFTER_SECONDS = "10"


def client_address() -> str:
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[])


def spend(limit: str, key: str) -> None:
    """Count one attempt of ``key`` against ``limit`` (Flask-Limiter notation) *before* the
    guarded check runs; 429 with ``Retry-After`` once it is spent. A decorated limit with
    ``deduct_when`` counts after the response, so parallel requests all pass its check; here
    the storage's atomic increment decides (Redis down: a 503, as for login)."""
    if not limiter.enabled:
        return
    item = parse(limit)
    if limiter.limiter.hit(item, "spend", key):
        return
    reset_at, _ = limiter.limiter.get_window_stats(item, "spend", key)
    exc = TooManyRequests()
    exc.data = {"message": "Too many attempts; try again later.",
                "headers": {"Retry-After": str(max(1, int(reset_at - time.time()) + 1))}}
    raise exc


def refund(limit: str, key: str) -> None:
    """Give back the attempt ``spend`` took (a login that succeeded: only failures should
    weigh). Fixed windows only (Flask-Limiter's default strategy): a decrement of the window's
    counter; with another strategy the attempt stays counted."""
    if limiter.enabled and isinstance(limiter.limiter, FixedWindowRateLimiter):
        limiter.limiter.hit(parse(limit), "spend", key, cost=-1)


# Endpoints whose limits must hold even when Redis is down: login (failed logins per email).
FAIL_CLOSED_ENDPOINTS = frozenset({"auth.create_token"})


def fail_closed(app: Flask) -> None:
    """503 (``Retry-After``) for ``FAIL_CLOSED_ENDPOINTS`` while the limit storage is down,
    and for any Redis error that reaches a request."""

    def storage_down(error: Exception | None = None):
        log.warning("rate-limit storage unreachable on %s: %s", request.endpoint, error)
        exc = ServiceUnavailable()
        exc.data = {"message": "Temporarily unavailable; try again shortly.",
                    "headers": {"Retry-After": RETRY_AFTER_SECONDS}}
        return api.handle_http_exception(exc)

    @app.before_request
    def _storage_required():
        if (request.endpoint in FAIL_CLOSED_ENDPOINTS and limiter.enabled
                and not limiter.storage.check()):
            return storage_down("ping failed")
        return None

    app.register_error_handler(RedisConnectionError, storage_down)
    app.register_error_handler(RedisTimeoutError, storage_down)
