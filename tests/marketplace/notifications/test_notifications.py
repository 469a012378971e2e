"""Notifications from domain events: once per event, read markers, preferences, email."""

from __future__ import annotations

from sqlalchemy import func, select, update

from marketplace.core import events, outbox
from marketplace.core.db import db
from marketplace.core.events import KINDS
from marketplace.notifications.catalog import KINDS as CATALOG
from marketplace.notifications.models import Notification
from tests import factories
from tests.factories import assert_error_shape


def _offer(client, listing, buyer_h, amount=30000):
    resp = client.post(f"/api/v1/listings/{listing['id']}/offers",
                       json={"amount": {"amount": amount, "currency": "EUR"}}, headers=buyer_h)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _notes(client, headers, query=""):
    resp = client.get(f"/api/v1/users/me/notifications{query}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_every_event_kind_has_a_notification_text():
    assert set(KINDS) == set(CATALOG)


def test_offer_events_notify_the_other_party(client, drain_jobs):
    seller, seller_h = factories.make_user(client, "Sally")
    buyer, buyer_h = factories.make_user(client, "Bob")
    listing = factories.create_listing(client, seller_h)
    offer = _offer(client, listing, buyer_h)
    drain_jobs()
    note = _notes(client, seller_h, "?unread_only=true")[0]
    assert note["kind"] == "offer.received"
    assert "300.00 EUR" in note["body"] and listing["title"] in note["body"]
    assert note["data"]["offer_id"] == offer["id"]
    assert note["data"]["amount"] == {"amount": 30000, "currency": "EUR"}
    counter = client.post(f"/api/v1/offers/{offer['id']}/counter",
                          json={"amount": {"amount": 35000, "currency": "EUR"}},
                          headers=seller_h).get_json()
    client.post(f"/api/v1/offers/{counter['id']}/decline", headers=buyer_h)
    drain_jobs()
    assert [n["kind"] for n in _notes(client, buyer_h)] == ["offer.countered", "welcome"]
    assert [n["kind"] for n in _notes(client, seller_h)][:2] == [
        "offer.declined", "offer.received"]


def test_exactly_once_even_when_the_job_runs_twice(client, app, drain_jobs):
    seller, seller_h = factories.make_user(client)
    buyer, buyer_h = factories.make_user(client)
    listing = factories.create_listing(client, seller_h)
    _offer(client, listing, buyer_h)
    drain_jobs()
    with app.app_context():
        ids = list(db.session.scalars(select(outbox.OutboxMessage.id).where(
            outbox.OutboxMessage.topic == events.TOPIC)))
        assert ids
        # Replay: the records are made unprocessed again and applied a second time.
        db.session.execute(update(outbox.OutboxMessage).where(
            outbox.OutboxMessage.id.in_(ids)).values(processed_at=None))
        db.session.commit()
        outbox.process(ids)
        outbox.drain("notifications")
        count = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "offer.received"))
    drain_jobs()
    assert count == 1
    assert len([n for n in _notes(client, seller_h) if n["kind"] == "offer.received"]) == 1


def test_read_one_and_read_all(client, drain_jobs):
    seller, seller_h = factories.make_user(client)
    buyer, buyer_h = factories.make_user(client)
    listing = factories.create_listing(client, seller_h)
    _offer(client, listing, buyer_h)
    drain_jobs()
    notes = _notes(client, seller_h)
    assert len(notes) == 2
    resp = client.post(f"/api/v1/users/me/notifications/{notes[0]['id']}/read",
                       headers=seller_h)
    assert resp.status_code == 200 and resp.get_json()["read_at"]
    assert [n["id"] for n in _notes(client, seller_h, "?unread_only=true")] == [notes[1]["id"]]
    assert_error_shape(client.post(f"/api/v1/users/me/notifications/{notes[0]['id']}/read",
                                   headers=buyer_h), 404)
    resp = client.post("/api/v1/users/me/notifications/read-all", headers=seller_h)
    assert resp.get_json() == {"marked": 1}
    assert _notes(client, seller_h, "?unread_only=true") == []
    assert_error_shape(client.get("/api/v1/users/me/notifications?unread_only=maybe",
                                  headers=seller_h), 422)


def test_settings_turn_kinds_off(client, drain_jobs):
    seller, seller_h = factories.make_user(client)
    buyer, buyer_h = factories.make_user(client)
    listing = factories.create_listing(client, seller_h)
    current = client.get("/api/v1/users/me/notification-settings", headers=seller_h).get_json()
    by_kind = {i["kind"]: i for i in current["kinds"]}
    assert by_kind["offer.received"] == {"kind": "offer.received", "in_app": True,
                                         "email": True, "push": True}
    resp = client.put("/api/v1/users/me/notification-settings", headers=seller_h, json={
        "kinds": [{"kind": "offer.received", "in_app": False, "email": False}]})
    assert resp.status_code == 200
    changed = {i["kind"]: i for i in resp.get_json()["kinds"]}["offer.received"]
    assert changed == {"kind": "offer.received", "in_app": False, "email": False, "push": True}
    _offer(client, listing, buyer_h)
    drain_jobs()
    assert [n["kind"] for n in _notes(client, seller_h)] == ["welcome"]
    assert_error_shape(client.put("/api/v1/users/me/notification-settings", headers=seller_h,
                                  json={"kinds": [{"kind": "nope"}]}), 422)


def test_email_channel_goes_through_smtp(client, smtp_app, smtp_server, drain_jobs):
    seller, seller_h = factories.make_user(client, "Sally")
    buyer, buyer_h = factories.make_user(client, "Bob")
    listing = factories.create_listing(client, seller_h)
    _offer(client, listing, buyer_h)
    drain_jobs()
    drain_jobs()  # the email's own delivery job, queued by the notification's drain
    mails = [m for m in smtp_server.to(seller["email"])  # (not the verification email)
             if m["Subject"] == "Reloop: New offer"]
    assert len(mails) == 1
    assert "300.00 EUR" in mails[0].get_payload()
    client.put("/api/v1/users/me/notification-settings", headers=seller_h, json={
        "kinds": [{"kind": "offer.received", "email": False}]})
    other = factories.create_listing(client, seller_h, title="Pixel 7")
    _offer(client, other, buyer_h)
    drain_jobs()
    drain_jobs()
    assert [m["Subject"] for m in smtp_server.to(seller["email"])].count(
        "Reloop: New offer") == 1
    assert len(_notes(client, seller_h, "?unread_only=true")) == 3  # welcome + 2 offers


def test_a_message_email_does_not_quote_the_message(client, smtp_app, smtp_server, drain_jobs):
    """An email is a copy nobody can take back (its author may close their account): it says
    a message came, not who wrote what."""
    seller, seller_h = factories.make_user(client, "Sally")
    buyer, buyer_h = factories.make_user(client, "Bruno Quotable")
    client.put("/api/v1/users/me/notification-settings", headers=seller_h, json={
        "kinds": [{"kind": "message.received", "email": True}]})
    listing = factories.create_listing(client, seller_h)
    conv = client.post(f"/api/v1/listings/{listing['id']}/conversations",
                       headers=buyer_h).get_json()
    assert client.post(f"/api/v1/conversations/{conv['id']}/messages", headers=buyer_h,
                       json={"body": "my number is in the next message"}).status_code == 201
    drain_jobs()
    drain_jobs()
    [mail] = [m for m in smtp_server.to(seller["email"]) if m["Subject"] == "Reloop: New message"]
    text = mail.get_payload()
    assert "new message" in text and "next message" not in text and "Quotable" not in text
    note = _notes(client, seller_h)[0]  # the in-app notification still quotes it
    assert note["kind"] == "message.received" and "next message" in note["body"]
