"""Organisation tests reuse the trades tests' environment (localstripe, a seller, a buyer)."""

from __future__ import annotations

import pytest

from tests.factories import create_listing, make_admin, make_user
from tests.marketplace.trades.conftest import Env


@pytest.fixture
def env(client, stripe_app, localstripe, drain_jobs) -> Env:
    seller, s = make_user(client, "Seller")
    buyer, b = make_user(client, "Buyer")
    a = make_admin(client, stripe_app)
    listing = create_listing(client, s)
    return Env(client, stripe_app, localstripe, drain_jobs, buyer, b, seller, s, a, listing)


def create_org(client, headers, **body) -> dict:
    resp = client.post("/api/v1/organisations", headers=headers, json={
        "name": "Ville de Lyon", "country": "FR", "kind": "public_body", **body})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def add_member(client, owner_headers, org_id, user, headers, role) -> dict:
    resp = client.post(f"/api/v1/organisations/{org_id}/invitations", headers=owner_headers,
                       json={"user_id": user["id"], "role": role})
    assert resp.status_code == 201, resp.get_json()
    invitation = resp.get_json()
    resp = client.post(f"/api/v1/organisations/invitations/{invitation['id']}/accept",
                       headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
