"""Device identity on listings: IMEI (Luhn) or serial number, kept only as a keyed hash, one
live listing per device (409), stolen devices refused with a neutral message and audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from marketplace.core.audit import AuditEntry
from marketplace.core.db import db
from marketplace.devices import identity
from marketplace.devices.models import DeviceIdentity
from marketplace.listings.models import Listing
from tests.factories import assert_error_shape, create_listing, listing_body, make_admin, make_user

IMEI = "490154203237518"  # a valid check digit
SERIAL = "C02XK1ABJGH5"


def test_luhn():
    assert identity.luhn_ok(IMEI) and identity.luhn_ok("356938035643809")
    assert not identity.luhn_ok("490154203237519")
    assert identity.imei_errors("49-015420-323751-8") == []
    assert identity.imei_errors("490154203237519") == ["Not a valid IMEI (check digit)."]
    assert identity.imei_errors("12345") == ["An IMEI has 15 digits."]


@pytest.mark.parametrize("body,field", [
    ({"imei": "490154203237519"}, "imei"),
    ({"imei": "4901542032375"}, "imei"),
    ({"imei": IMEI, "category": "laptop", "brand": "Apple", "model": "MacBook Air M1",
      "screen_inches": 13.3, "storage_gb": 256, "battery_health_pct": None}, "imei"),
    ({"serial_number": "a!"}, "serial_number"),
    ({"imei": IMEI, "serial_number": SERIAL}, "serial_number"),
])
def test_bad_identities_are_422(client, body, field):
    _, h = make_user(client)
    resp = client.post("/api/v1/listings", json=listing_body(**body), headers=h)
    assert field in assert_error_shape(resp, 422)["errors"]


def test_identity_is_stored_as_hmac_only_and_never_shown(app, client):
    _, h = make_user(client)
    listing = create_listing(client, h, imei="4901 5420 3237 518")
    assert listing["device_identity_kind"] == "imei" and listing["previous_owners"] == 0
    text = json.dumps(listing) + client.get(f"/api/v1/listings/{listing['id']}").get_data(
        as_text=True) + client.get(f"/api/v1/listings/{listing['id']}/passport").get_data(
        as_text=True)
    assert IMEI not in text and "imei\":" not in text
    with app.app_context():
        row = db.session.scalar(select(DeviceIdentity))
        assert row.kind == "imei" and len(row.digest) == 64 and IMEI not in row.digest
        assert row.digest == identity.digest("imei", IMEI)
        # Nothing in the database holds the number in clear.
        dump = json.dumps([{c.name: str(getattr(r, c.name)) for c in Listing.__table__.columns}
                           for r in db.session.scalars(select(Listing))])
        assert IMEI not in dump


def test_same_identity_on_a_second_live_listing_is_409(client):
    _, h = make_user(client)
    _, other = make_user(client)
    first = create_listing(client, h, imei=IMEI)
    for headers in (h, other):
        resp = client.post("/api/v1/listings", json=listing_body(imei=IMEI), headers=headers)
        assert "already on a live listing" in assert_error_shape(resp, 409)["message"]
    # Serial numbers too, whatever their case and separators.
    create_listing(client, h, serial_number=SERIAL)
    resp = client.post("/api/v1/listings", json=listing_body(serial_number="c02x-k1ab-jgh5"),
                       headers=other)
    assert_error_shape(resp, 409)
    # PATCHing another listing to that IMEI is refused too.
    third = create_listing(client, h)
    resp = client.patch(f"/api/v1/listings/{third['id']}", json={"imei": IMEI}, headers=h)
    assert_error_shape(resp, 409)
    # Once the first is withdrawn, the device may be listed again.
    assert client.delete(f"/api/v1/listings/{first['id']}", headers=h).status_code == 204
    create_listing(client, other, imei=IMEI)


def test_stolen_device_is_refused_neutrally_and_audited(app, client):
    admin = make_admin(client, app)
    seller, h = make_user(client)
    resp = client.post("/api/v1/admin/devices/stolen", json={"imei": IMEI}, headers=admin)
    assert resp.status_code == 200 and resp.get_json()["stolen"] is True
    assert_error_shape(client.post("/api/v1/admin/devices/stolen", json={"imei": IMEI},
                                   headers=h), 403)
    resp = client.post("/api/v1/listings", json=listing_body(imei=IMEI), headers=h)
    body = assert_error_shape(resp, 403)
    assert "stolen" not in body["message"].lower() and "cannot be listed" in body["message"]
    with app.app_context():
        actions = [(e.action, e.actor_id) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-1] == ("device.listing_refused", seller["id"])
        assert actions[0][0] == "device.reported_stolen"
        assert db.session.scalar(select(Listing.id)) is None
    # The same IMEI typed in fullwidth or Arabic-Indic digits is the same device.
    for digits in (0xFF10, 0x0660):
        typed = "".join(chr(digits + int(d)) for d in IMEI)
        resp = client.post("/api/v1/listings", json=listing_body(imei=typed), headers=h)
        assert_error_shape(resp, 403)
    # Cleared: it can be listed.
    client.post("/api/v1/admin/devices/stolen", json={"imei": IMEI, "stolen": False},
                headers=admin)
    create_listing(client, h, imei=IMEI)
