"""Incentives' share of data export (``core.personal_data``): points, rewards, vouchers.

Nothing is erased: the points ledger, like the carbon ledger, stays under the (now
pseudonymous) user id so that it keeps balancing; rewards and vouchers hold no personal
detail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carbon.incentives.models import (
    PointsAccount,
    PointsLine,
    PointsTransaction,
    Reward,
    Voucher,
)
from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts


def export_points(user_id: int) -> dict[str, Any]:
    account = db.session.scalar(select(PointsAccount).where(PointsAccount.user_id == user_id))
    if account is None:
        return {"balance": 0, "entries": []}
    rows = db.session.execute(
        select(PointsLine.id, PointsLine.amount, PointsTransaction.kind,
               PointsTransaction.meta, PointsTransaction.created_at)
        .join(PointsTransaction, PointsTransaction.id == PointsLine.transaction_id)
        .where(PointsLine.account_id == account.id).order_by(PointsLine.id))
    return {"balance": account.balance,
            "entries": [{"id": r.id, "amount": r.amount, "kind": r.kind, "details": r.meta,
                         "created_at": r.created_at} for r in rows]}


def export_rewards(user_id: int) -> dict[str, Any]:
    rewards = db.session.scalars(select(Reward).where(Reward.user_id == user_id)
                                 .order_by(Reward.id))
    vouchers = db.session.scalars(select(Voucher).where(Voucher.user_id == user_id)
                                  .order_by(Voucher.id))
    return {"rewards": as_dicts(rewards), "vouchers": as_dicts(vouchers)}
