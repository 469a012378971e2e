"""The orjson provider writes the documents Flask's default provider writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from marketplace.core.http.jsonprovider import OrjsonProvider


def _both():
    app = Flask("t")
    default = DefaultJSONProvider(app)
    default.sort_keys = False
    fast = OrjsonProvider(app)
    fast.sort_keys = False
    return app, default, fast


def test_same_documents_as_flasks_provider():
    app, default, fast = _both()
    doc = {"name": "Café 苹果手机", "n": 3, "f": 1.5, "none": None, "list": [1, "a"],
           "when": datetime(2026, 12, 2, 10, 0, tzinfo=UTC), "price": Decimal("12.50"),
           "id": uuid.UUID(int=7), 5: "int key", "big": 2**70}
    with app.app_context():
        assert json.loads(fast.dumps(doc)) == json.loads(default.dumps(doc))
        assert json.loads(fast.response(doc).get_data()) == json.loads(
            default.response(doc).get_data())
        assert fast.response(doc).get_data().endswith(b"\n")
        assert fast.loads(b'{"a": [1, 2.5, "\xc3\xa9"]}') == {"a": [1, 2.5, "é"]}


def test_sort_keys_is_honoured():
    app, _, fast = _both()
    fast.sort_keys = True
    assert fast.dumps({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_a_body_that_is_not_utf8_json_is_a_400(client):
    resp = client.post("/api/v1/footprints/estimate", data=b'{"category": "\xff"}',
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json["code"] == 400


def test_the_app_encodes_with_orjson(app):
    assert isinstance(app.json, OrjsonProvider)


def test_integers_beyond_64_bits_are_read_as_integers():
    app, default, fast = _both()
    for text in ('18446744073709551616', '[-9223372036854775809, 1.5]',
                 '{"n": 123456789012345678901234567890}', '{"n": 9223372036854775807}'):
        for raw in (text, text.encode()):
            assert fast.loads(raw) == default.loads(raw)
            assert repr(fast.loads(raw)) == repr(json.loads(raw))
