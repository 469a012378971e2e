"""Search: each filter and sort, cursor pagination and its stability under inserts."""

import base64
import json

import pytest

from marketplace.listings.models import ListingRow
from marketplace.listings.search import build_query, encode_cursor
from tests.factories import assert_error_shape, create_listing, make_user

URL = "/api/v1/listings"


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()["items"]]


@pytest.fixture
def catalogue(client):
    """Two sellers, six listings with distinct prices, places, conditions and devices."""
    alice, a = make_user(client, "Alice")
    bob, b = make_user(client, "Bob")
    rows = {
        "iphone": create_listing(client, a),
        "pixel": create_listing(client, a, title="Google Pixel 8 128GB", brand="Google",
                                model="Pixel 8", condition="like_new", release_year=2023,
                                price={"amount": 45000, "currency": "EUR"},
                                description="Mint, with box"),
        "macbook": create_listing(client, b, title="MacBook Air M2 13-inch", category="laptop",
                                  brand="Apple", model="MacBook Air (M2, 2022)", ram_gb=8,
                                  storage_gb=256, screen_inches=13.6, release_year=2023,
                                  battery_health_pct=None, condition="good",
                                  price={"amount": 85000, "currency": "EUR"},
                                  location={"city": "Berlin", "country": "DE"}),
        "thinkpad": create_listing(client, b, title="ThinkPad X1 Carbon", category="laptop",
                                   brand="Lenovo", model="ThinkPad X1 Carbon Gen 11",
                                   storage_gb=512, screen_inches=14, release_year=2024,
                                   condition="fair", battery_health_pct=None,
                                   price={"amount": 70000, "currency": "GBP"},
                                   location={"city": "London", "country": "GB"},
                                   description="Keyboard shine; otherwise fine"),
        "ipad": create_listing(client, b, title="iPad Air 5 64GB", category="tablet",
                               brand="apple", model="iPad Air (5th generation)",
                               storage_gb=64, screen_inches=10.9, release_year=2022,
                               condition="for_parts", battery_health_pct=None,
                               price={"amount": 9000, "currency": "EUR"},
                               description="Cracked glass, for parts", location=None),
        "galaxy": create_listing(client, a, title="Samsung Galaxy S23", brand="Samsung",
                                 model="Galaxy S23", release_year=2023,
                                 price={"amount": 52000, "currency": "EUR"}),
    }
    return {"alice": alice, "bob": bob, **{k: v["id"] for k, v in rows.items()},
            "rows": rows}


def test_default_sort_is_newest_first(client, catalogue):
    ids = _ids(client.get(URL))
    assert ids == sorted(ids, reverse=True) and len(ids) == 6
    assert client.get(URL).get_json()["next_cursor"] is None


@pytest.mark.parametrize("query,expected", [
    ("q=iphone", {"iphone"}),
    ("q=Pixel%208", {"pixel"}),
    ("q=cracked", {"ipad"}),                       # description
    ("q=lenovo", {"thinkpad"}),                    # brand
    ("q=carbon%20gen", {"thinkpad"}),              # model words, all must match
    ("q=apple", {"iphone", "macbook", "ipad"}),
    ("q=nothingmatches", set()),
    ("category=laptop", {"macbook", "thinkpad"}),
    ("brand=APPLE", {"iphone", "macbook", "ipad"}),
    ("condition=good", {"iphone", "macbook", "galaxy"}),
    ("condition=fair&condition=for_parts", {"thinkpad", "ipad"}),
    ("min_price=50000&currency=EUR", {"macbook", "galaxy"}),   # the GBP ThinkPad is not
    ("min_price=50000&currency=GBP", {"thinkpad"}),            # compared with euros
    ("max_price=45000&currency=EUR", {"iphone", "pixel", "ipad"}),
    ("min_price=40000&max_price=60000&currency=EUR", {"pixel", "galaxy"}),
    ("currency=GBP", {"thinkpad"}),
    ("city=berlin", {"macbook"}),
    ("country=gb", {"thinkpad"}),
    ("country=FR", {"iphone", "pixel", "galaxy"}),
    ("q=apple&category=laptop&max_price=90000&currency=EUR", {"macbook"}),
])
def test_filters(client, catalogue, query, expected):
    ids = set(_ids(client.get(f"{URL}?{query}")))
    assert ids == {catalogue[name] for name in expected}


def test_seller_and_min_avoided_filters(client, catalogue):
    ids = set(_ids(client.get(f"{URL}?seller_id={catalogue['bob']['id']}")))
    assert ids == {catalogue[n] for n in ("macbook", "thinkpad", "ipad")}
    avoided = {n: catalogue["rows"][n]["footprint"]["avoided_kgco2e"]["central"]
               for n in ("iphone", "pixel", "macbook", "thinkpad", "ipad", "galaxy")}
    threshold = sorted(avoided.values())[3]
    ids = set(_ids(client.get(f"{URL}?min_avoided_kg={threshold}")))
    assert ids == {catalogue[n] for n, v in avoided.items() if v >= threshold}


@pytest.mark.parametrize("sort,key,reverse", [
    ("price_asc&currency=EUR", lambda x: (x["price"]["amount"], x["id"]), False),
    ("price_desc&currency=EUR", lambda x: (x["price"]["amount"], x["id"]), True),
    ("avoided_desc", lambda x: (x["footprint"]["avoided_kgco2e"]["central"], x["id"]), True),
    ("newest", lambda x: (x["created_at"], x["id"]), True),
])
def test_sorts_and_pages_cover_everything_once(client, catalogue, sort, key, reverse):
    everything = client.get(f"{URL}?sort={sort}&limit=100").get_json()["items"]
    assert everything == sorted(everything, key=key, reverse=reverse)
    if sort.startswith("price"):
        assert {x["price"]["currency"] for x in everything} == {"EUR"}
    seen, cursor = [], None
    while True:
        resp = client.get(f"{URL}?sort={sort}&limit=4" + (f"&cursor={cursor}" if cursor else ""))
        page = resp.get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in everything]


def test_inactive_listings_are_not_searched(client, catalogue):
    # Withdrawn by its seller: gone.
    _, other = make_user(client)
    mine = create_listing(client, other)
    assert mine["id"] in _ids(client.get(URL))
    client.delete(f"{URL}/{mine['id']}", headers=other)
    assert mine["id"] not in _ids(client.get(URL))


@pytest.mark.parametrize("sort", ["newest", "price_asc&currency=EUR", "avoided_desc"])
def test_cursor_is_stable_while_inserting(client, sort):
    _, headers = make_user(client)
    for i in range(6):
        create_listing(client, headers, title=f"Phone number {i}",
                       price={"amount": 1000 * (i + 1), "currency": "EUR"})
    first = client.get(f"{URL}?sort={sort}&limit=3").get_json()
    # New listings arrive between the two pages, at every end of the order.
    for amount in (500, 3500, 99000):
        create_listing(client, headers, title="Arrived meanwhile",
                       price={"amount": amount, "currency": "EUR"})
    second = client.get(f"{URL}?sort={sort}&limit=3&cursor={first['next_cursor']}").get_json()
    first_ids = [i["id"] for i in first["items"]]
    second_ids = [i["id"] for i in second["items"]]
    assert not set(first_ids) & set(second_ids)
    # The second page continues right after the first page's last row.
    after = [i["id"] for i in client.get(f"{URL}?sort={sort}&limit=100").get_json()["items"]]
    pos = after.index(first_ids[-1])
    assert second_ids == after[pos + 1:pos + 4]


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("sort=cheapest", "sort"),
    ("category=toaster", "category"), ("condition=mint", "condition"),
    ("min_price=-1", "min_price"), ("min_price=10&max_price=5", "min_price"),
    ("currency=ABC", "currency"), ("min_avoided_kg=-3", "min_avoided_kg"),
    ("cursor=!!!", "cursor"), ("seller_id=x", "seller_id"),
    ("min_price=1", "currency"), ("max_price=1", "currency"), ("sort=price_asc", "currency"),
    ("sort=price_desc&q=phone", "currency"),
])
def test_bad_parameters_give_field_errors(client, query, field):
    body = assert_error_shape(client.get(f"{URL}?{query}"), 422)
    assert field in body["errors"], body


@pytest.mark.parametrize("payload", [
    [1], {"a": 1}, ["2026-01-01T00:00:00+00:00", "x"], [True, 1], "x", [1.5, 2],
])
def test_tampered_cursors_are_refused(client, payload):
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    body = assert_error_shape(client.get(f"{URL}?sort=price_asc&currency=EUR&cursor={cursor}"), 422)
    assert "cursor" in body["errors"]


def test_a_cursor_from_another_sort_is_refused(client):
    _, headers = make_user(client)
    for _ in range(3):
        create_listing(client, headers)
    cursor = client.get(f"{URL}?sort=newest&limit=1").get_json()["next_cursor"]
    assert_error_shape(client.get(f"{URL}?sort=price_asc&currency=EUR&cursor={cursor}"), 422)


@pytest.mark.parametrize("sort,key,reverse", [
    ("price_asc&currency=EUR", lambda x: (x["price"]["amount"], x["id"]), False),
    ("price_desc&currency=EUR", lambda x: (x["price"]["amount"], x["id"]), True),
    ("avoided_desc", lambda x: (x["footprint"]["avoided_kgco2e"]["central"], x["id"]), True),
])
def test_text_with_a_sort_pages_in_order_through_ties(client, sort, key, reverse):
    """Text + a sort (RUM on PostgreSQL): many matches share one sort value; pages of 2 still
    give every match once, in (value, id) order, and skip the listings that do not match."""
    _, headers = make_user(client)
    for amount in (5000, 5000, 5000, 7000, 5000, 3000, 7000, 5000):
        create_listing(client, headers, title="Refurbished handset tied",
                       price={"amount": amount, "currency": "EUR"})
    create_listing(client, headers, title="Some other thing",
                   price={"amount": 5000, "currency": "EUR"})
    create_listing(client, headers, title="Refurbished handset tied in pounds",
                   price={"amount": 5000, "currency": "GBP"})
    everything = client.get(f"{URL}?q=handset&sort={sort}&limit=100").get_json()["items"]
    expected_count = 8 if "currency" in sort else 9
    assert len(everything) == expected_count
    assert everything == sorted(everything, key=key, reverse=reverse)
    seen, cursor = [], None
    while True:
        page = client.get(f"{URL}?q=handset&sort={sort}&limit=2"
                          + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in everything]


@pytest.mark.parametrize("query", ["苹果手机", "苹果", "手机壳", "果"])
def test_scripts_without_spaces_are_searchable(client, query):
    _, headers = make_user(client)
    hit = create_listing(client, headers, title="二手苹果手机壳 iPhone 13")
    create_listing(client, headers, title="华为平板电脑")
    assert _ids(client.get(f"{URL}?q={query}")) == [hit["id"]]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_one_statement_per_shape_with_values_bound(dialect):
    """A search's statement is built once per combination of filters, sort, limit and cursor
    (building it cost more than running it) and reused with other values: the values are
    bound parameters, never part of the statement."""
    cursor = encode_cursor("price_asc", ListingRow({"id": 7, "price_amount": 1234}))
    a, pa = build_query({"q": "iphone 13", "category": "smartphone", "min_price": 100,
                         "currency": "EUR", "sort": "price_asc"}, dialect)
    b, pb = build_query({"q": "pixel 8", "category": "laptop", "min_price": 9,
                         "currency": "GBP", "sort": "price_asc"}, dialect)
    assert a is b
    assert pa != pb and pb["category"] == "laptop" and pb["min_price"] == 9
    assert "laptop" not in str(b.compile()) and "iphone" not in str(a.compile())
    c, pc = build_query({"q": "pixel 8", "category": "laptop", "min_price": 9,
                         "currency": "GBP", "sort": "price_asc", "cursor": cursor}, dialect)
    assert c is not b and (pc["cursor_v"], pc["cursor_id"]) == (1234, 7)
    d, _ = build_query({"q": "pixel 8", "currency": "GBP", "sort": "price_asc"}, dialect)
    assert d is not b
    if dialect == "sqlite":  # one parameter per word
        e, pe = build_query({"q": "one two three", "sort": "price_asc", "currency": "GBP"},
                            dialect)
        assert e is not d and [pe[f"w{i}"] for i in range(3)] == ["one", "two", "three"]
