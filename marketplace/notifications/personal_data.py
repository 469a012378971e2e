"""The notifications feature's share of data export, erasure and retention.

Erasure deletes the user's notifications and real-time stream, and rewrites the notifications
of others that quote the user (a message's sender name and preview: ``data.sender_id``), with
their stream copies, as the thread now shows the message: "Former member: [removed ...]".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.personal_data import SCRUBBED_SENDER, as_dicts
from marketplace.core.realtime import StreamEvent
from marketplace.notifications import catalog
from marketplace.notifications.catalog import QUOTES_OTHERS
from marketplace.notifications.models import Notification

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
    db.session.execute(delete(StreamEvent).where(StreamEvent.user_id == user_id))
    quoting = Notification.data["sender_id"].as_integer()
    for note in db.session.scalars(select(Notification).where(
            Notification.kind.in_(sorted(QUOTES_OTHERS)), quoting == user_id)):
        note.data, note.title, note.body = _scrubbed(note.kind, note.data)
    streamed = StreamEvent.payload[("data", "sender_id")].as_integer()
    for row in db.session.scalars(select(StreamEvent).where(
            StreamEvent.kind == "notification", streamed == user_id)):
        data, title, body = _scrubbed(row.payload.get("kind"), row.payload.get("data"))
        row.payload = {**row.payload, "data": data, "title": title, "body": body}


def _scrubbed(kind: str | None, data: dict[str, Any] | None) -> tuple[dict, str, str]:
    """A quoting notification's data without the sender's name and words, and its text."""
    data = dict(data or {})
    data.update({k: v for k, v in SCRUBBED_SENDER.items() if k in data})
    title, body = catalog.render(kind if kind in catalog.KINDS else "message.received", data)
    return data, title, body


def purge(older_than: timedelta) -> int:
    """Delete notifications older than ``older_than`` (the retention job); commits."""
    result = db.session.execute(delete(Notification).where(
        Notification.created_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount or 0
