"""Set-based ledger writes: one statement per kind of row for a whole batch.

On PostgreSQL rows travel as arrays (``unnest``), so a batch of trades is a handful of
round trips; elsewhere (SQLite, the embedded mode) plain multi-row statements do the same job.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from carbon.ledger.models import (
    ISSUANCE_CODE,
    AccountKind,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
)
from marketplace.core.db import db
from marketplace.core.dbtypes import json_dumps, utcnow

CHUNK = 1000


def _pg() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def pg_ints(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of integers (one text parameter instead of thousands)."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


# Holders of accounts: (owner column, account kind, code prefix).
_OWNERS = {"user": ("user_id", AccountKind.USER.value, "user:"),
           "organisation": ("organisation_id", AccountKind.ORGANISATION.value, "org:")}


def _pg_accounts_of(column: str):
    return text(f"SELECT {column}, id FROM ledger_accounts "
                f"WHERE {column} = ANY(CAST(:ids AS bigint[]))")


def _pg_create_accounts(column: str, kind: str, prefix: str):
    return text(f"""
    INSERT INTO ledger_accounts (code, kind, {column}, balance_g, created_at)
    SELECT '{prefix}' || u, '{kind}', u, 0, :now
    FROM unnest(CAST(:ids AS bigint[])) AS u ORDER BY u
    ON CONFLICT (code) DO NOTHING
""")


def upsert_ignore(model, rows: list[dict[str, Any]], *keys: str):
    """``INSERT … ON CONFLICT DO NOTHING`` with the rows in its VALUES (a batch's chunk; it
    can take ``.returning``). Compiled again for every call: per request, ``insert_ignore``."""
    return _insert_ignore(model.__table__, keys, _pg()).values(rows)


def insert_ignore(model, rows: list[dict[str, Any]], *keys: str) -> None:
    """Insert ``rows`` into ``model``'s table, skipping those whose ``keys`` already exist:
    the per-request form of ``upsert_ignore``. The statement is built and compiled once per
    table and keys and the rows are its parameters; a statement with the rows in its VALUES
    is compiled again for every call (about a third of a trade completion's CPU)."""
    if rows:  # (no rows: SQLAlchemy would run the statement once, without parameters)
        db.session.execute(_insert_ignore(model.__table__, keys, _pg()), rows)


@functools.cache
def _insert_ignore(table, keys: tuple[str, ...], pg: bool):
    ins = (postgresql.insert if pg else sqlite.insert)(table)
    return ins.on_conflict_do_nothing(index_elements=list(keys))


def ensure_user_accounts(user_ids: Iterable[int]) -> dict[int, int]:
    """Ledger account id for each user, creating the missing ones (in user id order, so two
    workers creating the same accounts wait for each other instead of deadlocking).

    On PostgreSQL the accounts are created and committed apart from the posting transaction
    (an empty account is harmless, even if the posting then rolls back); on SQLite, which
    has one writer, inside it.
    """
    return _ensure_accounts("user", user_ids)


def ensure_org_accounts(organisation_ids: Iterable[int]) -> dict[int, int]:
    """``ensure_user_accounts`` for organisations' accounts (``org:<id>``)."""
    return _ensure_accounts("organisation", organisation_ids)


def _ensure_accounts(owner: str, owner_ids: Iterable[int]) -> dict[int, int]:
    column, kind, prefix = _OWNERS[owner]
    col = getattr(LedgerAccount, column)
    wanted = sorted(set(owner_ids))
    if not wanted:
        return {}
    if _pg():
        query = _pg_accounts_of(column)
        found = dict(db.session.execute(query, {"ids": pg_ints(wanted)}).all())
        missing = [u for u in wanted if u not in found]
        if missing:
            # In a short transaction of its own, committed at once: a worker creating the
            # same account waits for that, not for this batch's whole transaction.
            with db.engine.connect() as conn:
                conn.execute(_pg_create_accounts(column, kind, prefix),
                             {"ids": pg_ints(missing), "now": utcnow()})
                conn.commit()
            found.update(db.session.execute(query, {"ids": pg_ints(missing)}).all())
        return found
    found = dict(db.session.execute(
        select(col, LedgerAccount.id).where(col.in_(wanted))).all())
    missing = [u for u in wanted if u not in found]
    if missing:
        now = utcnow()
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            db.session.execute(upsert_ignore(LedgerAccount, [
                {"code": f"{prefix}{u}", "kind": kind, column: u,
                 "balance_g": 0, "created_at": now} for u in chunk], "code"))
        found.update(db.session.execute(
            select(col, LedgerAccount.id).where(col.in_(missing))).all())
    return found


def issuance_account_id() -> int:
    """The issuance account (created on first use). Its balance is derived, never cached."""
    account_id = db.session.scalar(
        select(LedgerAccount.id).where(LedgerAccount.code == ISSUANCE_CODE))
    if account_id is None:
        db.session.execute(upsert_ignore(LedgerAccount, [{
            "code": ISSUANCE_CODE, "kind": AccountKind.ISSUANCE.value, "user_id": None,
            "balance_g": None, "created_at": utcnow()}], "code"))
        account_id = db.session.scalar(
            select(LedgerAccount.id).where(LedgerAccount.code == ISSUANCE_CODE))
    return account_id


# The rows travel as one JSON document: one parameter, parsed by the server in C.
_PG_INSERT_TRANSACTIONS = text("""
    INSERT INTO ledger_transactions (idempotency_key, kind, trade_id, meta, occurred_at, posted_at)
    SELECT r.k, r.kind, r.t, r.m, r.o, :posted
    FROM json_to_recordset(CAST(:rows AS json)) AS r(k text, kind text, t bigint, m json,
                                                     o timestamptz)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING idempotency_key, id
""")


def insert_transactions(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert journal transactions whose key is new; return {key: id} of those inserted.

    ``ON CONFLICT (idempotency_key) DO NOTHING``: a key already written (by this batch, an
    earlier one or a concurrent worker) is skipped by the unique constraint itself.
    """
    if not rows:
        return {}
    now = utcnow()
    inserted: dict[str, int] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        if _pg():
            payload = json_dumps([
                {"k": r["idempotency_key"], "kind": r["kind"], "t": r.get("trade_id"),
                 "m": r.get("meta") or {}, "o": r["occurred_at"].isoformat()} for r in chunk])
            result = db.session.execute(_PG_INSERT_TRANSACTIONS, {"posted": now, "rows": payload})
        else:
            result = db.session.execute(
                upsert_ignore(LedgerTransaction, [{**r, "posted_at": now} for r in chunk],
                               "idempotency_key")
                .returning(LedgerTransaction.idempotency_key, LedgerTransaction.id))
        inserted.update((key, tx_id) for key, tx_id in result)
    return inserted


_PG_INSERT_LINES = text("""
    INSERT INTO ledger_lines (transaction_id, account_id, amount_g)
    SELECT * FROM unnest(CAST(:tx AS bigint[]), CAST(:acct AS bigint[]), CAST(:amt AS bigint[]))
""")


def insert_lines(lines: list[tuple[int, int, int]]) -> None:
    """Insert (transaction_id, account_id, amount_g) lines."""
    for start in range(0, len(lines), CHUNK * 3):
        chunk = lines[start:start + CHUNK * 3]
        if _pg():
            db.session.execute(_PG_INSERT_LINES, {
                "tx": pg_ints(t for t, _, _ in chunk), "acct": pg_ints(a for _, a, _ in chunk),
                "amt": pg_ints(m for _, _, m in chunk)})
        else:
            db.session.execute(insert(LedgerLine).values([
                {"transaction_id": t, "account_id": a, "amount_g": m} for t, a, m in chunk]))


_PG_LOCK_ACCOUNTS = text("""
    SELECT id FROM ledger_accounts WHERE id = ANY(CAST(:ids AS bigint[]))
    ORDER BY id FOR NO KEY UPDATE
""")
_PG_ADD_TO_BALANCES = text("""
    UPDATE ledger_accounts AS a SET balance_g = a.balance_g + d.delta
    FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS d(id, delta)
    WHERE a.id = d.id AND a.balance_g IS NOT NULL
""")


def add_to_balances(deltas: Mapping[int, int]) -> None:
    """Add each delta to its account's cached balance.

    The rows are locked first in account id order: two workers whose batches share accounts
    queue up on the first shared row instead of deadlocking. ``FOR NO KEY UPDATE`` does not
    block the key-share locks that inserting lines (foreign keys) takes on the same rows.
    """
    ids = sorted(a for a, d in deltas.items() if d)
    if not ids:
        return
    if _pg():
        db.session.execute(_PG_LOCK_ACCOUNTS, {"ids": pg_ints(ids)})
        db.session.execute(_PG_ADD_TO_BALANCES,
                           {"ids": pg_ints(ids), "deltas": pg_ints(deltas[a] for a in ids)})
        return
    db.session.execute(
        update(LedgerAccount.__table__)
        .where(LedgerAccount.__table__.c.id == bindparam("aid"),
               LedgerAccount.__table__.c.balance_g.is_not(None))
        .values(balance_g=LedgerAccount.__table__.c.balance_g + bindparam("delta")),
        [{"aid": a, "delta": deltas[a]} for a in ids])


def as_utc(value: str | None, default: datetime) -> datetime:
    """Parse an ISO timestamp from a payload (naive means UTC); ``default`` when absent."""
    if not value:
        return default
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
