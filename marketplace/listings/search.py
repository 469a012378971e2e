"""Listing search: filters, sorts and keyset (cursor) pagination.

Only active listings are searched. Each sort orders by ``(sort value, id)`` and has a partial
index over active listings (see ``models.Listing.__table_args__``); a page continues strictly
after the last row of the previous page, so rows inserted meanwhile never shift a page (no
OFFSET). Cursors are base64url of JSON ``[sort value, id]``, validated on decode.

Full text: PostgreSQL matches ``websearch_to_tsquery('simple', q)`` against the GIN-indexed
stored tsvector ``search_doc``; SQLite falls back to every word of ``q`` occurring in the
lower-cased ``search_doc`` text (substring match). Scripts written without spaces (Chinese,
Japanese, Thai...) are indexed on PostgreSQL as their single characters and overlapping
character pairs as well (``textsplit``), and a query's runs of such characters become their
pairs, so "苹果手机" finds "二手苹果手机壳" as SQLite's substring match does.

Text + a price or avoided-emissions sort on PostgreSQL: a b-tree walk in sort order that
filters on the text can read most of the table before it finds a page of matches, and
ordering every match costs one entry per match (124,000 for "iphone" at 1M listings). These
queries go to ``search_sorted.text_sorted``: a bounded index-only walk of the sort's b-tree
first, from where the query's words can first match (``search_term_bounds``), then the RUM
index (``ix_listings_text_price`` / ``ix_listings_text_avoided``: the text index with the
sort value attached, PostgreSQL's ``rum`` extension) ordering only the matches beyond a
bound sampled from the table, the page completed exactly in ``(value, id)`` order.

Prices are compared within one currency: price filters and price sorts need ``currency``
(the schema enforces it), so amounts in different currencies are never mixed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Select, String, and_, bindparam, false, func, select, tuple_

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.http import cursors
from marketplace.listings import search_sorted, textsplit
from marketplace.listings.models import (
    PUBLIC_COLUMNS,
    TS_CONFIG,
    Listing,
    ListingRow,
    ListingStatus,
)

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Sort:
    column: Any
    descending: bool
    to_json: Callable[[Any], Any]
    from_json: Callable[[Any], Any]


def _datetime_value(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise ValueError("not a string")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


SORTS: dict[str, Sort] = {
    "newest": Sort(Listing.created_at, True, _iso, _datetime_value),
    "price_asc": Sort(Listing.price_amount, False, int, cursors.as_int),
    "price_desc": Sort(Listing.price_amount, True, int, cursors.as_int),
    "avoided_desc": Sort(Listing.avoided_central_g, True, int, cursors.as_int),
}


def encode_cursor(sort: str, listing: Listing) -> str:
    spec = SORTS[sort]
    return cursors.encode(spec.to_json(getattr(listing, spec.column.key)), listing.id)


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    return cursors.decode(cursor, SORTS[sort].from_json)


def document_value(text: str, dialect: str):
    """What to store in ``Listing.search_doc`` for ``text``."""
    if dialect == "postgresql":
        return func.to_tsvector(TS_CONFIG, textsplit.document(text))
    return text.lower()


def text_condition(q: str | int, dialect: str, indexed: bool = True):
    """``indexed=False`` (PostgreSQL): the same test in a form no index serves, for rows an
    index on another column already narrows down (ties at one sort value, by id). The text is
    the bound parameter ``tsq`` (``text_params``); on SQLite each word is one (``w0``...)."""
    if dialect == "postgresql":
        doc = Listing.search_doc if indexed else Listing.search_doc.op("||")(
            func.to_tsvector(TS_CONFIG, ""))
        return search_sorted.matches(doc)
    words = _word_count(q)
    if not words:
        return false()
    return and_(*(func.instr(Listing.search_doc, bindparam(f"w{i}", type_=String)) > 0
                  for i in range(words)))


def _word_count(q: str | int) -> int:
    """The words of a query (SQLite), or ``q`` itself when it is already their number."""
    return q if isinstance(q, int) else len(_WORD.findall(q.lower()))


def text_params(q: str, dialect: str) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"tsq": textsplit.query(q)}
    return {f"w{i}": w for i, w in enumerate(_WORD.findall(q.lower()))}


# Built once (expressions are immutable; building them costs more than compiling from cache).
_ACTIVE = Listing.status == ListingStatus.ACTIVE.value
# Not a suspended seller's (few: a small hashed subplan on PostgreSQL).
_NOT_SUSPENDED = Listing.seller_id.not_in(select(User.id).where(User.suspended_at.is_not(None)))

# Each filter: its condition on a bound parameter (so a statement is built once per
# combination of filters and reused: ``build_query``), that parameter's name, its value from
# the argument, and whether an argument of 0 or "" counts (numbers: yes; strings: no).
_FILTERS: dict[str, tuple[Any, str, Callable[[Any], Any], bool]] = {
    "category": (Listing.category == bindparam("category"), "category", str, False),
    "brand": (func.lower(Listing.brand) == bindparam("brand", type_=String), "brand",
              str.lower, False),
    "condition": (Listing.condition.in_(bindparam("condition", expanding=True)), "condition",
                  lambda v: sorted(set(v)), False),
    "min_price": (Listing.price_amount >= bindparam("min_price"), "min_price", int, True),
    "max_price": (Listing.price_amount <= bindparam("max_price"), "max_price", int, True),
    "currency": (Listing.price_currency == bindparam("currency"), "currency", str, False),
    "min_avoided_kg": (Listing.avoided_central_g >= bindparam("min_avoided_g", type_=BigInteger),
                       "min_avoided_g", lambda v: math.ceil(v * 1000), True),
    "seller_id": (Listing.seller_id == bindparam("seller_id"), "seller_id", int, True),
    "city": (func.lower(Listing.city) == bindparam("city", type_=String), "city", str.lower,
             False),
    "country": (Listing.country == bindparam("country"), "country", str.upper, False),
}


def _present(args: dict[str, Any], name: str) -> bool:
    value = args.get(name)
    return value is not None if _FILTERS[name][3] else bool(value)


def filters(args: dict[str, Any], dialect: str, text_indexed: bool = True,
            sellers: bool = True) -> list:
    """The conditions of ``args``' filters, on bound parameters (``filter_params``). ``q``
    is the query's text or, where a statement is built for every query of a shape
    (``_statement``), its number of words (one parameter each on SQLite)."""
    conds: list = [_ACTIVE]
    if sellers:
        conds.append(_NOT_SUSPENDED)
    q = args.get("q")
    if q is not None and q != "":
        conds.append(text_condition(q, dialect, text_indexed))
    conds += [cond for name, (cond, *_) in _FILTERS.items() if _present(args, name)]
    return conds


def filter_params(args: dict[str, Any], dialect: str) -> dict[str, Any]:
    params = text_params(args["q"], dialect) if args.get("q") else {}
    params.update({param: value(args[name])
                   for name, (_, param, value, _) in _FILTERS.items() if _present(args, name)})
    return params


# Sorts served by a RUM index when combined with text on PostgreSQL.
_RUM_SORTS = frozenset({"price_asc", "price_desc", "avoided_desc"})
# Filters on columns that every price and avoided sort index holds (key or INCLUDE): tested
# index-only by search_sorted's walks. Category: the category sort indexes serve it.
_INDEXED = ("category", "currency", "min_price", "max_price", "min_avoided_kg")


def _bound_key(sort_name: str, currency: str | None, category: str | None) -> str | None:
    """The ``search_term_bounds`` key of a sort (migration 0023's trigger writes them)."""
    if sort_name == "avoided_desc":
        key = "avoided"
    elif currency:
        key = f"price:{currency}"
    else:
        return None
    return f"{key}:{category}" if category else key


def build_query(args: dict[str, Any], dialect: str) -> tuple[Select, dict[str, Any]]:
    """The page query (``limit + 1`` rows, to know whether another page follows) and its
    parameters. The statement depends only on which filters are given, the sort, the limit
    and whether a cursor is (and, for text + sort, the query's shape): it is built once per
    such combination (``_statement``) and the values are bound parameters."""
    sort_name = args.get("sort") or "newest"
    limit = args.get("limit") or 20
    cursor = decode_cursor(sort_name, args["cursor"]) if args.get("cursor") else None
    present = tuple(name for name in _FILTERS if _present(args, name))
    q = args.get("q") or None
    params = filter_params(args, dialect)
    if dialect == "postgresql" and q and sort_name in _RUM_SORTS:
        bound_key = _bound_key(sort_name, args.get("currency"), args.get("category"))
        params.update(search_sorted.params(SORTS[sort_name], cursor, bound_key))
        shape = ("sorted", bound_key is not None)
    else:
        if cursor is not None:
            params.update(cursor_v=cursor[0], cursor_id=cursor[1])
        # the text: on SQLite, as many parameters as it has words
        shape = ("plain", None if q is None else 1 if dialect == "postgresql"
                 else _word_count(q))
    return _statement(dialect, sort_name, limit, present, cursor is not None, shape), params


@lru_cache(maxsize=512)
def _statement(dialect: str, sort_name: str, limit: int, present: tuple[str, ...],
               has_cursor: bool, shape: tuple) -> Select:
    spec = SORTS[sort_name]
    args: dict[str, Any] = dict.fromkeys(present, True)
    if shape[0] == "sorted":
        bounded = shape[1]
        args["q"] = 1
        indexed = filters({k: args.get(k) for k in _INDEXED}, dialect, sellers=False)
        return search_sorted.text_sorted(spec, filters(args, dialect), filters(
            {**args, "q": None}, dialect), indexed, limit + 1, has_cursor, bounded)
    if shape[1] is not None:
        args["q"] = shape[1]
    conds = filters(args, dialect)
    if has_cursor:
        key = tuple_(spec.column, Listing.id)
        after = tuple_(bindparam("cursor_v", type_=spec.column.type),
                       bindparam("cursor_id", type_=Listing.id.type))
        conds.append(key < after if spec.descending else key > after)
    if spec.descending:
        order = (spec.column.desc(), Listing.id.desc())
    else:
        order = (spec.column.asc(), Listing.id.asc())
    return select(*PUBLIC_COLUMNS).where(*conds).order_by(*order).limit(limit + 1)


def rows_of(result: Any) -> list[Any]:
    """The listings of an executed page query as plain rows (``ListingRow``)."""
    keys = tuple(result.keys())
    return [ListingRow(dict(zip(keys, row, strict=True))) for row in result]


def search(args: dict[str, Any]) -> dict[str, Any]:
    dialect = db.engine.dialect.name
    limit = args.get("limit") or 20
    rows = rows_of(db.session.execute(*build_query(args, dialect)))
    items, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(args.get("sort") or "newest", items[-1]) if more else None
    return {"items": items, "next_cursor": next_cursor}
