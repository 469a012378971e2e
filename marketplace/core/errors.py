"""Domain errors raised by services, rendered in the one API error shape.

Services raise these without knowing about HTTP; ``register`` maps them to responses through
the same handler as every other error.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import IntegerConverter

from marketplace.core.db import db

log = logging.getLogger("marketplace.core.errors")
DATABASE_RETRY_AFTER = "5"


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}


class PaymentRequired(DomainError):
    """The payment itself was refused (e.g. a card declined)."""

    status = 402


class InvalidInput(DomainError):
    status = 422


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """A conflict or an illegal state transition."""

    status = 409


class PreconditionFailed(DomainError):
    status = 412


class ServiceUnavailable(DomainError):
    status = 503


class _PaymentRequiredHTTP(HTTPException):
    # Werkzeug has no exception class for 402.
    code = 402
    description = "The payment was refused."


_EXTRA_EXCEPTIONS: dict[int, type[HTTPException]] = {402: _PaymentRequiredHTTP}


def register(app: Flask, api) -> None:
    def handle(error: DomainError):
        exc = (default_exceptions.get(error.status) or _EXTRA_EXCEPTIONS[error.status])()
        exc.data = {"message": error.message, "errors": error.errors, "headers": error.headers}
        return api.handle_http_exception(exc)

    def out_of_range(error: Exception):
        # A number too large for the database (a 20-digit id in a body or query string):
        # the client's mistake, not a server failure.
        _rollback_quietly()
        return handle(InvalidInput("A number in the request is out of range."))

    def data_error(error: DataError):
        # Last line only: input is validated before it reaches the database (schemas,
        # core.http.guards). The statement is logged, never its parameters (hide_parameters).
        _rollback_quietly()
        if "out of range" in str(error.orig or ""):
            return out_of_range(error)
        log.warning("database refused a value: %s", type(error.orig).__name__)
        return handle(InvalidInput("A value in the request cannot be stored."))

    def database_unavailable(error: DBAPIError):
        # A connection dropped mid-request (the database restarted, a backend was
        # terminated) or the database unreachable: retry, not a server bug.
        if isinstance(error, DataError):
            return data_error(error)
        dropped = isinstance(error, OperationalError | InterfaceError)
        if not (error.connection_invalidated or dropped):
            raise error
        _rollback_quietly()
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return handle(ServiceUnavailable(
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": DATABASE_RETRY_AFTER}))

    @app.after_request
    def _retry_after_only_on_429_and_503(response):
        # Flask-Limiter adds Retry-After to rate-limited endpoints' responses; it means
        # "wait" only on these.
        if response.status_code not in (429, 503) and "Retry-After" in response.headers:
            del response.headers["Retry-After"]
        return response

    app.register_error_handler(DomainError, handle)
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, data_error)
    app.register_error_handler(DBAPIError, database_unavailable)

    @app.teardown_appcontext
    def _remove_session(exc):
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier): a session whose
        # connection died is discarded here without raising, so teardown is never a 500.
        try:
            db.session.remove()
        except Exception:
            log.warning("discarding a database session failed", exc_info=True)


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.warning("rollback failed", exc_info=True)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what a BIGINT holds: a larger id is a plain 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)
