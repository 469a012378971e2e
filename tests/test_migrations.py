"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from marketplace.core.db import db


def test_head_matches_models(app_ctx):
    # The session fixture upgraded to head, downgraded to base and upgraded again.
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_downgrade_to_base_leaves_no_tables(app_ctx):

    downgrade(revision="base")
    try:
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
    finally:
        upgrade()
    assert "users" in inspect(db.engine).get_table_names()
