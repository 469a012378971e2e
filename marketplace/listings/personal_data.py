"""The listings feature's share of data export and erasure (``core.personal_data``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.listings.models import Listing, ListingStatus
from marketplace.listings.search import document_value


def _of(user_id: int):
    return db.session.scalars(select(Listing).where(Listing.seller_id == user_id)
                              .order_by(Listing.id))


def export(user_id: int) -> list[dict[str, Any]]:
    return as_dicts(_of(user_id), exclude=("search_doc",))


def erase(user_id: int) -> None:
    """Withdraw open listings; drop photos, location and description from every listing of
    the user. Title, device and price stay: they are the counterparties' trade records
    (``trades.listing_title``) and the carbon method's inputs, and say nothing about who sold."""
    dialect = db.engine.dialect.name
    for listing in _of(user_id):
        if listing.status == ListingStatus.ACTIVE.value:
            listing.status = ListingStatus.WITHDRAWN.value
        listing.photos, listing.city, listing.country, listing.description = [], None, None, ""
        listing.photo_uploads = []
        listing.search_doc = document_value(
            " ".join((listing.title, listing.brand, listing.model)), dialect)
    db.session.flush()
