"""A user's postal addresses; at most one is the default."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

_DEFAULT = "is_default"


class Address(db.Model):
    __tablename__ = "addresses"
    __table_args__ = (
        Index("ix_addresses_user_id_id", "user_id", "id"),
        # One default per user, enforced by the database as well as the service.
        Index("uq_addresses_user_default", "user_id", unique=True,
              postgresql_where=text(_DEFAULT), sqlite_where=text(_DEFAULT)),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200), default=None)
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20), default=None)
    region: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)  # E.164
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country", "phone")

    def snapshot(self) -> dict[str, str | None]:
        """The address as a trade keeps it (later edits do not change a trade)."""
        return {f: getattr(self, f) for f in self.FIELDS}
