"""Read side of the ledger for the API: account, entries, per-period summary."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, column, func, select, table

from carbon.ledger.equivalents import equivalents
from carbon.ledger.models import (
    EntryKind,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
    PendingCredit,
)
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput, NotFound
from marketplace.core.hotread import HotRead
from marketplace.core.http.pagination import decode_id, id_page

# The accounts feature's table, by name only: the ledger asks whether a user id exists and
# nothing else (carbon depends on the platform, not on marketplace features).
_USERS = table("users", column("id"))

MAX_SUMMARY_SPAN = timedelta(days=5 * 366)


def kg(grams: int) -> float:
    return round(grams / 1000, 3)


def account_of(user_id: int) -> LedgerAccount | None:
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.user_id == user_id))


def org_account_of(organisation_id: int) -> LedgerAccount | None:
    return db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.organisation_id == organisation_id))


def require_user(user_id: int) -> None:
    if db.session.scalar(select(_USERS.c.id).where(_USERS.c.id == user_id)) is None:
        raise NotFound("No such user.")


def _pending_query(user_id):
    credited = select(LedgerTransaction.id).where(
        LedgerTransaction.trade_id == PendingCredit.trade_id,
        LedgerTransaction.kind == EntryKind.CREDIT.value)
    return (select(func.coalesce(func.sum(PendingCredit.amount_g), 0))
            .where(PendingCredit.user_id == user_id, ~credited.exists()))


def pending_g(user_id: int) -> int:
    """The user's shares of completed trades whose credit is not posted yet (one indexed
    query on ``ledger_pending_credits``; a share whose credit is posted counts nothing)."""
    return int(db.session.scalar(_pending_query(user_id)) or 0)


def _account_statement():
    """Balance, credited trades and pending credit of ``:user_id``, as one statement: built
    once (building it per request cost more than running it)."""
    user_id = bindparam("user_id")
    account = select(LedgerAccount.id).where(LedgerAccount.user_id == user_id)
    balance = select(LedgerAccount.balance_g).where(LedgerAccount.user_id == user_id)
    credited = (select(func.count(func.distinct(LedgerTransaction.trade_id)))
                .select_from(LedgerLine).join(LedgerTransaction)
                .where(LedgerLine.account_id == account.scalar_subquery(),
                       LedgerTransaction.kind == EntryKind.CREDIT.value))
    return select(balance.scalar_subquery().label("balance_g"),
                  credited.scalar_subquery().label("credited_trades"),
                  _pending_query(user_id).scalar_subquery().label("pending_g"))


_ACCOUNT = HotRead(_account_statement())


def account_view(user_id: int) -> dict[str, Any]:
    """Balance, credited trades and pending credit, read in one statement (one round trip)."""
    row = _ACCOUNT.first(user_id=user_id) or {}
    balance_g, credited_trades, pending = (int(row.get(k) or 0) for k in (
        "balance_g", "credited_trades", "pending_g"))
    return {"user_id": user_id, "balance_g": balance_g, "balance_kgco2e": kg(balance_g),
            "credited_trades": credited_trades, "pending_g": pending,
            "pending_kgco2e": kg(pending), "as_of": utcnow()}


def entries(user_id: int, cursor: str | None, limit: int) -> dict[str, Any]:
    """The account's lines, newest first: one page ``{items, next_cursor}`` (core pagination,
    keyset on the line id)."""
    account = account_of(user_id)
    if account is None:
        if cursor:
            decode_id(cursor)  # a malformed cursor is a 422 whether or not there are lines
        return {"items": [], "next_cursor": None}
    query = (select(LedgerLine.id, LedgerLine.amount_g, LedgerTransaction)
             .join(LedgerTransaction, LedgerLine.transaction_id == LedgerTransaction.id)
             .where(LedgerLine.account_id == account.id))
    page = id_page(query, LedgerLine.id, limit, cursor, scalars=False, key=lambda row: row[0])
    page["items"] = [{
        "id": line_id, "transaction_id": tx.id, "trade_id": tx.trade_id,
        "listing_id": tx.meta.get("listing_id"), "listing_title": tx.meta.get("listing_title"),
        "category": tx.meta.get("category"), "kind": tx.kind,
        "amount_g": amount, "amount_kgco2e": kg(amount),
        "occurred_at": tx.occurred_at, "posted_at": tx.posted_at,
    } for line_id, amount, tx in page["items"]]
    return page


def account_etag(view: dict[str, Any]) -> str:
    """A weak ETag of an account view: its figures, not ``as_of`` (read time), so it changes
    exactly when the balance, the credited trades or the pending share do."""
    figures = f"{view['user_id']}:{view['balance_g']}:{view['credited_trades']}:{view['pending_g']}"
    return f'W/"carbon-account-{hashlib.sha256(figures.encode()).hexdigest()[:20]}"'


def period_start(at: datetime, granularity: str) -> datetime:
    at = at.astimezone(UTC)
    if granularity == "week":
        day = at.date() - timedelta(days=at.weekday())
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def next_period(start: datetime, granularity: str) -> datetime:
    if granularity == "week":
        return start + timedelta(days=7)
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def default_range(granularity: str, now: datetime) -> tuple[datetime, datetime]:
    start = period_start(now, granularity)
    if granularity == "week":
        return start - timedelta(weeks=11), now
    month = start.month - 11
    return datetime(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC), now


def summary(user_id: int, start: datetime | None, end: datetime | None,
            granularity: str) -> dict[str, Any]:
    return summary_of(account_of(user_id), start, end, granularity)


def summary_of(account: LedgerAccount | None, start: datetime | None, end: datetime | None,
               granularity: str) -> dict[str, Any]:
    """``summary`` of any account (a user's or an organisation's; None: no lines yet)."""
    now = utcnow()
    d_start, d_end = default_range(granularity, now)
    start, end = start or d_start, end or d_end
    if start >= end:
        raise InvalidInput("`from` must be before `to`.", {"from": ["Must be before `to`."]})
    if end - start > MAX_SUMMARY_SPAN:
        raise InvalidInput("The range is too long.", {"to": ["At most 5 years after `from`."]})
    periods: dict[datetime, dict[str, Any]] = {}
    cursor = period_start(start, granularity)
    while cursor < end:
        periods[cursor] = {"start": max(cursor, start),
                           "end": min(next_period(cursor, granularity), end),
                           "credited_g": 0, "reversed_g": 0, "by_category": defaultdict(int)}
        cursor = next_period(cursor, granularity)
    totals: dict[str, int] = defaultdict(int)
    ewaste_g = materials_g = 0.0
    if account is not None:
        rows = db.session.execute(
            select(LedgerLine.amount_g, LedgerTransaction.kind, LedgerTransaction.occurred_at,
                   LedgerTransaction.meta)
            .join(LedgerTransaction, LedgerLine.transaction_id == LedgerTransaction.id)
            .where(LedgerLine.account_id == account.id,
                   LedgerTransaction.occurred_at >= start, LedgerTransaction.occurred_at < end)
        ).all()
        for amount, kind, occurred_at, meta in rows:
            period = periods[period_start(occurred_at, granularity)]
            # Credits of trades and of recycling count as credits; reversals apart.
            period["reversed_g" if kind == EntryKind.REVERSAL.value else "credited_g"] += amount
            category = meta.get("category") or "other"
            period["by_category"][category] += amount
            totals[category] += amount
            if meta.get("avoided_g"):  # this line's share of the trade's e-waste, materials
                share = amount / meta["avoided_g"]
                ewaste_g += share * (meta.get("ewaste_avoided_g") or 0)
                materials_g += share * (meta.get("materials_avoided_g") or 0)
    out = []
    for p in periods.values():
        net = p["credited_g"] + p["reversed_g"]
        out.append({**p, "reversed_g": -p["reversed_g"], "net_g": net, "net_kgco2e": kg(net),
                    "by_category": _categories(p["by_category"])})
    net = sum(totals.values())
    return {"from": start, "to": end, "granularity": granularity, "net_g": net,
            "net_kgco2e": kg(net), "ewaste_avoided_g": round(ewaste_g),
            "materials_avoided_kg": kg(round(materials_g)), "by_category": _categories(totals),
            "periods": out, "equivalents": equivalents(net)}


def _categories(grams: dict[str, int]) -> list[dict[str, Any]]:
    return [{"category": c, "net_g": g, "net_kgco2e": kg(g)}
            for c, g in sorted(grams.items(), key=lambda kv: (-kv[1], kv[0]))]
