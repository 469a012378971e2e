"""Crediting and reversing: amounts, rounding, idempotency, batches (both modes)."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from carbon.ledger import bulk
from carbon.ledger.models import EntryKind, LedgerAccount, LedgerTransaction
from carbon.ledger.posting import CreditNotPosted, InvalidEvent, reversal_amounts, split
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox import OutboxMessage
from tests.carbon.ledger.helpers import (
    assert_ledger_ok,
    balance,
    completion,
    line_count,
    make_users,
    refund,
)


@pytest.mark.parametrize("total", [0, 1, 2, 3, 999, 1001, 123_457])
@pytest.mark.parametrize("share", [0, 1, 333_333, 500_000, 700_000, 1_000_000])
def test_split_adds_up_to_the_trade_exactly(total, share):
    buyer, seller = split(total, share)
    assert buyer + seller == total and buyer >= 0 and seller >= 0


def test_split_rounds_half_up_for_the_buyer():
    assert split(1001, 500_000) == (501, 500)
    assert split(10, 333_333) == (3, 7)


def test_completed_trade_credits_buyer_and_seller_once(app_ctx, drain_jobs):
    buyer, seller = make_users(2)
    completion(1, buyer, seller, 1001)
    db.session.commit()
    drain_jobs()
    assert (balance(buyer), balance(seller)) == (501, 500)
    issuance = db.session.scalar(select(LedgerAccount).where(LedgerAccount.kind == "issuance"))
    assert issuance.balance_g is None  # derived, never cached
    assert line_count() == 3
    ids = list(db.session.scalars(select(OutboxMessage.id)
                                  .where(OutboxMessage.topic == "trade.completed")))
    assert outbox.process(ids * 3) == 0  # a job run again is a no-op
    assert (balance(buyer), balance(seller), line_count()) == (501, 500, 3)
    assert_ledger_ok()


def test_buyer_share_is_configurable(app, app_ctx, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "CARBON_BUYER_SHARE", 0.3)
    buyer, seller = make_users(2)
    completion(1, buyer, seller, 1005)
    db.session.commit()
    drain_jobs()
    assert (balance(buyer), balance(seller)) == (302, 703)  # 301.5 rounds half up


def test_two_records_for_one_trade_credit_it_once(app_ctx, drain_jobs):
    buyer, seller = make_users(2)
    completion(7, buyer, seller, 400)
    completion(7, buyer, seller, 400)  # in one batch
    db.session.commit()
    completion(7, buyer, seller, 400)  # and in a later one
    db.session.commit()
    drain_jobs()
    assert (balance(buyer), balance(seller), line_count()) == (200, 200, 3)
    assert outbox.pending_count() == 0
    assert_ledger_ok()


def test_idempotency_key_is_a_unique_constraint(app_ctx):
    for _ in range(2):
        db.session.add(LedgerTransaction(idempotency_key="trade:1:credit", kind="credit",
                                         trade_id=1, meta={}, occurred_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # The bulk path relies on it: a second insert of the key is skipped, not duplicated.
    row = {"idempotency_key": "trade:2:credit", "kind": "credit", "trade_id": 2,
           "meta": {}, "occurred_at": utcnow()}
    assert set(bulk.insert_transactions([row, row])) == {"trade:2:credit"}
    assert bulk.insert_transactions([row]) == {}
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 1


def test_partial_refunds_reverse_proportionally_and_never_more(app_ctx, drain_jobs):
    buyer, seller = make_users(2)
    completion(1, buyer, seller, 1001)
    db.session.commit()
    refund(1, "re_1", 2500, 10_000)  # a quarter: 250.25 g -> 250 g
    db.session.commit()
    drain_jobs()
    assert (balance(buyer), balance(seller)) == (501 - 125, 500 - 125)
    refund(1, "re_1", 2500, 10_000)  # the same refund again: nothing
    refund(1, "re_2", 6000, 10_000)  # 85% in all: 850.85 -> 851 g reversed in all
    db.session.commit()
    drain_jobs()
    assert balance(buyer) + balance(seller) == 1001 - 851
    refund(1, "re_3", 6000, 10_000)  # past the price: only what is left
    db.session.commit()
    drain_jobs()
    assert (balance(buyer), balance(seller)) == (0, 0)
    kinds = db.session.scalars(select(LedgerTransaction.kind).order_by(LedgerTransaction.id))
    assert list(kinds) == ["credit", "reversal", "reversal", "reversal"]
    assert_ledger_ok()


def test_reversal_amounts_split_exactly_and_stay_within_credits():
    for credited in [(501, 500), (1, 0), (7, 3), (0, 0), (333, 667)]:
        parties = list(enumerate(credited, start=1))
        done: dict[int, int] = {}
        refunded = 0
        for step in [1, 3333, 1, 2500, 4000, 10_000]:
            refunded = min(refunded + step, 10_000)
            amounts = reversal_amounts(parties, dict(done), refunded, 10_000)
            assert all(a >= 0 for a in amounts)
            for (acct, _), a in zip(parties, amounts, strict=True):
                done[acct] = done.get(acct, 0) + a
            target = (sum(credited) * refunded * 2 + 10_000) // 20_000
            assert sum(done.values()) == target
            assert all(done[a] <= c for a, c in parties)
        assert [done[a] for a, _ in parties] == list(credited)


def test_refund_before_its_credit_waits_and_is_applied_later(app_ctx):
    buyer, seller = make_users(2)
    db.session.add(early := OutboxMessage(topic="trade.refunded", payload={
        "trade_id": 5, "refund_id": "re_x", "refunded_amount": 50, "trade_amount": 100}))
    db.session.commit()
    with pytest.raises(CreditNotPosted):
        outbox.process([early.id])
    db.session.refresh(early)
    assert early.processed_at is None and "no credit yet" in early.last_error
    db.session.add(credit := OutboxMessage(topic="trade.completed", payload={
        "trade_id": 5, "buyer_id": buyer, "seller_id": seller, "avoided_g": 100,
        "category": "laptop", "listing_id": 9, "listing_title": "X",
        "completed_at": utcnow().isoformat()}))
    db.session.commit()
    # In id order the refund still comes first and waits; the credit goes through.
    with pytest.raises(CreditNotPosted):
        outbox.process([early.id, credit.id])
    assert (balance(buyer), balance(seller)) == (50, 50)
    assert outbox.process([early.id]) == 1  # the retry (RQ's, or the reconciler's)
    assert (balance(buyer), balance(seller)) == (25, 25)
    assert_ledger_ok()


def test_a_bad_record_does_not_block_its_batch(app_ctx):
    buyer, seller = make_users(2)
    payload = {"buyer_id": buyer, "seller_id": seller, "avoided_g": 10, "category": "tablet",
               "listing_id": 1, "listing_title": "T", "completed_at": utcnow().isoformat()}
    messages = [OutboxMessage(topic="trade.completed", payload={**payload, "trade_id": i})
                for i in (1, 2, 3)]
    messages[1].payload = {**messages[1].payload, "avoided_g": "ten"}
    db.session.add_all(messages)
    db.session.commit()
    with pytest.raises(InvalidEvent):
        outbox.process([m.id for m in messages])
    assert (balance(buyer), balance(seller)) == (10, 10)
    for m in messages:
        db.session.refresh(m)
    assert [m.processed_at is not None for m in messages] == [True, False, True]
    assert "avoided_g" in messages[1].last_error and messages[1].attempts == 1


def test_completion_and_refund_in_one_batch_apply_in_order(app_ctx):
    buyer, seller = make_users(2)
    rows = [
        OutboxMessage(topic="trade.completed", payload={
            "trade_id": 1, "buyer_id": buyer, "seller_id": seller, "avoided_g": 100,
            "category": "phone", "listing_id": 1, "listing_title": "P"}),
        OutboxMessage(topic="trade.refunded", payload={
            "trade_id": 1, "refund_id": "r", "refunded_amount": 100, "trade_amount": 100}),
        OutboxMessage(topic="trade.completed", payload={
            "trade_id": 2, "buyer_id": seller, "seller_id": buyer, "avoided_g": 60,
            "category": "phone", "listing_id": 2, "listing_title": "Q"}),
    ]
    db.session.add_all(rows)
    db.session.commit()
    assert outbox.process([r.id for r in rows]) == 3
    assert (balance(buyer), balance(seller)) == (30, 30)
    reversal = db.session.scalar(select(LedgerTransaction)
                                 .where(LedgerTransaction.kind == EntryKind.REVERSAL.value))
    assert reversal.idempotency_key == "trade:1:reversal:r"
    assert reversal.meta["listing_title"] == "P" and reversal.meta["category"] == "phone"
    assert_ledger_ok()
