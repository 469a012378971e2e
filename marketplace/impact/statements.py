"""Signed carbon statements: an account's credited total over a period, signed with Ed25519.

The payload is canonical JSON (sorted keys, no spaces, ASCII) and is stored and returned as
the exact text signed, so anyone can check it offline against the published key. It states
the account (a person's or an organisation's), the period, the figures (credits, recycling
credits, reversals, net), the ledger range it covers (its first and last entry ids, and the
last journal transaction id when it was issued) and the methodology versions of the credits.

A statement never changes; what happened since shows when it is fetched again: ``status``
``revoked_key`` if its key was revoked, ``superseded`` if the account's lines in the period
now add up to something else (e.g. a refund reversed a credit), else ``valid``.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from carbon.ledger import bulk
from carbon.ledger.models import EntryKind, LedgerLine, LedgerTransaction
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput, NotFound
from marketplace.impact import signing
from marketplace.impact.models import CarbonStatement
from marketplace.organisations import services as organisations
from marketplace.organisations.models import ACTING_ROLES
from marketplace.trades.models import Trade

STATEMENT_TYPE = "reloop.carbon-statement"
FORMAT_VERSION = 1


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _account(user: User, organisation_id: int | None) -> tuple[str, int, int]:
    """(kind, owner id, ledger account id) of the account the caller may state."""
    if organisation_id is not None:
        organisations.require_member(organisation_id, user, ACTING_ROLES)
        return "organisation", organisation_id, bulk.ensure_org_accounts([organisation_id])[
            organisation_id]
    return "user", user.id, bulk.ensure_user_accounts([user.id])[user.id]


def _lines(account_id: int, start: datetime, end: datetime, up_to_tx: int | None):
    query = (select(LedgerLine.id, LedgerLine.amount_g, LedgerTransaction.id,
                    LedgerTransaction.kind, LedgerTransaction.trade_id, LedgerTransaction.meta)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
             .where(LedgerLine.account_id == account_id, LedgerTransaction.occurred_at >= start,
                    LedgerTransaction.occurred_at < end))
    if up_to_tx is not None:
        query = query.where(LedgerTransaction.id <= up_to_tx)
    return db.session.execute(query.order_by(LedgerLine.id)).all()


def figures(account_id: int, start: datetime, end: datetime,
            up_to_tx: int | None = None) -> dict[str, Any]:
    lines = _lines(account_id, start, end, up_to_tx)
    credited = recycled = reversed_ = 0
    trade_ids, recyclings, versions = set(), 0, set()
    for _, amount, _, kind, trade_id, meta in lines:
        if kind == EntryKind.REVERSAL.value:
            reversed_ -= amount
        elif kind == EntryKind.RECYCLING.value:
            recycled += amount
            recyclings += 1
            versions.add((meta or {}).get("methodology_version"))
        else:
            credited += amount
            trade_ids.add(trade_id)
    if trade_ids:
        versions |= {snap.get("methodology_version") for snap in db.session.scalars(
            select(Trade.footprint_snapshot).where(Trade.id.in_(sorted(trade_ids)))) if snap}
    return {
        "trade_credits_g": credited, "recycling_credits_g": recycled, "reversed_g": reversed_,
        "net_g": credited + recycled - reversed_, "credited_trades": len(trade_ids),
        "recycling_handovers": recyclings,
        "ledger": {"entries": len(lines),
                   "first_entry_id": lines[0][0] if lines else None,
                   "last_entry_id": lines[-1][0] if lines else None},
        "methodology_versions": sorted(v for v in versions if v),
    }


def issue(user: User, organisation_id: int | None, start: datetime, end: datetime
          ) -> dict[str, Any]:
    if start >= end:
        raise InvalidInput("`from` must be before `to`.", {"from": ["Must be before `to`."]})
    kind, owner_id, account_id = _account(user, organisation_id)
    last_tx = db.session.scalar(select(func.max(LedgerTransaction.id))) or 0
    body = figures(account_id, start, end, last_tx)
    statement_id = "cs_" + secrets.token_hex(16)
    payload = canonical({
        "type": STATEMENT_TYPE, "format": FORMAT_VERSION, "id": statement_id,
        "issuer": "Reloop", "issued_at": utcnow().isoformat(),
        "account": {"kind": kind, "id": owner_id},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "unit": "g CO2e", **body, "as_of_transaction_id": last_tx})
    kid, signature = signing.sign(payload)
    statement = CarbonStatement(id=statement_id, key_id=kid, account_id=account_id,
                                payload=payload, signature=signature, net_g=body["net_g"],
                                issued_by=user.id)
    db.session.add(statement)
    db.session.commit()
    return view(statement_id)


def view(statement_id: str) -> dict[str, Any]:
    """The statement as issued, with its current status (public: whoever holds the id)."""
    statement = db.session.get(CarbonStatement, statement_id)
    if statement is None:
        raise NotFound("No such statement.")
    data = json.loads(statement.payload)
    start = datetime.fromisoformat(data["period"]["from"])
    end = datetime.fromisoformat(data["period"]["to"])
    current = figures(statement.account_id, start, end)["net_g"]
    key_status = signing.key_status(statement.key_id)
    status = ("revoked_key" if key_status == "revoked"
              else "superseded" if current != statement.net_g else "valid")
    return {"id": statement.id, "key_id": statement.key_id, "payload": statement.payload,
            "signature": statement.signature, "status": status, "key_status": key_status,
            "superseded": current != statement.net_g, "current_net_g": current,
            "created_at": statement.created_at}
