"""Privacy and the account lifecycle: profile fields, email verification and closure on
users; email_tokens (verification, password reset), data_exports, privacy_settings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bio", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch_op.add_column(sa.Column("email_verified_at", TS, nullable=True))
        batch_op.add_column(sa.Column("closed_at", TS, nullable=True))
    op.create_table(
        "email_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_email_tokens_token_hash"),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE",
                  name="fk_email_tokens_user_id_users"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_email_tokens_user_id", "email_tokens", ["user_id"])
    op.create_table(
        "data_exports",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE",
                  name="fk_data_exports_user_id_users"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_data_exports_user_id", "data_exports", ["user_id"])
    op.create_table(
        "privacy_settings",
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE",
                  name="fk_privacy_settings_user_id_users"), primary_key=True,
                  autoincrement=False),
        sa.Column("public_profile", sa.Boolean(), nullable=False),
        sa.Column("show_carbon", sa.Boolean(), nullable=False),
        sa.Column("leaderboards", sa.Boolean(), nullable=False),
        sa.Column("marketing_email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade():
    op.drop_table("privacy_settings")
    op.drop_table("data_exports")
    op.drop_table("email_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in ("closed_at", "email_verified_at", "currency", "locale", "country", "city",
                     "bio"):
            batch_op.drop_column(name)
