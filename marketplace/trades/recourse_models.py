"""Returns and disputes of trades: the return request, the dispute and its timeline.

Photo evidence is a list of opaque upload references (strings or integers, kept as given):
uploads are another feature's; they are validated against it once it exists (TODO).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class ReturnStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"      # the buyer ships the device back
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"      # the seller has it back: refunded
    REFUSED = "refused"        # escalated to a dispute
    ESCALATED = "escalated"    # the seller did not answer, or never confirmed receipt


class TradeReturn(db.Model):
    __tablename__ = "trade_returns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"),
                                          unique=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(Text, default=None)
    carrier: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(128), default=None)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Dispute(db.Model):
    """One per trade. ``pending_resolution`` holds an admin's refund decision between its
    Stripe call (made outside any row lock) and the transition that records it, so a retry
    repeats the same refund (same idempotency key) rather than another one."""

    __tablename__ = "disputes"
    # The admin queue's order: status ascending ("open" sorts before "resolved"), then id.
    __table_args__ = (Index("ix_disputes_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"),
                                          unique=True)
    buyer_id: Mapped[int] = mapped_column(BigInteger)
    seller_id: Mapped[int] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(24))  # dispute, return_refused, return_stalled
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN.value)
    pending_resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    refund_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    resolution_note: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisputeEntry(db.Model):
    """The dispute's timeline: the buyer's reason and evidence, the seller's replies, admins'
    notes and the resolution, oldest first."""

    __tablename__ = "dispute_entries"
    __table_args__ = (Index("ix_dispute_entries_dispute_id_id", "dispute_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(String(8))  # buyer seller admin system
    author_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(16))  # opened evidence reply note resolution
    text: Mapped[str] = mapped_column(Text, default="")
    photo_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
