"""The address book's share of data export and erasure (``core.personal_data``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from marketplace.addresses.models import Address
from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts


def export(user_id: int) -> list[dict[str, Any]]:
    return as_dicts(db.session.scalars(select(Address).where(Address.user_id == user_id)
                                       .order_by(Address.id)))


def erase(user_id: int) -> None:
    """Delete every address of the user. Trades keep their own snapshot of the address a
    parcel went to (a shipping record the seller and the law rely on), not the book entry."""
    db.session.execute(delete(Address).where(Address.user_id == user_id))
