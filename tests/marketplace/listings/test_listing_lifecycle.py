"""Listing status helpers for trades, purchase at an offer price, profiles, re-estimation,
seeds."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from carbon.incentives import catalog
from carbon.incentives.models import CatalogItem
from marketplace import seeds
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict
from marketplace.listings import status as listing_status
from marketplace.listings.models import Listing
from marketplace.offers import services as offers
from marketplace.offers.models import Offer
from tests.factories import assert_error_shape, create_listing


def _offer(client, deal, amount=30000):
    return client.post(f"/api/v1/listings/{deal['listing']['id']}/offers",
                       json={"amount": {"amount": amount, "currency": "EUR"}},
                       headers=deal["b"]).get_json()


def test_reserve_release_sell(client, app, deal):
    lid = deal["listing"]["id"]
    pending = _offer(client, deal)
    with app.app_context():
        listing = db.session.get(Listing, lid)
        listing_status.reserve(listing)
        db.session.commit()
        assert listing.status == "reserved"
        with pytest.raises(Conflict):
            listing_status.reserve(listing)
        listing_status.release(listing)
        db.session.commit()
        with pytest.raises(Conflict):
            listing_status.release(listing)
        with pytest.raises(Conflict):
            listing_status.mark_sold(listing)  # must be reserved first
        listing_status.reserve(listing)
        assert db.session.get(Offer, pending["id"]).status == "pending"  # stays pending
        listing_status.mark_sold(listing)
        db.session.commit()
        assert listing.status == "sold" and listing.sold_at is not None
        assert db.session.get(Offer, pending["id"]).status == "expired"
    # Sold listings stay visible but take no edits.
    assert client.get(f"/api/v1/listings/{lid}").get_json()["status"] == "sold"
    assert_error_shape(client.patch(f"/api/v1/listings/{lid}", json={"title": "Again"},
                                    headers=deal["s"]), 409)
    assert_error_shape(client.delete(f"/api/v1/listings/{lid}", headers=deal["s"]), 409)


def test_withdrawing_expires_pending_offers(client, app, deal):
    o = _offer(client, deal)
    client.delete(f"/api/v1/listings/{deal['listing']['id']}", headers=deal["s"])
    with app.app_context():
        assert db.session.get(Offer, o["id"]).status == "expired"


def test_offer_for_purchase(client, app, deal):
    lid = deal["listing"]["id"]
    o = _offer(client, deal)
    with app.app_context(), pytest.raises(Conflict, match="not accepted"):
        offers.offer_for_purchase(o["id"], deal["buyer"]["id"], lid)
    client.post(f"/api/v1/offers/{o['id']}/accept", headers=deal["s"])
    with app.app_context():
        assert offers.offer_for_purchase(o["id"], deal["buyer"]["id"], lid).amount == 30000
        with pytest.raises(Conflict):
            offers.offer_for_purchase(o["id"], deal["seller"]["id"], lid)
        with pytest.raises(Conflict):
            offers.offer_for_purchase(o["id"], deal["buyer"]["id"], lid + 1)
        db.session.rollback()
        db.session.execute(update(Offer).where(Offer.id == o["id"]).values(
            purchase_deadline=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        with pytest.raises(Conflict, match="24-hour"):
            offers.offer_for_purchase(o["id"], deal["buyer"]["id"], lid)


def test_accepting_on_a_reserved_listing_is_refused(client, app, deal):
    o = _offer(client, deal)
    with app.app_context():
        listing_status.reserve(db.session.get(Listing, deal["listing"]["id"]))
        db.session.commit()
    body = assert_error_shape(client.post(f"/api/v1/offers/{o['id']}/accept",
                                          headers=deal["s"]), 409)
    assert "reserved" in body["message"]


@pytest.mark.services
def test_two_buyers_cannot_both_reserve(app, client, deal):
    lid = deal["listing"]["id"]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def buy():
        with app.app_context():
            listing = db.session.get(Listing, lid)
            barrier.wait()
            try:
                listing_status.reserve(listing)
                db.session.commit()
                results.append("reserved")
            except Conflict:
                db.session.rollback()
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buy) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["conflict", "reserved"]


def test_public_profile(client, app, deal):
    seller_id = deal["seller"]["id"]
    second = create_listing(client, deal["s"], title="Second phone")
    with app.app_context():
        listing = db.session.get(Listing, second["id"])
        listing_status.reserve(listing)
        listing_status.mark_sold(listing)
        db.session.commit()
    body = client.get(f"/api/v1/users/{seller_id}").get_json()
    assert body["display_name"] == "Seller" and body["member_since"]
    assert body["active_listings"] == 1 and body["sold_count"] == 1
    assert body["avoided_kgco2e_sold"] is None  # carbon totals are private by default
    shown = client.put("/api/v1/users/me/privacy", json={"show_carbon": True}, headers=deal["s"])
    assert shown.status_code == 200, shown.get_json()
    body = client.get(f"/api/v1/users/{seller_id}").get_json()
    assert body["avoided_kgco2e_sold"] == second["footprint"]["avoided_kgco2e"]["central"]
    assert body["rating"] is None and "email" not in body
    assert_error_shape(client.get("/api/v1/users/999999"), 404)


def test_reestimate_command_updates_stale_active_listings(client, app, deal, drain_jobs):
    lid = deal["listing"]["id"]
    other = create_listing(client, deal["s"], title="Withdrawn phone")
    client.delete(f"/api/v1/listings/{other['id']}", headers=deal["s"])
    with app.app_context():
        db.session.execute(update(Listing).values(methodology_version="2000.1",
                                                  avoided_central_g=1))
        db.session.commit()
    result = _cli(app, "carbon", "reestimate", "--batch-size", "1")
    assert "enqueued 1 listing(s) in 1 job(s)" in result.output
    drain_jobs()
    with app.app_context():
        fresh = db.session.get(Listing, lid)
        assert fresh.methodology_version != "2000.1"
        assert fresh.avoided_central_g == round(
            deal["listing"]["footprint"]["avoided_kgco2e"]["central"] * 1000)
        assert db.session.get(Listing, other["id"]).methodology_version == "2000.1"
    result = _cli(app, "carbon", "reestimate")
    assert "enqueued 0 listing(s)" in result.output


def _cli(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_seed_is_idempotent(app):
    _cli(app, "seed")
    with app.app_context():
        count = len(db.session.scalars(select(Listing.id)).all())
    assert count >= 6
    _cli(app, "seed")
    with app.app_context():
        listings_ = db.session.scalars(select(Listing)).all()
        assert len(listings_) == count
        assert sum(1 for x in listings_ if x.avoided_central_g > 0) >= count - 1
        items = db.session.scalars(select(CatalogItem)).all()
    assert len(items) == len(seeds.DEMO_CATALOG) >= 1
    assert all(i.reward["kind"] == "voucher" and i.active for i in items)


def test_seed_adds_no_catalogue_items_when_some_exist(app):
    with app.app_context():
        catalog.create({"name": "Admin's own", "cost_points": 10,
                        "reward": {"kind": "voucher", "percent_off": 5}})
    _cli(app, "seed")
    with app.app_context():
        assert [i.name for i in db.session.scalars(select(CatalogItem))] == ["Admin's own"]
