"""Listing status changes made by other features: moderation (suspend, unsuspend) and trades
(reserve, release, mark sold). Each is one conditional UPDATE, so of two concurrent changes
only one wins; the caller commits."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict
from marketplace.listings import cache, hooks
from marketplace.listings.models import Listing, ListingStatus

S = ListingStatus


def lock(listing_id: int) -> Listing | None:
    """Lock the listing's row until the transaction ends (PostgreSQL; ``FOR UPDATE``) and
    reload it. Lock order: where a listing and its offers are both locked (accepting or
    countering an offer, buying at one), the listing is locked first, then the offer."""
    return db.session.scalars(
        select(Listing).where(Listing.id == listing_id).with_for_update(of=Listing)
        .execution_options(populate_existing=True)).first()


# ---- moderation (the moderation feature records the audit entry and commits) ------------
def suspend(listing: Listing, reason: str) -> None:
    """active -> suspended: hidden from everyone but its seller and admins. A reserved
    listing is not suspended under its trade (the trade would have nothing to sell or
    release): settle or cancel the trade first."""
    if listing.status != S.ACTIVE.value:
        detail = (": a trade is in flight; settle or cancel it first"
                  if listing.status == S.RESERVED.value else "")
        raise Conflict(f"A {listing.status} listing cannot be suspended{detail}.",
                       {"status": [listing.status]})
    _transition(listing, S.ACTIVE.value, S.SUSPENDED.value,
                "The listing changed meanwhile; try again.", suspension_reason=reason)


def unsuspend(listing: Listing) -> None:
    """suspended -> active."""
    if listing.status != S.SUSPENDED.value:
        raise Conflict(f"A {listing.status} listing is not suspended.",
                       {"status": [listing.status]})
    _transition(listing, S.SUSPENDED.value, S.ACTIVE.value,
                "The listing changed meanwhile; try again.", suspension_reason=None)


# ---- for trades
def _transition(listing: Listing, frm: str, to: str, message: str, **values) -> None:
    result = db.session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.status == frm)
        .values(status=to, version=Listing.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(message)
    cache.forget([listing.id])
    db.session.refresh(listing)


def reserve(listing: Listing) -> None:
    """active -> reserved, atomically: of two concurrent buyers only one wins."""
    _transition(listing, S.ACTIVE.value, S.RESERVED.value,
                "The listing is not available: it is already reserved, sold or withdrawn.")


def release(listing: Listing) -> None:
    """reserved -> active (the pending trade was cancelled)."""
    _transition(listing, S.RESERVED.value, S.ACTIVE.value, "The listing is not reserved.")


def mark_sold(listing: Listing) -> None:
    """reserved -> sold; features told of closed listings react (offers expire)."""
    _transition(listing, S.RESERVED.value, S.SOLD.value, "The listing is not reserved.",
                sold_at=utcnow())
    hooks.closed(listing.id)


