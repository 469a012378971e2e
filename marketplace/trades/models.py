"""Trades, their audit trail, their refunds and their reviews."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.payments.stripe_client import trade_key


class TradeStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DISPUTED = "disputed"
    RETURN_REQUESTED = "return_requested"
    RETURNING = "returning"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


_DUE = "due_at IS NOT NULL"


class Trade(db.Model):
    __tablename__ = "trades"
    __table_args__ = (
        Index("ix_trades_buyer_id_id", "buyer_id", "id"),
        Index("ix_trades_seller_id_id", "seller_id", "id"),
        Index("ix_trades_listing_id", "listing_id"),
        Index("ix_trades_buyer_organisation_id", "buyer_organisation_id"),
        Index("ix_trades_seller_organisation_id", "seller_organisation_id"),
        # The advance job's scan: trades with a running timer, soonest first.
        Index("ix_trades_due_at", "due_at", postgresql_where=text(_DUE),
              sqlite_where=text(_DUE)),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"),
                                                 default=None)
    status: Mapped[str] = mapped_column(String(24))

    # Money, minor units. Fee: amount * PLATFORM_FEE_BPS // 10000 (rounded down).
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # A voucher's discount, borne by the platform: the buyer is charged amount - discount;
    # the fee and the seller's payable are computed on ``amount`` (see ``seller_payable``).
    voucher_code: Mapped[str | None] = mapped_column(String(32), default=None)
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0,
                                                 server_default=text("0"))

    # Fulfilment (``fulfilment.py``): ``shipping`` to ``shipping_address`` (the buyer's
    # address, copied at creation; shown to the seller once paid) for ``shipping_amount`` on
    # top of the price (paid on to the seller, no fee), or ``local_pickup`` in ``pickup_city``.
    fulfilment: Mapped[str] = mapped_column(String(16), default="shipping",
                                            server_default="shipping")
    shipping_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    pickup_city: Mapped[str | None] = mapped_column(String(100), default=None)

    # The listing's estimate, frozen at creation (kg), and the central avoided grams credited.
    footprint_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    avoided_g: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    # The organisations the buyer and the seller acted for (NULL: in person); their shares of
    # the carbon credit go to these organisations' accounts.
    buyer_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None)
    seller_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None)
    listing_title: Mapped[str] = mapped_column(String(120))

    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True,
                                                          default=None)
    client_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    charge_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # Set when a payment_intent.succeeded did not match the trade (amount or currency): the
    # payment is not applied and the trade waits for an admin (audit action
    # ``trade.payment_held``), its payment timer stopped.
    payment_hold: Mapped[str | None] = mapped_column(String(255), default=None)
    # Random per trade: Stripe idempotency keys are trade-<id>-<action>-<salt>, so an id
    # reused after a rollback (SQLite) never meets an older key.
    key_salt: Mapped[str] = mapped_column(String(16))

    carrier: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(128), default=None)
    dispute_reason: Mapped[str | None] = mapped_column(Text, default=None)

    # Deadlines; due_at is the one the current state's timer runs on (NULL: none).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    review_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def gross(self) -> int:
        """The seller's side before the fee: the price plus shipping (the fee is on the
        price only)."""
        return self.amount + (self.shipping_amount or 0)

    @property
    def amount_charged(self) -> int:
        """What the buyer pays (the PaymentIntent): the price plus shipping, less the
        voucher's discount. Refunds are at most this."""
        return self.gross - (self.discount_amount or 0)

    def at_price(self, refunded: int) -> int:
        """``refunded`` (out of what was charged) as a share of the seller's side (price plus
        shipping): a refund takes the same proportion off it (rounded down, in the seller's
        favour), so a full refund of a discounted trade leaves the seller nothing, as
        without a discount."""
        charged = self.amount_charged
        if refunded >= charged or charged <= 0:
            return self.gross if refunded > 0 else 0
        return refunded * self.gross // charged

    @property
    def seller_payable(self) -> int:
        """What the seller is owed: price plus shipping, minus fee and refunds (never below
        zero); with a discount, refunds count at their share (``at_price``)."""
        return max(0, self.gross - self.platform_fee - self.at_price(self.refunded_amount))

    def stripe_key(self, action: str, n: int | None = None) -> str:
        return f"{trade_key(self.id, action, n)}-{self.key_salt}"

    def role_of(self, user_id: int) -> str | None:
        if user_id == self.buyer_id:
            return "buyer"
        if user_id == self.seller_id:
            return "seller"
        return None

    def __repr__(self) -> str:
        return f"<Trade {self.id} {self.status} {self.amount} {self.currency}>"


class TradeEvent(db.Model):
    """The audit trail: one row per applied transition."""

    __tablename__ = "trade_events"
    __table_args__ = (Index("ix_trade_events_trade_id_id", "trade_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"))
    transition: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24), default=None)
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(16))  # buyer seller admin system stripe
    actor_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Refunds after which the buyer keeps the device (a dispute settled by a partial refund): the
# device was reused, so the trade's carbon credit is kept in full (docs/methodology.md).
REFUNDS_KEEPING_CREDIT = frozenset({"resolve_partial"})


class TradeRefund(db.Model):
    """A Stripe refund of a trade's charge, ours or made elsewhere (dashboard)."""

    __tablename__ = "trade_refunds"
    __table_args__ = (Index("ix_trade_refunds_trade_id", "trade_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"))
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    # Made after completion: reverses carbon credit and comes out of the payout.
    after_completion: Mapped[bool] = mapped_column(default=False)
    payout_reduced_by: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_borne: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("trade_id", "author_id", name="uq_reviews_trade_id_author_id"),
        Index("ix_reviews_subject_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(String(8))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Set when the review becomes public: both parties reviewed, or the window closed.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
