"""HTTP API for returns and disputes (thin: ``returns`` and ``disputes`` do the work)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC
from marketplace.core.http.pagination import PageArgsSchema
from marketplace.core.money_schemas import money
from marketplace.trades import disputes, returns
from marketplace.trades.models import Trade
from marketplace.trades.recourse_models import Dispute
from marketplace.trades.recourse_schemas import (
    DisputeEntryCreateSchema,
    DisputeEntryPageSchema,
    DisputeEntrySchema,
    DisputeQueueArgsSchema,
    DisputeRecordPageSchema,
    DisputeRecordSchema,
    ReasonSchema,
    ReturnSchema,
    ReturnShipSchema,
)
from marketplace.trades.schemas import ResolveSchema, TradeSchema
from marketplace.trades.views import present

blp = Blueprint("returns_disputes", __name__, url_prefix="/api/v1",
                description="Returns and disputes: evidence, replies, the admin queue and "
                            "resolution")


def present_dispute(dispute: Dispute) -> dict[str, Any]:
    data = {c: getattr(dispute, c) for c in DisputeRecordSchema().fields if c != "refund"}
    currency = db.session.scalar(select(Trade.currency).where(Trade.id == dispute.trade_id))
    data["refund"] = (money(dispute.refund_amount, currency)
                      if dispute.refund_amount is not None else None)
    return data


# ---- returns -----------------------------------------------------------------------------
@blp.route("/trades/<int:trade_id>/return", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ReasonSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404)
def request_return(data, trade_id):
    """The buyer asks to return the device (shipped → return_requested), within the return
    window after receipt; the confirm timer stops, the seller's answer timer starts."""
    return present(returns.request(trade_id, current_user(), data["reason"]))


@blp.route("/trades/<int:trade_id>/return", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, ReturnSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_return(trade_id):
    """The trade's return (buyer, seller and admins; 404 for anyone else, or no return)."""
    return returns.get(trade_id, current_user())


@blp.route("/trades/<int:trade_id>/return/accept", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, TradeSchema)
@blp.errors(403, 404)
def accept_return(trade_id):
    """The seller accepts the return (return_requested → returning): the buyer ships back."""
    return present(returns.accept(trade_id, current_user()))


@blp.route("/trades/<int:trade_id>/return/refuse", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ReasonSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404)
def refuse_return(data, trade_id):
    """The seller refuses the return (return_requested → disputed): a dispute opens with the
    buyer's reason and the seller's as its first reply."""
    return present(returns.refuse(trade_id, current_user(), data["reason"]))


@blp.route("/trades/<int:trade_id>/return/ship", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(ReturnShipSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404)
def ship_return(data, trade_id):
    """The buyer sends the device back (stays returning; the parcel is recorded)."""
    return present(returns.ship_back(trade_id, current_user(), data))


@blp.route("/trades/<int:trade_id>/return/receive", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def receive_return(trade_id):
    """The seller has the device back (returning → refunded): the buyer is refunded in full
    and the listing is active again."""
    return present(returns.receive(trade_id, current_user()))


# ---- disputes ----------------------------------------------------------------------------
@blp.route("/trades/<int:trade_id>/dispute", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, DisputeRecordSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def trade_dispute(trade_id):
    """The trade's dispute (buyer, seller and admins; 404 for anyone else, or none)."""
    return present_dispute(disputes.of_trade(trade_id, current_user()))


@blp.route("/disputes/<int:dispute_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, DisputeRecordSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_dispute(dispute_id):
    """A dispute (its buyer, its seller and admins; 404 for anyone else)."""
    return present_dispute(disputes.get(dispute_id, current_user()))


@blp.route("/disputes/<int:dispute_id>/entries", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DisputeEntryPageSchema)
@blp.errors(404)
def dispute_entries(args, dispute_id):
    """The dispute's timeline, **oldest first**: the buyer's reason and evidence, the
    seller's replies, admins' notes, the resolution."""
    return disputes.entries(dispute_id, current_user(), args["limit"], args.get("cursor"))


@blp.route("/disputes/<int:dispute_id>/entries", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(DisputeEntryCreateSchema)
@blp.response(201, DisputeEntrySchema)
@blp.errors(404)
def add_dispute_entry(data, dispute_id):
    """Add to an open dispute's timeline: evidence (buyer), a reply (seller) or a note
    (admin), with optional photo upload ids. 409 once resolved."""
    return disputes.add_entry(dispute_id, current_user(), data["text"], data["photo_ids"])


@blp.route("/admin/disputes", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(DisputeQueueArgsSchema, location="query")
@blp.response(200, DisputeRecordPageSchema)
def dispute_queue(args):
    """The admin queue: **open disputes first, then resolved ones, each oldest first**."""
    page = disputes.queue(args.get("status"), args["limit"], args.get("cursor"))
    return {"items": [present_dispute(d) for d in page["items"]],
            "next_cursor": page["next_cursor"]}


@blp.route("/admin/disputes/<int:dispute_id>/resolve", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(ResolveSchema)
@blp.response(200, DisputeRecordSchema)
@blp.errors(404, 503)
def resolve_dispute(data, dispute_id):
    """Resolve a dispute: release, refund (all or `amount`) or partial_refund (the buyer
    keeps the device and the trade its carbon credit). Refunds go through Stripe."""
    user = current_user()
    disputes.resolve(dispute_id, user, data["outcome"], data.get("amount"), data.get("note"))
    return present_dispute(disputes.get(dispute_id, user))
