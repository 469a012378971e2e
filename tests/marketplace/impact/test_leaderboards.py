"""Leaderboards: only people who opted in; organisations by kind."""

from __future__ import annotations

from datetime import UTC, datetime

from carbon.ledger import posting
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.organisations import services as organisations
from tests.carbon.ledger.helpers import PASSWORD, make_users
from tests.factories import assert_error_shape, login

MARCH = datetime(2026, 3, 5, tzinfo=UTC)


def test_only_opted_in_people_appear(client, app, drain_jobs):
    with app.app_context():
        a, b, c = make_users(3)
        org = organisations.create(db.session.get(User, c), {
            "name": "Lycée Ampère", "country": "FR", "kind": "school"})
        org_id = org.id
        for trade_id, (buyer, seller, grams) in enumerate(
                [(a, b, 10_000), (b, a, 4_000), (c, a, 2_000)], start=1):
            posting.announce_completion({
                "trade_id": trade_id, "buyer_id": buyer, "seller_id": seller,
                "avoided_g": grams, "category": "laptop", "completed_at": MARCH.isoformat(),
                "buyer_org_id": org_id if buyer == c else None})
        db.session.commit()
        emails = {u: db.session.get(User, u).email for u in (a, b)}
    drain_jobs()
    board = client.get("/api/v1/leaderboards/people?month=2026-03").get_json()
    assert board["entries"] == []  # nobody opted in (off by default)
    ha = login(client, emails[a], PASSWORD)
    assert client.get("/api/v1/leaderboards/opt-in", headers=ha).get_json() == {"appear": False}
    assert client.put("/api/v1/leaderboards/opt-in", headers=ha,
                      json={"appear": True}).get_json() == {"appear": True}
    board = client.get("/api/v1/leaderboards/people?month=2026-03").get_json()
    assert [(e["rank"], e["user_id"], e["net_g"]) for e in board["entries"]] == [
        (1, a, 5_000 + 2_000 + 1_000)]
    assert client.get("/api/v1/leaderboards/people?month=2026-04").get_json()["entries"] == []
    orgs = client.get("/api/v1/leaderboards/organisations?month=2026-03&kind=school").get_json()
    assert [(e["organisation_id"], e["net_g"]) for e in orgs["entries"]] == [(org_id, 1_000)]
    assert client.get("/api/v1/leaderboards/organisations?month=2026-03&kind=ngo"
                      ).get_json()["entries"] == []
    assert_error_shape(client.get("/api/v1/leaderboards/people?month=2026-13"), 422)
    client.put("/api/v1/leaderboards/opt-in", headers=ha, json={"appear": False})
    assert client.get("/api/v1/leaderboards/people?month=2026-03").get_json()["entries"] == []
