"""Reports: a user flags a listing, a user or a message for an admin to look at."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class ReportStatus(enum.StrEnum):
    OPEN = "open"          # sorts before "resolved": the admin queue's order
    RESOLVED = "resolved"


_OPEN = "status = 'open'"


def _one_open(column: str) -> Index:
    """One open report per reporter and subject: the service's 409 comes first, this is the
    guarantee under concurrency (a row whose ``column`` is NULL never clashes)."""
    return Index(f"uq_reports_open_{column.removesuffix('_id')}", "reporter_id", column,
                 unique=True, postgresql_where=text(_OPEN), sqlite_where=text(_OPEN))


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_id", "status", "id"),
        Index("ix_reports_reporter_id_id", "reporter_id", "id"),
        _one_open("listing_id"),
        _one_open("user_id"),
        _one_open("message_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(16))  # listing, user, message
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                default=None)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), default=None)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN.value)
    # actioned (a suspension named it) or dismissed
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)
    resolution_note: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def subject_id(self) -> int | None:
        """The id of what the report is about (a listing, user or message: ``subject_type``);
        exactly one of the three columns is set."""
        return self.listing_id or self.user_id or self.message_id
