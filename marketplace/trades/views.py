"""HTTP API for trades, their audit trail and their reviews (thin: services do the work)."""

from __future__ import annotations

from typing import Any

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC
from marketplace.core.http.pagination import PageArgsSchema
from marketplace.core.money_schemas import money
from marketplace.trades import data_wipe, disputes, fulfilment, reviews, services
from marketplace.trades.models import Trade
from marketplace.trades.schemas import (
    DisputeSchema,
    RefundSchema,
    ResolveSchema,
    ReviewCreateSchema,
    ReviewPageSchema,
    ReviewSchema,
    ShipSchema,
    TradeCreateSchema,
    TradeEventPageSchema,
    TradeListArgsSchema,
    TradePageSchema,
    TradeSchema,
)

blp = Blueprint("trades", __name__, url_prefix="/api/v1",
                description="Trades: escrow payment, shipping, confirmation, disputes, reviews")


_PRESENTED = ("discount", "payment", "shipment", "shipping_address", "data_wipe")


def present(trade: Trade) -> dict[str, Any]:
    """The trade as its viewer may see it (the client secret is the buyer's only). Money
    fields stay minor units here, with ``currency``: ``MoneyField`` shows them as money."""
    viewer = current_user()
    data = {c: getattr(trade, c) for c in TradeSchema().fields
            if c not in _PRESENTED and hasattr(trade, c)}
    data["currency"] = trade.currency
    data["shipping_amount"] = trade.shipping_amount or 0
    data["discount"] = money(trade.discount_amount, trade.currency) if trade.voucher_code else None
    data["payment"] = {"provider": "stripe", "payment_intent_id": trade.payment_intent_id,
                       "client_secret": trade.client_secret
                       if viewer.id == trade.buyer_id else None}
    data["shipping_address"] = fulfilment.address_for(trade, viewer)
    data["shipment"] = ({"carrier": trade.carrier, "tracking_number": trade.tracking_number}
                        if trade.carrier else None)
    data["data_wipe"] = data_wipe.summary(trade)
    return data


@blp.route("/trades", methods=["POST"])
@blp.auth(verified=True)
@blp.idempotent()
@blp.arguments(TradeCreateSchema)
@blp.response(201, TradeSchema)
@blp.errors(404, 503)
def create_trade(data):
    """Buy a listing (at its price, or an accepted offer's), optionally with a voucher:
    reserves it (and the voucher) and creates a Stripe PaymentIntent for the price less the
    discount, for the buyer's client to confirm within the payment window."""
    return present(services.create(current_user(), data["listing_id"], data.get("offer_id"),
                                   data.get("voucher_code"), data.get("fulfilment"),
                                   data.get("shipping_address_id"),
                                   data.get("organisation_id")))


@blp.route("/trades", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(TradeListArgsSchema, location="query")
@blp.response(200, TradePageSchema)
def list_trades(args):
    """The caller's trades (as buyer, seller or both), newest first by id."""
    page = services.list_trades(current_user(), args.get("role"), args.get("status"),
                                args["limit"], args.get("cursor"))
    return {"items": [present(t) for t in page["items"]], "next_cursor": page["next_cursor"]}


@blp.route("/trades/<int:trade_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, TradeSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_trade(trade_id):
    """One trade (its buyer, its seller and admins). Its ETag is a hash of what the caller
    sees: send it back as If-None-Match for a 304 while the trade has not changed."""
    return present(services.get(trade_id, current_user()))


@blp.route("/trades/<int:trade_id>/events", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TradeEventPageSchema)
@blp.errors(404)
def trade_events(args, trade_id):
    """The trade's audit trail, **oldest first** (chronological, by id; the cursor moves
    forward in time): every transition, who triggered it, when, and its details. The buyer
    does not see the seller's payout details."""
    return services.events(trade_id, current_user(), args["limit"], args.get("cursor"))


@blp.route("/trades/<int:trade_id>/ship", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ShipSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def ship(data, trade_id):
    """The seller ships a paid trade (paid → shipped); the confirm window starts."""
    return present(services.act(trade_id, current_user(), "ship", data))


@blp.route("/trades/<int:trade_id>/cancel", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def cancel(trade_id):
    """Before payment the buyer releases the trade (``cancel_unpaid``: the PaymentIntent is
    cancelled, the listing active again); once paid and unshipped, buyer or seller cancels it
    (full refund, listing active again)."""
    return present(services.act(trade_id, current_user(), "cancel"))


@blp.route("/trades/<int:trade_id>/confirm", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def confirm(trade_id):
    """The buyer confirms receipt (shipped → completed): payout, carbon credit."""
    return present(services.act(trade_id, current_user(), "confirm"))


@blp.route("/trades/<int:trade_id>/dispute", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(DisputeSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def dispute(data, trade_id):
    """The buyer disputes a shipped trade; an admin resolves it."""
    return present(services.act(trade_id, current_user(), "dispute", data))


@blp.route("/admin/trades/<int:trade_id>/resolve", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(ResolveSchema)
@blp.response(200, TradeSchema)
@blp.errors(404, 503)
def resolve(data, trade_id):
    """Resolve a trade's dispute (as `POST /admin/disputes/{id}/resolve`): ``release``
    completes the trade (payout, credit); ``refund`` gives the buyer all or ``amount`` back
    (the seller is paid the rest, less the fee; no credit); ``partial_refund`` gives
    ``amount`` back while the buyer keeps the device (completed, credit kept)."""
    return present(disputes.resolve_trade(trade_id, current_user(), data["outcome"],
                                          data.get("amount"), data.get("note")))


@blp.route("/admin/trades/<int:trade_id>/refund", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(RefundSchema)
@blp.response(200, TradeSchema)
@blp.errors(404, 503)
def refund(data, trade_id):
    """Refund a completed trade, fully or partly: comes out of the payout, reverses the
    carbon credit in proportion."""
    amount = services.refund_amount_of(trade_id, data.get("amount"))
    return present(services.admin_act(trade_id, current_user(), "refund", {"amount": amount}))


@blp.route("/trades/<int:trade_id>/reviews", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ReviewCreateSchema)
@blp.response(201, ReviewSchema)
@blp.errors(404)
def leave_review(data, trade_id):
    """Review the other party of a completed trade (once, within the review window)."""
    return reviews.leave(trade_id, current_user(), data["rating"], data["comment"])


@blp.route("/trades/<int:trade_id>/reviews", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ReviewPageSchema)
@blp.errors(404)
def trade_reviews(args, trade_id):
    """The trade's published reviews, and the caller's own, newest first by id."""
    user = current_user()
    return reviews.of_trade(services.get(trade_id, user), user, args["limit"],
                            args.get("cursor"))


@blp.route("/users/<int:user_id>/reviews", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ReviewPageSchema)
def user_reviews(args, user_id):
    """Published reviews a user received, newest first by id."""
    return reviews.of_user(user_id, args["limit"], args.get("cursor"))
