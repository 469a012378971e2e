"""Exactly once, with real processes: PostgreSQL, Redis and ``rq worker`` subprocesses."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carbon.incentives import manage
from carbon.incentives.models import CreditEvaluation, IncentiveRule, Reward
from carbon.ledger.models import LedgerTransaction
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.jobs import enqueue, get_queue
from marketplace.core.outbox import OutboxMessage
from tests.carbon.ledger.helpers import (
    assert_ledger_ok,
    balance,
    completion,
    line_count,
    make_users,
)
from tests.factories import REDIS_URL

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[3]


def _env(**extra) -> dict:
    return {**os.environ, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING", **extra}


def _worker(*args: str, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=_env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _rq_worker(worker_class="AppWorker", **extra) -> subprocess.Popen:
    return _worker("-m", "rq.cli", "worker", "--burst", "-w", f"workers.worker.{worker_class}",
                   "-u", REDIS_URL, "ledger", **extra)


def _finish(proc: subprocess.Popen, timeout=180) -> None:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]


def _trades(n: int, users: list[int], start: int = 1) -> dict[int, int]:
    """Write ``n`` completions (commit every 500); return the expected balance per user."""
    expected = dict.fromkeys(users, 0)
    for i in range(start, start + n):
        buyer, seller = users[i % len(users)], users[(i * 7 + 1) % len(users)]
        grams = 1000 + i % 997
        completion(i, buyer, seller, grams)
        expected[buyer] += (grams + 1) // 2
        expected[seller] += grams // 2
        if i % 500 == 0:
            db.session.commit()
    db.session.commit()
    return expected


def _ledger_pending() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic.like("trade.%"), OutboxMessage.processed_at.is_(None)))


def _assert_exact(expected: dict[int, int], trades: int) -> None:
    db.session.rollback()
    assert _ledger_pending() == 0
    assert {u: balance(u) for u in expected} == expected
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == trades
    assert line_count() == 3 * trades
    assert_ledger_ok()


def test_same_record_enqueued_ten_times_is_credited_once(app_ctx):

    users = make_users(2)
    expected = _trades(1, users)
    message_id = db.session.scalar(select(OutboxMessage.id)
                                   .where(OutboxMessage.topic == "trade.completed"))
    for _ in range(9):  # ten in all with the one enqueued after commit
        enqueue(outbox.process, [message_id], queue="ledger")
    assert get_queue("ledger").count == 10
    _finish(_rq_worker())
    _assert_exact(expected, 1)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "carbon",
                             "verify-ledger"], cwd=ROOT, env=_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "ledger OK" in result.stdout, result.stdout + result.stderr


def test_worker_killed_mid_batch_then_reconciled(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH_SIZE", 100)
    users = make_users(4)
    expected = _trades(1200, users)  # 12 jobs of 100 on the ledger queue
    worker = _worker("-m", "tests.carbon.ledger.slow_worker", SLOW_BATCH_SECONDS="0.4",
                     OUTBOX_BATCH_SIZE="100")  # claims of 100: twelve slow transactions
    deadline = time.monotonic() + 120
    while _ledger_pending() > 1200 - 200 and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)  # in the middle of a later batch's transaction
    worker.wait(30)
    db.session.rollback()
    left = _ledger_pending()
    assert 0 < left < 1200, left
    # The reconciler re-enqueues what is left (grace 0); a fresh worker drains everything,
    # including the dead worker's queued jobs, which are now partly duplicates.
    assert outbox.reconcile(timedelta(seconds=0)) >= left  # (+ the users' welcome notes)
    _finish(_rq_worker())
    _assert_exact(expected, 1200)


def test_trades_complete_while_redis_is_down(app_config, app, app_ctx):

    users = make_users(3)
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    with down.app_context():
        expected = _trades(300, users)  # commits succeed; enqueueing fails quietly
        assert _ledger_pending() == 300
    db.session.rollback()
    assert outbox.reconcile(timedelta(seconds=60)) == 0  # within the grace period
    assert outbox.reconcile(timedelta(seconds=0)) >= 300  # Redis is back: the reconciler
    _finish(_rq_worker())
    _assert_exact(expected, 300)


def test_two_workers_drain_the_same_backlog(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH_SIZE", 100)
    users = make_users(6)  # few accounts: the two workers' batches share every one
    expected = _trades(3000, users)
    assert outbox.reconcile(timedelta(seconds=0)) >= 3000  # a second drain is requested
    workers = [_rq_worker("AppSimpleWorker", OUTBOX_BATCH_SIZE="100"),
               _worker("-m", "workers", "--burst", "ledger", OUTBOX_BATCH_SIZE="100")]
    for proc in workers:
        _finish(proc)
    _assert_exact(expected, 3000)


def test_commits_while_a_drain_waits_enqueue_no_more_jobs(app, app_ctx):
    users = make_users(2)
    get_queue("ledger").empty()
    for i in range(1, 51):  # fifty single completions, each its own commit
        completion(50_000 + i, users[0], users[1], 1000)
        db.session.commit()
    assert get_queue("ledger").count == 1  # one coalesced drain waits for all of them
    _finish(_worker("-m", "workers", "--burst", "--no-cron", "ledger"))
    _assert_exact({users[0]: 50 * 500, users[1]: 50 * 500}, 50)


def test_four_workers_under_sustained_load(app, app_ctx, tmp_path):
    """Completions committed one at a time at a steady rate while four workers serve the
    ledger and incentives queues: every trade is credited exactly once."""
    users = make_users(8)
    logs = [open(tmp_path / f"worker-{i}.log", "w+") for i in range(4)]  # noqa: SIM115
    workers = [subprocess.Popen([sys.executable, "-m", "workers", "--no-cron", "ledger",
                                 "incentives"], cwd=ROOT, env=_env(), stdout=log, stderr=log,
                                text=True, start_new_session=True) for log in logs]
    try:
        expected = dict.fromkeys(users, 0)
        rate, count, n = 150, 300, 0  # 300 completions offered at 150/s (about 2 s)
        start = time.monotonic()
        while n < count and time.monotonic() - start < 60:
            n += 1
            buyer, seller = users[n % 8], users[(n * 3 + 1) % 8]
            if buyer == seller:
                seller = users[(n + 1) % 8]
            completion(60_000 + n, buyer, seller, 1000 + n % 7)
            db.session.commit()
            expected[buyer] += (1000 + n % 7 + 1) // 2
            expected[seller] += (1000 + n % 7) // 2
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        deadline = time.monotonic() + 120
        while _ledger_pending() and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.1)
        assert n == count  # one commit at a time while the workers run: a stream
        _assert_exact(expected, n)
        # Every credited party evaluated once (rules partitioned by user across workers).
        while time.monotonic() < deadline and db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.topic.like("incentives.%"),
                    OutboxMessage.processed_at.is_(None))):
            db.session.rollback()
            time.sleep(0.1)
        assert db.session.scalar(select(func.count()).select_from(CreditEvaluation)) == 2 * n
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    for log in logs:
        log.seek(0)
    # Stopped by SIGTERM (an idle worker exits 0; one caught mid-job by the signal's default
    # action): what matters is that no job failed.
    outputs = [log.read() for log in logs]
    assert all(proc.returncode in (0, -signal.SIGTERM) for proc in workers), [
        (proc.returncode, out) for proc, out in zip(workers, outputs, strict=True)]
    assert not any("Traceback" in out for out in outputs), outputs


def test_parallel_partitions_never_overspend_a_budget(app, app_ctx):
    """Four workers evaluate different users' partitions at once, each reading a rule's
    budget without a lock: the points issued add up to the budget, never more."""
    rule = manage.create({"name": "budgeted", "type": "threshold", "params": {"every_kg": 1},
                          "reward": {"kind": "points", "amount": 10},
                          "caps": {"budget_points": 500}, "valid_from": None,
                          "valid_to": None, "active": True})
    users = make_users(40)
    for i in range(1, 201):  # 200 trades, each crossing one or two 1 kg thresholds per party
        completion(70_000 + i, users[i % 40], users[(i * 7 + 3) % 40], 2500)
    db.session.commit()
    # 16 partitions (the default is 2): four workers each on a partition of its own at once.
    _finish(_worker("-m", "workers", "--burst", "--no-cron", "ledger",
                    INCENTIVE_PARTITIONS="16"))  # credits first (they write the evaluations)
    workers = [_worker("-m", "tests.carbon.incentives.slow_eval_worker", "incentives",
                       OUTBOX_BATCH_SIZE="20", SLOW_EVAL_SECONDS="0.3",
                       INCENTIVE_PARTITIONS="16") for _ in range(4)]
    for proc in workers:
        _finish(proc)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic.like("incentives.%") | OutboxMessage.topic.like("trade.%"),
        OutboxMessage.processed_at.is_(None))) == 0  # nothing left behind
    issued = db.session.scalar(select(func.coalesce(func.sum(Reward.points), 0))
                               .where(Reward.rule_id == rule["id"]))
    spent = db.session.scalar(select(IncentiveRule.spent_points)
                              .where(IncentiveRule.id == rule["id"]))
    assert issued == spent == 500  # demand was far above the budget
