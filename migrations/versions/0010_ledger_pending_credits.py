"""ledger_pending_credits: pending shares of completed trades, read from an index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:50:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.core.dbtypes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_pending_credits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trade_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_g", sa.BigInteger(), nullable=False),
        sa.Column("created_at", marketplace.core.dbtypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_pending_credits")),
        sa.UniqueConstraint("trade_id", "user_id",
                            name="uq_ledger_pending_credits_trade_id_user_id"),
    )
    with op.batch_alter_table("ledger_pending_credits", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_pending_credits_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("ledger_pending_credits", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_pending_credits_user_id")
    op.drop_table("ledger_pending_credits")
