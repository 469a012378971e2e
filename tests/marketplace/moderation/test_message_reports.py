"""Reports of a message: the audit trail names the message, and suspending its sender with
the report named closes it."""

from __future__ import annotations

from tests.factories import assert_error_shape, create_listing, make_admin, make_user

V1 = "/api/v1"


def _message_report(client) -> tuple[dict, dict, dict, dict]:
    """Bruno messages Sally about her listing; Sally reports the message."""
    _, seller_h = make_user(client, "Sally Seller")
    buyer, buyer_h = make_user(client, "Bruno Buyer")
    listing = create_listing(client, seller_h)
    conv = client.post(f"{V1}/listings/{listing['id']}/conversations", headers=buyer_h)
    assert conv.status_code == 201, conv.get_json()
    msg = client.post(f"{V1}/conversations/{conv.get_json()['id']}/messages",
                      json={"body": "pay me outside the app"}, headers=buyer_h)
    assert msg.status_code == 201, msg.get_json()
    rep = client.post(f"{V1}/reports", json={"message_id": msg.get_json()["id"],
                                             "reason": "asks for payment outside"},
                      headers=seller_h)
    assert rep.status_code == 201, rep.get_json()
    return buyer, seller_h, msg.get_json(), rep.get_json()


def _audit_details(client, admin, report_id) -> dict:
    page = client.get(f"{V1}/admin/audit?subject_type=report&subject_id={report_id}",
                      headers=admin).get_json()
    [entry] = page["items"]
    return entry["details"]


def test_resolving_a_message_report_audits_the_message(client, app):
    _, _, msg, rep = _message_report(client)
    admin = make_admin(client, app)
    done = client.post(f"{V1}/admin/reports/{rep['id']}/resolve", headers=admin,
                       json={"resolution": "dismissed"})
    assert done.status_code == 200, done.get_json()
    assert _audit_details(client, admin, rep["id"]) == {
        "resolution": "dismissed", "subject_type": "message", "subject_id": msg["id"]}


def test_suspending_the_sender_closes_the_message_report_it_names(client, app):
    buyer, seller_h, msg, rep = _message_report(client)
    other, _ = make_user(client, "Someone Else")
    admin = make_admin(client, app)
    # A suspension of someone who did not send the message does not answer the report.
    assert_error_shape(client.post(f"{V1}/admin/users/{other['id']}/suspend", headers=admin,
                                   json={"reason": "unrelated", "report_id": rep["id"]}), 422)
    done = client.post(f"{V1}/admin/users/{buyer['id']}/suspend", headers=admin,
                       json={"reason": "Off-platform payment", "report_id": rep["id"]})
    assert done.status_code == 200, done.get_json()
    closed = client.get(f"{V1}/reports/{rep['id']}", headers=seller_h).get_json()
    assert (closed["status"], closed["resolution"]) == ("resolved", "actioned")
    assert _audit_details(client, admin, rep["id"])["subject_id"] == msg["id"]
