"""A partition of rule evaluation is drained by one worker at a time (Redis): a drain that
finds its partition taken applies nothing and returns, and the holder requests another drain
when it leaves, so nothing waits for the reconciler."""

import pytest
from sqlalchemy import func, select

from carbon.incentives.evaluate import TOPIC
from marketplace.core import jobs
from marketplace.core.db import db
from marketplace.core.jobs import get_queue
from marketplace.core.outbox import OutboxMessage, processing
from tests.carbon.incentives.helpers import completion, make_users, points_rule

pytestmark = pytest.mark.services


def _pending(partition):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.partition_key == partition,
        OutboxMessage.processed_at.is_(None)))


def test_a_taken_partition_is_left_to_its_holder_who_drains_again(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=10)
    users = make_users(6)
    for i in range(12):
        completion(90_000 + i, users[i % 6], users[(i + 1) % 6], 1500)
    db.session.commit()
    processing.drain("ledger")  # credits: writes the partitioned evaluation records
    get_queue("incentives").empty()  # the drains it requested: this test runs them
    partition = db.session.scalar(select(OutboxMessage.partition_key).where(
        OutboxMessage.topic == TOPIC).limit(1))
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
