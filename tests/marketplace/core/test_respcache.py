"""The response cache's store: tombstones win over a late store, Redis errors are misses,
and one process's write forgets another process's copy (they share Redis)."""

from __future__ import annotations

import time

import pytest

from marketplace.app import create_app
from marketplace.core.http import cachestores, respcache
from tests.factories import REDIS_URL, create_listing, make_user

needs_redis = pytest.mark.services


def _stores():
    yield respcache.MemoryStore()
    if REDIS_URL:
        yield respcache.RedisStore(REDIS_URL, "test:rc:")


@pytest.mark.parametrize("store", list(_stores()), ids=lambda s: type(s).__name__)
def test_a_read_that_began_before_a_write_cannot_store_the_old_copy(store):
    rc = respcache.ResponseCache(store)
    assert rc.get("k") is None          # a reader misses, reads the old row...
    rc.forget(["k"])                    # ...a writer commits and forgets the key...
    rc.add("k", b"old", 60)             # ...the reader's store comes too late
    assert rc.get("k") == respcache.TOMBSTONE
    store.clear()
    rc.add("k", b"new", 60)
    rc.add("k", b"newer", 60)           # first store wins until forgotten
    assert rc.get("k") == b"new"


def test_memory_store_expires_and_is_bounded_in_bytes(monkeypatch):
    store = respcache.MemoryStore(max_bytes=30)
    now = [1000.0]
    monkeypatch.setattr(respcache.time, "monotonic", lambda: now[0])
    for key in "abcd":
        store.add(key, key.encode() * 10, 10)
    assert [store.get(k) for k in "abcd"] == [None, b"b" * 10, b"c" * 10, b"d" * 10]
    store.add("big", b"x" * 31, 10)  # larger than the whole store: not kept
    assert store.get("big") is None and store.size == 30
    now[0] += 11
    assert store.get("d") is None


def test_memory_store_keeps_tombstones_through_a_flood_of_copies():
    store = respcache.MemoryStore(max_bytes=1000)
    store.forget(["listing:1"])
    for i in range(500):
        store.add(f"search:{i}", b"x" * 100, 60)
    store.add("listing:1", b"old copy", 60)
    assert store.get("listing:1") == respcache.TOMBSTONE


def test_redis_errors_are_misses_and_pause_the_cache(monkeypatch):
    rc = respcache.ResponseCache(respcache.RedisStore("redis://127.0.0.1:1/0", "x:"))
    started = time.monotonic()
    assert rc._usable() and rc.get("k") is None
    assert not rc._usable()
    rc.add("k", b"v", 60)
    rc.forget(["k"])  # logged, not raised
    assert time.monotonic() - started < 2
    monkeypatch.setattr(respcache.time, "monotonic",
                        lambda: started + respcache.PAUSE_SECONDS + 1)
    assert rc._usable()


def test_clearing_the_cache_ends_a_pause(app):
    rc = app.extensions["reloop.respcache"]
    rc.paused_until = time.monotonic() + 60
    respcache.clear(app)
    assert rc._usable()


def test_detail_is_served_when_redis_is_unreachable(client, app_config):
    _, seller = make_user(client, "Seller")
    lid = create_listing(client, seller)["id"]
    broken = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    for _ in range(2):
        resp = broken.get(f"/api/v1/listings/{lid}")
        assert resp.status_code == 200 and resp.get_json()["id"] == lid


@needs_redis
def test_a_write_in_one_process_forgets_the_copy_another_process_stored(app, app_config):
    other = create_app(app_config)  # another gunicorn worker: its own app, the same Redis
    reader, writer = other.test_client(), app.test_client()
    _, seller = make_user(writer, "Seller")
    lid = create_listing(writer, seller)["id"]
    url = f"/api/v1/listings/{lid}"
    etag = reader.get(url).headers["ETag"]
    assert reader.get(url).headers["ETag"] == etag
    changed = writer.patch(url, json={"title": "Renamed phone"},
                           headers={**seller, "If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    assert reader.get(url).get_json()["title"] == "Renamed phone"


@needs_redis
def test_an_owners_set_outlives_every_copy_it_names():
    store = cachestores.RedisStore(REDIS_URL, "test:rc-owner:")
    store.clear()
    store.add_owned("carbon-account:a", b"x", 300, "user:1")
    store.add_owned("carbon-account:b", b"x", 1, "user:1")  # a token about to expire
    r = store.redis
    assert r.ttl("test:rc-owner:owner:user:1") >= r.ttl("test:rc-owner:carbon-account:a")
    store.forget_owners(["user:1"])
    assert store.get("carbon-account:a") is None
    store.clear()


def test_memory_store_stays_cheap_with_many_owners():
    store = cachestores.MemoryStore()
    for i in range(30_000):
        store.add_owned(f"carbon-account:{i:064d}", b"x" * 350, 1, f"user:{i}")
    time.sleep(1.2)
    started = time.perf_counter()
    for i in range(30_000, 30_050):
        store.add_owned(f"carbon-account:{i:064d}", b"x" * 350, 60, f"user:{i}")
    assert (time.perf_counter() - started) / 50 < 0.002
    store.forget_owners([f"user:{i}" for i in range(10_001)])
    started = time.perf_counter()
    store.forget_owners([f"user:{i}" for i in range(20_000, 24_000)])
    assert time.perf_counter() - started < 0.1
    assert store.get(f"carbon-account:{30_001:064d}") is not None
    store.forget_owners(["user:30001"])
    assert store.get(f"carbon-account:{30_001:064d}") is None
