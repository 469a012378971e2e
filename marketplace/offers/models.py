"""Offers on listings: a buyer's offer, or a seller's counter-offer to it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.listings.models import Listing


class OfferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    COUNTERED = "countered"
    EXPIRED = "expired"


class OfferKind(enum.StrEnum):
    OFFER = "offer"      # made by the buyer; the seller answers
    COUNTER = "counter"  # made by the seller in answer to an offer; the buyer answers


class Offer(db.Model):
    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_listing_id_status", "listing_id", "status"),
        Index("ix_offers_buyer_id_id", "buyer_id", "id"),
        Index("ix_offers_seller_id_id", "seller_id", "id"),
        Index("ix_offers_pending_expires_at", "expires_at",
              postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    # The buyer of the negotiation, also on the seller's counters; the seller is denormalised
    # so "my offers as seller" needs no join.
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=OfferKind.OFFER.value)
    parent_offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("offers.id", ondelete="SET NULL"), default=None)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.PENDING.value)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    purchase_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    listing: Mapped[Listing] = relationship(lazy="joined", innerjoin=True)

    @property
    def author_id(self) -> int:
        """Who made this offer (and may withdraw it)."""
        return self.buyer_id if self.kind == OfferKind.OFFER.value else self.seller_id

    @property
    def responder_id(self) -> int:
        """Who may accept or decline it."""
        return self.seller_id if self.kind == OfferKind.OFFER.value else self.buyer_id

    def is_lapsed(self, now: datetime | None = None) -> bool:
        """Pending past its expiry (whether or not the periodic job has marked it yet)."""
        return self.status == OfferStatus.PENDING.value and self.expires_at <= (now or utcnow())

    @property
    def effective_status(self) -> str:
        return OfferStatus.EXPIRED.value if self.is_lapsed() else self.status

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.kind} {self.status} {self.amount} {self.currency}>"
