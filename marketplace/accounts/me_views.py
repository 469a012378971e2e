"""HTTP API of the caller's own account: password, sessions, privacy, export, verification."""

from __future__ import annotations

import io

from flask import current_app, send_file

from marketplace.accounts import account, export, lifecycle
from marketplace.accounts.me_schemas import (
    ExportSchema,
    PasswordChangeSchema,
    PrivacySchema,
    SessionSchema,
)
from marketplace.accounts.schemas import AcceptedSchema
from marketplace.core.http.auth import current_token, current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.limiter import client_address, limiter, spend
from marketplace.core.http.pagination import PageArgsSchema, page_schema

blp = Blueprint("account", __name__, url_prefix="/api/v1",
                description="Your account: password, sessions, privacy, data export")


def _resend_limit() -> str:
    return current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"]


def spend_password_guess() -> None:
    """Before checking the current password behind a token (changing it, closing the
    account): one attempt of the token's allowance (``LOGIN_LIMIT_PER_EMAIL``), counted before
    the check so parallel guesses cannot overtake it, and only once the body is valid. Per
    token, one count for both views, never per account: a stolen token gives no unlimited
    guessing and the owner's other sessions are not slowed."""
    spend(current_app.config["LOGIN_LIMIT_PER_EMAIL"], f"password-guess:{current_token().id}")


@blp.route("/users/me/password", methods=["POST"])
@blp.auth()
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.errors(422)
@blp.rate_limited()
def change_password(data):
    """Change the password (the current one required); every other session is logged out.

    Not idempotent by key: it creates nothing, and a replay fails on the old password."""
    spend_password_guess()
    account.change_password(current_user(), current_token(), data["old_password"],
                            data["new_password"])


@blp.route("/users/me/sessions", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(SessionSchema))
@blp.errors(422)
def list_sessions(args):
    """The caller's live sessions (API tokens), newest first."""
    return account.sessions(current_user(), current_token(), args["limit"], args.get("cursor"))


@blp.route("/users/me/sessions/<int:session_id>", methods=["DELETE"])
@blp.auth()
@blp.response(204)
@blp.errors(404)
def revoke_session(session_id):
    """Log one session out (it may be this one)."""
    account.revoke_session(current_user(), session_id)


@blp.route("/users/me/sessions", methods=["DELETE"])
@blp.auth()
@blp.response(204)
def revoke_other_sessions():
    """Log out every session but this one."""
    account.revoke_other_sessions(current_user(), current_token())


@blp.route("/users/me/email-verification", methods=["POST"])
@limiter.limit(_resend_limit, key_func=lambda: "verify-addr:" + client_address())
@blp.auth()
@blp.response(202, AcceptedSchema)
@blp.rate_limited()
def resend_verification():
    """Email a new verification code (nothing is sent once the email is verified)."""
    lifecycle.resend_verification(current_user())
    return {"message": "If your email is not verified yet, a new code is on its way."}


@blp.route("/users/me/privacy", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, PrivacySchema)
def get_privacy():
    """The caller's privacy choices (defaults: public profile, carbon totals hidden, out of
    leaderboards, no marketing email)."""
    return account.privacy_settings(current_user())


@blp.route("/users/me/privacy", methods=["PUT"])
@blp.auth()
@blp.arguments(PrivacySchema)
@blp.response(200, PrivacySchema)
@blp.errors(422)
def put_privacy(data):
    """Change privacy choices (absent fields are kept)."""
    return account.update_privacy(current_user(), data)


def _export_limit() -> str:
    return current_app.config["EXPORT_LIMIT_PER_USER"]


@blp.route("/users/me/export", methods=["POST"])
@blp.auth()
@blp.idempotent()  # (outside the limit: a replay is not another export)
@limiter.limit(_export_limit, key_func=lambda: f"export-user:{current_user().id}")
@blp.response(201, ExportSchema)
@blp.rate_limited()
def start_export():
    """Start a data export (a zip of JSON files, built by a background job); poll
    `GET /users/me/export/{id}` for its link."""
    return export.status(current_user(), export.start(current_user()).id)


@blp.route("/users/me/export/<int:export_id>", methods=["GET"])
@blp.auth()
@blp.response(200, ExportSchema)
@blp.errors(404)
def get_export(export_id):
    """An export's status and, when ready, its download link (valid 24 hours)."""
    return export.status(current_user(), export_id)


@blp.route("/exports/<string:token>", methods=["GET"])
@blp.response(200, description="The zip archive", content_type="application/zip")
@blp.errors(404)
def download_export(token):
    """Download an export by its signed link (no token needed: the link is the secret)."""
    data, name = export.download(token)
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=name)
