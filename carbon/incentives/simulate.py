"""Simulating a draft rule over every account's credit history, vectorised with numpy.

``simulate_arrays`` is a pure function over arrays sorted by user then time (one row per
credited user and credit): it computes each user's cumulative grams with one cumsum, the
thresholds a credit crosses by floor division, streaks from month indices, and applies the
per-user daily / monthly caps (cumulative sums clipped per group) and the budget (in time
order), exactly as the per-credit evaluation does one credit at a time (a test checks they
agree). Nothing is issued. ``simulate`` loads the arrays from the ledger (eligibility from
the anti-gaming checks already made) and is what ``POST …/incentive-rules/simulate`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select

from carbon.ledger.models import EntryKind, LedgerAccount, LedgerLine, LedgerTransaction
from marketplace.core.db import db

from .evaluate import credit_kinds
from .models import CreditEvaluation, RewardKind, RuleType
from .rules import grams

DAY = 86_400


@dataclass
class History:
    user: np.ndarray  # int64, sorted
    t: np.ndarray  # int64 epoch seconds (UTC), sorted within a user
    g: np.ndarray  # int64 grams credited to the user
    category: np.ndarray  # int32 index into ``categories``
    eligible: np.ndarray  # bool: passed the anti-gaming checks
    categories: list[str]
    # bool: a recycling credit (else a trade's); None: trades only. Rules count the kinds
    # their ``credit_kinds`` name; the running total counts every kind (as evaluation does).
    recycling: np.ndarray | None = None


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    change = np.zeros(len(keys[0]), dtype=bool)
    change[0:1] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def _cumsum_in_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    base = np.repeat(cs[starts] - values[starts], np.diff(np.append(starts, len(values))))
    return cs - base


def _clip_in_groups(p: np.ndarray, starts: np.ndarray, cap: int) -> np.ndarray:
    """Sequential clipping within each group: each row gets min(p, cap - given so far)."""
    clipped = np.minimum(_cumsum_in_groups(p, starts), cap)
    prev = np.empty_like(clipped)
    prev[0:1] = 0
    prev[1:] = clipped[:-1]
    prev[starts] = 0
    return clipped - prev


def _cap_in_groups(pts: np.ndarray, user: np.ndarray, key: np.ndarray, cap: int) -> None:
    """Clip ``pts`` in place as ``_clip_in_groups`` over groups of (user, key) (``key``: a day
    or month index, non-decreasing within a user). Only rows with points matter (the others
    neither take nor get any), and a row alone in its group just gets ``min(p, cap)``: the
    grouped cumulative clipping runs on the rows sharing a group with another, usually few."""
    idx = np.flatnonzero(pts > 0)
    if not len(idx):
        return
    u, k, p = user[idx], key[idx], pts[idx]
    same_next = (u[1:] == u[:-1]) & (k[1:] == k[:-1])  # row i and i + 1 share a group
    multi = np.zeros(len(idx), dtype=bool)
    multi[1:] |= same_next
    multi[:-1] |= same_next
    np.minimum(p, cap, out=p, where=~multi)
    m = np.flatnonzero(multi)
    if len(m):
        first = np.ones(len(m), dtype=bool)
        later = m > 0
        first[later] = ~same_next[m[later] - 1]
        p[m] = _clip_in_groups(p[m], np.flatnonzero(first), cap)
    pts[idx] = p


def _spend_budget(pts: np.ndarray, t: np.ndarray, budget: int) -> None:
    """Clip ``pts`` in place to a budget spent in time order: per-day totals find the day it
    runs out; only that day's rows are sorted (earlier days are paid, later ones get 0)."""
    idx = np.flatnonzero(pts > 0)
    p, tt = pts[idx], t[idx]
    day = (tt - tt.min()) // DAY
    spent_by_day = np.cumsum(np.bincount(day, weights=p))
    last = int(np.searchsorted(spent_by_day, budget, side="right"))
    before = int(round(spent_by_day[last - 1])) if last > 0 else 0
    p[day > last] = 0
    on_last = np.flatnonzero(day == last)
    order = on_last[np.argsort(tt[on_last], kind="stable")]
    spent = np.minimum(np.cumsum(p[order]), budget - before)
    p[order] = np.diff(spent, prepend=0)
    pts[idx] = p


def _months(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def _days_months(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC day and month indices of epoch seconds; months looked up per day (fast)."""
    day = t // DAY
    lo = int(day.min()) if len(day) else 0
    table = np.arange(lo, int(day.max()) + 1 if len(day) else lo + 1).astype(
        "datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return day, table[day - lo]


def _ts(value) -> int | None:
    return None if value is None else int(value.timestamp())


def simulate_arrays(h: History, rule: dict[str, Any]) -> dict[str, Any]:
    """What a (validated) rule would issue over the history, and its points cost."""
    started = time.perf_counter()
    n = len(h.user)
    kind, rtype, params = rule["reward"]["kind"], rule["type"], rule["params"]
    amount = int(rule["reward"].get("amount") or 0)
    caps = rule.get("caps") or {}
    result = {"accounts": 0, "credits": n, "users_rewarded": 0, "rewards": 0,
              "points_cost": 0, "rewards_per_user": {}, "budget_exhausted": False}
    if n == 0:
        result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result
    starts = _group_starts(h.user)
    cum_after = _cumsum_in_groups(h.g, starts)
    cum_before = cum_after - h.g
    vf, vt = _ts(rule.get("valid_from")), _ts(rule.get("valid_to"))
    ok = h.eligible.copy()
    kinds = credit_kinds(rtype, params)
    if h.recycling is not None:
        ok &= np.where(h.recycling, "recycling" in kinds, "trade" in kinds)
    elif "trade" not in kinds:
        ok[:] = False
    if vf is not None:
        ok &= h.t >= vf
    if vt is not None:
        ok &= h.t < vt
    count = np.zeros(n, dtype=np.int64)  # rewards (keys) earned per row, before caps
    pts = np.zeros(n, dtype=np.int64)
    if rtype in (RuleType.THRESHOLD, RuleType.TREE):
        every = grams(params["every_kg"])
        count = np.where(ok & (h.g > 0), cum_after // every - cum_before // every, 0)
        pts = count * amount
    elif rtype == RuleType.MILESTONE:
        hit = ok if "at_kg" not in params else ok & (cum_after >= grams(params["at_kg"]))
        idx = np.flatnonzero(hit)
        first = idx[_group_starts(h.user[idx])] if len(idx) else idx
        count[first] = 1
        pts = count * amount
    elif rtype == RuleType.CAMPAIGN:
        cats = np.array([i for i, c in enumerate(h.categories) if c in params["categories"]])
        in_cats = np.isin(h.category, cats) if len(cats) else np.zeros(n, dtype=bool)
        m100 = round(float(params["multiplier"]) * 100)
        pts = np.where(ok & in_cats, h.g * amount * m100 // 100_000, 0)
        count = (pts > 0).astype(np.int64)
    elif rtype == RuleType.STREAK:
        idx = np.flatnonzero(h.eligible)
        if len(idx):
            months = _months(h.t[idx])
            first = _group_starts(h.user[idx], months)
            uu, mm, rows = h.user[idx][first], months[first], idx[first]
            brk = np.ones(len(uu), dtype=bool)
            brk[1:] = (uu[1:] != uu[:-1]) | (mm[1:] != mm[:-1] + 1)
            run_start = np.flatnonzero(brk)
            pos = np.arange(len(uu)) - run_start[np.cumsum(brk) - 1] + 1
            hit = rows[pos % int(params["months"]) == 0]
            count[hit[ok[hit]]] = 1
        pts = count * amount
    if kind == RewardKind.POINTS:
        if caps.get("points_per_day") is not None or caps.get("points_per_month") is not None:
            days, months = _days_months(h.t)
            if caps.get("points_per_day") is not None:
                _cap_in_groups(pts, h.user, days, caps["points_per_day"])
            if caps.get("points_per_month") is not None:
                _cap_in_groups(pts, h.user, months, caps["points_per_month"])
        budget = caps.get("budget_points")
        if budget is not None and int(pts.sum()) > budget:
            _spend_budget(pts, h.t, budget)
            result["budget_exhausted"] = True
        count = np.where(pts > 0, -(-pts // amount) if rtype != RuleType.CAMPAIGN else 1, 0)
    per_user = np.add.reduceat(count, starts)
    hist = np.bincount(np.minimum(per_user, 10))
    result.update(
        accounts=int(len(starts)), users_rewarded=int(np.count_nonzero(per_user)),
        rewards=int(count.sum()), points_cost=int(pts.sum()) if kind == RewardKind.POINTS
        else 0,
        rewards_per_user={("10+" if i == 10 else str(i)): int(c)
                          for i, c in enumerate(hist) if i and c})
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def load_history() -> History:
    """Every user's credits, trades' and recycling's (net of nothing: reversals are not
    replayed), sorted by user then time, with the anti-gaming outcome of those already
    evaluated (unevaluated: eligible)."""
    grams_ = func.sum(LedgerLine.amount_g).label("g")
    rows = db.session.execute(
        select(LedgerAccount.user_id, LedgerTransaction.occurred_at, grams_,
               LedgerTransaction.meta["category"].as_string(), CreditEvaluation.eligible,
               LedgerTransaction.kind)
        .select_from(LedgerLine)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .outerjoin(CreditEvaluation, (CreditEvaluation.transaction_id == LedgerTransaction.id)
                   & (CreditEvaluation.user_id == LedgerAccount.user_id))
        .where(LedgerAccount.user_id.is_not(None),
               LedgerTransaction.kind.in_([EntryKind.CREDIT.value, EntryKind.RECYCLING.value]))
        .group_by(LedgerAccount.user_id, LedgerTransaction.id, LedgerTransaction.occurred_at,
                  LedgerTransaction.meta["category"].as_string(), CreditEvaluation.eligible,
                  LedgerTransaction.kind)
        .order_by(LedgerAccount.user_id, LedgerTransaction.occurred_at, LedgerTransaction.id)
    ).all()
    categories: dict[str, int] = {}
    cat = np.array([categories.setdefault(r[3] or "other", len(categories)) for r in rows],
                   dtype=np.int32)
    return History(
        user=np.array([r[0] for r in rows], dtype=np.int64),
        t=np.array([int(r[1].timestamp()) for r in rows], dtype=np.int64),
        g=np.array([int(r[2]) for r in rows], dtype=np.int64), category=cat,
        eligible=np.array([r[4] is not False for r in rows], dtype=bool),
        categories=list(categories),
        recycling=np.array([r[5] == EntryKind.RECYCLING.value for r in rows], dtype=bool))


def simulate(rule: dict[str, Any]) -> dict[str, Any]:
    return simulate_arrays(load_history(), rule)
