"""ETags on single resources: ``304 Not Modified`` for a matching ``If-None-Match``.

A view marked with ``Blueprint.conditional()`` answers GET/HEAD with an ETag: the one it set
itself (a version, e.g. a listing's ``"listing-7-v3"``) or, when it set none, a strong hash of
the response body. A request whose ``If-None-Match`` matches gets 304 with no body. Writes keep
their own ``If-Match`` checks (412) in the services that own the version.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

IF_NONE_MATCH_DOC = {
    "in": "header", "name": "If-None-Match", "required": False,
    "schema": {"type": "string", "maxLength": 1000},
    "description": "An ETag from an earlier response: 304 with no body if it still matches.",
}
ETAG_HEADER_DOC = {"ETag": {"description": "Version of the resource, for If-None-Match",
                            "schema": {"type": "string"}}}


def conditional(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``view``: its 200 responses carry an ETag and honour If-None-Match."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        conditional_response()
        return view(*args, **kwargs)

    return wrapper


def conditional_response() -> None:
    """This request's 200 response carries an ETag and honours If-None-Match."""
    g.reloop_conditional = True


def init_app(app: Flask) -> None:
    @app.after_request
    def _conditional(response: Response) -> Response:
        if (not getattr(g, "reloop_conditional", False) or response.status_code != 200
                or request.method not in ("GET", "HEAD")):
            return response
        if "ETag" not in response.headers:
            response.add_etag()
        return response.make_conditional(request)
