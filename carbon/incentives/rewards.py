"""Revoking rewards, and what a user holds.

Rewards are issued by evaluation, in bulk (batch.py, issuing.py): a reward row is unique per
(rule, user, period key), a threshold rule's crossings by one credit aggregated into one row
(``units``; partly revocable, ``revoke_units``); points rewards are clipped by the rule's
per-user daily and monthly caps (on the credit's UTC day and month) and by its budget, and a
reward clipped to nothing is not issued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.http.pagination import id_page

from . import points, vouchers
from .models import (
    HELD,
    IncentiveRuleVersion,
    Reward,
    RewardKind,
    RewardStatus,
    Voucher,
    VoucherStatus,
)


def revoke(reward: Reward) -> bool:
    """Revoke a held reward (all its units still held) that is still unused: points are taken
    back (the balance may go negative if they were spent), an unused voucher is revoked (a
    used or held one keeps the reward), a badge or certificate withdrawn. The key is freed so
    it can be earned again."""
    if reward.status not in HELD:
        return False
    if reward.kind == RewardKind.VOUCHER and reward.voucher_id is not None \
            and not vouchers.revoke(reward.voucher_id):
        return False
    taken = reward.points - reward.revoked_points
    if reward.kind == RewardKind.POINTS and taken:
        points.post(f"reward:{reward.id}:revoke", "revocation", reward.user_id,
                    -taken, {"rule_id": reward.rule_id, "reward_id": reward.id})
    reward.status = RewardStatus.REVOKED.value
    reward.revoked_at = utcnow()
    reward.revoked_units, reward.revoked_points = reward.units, reward.points
    reward.period_key = f"{reward.period_key}~r{reward.id}"[:100]
    return True


def unit_points(reward: Reward) -> list[int]:
    """The points of each unit of an aggregated points reward, in threshold order: the rule
    version's amount each, the caps having clipped the last (issuing.py), so they sum to
    ``points``."""
    if reward.kind != RewardKind.POINTS or not reward.points:
        return [0] * reward.units
    version = db.session.get(IncentiveRuleVersion, reward.rule_version_id)
    amount = int((version.reward or {}).get("amount") or reward.points)
    return [max(0, min(amount, reward.points - i * amount)) for i in range(reward.units)]


def revoke_units(reward: Reward, keep: int) -> int:
    """Revoke the units of an aggregated reward above the first ``keep`` (their thresholds are
    no longer reached): their points are taken back and the reward is ``partly_revoked``, or
    ``revoked`` when no unit is left. Return the units revoked now."""
    held = reward.units - reward.revoked_units
    if reward.status not in HELD or keep >= held:
        return 0
    if keep <= 0:
        return held if revoke(reward) else 0
    taken = sum(unit_points(reward)[keep:held])
    if taken:
        points.post(f"reward:{reward.id}:revoke:{reward.units - keep}", "revocation",
                    reward.user_id, -taken, {"rule_id": reward.rule_id,
                                             "reward_id": reward.id, "units": held - keep})
    reward.status = RewardStatus.PARTLY_REVOKED.value
    reward.revoked_at = utcnow()
    reward.revoked_units = reward.units - keep
    reward.revoked_points += taken
    return held - keep


def _issued(user_id: int, kind: RewardKind):
    return select(Reward).where(Reward.user_id == user_id, Reward.kind == kind.value,
                                Reward.status.in_(HELD))


def _vouchers(user_id: int):
    return select(Voucher).where(Voucher.user_id == user_id,
                                 Voucher.status != VoucherStatus.REVOKED.value)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _held_units(user_id: int, kind: RewardKind) -> int:
    """The units (badges, trees) of the user's held rewards of ``kind``, revoked ones left out."""
    return db.session.scalar(select(func.coalesce(func.sum(
        Reward.units - Reward.revoked_units), 0)).where(
        Reward.user_id == user_id, Reward.kind == kind.value, Reward.status.in_(HELD))) or 0


def summary(user_id: int) -> dict[str, Any]:
    """``GET /rewards``: the points balance and how many of each reward the user holds."""
    return {"points_balance": points.balance(user_id), "counts": {
        "badges": _held_units(user_id, RewardKind.BADGE),
        "vouchers": _count(_vouchers(user_id)),
        "vouchers_available": _count(_vouchers(user_id).where(
            Voucher.status == VoucherStatus.AVAILABLE.value)),
        "certificates": _count(_issued(user_id, RewardKind.TREE)),
        "trees": _held_units(user_id, RewardKind.TREE),
    }}


def badges(user_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The user's badges, newest first."""
    page = id_page(_issued(user_id, RewardKind.BADGE), Reward.id, limit, cursor)
    page["items"] = [{"id": r.id, "badge": r.badge, "rule_id": r.rule_id,
                      "units": r.units - r.revoked_units, "earned_at": r.issued_at,
                      "trade_id": r.trade_id} for r in page["items"]]
    return page


def certificates(user_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The user's tree certificates, newest first: one per credit that planted trees (older
    ones: one per tree), with the trees it still holds and the highest threshold among them."""
    page = id_page(_issued(user_id, RewardKind.TREE), Reward.id, limit, cursor)
    items = []
    for r in page["items"]:
        trees = r.units - r.revoked_units
        if r.step_g is None:  # one per tree (before aggregation): its key's grams
            g = _key_g(r.period_key)
        else:  # the last threshold still held
            g = r.thresholds()[trees - 1] if trees else None
        items.append({"id": r.id, "certificate_id": r.certificate_id, "rule_id": r.rule_id,
                      "issued_at": r.issued_at, "trade_id": r.trade_id, "trees": trees,
                      "cumulative_g": g,
                      "cumulative_kgco2e": None if g is None else round(g / 1000, 3)})
    page["items"] = items
    return page


def user_vouchers(user_id: int, limit: int, cursor: str | None,
                  status: str | None = None) -> dict[str, Any]:
    """The user's vouchers (not revoked; ``status`` filters), newest first."""
    query = _vouchers(user_id)
    if status is not None:
        query = query.where(Voucher.status == status)
    page = id_page(query, Voucher.id, limit, cursor)
    page["items"] = [vouchers.view(v) for v in page["items"]]
    return page


def _key_g(key: str) -> int | None:
    """The grams of a tree reward's period key (``tree:<grams>``)."""
    try:
        return int(key.split(":", 1)[1].split("~", 1)[0])
    except (IndexError, ValueError):
        return None
