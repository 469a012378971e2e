"""payouts.source_charge_id: transfers tied to the buyer's charge

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 00:05:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_charge_id", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_column("source_charge_id")
