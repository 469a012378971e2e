"""The compiled dumper gives byte for byte what marshmallow gives, and refuses what it cannot
reproduce."""

import json

import marshmallow as ma
import pytest

from marketplace.core.db import db
from marketplace.core.http.fastdump import compile_dumper
from marketplace.core.money_schemas import MoneyField
from marketplace.listings.models import Listing
from marketplace.listings.schemas import ListingPageSchema, dump_page
from tests.factories import create_listing, make_user


def test_listing_pages_dump_exactly_as_marshmallow(client, app):
    _, headers = make_user(client)
    made = [
        create_listing(client, headers),
        create_listing(client, headers, title="Bare laptop", category="laptop", brand="Acme",
                       model="Unknown 1", storage_gb=None, ram_gb=None, screen_inches=None,
                       release_year=None, battery_health_pct=None, location=None,
                       description="", price={"amount": 100, "currency": "EUR"}),
        create_listing(client, headers, title="Cheap phone below the floor",
                       price={"amount": 100, "currency": "GBP"}),
    ]
    with app.app_context():
        rows = [db.session.get(Listing, m["id"]) for m in made]
        rows[0].footprint_extras = {}  # an older row without the extras
        page = {"items": rows, "next_cursor": "abc"}
        expected = json.dumps(ListingPageSchema().dump(page))
        assert json.dumps(dump_page(page)) == expected
        assert json.dumps(dump_page({"items": [], "next_cursor": None})) == json.dumps(
            ListingPageSchema().dump({"items": [], "next_cursor": None}))
        db.session.rollback()


def test_search_responses_are_the_compiled_dump(client):
    _, headers = make_user(client)
    made = create_listing(client, headers, title="Compiled dump check")
    item = client.get("/api/v1/listings?q=compiled").get_json()["items"][0]
    assert item == client.get(f"/api/v1/listings/{made['id']}").get_json()


@pytest.mark.parametrize("field", [
    ma.fields.Function(lambda obj: 1), ma.fields.Dict(), MoneyField(),
    ma.fields.DateTime(format="%Y"), ma.fields.Nested(ListingPageSchema, only=("items",)),
])
def test_unsupported_fields_are_refused(field):
    schema = type("S", (ma.Schema,), {"f": field})
    with pytest.raises(TypeError):
        compile_dumper(schema)
