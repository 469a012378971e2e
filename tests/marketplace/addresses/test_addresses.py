"""The address book: CRUD, one default, per-country validation, and nobody else's."""

from __future__ import annotations

from tests.factories import ADDRESS, add_address, assert_error_shape, make_user

URL = "/api/v1/users/me/addresses"


def test_first_address_is_default_and_is_normalised(client):
    _, h = make_user(client, address=False)
    first = add_address(client, h, phone="06 12 34 56 78", postal_code="69002")
    assert first["is_default"] is True and first["phone"] == "+33612345678"
    assert first["country"] == "FR" and first["city"] == "Lyon"
    second = add_address(client, h, name="Office", line1="1 place Bellecour")
    assert second["is_default"] is False
    page = client.get(URL, headers=h).get_json()
    assert [a["id"] for a in page["items"]] == [second["id"], first["id"]]
    assert page["next_cursor"] is None


def test_one_default_at_a_time(client):
    _, h = make_user(client, address=False)
    a = add_address(client, h)
    b = add_address(client, h, is_default=True)
    assert b["is_default"] is True
    assert client.get(f"{URL}/{a['id']}", headers=h).get_json()["is_default"] is False
    resp = client.patch(f"{URL}/{a['id']}", json={"is_default": True}, headers=h)
    assert resp.status_code == 200 and resp.get_json()["is_default"] is True
    assert client.get(f"{URL}/{b['id']}", headers=h).get_json()["is_default"] is False
    # Un-defaulting the default is refused: choose another.
    assert_error_shape(client.patch(f"{URL}/{a['id']}", json={"is_default": False},
                                    headers=h), 409)
    # Deleting the default promotes the newest remaining one.
    assert client.delete(f"{URL}/{a['id']}", headers=h).status_code == 204
    assert client.get(f"{URL}/{b['id']}", headers=h).get_json()["is_default"] is True


def test_validation_per_country(client):
    _, h = make_user(client, address=False)

    def errors(**body):
        resp = client.post(URL, json={**ADDRESS, **body}, headers=h)
        return assert_error_shape(resp, 422)["errors"]

    assert "postal_code" in errors(postal_code="6900")           # French codes have 5 digits
    assert "country" in errors(country="ZZ")                     # not ISO 3166-1
    assert "country" in errors(country="fr")                     # alpha-2, upper case
    assert "phone" in errors(phone="12")
    assert "phone" in errors(country="DE", postal_code="10115", city="Berlin",
                             phone="+1 202 555 01")
    us = {"country": "US", "city": "Mountain View", "postal_code": "94043", "phone": None}
    assert "region" in errors(**us)                              # a state is required
    assert "postal_code" in errors(**us, region="NY")             # 94043 is not in New York
    ok = add_address(client, h, **us, region="California")
    assert ok["region"] == "CA" and ok["postal_code"] == "94043"
    gb = add_address(client, h, country="GB", city="London", postal_code="sw1a 1aa",
                     phone="020 7946 0018")
    assert gb["postal_code"] == "SW1A 1AA" and gb["phone"] == "+442079460018"
    # PATCH validates the merged address.
    resp = client.patch(f"{URL}/{ok['id']}", json={"postal_code": "10001"}, headers=h)
    assert "postal_code" in assert_error_shape(resp, 422)["errors"]
    resp = client.patch(f"{URL}/{ok['id']}", json={"postal_code": "94105", "line2": "Apt 4"},
                        headers=h)
    assert resp.status_code == 200 and resp.get_json()["line2"] == "Apt 4"
    assert_error_shape(client.post(URL, json={"country": "FR"}, headers=h), 422)


def test_nobody_else_sees_or_changes_an_address(client):
    _, owner = make_user(client, address=False)
    _, stranger = make_user(client, address=False)
    address = add_address(client, owner)
    url = f"{URL}/{address['id']}"
    assert_error_shape(client.get(url, headers=stranger), 404)
    assert_error_shape(client.patch(url, json={"city": "Paris"}, headers=stranger), 404)
    assert_error_shape(client.delete(url, headers=stranger), 404)
    assert client.get(URL, headers=stranger).get_json()["items"] == []
    assert_error_shape(client.get(url), 401)
    assert client.get(url, headers=owner).get_json()["city"] == "Lyon"
