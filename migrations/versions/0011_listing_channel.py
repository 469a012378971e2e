"""listings.channel (trade route of the estimate) and footprint_extras (e-waste, materials,
credit note)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 11:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False,
                                      server_default="parcel"))
        batch_op.add_column(sa.Column("footprint_extras", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("footprint_extras")
        batch_op.drop_column("channel")
