"""HTTP API for accounts and tokens."""

from __future__ import annotations

from flask import current_app, request

from marketplace.accounts import services
from marketplace.accounts.schemas import (
    LoginSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)
from marketplace.core.http.auth import current_token, current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.limiter import client_address, limiter
from marketplace.core.http.pagination import PageArgsSchema, page_schema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _login_email() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "login-email:" + (services.normalize_email(email) if isinstance(email, str) else "")


def _per_email_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_EMAIL"]


def _per_address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _register_limit() -> str:
    return current_app.config["REGISTER_LIMIT_PER_ADDRESS"]


@blp.route("/auth/register", methods=["POST"])
@limiter.limit(_register_limit, key_func=lambda: "register-addr:" + client_address())
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.errors(409)
@blp.rate_limited()
def register(data):
    """Create an account.

    No `Idempotency-Key` here: there is no caller to scope a key to, and a retry is answered
    409 for the same email."""
    return services.register(data["email"], data["password"], data["display_name"])


@blp.route("/auth/tokens", methods=["POST"])
@limiter.limit(_per_address_limit, key_func=lambda: "login-addr:" + client_address())
@limiter.limit(_per_email_limit, key_func=_login_email,
               deduct_when=lambda response: response.status_code == 401)
@blp.arguments(LoginSchema)
@blp.response(201, TokenSchema)
@blp.errors(401, 403)
@blp.rate_limited()
def create_token(data):
    """Log in: exchange email and password for a bearer token (403 for a suspended account,
    told only with the right password).

    No `Idempotency-Key` here (anonymous): a retry issues another token, each revocable."""
    raw, token = services.login(data["email"], data["password"])
    return {"token": raw, "expires_at": token.expires_at}


@blp.route("/auth/tokens/current", methods=["DELETE"])
@blp.auth()
@blp.response(204)
def revoke_token():
    """Log out: revoke the token used for this request."""
    services.revoke(current_token())


@blp.route("/users/me", methods=["GET"])
@blp.auth()
@blp.response(200, UserSchema)
def me():
    """The caller's profile."""
    return current_user()


@blp.route("/admin/users", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(UserSchema))
@blp.errors(422)
def list_users(args):
    """All users, oldest first (admin only)."""
    return services.list_users(args["limit"], args.get("cursor"))
