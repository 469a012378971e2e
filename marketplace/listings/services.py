"""Listings: creation, edits (with If-Match), withdrawal, re-estimation, device passport.

Who may see a listing: visibility.py; status changes made by moderation and trades:
status.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from carbon import Device, estimate
from carbon.estimator import DEFAULT_CHANNEL, METHODOLOGY_VERSION, InvalidDevice, validate_fields
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, PreconditionFailed
from marketplace.devices import passport
from marketplace.listings import device_ids, floors, hooks
from marketplace.listings import status as listing_status
from marketplace.listings.models import (
    DEVICE_FIELDS,
    FROZEN_FIELDS,
    MAX_PHOTOS,
    Listing,
    ListingStatus,
)
from marketplace.listings.search import document_value
from marketplace.listings.visibility import get_visible
from marketplace.organisations import services as organisations
from marketplace.uploads import services as uploads

S = ListingStatus
TEXT_FIELDS = ("title", "description", "brand", "model")


# ---- footprint ---------------------------------------------------------------------------
def device_of(values: dict[str, Any], age_years: float | None = None) -> Device:
    return Device(**{f: values.get(f) for f in DEVICE_FIELDS}, age_years=age_years)


def apply_footprint(listing: Listing) -> None:
    """(Re-)estimate the listing's footprint from its device fields, its known age and its
    price (below the category's price floor the credit is withheld: ``floors``); store
    grams."""
    age = device_ids.known_age(listing)
    try:
        est = estimate(device_of({f: getattr(listing, f) for f in DEVICE_FIELDS}, age))
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
    if age is not None:  # the device's own history on Reloop
        listing.footprint_assumptions = {**d["assumptions"], "age_source": "device_passport"}
    listing.footprint_extras = {k: d[k] for k in ("ewaste_avoided_g", "materials_avoided_kg",
                                                  "credit_note")}
    listing.matched_reference = d["matched_reference"]


def footprint_for_channel(listing: Listing, channel: str) -> dict[str, Any]:
    """The listing's estimate (``Listing.footprint``'s shape) for another trade route, e.g.
    ``local_pickup`` when the buyer collects a listing estimated as a parcel."""
    if channel == listing.channel:
        return listing.footprint
    values = {f: getattr(listing, f) for f in DEVICE_FIELDS}
    values["channel"] = channel
    est = floors.apply(estimate(device_of(values)), listing.category, listing.price_amount,
                       listing.price_currency)
    return est.to_dict()


def _search_document(listing: Listing):
    text = " ".join(str(getattr(listing, f) or "") for f in TEXT_FIELDS)
    return document_value(text, db.engine.dialect.name)


def _set_fields(listing: Listing, data: dict[str, Any]) -> None:
    shipping = data.get("shipping_price")
    if shipping is not None and {"amount", "currency"} - shipping.keys():
        # (a PATCH loads nested fields partially too): a price is an amount and a currency
        db.session.rollback()
        raise InvalidInput("The shipping price needs an amount and a currency.", {
            "shipping_price": {k: ["Missing data for required field."]
                               for k in sorted({"amount", "currency"} - shipping.keys())}})
    for key, value in data.items():
        if key == "price":
            if "amount" in value:
                listing.price_amount = value["amount"]
            if "currency" in value:
                listing.price_currency = value["currency"]
        elif key == "shipping_price":
            listing.shipping_amount = value["amount"]
        elif key == "location":
            if value is None:  # cleared
                listing.city = listing.country = None
            else:  # the parts given (a null part clears it); the others are kept
                listing.city = value.get("city", listing.city)
                listing.country = value.get("country", listing.country)
        else:
            setattr(listing, key, value)
    if any(f in data for f in TEXT_FIELDS):
        listing.search_doc = _search_document(listing)
    if shipping and shipping["currency"] != listing.price_currency:
        db.session.rollback()
        raise InvalidInput("Shipping is charged in the listing's currency.", {
            "shipping_price": {"currency": [f"Must be {listing.price_currency}."]}})
    if listing.local_pickup and not listing.city:
        db.session.rollback()
        raise InvalidInput("Local pickup needs the listing's city.",
                           {"location": {"city": ["Required for local pickup."]}})


def _check_frozen(listing: Listing, data: dict[str, Any]) -> None:
    """409 for a change to the device fields once an offer is accepted or a trade exists,
    or to the price while an offer is accepted (``hooks``): the buyer agreed to this."""
    changed = [f for f in FROZEN_FIELDS if f in data and data[f] != getattr(listing, f)]
    if changed:
        reason = hooks.device_frozen(listing.id)
        if reason:
            raise Conflict(f"The device description is frozen: {reason}.",
                           {f: ["Frozen."] for f in changed})
    price = data.get("price") or {}
    if any(k in price and price[k] != getattr(listing, f"price_{k}")
           for k in ("amount", "currency")):
        reason = hooks.price_frozen(listing.id)
        if reason:
            raise Conflict(f"The price is frozen: {reason}.", {"price": ["Frozen."]})


# ---- create / read -----------------------------------------------------------------------
def create(seller: User, data: dict[str, Any]) -> Listing:
    if data.get("organisation_id") is not None:
        organisations.require_acting(data["organisation_id"], seller.id)
    data = dict(data)
    photo_ids = data.pop("photo_ids", None)
    ident = device_ids.identify(seller.id, data)
    listing = Listing(seller_id=seller.id, status=S.ACTIVE.value, photos=[], photo_uploads=[])
    _set_fields(listing, {"photos": [], "channel": DEFAULT_CHANNEL, **data})
    if ident is not None:
        device_ids.attach(listing, ident)
    apply_footprint(listing)
    db.session.add(listing)
    try:
        _set_photos(listing, photo_ids)
        device_ids.commit_live_unique()
    except Exception:
        db.session.rollback()
        raise
    return listing


def _set_photos(listing: Listing, photo_ids: list[int] | None) -> None:
    """Attach the seller's uploads as the listing's photos (None: leave them as they are)."""
    if photo_ids is None:
        return
    if len(photo_ids) + len(listing.photos or []) > MAX_PHOTOS:
        msg = f"At most {MAX_PHOTOS} photos in all (URLs and uploads)."
        raise InvalidInput(msg, {"photo_ids": [msg]})
    db.session.flush()  # the listing's id
    listing.photo_uploads = uploads.attach(listing.seller_id, photo_ids, "listing", listing.id)


def _own(listing_id: int, user: User, lock: bool = False) -> Listing:
    """The caller's listing; ``lock``: its row locked and reloaded (``status.lock``)."""
    listing = get_visible(listing_id, user)
    if listing.seller_id != user.id:
        raise Forbidden("Only the seller can change this listing.")
    if lock:
        listing_status.lock(listing.id)
    return listing


def check_if_match(listing: Listing, if_match) -> None:
    """``if_match``: werkzeug ETags from the request (empty when the header is absent)."""
    if if_match and not if_match.contains_raw(listing.etag):  # "*" matches any
        raise PreconditionFailed(
            "The listing has changed since you read it (ETag mismatch); fetch it again.",
            headers={"ETag": listing.etag})


# ---- update / withdraw -------------------------------------------------------------------
def update_listing(listing_id: int, user: User, data: dict[str, Any], if_match=None) -> Listing:
    # Locked before the frozen checks: an offer accepted meanwhile (accept locks the listing
    # first too) is seen, and a concurrent accept waits for this edit.
    listing = _own(listing_id, user, lock=True)
    check_if_match(listing, if_match)
    if listing.status != S.ACTIVE.value:
        raise Conflict(f"A {listing.status} listing cannot be edited"
                       + (" while a trade is pending." if listing.status == S.RESERVED else "."))
    currency = (data.get("price") or {}).get("currency")
    if currency and currency != listing.price_currency and hooks.currency_locked(listing.id):
        raise Conflict("The currency cannot change while offers on the listing are open.",
                       {"price": {"currency": ["Offers are open in " +
                                               listing.price_currency + "."]}})
    _check_frozen(listing, data)
    if data.get("organisation_id") is not None:
        organisations.require_acting(data["organisation_id"], user.id)
    before = {f: getattr(listing, f) for f in DEVICE_FIELDS}
    price_before = (listing.price_amount, listing.price_currency)
    data = dict(data)
    photo_ids = data.pop("photo_ids", None)
    ident = device_ids.identify(user.id, data)
    _set_fields(listing, data)
    new_device = ident is not None and ident.id != listing.device_identity_id
    try:
        _set_photos(listing, photo_ids)
        if new_device:
            device_ids.attach(listing, ident)
    except Exception:
        db.session.rollback()
        raise
    after = {f: getattr(listing, f) for f in DEVICE_FIELDS}
    if after != before:
        errors = validate_fields(after)
        if errors:
            db.session.rollback()
            raise InvalidInput("The device description is not plausible; see errors.", errors)
    if (after != before or new_device  # the device's known age may differ
            or (listing.price_amount, listing.price_currency) != price_before):
        apply_footprint(listing)  # the price floor depends on the price
    if db.session.is_modified(listing):
        listing.updated_at = utcnow()
    _commit_versioned()
    return listing


def _commit_versioned() -> None:
    try:
        device_ids.commit_live_unique()
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


# ---- device passport ---------------------------------------------------------------------
def device_passport(listing_id: int, viewer: User | None) -> dict[str, Any]:
    """The listed device's history on Reloop (no personal data)."""
    listing = get_visible(listing_id, viewer)
    ident = listing.device_identity_id
    if ident is None:
        return {"identified": False, "previous_owners": 0, "known_age_years": None,
                "history": []}
    age = passport.known_age(ident)
    return {"identified": True, "previous_owners": passport.owners(ident),
            "known_age_years": None if age is None else round(age, 2),
            "history": passport.history(ident)}
