"""HTTP API: admin rules (CRUD, versions, 422 field errors, roles), rewards, catalogue,
redemption, flags, simulation endpoint."""

from sqlalchemy import select

from carbon.incentives import catalog, points
from carbon.incentives.models import Reward
from marketplace.core.audit import AuditEntry
from marketplace.core.db import db
from tests.carbon.incentives.helpers import admin_headers, headers_for, make_users, trade
from tests.factories import assert_error_shape

RULES = "/api/v1/admin/incentive-rules"
RULE = {"name": "10 kg, 100 points", "type": "threshold", "params": {"every_g": 10_000},
        "reward": {"kind": "points", "amount": 100}, "valid_from": None, "valid_to": None,
        "caps": {"points_per_day": None, "budget_points": None}, "active": True}


def test_rule_crud_versions_and_activation(client, app):
    admin = admin_headers(client, app)
    created = client.post(RULES, json=RULE, headers=admin)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["version"] == 1 and body["active"]
    assert body["params"] == {"every_g": 10_000, "every_kgco2e": 10.0}
    assert body["reward"] == {"kind": "points", "amount": 100}
    rid = body["id"]
    assert client.get(f"{RULES}/{rid}", headers=admin).get_json()["name"] == RULE["name"]
    updated = client.put(f"{RULES}/{rid}", headers=admin,
                         json={**RULE, "name": "20 kg", "params": {"every_g": 20_000}})
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    history = client.get(f"{RULES}/{rid}/versions", headers=admin).get_json()
    assert [(v["version"], v["params"]["every_g"]) for v in history["items"]] == [
        (1, 10_000), (2, 20_000)]
    assert history["next_cursor"] is None
    off = client.post(f"{RULES}/{rid}/deactivate", headers=admin).get_json()
    assert off["active"] is False
    assert client.get(RULES + "?active=true", headers=admin).get_json() == {
        "items": [], "next_cursor": None}
    assert client.post(f"{RULES}/{rid}/activate", headers=admin).get_json()["active"]
    listed = client.get(RULES, headers=admin).get_json()
    assert [r["id"] for r in listed["items"]] == [rid] and listed["items"][0]["version"] == 2
    assert_error_shape(client.get(f"{RULES}/999", headers=admin), 404)
    with app.app_context():  # every change is in the audit log, with the admin who made it
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == [
            "incentive_rule.create", "incentive_rule.update", "incentive_rule.deactivate",
            "incentive_rule.activate"]
        assert {(e.subject_type, e.subject_id) for e in entries} == {("incentive_rule", str(rid))}
        assert all(e.actor_id is not None for e in entries)


def test_rule_validation_errors(client, app):
    admin = admin_headers(client, app)
    cases = [
        ({**RULE, "params": {"every_g": -1}}, "params.every_g"),
        ({**RULE, "params": {"every_g": 1.5}}, "params.every_g"),
        ({**RULE, "params": {}}, "params.every_g"),
        ({**RULE, "type": "tree", "params": {"at_g": 5},
          "reward": {"kind": "tree"}}, "params.at_g"),
        ({**RULE, "params": {"every_g": 10, "x": 1}}, "params.x"),
        ({**RULE, "params": {"every_kg": 10}}, "params.every_kg"),  # grams only (every_g)
        ({**RULE, "type": "lottery"}, "type"),
        ({**RULE, "reward": {"kind": "points", "amount": 0}}, "reward.amount"),
        ({**RULE, "reward": {"kind": "cash"}}, "reward.kind"),
        ({**RULE, "type": "milestone", "params": {"at_g": 1, "event": "first_trade"}},
         "params"),
        ({**RULE, "type": "milestone", "params": {"event": "birthday"}}, "params.event"),
        ({**RULE, "type": "streak", "params": {"months": 0}}, "params.months"),
        ({**RULE, "type": "campaign", "params": {"categories": ["laptop"], "multiplier": 2}},
         "valid_to"),
        ({**RULE, "type": "tree", "params": {}}, "reward.kind"),
        ({**RULE, "caps": {"points_per_day": 0}}, "caps.points_per_day"),
        ({**RULE, "valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": 500}}, "reward.amount_off"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": {"amount": 500}}},
         "reward.amount_off.currency"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": {"amount": 0, "currency": "EUR"}}},
         "reward.amount_off.amount"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": {"amount": 5, "currency": "XXX"}}},
         "reward.amount_off.currency"),
        ({**RULE, "reward": {"kind": "voucher", "percent_off": 10,
                             "max_off": {"amount": 500, "currency": "EUR"},
                             "min_price": {"amount": 5000, "currency": "USD"}}},
         "reward.currency"),
        ({**RULE, "reward": {"kind": "voucher", "amount_off": {"amount": 5, "currency": "EUR"},
                             "max_off": {"amount": 500, "currency": "EUR"}}},
         "reward.max_off"),
        ({**RULE, "reward": {"kind": "voucher", "expires_days": 30}}, "reward"),
        ({**RULE, "reward": {"kind": "points", "amount": 5, "badge": "x"}}, "reward.badge"),
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
        "reward": {"kind": "voucher", "percent_off": 10,
                   "max_off": {"amount": 2000, "currency": "EUR"}}}).get_json()
    assert item["reward"] == {"kind": "voucher", "percent_off": 10,
                              "max_off": {"amount": 2000, "currency": "EUR"},
                              "currency": "EUR", "expires_days": 30}
    with app.app_context():
        buyer, seller = make_users(2)
        trade(drain_jobs, 1, buyer, seller, 40_000)  # 20 kg each: 200 points
    me = headers_for(client, app, buyer)
    held = client.get("/api/v1/rewards", headers=me).get_json()
    assert held == {"points_balance": 200, "counts": {
        "badges": 0, "vouchers": 0, "vouchers_available": 0, "certificates": 0, "trees": 0}}
    assert client.get("/api/v1/rewards/vouchers", headers=me).get_json() == {
        "items": [], "next_cursor": None}
    listed = client.get("/api/v1/rewards/catalog", headers=me).get_json()
    assert [i["id"] for i in listed["items"]] == [item["id"]] and listed["next_cursor"] is None
    redeemed = client.post("/api/v1/rewards/redeem", headers=me,
                           json={"catalog_item_id": item["id"]})
    assert redeemed.status_code == 201, redeemed.get_json()
    body = redeemed.get_json()
    assert body["points_balance"] == 50 and body["voucher"]["percent_off"] == 10
    assert body["voucher"]["max_off"] == {"amount": 2000, "currency": "EUR"}
    assert body["voucher"]["amount_off"] is None and body["voucher"]["currency"] == "EUR"
    again = client.post("/api/v1/rewards/redeem", headers=me,
                        json={"catalog_item_id": item["id"]})
    assert "Not enough points" in assert_error_shape(again, 409)["message"]
    held = client.get("/api/v1/rewards", headers=me).get_json()
    assert held["points_balance"] == 50 and held["counts"]["vouchers"] == 1
    mine = client.get("/api/v1/rewards/vouchers", headers=me).get_json()["items"]
    assert [v["code"] for v in mine] == [body["voucher"]["code"]]
    assert client.get("/api/v1/rewards/vouchers?status=used", headers=me).get_json()[
        "items"] == []
    assert_error_shape(client.post("/api/v1/rewards/redeem", headers=me,
                                   json={"catalog_item_id": 999}), 404)
    with app.app_context():
        assert points.verify() == []


def test_catalogue_item_validation_and_update(client, app):
    admin = admin_headers(client, app)
    bad = client.post("/api/v1/admin/rewards/catalog", headers=admin, json={
        "name": "x", "cost_points": 10, "reward": {"kind": "voucher", "percent_off": 300}})
    assert "reward.percent_off" in assert_error_shape(bad, 422)["errors"]
    for reward, field in [
            ({"kind": "voucher", "amount_off": 500, "currency": "EUR"}, "reward.amount_off"),
            ({"kind": "points", "amount": 5}, "reward.kind"),
            ({"kind": "voucher", "percent_off": 5, "min_price": {"amount": 1,
                                                                 "currency": "eur"}},
             "reward.min_price.currency")]:
        bad = client.post("/api/v1/admin/rewards/catalog", headers=admin,
                          json={"name": "x", "cost_points": 10, "reward": reward})
        assert field in assert_error_shape(bad, 422)["errors"], reward
    item = client.post("/api/v1/admin/rewards/catalog", headers=admin, json={
        "name": "5 EUR", "cost_points": 500,
        "reward": {"kind": "voucher", "amount_off": {"amount": 500, "currency": "EUR"},
                   "min_price": {"amount": 2000, "currency": "EUR"}}}).get_json()
    assert item["reward"]["amount_off"] == {"amount": 500, "currency": "EUR"}
    assert item["reward"]["min_price"] == {"amount": 2000, "currency": "EUR"}
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
        assert points.balance(users[0]) == 0 and db.session.query(Reward).count() == 0
    bad = client.post(f"{RULES}/simulate", headers=admin,
                      json={"rule": {**RULE, "params": {}}})
    assert_error_shape(bad, 422)
