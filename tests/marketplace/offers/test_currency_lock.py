"""A listing's currency is locked only by offers that can still be answered or bought at:
pending ones not past ``expires_at`` and accepted ones within their purchase window."""

from datetime import timedelta

from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.offers.models import Offer
from tests.marketplace.offers.test_offers import act, age, offer


def _change_currency(client, d, currency):
    return client.patch(f"/api/v1/listings/{d['listing']['id']}", headers=d["s"],
                        json={"price": {"amount": 30000, "currency": currency}})


def _close_purchase_window(app, offer_id):
    with app.app_context():  # the 24 h purchase window closed, unused
        db.session.execute(update(Offer).where(Offer.id == offer_id).values(
            purchase_deadline=utcnow() - timedelta(days=1)))
        db.session.commit()


def test_an_accepted_offer_locks_the_currency_only_within_its_purchase_window(
        app, client, deal):
    accepted = offer(client, deal)
    assert act(client, accepted["id"], "accept", deal["s"]).status_code == 200
    locked = _change_currency(client, deal, "GBP")
    assert locked.status_code == 409, locked.get_json()
    assert "currency" in locked.get_json()["errors"]["price"]
    _close_purchase_window(app, accepted["id"])
    unlocked = _change_currency(client, deal, "GBP")
    assert unlocked.status_code == 200, unlocked.get_json()
    assert unlocked.get_json()["price"] == {"amount": 30000, "currency": "GBP"}


def test_a_lapsed_pending_offer_does_not_lock_the_currency(app, client, deal):
    pending = offer(client, deal)
    assert _change_currency(client, deal, "GBP").status_code == 409
    age(app, pending["id"], hours=1)  # past expires_at; the periodic job has not run yet
    resp = _change_currency(client, deal, "GBP")
    assert resp.status_code == 200, resp.get_json()
    # ... and it cannot be accepted in the old currency afterwards.
    assert act(client, pending["id"], "accept", deal["s"]).status_code == 409
