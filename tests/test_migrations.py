"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from datetime import timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import bindparam, inspect, text

from marketplace.core.db import db
from marketplace.core.dbtypes import UTCDateTime, utcnow
from tests import factories

HEAD = ScriptDirectory(str(Path(__file__).resolve().parents[1] / "migrations")).get_current_head()


def test_head_matches_models(app_ctx):
    # The session fixture upgraded to head, downgraded to base and upgraded again. Server
    # defaults count too: one the models do not declare is a schema only migrations build.
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "compare_server_default": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_the_database_is_at_the_latest_migration(app_ctx):
    assert HEAD is not None and HEAD >= "0028"
    assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == HEAD


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


def test_0026_retries_emails_failed_by_a_short_outage_and_keeps_rows_referring_to_listings(
        app_ctx, client):
    """Emails failed within the retry window (the old rule failed them after minutes) are
    pending again, older ones stay failed; on SQLite the rebuild of ``listings`` (dropping its
    server defaults) deletes no offer or conversation that refers to a listing."""
    _, seller = factories.make_user(client, "Sally")
    _, buyer = factories.make_user(client, "Bob")
    listing = factories.create_listing(client, seller)
    assert client.post(f"/api/v1/listings/{listing['id']}/offers", headers=buyer, json={
        "amount": {"amount": 30000, "currency": "EUR"}}).status_code == 201
    assert client.post(f"/api/v1/listings/{listing['id']}/conversations",
                       headers=buyer).status_code in (200, 201)  # (the offer may open it)
    db.session.remove()
    insert = text("INSERT INTO outbound_emails (to_addr, subject, body, status, attempts, "
                  "created_at) VALUES (:to, 'S', 'B', :status, 8, :created)").bindparams(
        bindparam("created", type_=UTCDateTime()))
    now = utcnow()
    downgrade(revision="0025")
    try:
        for to, status, age in (("recent@x.org", "failed", timedelta(hours=2)),
                                ("old@x.org", "failed", timedelta(days=4)),
                                ("waiting@x.org", "pending", timedelta(minutes=5)),
                                ("done@x.org", "sent", timedelta(hours=1))):
            db.session.execute(insert, {"to": to, "status": status, "created": now - age})
        db.session.commit()
    finally:
        upgrade()

    def emails():
        return dict(db.session.execute(text(
            "SELECT to_addr, status FROM outbound_emails "
            "WHERE to_addr LIKE '%@x.org' AND next_attempt_at IS NULL AND claimed_at IS NULL"
        )).all())
    assert emails() == {"recent@x.org": "pending", "old@x.org": "failed",
                        "waiting@x.org": "pending", "done@x.org": "sent"}
    assert [db.session.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("listings", "offers", "conversations")] == [1, 1, 1]
    # Downgrade: an email being sent is pending for the old code (it ignores other states).
    db.session.execute(text("UPDATE outbound_emails SET status = 'sending', claimed_at = "
                            "created_at WHERE to_addr = 'waiting@x.org'"))
    db.session.commit()
    downgrade(revision="0025")
    try:
        assert db.session.scalar(text("SELECT status FROM outbound_emails "
                                      "WHERE to_addr = 'waiting@x.org'")) == "pending"
        assert db.session.scalar(text("SELECT count(*) FROM offers")) == 1
    finally:
        db.session.rollback()
        upgrade()


def test_0027_resolves_open_duplicate_reports_before_indexing_them(app_ctx):
    """Open duplicates (same reporter and subject) made before the unique indexes: all but
    the oldest are resolved as dismissed; resolved reports and other subjects are untouched."""
    downgrade(revision="0026")
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


def test_rows_that_already_referred_to_nothing_do_not_block_an_upgrade(app_ctx):
    """On SQLite, env.py runs migrations with foreign keys off and then names the rows a
    migration left referring to nothing; an orphan that was there before is not the
    migration's doing and must not fail every later upgrade. (PostgreSQL refuses such a row
    in the first place: there the upgrade is simply run.)"""
    downgrade(revision="0026")
    orphan = db.engine.dialect.name == "sqlite"
    try:
        if orphan:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
                conn.exec_driver_sql("INSERT INTO user_blocks (blocker_id, blocked_id, "
                                     "created_at) VALUES (987654, 987655, '2026-01-01')")
                conn.commit()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
    finally:
        db.session.remove()
        if orphan:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("DELETE FROM user_blocks WHERE blocker_id = 987654")
                conn.commit()
        upgrade()
