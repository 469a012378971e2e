"""Closing an account (GDPR art. 17, PIPL art. 47): personal data erased or pseudonymised,
the ledgers kept whole.

Refused (409) while any feature's blocker objects (a trade in flight, money owed). Otherwise,
in one transaction: every feature's eraser runs (``core.personal_data``, registered in each
wiring), then the user row is pseudonymised (``personal_data.erase``: email
``closed-<id>@erased.invalid``, name "Former member", no password) and kept, so that carbon
and points ledger lines, trades, payouts and reviews still refer to an existing, now
anonymous, account: ``verify-ledger`` and platform totals do not move. The real email is free
to register again at once.
"""

from __future__ import annotations

from marketplace.accounts.account import check_password
from marketplace.accounts.models import User
from marketplace.core import audit, personal_data
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict


def close(user: User, password: str) -> None:
    check_password(user, password)
    user = db.session.get(User, user.id, with_for_update=True)
    reasons = personal_data.blockers(user.id)
    if reasons:
        db.session.rollback()
        raise Conflict("The account cannot be closed yet: " + "; ".join(reasons) + ".",
                       {"account": reasons})
    erased = personal_data.erase(user.id)
    user.closed_at = utcnow()
    audit.record("account.closed", "user", user.id, actor_id=user.id,
                 details={"erased": erased})
    db.session.commit()
