"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow


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


def test_0025_leaves_no_invitation_matched_to_an_unverified_account(app_ctx):
    """Pending invitations carrying an email become invitations by email (accepted only with
    the address verified); accepted memberships lose their email copy."""
    downgrade(revision="0024")
    try:
        now = utcnow()
        user_ids = [db.session.execute(text(
            "INSERT INTO users (email, password_hash, display_name, role, created_at) "
            "VALUES (:e, 'x', 'M', 'user', :now) RETURNING id"),
            {"e": f"m0025-{i}@example.com", "now": now}).scalar() for i in range(2)]
        org = db.session.execute(text(
            "INSERT INTO organisations (name, country, kind, created_by, certifications, "
            "created_at) VALUES ('O', 'FR', 'company', :u, '[]', :now) RETURNING id"),
            {"u": user_ids[0], "now": now}).scalar()
        for user, email, status in ((user_ids[0], "m0025-0@example.com", "active"),
                                    (user_ids[1], "m0025-1@example.com", "invited")):
            db.session.execute(text(
                "INSERT INTO organisation_members (organisation_id, user_id, email, role, "
                "status, invited_by, created_at) VALUES (:o, :u, :e, 'buyer', :s, :by, :now)"),
                {"o": org, "u": user, "e": email, "s": status, "by": user_ids[0], "now": now})
        db.session.commit()
    finally:
        upgrade()
    rows = db.session.execute(text(
        "SELECT user_id, email, status FROM organisation_members WHERE organisation_id = :o "
        "ORDER BY status"), {"o": org}).all()
    assert [tuple(r) for r in rows] == [(user_ids[0], None, "active"),
                                        (None, "m0025-1@example.com", "invited")]


def test_0027_resolves_open_duplicate_reports_before_indexing_them(app_ctx):
    """Open duplicates (same reporter and subject) made before the unique indexes: all but
    the oldest are resolved as dismissed; resolved reports and other subjects are untouched."""
    downgrade(revision="0025")
    try:
        now = utcnow()
        a, b, c = (db.session.execute(text(
            "INSERT INTO users (email, password_hash, display_name, role, created_at) "
            "VALUES (:e, 'x', 'M', 'user', :now) RETURNING id"),
            {"e": f"m0027-{i}@example.com", "now": now}).scalar() for i in range(3))
        reports = [db.session.execute(text(
            "INSERT INTO reports (reporter_id, subject_type, user_id, reason, status, "
            "created_at) VALUES (:r, 'user', :u, 'spam', :s, :now) RETURNING id"),
            {"r": a, "u": subject, "s": status, "now": now}).scalar()
            for subject, status in ((b, "resolved"), (b, "open"), (b, "open"), (b, "open"),
                                    (c, "open"))]
        db.session.commit()
    finally:
        upgrade()
    rows = db.session.execute(text(
        "SELECT id, status, resolution FROM reports WHERE reporter_id = :a ORDER BY id"),
        {"a": a}).all()
    assert [tuple(r) for r in rows] == [
        (reports[0], "resolved", None), (reports[1], "open", None),
        (reports[2], "resolved", "dismissed"), (reports[3], "resolved", "dismissed"),
        (reports[4], "open", None)]
