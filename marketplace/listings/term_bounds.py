"""``search_term_bounds`` rebuilt from the active listings (PostgreSQL).

The trigger of migration 0023 only ever widens a word's interval, so after many sales and
edits the intervals are looser than they need be (still correct). ``rebuild`` recomputes them
exactly, writers to ``listings`` waiting meanwhile (``SHARE`` lock: searches go on, reading
the old rows until the commit); also after a bulk load with the trigger disabled (the
search benchmark). The keys and values are those of the trigger (copied in the migration:
a migration must not change when the app's code does).
"""

from __future__ import annotations

from sqlalchemy import text

from marketplace.core.db import db

_REBUILD = """
INSERT INTO search_term_bounds (sort_key, term, lo, hi)
SELECT k.key, t.term, min(k.value), max(k.value)
FROM listings l, unnest(tsvector_to_array(l.search_doc)) AS t(term),
     LATERAL (VALUES ('avoided', l.avoided_central_g),
                     ('avoided:' || l.category, l.avoided_central_g),
                     ('price:' || l.price_currency, l.price_amount),
                     ('price:' || l.price_currency || ':' || l.category, l.price_amount))
         AS k(key, value)
WHERE l.status = 'active' AND k.value IS NOT NULL AND k.key IS NOT NULL
GROUP BY k.key, t.term
"""


# In one transaction: writers wait, the old rows stay visible to searches until the commit.
STATEMENTS = ("LOCK TABLE listings IN SHARE MODE", "DELETE FROM search_term_bounds", _REBUILD)


def rebuild(connection) -> int:
    """Recompute every interval in the caller's transaction; the number of rows written."""
    *first, last = STATEMENTS
    for sql in first:
        connection.execute(text(sql))
    return connection.execute(text(last)).rowcount


def rebuild_now() -> int:
    if db.engine.dialect.name != "postgresql":
        return 0  # no trigger, no bounds: SQLite does not use them
    with db.engine.begin() as connection:
        return rebuild(connection)
