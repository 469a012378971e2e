"""Sign-up, email verification and password reset, by emailed single-use tokens.

Tokens are random (256 bits), sent by email through ``core.mail.queue_email`` (the outbox),
and stored only as their SHA-256 (``email_tokens``); each is used once and expires
(``EMAIL_VERIFICATION_TTL_HOURS``, ``PASSWORD_RESET_TTL_MINUTES``).

Nothing here tells a caller whether an email has an account: sign-up and reset requests get
the same answer either way, and the mailbox's owner learns what happened by email.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import cache
from marketplace.accounts.models import ApiToken, EmailToken, User
from marketplace.accounts.services import (
    REGISTERED_TOPIC,
    hash_password,
    hash_token,
    normalize_email,
)
from marketplace.core import audit, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput
from marketplace.core.mail import queue_email

VERIFY = "verify"
RESET = "reset"
INVALID_TOKEN = "This link is invalid, used or expired."


def _issue(user: User, purpose: str, ttl: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    db.session.add(EmailToken(token_hash=hash_token(raw), user_id=user.id, purpose=purpose,
                              expires_at=utcnow() + ttl))
    return raw


def _consume(raw: str, purpose: str) -> User:
    """Mark a live token used (exactly once, even under concurrent use) and return its user."""
    now = utcnow()
    token = db.session.scalar(select(EmailToken).where(
        EmailToken.token_hash == hash_token(raw), EmailToken.purpose == purpose))
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise InvalidInput(INVALID_TOKEN, {"token": [INVALID_TOKEN]})
    claimed = db.session.execute(update(EmailToken).where(
        EmailToken.id == token.id, EmailToken.used_at.is_(None)).values(used_at=now))
    user = db.session.get(User, token.user_id)
    if claimed.rowcount != 1 or user is None or user.closed_at is not None:
        db.session.rollback()
        raise InvalidInput(INVALID_TOKEN, {"token": [INVALID_TOKEN]})
    return user


def _verification_ttl() -> timedelta:
    return timedelta(hours=current_app.config["EMAIL_VERIFICATION_TTL_HOURS"])


def _send_verification(user: User) -> None:
    raw = _issue(user, VERIFY, _verification_ttl())
    hours = current_app.config["EMAIL_VERIFICATION_TTL_HOURS"]
    queue_email(user.email, "Confirm your email address for Reloop",
                f"Hello {user.display_name},\n\nConfirm this address to buy and sell on "
                f"Reloop with this code (valid {hours} hours, once):\n\n{raw}\n\n"
                "(POST /api/v1/auth/email-verification {\"token\": ...})\n\n"
                "If you did not create a Reloop account, ignore this email.")


def signup(email: str, password: str, display_name: str) -> None:
    """Create an account and email a verification code; for a taken email, email its owner
    instead. The caller cannot tell the two apart (same answer, same work: one password hash,
    one email)."""
    address = normalize_email(email)
    password_hash = hash_password(password)
    user = User(email=address, password_hash=password_hash, display_name=display_name.strip())
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        queue_email(address, "Someone tried to register with your email on Reloop",
                    "Someone (perhaps you) tried to create a Reloop account with this address, "
                    "which already has one. If it was you, log in, or reset your password "
                    "(POST /api/v1/auth/password-reset). Otherwise, you can ignore this email.")
    else:
        outbox.write(REGISTERED_TOPIC, {"user_id": user.id})
        _send_verification(user)
    db.session.commit()


def resend_verification(user: User) -> None:
    if user.email_verified_at is None:
        _send_verification(user)
        db.session.commit()


def verify_email(raw: str) -> User:
    user = _consume(raw, VERIFY)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset code when the address has an open account; nothing otherwise. Either way
    the caller gets the same answer."""
    user = db.session.scalar(select(User).where(
        User.email == normalize_email(email), User.closed_at.is_(None)))
    if user is None:
        return
    minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    raw = _issue(user, RESET, timedelta(minutes=minutes))
    queue_email(user.email, "Reset your Reloop password",
                f"Someone (perhaps you) asked to reset your Reloop password. Your code, valid "
                f"{minutes} minutes and once:\n\n{raw}\n\n"
                "(POST /api/v1/auth/password-reset/confirm {\"token\": ..., "
                "\"new_password\": ...})\n\nIf it was not you, ignore this email: your password "
                "is unchanged.")
    db.session.commit()


def revoke_tokens(user_id: int, keep: int | None = None) -> int:
    """Revoke every live API token of the user (but ``keep``); in the caller's transaction."""
    stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(ApiToken.id != keep)
    cache.forget_user(user_id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount or 0


def void_codes(user_id: int, purpose: str) -> int:
    """Mark the user's unused codes of ``purpose`` used (a password change or reset voids the
    reset codes still in a mailbox someone else may read); in the caller's transaction."""
    return db.session.execute(update(EmailToken).where(
        EmailToken.user_id == user_id, EmailToken.purpose == purpose,
        EmailToken.used_at.is_(None)).values(used_at=utcnow())).rowcount or 0


def reset_password(raw: str, new_password: str) -> None:
    """Set a new password from a reset code; every session is logged out and the other reset
    codes are void. A reset also proves the mailbox, so the email counts as verified."""
    user = _consume(raw, RESET)
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    revoke_tokens(user.id)
    void_codes(user.id, RESET)
    audit.record("account.password_reset", "user", user.id, actor_id=user.id)
    db.session.commit()
