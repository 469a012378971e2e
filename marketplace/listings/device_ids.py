"""Listings of identified devices: the IMEI / serial number checks (stolen: refused, neutral
message, audited; one live listing per device: 409) and the device's known age for the
estimate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from carbon.estimator.device import GLOBAL_RANGES
from carbon.estimator.parameters import CURRENT_YEAR
from marketplace.core.db import db
from marketplace.core.errors import Conflict, Forbidden
from marketplace.devices import identity, passport
from marketplace.devices.models import DeviceIdentity
from marketplace.listings.models import LIVE_STATUSES, Listing


def known_age(listing: Listing) -> float | None:
    """The device's age from its passport (an identified device traded here before), never
    younger than its release year says; None: the estimator reads the release year alone.
    So a resale's residual life starts where the last trade's left off, not from new."""
    if listing.device_identity_id is None:
        return None
    age = passport.known_age(listing.device_identity_id)
    if age is None:
        return None
    if listing.release_year is not None:
        age = max(age, float(max(0, CURRENT_YEAR - listing.release_year)))
    return round(min(age, GLOBAL_RANGES["age_years"][1]), 2)


_DUPLICATE_DEVICE = "This device is already on a live listing."


def identify(seller_id: int, data: dict[str, Any]) -> DeviceIdentity | None:
    """The identity of the IMEI / serial number in ``data`` (popped), checked: a device
    reported stolen is refused with a neutral message (and an audit entry)."""
    imei, serial = data.pop("imei", None), data.pop("serial_number", None)
    if imei is None and serial is None:
        return None
    ident = identity.get_or_create("imei" if imei else "serial", imei or serial)
    if ident.stolen_at is not None:
        identity.refuse_listing(ident, seller_id)
        raise Forbidden("This device cannot be listed on Reloop. If you think this is a "
                        "mistake, contact support.")
    return ident


def attach(listing: Listing, ident: DeviceIdentity) -> None:
    live = db.session.scalar(select(Listing.id).where(
        Listing.device_identity_id == ident.id, Listing.status.in_(LIVE_STATUSES),
        Listing.id != (listing.id or 0)).limit(1))
    if live is not None:
        raise Conflict(_DUPLICATE_DEVICE, {"device": ["Already listed."]})
    listing.device_identity_id, listing.device_identity_kind = ident.id, ident.kind
    listing.previous_owners = passport.owners(ident.id)


def commit_live_unique() -> None:
    """Commit; a concurrent listing of the same device (the partial unique index) is a 409."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        if "uq_listings_live_device" in str(exc.orig) or "device_identity_id" in str(exc.orig):
            raise Conflict(_DUPLICATE_DEVICE, {"device": ["Already listed."]}) from None
        raise
