"""Take-back: verified recyclers, handovers, one recycling credit per handover (outbox), and
incentive rules targeting recycling credits."""

from __future__ import annotations

from sqlalchemy import select, update

from carbon.estimator.recycling import recycling_credit_g
from carbon.ledger import recycling as ledger_recycling
from carbon.ledger import verify
from carbon.ledger.models import EntryKind, LedgerTransaction
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from tests.factories import assert_error_shape, make_admin, make_user
from tests.marketplace.organisations.conftest import create_org

CERTS = {"certifications": [{"scheme": "WEEELABEX", "certificate_id": "WX-2031",
                             "valid_until": "2027-06-30"}]}


def _recycler(client, app):
    _, r = make_user(client, "Recycler")
    org = create_org(client, r, name="Envie Rhône", kind="recycler")
    admin = make_admin(client, app)
    return org, r, admin


def _handover(client, headers, recycler_id, **extra):
    return client.post("/api/v1/recycling", headers=headers, json={
        "category": "smartphone", "condition": "broken", "device": "iPhone 6, cracked",
        "recycler_id": recycler_id, "method": "drop_off", **extra})


def _rule(client, admin, name, kinds):
    resp = client.post("/api/v1/admin/incentive-rules", headers=admin, json={
        "name": name, "type": "milestone", "params": {"at_g": 1, "credit_kinds": kinds},
        "reward": {"kind": "badge", "badge": name}})
    assert resp.status_code == 201, resp.get_json()


def test_handover_is_credited_once_even_when_the_job_runs_twice(client, app, drain_jobs):
    org, r, admin = _recycler(client, app)
    user, u = make_user(client, "Giver")
    # Not verified yet: no handover; only admins verify; certifications are data.
    assert "recycler_id" in assert_error_shape(_handover(client, u, org["id"]), 422)["errors"]
    assert_error_shape(client.post(f"/api/v1/admin/organisations/{org['id']}/verify",
                                   headers=r, json=CERTS), 403)
    bad = {"certifications": [{"scheme": "ISO9001", "certificate_id": "x"}]}
    assert_error_shape(client.post(f"/api/v1/admin/organisations/{org['id']}/verify",
                                   headers=admin, json=bad), 422)
    verified = client.post(f"/api/v1/admin/organisations/{org['id']}/verify", headers=admin,
                           json=CERTS).get_json()
    assert verified["verified"] and verified["certifications"] == [
        {"scheme": "WEEELABEX", "certificate_id": "WX-2031", "valid_until": "2027-06-30"}]
    assert [o["id"] for o in client.get("/api/v1/recyclers").get_json()["items"]] == [org["id"]]
    _rule(client, admin, "recycler", ["recycling"])
    _rule(client, admin, "trader", ["trade"])

    resp = _handover(client, u, org["id"])
    assert resp.status_code == 201, resp.get_json()
    h = resp.get_json()
    assert h["status"] == "requested" and h["credit_g"] is None
    # The giver cannot confirm; the outcome needs the receipt first.
    assert_error_shape(client.post(f"/api/v1/recycling/{h['id']}/receive", headers=u), 403)
    outcome = {"parts_harvested": 3, "materials_recovered_g": 120}
    assert_error_shape(client.post(f"/api/v1/recycling/{h['id']}/outcome", headers=r,
                                   json=outcome), 409)
    assert client.post(f"/api/v1/recycling/{h['id']}/receive", headers=r).get_json()[
        "status"] == "received"
    done = client.post(f"/api/v1/recycling/{h['id']}/outcome", headers=r, json=outcome)
    assert done.status_code == 200, done.get_json()
    done = done.get_json()
    expected = recycling_credit_g("smartphone")
    assert done["status"] == "recycled" and done["credit_g"] == expected > 0
    assert done["credit_low_g"] < expected < done["credit_high_g"]
    assert_error_shape(client.post(f"/api/v1/recycling/{h['id']}/outcome", headers=r,
                                   json=outcome), 409)
    drain_jobs()

    def balance():
        return client.get("/api/v1/carbon/account", headers=u).get_json()["balance_g"]

    assert balance() == expected
    entries = client.get("/api/v1/carbon/entries", headers=u).get_json()["items"]
    assert [(e["kind"], e["amount_g"]) for e in entries] == [("recycling", expected)]
    badges = client.get("/api/v1/rewards/badges", headers=u).get_json()["items"]
    assert [b["badge"] for b in badges] == ["recycler"]
    # Simulated, the two rules give what evaluation gave: the recycler's badge, no trader's.
    for name, kinds, rewards in (("recycler", ["recycling"], 1), ("trader", ["trade"], 0)):
        sim = client.post("/api/v1/admin/incentive-rules/simulate", headers=admin, json={
            "rule": {"name": name, "type": "milestone",
                     "params": {"at_g": 1, "credit_kinds": kinds},
                     "reward": {"kind": "badge", "badge": name}}})
        assert sim.status_code == 200, sim.get_json()
        assert sim.get_json()["rewards"] == rewards, (name, sim.get_json())

    # The job runs again: the handler applied to the same record twice, and the record
    # marked unprocessed and drained again: still one credit.
    with app.app_context():
        record = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == ledger_recycling.TOPIC)).one()
        assert ledger_recycling.post_recycling_credits([record]) == 0
        assert ledger_recycling.post_recycling_credits([record, record]) == 0
        db.session.commit()
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == record.id)
                           .values(processed_at=None))
        db.session.commit()
        outbox.drain("ledger")
    drain_jobs()
    assert balance() == expected
    with app.app_context():
        assert db.session.query(LedgerTransaction).filter_by(
            kind=EntryKind.RECYCLING.value).count() == 1
        report = verify.run()
        assert report.ok, report.render()
    assert client.get(f"/api/v1/recycling/{h['id']}", headers=u).status_code == 200
    _, x = make_user(client, "Stranger")
    assert_error_shape(client.get(f"/api/v1/recycling/{h['id']}", headers=x), 404)
    listed = client.get(f"/api/v1/recycling?recycler_id={org['id']}", headers=r).get_json()
    assert [i["id"] for i in listed["items"]] == [h["id"]]


def test_handover_input_is_validated(client, app):
    org, r, admin = _recycler(client, app)
    _, u = make_user(client)
    body = assert_error_shape(client.post("/api/v1/recycling", headers=u, json={
        "category": "toaster", "condition": "melted", "device": "", "recycler_id": 0,
        "method": "pigeon", "weight_kg": -1}), 422)
    assert set(body["errors"]) == {"category", "condition", "device", "recycler_id", "method",
                                   "weight_kg"}
    admin_body = {"name": "odd", "type": "milestone",
                  "params": {"at_g": 1, "credit_kinds": ["gift"]},
                  "reward": {"kind": "badge", "badge": "odd"}}
    body = assert_error_shape(client.post("/api/v1/admin/incentive-rules", headers=admin,
                                          json=admin_body), 422)
    assert any("credit_kinds" in key for key in body["errors"]), body


def test_no_handover_to_ones_own_recycler_nor_of_an_implausible_weight(client, app):
    org, r, admin = _recycler(client, app)
    resp = client.post(f"/api/v1/admin/organisations/{org['id']}/verify", headers=admin,
                       json=CERTS)
    assert resp.status_code == 200, resp.get_json()
    # Its own people would confirm their own credit.
    assert_error_shape(_handover(client, r, org["id"]), 403)
    _, u = make_user(client)
    body = assert_error_shape(_handover(client, u, org["id"], weight_kg=500), 422)
    assert "plausible range" in body["errors"]["weight_kg"][0]
    resp = _handover(client, u, org["id"], weight_kg=0.2)
    assert resp.status_code == 201, resp.get_json()
