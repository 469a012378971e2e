"""Issuing and revoking rewards, and what a user holds.

``issue`` is called by evaluation with the user's points account locked. A reward row is
unique per (rule, user, period key); points rewards are clipped by the rule's per-user daily
and monthly caps (on the credit's UTC day and month) and by its budget (the rule row locked
while it is spent), and a reward clipped to nothing is not issued.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.dbtypes import utcnow
from marketplace.extensions import db

from . import points, vouchers
from .models import IncentiveRule, Reward, RewardKind, RewardStatus, Voucher, VoucherStatus

if TYPE_CHECKING:
    from .evaluate import ActiveRule, Credit


def _day_bounds(at: datetime) -> tuple[datetime, datetime]:
    start = datetime(at.year, at.month, at.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _month_bounds(at: datetime) -> tuple[datetime, datetime]:
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    nxt = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
    return start, nxt


def _points_in(rule_id: int, user_id: int, bounds: tuple[datetime, datetime]) -> int:
    total = db.session.scalar(select(func.coalesce(func.sum(Reward.points), 0)).where(
        Reward.rule_id == rule_id, Reward.user_id == user_id,
        Reward.status == RewardStatus.ISSUED.value,
        Reward.occurred_at >= bounds[0], Reward.occurred_at < bounds[1])) or 0
    return int(total)


def capped_points(rule: ActiveRule, c: Credit, amount: int) -> int:
    at = c.occurred_at.astimezone(UTC)
    caps = rule.caps
    if caps.get("points_per_day") is not None:
        amount = min(amount, caps["points_per_day"] - _points_in(
            rule.rule_id, c.user_id, _day_bounds(at)))
    if amount > 0 and caps.get("points_per_month") is not None:
        amount = min(amount, caps["points_per_month"] - _points_in(
            rule.rule_id, c.user_id, _month_bounds(at)))
    return max(0, amount)


def _spend_budget(rule: ActiveRule, amount: int) -> int:
    budget = rule.caps.get("budget_points")
    if budget is None:
        return amount
    row = db.session.scalars(select(IncentiveRule).where(IncentiveRule.id == rule.rule_id)
                             .with_for_update()).one()
    amount = max(0, min(amount, budget - row.spent_points))
    if amount:
        row.spent_points += amount
    return amount


def issue(rule: ActiveRule, c: Credit, key: str, amount: int | None) -> int:
    """Issue the reward ``key`` of ``rule`` to the credit's user; 1 if issued, else 0."""
    exists = db.session.scalar(select(Reward.id).where(
        Reward.rule_id == rule.rule_id, Reward.user_id == c.user_id, Reward.period_key == key))
    if exists is not None:
        return 0
    kind = rule.reward["kind"]
    pts = 0
    if kind == RewardKind.POINTS:
        pts = capped_points(rule, c, int(amount or 0))
        pts = _spend_budget(rule, pts) if pts else 0
        if pts <= 0:
            return 0
    pg = db.session.get_bind().dialect.name == "postgresql"
    row = {"rule_id": rule.rule_id, "rule_version_id": rule.version_id, "user_id": c.user_id,
           "period_key": key, "kind": kind, "points": pts,
           "badge": rule.reward.get("badge"),
           "certificate_id": ("TREE-" + secrets.token_hex(8).upper()
                              if kind == RewardKind.TREE else None),
           "source_transaction_id": c.transaction_id, "trade_id": c.trade_id,
           "occurred_at": c.occurred_at, "status": RewardStatus.ISSUED.value,
           "issued_at": utcnow()}
    reward_id = db.session.execute(
        (postgresql.insert if pg else sqlite.insert)(Reward).values(row)
        .on_conflict_do_nothing(index_elements=["rule_id", "user_id", "period_key"])
        .returning(Reward.id)).scalar()
    if reward_id is None:
        return 0
    if kind == RewardKind.POINTS:
        points.post(f"reward:{reward_id}", "reward", c.user_id, pts,
                    {"rule_id": rule.rule_id, "rule_version_id": rule.version_id,
                     "period_key": key, "trade_id": c.trade_id})
    elif kind == RewardKind.VOUCHER:
        voucher = vouchers.issue(c.user_id, rule.reward, f"reward:{reward_id}")
        db.session.execute(update(Reward).where(Reward.id == reward_id)
                           .values(voucher_id=voucher.id))
    return 1


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
