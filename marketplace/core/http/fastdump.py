"""Compiled response serializers for hot list pages.

``compile_dumper(Schema)`` turns a marshmallow response schema into a plain function that
produces what ``Schema().dump(obj)`` produces (same keys, same order, same JSON types) without
marshmallow's per-field machinery, which dominates the cost of a page of nested items. The
schema stays the single source of truth (it documents the response in the OpenAPI spec and
the compiled dumper is derived from it); only the field types listed in ``_compile_field``
are supported and anything else fails at import time, so a schema change cannot silently
drift. Tests compare both serializations byte for byte (tests/marketplace/core).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import marshmallow as ma

Dumper = Callable[[Any], Any]
_MISSING = object()


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, _MISSING)
    return getattr(obj, name, _MISSING)


def _nullable(convert: Dumper) -> Dumper:
    def dump(value: Any) -> Any:
        return None if value is None else convert(value)

    return dump


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _compile_field(field: ma.fields.Field) -> Dumper:
    # Order matters: subclasses before their bases (AwareDateTime is a DateTime).
    if isinstance(field, ma.fields.Nested):
        if field.many or field.only or field.exclude:
            raise TypeError("Nested(many=, only=, exclude=) is not supported")
        inner = compile_dumper(field.schema.__class__)
        return _nullable(inner)
    if isinstance(field, ma.fields.List):
        item = _compile_field(field.inner)
        return _nullable(lambda values: [item(v) for v in values])
    if isinstance(field, ma.fields.Integer):
        return _nullable(int)
    if isinstance(field, ma.fields.Float):
        return _nullable(float)
    if isinstance(field, ma.fields.AwareDateTime | ma.fields.DateTime):
        if field.format not in (None, "iso"):
            raise TypeError(f"DateTime format {field.format!r} is not supported")
        return _nullable(_iso)
    if isinstance(field, ma.fields.String):
        return _nullable(str)
    if isinstance(field, ma.fields.Boolean):
        return _nullable(bool)
    raise TypeError(f"{type(field).__name__} is not supported by compile_dumper")


_CACHE: dict[type, Dumper] = {}


def compile_dumper(schema_cls: type[ma.Schema]) -> Dumper:
    """A function ``obj -> dict`` equal to ``schema_cls().dump(obj)`` for the supported
    field types (attributes or dict keys; absent ones are left out, as marshmallow does)."""
    if schema_cls in _CACHE:
        return _CACHE[schema_cls]
    schema = schema_cls()
    plan: list[tuple[str, str, Dumper]] = []
    for name, field in schema.dump_fields.items():
        if field.load_only:
            continue
        if type(field).serialize is not ma.fields.Field.serialize \
                or type(field)._serialize is not _base_serialize(field):
            raise TypeError(f"{schema_cls.__name__}.{name}: custom serialization is not "
                            "supported by compile_dumper")
        plan.append((field.data_key or name, field.attribute or name, _compile_field(field)))

    def dump(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attr, convert in plan:
            value = _get(obj, attr)
            if value is not _MISSING:
                out[key] = convert(value)
        return out

    _CACHE[schema_cls] = dump
    return dump


_STANDARD = (ma.fields.Nested, ma.fields.List, ma.fields.Integer, ma.fields.Float,
             ma.fields.AwareDateTime, ma.fields.DateTime, ma.fields.String,
             ma.fields.Boolean)


def _base_serialize(field: ma.fields.Field):
    """The ``_serialize`` of the standard class ``field`` is an instance of (a subclass that
    overrides it, e.g. a custom money field, is refused)."""
    for cls in _STANDARD:
        if isinstance(field, cls):
            return cls._serialize
    return None
