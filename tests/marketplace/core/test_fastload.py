"""Compiled request loaders (core.http.fastload): the same data as marshmallow for what they
decide, marshmallow's own load (and errors) for everything else."""

from __future__ import annotations

import marshmallow as ma
import pytest
from marshmallow import validate

from carbon.footprints import DeviceSchema
from marketplace.core.http import fastload
from marketplace.core.http.fastload import FALLBACK, compile_loader, fast_load_schema


class Sample(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=5))
    kind = ma.fields.String(load_default="a", validate=validate.OneOf(["a", "b"]))
    count = ma.fields.Integer(allow_none=True, data_key="n")
    ratio = ma.fields.Float(attribute="share")
    flag = ma.fields.Boolean()
    even = ma.fields.Integer(validate=lambda v: v % 2 == 0)

    @ma.validates_schema
    def _not_both(self, data, **kwargs):
        if data.get("flag") and data.get("count"):
            raise ma.ValidationError("flag and n exclude each other")


DECIDED = [
    {"name": "x"},
    {"name": "abcde", "kind": "b", "n": 3, "ratio": 2, "flag": False, "even": 4},
    {"name": "x", "n": None, "ratio": 0.25, "flag": True},
    {"ratio": 1e308, "name": "y"},
]
UNDECIDED = [
    {},                                  # required field missing
    {"name": "x", "extra": 1},           # unknown key
    {"name": "toolong"},                 # validator (Length)
    {"name": "x", "kind": "c"},          # validator (OneOf)
    {"name": "x", "even": 3},            # validator returning False
    {"name": 5},                         # another JSON type
    {"name": "x", "n": 2.0},             # marshmallow accepts it (2): its answer
    {"name": "x", "n": "7"},             # and this one (7)
    {"name": "x", "ratio": "1.5"},       # a numeric string for a float
    {"name": "x", "ratio": True},        # a boolean for a number
    {"name": "x", "flag": 1},            # marshmallow's truthy values: its answer
    {"name": "x", "n": 10**400, "ratio": 10**400},  # too large for a float
    {"name": None},                      # null where not allowed
    {"name": "x", "flag": True, "n": 1},  # the schema validator
]


@pytest.mark.parametrize("body", DECIDED)
def test_decided_bodies_load_as_marshmallow_loads_them(body):
    fast = compile_loader(Sample())
    out = fast(dict(body))
    expected = Sample().load(dict(body))
    assert out is not FALLBACK
    assert out == expected and list(out) == list(expected)


@pytest.mark.parametrize("body", UNDECIDED)
def test_everything_else_is_marshmallows(body):
    assert compile_loader(Sample())(dict(body)) is FALLBACK
    schema = fast_load_schema(Sample())
    try:
        expected = Sample().load(dict(body))
    except ma.ValidationError as exc:
        with pytest.raises(ma.ValidationError) as got:
            schema.load(dict(body))
        assert got.value.messages == exc.messages
    else:
        assert schema.load(dict(body)) == expected


def test_the_compiled_path_answers_without_marshmallow(monkeypatch):
    monkeypatch.setattr(fastload, "VERIFY", False)
    schema = Sample()
    calls = []
    slow = schema.load
    monkeypatch.setattr(schema, "load", lambda *a, **k: calls.append(a) or slow(*a, **k))
    fast_load_schema(schema)
    assert schema.load({"name": "x"}) == {"name": "x", "kind": "a"}
    assert calls == []
    with pytest.raises(ma.ValidationError):
        schema.load({"name": "x", "extra": 1})
    assert len(calls) == 1
    assert schema.load([{"name": "x"}], many=True) == [{"name": "x", "kind": "a"}]
    assert len(calls) == 2


def test_the_estimate_request_is_compiled_and_keeps_its_plausibility_check():
    fast = compile_loader(DeviceSchema())
    good = {"category": "smartphone", "brand": "Apple", "model": "iPhone 13",
            "storage_gb": 128, "condition": "good", "age_years": 3}
    assert fast(dict(good)) == DeviceSchema().load(dict(good))
    implausible = {**good, "storage_gb": 10**7}
    assert fast(implausible) is FALLBACK
    with pytest.raises(ma.ValidationError):
        DeviceSchema().load(implausible)


class WithPreLoad(Sample):
    @ma.pre_load
    def _strip(self, data, **kwargs):
        return data


class WithNested(ma.Schema):
    inner = ma.fields.Nested(Sample)


class Excluding(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    name = ma.fields.String()


class Email(ma.Schema):
    email = ma.fields.Email()


@pytest.mark.parametrize("schema", [WithPreLoad(), WithNested(), Excluding(), Email(),
                                    Sample(many=True), Sample(partial=True)])
def test_schemas_it_cannot_decide_keep_marshmallows_load(schema):
    assert compile_loader(schema) is None
    slow = schema.load
    assert fast_load_schema(schema).load == slow
