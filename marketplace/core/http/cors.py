"""CORS (Flask-CORS) for browser clients on the origins in ``CORS_ORIGINS`` (none by default).

Bearer tokens travel in the ``Authorization`` header, not cookies, so credentials are not
allowed; the headers a client needs to read (request id, ETag, rate limits, replays) are
exposed.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

EXPOSED = ["ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed",
           "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
ALLOWED = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match",
           "X-Request-ID"]


def init_app(app: Flask) -> None:
    origins = list(app.config.get("CORS_ORIGINS") or ())
    if not origins:
        return
    CORS(app, origins=origins, allow_headers=ALLOWED, expose_headers=EXPOSED,
         supports_credentials=False, max_age=600)
