"""``GET /api/v1/impact``: platform totals that add up to the ledger, small cells suppressed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from carbon.ledger import recycling
from carbon.ledger.models import HOLDER_KINDS, LedgerAccount, LedgerLine
from marketplace.core import outbox
from marketplace.core.db import db
from tests.carbon.ledger.helpers import completion, make_users, refund

MARCH = datetime(2026, 3, 10, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, tzinfo=UTC)
# Up to the end of next year: the refund's reversal is dated when it is posted (today).
URL = f"/api/v1/impact?from=2026-01-01&to={datetime.now(UTC).year + 1}-12-01"


def _ledger(app, drain_jobs) -> tuple[list[int], int]:
    with app.app_context():
        users = make_users(6)
        for i in range(3):  # smartphones: six accounts
            completion(i + 1, users[2 * i], users[2 * i + 1], 10_000 + i, completed_at=MARCH)
        completion(4, users[0], users[1], 50_000, category="laptop", completed_at=MARCH)
        db.session.commit()
    drain_jobs()
    with app.app_context():
        refund(1, "re_1", 500, 1000)  # half of trade 1 reversed
        outbox.write(recycling.TOPIC, {
            "recycling_id": 1, "user_id": users[2], "recycler_id": 7, "category": "tablet",
            "credit_g": 676, "credit_low_g": 283, "credit_high_g": 1380,
            "materials_recovered_g": 300, "confirmed_at": APRIL.isoformat()})
        db.session.commit()
    drain_jobs()
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(LedgerLine.amount_g))
            .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
            .where(LedgerAccount.kind.in_(HOLDER_KINDS)))
    return users, int(total)


def _sum(cells) -> int:
    return sum((c["net_g"] or 0) + (c["recycling"]["credited_g"] if c["recycling"] else 0)
               for c in cells)


def test_public_impact_matches_the_ledger(client, app, drain_jobs, monkeypatch):
    users, ledger_total = _ledger(app, drain_jobs)
    assert ledger_total == 10_000 + 10_001 + 10_002 + 50_000 - 5_000 + 676
    monkeypatch.setitem(app.config, "IMPACT_MIN_USERS", 1)
    body = client.get(URL).get_json()
    cells = [c for m in body["months"] for c in m["categories"]]
    assert _sum(cells) == ledger_total
    assert _sum([m["total"] for m in body["months"]]) == ledger_total
    assert _sum([body["total"]]) == ledger_total
    march = {c["category"]: c for c in body["months"][0]["categories"]}
    assert body["months"][0]["month"] == "2026-03"
    assert march["smartphone"]["trade_credits"] == 6  # a credit line per party
    assert march["smartphone"]["net_g"] == 30_003
    reversal = body["months"][-1]["categories"][0]
    assert (reversal["category"], reversal["trade_credits"], reversal["net_g"]) == (
        "smartphone", 0, -5_000)
    assert march["laptop"]["range_g"] == {"low": 50_000, "high": 50_000}
    april = body["months"][1]
    assert april["categories"][0]["recycling"] == {
        "handovers": 1, "credited_g": 676, "range_g": {"low": 283, "high": 1380},
        "materials_recovered_g": 300}
    # No personal data: no user ids or names anywhere.
    text = json.dumps(body)
    assert "user" not in text and "email" not in text


def test_small_cells_are_suppressed(client, app, drain_jobs, monkeypatch):
    _ledger(app, drain_jobs)
    monkeypatch.setitem(app.config, "IMPACT_MIN_USERS", 3)
    body = client.get(URL).get_json()
    march, april, _ = body["months"]
    cells = {c["category"]: c for c in march["categories"]}
    assert cells["laptop"]["suppressed"] and cells["laptop"]["net_g"] is None  # 2 accounts
    assert not cells["smartphone"]["suppressed"] and cells["smartphone"]["net_g"] == 30_003
    # A month total would reveal its one suppressed cell (fewer than 3 accounts behind it).
    assert march["total"] is None and april["total"] is None
    assert april["categories"][0]["suppressed"] and april["categories"][0]["recycling"] is None
    assert body["total"] is not None and body["min_accounts"] == 3
    assert client.get("/api/v1/impact?from=2026-05-01&to=2026-01-01").status_code == 422


def test_ranges_are_whole_months_so_a_second_cannot_isolate_one_credit(client, app,
                                                                       drain_jobs):
    _ledger(app, drain_jobs)
    # The March credits are dated 2026-03-10 00:00:00: `to` just before and just after them.
    before = client.get("/api/v1/impact?from=2026-03-05T00:00:00Z&to=2026-03-10T00:00:00Z")
    after = client.get("/api/v1/impact?from=2026-03-05T00:00:00Z&to=2026-03-10T00:00:01Z")
    assert before.status_code == after.status_code == 200, before.get_json()
    assert before.get_json() == after.get_json()
    assert (before.get_json()["from"], before.get_json()["to"]) == (
        "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00")
