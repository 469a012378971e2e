"""A user's private copies in the response cache (core.http.respcache; e.g. the carbon
account page, stored under the caller's bearer token): forgotten when the transaction that
changes the user, or any of their tokens, commits. A revoked token, a suspended or closed
account, stop reading at once.

ORM changes are caught by mapper events; the statements that revoke or delete tokens in bulk
call ``forget_user`` themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import object_session

from marketplace.accounts.models import ApiToken, User
from marketplace.core.db import db
from marketplace.core.http import respcache


def forget_user(user_id: int) -> None:
    """For a revocation, a suspension, an erasure: at commit, and again from the outbox if
    that fails (a revoked token must not go on reading from a copy)."""
    respcache.forget_owners_for_sure(db.session(), [respcache.user_owner(user_id)])


def _user_changed(mapper: Any, connection: Any, user: User) -> None:
    session = object_session(user)
    if session is not None:
        respcache.forget_owners_after_commit(session, [respcache.user_owner(user.id)])


def _token_changed(mapper: Any, connection: Any, token: ApiToken) -> None:
    session = object_session(token)
    if session is not None:
        respcache.forget_owners_after_commit(session, [respcache.user_owner(token.user_id)])


def register(app: Flask) -> None:
    """Install the mapper events (once per process: they are per class, not per app)."""
    for target, name, listener in ((User, "after_update", _user_changed),
                                   (ApiToken, "after_update", _token_changed),
                                   (ApiToken, "after_delete", _token_changed)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
