"""Closing an account removes the author's words and name wherever others keep a copy: the
thread, the other participant's notification and both real-time streams, the outbox's event
(and, tests/marketplace/webhooks, partners' delivery copies). Ids stay."""

from __future__ import annotations

import json

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.outbox.models import OutboxMessage
from marketplace.core.personal_data import REMOVED_TEXT
from marketplace.core.realtime import StreamEvent
from tests import factories
from tests.factories import assert_error_shape
from tests.marketplace.notifications.test_stream import _open

PASSWORD = "correct horse battery"
SECRET = "the hinge is loose, meet me at the blue door"
NAME = "Bruno Secretname"


def _thread_with_a_message(client, drain_jobs):
    seller, seller_h = factories.make_user(client, "Sally Seller")
    buyer, buyer_h = factories.make_user(client, NAME)
    listing = factories.create_listing(client, seller_h)
    conv = client.post(f"/api/v1/listings/{listing['id']}/conversations",
                       headers=buyer_h).get_json()
    sent = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": SECRET},
                       headers=buyer_h)
    assert sent.status_code == 201
    return seller, seller_h, buyer, buyer_h, conv, sent.get_json()


def _copies(app, user_ids) -> dict[str, str]:
    with app.app_context():
        streams = db.session.scalars(select(StreamEvent.payload)
                                     .where(StreamEvent.user_id.in_(user_ids))).all()
        outbox = db.session.scalars(select(OutboxMessage.payload)).all()
    return {"streams": json.dumps(streams), "outbox": json.dumps(outbox)}


def test_closing_removes_the_authors_words_from_every_copy(app, client, drain_jobs):
    seller, seller_h, buyer, buyer_h, conv, msg = _thread_with_a_message(client, drain_jobs)
    drain_jobs()
    before = _copies(app, [seller["id"], buyer["id"]])
    assert SECRET in before["streams"] and NAME in before["outbox"]  # the copies exist
    assert client.delete("/api/v1/users/me", headers=buyer_h,
                         json={"password": PASSWORD}).status_code == 204
    drain_jobs()

    thread = client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=seller_h)
    assert [m["body"] for m in thread.get_json()["items"] if m["id"] == msg["id"]] == [
        REMOVED_TEXT]
    notes = client.get("/api/v1/users/me/notifications", headers=seller_h).get_json()["items"]
    quoted = [n for n in notes if n["kind"] == "message.received"]
    assert len(quoted) == 1 and SECRET not in json.dumps(quoted) and NAME not in json.dumps(
        quoted)
    assert quoted[0]["body"] == f"Former member: {REMOVED_TEXT}"
    assert quoted[0]["data"]["message_id"] == msg["id"]  # ids stay
    after = _copies(app, [seller["id"], buyer["id"]])
    for where, text in after.items():
        assert SECRET not in text and NAME not in text, where
    with app.app_context():  # the closed account's own stream is gone
        assert db.session.scalars(select(StreamEvent.id).where(
            StreamEvent.user_id == buyer["id"])).all() == []
    with _open(client, seller_h, last_id=0) as frames:  # what the seller's stream replays
        replayed = [next(frames) for _ in range(after["streams"].count('"created_at"'))]
    assert not [f for f in replayed if SECRET in json.dumps(f[2])]


def test_an_announcement_still_in_the_outbox_notifies_without_the_words(app, client,
                                                                        drain_jobs):
    """The account closes before the message's notification is made: it is made scrubbed."""
    seller, seller_h, buyer, buyer_h, conv, msg = _thread_with_a_message(client, drain_jobs)
    assert client.delete("/api/v1/users/me", headers=buyer_h,
                         json={"password": PASSWORD}).status_code == 204
    drain_jobs()
    notes = client.get("/api/v1/users/me/notifications", headers=seller_h).get_json()["items"]
    quoted = [n for n in notes if n["kind"] == "message.received"]
    assert len(quoted) == 1 and quoted[0]["body"] == f"Former member: {REMOVED_TEXT}"


def test_no_message_to_a_closed_account(app, client, drain_jobs):
    seller, seller_h, buyer, buyer_h, conv, msg = _thread_with_a_message(client, drain_jobs)
    assert client.delete("/api/v1/users/me", headers=buyer_h,
                         json={"password": PASSWORD}).status_code == 204
    late = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": "hello?"},
                       headers=seller_h)
    assert "closed their account" in assert_error_shape(late, 409)["message"]
