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
from typing import Any

from sqlalchemy import Select, and_, false, func, literal, select, tuple_

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


def text_condition(q: str, dialect: str, indexed: bool = True):
    """``indexed=False`` (PostgreSQL): the same test in a form no index serves, for rows an
    index on another column already narrows down (ties at one sort value, by id)."""
    if dialect == "postgresql":
        doc = Listing.search_doc if indexed else Listing.search_doc.op("||")(
            func.to_tsvector(TS_CONFIG, ""))
        return _matches(doc, q)
    words = _WORD.findall(q.lower())
    if not words:
        return false()
    return and_(*(func.instr(Listing.search_doc, w) > 0 for w in words))


def _matches(document, q: str):
    return document.op("@@")(func.websearch_to_tsquery(TS_CONFIG, textsplit.query(q)))


# Built once (expressions are immutable; building them costs more than compiling from cache).
_ACTIVE = Listing.status == ListingStatus.ACTIVE.value
# Not a suspended seller's (few: a small hashed subplan on PostgreSQL).
_NOT_SUSPENDED = Listing.seller_id.not_in(select(User.id).where(User.suspended_at.is_not(None)))


def filters(args: dict[str, Any], dialect: str, text_indexed: bool = True,
            sellers: bool = True) -> list:
    conds: list = [_ACTIVE]
    if sellers:
        conds.append(_NOT_SUSPENDED)
    if args.get("q"):
        conds.append(text_condition(args["q"], dialect, text_indexed))
    if args.get("category"):
        conds.append(Listing.category == args["category"])
    if args.get("brand"):
        conds.append(func.lower(Listing.brand) == args["brand"].lower())
    if args.get("condition"):
        conds.append(Listing.condition.in_(sorted(set(args["condition"]))))
    if args.get("min_price") is not None:
        conds.append(Listing.price_amount >= args["min_price"])
    if args.get("max_price") is not None:
        conds.append(Listing.price_amount <= args["max_price"])
    if args.get("currency"):
        conds.append(Listing.price_currency == args["currency"])
    if args.get("min_avoided_kg") is not None:
        conds.append(Listing.avoided_central_g >= math.ceil(args["min_avoided_kg"] * 1000))
    if args.get("seller_id") is not None:
        conds.append(Listing.seller_id == args["seller_id"])
    if args.get("city"):
        conds.append(func.lower(Listing.city) == args["city"].lower())
    if args.get("country"):
        conds.append(Listing.country == args["country"].upper())
    return conds


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


def build_query(args: dict[str, Any], dialect: str) -> Select:
    """The page query (``limit + 1`` rows, to know whether another page follows)."""
    sort_name = args.get("sort") or "newest"
    spec = SORTS[sort_name]
    limit = args.get("limit") or 20
    conds = filters(args, dialect)
    cursor = decode_cursor(sort_name, args["cursor"]) if args.get("cursor") else None
    if dialect == "postgresql" and args.get("q") and sort_name in _RUM_SORTS:
        indexed = filters({k: args.get(k) for k in _INDEXED}, dialect, sellers=False)
        return search_sorted.text_sorted(spec, args["q"], conds, filters({**args, "q": None},
                                         dialect), indexed, limit + 1, cursor,
                                         _bound_key(sort_name, args.get("currency"),
                                                    args.get("category")))
    if cursor is not None:
        value, last_id = cursor
        key = tuple_(spec.column, Listing.id)
        after = tuple_(literal(value, spec.column.type), literal(last_id, Listing.id.type))
        conds.append(key < after if spec.descending else key > after)
    if spec.descending:
        order = (spec.column.desc(), Listing.id.desc())
    else:
        order = (spec.column.asc(), Listing.id.asc())
    return select(*PUBLIC_COLUMNS).where(*conds).order_by(*order).limit(limit + 1)


def search(args: dict[str, Any]) -> dict[str, Any]:
    dialect = db.engine.dialect.name
    limit = args.get("limit") or 20
    result = db.session.execute(build_query(args, dialect))
    keys = tuple(result.keys())
    # Listings as plain rows (the common query) or entities (search_sorted's statement).
    rows = [row[0] if isinstance(row[0], Listing) else ListingRow(dict(zip(keys, row, strict=True)))
            for row in result]
    items, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(args.get("sort") or "newest", items[-1]) if more else None
    return {"items": items, "next_cursor": next_cursor}
