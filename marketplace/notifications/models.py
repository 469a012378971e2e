"""In-app notifications, written by background jobs from outbox records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def notify(user_id: int, kind: str, title: str, body: str = "") -> Notification:
    note = Notification(user_id=user_id, kind=kind, title=title, body=body)
    db.session.add(note)
    return note


def for_user(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def welcome(message: outbox.OutboxMessage) -> None:
    notify(
        message.payload["user_id"], "welcome", "Welcome to Reloop",
        "Every used device you buy or sell here counts the carbon its resale saves. "
        "Your personal carbon account fills up with each completed trade.",
    )
