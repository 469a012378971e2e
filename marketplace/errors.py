"""Domain errors raised by services, rendered in the one API error shape.

Services raise these without knowing about HTTP; ``register`` maps them to responses through
the same handler as every other error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, default_exceptions


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

    app.register_error_handler(DomainError, handle)
