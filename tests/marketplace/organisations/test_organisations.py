"""Organisations: members by invitation, roles, acting for the organisation."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.core import personal_data
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.mail import OutboundEmail
from marketplace.organisations.models import Membership
from tests.factories import assert_error_shape, create_listing, listing_body, make_user
from tests.marketplace.organisations.conftest import add_member, create_org


def test_create_invite_accept_and_roles(client, app):
    owner, o = make_user(client, "Owner")
    org = create_org(client, o)
    assert org["kind"] == "public_body" and org["verified"] is False
    assert client.get("/api/v1/organisations", headers=o).get_json()["items"][0]["id"] == org["id"]
    viewer, v = make_user(client, "Viewer")
    stranger, x = make_user(client, "Stranger")
    assert_error_shape(client.get(f"/api/v1/organisations/{org['id']}", headers=x), 404)
    # Only owners invite.
    assert_error_shape(client.post(f"/api/v1/organisations/{org['id']}/invitations",
                                   headers=x, json={"user_id": viewer["id"], "role": "viewer"}),
                       404)
    member = add_member(client, o, org["id"], viewer, v, "viewer")
    assert member["status"] == "active" and member["role"] == "viewer"
    assert_error_shape(client.post(f"/api/v1/organisations/{org['id']}/invitations",
                                   headers=v, json={"email": "z@example.com", "role": "buyer"}),
                       403)
    assert_error_shape(client.post(f"/api/v1/organisations/{org['id']}/invitations",
                                   headers=o, json={"user_id": viewer["id"], "role": "buyer"}),
                       409)
    # By email, to someone who registers later: they see and accept it with that address.
    resp = client.post(f"/api/v1/organisations/{org['id']}/invitations", headers=o,
                       json={"email": "Later@Example.com", "role": "buyer"})
    assert resp.status_code == 201 and resp.get_json()["user_id"] is None
    with app.app_context():
        assert db.session.scalar(select(OutboundEmail.to_addr).where(
            OutboundEmail.to_addr == "later@example.com")) is not None
    client.post("/api/v1/auth/register", json={"email": "later@example.com",
                                               "password": "correct horse battery",
                                               "display_name": "Later"})
    later = client.post("/api/v1/auth/tokens", json={"email": "later@example.com",
                                                     "password": "correct horse battery"})
    lh = {"Authorization": f"Bearer {later.get_json()['token']}"}
    # Not before the address is verified: anyone may register any address.
    assert client.get("/api/v1/organisations/invitations", headers=lh).get_json()["items"] == []
    assert_error_shape(client.post(
        f"/api/v1/organisations/invitations/{resp.get_json()['id']}/accept", headers=lh), 403)
    with app.app_context():
        db.session.execute(update(User).where(User.email == "later@example.com")
                           .values(email_verified_at=utcnow()))
        db.session.commit()
    pending = client.get("/api/v1/organisations/invitations", headers=lh).get_json()["items"]
    assert [p["id"] for p in pending] == [resp.get_json()["id"]]
    assert_error_shape(client.post(
        f"/api/v1/organisations/invitations/{pending[0]['id']}/accept", headers=x), 404)
    accepted = client.post(f"/api/v1/organisations/invitations/{pending[0]['id']}/accept",
                           headers=lh).get_json()
    assert accepted["status"] == "active" and accepted["user_id"] is not None
    members = client.get(f"/api/v1/organisations/{org['id']}/members", headers=v).get_json()
    assert len(members["items"]) == 3
    # A viewer may not list for the organisation; a stranger neither.
    for headers in (v, x):
        body = assert_error_shape(client.post("/api/v1/listings", headers=headers, json={
            **listing_body(), "organisation_id": org["id"]}), 422)
        assert "organisation_id" in body["errors"]
    listing = create_listing(client, o, organisation_id=org["id"])
    assert listing["organisation_id"] == org["id"]


def test_bad_input_is_422(client):
    _, h = make_user(client)
    body = assert_error_shape(client.post("/api/v1/organisations", headers=h, json={
        "name": "X", "country": "France", "kind": "club"}), 422)
    assert set(body["errors"]) == {"name", "country", "kind"}
    org = create_org(client, h)
    body = assert_error_shape(client.post(f"/api/v1/organisations/{org['id']}/invitations",
                                          headers=h, json={"role": "buyer"}), 422)
    assert "user_id" in body["errors"]


def test_an_email_invitation_does_not_tell_whether_the_address_has_an_account(client):
    owner, o = make_user(client, "Owner")
    org = create_org(client, o)
    member, _ = make_user(client, "Registered")
    answers = []
    for email in (member["email"], "nobody-here@example.com"):
        resp = client.post(f"/api/v1/organisations/{org['id']}/invitations", headers=o,
                           json={"email": email, "role": "viewer"})
        assert resp.status_code == 201, resp.get_json()
        answers.append({k: v for k, v in resp.get_json().items()
                        if k not in ("id", "created_at")})
    assert answers[0] == answers[1] and answers[0]["user_id"] is None


def test_closing_an_account_withdraws_its_invitations_and_keeps_no_email(client, app):
    owner, o = make_user(client, "Owner")
    org = create_org(client, o)
    leaver, lh = make_user(client, "Leaver")
    invited = client.post(f"/api/v1/organisations/{org['id']}/invitations", headers=o,
                          json={"email": leaver["email"], "role": "buyer"}).get_json()
    accepted = client.post(f"/api/v1/organisations/invitations/{invited['id']}/accept",
                           headers=lh)
    assert accepted.status_code == 200, accepted.get_json()
    other = create_org(client, o, name="Métropole")
    pending = client.post(f"/api/v1/organisations/{other['id']}/invitations", headers=o,
                          json={"user_id": leaver["id"], "role": "viewer"})
    assert pending.status_code == 201
    with app.app_context():  # the user's export has both
        exported = personal_data.export(leaver["id"])["organisations"]
    assert [(m["organisation_id"], m["status"]) for m in exported] == [
        (org["id"], "active"), (other["id"], "invited")]
    closed = client.delete("/api/v1/users/me", headers=lh,
                           json={"password": "correct horse battery"})
    assert closed.status_code in (200, 202, 204), closed.get_json()
    with app.app_context():
        rows = db.session.execute(select(Membership.organisation_id, Membership.status,
                                         Membership.email)
                                  .where(Membership.user_id == leaver["id"])).all()
    assert rows == [(org["id"], "active", None)]
