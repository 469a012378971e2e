"""aggregated threshold rewards: one reward row per credit, rule and user, with the number of
thresholds crossed (units), their grams, and partial revocation (status partly_revoked)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:00:00

``incentive_rewards.status`` is a plain VARCHAR(16) with no check constraint (0006), so the new
status value ``partly_revoked`` needs no schema change.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incentive_rewards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units", sa.Integer(), server_default=sa.text("1"),
                                      nullable=False))
        batch_op.add_column(sa.Column("first_g", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_g", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("step_g", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("skipped_g", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("revoked_units", sa.Integer(),
                                      server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("revoked_points", sa.BigInteger(),
                                      server_default=sa.text("0"), nullable=False))


def downgrade():
    with op.batch_alter_table("incentive_rewards", schema=None) as batch_op:
        for name in ("revoked_points", "revoked_units", "skipped_g", "step_g", "last_g",
                     "first_g", "units"):
            batch_op.drop_column(name)
