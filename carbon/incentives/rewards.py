"""Revoking rewards, and what a user holds.

Rewards are issued by evaluation, in bulk (batch.py): a reward row is unique per (rule, user,
period key); points rewards are clipped by the rule's per-user daily and monthly caps (on the
credit's UTC day and month) and by its budget (the rule row locked once per batch while it is
spent), and a reward clipped to nothing is not issued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow

from . import points, vouchers
from .models import Reward, RewardKind, RewardStatus, Voucher, VoucherStatus


def revoke(reward: Reward) -> bool:
    """Revoke an issued reward that is still unused: points are taken back (the balance may
    go negative if they were spent), an unused voucher is revoked (a used or held one keeps
    the reward), a badge or certificate withdrawn. The key is freed so it can be earned
    again."""
    if reward.status != RewardStatus.ISSUED:
        return False
    if reward.kind == RewardKind.VOUCHER and reward.voucher_id is not None \
            and not vouchers.revoke(reward.voucher_id):
        return False
    if reward.kind == RewardKind.POINTS and reward.points:
        points.post(f"reward:{reward.id}:revoke", "revocation", reward.user_id,
                    -reward.points, {"rule_id": reward.rule_id, "reward_id": reward.id})
    reward.status = RewardStatus.REVOKED.value
    reward.revoked_at = utcnow()
    reward.period_key = f"{reward.period_key}~r{reward.id}"[:100]
    return True


def holdings(user_id: int) -> dict[str, Any]:
    """``GET /rewards``: points balance, badges, vouchers and tree certificates."""
    issued = db.session.scalars(select(Reward).where(
        Reward.user_id == user_id, Reward.status == RewardStatus.ISSUED.value,
        Reward.kind.in_([RewardKind.BADGE.value, RewardKind.TREE.value]))
        .order_by(Reward.id)).all()
    user_vouchers = db.session.scalars(select(Voucher).where(
        Voucher.user_id == user_id, Voucher.status != VoucherStatus.REVOKED.value)
        .order_by(Voucher.id.desc())).all()
    return {
        "points_balance": points.balance(user_id),
        "badges": [{"badge": r.badge, "rule_id": r.rule_id, "earned_at": r.issued_at,
                    "trade_id": r.trade_id} for r in issued if r.kind == RewardKind.BADGE],
        "vouchers": [vouchers.view(v) for v in user_vouchers],
        "certificates": [{"certificate_id": r.certificate_id, "rule_id": r.rule_id,
                          "issued_at": r.issued_at, "trade_id": r.trade_id,
                          "cumulative_kg": _key_kg(r.period_key)}
                         for r in issued if r.kind == RewardKind.TREE],
    }


def _key_kg(key: str) -> float | None:
    try:
        return int(key.split(":", 1)[1].split("~", 1)[0]) / 1000
    except (IndexError, ValueError):
        return None
