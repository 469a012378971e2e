"""One way to page every list of records: ``{items: [...], next_cursor: str | null}``.

Keyset pagination with opaque cursors (``cursors``): a client passes the ``next_cursor`` of a
page as ``cursor`` to get the next one, with ``limit`` items at most; ``next_cursor`` is null on
the last page. Lists are newest first by id unless an endpoint documents another order.

- ``PageArgsSchema``: the ``limit`` / ``cursor`` query arguments (subclass it to add filters);
- ``page_schema(ItemSchema)``: the response schema of a page of ``ItemSchema``;
- ``id_page(query, column, limit, cursor)``: run a select ordered by an id column and return
  the page dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import Select

from marketplace.core.db import db
from marketplace.core.http import cursors

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,200}$"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def cursor_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Regexp(CURSOR_PATTERN, error="Not a valid cursor."),
        metadata={"description": "Opaque: the `next_cursor` of the page before."}, **kwargs)


def limit_field(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> ma.fields.Integer:
    return ma.fields.Integer(load_default=default, validate=validate.Range(min=1, max=maximum),
                             metadata={"description": "Items per page."})


class PageArgsSchema(ma.Schema):
    limit = limit_field()
    cursor = cursor_field()


_PAGE_SCHEMAS: dict[type, type[ma.Schema]] = {}


class PageSchema(ma.Schema):
    """Base of every page schema (``page_schema`` builds one per item schema)."""

    next_cursor = ma.fields.String(
        allow_none=True, required=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last one."})


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The page schema ``{items: [item_schema], next_cursor}`` (one class per item schema,
    named ``<Item>Page`` in the OpenAPI document)."""
    if item_schema not in _PAGE_SCHEMAS:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _PAGE_SCHEMAS[item_schema] = type(name, (PageSchema,), {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "__doc__": f"A page of {item_schema.__name__.removesuffix('Schema')} records.",
        })
    return _PAGE_SCHEMAS[item_schema]


def encode_id(last_id: int) -> str:
    return cursors.encode(None, last_id)


def decode_id(cursor: str) -> int:
    return cursors.decode(cursor, _none)[1]


def _none(value: Any) -> None:
    if value is not None:
        raise ValueError("not an id cursor")


def id_page(query: Select, column: Any, limit: int, cursor: str | None, *,
            descending: bool = True, scalars: bool = True,
            key: Callable[[Any], int] = lambda row: row.id) -> dict[str, Any]:
    """The page of ``query`` ordered by ``column`` (an id), after ``cursor``: ``limit + 1``
    rows are read to know whether another page follows."""
    if cursor:
        last = decode_id(cursor)
        query = query.where(column < last if descending else column > last)
    query = query.order_by(column.desc() if descending else column.asc()).limit(limit + 1)
    rows = list(db.session.scalars(query) if scalars else db.session.execute(query))
    items = rows[:limit]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_id(key(items[-1])) if more else None}


def value_id_page(query: Select, value_col: Any, id_col: Any, limit: int, cursor: str | None,
                  parse_value: Callable[[Any], Any]) -> dict[str, Any]:
    """The page of ``query`` ordered by ``(value_col, id_col)`` ascending (e.g. a queue: open
    before resolved, oldest first), after ``cursor``; ``parse_value`` checks the cursor's value
    (``ValueError`` → 422). Rows are model objects with the two attributes."""
    if cursor:
        last_value, last_id = cursors.decode(cursor, parse_value)
        query = query.where((value_col > last_value)
                            | ((value_col == last_value) & (id_col > last_id)))
    rows = list(db.session.scalars(query.order_by(value_col, id_col).limit(limit + 1)))
    items = rows[:limit]
    last = items[-1] if len(rows) > limit else None
    return {"items": items, "next_cursor": None if last is None else cursors.encode(
        getattr(last, value_col.key), getattr(last, id_col.key))}
