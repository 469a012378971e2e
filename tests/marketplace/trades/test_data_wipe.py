"""Data wiping: no shipping without a declaration; the buyer confirms or reports (dispute)."""

from __future__ import annotations

from marketplace.devices import wiping
from tests.factories import assert_error_shape, create_listing

DECL = {"method": "factory_reset_encrypted", "wiped_on": "2026-11-30"}


def _paid_without_declaration(env, listing_id=None):
    trade = env.create(**({"listing_id": listing_id} if listing_id else {}))
    env.deliver("payment_intent.succeeded", env.confirm_pi(trade))
    return env.get(trade["id"])


def test_phone_cannot_ship_before_a_wipe_declaration(env):
    trade = _paid_without_declaration(env)
    assert trade["data_wipe"] == {"required": True, "declared": False}
    body = assert_error_shape(env.post(f"/trades/{trade['id']}/ship", env.s,
                                       {"carrier": "DHL", "tracking_number": "1"}), 409)
    assert "wiped" in body["message"] and "data_wipe" in body["errors"]
    # Only the seller declares; bad bodies are 422.
    assert_error_shape(env.post(f"/trades/{trade['id']}/data-wipe", env.b, DECL), 403)
    assert_error_shape(env.post(f"/trades/{trade['id']}/data-wipe", env.s,
                                {**DECL, "method": "hammer"}), 422)
    assert_error_shape(env.post(f"/trades/{trade['id']}/data-wipe", env.s,
                                {**DECL, "wiped_on": "2999-01-01"}), 422)
    declared = env.post(f"/trades/{trade['id']}/data-wipe", env.s, DECL).get_json()
    assert declared["data_wipe"]["declared"] and declared["data_wipe"]["buyer_answer"] is None
    shipped = env.ship(declared)
    assert shipped["status"] == "shipped"
    assert_error_shape(env.post(f"/trades/{trade['id']}/data-wipe", env.s, DECL), 409)


def test_a_console_needs_no_declaration(env):
    console = create_listing(env.client, env.s, category="console", brand="Sony",
                             model="PlayStation 5", storage_gb=825, battery_health_pct=None,
                             screen_inches=None)
    trade = _paid_without_declaration(env, console["id"])
    assert trade["data_wipe"] is None
    resp = env.post(f"/trades/{trade['id']}/ship", env.s, {"carrier": "DHL",
                                                            "tracking_number": "1"})
    assert resp.status_code == 200, resp.get_json()


def test_buyer_confirms_the_wipe_and_it_is_counted(env):
    shipped = env.shipped()
    assert_error_shape(env.post(f"/trades/{shipped['id']}/data-wipe/answer", env.s,
                                {"wiped": True}), 403)
    resp = env.post(f"/trades/{shipped['id']}/data-wipe/answer", env.b, {"wiped": True})
    assert resp.status_code == 200 and resp.get_json()["data_wipe"]["buyer_answer"] == \
        "confirmed"
    assert resp.get_json()["status"] == "shipped"
    assert_error_shape(env.post(f"/trades/{shipped['id']}/data-wipe/answer", env.b,
                                {"wiped": False}), 409)
    with env.app.app_context():
        counts = wiping.counts()
    assert counts["declared"] == 1 and counts["confirmed_by_buyer"] == 1
    assert counts["by_method"]["factory_reset_encrypted"] == 1


def test_buyer_reporting_data_opens_a_dispute(env):
    shipped = env.shipped()
    resp = env.post(f"/trades/{shipped['id']}/data-wipe/answer", env.b,
                    {"wiped": False, "note": "Photos of someone's family on it"})
    assert resp.status_code == 200, resp.get_json()
    trade = resp.get_json()
    assert trade["status"] == "disputed" and trade["data_wipe"]["buyer_answer"] == "reported"
    assert "previous owner's data" in trade["dispute_reason"]
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events?limit=50",
                            headers=env.b).get_json()["items"]
    assert events[-1]["transition"] == "dispute"
    assert events[-1]["details"]["data_wipe"] == "reported"
    with env.app.app_context():
        assert wiping.counts()["reported_by_buyer"] == 1
    # The admin resolves it through the usual path.
    resp = env.post(f"/admin/trades/{trade['id']}/resolve", env.a, {"outcome": "refund"})
    assert resp.status_code == 200, resp.get_json()
