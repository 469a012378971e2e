"""trades: voucher_code and discount_amount (vouchers apply in trades)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voucher_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('discount_amount', sa.BigInteger(),
                                      server_default=sa.text('0'), nullable=False))


def downgrade():
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.drop_column('discount_amount')
        batch_op.drop_column('voucher_code')
