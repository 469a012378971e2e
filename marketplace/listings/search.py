"""Listing search: filters, sorts and keyset (cursor) pagination.

Only active listings are searched. Each sort orders by ``(sort value, id)`` and has a partial
index over active listings (see ``models.Listing.__table_args__``); a page continues strictly
after the last row of the previous page, so rows inserted meanwhile never shift a page (no
OFFSET). Cursors are base64url of JSON ``[sort value, id]``, validated on decode.

Full text: PostgreSQL matches ``websearch_to_tsquery('simple', q)`` against the GIN-indexed
stored tsvector ``search_doc``; SQLite falls back to every word of ``q`` occurring in the
lower-cased ``search_doc`` text (substring match).
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
from marketplace.listings.models import TS_CONFIG, Listing, ListingStatus

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
        return func.to_tsvector(TS_CONFIG, text)
    return text.lower()


def text_condition(q: str, dialect: str):
    if dialect == "postgresql":
        return Listing.search_doc.op("@@")(func.websearch_to_tsquery(TS_CONFIG, q))
    words = _WORD.findall(q.lower())
    if not words:
        return false()
    return and_(*(func.instr(Listing.search_doc, w) > 0 for w in words))


def filters(args: dict[str, Any], dialect: str) -> list:
    conds: list = [Listing.status == ListingStatus.ACTIVE.value,
                   # not a suspended seller's (few: a small hashed subplan on PostgreSQL)
                   Listing.seller_id.not_in(select(User.id).where(User.suspended_at.is_not(None)))]
    if args.get("q"):
        conds.append(text_condition(args["q"], dialect))
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


def build_query(args: dict[str, Any], dialect: str) -> Select:
    """The page query (``limit + 1`` rows, to know whether another page follows)."""
    sort_name = args.get("sort") or "newest"
    spec = SORTS[sort_name]
    limit = args.get("limit") or 20
    conds = filters(args, dialect)
    if args.get("cursor"):
        value, last_id = decode_cursor(sort_name, args["cursor"])
        key = tuple_(spec.column, Listing.id)
        after = tuple_(literal(value, spec.column.type), literal(last_id, Listing.id.type))
        conds.append(key < after if spec.descending else key > after)
    if spec.descending:
        order = (spec.column.desc(), Listing.id.desc())
    else:
        order = (spec.column.asc(), Listing.id.asc())
    return select(Listing).where(*conds).order_by(*order).limit(limit + 1)


def search(args: dict[str, Any]) -> dict[str, Any]:
    dialect = db.engine.dialect.name
    limit = args.get("limit") or 20
    rows = list(db.session.scalars(build_query(args, dialect)))
    items, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(args.get("sort") or "newest", items[-1]) if more else None
    return {"items": items, "next_cursor": next_cursor}
