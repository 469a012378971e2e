"""Which rewards a batch's evaluations issue (batch.py step 4): keys already issued, caps and
budgets applied in credit order, and the aggregation of threshold crossings.

A threshold rule whose reward is points or a badge issues one reward row per (credit, rule,
user), key ``tx:<ledger transaction id>``: the thresholds the credit crosses that the user
does not already hold (from an earlier reward of the rule, aggregated or not) become its
``units``, each clipped by the caps and the budget in order as if issued one by one (the
first clipped to nothing ends the list), ``points`` their total. Vouchers (one voucher per
threshold) and trees (one certificate per tree) keep one row per threshold.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from marketplace.core.db import any_of, db
from marketplace.core.dbtypes import utcnow

from . import loading
from .evaluate import ActiveRule
from .models import HELD, IncentiveRule, Reward, RewardKind, RewardStatus, RuleType, thresholds
from .rules import grams


def aggregated(rule: ActiveRule) -> bool:
    """Whether the rule issues one reward per credit for all the thresholds it crosses."""
    return rule.type == RuleType.THRESHOLD and rule.reward.get("kind") != RewardKind.VOUCHER


def _key_g(key: str) -> int:
    return int(key.split(":", 1)[1])


def _groups(evaluations: list[dict[str, Any]]) -> list[tuple[dict, ActiveRule, list]]:
    """(evaluation, rule, [(key, amount), …]) in order: an aggregated rule's crossings of one
    credit together, every other candidate alone."""
    groups: list[tuple[dict, ActiveRule, list]] = []
    for e in evaluations:
        for rule, key, amt in e["candidates"]:
            if aggregated(rule) and groups and groups[-1][0] is e and groups[-1][1] is rule:
                groups[-1][2].append((key, amt))
            else:
                groups.append((e, rule, [(key, amt)]))
    return groups


def issue(batch: Any, evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reward rows to insert; sets ``batch.spent``, ``spent_before`` and ``budgets``."""
    groups = _groups(evaluations)
    if not groups:
        return []
    rule_ids = {rule.rule_id for _, rule, _ in groups}
    capped = sorted({r.rule_id for _, r, _ in groups if r.reward["kind"] == RewardKind.POINTS
                     and (r.caps.get("points_per_day") is not None
                          or r.caps.get("points_per_month") is not None)})
    agg = sorted({r.rule_id for _, r, _ in groups if aggregated(r)})
    # One query: the candidate keys already issued (``tx:<id>`` of aggregated rules and the
    # per-threshold keys of older rewards), the aggregated rewards held that may cover the
    # crossings, and (capped rules) the points issued in the credits' months.
    times = [e["credit"].occurred_at.astimezone(UTC) for e, _, _ in groups]
    lo = datetime(min(times).year, min(times).month, 1, tzinfo=UTC)
    hi = loading.day(max(times)) + timedelta(days=32)
    keys = {k for _, _, items in groups for k, _ in items}
    keys |= {f"tx:{e['credit'].transaction_id}" for e, r, _ in groups if aggregated(r)}
    cond = any_of(Reward.period_key, sorted(keys), strings=True)
    if capped:
        cond |= (Reward.rule_id.in_(capped) & Reward.status.in_(HELD)
                 & (Reward.occurred_at >= lo) & (Reward.occurred_at < hi))
    if agg:
        min_g = min(_key_g(k) for _, r, items in groups if aggregated(r) for k, _ in items)
        cond |= (Reward.rule_id.in_(agg) & Reward.status.in_(HELD) & (Reward.last_g >= min_g))
    issued, day_pts, month_pts = set(), defaultdict(int), defaultdict(int)
    covered: dict[tuple[int, int], set[int]] = defaultdict(set)
    for (rule_id, user, key, at, pts, status, revoked_pts, first, last, step, skipped, units,
         revoked) in db.session.execute(
            select(Reward.rule_id, Reward.user_id, Reward.period_key, Reward.occurred_at,
                   Reward.points, Reward.status, Reward.revoked_points, Reward.first_g,
                   Reward.last_g, Reward.step_g, Reward.skipped_g, Reward.units,
                   Reward.revoked_units)
            .where(any_of(Reward.user_id, batch.users), cond)):  # (user_id, id) index
        if rule_id not in rule_ids:
            continue
        issued.add((rule_id, user, key))
        if rule_id in agg and status in HELD:
            if step is not None:
                covered[(rule_id, user)].update(
                    thresholds(first, last, step, skipped)[:units - revoked])
            elif key.startswith("g:"):
                covered[(rule_id, user)].add(_key_g(key))
        at = at.astimezone(UTC)
        if rule_id in capped and status in HELD and lo <= at < hi:
            day_pts[(rule_id, user, at.date())] += pts - revoked_pts
            month_pts[(rule_id, user, at.year, at.month)] += pts - revoked_pts
    budgeted = sorted({r.rule_id for _, r, _ in groups
                       if r.caps.get("budget_points") is not None})
    # Read without a lock (partitions spend one budget in parallel); ``write`` checks the
    # total after adding to it and the batch is evaluated again, locked, if it overshot.
    query = (select(IncentiveRule.id, IncentiveRule.spent_points)
             .where(IncentiveRule.id.in_(budgeted)).order_by(IncentiveRule.id))
    if batch.lock_budgets:
        query = query.with_for_update()
    batch.spent = dict(db.session.execute(query).all()) if budgeted else {}
    batch.budgets = {r.rule_id: r.caps["budget_points"] for _, r, _ in groups
                     if r.caps.get("budget_points") is not None}
    batch.spent_before = dict(batch.spent)

    def clip(rule: ActiveRule, c: Any, amt: int | None) -> int:
        """Points left of ``amt`` after caps and budget, taken from them."""
        at, caps = c.occurred_at.astimezone(UTC), rule.caps
        dkey = (rule.rule_id, c.user_id, at.date())
        mkey = (rule.rule_id, c.user_id, at.year, at.month)
        pts = int(amt or 0)
        if caps.get("points_per_day") is not None:
            pts = min(pts, caps["points_per_day"] - day_pts[dkey])
        if pts > 0 and caps.get("points_per_month") is not None:
            pts = min(pts, caps["points_per_month"] - month_pts[mkey])
        pts = max(0, pts)
        if pts and caps.get("budget_points") is not None:
            pts = max(0, min(pts, caps["budget_points"] - batch.spent[rule.rule_id]))
            batch.spent[rule.rule_id] += pts
        day_pts[dkey] += pts
        month_pts[mkey] += pts
        return pts

    rows, now = [], utcnow()
    for e, rule, items in groups:
        c, kind = e["credit"], rule.reward["kind"]
        extra: dict[str, Any] = {"units": 1, "first_g": None, "last_g": None, "step_g": None,
                                 "skipped_g": None}
        if aggregated(rule):
            key = f"tx:{c.transaction_id}"
            if (rule.rule_id, c.user_id, key) in issued:
                continue
            cov, taken, pts = covered[(rule.rule_id, c.user_id)], [], 0
            grid = [_key_g(k) for k, _ in items]
            for g, (k, amt) in zip(grid, items, strict=True):
                if g in cov or (rule.rule_id, c.user_id, k) in issued:
                    continue
                unit = clip(rule, c, amt) if kind == RewardKind.POINTS else 0
                if kind == RewardKind.POINTS and unit <= 0:
                    break
                taken.append(g)
                pts += unit
            if not taken:
                continue
            cov.update(taken)
            extra = {"units": len(taken), "first_g": taken[0], "last_g": taken[-1],
                     "step_g": grams(rule.params["every_kg"]),
                     "skipped_g": [g for g in grid if taken[0] < g < taken[-1]
                                   and g not in taken] or None}
        else:
            key, amt = items[0]
            if (rule.rule_id, c.user_id, key) in issued:
                continue
            pts = 0
            if kind == RewardKind.POINTS:
                pts = clip(rule, c, amt)
                if pts <= 0:
                    continue
        issued.add((rule.rule_id, c.user_id, key))
        rows.append({
            "rule_id": rule.rule_id, "rule_version_id": rule.version_id,
            "user_id": c.user_id, "period_key": key, "kind": kind, "points": pts,
            "badge": rule.reward.get("badge"),
            "certificate_id": ("TREE-" + secrets.token_hex(8).upper()
                               if kind == RewardKind.TREE else None),
            "source_transaction_id": c.transaction_id, "trade_id": c.trade_id,
            "occurred_at": c.occurred_at, "status": RewardStatus.ISSUED.value,
            "issued_at": now, **extra, "revoked_units": 0, "revoked_points": 0,
            "_rule": rule, "_eval": e})
    return rows
