"""Error reporting to Sentry when ``SENTRY_DSN`` is set.

Unhandled exceptions (the 500s) are sent with the request's id as the tag ``request_id``, the
same id the JSON log lines and the ``X-Request-ID`` response header carry, so a report leads
to its log lines. No personal data is sent: besides Sentry's own defaults (no cookies, user
IP or ``Authorization``), no request body, query string, cookie or header other than
``_KEPT_HEADERS``, no local variables of the stack frames, and the URL is the route rule
(``/api/v1/exports/<string:token>``), never the path (a path may hold a secret). Its
performance tracing stays off (``/metrics`` covers latency). ``SENTRY_TRANSPORT`` (a config
value, tests only) replaces the network transport.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from flask import Flask, g
from sentry_sdk.integrations.flask import FlaskIntegration

from marketplace.core.logs import route

_KEPT_HEADERS = frozenset({"content-type", "content-length", "accept"})


def _scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """What leaves for Sentry of a request: method, route rule and a few headers."""
    req = event.get("request")
    if req is not None:
        event["request"] = {
            "method": req.get("method"),
            "url": route(),
            "headers": {k: v for k, v in (req.get("headers") or {}).items()
                        if k.lower() in _KEPT_HEADERS},
        }
    return event


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    options = {}
    if app.config.get("SENTRY_TRANSPORT") is not None:
        options["transport"] = app.config["SENTRY_TRANSPORT"]
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], traces_sample_rate=0.0,
                    max_request_body_size="never",
                    include_local_variables=False, before_send=_scrub, **options)

    @app.before_request
    def _tag_request_id() -> None:
        request_id = g.get("request_id")
        if request_id:
            sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)
