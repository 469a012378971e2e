"""Conversations: open (or reuse), list mine, read and post messages, read markers, reports.

Only the two participants see a conversation (admins too, to handle a report); anyone else
gets 404, as if it did not exist. Posting checks the block list and the per-user rate limit
(``MESSAGE_LIMIT_PER_USER``, in the view), screens contact details until a trade is paid,
moves the conversation up the recipient's list, adds the message to both participants'
real-time streams and publishes ``message.received`` (a notification) in one transaction.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.conversations import blocking, screening
from marketplace.conversations.models import Conversation, Message
from marketplace.core import events, realtime
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput, NotFound
from marketplace.core.http import cursors
from marketplace.core.http.pagination import id_page
from marketplace.listings import visibility as listing_visibility
from marketplace.listings.models import Listing


def _find(listing_id: int, buyer_id: int) -> Conversation | None:
    return db.session.scalars(select(Conversation).where(
        Conversation.listing_id == listing_id, Conversation.buyer_id == buyer_id)).first()


def open_conversation(listing_id: int, buyer: User) -> tuple[Conversation, bool]:
    """The buyer's conversation about the listing, created if needed; ``(it, created)``."""
    listing = listing_visibility.get_visible(listing_id, buyer)
    if listing.seller_id == buyer.id:
        raise Conflict("You cannot open a conversation about your own listing.")
    existing = _find(listing.id, buyer.id)
    if existing is not None:
        return existing, False
    blocking.ensure_not_blocked(buyer.id, listing.seller_id, "message this seller")
    conv = Conversation(listing_id=listing.id, buyer_id=buyer.id, seller_id=listing.seller_id)
    db.session.add(conv)
    try:
        db.session.commit()
    except IntegrityError:  # opened concurrently: take theirs
        db.session.rollback()
        return _find(listing.id, buyer.id), False
    return conv, True


def for_event(listing_id: int, buyer_id: int, seller_id: int) -> Conversation:
    """The conversation of a listing's buyer, created for a system message (no commit)."""
    conv = _find(listing_id, buyer_id)
    if conv is None:
        conv = Conversation(listing_id=listing_id, buyer_id=buyer_id, seller_id=seller_id)
        db.session.add(conv)
        db.session.flush()
    return conv


def get_visible(conversation_id: int, user: User) -> Conversation:
    conv = db.session.get(Conversation, conversation_id)
    if conv is None or not (user.id in (conv.buyer_id, conv.seller_id) or user.is_admin):
        raise NotFound("No such conversation.")
    return conv


def _unread(user_id: int):
    read = case((Conversation.buyer_id == user_id, Conversation.buyer_read_id),
                else_=Conversation.seller_read_id)
    return (select(func.count(Message.id)).where(
        Message.conversation_id == Conversation.id, Message.id > read,
        or_(Message.sender_id.is_(None), Message.sender_id != user_id))
        .correlate(Conversation).scalar_subquery())


def _activity_cursor(raw: Any) -> int:
    return cursors.as_int(raw)


def list_mine(user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's conversations, newest activity first, with unread counts."""
    query = (select(Conversation, _unread(user.id).label("unread"), Listing.title)
             .join(Listing, Listing.id == Conversation.listing_id)
             .where(or_(Conversation.buyer_id == user.id, Conversation.seller_id == user.id)))
    if cursor:
        activity, last_id = cursors.decode(cursor, _activity_cursor)
        query = query.where(or_(Conversation.last_message_id < activity,
                                and_(Conversation.last_message_id == activity,
                                     Conversation.id < last_id)))
    rows = db.session.execute(query.order_by(Conversation.last_message_id.desc(),
                                             Conversation.id.desc()).limit(limit + 1)).all()
    items = [_summary(conv, user.id, unread, title) for conv, unread, title in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return {"items": items,
            "next_cursor": cursors.encode(last.last_message_id, last.id) if last else None}


def _summary(conv: Conversation, user_id: int, unread: int, title: str) -> dict[str, Any]:
    last = db.session.get(Message, conv.last_message_id) if conv.last_message_id else None
    return {"conversation": conv, "unread_count": unread, "listing_title": title,
            "role": _role(conv, user_id), "last_message": last}


def _role(conv: Conversation, user_id: int) -> str:
    """The caller's side; "admin" for an admin reading a conversation they are not in."""
    if user_id == conv.buyer_id:
        return "buyer"
    return "seller" if user_id == conv.seller_id else "admin"


def view(conversation_id: int, user: User) -> dict[str, Any]:
    conv = get_visible(conversation_id, user)
    unread = db.session.scalar(select(_unread(user.id)).where(Conversation.id == conv.id))
    title = db.session.scalar(select(Listing.title).where(Listing.id == conv.listing_id))
    return _summary(conv, user.id, unread or 0, title)


def messages(conversation_id: int, user: User, limit: int, cursor: str | None
             ) -> dict[str, Any]:
    """A page of the conversation's messages, newest first."""
    conv = get_visible(conversation_id, user)
    return id_page(select(Message).where(Message.conversation_id == conv.id), Message.id,
                   limit, cursor)


def _add(conv: Conversation, sender_id: int | None, body: str, *, kind: str = "text",
         flagged: bool = False, event_kind: str | None = None,
         event_id: int | None = None) -> Message:
    now = utcnow()
    msg = Message(conversation_id=conv.id, sender_id=sender_id, kind=kind, body=body,
                  flagged=flagged, event_kind=event_kind, event_id=event_id, created_at=now)
    db.session.add(msg)
    db.session.flush()
    # Conditional: concurrent posts leave the highest id (activity order never goes back).
    db.session.execute(update(Conversation).where(
        Conversation.id == conv.id, Conversation.last_message_id < msg.id).values(
        last_message_id=msg.id, last_message_at=now))
    if sender_id is not None:
        column = "buyer_read_id" if sender_id == conv.buyer_id else "seller_read_id"
        db.session.execute(update(Conversation).where(
            Conversation.id == conv.id, getattr(Conversation, column) < msg.id).values(
            **{column: msg.id}))
    payload = {"conversation_id": conv.id, "listing_id": conv.listing_id, "id": msg.id,
               "sender_id": sender_id, "kind": kind, "body": body, "flagged": flagged,
               "created_at": now.isoformat()}
    for user_id in (conv.buyer_id, conv.seller_id):
        realtime.record(user_id, "message", payload)
    return msg


def post(conversation_id: int, user: User, body: str) -> Message:
    conv = get_visible(conversation_id, user)
    if user.id not in (conv.buyer_id, conv.seller_id):
        raise NotFound("No such conversation.")  # an admin reads, never writes
    text = body.strip()
    limit = int(current_app.config["MESSAGE_MAX_CHARS"])
    if not text or len(text) > limit:
        msg = f"Between 1 and {limit} characters."
        raise InvalidInput("The message is empty or too long.", {"body": [msg]})
    other = conv.other(user.id)
    if db.session.scalar(select(User.closed_at).where(User.id == other)) is not None:
        raise Conflict("The other member closed their account: the conversation is over.")
    blocking.ensure_not_blocked(user.id, other, "message this user")
    flagged = False
    if conv.paid_at is None:
        text, flagged = screening.screen(text)
    msg = _add(conv, user.id, text, flagged=flagged)
    events.publish("message.received", [other], {
        "conversation_id": conv.id, "listing_id": conv.listing_id, "message_id": msg.id,
        "sender_id": user.id, "sender_name": user.display_name, "preview": text[:140]})
    db.session.commit()
    return msg


def system_message(conv: Conversation, body: str, event_kind: str, event_id: int) -> None:
    """A system line in the thread for an event (no commit; once per event id)."""
    if db.session.scalar(select(Message.id).where(Message.event_id == event_id)) is None:
        _add(conv, None, body, kind="system", event_kind=event_kind, event_id=event_id)


def mark_read(conversation_id: int, user: User, up_to: int | None) -> dict[str, Any]:
    """Move the caller's read marker to ``up_to`` (default: the newest message)."""
    conv = get_visible(conversation_id, user)
    if user.id not in (conv.buyer_id, conv.seller_id):
        raise NotFound("No such conversation.")
    target = conv.last_message_id if up_to is None else min(up_to, conv.last_message_id)
    column = "buyer_read_id" if user.id == conv.buyer_id else "seller_read_id"
    db.session.execute(update(Conversation).where(
        Conversation.id == conv.id, getattr(Conversation, column) < target).values(
        **{column: target}))
    db.session.commit()
    return view(conv.id, user)


def reportable_message(message_id: int, user: User) -> Message:
    """The message ``user`` may report (one the other participant sent them): for the
    moderation feature's ``POST /reports``. 404 when they cannot see it, 409 for their own."""
    msg = db.session.get(Message, message_id)
    if msg is None:
        raise NotFound("No such message.")
    conv = get_visible(msg.conversation_id, user)
    if user.id not in (conv.buyer_id, conv.seller_id) or msg.sender_id in (None, user.id):
        raise Conflict("You can only report a message the other participant sent you.")
    return msg


def mark_paid(listing_id: int, buyer_id: int) -> None:
    """A trade between them was paid: stop masking contact details (no commit)."""
    db.session.execute(update(Conversation).where(
        Conversation.listing_id == listing_id, Conversation.buyer_id == buyer_id,
        Conversation.paid_at.is_(None)).values(paid_at=utcnow()))


def user_exists(user_id: int) -> bool:
    return db.session.get(User, user_id) is not None
