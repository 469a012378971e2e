"""Fulfilment (issue 15): address book, listing shipping price and local pickup, trade
fulfilment columns, shipments and tracking events, handover codes, Connect onboardings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
POLLED = "tracked AND status IN ('in_transit', 'exception')"


def upgrade():
    op.create_table(
        "addresses",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_addresses_user_id_id", "addresses", ["user_id", "id"])
    op.create_index("uq_addresses_user_default", "addresses", ["user_id"], unique=True,
                    postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default"))

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_amount", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("local_pickup", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))

    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfilment", sa.String(16), nullable=False,
                                      server_default="shipping"))
        batch_op.add_column(sa.Column("shipping_amount", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("shipping_address", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pickup_city", sa.String(100), nullable=True))

    op.create_table(
        "shipments",
        sa.Column("id", ID, primary_key=True),
        sa.Column("trade_id", ID, sa.ForeignKey("trades.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("tracking_number", sa.String(128), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("next_poll_at", TS, nullable=True),
        sa.Column("last_polled_at", TS, nullable=True),
        sa.Column("poll_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_shipments_next_poll_at", "shipments", ["next_poll_at"],
                    postgresql_where=sa.text(POLLED), sqlite_where=sa.text(POLLED))
    op.create_table(
        "shipment_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("shipment_id", ID,
                  sa.ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("location", sa.String(100), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("shipment_id", "occurred_at", "status",
                            name="uq_shipment_events_shipment_at_status"),
    )
    op.create_table(
        "trade_handovers",
        sa.Column("trade_id", ID, sa.ForeignKey("trades.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "payout_onboardings",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("stripe_account_id", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
    )
    op.create_index("ix_payout_onboardings_user_id", "payout_onboardings", ["user_id"])


def downgrade():
    op.drop_table("payout_onboardings")
    op.drop_table("trade_handovers")
    op.drop_table("shipment_events")
    op.drop_table("shipments")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_column("pickup_city")
        batch_op.drop_column("shipping_address")
        batch_op.drop_column("shipping_amount")
        batch_op.drop_column("fulfilment")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("local_pickup")
        batch_op.drop_column("shipping_amount")
    op.drop_table("addresses")
