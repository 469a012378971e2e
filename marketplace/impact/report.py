"""An organisation's procurement impact report: devices bought and sold for it over a period.

Counted: trades whose buyer (bought) or seller (sold) acted for the organisation and that
completed in ``[from, to)``, less those refunded in full. Figures per device are the trade's
frozen estimate (the whole device, as procurement frameworks count devices): avoided CO2e
low / central / high (the bounds are sums of per-device bounds: conservative, not a
percentile of the total), e-waste and raw materials avoided; spend is what was paid (bought)
or received (sold) net of refunds, per currency. The organisation's ledger credit (its share
of each trade, net of reversals) is ``credited_g``. Channel: ``refurbished`` listings vs
peer-to-peer (``parcel``, ``local_pickup``).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import Response
from sqlalchemy import func, or_, select

from carbon.ledger.models import LedgerLine, LedgerTransaction
from carbon.ledger.services import default_range, org_account_of
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput
from marketplace.core.money_schemas import money
from marketplace.organisations import services as organisations
from marketplace.organisations.models import Organisation
from marketplace.trades.models import Trade

REFURBISHED = "refurbished"
DIRECTIONS = ("bought", "sold")


def _empty() -> dict[str, Any]:
    return {"count": 0, "spend": defaultdict(int), "low": 0.0, "central": 0.0, "high": 0.0,
            "ewaste_g": 0, "materials_kg": 0.0, "refurbished": 0, "peer_to_peer": 0,
            "versions": set()}


def _add(cell: dict[str, Any], trade: Trade, paid: int) -> None:
    snap = trade.footprint_snapshot or {}
    avoided = snap.get("avoided_kgco2e") or {}
    cell["count"] += 1
    cell["spend"][trade.currency.upper()] += paid
    for bound in ("low", "central", "high"):
        cell[bound] += float(avoided.get(bound) or 0)
    cell["ewaste_g"] += int((snap.get("ewaste_avoided_g") or {}).get("central") or 0)
    cell["materials_kg"] += float((snap.get("materials_avoided_kg") or {}).get("central") or 0)
    cell["refurbished" if snap.get("channel") == REFURBISHED else "peer_to_peer"] += 1
    if snap.get("methodology_version"):
        cell["versions"].add(snap["methodology_version"])


def _present(cell: dict[str, Any]) -> dict[str, Any]:
    n = cell["count"]
    return {
        "count": n,
        "spend": [money(a, c) for c, a in sorted(cell["spend"].items())],
        "avoided_kgco2e": {b: round(cell[b], 3) for b in ("low", "central", "high")},
        "ewaste_avoided_g": cell["ewaste_g"],
        "materials_avoided_kg": round(cell["materials_kg"], 3),
        "refurbished": cell["refurbished"], "peer_to_peer": cell["peer_to_peer"],
        "share_refurbished": round(cell["refurbished"] / n, 4) if n else None,
    }


def build(org: Organisation, start: datetime, end: datetime) -> dict[str, Any]:
    if start >= end:
        raise InvalidInput("`from` must be before `to`.", {"from": ["Must be before `to`."]})
    trades = db.session.scalars(select(Trade).where(
        or_(Trade.buyer_organisation_id == org.id, Trade.seller_organisation_id == org.id),
        Trade.completed_at.is_not(None), Trade.completed_at >= start,
        Trade.completed_at < end).order_by(Trade.id))
    totals = {d: _empty() for d in DIRECTIONS}
    cats: dict[str, dict[str, dict[str, Any]]] = {d: defaultdict(_empty) for d in DIRECTIONS}
    rows: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
        d: defaultdict(_empty) for d in DIRECTIONS}  # by (category, currency): the CSV rows
    versions: set[str] = set()
    for trade in trades:
        if trade.refunded_amount >= trade.amount_charged > 0:
            continue  # refunded in full: the device went back
        for direction, org_id, paid in (
                ("bought", trade.buyer_organisation_id,
                 trade.amount_charged - trade.refunded_amount),
                ("sold", trade.seller_organisation_id,
                 trade.amount - trade.at_price(trade.refunded_amount))):
            if org_id == org.id:
                _add(totals[direction], trade, paid)
                _add(cats[direction][trade.category], trade, paid)
                _add(rows[direction][(trade.category, trade.currency.upper())], trade, paid)
        versions |= {(trade.footprint_snapshot or {}).get("methodology_version")} - {None}
    out: dict[str, Any] = {"organisation_id": org.id, "organisation_name": org.name,
                           "from": start, "to": end}
    for d in DIRECTIONS:
        out[d] = {**_present(totals[d]), "by_category": [
            {"category": c, **_present(cell)} for c, cell in sorted(cats[d].items())]}
    out["credited_g"] = credited_g(org.id, start, end)
    out["methodology_versions"] = sorted(versions)
    out["_rows"] = rows
    return out


def credited_g(org_id: int, start: datetime, end: datetime) -> int:
    """The organisation's net ledger credit over the period (credits less reversals)."""
    account = org_account_of(org_id)
    if account is None:
        return 0
    return int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_g), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerLine.account_id == account.id, LedgerTransaction.occurred_at >= start,
               LedgerTransaction.occurred_at < end)) or 0)


# ---- CSV ----------------------------------------------------------------------------------
CSV_COLUMNS = ("organisation", "from", "to", "direction", "category", "currency", "count",
               "spend_minor_units", "avoided_kgco2e_low", "avoided_kgco2e_central",
               "avoided_kgco2e_high", "ewaste_avoided_g", "materials_avoided_kg",
               "refurbished", "peer_to_peer", "methodology_versions")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: Any) -> Any:
    """A spreadsheet-safe cell: text that a spreadsheet would read as a formula (starting
    with = + - @, tab or a line break) is prefixed with an apostrophe (OWASP's guard against
    CSV injection); numbers are left as numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(report: dict[str, Any]) -> str:
    """One row per direction, category and currency; UTF-8 with a byte-order mark and CRLF
    line ends (what spreadsheets expect)."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for direction in DIRECTIONS:
        for (category, currency), c in sorted(report["_rows"][direction].items()):
            row = (report["organisation_name"], report["from"].isoformat(),
                   report["to"].isoformat(), direction, category, currency, c["count"],
                   c["spend"][currency], round(c["low"], 3), round(c["central"], 3),
                   round(c["high"], 3), c["ewaste_g"], round(c["materials_kg"], 3),
                   c["refurbished"], c["peer_to_peer"], " ".join(sorted(c["versions"])))
            writer.writerow([cell(v) for v in row])
    return "\ufeff" + buf.getvalue()


def render(org_id: int, user, start: datetime | None, end: datetime | None, fmt: str):
    """The report for a member of the organisation: a dict (JSON) or a CSV response."""
    org = organisations.require_member(org_id, user)
    d_start, d_end = default_range("month", utcnow())
    data = build(org, start or d_start, end or d_end)
    if fmt == "csv":
        name = f"reloop-impact-org{org.id}-{data['from']:%Y%m%d}-{data['to']:%Y%m%d}.csv"
        return Response(to_csv(data), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
    data.pop("_rows")
    return data
