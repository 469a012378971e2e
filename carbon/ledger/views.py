"""HTTP API of the carbon ledger: the caller's account, entries and summary; admins any."""

from __future__ import annotations

from carbon.ledger import services
from carbon.ledger.schemas import (
    AccountSchema,
    EntriesQuerySchema,
    EntryPageSchema,
    SummaryQuerySchema,
    SummarySchema,
)
from marketplace.core.dbtypes import utcnow
from marketplace.core.http import respcache
from marketplace.core.http.auth import current_token, current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC

blp = Blueprint("carbon", __name__, url_prefix="/api/v1",
                description="Personal carbon accounts (double-entry ledger)")


def _with_etag(view):
    return view, 200, {"ETag": services.account_etag(view)}


@blp.route("/carbon/account", methods=["GET"])
@blp.cached(respcache.bearer_key("carbon-account:"), "ACCOUNT_CACHE_SECONDS")
@blp.read_only()
@blp.auth()
@blp.conditional()
@blp.response(200, AccountSchema, headers=ETAG_HEADER_DOC)
def my_account():
    """The caller's carbon balance, credited trades and credits still pending.

    Carries a (weak) ETag that changes with the figures (not with `as_of`): send it back as
    `If-None-Match` to get 304 Not Modified while nothing changed. Served from a copy kept
    for the caller's token while the figures do not move (`as_of`: when they were read)."""
    user_id = current_user().id
    view = services.account_view(user_id)
    respcache.share(owner=respcache.user_owner(user_id),
                    seconds=(current_token().expires_at - utcnow()).total_seconds())
    return _with_etag(view)


@blp.route("/carbon/entries", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(EntriesQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
@blp.errors(422)
def my_entries(args):
    """The caller's ledger lines, newest first: `{items, next_cursor}`; pass `next_cursor` as
    `cursor` for the next page (null on the last). A malformed cursor is a 422."""
    return services.entries(current_user().id, args.get("cursor"), args["limit"])


@blp.route("/carbon/summary", methods=["GET"])
@blp.read_only()
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
@blp.conditional()
@blp.response(200, AccountSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def user_account(user_id):
    """Any user's carbon account (admin only); ETag and 304 as for `GET /carbon/account`."""
    services.require_user(user_id)
    return _with_etag(services.account_view(user_id))


@blp.route("/admin/carbon/accounts/<int:user_id>/entries", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(EntriesQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
@blp.errors(404, 422)
def user_entries(args, user_id):
    """Any user's ledger lines (admin only), paged as `GET /carbon/entries`."""
    services.require_user(user_id)
    return services.entries(user_id, args.get("cursor"), args["limit"])
