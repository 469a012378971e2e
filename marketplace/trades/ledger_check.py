"""verify-ledger's trade cross-check, against the trades table.

Registered by the trades feature beside the ledger's own checks (which recompute from the
processed outbox records alone): for every trade that reached ``completed``, the users'
credit must equal its frozen central avoided grams net of its refunds (before completion too:
they are reversed when it completes; cumulative refunded share, rounded half up, as the
ledger posts it). Trades whose ``trade.completed`` / ``trade.refunded``
records are still pending are reported as waiting, not as mismatches. Credits for trade ids
absent from the trades table (records written by other means, e.g. imports) are checked
against their outbox records as before; with neither, they are a mismatch.
"""

from __future__ import annotations

from sqlalchemy import func, select

from carbon.ledger import verify
from carbon.ledger.models import HOLDER_KINDS, LedgerAccount, LedgerLine, LedgerTransaction
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from marketplace.trades.models import REFUNDS_KEEPING_CREDIT, Trade, TradeRefund

NAME = "credits to users equal completed trades' avoided emissions net of refunds"


def expected_from_trades() -> dict[int, int]:
    refunded = dict(db.session.execute(
        select(TradeRefund.trade_id, func.sum(TradeRefund.amount))
        .where(TradeRefund.reason.not_in(REFUNDS_KEEPING_CREDIT))  # the credit stays whole
        .group_by(TradeRefund.trade_id)).all())
    expected = {}
    for trade_id, grams, amount in db.session.execute(  # refunds are out of what was charged
            select(Trade.id, Trade.avoided_g, Trade.amount - Trade.discount_amount)
            .where(Trade.completed_at.is_not(None))):
        share = min(int(refunded.get(trade_id) or 0), amount)
        expected[trade_id] = grams - (grams * share * 2 + amount) // (2 * amount)
    return expected


def pending_trade_ids() -> set[int]:
    return {int(p["trade_id"]) for p in db.session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.topic.in_(["trade.completed", "trade.refunded"]),
               OutboxMessage.processed_at.is_(None)))}


def credits_match_trades_table(section: verify.Section) -> None:
    from_trades = expected_from_trades()
    from_outbox, _ = verify.expected_from_outbox()
    waiting = pending_trade_ids()
    actual = dict(db.session.execute(
        select(LedgerTransaction.trade_id, func.sum(LedgerLine.amount_g))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.kind.in_(HOLDER_KINDS),  # users and organisations
               LedgerTransaction.trade_id.is_not(None))
        .group_by(LedgerTransaction.trade_id)).all())
    existing = set(db.session.scalars(select(Trade.id)))
    expected = {t: g for t, g in from_outbox.items() if t not in existing}
    expected.update(from_trades)
    checked = {t for t in set(expected) | set(actual) if t not in waiting}
    want_total = sum(expected.get(t, 0) for t in checked)
    got_total = sum(int(actual.get(t) or 0) for t in checked)
    section.info.append(
        f"{len(from_trades)} completed trades in the trades table, "
        f"{len(from_outbox)} completed trades processed, {len(waiting)} waiting in the "
        f"outbox; expected {want_total} g, credited {got_total} g")
    for trade_id in sorted(checked):
        want, got = expected.get(trade_id), int(actual.get(trade_id) or 0)
        if want is None:
            section.problems.append(f"trade {trade_id}: {got} g credited with no completed "
                                    "trade")
        elif want != got:
            section.problems.append(f"trade {trade_id}: expected {want} g, credited {got} g")
        elif trade_id in from_trades and trade_id in from_outbox \
                and from_outbox[trade_id] != want:
            section.problems.append(f"trade {trade_id}: outbox records say "
                                    f"{from_outbox[trade_id]} g, the trades table {want} g")
