"""outbox drains: available_at (backoff), partition_key, claim index; enqueued_at dropped

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:40:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.core.dbtypes

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("available_at", marketplace.core.dbtypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("partition_key", sa.SmallInteger(), nullable=True))
        batch_op.drop_column("enqueued_at")
        batch_op.create_index("ix_outbox_messages_due", ["topic", "partition_key", "id"],
                              unique=False,
                              postgresql_where=sa.text("processed_at IS NULL"),
                              sqlite_where=sa.text("processed_at IS NULL"))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_due",
                            postgresql_where=sa.text("processed_at IS NULL"),
                            sqlite_where=sa.text("processed_at IS NULL"))
        batch_op.add_column(sa.Column("enqueued_at", marketplace.core.dbtypes.UTCDateTime(),
                                      nullable=True))
        batch_op.drop_column("partition_key")
        batch_op.drop_column("available_at")
