"""A double-submitted report (no Idempotency-Key) makes one open report: the partial unique
indexes ``uq_reports_open_*`` stand behind the service's "already reported" check (409)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.moderation.models import Report
from tests.factories import create_listing, make_admin, make_user, pause_before_adding

V1 = "/api/v1"


def _post_together(app, requests) -> list[int]:
    """Each ``(headers, body)`` posted to /reports from its own thread (own app context and
    session), started together."""
    start = threading.Barrier(len(requests), timeout=60)
    codes: list[int] = []

    def post(headers, body):
        with app.test_client() as c:
            start.wait()
            codes.append(c.post(f"{V1}/reports", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


def _open_reports(app, reporter_id) -> list[Report]:
    with app.app_context():
        return list(db.session.scalars(select(Report).where(
            Report.reporter_id == reporter_id, Report.status == "open")))


@pytest.mark.parametrize("subject", ["user", "listing"])
def test_double_submitted_report_is_one_report_and_a_409(client, app, monkeypatch, subject):
    reporter, headers = make_user(client, "Reporter")
    other, other_h = make_user(client, "Other")
    body = {"user_id": other["id"]} if subject == "user" else {
        "listing_id": create_listing(client, other_h)["id"]}
    pause_before_adding(monkeypatch, Report)  # both passed "already reported?"
    codes = _post_together(app, [(headers, {**body, "reason": "spam"})] * 2)
    assert codes == [201, 409]
    [row] = _open_reports(app, reporter["id"])
    monkeypatch.undo()
    # Only open reports are unique: once resolved, the subject may be reported again.
    admin = make_admin(client, app)
    assert client.post(f"{V1}/admin/reports/{row.id}/resolve", headers=admin,
                       json={"resolution": "dismissed"}).status_code == 200
    again = client.post(f"{V1}/reports", json={**body, "reason": "still spam"},
                        headers=headers)
    assert again.status_code == 201, again.get_json()


@pytest.mark.services
def test_concurrent_reports_race_on_postgresql(client, app):
    """No pause: two threads really race, five times; each time one report, one 409."""
    reporter, headers = make_user(client, "Reporter")
    subjects = [make_user(client, f"Subject {i}", address=False)[0] for i in range(5)]
    for subject in subjects:
        body = {"user_id": subject["id"], "reason": "spam"}
        assert _post_together(app, [(headers, body)] * 2) == [201, 409]
    assert sorted(r.user_id for r in _open_reports(app, reporter["id"])) == \
        sorted(s["id"] for s in subjects)
