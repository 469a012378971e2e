"""outbound_emails: backoff (next_attempt_at) and a claim (sending, claimed_at); listings
without the server defaults of 0017

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 00:10:00

Email delivery counted every failed run against 8 attempts with nothing spacing the runs, so a
few minutes of SMTP outage marked an email ``failed`` for good; and two delivery jobs of one
email could both send it. From now on a failed attempt sets ``next_attempt_at`` (exponential
backoff) and only an email that is due is redelivered; a job claims the email (``sending``,
``claimed_at``, committed) before talking to the server.

Upgrade: the two columns, NULL (pending emails are due now). Failed emails created within the
last 3 days (the retry window, ``mail.RETRY_WINDOW``) are pending again: the old rule failed
them after a short outage. Also drops the server defaults 0017 left on
``listings.photo_uploads`` and ``listings.previous_owners`` (the models declare none; every
insert gives both). SQLite rebuilds ``listings`` for that, with foreign keys off.
Downgrade: emails being sent become pending, the columns go, the server defaults come back.
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RETRY_WINDOW = timedelta(days=3)
LISTING_DEFAULTS = (("photo_uploads", sa.JSON(), sa.text("'[]'")),
                    ("previous_owners", sa.Integer(), sa.text("0")))


def upgrade():
    with op.batch_alter_table("outbound_emails") as batch:
        batch.add_column(sa.Column("next_attempt_at", TS, nullable=True))
        batch.add_column(sa.Column("claimed_at", TS, nullable=True))
    cutoff = datetime.now(UTC) - RETRY_WINDOW
    if op.get_bind().dialect.name == "sqlite":  # stored naive (UTC) there
        cutoff = cutoff.replace(tzinfo=None)
    emails = sa.table("outbound_emails", sa.column("status", sa.String()),
                      sa.column("created_at", TS))
    op.execute(emails.update().where(emails.c.status == "failed",
                                     emails.c.created_at >= cutoff).values(status="pending"))
    _listing_defaults(drop=True)


def downgrade():
    _listing_defaults(drop=False)
    op.execute("UPDATE outbound_emails SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("outbound_emails") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("next_attempt_at")


def _listing_defaults(drop: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, type_, default in LISTING_DEFAULTS:
            op.alter_column("listings", name, existing_type=type_, existing_nullable=False,
                            server_default=None if drop else default)
        return
    # SQLite rebuilds the table; migrations/env.py turns foreign keys off around migrations,
    # so dropping the old copy deletes none of the offers, conversations... referring to it.
    with op.batch_alter_table("listings", recreate="always") as batch:
        for name, type_, default in LISTING_DEFAULTS:
            batch.alter_column(name, existing_type=type_, existing_nullable=False,
                               server_default=None if drop else default)
