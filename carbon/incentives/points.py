"""The points ledger: double-entry, integer points, idempotent like the carbon ledger.

Each posting is one transaction with lines summing to zero and a unique idempotency key
(``INSERT … ON CONFLICT DO NOTHING``: posting twice inserts nothing). Issuance draws from
``system:points-issuance``; redemptions pay ``system:points-redeemed``. A user's balance is
cached on its account row, updated in the same transaction, and the row is the per-user lock
taken by evaluation and redemption (``FOR UPDATE``), so concurrent redemptions never overspend.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow

from .bulk import document, source
from .models import PointsAccount, PointsLine, PointsTransaction

ISSUANCE = "system:points-issuance"
REDEEMED = "system:points-redeemed"


def _insert(model):
    pg = db.session.get_bind().dialect.name == "postgresql"
    return (postgresql.insert if pg else sqlite.insert)(model)


def insert_returning(table: Table, rows: list[dict[str, Any]], conflict: list[str],
                     returning: list[str]) -> list[Any]:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING`` of many rows (same keys): on
    PostgreSQL one statement with the rows as one JSON document (``bulk.source``: one
    parameter whatever the row count, nothing per row to render); elsewhere an
    executemany. The inserted rows only, in no guaranteed order."""
    if not rows:
        return []
    cols = list(rows[0])
    if db.session.get_bind().dialect.name != "postgresql":
        return db.session.execute(
            _insert(table).on_conflict_do_nothing(index_elements=conflict)
            .returning(*(table.c[c] for c in returning)), rows).all()
    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM "
           f"{source(table)} ON CONFLICT ({', '.join(conflict)}) DO NOTHING "
           f"RETURNING {', '.join(returning)}")
    return db.session.execute(text(sql), {"doc": document(rows)}).all()


def _ensure(code: str, user_id: int | None) -> int:
    account_id = db.session.scalar(select(PointsAccount.id).where(PointsAccount.code == code))
    if account_id is None:
        db.session.execute(_insert(PointsAccount).values(
            code=code, user_id=user_id, balance=0, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["code"]))
        account_id = db.session.scalar(
            select(PointsAccount.id).where(PointsAccount.code == code))
    return account_id


def user_account_id(user_id: int) -> int:
    return _ensure(f"user:{user_id}", user_id)


def lock_user(user_id: int) -> PointsAccount:
    """The user's points account, created if needed and locked until commit (PostgreSQL)."""
    account_id = user_account_id(user_id)
    return db.session.scalars(select(PointsAccount).where(PointsAccount.id == account_id)
                              .with_for_update()
                              .execution_options(populate_existing=True)).one()


def balance(user_id: int) -> int:
    return db.session.scalar(
        select(PointsAccount.balance).where(PointsAccount.user_id == user_id)) or 0


def post(key: str, kind: str, user_id: int, amount: int, meta: dict[str, Any]) -> int | None:
    """Add ``amount`` (negative: take) to the user's points against the matching system
    account; return the transaction id, or None when ``key`` was already posted."""
    if amount == 0:
        return None
    inserted = db.session.execute(
        _insert(PointsTransaction).values(idempotency_key=key, kind=kind, meta=meta,
                                          created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(PointsTransaction.id)).scalar()
    if inserted is None:
        return None
    user_acct = user_account_id(user_id)
    system = _ensure(REDEEMED if kind == "redemption" else ISSUANCE, None)
    db.session.execute(PointsLine.__table__.insert(), [
        {"transaction_id": inserted, "account_id": user_acct, "amount": amount},
        {"transaction_id": inserted, "account_id": system, "amount": -amount}])
    db.session.execute(update(PointsAccount).where(PointsAccount.id == user_acct)
                       .values(balance=PointsAccount.balance + amount))
    return inserted


def post_many(postings: list[tuple[str, int, int, dict[str, Any]]], issuance_id: int) -> int:
    """Bulk ``post`` of issuance rewards, ``(key, user account id, points, meta)`` each (the
    accounts locked by the caller): ``INSERT … ON CONFLICT DO NOTHING RETURNING`` of the
    transactions (``insert_returning``), then their lines and the balances they change (one
    statement on PostgreSQL; elsewhere balances updated in account-id order). Keys already
    posted are skipped; return how many were posted."""
    now = utcnow()
    tx_ids = {key: tx for tx, key in insert_returning(
        PointsTransaction.__table__,
        [{"idempotency_key": key, "kind": "reward", "meta": meta, "created_at": now}
         for key, _, _, meta in postings], ["idempotency_key"], ["id", "idempotency_key"])}
    lines, delta = [], defaultdict(int)
    for key, account, amount, _ in postings:
        if key in tx_ids:
            lines += [{"transaction_id": tx_ids[key], "account_id": account, "amount": amount},
                      {"transaction_id": tx_ids[key], "account_id": issuance_id,
                       "amount": -amount}]
            delta[account] += amount
    if lines and db.session.get_bind().dialect.name == "postgresql":
        # One statement: the lines, and the balances they change (rows the caller locked).
        db.session.execute(text(
            "WITH l AS (INSERT INTO points_lines (transaction_id, account_id, amount) "
            "SELECT * FROM unnest(CAST(:t AS BIGINT[]), CAST(:a AS BIGINT[]), "
            "CAST(:m AS BIGINT[])) RETURNING account_id, amount) "
            "UPDATE points_accounts AS p SET balance = p.balance + d.total FROM "
            "(SELECT account_id, sum(amount) AS total FROM l WHERE account_id <> :sys "
            "GROUP BY account_id) AS d WHERE p.id = d.account_id"),
            {"t": [r["transaction_id"] for r in lines], "a": [r["account_id"] for r in lines],
             "m": [r["amount"] for r in lines], "sys": issuance_id})
    elif lines:
        db.session.execute(PointsLine.__table__.insert(), lines)
        table = PointsAccount.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("aid"))
                           .values(balance=table.c.balance + bindparam("d")),
                           [{"aid": a, "d": d} for a, d in sorted(delta.items())])
    return len(tx_ids)


def verify() -> list[str]:
    """Problems found: transactions not summing to zero, cached balances off their lines."""
    problems = []
    for tx_id, total in db.session.execute(
            select(PointsLine.transaction_id, func.sum(PointsLine.amount))
            .group_by(PointsLine.transaction_id).having(func.sum(PointsLine.amount) != 0)):
        problems.append(f"points transaction {tx_id} sums to {total}")
    sums = dict(db.session.execute(select(PointsLine.account_id, func.sum(PointsLine.amount))
                                   .group_by(PointsLine.account_id)).all())
    for acct in db.session.scalars(select(PointsAccount).where(
            PointsAccount.user_id.is_not(None))):
        if acct.balance != (sums.get(acct.id) or 0):
            problems.append(f"points account {acct.code}: cached {acct.balance}, "
                            f"lines {sums.get(acct.id) or 0}")
    return problems


def check(section: Any) -> None:
    """verify-ledger's check of the points ledger (registered by the incentives feature)."""
    problems = verify()
    section.problems.extend(problems)
    count = db.session.scalar(select(func.count()).select_from(PointsTransaction)) or 0
    section.info.append(f"{count} points transactions")
