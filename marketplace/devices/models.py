"""Device identities (keyed hashes only), their passports and data-wipe declarations.

No personal data: an identity is an HMAC of the IMEI or serial number under a server secret
(``DEVICE_ID_SECRET``); a passport entry holds a date, a category, a condition and grams.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class DeviceIdentity(db.Model):
    __tablename__ = "device_identities"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))             # imei | serial
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # hex HMAC-SHA256
    stolen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PassportEntry(db.Model):
    """One completed trade of an identified device."""

    __tablename__ = "device_passport_entries"
    __table_args__ = (Index("ix_device_passport_entries_identity_id", "identity_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("device_identities.id", ondelete="CASCADE"))
    trade_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    category: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(16))
    avoided_g: Mapped[int] = mapped_column(BigInteger)
    # The device's age the trade's estimate used (None: unknown then).
    age_years: Mapped[float | None] = mapped_column(Float, default=None)


class DataWipe(db.Model):
    """The seller's declaration that the device's data was wiped, and the buyer's answer."""

    __tablename__ = "data_wipes"

    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"),
                                          primary_key=True, autoincrement=False)
    method: Mapped[str] = mapped_column(String(32))
    wiped_on: Mapped[date] = mapped_column(Date)
    certificate_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # confirmed | reported (NULL: not answered yet)
    buyer_answer: Mapped[str | None] = mapped_column(String(16), default=None)
    buyer_note: Mapped[str | None] = mapped_column(Text, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
