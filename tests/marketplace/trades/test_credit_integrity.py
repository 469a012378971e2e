"""Avoided emissions v2 in the marketplace: the trade route of a listing, the price floor
against wash trades, and e-waste and materials carried into the ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from carbon.incentives.models import CreditEvaluation, Reward
from marketplace.core.db import db
from marketplace.trades.models import Trade
from tests.carbon.incentives.helpers import rule
from tests.factories import assert_error_shape, create_listing, make_user


def _complete(env, trade) -> dict:
    shipped = env.ship(env.pay(trade))
    resp = env.post(f"/trades/{shipped['id']}/confirm", env.b)
    assert resp.status_code == 200, resp.get_json()
    env.drain()
    return resp.get_json()


def test_channel_is_an_input_of_the_listing_estimate(client):
    _, s = make_user(client)
    parcel = create_listing(client, s)
    pickup = create_listing(client, s, channel="local_pickup")
    assert parcel["channel"] == parcel["footprint"]["channel"] == "parcel"
    assert pickup["channel"] == pickup["footprint"]["channel"] == "local_pickup"
    # No parcel, no packaging: more is avoided by a hand-over.
    assert (pickup["footprint"]["avoided_kgco2e"]["central"]
            > parcel["footprint"]["avoided_kgco2e"]["central"] > 0)
    for listing in (parcel, pickup):
        fp = listing["footprint"]
        assert fp["ewaste_avoided_g"]["central"] > 0 and fp["credit_note"] is None
        assert fp["materials_avoided_kg"]["low"] <= fp["materials_avoided_kg"]["central"]
    bad = client.post("/api/v1/listings", headers=s, json={
        "title": "Phone", "description": "x", "category": "smartphone", "brand": "Apple",
        "model": "iPhone 12", "condition": "good", "channel": "teleport",
        "price": {"amount": 20000, "currency": "EUR"}})
    assert "channel" in assert_error_shape(bad, 422)["errors"]
    moved = client.patch(f"/api/v1/listings/{parcel['id']}", headers=s,
                         json={"channel": "local_pickup"}).get_json()
    assert moved["footprint"]["avoided_kgco2e"] == pickup["footprint"]["avoided_kgco2e"]


def test_a_listing_below_the_price_floor_says_why_it_earns_nothing(client):
    _, s = make_user(client)
    cheap = create_listing(client, s, category="laptop", brand="Apple",
                           model="MacBook Air M1", storage_gb=256, release_year=2020,
                           battery_health_pct=None, price={"amount": 100, "currency": "EUR"})
    fp = cheap["footprint"]
    assert fp["avoided_kgco2e"] == {"low": 0.0, "central": 0.0, "high": 0.0}
    assert fp["ewaste_avoided_g"]["central"] == 0
    assert fp["credit_note"].startswith("below_price_floor") and "laptop" in fp["credit_note"]
    assert fp["embodied_kgco2e"]["central"] > 50  # the device is still described
    fair = client.patch(f"/api/v1/listings/{cheap['id']}", headers=s,
                        json={"price": {"amount": 45_000, "currency": "EUR"}}).get_json()
    assert fair["footprint"]["credit_note"] is None
    assert fair["footprint"]["avoided_kgco2e"]["central"] > 0


def test_a_wash_trade_credits_nothing_and_earns_no_reward(env, app):
    with app.app_context():
        rule("milestone", {"event": "first_trade"}, {"kind": "points", "amount": 50})
    cheap = create_listing(env.client, env.s, price={"amount": 500, "currency": "EUR"})
    trade = env.create(listing_id=cheap["id"])
    assert trade["footprint_snapshot"]["credit_note"].startswith("below_price_floor")
    assert trade["footprint_snapshot"]["avoided_kgco2e"]["central"] == 0
    _complete(env, trade)
    account = env.client.get("/api/v1/carbon/account", headers=env.b).get_json()
    assert account["balance_g"] == 0 and account["pending_g"] == 0
    with app.app_context():
        assert db.session.get(Trade, trade["id"]).avoided_g == 0
        assert db.session.scalar(select(func.count()).select_from(Reward)) == 0
        assert db.session.scalar(select(func.count()).select_from(CreditEvaluation)) == 0
    # A fair trade of the same kind earns the first-trade reward.
    fair = env.create()
    _complete(env, fair)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reward)) == 2  # both parties


def test_ewaste_and_materials_reach_the_carbon_summary(env):
    trade = env.create()
    snap = trade["footprint_snapshot"]
    assert snap["ewaste_avoided_g"]["central"] > 0 and snap["channel"] == "parcel"
    _complete(env, trade)
    buyer = env.client.get("/api/v1/carbon/summary", headers=env.b).get_json()
    seller = env.client.get("/api/v1/carbon/summary", headers=env.s).get_json()
    total_ewaste = snap["ewaste_avoided_g"]["central"]
    # Each party holds its share of the credit, and the same share of e-waste and materials.
    assert abs(buyer["ewaste_avoided_g"] + seller["ewaste_avoided_g"] - total_ewaste) <= 1
    assert buyer["ewaste_avoided_g"] > 0 and seller["ewaste_avoided_g"] > 0
    total_materials = snap["materials_avoided_kg"]["central"]
    assert abs(buyer["materials_avoided_kg"] + seller["materials_avoided_kg"]
               - total_materials) <= 0.002
