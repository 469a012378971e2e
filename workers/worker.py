"""Worker processes that run jobs inside the Flask application context.

``rq worker -w workers.worker.AppSimpleWorker -u $REDIS_URL ledger payments ...`` works as
well as ``python -m workers`` (which also starts RQ's scheduler for retries and scheduled
drains, and the cron scheduler for periodic jobs). ``AppWorker`` forks a work horse per job.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os

from redis import Redis
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler

from marketplace.app import create_app
from marketplace.core.db import db
from marketplace.core.jobs import QUEUES, redis_connection
from workers.schedule import register_cron

log = logging.getLogger("workers.worker")

_app = None
_app_pid: int | None = None


# Young-generation threshold of the cyclic garbage collector in a worker (Python's default:
# 700 allocations). A batch allocates millions of short-lived objects (rows, payloads).
GC_THRESHOLDS = (50_000, 20, 20)


def get_app():
    """The process's Flask app, built once from the environment; then the heap is frozen
    (``freeze_heap``)."""
    if _app is None:
        use_app(create_app())
        freeze_heap()
    return _app


def freeze_heap() -> None:
    """Keep the objects that live as long as the process out of the garbage collector's way.

    The app holds ~345,000 objects the collector tracks (mappers, schemas, the OpenAPI spec,
    compiled statements); every full collection walked them all, ~150 ms each, and a batch of
    2,000 credits or evaluations allocates enough to trigger one every few batches. Measured
    in-process on 20,000 trades (docs/benchmarks.md, Credits, 4 Dec evening): the collector
    took 4.3 of 6.0 s of Python CPU in rule evaluation and 0.9 of 1.6 s in crediting; frozen
    (``gc.freeze``, after a collection) with a larger young generation, 0.1 and 0.2 s. Objects
    made later are collected as usual. Before a fork it also keeps these pages shared."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def use_app(app) -> None:
    """Run jobs of this process in ``app`` (tests and embedding callers)."""
    global _app, _app_pid
    _app, _app_pid = app, os.getpid()


class AppContextMixin:
    """Run each job in a fresh app context and DB session; after a fork, drop the parent's
    pooled connections (a forked child must never share a socket with its parent)."""

    def perform_job(self, job, queue, *args, **kwargs):  # type: ignore[override]
        app = get_app()
        with app.app_context():
            if os.getpid() != _app_pid:
                db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, *args, **kwargs)  # type: ignore[misc]
            finally:
                db.session.remove()


class PromptStopMixin:
    """Stop within about a second of SIGTERM, not a minute.

    RQ listens for commands (stop a job, shut down) on a pub/sub thread that waits up to 60 s
    per poll; on shutdown it unsubscribes, then stops that thread. Since redis-py 8.2 the stop
    waits for the thread to end, which it notices only after its current wait: when the
    unsubscribe reached the thread first, a worker took up to 60 s to exit after SIGTERM,
    longer than a deploy's grace period (seen as workers still running 30 s after SIGTERM in
    tests/carbon/ledger/test_exactly_once.py). This is RQ's ``subscribe`` with a wait of one
    second (one socket wait, no request to Redis)."""

    POLL_SECONDS = 1

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s",  # type: ignore[attr-defined]
                      self.name, self.pubsub_channel_name)  # type: ignore[attr-defined]
        self.pubsub = self.connection.pubsub()  # type: ignore[attr-defined]
        self.pubsub.subscribe(**{self.pubsub_channel_name:  # type: ignore[attr-defined]
                                 self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.POLL_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)  # type: ignore[attr-defined]


class AppWorker(PromptStopMixin, AppContextMixin, Worker):
    """Forks a work horse per job (RQ's default): a crashing job cannot kill the worker."""


class AppSimpleWorker(PromptStopMixin, AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself (the default of ``python -m workers``): the app
    and its connection pool are loaded once; RQ's job timeout still stops a stuck job."""


def run_cron(redis_url: str) -> None:
    """Run RQ's cron scheduler with the periodic jobs of ``workers.schedule``."""
    app = get_app()
    cron = CronScheduler(connection=Redis.from_url(redis_url), logging_level="INFO")
    register_cron(cron, app)
    cron.start()


def run(queues: list[str] | None = None, *, burst: bool = False, cron: bool = True,
        simple: bool = True) -> bool:
    """Serve ``queues`` (default: all) until stopped; with ``cron``, also the periodic jobs."""

    app = get_app()
    with app.app_context():
        conn = redis_connection(app)
    if conn is None:
        raise SystemExit("REDIS_URL is not set: in embedded mode jobs run in-process and "
                         "no worker is needed.")
    cron_process = None
    if cron and not burst:
        cron_process = multiprocessing.get_context("spawn").Process(
            target=run_cron, args=(app.config["REDIS_URL"],), name="reloop-cron", daemon=True)
        cron_process.start()
    worker_class = AppSimpleWorker if simple else AppWorker
    worker = worker_class(list(queues or QUEUES), connection=conn)
    try:
        return worker.work(burst=burst, with_scheduler=not burst,
                           logging_level=app.config["LOG_LEVEL"])
    finally:
        if cron_process is not None:
            cron_process.terminate()
            cron_process.join(5)
