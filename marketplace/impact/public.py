"""The public impact report: platform totals by month and device category, from the ledger.

Every figure is a sum of ledger lines on holders' accounts (users and organisations), so the
report adds up to the ledger. No personal data: cells only, and a cell (month x category)
whose lines come from fewer than ``IMPACT_MIN_USERS`` distinct accounts is suppressed (its
figures null). A month's total is shown only if its suppressed cells together involve at least
that many accounts (or none is suppressed), so that no suppressed cell can be read back as
total minus the visible cells; the grand total follows the same rule over the months.

Per cell: trade credits (count, net grams CO2e with a low-high range from the trades' frozen
estimates, e-waste and raw materials avoided, each at the line's share of its trade) and
recycling (handovers, grams credited with their range, materials recovered).

``from`` and ``to`` are widened to whole months (UTC; the response says which): a range cut
inside a month would let two requests a second apart isolate one account's credit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from carbon.ledger.models import (
    HOLDER_KINDS,
    EntryKind,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
)
from carbon.ledger.services import default_range, kg, next_period, period_start
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput
from marketplace.trades.models import Trade

MAX_SPAN = timedelta(days=5 * 366)
FIGURES = ("trade_credits", "net_g", "low_g", "high_g", "ewaste_avoided_g",
           "materials_avoided_g", "recycling_handovers", "recycling_g",
           "recycling_low_g", "recycling_high_g", "materials_recovered_g")


def _cell() -> dict[str, Any]:
    return {**dict.fromkeys(FIGURES, 0.0), "_accounts": set()}


def _rows(start: datetime, end: datetime):
    return db.session.execute(
        select(LedgerLine.account_id, LedgerLine.amount_g, LedgerTransaction.kind,
               LedgerTransaction.occurred_at, LedgerTransaction.trade_id, LedgerTransaction.meta)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.kind.in_(HOLDER_KINDS), LedgerTransaction.occurred_at >= start,
               LedgerTransaction.occurred_at < end)).all()


def _bounds(trade_ids: set[int]) -> dict[int, tuple[float, float]]:
    out = {}
    for trade_id, snap in db.session.execute(
            select(Trade.id, Trade.footprint_snapshot).where(Trade.id.in_(sorted(trade_ids)))):
        avoided = (snap or {}).get("avoided_kgco2e") or {}
        out[trade_id] = (float(avoided.get("low") or 0) * 1000,
                         float(avoided.get("high") or 0) * 1000)
    return out


def report(start: datetime | None, end: datetime | None) -> dict[str, Any]:
    d_start, d_end = default_range("month", utcnow())
    start, end = start or d_start, end or d_end
    if start >= end:
        raise InvalidInput("`from` must be before `to`.", {"from": ["Must be before `to`."]})
    if end - start > MAX_SPAN:
        raise InvalidInput("The range is too long.", {"to": ["At most 5 years after `from`."]})
    # Whole months only (the cells' unit): two ranges a second apart would otherwise differ by
    # one account's credit, whatever the suppression of small cells.
    start = period_start(start, "month")
    if period_start(end, "month") != end:
        end = next_period(period_start(end, "month"), "month")
    rows = _rows(start, end)
    bounds = _bounds({r[4] for r in rows if r[4] is not None})
    cells: dict[tuple[datetime, str], dict[str, Any]] = defaultdict(_cell)
    for account, amount, kind, at, trade_id, meta in rows:
        meta = meta or {}
        c = cells[(period_start(at, "month"), str(meta.get("category") or "other"))]
        c["_accounts"].add(account)
        whole = meta.get("avoided_g") or 0
        share = amount / whole if whole else 0.0
        if kind == EntryKind.RECYCLING.value:
            c["recycling_handovers"] += 1
            c["recycling_g"] += amount
            c["recycling_low_g"] += share * (meta.get("credit_low_g") or 0)
            c["recycling_high_g"] += share * (meta.get("credit_high_g") or 0)
            c["materials_recovered_g"] += meta.get("materials_recovered_g") or 0
            continue
        if kind == EntryKind.CREDIT.value:
            c["trade_credits"] += 1
        c["net_g"] += amount
        low, high = bounds.get(trade_id, (whole, whole))
        c["low_g"] += share * low
        c["high_g"] += share * high
        c["ewaste_avoided_g"] += share * (meta.get("ewaste_avoided_g") or 0)
        c["materials_avoided_g"] += share * (meta.get("materials_avoided_g") or 0)
    k = current_app.config["IMPACT_MIN_USERS"]
    months: dict[datetime, list] = defaultdict(list)
    for (month, category), c in sorted(cells.items()):
        months[month].append((category, c))
    out_months, month_cells = [], []
    for month, items in sorted(months.items()):
        total = _merge([c for _, c in items])
        hidden = [c for _, c in items if len(c["_accounts"]) < k]
        shown = _shown(hidden, k)
        month_cells.append((total, shown))
        out_months.append({
            "month": month.strftime("%Y-%m"),
            "total": _present(total) if shown else None,
            "categories": [{"category": cat, "suppressed": len(c["_accounts"]) < k,
                            **(_present(c) if len(c["_accounts"]) >= k else _nulls())}
                           for cat, c in items]})
    grand = _merge([t for t, _ in month_cells])
    grand_shown = _shown([t for t, shown in month_cells if not shown], k) and (
        not month_cells or len(grand["_accounts"]) >= k)
    return {"from": start.astimezone(UTC), "to": end.astimezone(UTC), "min_accounts": k,
            "total": _present(grand) if grand_shown else None, "months": out_months}


def _merge(cells: list[dict[str, Any]]) -> dict[str, Any]:
    out = _cell()
    for c in cells:
        for f in FIGURES:
            out[f] += c[f]
        out["_accounts"] |= c["_accounts"]
    return out


def _shown(hidden: list[dict[str, Any]], k: int) -> bool:
    """A total may be shown if what is hidden under it involves no account or k or more."""
    accounts = set().union(*(c["_accounts"] for c in hidden)) if hidden else set()
    return not hidden or len(accounts) >= k


def _present(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "trade_credits": int(c["trade_credits"]), "net_g": int(c["net_g"]),
        "net_kgco2e": kg(int(c["net_g"])),
        "range_g": {"low": round(c["low_g"]), "high": round(c["high_g"])},
        "ewaste_avoided_g": round(c["ewaste_avoided_g"]),
        "materials_avoided_kg": kg(round(c["materials_avoided_g"])),
        "recycling": {"handovers": int(c["recycling_handovers"]),
                      "credited_g": int(c["recycling_g"]),
                      "range_g": {"low": round(c["recycling_low_g"]),
                                  "high": round(c["recycling_high_g"])},
                      "materials_recovered_g": int(c["materials_recovered_g"])},
    }


def _nulls() -> dict[str, Any]:
    return {"trade_credits": None, "net_g": None, "net_kgco2e": None, "range_g": None,
            "ewaste_avoided_g": None, "materials_avoided_kg": None, "recycling": None}
