"""The periodic retention job purges what is no longer needed, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.accounts.models import ApiToken, DataExport, EmailToken
from marketplace.core import mail
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.notifications.models import Notification
from tests.factories import make_user
from workers import jobs


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_retention_purges_expired_tokens_old_exports_notifications_and_emails(client, app,
                                                                              drain_jobs):
    user, headers = make_user(client)
    client.post("/api/v1/auth/password-reset", json={"email": user["email"]})
    client.post("/api/v1/users/me/export", headers=headers)
    drain_jobs()
    with app.app_context():
        live = (_count(ApiToken), _count(EmailToken), _count(DataExport), _count(Notification))
        assert live[0] == 1 and live[1] == 2 and live[2] == 1 and live[3] == 1
        counts = jobs.purge_personal_data()
        assert (_count(ApiToken), _count(EmailToken), _count(DataExport),
                _count(Notification)) == live  # nothing is old yet
        long_ago = utcnow() - timedelta(days=400)
        db.session.execute(update(EmailToken).values(expires_at=long_ago))
        db.session.execute(update(DataExport).values(created_at=long_ago))
        db.session.execute(update(Notification).values(created_at=long_ago))
        db.session.execute(update(mail.OutboundEmail).values(status="sent", sent_at=long_ago))
        db.session.commit()
        counts = jobs.purge_personal_data()
        assert counts["email_tokens"] == 2 and counts["data_exports"] == 1
        assert counts["notifications"] == 1 and counts["sent_emails"] >= 2
        assert _count(ApiToken) == 1  # the live session stays
        db.session.execute(update(ApiToken).values(revoked_at=long_ago))
        db.session.commit()
        assert jobs.purge_personal_data()["api_tokens"] == 1
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
