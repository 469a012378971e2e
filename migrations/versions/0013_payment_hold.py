"""trades.payment_hold: a payment that does not match its trade, held for an admin

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trades") as batch:
        batch.add_column(sa.Column("payment_hold", sa.String(255), nullable=True))


def downgrade():
    with op.batch_alter_table("trades") as batch:
        batch.drop_column("payment_hold")
