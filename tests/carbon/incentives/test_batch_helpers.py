"""Pure helpers of the batch evaluator: thresholds crossed as numbers, rows as one JSON
document."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import String, literal, select, union_all

from carbon.incentives.bulk import document
from carbon.incentives.evaluate import ActiveRule, Credit, crossed_g, earned
from carbon.incentives.rules import grams
from marketplace.core.db import any_of, db


@pytest.mark.parametrize("every_kg", [1, 5, 17.9])
def test_crossed_thresholds_are_the_keys_earned(every_kg):
    every = grams(every_kg)
    for type_, prefix in (("threshold", "g"), ("tree", "tree")):
        rule = ActiveRule(1, 1, type_, {"every_kg": every_kg}, {"amount": 7}, {}, None, None)
        for before in (0, 1, every - 1, every, 3 * every + 5):
            for amount in (0, 1, every - 1, every, every + 1, 4 * every):
                c = Credit(1, 1, 1, 2, amount, before + amount, datetime.now(UTC), "other")
                expected = [int(k.split(":")[1]) for k, _ in earned(rule, c)]
                assert list(crossed_g(rule, c)) == expected
                assert all(k.startswith(prefix + ":") for k, _ in earned(rule, c))
                if amount:
                    first, last = before // every + 1, (before + amount) // every
                    assert expected == [k * every for k in range(max(first, 1), last + 1)]


def test_document_formats_times_once_and_refuses_unknown_types():
    at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    same = at.astimezone(timezone(timedelta(hours=1)))  # the same instant
    rows = [{"a": at, "b": same, "c": None, "d": [1, 2]}, {"a": at, "b": "x", "c": 3, "d": None}]
    out = json.loads(document(rows))
    assert out[0]["a"] == out[1]["a"] == "2026-01-05T12:00:00+00:00"
    assert datetime.fromisoformat(out[0]["b"]) == at
    assert out[0]["d"] == [1, 2] and out[1]["c"] == 3
    with pytest.raises(TypeError):
        document([{"a": object()}])



def test_any_of_strings_matches_exactly(app_ctx):
    """Strings sent as one JSON document (PostgreSQL) or an IN list (SQLite): quotes, commas,
    backslashes and non-ASCII match themselves only."""
    wanted = ["tx:1", 'a"b', "c,d", "e\\f", "g'h", "é{}"]
    table = union_all(*(select(literal(k, String).label("k"))
                        for k in [*wanted, "tx:10", "tx:2", "ab", "c"])).subquery()
    found = db.session.scalars(select(table.c.k).where(
        any_of(table.c.k, wanted, strings=True))).all()
    assert sorted(found) == sorted(wanted)
