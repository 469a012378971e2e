"""Request and response schemas of conversations, messages and blocks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import PageArgsSchema


class MessageSchema(ma.Schema):
    id = ma.fields.Integer()
    conversation_id = ma.fields.Integer()
    sender_id = ma.fields.Integer(allow_none=True,
                                  metadata={"description": "null for a system message"})
    kind = ma.fields.String(metadata={"description": "text | system"})
    body = ma.fields.String()
    flagged = ma.fields.Boolean(metadata={
        "description": "contact details or payment links were masked (before payment)"})
    event_kind = ma.fields.String(allow_none=True, metadata={
        "description": "for system messages: the event, e.g. offer.received, trade.paid"})
    created_at = ma.fields.AwareDateTime()


class ConversationSchema(ma.Schema):
    id = ma.fields.Integer(attribute="conversation.id")
    listing_id = ma.fields.Integer(attribute="conversation.listing_id")
    listing_title = ma.fields.String()
    buyer_id = ma.fields.Integer(attribute="conversation.buyer_id")
    seller_id = ma.fields.Integer(attribute="conversation.seller_id")
    role = ma.fields.String(metadata={
        "enum": ["buyer", "seller", "admin"],
        "description": "the caller's side (admin: an admin reading, not a participant)"})
    unread_count = ma.fields.Integer()
    last_message = ma.fields.Nested(MessageSchema, allow_none=True)
    last_message_at = ma.fields.AwareDateTime(attribute="conversation.last_message_at",
                                              allow_none=True)
    paid = ma.fields.Function(lambda s: s["conversation"].paid_at is not None, metadata={
        "description": "a trade between them is paid: contact details are no longer masked"})
    created_at = ma.fields.AwareDateTime(attribute="conversation.created_at")


class PostMessageSchema(ma.Schema):
    # The spec's maxLength is the configured MESSAGE_MAX_CHARS (conversations.wiring); the
    # service checks it on the stripped text.
    body = ma.fields.String(required=True, validate=validate.Length(min=1, max=10_000),
                            metadata={"description": "Text, at most MESSAGE_MAX_CHARS "
                                                     "characters (this server's maxLength)."})


class ReadMarkerSchema(ma.Schema):
    up_to = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=2**62),
                              metadata={"description": "Last message read (default: all)."})


class BlockSchema(ma.Schema):
    blocked_id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


ConversationArgsSchema = PageArgsSchema
