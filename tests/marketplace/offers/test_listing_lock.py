"""Accepting an offer and editing its listing are serialised on the listing's row: the
listing is locked first, then the offer, wherever both are locked (accept, counter, decline,
withdraw, buying at an offer), and an edit locks the listing before its frozen checks."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select, text

from marketplace.core.db import Session, db
from marketplace.listings import hooks
from marketplace.listings.models import Listing
from marketplace.offers import services
from marketplace.offers.models import Offer
from tests.marketplace.offers.test_offers import act, eur, offer


@pytest.fixture
def locks(monkeypatch):
    """The listing and offer rows the test's statements lock (``FOR UPDATE``), by table, in
    order, and ``frozen-check`` where a listing edit checks its frozen fields (the outbox
    and its consumers, inline in the embedded mode, lock rows of their own)."""
    seen: list[str] = []

    def record(state):
        if getattr(state.statement, "_for_update_arg", None) is not None:
            seen.extend(name for d in state.statement.column_descriptions
                        if (name := d["entity"].__tablename__) in ("listings", "offers"))

    real = hooks.device_frozen
    monkeypatch.setattr(hooks, "device_frozen",
                        lambda listing_id: seen.append("frozen-check") or real(listing_id))
    event.listen(Session, "do_orm_execute", record)
    yield seen
    event.remove(Session, "do_orm_execute", record)


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_answering_an_offer_locks_the_listing_then_the_offer(client, deal, locks, action):
    pending = offer(client, deal)
    locks.clear()
    assert act(client, pending["id"], action, deal["s"]).status_code == 200
    assert locks == ["listings", "offers"]


def test_countering_and_accepting_a_counter_lock_the_listing_first(client, deal, locks):
    pending = offer(client, deal)
    locks.clear()
    reply = act(client, pending["id"], "counter", deal["s"], amount=eur(36000))
    assert reply.status_code == 201
    assert act(client, reply.get_json()["id"], "accept", deal["b"]).status_code == 200
    assert locks == ["listings", "offers", "listings", "offers"]


def test_buying_at_an_offer_locks_the_listing_then_the_offer(app, client, deal, locks):
    pending = offer(client, deal)
    assert act(client, pending["id"], "accept", deal["s"]).status_code == 200
    locks.clear()
    with app.app_context():
        got = services.offer_for_purchase(pending["id"], deal["buyer"]["id"],
                                          deal["listing"]["id"])
        assert got.amount == 30000
        db.session.rollback()
    assert locks == ["listings", "offers"]


def test_a_listing_edit_locks_the_listing_before_its_frozen_check(client, deal, locks):
    resp = client.patch(f"/api/v1/listings/{deal['listing']['id']}", headers=deal["s"],
                        json={"condition": "fair"})
    assert resp.status_code == 200, resp.get_json()
    assert locks[:2] == ["listings", "frozen-check"]


def _waiting_on_a_lock(app) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")))


@pytest.mark.services
def test_an_accept_during_a_device_edit_waits_for_it(app, client, deal, monkeypatch):
    """The buyer accepts the seller's counter-offer right after the seller's PATCH of the
    device fields has checked that nothing is accepted (deterministic interleaving: the
    accept runs, in another thread, inside the PATCH's frozen check, and the PATCH goes on
    once the accept has either finished or is waiting on a lock)."""
    listing_id = deal["listing"]["id"]
    first = offer(client, deal)
    reply = act(client, first["id"], "counter", deal["s"], amount=eur(36000)).get_json()
    real, accepted, threads = hooks.device_frozen, [], []

    def accept():
        with app.test_client() as other:
            accepted.append(other.post(f"/api/v1/offers/{reply['id']}/accept",
                                       headers=deal["b"]).status_code)

    def check_then_buyer_accepts(lid):
        reason = real(lid)
        if not threads:
            threads.append(threading.Thread(target=accept))
            threads[0].start()
            deadline = time.monotonic() + 30
            while not accepted and not _waiting_on_a_lock(app):
                assert time.monotonic() < deadline, "the accept neither finished nor waited"
                time.sleep(0.02)
        return reason

    monkeypatch.setattr(hooks, "device_frozen", check_then_buyer_accepts)
    patch = client.patch(f"/api/v1/listings/{listing_id}", headers=deal["s"],
                         json={"condition": "fair", "battery_health_pct": 61})
    threads[0].join(30)
    assert accepted == [200]
    with app.app_context():
        listing = db.session.get(Listing, listing_id)
        accepted_at = db.session.scalar(select(Offer.accepted_at).where(Offer.id == reply["id"]))
        state = (patch.status_code, listing.condition, listing.updated_at, accepted_at)
    # Either the edit was refused (the accept came first), or the offer was accepted after
    # the edit, on the new description; never accepted on a description changed after.
    assert (patch.status_code == 409 and listing.condition == "good") or (
        patch.status_code == 200 and accepted_at >= listing.updated_at), state
