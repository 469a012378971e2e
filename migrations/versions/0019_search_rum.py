"""Text + sort search: RUM indexes (PostgreSQL extension rum); search documents of listings in
scripts without spaces get character and pair tokens.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:20:00

"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ACTIVE = "status = 'active'"
_INDEXES = (("ix_listings_text_price", "price_amount"),
            ("ix_listings_text_avoided", "avoided_central_g"))
# Sort indexes that carry the search document for index-only walks (PostgreSQL only).
_COVERING = (("ix_listings_active_price", ["price_amount", "id"],
              ["price_currency", "search_doc"]),
             ("ix_listings_active_avoided", ["avoided_central_g", "id"], ["search_doc"]),
             ("ix_listings_active_category_price", ["category", "price_amount", "id"],
              ["price_currency", "search_doc"]),
             ("ix_listings_active_category_avoided", ["category", "avoided_central_g", "id"],
              ["search_doc"]))
# Same ranges as marketplace/listings/textsplit.py (copied: a migration must not change when
# the app's code does).
_RUN = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")


def _document(text):
    extra = []
    for run in _RUN.findall(text):
        extra.extend(run)
        extra.extend(run[i:i + 2] for i in range(len(run) - 1))
    return f"{text} {' '.join(extra)}" if extra else text


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for name, column in _INDEXES:
            op.create_index(name, "listings", ["search_doc", column], unique=False,
                            sqlite_where=sa.text("0"))
        return
    available = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first()
    if available is None:
        raise RuntimeError("PostgreSQL extension 'rum' is not installed on the database server "
                           "(Debian: apt-get install postgresql-<version>-rum); see "
                           "docs/deploy.md")
    op.execute("CREATE EXTENSION IF NOT EXISTS rum")
    for name, columns, include in _COVERING:
        op.drop_index(name, table_name="listings")
        op.create_index(name, "listings", columns, unique=False, postgresql_include=include,
                        postgresql_where=sa.text(_ACTIVE))
    for name, column in _INDEXES:
        op.create_index(name, "listings", ["search_doc", column], unique=False,
                        postgresql_using="rum",
                        postgresql_ops={"search_doc": "rum_tsvector_addon_ops"},
                        postgresql_with={"attach": f"'{column}'", "to": "'search_doc'"},
                        postgresql_where=sa.text(_ACTIVE))
    rows = bind.execute(sa.text(
        "SELECT id, concat_ws(' ', title, description, brand, model) FROM listings "
        "WHERE concat_ws(' ', title, description, brand, model) ~ :pattern"),
        {"pattern": "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff]"})
    for listing_id, text in rows.fetchall():
        bind.execute(sa.text("UPDATE listings SET search_doc = to_tsvector('simple', :doc) "
                             "WHERE id = :id"), {"doc": _document(text), "id": listing_id})


def downgrade():
    for name, _ in _INDEXES:
        op.drop_index(name, table_name="listings")
    if op.get_bind().dialect.name == "postgresql":
        for name, columns, _ in _COVERING:
            op.drop_index(name, table_name="listings")
            op.create_index(name, "listings", columns, unique=False,
                            postgresql_where=sa.text(_ACTIVE))
    # The extension stays: other databases objects may use it, and re-running the upgrade
    # creates it only if missing. Search documents keep their extra tokens (harmless).
