"""The offers feature's share of data export and erasure (``core.personal_data``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.personal_data import as_dicts
from marketplace.offers.models import Offer, OfferStatus


def export(user_id: int) -> list[dict[str, Any]]:
    """Offers the user made or received (amounts, states, times)."""
    return as_dicts(db.session.scalars(select(Offer).where(
        or_(Offer.buyer_id == user_id, Offer.seller_id == user_id)).order_by(Offer.id)))


def erase(user_id: int) -> None:
    """Close the user's open offers (made: withdrawn; received: declined). Closed offers are
    kept: they hold amounts and ids only, and the other party's history needs them."""
    pending = Offer.status == OfferStatus.PENDING.value
    now = utcnow()
    db.session.execute(update(Offer).where(pending, Offer.buyer_id == user_id)
                       .values(status=OfferStatus.WITHDRAWN.value, updated_at=now)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Offer).where(pending, Offer.seller_id == user_id)
                       .values(status=OfferStatus.DECLINED.value, updated_at=now)
                       .execution_options(synchronize_session=False))
