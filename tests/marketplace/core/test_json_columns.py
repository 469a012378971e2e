"""JSON columns are decoded by orjson (core.dbtypes.json_loads), with the standard library's
values: integers beyond 64 bits stay exact, NaN is read."""

import json
import math

import pytest
from sqlalchemy import JSON, text

from marketplace.core.db import db
from marketplace.core.dbtypes import json_loads

SAMPLES = ['{"a": 1, "b": [1.5, "x", null, true], "c": {"d": "\\u00e9t\\u00e9"}}',
           '{"big": 123456789012345678901234567890, "neg": -98765432109876543210}',
           '[9223372036854775807, -9223372036854775808]', '"plain"', "[]"]


@pytest.mark.parametrize("doc", SAMPLES)
def test_same_values_as_the_standard_library(doc):
    for raw in (doc, doc.encode()):
        got, expected = json_loads(raw), json.loads(doc)
        assert got == expected and repr(got) == repr(expected)


def test_nan_falls_back_to_the_standard_library():
    assert math.isnan(json_loads("[NaN]")[0])


@pytest.mark.parametrize("doc", SAMPLES)
def test_json_columns_read_back_exactly(app, doc):
    with app.app_context():
        sql = "SELECT :v AS j" if db.engine.dialect.name == "sqlite" else \
            "SELECT CAST(:v AS JSON) AS j"  # SQLite has no JSON type: the text is the value
        value = db.session.execute(text(sql).columns(j=JSON), {"v": doc}).scalar_one()
        assert value == json.loads(doc) and repr(value) == repr(json.loads(doc))
        db.session.rollback()
