"""Done-when: a member buys two devices for the organisation; its report lists them with the
right totals, the organisation's account is credited and the member's is not."""

from __future__ import annotations

import csv
import io

from carbon.ledger import verify
from tests.factories import assert_error_shape, create_listing, make_user
from tests.marketplace.organisations.conftest import add_member, create_org

EVIL_NAME = "=HYPERLINK(\"http://x.example\",\"Lyon\")"


def _buy(env, listing_id, org_id):
    trade = env.create(listing_id=listing_id, organisation_id=org_id)
    assert trade["buyer_organisation_id"] == org_id
    trade = env.ship(env.pay(trade))
    resp = env.post(f"/trades/{trade['id']}/confirm", env.b)
    assert resp.status_code == 200, resp.get_json()
    env.drain()
    return env.get(trade["id"])


def test_member_buys_two_devices_for_the_organisation(env):
    client = env.client
    owner, o = make_user(client, "Owner")
    org = create_org(client, o, name=EVIL_NAME)
    add_member(client, o, org["id"], env.buyer, env.b, "buyer")
    laptop = create_listing(client, env.s, title="MacBook Air M1 256GB", category="laptop",
                            model="MacBook Air M1", storage_gb=256, release_year=2020,
                            battery_health_pct=None, price={"amount": 60000, "currency": "EUR"})
    trades = [_buy(env, env.listing["id"], org["id"]), _buy(env, laptop["id"], org["id"])]
    assert [t["status"] for t in trades] == ["completed", "completed"]
    snaps = [t["footprint_snapshot"] for t in trades]
    total_g = sum(round(s["avoided_kgco2e"]["central"] * 1000) for s in snaps)
    assert total_g > 0

    # The member's own account is not credited (nor pending); the organisation's is.
    mine = client.get("/api/v1/carbon/account", headers=env.b).get_json()
    assert (mine["balance_g"], mine["pending_g"], mine["credited_trades"]) == (0, 0, 0)
    seller = client.get("/api/v1/carbon/account", headers=env.s).get_json()
    account = client.get(f"/api/v1/organisations/{org['id']}/carbon/account",
                         headers=env.b).get_json()
    assert account["balance_g"] > 0 and account["balance_g"] + seller["balance_g"] == total_g

    resp = client.get(f"/api/v1/organisations/{org['id']}/impact", headers=o)
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    bought = report["bought"]
    assert bought["count"] == 2 and report["sold"]["count"] == 0
    assert bought["spend"] == [{"amount": 99000, "currency": "EUR"}]
    assert [(c["category"], c["count"]) for c in bought["by_category"]] == [
        ("laptop", 1), ("smartphone", 1)]
    for bound in ("low", "central", "high"):
        assert abs(bought["avoided_kgco2e"][bound]
                   - sum(s["avoided_kgco2e"][bound] for s in snaps)) < 0.002
    assert bought["ewaste_avoided_g"] == sum(s["ewaste_avoided_g"]["central"] for s in snaps)
    assert (bought["refurbished"], bought["peer_to_peer"], bought["share_refurbished"]) == (
        0, 2, 0.0)
    assert report["credited_g"] == account["balance_g"]
    assert report["methodology_versions"] == sorted({s["methodology_version"] for s in snaps})

    # CSV: a header and one row per category, the organisation's name neutralised.
    resp = client.get(f"/api/v1/organisations/{org['id']}/impact?format=csv", headers=env.b)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["direction"], r["category"], r["count"], r["spend_minor_units"])
            for r in rows] == [("bought", "laptop", "1", "60000"),
                               ("bought", "smartphone", "1", "39000")]
    assert all(r["organisation"] == "'" + EVIL_NAME for r in rows)

    # Members only; a viewer reads it; a stranger gets 404; bad ranges are 422.
    _, x = make_user(client, "Stranger")
    assert_error_shape(client.get(f"/api/v1/organisations/{org['id']}/impact", headers=x), 404)
    assert_error_shape(client.get(f"/api/v1/organisations/{org['id']}/impact"
                                  "?from=2026-02-01&to=2026-01-01", headers=o), 422)
    assert_error_shape(client.get(f"/api/v1/organisations/{org['id']}/impact?format=xls",
                                  headers=o), 422)
    with env.app.app_context():
        report = verify.run()
        assert report.ok, report.render()


def test_buying_for_an_organisation_needs_a_buying_role(env):
    owner, o = make_user(env.client, "Owner")
    org = create_org(env.client, o)
    add_member(env.client, o, org["id"], env.buyer, env.b, "viewer")
    body = assert_error_shape(env.client.post("/api/v1/trades", headers=env.b, json={
        "listing_id": env.listing["id"], "organisation_id": org["id"]}), 422)
    assert "organisation_id" in body["errors"]
