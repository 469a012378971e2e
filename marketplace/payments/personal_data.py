"""The payments feature's share of data export and erasure (``core.personal_data``).

Payouts and the payout account (a Stripe connected-account id) are kept after an account is
closed: they are the record of money paid out, which accounting and anti-money-laundering law
require to be kept (see docs/privacy.md); they hold no name or contact detail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.payments.models import Payout, PayoutAccount, PayoutStatus

OWED = (PayoutStatus.PENDING.value, PayoutStatus.ACCRUED.value, PayoutStatus.FAILED.value)


def export(user_id: int) -> dict[str, Any]:
    account = db.session.scalars(select(PayoutAccount).where(PayoutAccount.user_id == user_id))
    payouts = db.session.scalars(select(Payout).where(Payout.seller_id == user_id)
                                 .order_by(Payout.id))
    return {"payout_account": (as_dicts(account) or [None])[0], "payouts": as_dicts(payouts)}


def money_owed(user_id: int) -> str | None:
    """Payouts not yet transferred (pending, accrued without a connected account, failed)."""
    count = db.session.scalar(select(func.count()).select_from(Payout).where(
        Payout.seller_id == user_id, Payout.status.in_(OWED)))
    if count:
        return (f"{count} payout(s) still owed to you (connect a payout account and let "
                "them transfer first)")
    return None
