"""uploads, device identities and passports, data wipes; listings.photo_uploads and device

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
LIVE_DEVICE = "device_identity_id IS NOT NULL AND status IN ('active', 'reserved')"


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
    op.create_table(
        "device_identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("stolen_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_identities")),
        sa.UniqueConstraint("digest", name=op.f("uq_device_identities_digest")),
    )
    op.create_table(
        "device_passport_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("identity_id", ID, nullable=False),
        sa.Column("trade_id", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", TS, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("avoided_g", sa.BigInteger(), nullable=False),
        sa.Column("age_years", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["device_identities.id"],
                                name=op.f("fk_device_passport_entries_identity_id_device_identities"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_passport_entries")),
        sa.UniqueConstraint("trade_id", name=op.f("uq_device_passport_entries_trade_id")),
    )
    op.create_index("ix_device_passport_entries_identity_id", "device_passport_entries",
                    ["identity_id", "id"])
    op.create_table(
        "data_wipes",
        sa.Column("trade_id", ID, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("wiped_on", sa.Date(), nullable=False),
        sa.Column("certificate_ref", sa.String(200), nullable=True),
        sa.Column("declared_at", TS, nullable=False),
        sa.Column("buyer_answer", sa.String(16), nullable=True),
        sa.Column("buyer_note", sa.Text(), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["trade_id"], ["trades.id"], name=op.f("fk_data_wipes_trade_id_trades"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_data_wipes")),
    )
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("photo_uploads", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("device_identity_id", ID, nullable=True))
        batch.add_column(sa.Column("device_identity_kind", sa.String(8), nullable=True))
        batch.add_column(sa.Column("previous_owners", sa.Integer(), nullable=False,
                                   server_default=sa.text("0")))
        batch.create_foreign_key(op.f("fk_listings_device_identity_id_device_identities"),
                                 "device_identities", ["device_identity_id"], ["id"],
                                 ondelete="SET NULL")
    op.create_index("uq_listings_live_device", "listings", ["device_identity_id"], unique=True,
                    postgresql_where=sa.text(LIVE_DEVICE), sqlite_where=sa.text(LIVE_DEVICE))


def downgrade():
    op.drop_index("uq_listings_live_device", table_name="listings")
    with op.batch_alter_table("listings") as batch:
        batch.drop_constraint(op.f("fk_listings_device_identity_id_device_identities"),
                              type_="foreignkey")
        batch.drop_column("previous_owners")
        batch.drop_column("device_identity_kind")
        batch.drop_column("device_identity_id")
        batch.drop_column("photo_uploads")
    op.drop_table("data_wipes")
    op.drop_table("device_passport_entries")
    op.drop_table("device_identities")
    op.drop_table("uploads")
