"""How the device reaches the buyer: shipping to an address, or local pickup (issue 15).

A trade is created with ``fulfilment``:

- ``shipping`` with ``shipping_address_id`` (one of the buyer's addresses; default: the
  buyer's default address). The address is copied onto the trade (``shipping_address``), so
  later edits or deletion of the address book entry do not change it. The buyer pays the
  listing's ``shipping_price`` on top of the price (``Trade.shipping_amount``; paid on to the
  seller, no fee on it). The seller sees the address only once the trade is paid
  (``address_for``); nobody else ever does, admins included.
- ``local_pickup``, only when the listing offers it (``local_pickup: true``): no shipping
  charge, the pickup city is the listing's; the seller completes the trade with the buyer's
  handover code (``handover.py``).

The footprint snapshot follows the route: a parcel's transport emissions, or about none
for a pickup (the estimator's ``channel``); a refurbished listing keeps its own route.
"""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import User
from marketplace.addresses import services as addresses
from marketplace.core.errors import Conflict, InvalidInput, NotFound
from marketplace.listings import services as listings
from marketplace.listings.models import Listing
from marketplace.trades.context import Context
from marketplace.trades.models import Trade, TradeStatus

SHIPPING = "shipping"
LOCAL_PICKUP = "local_pickup"
FULFILMENTS = (SHIPPING, LOCAL_PICKUP)

# States in which the seller sees the buyer's address: paid, and what may follow payment.
ADDRESS_VISIBLE_TO_SELLER = frozenset({TradeStatus.PAID, TradeStatus.SHIPPED,
                                       TradeStatus.DISPUTED, TradeStatus.COMPLETED,
                                       TradeStatus.REFUNDED})


def fields_for(buyer: User, listing: Listing, fulfilment: str | None,
               shipping_address_id: int | None) -> dict[str, Any]:
    """The trade's fulfilment columns for a new trade (422 / 409 when not possible)."""
    fulfilment = fulfilment or SHIPPING
    if fulfilment == LOCAL_PICKUP:
        if not listing.local_pickup:
            raise Conflict("This listing is not offered for local pickup.",
                           {"fulfilment": ["The seller does not offer local pickup."]})
        if shipping_address_id is not None:
            raise InvalidInput("A local pickup takes no shipping address.",
                               {"shipping_address_id": ["Only with fulfilment shipping."]})
        return {"fulfilment": LOCAL_PICKUP, "shipping_amount": 0, "shipping_address": None,
                "pickup_city": listing.city}
    if shipping_address_id is None:
        address = addresses.default_of(buyer.id)
        if address is None:
            raise InvalidInput("Add a shipping address first (POST /users/me/addresses), or "
                               "choose local pickup.",
                               {"shipping_address_id": ["You have no default address."]})
    else:
        try:
            address = addresses.get_own(shipping_address_id, buyer.id)
        except NotFound:
            raise InvalidInput("No such address in your address book.",
                               {"shipping_address_id": ["Not one of your addresses."]}) from None
    return {"fulfilment": SHIPPING, "shipping_amount": listing.shipping_amount or 0,
            "shipping_address": address.snapshot(), "pickup_city": None}


def route_footprint(listing: Listing, fulfilment: str) -> dict[str, Any]:
    """The listing's estimate for the trade's route (parcel or local pickup)."""
    if listing.channel == "refurbished":
        return listing.footprint
    channel = "local_pickup" if fulfilment == LOCAL_PICKUP else "parcel"
    return listings.footprint_for_channel(listing, channel)


def address_for(trade: Trade, viewer: User) -> dict[str, Any] | None:
    """The shipping address as ``viewer`` may see it: always the buyer; the seller once the
    trade is paid; nobody else."""
    if viewer.id == trade.buyer_id:
        return trade.shipping_address
    if viewer.id == trade.seller_id and trade.status in ADDRESS_VISIBLE_TO_SELLER:
        return trade.shipping_address
    return None


# ---- effects (named in machine.TRANSITIONS) ------------------------------------------------
def require_shipping(ctx: Context) -> None:
    if ctx.trade.fulfilment != SHIPPING:
        raise Conflict("This trade is a local pickup: the seller completes it with the "
                       "buyer's handover code (POST /trades/{id}/handover).")


def require_pickup(ctx: Context) -> None:
    if ctx.trade.fulfilment != LOCAL_PICKUP:
        raise Conflict("Only a local-pickup trade is completed by handover; ship this one.")
