"""Accounts and tokens: registration, login, revocation, token lookup, admins."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import cache
from marketplace.accounts.models import ApiToken, LiveToken, Role, User, UserRow
from marketplace.core import outbox
from marketplace.core.db import db, read_only_request
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, Unauthorized
from marketplace.core.hotread import HotRead
from marketplace.core.http import pagination

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))

BAD_CREDENTIALS = "Invalid email or password."
SUSPENDED = "This account is suspended."
REGISTERED_TOPIC = "user.registered"  # outbox topic: a new account (welcome notification)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def register(email: str, password: str, display_name: str, role: Role = Role.USER) -> User:
    """Create an account directly (operators: ``flask users create-admin``, ``flask seed``),
    its email taken as verified. The public sign-up is ``lifecycle.signup``."""
    user = User(email=normalize_email(email), password_hash=_hasher.hash(password),
                display_name=display_name.strip(), role=role.value, email_verified_at=utcnow())
    db.session.add(user)
    try:
        db.session.flush()
        outbox.write(REGISTERED_TOPIC, {"user_id": user.id})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("An account with this email already exists.",
                       {"email": ["Already registered."]}) from None
    return user


def check_password(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized(BAD_CREDENTIALS) from None
    if user is None:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.is_suspended:  # told only to whoever knows the password
        raise Forbidden(SUSPENDED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(user: User) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    ttl = timedelta(days=current_app.config["TOKEN_TTL_DAYS"])
    token = ApiToken(token_hash=hash_token(raw), user=user, expires_at=utcnow() + ttl)
    db.session.add(token)
    db.session.commit()
    return raw, token


def login(email: str, password: str) -> tuple[str, ApiToken]:
    return issue_token(check_password(email, password))


# Built once: the statement's construction cost more than its execution on every request.
# The user is the only entity loaded; of the token, only what is used.
_LIVE = (ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None),
         ApiToken.expires_at > bindparam("now"))
_LIVE_TOKEN = (select(User, ApiToken.id, ApiToken.last_used_at, ApiToken.expires_at)
               .join(ApiToken, ApiToken.user_id == User.id).where(*_LIVE))
# Read-only views (search, a listing's detail, the carbon account) get the same token, same
# checks, with the user as a row (core.hotread): no ORM entity to build on every request.
_LIVE_TOKEN_ROW = HotRead(
    select(ApiToken.id.label("token_id"), ApiToken.last_used_at, ApiToken.expires_at,
           *(getattr(User, c) for c in UserRow.COLUMNS))
    .join(User, ApiToken.user_id == User.id).where(*_LIVE))


def resolve_token(raw: str) -> LiveToken | None:
    """The live token for a bearer string, or None (unknown, revoked or expired, or its
    account closed or suspended).

    One round trip: the token and its user in one query. Nothing is cached, so a revocation
    takes effect on the very next request."""
    params = {"hash": hash_token(raw), "now": utcnow()}
    if read_only_request():
        values = _LIVE_TOKEN_ROW.first(**params)
        if values is None:
            return None
        token = LiveToken(id=values.pop("token_id"), last_used_at=values.pop("last_used_at"),
                          expires_at=values.pop("expires_at"), user=UserRow(values))
    else:
        row = db.session.execute(_LIVE_TOKEN, params).first()
        if row is None:
            return None
        token = LiveToken(id=row[1], user=row[0], last_used_at=row[2], expires_at=row[3])
    # A token issued while the account was closing, or before a suspension committed.
    if token.user.closed_at is not None or token.user.is_suspended:
        return None
    _touch(token)
    return token


# ``api_tokens.last_used_at`` is kept to this resolution: at most one write per token and
# minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _touch(token: LiveToken) -> None:
    """Record the token's use in its own short transaction (a GET never commits), when the
    stored time is older than ``LAST_USED_RESOLUTION``."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = or_(ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < now - LAST_USED_RESOLUTION)
    with db.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token.id, stale)
                     .values(last_used_at=now))
    token.last_used_at = now


def revoke(token: LiveToken, at: datetime | None = None) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                       .values(revoked_at=at or utcnow()))
    cache.forget_user(token.user.id)
    db.session.commit()


def create_or_promote_admin(email: str, password: str | None) -> tuple[User, bool]:
    """Return (user, created). Promotes an existing user; creates one with ``password``."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is not None:
        user.role = Role.ADMIN.value
        user.email_verified_at = user.email_verified_at or utcnow()  # the operator vouches
        if password:
            user.password_hash = _hasher.hash(password)
        db.session.commit()
        return user, False
    if not password:
        raise ValueError("a password is needed to create a new admin")
    return register(email, password, email.split("@")[0], role=Role.ADMIN), True


def list_users(limit: int, cursor: str | None) -> dict[str, Any]:
    """Every user, oldest first, one page."""
    return pagination.id_page(select(User), User.id, limit, cursor, descending=False)
