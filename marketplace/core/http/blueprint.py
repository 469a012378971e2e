"""flask-smorest Blueprint with auth and documented error responses in one decorator."""

from __future__ import annotations

from collections.abc import Callable

import flask_smorest
from flask_smorest.error_handler import ErrorSchema

from marketplace.core.http import etag
from marketplace.core.http.auth import token_auth
from marketplace.core.http.idempotency import idempotent

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid, expired or revoked token",
    402: "Payment refused (e.g. card declined)",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict or illegal state transition",
    412: "Precondition failed (If-Match)",
    422: "Invalid input (field errors under `errors`)",
    429: "Too many requests (see Retry-After)",
    503: "A dependency is unavailable",
}


class Blueprint(flask_smorest.Blueprint):
    def errors(self, *codes: int) -> Callable:
        """Document the error responses a view can return (standard error shape)."""

        def decorator(func):
            for code in codes:
                func = self.alt_response(code, schema=ErrorSchema,
                                         description=_DESCRIPTIONS[code])(func)
            return func

        return decorator

    def idempotent(self) -> Callable:
        """Honour the ``Idempotency-Key`` header (core.http.idempotency); document it and
        its 409 (in progress) and 422 (key reused for another request). Place it below
        ``auth()`` and above ``arguments()`` / ``response()``."""
        def decorator(func):
            return self.errors(409, 422)(idempotent(func))

        return decorator

    def auth(self, role: str | None = None) -> Callable:
        """Require a bearer token (and ``role`` when given); document it."""

        def decorator(func):
            func = token_auth.login_required(role=role)(func)
            func = self.doc(security=[{"bearerAuth": []}])(func)
            return self.errors(*((401, 403) if role else (401,)))(func)

        return decorator

    def conditional(self) -> Callable:
        """ETag on the 200 response and 304 for a matching ``If-None-Match`` (core.http.etag);
        documents both. Place it below ``auth()`` and above ``arguments()`` / ``response()``."""

        def decorator(func):
            func = etag.conditional(func)
            func = self.doc(parameters=[etag.IF_NONE_MATCH_DOC])(func)
            return self.alt_response(304, description="Not modified (If-None-Match matched)")(
                func)

        return decorator
