"""A device's passport across two trades, and a second credit that reflects its age."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.core.db import db
from marketplace.devices.models import PassportEntry
from tests.factories import create_listing, make_user

IMEI = "356938035643809"


def _complete(env, trade, seller_headers, buyer_headers) -> dict:
    env.pay(trade) if seller_headers is env.s else _pay_as(env, trade, seller_headers)
    resp = env.post(f"/trades/{trade['id']}/ship", seller_headers,
                    {"carrier": "La Poste", "tracking_number": "6A1"})
    assert resp.status_code == 200, resp.get_json()
    resp = env.post(f"/trades/{trade['id']}/confirm", buyer_headers)
    assert resp.status_code == 200, resp.get_json()
    env.drain()
    return resp.get_json()


def _pay_as(env, trade, seller_headers):
    pi = env.confirm_pi(trade)
    env.deliver("payment_intent.succeeded", pi)
    resp = env.post(f"/trades/{trade['id']}/data-wipe", seller_headers,
                    {"method": "nist_800_88_purge", "wiped_on": "2026-11-01",
                     "certificate_ref": "BLANCCO-123"})
    assert resp.status_code == 200, resp.get_json()


def test_passport_after_two_trades_and_second_credit_reflects_age(env):
    first = create_listing(env.client, env.s, imei=IMEI, release_year=2024)
    age_1 = first["footprint"]["assumptions"]["age_years"]
    trade_1 = env.create(listing_id=first["id"])
    done_1 = _complete(env, trade_1, env.s, env.b)
    assert done_1["status"] == "completed"

    # Two years of use by the first buyer (moved back in time rather than waited for).
    with env.app.app_context():
        entry = db.session.scalar(select(PassportEntry))
        db.session.execute(update(PassportEntry).values(
            completed_at=entry.completed_at - timedelta(days=730)))
        db.session.commit()

    # The buyer resells the same phone: one previous owner, and an estimate from its known
    # age (its age at the first trade plus two years), not from the release year alone.
    second = create_listing(env.client, env.b, imei=IMEI, release_year=2024)
    assert second["previous_owners"] == 1
    assumptions = second["footprint"]["assumptions"]
    assert assumptions["age_source"] == "device_passport"
    assert abs(assumptions["age_years"] - (age_1 + 2.0)) < 0.01
    avoided_1 = first["footprint"]["avoided_kgco2e"]["central"]
    avoided_2 = second["footprint"]["avoided_kgco2e"]["central"]
    assert 0 < avoided_2 < avoided_1
    assert assumptions["f_life"][1] < first["footprint"]["assumptions"]["f_life"][1]

    _, third = make_user(env.client, "Third owner")
    trade_2 = env.create(headers=third, listing_id=second["id"])
    done_2 = _complete(env, trade_2, env.b, third)
    assert done_2["footprint_snapshot"]["avoided_kgco2e"]["central"] == avoided_2
    assert done_2["data_wipe"]["certificate_ref"] == "BLANCCO-123"

    resp = env.client.get(f"/api/v1/listings/{second['id']}/passport")
    assert resp.status_code == 200
    passport = resp.get_json()
    assert passport["identified"] is True and passport["previous_owners"] == 2
    history = passport["history"]
    assert [h["category"] for h in history] == ["smartphone", "smartphone"]
    assert history[0]["avoided_g"] == round(avoided_1 * 1000)
    assert history[1]["avoided_g"] == round(avoided_2 * 1000) < history[0]["avoided_g"]
    assert set(history[0]) == {"date", "category", "condition", "avoided_g"}
    assert passport["known_age_years"] >= age_1 + 2.0
    # No personal data and never the IMEI.
    text = json.dumps(passport)
    assert IMEI not in text and "@" not in text
    with env.app.app_context():
        assert len(db.session.scalars(select(PassportEntry)).all()) == 2
    # A third listing by the third owner shows two previous owners.
    third_listing = create_listing(env.client, third, imei=IMEI, release_year=2024)
    assert third_listing["previous_owners"] == 2


def test_unidentified_listing_has_an_empty_passport(env):
    resp = env.client.get(f"/api/v1/listings/{env.listing['id']}/passport")
    assert resp.get_json() == {"identified": False, "previous_owners": 0,
                               "known_age_years": None, "history": []}
