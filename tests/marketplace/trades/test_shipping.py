"""Shipping with a tracked carrier: the seller ships with a known carrier, the poll job asks
the carrier (a tiny local HTTP server standing in for the ``reloop_test`` carrier's API),
delivery starts the 3-day confirm window, and the trade auto-confirms after it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.trades import services
from marketplace.trades.shipping import tracking
from marketplace.trades.shipping.models import Shipment
from tests.factories import assert_error_shape, make_user
from tests.stripe_fixtures import JsonHandler
from workers import jobs


class FakeCarrier:
    """``GET /parcels/{number}/events`` → ``{"events": [...]}``; unknown parcels 404."""

    def __init__(self):
        self.parcels: dict[str, list[dict]] = {}
        self.fail = False
        self.requests: list[str] = []
        fake = self

        class Handler(JsonHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                fake.requests.append(self.path)
                parts = self.path.strip("/").split("/")
                if fake.fail:
                    status, body = 503, {"error": "down"}
                elif len(parts) == 3 and parts[0] == "parcels" and parts[2] == "events" \
                        and parts[1] in fake.parcels:
                    status, body = 200, {"events": fake.parcels[parts[1]]}
                else:
                    status, body = 404, {"error": "unknown parcel"}
                self.reply(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def add(self, number: str, status: str, at: datetime, where: str = "Lyon") -> None:
        self.parcels.setdefault(number, []).append(
            {"status": status, "occurred_at": at.isoformat(), "description": status,
             "location": where})


@pytest.fixture
def carrier(app, monkeypatch):
    fake = FakeCarrier()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "TEST_CARRIER_URL", fake.url)
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(10)


def _poll(env) -> int:
    with env.app.app_context():
        return jobs.poll_shipments()


def _due_now(env, trade_id):
    with env.app.app_context():
        db.session.execute(
            Shipment.__table__.update().where(Shipment.trade_id == trade_id)
            .values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()


def test_tracked_parcel_auto_confirms_three_days_after_delivery(env, carrier):
    trade = env.pay(env.create())
    resp = env.post(f"/trades/{trade['id']}/ship", env.s,
                    {"carrier": "reloop_test", "tracking_number": "RT1001"})
    assert resp.status_code == 200, resp.get_json()
    shipped = resp.get_json()
    # Tracked: no auto-confirm until the parcel is delivered.
    assert shipped["status"] == "shipped" and shipped["confirm_by"] is None
    assert shipped["shipment"] == {"carrier": "reloop_test", "tracking_number": "RT1001"}
    t0 = datetime.now(UTC).replace(microsecond=0)
    carrier.add("RT1001", "in_transit", t0 - timedelta(hours=2), "Paris")
    assert _poll(env) == 1
    view = env.client.get(f"/api/v1/trades/{trade['id']}/shipment", headers=env.b).get_json()
    assert view["tracked"] is True and view["status"] == "in_transit"
    assert [e["location"] for e in view["events"]] == ["Paris"]
    assert _poll(env) == 0  # not due again before the interval
    delivered_at = t0 - timedelta(hours=1)
    carrier.add("RT1001", "out_for_delivery", t0 - timedelta(hours=1, minutes=30))
    carrier.add("RT1001", "delivered", delivered_at)
    _due_now(env, trade["id"])
    assert _poll(env) == 1
    seller_view = env.client.get(f"/api/v1/trades/{trade['id']}/shipment",
                                 headers=env.s).get_json()
    assert seller_view["status"] == "delivered"
    assert [e["status"] for e in seller_view["events"]] == ["in_transit", "out_for_delivery",
                                                           "delivered"]
    assert datetime.fromisoformat(seller_view["delivered_at"]) == delivered_at
    got = env.get(trade["id"])
    confirm_by = datetime.fromisoformat(got["confirm_by"])
    assert confirm_by == delivered_at + timedelta(days=3)
    events = env.client.get(f"/api/v1/trades/{trade['id']}/events",
                            headers=env.b).get_json()["items"]
    assert events[-1]["transition"] == "delivered"
    env.drain()  # both parties are told the parcel arrived (one notification each)
    for headers in (env.b, env.s):
        notes = env.client.get("/api/v1/users/me/notifications?limit=100",
                               headers=headers).get_json()["items"]
        assert [n["kind"] for n in notes].count("trade.delivered") == 1
    # Polling again changes nothing (delivered parcels are no longer polled).
    _due_now(env, trade["id"])
    assert _poll(env) == 0
    # Not yet due: the advance job leaves it; at the deadline it auto-confirms.
    with env.app.app_context():
        assert services.advance_due() == 0
        assert services.advance_due(now=confirm_by + timedelta(seconds=1)) == 1
    env.drain()
    done = env.get(trade["id"])
    assert done["status"] == "completed" and done["completed_at"] is not None
    payouts = env.client.get("/api/v1/users/me/payouts", headers=env.s).get_json()["items"]
    assert [p["trade_id"] for p in payouts] == [trade["id"]]


def test_untracked_carrier_keeps_the_window_from_shipping_and_unknown_carriers_fail(env):
    trade = env.pay(env.create())
    url = f"/trades/{trade['id']}/ship"
    resp = env.post(url, env.s, {"carrier": "Pigeon Express", "tracking_number": "P1"})
    assert "carrier" in assert_error_shape(resp, 422)["errors"]
    # The test carrier is offered only where TEST_CARRIER_URL is set.
    resp = env.post(url, env.s, {"carrier": "reloop_test", "tracking_number": "P1"})
    assert "carrier" in assert_error_shape(resp, 422)["errors"]
    shipped = env.post(url, env.s, {"carrier": "Royal Mail", "tracking_number": "P1"})
    assert shipped.status_code == 200
    body = shipped.get_json()
    assert body["shipment"]["carrier"] == "royal_mail" and body["confirm_by"] is not None
    view = env.client.get(f"/api/v1/trades/{trade['id']}/shipment", headers=env.s).get_json()
    assert view["tracked"] is False and view["carrier_name"] == "Royal Mail"
    assert view["events"] == []


def test_shipment_is_for_the_parties_only(env, carrier):
    trade = env.pay(env.create())
    url = f"/api/v1/trades/{trade['id']}/shipment"
    assert_error_shape(env.client.get(url, headers=env.b), 404)  # not shipped yet
    env.post(f"/trades/{trade['id']}/ship", env.s,
             {"carrier": "reloop_test", "tracking_number": "RT2"})
    _, stranger = make_user(env.client)
    assert_error_shape(env.client.get(url, headers=stranger), 404)
    assert_error_shape(env.client.get(url), 401)
    assert env.client.get(url, headers=env.b).status_code == 200
    assert env.client.get(url, headers=env.s).status_code == 200


def test_carrier_down_backs_off_without_holding_locks(env, carrier):
    trade = env.pay(env.create())
    env.post(f"/trades/{trade['id']}/ship", env.s,
             {"carrier": "reloop_test", "tracking_number": "RT3"})
    carrier.fail = True
    assert _poll(env) == 0
    with env.app.app_context():
        shipment = db.session.scalar(select(Shipment).where(Shipment.trade_id == trade["id"]))
        assert shipment.poll_failures == 1 and "503" in shipment.last_error
        assert shipment.next_poll_at > datetime.now(UTC) + timedelta(minutes=20)
    carrier.fail = False
    carrier.add("RT3", "delivered", datetime.now(UTC) - timedelta(days=4))
    _due_now(env, trade["id"])
    assert _poll(env) == 1
    # Delivered four days ago: the window has already run out.
    with env.app.app_context():
        assert services.advance_due() == 1
    assert env.get(trade["id"])["status"] == "completed"
    with env.app.app_context():
        assert tracking.poll_due() == 0
