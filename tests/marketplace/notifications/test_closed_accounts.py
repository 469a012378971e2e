"""A closed account gets no notification nor email: an event drained after the closure (a
refund, a review from the other party, a record still waiting in the outbox) is skipped for it,
and still reaches the other people it names."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.mail import OutboundEmail
from marketplace.notifications.models import Notification
from tests import factories

PASSWORD = "correct horse battery"


def test_no_notification_or_email_for_a_closed_account(app, client, drain_jobs):
    user, headers = factories.make_user(client, "Carla")
    other, _ = factories.make_user(client, "Otto")
    drain_jobs()  # (the welcome notes)
    assert client.delete("/api/v1/users/me", headers=headers,
                         json={"password": PASSWORD}).status_code == 204
    with app.app_context():
        events.publish("trade.refunded", [user["id"], other["id"]], {
            "trade_id": 1, "listing_title": "X", "amount": 500, "currency": "EUR"})
        db.session.commit()
    drain_jobs()
    with app.app_context():
        kinds = {u: db.session.scalars(select(Notification.kind).where(
            Notification.user_id == u)).all() for u in (user["id"], other["id"])}
        emails = db.session.scalars(select(OutboundEmail.to_addr)).all()
    assert kinds[user["id"]] == [] and "trade.refunded" in kinds[other["id"]]
    assert not [e for e in emails if "erased.invalid" in e]


def test_a_welcome_waiting_when_the_account_closes_is_not_written(app, client, drain_jobs):
    """With Redis the welcome note waits in the outbox; without, it is written at once and
    the closure deletes it: either way none is left."""
    user, headers = factories.make_user(client, "Wanda")
    assert client.delete("/api/v1/users/me", headers=headers,
                         json={"password": PASSWORD}).status_code == 204
    drain_jobs()
    with app.app_context():
        assert db.session.scalars(select(Notification.kind).where(
            Notification.user_id == user["id"])).all() == []
