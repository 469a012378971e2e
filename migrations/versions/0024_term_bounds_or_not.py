"""search_term_bound for any web-search query: ``or`` and ``-word`` get a bound too

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 17:10:00

0023's ``search_term_bound`` bounded a conjunction of words only and gave NULL (no bound: the
walk of text + sort searches starts at the sort's first value) for a query with ``|`` or
``!``; such searches fell back to the RUM scan (66-190 ms at 1M listings). The query
``websearch_to_tsquery`` builds is a disjunction of conjunctions (``&`` binds tighter than
``|``; ``<->`` phrases need every word; parentheses only follow ``!``), so:

- a negated word or group (``!'w'``, ``!( ... )``) constrains nothing: skipped;
- each disjunct is bounded as before (the lowest ``hi`` of its words, or the highest
  ``lo``); a disjunct with a word no active listing has matches nothing and is left out;
  a disjunct without a positive word may match anywhere: no bound (NULL);
- the query's bound is the widest of its disjuncts' (the highest of the ``hi`` bounds, the
  lowest of the ``lo``), and beyond every value (+-(2**63 - 1)) when no disjunct can match.

Anything else in the query's text (weights, prefixes, parentheses not after ``!``): NULL, as
before. PostgreSQL only (SQLite has no such function).
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BOUND_FUNCTION = r"""
CREATE OR REPLACE FUNCTION search_term_bound(q tsquery, key text, upper boolean)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    tokens text[];
    tok text;
    i integer := 1;
    depth integer;
    words text[] := '{}';
    found integer;
    edge bigint;
    result bigint;
BEGIN
    -- lexemes (quoted, inner quotes doubled), operators, and any other character alone
    SELECT coalesce(array_agg(m[1]), '{}') INTO tokens
    FROM regexp_matches(q::text, '(''(?:[^'']|'''')*''|<->|<[0-9]+>|[&|!()]|\S)', 'g') AS m;
    LOOP
        tok := tokens[i];
        IF tok IS NULL OR tok = '|' THEN  -- the end of a disjunct
            IF cardinality(words) = 0 THEN
                RETURN NULL;  -- no positive word: it may match anywhere
            END IF;
            SELECT count(*), CASE WHEN upper THEN min(b.hi) ELSE max(b.lo) END
            INTO found, edge
            FROM search_term_bounds b WHERE b.sort_key = key AND b.term = ANY(words);
            IF found = (SELECT count(DISTINCT w) FROM unnest(words) AS w) THEN
                -- (else a word no active listing has: this disjunct matches nothing)
                result := CASE WHEN upper THEN greatest(result, edge)
                               ELSE least(result, edge) END;
            END IF;
            EXIT WHEN tok IS NULL;
            words := '{}';
        ELSIF tok = '!' THEN  -- skip the negated word or group
            i := i + 1;
            IF tokens[i] = '(' THEN
                depth := 1;
                WHILE depth > 0 LOOP
                    i := i + 1;
                    IF tokens[i] IS NULL THEN
                        RETURN NULL;
                    ELSIF tokens[i] = '(' THEN
                        depth := depth + 1;
                    ELSIF tokens[i] = ')' THEN
                        depth := depth - 1;
                    END IF;
                END LOOP;
            ELSIF tokens[i] IS NULL OR left(tokens[i], 1) <> '''' THEN
                RETURN NULL;
            END IF;
        ELSIF left(tok, 1) = '''' THEN
            words := array_append(words, replace(substr(tok, 2, length(tok) - 2), '''''', ''''));
        ELSIF NOT (tok = '&' OR tok ~ '^<(-|[0-9]+)>$') THEN
            RETURN NULL;  -- not a shape websearch_to_tsquery makes
        END IF;
        i := i + 1;
    END LOOP;
    RETURN coalesce(result, CASE WHEN upper THEN -9223372036854775807
                                 ELSE 9223372036854775807 END);
END;
$$
"""

# 0023's function, for the downgrade.
CONJUNCTION_ONLY = r"""
CREATE OR REPLACE FUNCTION search_term_bound(q tsquery, key text, upper boolean) RETURNS bigint
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


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BOUND_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CONJUNCTION_ONLY)
