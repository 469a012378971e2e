"""Reports in the data export and at account closure (moderation/personal_data.py)."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from marketplace.accounts import export
from marketplace.core.audit import AuditEntry
from marketplace.core.db import db
from marketplace.moderation.models import Report
from marketplace.moderation.personal_data import REPORTER_CLOSED, SUBJECT_CLOSED
from tests.factories import create_listing, make_admin, make_user

V1 = "/api/v1"
PASSWORD = "correct horse battery"
SECRET = "Sally's reason: he harassed me, my phone is +33612345678"


def _ok(resp, status=200) -> dict:
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _report(client, headers, **subject) -> dict:
    return _ok(client.post(f"{V1}/reports", json={**subject, "reason": SECRET},
                           headers=headers), 201)


def _message_from(client, sender_h, listing) -> dict:
    conv = _ok(client.post(f"{V1}/listings/{listing['id']}/conversations",
                           headers=sender_h), 201)
    return _ok(client.post(f"{V1}/conversations/{conv['id']}/messages",
                           json={"body": "pay me outside"}, headers=sender_h), 201)


def _close(client, headers) -> None:
    resp = client.delete(f"{V1}/users/me", json={"password": PASSWORD}, headers=headers)
    assert resp.status_code == 204, resp.get_json()


def _reasons(app) -> dict[int, tuple[str, str]]:
    with app.app_context():
        return {r.id: (r.reason, r.status) for r in db.session.scalars(select(Report))}


def test_export_has_the_reports_the_user_wrote_and_not_those_about_them(client, app):
    sally, sally_h = make_user(client, "Sally")
    bruno, bruno_h = make_user(client, "Bruno")
    mine = _report(client, sally_h, user_id=bruno["id"])
    _ok(client.post(f"{V1}/reports", json={"user_id": sally["id"], "reason": "Bruno's words"},
                    headers=bruno_h), 201)
    admin = make_admin(client, app)
    _ok(client.post(f"{V1}/admin/reports/{mine['id']}/resolve", headers=admin,
                    json={"resolution": "dismissed", "note": "not enough to act"}))
    with app.app_context():
        archive = zipfile.ZipFile(io.BytesIO(export.archive_for(sally["id"])))
        data = json.loads(archive.read("reports.json"))
    assert [(r["id"], r["reason"], r["resolution"], r["resolution_note"]) for r in data] == [
        (mine["id"], SECRET, "dismissed", "not enough to act")]
    assert "resolved_by" not in data[0]  # the admin's id is not the user's data


def test_closure_removes_the_reporters_reasons_and_keeps_the_reports(client, app):
    sally, sally_h = make_user(client, "Sally")
    bruno, bruno_h = make_user(client, "Bruno")
    listing = create_listing(client, sally_h)
    msg = _message_from(client, bruno_h, listing)
    open_one = _report(client, sally_h, message_id=msg["id"])
    resolved = _report(client, sally_h, user_id=bruno["id"])
    admin = make_admin(client, app)
    _ok(client.post(f"{V1}/admin/users/{bruno['id']}/suspend", headers=admin,
                    json={"reason": "Harassment", "report_id": resolved["id"]}))
    _close(client, sally_h)
    # Her words are gone; the reports, their subjects and the audit trail stay coherent.
    assert _reasons(app) == {open_one["id"]: (REPORTER_CLOSED, "open"),
                             resolved["id"]: (REPORTER_CLOSED, "resolved")}
    with app.app_context():
        audited = {e.subject_id for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "report.resolved"))}
    assert audited == {str(resolved["id"])}
    # The open report is still in the queue (what it points at may need an admin) ...
    queue = _ok(client.get(f"{V1}/admin/reports?status=open", headers=admin))["items"]
    assert [(r["id"], r["reason"]) for r in queue] == [(open_one["id"], REPORTER_CLOSED)]
    # ... and an admin can still close it, by a suspension of the sender naming it.
    _ok(client.post(f"{V1}/admin/users/{bruno['id']}/reinstate", json={}, headers=admin))
    _ok(client.post(f"{V1}/admin/users/{bruno['id']}/suspend", headers=admin,
                    json={"reason": "Again", "report_id": open_one["id"]}))
    assert _reasons(app)[open_one["id"]] == (REPORTER_CLOSED, "resolved")


def test_closure_of_the_reported_user_keeps_open_reports_until_resolved(client, app):
    sally, sally_h = make_user(client, "Sally")
    olga, olga_h = make_user(client, "Olga")
    bruno, bruno_h = make_user(client, "Bruno")
    sallys = create_listing(client, sally_h)
    brunos = create_listing(client, bruno_h)
    about_message = _report(client, sally_h, message_id=_message_from(
        client, bruno_h, sallys)["id"])
    about_listing = _report(client, sally_h, listing_id=brunos["id"])
    about_user = _report(client, olga_h, user_id=bruno["id"])
    unrelated = _report(client, olga_h, listing_id=sallys["id"])
    admin = make_admin(client, app)
    for done in (about_message, unrelated):
        _ok(client.post(f"{V1}/admin/reports/{done['id']}/resolve", headers=admin,
                        json={"resolution": "dismissed"}))
    _close(client, bruno_h)
    # Resolved reports about him lose the reporter's words about him; open ones keep them
    # for the admin still to decide; reports about others are untouched.
    assert _reasons(app) == {about_message["id"]: (SUBJECT_CLOSED, "resolved"),
                             about_listing["id"]: (SECRET, "open"),
                             about_user["id"]: (SECRET, "open"),
                             unrelated["id"]: (SECRET, "resolved")}
    resolved = _ok(client.post(f"{V1}/admin/reports/{about_user['id']}/resolve",
                               headers=admin, json={"resolution": "dismissed"}))
    assert resolved["reason"] == SUBJECT_CLOSED
    assert _reasons(app)[about_user["id"]] == (SUBJECT_CLOSED, "resolved")
    assert _ok(client.get(f"{V1}/reports/{about_user['id']}",
                          headers=olga_h))["reason"] == SUBJECT_CLOSED
