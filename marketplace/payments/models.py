"""Stored Stripe webhook events, seller payout accounts and payouts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class StripeEvent(db.Model):
    """One row per Stripe event id, however often Stripe delivers it."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_object_id", "object_id"),
        Index("ix_stripe_events_pending", "received_at",
              postgresql_where=text("processed_at IS NULL"),
              sqlite_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(128))
    # data.object.id (e.g. the PaymentIntent), to find the events of one object.
    object_id: Mapped[str | None] = mapped_column(String(255), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # applied (a handler ran), ignored (no handler for the type), abandoned (deferred too long)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"          # waiting for the transfer job
    TRANSFERRING = "transferring"  # claimed by a transfer job, Stripe being called
    TRANSFERRED = "transferred"  # a Stripe Transfer was made
    ACCRUED = "accrued"          # owed, but the seller has no connected account yet
    FAILED = "failed"            # Stripe refused the transfer; needs a human
    CANCELLED = "cancelled"      # refunded to the buyer before it was transferred


class PayoutAccount(db.Model):
    """A seller's Stripe Connect account (``acct_...``), where payouts are transferred."""

    __tablename__ = "payout_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    stripe_account_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Payout(db.Model):
    """What a seller is owed for one trade (minor units), and how far paying it has got.

    ``trade_id`` has no foreign key (payouts are also made by tests and tools for trades
    that are not rows). ``source_charge_id`` is the buyer's charge: the transfer is tied to its
    funds (``source_transaction``), so it does not wait for the platform's available balance.
    """

    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_seller_id_id", "seller_id", "id"),
        Index("ix_payouts_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.PENDING.value)
    stripe_transfer_id: Mapped[str | None] = mapped_column(String(255), default=None)
    source_charge_id: Mapped[str | None] = mapped_column(String(255), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
