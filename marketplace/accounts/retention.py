"""Retention of the accounts feature's personal data (the periodic ``retention`` job).

- email tokens: deleted a day after they expire or are used;
- API tokens: deleted 30 days after they expire or are revoked (kept that long so a user can
  see recently ended sessions and support can answer "was I logged out?");
- data exports: archives deleted 2 days after they were requested (links last a day);
- closed accounts: any token, export or privacy row left (e.g. written by a request that
  raced the closure) is deleted.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select

from marketplace.accounts import export
from marketplace.accounts.models import ApiToken, DataExport, EmailToken, User
from marketplace.core import privacy
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow

EMAIL_TOKEN_GRACE = timedelta(days=1)
API_TOKEN_GRACE = timedelta(days=30)


def purge() -> dict[str, int]:
    now = utcnow()
    counts: dict[str, int] = {}
    counts["email_tokens"] = db.session.execute(delete(EmailToken).where(or_(
        EmailToken.expires_at < now - EMAIL_TOKEN_GRACE,
        EmailToken.used_at < now - EMAIL_TOKEN_GRACE))).rowcount or 0
    counts["api_tokens"] = db.session.execute(delete(ApiToken).where(or_(
        ApiToken.expires_at < now - API_TOKEN_GRACE,
        ApiToken.revoked_at < now - API_TOKEN_GRACE))).rowcount or 0
    counts["data_exports"] = export.purge()
    closed = select(User.id).where(User.closed_at.is_not(None)).scalar_subquery()
    leftovers = 0
    for model, column in ((ApiToken, ApiToken.user_id), (EmailToken, EmailToken.user_id),
                          (DataExport, DataExport.user_id),
                          (privacy.PrivacySettings, privacy.PrivacySettings.user_id)):
        leftovers += db.session.execute(delete(model).where(column.in_(closed))).rowcount or 0
    counts["closed_account_leftovers"] = leftovers
    db.session.commit()
    return counts
