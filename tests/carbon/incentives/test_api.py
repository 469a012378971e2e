"""HTTP API: admin rules (CRUD, versions, 422 field errors, roles), rewards, catalogue,
redemption, flags, simulation endpoint."""

from carbon.incentives import catalog, points
from marketplace.core.db import db
from tests.carbon.incentives.helpers import admin_headers, headers_for, make_users, trade
from tests.factories import assert_error_shape

RULES = "/api/v1/admin/incentive-rules"
RULE = {"name": "10 kg, 100 points", "type": "threshold", "params": {"every_kg": 10},
        "reward": {"kind": "points", "amount": 100}, "valid_from": None, "valid_to": None,
        "caps": {"points_per_day": None, "budget_points": None}, "active": True}


def test_rule_crud_versions_and_activation(client, app):
    admin = admin_headers(client, app)
    created = client.post(RULES, json=RULE, headers=admin)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["version"] == 1 and body["params"] == {"every_kg": 10} and body["active"]
    rid = body["id"]
    assert client.get(f"{RULES}/{rid}", headers=admin).get_json()["name"] == RULE["name"]
    updated = client.put(f"{RULES}/{rid}", headers=admin,
                         json={**RULE, "name": "20 kg", "params": {"every_kg": 20}})
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    history = client.get(f"{RULES}/{rid}/versions", headers=admin).get_json()
    assert [(v["version"], v["params"]["every_kg"]) for v in history] == [(1, 10), (2, 20)]
    off = client.post(f"{RULES}/{rid}/deactivate", headers=admin).get_json()
    assert off["active"] is False
    assert client.get(RULES + "?active=true", headers=admin).get_json() == []
    assert client.post(f"{RULES}/{rid}/activate", headers=admin).get_json()["active"]
    assert len(client.get(RULES, headers=admin).get_json()) == 1
    assert_error_shape(client.get(f"{RULES}/999", headers=admin), 404)


def test_rule_validation_errors(client, app):
    admin = admin_headers(client, app)
    cases = [
        ({**RULE, "params": {"every_kg": -1}}, "params.every_kg"),
        ({**RULE, "params": {}}, "params.every_kg"),
        ({**RULE, "params": {"every_kg": 10, "x": 1}}, "params.x"),
        ({**RULE, "type": "lottery"}, "type"),
        ({**RULE, "reward": {"kind": "points", "amount": 0}}, "reward.amount"),
        ({**RULE, "reward": {"kind": "cash"}}, "reward.kind"),
        ({**RULE, "type": "milestone", "params": {"at_kg": 1, "event": "first_trade"}},
         "params"),
        ({**RULE, "type": "streak", "params": {"months": 0}}, "params.months"),
        ({**RULE, "type": "campaign", "params": {"categories": ["laptop"], "multiplier": 2}},
         "valid_to"),
        ({**RULE, "type": "tree", "params": {}}, "reward.kind"),
        ({**RULE, "caps": {"points_per_day": 0}}, "caps.points_per_day"),
        ({**RULE, "valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": 500}}, "reward.currency"),
        ({**RULE, "reward": {"kind": "badge", "badge": "Not A Slug"}}, "reward.badge"),
    ]
    for body, field in cases:
        resp = client.post(RULES, json=body, headers=admin)
        errors = assert_error_shape(resp, 422)["errors"]
        assert field in errors, (body, errors)


def test_rules_are_admin_only(client, app):
    with app.app_context():
        (user,) = make_users(1)
    headers = headers_for(client, app, user)
    assert_error_shape(client.post(RULES, json=RULE, headers=headers), 403)
    assert_error_shape(client.get(RULES), 401)


def test_rewards_catalogue_and_redemption(client, app, drain_jobs):
    admin = admin_headers(client, app)
    assert client.post(RULES, json=RULE, headers=admin).status_code == 201
    item = client.post("/api/v1/admin/rewards/catalog", headers=admin, json={
        "name": "10% off", "cost_points": 150,
        "reward": {"kind": "voucher", "percent_off": 10, "max_off": 2000}}).get_json()
    with app.app_context():
        buyer, seller = make_users(2)
        trade(drain_jobs, 1, buyer, seller, 40_000)  # 20 kg each: 200 points
    me = headers_for(client, app, buyer)
    held = client.get("/api/v1/rewards", headers=me).get_json()
    assert held == {"points_balance": 200, "badges": [], "vouchers": [], "certificates": []}
    assert [i["id"] for i in client.get("/api/v1/rewards/catalog", headers=me).get_json()] == [
        item["id"]]
    redeemed = client.post("/api/v1/rewards/redeem", headers=me,
                           json={"catalog_item_id": item["id"]})
    assert redeemed.status_code == 201, redeemed.get_json()
    body = redeemed.get_json()
    assert body["points_balance"] == 50 and body["voucher"]["percent_off"] == 10
    again = client.post("/api/v1/rewards/redeem", headers=me,
                        json={"catalog_item_id": item["id"]})
    assert "Not enough points" in assert_error_shape(again, 409)["message"]
    held = client.get("/api/v1/rewards", headers=me).get_json()
    assert held["points_balance"] == 50 and len(held["vouchers"]) == 1
    assert_error_shape(client.post("/api/v1/rewards/redeem", headers=me,
                                   json={"catalog_item_id": 999}), 404)
    with app.app_context():
        assert points.verify() == []


def test_catalogue_item_validation_and_update(client, app):
    admin = admin_headers(client, app)
    bad = client.post("/api/v1/admin/rewards/catalog", headers=admin, json={
        "name": "x", "cost_points": 10, "reward": {"kind": "voucher", "percent_off": 300}})
    assert "reward.percent_off" in assert_error_shape(bad, 422)["errors"]
    item = client.post("/api/v1/admin/rewards/catalog", headers=admin, json={
        "name": "5 EUR", "cost_points": 500,
        "reward": {"kind": "voucher", "amount_off": 500, "currency": "EUR"}}).get_json()
    off = client.patch(f"/api/v1/admin/rewards/catalog/{item['id']}", headers=admin,
                       json={"active": False}).get_json()
    assert off["active"] is False
    with app.app_context():
        assert catalog.listing() == []


def test_simulation_endpoint_issues_nothing(client, app, drain_jobs):
    admin = admin_headers(client, app)
    with app.app_context():
        users = make_users(4)
        trade(drain_jobs, 1, users[0], users[1], 30_000)
        trade(drain_jobs, 2, users[2], users[3], 8_000)
    resp = client.post(f"{RULES}/simulate", headers=admin, json={"rule": RULE})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accounts"] == 4 and body["users_rewarded"] == 2
    assert body["rewards"] == 2 and body["points_cost"] == 200
    assert body["rewards_per_user"] == {"1": 2}
    with app.app_context():
        assert points.balance(users[0]) == 0 and db.session.query(
            __import__("carbon.incentives.models", fromlist=["Reward"]).Reward).count() == 0
    bad = client.post(f"{RULES}/simulate", headers=admin,
                      json={"rule": {**RULE, "params": {}}})
    assert_error_shape(bad, 422)
