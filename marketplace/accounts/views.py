"""HTTP API for accounts and tokens."""

from __future__ import annotations

import hashlib

from flask import current_app, request

from marketplace.accounts import account, erasure, lifecycle, services
from marketplace.accounts.me_schemas import (
    EmailSchema,
    PasswordSchema,
    ProfileUpdateSchema,
    ResetConfirmSchema,
    TokenConfirmSchema,
)
from marketplace.accounts.me_views import spend_password_guess
from marketplace.accounts.schemas import (
    AcceptedSchema,
    LoginSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)
from marketplace.core.http.auth import current_token, current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.limiter import client_address, limiter, refund, spend
from marketplace.core.http.pagination import PageArgsSchema, page_schema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


REGISTERED = ("If this email can be registered, the account is created: check your inbox for "
              "the next step.")
RESET_SENT = "If this email has an account, a reset code is on its way."


def _login_pair() -> str:
    """Login-attempt key of the (email, client address) pair, never the email alone: guesses
    from an attacker's address must not lock the owner out elsewhere. The email is hashed (no
    addresses in Redis)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    email = services.normalize_email(email) if isinstance(email, str) else ""
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return f"login-pair:{digest}:{client_address()}"


def _per_email_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_EMAIL"]


def _failures_per_address() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ADDRESS"]


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"]


def _failed(response) -> bool:
    return response.status_code == 401


def _per_address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _register_limit() -> str:
    return current_app.config["REGISTER_LIMIT_PER_ADDRESS"]


@blp.route("/auth/register", methods=["POST"])
@limiter.limit(_register_limit, key_func=lambda: "register-addr:" + client_address())
@blp.arguments(RegisterSchema)
@blp.response(202, AcceptedSchema)
@blp.rate_limited()
def register(data):
    """Create an account; a verification code is emailed.

    The answer is the same whether or not the email already has an account (its owner is told
    by email instead), so registration does not reveal who is a member. Log in afterwards.
    No `Idempotency-Key` here: there is no caller to scope a key to."""
    lifecycle.signup(data["email"], data["password"], data["display_name"])
    return {"message": REGISTERED}


@blp.route("/auth/email-verification", methods=["POST"])
@blp.arguments(TokenConfirmSchema)
@blp.response(200, UserSchema)
@blp.errors(422)
def verify_email(data):
    """Confirm an email address with the emailed code (single use, expiring)."""
    return lifecycle.verify_email(data["token"])


@blp.route("/auth/password-reset", methods=["POST"])
@limiter.limit(_reset_limit, key_func=lambda: "reset-addr:" + client_address())
@blp.arguments(EmailSchema)
@blp.response(202, AcceptedSchema)
@blp.rate_limited()
def request_password_reset(data):
    """Ask for a password reset code by email; the same answer whether or not the email has
    an account."""
    lifecycle.request_password_reset(data["email"])
    return {"message": RESET_SENT}


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@limiter.limit(_reset_limit, key_func=lambda: "reset-confirm-addr:" + client_address(),
               deduct_when=lambda response: response.status_code == 422)
@blp.arguments(ResetConfirmSchema)
@blp.response(204)
@blp.errors(422)
@blp.rate_limited()
def reset_password(data):
    """Set a new password with an emailed reset code (single use, expiring); every session
    of the account is logged out."""
    lifecycle.reset_password(data["token"], data["new_password"])


@blp.route("/auth/tokens", methods=["POST"])
@limiter.limit(_per_address_limit, key_func=lambda: "login-addr:" + client_address())
@limiter.limit(_failures_per_address, key_func=lambda: "login-fail-addr:" + client_address(),
               deduct_when=_failed)
@blp.arguments(LoginSchema)
@blp.response(201, TokenSchema)
@blp.errors(401, 403)
@blp.rate_limited()
def create_token(data):
    """Log in: exchange email and password for a bearer token (403 for a suspended account,
    told only with the right password).

    No `Idempotency-Key` here (anonymous): a retry issues another token, each revocable."""
    # Every attempt of the (email, address) pair counts before the password is checked (a
    # limit counted after the response let a burst of parallel guesses by); a login that
    # succeeds gives its attempt back: only failures weigh.
    pair = _login_pair()
    spend(_per_email_limit(), pair)
    raw, token = services.login(data["email"], data["password"])
    refund(_per_email_limit(), pair)
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


@blp.route("/users/me", methods=["PATCH"])
@blp.auth()
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
@blp.errors(422)
def update_me(data):
    """Change the caller's profile (display name, bio, city, country, locale, preferred
    currency); absent fields are kept, null clears."""
    return account.update_profile(current_user(), data)


@blp.route("/users/me", methods=["DELETE"])
@blp.auth()
@blp.arguments(PasswordSchema)
@blp.response(204)
@blp.errors(409, 422)
@blp.rate_limited()
def close_me(data):
    """Close the account (password required): personal data erased or pseudonymised, every
    token revoked; 409 while a trade is in flight or money is owed. See docs/privacy.md."""
    spend_password_guess()
    erasure.close(current_user(), data["password"])


@blp.route("/admin/users", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(UserSchema))
@blp.errors(422)
def list_users(args):
    """All users, oldest first (admin only)."""
    return services.list_users(args["limit"], args.get("cursor"))
