"""incentive_evaluations: drop the unused (user_id, counterparty_id, occurred_at) index

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 05:10:00

Every query of ``incentive_evaluations`` by user is served by
``ix_incentive_evaluations_user_time`` (it bounds ``occurred_at`` by the anti-gaming window,
read whole and checked per counterparty in Python, or with a streak rule reads all of the
user's evaluations); the pair index was never used and cost one more index insertion per
evaluation (two per trade).

Downgrade: the index is built again.

"""
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_incentive_evaluations_user_pair", table_name="incentive_evaluations")


def downgrade():
    op.create_index("ix_incentive_evaluations_user_pair", "incentive_evaluations",
                    ["user_id", "counterparty_id", "occurred_at"], unique=False)
