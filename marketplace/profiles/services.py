"""Public profiles: who a user is on the marketplace, without private details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.core import privacy
from marketplace.core.db import db
from marketplace.core.errors import NotFound
from marketplace.listings.models import Listing, ListingStatus
from marketplace.trades import reviews


def public_profile(user_id: int) -> dict[str, Any]:
    """404 for unknown and closed accounts and for profiles their owner made private (the
    same answer: a private profile is not confirmed to exist); carbon totals only when the
    owner chose to show them (``privacy.show_carbon``, off by default)."""
    user = db.session.get(User, user_id)
    settings = privacy.settings_for(user_id)
    if user is None or user.closed_at is not None or not settings.public_profile:
        raise NotFound("No such user.")
    counts = dict(db.session.execute(
        select(Listing.status, func.count())
        .where(Listing.seller_id == user_id,
               Listing.status.in_([ListingStatus.ACTIVE.value, ListingStatus.SOLD.value]))
        .group_by(Listing.status)).all())
    # A listing is sold when its trade completes (or a dispute over it is settled).
    avoided_g = db.session.scalar(
        select(func.coalesce(func.sum(Listing.avoided_central_g), 0))
        .where(Listing.seller_id == user_id, Listing.status == ListingStatus.SOLD.value)
    ) if settings.show_carbon else None
    return {
        "id": user.id,
        "display_name": user.display_name,
        "member_since": user.created_at,
        "active_listings": counts.get(ListingStatus.ACTIVE.value, 0),
        "sold_count": counts.get(ListingStatus.SOLD.value, 0),
        "avoided_kgco2e_sold": None if avoided_g is None else round(int(avoided_g) / 1000.0, 3),
        **reviews.rating(user_id),
    }
