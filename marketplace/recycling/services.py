"""Recycling handovers: request, receipt, outcome. Confirming the outcome writes one
``recycling.confirmed`` outbox record in its transaction; the ledger posts the credit from it
exactly once (``carbon.ledger.recycling``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carbon.estimator.recycling import RECYCLING_VERSION, recycling_credit_kg
from carbon.ledger import recycling as ledger_recycling
from marketplace.accounts.models import User
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page
from marketplace.organisations import services as organisations
from marketplace.organisations.models import ACTING_ROLES, Organisation, OrgKind
from marketplace.recycling.models import HandoverStatus, RecyclingHandover

S = HandoverStatus


def create(user: User, data: dict[str, Any]) -> RecyclingHandover:
    recycler = db.session.get(Organisation, data["recycler_id"])
    if recycler is None or recycler.kind != OrgKind.RECYCLER.value or not recycler.verified:
        raise InvalidInput("Not a verified recycler.",
                           {"recycler_id": ["Must be a verified recycler (GET /recyclers)."]})
    if organisations.membership(recycler.id, user.id) is not None:
        # The recycler's own people would confirm their own credit.
        raise Forbidden("You belong to this recycler: hand devices to another one.")
    if data.get("organisation_id") is not None:
        organisations.require_acting(data["organisation_id"], user.id)
    handover = RecyclingHandover(user_id=user.id, status=S.REQUESTED.value, **data)
    db.session.add(handover)
    db.session.commit()
    return handover


def _is_recycler_member(handover: RecyclingHandover, user: User,
                        roles: tuple[str, ...] | None = None) -> bool:
    member = organisations.membership(handover.recycler_id, user.id)
    return member is not None and (roles is None or member.role in roles)


def get(handover_id: int, user: User) -> RecyclingHandover:
    """The handover for its user, the recycler's members and admins (404 for anyone else)."""
    handover = db.session.get(RecyclingHandover, handover_id)
    if handover is None or not (handover.user_id == user.id or user.is_admin
                                or _is_recycler_member(handover, user)):
        raise NotFound("No such handover.")
    return handover


def list_handovers(user: User, recycler_id: int | None, limit: int,
                   cursor: str | None) -> dict[str, Any]:
    """The caller's handovers, or (``recycler_id``) those a recycler they belong to received."""
    if recycler_id is not None:
        organisations.require_member(recycler_id, user)
        query = select(RecyclingHandover).where(RecyclingHandover.recycler_id == recycler_id)
    else:
        query = select(RecyclingHandover).where(RecyclingHandover.user_id == user.id)
    return id_page(query, RecyclingHandover.id, limit, cursor)


def _lock_for_recycler(handover_id: int, user: User) -> RecyclingHandover:
    get(handover_id, user)
    handover = db.session.scalars(
        select(RecyclingHandover).where(RecyclingHandover.id == handover_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    if not _is_recycler_member(handover, user, ACTING_ROLES):
        db.session.rollback()
        raise Forbidden("Only the recycler's owners and buyers confirm a handover.")
    return handover


def receive(handover_id: int, user: User) -> RecyclingHandover:
    handover = _lock_for_recycler(handover_id, user)
    if handover.status == S.REQUESTED.value:
        handover.status, handover.received_at = S.RECEIVED.value, utcnow()
    elif handover.status != S.RECEIVED.value:
        db.session.rollback()
        raise Conflict(f"The handover is already {handover.status}.")
    db.session.commit()
    return handover


def confirm_outcome(handover_id: int, user: User, data: dict[str, Any]) -> RecyclingHandover:
    """The recycler's outcome (parts harvested, materials recovered): the handover is
    recycled and its credit computed and announced, in one transaction (409 unless received
    and not yet confirmed, so it is credited once)."""
    handover = _lock_for_recycler(handover_id, user)
    if handover.status != S.RECEIVED.value:
        db.session.rollback()
        raise Conflict("Confirm the receipt first." if handover.status == S.REQUESTED.value
                       else "The outcome is already confirmed.")
    credit = recycling_credit_kg(handover.category, handover.weight_kg)
    now = utcnow()
    handover.status, handover.confirmed_at, handover.confirmed_by = S.RECYCLED.value, now, user.id
    handover.parts_harvested = data["parts_harvested"]
    handover.materials_recovered_g = data["materials_recovered_g"]
    handover.outcome_note = data.get("note")
    handover.credit_g, handover.credit_low_g, handover.credit_high_g = (
        round(credit[k] * 1000) for k in ("central", "low", "high"))
    handover.methodology_version = RECYCLING_VERSION
    outbox.write(ledger_recycling.TOPIC, {
        "recycling_id": handover.id, "user_id": handover.user_id,
        "organisation_id": handover.organisation_id, "recycler_id": handover.recycler_id,
        "category": handover.category, "device": handover.device,
        "credit_g": handover.credit_g, "credit_low_g": handover.credit_low_g,
        "credit_high_g": handover.credit_high_g,
        "materials_recovered_g": handover.materials_recovered_g,
        "parts_harvested": handover.parts_harvested,
        "methodology_version": RECYCLING_VERSION, "confirmed_at": now.isoformat()})
    db.session.commit()
    return handover
