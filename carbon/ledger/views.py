"""HTTP API of the carbon ledger: the caller's account, entries and summary; admins any."""

from __future__ import annotations

from carbon.ledger import services
from carbon.ledger.schemas import (
    AccountSchema,
    EntriesQuerySchema,
    EntriesSchema,
    SummaryQuerySchema,
    SummarySchema,
)
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint

blp = Blueprint("carbon", __name__, url_prefix="/api/v1",
                description="Personal carbon accounts (double-entry ledger)")


@blp.route("/carbon/account", methods=["GET"])
@blp.auth()
@blp.response(200, AccountSchema)
def my_account():
    """The caller's carbon balance, credited trades and credits still pending."""
    return services.account_view(current_user().id)


@blp.route("/carbon/entries", methods=["GET"])
@blp.auth()
@blp.arguments(EntriesQuerySchema, location="query", as_kwargs=True)
@blp.response(200, EntriesSchema)
def my_entries(cursor, limit):
    """The caller's ledger lines, newest first (keyset pages: pass `next_cursor`)."""
    return services.entries(current_user().id, cursor, limit)


@blp.route("/carbon/summary", methods=["GET"])
@blp.auth()
@blp.arguments(SummaryQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SummarySchema)
@blp.errors(422)
def my_summary(from_, to, granularity):
    """Net credits per period and per device category, with everyday equivalents (factors
    and sources included)."""
    return services.summary(current_user().id, from_, to, granularity)


@blp.route("/admin/carbon/accounts/<int:user_id>", methods=["GET"])
@blp.auth(role="admin")
@blp.response(200, AccountSchema)
@blp.errors(404)
def user_account(user_id):
    """Any user's carbon account (admin only)."""
    services.require_user(user_id)
    return services.account_view(user_id)


@blp.route("/admin/carbon/accounts/<int:user_id>/entries", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(EntriesQuerySchema, location="query", as_kwargs=True)
@blp.response(200, EntriesSchema)
@blp.errors(404)
def user_entries(cursor, limit, user_id):
    """Any user's ledger lines (admin only)."""
    services.require_user(user_id)
    return services.entries(user_id, cursor, limit)
