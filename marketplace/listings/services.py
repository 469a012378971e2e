"""Listings: creation, visibility, edits (with If-Match), status changes, re-estimation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.exc import StaleDataError

from carbon import Device, estimate
from carbon.estimator import DEFAULT_CHANNEL, METHODOLOGY_VERSION, InvalidDevice, validate_fields
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from marketplace.listings import floors, hooks
from marketplace.listings.models import DEVICE_FIELDS, Listing, ListingStatus
from marketplace.listings.search import document_value

S = ListingStatus
PUBLIC_STATUSES = frozenset({S.ACTIVE.value, S.RESERVED.value, S.SOLD.value})
TEXT_FIELDS = ("title", "description", "brand", "model")


# ---- footprint ---------------------------------------------------------------------------
def device_of(values: dict[str, Any]) -> Device:
    return Device(**{f: values.get(f) for f in DEVICE_FIELDS})


def apply_footprint(listing: Listing) -> None:
    """(Re-)estimate the listing's footprint from its device fields and price (below the
    category's price floor the credit is withheld: ``floors``); store grams."""
    try:
        est = estimate(device_of({f: getattr(listing, f) for f in DEVICE_FIELDS}))
    except InvalidDevice as exc:
        raise InvalidInput("The device description is not plausible; see errors.",
                           exc.errors) from None
    est = floors.apply(est, listing.category, listing.price_amount, listing.price_currency)
    grams = [round(v * 1000) for v in (*est.embodied, *est.avoided)]
    (listing.embodied_low_g, listing.embodied_central_g, listing.embodied_high_g,
     listing.avoided_low_g, listing.avoided_central_g, listing.avoided_high_g) = grams
    d = est.to_dict()
    listing.footprint_method = est.method
    listing.methodology_version = est.methodology_version
    listing.footprint_assumptions = d["assumptions"]
    listing.footprint_extras = {k: d[k] for k in ("ewaste_avoided_g", "materials_avoided_kg",
                                                  "credit_note")}
    listing.matched_reference = d["matched_reference"]


def _search_document(listing: Listing):
    text = " ".join(str(getattr(listing, f) or "") for f in TEXT_FIELDS)
    return document_value(text, db.engine.dialect.name)


def _set_fields(listing: Listing, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "price":
            if "amount" in value:
                listing.price_amount = value["amount"]
            if "currency" in value:
                listing.price_currency = value["currency"]
        elif key == "location":
            value = value or {}
            listing.city = value.get("city")
            listing.country = value.get("country")
        else:
            setattr(listing, key, value)
    if any(f in data for f in TEXT_FIELDS):
        listing.search_doc = _search_document(listing)


# ---- create / read -----------------------------------------------------------------------
def create(seller: User, data: dict[str, Any]) -> Listing:
    listing = Listing(seller_id=seller.id, status=S.ACTIVE.value, photos=[])
    _set_fields(listing, {"photos": [], "channel": DEFAULT_CHANNEL, **data})
    apply_footprint(listing)
    db.session.add(listing)
    db.session.commit()
    return listing


def can_see(listing: Listing, viewer: User | None) -> bool:
    if listing.status in PUBLIC_STATUSES:
        return True
    return viewer is not None and (viewer.id == listing.seller_id or viewer.is_admin)


def get_visible(listing_id: int, viewer: User | None) -> Listing:
    """The listing if ``viewer`` may see it; 404 otherwise (invisible = nonexistent)."""
    # The search document (a tsvector, the widest column) is never shown: not loaded.
    listing = db.session.get(Listing, listing_id, options=[defer(Listing.search_doc)])
    if listing is None or not can_see(listing, viewer):
        raise NotFound("No such listing.")
    return listing


def _own(listing_id: int, user: User) -> Listing:
    listing = get_visible(listing_id, user)
    if listing.seller_id != user.id:
        raise Forbidden("Only the seller can change this listing.")
    return listing


def check_if_match(listing: Listing, if_match) -> None:
    """``if_match``: werkzeug ETags from the request (empty when the header is absent)."""
    if if_match and not if_match.contains_raw(listing.etag):  # "*" matches any
        raise PreconditionFailed(
            "The listing has changed since you read it (ETag mismatch); fetch it again.",
            headers={"ETag": listing.etag})


# ---- update / withdraw -------------------------------------------------------------------
def update_listing(listing_id: int, user: User, data: dict[str, Any], if_match=None) -> Listing:
    listing = _own(listing_id, user)
    check_if_match(listing, if_match)
    if listing.status != S.ACTIVE.value:
        raise Conflict(f"A {listing.status} listing cannot be edited"
                       + (" while a trade is pending." if listing.status == S.RESERVED else "."))
    currency = (data.get("price") or {}).get("currency")
    if currency and currency != listing.price_currency and hooks.currency_locked(listing.id):
        raise Conflict("The currency cannot change while offers on the listing are open.",
                       {"price": {"currency": ["Offers are open in " +
                                               listing.price_currency + "."]}})
    before = {f: getattr(listing, f) for f in DEVICE_FIELDS}
    price_before = (listing.price_amount, listing.price_currency)
    _set_fields(listing, data)
    after = {f: getattr(listing, f) for f in DEVICE_FIELDS}
    if after != before:
        errors = validate_fields(after)
        if errors:
            db.session.rollback()
            raise InvalidInput("The device description is not plausible; see errors.", errors)
    if after != before or (listing.price_amount, listing.price_currency) != price_before:
        apply_footprint(listing)  # the price floor depends on the price
    if db.session.is_modified(listing):
        listing.updated_at = utcnow()
    _commit_versioned()
    return listing


def _commit_versioned() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise PreconditionFailed("The listing was changed concurrently; fetch it again.") \
            from None


def withdraw(listing_id: int, user: User) -> None:
    """DELETE: the listing is withdrawn (kept, gone from search). Idempotent."""
    listing = _own(listing_id, user)
    if listing.status == S.WITHDRAWN.value:
        return
    if listing.status != S.ACTIVE.value:
        raise Conflict(f"A {listing.status} listing cannot be withdrawn"
                       + (": a trade is pending." if listing.status == S.RESERVED else "."))
    listing.status = S.WITHDRAWN.value
    listing.updated_at = utcnow()
    hooks.closed(listing.id)
    _commit_versioned()


def suspend(listing_id: int, admin: User, reason: str) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("No such listing.")
    if listing.status not in (S.ACTIVE.value, S.RESERVED.value):
        raise Conflict(f"A {listing.status} listing cannot be suspended.")
    listing.status = S.SUSPENDED.value
    listing.suspension_reason = reason
    listing.updated_at = utcnow()
    _commit_versioned()
    return listing


# ---- status helpers for trades (conditional updates; the caller commits) -----------------
def _transition(listing: Listing, frm: str, to: str, message: str, **values) -> None:
    result = db.session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.status == frm)
        .values(status=to, version=Listing.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(message)
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


# ---- re-estimation -----------------------------------------------------------------------
def stale_listing_ids(include_current: bool = False) -> list[int]:
    query = select(Listing.id).where(Listing.status == S.ACTIVE.value).order_by(Listing.id)
    if not include_current:
        query = query.where(Listing.methodology_version != METHODOLOGY_VERSION)
    return list(db.session.scalars(query))


def reestimate(listing_ids: list[int]) -> int:
    """Re-estimate these listings (active ones only) with the current methodology."""
    listings = db.session.scalars(
        select(Listing).where(Listing.id.in_(listing_ids),
                              Listing.status == S.ACTIVE.value)
        .order_by(Listing.id).with_for_update()
    ).all()
    for listing in listings:
        apply_footprint(listing)
        listing.updated_at = utcnow()
    db.session.commit()
    return len(listings)
