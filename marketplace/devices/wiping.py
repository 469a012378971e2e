"""Data wiping: devices that hold personal data cannot be shipped before the seller declares
how they were wiped; the buyer confirms at receipt (or reports it). Counted for the impact
report (``counts``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.devices.models import DataWipe

WIPE_CATEGORIES = frozenset({"smartphone", "tablet", "laptop", "desktop"})
# Factory reset of an encrypted device (cryptographic erase of the key), NIST SP 800-88 Rev. 1
# "clear" (overwrite through the device's interface) and "purge" (e.g. block erase, crypto erase
# by a sanitisation tool).
METHODS = ("factory_reset_encrypted", "nist_800_88_clear", "nist_800_88_purge")
CONFIRMED, REPORTED = "confirmed", "reported"


def required(category: str) -> bool:
    return category in WIPE_CATEGORIES


def get(trade_id: int) -> DataWipe | None:
    return db.session.get(DataWipe, trade_id)


def declare(trade_id: int, method: str, wiped_on: date, certificate_ref: str | None
            ) -> DataWipe:
    """The seller's declaration (replaces an earlier one). Does not commit."""
    if wiped_on > utcnow().date():
        raise InvalidInput("The wipe date is in the future.",
                           {"wiped_on": ["Must not be in the future."]})
    wipe = get(trade_id) or DataWipe(trade_id=trade_id)
    wipe.method, wipe.wiped_on, wipe.certificate_ref = method, wiped_on, certificate_ref
    wipe.declared_at = utcnow()
    db.session.add(wipe)
    return wipe


def require_declared(trade_id: int, category: str) -> DataWipe | None:
    """At shipping: 409 when the device needs a declaration and has none."""
    wipe = get(trade_id)
    if wipe is None and required(category):
        msg = (f"A {category} must be declared wiped before it is shipped "
               f"(POST /api/v1/trades/{trade_id}/data-wipe).")
        raise Conflict(msg, {"data_wipe": ["Not declared."]})
    return wipe


def answer(trade_id: int, wiped: bool, note: str | None) -> DataWipe:
    """The buyer's answer at receipt. Does not commit."""
    wipe = get(trade_id)
    if wipe is None:
        raise Conflict("This trade has no data-wipe declaration to confirm.")
    if wipe.buyer_answer is not None:
        raise Conflict(f"You have already answered ({wipe.buyer_answer}).")
    wipe.buyer_answer = CONFIRMED if wiped else REPORTED
    wipe.buyer_note = note
    wipe.answered_at = utcnow()
    return wipe


def counts() -> dict[str, Any]:
    """For the impact report: declarations, by method, and the buyers' answers."""
    by_method = dict(db.session.execute(
        select(DataWipe.method, func.count()).group_by(DataWipe.method)).all())
    answers = dict(db.session.execute(
        select(DataWipe.buyer_answer, func.count()).where(DataWipe.buyer_answer.is_not(None))
        .group_by(DataWipe.buyer_answer)).all())
    return {"declared": sum(by_method.values()),
            "by_method": {m: by_method.get(m, 0) for m in METHODS},
            "confirmed_by_buyer": answers.get(CONFIRMED, 0),
            "reported_by_buyer": answers.get(REPORTED, 0)}
