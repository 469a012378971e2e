"""The job path: outbox → enqueue → worker → effect, inline and with real RQ processes."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Worker
from rq.cron import CronScheduler
from sqlalchemy import func, select, update

from marketplace.accounts import services as auth_services
from marketplace.accounts.models import User
from marketplace.app import create_app
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.jobs import get_queue, redis_connection
from marketplace.core.outbox import OutboxMessage
from marketplace.notifications.models import Notification
from tests.factories import REDIS_URL, register
from workers import schedule, worker
from workers.schedule import PERIODIC, register_cron

ROOT = Path(__file__).resolve().parents[2]


def _notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_outbox_record_is_processed_exactly_once(app_ctx, drain_jobs):
    auth_services.register("once@example.com", "long enough password", "Once")
    drain_jobs()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.processed_at is not None and message.attempts == 1
    # Processing the same record again (a job run twice) is a no-op.
    assert outbox.process([message.id]) == 0
    assert outbox.process([message.id, message.id]) == 0
    assert _notifications() == 1


def test_rolled_back_transaction_writes_and_enqueues_nothing(app_ctx, drain_jobs):

    db.session.add(User(email="ghost@example.com", password_hash="x", display_name="G"))
    db.session.flush()
    outbox.write("user.registered", {"user_id": 1})
    db.session.rollback()
    drain_jobs()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert _notifications() == 0


def test_reconciler_picks_up_records_left_behind(app_ctx, drain_jobs):

    # A record committed while the queue was unreachable: it was never processed.
    user = User(email="late@example.com", password_hash="x", display_name="Late")
    db.session.add(user)
    db.session.flush()
    db.session.add(OutboxMessage(topic="user.registered", payload={"user_id": user.id}))
    db.session.commit()
    assert outbox.reconcile(timedelta(seconds=60)) == 0  # still within the grace period
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert outbox.reconcile(timedelta(seconds=60)) == 1
    drain_jobs()
    assert _notifications() == 1
    assert outbox.pending_count() == 0
    assert outbox.reconcile(timedelta(seconds=0)) == 0


def test_failing_handler_leaves_the_record_for_retry(app_ctx, monkeypatch):

    user = User(email="fail@example.com", password_hash="x", display_name="F")
    db.session.add(user)
    db.session.flush()
    message = OutboxMessage(topic="user.registered", payload={"user_id": user.id})
    db.session.add(message)
    db.session.commit()
    handlers = outbox.registry().handlers
    handler = handlers["user.registered"]

    def broken(msg):
        raise RuntimeError("mail server on fire")

    monkeypatch.setitem(handlers, "user.registered", outbox.Handler(broken, "default"))
    with pytest.raises(RuntimeError):
        outbox.process([message.id])
    db.session.refresh(message)
    assert message.processed_at is None and message.attempts == 1
    assert "mail server on fire" in message.last_error
    monkeypatch.setitem(handlers, "user.registered", handler)
    assert outbox.process([message.id]) == 1
    assert _notifications() == 1


@pytest.mark.services
def test_job_runs_in_a_separate_rq_worker_process(client, app):
    register(client, "rq@example.com")
    with app.app_context():

        assert get_queue("notifications").count == 1  # enqueued, not run in-process
        assert _notifications() == 0
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"],
           "REDIS_URL": REDIS_URL, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "-w", "workers.worker.AppWorker",
         "-u", REDIS_URL, "notifications"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    with app.app_context():
        assert _notifications() == 1
        assert outbox.pending_count() == 0


@pytest.mark.services
def test_python_m_workers_burst_serves_all_queues(client, app):
    register(client, "pm@example.com")
    env = {**os.environ, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    with app.app_context():
        assert _notifications() == 1


def test_a_worker_freezes_the_heap_it_starts_with(tmp_path):
    """``get_app`` (how ``python -m workers`` and ``rq worker -w workers.worker...`` build the
    app) leaves the app's objects to the collector's permanent generation."""
    code = ("import gc; from workers.worker import get_app; get_app(); "
            "print(gc.get_freeze_count(), *gc.get_threshold())")
    env = {**os.environ, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING"}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'worker.db'}")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    frozen, *thresholds = map(int, result.stdout.split())
    assert frozen > 100_000  # the app's mappers, schemas, spec...
    assert tuple(thresholds) == worker.GC_THRESHOLDS


@pytest.mark.services
def test_idle_workers_stop_promptly_on_sigterm(app):
    """A deploy stops workers with SIGTERM and waits a grace period: idle workers (which also
    run RQ's scheduler and its command listener) must exit well inside it, every time."""
    with app.app_context():
        conn = redis_connection(app)
    env = {**os.environ, "SECRET_KEY": "test-secret", "LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([sys.executable, "-m", "workers", "--no-cron", "ledger"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
             for _ in range(4)]
    try:
        deadline = time.monotonic() + 120
        pids = {p.pid for p in procs}
        while {w.pid for w in Worker.all(connection=conn)} & pids != pids:
            assert time.monotonic() < deadline, "workers did not register"
            assert all(p.poll() is None for p in procs)
            time.sleep(0.2)
        time.sleep(1)  # idle, listening for commands
        for p in procs:
            p.send_signal(signal.SIGTERM)
        started = time.monotonic()
        for p in procs:
            p.wait(timeout=max(0.1, started + 10 - time.monotonic()))
        assert [p.returncode for p in procs] == [0] * 4, [p.stderr.read()[-2000:]
                                                       for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


@pytest.mark.services
def test_registration_succeeds_while_redis_is_down(app_config, app, drain_jobs):

    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    resp = down.test_client().post("/api/v1/auth/register", json={
        "email": "noredis@example.com", "password": "long enough password", "display_name": "N"})
    assert resp.status_code == 202
    with app.app_context():
        assert outbox.pending_count() == 2  # user.registered and the verification email
        db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert outbox.reconcile(timedelta(seconds=60)) == 2
    drain_jobs()
    with app.app_context():
        assert _notifications() == 1


@pytest.mark.services
def test_periodic_jobs_are_registered_with_rq_cron_and_run(app, drain_jobs):


    with app.app_context():
        cron = CronScheduler(connection=redis_connection(app))
        register_cron(cron, app)
        jobs = {j.name: j for j in cron.get_jobs()}
        assert set(jobs) == {p.name for p in PERIODIC}
        reconcile = jobs["reconcile-outbox"]
        assert reconcile.func_name == "workers.jobs.reconcile_outbox"
        assert reconcile.interval == app.config["RECONCILE_INTERVAL_SECONDS"]
        assert reconcile.queue_name == "periodic"
        enqueued = cron.enqueue_jobs()  # first tick: every job is due
        assert {j.name for j in enqueued} == set(jobs)
        assert get_queue("periodic").count == len(PERIODIC)
    drain_jobs()
    with app.app_context():
        assert get_queue("periodic").count == 0


def test_inline_ticker_runs_periodic_jobs(app, monkeypatch):


    calls = []
    monkeypatch.setattr(schedule, "PERIODIC", (
        schedule.Periodic("probe", lambda: calls.append(1), "RECONCILE_INTERVAL_SECONDS"),))
    monkeypatch.setitem(app.config, "RECONCILE_INTERVAL_SECONDS", 0)
    stop = threading.Event()
    thread = schedule.run_inline_ticker(app, stop)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        stop.wait(0.1)
    stop.set()
    thread.join(5)
    assert calls
