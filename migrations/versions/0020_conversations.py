"""conversations, messages, blocks, reports; notification events and settings; the real-time
stream log; outbound webhooks; voucher expiry reminders

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _user_fk(name, nullable=False, ondelete="CASCADE"):
    return sa.Column(name, ID, sa.ForeignKey("users.id", ondelete=ondelete),
                     nullable=nullable)


def upgrade():
    op.create_table(
        "conversations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("listing_id", ID,
                  sa.ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
        _user_fk("buyer_id"),
        _user_fk("seller_id"),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", TS, nullable=True),
        sa.Column("buyer_read_id", sa.BigInteger(), nullable=False),
        sa.Column("seller_read_id", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("listing_id", "buyer_id", name="uq_conversations_listing_buyer"),
    )
    op.create_index("ix_conversations_buyer_activity", "conversations",
                    ["buyer_id", "last_message_id"])
    op.create_index("ix_conversations_seller_activity", "conversations",
                    ["seller_id", "last_message_id"])
    op.create_table(
        "messages",
        sa.Column("id", ID, primary_key=True),
        sa.Column("conversation_id", ID,
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        _user_fk("sender_id", nullable=True, ondelete="SET NULL"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_table(
        "user_blocks",
        sa.Column("blocker_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("blocked_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    with op.batch_alter_table("reports") as batch:  # reports of a message (moderation)
        batch.add_column(sa.Column("message_id", ID, nullable=True))
        batch.create_foreign_key("fk_reports_message_id_messages", "messages", ["message_id"],
                                 ["id"], ondelete="CASCADE")
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("event_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("data", sa.JSON(), nullable=True))
    op.create_index("uq_notifications_event_user", "notifications", ["event_id", "user_id"],
                    unique=True)
    op.create_table(
        "notification_settings",
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "stream_events",
        sa.Column("id", ID, primary_key=True),
        _user_fk("user_id"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_stream_events_user_id_id", "stream_events", ["user_id", "id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", ID, primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("endpoint_id", ID, sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_webhook_deliveries_endpoint_id_id", "webhook_deliveries",
                    ["endpoint_id", "id"])
    op.create_index("uq_webhook_deliveries_endpoint_event", "webhook_deliveries",
                    ["endpoint_id", "event_id"], unique=True)
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    with op.batch_alter_table("vouchers") as batch:
        batch.add_column(sa.Column("reminded_at", TS, nullable=True))


def downgrade():
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_column("reminded_at")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("stream_events")
    op.drop_table("notification_settings")
    op.drop_index("uq_notifications_event_user", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("data")
        batch.drop_column("event_id")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("fk_reports_message_id_messages", type_="foreignkey")
        batch.drop_column("message_id")
    op.drop_table("user_blocks")
    op.drop_table("messages")
    op.drop_table("conversations")
