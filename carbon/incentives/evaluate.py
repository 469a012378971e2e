"""Per-credit evaluation of the active rules, run by a worker after each ledger credit.

The ledger's posting writes an ``incentives.evaluate`` outbox record in the transaction that
posts a credit (``{"ledger_transaction_id", "trade_id", "user_ids"}``); this handler applies
it on the ``incentives`` queue. For each credited user it:

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

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from carbon.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction
from marketplace import outbox
from marketplace.extensions import db

from . import antigaming, points, rewards
from .models import CreditEvaluation, IncentiveRule, IncentiveRuleVersion, RuleType
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


def as_active(version: IncentiveRuleVersion) -> ActiveRule:
    return ActiveRule(version.rule_id, version.id, version.type, version.params or {},
                      version.reward or {}, version.caps or {}, version.valid_from,
                      version.valid_to)


def active_rules() -> list[ActiveRule]:
    rows = db.session.execute(
        select(IncentiveRuleVersion, IncentiveRule.spent_points)
        .join(IncentiveRule, (IncentiveRule.id == IncentiveRuleVersion.rule_id)
              & (IncentiveRule.version == IncentiveRuleVersion.version))
        .where(IncentiveRule.active.is_(True)).order_by(IncentiveRule.id)).all()
    out = []
    for version, spent in rows:
        budget = (version.caps or {}).get("budget_points")
        if budget is not None and spent >= budget:
            continue  # the budget is spent: the rule has stopped
        out.append(as_active(version))
    return out


@outbox.handler(TOPIC, queue="incentives", batch=True)
def evaluate_records(records: list[Any]) -> int:
    """Evaluate a batch of credits (in record order); return the rewards issued."""
    rules = active_rules()
    tx_ids = [int(r.payload["ledger_transaction_id"]) for r in records]
    txs = {tx.id: tx for tx in db.session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.id.in_(tx_ids)))}
    issued = 0
    for record in records:
        tx = txs.get(int(record.payload["ledger_transaction_id"]))
        if tx is None:
            raise LookupError(f"ledger transaction {record.payload} not found")
        for user_id in sorted(set(record.payload.get("user_ids") or ())):
            issued += evaluate_credit(tx, int(user_id), rules)
    return issued


def cumulative_g(user_id: int, up_to_transaction_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_g), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.user_id == user_id,
               LedgerLine.transaction_id <= up_to_transaction_id))
    return int(total or 0)


def credit_for(tx: LedgerTransaction, user_id: int) -> Credit:
    meta = tx.meta or {}
    buyer, seller = meta.get("buyer_id"), meta.get("seller_id")
    amount = (meta.get("buyer_g", 0) if user_id == buyer else 0) + (
        meta.get("seller_g", 0) if user_id == seller else 0)
    counterparty = seller if user_id == buyer else buyer
    return Credit(tx.id, tx.trade_id, user_id, int(counterparty), int(amount),
                  cumulative_g(user_id, tx.id), tx.occurred_at,
                  str(meta.get("category") or "other"))


def evaluate_credit(tx: LedgerTransaction, user_id: int, rules: list[ActiveRule]) -> int:
    points.lock_user(user_id)
    done = db.session.scalar(select(CreditEvaluation.id).where(
        CreditEvaluation.transaction_id == tx.id, CreditEvaluation.user_id == user_id))
    if done is not None:
        return 0
    credit = credit_for(tx, user_id)
    flag = antigaming.check(credit)
    evaluation = CreditEvaluation(
        transaction_id=credit.transaction_id, trade_id=credit.trade_id, user_id=user_id,
        counterparty_id=credit.counterparty_id, occurred_at=credit.occurred_at,
        amount_g=credit.amount_g, eligible=flag is None, flag=flag)
    db.session.add(evaluation)
    db.session.flush()
    if flag is not None:
        return 0
    issued = 0
    for rule in rules:
        if rule.in_window(credit.occurred_at):
            for key, amount in earned(rule, credit):
                issued += rewards.issue(rule, credit, key, amount)
    evaluation.rewards = issued
    return issued


def earned(rule: ActiveRule, c: Credit) -> list[tuple[str, int | None]]:
    """(period key, points or None) pairs a credit earns under a rule, before caps and
    before the uniqueness of keys already issued."""
    before = c.cum_after_g - c.amount_g
    if rule.type in (RuleType.THRESHOLD, RuleType.TREE):
        every = grams(rule.params["every_kg"])
        if c.amount_g <= 0:
            return []
        first, last = before // every + 1, c.cum_after_g // every
        prefix = "g" if rule.type == RuleType.THRESHOLD else "tree"
        return [(f"{prefix}:{k * every}", rule.reward.get("amount"))
                for k in range(max(first, 1), last + 1)]
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
        run = streak_run(c, month)
        if run and run % int(rule.params["months"]) == 0:
            return [(f"streak:{month // 12}-{month % 12 + 1:02d}", rule.reward.get("amount"))]
    return []


def month_index(at: datetime) -> int:
    at = at.astimezone(UTC)
    return at.year * 12 + at.month - 1


def _month_start(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def streak_run(c: Credit, month: int) -> int:
    """Length of the run of consecutive months with an eligible credit ending with this
    credit's month, if this credit is the month's first eligible one; else 0."""
    start = _month_start(month)
    end = start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    earlier_this_month = db.session.scalar(select(CreditEvaluation.id).where(
        CreditEvaluation.user_id == c.user_id, CreditEvaluation.eligible.is_(True),
        CreditEvaluation.occurred_at >= start, CreditEvaluation.occurred_at < end,
        CreditEvaluation.transaction_id != c.transaction_id).limit(1))
    if earlier_this_month is not None:
        return 0
    months = {month_index(t) for t in db.session.scalars(select(CreditEvaluation.occurred_at)
              .where(CreditEvaluation.user_id == c.user_id,
                     CreditEvaluation.eligible.is_(True),
                     CreditEvaluation.occurred_at < start))}
    run = 1
    while month - run in months:
        run += 1
    return run
