"""What the accounts feature keeps about a user, for the export and erasure registries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from marketplace.accounts import cache
from marketplace.accounts.models import ApiToken, DataExport, EmailToken, User
from marketplace.core import privacy
from marketplace.core.db import db
from marketplace.core.http.idempotency import IdempotencyKey
from marketplace.core.mail import OutboundEmail
from marketplace.core.personal_data import FORMER_MEMBER


def export_profile(user_id: int) -> dict[str, Any]:
    user = db.session.get(User, user_id)
    return {"id": user.id, "email": user.email, "display_name": user.display_name,
            "role": user.role, "bio": user.bio, "city": user.city, "country": user.country,
            "locale": user.locale, "currency": user.currency, "created_at": user.created_at,
            "email_verified_at": user.email_verified_at}


def export_consents(user_id: int) -> dict[str, Any]:
    """Privacy choices (consents) and when they were last changed."""
    return privacy.settings_for(user_id).as_dict()


def export_sessions(user_id: int) -> list[dict[str, Any]]:
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.id))
    return [{"id": t.id, "created_at": t.created_at, "expires_at": t.expires_at,
             "revoked_at": t.revoked_at, "last_used_at": t.last_used_at} for t in tokens]


def erased_email(user_id: int) -> str:
    """The pseudonymous, undeliverable address a closed account keeps (``.invalid`` is
    reserved, RFC 2606): unique, and frees the real address for a new account."""
    return f"closed-{user_id}@erased.invalid"


def erase(user_id: int) -> None:
    """Pseudonymise the user row (kept: trades, ledger and payouts refer to it), drop tokens,
    pending emails to the old address, exports, privacy choices and the responses stored for
    idempotent retries (a deleted address, a message, as they were returned)."""
    user = db.session.get(User, user_id)
    old_email = user.email
    user.email = erased_email(user.id)
    user.display_name = FORMER_MEMBER
    user.password_hash = "!closed"  # not an argon2 hash: no password ever matches
    user.bio = user.city = user.country = user.locale = user.currency = None
    user.email_verified_at = None
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    cache.forget_user(user_id)
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user_id))
    db.session.execute(delete(DataExport).where(DataExport.user_id == user_id))
    db.session.execute(delete(OutboundEmail).where(OutboundEmail.to_addr == old_email))
    db.session.execute(delete(privacy.PrivacySettings).where(
        privacy.PrivacySettings.user_id == user_id))
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id))
