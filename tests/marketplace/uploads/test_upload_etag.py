"""``GET /uploads/{id}`` sends an ETag and answers a matching If-None-Match with 304 until the
upload changes (here: attached to a listing); the spec documents both headers."""

from tests.factories import create_listing, make_user
from tests.marketplace.uploads.conftest import encoded, upload


def test_an_upload_has_an_etag_and_a_304_until_it_changes(app, client, backend, drain_jobs):
    _, h = make_user(client)
    body = upload(client, h, encoded("JPEG")).get_json()
    drain_jobs()  # its thumbnail
    url = f"/api/v1/uploads/{body['id']}"
    first = client.get(url, headers=h)
    etag = first.headers.get("ETag")
    assert first.status_code == 200 and etag, dict(first.headers)
    assert first.get_json()["attached"] is False
    again = client.get(url, headers={**h, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    create_listing(client, h, photo_ids=[body["id"]])
    fresh = client.get(url, headers={**h, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert fresh.get_json()["attached"] is True


def test_the_spec_documents_the_uploads_etag(client):
    op = client.get("/api/openapi.json").get_json()["paths"][
        "/api/v1/uploads/{upload_id}"]["get"]
    assert "ETag" in op["responses"]["200"]["headers"]
    assert "304" in op["responses"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in op["parameters"])
