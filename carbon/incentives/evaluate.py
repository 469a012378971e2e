"""Per-credit evaluation of the active rules, run by a worker after each ledger credit.

The ledger's posting writes an ``incentives.evaluate`` outbox record per credited party in the
transaction that posts a credit (``{"ledger_transaction_id", "trade_id", "user_ids": [user]}``),
partitioned by user (``INCENTIVE_PARTITIONS``); this handler applies them on the ``incentives``
queue, one partition's batch at a time, set-based (batch.py: a fixed number of statements per
batch). Workers drain different partitions in parallel, so they do not wait on each other's
points accounts. For each credited user, in record order, it:

1. locks the user's points account (evaluations and redemptions of one user are serialised);
2. skips the credit if already evaluated (``incentive_evaluations`` unique on
   ``(transaction_id, user_id)``);
3. runs the anti-gaming checks (antigaming.py) and records the evaluation, flagged or not;
4. for an eligible credit, computes what each active rule (current version) gives: from the
   user's cumulative grams up to and including this credit, the credit's grams, time and
   category, and issues it (rewards.issue: unique per rule, user and threshold/period).

Everything is deterministic given the order of credits, which is what simulate.py reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from carbon.ledger.models import LedgerAccount, LedgerLine
from marketplace.core.db import db

from .models import CREDIT_KINDS, IncentiveRuleVersion, RuleType
from .rules import campaign_points, grams

TOPIC = "incentives.evaluate"


@dataclass(frozen=True, slots=True)
class ActiveRule:
    rule_id: int
    version_id: int
    type: str
    params: dict[str, Any]
    reward: dict[str, Any]
    caps: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None

    def in_window(self, at: datetime) -> bool:
        return (self.valid_from is None or at >= self.valid_from) and (
            self.valid_to is None or at < self.valid_to)


@dataclass(frozen=True, slots=True)
class Credit:
    transaction_id: int
    trade_id: int | None
    user_id: int
    counterparty_id: int
    amount_g: int  # this user's grams
    cum_after_g: int  # the user's cumulative grams up to and including this credit
    occurred_at: datetime
    category: str
    kind: str = "trade"  # the credit's kind: trade or recycling (rules filter on it)


def as_active(version: IncentiveRuleVersion) -> ActiveRule:
    return ActiveRule(version.rule_id, version.id, version.type, version.params or {},
                      version.reward or {}, version.caps or {}, version.valid_from,
                      version.valid_to)


def cumulative_g(user_id: int, up_to_transaction_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_g), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.user_id == user_id,
               LedgerLine.transaction_id <= up_to_transaction_id))
    return int(total or 0)


def earned(rule: ActiveRule, c: Credit, run: int = 0) -> list[tuple[str, int | None]]:
    """(period key, points or None) pairs a credit earns under a rule, before caps and
    before the uniqueness of keys already issued. ``run``: the credit's streak run
    (``streak_months_run``)."""
    if c.kind not in credit_kinds(rule.type, rule.params):
        return []
    if rule.type in (RuleType.THRESHOLD, RuleType.TREE):
        prefix, amount = "g" if rule.type == RuleType.THRESHOLD else "tree", rule.reward.get(
            "amount")
        return [(f"{prefix}:{g}", amount) for g in crossed_g(rule, c)]
    if rule.type == RuleType.MILESTONE:
        if "at_kg" in rule.params and c.cum_after_g < grams(rule.params["at_kg"]):
            return []
        return [("milestone", rule.reward.get("amount"))]
    if rule.type == RuleType.CAMPAIGN:
        if c.category not in rule.params["categories"]:
            return []
        pts = campaign_points(c.amount_g, rule.reward["amount"], rule.params["multiplier"])
        return [(f"tx:{c.transaction_id}", pts)] if pts > 0 else []
    if rule.type == RuleType.STREAK:
        month = month_index(c.occurred_at)
        if run and run % int(rule.params["months"]) == 0:
            return [(f"streak:{month // 12}-{month % 12 + 1:02d}", rule.reward.get("amount"))]
    return []


def crossed_g(rule: ActiveRule, c: Credit) -> range:
    """The thresholds (grams, ascending) a credit crosses under a threshold or tree rule
    (whose kinds it counts): the keys ``earned`` gives, as numbers."""
    every = grams(rule.params["every_kg"])
    if c.amount_g <= 0:
        return range(0)
    first, last = (c.cum_after_g - c.amount_g) // every + 1, c.cum_after_g // every
    return range(max(first, 1) * every, last * every + 1, every)


def credit_kinds(rule_type: str, params: dict[str, Any]) -> tuple[str, ...]:
    """The credit kinds a rule counts: ``params.credit_kinds`` when given, else every kind
    (a ``first_trade`` milestone: trades only)."""
    if params.get("credit_kinds"):
        return tuple(params["credit_kinds"])
    if rule_type == RuleType.MILESTONE and params.get("event") == "first_trade":
        return ("trade",)
    return CREDIT_KINDS


def month_index(at: datetime) -> int:
    at = at.astimezone(UTC)
    return at.year * 12 + at.month - 1


def streak_months_run(months: set[int], month: int) -> int:
    """Length of the run of consecutive months with an eligible credit ending with ``month``,
    given the months (indices) of the user's other eligible credits, if this credit is its
    month's first eligible one; else 0."""
    if month in months:
        return 0
    run = 1
    while month - run in months:
        run += 1
    return run
