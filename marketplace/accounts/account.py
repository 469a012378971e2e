"""The caller's own account: profile, password, sessions (API tokens), privacy settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.accounts import cache
from marketplace.accounts.lifecycle import RESET, revoke_tokens, void_codes
from marketplace.accounts.models import ApiToken, LiveToken, User
from marketplace.accounts.services import hash_password, password_matches
from marketplace.core import audit, privacy
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput, NotFound
from marketplace.core.http import pagination

PROFILE_FIELDS = ("display_name", "bio", "city", "country", "locale", "currency")
WRONG_PASSWORD = "The password is not correct."


def update_profile(user: User, changes: dict[str, Any]) -> User:
    """Apply the given profile fields (a field sent as null is cleared, but the display name,
    which is required)."""
    for name in PROFILE_FIELDS:
        if name in changes:
            value = changes[name]
            setattr(user, name, value.strip() if isinstance(value, str) else value)
    # TODO(uploads): accept ``avatar_upload_id`` once the uploads feature exists (checked to
    # belong to the user, and erased with the account through the personal-data registry).
    db.session.commit()
    return user


def check_password(user: User, password: str, field: str = "password") -> None:
    if not password_matches(user, password):
        raise InvalidInput(WRONG_PASSWORD, {field: [WRONG_PASSWORD]})


def change_password(user: User, token: LiveToken, old: str, new: str) -> None:
    """Change the password; every other session (token) is revoked, this one stays, and
    reset codes not yet used are void."""
    check_password(user, old, "old_password")
    user.password_hash = hash_password(new)
    revoke_tokens(user.id, keep=token.id)
    void_codes(user.id, RESET)
    audit.record("account.password_changed", "user", user.id, actor_id=user.id)
    db.session.commit()


def _live(user_id: int):
    return select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                                  ApiToken.expires_at > utcnow())


def sessions(user: User, current: LiveToken, limit: int, cursor: str | None) -> dict[str, Any]:
    """The user's live tokens, newest first, each marked ``current`` or not."""
    page = pagination.id_page(_live(user.id), ApiToken.id, limit, cursor)
    page["items"] = [{"id": t.id, "created_at": t.created_at, "expires_at": t.expires_at,
                      "last_used_at": t.last_used_at, "current": t.id == current.id}
                     for t in page["items"]]
    return page


def revoke_session(user: User, session_id: int) -> None:
    token = db.session.scalar(_live(user.id).where(ApiToken.id == session_id))
    if token is None:
        raise NotFound("No such session.")
    token.revoked_at = utcnow()
    cache.forget_user(user.id)
    db.session.commit()


def revoke_other_sessions(user: User, current: LiveToken) -> int:
    count = revoke_tokens(user.id, keep=current.id)
    db.session.commit()
    return count


def privacy_settings(user: User) -> dict[str, Any]:
    return privacy.settings_for(user.id).as_dict()


def update_privacy(user: User, changes: dict[str, bool]) -> dict[str, Any]:
    settings = privacy.update(user.id, changes)
    audit.record("account.privacy_changed", "user", user.id, actor_id=user.id,
                 details={k: bool(v) for k, v in changes.items()})
    db.session.commit()
    return settings.as_dict()
