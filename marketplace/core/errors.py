"""Domain errors raised by services, rendered in the one API error shape.

Services raise these without knowing about HTTP; ``register`` maps them to responses through
the same handler as every other error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import IntegerConverter

from marketplace.core.db import db


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
        db.session.rollback()
        if isinstance(error, DataError) and "out of range" not in str(error.orig or ""):
            raise error
        return handle(InvalidInput("A number in the request is out of range."))

    @app.after_request
    def _retry_after_only_on_429_and_503(response):
        # Flask-Limiter adds Retry-After to rate-limited endpoints' responses; it means
        # "wait" only on these.
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    app.register_error_handler(DomainError, handle)
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what a BIGINT holds: a larger id is a plain 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)
