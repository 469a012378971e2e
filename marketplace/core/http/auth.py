"""Bearer-token authentication (Flask-HTTPAuth) in the standard error shape.

The platform does not know what a user is: the accounts feature installs, at start-up, the
function that turns a raw token into a token record (``install_token_resolver``). A token
record has ``.user``; a user has ``.id`` and ``.role``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from flask_httpauth import HTTPTokenAuth
from werkzeug.exceptions import Forbidden, Unauthorized

from marketplace.core.http.api import api

token_auth = HTTPTokenAuth(scheme="Bearer")

_EXTENSION = "reloop.token_resolver"


def install_token_resolver(app: Flask, resolve: Callable[[str], Any | None]) -> None:
    """Set the function that maps a raw bearer token to its token record (or None)."""
    if _EXTENSION in app.extensions:
        raise RuntimeError("a token resolver is already installed")
    app.extensions[_EXTENSION] = resolve


@token_auth.verify_token
def _verify(raw: str) -> Any | None:
    if not raw:
        return None
    token = current_app.extensions[_EXTENSION](raw)
    if token is None:
        return None
    g.api_token = token
    return token.user


@token_auth.get_user_roles
def _roles(user: Any) -> list[str]:
    return [user.role]


@token_auth.error_handler
def _auth_error(status: int):
    if status == 403:
        exc = Forbidden()
        exc.data = {"message": "You are not allowed to do this."}
    else:
        exc = Unauthorized()
        exc.data = {
            "message": "A valid bearer token is required.",
            "headers": {"WWW-Authenticate": 'Bearer realm="reloop"'},
        }
    return api.handle_http_exception(exc)


def current_user() -> Any:
    user = token_auth.current_user()
    if user is None:  # pragma: no cover - only reachable from an unprotected view
        raise RuntimeError("current_user() used outside an authenticated view")
    return user


def optional_user() -> Any | None:
    """The caller when a valid token was sent, for public views that show more to owners."""
    auth = token_auth.get_auth()
    if auth is None or not auth.token:
        return None
    return _verify(auth.token)


def current_token() -> Any:
    return g.api_token
