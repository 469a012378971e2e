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

import functools
from collections.abc import Callable
from typing import Any

import marshmallow as ma

Dumper = Callable[[Any], Any]
_MISSING = object()


def _convert(field: ma.fields.Field, var: str, ns: dict[str, Any]) -> str:
    """A Python expression converting ``var`` (not None) as ``field`` dumps it."""
    # Order matters: subclasses before their bases (AwareDateTime is a DateTime).
    if isinstance(field, ma.fields.Nested):
        if field.many or field.only or field.exclude:
            raise TypeError("Nested(many=, only=, exclude=) is not supported")
        name = f"_nested{len(ns)}"
        ns[name] = compile_dumper(field.schema.__class__)
        return f"{name}({var})"
    if isinstance(field, ma.fields.List):
        item = _convert(field.inner, "_x", ns)
        return f"[None if _x is None else {item} for _x in {var}]"
    if isinstance(field, ma.fields.Integer):
        return f"({var} if {var}.__class__ is int else int({var}))"
    if isinstance(field, ma.fields.Float):
        return f"float({var})"
    if isinstance(field, ma.fields.AwareDateTime | ma.fields.DateTime):
        if field.format not in (None, "iso"):
            raise TypeError(f"DateTime format {field.format!r} is not supported")
        return f"{var}.isoformat()"
    if isinstance(field, ma.fields.String):
        return f"({var} if {var}.__class__ is str else str({var}))"
    if isinstance(field, ma.fields.Boolean):
        return f"bool({var})"
    raise TypeError(f"{type(field).__name__} is not supported by compile_dumper")


_CACHE: dict[type, Dumper] = {}


def compile_dumper(schema_cls: type[ma.Schema]) -> Dumper:
    """A function ``obj -> dict`` equal to ``schema_cls().dump(obj)`` for the supported
    field types (attributes or dict keys; absent ones are left out, as marshmallow does).

    The function is generated as Python source, one straight-line block per field."""
    if schema_cls in _CACHE:
        return _CACHE[schema_cls]
    schema = schema_cls()
    if any("dump" in tag for tag, hooks in schema_cls._hooks.items() if hooks):
        raise TypeError(f"{schema_cls.__name__}: pre_dump / post_dump hooks are not supported "
                        "by compile_dumper")
    ns: dict[str, Any] = {"_MISSING": _MISSING, "_partial": functools.partial,
                          "_getattr": getattr, "_item_getter": _item_getter}
    lines = ["def dump(obj):", "    out = {}",
             "    get = (obj.get if obj.__class__ is dict else _item_getter(obj)"
             " if hasattr(obj, '__getitem__') else _partial(_getattr, obj))"]
    for name, field in schema.dump_fields.items():
        if field.load_only:
            continue
        if field.dump_default is not ma.missing or getattr(field, "as_string", False):
            raise TypeError(f"{schema_cls.__name__}.{name}: dump_default / as_string are not "
                            "supported by compile_dumper")
        if type(field).serialize is not ma.fields.Field.serialize \
                or type(field)._serialize is not _base_serialize(field):
            raise TypeError(f"{schema_cls.__name__}.{name}: custom serialization is not "
                            "supported by compile_dumper")
        key, attr = field.data_key or name, field.attribute or name
        if "." in attr:
            raise TypeError(f"{schema_cls.__name__}.{name}: dotted attributes are not "
                            "supported by compile_dumper")
        lines += [f"    v = get({attr!r}, _MISSING)",
                  "    if v is not _MISSING:",
                  f"        out[{key!r}] = None if v is None else {_convert(field, 'v', ns)}"]
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<dumper {schema_cls.__name__}>", "exec"), ns)  # noqa: S102
    _CACHE[schema_cls] = ns["dump"]
    return ns["dump"]


def _item_getter(obj: Any) -> Callable[[str, Any], Any]:
    """Marshmallow's lookup for objects with ``__getitem__`` that are not plain dicts: the
    item, else the attribute."""

    def get(key: str, default: Any) -> Any:
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, default)

    return get


# Response schemas dumped by compiled functions (``fast_schema``). With ``VERIFY`` on (the
# test suite turns it on), every such dump is also made by marshmallow and compared: any
# difference fails the request.
VERIFY = False


def fast_schema(schema: ma.Schema) -> ma.Schema:
    """``schema`` with its ``dump`` replaced by the compiled dumper when the schema's fields
    allow it (plain instances, ``many`` or not); unchanged otherwise. The instance still
    documents the response (apispec reads its fields, not ``dump``)."""
    if schema.only or schema.exclude or getattr(schema, "context", None):
        return schema
    try:
        one = compile_dumper(type(schema))
    except TypeError:
        return schema
    slow = schema.dump
    if schema.many:
        def compiled(obj: Any, *, many: bool | None = None) -> Any:
            return [one(item) for item in obj] if many is not False else one(obj)
    else:
        def compiled(obj: Any, *, many: bool | None = None) -> Any:
            return [one(item) for item in obj] if many else one(obj)

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        out = compiled(obj, many=many)
        if VERIFY:
            expected = slow(obj, many=many)
            if out != expected or repr(out) != repr(expected):
                raise AssertionError(f"compiled dump of {type(schema).__name__} differs: "
                                     f"{out!r} != {expected!r}")
        return out

    schema.dump = dump  # type: ignore[method-assign]
    return schema


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
