"""HTTP API of conversations, messages and blocks."""

from __future__ import annotations

from flask import current_app

from marketplace.conversations import blocking, services
from marketplace.conversations.schemas import (
    BlockSchema,
    ConversationSchema,
    MessageSchema,
    PostMessageSchema,
    ReadMarkerSchema,
)
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.limiter import limiter
from marketplace.core.http.pagination import PageArgsSchema, page_schema

blp = Blueprint("conversations", __name__, url_prefix="/api/v1",
                description="Conversations between buyers and sellers, and blocking")


def _message_limit() -> str:
    return current_app.config["MESSAGE_LIMIT_PER_USER"]


@blp.route("/listings/<int:listing_id>/conversations", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.response(201, ConversationSchema)
@blp.alt_response(200, schema=ConversationSchema, description="The existing conversation")
@blp.errors(403, 404, 409)
def open_conversation(listing_id):
    """Open the caller's conversation with the seller about a listing (201), or return the
    one that exists (200)."""
    conv, created = services.open_conversation(listing_id, current_user())
    return services.view(conv.id, current_user()), 201 if created else 200


@blp.route("/conversations", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(ConversationSchema))
@blp.errors(422)
def my_conversations(args):
    """The caller's conversations, newest activity first, with unread counts."""
    return services.list_mine(current_user(), args["limit"], args.get("cursor"))


@blp.route("/conversations/<int:conversation_id>", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.response(200, ConversationSchema)
@blp.errors(404)
def get_conversation(conversation_id):
    """One conversation (its two participants, and admins)."""
    return services.view(conversation_id, current_user())


@blp.route("/conversations/<int:conversation_id>/messages", methods=["GET"])
@blp.read_only()
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(MessageSchema))
@blp.errors(404, 422)
def conversation_messages(args, conversation_id):
    """The conversation's messages, newest first."""
    return services.messages(conversation_id, current_user(), args["limit"],
                             args.get("cursor"))


@blp.route("/conversations/<int:conversation_id>/messages", methods=["POST"])
@blp.auth()
@limiter.limit(_message_limit, key_func=lambda: f"message-user:{current_user().id}")
@blp.idempotent()
@blp.arguments(PostMessageSchema)
@blp.response(201, MessageSchema)
@blp.errors(403, 404, 409)
@blp.rate_limited()
def post_message(data, conversation_id):
    """Send a message. Before a trade in the conversation is paid, email addresses, phone
    numbers, IBANs and payment links are masked and the message flagged."""
    return services.post(conversation_id, current_user(), data["body"])


@blp.route("/conversations/<int:conversation_id>/read", methods=["POST"])
@blp.auth()
@blp.arguments(ReadMarkerSchema)
@blp.response(200, ConversationSchema)
@blp.errors(404, 422)
def read_conversation(data, conversation_id):
    """Mark the conversation read up to a message (default: the newest)."""
    return services.mark_read(conversation_id, current_user(), data.get("up_to"))


@blp.route("/users/me/blocks", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(BlockSchema))
@blp.errors(422)
def my_blocks(args):
    """Users the caller blocked."""
    return blocking.page(current_user().id, args["limit"], args.get("cursor"))


@blp.route("/users/me/blocks/<int:user_id>", methods=["PUT"])
@blp.auth()
@blp.response(200, BlockSchema)
@blp.errors(404, 409)
def block_user(user_id):
    """Block a user: they can no longer message you, make offers on or buy your listings."""
    return blocking.block(current_user().id, user_id, services.user_exists)


@blp.route("/users/me/blocks/<int:user_id>", methods=["DELETE"])
@blp.auth()
@blp.response(204)
def unblock_user(user_id):
    """Unblock a user (nothing happens if they were not blocked)."""
    blocking.unblock(current_user().id, user_id)
