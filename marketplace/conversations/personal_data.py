"""Conversations' share of data export and erasure (``core.personal_data``).

The export holds the user's conversations (ids, listing, role, dates) and the messages the
user wrote; the other participant's messages are theirs, not the user's, and stay out.
Erasure replaces the text of the user's messages (the other participant keeps the thread, with
"removed" in their place), in the thread and in its copies: the messages in both participants'
real-time streams and the ``message.received`` events announcing them (the outbox keeps
processed events; their sender name and preview are replaced as in the app, ids stay). It
deletes the user's blocks. The notifications' own copies are the notifications feature's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from marketplace.conversations.models import Conversation, Message, UserBlock
from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.personal_data import REMOVED_TEXT, SCRUBBED_SENDER, as_dicts
from marketplace.core.realtime import StreamEvent


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
                       .values(body=REMOVED_TEXT, flagged=False))
    db.session.execute(delete(UserBlock).where(UserBlock.blocker_id == user_id))
    streamed = StreamEvent.payload["sender_id"].as_integer()
    for row in db.session.scalars(select(StreamEvent).where(
            StreamEvent.kind == "message", streamed == user_id)):
        row.payload = {**row.payload, "body": REMOVED_TEXT, "flagged": False}
    # (A scan of the events topic: closing an account is rare, the outbox large but linear.)
    announced = OutboxMessage.payload[("data", "sender_id")].as_integer()
    for record in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == events.TOPIC, announced == user_id,
            OutboxMessage.payload["kind"].as_string() == "message.received")):
        data = dict(record.payload.get("data") or {})
        data.update({k: v for k, v in SCRUBBED_SENDER.items() if k in data})
        record.payload = {**record.payload, "data": data}
