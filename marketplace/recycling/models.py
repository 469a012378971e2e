"""Recycling handovers: a user hands a device to a verified recycler, which confirms receipt
and the outcome; the confirmation credits the user once (carbon.ledger.recycling)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class HandoverStatus(enum.StrEnum):
    REQUESTED = "requested"  # the user announced it
    RECEIVED = "received"  # the recycler has the device
    RECYCLED = "recycled"  # outcome confirmed: credited


METHODS = ("drop_off", "parcel")
CONDITIONS = ("working", "broken", "for_parts")


class RecyclingHandover(db.Model):
    __tablename__ = "recycling_handovers"
    __table_args__ = (
        Index("ix_recycling_handovers_user_id_id", "user_id", "id"),
        Index("ix_recycling_handovers_recycler_id_id", "recycler_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Handed over for an organisation (its owner or buyer): the organisation is credited.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None)
    recycler_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    category: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(16))
    device: Mapped[str] = mapped_column(String(200))
    weight_kg: Mapped[float | None] = mapped_column(Float, default=None)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=HandoverStatus.REQUESTED.value)
    parts_harvested: Mapped[int | None] = mapped_column(Integer, default=None)
    materials_recovered_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    outcome_note: Mapped[str | None] = mapped_column(Text, default=None)
    # The credit computed at confirmation (grams CO2e) and the method's version.
    credit_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    credit_low_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    credit_high_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    methodology_version: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
