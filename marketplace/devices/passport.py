"""Device passports: the completed trades of an identified device, and what they tell of its
age (so a resale's residual life starts where the last one left off)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.devices.models import PassportEntry

DAYS_PER_YEAR = 365.25


def record(identity_id: int, trade_id: int, completed_at: datetime, category: str,
           condition: str, avoided_g: int, age_years: float | None) -> None:
    """Append a completed trade (once per trade). Does not commit."""
    exists = db.session.scalar(select(PassportEntry.id).where(PassportEntry.trade_id == trade_id))
    if exists is None:
        db.session.add(PassportEntry(
            identity_id=identity_id, trade_id=trade_id, completed_at=completed_at,
            category=category, condition=condition, avoided_g=avoided_g, age_years=age_years))


def owners(identity_id: int) -> int:
    """Previous owners on Reloop: owners who sold the device through a completed trade."""
    return db.session.scalar(select(func.count()).select_from(PassportEntry)
                             .where(PassportEntry.identity_id == identity_id))


def history(identity_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(PassportEntry).where(
        PassportEntry.identity_id == identity_id).order_by(PassportEntry.id))
    return [{"date": e.completed_at.date(), "category": e.category, "condition": e.condition,
             "avoided_g": e.avoided_g} for e in rows]


def known_age(identity_id: int, now: datetime | None = None) -> float | None:
    """The youngest the device can be, from its history: for each past trade, the age its
    estimate used (0 when unknown) plus the time since. None without history."""
    now = now or utcnow()
    rows = db.session.execute(select(PassportEntry.completed_at, PassportEntry.age_years)
                              .where(PassportEntry.identity_id == identity_id)).all()
    if not rows:
        return None
    return max((age or 0.0) + max(0.0, (now - when).total_seconds()) / 86_400 / DAYS_PER_YEAR
               for when, age in rows)
