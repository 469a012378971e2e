"""Signed carbon statements, and the leaderboard opt-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import UTCDateTime, utcnow


class CarbonStatement(db.Model):
    """A statement as issued: ``payload`` is the exact JSON text signed, ``signature`` its
    Ed25519 signature (base64url) by key ``key_id``. Never changed: a later reversal or a
    revoked key shows in the status computed when it is fetched."""

    __tablename__ = "carbon_statements"
    __table_args__ = (Index("ix_carbon_statements_account_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # random, unguessable
    key_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(BigInteger)  # ledger account
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))
    net_g: Mapped[int] = mapped_column(BigInteger)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
