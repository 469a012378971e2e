"""``verify-ledger``: recompute the ledger from its lines and check it against the trades.

Checks are pluggable: each is a function taking a ``Section`` and adding findings to it,
registered per app with ``register_check(app, name, func)`` at start-up (the ledger registers
its own in ``carbon.ledger.wiring``; the trades feature adds its cross-check against the trades
table). Registering a name twice is an error. A problem makes the report fail; info lines are
context.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import func, select, text

from carbon.ledger.models import (
    HOLDER_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
)
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage

MAX_LISTED = 20


@dataclass
class Section:
    name: str
    info: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(s.problems for s in self.sections)

    def render(self) -> str:
        out = []
        for s in self.sections:
            out.append(f"[{'FAIL' if s.problems else 'ok'}] {s.name}")
            out += [f"    {line}" for line in s.info]
            shown = s.problems[:MAX_LISTED]
            out += [f"    MISMATCH: {line}" for line in shown]
            if len(s.problems) > len(shown):
                out.append(f"    ... and {len(s.problems) - len(shown)} more")
        out.append("ledger OK" if self.ok else "ledger MISMATCH")
        return "\n".join(out)


CheckFunc = Callable[[Section], None]
_EXTENSION = "reloop.ledger_checks"


def register_check(app: Flask, name: str, func: CheckFunc) -> None:
    """Add a check to ``app``'s verify-ledger run (it adds ``info`` and ``problems`` to the
    section it is given)."""
    checks = app.extensions.setdefault(_EXTENSION, {})
    if name in checks:
        raise ValueError(f"two ledger checks named {name!r}")
    checks[name] = func


def checks(app: Flask | None = None) -> dict[str, CheckFunc]:
    return (app or current_app).extensions.get(_EXTENSION, {})


def run(names: list[str] | None = None) -> Report:
    report = Report()
    for name, run_check in checks().items():
        if names and name not in names:
            continue
        section = Section(name)
        run_check(section)
        report.sections.append(section)
    db.session.rollback()
    return report


def transactions_sum_to_zero(section: Section) -> None:
    sums = (select(LedgerLine.transaction_id.label("tx"),
                   func.sum(LedgerLine.amount_g).label("total"),
                   func.count().label("n"))
            .group_by(LedgerLine.transaction_id).subquery())
    bad = db.session.execute(
        select(LedgerTransaction.id, LedgerTransaction.idempotency_key, sums.c.total, sums.c.n)
        .outerjoin(sums, sums.c.tx == LedgerTransaction.id)
        .where((sums.c.n.is_(None)) | (sums.c.n < 2) | (sums.c.total != 0))
        .order_by(LedgerTransaction.id)).all()
    count = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    section.info.append(f"{count} transactions")
    section.problems += [f"transaction {i} ({key}): {n or 0} lines summing to {total or 0} g"
                         for i, key, total, n in bad]


def balances_match_lines(section: Section) -> None:
    sums = (select(LedgerLine.account_id.label("acct"),
                   func.sum(LedgerLine.amount_g).label("total"))
            .group_by(LedgerLine.account_id).subquery())
    rows = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.kind,
               LedgerAccount.balance_g, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.acct == LedgerAccount.id)).all()
    users_total = issuance_total = 0
    for acct_id, code, kind, cached, total in rows:
        if kind in HOLDER_KINDS:  # users and organisations
            users_total += total
        elif kind == AccountKind.ISSUANCE.value:
            issuance_total += total
        if cached is not None and cached != total:
            section.problems.append(f"account {acct_id} ({code}): cached {cached} g, "
                                    f"lines sum to {total} g")
    section.info.append(f"{len(rows)} accounts; users and organisations hold {users_total} g, "
                        f"issuance "
                        f"{issuance_total} g (derived from its lines, not cached)")
    if users_total + issuance_total != 0:
        section.problems.append(f"user balances ({users_total} g) and issuance "
                                f"({issuance_total} g) do not cancel out")


def expected_from_outbox() -> tuple[dict[int, int], int]:
    """Net grams each trade should have credited to users, recomputed from the processed
    ``trade.completed`` / ``trade.refunded`` records; and how many completions are pending."""
    credit: dict[int, int] = {}
    refunds: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    rows = db.session.execute(
        select(OutboxMessage.topic, OutboxMessage.payload)
        .where(OutboxMessage.topic.in_(["trade.completed", "trade.refunded"]),
               OutboxMessage.processed_at.is_not(None))
        .order_by(OutboxMessage.id))
    for topic, p in rows:
        if topic == "trade.completed":
            credit.setdefault(int(p["trade_id"]), int(p["avoided_g"]))
        else:
            refunds[int(p["trade_id"])].setdefault(
                str(p["refund_id"]), (int(p["refunded_amount"]), int(p["trade_amount"])))
    expected = {}
    for trade_id, grams in credit.items():
        reversed_g = 0
        if refunds.get(trade_id):
            amounts = list(refunds[trade_id].values())
            trade_amount = amounts[-1][1]
            refunded = min(sum(r for r, _ in amounts), trade_amount)
            reversed_g = (grams * refunded * 2 + trade_amount) // (2 * trade_amount)
        expected[trade_id] = grams - reversed_g
    pending = db.session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.topic == "trade.completed", OutboxMessage.processed_at.is_(None)))
    return expected, pending or 0


def credits_match_trades(section: Section) -> None:
    expected, pending = expected_from_outbox()
    actual = dict(db.session.execute(
        select(LedgerTransaction.trade_id, func.sum(LedgerLine.amount_g))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.kind.in_(HOLDER_KINDS),
               LedgerTransaction.trade_id.is_not(None))
        .group_by(LedgerTransaction.trade_id)).all())
    section.info.append(
        f"{len(expected)} completed trades processed, {pending} waiting in the outbox; "
        f"expected {sum(expected.values())} g, credited {sum(actual.values())} g")
    for trade_id in sorted(set(expected) | set(actual)):
        want, got = expected.get(trade_id), actual.get(trade_id)
        if want is None:
            section.problems.append(f"trade {trade_id}: {got} g credited with no completed "
                                    "trade record")
        elif want != (got or 0):
            section.problems.append(f"trade {trade_id}: expected {want} g, credited {got or 0} g")


def immutability_triggers(section: Section) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        section.info.append("not PostgreSQL: no triggers to check")
        return
    found = set(db.session.scalars(text(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'ledger_%'")))
    for name in ("ledger_transactions_immutable", "ledger_lines_immutable",
                 "ledger_accounts_identity"):
        if name not in found:
            section.problems.append(f"trigger {name} is missing")
    section.info.append(f"{len(found)} ledger triggers in place")


LEDGER_CHECKS: tuple[tuple[str, CheckFunc], ...] = (
    ("every transaction has two or more lines summing to zero", transactions_sum_to_zero),
    ("cached balances equal the sum of each account's lines", balances_match_lines),
    ("credits to users equal the processed trade records net of refunds", credits_match_trades),
    ("journal tables are append-only", immutability_triggers),
)
