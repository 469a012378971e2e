"""Test helpers: users, tokens, listings and the error-shape assertion (no fixtures here)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from marketplace.accounts import services as auth_services
from marketplace.accounts.models import User
from marketplace.accounts.schemas import UserSchema
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow

REDIS_URL = os.environ.get("REDIS_URL")


def register(client, email=None, password="correct horse battery", name="Tester",
             verified=True) -> dict:
    """Sign up through the API and return the user as ``GET /users/me`` shows it. The API
    answers 202 without the user (it does not reveal taken emails), so the user is read from
    the database; ``verified`` (default) marks the email verified as if the emailed code had
    been used, since most tests sell or buy (``REQUIRE_VERIFIED_EMAIL`` is on by default)."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    resp = client.post("/api/v1/auth/register",
                       json={"email": email, "password": password, "display_name": name})
    assert resp.status_code == 202, resp.get_json()
    with client.application.app_context():
        user = db.session.scalar(select(User).where(
            User.email == auth_services.normalize_email(email)))
        assert user is not None, f"{email} was not registered (already taken?)"
        if verified and user.email_verified_at is None:
            user.email_verified_at = utcnow()
            db.session.commit()
        data = UserSchema().dump(user)
        db.session.remove()
    return data


def login(client, email, password="correct horse battery") -> dict:
    resp = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
    assert resp.status_code == 201, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}



def assert_error_shape(resp, code: int) -> dict:
    assert resp.status_code == code, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


ADDRESS = {"name": "Tester", "line1": "12 rue de la Republique", "city": "Lyon",
           "postal_code": "69002", "country": "FR", "phone": "+33 6 12 34 56 78"}


def add_address(client, headers, **overrides) -> dict:
    resp = client.post("/api/v1/users/me/addresses", json={**ADDRESS, **overrides},
                       headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def make_user(client, name="Tester", address=True) -> tuple[dict, dict]:
    """A registered user and their token headers; with a default shipping address (so
    they can buy) unless ``address=False``."""
    user = register(client, name=name)
    headers = login(client, user["email"])
    if address:
        add_address(client, headers, name=name)
    return user, headers


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


@contextmanager
def recorded_statements(app) -> Iterator[list[str]]:
    """The SQL statements the app's engine sends while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def pause_before_adding(monkeypatch, model, parties: int = 2, timeout: float = 60) -> None:
    """Concurrent requests each wait, just before ``db.session.add(<a model instance>)``, for
    the others to get there: all have made their checks (a deterministic double submit)."""
    barrier = threading.Barrier(parties, timeout=timeout)
    real_add = db.session.add

    def add(obj, *args, **kwargs):
        if isinstance(obj, model):
            barrier.wait()
        return real_add(obj, *args, **kwargs)

    monkeypatch.setattr(db.session, "add", add)
