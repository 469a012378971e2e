"""Set-based evaluation of a batch of ledger credits (the ``incentives.evaluate`` handler).

Same semantics as evaluating each (credit, user) pair one at a time, in record order and user
order within a record (evaluate.py documents them), with a fixed number of statements per
batch instead of ~10 per reward:

1. the active rules come from a per-process cache keyed by the rules' signature (count, latest
   ``updated_at``, versions, active flags), re-read when any rule changes;
2. the batch's users' points accounts are created if needed and locked in id order (one
   statement, which also reads the issuance account); a batch holds one partition's users
   (records are partitioned by user), so workers on other partitions never wait for them;
3. one query each for: evaluations already made, the users' cumulative grams, their recent
   evaluations (anti-gaming) and, with a streak rule, their eligible months;
4. the rewards each credit earns are computed in Python, in order (issuing.py: a threshold
   rule's crossings by one credit are one reward with ``units``); then one query for the keys
   and thresholds already issued and the points already issued in the credits' months (caps),
   and one reading the budgets of budgeted rules (no lock: after spending, the totals are checked
   and an overspent batch is evaluated again with the budget rows locked, ``evaluate``);
5. rewards, evaluations, points transactions, lines and balances are written in bulk
   (``INSERT … ON CONFLICT DO NOTHING RETURNING`` on the unique keys), with one
   ``reward.earned`` event per credit and user that earned anything (announce.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, text, update

from carbon.ledger.models import LedgerTransaction
from marketplace.core import events
from marketplace.core.db import any_of, db
from marketplace.core.dbtypes import utcnow

from . import announce, antigaming, bulk, issuing, loading, points, vouchers
from .evaluate import (
    ActiveRule,
    Credit,
    credit_kinds,
    crossed_g,
    earned,
    month_index,
    streak_months_run,
)
from .models import (
    CreditEvaluation,
    IncentiveRule,
    Reward,
    RewardKind,
    RuleType,
)


class BudgetRace(RuntimeError):
    """Another worker spent a budgeted rule's points meanwhile: evaluate again, locked."""


class _Batch:
    def __init__(self, records: list[Any], rules: list[ActiveRule], lock_budgets: bool):
        self.lock_budgets = lock_budgets
        self.rules = rules
        tx_ids = sorted({int(r.payload["ledger_transaction_id"]) for r in records})
        lt = LedgerTransaction.__table__.c  # (Core columns: no ORM work per row)
        txs = {t.id: t for t in db.session.execute(
            select(lt.id, lt.trade_id, lt.occurred_at, lt.meta)
            .where(any_of(lt.id, tx_ids))).all()}
        self.pairs = []
        for record in records:
            tx = txs.get(int(record.payload["ledger_transaction_id"]))
            if tx is None:
                raise LookupError(f"ledger transaction {record.payload} not found")
            self.pairs += [(tx, int(u)) for u in sorted(set(record.payload.get("user_ids")
                                                              or ()))]
        self.users = sorted({u for _, u in self.pairs})
        self.agg = {r.rule_id for r in rules if issuing.aggregated(r)}
        self.kinds = {r.rule_id: credit_kinds(r.type, r.params) for r in rules}
        self.tx_ids = tx_ids
        self.spent: dict[int, int] = {}
        self.spent_before: dict[int, int] = {}

    def load(self) -> None:
        users, config = self.users, current_app.config
        self.accounts, self.issuance = loading.lock_accounts(users)
        self.cumulative = loading.cumulative([(u, tx.id) for tx, u in self.pairs])
        times = [tx.occurred_at for tx, _ in self.pairs]
        window = timedelta(days=config["INCENTIVE_PAIR_WINDOW_DAYS"])
        lo = min(loading.day(min(times)), min(times) - window)
        hi = loading.day(max(times)) + timedelta(1)
        # One query: the users' evaluations within the anti-gaming windows (which hold those
        # of the batch's credits already made), or all of them with a streak rule (months).
        streak = any(r.type == RuleType.STREAK for r in self.rules)
        ev = CreditEvaluation.__table__.c
        query = select(ev.transaction_id, ev.user_id, ev.counterparty_id, ev.occurred_at,
                       ev.eligible).where(any_of(ev.user_id, users))
        if not streak:
            query = query.where(ev.occurred_at >= lo, ev.occurred_at < hi)
        self.done: set[tuple[int, int]] = set()
        self.recent: dict[int, list[tuple[int, datetime, bool]]] = defaultdict(list)
        self.months: dict[int, set[int]] = defaultdict(set)
        batch_txs = set(self.tx_ids)
        for tx_id, user, cp, at, ok in db.session.execute(query).all():
            if tx_id in batch_txs:
                self.done.add((tx_id, user))
            if lo <= at < hi:
                self.recent[user].append((cp, at, ok))
            if ok:
                self.months[user].add(month_index(at))

    def evaluate(self) -> list[dict[str, Any]]:
        """The evaluation rows, each with the candidate rewards of its credit (``groups``:
        issuing.issue)."""
        evaluations, limits = [], antigaming.limits()
        for tx, user in self.pairs:
            if (tx.id, user) in self.done:
                continue
            self.done.add((tx.id, user))
            meta = tx.meta or {}
            if meta.get("credit_kind") == "recycling":
                # The counterparty of a recycling credit is its recycler (minus the
                # organisation's id, never a user id): the pair limit applies per recycler.
                counterparty, amount = -int(meta["recycler_id"]), meta.get("credit_g", 0)
            else:
                buyer, seller = meta.get("buyer_id"), meta.get("seller_id")
                amount = (meta.get("buyer_g", 0) if user == buyer else 0) + (
                    meta.get("seller_g", 0) if user == seller else 0)
                counterparty = int(seller if user == buyer else buyer)
            c = Credit(tx.id, tx.trade_id, user, counterparty, int(amount),
                       self.cumulative[(user, tx.id)], tx.occurred_at,
                       str(meta.get("category") or "other"),
                       "recycling" if meta.get("credit_kind") == "recycling" else "trade")
            flag = antigaming.check_against(c, self.recent[user], limits)
            self.recent[user].append((c.counterparty_id, c.occurred_at, flag is None))
            groups: list[tuple[ActiveRule, Any]] = []
            if flag is None:
                month = month_index(c.occurred_at)
                run = streak_months_run(self.months[user], month)
                self.months[user].add(month)
                for rule in self.rules:
                    if not rule.in_window(c.occurred_at):
                        continue
                    if rule.rule_id in self.agg:  # the thresholds crossed, as one group
                        if c.kind in self.kinds[rule.rule_id]:
                            grid = crossed_g(rule, c)
                            if grid:
                                groups.append((rule, grid))
                    else:
                        groups += [(rule, [item]) for item in earned(rule, c, run)]
            evaluations.append({"credit": c, "flag": flag, "groups": groups})
        return evaluations

    def issue(self, evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply keys already issued, caps and budgets in order; the reward rows to insert
        (issuing.py: crossings of a threshold rule giving points or a badge, or of a tree
        rule, aggregated per credit)."""
        return issuing.issue(self, evaluations)

    def _check_budgets(self) -> None:
        """After adding this batch's points (the rule rows are now locked until commit):
        raise ``BudgetRace`` if a budget was overshot because it was read stale."""
        totals = dict(db.session.execute(
            select(IncentiveRule.id, IncentiveRule.spent_points)
            .where(IncentiveRule.id.in_(sorted(self.budgets)))).all())
        if any(totals[rid] > cap for rid, cap in self.budgets.items() if rid in totals):
            raise BudgetRace("budget spent concurrently")

    def write(self, evaluations: list[dict[str, Any]], rows: list[dict[str, Any]]) -> int:
        pg = db.session.get_bind().dialect.name == "postgresql"
        if pg and rows:  # one statement: rewards, points, balances, budgets
            ids = {(r[1], r[2], r[3]): r[0] for r in bulk.issue(
                rows, self.accounts, self.issuance, sorted(self.spent))}
            if self.spent and not self.lock_budgets:
                self._check_budgets()
        else:
            ids = {(r[1], r[2], r[3]): r[0] for r in points.insert_returning(
                Reward.__table__, issuing.complete(rows), ["rule_id", "user_id", "period_key"],
                ["id", "rule_id", "user_id", "period_key"])}
        postings, count, issued = [], defaultdict(int), []
        for row, (rule, e) in zip(rows, self.row_meta, strict=True):
            reward_id = ids.get((row["rule_id"], row["user_id"], row["period_key"]))
            if reward_id is None:  # issued concurrently: give the budget back
                if row["rule_id"] in self.spent:
                    self.spent[row["rule_id"]] -= row["points"]
                continue
            count[id(e)] += 1
            issued.append((reward_id, row))
            if row["kind"] == RewardKind.POINTS and not pg:  # (on PostgreSQL: posted)
                postings.append((reward_id, row, rule))
            elif row["kind"] == RewardKind.VOUCHER:
                voucher = vouchers.issue(row["user_id"], rule.reward, f"reward:{reward_id}")
                db.session.execute(update(Reward).where(Reward.id == reward_id)
                                   .values(voucher_id=voucher.id))
        events.publish_many(announce.events(issued))
        changed = {k: v for k, v in self.spent.items() if v != self.spent_before.get(k)}
        if changed and not pg:
            table = IncentiveRule.__table__
            db.session.execute(update(table).where(table.c.id == bindparam("rid"))
                               .values(spent_points=bindparam("spent")),
                               [{"rid": k, "spent": v} for k, v in sorted(changed.items())])
        points.post_many([(f"reward:{rid}", self.accounts[row["user_id"]], row["points"], {
            "rule_id": rule.rule_id, "rule_version_id": rule.version_id,
            "period_key": row["period_key"], "trade_id": row["trade_id"]})
            for rid, row, rule in postings], self.issuance)
        if evaluations:
            _insert_evaluations(evaluations, count, pg)
        return sum(count.values())


def _insert_evaluations(evaluations: list[dict[str, Any]], count: dict[int, int],
                        pg: bool) -> None:
    """The evaluation rows (one statement; on PostgreSQL one JSON document)."""
    now, table = utcnow(), CreditEvaluation.__table__
    rows = [{"transaction_id": c.transaction_id, "trade_id": c.trade_id, "user_id": c.user_id,
             "counterparty_id": c.counterparty_id, "occurred_at": c.occurred_at,
             "amount_g": c.amount_g, "eligible": e["flag"] is None, "flag": e["flag"],
             "rewards": count[id(e)], "evaluated_at": now}
            for e in evaluations for c in (e["credit"],)]
    if pg:
        cols = ", ".join(rows[0])
        db.session.execute(text(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM "
                                f"{bulk.source(table)}"), {"doc": bulk.document(rows)})
    else:
        db.session.execute(table.insert(), rows)


def evaluate(records: list[Any]) -> int:
    """Evaluate a batch of ``incentives.evaluate`` records; return the rewards issued. Budgets
    are read without a lock; if another worker spent a budget meanwhile, the batch is rolled
    back to a savepoint and evaluated again with the budget rows locked."""
    if not records:
        return 0
    rules = loading.active_rules()
    if not any(r.caps.get("budget_points") is not None for r in rules):
        return _evaluate(records, rules, lock_budgets=False)  # no budget: no race, no savepoint
    try:
        with db.session.begin_nested():
            return _evaluate(records, rules, lock_budgets=False)
    except BudgetRace:
        return _evaluate(records, rules, lock_budgets=True)


def _evaluate(records: list[Any], rules: list[ActiveRule], lock_budgets: bool) -> int:
    batch = _Batch(records, rules, lock_budgets)
    if not batch.pairs:
        return 0
    batch.load()
    evaluations = batch.evaluate()
    return batch.write(evaluations, batch.issue(evaluations))
