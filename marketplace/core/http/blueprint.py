"""flask-smorest Blueprint with auth, idempotency, conditional GETs and documented error
responses, each in one decorator; every operation gets an ``operationId`` (the view's name in
camelCase) and its documented headers (rate limits, ``Retry-After``, ``Idempotent-Replayed``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import current_app
from flask_smorest.error_handler import ErrorSchema
from flask_smorest.utils import resolve_schema_instance
from webargs.flaskparser import FlaskParser

from marketplace.core.db import read_only as db_read_only
from marketplace.core.errors import Forbidden
from marketplace.core.http import etag, respcache
from marketplace.core.http.auth import current_user, token_auth
from marketplace.core.http.fastdump import fast_schema
from marketplace.core.http.fastload import fast_load_schema
from marketplace.core.http.idempotency import idempotent

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid, expired or revoked token",
    402: "Payment refused (e.g. card declined)",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict or illegal state transition",
    412: "Precondition failed (If-Match)",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input (field errors under `errors`)",
    429: "Too many requests (see Retry-After)",
    503: "A dependency is unavailable",
}


_RETRY_AFTER = {"Retry-After": {
    "description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}
_RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the current window",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window",
                              "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time at which the window resets",
                          "schema": {"type": "integer"}},
}
_REPLAYED = {"Idempotent-Replayed": {
    "description": "`true` when this is the stored response of an earlier request with the "
                   "same Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}}}
_IDEMPOTENT_MARK = "x-idempotent"
_RATE_LIMITED_MARK = "x-rate-limited"


def operation_id(endpoint: str) -> str:
    first, *rest = endpoint.split("_")
    return first + "".join(word.capitalize() for word in rest)


UNVERIFIED = "Verify your email address to buy or sell (POST /api/v1/auth/email-verification)."


def _verified_only(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if (current_app.config.get("REQUIRE_VERIFIED_EMAIL")
                and not getattr(current_user(), "is_verified", True)):
            raise Forbidden(UNVERIFIED)
        return view(*args, **kwargs)

    return wrapper


class Parser(FlaskParser):
    """webargs' Flask parser, with every body Python's ``json`` refuses answered as invalid
    JSON (400): besides decode errors (webargs' own case), an integer of more than 4,300
    digits (``ValueError``) and nesting too deep for the parser (``RecursionError``), which
    webargs let through as a 500."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' handling: missing for an empty body, else 400
        except (ValueError, RecursionError) as exc:
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def errors(self, *codes: int) -> Callable:
        """Document the error responses a view can return (standard error shape); 429 and
        503 with ``Retry-After``."""

        def decorator(func):
            for code in codes:
                headers = _RETRY_AFTER if code in (429, 503) else None
                func = self.alt_response(code, schema=ErrorSchema, headers=headers,
                                         description=_DESCRIPTIONS[code])(func)
            return func

        return decorator

    def rate_limited(self) -> Callable:
        """Document a view's rate limit: its 429, and the X-RateLimit-* headers of its
        successful responses."""

        def decorator(func):
            return self.doc(**{_RATE_LIMITED_MARK: True})(self.errors(429)(func))

        return decorator

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        """Give every operation an ``operationId`` and the headers its marks call for."""
        for endpoint, info in self._docs.items():
            for method, op in info.items():
                if method == "parameters":
                    continue
                manual = op.setdefault("manual_doc", {})
                manual.setdefault("operationId", operation_id(endpoint))
                headers = {}
                if manual.pop(_IDEMPOTENT_MARK, False):
                    headers.update(_REPLAYED)
                if manual.pop(_RATE_LIMITED_MARK, False):
                    headers.update(_RATE_LIMIT_HEADERS)
                if headers:
                    responses = manual.setdefault("responses", {})
                    for code in op.get("success_status_codes") or [200]:
                        entry = responses.setdefault(code, {})
                        entry.setdefault("headers", {}).update(headers)
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)

    def arguments(self, schema, *args, **kwargs) -> Callable:
        """As flask-smorest's, with a schema class instantiated once here (webargs would
        otherwise build a new instance, deep-copying every field, on every request), and a
        JSON body loaded by a compiled function where the schema allows (core.http.fastload:
        the same data; anything it cannot decide, errors included, is marshmallow's)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(fast_load_schema(schema), *args, **kwargs)

    def response(self, status_code, schema=None, **kwargs) -> Callable:
        """As flask-smorest's, with the response schema dumped by a compiled function where
        its fields allow (core.http.fastdump: the same output, a fraction of marshmallow's
        per-field cost)."""
        if schema is not None:
            schema = fast_schema(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)

    def read_only(self) -> Callable:
        """This view only reads: on PostgreSQL its statements run in autocommit, one round
        trip each (core.db.read_only). Anywhere among the view's decorators."""
        return db_read_only

    def idempotent(self) -> Callable:
        """Honour the ``Idempotency-Key`` header (core.http.idempotency); document it and
        its 409 (in progress) and 422 (key reused for another request). Place it below
        ``auth()`` and above ``arguments()`` / ``response()``."""
        def decorator(func):
            func = self.doc(**{_IDEMPOTENT_MARK: True})(idempotent(func))
            return self.errors(409, 422)(func)

        return decorator

    def auth(self, role: str | None = None, verified: bool = False) -> Callable:
        """Require a bearer token (and ``role`` when given); document it. ``verified``: the
        caller must also have verified their email when ``REQUIRE_VERIFIED_EMAIL`` is on (to
        sell or buy), else 403."""

        def decorator(func):
            if verified:
                func = _verified_only(func)
            func = token_auth.login_required(role=role)(func)
            func = self.doc(security=[{"bearerAuth": []}])(func)
            return self.errors(*((401, 403) if role or verified else (401,)))(func)

        return decorator

    def cached(self, key: Callable[..., str], setting: str) -> Callable:
        """Serve GET from the shared response cache (core.http.respcache) under
        ``key(**view_args)``; the view stores its response by calling ``respcache.share()``
        when it is the same for every caller. Place it first, right below ``route()``: a hit
        skips every decorator below it."""
        return respcache.cached(key, setting)

    def conditional(self) -> Callable:
        """ETag on the 200 response and 304 for a matching ``If-None-Match`` (core.http.etag);
        documents both. Place it below ``auth()`` and above ``arguments()`` / ``response()``."""

        def decorator(func):
            func = etag.conditional(func)
            func = self.doc(parameters=[etag.IF_NONE_MATCH_DOC])(func)
            return self.alt_response(304, description="Not modified (If-None-Match matched)")(
                func)

        return decorator
