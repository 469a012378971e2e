"""``GET /offers/{id}`` sends an ETag and answers a matching If-None-Match with 304 until the
offer changes; the spec documents both headers."""

from tests.marketplace.offers.test_offers import act, offer


def test_an_offer_has_an_etag_and_a_304_until_it_changes(client, deal):
    pending = offer(client, deal)
    url = f"/api/v1/offers/{pending['id']}"
    first = client.get(url, headers=deal["b"])
    etag = first.headers.get("ETag")
    assert first.status_code == 200 and etag, dict(first.headers)
    again = client.get(url, headers={**deal["b"], "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert act(client, pending["id"], "accept", deal["s"]).status_code == 200
    fresh = client.get(url, headers={**deal["b"], "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert fresh.get_json()["status"] == "accepted"


def test_the_spec_documents_the_offers_etag(client):
    op = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/offers/{offer_id}"]["get"]
    assert "ETag" in op["responses"]["200"]["headers"]
    assert "304" in op["responses"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in op["parameters"])
