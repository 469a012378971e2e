"""In-app notifications: written by background jobs from outbox records, read in pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.http import pagination
from marketplace.notifications.models import Notification


def notify(user_id: int, kind: str, title: str, body: str = "") -> Notification:
    note = Notification(user_id=user_id, kind=kind, title=title, body=body)
    db.session.add(note)
    return note


def page_for_user(user_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The user's notifications, newest first, one page."""
    return pagination.id_page(select(Notification).where(Notification.user_id == user_id),
                              Notification.id, limit, cursor)


def welcome(message: outbox.OutboxMessage) -> None:
    notify(
        message.payload["user_id"], "welcome", "Welcome to Reloop",
        "Every used device you buy or sell here counts the carbon its resale saves. "
        "Your personal carbon account fills up with each completed trade.",
    )
