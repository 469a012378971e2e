"""The trades feature's share of data export and erasure (``core.personal_data``).

Trades are not erased: they are financial records (the payment, the platform fee, refunds)
that tax and payment law require to be kept (see docs/privacy.md), and the counterparty's
history. They hold ids, amounts, the listing title and the shipment's carrier and tracking
number, and (shipped trades) the address the parcel went to: on erasure that snapshot keeps
only its country (the trades are finished: closure is refused while one is in flight). Reviews
the user wrote stay, shown under the closed account, whose display name becomes "Former
member".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update

from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.trades.models import Review, Trade, TradeStatus

IN_FLIGHT = (TradeStatus.PENDING_PAYMENT.value, TradeStatus.PAID.value,
             TradeStatus.SHIPPED.value, TradeStatus.DISPUTED.value,
             TradeStatus.RETURN_REQUESTED.value, TradeStatus.RETURNING.value)
_SECRETS = ("client_secret", "key_salt")


def _party(user_id: int):
    return or_(Trade.buyer_id == user_id, Trade.seller_id == user_id)


def export_trades(user_id: int) -> list[dict[str, Any]]:
    """The user's trades; the shipping address only on their own purchases (on a sale it is
    the buyer's personal data, not the seller's)."""
    rows = as_dicts(db.session.scalars(select(Trade).where(_party(user_id))
                                       .order_by(Trade.id)), exclude=_SECRETS)
    for row in rows:
        if row["buyer_id"] != user_id:
            row["shipping_address"] = None
    return rows


def export_reviews(user_id: int) -> list[dict[str, Any]]:
    """Reviews the user wrote."""
    return as_dicts(db.session.scalars(select(Review).where(Review.author_id == user_id)
                                       .order_by(Review.id)))


def trades_in_flight(user_id: int) -> str | None:
    count = db.session.scalar(select(func.count()).select_from(Trade).where(
        _party(user_id), Trade.status.in_(IN_FLIGHT)))
    if count:
        return f"{count} trade(s) in progress (finish, cancel or settle them first)"
    return None


def erase(user_id: int) -> None:
    """Reduce the address snapshots of the user's purchases to their country."""
    for trade in db.session.scalars(select(Trade).where(Trade.buyer_id == user_id,
                                                        Trade.shipping_address.is_not(None))):
        db.session.execute(update(Trade).where(Trade.id == trade.id).values(
            shipping_address={"country": (trade.shipping_address or {}).get("country")}))
