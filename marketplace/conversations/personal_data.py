"""Conversations' share of data export and erasure (``core.personal_data``).

The export holds the user's conversations (ids, listing, role, dates) and the messages the
user wrote; the other participant's messages are theirs, not the user's, and stay out.
Erasure replaces the text of the user's messages (the other participant keeps the thread, with
"removed" in their place) and deletes the user's blocks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from marketplace.conversations.models import Conversation, Message, UserBlock
from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts

REMOVED = "[removed: the author closed their account]"


def export(user_id: int) -> dict[str, Any]:
    conversations = db.session.scalars(select(Conversation).where(
        or_(Conversation.buyer_id == user_id, Conversation.seller_id == user_id))
        .order_by(Conversation.id))
    messages = db.session.scalars(select(Message).where(Message.sender_id == user_id)
                                  .order_by(Message.id))
    blocks = db.session.scalars(select(UserBlock).where(UserBlock.blocker_id == user_id))
    return {"conversations": as_dicts(conversations), "messages_written": as_dicts(messages),
            "blocks": as_dicts(blocks)}


def erase(user_id: int) -> None:
    db.session.execute(update(Message).where(Message.sender_id == user_id)
                       .values(body=REMOVED, flagged=False))
    db.session.execute(delete(UserBlock).where(UserBlock.blocker_id == user_id))
