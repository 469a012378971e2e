"""API contract v1 of incentives: every list paged the same way (two pages through a cursor,
422 on a malformed one), money shapes, Idempotency-Key on every creating request, typed
OpenAPI documents."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carbon.incentives import catalog, points
from carbon.incentives.models import CatalogItem, IncentiveRuleVersion, Reward
from marketplace.core.db import db
from tests.carbon.incentives.helpers import (
    T0,
    admin_headers,
    headers_for,
    make_users,
    points_rule,
    rule,
    trade,
)
from tests.factories import assert_error_shape

API = "/api/v1"
RULES = f"{API}/admin/incentive-rules"
# An integer (the old format), junk, base64 of: null, [null, "x"], [1, 2, 3]
BAD_CURSORS = ["12", "!!", "bnVsbA", "W251bGwsIngiXQ", "WzEsMiwzXQ"]
ID_SHAPED = "W251bGwsMl0"  # [null, 2]: an id cursor, wrong for a (value, id) keyset
VALUE_SHAPED = "WzEsMl0"  # [1, 2]: a (value, id) cursor, wrong for an id keyset


def _walk(client, url, headers, limit=2, **query):
    """Every page of ``url`` (``limit`` a page): the pages' item lists."""
    pages, cursor = [], None
    while True:
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        resp = client.get(url, query_string=params, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def _assert_bad_cursors(client, url, headers, wrong_shape=VALUE_SHAPED):
    for bad in [*BAD_CURSORS, wrong_shape]:
        resp = client.get(url, query_string={"cursor": bad}, headers=headers)
        assert "cursor" in assert_error_shape(resp, 422)["errors"], (url, bad)
    assert_error_shape(client.get(url, query_string={"limit": 0}, headers=headers), 422)


def test_rules_and_versions_are_paged(client, app):
    admin = admin_headers(client, app)
    with app.app_context():
        ids = [points_rule(every_kg=k)["id"] for k in (1, 2, 3)]
        for k in (4, 5):
            client.put(f"{RULES}/{ids[0]}", headers=admin, json={
                "name": f"v{k}", "type": "threshold", "params": {"every_g": k * 1000},
                "reward": {"kind": "points", "amount": 1}})
    pages = _walk(client, RULES, admin)
    assert [[r["id"] for r in p] for p in pages] == [ids[:0:-1], ids[:1]]  # newest first
    assert pages[1][0]["version"] == 3 and pages[1][0]["params"]["every_g"] == 5000
    versions = _walk(client, f"{RULES}/{ids[0]}/versions", admin)
    assert [[v["version"] for v in p] for p in versions] == [[1, 2], [3]]  # oldest first
    assert [v["params"]["every_kgco2e"] for p in versions for v in p] == [1.0, 4.0, 5.0]
    _assert_bad_cursors(client, RULES, admin)
    _assert_bad_cursors(client, f"{RULES}/{ids[0]}/versions", admin)
    assert_error_shape(client.get(f"{RULES}/999/versions", headers=admin), 404)


def test_catalogue_is_paged_cheapest_first_with_ties_by_id(client, app):
    admin = admin_headers(client, app)
    with app.app_context():
        spec = {"kind": "voucher", "percent_off": 5}
        made = [catalog.create({"name": f"i{c}", "cost_points": c, "reward": spec,
                                "active": c != 300}).id for c in (500, 100, 300, 100, 200)]
        (user,) = make_users(1)
    me = headers_for(client, app, user)
    public = _walk(client, f"{API}/rewards/catalog", me)
    assert [[i["cost_points"] for i in p] for p in public] == [[100, 100], [200, 500]]
    assert [i["id"] for i in public[0]] == sorted([made[1], made[3]])
    everything = _walk(client, f"{API}/admin/rewards/catalog", admin, limit=3)
    assert [[i["cost_points"] for i in p] for p in everything] == [[100, 100, 200], [300, 500]]
    _assert_bad_cursors(client, f"{API}/rewards/catalog", me, ID_SHAPED)
    _assert_bad_cursors(client, f"{API}/admin/rewards/catalog", admin, ID_SHAPED)


def test_flags_are_paged(client, app, drain_jobs):
    admin = admin_headers(client, app)
    with app.app_context():
        points_rule(every_kg=1, amount=1)
        (user,) = make_users(1)
        for i in range(3):  # self-trades: flagged
            trade(drain_jobs, i + 1, user, user, 2_000, at=T0 + timedelta(minutes=i))
    pages = _walk(client, f"{API}/admin/incentives/flags", admin)
    assert [[f["trade_id"] for f in p] for p in pages] == [[3, 2], [1]]
    flag = pages[0][0]
    assert flag["reason"] == "self_trade" and flag["amount_g"] == 2_000
    assert flag["amount_kgco2e"] == 2.0
    _assert_bad_cursors(client, f"{API}/admin/incentives/flags", admin)


def test_rewards_summary_and_paged_badges_certificates_vouchers(client, app, drain_jobs):
    with app.app_context():
        rule("threshold", {"every_kg": 1}, {"kind": "badge", "badge": "every-kg"})
        rule("tree", {"every_kg": 2}, {"kind": "tree"})
        rule("milestone", {"event": "first_trade"},
             {"kind": "voucher", "amount_off": 300, "currency": "EUR", "min_price": 1000})
        buyer, seller = make_users(2)
        trade(drain_jobs, 1, buyer, seller, 6_000)  # 3 kg each: 3 badges, 1 tree, 1 voucher
        trade(drain_jobs, 2, buyer, seller, 8_000)  # 7 kg: 4 badges, 2 trees (a certificate)
        badge_ids = list(db.session.scalars(select(Reward.id).where(
            Reward.user_id == buyer, Reward.kind == "badge").order_by(Reward.id.desc())))
    me = headers_for(client, app, buyer)
    summary = client.get(f"{API}/rewards", headers=me).get_json()
    assert summary == {"points_balance": 0, "counts": {
        "badges": 7, "vouchers": 1, "vouchers_available": 1, "certificates": 2, "trees": 3}}
    badges = _walk(client, f"{API}/rewards/badges", me, limit=1)
    assert [[b["id"] for b in p] for p in badges] == [badge_ids[:1], badge_ids[1:]]
    assert [[b["units"] for b in p] for p in badges] == [[4], [3]]
    assert {b["badge"] for p in badges for b in p} == {"every-kg"}
    certificates = _walk(client, f"{API}/rewards/certificates", me, limit=1)
    assert [[(c["trees"], c["cumulative_g"]) for c in p] for p in certificates] == [
        [(2, 6000)], [(1, 2000)]]
    assert certificates[0][0]["cumulative_kgco2e"] == 6.0
    assert all(c["certificate_id"] for p in certificates for c in p)
    (vouchers,) = _walk(client, f"{API}/rewards/vouchers", me)
    (voucher,) = vouchers
    assert voucher["amount_off"] == {"amount": 300, "currency": "EUR"}
    assert voucher["min_price"] == {"amount": 1000, "currency": "EUR"}
    assert voucher["max_off"] is None and voucher["percent_off"] is None
    assert voucher["currency"] == "EUR" and voucher["status"] == "available"
    assert _walk(client, f"{API}/rewards/vouchers", me, status="used") == [[]]
    assert_error_shape(client.get(f"{API}/rewards/vouchers?status=revoked", headers=me), 422)
    for url in ("badges", "certificates", "vouchers"):
        _assert_bad_cursors(client, f"{API}/rewards/{url}", me)


def test_rule_voucher_reward_takes_and_shows_money(client, app):
    admin = admin_headers(client, app)
    body = {"name": "5% off", "type": "milestone", "params": {"at_g": 2500},
            "reward": {"kind": "voucher", "percent_off": 5,
                       "max_off": {"amount": 1500, "currency": "GBP"},
                       "min_price": {"amount": 10000, "currency": "GBP"}, "expires_days": 7}}
    resp = client.post(RULES, json=body, headers=admin)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["params"] == {"at_g": 2500, "at_kgco2e": 2.5}
    assert created["reward"] == {"kind": "voucher", "percent_off": 5,
                                 "max_off": {"amount": 1500, "currency": "GBP"},
                                 "min_price": {"amount": 10000, "currency": "GBP"},
                                 "currency": "GBP", "expires_days": 7}
    with app.app_context():  # stored as the engine issues vouchers: minor units + currency
        stored = db.session.scalars(select(IncentiveRuleVersion)).one()
        assert stored.reward == {"kind": "voucher", "percent_off": 5, "max_off": 1500,
                                 "min_price": 10000, "currency": "GBP", "expires_days": 7}
        assert stored.params == {"at_kg": 2.5}


def _post(client, url, body, headers, key, method="post"):
    key = f"{method}:{url}:{key}"  # keys are per user: one per operation under test
    return getattr(client, method)(url, json=body, headers={**headers, "Idempotency-Key": key})


def _assert_idempotent(client, url, body, other_body, headers, count, method="post",
                       status=201):
    """Same key and body: the first response replayed, nothing done twice; same key, other
    body: 422; ``count()`` measures what the request creates."""
    before = count()
    first = _post(client, url, body, headers, "k-1", method)
    assert first.status_code == status, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    after_first = count()
    again = _post(client, url, body, headers, "k-1", method)
    assert again.status_code == status and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count() == after_first
    other = _post(client, url, other_body, headers, "k-1", method)
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]
    assert count() == after_first
    fresh = _post(client, url, body, headers, "k-2", method)  # another key: done again
    assert fresh.status_code == status and "Idempotent-Replayed" not in fresh.headers
    return before, after_first, count()


def _counter(app, model):
    def count():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))
    return count


RULE = {"name": "r", "type": "threshold", "params": {"every_g": 1000},
        "reward": {"kind": "points", "amount": 10}}


def test_rule_create_and_new_version_are_idempotent(client, app):
    admin = admin_headers(client, app)
    versions = _counter(app, IncentiveRuleVersion)
    assert _assert_idempotent(client, RULES, RULE, {**RULE, "name": "other"}, admin,
                              versions) == (0, 1, 2)
    rid = client.get(RULES, headers=admin).get_json()["items"][-1]["id"]
    url = f"{RULES}/{rid}"
    assert _assert_idempotent(client, url, {**RULE, "name": "v2"}, {**RULE, "name": "v3"},
                              admin, versions, method="put", status=200) == (2, 3, 4)
    assert client.get(url, headers=admin).get_json()["version"] == 3


def test_catalogue_create_is_idempotent(client, app):
    admin = admin_headers(client, app)
    body = {"name": "5 EUR", "cost_points": 500,
            "reward": {"kind": "voucher", "amount_off": {"amount": 500, "currency": "EUR"}}}
    other = {**body, "cost_points": 600}
    assert _assert_idempotent(client, f"{API}/admin/rewards/catalog", body, other, admin,
                              _counter(app, CatalogItem)) == (0, 1, 2)


def test_redemption_is_idempotent(client, app, drain_jobs):
    with app.app_context():
        points_rule(every_kg=1, amount=100)
        buyer, seller = make_users(2)
        trade(drain_jobs, 1, buyer, seller, 20_000)  # 10 kg: 1000 points
        cheap = catalog.create({"name": "a", "cost_points": 100,
                                "reward": {"kind": "voucher", "percent_off": 5}}).id
        dear = catalog.create({"name": "b", "cost_points": 200,
                               "reward": {"kind": "voucher", "percent_off": 9}}).id
    me = headers_for(client, app, buyer)

    def spent():
        with app.app_context():
            return 1000 - points.balance(buyer)

    assert _assert_idempotent(client, f"{API}/rewards/redeem", {"catalog_item_id": cheap},
                              {"catalog_item_id": dear}, me, spent) == (0, 100, 200)


def test_simulation_is_idempotent(client, app, drain_jobs):
    admin = admin_headers(client, app)
    with app.app_context():
        a, b = make_users(2)
        trade(drain_jobs, 1, a, b, 30_000)
    url = f"{RULES}/simulate"
    first = _post(client, url, {"rule": RULE}, admin, "sim-1")
    assert first.status_code == 200 and first.get_json()["points_cost"] == 300
    with app.app_context():  # more history: a new run would answer differently
        trade(drain_jobs, 2, a, b, 30_000)
    again = _post(client, url, {"rule": RULE}, admin, "sim-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    fresh = _post(client, url, {"rule": RULE}, admin, "sim-2")
    assert fresh.get_json()["points_cost"] == 600
    other = _post(client, url, {"rule": {**RULE, "name": "x"}}, admin, "sim-1")
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]


def _schema(spec, ref_or_schema):
    ref = ref_or_schema.get("$ref") or (
        ref_or_schema.get("allOf") or ref_or_schema.get("anyOf") or [{}])[0].get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_openapi_documents_typed_shapes(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]

    def body_schema(path, method):
        op = paths[f"{API}{path}"][method]
        return _schema(spec, op["requestBody"]["content"]["application/json"]["schema"])

    def response_schema(path, method, code):
        op = paths[f"{API}{path}"][method]
        return _schema(spec, op["responses"][code]["content"]["application/json"]["schema"])

    rule_in = body_schema("/admin/incentive-rules", "post")
    for name in ("params", "reward", "caps"):
        nested = _schema(spec, rule_in["properties"][name])
        assert nested.get("type") == "object" and nested["properties"], name
    reward_in = _schema(spec, rule_in["properties"]["reward"])
    assert reward_in["properties"]["percent_off"]["maximum"] == 100
    money_in = _schema(spec, reward_in["properties"]["amount_off"])
    assert set(money_in["required"]) == {"amount", "currency"}
    assert money_in["properties"]["amount"]["minimum"] == 1
    params_in = _schema(spec, rule_in["properties"]["params"])
    assert params_in["properties"]["every_g"]["type"] == "integer"
    assert params_in["properties"]["months"]["maximum"] == 120
    assert "enum" in rule_in["properties"]["type"]

    rule_out = _schema(spec, response_schema("/admin/incentive-rules", "post", "201"))
    for name in ("params", "reward", "caps"):
        assert _schema(spec, rule_out["properties"][name])["properties"], name
    page = response_schema("/admin/incentive-rules", "get", "200")
    assert set(page["properties"]) == {"items", "next_cursor"}
    voucher = _schema(spec, _schema(spec, response_schema(
        "/rewards/vouchers", "get", "200")["properties"]["items"]["items"]))
    assert set(_schema(spec, voucher["properties"]["amount_off"])["properties"]) == {
        "amount", "currency"}
    for path in ("/admin/incentive-rules", "/admin/rewards/catalog", "/rewards/redeem",
                 "/admin/incentive-rules/simulate"):
        names = {p["name"] for p in paths[f"{API}{path}"]["post"].get("parameters", [])}
        assert "Idempotency-Key" in names, path
    put = paths[f"{API}/admin/incentive-rules/{{rule_id}}"]["put"]
    assert "Idempotency-Key" in {p["name"] for p in put["parameters"]}
    account = paths[f"{API}/carbon/account"]["get"]
    assert "If-None-Match" in {p["name"] for p in account["parameters"]}
    assert "304" in account["responses"]
    grams = _schema(spec, account["responses"]["200"]["content"]["application/json"]["schema"])
    assert grams["properties"]["balance_g"]["type"] == "integer"
    assert "grams" in grams["properties"]["balance_g"]["description"].lower()


@pytest.mark.parametrize("path", ["/rewards", "/rewards/badges", "/rewards/catalog"])
def test_reward_reads_need_a_token(client, path):
    assert_error_shape(client.get(f"{API}{path}"), 401)
