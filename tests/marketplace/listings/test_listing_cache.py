"""A listing's detail and search pages served from the shared response cache, and a listing's
copy forgotten by every write that changes what it shows or who may see it."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy.orm import Session

from marketplace.core.db import db
from marketplace.core.http import respcache
from marketplace.listings import status, visibility
from marketplace.listings.models import Listing
from tests.factories import (
    assert_error_shape,
    create_listing,
    make_admin,
    make_user,
    recorded_statements,
)

V1 = "/api/v1"


def _hits(view: str) -> float:
    return respcache.LOOKUPS.labels(view, "hit")._value.get()


@pytest.fixture
def counted(monkeypatch):
    """How many times the detail view read the database."""
    calls = []
    real = visibility.get_public

    def get_public(listing_id, viewer):
        calls.append(listing_id)
        return real(listing_id, viewer)

    monkeypatch.setattr(visibility, "get_public", get_public)
    return calls


def test_a_second_read_is_served_from_the_copy(client, app, counted):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    first = client.get(url)
    hits = _hits("get_listing")
    with recorded_statements(app) as statements:
        second = client.get(url)
    assert second.status_code == 200 and second.get_json() == first.get_json()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert counted == [lid] and statements == []
    assert _hits("get_listing") == hits + 1
    # A copy still answers If-None-Match with 304, and a signed-in stranger gets the same.
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    _, stranger = make_user(client, "Stranger")
    assert client.get(url, headers=stranger).get_json() == first.get_json()
    assert counted == [lid]


def test_an_edit_replaces_the_copy_at_once(client, counted):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    before = client.get(url)
    client.get(url)
    patched = client.patch(url, json={"price": {"amount": 30000, "currency": "EUR"}},
                           headers={**seller, "If-Match": before.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()
    after = client.get(url)
    assert after.get_json()["price"]["amount"] == 30000
    assert after.headers["ETag"] == patched.headers["ETag"] != before.headers["ETag"]


def test_a_status_change_by_statement_replaces_the_copy(client, app):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    assert client.get(url).get_json()["status"] == "active"
    with app.app_context():
        status.reserve(db.session.get(Listing, lid))
        db.session.commit()
    assert client.get(url).get_json()["status"] == "reserved"


def test_a_rolled_back_change_keeps_the_copy(client, app, counted):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    client.get(url)
    with app.app_context():
        status.reserve(db.session.get(Listing, lid))
        db.session.rollback()
    assert client.get(url).get_json()["status"] == "active"
    assert counted == [lid]


def test_a_savepoint_rolled_back_keeps_the_outer_change_to_forget(client, app):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    client.get(url)
    with app.app_context():
        db.session.get(Listing, lid).title = "Renamed in the outer transaction"
        db.session.flush()
        with pytest.raises(RuntimeError), db.session.begin_nested():
            raise RuntimeError("the savepoint rolls back")
        db.session.commit()
    assert client.get(url).get_json()["title"] == "Renamed in the outer transaction"


def test_a_savepoint_released_is_not_the_commit(client, app):
    """The copy is forgotten when the transaction commits, not when a savepoint in it is
    released: a reader in between (who still sees the old row) stores the old copy."""
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    seen = []

    def read():
        seen.append(client.get(url).get_json()["title"])

    with app.app_context(), Session(db.engine) as session, session.begin():
        with session.begin_nested():
            session.get(Listing, lid).title = "Renamed in a savepoint"
        respcache.clear(app)  # as if any tombstone of the release had expired
        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # the embedded SQLite shares a connection
            assert seen == ["iPhone 13 128GB, battery 88%"]
    assert client.get(url).get_json()["title"] == "Renamed in a savepoint"


def test_withdrawn_listing_is_gone_for_others_and_never_stored_for_its_seller(client):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    client.get(url)
    assert client.delete(url, headers=seller).status_code == 204
    assert_error_shape(client.get(url), 404)
    # The seller still sees it; that answer is theirs alone, not a copy for everyone.
    assert client.get(url, headers=seller).get_json()["status"] == "withdrawn"
    assert_error_shape(client.get(url), 404)


def test_suspending_the_seller_hides_their_stored_listings(client, app):
    seller_user, seller = make_user(client, "Seller")
    admin = make_admin(client, app)
    lid = create_listing(client, seller)["id"]
    url = f"{V1}/listings/{lid}"
    client.get(url)
    client.get(url)
    done = client.post(f"{V1}/admin/users/{seller_user['id']}/suspend",
                       json={"reason": "Fraud"}, headers=admin)
    assert done.status_code == 200, done.get_json()
    assert_error_shape(client.get(url), 404)
    lifted = client.post(f"{V1}/admin/users/{seller_user['id']}/reinstate", headers=admin)
    assert lifted.status_code == 200, lifted.get_json()
    assert client.get(url).status_code == 200


@pytest.fixture
def shared_search(app):
    app.config["SEARCH_CACHE_SECONDS"] = 5
    yield
    app.config["SEARCH_CACHE_SECONDS"] = 0


def test_a_search_page_is_shared_for_its_lifetime(client, app, shared_search):
    _, seller = make_user(client, "Seller")
    create_listing(client, seller, title="Pixel 7 one")
    url = f"{V1}/listings?q=pixel"
    assert len(client.get(url).get_json()["items"]) == 1
    hits = _hits("search_listings")
    create_listing(client, seller, title="Pixel 7 two")
    assert len(client.get(url).get_json()["items"]) == 1  # the copy, up to its lifetime
    assert _hits("search_listings") == hits + 1
    assert len(client.get(url + "&limit=5").get_json()["items"]) == 2  # another query
    app.config["SEARCH_CACHE_SECONDS"] = 0
    assert len(client.get(url).get_json()["items"]) == 2


def test_invalid_search_is_not_stored(client, shared_search):
    for _ in range(2):
        assert_error_shape(client.get(f"{V1}/listings?sort=cheapest"), 422)


def test_a_query_cannot_take_another_querys_page(client, shared_search):
    _, seller = make_user(client, "Seller")
    create_listing(client, seller, title="Pixel 7")
    create_listing(client, seller, title="Galaxy S21")
    long_query = "q=pixel" + "&condition=good" * 15
    digest = hashlib.blake2b(long_query.encode(), digest_size=16).hexdigest()
    assert client.get(f"{V1}/listings?{digest}").status_code == 200
    page = client.get(f"{V1}/listings?{long_query}").get_json()
    assert [i["title"] for i in page["items"]] == ["Pixel 7"]


def test_a_search_with_made_up_parameters_is_not_stored(client, shared_search):
    _, seller = make_user(client, "Seller")
    create_listing(client, seller, title="Pixel 7 one")
    url = f"{V1}/listings?q=pixel&utm_source=x"
    assert len(client.get(url).get_json()["items"]) == 1
    create_listing(client, seller, title="Pixel 7 two")
    assert len(client.get(url).get_json()["items"]) == 2
