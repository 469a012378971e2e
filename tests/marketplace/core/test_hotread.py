"""HotRead (core.hotread): the same values as SQLAlchemy, the same transaction, the same
errors and events, through the DBAPI cursor."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from sqlalchemy import bindparam, select, update

from marketplace.core.db import db
from marketplace.core.hotread import HotRead
from marketplace.listings.models import PUBLIC_COLUMNS, Listing
from marketplace.listings.schemas import ListingSchema
from tests.factories import create_listing, make_user, recorded_statements

_BY_ID = HotRead(select(*PUBLIC_COLUMNS).where(Listing.id == bindparam("listing_id")))


def test_rows_have_the_values_sqlalchemy_gives(client, app):
    _, headers = make_user(client)
    made = create_listing(client, headers, photos=["https://example.org/a.jpg"])
    with app.app_context():
        row = _BY_ID.first(listing_id=made["id"])
        expected = db.session.execute(
            select(*PUBLIC_COLUMNS).where(Listing.id == made["id"])).one()._asdict()
        assert row == expected
        assert [type(v) for v in row.values()] == [type(v) for v in expected.values()]
        assert row["created_at"].tzinfo is not None
        assert row["created_at"].utcoffset() == UTC.utcoffset(None)
        assert row["photos"] == ["https://example.org/a.jpg"]
        assert _BY_ID.first(listing_id=made["id"] + 10_000) is None
        db.session.rollback()


def test_the_detail_is_what_the_entity_would_dump(client, app):
    _, headers = make_user(client)
    made = create_listing(client, headers, location={"city": "Lyon", "country": "FR"})
    shown = client.get(f"/api/v1/listings/{made['id']}")
    with app.app_context():
        entity = db.session.get(Listing, made["id"])
        assert shown.get_json() == json.loads(app.json.dumps(ListingSchema().dump(entity)))
        assert shown.headers["ETag"] == entity.etag
        db.session.rollback()


def test_inside_a_transaction_it_reads_the_sessions_own_writes(client, app):
    _, headers = make_user(client)
    made = create_listing(client, headers)
    with app.app_context():
        db.session.execute(update(Listing).where(Listing.id == made["id"])
                           .values(title="Changed, not committed"))
        assert _BY_ID.first(listing_id=made["id"])["title"] == "Changed, not committed"
        db.session.rollback()
        assert _BY_ID.first(listing_id=made["id"])["title"] == made["title"]
        db.session.rollback()


def test_parameters_are_checked(app):
    with app.app_context():
        with pytest.raises(TypeError, match="missing parameters"):
            _BY_ID.first()
        expanding = HotRead(select(Listing.id).where(Listing.id.in_(bindparam("ids",
                                                                             expanding=True))))
        with pytest.raises(TypeError, match="expanding"):
            expanding.first(ids=[1])
        db.session.rollback()


def test_engine_listeners_see_the_statement(client, app):
    _, headers = make_user(client)
    made = create_listing(client, headers)
    with recorded_statements(app) as seen:
        assert client.get(f"/api/v1/listings/{made['id']}").status_code == 200
    assert len([s for s in seen if "FROM listings" in s]) == 1, seen
