"""Listings: creation and validation, visibility, PATCH with ETags, withdrawal, suspension."""

import pytest

from tests.factories import assert_error_shape, create_listing, listing_body, make_admin, make_user


def test_create_returns_listing_with_footprint_and_etag(client):
    seller, headers = make_user(client)
    resp = client.post("/api/v1/listings", json=listing_body(), headers=headers)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["seller_id"] == seller["id"] and body["status"] == "active"
    assert body["price"] == {"amount": 39000, "currency": "EUR"}
    assert body["location"] == {"city": "Lyon", "country": "FR"}
    assert body["photos"] == ["https://img.example.com/a.jpg"]
    for key in ("id", "created_at", "updated_at"):
        assert body[key]
    fp = body["footprint"]
    assert fp["method"] in {"reference", "model"} and fp["methodology_version"]
    for part in ("embodied_kgco2e", "avoided_kgco2e"):
        low, central, high = (fp[part][k] for k in ("low", "central", "high"))
        assert 0 <= low <= central <= high
        assert round(central, 3) == central
    assert fp["avoided_kgco2e"]["central"] > 0
    assert resp.headers["ETag"]


def test_create_requires_auth(client):
    assert_error_shape(client.post("/api/v1/listings", json=listing_body()), 401)


def test_missing_fields_are_reported(client):
    _, headers = make_user(client)
    body = assert_error_shape(client.post("/api/v1/listings", json={}, headers=headers), 422)
    assert set(body["errors"]) == {"title", "description", "category", "brand", "model",
                                   "condition", "price"}


@pytest.mark.parametrize("field,value", [
    ("title", "ab"), ("title", "x" * 121), ("description", "x" * 5001),
    ("category", "toaster"), ("condition", "broken"), ("brand", ""), ("model", "x" * 201),
    ("storage_gb", "lots"), ("ram_gb", -4), ("screen_inches", 500),
    ("release_year", 1970), ("release_year", 2020.5), ("battery_health_pct", 120),
    ("price", {"amount": 0, "currency": "EUR"}), ("price", {"amount": -5, "currency": "EUR"}),
    ("price", {"amount": 10.5, "currency": "EUR"}), ("price", {"amount": "100", "currency": "EUR"}),
    ("price", {"amount": 100, "currency": "XYZ"}), ("price", {"amount": 100, "currency": "eur"}),
    ("price", {"amount": 100}), ("price", 100),
    ("photos", ["http://img.example.com/a.jpg"]), ("photos", ["not a url"]),
    ("photos", [f"https://img.example.com/{i}.jpg" for i in range(13)]),
    ("location", {"city": "Lyon", "country": "France"}), ("location", {"town": "Lyon"}),
    ("seller_id", 5), ("status", "sold"),
])
def test_each_invalid_field_gives_a_field_error(client, field, value):
    _, headers = make_user(client)
    resp = client.post("/api/v1/listings", json=listing_body(**{field: value}), headers=headers)
    body = assert_error_shape(resp, 422)
    assert field in body["errors"], body


def test_implausible_device_for_its_category_is_refused(client):
    _, headers = make_user(client)
    # 12 inches is fine for a tablet, not for a phone; monitors have no storage.
    body = assert_error_shape(client.post(
        "/api/v1/listings", json=listing_body(screen_inches=12), headers=headers), 422)
    assert "screen_inches" in body["errors"]
    create_listing(client, headers, category="tablet", model="iPad Pro", screen_inches=12.9)
    body = assert_error_shape(client.post("/api/v1/listings", json=listing_body(
        category="monitor", model="U2720Q", storage_gb=256), headers=headers), 422)
    assert "storage_gb" in body["errors"]


def test_optional_fields_may_be_omitted(client):
    _, headers = make_user(client)
    body = listing_body()
    for key in ("storage_gb", "release_year", "battery_health_pct", "photos", "location"):
        body.pop(key)
    resp = client.post("/api/v1/listings", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["photos"] == [] and resp.get_json()["location"] is None


def test_get_is_public_for_active_listings(client):
    _, headers = make_user(client)
    listing = create_listing(client, headers)
    resp = client.get(f"/api/v1/listings/{listing['id']}")
    assert resp.status_code == 200 and resp.get_json() == listing
    assert resp.headers["ETag"]
    assert_error_shape(client.get("/api/v1/listings/999999"), 404)


def test_only_the_seller_can_patch_or_delete(client):
    _, seller = make_user(client)
    _, other = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    assert_error_shape(client.patch(url, json={"title": "Mine now"}, headers=other), 403)
    assert_error_shape(client.delete(url, headers=other), 403)
    assert_error_shape(client.patch(url, json={"title": "Nope"}), 401)
    assert client.get(url).get_json()["title"] == listing["title"]


def test_withdrawn_listing_is_invisible_except_to_its_seller(client):
    _, seller = make_user(client)
    _, other = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    assert client.delete(url, headers=seller).status_code == 204
    assert client.delete(url, headers=seller).status_code == 204  # idempotent
    assert_error_shape(client.get(url), 404)
    assert_error_shape(client.get(url, headers=other), 404)
    assert_error_shape(client.patch(url, json={"title": "Other"}, headers=other), 404)
    own = client.get(url, headers=seller)
    assert own.status_code == 200 and own.get_json()["status"] == "withdrawn"
    assert_error_shape(client.patch(url, json={"title": "Back again"}, headers=seller), 409)
    assert client.get("/api/v1/listings").get_json()["items"] == []


def test_admin_suspends_listing_hidden_from_everyone_else(client, app):
    _, seller = make_user(client)
    _, other = make_user(client)
    admin = make_admin(client, app)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    suspend = f"/api/v1/admin/listings/{listing['id']}/suspend"
    assert_error_shape(client.post(suspend, json={"reason": "Counterfeit"}, headers=other), 403)
    assert_error_shape(client.post(suspend, json={}, headers=admin), 422)
    resp = client.post(suspend, json={"reason": "Counterfeit device"}, headers=admin)
    assert resp.status_code == 200 and resp.get_json()["status"] == "suspended"
    assert_error_shape(client.get(url), 404)
    assert_error_shape(client.get(url, headers=other), 404)
    assert client.get(url, headers=seller).get_json()["suspension_reason"] == "Counterfeit device"
    assert client.get(url, headers=admin).status_code == 200
    assert client.get("/api/v1/listings").get_json()["items"] == []
    assert_error_shape(client.post(suspend, json={"reason": "again"}, headers=admin), 409)
    assert_error_shape(client.post("/api/v1/admin/listings/999999/suspend",
                                   json={"reason": "missing"}, headers=admin), 404)


def test_patch_with_etag_flow(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    etag = client.get(url).headers["ETag"]
    resp = client.patch(url, json={"title": "iPhone 13, price dropped"},
                        headers={**seller, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    new_etag = resp.headers["ETag"]
    assert new_etag != etag and resp.get_json()["title"] == "iPhone 13, price dropped"
    # The old ETag is stale now.
    stale = client.patch(url, json={"title": "Lost update"}, headers={**seller, "If-Match": etag})
    assert_error_shape(stale, 412)
    assert stale.headers["ETag"] == new_etag
    assert client.get(url).get_json()["title"] == "iPhone 13, price dropped"
    # Without If-Match, or with *, the change applies.
    assert client.patch(url, json={"description": "New text"}, headers=seller).status_code == 200
    assert client.patch(url, json={"description": "Again"},
                        headers={**seller, "If-Match": "*"}).status_code == 200


def test_price_and_text_changes_keep_the_footprint(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    resp = client.patch(url, json={"price": {"amount": 35000}, "title": "Cheaper iPhone 13",
                                   "photos": []}, headers=seller)
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["price"] == {"amount": 35000, "currency": "EUR"}
    assert body["footprint"] == listing["footprint"]


def test_device_change_re_estimates_the_footprint(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    resp = client.patch(url, json={"condition": "for_parts"}, headers=seller)
    after = resp.get_json()["footprint"]
    before = listing["footprint"]
    assert after["avoided_kgco2e"]["central"] < before["avoided_kgco2e"]["central"]
    resp = client.patch(url, json={"model": "iPhone 13 Pro Max", "storage_gb": 512},
                        headers=seller)
    assert resp.get_json()["footprint"]["embodied_kgco2e"] != before["embodied_kgco2e"]


def test_patch_validates_fields_and_the_merged_device(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    body = assert_error_shape(client.patch(url, json={"title": "x", "price": {"amount": 0}},
                                           headers=seller), 422)
    assert set(body["errors"]) == {"title", "price"}
    # Valid alone, but not for a smartphone: refused with a field error, nothing changed.
    body = assert_error_shape(client.patch(url, json={"screen_inches": 15.6}, headers=seller),
                              422)
    assert "screen_inches" in body["errors"]
    assert client.get(url).get_json() == listing
    # Changing category and screen together is fine.
    resp = client.patch(url, json={"category": "laptop", "screen_inches": 15.6,
                                   "model": "ThinkPad T15"}, headers=seller)
    assert resp.status_code == 200 and resp.get_json()["category"] == "laptop"


def test_patch_of_part_of_a_shipping_price_or_a_location(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    url = f"/api/v1/listings/{listing['id']}"
    for part, missing in (({"amount": 500}, {"currency"}), ({}, {"amount", "currency"}),
                          ({"currency": "EUR"}, {"amount"})):
        body = assert_error_shape(client.patch(url, json={"shipping_price": part},
                                               headers=seller), 422)
        assert set(body["errors"]["shipping_price"]) == missing, body
    assert client.get(url).get_json() == listing  # nothing changed
    # A location's parts: the one given changes, the other is kept; null clears.
    resp = client.patch(url, json={"location": {"city": "Paris"}}, headers=seller)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["location"] == {"city": "Paris", "country": "FR"}
    resp = client.patch(url, json={"location": {"country": None}}, headers=seller)
    assert resp.get_json()["location"]["city"] == "Paris"
    assert resp.get_json()["location"]["country"] is None
