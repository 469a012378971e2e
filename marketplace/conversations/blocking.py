"""Blocking: a user blocks another, who can then no longer message, offer on or buy from them.

``ensure_not_blocked(actor_id, owner_id, action)`` is the one check offers, trades and
conversations call before ``actor`` acts towards ``owner``; it raises 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from marketplace.conversations.models import UserBlock
from marketplace.core.db import db
from marketplace.core.errors import Conflict, Forbidden, NotFound
from marketplace.core.http.pagination import id_page


def is_blocked(blocker_id: int, blocked_id: int) -> bool:
    return db.session.get(UserBlock, (blocker_id, blocked_id)) is not None


def ensure_not_blocked(actor_id: int, owner_id: int, action: str) -> None:
    """Forbidden when ``owner`` blocked ``actor`` (``action``: e.g. "message this user")."""
    if is_blocked(owner_id, actor_id):
        raise Forbidden(f"You cannot {action}: this user has blocked you.")


def block(blocker_id: int, blocked_id: int, user_exists) -> UserBlock:
    if blocker_id == blocked_id:
        raise Conflict("You cannot block yourself.")
    if not user_exists(blocked_id):
        raise NotFound("No such user.")
    existing = db.session.get(UserBlock, (blocker_id, blocked_id))
    if existing is not None:
        return existing
    row = UserBlock(blocker_id=blocker_id, blocked_id=blocked_id)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the same block made concurrently (a double tap): PUT is idempotent
        db.session.rollback()
        existing = db.session.get(UserBlock, (blocker_id, blocked_id))
        if existing is None:
            raise
        return existing
    return row


def unblock(blocker_id: int, blocked_id: int) -> None:
    db.session.execute(delete(UserBlock).where(UserBlock.blocker_id == blocker_id,
                                               UserBlock.blocked_id == blocked_id))
    db.session.commit()


def page(blocker_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """Whom the user blocked, most recent first (by blocked user id)."""
    return id_page(select(UserBlock).where(UserBlock.blocker_id == blocker_id),
                   UserBlock.blocked_id, limit, cursor,
                   key=lambda row: row.blocked_id)
