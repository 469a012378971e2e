"""Listings refer to uploads by id; photo URL strings must point at public hosts."""

from __future__ import annotations

import pytest

from tests.factories import assert_error_shape, create_listing, listing_body, make_user
from tests.marketplace.uploads.conftest import jpeg_with_gps, upload


def test_listing_shows_its_uploaded_photos_in_order(client, drain_jobs):
    _, h = make_user(client)
    a = upload(client, h, jpeg_with_gps()).get_json()
    b = upload(client, h, jpeg_with_gps(orientation=1)).get_json()
    listing = create_listing(client, h, photo_ids=[b["id"], a["id"]])
    assert [p["id"] for p in listing["photo_uploads"]] == [b["id"], a["id"]]
    assert listing["photo_uploads"][0] == {k: b[k] for k in ("id", "url", "thumb_url",
                                                              "width", "height")}
    assert client.get(f"/api/v1/uploads/{a['id']}", headers=h).get_json()["attached"]
    # PATCH replaces them; the dropped one is unattached again (purged after a day).
    resp = client.patch(f"/api/v1/listings/{listing['id']}", json={"photo_ids": [a["id"]]},
                        headers=h)
    assert resp.status_code == 200 and [p["id"] for p in resp.get_json()["photo_uploads"]] \
        == [a["id"]]
    assert not client.get(f"/api/v1/uploads/{b['id']}", headers=h).get_json()["attached"]


def test_someone_elses_or_a_used_upload_is_422(client):
    _, h = make_user(client)
    _, other = make_user(client)
    theirs = upload(client, other, jpeg_with_gps()).get_json()
    resp = client.post("/api/v1/listings", json=listing_body(photo_ids=[theirs["id"]]),
                       headers=h)
    assert "photo_ids" in assert_error_shape(resp, 422)["errors"]
    mine = upload(client, h, jpeg_with_gps()).get_json()
    create_listing(client, h, photo_ids=[mine["id"]])
    resp = client.post("/api/v1/listings", json=listing_body(photo_ids=[mine["id"]]),
                       headers=h)
    assert "photo_ids" in assert_error_shape(resp, 422)["errors"]


@pytest.mark.parametrize("url", [
    "https://localhost/a.jpg", "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/a.jpg", "https://10.0.0.5/a.jpg", "https://[::1]/a.jpg",
    "https://metadata.google.internal/x", "https://printer.local/a.jpg",
])
def test_photo_urls_to_local_or_metadata_hosts_are_422(client, url):
    _, h = make_user(client)
    resp = client.post("/api/v1/listings", json=listing_body(photos=[url]), headers=h)
    assert "photos" in assert_error_shape(resp, 422)["errors"]
