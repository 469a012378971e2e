"""Bearer-token authentication (Flask-HTTPAuth) in the standard error shape."""

from __future__ import annotations

from flask import g
from flask_httpauth import HTTPTokenAuth
from werkzeug.exceptions import Forbidden, Unauthorized

from marketplace.auth.models import ApiToken, User
from marketplace.auth.services import resolve_token
from marketplace.extensions import api

token_auth = HTTPTokenAuth(scheme="Bearer")


@token_auth.verify_token
def _verify(raw: str) -> User | None:
    if not raw:
        return None
    token = resolve_token(raw)
    if token is None:
        return None
    g.api_token = token
    return token.user


@token_auth.get_user_roles
def _roles(user: User) -> list[str]:
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


def current_user() -> User:
    user = token_auth.current_user()
    if user is None:  # pragma: no cover - only reachable from an unprotected view
        raise RuntimeError("current_user() used outside an authenticated view")
    return user


def optional_user() -> User | None:
    """The caller when a valid token was sent, for public views that show more to owners."""
    auth = token_auth.get_auth()
    if auth is None or not auth.token:
        return None
    return _verify(auth.token)


def current_token() -> ApiToken:
    return g.api_token
