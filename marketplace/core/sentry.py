"""Error reporting to Sentry when ``SENTRY_DSN`` is set.

Unhandled exceptions (the 500s) are sent with the request's id as the tag ``request_id``, the
same id the JSON log lines and the ``X-Request-ID`` response header carry, so a report leads
to its log lines. No personal data is sent (Sentry's default); its
performance tracing stays off (``/metrics`` covers latency). ``SENTRY_TRANSPORT`` (a config
value, tests only) replaces the network transport.
"""

from __future__ import annotations

import sentry_sdk
from flask import Flask, g
from sentry_sdk.integrations.flask import FlaskIntegration


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    options = {}
    if app.config.get("SENTRY_TRANSPORT") is not None:
        options["transport"] = app.config["SENTRY_TRANSPORT"]
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], traces_sample_rate=0.0, **options)

    @app.before_request
    def _tag_request_id() -> None:
        request_id = g.get("request_id")
        if request_id:
            sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)
