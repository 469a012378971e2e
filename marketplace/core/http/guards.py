"""Request guards, run before anything else reads a request (rate-limit keys, auth, schemas).

- **Body size**: ``MAX_CONTENT_LENGTH`` bytes (default 1 MB), enforced by werkzeug while the
  body is read, so a larger body is never held in memory: 413 in the standard error shape,
  also for chunked bodies without ``Content-Length``. A view that must accept more (a future
  upload) says so with ``@allow_body(bytes)``.
- **JSON nesting**: a JSON body nested deeper than ``MAX_JSON_DEPTH`` is a 400 (Python's
  parser would otherwise recurse until ``RecursionError``).
- **Text PostgreSQL cannot store**: a NUL character or a lone UTF-16 surrogate in any string
  of a JSON body (keys included), of the query string, of the path or of a header is a 422
  naming the field (``{"errors": {"location": {"city": ["..."]}}}``). This is the one place
  that rejects them, for every endpoint and every schema, so no such value ever reaches the
  database (where it would be a ``DataError``) or Redis (a rate-limit key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from marketplace.core.errors import InvalidInput

MAX_JSON_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "Contains a character that cannot be stored (NUL or a lone surrogate)."
_BODY_LIMIT_ATTR = "_reloop_max_body"


def allow_body(max_bytes: int | str) -> Callable:
    """Let one view accept bodies up to ``max_bytes`` (instead of ``MAX_CONTENT_LENGTH``): a
    number of bytes, or the name of the setting that holds it (read per request)."""

    def decorator(func):
        setattr(func, _BODY_LIMIT_ATTR, max_bytes)
        return func

    return decorator


def init_app(app: Flask) -> None:
    # First of all before_request functions: rate-limit keys and auth read the body and
    # headers too.
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)


def _guard() -> None:
    req = request._get_current_object()  # (one proxy lookup, not a dozen: every request)
    environ = req.environ
    view = current_app.view_functions.get(req.endpoint or "")
    limit = getattr(view, _BODY_LIMIT_ATTR, None) or req.max_content_length
    if isinstance(limit, str):
        limit = current_app.config[limit]
    # A chunked body (no Content-Length) is read up to the limit and then cut silently by
    # werkzeug: read one byte more, so that a body past the limit is told apart and refused.
    length = req.content_length
    streaming = length is None
    req.max_content_length = limit + 1 if streaming and limit else limit
    errors: dict[str, Any] = {}
    if _SUSPECT.search(_raw_text(environ)) and _any_bad_text():
        _check_mapping(req.args.items(multi=True), errors.setdefault("query", {}))
        _check_mapping((req.view_args or {}).items(), errors.setdefault("path", {}))
        _check_mapping(req.headers.items(), errors.setdefault("headers", {}))
    if req.method not in ("GET", "HEAD", "OPTIONS", "DELETE") or length:
        data = req.get_data(cache=True)  # 413 past the limit (Content-Length)
        if streaming and limit and len(data) > limit:
            raise RequestEntityTooLarge()
        # Parsed here only when it could nest too deep (more brackets than the limit) or
        # hold a bad string (the raw bytes say): the common body is parsed once, by its schema.
        deep = data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH
        suspect = _SUSPECT_JSON.search(data) is not None
        if data and (deep or suspect) and req.is_json:
            body = _parse(data, deep)
            found = _bad_strings(body) if suspect else None
            if found is not None:  # a bare JSON string body: a schema-level error
                errors["json"] = found if isinstance(found, dict) else {"_schema": found}
    errors = {location: found for location, found in errors.items() if found}
    if errors:
        if len(errors) == 1:
            errors = next(iter(errors.values()))
        raise InvalidInput("The request has invalid fields; see errors.", errors)


# A superset of what can decode to bad text, searched in the raw WSGI strings (the common
# case: one scan, nothing parsed): a NUL; any non-ASCII character (raw bytes, which decode to
# anything); a percent-escape of NUL or of 0xED (the UTF-8 lead byte of the surrogates).
# Only when it matches are the parsed query, path and headers checked one by one.
_SUSPECT = re.compile(r"[\x00\x80-\U0010ffff]|%(?:00|[eE][dD])")


# The same for a JSON body: only an escape (\u0000, \ud800-\udfff) or raw bytes (NUL,
# UTF-8-encoded surrogates, which the parser passes through) can make a bad string.
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")


def _raw_text(environ: dict[str, Any]) -> str:
    parts = [environ.get("QUERY_STRING", ""), environ.get("PATH_INFO", "")]
    parts += [k + "\n" + v for k, v in environ.items()
              if k.startswith("HTTP_") and isinstance(v, str)]
    return "\n".join(parts)


def _any_bad_text() -> bool:
    """Whether a query parameter, path parameter or header (name or value) has bad text."""
    parts = [k + "\n" + v for k, v in request.args.items(multi=True)]
    parts += [str(k) + "\n" + v for k, v in (request.view_args or {}).items()
              if isinstance(v, str)]
    parts += [k + "\n" + v for k, v in request.headers.items()]
    return _BAD_TEXT.search("\n".join(parts)) is not None


def _check_mapping(items, out: dict[str, Any]) -> None:
    for key, value in items:
        if isinstance(key, str) and _BAD_TEXT.search(key):
            out[_printable(key)] = [BAD_TEXT_MESSAGE]
        elif isinstance(value, str) and _BAD_TEXT.search(value):
            out[key] = [BAD_TEXT_MESSAGE]


def _printable(key: str) -> str:
    return _BAD_TEXT.sub("\ufffd", key)


def _parse(data: bytes, deep: bool) -> Any:
    try:
        body = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return None  # not JSON: the schema's parser answers 400 with its own message
    if deep and _depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    return body


def _too_deep() -> BadRequest:
    exc = BadRequest()
    exc.data = {"message": f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."}
    return exc


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _bad_strings(node: Any) -> Any:
    """Field errors for the strings of ``node`` that cannot be stored (None when clean), keyed
    like the input: ``{"location": {"city": [...]}}``, list items by index."""
    if isinstance(node, str):
        return [BAD_TEXT_MESSAGE] if _BAD_TEXT.search(node) else None
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return None
    out: dict[Any, Any] = {}
    for key, value in items:
        if isinstance(key, str) and _BAD_TEXT.search(key):
            out[_printable(key)] = [BAD_TEXT_MESSAGE]
            continue
        found = _bad_strings(value)
        if found is not None:
            out[key] = found
    return out or None
