"""HTTP API for offers (haggling)."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC
from marketplace.offers import services
from marketplace.offers.schemas import (
    OfferAmountSchema,
    OfferListArgsSchema,
    OfferPageSchema,
    OfferSchema,
)

blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers and counter-offers")


@blp.route("/listings/<int:listing_id>/offers", methods=["POST"])
@blp.auth(verified=True)
@blp.idempotent()
@blp.arguments(OfferAmountSchema)
@blp.response(201, OfferSchema)
@blp.errors(404, 409)
def make_offer(data, listing_id):
    """Offer an amount (``{amount, currency}``, in the listing's currency) on an active listing;
    valid 48 h."""
    return services.make_offer(listing_id, current_user(), data["amount"])


@blp.route("/offers", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(OfferListArgsSchema, location="query")
@blp.response(200, OfferPageSchema)
def list_offers(args):
    """The caller's offers (as buyer, seller or both), newest first by id, a page at a time."""
    return services.list_offers(current_user(), args.get("role"), args.get("status"),
                                args["limit"], args.get("cursor"))


@blp.route("/offers/<int:offer_id>", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.conditional()
@blp.response(200, OfferSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_offer(offer_id):
    """One offer (its buyer and seller only). Its ETag is a hash of the offer as shown: send it
    back as If-None-Match for a 304 while it has not changed (e.g. polling its status)."""
    return services.get_offer(offer_id, current_user())


@blp.route("/offers/<int:offer_id>/accept", methods=["POST"])
@blp.auth(verified=True)
@blp.idempotent()
@blp.response(200, OfferSchema)
@blp.errors(403, 404, 409)
def accept(offer_id):
    """Accept a pending offer (the seller) or counter-offer (the buyer): the buyer may then
    start a trade at this price within 24 h."""
    return services.accept(offer_id, current_user())


@blp.route("/offers/<int:offer_id>/decline", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, OfferSchema)
@blp.errors(403, 404, 409)
def decline(offer_id):
    """Decline a pending offer (the seller) or counter-offer (the buyer)."""
    return services.decline(offer_id, current_user())


@blp.route("/offers/<int:offer_id>/counter", methods=["POST"])
@blp.auth(verified=True)
@blp.idempotent()
@blp.arguments(OfferAmountSchema)
@blp.response(201, OfferSchema)
@blp.errors(403, 404, 409)
def counter(data, offer_id):
    """The seller answers a buyer's offer with another amount (a new offer to the buyer)."""
    return services.counter(offer_id, current_user(), data["amount"])


@blp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(200, OfferSchema)
@blp.errors(403, 404, 409)
def withdraw(offer_id):
    """Withdraw a pending offer you made."""
    return services.withdraw(offer_id, current_user())
