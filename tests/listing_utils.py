"""Helpers shared by the listings, search and offers tests."""

from __future__ import annotations

import uuid

from marketplace.auth import services as auth_services
from tests.conftest import login, register


def make_user(client, name="Tester") -> tuple[dict, dict]:
    user = register(client, name=name)
    return user, login(client, user["email"])


def make_admin(client, app) -> dict:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    with app.app_context():
        auth_services.create_or_promote_admin(email, "correct horse battery")
    return login(client, email)


def listing_body(**overrides) -> dict:
    body = {
        "title": "iPhone 13 128GB, battery 88%",
        "description": "Always in a case. Charger not included.",
        "category": "smartphone",
        "brand": "Apple",
        "model": "iPhone 13",
        "storage_gb": 128,
        "release_year": 2024,
        "condition": "good",
        "battery_health_pct": 88,
        "price": {"amount": 39000, "currency": "EUR"},
        "photos": ["https://img.example.com/a.jpg"],
        "location": {"city": "Lyon", "country": "FR"},
    }
    body.update(overrides)
    return body


def create_listing(client, headers, **overrides) -> dict:
    resp = client.post("/api/v1/listings", json=listing_body(**overrides), headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()
