"""Shared copies of public responses: a hit costs one Redis GET instead of the view.

A view decorated with ``Blueprint.cached(key, seconds)`` answers a GET from a stored copy of
an earlier 200 response (body and ETag) when one is there. On a miss the view runs as usual,
and its response is stored only if the view said it is the same for every caller
(``share()``): a listing anyone may see, a page of search results; never what depends on who
asks. ``If-None-Match`` still gets its 304 (core.http.etag) from the stored ETag.

Freshness, as a CDN in front of the API would give it, but with invalidation:
- A write that changes what a stored copy shows names its key (``forget_after_commit``); when
  the session commits, the key is replaced by a tombstone for ``TOMBSTONE_SECONDS``. Readers
  store with ``SET NX``, so a reader that read the old row before the commit cannot put the old
  copy back after it (the race of every delete-on-write cache); the next reader after the
  tombstone fills the cache again.
- Every copy also expires after its view's ``seconds`` (the config setting it names): the bound
  on staleness for whatever no write names (search pages are never named: a page may show a
  listing's old price or status for up to ``SEARCH_CACHE_SECONDS``), and after a Redis blip
  that lost a tombstone.

Private copies (``share(owner=...)``): a page that belongs to one caller (their carbon account)
is kept under a key only that caller can name (``bearer_key``: a hash of their bearer token)
and filed under its owner (``user_owner``). A write that moves what it shows, or revokes the
token, or changes the user, forgets the owner (``forget_owners_after_commit``): every copy of
theirs goes, and none is stored for them for ``TOMBSTONE_SECONDS`` (a reader that read before
the commit cannot store after it). A hit does not resolve the token: the copy is proof the
token was live when it was stored, and a copy never outlives the token's expiry.

Store: Redis (``REDIS_URL``), shared by every process, with short socket timeouts; a Redis
error is a miss (the view runs) and the cache is skipped for ``PAUSE_SECONDS`` rather than
making each request wait for the timeout. Without Redis (the embedded setup: one server
process), a dict of at most ``MEMORY_BYTES``; a write made in another process (a CLI command)
is not seen there before the copy expires. Responses over ``MAX_VALUE`` are not stored.
``RESPONSE_CACHE=false`` turns it off. Values are bytes we wrote (ETag, newline, body), never
unpickled.

Only the outermost transaction's commit forgets: a savepoint's release is not the commit, and
a rollback (SQLAlchemy reports a savepoint's like the transaction's) leaves the keys pending.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import Counter
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.core import outbox
from marketplace.core.http.auth import token_auth
from marketplace.core.http.cachestores import TOMBSTONE, MemoryStore, RedisStore
from marketplace.core.http.etag import conditional_response

log = logging.getLogger("marketplace.core.http.respcache")

PAUSE_SECONDS = 5.0
MAX_VALUE = 256 * 2**10  # a larger response is not stored

_EXTENSION = "reloop.respcache"
_PENDING = "reloop.respcache.forget"
_PENDING_OWNERS = "reloop.respcache.forget_owners"
FORGET_TOPIC = "respcache.forget_owners"
_SHARE = "reloop_share"

LOOKUPS = Counter("reloop_http_cache_lookups", "Response cache lookups", ("cache", "outcome"))


class ResponseCache:
    def __init__(self, store: RedisStore | MemoryStore | None) -> None:
        self.store = store
        self.paused_until = 0.0

    def _usable(self) -> bool:
        return self.store is not None and time.monotonic() >= self.paused_until

    def _failed(self, what: str, exc: Exception) -> None:
        self.paused_until = time.monotonic() + PAUSE_SECONDS
        log.warning("response cache %s failed (%s); skipped for %ss", what,
                    type(exc).__name__, PAUSE_SECONDS)

    def _try(self, what: str, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)`` on the store; a Redis error is logged, pauses the cache and gives
        None (a miss, a copy not stored, a forget left to the copy's expiry)."""
        try:
            return call(*args)
        except RedisError as exc:
            self._failed(what, exc)
            return None

    def get(self, key: str) -> bytes | None:
        return self._try("read", self.store.get, key)

    def add(self, key: str, value: bytes, seconds: int, owner: str | None = None) -> None:
        if owner is None:
            self._try("store", self.store.add, key, value, seconds)
        else:
            self._try("store", self.store.add_owned, key, value, seconds, owner)

    def forget(self, keys: Iterable[str]) -> None:
        """Tombstones for ``keys``, now. Tried even while reads are paused: a write must not
        leave a copy behind when it can help it."""
        if self.store is not None:
            self._try("invalidation", self.store.forget, keys)

    def forget_owners(self, owners: Iterable[str]) -> None:
        """Every copy of each owner gone, and none stored for them for a while."""
        if self.store is not None:
            self._try("invalidation", self.store.forget_owners, owners)


def clear(app: Flask) -> None:
    """Drop every stored copy: for when the database was wiped or restored under it."""
    rc: ResponseCache = app.extensions[_EXTENSION]
    if rc.store is not None:
        rc.store.clear()
    rc.paused_until = 0.0


def init_app(app: Flask) -> None:
    store: RedisStore | MemoryStore | None = None
    if app.config.get("RESPONSE_CACHE", True):
        url = app.config.get("REDIS_URL")
        prefix = app.config.get("RESPONSE_CACHE_PREFIX") or "reloop:rc:"
        store = RedisStore(url, prefix) if url else MemoryStore()
    app.extensions[_EXTENSION] = ResponseCache(store)
    outbox.declare_writes(app, FORGET_TOPIC)
    outbox.register_handler(app, FORGET_TOPIC, _forget_recorded, queue="default")
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)


def cache() -> ResponseCache:
    return current_app.extensions[_EXTENSION]


def forget_after_commit(session: Session, keys: Iterable[str]) -> None:
    """When ``session`` next commits, the stored copies under ``keys`` are gone for every
    process (tombstones). A rollback leaves them pending: SQLAlchemy reports a savepoint's
    rollback like the transaction's, and dropping them there would lose what the outer
    transaction changed; forgetting a key too many costs one miss."""
    session.info.setdefault(_PENDING, set()).update(keys)


def forget_owners_after_commit(session: Session, owners: Iterable[str]) -> None:
    """As ``forget_after_commit``, for every private copy of each owner (``user_owner``)."""
    session.info.setdefault(_PENDING_OWNERS, set()).update(owners)


def forget_owners_for_sure(session: Session, owners: Iterable[str]) -> None:
    """``forget_owners_after_commit``, and an outbox record in the same transaction that
    forgets them again from a worker, retried until Redis takes it: for what must not keep
    reading (a revoked token, a suspended user) when the forget at commit fails."""
    owners = sorted(set(owners))
    forget_owners_after_commit(session, owners)
    outbox.write(FORGET_TOPIC, {"owners": owners})


def _forget_recorded(message: Any) -> None:
    store = cache().store
    if store is not None:
        store.forget_owners(message.payload["owners"])  # a Redis error: the record retries


def user_owner(user_id: int) -> str:
    """The owner of a user's private copies (what their bearer tokens read)."""
    return f"user:{user_id}"


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    keys = session.info.pop(_PENDING, None)
    owners = session.info.pop(_PENDING_OWNERS, None)
    if keys:
        cache().forget(keys)
    if owners:
        cache().forget_owners(owners)


def share(owner: str | None = None, seconds: float | None = None) -> None:
    """Called by a cached view: store this response. Without ``owner`` it is the same for
    every caller; with one, it is that owner's private copy (under a key only its caller can
    name, e.g. ``bearer_key``), forgotten with ``forget_owners_after_commit``. ``seconds``:
    kept at most this long (e.g. until the caller's token expires)."""
    g.setdefault(_SHARE, (owner, seconds))


def bearer_key(prefix: str) -> Callable[..., str | None]:
    """Key function of a private copy: the caller's bearer token, keyed-hashed with
    ``SECRET_KEY`` (not the database's token hash: Redis keys and rows cannot be matched);
    None without one: the view runs and answers 401."""

    def key(*args: Any, **kwargs: Any) -> str | None:
        auth = token_auth.get_auth()
        if auth is None or not auth.token:
            return None
        secret = str(current_app.config["SECRET_KEY"]).encode()
        return prefix + hmac.new(secret, auth.token.encode(), hashlib.sha256).hexdigest()

    return key


def query_key(prefix: str) -> str:
    """A key for a view whose response depends only on its query string (hashed: bounded,
    and no query can name another's key)."""
    return prefix + hashlib.blake2b(request.query_string, digest_size=16).hexdigest()


def cached(key: Callable[..., str | None], setting: str) -> Callable:
    """Decorator (``Blueprint.cached``): serve GET/HEAD from the store; store what the view
    ``share()``-d, for ``current_app.config[setting]`` seconds (0: not cached). A key of None:
    not cached."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        name = view.__name__

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            rc = cache()
            seconds = current_app.config[setting]
            if not seconds or not rc._usable():
                return view(*args, **kwargs)
            k = key(*args, **kwargs)
            if k is None:
                return view(*args, **kwargs)
            value = rc.get(k)
            if value is not None and value != TOMBSTONE:
                LOOKUPS.labels(name, "hit").inc()
                return _response(value)
            LOOKUPS.labels(name, "miss").inc()
            g.pop(_SHARE, None)
            response = view(*args, **kwargs)
            shared = g.pop(_SHARE, None)
            if (value is None and shared and isinstance(response, Response)
                    and response.status_code == 200 and not response.direct_passthrough
                    and rc._usable()):
                owner, most = shared
                ttl = int(min(seconds, most) if most is not None else seconds)
                body = response.get_data()
                if ttl >= 1 and len(body) <= MAX_VALUE:
                    etag = (response.headers.get("ETag") or "").encode("latin-1")
                    rc.add(k, etag + b"\n" + body, ttl, owner)
            return response

        return wrapper

    return decorator


def _response(value: bytes) -> Response:
    etag, _, body = value.partition(b"\n")
    response = Response(body, 200, mimetype="application/json")
    if etag:
        response.headers["ETag"] = etag.decode("latin-1")
        conditional_response()  # 304 for a matching If-None-Match
    return response
