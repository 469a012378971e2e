"""Seller payouts: bookkeeping rows, connected accounts, and the Stripe Transfer job.

``schedule_payout`` is called by the trades feature when a trade completes, in the trade's own
transaction: it writes the ``payouts`` row and an outbox record (``payout.requested``, queue
``payments``), so the payout exists if and only if the trade's completion committed. After
commit the outbox handler enqueues the ``transfer`` job (queue ``payments``):

- seller with a connected account → a Stripe Transfer (``transfer_group`` ``trade-<id>``,
  idempotency key ``payout-<id>-transfer``) and status ``transferred``;
- seller without one → status ``accrued``; setting a payout account later re-queues the
  seller's accrued payouts;
- Stripe unreachable → the row records the attempt and the job raises, so RQ retries it; the
  periodic ``reconcile`` re-enqueues payouts still ``pending`` after a grace period (also the
  retry path in embedded mode, where jobs run in-process without RQ retries);
- Stripe refuses (e.g. the account cannot receive transfers) → status ``failed`` with the
  error, for a human to look at.

The payout row is locked while its transfer is made, so two workers never both transfer it;
the Stripe idempotency key covers a worker that dies after Stripe answered.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from rq import Retry
from sqlalchemy import select, update

from marketplace.core import jobs, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.core.http.pagination import id_page
from marketplace.payments import stripe_client
from marketplace.payments.models import Payout, PayoutAccount, PayoutStatus
from marketplace.payments.stripe_client import PaymentProviderUnavailable, PaymentRejected

log = logging.getLogger("marketplace.payments.payouts")

TOPIC = "payout.requested"  # outbox topic: enqueue one payout's transfer
# Stripe down: retry over ~1.5 h; after that the periodic ``reconcile`` takes over.
TRANSFER_RETRY = Retry(max=6, interval=[10, 30, 120, 600, 1800, 3600])

ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,250}$")
CURRENCY = re.compile(r"^[a-z]{3}$")


def schedule_payout(trade_id: int, seller_id: int, amount: int, currency: str,
                    source_charge_id: str | None = None) -> Payout:
    """Add a payout of ``amount`` minor units for a trade to the current transaction.

    Does not commit. Idempotent per trade: calling it again with the same values returns the
    existing payout; with other values it raises ``Conflict``.
    """
    currency = currency.lower()
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"payout amount must be a positive integer, got {amount!r}")
    if not CURRENCY.match(currency):
        raise ValueError(f"bad currency {currency!r}")
    existing = db.session.scalar(select(Payout).where(Payout.trade_id == trade_id))
    if existing is not None:
        if (existing.seller_id, existing.amount, existing.currency) != (seller_id, amount,
                                                                          currency):
            raise Conflict(f"Trade {trade_id} already has a different payout.")
        return existing
    payout = Payout(trade_id=trade_id, seller_id=seller_id, amount=amount, currency=currency,
                    status=PayoutStatus.PENDING.value, source_charge_id=source_charge_id)
    db.session.add(payout)
    db.session.flush()
    outbox.write(TOPIC, {"payout_id": payout.id})
    return payout


def enqueue_transfer(message: outbox.OutboxMessage) -> None:
    """The ``payout.requested`` outbox handler: enqueue ``transfer`` on the payments queue.
    Raises if Redis is down: the outbox record stays unprocessed and is retried."""
    jobs.enqueue(transfer, message.payload["payout_id"], queue="payments",
                 retry=TRANSFER_RETRY)


def transfer(payout_id: int) -> str:
    """Pay out one pending payout; return its status afterwards. Commits.

    Raises ``PaymentProviderUnavailable`` (after recording the attempt) for the job to retry.
    """
    payout = db.session.scalars(
        select(Payout).where(Payout.id == payout_id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ).first()
    if payout is None:  # unknown, or another worker holds it
        db.session.rollback()
        return "skipped"
    if payout.status != PayoutStatus.PENDING.value:
        db.session.rollback()
        return payout.status
    account = db.session.scalar(
        select(PayoutAccount).where(PayoutAccount.user_id == payout.seller_id))
    if account is None:
        payout.status = PayoutStatus.ACCRUED.value
        db.session.commit()
        return payout.status
    payout.attempts += 1
    try:
        result = stripe_client.create_transfer(
            payout.amount, payout.currency, account.stripe_account_id,
            stripe_client.transfer_group(payout.trade_id), stripe_client.payout_key(payout.id),
            metadata={"payout_id": payout.id, "trade_id": payout.trade_id},
            source_transaction=payout.source_charge_id)
    except PaymentProviderUnavailable as exc:
        payout.last_error = f"provider unavailable: {exc.__cause__ or exc}"[:2000]
        db.session.commit()
        raise
    except PaymentRejected as exc:
        log.error("transfer for payout %s refused: %s", payout.id, exc.message)
        payout.status = PayoutStatus.FAILED.value
        payout.last_error = f"{exc.code or 'rejected'}: {exc.message}"[:2000]
        db.session.commit()
        return payout.status
    payout.status = PayoutStatus.TRANSFERRED.value
    payout.stripe_transfer_id = result.id
    payout.last_error = None
    db.session.commit()
    return payout.status


def reconcile(grace: timedelta, limit: int = 1000) -> int:
    """Re-enqueue transfers for payouts still pending ``grace`` after their last change."""
    cutoff = utcnow() - grace
    ids = db.session.scalars(
        select(Payout.id).where(Payout.status == PayoutStatus.PENDING.value,
                                Payout.updated_at < cutoff)
        .order_by(Payout.id).limit(limit)
    ).all()
    if not ids:
        return 0
    # Touch them so the next run waits another grace period.
    db.session.execute(update(Payout).where(Payout.id.in_(ids)).values(updated_at=utcnow()))
    db.session.commit()
    for payout_id in ids:
        try:
            jobs.enqueue(transfer, payout_id, queue="payments", retry=TRANSFER_RETRY)
        except Exception:
            log.warning("could not enqueue payout %s; next reconcile will", payout_id,
                        exc_info=True)
    return len(ids)


def set_payout_account(user_id: int, stripe_account_id: str) -> PayoutAccount:
    """Create or replace the user's connected account; re-queue their accrued payouts.
    Commits. Not reachable from the API: accounts come from Stripe Connect onboarding
    (``connect``); used by tools, the demo seed and tests."""
    account = assign_payout_account(user_id, stripe_account_id)
    db.session.commit()
    return account


def assign_payout_account(user_id: int, stripe_account_id: str) -> PayoutAccount:
    """``set_payout_account`` in the caller's transaction (a webhook handler's)."""
    stripe_account_id = stripe_account_id.strip()
    if not ACCOUNT_ID.match(stripe_account_id):
        raise InvalidInput("Not a Stripe connected account id.",
                           {"stripe_account_id": ["Expected acct_ followed by letters/digits."]})
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == user_id))
    if account is None:
        account = PayoutAccount(user_id=user_id, stripe_account_id=stripe_account_id)
        db.session.add(account)
    else:
        account.stripe_account_id = stripe_account_id
    accrued = db.session.scalars(
        select(Payout).where(Payout.seller_id == user_id,
                             Payout.status == PayoutStatus.ACCRUED.value)
        .with_for_update()
    ).all()
    for payout in accrued:
        payout.status = PayoutStatus.PENDING.value
        outbox.write(TOPIC, {"payout_id": payout.id})
    return account


def payout_account(user_id: int) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == user_id))


def payouts_of(user_id: int, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """A page of the seller's payouts, newest first by id (``pagination.id_page``)."""
    return id_page(select(Payout).where(Payout.seller_id == user_id), Payout.id, limit, cursor)


def balances(user_id: int) -> list[dict[str, Any]]:
    """Per currency: amounts accrued (owed, no account yet), pending and transferred."""
    rows = db.session.execute(
        select(Payout.currency, Payout.status, db.func.sum(Payout.amount))
        .where(Payout.seller_id == user_id).group_by(Payout.currency, Payout.status)
    ).all()
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"accrued": 0, "pending": 0, "transferred": 0, "failed": 0})
    for currency, status, total in rows:
        if status in totals[currency]:  # cancelled payouts are 0: not a balance
            totals[currency][status] = int(total or 0)
    return [{"currency": c.upper(), **v} for c, v in sorted(totals.items())]
