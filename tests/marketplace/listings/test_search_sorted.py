"""Text + a price or avoided sort (search_sorted on PostgreSQL) gives exactly the plain
``ORDER BY value, id`` of the same filters, page after page, on random data full of ties:
whichever path serves the page (the b-tree walk from the words' bounds or from the top, the
sampled bound, the unbounded RUM order), also after listings are edited, sold and relisted
(the bounds only widen)."""

import random
from datetime import UTC, datetime
from math import comb

import pytest
from sqlalchemy import func, select, text, update

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.listings import search_sorted
from marketplace.listings.models import Listing, SearchTermBound
from marketplace.listings.search import (
    SORTS,
    document_value,
    filter_params,
    filters,
    search,
    text_params,
)
from tests.factories import make_user

WORDS = ["phone", "laptop", "cracked", "mint", "box", "charger", "dent", "oled"]
# (WALK_ROWS, SAMPLE_PERCENT, rank): the walk alone; walk too short + bound from the whole
# table (rank 1: often too tight, so the unbounded order takes over); a random sample.
PATHS = [(5000, 0.2, None), (3, 100, lambda n: 1), (3, 100, lambda n: n + 2),
         (0, 40, lambda n: 2)]
# Queries that are not a plain conjunction of words (no bounds: the walk starts at the top),
# and one with a word no listing has (bounds say: no match).
OTHER_QUERIES = ["phone or laptop", "mint -box", '"cracked mint" or dent', "phone nosuchword"]


def _listing(rng: random.Random, seller_id: int, dialect: str, n: int) -> Listing:
    words = rng.sample(WORDS, rng.randint(1, 4))
    text = f"item{n} " + " ".join(words)
    avoided = rng.choice([0, 1500, 1500, 7000, 7000, 7000, 12000, 2**40])
    return Listing(
        seller_id=seller_id, status=rng.choice(["active"] * 9 + ["sold"]), title=text,
        description="", category=rng.choice(["smartphone", "laptop"]), brand="Brand",
        model="Model", condition="good", price_amount=rng.choice([500, 900, 900, 900, 4000,
                                                                  4000, 2**35]),
        price_currency=rng.choice(["EUR", "EUR", "GBP"]),
        search_doc=document_value(text, dialect), embodied_low_g=1, embodied_central_g=1,
        embodied_high_g=1, avoided_low_g=avoided, avoided_central_g=avoided,
        avoided_high_g=avoided, footprint_method="test", methodology_version="test",
        created_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def market(client, app):
    rng = random.Random(1414)
    sellers = [make_user(client, name, address=False)[0]["id"] for name in ("A", "B", "C")]
    with app.app_context():
        dialect = db.engine.dialect.name
        db.session.add_all(_listing(rng, rng.choice(sellers), dialect, i) for i in range(260))
        db.session.execute(update(User).where(User.id == sellers[2])
                           .values(suspended_at=datetime(2026, 2, 1, tzinfo=UTC)))
        db.session.commit()
    return rng


def _naive(args: dict) -> list[int]:
    spec = SORTS[args["sort"]]
    order = (spec.column.desc(), Listing.id.desc()) if spec.descending else (
        spec.column.asc(), Listing.id.asc())
    dialect = db.engine.dialect.name
    return list(db.session.scalars(select(Listing.id).where(
        *filters(args, dialect)).order_by(*order), filter_params(args, dialect)))


def _paged(args: dict, limit: int) -> list[int]:
    seen, cursor = [], None
    for _ in range(400):
        page = search({**args, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert len(page["items"]) <= limit
        seen += [item.id for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pages never end")


def _cases(rng: random.Random) -> list[dict]:
    cases = []
    for sort in ("avoided_desc", "price_asc", "price_desc"):
        for k in range(6):
            q = " ".join(rng.sample(WORDS, rng.choice([1, 1, 2])))
            args = {"sort": sort, "q": OTHER_QUERIES[rng.randrange(4)] if k == 5 else q}
            if sort.startswith("price") or rng.random() < 0.3:
                args["currency"] = rng.choice(["EUR", "GBP"])
            if rng.random() < 0.4:
                args["category"] = rng.choice(["smartphone", "laptop"])
            if "currency" in args and rng.random() < 0.4:
                args["min_price"], args["max_price"] = 600, 5000
            cases.append(args)
    return cases


def _shuffle(rng: random.Random, dialect: str) -> None:
    """Edit, sell and relist listings: prices, footprints, currencies, categories, texts."""
    listings = list(db.session.scalars(select(Listing)))
    for listing in rng.sample(listings, 120):
        change = rng.randrange(5)
        if change == 0:
            listing.price_amount = rng.choice([100, 900, 4000, 2**36])
        elif change == 1:
            value = rng.choice([0, 1500, 7000, 2**41])
            listing.avoided_low_g = listing.avoided_central_g = listing.avoided_high_g = value
        elif change == 2:
            listing.price_currency = rng.choice(["EUR", "GBP"])
            listing.category = rng.choice(["smartphone", "laptop"])
        elif change == 3:
            words = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
            listing.search_doc = document_value(f"item{listing.id} {words}", dialect)
        else:
            listing.status = "sold" if listing.status == "active" else "active"
    db.session.commit()


def _uncovered() -> list:
    """(listing, word, sort key) of active listings that search_term_bounds does not cover."""
    return list(db.session.execute(text("""
        SELECT l.id, t.term, k.key FROM listings l,
               unnest(tsvector_to_array(l.search_doc)) AS t(term),
               LATERAL (VALUES ('avoided', l.avoided_central_g),
                               ('avoided:' || l.category, l.avoided_central_g),
                               ('price:' || l.price_currency, l.price_amount),
                               ('price:' || l.price_currency || ':' || l.category,
                                l.price_amount)) AS k(key, value)
        WHERE l.status = 'active' AND NOT EXISTS (
            SELECT 1 FROM search_term_bounds b WHERE b.sort_key = k.key AND b.term = t.term
            AND b.lo <= k.value AND k.value <= b.hi)""")))


@pytest.mark.parametrize("walk,percent,rank", PATHS)
def test_pages_equal_the_plain_order(app_ctx, market, monkeypatch, walk, percent, rank):
    monkeypatch.setattr(search_sorted, "WALK_ROWS", walk)
    monkeypatch.setattr(search_sorted, "ANCHORED_WALK_ROWS", walk)
    monkeypatch.setattr(search_sorted, "SAMPLE_PERCENT", percent)
    if rank is not None:
        monkeypatch.setattr(search_sorted, "_rank", rank)
    for args in _cases(market):
        expected = _naive(args)
        for limit in (2, 9):
            assert _paged(args, limit) == expected, (args, limit)


@pytest.mark.parametrize("walk", [5000, 3])
def test_pages_equal_the_plain_order_after_edits(app_ctx, market, monkeypatch, walk):
    monkeypatch.setattr(search_sorted, "WALK_ROWS", walk)
    monkeypatch.setattr(search_sorted, "ANCHORED_WALK_ROWS", walk)
    dialect = db.engine.dialect.name
    for _ in range(2):
        _shuffle(market, dialect)
        for args in _cases(market):
            assert _paged(args, 7) == _naive(args), args


@pytest.mark.services
def test_the_bounds_cover_every_active_listing_after_edits(app_ctx, market):
    assert db.session.scalar(select(func.count()).select_from(SearchTermBound)) > 0
    assert _uncovered() == []
    for _ in range(3):
        _shuffle(market, "postgresql")
        assert _uncovered() == []


@pytest.mark.services
def test_the_anchor_reads_every_word_of_the_query(client, app_ctx):
    # search_term_bound reads the words from the tsquery's text: each must be the document's
    # own lexeme, or the query would look like it has a word no listing has
    seller = make_user(client, "S", address=False)[0]["id"]
    texts = ["Apple iPhone 13", "it's o'neil", "wh-1000xm5 3.5mm", "二手苹果手机壳", "a''b \\c d"]
    for n, text_ in enumerate(texts):
        listing = _listing(random.Random(n), seller, "postgresql", n)
        listing.status, listing.search_doc = "active", document_value(text_, "postgresql")
        listing.avoided_low_g = listing.avoided_central_g = listing.avoided_high_g = 1000 + n
        db.session.add(listing)
        db.session.commit()

        def bound(q: str, end: bool = False):
            return db.session.scalar(select(search_sorted.anchor(True, end)), {
                **text_params(q, "postgresql"), "bound_key": "avoided"})

        query = text_ if n != 3 else "苹果手机"
        assert (bound(query), bound(query, end=True)) == (1000 + n, 1000 + n), text_
        assert bound(f"{query} nosuchword") == -(2**63 - 1)
        # an alternative with an unknown word matches nothing; a negated word bounds nothing
        assert bound(f"{query} or nosuchword") == 1000 + n
        assert bound(f"nosuchword or {query}", end=True) == 1000 + n
        assert bound(f"{query} -nosuchword") == 1000 + n
        assert bound(f'{query} -"nosuchword {query}"', end=True) == 1000 + n
        assert bound("-nosuchword") is None  # no positive word: anywhere
        assert bound(f'nosuchword or -"{query}"') is None


def test_no_match_and_one_match(app_ctx, market, monkeypatch):
    monkeypatch.setattr(search_sorted, "WALK_ROWS", 2)
    monkeypatch.setattr(search_sorted, "ANCHORED_WALK_ROWS", 2)
    assert search({"q": "nothingmatches", "sort": "avoided_desc", "limit": 5})["items"] == []
    one = search({"q": "item7", "sort": "price_desc", "currency": "EUR", "limit": 5})["items"]
    assert [i.id for i in one] == _naive({"q": "item7", "sort": "price_desc", "currency": "EUR"})


def test_the_rank_makes_a_too_tight_bound_rare():
    # the bound fails when `rank` sampled rows fall among the true first n (binomial)
    for n in (2, 21, 51, 101):
        p, r = search_sorted.SAMPLE_PERCENT / 100, search_sorted._rank(n)
        failure = sum(comb(n, k) * p**k * (1 - p)**(n - k) for k in range(r, n + 1))
        assert failure < 1e-4


@pytest.mark.services
def test_search_bounds_command_makes_the_bounds_exact_again(app, app_ctx, market):
    listing = db.session.scalars(select(Listing).where(Listing.status == "active")).first()
    listing.price_amount, price = 2**50, listing.price_amount
    db.session.commit()

    def highest() -> int:
        return db.session.scalar(select(func.max(SearchTermBound.hi)).where(
            SearchTermBound.sort_key == f"price:{listing.price_currency}"))

    assert highest() == 2**50
    listing.price_amount = price
    db.session.commit()
    assert highest() == 2**50  # the trigger only widens
    result = app.test_cli_runner().invoke(args=["search-bounds"])
    assert result.exit_code == 0 and "word bound(s)" in result.output
    db.session.expire_all()
    assert highest() < 2**50
    assert _uncovered() == []
