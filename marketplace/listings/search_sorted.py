"""Text + a price or avoided-emissions sort on PostgreSQL, in one statement (``text_sorted``).

Exact ``ORDER BY value, id`` semantics (the keyset cursor continues strictly after ``(value,
id)``), at a cost bounded by the page rather than by the table or the number of matches:

1. ``walk``: the first ``WALK_ROWS`` rows after the cursor in the sort's b-tree (index-only:
   the sort indexes INCLUDE the search document, and the filters they hold -- category,
   currency, price range, minimum avoided -- are tested there), filtered on the text; only
   the rows that match go to the table for the other filters (suspended sellers, brand...).
   The walk starts at the ``anchor`` when there is one: ``search_term_bounds`` holds, per
   word and sort key (per category too), an interval around the sort values of every active
   listing with the word (a trigger widens it on each write), so no match of a conjunction
   of words lies beyond the tightest of its words' bounds (nor a match of ``a or b`` beyond
   the wider of theirs; ``-word`` bounds nothing). A common word whose matches sit
   far down the order ("iphone" by avoided emissions: the first after 280,000 other
   listings) is then found within a few rows of the anchor, and the walk reads up to
   ``ANCHORED_WALK_ROWS``. When it finds the page, the rest of the statement is not executed.
2. ``bound``: a ``TABLESAMPLE SYSTEM`` sample (``SAMPLE_PERCENT`` of the table's pages) of
   the rows matching every filter beyond the cursor; its ``rank``-th best sort value bounds
   the matches worth ordering (expected ~``rank / SAMPLE_PERCENT * 100`` of them).
3. ``head``: the first ``n`` matches in the order of the RUM index (``ORDER BY value <=|
   origin``), only among matches beyond the bound: ``value >= bound`` is an index condition
   of the RUM index (a ``bigint`` compared with a ``bigint``: another type would not use it),
   so RUM orders a few thousand entries (~6,000 expected) instead of every match (all
   124,000 of "iphone" at 1M listings, spilling to disk: ~110 ms). It still reads every
   posting entry of the words (~0.14 us each: ~17 ms for "iphone", the floor of this design
   for common words). If the bound was too tight (fewer than ``n`` matches beyond it,
   unlikely: see ``_rank``), the unbounded RUM order is used instead (exact, slower). RUM
   distances are float8: the origin is the cursor's value or +-2**52, never +-2**63 (float8
   steps of 2,048 there would tie distinct prices and break the order).
4. RUM orders by the value alone, so the page is completed exactly as ``(value, id)``: the
   rows of ``head`` strictly before its last value, every match at that value in id order
   (the sort's b-tree at one value, index-only, by id), and the matches at the cursor's own
   value after its id. The first ``n`` of those are the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    inspect,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy import tablesample as sample_of
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter

from marketplace.listings.models import PUBLIC_COLUMNS, TS_CONFIG, Listing

WALK_ROWS = 2000  # b-tree rows read before the RUM index is asked instead
# ... when the walk starts at the words' bounds (``anchor``): past them, matches are dense
# unless the words rarely meet (16,000 index-only rows: ~8 ms)
ANCHORED_WALK_ROWS = 16000
SAMPLE_PERCENT = 0.05  # of the table's pages, for the bound
_BIG = 2**63 - 1
# Origin of the RUM distances without a cursor: prices (at most 10**12 minor units) and
# avoided grams lie within 2**53 of it, where a float8 distance is exact.
_ORIGIN = 2**52


def _rank(n: int) -> int:
    """Sample rank of the bound: the bound is too tight only when ``rank`` sampled rows fall
    among the true first ``n`` matches (binomial, p = SAMPLE_PERCENT %): < 1e-4 for n <= 101."""
    return 3 + math.floor(10 * n * SAMPLE_PERCENT / 100)


def _tsquery():
    """The query's text: the bound parameter ``tsq`` (search.text_params)."""
    return func.websearch_to_tsquery(TS_CONFIG, bindparam("tsq", type_=String))


def matches(document):
    """``document @@`` the query's text (the bound parameter ``tsq``); search.py's text
    condition on PostgreSQL too."""
    return document.op("@@")(_tsquery())


def anchor(desc: bool, end: bool = False):
    """Where the walk may start: no active listing matching ``tsq`` has a sort value beyond it
    (``search_term_bounds``: the lowest ``hi`` of the query's words when descending, the
    highest ``lo`` ascending), or NULL; with ``end``, where it may stop (the highest ``lo``
    descending, the lowest ``hi`` ascending: no match lies past it either). A conjunction of
    words (``&`` and phrases: a match has every word) is bounded by its words; a query with
    ``or`` by the widest bound of its alternatives; a negated word (``-word``) bounds nothing.
    A word with no row is in no active listing: an alternative with one matches nothing, and
    a query where none can match has both beyond every value (the walk reads nothing); an
    alternative without a positive word, NULL. Computed by the SQL function
    ``search_term_bound`` (migrations 0023, 0024), once per statement. The sort's key in
    ``search_term_bounds`` is the bound parameter ``bound_key``."""
    return select(func.search_term_bound(_tsquery(), bindparam("bound_key", type_=String),
                                         desc != end, type_=BigInteger)).scalar_subquery()


def _big(value: Any):
    """A value as ``bigint`` (psycopg sends small ints as int2/int4, and RUM and b-tree only
    use a condition whose operator is in their ``bigint`` operator class); a string is the
    name of a bound parameter (``params``)."""
    if isinstance(value, str):
        return cast(bindparam(value, type_=BigInteger), BigInteger)
    return cast(literal(value), BigInteger)


def params(spec, cursor: tuple[Any, int] | None, bound_key: str | None) -> dict[str, Any]:
    """The bound parameters of ``text_sorted``'s statement, but for the filters' own: the
    cursor, the RUM distances' origin and the ``search_term_bounds`` key."""
    origin = _ORIGIN if spec.descending else -_ORIGIN
    values: dict[str, Any] = {}
    if cursor is not None:
        # RUM computes the distance to the origin as a float8: exact only within 2**53 of it
        origin = min(cursor[0], origin) if spec.descending else max(cursor[0], origin)
        values.update(cursor_v=int(cursor[0]), cursor_id=int(cursor[1]))
    if bound_key is not None:
        values["bound_key"] = bound_key
    return {**values, "origin": origin}


def _order(v, key_id, desc: bool) -> tuple:
    return (v.desc(), key_id.desc()) if desc else (v.asc(), key_id.asc())


Extra = Callable[[Any, Any], list]  # (sort column, id column) of the alias -> conditions


def _index_walk(spec, indexed: list, plain: list, n: int, *, rows: int | None,
                extra: Extra, order_by_value: bool, index_text: bool):
    """Rows of the sort's b-tree (alias ``w``, index-only: ``indexed`` and ``extra`` test only
    columns the index has) in order, matching the text, then checked against every filter in
    the table (``plain``) and limited to ``n``. ``rows``: read at most that many index rows."""
    w = aliased(Listing, name="w")
    adapt = ClauseAdapter(inspect(w).selectable).traverse
    col = getattr(w, spec.column.key)
    order = _order(col, w.id, spec.descending) if order_by_value else (
        (w.id.desc(),) if spec.descending else (w.id.asc(),))
    inner = select(w.id, col.label("v"), w.search_doc).where(
        *(adapt(c) for c in indexed), *extra(col, w.id)).order_by(*order)
    doc_cond = None
    if rows is not None:
        inner = inner.limit(rows)
    elif not index_text:
        # no LIMIT: the subquery is flattened, so keep the text test away from the text
        # indexes (the b-tree at one value is the way in)
        doc_cond = matches(w.search_doc.op("||")(func.to_tsvector(TS_CONFIG, "")))
        inner = inner.where(doc_cond)
    prefix = inner.subquery("prefix")
    conds = [Listing.id == prefix.c.id, *plain]
    if doc_cond is None:
        conds.append(matches(prefix.c.search_doc))
    outer = _order(prefix.c.v, prefix.c.id, spec.descending) if order_by_value else (
        (prefix.c.id.desc(),) if spec.descending else (prefix.c.id.asc(),))
    return select(prefix.c.id, prefix.c.v).where(*conds).order_by(*outer).limit(n)


def text_sorted(spec, conds: list, plain: list, indexed: list, n: int, has_cursor: bool,
                bounded: bool) -> Select:
    """The page (``n`` rows) of the text in ``spec``'s order: ``conds`` every filter with
    the text, ``plain`` every filter but the text, ``indexed`` the filters the sort's b-tree
    can test; ``bounded``: the sort has a ``search_term_bounds`` key (see the module's
    docstring). The values are bound parameters (the filters', and ``params``): the
    statement is built once per shape."""
    col, desc = spec.column, spec.descending
    start = anchor(desc) if bounded else None
    stop = anchor(desc, end=True) if bounded else None

    def keyset(c, i) -> list:
        conds = []
        if start is not None:
            first = cast(func.coalesce(start, _big(_BIG if desc else -_BIG)), BigInteger)
            last = cast(func.coalesce(stop, _big(-_BIG if desc else _BIG)), BigInteger)
            conds += [c <= first, c >= last] if desc else [c >= first, c <= last]
        if has_cursor:
            key, after = tuple_(c, i), tuple_(_big("cursor_v"), _big("cursor_id"))
            conds.append(key < after if desc else key > after)
        return conds

    rows = ANCHORED_WALK_ROWS if start is not None else WALK_ROWS
    walk = _index_walk(spec, indexed, plain, n, rows=rows, extra=keyset,
                       order_by_value=True, index_text=True).cte("walk").prefix_with(
                           "MATERIALIZED")
    found = select(func.count()).select_from(walk).scalar_subquery()

    at = _big("cursor_v" if has_cursor else 0)
    beyond = ([col < at] if desc else [col > at]) if has_cursor else []
    # 2. the bound, from a sample of the matching rows beyond the cursor's value
    sampled = sample_of(Listing.__table__, func.system(SAMPLE_PERCENT), name="s")
    adapt = ClauseAdapter(sampled).traverse
    s_col = sampled.c[spec.column.key]
    rank = _rank(n)
    sample = (select(s_col.label("v")).where(*(adapt(c) for c in conds + beyond))
              .order_by(s_col.desc() if desc else s_col.asc()).limit(rank)
              .cte("sample").prefix_with("MATERIALIZED"))
    edge_of_sample = func.min(sample.c.v) if desc else func.max(sample.c.v)
    bound = select(case((func.count() >= rank, edge_of_sample))).scalar_subquery()
    # 3. the first n matches in RUM order, beyond the bound (or not, if it was too tight)
    distance = col.op("<=|" if desc else "|=>", return_type=Float)(_big("origin"))
    within = cast(func.coalesce(bound, -_BIG if desc else _BIG), BigInteger)
    bounded = (select(Listing.id, col.label("v"))
               .where(*conds, *beyond, col >= within if desc
                      else col <= within)
               .order_by(distance).limit(n).cte("bounded").prefix_with("MATERIALIZED"))
    enough = or_(select(func.count()).select_from(bounded).scalar_subquery() == n,
                 bound.is_(None))
    unbounded = (select(Listing.id, col.label("v")).where(*conds, *beyond)
                 .order_by(distance).limit(n).subquery("unbounded"))
    head = union_all_subqueries([
        select(bounded.c.id, bounded.c.v).where(enough),
        select(unbounded.c.id, unbounded.c.v).where(~enough),
    ], "head_u").select().cte("head").prefix_with("MATERIALIZED")
    # 4. exact (value, id) order at the page's edge
    edge = select(func.min(head.c.v) if desc else func.max(head.c.v)).scalar_subquery()
    ties = dict(rows=None, order_by_value=False, index_text=False)
    branches = [
        select(head.c.id, head.c.v).where(head.c.v > edge if desc else head.c.v < edge),
        _index_walk(spec, indexed, plain, n, extra=lambda c, i: [c == cast(edge, BigInteger)],
                    **ties),
    ]
    if has_cursor:
        last = _big("cursor_id")
        branches.append(_index_walk(spec, indexed, plain, n, extra=lambda c, i: [
            c == at, i < last if desc else i > last], **ties))
    cand = union_all_subqueries(branches)
    page = union_all_subqueries([
        select(walk.c.id, walk.c.v).where(found == n),
        select(cand.c.id, cand.c.v).where(found < n)
        .order_by(*_order(cand.c.v, cand.c.id, desc)).limit(n),
    ], "page")
    return (select(*PUBLIC_COLUMNS).join(page, Listing.id == page.c.id)
            .order_by(*_order(page.c.v, page.c.id, desc)))


def union_all_subqueries(selects: list[Select], name: str = "cand"):
    """UNION ALL of selects that each have their own ORDER BY / LIMIT (each wrapped)."""
    parts = [select(s.subquery()) for s in selects]
    first, *rest = parts
    return first.union_all(*rest).subquery(name)
