"""Rate limits (Flask-Limiter), keyed by client address unless a view says otherwise.

Counters live in Redis (``REDIS_URL``) so every process shares them. When Redis is
unreachable the limited endpoints (login, registration) **fail closed**: they answer 503 with
``Retry-After`` instead of falling back to per-process counters (with N processes an attacker
would get N times the allowance per email, and counters reset with each worker). Every other
endpoint is unaffected; jobs still land through the outbox reconciler once Redis is back.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import ServiceUnavailable

from marketplace.core.http.api import api

log = logging.getLogger("marketplace.core.limiter")
RETRY_AFTER_SECONDS = "10"


def client_address() -> str:
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[])


def fail_closed(app: Flask) -> None:
    """Answer 503 (``Retry-After``) when the limit storage cannot be reached."""

    def storage_down(error: Exception):
        log.warning("rate-limit storage unreachable on %s: %s", request.endpoint, error)
        exc = ServiceUnavailable()
        exc.data = {"message": "Temporarily unavailable; try again shortly.",
                    "headers": {"Retry-After": RETRY_AFTER_SECONDS}}
        return api.handle_http_exception(exc)

    app.register_error_handler(RedisConnectionError, storage_down)
    app.register_error_handler(RedisTimeoutError, storage_down)
