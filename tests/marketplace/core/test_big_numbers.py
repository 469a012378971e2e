"""Numbers too large for the database are the client's mistake: 404 or 422, never a 500."""

import base64
import json

import pytest

from tests.factories import assert_error_shape

HUGE = 10**20


@pytest.mark.parametrize("path", [
    f"/api/v1/listings/{HUGE}", f"/api/v1/users/{HUGE}", f"/api/v1/users/{HUGE}/reviews",
])
def test_huge_ids_in_paths_are_404(client, path):
    assert_error_shape(client.get(path), 404)


def test_huge_ids_in_paths_are_404_for_authenticated_routes(client, user_headers):
    for path in (f"/api/v1/trades/{HUGE}", f"/api/v1/offers/{HUGE}"):
        assert_error_shape(client.get(path, headers=user_headers), 404)


def test_huge_ids_in_bodies_and_queries_are_422(client, user_headers):
    assert_error_shape(client.post("/api/v1/trades", json={"listing_id": HUGE},
                                   headers=user_headers), 422)
    assert_error_shape(client.post("/api/v1/rewards/redeem", json={"catalog_item_id": HUGE},
                                   headers=user_headers), 422)
    assert_error_shape(client.get(f"/api/v1/listings?seller_id={HUGE}"), 422)


def test_huge_values_in_cursors_are_422(client):
    cursor = base64.urlsafe_b64encode(json.dumps([5, HUGE]).encode()).decode().rstrip("=")
    url = f"/api/v1/listings?sort=price_asc&currency=EUR&cursor={cursor}"
    assert_error_shape(client.get(url), 422)
    cursor = base64.urlsafe_b64encode(json.dumps([HUGE, 1]).encode()).decode().rstrip("=")
    url = f"/api/v1/listings?sort=price_asc&currency=EUR&cursor={cursor}"
    assert_error_shape(client.get(url), 422)


@pytest.mark.parametrize("query", [
    "from=0001-01-01T00:00:00%2B14:00&to=0001-01-02T00:00:00Z",
    "from=9999-12-01T00:00:00%2B00:00&to=9999-12-31T23:59:59%2B00:00",
])
def test_carbon_summary_dates_out_of_range_are_422(client, user_headers, query):
    assert_error_shape(client.get(f"/api/v1/carbon/summary?{query}", headers=user_headers), 422)
