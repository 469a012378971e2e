"""search_term_bounds: per search-document word and sort key, an interval holding the sort
value of every active listing with that word, kept by a trigger on PostgreSQL (the start of
the b-tree walk of text + sort searches: marketplace/listings/search_sorted.py)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 14:00:00

On PostgreSQL the upgrade
fills the table from the active listings while the trigger already runs, in one transaction
(writes to listings wait for it: ~1 min at 1M listings).

Also drops ``ix_listings_active_price`` (active listings by price, id): price sorts and filters
always name a currency and walk ``ix_listings_active_currency_price`` (0022); no plan of the
search benchmark used it (0 scans in ``pg_stat_user_indexes`` after a full run at 1M
listings), and it cost ~280 MB and a b-tree insert per listing write.
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The pairs (sort key, value) a listing row contributes; the same expression in the trigger
# (NEW.) and the backfill (l.). Price keys name the currency (price sorts always do); each
# sort has a key per category too (tighter, for searches within a category).
_KEYS = ("LATERAL (VALUES ('avoided', {r}.avoided_central_g), "
         "('avoided:' || {r}.category, {r}.avoided_central_g), "
         "('price:' || {r}.price_currency, {r}.price_amount), "
         "('price:' || {r}.price_currency || ':' || {r}.category, {r}.price_amount))")

# Intervals only ever grow (a sold or edited listing leaves its word's interval as wide as it
# was: still a valid bound, just a looser one), so a writer that finds the interval already
# covering its value writes nothing and takes no lock: only new extremes upsert.
FUNCTION = f"""
CREATE FUNCTION listings_term_bounds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_term_bounds AS b (sort_key, term, lo, hi)
    SELECT k.key, t.term, k.value, k.value
    FROM unnest(tsvector_to_array(NEW.search_doc)) AS t(term),
         {_KEYS.format(r="NEW")} AS k(key, value)
    WHERE k.value IS NOT NULL AND k.key IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM search_term_bounds c
        WHERE c.sort_key = k.key AND c.term = t.term AND c.lo <= k.value AND c.hi >= k.value)
    ON CONFLICT (sort_key, term) DO UPDATE
        SET lo = least(b.lo, excluded.lo), hi = greatest(b.hi, excluded.hi);
    RETURN NULL;
END;
$$
"""
# Every column the keys and values read: category, currency, price, avoided, the document.
# Where the matches of a text query can lie in a sort key's order (search_sorted.anchor):
# for a conjunction of words (a tsquery of ``&`` and phrases only: a match has every word),
# the lowest ``hi`` of its words (``upper``) or the highest ``lo``; NULL for a query with ``|``
# or ``!``, or without words; beyond every value (+-(2**63 - 1)) if a word has no row (no
# active listing has it: no match). The words are read from the tsquery's text: quoted
# lexemes, inner quotes doubled.
BOUND_FUNCTION = r"""
CREATE FUNCTION search_term_bound(q tsquery, key text, upper boolean) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    form text := q::text;
    words text[];
    found integer;
    edge bigint;
BEGIN
    IF regexp_replace(form, '''(?:[^'']|'''')*''', '', 'g') ~ '[|!]' THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT replace(m[1], '''''', '''')) INTO words
    FROM regexp_matches(form, '''((?:[^'']|'''')*)''', 'g') AS m;
    IF words IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT count(*), CASE WHEN upper THEN min(b.hi) ELSE max(b.lo) END INTO found, edge
    FROM search_term_bounds b WHERE b.sort_key = key AND b.term = ANY(words);
    IF found < cardinality(words) THEN
        RETURN CASE WHEN upper THEN -9223372036854775807 ELSE 9223372036854775807 END;
    END IF;
    RETURN edge;
END;
$$
"""
TRIGGERS = {
    "listings_term_bounds_insert": "AFTER INSERT ON listings",
    "listings_term_bounds_update": ("AFTER UPDATE OF status, search_doc, category, "
                                    "price_amount, price_currency, avoided_central_g "
                                    "ON listings"),
}
BACKFILL = f"""
INSERT INTO search_term_bounds (sort_key, term, lo, hi)
SELECT k.key, t.term, min(k.value), max(k.value)
FROM listings l, unnest(tsvector_to_array(l.search_doc)) AS t(term),
     {_KEYS.format(r="l")} AS k(key, value)
WHERE l.status = 'active' AND k.value IS NOT NULL AND k.key IS NOT NULL
GROUP BY k.key, t.term
"""


_PRICE = "ix_listings_active_price"
_ACTIVE = "status = 'active'"


def upgrade():
    op.drop_index(_PRICE, table_name="listings", postgresql_where=sa.text(_ACTIVE),
                  sqlite_where=sa.text(_ACTIVE))
    op.create_table(
        "search_term_bounds",
        sa.Column("sort_key", sa.String(length=48), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("lo", sa.BigInteger(), nullable=False),
        sa.Column("hi", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sort_key", "term", name=op.f("pk_search_term_bounds")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(BOUND_FUNCTION)
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW "
                   "WHEN (NEW.status = 'active') EXECUTE FUNCTION listings_term_bounds()")
    op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON listings")
        op.execute("DROP FUNCTION listings_term_bounds()")
        op.execute("DROP FUNCTION search_term_bound(tsquery, text, boolean)")
    op.drop_table("search_term_bounds")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(_PRICE, "listings", ["price_amount", "id"], unique=False,
                        postgresql_include=["price_currency", "search_doc"],
                        postgresql_where=sa.text(_ACTIVE))
    else:
        op.create_index(_PRICE, "listings", ["price_amount", "id"], unique=False,
                        sqlite_where=sa.text(_ACTIVE))
