"""In-app notifications: written from domain events by the outbox, read in pages.

``on_event`` (subscribed to ``core.events``) runs inside the drain transaction that applies
the event: for each person concerned it reads their preference for the kind, writes the
notification (unique per event and person: a replay writes nothing), adds it to their
real-time stream and queues an email (``core.mail``) when they want one. All of it commits
with the outbox record being marked processed, so it happens exactly once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.core import mail, outbox, realtime
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import NotFound
from marketplace.core.events import Event
from marketplace.core.http import pagination
from marketplace.notifications import catalog
from marketplace.notifications.models import Notification, NotificationSetting


def notify(user_id: int, kind: str, title: str, body: str = "", *,
           event_id: int | None = None, data: dict[str, Any] | None = None) -> Notification:
    note = Notification(user_id=user_id, kind=kind, title=title, body=body,
                        event_id=event_id, data=data, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    realtime.record(user_id, "notification", {
        "id": note.id, "kind": kind, "title": title, "body": body, "data": data,
        "created_at": note.created_at.isoformat()})
    return note


def channels(user_id: int, kind: str) -> dict[str, bool]:
    row = db.session.get(NotificationSetting, (user_id, kind))
    if row is None:
        return catalog.defaults(kind)
    return {"in_app": row.in_app, "email": row.email, "push": row.push}


def on_event(event: Event) -> None:
    if event.kind not in catalog.KINDS or not event.users:
        return
    done = set(db.session.scalars(select(Notification.user_id).where(
        Notification.event_id == event.id)))
    done |= _closed(event.users)  # (nobody reads them; an email would go to .invalid)
    title, body = catalog.render(event.kind, event.data)
    for user_id in event.users:
        if user_id in done:
            continue
        wanted = channels(user_id, event.kind)
        if wanted["in_app"]:
            notify(user_id, event.kind, title, body, event_id=event.id, data=event.data)
        if wanted["email"]:
            user = db.session.get(User, user_id)
            if user is not None:
                text = catalog.EMAIL_INSTEAD.get(event.kind, body)
                mail.queue_email(user.email, f"Reloop: {title}",
                                 f"Hello {user.display_name},\n\n{text}\n\n"
                                 "Change which emails you get in your notification settings.")


def page_for_user(user_id: int, limit: int, cursor: str | None,
                  unread_only: bool = False) -> dict[str, Any]:
    """The user's notifications, newest first, one page."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return pagination.id_page(query, Notification.id, limit, cursor)


def mark_read(user_id: int, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise NotFound("No such notification.")
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    return note


def mark_all_read(user_id: int) -> dict[str, int]:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(
        read_at=utcnow()))
    db.session.commit()
    return {"marked": result.rowcount or 0}


def settings(user_id: int) -> dict[str, Any]:
    rows = {r.kind: r for r in db.session.scalars(select(NotificationSetting).where(
        NotificationSetting.user_id == user_id))}
    return {"kinds": [{"kind": kind, **({"in_app": rows[kind].in_app, "email": rows[kind].email,
                                         "push": rows[kind].push} if kind in rows
                                        else catalog.defaults(kind))}
                      for kind in catalog.KINDS]}


def update_settings(user_id: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Set the channels of the kinds given (others keep theirs)."""
    for item in items:
        current = channels(user_id, item["kind"])
        current.update({k: item[k] for k in ("in_app", "email", "push") if k in item})
        row = db.session.get(NotificationSetting, (user_id, item["kind"]))
        if row is None:
            db.session.add(NotificationSetting(user_id=user_id, kind=item["kind"], **current))
        else:
            row.in_app, row.email, row.push = current["in_app"], current["email"], current["push"]
    db.session.commit()
    return settings(user_id)


def _closed(user_ids: Any) -> set[int]:
    """Those of ``user_ids`` whose account is closed: they get no notification nor email."""
    return set(db.session.scalars(select(User.id).where(
        User.id.in_(sorted(set(user_ids))), User.closed_at.is_not(None))))


def welcome(message: outbox.OutboxMessage) -> None:
    user_id = message.payload["user_id"]
    if _closed([user_id]) or db.session.scalar(select(Notification.id).where(
            Notification.user_id == user_id, Notification.kind == "welcome")) is not None:
        return
    notify(
        user_id, "welcome", "Welcome to Reloop",
        "Every used device you buy or sell here counts the carbon its resale saves. "
        "Your personal carbon account fills up with each completed trade.",
    )
