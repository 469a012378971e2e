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

No lock is held while Stripe is called: a job claims the payout (``pending`` →
``transferring``, committed), calls Stripe with no transaction open, and stores the outcome in
a second transaction. The claim keeps a second worker off it; the Stripe idempotency key
covers a worker that dies after Stripe answered (``reconcile`` hands a claim older than
``CLAIM_TIMEOUT`` to a new job, which repeats the call with the same key).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from rq import Retry
from sqlalchemy import or_, select, update

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

    Three steps, so that no row lock is held while Stripe is called: claim the payout in a
    short transaction (``pending`` → ``transferring``), call Stripe with no transaction open
    (idempotency key ``payout-<id>-transfer``), then store the outcome in another. A claim
    older than ``CLAIM_TIMEOUT`` (the worker died mid-call) is taken over by the next run
    (``reconcile``); the idempotency key makes the repeated call return the same transfer.
    Raises ``PaymentProviderUnavailable`` (after putting the payout back to ``pending``) for
    the job to retry.
    """
    claim = _claim(payout_id)
    if isinstance(claim, str):
        return claim
    amount, currency, destination, trade_id, source = claim
    try:
        result = stripe_client.create_transfer(
            amount, currency, destination, stripe_client.transfer_group(trade_id),
            stripe_client.payout_key(payout_id),
            metadata={"payout_id": payout_id, "trade_id": trade_id},
            source_transaction=source)
    except PaymentProviderUnavailable as exc:
        _settle(payout_id, PayoutStatus.PENDING, error=f"provider unavailable: "
                                                      f"{exc.__cause__ or exc}")
        raise
    except PaymentRejected as exc:
        log.error("transfer for payout %s refused: %s", payout_id, exc.message)
        return _settle(payout_id, PayoutStatus.FAILED,
                       error=f"{exc.code or 'rejected'}: {exc.message}")
    return _settle(payout_id, PayoutStatus.TRANSFERRED, transfer_id=result.id)


# A worker that claimed a payout and died is presumed dead after this long (a Stripe call
# takes at most ~105 s with its retries, see stripe_client).
CLAIM_TIMEOUT = timedelta(minutes=5)


def _claim(payout_id: int) -> tuple[int, str, str, int, str | None] | str:
    """Claim the payout for a transfer (committed); its status when there is nothing to do."""
    payout = db.session.scalars(
        select(Payout).where(Payout.id == payout_id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ).first()
    if payout is None:  # unknown, or another worker holds it
        db.session.rollback()
        return "skipped"
    stale = (payout.status == PayoutStatus.TRANSFERRING.value
             and payout.updated_at < utcnow() - CLAIM_TIMEOUT)
    if payout.status != PayoutStatus.PENDING.value and not stale:
        status = payout.status
        db.session.rollback()
        return status
    account = db.session.scalar(
        select(PayoutAccount).where(PayoutAccount.user_id == payout.seller_id))
    if account is None:
        payout.status = PayoutStatus.ACCRUED.value
        db.session.commit()
        return payout.status
    payout.status = PayoutStatus.TRANSFERRING.value
    payout.attempts += 1
    payout.updated_at = utcnow()
    claim = (payout.amount, payout.currency, account.stripe_account_id, payout.trade_id,
             payout.source_charge_id)
    db.session.commit()
    return claim


def _settle(payout_id: int, status: PayoutStatus, error: str | None = None,
            transfer_id: str | None = None) -> str:
    payout = db.session.scalars(
        select(Payout).where(Payout.id == payout_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    payout.status = status.value
    payout.last_error = error[:2000] if error else None
    if transfer_id:
        payout.stripe_transfer_id = transfer_id
    payout.updated_at = utcnow()
    db.session.commit()
    return payout.status


def reconcile(grace: timedelta, limit: int = 1000) -> int:
    """Re-enqueue transfers for payouts still pending ``grace`` after their last change, and
    those whose transfer job died mid-call (``transferring`` past ``CLAIM_TIMEOUT``)."""
    cutoff = utcnow() - grace
    ids = db.session.scalars(
        select(Payout.id).where(or_(
            (Payout.status == PayoutStatus.PENDING.value) & (Payout.updated_at < cutoff),
            (Payout.status == PayoutStatus.TRANSFERRING.value)
            & (Payout.updated_at < utcnow() - CLAIM_TIMEOUT)))
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
        if status == PayoutStatus.TRANSFERRING.value:
            status = PayoutStatus.PENDING.value
        if status in totals[currency]:  # cancelled payouts are 0: not a balance
            totals[currency][status] += int(total or 0)
    return [{"currency": c.upper(), **v} for c, v in sorted(totals.items())]
