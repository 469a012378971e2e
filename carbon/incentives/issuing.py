"""Which rewards a batch's evaluations issue (batch.py step 4): keys already issued, caps and
budgets applied in credit order, and the aggregation of threshold crossings.

A threshold rule whose reward is points or a badge, and a tree rule, issue one reward row per
(credit, rule, user), key ``tx:<ledger transaction id>``: the thresholds the credit crosses
that the user does not already hold (from an earlier reward of the rule, aggregated or not)
become its ``units``, each clipped by the caps and the budget in order as if issued one by
one (the first clipped to nothing ends the list), ``points`` their total; a tree rule's row is
one certificate for its ``units`` trees. Vouchers keep one row per threshold (a voucher
each). Rewards issued before aggregation keep their per-threshold keys (``g:<grams>``,
``tree:<grams>``): the thresholds they hold are not issued again.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, String, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from marketplace.core.db import any_of, db
from marketplace.core.dbtypes import json_dumps, utcnow

from . import loading
from .evaluate import ActiveRule
from .models import HELD, IncentiveRule, Reward, RewardKind, RewardStatus, RuleType, thresholds
from .rules import grams

# The columns a reward row leaves out (``issue``) when they are NULL or, for a new reward,
# always the same; the statement inserting the rows fills them in (``complete``, bulk.py).
ROW_DEFAULTS: dict[str, Any] = {
    "badge": None, "certificate_id": None, "first_g": None, "last_g": None, "step_g": None,
    "skipped_g": None, "status": RewardStatus.ISSUED.value, "revoked_units": 0,
    "revoked_points": 0}


def aggregated(rule: ActiveRule) -> bool:
    """Whether the rule issues one reward per credit for all the thresholds it crosses."""
    return rule.type in (RuleType.THRESHOLD, RuleType.TREE) \
        and rule.reward.get("kind") != RewardKind.VOUCHER


def legacy_prefix(rule_type: str) -> str:
    """The key prefix of an aggregated rule's per-threshold rewards (``earned``'s keys)."""
    return "g:" if rule_type == RuleType.THRESHOLD else "tree:"


def _key_g(key: str) -> int:
    return int(key.split(":", 1)[1])


def _may_cover(rc: Any, groups: list[tuple[Any, ActiveRule, Any]], agg: set[int]) -> Any:
    """Which held aggregated rewards may hold a threshold this batch crosses: those whose last
    threshold is at least the first one the batch crosses for their rule and user (thresholds
    rise with the user's cumulative grams, so a user's older rewards are not read again at
    every credit). On PostgreSQL each (rule, user)'s own first, looked up in one JSON object
    (parsed once: a scalar subquery); elsewhere the batch's lowest for all."""
    firsts: dict[str, int] = {}
    for e, rule, items in groups:
        if rule.rule_id in agg:
            key = f"{rule.rule_id}:{e['credit'].user_id}"
            firsts[key] = min(firsts.get(key, items[0]), items[0])
    if db.session.get_bind().dialect.name != "postgresql":
        return rc.last_g >= min(firsts.values())
    doc = select(cast(literal(json_dumps(firsts), String), JSONB)).scalar_subquery()
    first = doc.op("->>")(func.concat(rc.rule_id, ":", rc.user_id))
    return rc.last_g >= cast(first, BigInteger)


def issue(batch: Any, evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reward rows to insert (columns only: each row's rule and evaluation are in
    ``batch.row_meta``, same order); sets ``batch.spent``, ``spent_before`` and ``budgets``.

    ``evaluation["groups"]``: ``(rule, items)`` in order, ``items`` an aggregated rule's
    thresholds crossed (grams, ascending) or one ``(key, amount)`` of any other rule."""
    batch.row_meta = []
    groups = [(e, rule, items) for e in evaluations for rule, items in e["groups"]]
    if not groups:
        return []
    rules = {rule.rule_id: rule for _, rule, _ in groups}
    capped = sorted(rid for rid, r in rules.items() if r.reward["kind"] == RewardKind.POINTS
                    and (r.caps.get("points_per_day") is not None
                         or r.caps.get("points_per_month") is not None))
    agg = sorted(rid for rid, r in rules.items() if aggregated(r))
    # One query: the candidate keys already issued (``tx:<id>`` of aggregated rules, the keys
    # of other rules), the aggregated rewards held that may cover the crossings, the older
    # per-threshold rewards of aggregated rules (``g:<grams>``: a superset of the candidates'
    # keys, which only membership is asked of), and (capped rules) the points issued in the
    # credits' months.
    for e in evaluations:
        if e["groups"]:
            e["at_utc"] = e["credit"].occurred_at.astimezone(UTC)
    times = [e["at_utc"] for e in evaluations if e["groups"]]
    lo = datetime(min(times).year, min(times).month, 1, tzinfo=UTC)
    hi = loading.day(max(times)) + timedelta(days=32)
    keys = {f"tx:{e['credit'].transaction_id}" if rule.rule_id in batch.agg else items[0][0]
            for e, rule, items in groups}
    rc = Reward.__table__.c  # (Core columns: rows without the ORM's per-row work)
    cond = any_of(rc.period_key, sorted(keys), strings=True)
    if capped:
        cond |= (rc.rule_id.in_(capped) & rc.status.in_(HELD)
                 & (rc.occurred_at >= lo) & (rc.occurred_at < hi))
    prefixes = {rid: legacy_prefix(rules[rid].type) for rid in agg}  # (empty without agg)
    if agg:
        cond |= (rc.rule_id.in_(agg) & rc.status.in_(HELD) & _may_cover(rc, groups, batch.agg))
        cond |= (rc.rule_id.in_(agg) & rc.step_g.is_(None)
                 & or_(*(rc.period_key.like(f"{p}%") for p in sorted(set(prefixes.values())))))
    issued, day_pts, month_pts = set(), defaultdict(int), defaultdict(int)
    covered: dict[tuple[int, int], set[int]] = defaultdict(set)
    legacy: dict[tuple[int, int], set[int]] = defaultdict(set)  # ``g:<grams>``... issued
    for (rule_id, user, key, at, pts, status, revoked_pts, first, last, step, skipped, units,
         revoked) in db.session.execute(
            select(rc.rule_id, rc.user_id, rc.period_key, rc.occurred_at,
                   rc.points, rc.status, rc.revoked_points, rc.first_g,
                   rc.last_g, rc.step_g, rc.skipped_g, rc.units,
                   rc.revoked_units)
            .where(any_of(rc.user_id, batch.users), cond)).all():  # (user_id, id) index
        if rule_id not in rules:
            continue
        issued.add((rule_id, user, key))
        prefix = prefixes.get(rule_id)
        threshold_key = prefix is not None and key.startswith(prefix) \
            and key[len(prefix):].isdigit()
        if threshold_key:  # (not a revoked one's renamed key, ``g:<grams>~r<id>``)
            legacy[(rule_id, user)].add(_key_g(key))
        if rule_id in batch.agg and status in HELD:
            if step is not None:
                covered[(rule_id, user)].update(
                    thresholds(first, last, step, skipped)[:units - revoked])
            elif threshold_key:
                covered[(rule_id, user)].add(_key_g(key))
        at = at.astimezone(UTC)
        if rule_id in capped and status in HELD and lo <= at < hi:
            day_pts[(rule_id, user, at.date())] += pts - revoked_pts
            month_pts[(rule_id, user, at.year, at.month)] += pts - revoked_pts
    budgeted = sorted(rid for rid, r in rules.items() if r.caps.get("budget_points") is not None)
    # Read without a lock (partitions spend one budget in parallel); ``write`` checks the
    # total after adding to it and the batch is evaluated again, locked, if it overshot.
    query = (select(IncentiveRule.id, IncentiveRule.spent_points)
             .where(IncentiveRule.id.in_(budgeted)).order_by(IncentiveRule.id))
    if batch.lock_budgets:
        query = query.with_for_update()
    batch.spent = dict(db.session.execute(query).all()) if budgeted else {}
    batch.budgets = {rid: r.caps["budget_points"] for rid, r in rules.items()
                     if r.caps.get("budget_points") is not None}
    batch.spent_before = dict(batch.spent)
    spent = batch.spent

    def clip(rule: ActiveRule, dkey: tuple, mkey: tuple, amt: int | None) -> int:
        """Points left of ``amt`` after caps and budget, taken from them."""
        caps = rule.caps
        pts = int(amt or 0)
        if caps.get("points_per_day") is not None:
            pts = min(pts, caps["points_per_day"] - day_pts[dkey])
        if pts > 0 and caps.get("points_per_month") is not None:
            pts = min(pts, caps["points_per_month"] - month_pts[mkey])
        pts = max(0, pts)
        if pts and caps.get("budget_points") is not None:
            pts = max(0, min(pts, caps["budget_points"] - spent[rule.rule_id]))
            spent[rule.rule_id] += pts
        day_pts[dkey] += pts
        month_pts[mkey] += pts
        return pts

    rows, step_of = [], {}
    for e, rule, items in groups:
        c, kind, rid = e["credit"], rule.reward["kind"], rule.rule_id
        user, at = c.user_id, e["at_utc"]
        dkey, mkey = (rid, user, at.date()), (rid, user, at.year, at.month)
        units, first_g, last_g, step_g, skipped = 1, None, None, None, None
        if rid in batch.agg:
            key = f"tx:{c.transaction_id}"
            if (rid, user, key) in issued:
                continue
            cov, old = covered[(rid, user)], legacy.get((rid, user), ())
            taken, pts, amt = [], 0, rule.reward.get("amount")
            points_kind = kind == RewardKind.POINTS
            for g in items:
                if g in cov or g in old:
                    continue
                if points_kind:
                    unit = clip(rule, dkey, mkey, amt)
                    if unit <= 0:
                        break
                    pts += unit
                taken.append(g)
            if not taken:
                continue
            cov.update(taken)
            if rid not in step_of:
                step_of[rid] = grams(rule.params["every_kg"])
            units, first_g, last_g, step_g = len(taken), taken[0], taken[-1], step_of[rid]
            if (last_g - first_g) // step_g + 1 != units:  # thresholds in between not taken
                held = set(taken)
                skipped = [g for g in items if first_g < g < last_g and g not in held] or None
        else:
            key, amt = items[0]
            if (rid, user, key) in issued:
                continue
            pts = 0
            if kind == RewardKind.POINTS:
                pts = clip(rule, dkey, mkey, amt)
                if pts <= 0:
                    continue
        issued.add((rid, user, key))
        row = {"rule_id": rid, "rule_version_id": rule.version_id, "user_id": user,
               "period_key": key, "kind": kind, "points": pts,
               "source_transaction_id": c.transaction_id, "trade_id": c.trade_id,
               "occurred_at": c.occurred_at, "units": units}
        if step_g is not None:
            row.update(first_g=first_g, last_g=last_g, step_g=step_g)
            if skipped:
                row["skipped_g"] = skipped
        if kind == RewardKind.TREE:
            row["certificate_id"] = "TREE-" + secrets.token_hex(8).upper()
        elif kind == RewardKind.BADGE:
            row["badge"] = rule.reward.get("badge")
        rows.append(row)
        batch.row_meta.append((rule, e))
    return rows


def complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with every column (the bulk statement on PostgreSQL fills these itself)."""
    now = utcnow()
    return [{**ROW_DEFAULTS, "issued_at": now, **r} for r in rows]
