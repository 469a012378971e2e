"""JSON columns are decoded by orjson (core.dbtypes.json_loads), with the standard library's
values: integers beyond 64 bits stay exact, NaN is read; bulk statements' documents are
written by orjson (json_dumps) with the standard library's values."""

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import JSON, text

from marketplace.core.db import db
from marketplace.core.dbtypes import json_dumps, json_loads

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


WRITE_SAMPLES = [
    [{"a": 1, "b": [1.5, "été", None, True], "at": "x"}],
    [[{"user_id": 7}, 3], [{"user_id": 8}, None]],
    [{"big": 123456789012345678901234567890}],  # beyond 64 bits: the standard library's
    [{1: "a key that is not a string"}],  # orjson refuses: the standard library's
]


@pytest.mark.parametrize("value", WRITE_SAMPLES)
def test_json_dumps_same_document_values_as_the_standard_library(value):
    assert json.loads(json_dumps(value)) == json.loads(json.dumps(value))


def test_json_dumps_writes_datetimes_in_iso_8601():
    at = datetime(2026, 12, 4, 23, 27, 16, 12, tzinfo=UTC)
    whole = at.replace(microsecond=0)
    assert json.loads(json_dumps([{"at": at, "whole": whole}])) == [
        {"at": at.isoformat(), "whole": whole.isoformat()}]
    assert json.loads(json_dumps([2**70, at])) == [2**70, at.isoformat()]


def test_json_dumps_refuses_what_neither_can_write():
    with pytest.raises(TypeError):
        json_dumps([Decimal("1.5")])
