"""The organisations feature's share of data export and account erasure
(``core.personal_data``).

Export: the memberships and invitations addressed to the user's account (by user id).

Memberships stay (an organisation's history of who acted for it), without an email; the
user's pending invitations are withdrawn. Invitations by email to someone without an account
belong to the organisation that sent them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.organisations.models import Membership, MemberStatus


def export(user_id: int) -> list[dict[str, Any]]:
    return as_dicts(db.session.scalars(select(Membership).where(Membership.user_id == user_id)
                                       .order_by(Membership.id)))


def erase(user_id: int) -> None:
    db.session.execute(delete(Membership).where(
        Membership.user_id == user_id, Membership.status == MemberStatus.INVITED.value))
    db.session.execute(update(Membership).where(Membership.user_id == user_id)
                       .values(email=None))
