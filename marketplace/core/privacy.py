"""Each user's privacy choices, readable by any feature without knowing what a user is.

One row per user who changed a setting; a user without a row has the defaults: public
profile on, carbon totals hidden, out of leaderboards, no marketing email (privacy by
default). The accounts feature edits them (``GET/PUT /users/me/privacy``); public views and
leaderboards ask here (``settings_for``, ``leaderboard_members``, ``allows_marketing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import UTCDateTime, utcnow


class PrivacySettings(db.Model):
    __tablename__ = "privacy_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    public_profile: Mapped[bool] = mapped_column(Boolean, default=True)
    show_carbon: Mapped[bool] = mapped_column(Boolean, default=False)
    leaderboards: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_email: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Settings:
    public_profile: bool = True
    show_carbon: bool = False
    leaderboards: bool = False
    marketing_email: bool = False
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = ("public_profile", "show_carbon", "leaderboards", "marketing_email")


def settings_for(user_id: int) -> Settings:
    row = db.session.get(PrivacySettings, user_id)
    if row is None:
        return Settings()
    return Settings(**{f: bool(getattr(row, f)) for f in FIELDS}, updated_at=row.updated_at)


def update(user_id: int, changes: dict[str, bool]) -> Settings:
    """Apply ``changes`` (a subset of FIELDS) in the current transaction (no commit)."""
    row = db.session.get(PrivacySettings, user_id)
    if row is None:
        row = PrivacySettings(user_id=user_id, **Settings().as_dict() | {"updated_at": utcnow()})
        db.session.add(row)
    for name, value in changes.items():
        if name not in FIELDS:
            raise ValueError(f"unknown privacy setting {name!r}")
        setattr(row, name, bool(value))
    row.updated_at = utcnow()
    db.session.flush()
    return settings_for(user_id)


def leaderboard_members(user_ids: Iterable[int]) -> set[int]:
    """The subset of ``user_ids`` who agreed to appear in leaderboards (opt-in)."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(PrivacySettings.user_id).where(
        PrivacySettings.user_id.in_(ids), PrivacySettings.leaderboards.is_(True))))


def allows_marketing(user_id: int) -> bool:
    return settings_for(user_id).marketing_email
