"""The audit log: who did what to which object, for administrative and security actions.

Append-only. Features call ``record(...)`` inside the transaction that makes the change, so an
entry exists if and only if the change committed. Entries name objects by type and id and hold
no personal data beyond the actor's and subject's ids (erasure leaves ids that no longer lead to
a person).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # None: the system
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(action: str, subject_type: str, subject_id: int | str, *,
           actor_id: int | None = None, details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (does not commit)."""
    entry = AuditEntry(actor_id=actor_id, action=action, subject_type=subject_type,
                       subject_id=str(subject_id), details=details or {})
    db.session.add(entry)
    return entry
