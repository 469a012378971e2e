"""Compiled request loaders for JSON bodies.

``compile_loader(Schema)`` turns a flat marshmallow request schema into a plain function that
returns what ``Schema().load(body)`` returns for a body it can decide on its own, and
``FALLBACK`` for anything else. ``fast_load_schema`` puts it in front of the schema's
``load``: a body the compiled function cannot decide (a missing required field, an unknown
key, a value of another JSON type than the field's own, a value a validator refuses, ...)
is loaded by marshmallow, which returns the same data or raises its usual errors. So the
compiled path never answers an error itself, and every error message stays marshmallow's.

What it decides: the field types of ``_accepts`` given their own JSON type (a string for
``String``, an integer for ``Integer``, a finite number for ``Float``, ``true``/``false`` for
``Boolean``), ``required``, ``allow_none``, ``load_default``, ``data_key``/``attribute``,
the fields' validators (called as marshmallow calls them) and the schema's
``@validates_schema`` methods (neither ``pass_collection`` nor ``pass_original``). A schema
with anything else (other field types, ``pre_load``/``post_load``/``@validates`` hooks,
``unknown`` other than ``RAISE``, field-level pre/post-load functions) is not compiled and
keeps marshmallow's ``load``. With ``VERIFY`` on (the test suite turns it on), every compiled
load is compared with marshmallow's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

Loader = Callable[[dict[str, Any]], Any]
FALLBACK = object()
_MISSING = ma.missing

VERIFY = False


def _string(v: Any) -> Any:
    return v if v.__class__ is str else FALLBACK


def _integer(v: Any) -> Any:
    return v if v.__class__ is int else FALLBACK


def _float(v: Any) -> Any:
    if v.__class__ is float:
        return v if math.isfinite(v) else FALLBACK
    if v.__class__ is int:
        try:
            return float(v)
        except OverflowError:
            return FALLBACK
    return FALLBACK


def _boolean(v: Any) -> Any:
    return v if v is True or v is False else FALLBACK


def _accepts(field: ma.fields.Field) -> Callable[[Any], Any] | None:
    """The converter of a value of the field's own JSON type (exact classes: subclasses may
    deserialize differently)."""
    kind = type(field)
    if kind is ma.fields.String:
        return _string
    if kind is ma.fields.Integer:
        return _integer
    if kind is ma.fields.Float and not field.allow_nan:
        return _float
    if kind is ma.fields.Boolean:
        return _boolean
    return None


def compile_loader(schema: ma.Schema) -> Loader | None:
    """The compiled loader of ``schema`` (an instance), or None when it cannot have one."""
    hooks = schema._hooks
    if hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES] or schema.unknown != ma.RAISE:
        return None
    if schema.only or schema.exclude or schema.partial or schema.many:
        return None
    validators = []
    for attr_name, pass_collection, kwargs in hooks[VALIDATES_SCHEMA]:
        if pass_collection or kwargs.get("pass_original"):
            return None
        validators.append(getattr(schema, attr_name))
    plan = []
    for attr, field in schema.load_fields.items():
        convert = _accepts(field)
        if convert is None or getattr(field, "pre_load", None) or getattr(field, "post_load",
                                                                          None):
            return None
        plan.append((field.data_key or attr, field.attribute or attr, convert, field.required,
                     field.allow_none, field.load_default, tuple(field.validators)))
    keys = frozenset(p[0] for p in plan)

    def load(data: dict[str, Any]) -> Any:
        if not keys.issuperset(data):
            return FALLBACK  # an unknown key: marshmallow's error
        out: dict[str, Any] = {}
        for key, attr, convert, required, allow_none, default, checks in plan:
            v = data.get(key, _MISSING)
            if v is _MISSING:
                if required:
                    return FALLBACK
                if default is not _MISSING:
                    out[attr] = default() if callable(default) else default
                continue
            if v is None:
                if not allow_none:
                    return FALLBACK
                out[attr] = None
                continue
            v = convert(v)
            if v is FALLBACK:
                return FALLBACK
            try:
                for check in checks:
                    if check(v) is False:
                        return FALLBACK
            except ma.ValidationError:
                return FALLBACK
            out[attr] = v
        try:
            for validate in validators:
                validate(out, partial=None, many=False, unknown=ma.RAISE)
        except ma.ValidationError:
            return FALLBACK
        return out

    return load


def fast_load_schema(schema: ma.Schema) -> ma.Schema:
    """``schema`` with its ``load`` answered by the compiled loader for JSON objects it can
    decide (marshmallow's otherwise); unchanged when the schema cannot be compiled. The
    instance still documents the request body (apispec reads its fields)."""
    fast = compile_loader(schema)
    if fast is None:
        return schema
    slow = schema.load

    def load(data: Any, *, many: bool | None = None, partial: Any = None,
             unknown: str | None = None) -> Any:
        if data.__class__ is dict and not many and partial is None \
                and unknown in (None, ma.RAISE):
            out = fast(data)
            if out is not FALLBACK:
                if VERIFY:
                    expected = slow(data, many=many, partial=partial, unknown=unknown)
                    if out != expected or repr(out) != repr(expected):
                        raise AssertionError(f"compiled load of {type(schema).__name__} "
                                             f"differs: {out!r} != {expected!r}")
                return out
        return slow(data, many=many, partial=partial, unknown=unknown)

    schema.load = load  # type: ignore[method-assign]
    return schema
