"""Active listings by (currency, price, id), carrying the search document: the b-tree that
price sorts and price filters walk (they always name a currency), built CONCURRENTLY on
PostgreSQL (docs/deploy.md, "Adding an index to a live table").

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_NAME = "ix_listings_active_currency_price"
_ACTIVE = "status = 'active'"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(_NAME, "listings", ["price_currency", "price_amount", "id"],
                        unique=False, sqlite_where=sa.text(_ACTIVE))
        return
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: commit what came before and
    # run it on its own. If it fails it leaves an INVALID index behind: drop it (IF EXISTS
    # below makes a rerun of this revision do that) and run the migration again.
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
        op.create_index(_NAME, "listings", ["price_currency", "price_amount", "id"],
                        unique=False, postgresql_include=["search_doc"],
                        postgresql_where=sa.text(_ACTIVE), postgresql_concurrently=True)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="listings")
        return
    with op.get_context().autocommit_block():
        op.drop_index(_NAME, table_name="listings", postgresql_concurrently=True)
