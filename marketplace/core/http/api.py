"""flask-smorest ``Api`` with one error shape for every error.

``{"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}``
for validation, auth, routing (404/405, keeping ``Allow``), conflicts, rate limits (keeping
``Retry-After``) and unexpected failures (500, never a stack trace).
"""

from __future__ import annotations

import logging

import flask_smorest
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("marketplace.core.errors")

_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "ETag")


class Api(flask_smorest.Api):
    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        code = error.code or 500
        if isinstance(error, InternalServerError) or code >= 500 and code != 503:
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.error("unhandled exception", exc_info=original)
            message = "An unexpected error occurred. It has been logged."
        else:
            message = data.get("message") or error.description or error.name
        errors = data.get("errors") or data.get("messages") or {}
        # webargs nests errors by location ({"json": {...}}); flatten a single location.
        if isinstance(errors, dict) and len(errors) == 1:
            (only_key, only_value), = errors.items()
            locations = {"json", "query", "headers", "form", "files", "view_args"}
            if only_key in locations and isinstance(only_value, dict):
                errors = only_value
        if code == 422 and message == error.description and errors:
            message = "The request has invalid fields; see errors."
        payload = {"code": code, "status": error.name, "message": message, "errors": errors}
        headers = {name: v for name in _KEPT_HEADERS if (v := _header(error, name))}
        headers.update(data.get("headers") or {})
        return payload, code, headers


def _header(error: HTTPException, name: str) -> str | None:
    for key, value in error.get_headers():
        if key.lower() == name.lower():
            return value
    if name == "Allow" and getattr(error, "valid_methods", None):
        return ", ".join(error.valid_methods)
    return None


api = Api()


def document_field(schema: str, field: str, **keywords: object) -> None:
    """Set JSON Schema keywords of one field of a component schema in this app's spec: a limit
    the app's configuration sets (``maxLength``), so the spec says what validation does.
    Call it after the blueprint using the schema is registered."""
    api.spec.components.schemas[schema]["properties"][field].update(keywords)
