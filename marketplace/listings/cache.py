"""A listing's public detail in the shared response cache (core.http.respcache).

The detail shows only the listing's own row, to anyone who may see it; who may see it depends
on its status and its seller's suspension. So a stored copy is forgotten when the session that
changes either commits:
- any ORM change of a listing (update, delete), caught by mapper events;
- a status change made in one UPDATE statement (``status._transition``), named explicitly;
- a seller's suspension or its lifting: the seller's open listings.
Search pages are not forgotten: they expire after ``SEARCH_CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import object_session

from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.http import respcache
from marketplace.listings.models import Listing
from marketplace.listings.schemas import SearchArgsSchema


def detail_key(listing_id: int) -> str:
    return f"listing:{listing_id}"


def search_key() -> str:
    return respcache.query_key("search:")


_SEARCH_ARGS = frozenset(SearchArgsSchema().fields)


def search_shareable() -> bool:
    """A search page is stored only for a query of known parameters: made-up ones would
    each make a new key for the same page."""
    return request.args.keys() <= _SEARCH_ARGS


def forget(listing_ids: list[int]) -> None:
    """For writes the mapper events do not see (UPDATE statements): forget at commit."""
    respcache.forget_after_commit(db.session(), [detail_key(i) for i in listing_ids])


def _listing_changed(mapper: Any, connection: Any, listing: Listing) -> None:
    session = object_session(listing)
    if session is not None:
        respcache.forget_after_commit(session, [detail_key(listing.id)])


def _seller_changed(mapper: Any, connection: Any, user: User) -> None:
    if not inspect(user).attrs.suspended_at.history.has_changes():
        return
    session = object_session(user)
    if session is None:
        return
    ids = connection.execute(select(Listing.id).where(Listing.seller_id == user.id)).scalars()
    respcache.forget_after_commit(session, [detail_key(i) for i in ids])


def register(app: Flask) -> None:
    """Install the mapper events (once per process: they are per class, not per app)."""
    for name in ("after_update", "after_delete"):
        if not event.contains(Listing, name, _listing_changed):
            event.listen(Listing, name, _listing_changed)
    if not event.contains(User, "after_update", _seller_changed):
        event.listen(User, "after_update", _seller_changed)
