"""Moderation's share of data export and erasure (``core.personal_data``).

A report's personal content is its ``reason``: the reporter's free text, often about the
person reported. Its ids (reporter, subject), status and resolution are the record that admin
actions and the audit log refer to (``report.resolved``, a suspension's ``report_id``).

- **Export**: the reports the user wrote, as the user sees them through the API (without the
  id of the admin who resolved them). Reports about the user are the reporters' and stay out.
- **Erasure of the reporter**: every report they wrote loses its reason (a placeholder), open
  or resolved, and keeps the rest. An open one stays in the queue: what it points at may
  still need an admin (someone reporting harassment may leave because of it), and an admin
  already looking at it can still resolve it. A resolved one stays the record its audit
  entries and suspensions name.
- **Erasure of the subject** (reports of the user, of their listings or of their messages):
  open ones are kept as they are, reason included, until an admin resolves them (fraud or
  harassment may still have to be acted on or passed on after the account closed); resolved
  ones, and open ones once resolved (``forget_closed_subject``), lose the reason: the decision
  is made and nothing needs the reporter's words about someone who has left. The subject's
  own content is erased by its feature (listings, messages); a report holds no copy of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from marketplace.accounts.models import User
from marketplace.conversations.models import Message
from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.listings.models import Listing
from marketplace.moderation.models import Report, ReportStatus

REPORTER_CLOSED = "[removed: the reporter closed their account]"
SUBJECT_CLOSED = "[removed: the reported account was closed]"


def export(user_id: int) -> list[dict[str, Any]]:
    """The reports the user wrote (subject ids, reason, status, resolution, times)."""
    return as_dicts(db.session.scalars(select(Report).where(Report.reporter_id == user_id)
                                       .order_by(Report.id)), exclude=("resolved_by",))


def _about(user_id: int) -> ColumnElement[bool]:
    """Reports of the user, of a listing they sell or of a message they sent."""
    return or_(Report.user_id == user_id,
               Report.listing_id.in_(select(Listing.id).where(Listing.seller_id == user_id)),
               Report.message_id.in_(select(Message.id).where(Message.sender_id == user_id)))


def erase(user_id: int) -> None:
    db.session.execute(update(Report).where(Report.reporter_id == user_id)
                       .values(reason=REPORTER_CLOSED))
    db.session.execute(update(Report).where(
        _about(user_id), Report.reporter_id != user_id,
        Report.status == ReportStatus.RESOLVED.value).values(reason=SUBJECT_CLOSED))


def _subject_owner(row: Report) -> int | None:
    if row.user_id is not None:
        return row.user_id
    if row.listing_id is not None:
        return db.session.scalar(select(Listing.seller_id).where(Listing.id == row.listing_id))
    return db.session.scalar(select(Message.sender_id).where(Message.id == row.message_id))


def forget_closed_subject(row: Report) -> None:
    """A report being resolved whose subject's account is closed loses its reason (as the
    resolved ones did at the closure), unless its reporter's closure replaced it already."""
    owner = _subject_owner(row)
    if row.reason != REPORTER_CLOSED and owner is not None and db.session.scalar(
            select(User.closed_at).where(User.id == owner)) is not None:
        row.reason = SUBJECT_CLOSED
