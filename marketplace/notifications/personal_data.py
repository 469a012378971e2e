"""The notifications feature's share of data export, erasure and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.personal_data import as_dicts
from marketplace.notifications.models import Notification

# Kinds whose text quotes another person (their name and words): exported without it, as
# the conversations export leaves out the other participant's messages.
QUOTES_OTHERS = {"message.received"}
WITHHELD = "(another member's message: not part of your data)"


def export(user_id: int) -> list[dict[str, Any]]:
    rows = as_dicts(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id).order_by(Notification.id)))
    for row in rows:
        if row.get("kind") in QUOTES_OTHERS:
            row.update(title=WITHHELD, body="", data={
                k: v for k, v in (row.get("data") or {}).items() if k.endswith("_id")})
    return rows


def erase(user_id: int) -> None:
    db.session.execute(delete(Notification).where(Notification.user_id == user_id))


def purge(older_than: timedelta) -> int:
    """Delete notifications older than ``older_than`` (the retention job); commits."""
    result = db.session.execute(delete(Notification).where(
        Notification.created_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount or 0
