"""Who may see a listing, and the reads that apply it (404 for what a viewer may not see)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import defer

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.errors import NotFound
from marketplace.core.hotread import HotRead
from marketplace.listings.models import PUBLIC_COLUMNS, Listing, ListingRow, ListingStatus

S = ListingStatus
PUBLIC_STATUSES = frozenset({S.ACTIVE.value, S.RESERVED.value, S.SOLD.value})
# A suspended seller's open listings are hidden from everyone else (sold ones stay public).
OPEN_STATUSES = frozenset({S.ACTIVE.value, S.RESERVED.value})


def can_see(listing: Listing, viewer: User | None, suspended: bool | None = None) -> bool:
    """``suspended``: whether the seller is suspended, when already known (else read)."""
    if viewer is not None and (viewer.id == listing.seller_id or viewer.is_admin):
        return True
    if listing.status not in PUBLIC_STATUSES:
        return False
    if listing.status not in OPEN_STATUSES:
        return True
    return not (seller_suspended(listing) if suspended is None else suspended)


def seller_suspended(listing: Listing) -> bool:
    seller = db.session.get(User, listing.seller_id)
    return seller is not None and seller.is_suspended


_VISIBLE = (select(Listing, User.suspended_at).join(User, User.id == Listing.seller_id)
            .where(Listing.id == bindparam("listing_id")).options(defer(Listing.search_doc)))


def get_visible(listing_id: int, viewer: User | None) -> Listing:
    """The listing if ``viewer`` may see it; 404 otherwise (invisible = nonexistent).

    One query: the listing with its seller's suspension. The search document (a tsvector,
    the widest column) is never shown: not loaded."""
    row = db.session.execute(_VISIBLE, {"listing_id": listing_id}).first()
    if row is None or not can_see(row[0], viewer, suspended=row[1] is not None):
        raise NotFound("No such listing.")
    return row[0]


# The public detail's read: every column the response shows, and the seller's suspension.
_PUBLIC = HotRead(
    select(*PUBLIC_COLUMNS, User.suspended_at.label("seller_suspended_at"))
    .join(User, User.id == Listing.seller_id).where(Listing.id == bindparam("listing_id")))


def get_public(listing_id: int, viewer: User | None) -> ListingRow:
    """``get_visible`` for a view that only shows the listing: the same rule, read as a row
    (one round trip, no ORM entity)."""
    values = _PUBLIC.first(listing_id=listing_id)
    if values is None:
        raise NotFound("No such listing.")
    row = ListingRow(values)
    if not can_see(row, viewer, suspended=values["seller_suspended_at"] is not None):
        raise NotFound("No such listing.")
    return row


def public_to_all(row: ListingRow) -> bool:
    """Whether anyone, signed in or not, may see this row of ``get_public``."""
    return can_see(row, None, suspended=row.seller_suspended_at is not None)
