"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import bindparam, inspect, text

from marketplace.core.db import db
from marketplace.core.dbtypes import UTCDateTime, utcnow


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


def test_0026_retries_emails_failed_by_a_short_outage(app_ctx):
    """Emails failed within the retry window (the old rule failed them after minutes) are
    pending again, older ones stay failed."""
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
    # Downgrade: an email being sent is pending for the old code (it ignores other states).
    db.session.execute(text("UPDATE outbound_emails SET status = 'sending', claimed_at = "
                            "created_at WHERE to_addr = 'waiting@x.org'"))
    db.session.commit()
    downgrade(revision="0025")
    try:
        assert db.session.scalar(text("SELECT status FROM outbound_emails "
                                      "WHERE to_addr = 'waiting@x.org'")) == "pending"
    finally:
        db.session.rollback()
        upgrade()
