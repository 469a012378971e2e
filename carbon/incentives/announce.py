"""The ``reward.earned`` events of a batch: one per (credit, user), listing everything earned.

A credit can cross several rules' thresholds at once (points, a badge, a tree...); the person
gets one notification (and, by default, one email) per credit, not one per reward row. The
event's data::

    {"trade_id": 7,              # None for a recycling credit
     "rewards": [{"reward_id", "kind", "points", "units", "badge"}, ...],  # issue order
     "points": 60,               # total points of those rewards
     "reward": "60 points and the badge first-trade"}   # for "You earned {reward}."
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .models import RewardKind

KIND = "reward.earned"


def describe(rewards: list[dict[str, Any]]) -> str:
    """What ``rewards`` (rows of one credit and user) are, in words: points summed, badges
    named, vouchers and trees counted; ``"50 points, the badge x and a tree planted"``."""
    parts: list[str] = []
    total = sum(r["points"] for r in rewards if r["kind"] == RewardKind.POINTS)
    if any(r["kind"] == RewardKind.POINTS for r in rewards):
        parts.append(f"{total} points")
    counts: Counter[str] = Counter()
    for r in rewards:
        if r["kind"] == RewardKind.POINTS:
            continue
        if r.get("badge"):
            units = r.get("units") or 1
            parts.append(f"the badge {r['badge']}" + (f" ({units} times)" if units > 1 else ""))
        else:  # (a certificate's trees: its units)
            counts[r["kind"]] += r.get("units") or 1
    for kind, n in counts.items():
        if kind == RewardKind.VOUCHER:
            parts.append("a voucher" if n == 1 else f"{n} vouchers")
        elif kind == RewardKind.TREE:
            parts.append("a tree planted" if n == 1 else f"{n} trees planted")
        else:
            parts.append(str(kind) if n == 1 else f"{n} × {kind}")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def events(issued: list[tuple[int, dict[str, Any]]]) -> list[tuple[str, list[int], dict]]:
    """``reward.earned`` events for ``issued`` rows ``(reward_id, row)`` in issue order (rows
    as issuing.issue makes them: NULL columns left out): one per (source transaction, user),
    in the order of their first reward."""
    grouped: dict[tuple[int, int], list[dict[str, Any]]] = {}
    trades: dict[tuple[int, int], int | None] = {}
    for reward_id, row in issued:
        key = (row["source_transaction_id"], row["user_id"])
        trades.setdefault(key, row["trade_id"])
        grouped.setdefault(key, []).append({
            "reward_id": reward_id, "kind": row["kind"], "points": row["points"],
            "units": row["units"], "badge": row.get("badge")})
    return [(KIND, [user], {
        "trade_id": trades[(tx, user)], "rewards": rewards,
        "points": sum(r["points"] for r in rewards), "reward": describe(rewards)})
        for (tx, user), rewards in grouped.items()]
