"""uploads; listings.photo_uploads

Revision ID: 0013_h17
Revises: 0012
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0013_h17"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "uploads",
        sa.Column("id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("thumb_key", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("thumb_ready", sa.Boolean(), nullable=False),
        sa.Column("attached_type", sa.String(16), nullable=True),
        sa.Column("attached_id", sa.BigInteger(), nullable=True),
        sa.Column("unattached_since", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_uploads_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("key", name=op.f("uq_uploads_key")),
    )
    op.create_index("ix_uploads_owner_id_id", "uploads", ["owner_id", "id"])
    op.create_index("ix_uploads_unattached", "uploads", ["unattached_since"],
                    postgresql_where=sa.text("attached_type IS NULL"),
                    sqlite_where=sa.text("attached_type IS NULL"))
    op.create_index("ix_uploads_attached", "uploads", ["attached_type", "attached_id"])
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("photo_uploads", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("photo_uploads")
    op.drop_table("uploads")
