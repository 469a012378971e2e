"""incentive_rewards without foreign keys on rule_id, rule_version_id and user_id: checking
them was a quarter of the time of a batch's reward statement (three trigger calls and row locks
per reward row; ``bench/incentives_profile.py --explain``)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 17:00:00

Rewards are written only by rule evaluation, with the rule and version of the active rules it
has just read and the users of ledger credits. Nothing deletes rules, their versions or users
(closing an account anonymises it), so the constraints guarded against nothing that happens;
``ON DELETE CASCADE`` of ``user_id`` never ran. The points lines keep theirs (points_lines →
points_transactions, points_accounts), like the carbon ledger's lines.
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_FKS = (
    ("fk_incentive_rewards_rule_id_incentive_rules", "incentive_rules", "rule_id", "RESTRICT"),
    ("fk_incentive_rewards_rule_version_id_incentive_rule_versions",
     "incentive_rule_versions", "rule_version_id", "RESTRICT"),
    ("fk_incentive_rewards_user_id_users", "users", "user_id", "CASCADE"),
)


def upgrade():
    with op.batch_alter_table("incentive_rewards", schema=None) as batch_op:
        for name, _, _, _ in _FKS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade():
    with op.batch_alter_table("incentive_rewards", schema=None) as batch_op:
        for name, table, column, ondelete in _FKS:
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete=ondelete)
