"""HTTP API of fulfilment: the shipment and its tracking, and the local-pickup handover."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.trades import handover, services
from marketplace.trades.fulfilment_schemas import (
    HandoverCodeSchema,
    HandoverSchema,
    TrackedShipmentSchema,
)
from marketplace.trades.schemas import TradeSchema
from marketplace.trades.shipping import tracking
from marketplace.trades.views import present

blp = Blueprint("fulfilment", __name__, url_prefix="/api/v1",
                description="Fulfilment: shipment tracking and local-pickup handover")


@blp.route("/trades/<int:trade_id>/shipment", methods=["GET"])
@blp.auth()
@blp.response(200, TrackedShipmentSchema)
@blp.errors(404)
def trade_shipment(trade_id):
    """The trade's shipment and its tracking events (buyer, seller and admins; 404 before
    shipping and for local pickups)."""
    return tracking.shipment_of(services.get(trade_id, current_user()))


@blp.route("/trades/<int:trade_id>/handover-code", methods=["GET"])
@blp.auth()
@blp.response(200, HandoverCodeSchema)
@blp.errors(403, 404, 409)
def handover_code(trade_id):
    """The buyer's one-time code for a paid local-pickup trade: show it to the seller when
    you collect the device (buyer only)."""
    return handover.code_for_buyer(trade_id, current_user())


@blp.route("/trades/<int:trade_id>/handover", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(HandoverSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 409, 429, 503)
def submit_handover(data, trade_id):
    """The seller submits the buyer's code at the handover: the right code completes the
    trade (payout, carbon credit). Wrong codes are limited per trade (429 with
    Retry-After)."""
    return present(handover.submit(trade_id, current_user(), data["code"]))
