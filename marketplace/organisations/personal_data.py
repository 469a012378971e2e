"""The organisations feature's share of account erasure (``core.personal_data``).

Memberships stay (an organisation's history of who acted for it), without an email; the
user's pending invitations are withdrawn. Invitations by email to someone without an account
belong to the organisation that sent them."""

from __future__ import annotations

from sqlalchemy import delete, update

from marketplace.core.db import db
from marketplace.organisations.models import Membership, MemberStatus


def erase(user_id: int) -> None:
    db.session.execute(delete(Membership).where(
        Membership.user_id == user_id, Membership.status == MemberStatus.INVITED.value))
    db.session.execute(update(Membership).where(Membership.user_id == user_id)
                       .values(email=None))
