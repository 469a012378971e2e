"""Structured JSON logs: one line per request, with a request id."""

from __future__ import annotations

import logging
import os
import re
import sys
import time

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("marketplace.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = getattr(g, "request_id", None)
        return True


def configure(level: str) -> None:
    """JSON lines on stderr for the root logger (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_reloop", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
        handler.addFilter(_RequestIdFilter())
        handler._reloop = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def route() -> str:
    """The current request's URL rule (``/api/v1/listings/<int:listing_id>``), or
    ``<unmatched>``: what logs, metrics and error reports name a request by (never its path,
    which may hold a secret, e.g. a data export's link)."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else "<unmatched>"


def _new_request_id() -> str:
    """32 random hex digits (the form of ``uuid4().hex``, without building a UUID object)."""
    return os.urandom(16).hex()


def init_app(app: Flask) -> None:
    def _start() -> None:
        incoming = request.environ.get("HTTP_X_REQUEST_ID")
        g.request_id = (incoming if incoming and _REQUEST_ID.match(incoming)
                        else _new_request_id())
        g.request_started = time.perf_counter()

    # Before every other hook (the input guard, the fail-closed limiter): a request they
    # refuse still gets its line, its duration and the client's request id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _finish(response):
        request_id = getattr(g, "request_id", None) or _new_request_id()
        response.headers["X-Request-ID"] = request_id
        started = getattr(g, "request_started", None)
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        if access_log.isEnabledFor(logging.INFO):
            access_log.info("request", extra={
                "method": request.method, "route": route(),
                "status": response.status_code, "duration_ms": duration_ms,
                "request_id": request_id, "remote_addr": request.remote_addr,
            })
        return response
