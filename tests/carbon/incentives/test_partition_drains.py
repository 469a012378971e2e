"""A partition of rule evaluation is drained by one worker at a time (Redis): a drain that
finds its partition taken applies nothing and returns, and the holder requests another drain
when it leaves, so nothing waits for the reconciler."""

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from carbon.incentives.evaluate import TOPIC
from marketplace.core import jobs, outbox
from marketplace.core.db import db
from marketplace.core.jobs import get_queue
from marketplace.core.outbox import OutboxMessage, processing
from marketplace.core.outbox.registry import batch_size, registry
from tests.carbon.incentives.helpers import completion, make_users, points_rule

pytestmark = pytest.mark.services


def _pending(partition):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.partition_key == partition,
        OutboxMessage.processed_at.is_(None)))


def _evaluations_waiting(first_trade, people, trades, step=1):
    """``trades`` completed trades between ``people`` users, credited (which writes their
    partitioned evaluation records) with no drain of them queued: the partitions holding
    them, in order."""
    points_rule(every_kg=1, amount=10)
    users = make_users(people)
    for i in range(trades):
        completion(first_trade + i, users[i % people], users[(i + step) % people], 1500)
    db.session.commit()
    processing.drain("ledger")  # credits: writes the partitioned evaluation records
    get_queue("incentives").empty()  # the drains it requested: the test runs them
    return sorted(set(db.session.scalars(select(OutboxMessage.partition_key)
                                         .where(OutboxMessage.topic == TOPIC))))


def test_a_taken_partition_is_left_to_its_holder_who_drains_again(app_ctx, drain_jobs):
    partition = _evaluations_waiting(90_000, 6, 12)[0]
    waiting = _pending(partition)
    assert waiting > 0
    key = f"outbox-drain:incentives:{partition}"
    with jobs.exclusive(key, lambda: processing.request_drain(
            "incentives", partition, force=True)) as renew:
        assert renew is not None  # this test holds the partition, as a busy worker would
        assert processing.drain("incentives", partition) == 0
        assert _pending(partition) == waiting  # nothing applied beside the holder
        assert get_queue("incentives").count == 0
    assert get_queue("incentives").count == 1  # the holder asked for one more drain
    drain_jobs()
    assert _pending(partition) == 0


def test_a_partition_drain_hands_over_after_its_slice(app_ctx, drain_jobs, monkeypatch):
    """A partition's drain stops claiming once its slice is spent and requests another drain
    of its partition, queued behind the other partitions' drains: a backlog's partitions are
    drained in turn, not one for a minute while the others wait for their worker."""
    partitions = _evaluations_waiting(91_000, 8, 16, step=3)
    queue = get_queue("incentives")
    assert len(partitions) == 2
    first, other = partitions
    before = _pending(first)
    assert before > 2 and _pending(other) > 0
    processing.request_drain("incentives", other, force=True)  # the other one, waiting
    handlers = registry(app_ctx).handlers
    monkeypatch.setitem(handlers, TOPIC, replace(handlers[TOPIC], batch_size=2))
    monkeypatch.setattr(processing, "PARTITION_SLICE_SECONDS", 0.0)
    assert processing.drain("incentives", first) == 2  # one claim: the slice is spent
    assert _pending(first) == before - 2
    assert [job.args for job in queue.get_jobs()] == [("incentives", other),
                                                      ("incentives", first)]
    monkeypatch.setattr(processing, "PARTITION_SLICE_SECONDS", 60.0)
    drain_jobs()
    assert _pending(first) == 0 and _pending(other) == 0


def test_evaluation_claims_its_own_batch_size(app_ctx, drain_jobs, monkeypatch):
    """``INCENTIVE_BATCH_SIZE`` (the evaluation handler's own claim size) applies to its
    drains, whatever ``OUTBOX_BATCH_SIZE`` says; other topics keep the global size."""
    assert app_ctx.config["INCENTIVE_BATCH_SIZE"] == 5000  # the default
    handlers = registry(app_ctx).handlers
    assert handlers[TOPIC].batch_size == 5000
    monkeypatch.setitem(handlers, TOPIC, replace(handlers[TOPIC], batch_size=5))
    monkeypatch.setitem(app_ctx.config, "OUTBOX_BATCH_SIZE", 2)
    assert batch_size([TOPIC]) == 5 and batch_size(["trade.completed"]) == 2
    partition = _evaluations_waiting(92_000, 4, 12)[0]
    before = _pending(partition)
    assert before > 5
    monkeypatch.setattr(processing, "PARTITION_SLICE_SECONDS", 0.0)  # one claim per drain
    assert processing.drain("incentives", partition) == 5
    assert _pending(partition) == before - 5


def test_a_claim_applied_one_by_one_keeps_renewing_the_partition(app_ctx):
    """A failed claim falls back to one transaction per record; the drain renews its
    partition's lock after each, so a fallback of thousands of records does not outlive the
    lock (and a second worker does not take the partition meanwhile)."""
    partition = _evaluations_waiting(93_000, 4, 6)[0]
    bad = outbox.write(TOPIC, {"ledger_transaction_id": 987_654_321, "user_ids": [1]},
                       partition_by=partition)
    db.session.commit()
    ids = sorted(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.partition_key == partition,
        OutboxMessage.processed_at.is_(None))))
    assert bad in ids and len(ids) > 2
    renewed = []
    claimed, applied = processing._apply_claim(
        OutboxMessage.id.in_(ids), len(ids), renew=lambda: renewed.append(1))
    assert (claimed, applied) == (len(ids), len(ids) - 1)  # all but the bad one
    assert len(renewed) == len(ids)
