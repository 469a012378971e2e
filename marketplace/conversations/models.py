"""Conversations (one per listing and buyer), their messages, blocks and message reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("listing_id", "buyer_id", name="uq_conversations_listing_buyer"),
        Index("ix_conversations_buyer_activity", "buyer_id", "last_message_id"),
        Index("ix_conversations_seller_activity", "seller_id", "last_message_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Activity order: the id of the newest message (0 before any); ids only grow.
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    buyer_read_id: Mapped[int] = mapped_column(BigInteger, default=0)
    seller_read_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set when a trade between them on this listing is paid: contact details are no longer
    # masked (the off-platform payment risk is gone).
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def other(self, user_id: int) -> int:
        return self.seller_id if user_id == self.buyer_id else self.buyer_id


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(  # null: a system message
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | system
    body: Mapped[str] = mapped_column(Text)
    # Contact details or payment links were found (and masked in ``body``).
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # For system messages: the event kind (``offer.received``...), and its event id (unique).
    event_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserBlock(db.Model):
    __tablename__ = "user_blocks"

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                            primary_key=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                            primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
