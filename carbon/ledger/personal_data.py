"""The carbon ledger's share of data export (``core.personal_data``).

Nothing is erased: the ledger is immutable and its user accounts are keyed by user id
(``user:<id>``), which becomes pseudonymous when the account is closed. Lines and balances
stay, so every transaction still sums to zero and platform totals do not change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carbon.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction, PendingCredit
from marketplace.core.db import db

# Counterparties' ids are left out of the exported transaction details.
_OTHERS = ("buyer_id", "seller_id")


def export(user_id: int) -> dict[str, Any]:
    account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.user_id == user_id))
    entries = []
    if account is not None:
        rows = db.session.execute(
            select(LedgerLine.id, LedgerLine.amount_g, LedgerTransaction.kind,
                   LedgerTransaction.trade_id, LedgerTransaction.meta,
                   LedgerTransaction.occurred_at, LedgerTransaction.posted_at)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
            .where(LedgerLine.account_id == account.id).order_by(LedgerLine.id))
        entries = [{"id": r.id, "amount_g": r.amount_g, "kind": r.kind, "trade_id": r.trade_id,
                    "details": {k: v for k, v in (r.meta or {}).items() if k not in _OTHERS},
                    "occurred_at": r.occurred_at, "posted_at": r.posted_at} for r in rows]
    pending = db.session.scalars(select(PendingCredit).where(PendingCredit.user_id == user_id)
                                 .order_by(PendingCredit.id))
    return {
        "account": None if account is None else {
            "code": account.code, "balance_g": account.balance_g,
            "created_at": account.created_at},
        "entries": entries,
        "pending_credits": [{"trade_id": p.trade_id, "amount_g": p.amount_g,
                             "created_at": p.created_at} for p in pending],
    }
